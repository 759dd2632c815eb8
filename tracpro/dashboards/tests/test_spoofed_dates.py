"""Spoofed poll dates appear, marked, only while the org shows spoof data, and leave
the multi-date exports unless asked for."""

import csv
import io
from datetime import date

import pytest

from tracpro.polls import spoof
from tracpro.polls.models import PollRun
from tracpro.polls.tests.world import IN_MAY, page_url

pytestmark = pytest.mark.django_db

SPOOF_DAY = date(2024, 5, 15)


@pytest.fixture
def spoofed(world, ann) -> PollRun:
    boys = world.questions["boys"]
    plan = spoof.SpoofPlan(boys, boys, SPOOF_DAY, SPOOF_DAY, 7, 500, 500)
    spoof.generate(world.org, plan, [c.pk for c in world.contacts.values()], ann)
    show_spoof_data(world.org, True)
    return PollRun.objects.for_org(world.org).spoofed().get()


def show_spoof_data(org, shown: bool) -> None:
    org.show_spoof_data = shown
    org.save(update_fields=["show_spoof_data"])


PAGES = [
    ("polls.pollrun_list", (), IN_MAY),
    ("polls.participation", (), IN_MAY),
    ("home", (), {}),
]


@pytest.mark.parametrize(("name", "args", "params"), PAGES)
def test_a_spoofed_date_shows_marked_only_while_the_org_shows_spoof_data(
    world, spoofed, client_for, ann, name, args, params
):
    client = client_for(ann, world.org)
    url = page_url(name, *args, **params)
    shown = client.get(url).content.decode()
    assert "Spoofed" in shown
    assert f"/pollrun/read/{spoofed.pk}/" in shown or f"/participation/{spoofed.pk}/" in shown

    show_spoof_data(world.org, False)
    hidden = client.get(url).content.decode()
    assert "Spoofed" not in hidden
    assert f"/{spoofed.pk}/" not in hidden


def test_the_poll_chart_counts_spoofed_answers_only_while_shown(world, spoofed, client_for, ann):
    client = client_for(ann, world.org)
    url = page_url("polls.poll_read", world.poll.pk, **IN_MAY)
    charts = client.get(url).context["charts"]
    assert [d["date"] for d in charts["dates"]] == ["2024-05-01", "2024-05-08", "2024-05-15"]
    boys = charts["questions"][0]["series"]["sum"][0]["data"]
    assert boys[-1] == 500 * len(world.contacts)

    show_spoof_data(world.org, False)
    charts = client.get(url).context["charts"]
    assert [d["date"] for d in charts["dates"]] == ["2024-05-01", "2024-05-08"]
    assert client.get(page_url("polls.pollrun_read", spoofed.pk)).status_code == 404


def test_a_contact_page_and_the_poll_list_follow_the_setting(world, spoofed, client_for, ann):
    client = client_for(ann, world.org)
    contact_url = page_url("contacts:read", world.contacts["Eve"].pk)
    assert "Spoofed" in client.get(contact_url).content.decode()
    polls = client.get(page_url("polls.poll_list")).context["polls"]
    assert polls[0].date_count == 3

    show_spoof_data(world.org, False)
    assert "Spoofed" not in client.get(contact_url).content.decode()
    polls = client.get(page_url("polls.poll_list")).context["polls"]
    assert polls[0].date_count == 2


def exported_dates(client, url) -> set[str]:
    body = b"".join(client.get(url).streaming_content).decode("utf-8-sig")
    return {row[0] for row in list(csv.reader(io.StringIO(body)))[1:]}


def test_exports_leave_spoofed_dates_out_unless_asked(world, spoofed, client_for, ann):
    client = client_for(ann, world.org)
    export = page_url("polls.poll_export", world.poll.pk, **IN_MAY)
    assert exported_dates(client, export) == {"2024-05-01", "2024-05-08"}
    assert "2024-05-15" in exported_dates(client, export + "&spoof=1")

    participation = page_url("polls.participation", _format="csv", **IN_MAY)
    header = client.get(participation)
    body = b"".join(header.streaming_content).decode("utf-8-sig")
    assert "2024-05-15" not in body.splitlines()[0]
    body = b"".join(client.get(participation + "&spoof=1").streaming_content).decode("utf-8-sig")
    assert "Enrolment 2024-05-15" in body.splitlines()[0]

    page = client.get(page_url("polls.poll_read", world.poll.pk, **IN_MAY)).content.decode()
    assert "spoof=1" in page  # offered while the org shows spoof data
    show_spoof_data(world.org, False)
    assert exported_dates(client, export + "&spoof=1") == {"2024-05-01", "2024-05-08"}
    page = client.get(page_url("polls.poll_read", world.poll.pk, **IN_MAY)).content.decode()
    assert "spoof=1" not in page
