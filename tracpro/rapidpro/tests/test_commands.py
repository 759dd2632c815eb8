"""`manage.py fetchruns` as the product docs describe it, and `manage.py syncorg`
(RapidPro faked at the seam)."""

import io
import json
from datetime import timedelta
from unittest import mock

import pytest

from django.core.management import CommandError, call_command
from django.core.management.base import OutputWrapper
from django.utils import timezone

from tracpro.orgs.models import SyncState, SyncStatus
from tracpro.orgs.tasks import LOCK_KEY, redis_client
from tracpro.polls.models import Poll, Response
from tracpro.rapidpro.management.progress import ProgressBar
from tracpro.rapidpro.tests import fakes


@pytest.fixture
def polls(acme, rapidpro):
    """Two selected polls, each with a run from 30 minutes and one from 3 days ago."""
    now = timezone.now()
    for name in ("Attendance", "Enrolment"):
        flow = fakes.flow(name)
        rapidpro.flows.append(flow)
        for age in (timedelta(minutes=30), timedelta(days=3)):
            rapidpro.runs.append(fakes.run(flow, (fakes.new_uuid(), "Grace"), now - age))
    call_command("syncorg", "acme", "--kind", "flows", stdout=io.StringIO())
    Poll.objects.filter(org=acme).update(is_active=True)
    return Poll.objects.filter(org=acme)


def fetchruns(*args) -> str:
    out = io.StringIO()
    call_command("fetchruns", *args, stdout=out)
    return out.getvalue()


def test_fetchruns_fetches_the_runs_of_every_poll_modified_in_the_window(acme, polls):
    output = fetchruns(str(acme.pk), "--hours=1")

    assert Response.objects.filter(org=acme).count() == 2
    assert "Attendance" in output and "Enrolment" in output
    total = next(line for line in output.splitlines() if line.startswith("Total"))
    assert total.split()[1:] == ["2", "0", "0", "0"]

    fetchruns(str(acme.pk), "--days=4")
    assert Response.objects.filter(org=acme).count() == 4


def test_fetchruns_adds_minutes_hours_and_days_up(acme, polls, rapidpro):
    fetchruns(str(acme.pk), "--days=2", "--hours=23", "--minutes=59")  # just short of 3 days

    assert Response.objects.filter(org=acme).count() == 2
    runs_requests = [query for endpoint, query in rapidpro.requests if endpoint == "runs"]
    assert {query["flow"] for query in runs_requests} == {p.flow_uuid for p in polls}


def test_fetchruns_refuses_an_unknown_org_in_one_line(acme, polls):
    with pytest.raises(CommandError, match="No organization has the id 999"):
        fetchruns("999", "--days=1")


@pytest.mark.parametrize("args", [[], ["--minutes=0"], ["--hours=-2"]])
def test_fetchruns_needs_a_duration(acme, polls, args):
    with pytest.raises(CommandError, match="--minutes N, --hours N or --days N"):
        fetchruns(str(acme.pk), *args)


def test_syncorg_runs_each_kind_and_prints_counts_and_totals_as_json(acme, rapidpro):
    rapidpro.flows.append(fakes.flow("Attendance"))
    rapidpro.groups.append(fakes.group("Kampala"))
    out = io.StringIO()

    call_command("syncorg", str(acme.pk), "--json", stdout=out)

    report = json.loads(out.getvalue())
    assert report["org"] == "acme"
    assert list(report["kinds"]) == [
        "fields",
        "groups",
        "boundaries",
        "flows",
        "contacts",
        "runs",
        "inbox",
        "reconcile",
    ]
    assert all(kind["status"] == "succeeded" for kind in report["kinds"].values())
    assert report["kinds"]["flows"]["created"] == 1
    assert report["kinds"]["groups"]["created"] == 1
    assert report["totals"]["flows"] == 1
    assert SyncState.objects.get(org=acme, kind="flows").status == SyncStatus.SUCCEEDED


def test_syncorg_runs_only_the_kinds_asked_for_and_prints_a_table(acme, rapidpro):
    rapidpro.flows.append(fakes.flow("Attendance"))
    out = io.StringIO()

    call_command("syncorg", "acme", "--kind", "flows", stdout=out)

    assert list(SyncState.objects.filter(org=acme).values_list("kind", flat=True)) == ["flows"]
    lines = out.getvalue().splitlines()
    assert lines[1].split()[:3] == ["flows", "succeeded", "1"]
    assert any("flows" in line and "1" in line for line in lines[3:])


def test_syncorg_fails_with_the_error_when_a_kind_fails(acme, rapidpro):
    rapidpro.get_flows = mock.Mock(side_effect=RuntimeError("boom"))
    with pytest.raises(CommandError, match="Not synced: flows"):
        call_command("syncorg", "acme", "--kind", "flows", stdout=io.StringIO())
    assert SyncState.objects.get(org=acme, kind="flows").last_error == "RuntimeError: boom"


def test_syncorg_does_not_run_a_kind_a_worker_is_running(acme, rapidpro):
    key = LOCK_KEY.format(org_id=acme.pk, kind="flows")
    redis_client().set(key, "a-worker", px=5000)
    out = io.StringIO()
    try:
        with pytest.raises(CommandError, match="Not synced: flows"):
            call_command("syncorg", "acme", "--kind", "flows", "--json", stdout=out)
    finally:
        redis_client().delete(key)
    result = json.loads(out.getvalue())["kinds"]["flows"]
    assert result["status"] == "locked" and "worker is running" in result["error"]
    assert not rapidpro.requests


def test_syncorg_refuses_an_unknown_org(db):
    with pytest.raises(CommandError, match="No organization has the id or subdomain 'nope'"):
        call_command("syncorg", "nope")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_draws_on_a_terminal_only():
    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        bar = ProgressBar(OutputWrapper(stream))
        bar.update(500, 1000, "Attendance")
        bar.update(1000, 1000, "Attendance")
        bar.finish()

    assert "50%" in terminal.getvalue() and "100%" in terminal.getvalue()
    assert "1,000/1,000" in terminal.getvalue()
    assert pipe.getvalue() == ""
