"""The archive import's first-history path (RunWriter.write_first_history) writes
exactly what the general path writes: the same archives imported both ways end in
the same responses, answers, poll dates and rollups, row for row (ids aside)."""

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tracpro.orgs.models import Org, SyncState
from tracpro.polls.models import Answer, AnswerRollup, PollRun, Response, ResponseRollup
from tracpro.rapidpro.paging import Fetcher
from tracpro.rapidpro.syncers import archives
from tracpro.rapidpro.syncers.archives import ArchiveImporter
from tracpro.rapidpro.syncers.base import SyncContext
from tracpro.rapidpro.syncers.runs import RunsSyncer
from tracpro.rapidpro.tests.sync_helpers import SIM_NOW, set_up_edu, sync
from tracpro.simulator.testing import running_simulator

pytestmark = pytest.mark.slow


def importer_for(org: Org) -> ArchiveImporter:
    from tracpro.rapidpro.client import get_client

    context = SyncContext(org, SyncState(org=org, kind="runs"), get_client(org), Fetcher())
    return ArchiveImporter(RunsSyncer(context))


def import_all(org: Org, files: list[bytes], first_history: bool) -> None:
    importer = importer_for(org)
    polls = importer.syncer.polls
    importer.ingest([(content, polls) for content in files], first_history=first_history)
    importer.finish(polls)


def mirror(org: Org) -> dict[str, list[tuple]]:
    """Every row the import writes, by natural keys instead of ids, sorted."""
    pollrun = ("pollrun__poll_id", "pollrun__kind", "pollrun__local_date")
    rows = {
        "pollruns": PollRun.objects.filter(poll__org=org).values_list(
            "poll_id", "kind", "local_date", "start_uuid", "conducted_on"
        ),
        "responses": Response.objects.filter(org=org).values_list(
            "run_uuid",
            *pollrun,
            "contact__uuid",
            "status",
            "created_on",
            "updated_on",
            "remote_modified_on",
            "is_active",
        ),
        "answers": Answer.objects.filter(response__org=org).values_list(
            "response__run_uuid",
            "question_id",
            "contact__uuid",
            "value",
            "category",
            "number",
            "value_to_use",
            "submitted_on",
            "local_date",
        ),
        "response rollups": ResponseRollup.objects.filter(pollrun__poll__org=org).values_list(
            *pollrun, "region_id", "status", "count"
        ),
        "answer rollups": AnswerRollup.objects.filter(pollrun__poll__org=org).values_list(
            "question_id",
            *pollrun,
            "region_id",
            "local_date",
            "category",
            "count",
            "number_count",
            "number_sum",
            "number_sum_sq",
        ),
    }
    return {name: sorted(query, key=repr) for name, query in rows.items()}


def empty_mirror(org: Org) -> None:
    Answer.objects.filter(response__org=org).delete()
    Response.objects.filter(org=org).delete()
    ResponseRollup.objects.filter(pollrun__poll__org=org).delete()
    AnswerRollup.objects.filter(pollrun__poll__org=org).delete()
    PollRun.objects.filter(poll__org=org).delete()


def test_first_history_writes_what_the_general_path_writes(acme, monkeypatch):
    # Small batches: poll dates reach over batch (and archive) boundaries, so later
    # batches mix first-history days with days an earlier batch wrote.
    monkeypatch.setattr(archives, "RUNS_PER_BATCH", 150)
    with running_simulator(
        seed=11, contacts=150, runs=3000, now=SIM_NOW, archive_days=20, delete_archived=True
    ) as simulator:
        set_up_edu(acme, simulator)
        assert sync(acme, "contacts") == {"contacts": "succeeded"}
        importer = importer_for(acme)
        listed = importer.syncer.client.get_archives(type="run").all()
        files = [importer.download(archive) for archive in listed if archive.download_url]
    assert len(files) > 1

    import_all(acme, files, first_history=False)
    general = mirror(acme)
    empty_mirror(acme)
    with CaptureQueriesContext(connection) as queries:
        import_all(acme, files, first_history=True)
    first = mirror(acme)

    assert len(general["responses"]) > 1000 and len(general["answers"]) > 1000
    assert sum(row[-1] for row in general["responses"]) < len(general["responses"])  # inactive
    assert len({row[-1] for row in general["answers"]}) > 2  # value_to_use decided
    for name in general:
        assert first[name] == general[name], name
    statements = [query["sql"] for query in queries.captured_queries]
    checks = sum("AS d(poll_id, local_day)" in sql for sql in statements)
    lookups = sum("CREATE TEMP TABLE sync_stored" in sql for sql in statements)
    assert 0 < lookups < checks  # both paths ran, the first-history one alone in some batches


def test_a_poll_date_with_a_stored_response_goes_the_general_way(acme, monkeypatch):
    """A run archived again (a daily archive and its monthly rollup, or a second
    import) is skipped, not written twice, and its contact's active response stays."""
    with running_simulator(
        seed=12, contacts=60, runs=800, now=SIM_NOW, archive_days=20, delete_archived=True
    ) as simulator:
        set_up_edu(acme, simulator)
        sync(acme, "contacts")
        importer = importer_for(acme)
        listed = importer.syncer.client.get_archives(type="run").all()
        files = [importer.download(archive) for archive in listed if archive.download_url]

    import_all(acme, files, first_history=True)
    before = mirror(acme)
    import_all(acme, files, first_history=True)

    assert mirror(acme) == before
    assert len(before["responses"]) == len({row[0] for row in before["responses"]}) > 100
