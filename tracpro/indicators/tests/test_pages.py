"""The indicator pages: who may manage indicators, the form's rules, the chart and
summary within the viewer's regions, the filters, the series export."""

import csv
import io
from datetime import date, datetime

import pytest

from tracpro.exports.tests.xlsx import xlsx_rows
from tracpro.indicators.models import Indicator
from tracpro.indicators.tests.conftest import ABSENT, BASELINE, TERM
from tracpro.indicators.tests.factories import make_indicator
from tracpro.polls.models import QuestionType
from tracpro.polls.tests.factories import make_poll, make_question
from tracpro.polls.tests.world import CONTACTS, page_url

pytestmark = pytest.mark.django_db


def form_data(indicators, **changes) -> dict:
    world = indicators.world
    data = {
        "name": "Boys enrolled against absent pupils",
        "description": "Term 2",
        "start_date": "2024-05-01",
        "end_date": "2024-05-31",
        "baseline_poll": world.poll.pk,
        "baseline_question": world.questions["boys"].pk,
        "follow_up_poll": indicators.absent.poll_id,
        "follow_up_question": indicators.absent.pk,
        "goal": "",
        "y_axis_title": "Pupils",
    }
    return {**data, **changes}


@pytest.mark.parametrize("who", ["ann", "sam"])
def test_admins_and_supervisors_create_edit_and_delete_indicators(
    indicators, client_for, request, who
):
    user = request.getfixturevalue(who)
    client = client_for(user, indicators.world.org)
    assert client.get(page_url("indicators:create")).status_code == 200

    response = client.post(page_url("indicators:create"), form_data(indicators, goal="300"))

    created = Indicator.objects.get(name="Boys enrolled against absent pupils")
    assert response.status_code == 302
    assert response["Location"] == page_url("indicators:read", created.pk)
    assert (created.org, created.created_by, created.goal) == (indicators.world.org, user, 300)

    client.post(page_url("indicators:update", created.pk), form_data(indicators, name="Renamed"))
    created.refresh_from_db()
    assert created.name == "Renamed"

    assert client.get(page_url("indicators:delete", created.pk)).status_code == 200
    response = client.post(page_url("indicators:delete", created.pk))
    assert response["Location"] == page_url("indicators:list")
    assert not Indicator.objects.filter(pk=created.pk).exists()


def test_the_form_offers_the_numeric_questions_of_selected_polls_with_their_poll(
    indicators, client_for, ann
):
    world = indicators.world
    html = client_for(ann, world.org).get(page_url("indicators:create")).content.decode()
    assert f'value="{world.questions["boys"].pk}" data-poll="{world.poll.pk}"' in html
    assert f'value="{indicators.absent.pk}" data-poll="{indicators.absent.poll_id}"' in html
    assert f'value="{world.questions["books"].pk}"' not in html  # categorical
    assert "js/indicators.js" in html


def errors_for(client, indicators, **changes) -> dict:
    response = client.post(page_url("indicators:create"), form_data(indicators, **changes))
    assert response.status_code == 200
    assert not Indicator.objects.filter(name="Boys enrolled against absent pupils").exists()
    return response.context["form"].errors


def test_the_form_refuses_what_cannot_be_compared(indicators, client_for, ann, beta):
    world = indicators.world
    client = client_for(ann, world.org)

    errors = errors_for(client, indicators, start_date="2024-06-01", end_date="2024-05-01")
    assert errors["end_date"] == ["The end date must not be before the start date."]

    errors = errors_for(client, indicators, baseline_question=indicators.absent.pk)
    assert errors["baseline_question"] == ["Choose a question of the poll Enrolment."]

    errors = errors_for(client, indicators, baseline_question=world.questions["books"].pk)
    assert errors["baseline_question"] == [
        "Books is not a numeric question; indicators add up numbers."
    ]

    theirs = make_question(make_poll(beta, "Enrolment"), "boys", QuestionType.NUMERIC)
    errors = errors_for(
        client, indicators, follow_up_poll=theirs.poll_id, follow_up_question=theirs.pk
    )
    assert "follow_up_poll" in errors and "follow_up_question" in errors


def chart_of(client, indicator, **params) -> dict:
    response = client.get(page_url("indicators:read", indicator.pk, **params))
    assert response.status_code == 200
    return response.context["chart"]


def sums_by_label(chart: dict) -> dict[str, list]:
    return {item["label"]: item["data"] for item in chart["modes"]["sum"]["series"]}


def test_the_chart_compares_the_follow_up_with_the_baseline_per_region(indicators, client_for, ann):
    chart = chart_of(client_for(ann, indicators.world.org), indicators.indicator)

    assert [d["date"] for d in chart["dates"]] == ["2024-05-02", "2024-05-09", "2024-05-16"]
    assert sums_by_label(chart) == {"Central": [20, 54, 86], "Northern": [22, 30, 40]}
    assert chart["modes"]["sum"]["total"] == [42, 84, 126]
    summary = chart["summary"]
    assert summary["baseline"] == sum(BASELINE.values())
    assert summary["baseline_contacts"] == len(BASELINE)
    assert summary["baseline_rate"] == 80  # Eve was asked on May 1 and did not answer
    assert (summary["mean"], summary["std"]) == (84, 34.3)
    assert summary["change"] == round(100 * (84 - 250) / 250, 1)
    assert summary["rate"] == round(100 * len(ABSENT) / 9, 1)


