"""Actions never wait behind a sync: with real Celery workers, one per queue (as
`make run` and the production units start them), a message is sent while a long
sync keeps the sync worker busy."""

import os
import subprocess
import sys
import time

import pytest
from redis import Redis

from django.conf import settings
from django.db import connection

from tracpro.contacts.tests.factories import make_contact
from tracpro.groups.scope import RegionScope
from tracpro.groups.tests.factories import make_region
from tracpro.msgs.models import Message
from tracpro.orgs.models import SyncState, SyncStatus
from tracpro.orgs.tasks import redis_client
from tracpro.polls.tests.factories import make_poll, make_pollrun, make_response
from tracpro.rapidpro import actions
from tracpro.rapidpro.tests import probe_slow_sync
from tracpro.simulator.testing import running_simulator

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def start_worker(queue: str) -> subprocess.Popen:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tracpro.celery", "worker", "--pool", "solo",
         "--queues", queue, "--hostname", f"{queue}@test",
         "--include", "tracpro.rapidpro.tests.probe_slow_sync", "--loglevel", "WARNING",
         "--without-heartbeat", "--without-mingle", "--without-gossip"],
        env=env,
    )  # fmt: skip


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


@pytest.fixture
def sim():
    with running_simulator(seed=9, contacts=30, runs=50) as handle:
        yield handle


@pytest.fixture
def clean_queues():
    broker = Redis.from_url(settings.CELERY_BROKER_URL)
    redis_client().delete(probe_slow_sync.RELEASE_KEY)
    broker.delete("celery", settings.ACTIONS_QUEUE)
    yield
    redis_client().set(probe_slow_sync.RELEASE_KEY, 1, ex=60)
    broker.delete("celery", settings.ACTIONS_QUEUE)


def test_a_message_is_sent_while_a_long_sync_holds_the_sync_worker(acme, ann, sim, clean_queues):
    acme.api_url, acme.api_token = sim.base_url, sim.tokens["edu"]
    acme.save()
    rapidpro = sim.client("edu")
    kampala = make_region(acme, "Kampala", uuid=rapidpro.get_groups(name="Kampala").first().uuid)
    flow = next(f for f in rapidpro.get_flows().all() if f.name == "Attendance")
    pollrun = make_pollrun(make_poll(acme, "Attendance", flow_uuid=flow.uuid))
    for remote in rapidpro.get_contacts(group="Kampala").all()[:3]:
        contact = make_contact(acme, remote.name, uuid=remote.uuid, region=kampala)
        make_response(pollrun, contact, status="empty")
    connection.close()

    workers = [start_worker("celery"), start_worker(settings.ACTIONS_QUEUE)]
    try:
        probe_slow_sync.slow_sync.delay(acme.pk)
        running = SyncState.objects.filter(org=acme, kind=probe_slow_sync.SLOW)
        assert wait_for(lambda: running.filter(status=SyncStatus.RUNNING).exists(), 60)

        scope = RegionScope.build(acme, is_admin=True)
        message = actions.send_to_poll_date(scope, ann, pollrun, "all", "Reminder")

        sent = Message.objects.filter(pk=message.pk, status=Message.Status.SENT)
        assert wait_for(sent.exists, 45), Message.objects.get(pk=message.pk).status
        assert running.get().status == SyncStatus.RUNNING, "the sync was still going"
        broadcast = rapidpro.get_broadcasts(uuid=message.batches.get().remote_uuid).first()
        assert len(broadcast.contacts) == 3
    finally:
        redis_client().set(probe_slow_sync.RELEASE_KEY, 1, ex=60)
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
