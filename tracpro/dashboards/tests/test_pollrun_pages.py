"""Poll dates: the list, and one date's Summary, Responses and Participation tabs."""

import statistics

import numpy
import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tracpro.contacts.tests.factories import make_contact
from tracpro.polls.models import ResponseStatus
from tracpro.polls.tests.factories import make_answer, make_response
from tracpro.polls.tests.world import ANSWERS, CONTACTS, IN_MAY, page_url

pytestmark = pytest.mark.django_db


def rows_of(date, contacts=None):
    return {
        name: row
        for (when, name), row in ANSWERS.items()
        if when == date and (contacts is None or name in contacts)
    }


def kampala():
    return {name for name, (region, _, _) in CONTACTS.items() if region == "Kampala"}


def test_it_lists_poll_dates_with_participants_and_responses(world, client_for, ann):
    response = client_for(ann, world.org).get(page_url("polls.pollrun_list", **IN_MAY))
    rows = {row["pollrun"].pk: row for row in response.context["rows"]}
    for date, pollrun in world.pollruns.items():
        statuses = [row[0] for row in rows_of(date).values()]
        assert rows[pollrun.pk]["participants"] == len(statuses)
        assert rows[pollrun.pk]["complete"] == statuses.count(ResponseStatus.COMPLETE)
        assert rows[pollrun.pk]["partial"] == statuses.count(ResponseStatus.PARTIAL)
    newest_first = [row["pollrun"].pk for row in response.context["rows"]]
    assert newest_first == [world.pollruns["may8"].pk, world.pollruns["may1"].pk]


def test_it_counts_only_a_supervisors_contacts_in_the_list(world, client_for, kampala_sam):
    url = page_url("polls.pollrun_by_poll", world.poll.pk, **IN_MAY)
    response = client_for(kampala_sam, world.org).get(url)
    rows = {row["pollrun"].pk: row for row in response.context["rows"]}
    assert rows[world.pollruns["may1"].pk]["participants"] == len(rows_of("may1", kampala()))


def summary_of(client, world, date="may1", **params):
    response = client.get(page_url("polls.pollrun_read", world.pollruns[date].pk, **params))
    assert response.status_code == 200
    return {q["name"].lower(): q for q in response.context["charts"]["questions"]}


def test_it_summarises_one_date_with_a_histogram_and_figures(world, client_for, ann):
    boys = summary_of(client_for(ann, world.org), world)["boys"]
    numbers = [float(row[1]) for row in rows_of("may1").values() if row[1]]
    counts, edges = numpy.histogram(numbers, bins="sqrt")
    assert [b["count"] for b in boys["bins"]] == counts.tolist()
    assert [b["low"] for b in boys["bins"]] == pytest.approx(edges[:-1].tolist())
    assert boys["summary"]["mean"] == round(statistics.mean(numbers), 1)
    assert boys["summary"]["std"] == round(statistics.pstdev(numbers), 1)
    assert boys["summary"]["rate"] == round(100 * len(numbers) / len(rows_of("may1")), 1)


def test_it_counts_categories_and_words_of_one_date(world, client_for, ann):
    questions = summary_of(client_for(ann, world.org), world)
    books = [row[2] for row in rows_of("may1").values() if row[2]]
    assert dict(
        zip(questions["books"]["categories"], questions["books"]["counts"], strict=True)
    ) == {name: books.count(name) for name in questions["books"]["categories"]}
    words = dict(questions["comment"]["words"])
    assert words["desks"] == sum(
        "desks" in (row[3] or "").lower() for row in rows_of("may1").values()
    )
    assert questions["comment"]["summary"]["answers"] == sum(
        1 for row in rows_of("may1").values() if row[3]
    )


def test_it_limits_one_dates_summary_to_a_supervisors_regions(world, client_for, kampala_sam):
    boys = summary_of(client_for(kampala_sam, world.org), world)["boys"]
    numbers = [float(row[1]) for row in rows_of("may1", kampala()).values() if row[1]]
    assert boys["summary"]["mean"] == round(statistics.mean(numbers), 1)
    assert sum(b["count"] for b in boys["bins"]) == len(numbers)


def test_it_shows_participation_per_reporter_group(world, client_for, ann):
    url = page_url("polls.pollrun_participation", world.pollruns["may1"].pk)
    response = client_for(ann, world.org).get(url)
    rows = {row["label"]: row for row in response.context["rows"]}
    for group in ("Head Teachers", "Teachers"):
        members = {name for name, (_, groups, _) in CONTACTS.items() if group in groups}
        statuses = [row[0] for row in rows_of("may1", members).values()]
        complete = statuses.count(ResponseStatus.COMPLETE)
        assert rows[group]["complete"] == complete
        assert rows[group]["partial"] == statuses.count(ResponseStatus.PARTIAL)
        assert rows[group]["empty"] == statuses.count(ResponseStatus.EMPTY)
        assert rows[group]["completion"] == int(100 * complete / len(statuses))
    grouped = {name for name, (_, groups, _) in CONTACTS.items() if groups}
    assert rows["No reporter group"]["total"] == len(rows_of("may1")) - len(
        rows_of("may1", grouped)
    )
    assert response.context["totals"]["total"] == len(rows_of("may1"))


