"""A sync killed with SIGKILL at any point, and started again, ends exactly where an
uninterrupted sync ends: every synced row compared through a checksum of natural
keys and values. Replayed and out-of-order pages change nothing."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from django.conf import settings

from tracpro.contacts.models import Contact
from tracpro.orgs.tasks import LOCK_KEY, redis_client
from tracpro.polls.models import Answer, AnswerRollup, PollRun, Question, Response, ResponseRollup
from tracpro.polls.tests.integrity import dangling_rows
from tracpro.rapidpro.models import SyncStream
from tracpro.rapidpro.tasks import LOCK_HEARTBEAT
from tracpro.rapidpro.tests.sync_helpers import SIM_NOW, set_up_edu, sync
from tracpro.simulator.testing import running_simulator

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MANAGE = Path(settings.BASE_DIR) / "manage.py"


def pollrun_key(pollrun: PollRun) -> tuple:
    return (pollrun.poll.flow_uuid, pollrun.kind, pollrun.start_uuid, str(pollrun.local_date))


def checksum(org) -> str:
    """Every row the runs and contacts syncs write, by natural keys (no ids)."""
    rows: list[tuple] = []
    for q in Question.objects.filter(poll__org=org).select_related("poll"):
        rows.append(
            ("q", q.poll.flow_uuid, q.result_key, q.question_type, repr(q.categories), q.order)
        )
    for p in PollRun.objects.filter(poll__org=org).select_related("poll"):
        rows.append(("pr", *pollrun_key(p), p.conducted_on.isoformat()))
    for r in Response.objects.filter(org=org).select_related("pollrun__poll", "contact"):
        rows.append(
            (
                "r",
                r.run_uuid,
                *pollrun_key(r.pollrun),
                r.contact.uuid,
                r.status,
                r.created_on.isoformat(),
                r.updated_on.isoformat(),
                r.remote_modified_on.isoformat(),
                r.is_active,
            )
        )
    answers = Answer.objects.filter(response__org=org).select_related("response", "question")
    for a in answers:
        rows.append(
            (
                "a",
                a.response.run_uuid,
                a.question.result_key,
                a.value,
                a.category,
                a.number,
                a.value_to_use,
                a.submitted_on.isoformat(),
                str(a.local_date),
            )
        )
    for c in (
        Contact.objects.filter(org=org).select_related("region").prefetch_related("reporter_groups")
    ):
        rows.append(
            (
                "c",
                c.uuid,
                c.name,
                c.urn,
                c.region.uuid if c.region else None,
                tuple(sorted(g.uuid for g in c.reporter_groups.all())),
                c.language,
                repr(sorted(c.fields.items())),
                c.remote_status,
                c.is_active,
                str(c.remote_modified_on),
                tuple(sorted(c.group_uuids)),
            )
        )
    for ar in AnswerRollup.objects.filter(question__poll__org=org).select_related(
        "question", "pollrun__poll", "region"
    ):
        rows.append(
            (
                "ar",
                ar.question.result_key,
                *pollrun_key(ar.pollrun),
                ar.region.uuid if ar.region else None,
                str(ar.local_date),
                ar.category,
                ar.count,
                ar.number_count,
                round(ar.number_sum, 6),
                round(ar.number_sum_sq, 3),
            )
        )
    for rr in ResponseRollup.objects.filter(pollrun__poll__org=org).select_related(
        "pollrun__poll", "region"
    ):
        rows.append(
            (
                "rr",
                *pollrun_key(rr.pollrun),
                rr.region.uuid if rr.region else None,
                rr.status,
                rr.count,
            )
        )
    text = "\n".join(repr(row) for row in sorted(rows, key=repr))
    return hashlib.sha256(text.encode()).hexdigest()


def start_syncorg(org, *kinds: str) -> subprocess.Popen:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }
    kind_args = [arg for kind in kinds for arg in ("--kind", kind)]
    return subprocess.Popen(
        [sys.executable, str(MANAGE), "syncorg", org.subdomain, *kind_args, "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def kill_after_requests(simulator, process: subprocess.Popen, requests: int) -> bool:
    """SIGKILL the sync once the simulator has answered `requests` requests.
    False if the sync ended first."""
    deadline = time.monotonic() + 60
    while simulator.stats()["total"] < requests:
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return True


def expire_locks(org) -> None:
    """A killed worker's locks expire within the heartbeat TTL; don't wait for it."""
    client = redis_client()
    for kind in ("contacts", "runs"):
        key = LOCK_KEY.format(org_id=org.pk, kind=kind)
        ttl = client.pttl(key)
        assert ttl <= LOCK_HEARTBEAT * 1000
        client.delete(key)


def test_a_sync_killed_at_any_page_and_restarted_ends_as_an_uninterrupted_one(acme, beta):
    beta.timezone = acme.timezone
    beta.save()
    with running_simulator(seed=13, contacts=150, runs=3000, now=SIM_NOW) as simulator:
        set_up_edu(beta, simulator)
        assert sync(beta, "contacts", "runs") == {"contacts": "succeeded", "runs": "succeeded"}

        set_up_edu(acme, simulator)
        # Slow every page a little, so each kill lands somewhere in the middle.
        simulator.faults(mode="delay", seconds=0.03, endpoint=["runs", "contacts"])
        kills = 0
        for kind, model, requests in (
            ("contacts", Contact, (3, 6)),
            ("runs", Response, (2, 5, 3, 4)),
        ):
            stored = []
            for count in requests:
                simulator.reset_stats()
                process = start_syncorg(acme, kind)
                kills += kill_after_requests(simulator, process, count)
                expire_locks(acme)
                stored.append(model.objects.filter(org=acme).count())
            # Killed mid-way, with some pages stored.
            assert any(0 < n < model.objects.filter(org=beta).count() for n in stored), kind
        assert kills >= 4

        simulator.clear_faults()
        process = start_syncorg(acme, "contacts", "runs")
        _, errors = process.communicate(timeout=300)
        assert process.returncode == 0, errors.decode()

        assert (
            Response.objects.filter(org=acme).count() == Response.objects.filter(org=beta).count()
        )
        assert checksum(acme) == checksum(beta)
        assert dangling_rows() == {}


def test_a_replayed_or_older_page_changes_nothing(acme):
    with running_simulator(seed=13, contacts=60, runs=800, now=SIM_NOW) as simulator:
        set_up_edu(acme, simulator)
        assert sync(acme, "contacts", "runs") == {"contacts": "succeeded", "runs": "succeeded"}
        before = checksum(acme)

        # Forget how far every backfill got: the next sync pages through every run and
        # contact again, and every item it sees is one the mirror already holds.
        SyncStream.objects.filter(org=acme).update(after=None, cursor="", finished_on=None)
        assert sync(acme, "contacts", "runs") == {"contacts": "succeeded", "runs": "succeeded"}

        assert checksum(acme) == before
