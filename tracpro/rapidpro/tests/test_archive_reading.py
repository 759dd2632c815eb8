"""Reading run archives (syncers/archives.py) and the first-history rule of the runs
writer, without a simulator: archive files written here, line by line."""

import gzip
import json
import logging
import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from unittest import mock

import pytest

from tracpro.msgs.models import Message
from tracpro.msgs.tests.factories import make_message
from tracpro.orgs.models import Org, SyncState
from tracpro.polls.models import Answer, PollRun, QuestionType, Response, ResponseStatus
from tracpro.polls.tests.factories import make_poll, make_pollrun, make_question, make_response
from tracpro.rapidpro.paging import Fetcher, SyncError
from tracpro.rapidpro.syncers import archives
from tracpro.rapidpro.syncers.archives import ArchiveImporter
from tracpro.rapidpro.syncers.base import SyncContext
from tracpro.rapidpro.syncers.run_writer import RunWriter, bulk_batch
from tracpro.rapidpro.syncers.runs import RunsSyncer

DAY = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)  # Africa/Kampala: 11:00 the same day


@pytest.fixture
def kampala(acme: Org) -> Org:
    acme.timezone = "Africa/Kampala"
    acme.save(update_fields=["timezone"])
    return acme


@pytest.fixture
def attendance(kampala):
    poll = make_poll(kampala, "Attendance")
    make_question(poll, "boys", QuestionType.NUMERIC)
    make_question(poll, "comment", QuestionType.OPEN)
    return poll


def importer_for(org: Org) -> ArchiveImporter:
    client = mock.Mock()  # reading files asks RapidPro nothing
    return ArchiveImporter(RunsSyncer(SyncContext(org, SyncState(org=org), client, Fetcher())))


def line(poll, created: datetime, **fields) -> dict:
    run = {
        "id": 1,
        "uuid": str(uuid.uuid4()),
        "flow": {"uuid": poll.flow_uuid, "name": "Attendance"},
        "contact": {"uuid": fields.pop("contact", str(uuid.uuid4())), "name": "Sarah"},
        "responded": True,
        "path": [{"node": str(uuid.uuid4()), "time": created.isoformat()}],
        "values": {
            "boys": {"value": "12", "category": "Has Number", "time": created.isoformat()},
        },
        "created_on": created.isoformat(),
        "modified_on": (created + timedelta(minutes=5)).isoformat(),
        "exited_on": (created + timedelta(minutes=5)).isoformat(),
        "exit_type": "completed",
    }
    run.update(fields)
    return run


def archive_of(*lines: dict | str) -> bytes:
    text = "\n".join(item if isinstance(item, str) else json.dumps(item) for item in lines)
    return gzip.compress((text + "\n").encode())


def test_unreadable_lines_are_counted_and_logged_and_the_others_written(
    kampala, attendance, caplog
):
    good = line(attendance, DAY, values={"comment": {"value": "no\u0000 chalk", "category": "All"}})
    other_flow = line(attendance, DAY, flow={"uuid": str(uuid.uuid4()), "name": "Other"})
    no_contact = line(attendance, DAY, contact=None)
    no_contact["contact"] = None
    no_dates = line(attendance, DAY, created_on=None)
    bad_time = line(attendance, DAY, modified_on="yesterday")
    content = archive_of(good, "not json {", "[1, 2]", no_contact, no_dates, bad_time, other_flow)

    with caplog.at_level(logging.WARNING, logger=archives.__name__):
        counts = importer_for(kampala).ingest([(content, [attendance])])

    assert (counts.created, counts.failed) == (1, 5)
    assert len([r for r in caplog.records if "unreadable line" in r.getMessage()]) == 5
    response = Response.objects.get(org=kampala)
    assert response.run_uuid == good["uuid"]
    assert Answer.objects.get(response=response).value == "no chalk"  # NUL dropped


def test_a_run_read_twice_is_written_once_in_its_newest_version(kampala, attendance):
    older = line(attendance, DAY, responded=False, values={})
    newer = {**older, "responded": True, "values": line(attendance, DAY)["values"]}
    newer["modified_on"] = (DAY + timedelta(hours=2)).isoformat()

    counts = importer_for(kampala).ingest([(archive_of(newer, older), [attendance])])

    assert counts.created == 1
    response = Response.objects.get(org=kampala)
    assert response.status == ResponseStatus.COMPLETE
    assert response.remote_modified_on == DAY + timedelta(hours=2)
    assert Answer.objects.get(response=response).number == 12