def test_a_supervisor_sees_only_their_regions(indicators, client_for, kampala_sam):
    chart = chart_of(client_for(kampala_sam, indicators.world.org), indicators.indicator)
    kampala = [n for n, (region, _, _) in CONTACTS.items() if region == "Kampala"]
    assert sums_by_label(chart) == {
        "Kampala": [sum(ABSENT.get((d, n), 0) for n in kampala) for d in ("may2", "may9", "may16")]
    }
    assert chart["summary"]["baseline"] == sum(BASELINE[n] for n in kampala)


def test_the_dates_default_to_the_term_and_the_filters_stay_in_the_url(indicators, client_for, ann):
    client = client_for(ann, indicators.world.org)
    response = client.get(page_url("indicators:read", indicators.indicator.pk))
    filters = response.context["filters"]
    assert (filters.start, filters.end) == (TERM["start_date"], TERM["end_date"])

    # One baseline date only (May 8): the baseline comes from the rollups.
    chart = chart_of(
        client, indicators.indicator, range="custom", start="2024-05-08", end="2024-05-31"
    )
    assert [d["date"] for d in chart["dates"]] == ["2024-05-09", "2024-05-16"]
    assert chart["summary"]["baseline"] == 100 + 60  # Alice and Bob answered on May 8

    group = indicators.world.groups["Head Teachers"]  # Alice and =Carol
    chart = chart_of(client, indicators.indicator, group=group.pk)
    assert chart["modes"]["sum"]["total"] == [20, 40, 60]
    assert chart["summary"]["baseline"] == 120 + 40

    region = indicators.world.regions["Gulu"]
    chart = chart_of(client, indicators.indicator, region=region.pk)
    assert sums_by_label(chart) == {"Gulu": [22, 30, 40]}

    chart = chart_of(client, indicators.indicator, contact_facility_code="KLA-2")
    assert chart["modes"]["sum"]["total"] == [0, 14, 26]


def test_a_goal_replaces_the_baseline(indicators, client_for, ann):
    indicators.indicator.goal = 100
    indicators.indicator.save()
    chart = chart_of(client_for(ann, indicators.world.org), indicators.indicator)
    assert chart["modes"]["sum"]["baseline"] == 100
    assert chart["summary"]["change"] == -16


def test_the_page_shows_the_figures_and_a_table_per_date(indicators, client_for, ann):
    response = client_for(ann, indicators.world.org).get(
        page_url("indicators:read", indicators.indicator.pk, numeric="average")
    )
    html = response.content.decode()
    assert 'id="indicator-data"' in html
    assert "34.3" in html and "84" in html
    assert 'data-mode="average"' in html and 'data-mode="sum" hidden' in html
    assert response.context["chart"]["numeric"] == "average"


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_the_series_export_holds_the_chart_in_either_format(indicators, client_for, kampala_sam):
    client = client_for(kampala_sam, indicators.world.org)
    url = page_url("indicators:read", indicators.indicator.pk, _format="csv")
    response = client.get(url)
    assert (
        'filename="enrolment-against-attendance-sum-2024-05-01-2024-05-31.csv"'
        in (response["Content-Disposition"])
    )
    header, *rows = read_csv(response)
    assert header == ["Poll date", "Spoofed", "Kampala", "Total", "Baseline"]
    assert rows == [
        ["2024-05-02", "", "20", "20", "200"],
        ["2024-05-09", "", "54", "54", "200"],
        ["2024-05-16", "", "86", "86", "200"],
    ]

    url = page_url("indicators:read", indicators.indicator.pk, _format="xlsx", numeric="rate")
    header, *rows = xlsx_rows(client.get(url))
    assert header == ["Poll date", "Spoofed", "Kampala", "Total", "Baseline"]
    assert rows[0][0] == datetime(2024, 5, 2)
    assert rows[0][2:] == [50, 50, 100]  # Bob was asked on May 2 and did not answer


def test_an_indicator_of_another_org_is_not_found(indicators, client_for, ann, beta):
    theirs = make_indicator(beta)
    client = client_for(ann, indicators.world.org)
    for name in ("indicators:read", "indicators:update", "indicators:delete"):
        assert client.get(page_url(name, theirs.pk)).status_code == 404


def test_the_list_shows_the_org_indicators_newest_term_first(indicators, client_for, sam, beta):
    world = indicators.world
    older = make_indicator(
        world.org,
        "Term 1",
        world.questions["boys"],
        start_date=date(2024, 1, 1),
        end_date=date(2024, 3, 31),
    )
    make_indicator(beta, "Theirs")
    response = client_for(sam, world.org).get(page_url("indicators:list"))
    assert list(response.context["indicators"]) == [indicators.indicator, older]
    assert "Clear spoof data" not in response.content.decode()
