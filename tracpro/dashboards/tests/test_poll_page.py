"""The poll page: charts over time, figures, maps and filters, checked against
the answers the test world was built from (tracpro/polls/tests/world.py)."""

import statistics
from urllib.parse import parse_qs, urlsplit

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tracpro.polls.models import ResponseStatus
from tracpro.polls.tests.factories import make_answer, make_pollrun, make_response
from tracpro.polls.tests.world import ANSWERS, CONTACTS, IN_MAY, MAY_8, page_url

pytestmark = pytest.mark.django_db

DATES = ["may1", "may8"]


def charts_of(client, world, **params):
    response = client.get(page_url("polls.poll_read", world.poll.pk, **{**IN_MAY, **params}))
    assert response.status_code == 200
    return response.context["charts"]


def question(charts, key):
    return next(q for q in charts["questions"] if q["name"].lower() == key)


def answers_of(contacts, date, column):
    """Expected answers (status, boys, books, comment = columns 0..3) of some contacts."""
    return [
        row[column]
        for (when, name), row in ANSWERS.items()
        if when == date and name in contacts and row[column] is not None
    ]


def responses_of(contacts, date):
    return sum(1 for when, name in ANSWERS if when == date and name in contacts)


def in_regions(*regions):
    return {name for name, (region, _, _) in CONTACTS.items() if region in regions}


EVERYONE = set(CONTACTS)


def expected_numeric(contacts):
    sums, averages, rates = [], [], []
    for date in DATES:
        boys = [float(value) for value in answers_of(contacts, date, 1)]
        sums.append(round(sum(boys), 1))
        averages.append(round(statistics.mean(boys), 1) if boys else None)
        responses = responses_of(contacts, date)
        rates.append(round(100 * len(boys) / responses, 1) if responses else None)
    return sums, averages, rates


def test_it_charts_sums_averages_and_response_rates_per_date(world, client_for, ann):
    charts = charts_of(client_for(ann, world.org), world)
    assert [d["id"] for d in charts["dates"]] == [world.pollruns[d].pk for d in DATES]
    boys = question(charts, "boys")
    sums, averages, rates = expected_numeric(EVERYONE)
    assert boys["series"]["sum"][0]["data"] == sums
    assert boys["series"]["average"][0]["data"] == averages
    assert boys["series"]["rate"][0]["data"] == rates


def test_it_summarises_a_numeric_question_across_dates(world, client_for, ann):
    summary = question(charts_of(client_for(ann, world.org), world), "boys")["summary"]
    _, _, rates = expected_numeric(EVERYONE)
    averages = [statistics.mean(float(v) for v in answers_of(EVERYONE, d, 1)) for d in DATES]
    assert summary["mean"] == round(statistics.mean(averages), 1)
    assert summary["std"] == round(statistics.pstdev(averages), 1)
    assert summary["rate"] == round(statistics.mean(rates), 1)
    assert summary["answers"] == sum(len(answers_of(EVERYONE, d, 1)) for d in DATES)


def test_it_charts_each_categorys_share_per_date_and_totals(world, client_for, ann):
    books = question(charts_of(client_for(ann, world.org), world), "books")
    given = {answer for date in DATES for answer in answers_of(EVERYONE, date, 2)}
    # Router order; categories nobody chose (here "Other") are left out.
    assert books["categories"] == [
        name for name in world.questions["books"].categories if name in given
    ]
    for series in books["series"]:
        for index, date in enumerate(DATES):
            given = answers_of(EVERYONE, date, 2)
            count = given.count(series["label"])
            assert series["counts"][index] == count
            assert series["data"][index] == round(100 * count / len(given), 1)
    every = [answer for date in DATES for answer in answers_of(EVERYONE, date, 2)]
    totals = {total["category"]: total["count"] for total in books["totals"]}
    assert totals == {name: every.count(name) for name in books["categories"]}