def test_batches_end_where_a_day_ends_even_across_files(kampala, attendance, monkeypatch):
    """Lines go by modified_on and a third of the runs end the day after they began:
    with batches of about 4 runs, every day still lies in a single batch, also the
    day whose runs reach over two archive files."""
    monkeypatch.setattr(archives, "RUNS_PER_BATCH", 4)
    days = [DAY + timedelta(days=n) for n in range(4)]
    runs = [line(attendance, day + timedelta(minutes=m)) for day in days for m in range(3)]
    for run in runs[2::3]:  # modified the next day, after that day's runs
        created = datetime.fromisoformat(run["created_on"])
        run["modified_on"] = (created + timedelta(days=1, hours=6)).isoformat()
    runs.sort(key=lambda run: run["modified_on"])
    first, second = archive_of(*runs[:7]), archive_of(*runs[7:])

    batches = list(importer_for(kampala).batches([(first, [attendance]), (second, [attendance])]))

    assert len(batches) > 1
    days_in = [set(batch.keys) for batch in batches]
    for index, keys in enumerate(days_in):
        assert not keys & set().union(*days_in[:index]), "a day in two batches"
    assert sum(len(batch.runs) for batch in batches) == 12


def test_a_day_larger_than_the_largest_batch_is_cut(kampala, attendance, monkeypatch):
    monkeypatch.setattr(archives, "RUNS_PER_BATCH", 2)
    monkeypatch.setattr(archives, "MAX_BATCH", 5)
    runs = [line(attendance, DAY + timedelta(minutes=m)) for m in range(12)]

    batches = list(importer_for(kampala).batches([(archive_of(*runs), [attendance])]))

    assert [len(batch.runs) for batch in batches] == [5, 5, 2]


def test_a_corrupt_download_is_refused(kampala, attendance, monkeypatch):
    monkeypatch.setattr(archives, "fetch_file", lambda url: b"truncated")
    archive = SimpleNamespace(
        download_url="https://s3.example.com/a.jsonl.gz",
        hash="0" * 32,
        start_date=DAY,
        period="monthly",
    )

    with pytest.raises(SyncError, match="2025-03 does not match its hash"):
        importer_for(kampala).download(archive)


def written_first(kampala: Org, attendance, created: list[datetime]) -> set[date]:
    """The local days, of runs created at these moments, that the first-history path
    writes (the others are left for the general path)."""
    syncer = importer_for(kampala).syncer
    rows = []
    for moment in created:
        row, _ = syncer.staged_rows(
            attendance.pk, str(uuid.uuid4()), None, str(uuid.uuid4()), "Sarah", True, True,
            moment, moment, [],
        )  # fmt: skip
        rows.append(row)
    writer = RunWriter(kampala)
    writer.lock()
    rest, _, written = writer.write_first_history(bulk_batch(rows, [], 0, kampala.tz))
    left = {row[6].astimezone(kampala.tz).date() for row in rest}
    assert written == len(rows) - len(rest)
    return {moment.astimezone(kampala.tz).date() for moment in created} - left


def test_first_history_is_the_days_before_a_start_a_restart_or_a_stored_response(
    kampala, attendance
):
    days = [DAY + timedelta(days=n) for n in range(5)]
    assert written_first(kampala, attendance, days) == {day.date() for day in days}
    Response.objects.filter(org=kampala).delete()
    PollRun.objects.filter(poll=attendance).delete()

    stored = make_pollrun(attendance, days[1], kind=PollRun.Kind.DAY, start_uuid=None)
    make_response(stored, created_on=days[1])
    restarted = make_pollrun(
        attendance, days[0] - timedelta(days=30), kind=PollRun.Kind.DAY, start_uuid=None
    )
    make_message(kampala, kind=Message.Kind.RESTART, pollrun=restarted, created_on=days[3])

    assert written_first(kampala, attendance, days) == {days[0].date(), days[2].date()}


def test_a_flow_start_ends_the_first_history_of_its_poll(kampala, attendance):
    days = [DAY + timedelta(days=n) for n in range(3)]
    make_pollrun(attendance, days[1] + timedelta(hours=2))  # a flow start, conducted on day 2

    assert written_first(kampala, attendance, days) == {days[0].date()}
