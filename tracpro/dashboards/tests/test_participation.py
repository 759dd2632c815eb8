"""Participation of every contact against every poll date."""

import csv
import io

import pytest

from tracpro.exports.tests.xlsx import xlsx_rows
from tracpro.polls.tests.factories import make_poll, make_pollrun, make_response
from tracpro.polls.tests.world import ANSWERS, CONTACTS, IN_MAY, MAY_8, page_url

pytestmark = pytest.mark.django_db

DATES = ["may8", "may1"]  # newest first, like the columns


def test_it_marks_every_contact_against_every_date(world, client_for, ann):
    response = client_for(ann, world.org).get(page_url("polls.participation", **IN_MAY))
    assert [p.pk for p in response.context["pollruns"]] == [world.pollruns[d].pk for d in DATES]
    cells = {row["contact"].name: row["cells"] for row in response.context["rows"]}
    assert set(cells) == set(CONTACTS)
    for name, statuses in cells.items():
        assert statuses == [ANSWERS[(d, name)][0] if (d, name) in ANSWERS else None for d in DATES]
    for row in response.context["rows"]:
        asked = [d for d in DATES if (d, row["contact"].name) in ANSWERS]
        answered = [d for d in asked if ANSWERS[(d, row["contact"].name)][0] != "empty"]
        assert (row["answered"], row["asked"]) == (len(answered), len(asked))


def test_it_shows_a_supervisor_only_their_contacts(world, client_for, kampala_sam):
    response = client_for(kampala_sam, world.org).get(page_url("polls.participation", **IN_MAY))
    names = {row["contact"].name for row in response.context["rows"]}
    assert names == {n for n, (region, _, _) in CONTACTS.items() if region == "Kampala"}


def test_it_narrows_to_one_poll(world, client_for, ann):
    other = make_poll(world.org, "Attendance")
    make_response(make_pollrun(other, MAY_8), world.contacts["Alice"])
    client = client_for(ann, world.org)
    every = client.get(page_url("polls.participation", **IN_MAY)).context["pollruns"]
    one = client.get(page_url("polls.participation", poll=other.pk, **IN_MAY)).context["pollruns"]
    assert len(every) == 3
    assert [p.poll for p in one] == [other]


def test_it_exports_participation(world, client_for, ann):
    response = client_for(ann, world.org).get(
        page_url("polls.participation", _format="csv", **IN_MAY)
    )
    body = b"".join(response.streaming_content).decode()
    header, *rows = csv.reader(io.StringIO(body.removeprefix("\ufeff")))
    assert header == ["Contact", "URN", "Region", "Enrolment 2024-05-08", "Enrolment 2024-05-01"]
    labels = {"complete": "Complete", "partial": "Partial", "empty": "No response"}
    by_name = {row[0].removeprefix("'"): row for row in rows}
    for name, (region, _, _) in CONTACTS.items():
        assert by_name[name][2] == region
        assert by_name[name][3:] == [
            labels[ANSWERS[(d, name)][0]] if (d, name) in ANSWERS else "" for d in DATES
        ]
    assert "'=Carol" in {row[0] for row in rows}


def test_it_exports_participation_as_xlsx(world, client_for, ann):
    response = client_for(ann, world.org).get(
        page_url("polls.participation", _format="xlsx", **IN_MAY)
    )
    header, *rows = xlsx_rows(response)
    assert header == ["Contact", "URN", "Region", "Enrolment 2024-05-08", "Enrolment 2024-05-01"]
    by_name = {row[0]: row for row in rows}
    assert by_name["Alice"][3:] == ["Complete", "Complete"]
    assert "'=Carol" in by_name