def test_it_splits_numbers_by_the_regions_below_the_view(world, client_for, ann):
    boys = question(charts_of(client_for(ann, world.org), world, split="1"), "boys")
    labels = [series["label"] for series in boys["series"]["sum"]]
    assert labels == ["Central", "Northern"]
    central = expected_numeric(in_regions("Kampala", "Wakiso"))
    northern = expected_numeric(in_regions("Gulu"))
    assert [s["data"] for s in boys["series"]["sum"]] == [central[0], northern[0]]
    assert [s["data"] for s in boys["series"]["rate"]] == [central[2], northern[2]]


def test_it_shows_a_supervisor_only_their_regions(world, client_for, kampala_sam):
    charts = charts_of(client_for(kampala_sam, world.org), world)
    kampala = in_regions("Kampala")
    sums, _, rates = expected_numeric(kampala)
    boys = question(charts, "boys")
    assert boys["series"]["sum"][0]["data"] == sums
    assert boys["series"]["rate"][0]["data"] == rates
    books = question(charts, "books")
    assert sum(t["count"] for t in books["totals"]) == sum(
        len(answers_of(kampala, d, 2)) for d in DATES
    )
    assert [area["name"] for area in boys["map"]["areas"]] == ["Kampala"]


def test_it_narrows_to_a_region_from_the_url(world, client_for, ann):
    charts = charts_of(client_for(ann, world.org), world, region=world.regions["Gulu"].pk)
    assert (
        question(charts, "boys")["series"]["sum"][0]["data"]
        == expected_numeric(in_regions("Gulu"))[0]
    )


def test_it_filters_by_reporter_group_from_the_group_rollups(world, client_for, ann):
    teachers = {name for name, (_, groups, _) in CONTACTS.items() if "Teachers" in groups}
    charts = charts_of(client_for(ann, world.org), world, group=world.groups["Teachers"].pk)
    sums, _, rates = expected_numeric(teachers)
    assert question(charts, "boys")["series"]["sum"][0]["data"] == sums
    assert question(charts, "boys")["series"]["rate"][0]["data"] == rates


def test_it_filters_by_a_contact_field(world, client_for, ann):
    gulu_codes = {name for name, (_, _, code) in CONTACTS.items() if "gul" in code.lower()}
    charts = charts_of(client_for(ann, world.org), world, contact_facility_code="GuL")
    assert question(charts, "boys")["series"]["sum"][0]["data"] == expected_numeric(gulu_codes)[0]


def test_it_gives_the_same_numbers_from_raw_answers_and_from_rollups(world, client_for, ann):
    client = client_for(ann, world.org)
    from_rollups = charts_of(client, world, split="1")
    # Every facility code contains "-": a filter that keeps everyone but needs raw answers.
    from_raw = charts_of(client, world, split="1", contact_facility_code="-")
    for key in ("boys", "books"):
        rollup_question, raw_question = question(from_rollups, key), question(from_raw, key)
        for field in ("series", "summary", "totals", "map"):
            assert rollup_question.get(field) == raw_question.get(field), (key, field)


def test_it_limits_the_charts_to_the_date_range(world, client_for, ann):
    charts = charts_of(client_for(ann, world.org), world, start="2024-05-05")
    assert [d["id"] for d in charts["dates"]] == [world.pollruns["may8"].pk]
    assert question(charts, "boys")["series"]["sum"][0]["data"] == [
        sum(float(v) for v in answers_of(EVERYONE, "may8", 1))
    ]


def test_it_maps_each_areas_average_with_its_rule_category(world, client_for, ann):
    boys = question(charts_of(client_for(ann, world.org), world), "boys")
    areas = {area["name"]: area for area in boys["map"]["areas"]}
    for name, regions in (("Central", ("Kampala", "Wakiso")), ("Gulu", ("Gulu",))):
        numbers = [float(v) for d in DATES for v in answers_of(in_regions(*regions), d, 1)]
        average = round(statistics.mean(numbers), 2)
        assert areas[name]["value"] == average
        assert areas[name]["category"] == ("Large" if average > 100 else "Small")
    charts = charts_of(client_for(ann, world.org), world)
    boundary_ids = {feature["id"] for feature in charts["boundaries"]["features"]}
    assert boundary_ids == {world.boundaries["Central"].pk, world.boundaries["Gulu"].pk}


