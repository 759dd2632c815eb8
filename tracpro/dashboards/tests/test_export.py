"""The poll pages' CSV exports: Excel-friendly, formula-safe, streamed, and only the user's data."""

import csv
import io
from datetime import date, datetime

import pytest

from tracpro.contacts.tests.factories import make_contact
from tracpro.exports.files import ROWS_PER_CHUNK
from tracpro.exports.tests.xlsx import xlsx_rows
from tracpro.polls.models import ResponseStatus
from tracpro.polls.tests.factories import make_answer, make_response
from tracpro.polls.tests.world import ANSWERS, CONTACTS, IN_MAY, page_url

pytestmark = pytest.mark.django_db


def download(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return response, list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


def test_it_exports_a_poll_dates_responses_round_trip(world, client_for, ann):
    pollrun = world.pollruns["may1"]
    url = page_url("polls.response_by_pollrun", pollrun.pk, _format="csv")
    response, rows = download(client_for(ann, world.org), url)
    assert 'filename="enrolment-2024-05-01.csv"' in response["Content-Disposition"]
    header, *data = rows
    assert header == [
        "Poll date",
        "Answered on",
        "Contact",
        "URN",
        "Region",
        "Reporter groups",
        "Status",
        "Boys",
        "Books",
        "Comment",
    ]
    by_name = {row[2].removeprefix("'"): row for row in data}
    expected = {
        name: row
        for (date, name), row in ANSWERS.items()
        if date == "may1" and row[0] != ResponseStatus.EMPTY
    }
    assert set(by_name) == set(expected)
    for name, (status, boys, books, comment) in expected.items():
        region, groups, _ = CONTACTS[name]
        row = by_name[name]
        assert row[0] == "2024-05-01"
        assert row[1] == "2024-05-01 09:00"  # Kampala time
        assert row[3] == world.contacts[name].urn
        assert row[4] == region
        assert row[5] == ", ".join(sorted(groups))
        assert row[6] == status.capitalize()
        assert row[7:] == [boys or "", books or "", comment or ""]


def test_it_keeps_a_formula_like_name_as_text(world, client_for, ann):
    url = page_url("polls.response_by_pollrun", world.pollruns["may1"].pk, _format="csv")
    _, rows = download(client_for(ann, world.org), url)
    names = [row[2] for row in rows[1:]]
    assert "'=Carol" in names
    assert not any(name.startswith("=") for name in names)


def test_it_exports_only_the_supervisors_regions(world, client_for, kampala_sam):
    url = page_url("polls.response_by_pollrun", world.pollruns["may1"].pk, _format="csv")
    _, rows = download(client_for(kampala_sam, world.org), url)
    assert {row[4] for row in rows[1:]} == {"Kampala"}
    assert len(rows) - 1 == sum(
        1
        for (d, n), row in ANSWERS.items()
        if d == "may1" and CONTACTS[n][0] == "Kampala" and row[0] != "empty"
    )


def test_it_exports_a_poll_across_its_dates_with_the_filters(world, client_for, ann):
    group = world.groups["Head Teachers"]
    url = page_url("polls.poll_export", world.poll.pk, **IN_MAY, group=group.pk)
    response, rows = download(client_for(ann, world.org), url)
    assert 'filename="enrolment-2024-04-01-2024-05-31.csv"' in response["Content-Disposition"]
    heads = {n for n, (_, groups, _) in CONTACTS.items() if "Head Teachers" in groups}
    expected = sorted(
        (date, name)
        for (date, name), row in ANSWERS.items()
        if name in heads and row[0] != ResponseStatus.EMPTY
    )
    exported = sorted((row[0], row[2].removeprefix("'")) for row in rows[1:])
    dates = {"may1": "2024-05-01", "may8": "2024-05-08"}
    assert exported == [(dates[d], n) for d, n in expected]
    assert [row[0] for row in rows[1:]] == sorted((row[0] for row in rows[1:]), reverse=True)


def test_it_exports_every_row_past_one_chunk(world, client_for, ann):
    pollrun = world.pollruns["may8"]
    for index in range(ROWS_PER_CHUNK + 5):
        response = make_response(pollrun, make_contact(world.org, f"Bulk {index}"))
        make_answer(response, world.questions["boys"], index, "Small")
    url = page_url("polls.response_by_pollrun", pollrun.pk, _format="csv")
    _, rows = download(client_for(ann, world.org), url)
    assert len(rows) - 1 == ROWS_PER_CHUNK + 5 + sum(
        1 for (d, _), row in ANSWERS.items() if d == "may8" and row[0] != "empty"
    )


def test_it_exports_a_poll_dates_responses_as_xlsx_with_typed_cells(world, client_for, ann):
    pollrun = world.pollruns["may1"]
    url = page_url("polls.response_by_pollrun", pollrun.pk, _format="xlsx")
    response = client_for(ann, world.org).get(url)
    assert response.streaming
    assert 'filename="enrolment-2024-05-01.xlsx"' in response["Content-Disposition"]
    header, *data = xlsx_rows(response)
    assert header[:3] == ["Poll date", "Answered on", "Contact"]
    by_name = {row[2]: row for row in data}
    assert set(by_name) == {"Alice", "Bob", "'=Carol", "Dan"}  # a formula-like name stays text
    alice = by_name["Alice"]
    assert alice[0] == datetime(2024, 5, 1)  # a date cell
    assert alice[1] == datetime(2024, 5, 1, 9, 0)  # Kampala time
    assert alice[7:] == [120, "Enough", "Need more desks"]  # the numeric answer is a number
    assert by_name["'=Carol"][7] == 40


def test_it_exports_a_poll_across_its_dates_as_xlsx(world, client_for, ann):
    url = page_url("polls.poll_export", world.poll.pk, **IN_MAY, _format="xlsx")
    response = client_for(ann, world.org).get(url)
    assert 'filename="enrolment-2024-04-01-2024-05-31.xlsx"' in response["Content-Disposition"]
    header, *data = xlsx_rows(response)
    assert header[-3:] == ["Boys", "Books", "Comment"]
    assert len(data) == sum(1 for row in ANSWERS.values() if row[0] != ResponseStatus.EMPTY)
    assert {row[0].date() for row in data} == {date(2024, 5, 1), date(2024, 5, 8)}


def test_the_poll_page_offers_every_export_format(world, client_for, ann):
    page = client_for(ann, world.org).get(page_url("polls.poll_read", world.poll.pk, **IN_MAY))
    html = page.content.decode()
    assert "Export responses (CSV)" in html and "Export responses (Excel)" in html
    assert "_format=xlsx" in html