def test_it_shows_participation_per_region(world, client_for, ann):
    url = page_url(
        "polls.pollrun_participation", world.pollruns["may1"].pk, **{"group-by": "region"}
    )
    rows = {row["label"]: row for row in client_for(ann, world.org).get(url).context["rows"]}
    assert set(rows) == {"Central / Kampala", "Central / Wakiso", "Northern / Gulu"}
    statuses = [row[0] for row in rows_of("may1", kampala()).values()]
    assert rows["Central / Kampala"]["complete"] == statuses.count(ResponseStatus.COMPLETE)
    assert rows["Central / Kampala"]["total"] == len(statuses)


def test_it_lists_responses_with_answers_and_without_empty_ones(world, client_for, ann):
    url = page_url("polls.response_by_pollrun", world.pollruns["may1"].pk)
    response = client_for(ann, world.org).get(url)
    shown = {
        row["response"].contact.name: [answer["text"] for answer in row["answers"]]
        for row in response.context["rows"]
    }
    expected = {
        name: [value or "" for value in row[1:]]
        for name, row in rows_of("may1").items()
        if row[0] != ResponseStatus.EMPTY
    }
    assert shown == expected
    assert "=Carol" in response.content.decode()


def test_it_shows_a_supervisor_only_responses_in_their_regions(world, client_for, kampala_sam):
    url = page_url("polls.response_by_pollrun", world.pollruns["may1"].pk)
    response = client_for(kampala_sam, world.org).get(url)
    names = {row["response"].contact.name for row in response.context["rows"]}
    assert names == {n for n, row in rows_of("may1", kampala()).items() if row[0] != "empty"}


def test_it_paginates_responses(world, client_for, ann):
    pollrun = world.pollruns["may8"]
    for index in range(60):
        response = make_response(pollrun, make_contact(world.org, f"Extra {index:02d}"))
        make_answer(response, world.questions["boys"], index, "Small")
    world.rebuild()  # as the sync keeps them: the page counts from the rollups
    client = client_for(ann, world.org)
    first = client.get(page_url("polls.response_by_pollrun", pollrun.pk))
    second = client.get(page_url("polls.response_by_pollrun", pollrun.pk, page=2))
    answered = sum(1 for row in rows_of("may8").values() if row[0] != "empty") + 60
    assert len(first.context["rows"]) == 50
    assert len(first.context["rows"]) + len(second.context["rows"]) == answered
    assert f"{answered}" in first.text and 'href="?page=2"' in first.text
    assert 'href="?page=1"' in second.text  # First and Previous


def test_page_links_keep_the_filters(world, client_for, ann):
    pollrun, central = world.pollruns["may8"], world.regions["Central"]
    for index in range(60):
        response = make_response(pollrun, make_contact(world.org, f"X{index}", region=central))
        make_answer(response, world.questions["boys"], index, "Small")
    world.rebuild()
    url = page_url("polls.response_by_pollrun", pollrun.pk, region=central.pk)
    page = client_for(ann, world.org).get(url).text
    assert f'href="?region={central.pk}&amp;page=2"' in page


def test_it_hides_a_date_started_for_another_region(world, client_for, kampala_sam):
    pollrun = world.pollruns["may8"]
    pollrun.region = world.regions["Gulu"]
    pollrun.save()
    client = client_for(kampala_sam, world.org)
    for name in ("polls.pollrun_read", "polls.pollrun_participation", "polls.response_by_pollrun"):
        assert client.get(page_url(name, pollrun.pk)).status_code == 404
    pollrun.region = world.regions["Central"]  # an ancestor of Kampala: sam sees it
    pollrun.save()
    assert client.get(page_url("polls.pollrun_read", pollrun.pk)).status_code == 200


def queries_of(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200
        if response.streaming:
            b"".join(response.streaming_content)
    return len(queries)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("polls.pollrun_read", {}),
        ("polls.pollrun_read", {"contact_facility_code": "-"}),
        ("polls.pollrun_participation", {}),
        ("polls.pollrun_participation", {"group-by": "region"}),
        ("polls.response_by_pollrun", {}),
        ("polls.response_by_pollrun", {"_format": "csv"}),
    ],
)
def test_it_makes_as_many_queries_with_more_data(world, client_for, ann, name, params):
    pollrun = world.pollruns["may1"]
    url = page_url(name, pollrun.pk, **params)
    client = client_for(ann, world.org)
    before = queries_of(client, url)
    for index in range(30):
        contact = make_contact(world.org, f"Extra {index}", world.regions["Wakiso"])
        contact.reporter_groups.set([world.groups["Teachers"]])
        response = make_response(pollrun, contact)
        make_answer(response, world.questions["boys"], index, "Small")
        make_answer(response, world.questions["books"], "Some", "Some")
        make_answer(response, world.questions["comment"], f"words {index}")
    world.rebuild()
    assert queries_of(client, url) == before
    assert before <= 20


def test_it_makes_as_many_queries_for_the_list_with_more_dates(world, client_for, ann):
    from tracpro.polls.tests.factories import make_pollrun
    from tracpro.polls.tests.world import MAY_8

    url = page_url("polls.pollrun_list", **IN_MAY)
    client = client_for(ann, world.org)
    before = queries_of(client, url)
    for day in range(10, 20):
        make_response(make_pollrun(world.poll, MAY_8.replace(day=day)), world.contacts["Alice"])
    world.rebuild()
    assert queries_of(client, url) == before