def test_it_keeps_filters_in_links_from_the_chart(world, client_for, ann):
    group = world.groups["Teachers"].pk
    charts = charts_of(client_for(ann, world.org), world, group=group, numeric="average")
    assert charts["numeric"] == "average"
    date_link = urlsplit(charts["dates"][0]["url"])
    assert date_link.path == page_url("polls.pollrun_read", world.pollruns["may1"].pk)
    assert parse_qs(date_link.query) == {"group": [str(group)]}
    words_query = parse_qs(urlsplit(charts["words_url"]).query)
    assert words_query["group"] == [str(group)]
    assert words_query["start"] == [IN_MAY["start"]]


def test_it_loads_word_clouds_within_the_filters(world, client_for, kampala_sam):
    client = client_for(kampala_sam, world.org)
    response = client.get(page_url("polls.poll_words", world.poll.pk, **IN_MAY))
    words = dict(response.json()["words"][str(world.questions["comment"].pk)])
    kampala = in_regions("Kampala")
    said = {}
    for date in DATES:
        for (when, name), row in ANSWERS.items():
            if when == date and name in kampala and row[3]:
                for word in row[3].lower().replace(",", " ").split():
                    said.setdefault(word, set()).add(name)
    assert words["books"] == len(said["books"])
    assert words["desks"] == len(said["desks"])
    assert "dan" not in said and all(word != "no" for word in words)


def test_it_hides_polls_that_are_not_selected(world, client_for, ann):
    world.poll.is_active = False
    world.poll.save()
    response = client_for(ann, world.org).get(page_url("polls.poll_read", world.poll.pk))
    assert response.status_code == 404


def test_it_shows_numbers_without_abbreviation(world, client_for, ann):
    bob = world.responses[("may8", "Bob")]
    bob.answers.filter(question=world.questions["boys"]).update(value_to_use=1234567)
    world.rebuild()
    page = client_for(ann, world.org).get(page_url("polls.poll_read", world.poll.pk, **IN_MAY))
    averages = [
        statistics.mean(float(v) for v in answers_of(EVERYONE, "may1", 1)),
        statistics.mean(
            [
                1234567.0,
                *(
                    float(v)
                    for (d, n), (_, v, *_) in ANSWERS.items()
                    if d == "may8" and n != "Bob" and v
                ),
            ]
        ),
    ]
    html = page.content.decode()
    assert f"{round(statistics.mean(averages), 1):,.1f}" in html
    assert "M<" not in html and "k<" not in html


def page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def grow(world, times: int = 3) -> None:
    """More dates, contacts and answers of every kind."""
    for index in range(times):
        pollrun = make_pollrun(world.poll, MAY_8.replace(day=10 + index))
        for name, contact in world.contacts.items():
            response = make_response(pollrun, contact, ResponseStatus.COMPLETE)
            make_answer(response, world.questions["boys"], 10 + index, "Small")
            make_answer(response, world.questions["books"], "Some", "Some")
            make_answer(response, world.questions["comment"], f"more {name} words")
    world.rebuild()


@pytest.mark.parametrize("params", [{}, {"split": "1"}, {"group": "teachers"}])
def test_it_makes_as_many_queries_with_more_data(world, client_for, ann, kampala_sam, params):
    if params.get("group"):
        params = {"group": world.groups["Teachers"].pk, "contact_facility_code": "-"}
    url = page_url("polls.poll_read", world.poll.pk, **IN_MAY, **params)
    clients = [client_for(ann, world.org), client_for(kampala_sam, world.org)]
    before = [page_queries(client, url) for client in clients]
    grow(world)
    after = [page_queries(client, url) for client in clients]
    assert after == before
    assert max(after) <= 20
