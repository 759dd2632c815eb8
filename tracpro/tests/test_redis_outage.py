"""Redis stopped: pages that do not need it still render, a change made meanwhile
is kept and its task queued again once Redis is back, and no lock outlives its
TTL. Redis here is a server of the test's own (tracpro.tests.services), killed
with SIGKILL and started again on its append-only file, as after a crash."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone

from tracpro.celery import app
from tracpro.contacts.models import PushStatus
from tracpro.contacts.tests.factories import make_contact
from tracpro.groups.tests.factories import make_region
from tracpro.orgs.models import SyncState, SyncStatus
from tracpro.orgs.tasks import LOCK_KEY, OrgTaskSpec, redis_client, run_org_task
from tracpro.rapidpro.tasks import requeue_stale_pushes
from tracpro.tests.routes import (
    ORG_URLCONF,
    ROOT_URLCONF,
    ObjectMaker,
    collect_routes,
    sweep_registry,
    url_of,
)
from tracpro.tests.services import RedisServer, free_port
from tracpro.tests.workers import wait_for

pytestmark = pytest.mark.slow


@contextmanager
def redis_at(settings, url: str, broker_url: str):
    """Point the cache, the task locks and the Celery broker at another Redis."""
    # Read first: Celery loads its configuration from the settings on first use.
    original = app.conf.broker_url
    settings.REDIS_URL = url
    settings.CELERY_BROKER_URL = broker_url
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": url, "OPTIONS": {
            "socket_connect_timeout": 0.5, "socket_timeout": 0.5}}
    }  # fmt: skip
    app.conf.broker_url = broker_url
    app.conf.broker_connection_retry = False
    app.conf.broker_connection_max_retries = 0
    app._after_fork()  # drop the connection pools made for the old broker
    try:
        yield
    finally:
        app.conf.broker_url = original
        app.conf.broker_connection_retry = True
        app.conf.broker_connection_max_retries = 100
        app._after_fork()
        caches["default"].close()


@pytest.fixture
def redis(settings, tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    with redis_at(settings, server.url, server.broker_url):
        yield server
    server.kill()


@pytest.fixture
def no_redis(settings):
    """Nothing listens where Redis should be."""
    port = free_port()
    with redis_at(settings, f"redis://127.0.0.1:{port}/0", f"redis://127.0.0.1:{port}/1"):
        yield


ORG_ROUTES = collect_routes(ORG_URLCONF)
ROOT_ROUTES = collect_routes(ROOT_URLCONF)


def test_every_page_renders_without_redis(no_redis, client_for, acme, ann, root):
    maker = ObjectMaker(*sweep_registry())
    failures = []
    for urlconf, routes, client in (
        (ORG_URLCONF, ORG_ROUTES, client_for(ann, acme)),
        (ROOT_URLCONF, ROOT_ROUTES, client_for(root)),
    ):
        for route in routes:
            url = url_of(route, urlconf, maker, acme)
            status = client.get(url).status_code
            if status >= 500 and route.name != "healthz":
                failures.append((route.name, status))
    assert failures == []
    assert client_for(None, acme).get("/healthz").status_code == 503  # and says why


def test_a_change_made_while_redis_is_down_is_queued_once_it_is_back(
    redis, client_for, acme, ann, django_capture_on_commit_callbacks
):
    region = make_region(acme, "Kampala")
    contact = make_contact(acme, "Grace", region=region)
    redis.kill()

    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = client_for(ann, acme).post(
        f"/contact/update/{contact.pk}/",
            {"name": "Grace Okello", "urn_scheme": "tel", "urn_path": "+256772000111",
             "region": region.pk, "language": ""},
        )  # fmt: skip

    assert response.status_code == 302  # saved; its push could not be queued
    assert len(queued) == 1  # the push was tried, failed on the broker, and was let go
    contact.refresh_from_db()
    assert (contact.name, contact.push_status) == ("Grace Okello", PushStatus.PENDING)

    redis.start()
    queue = redis_client_for(redis.broker_url)
    assert queue.llen(settings.ACTIONS_QUEUE) == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
        assert requeue_stale_pushes() == 1
    assert queue.llen(settings.ACTIONS_QUEUE) == 1  # pushes run on the actions queue
    assert str(contact.pk) in queue.lindex(settings.ACTIONS_QUEUE, 0).decode()


def redis_client_for(url: str):
    from redis import Redis

    return Redis.from_url(url)


def test_a_lock_held_when_redis_died_expires_with_its_ttl(redis, acme):
    key = LOCK_KEY.format(org_id=acme.pk, kind="drill")

    def dies_with_redis(org, state):
        assert redis_client().pttl(key) > 0
        redis.kill()  # the task ends without being able to release its lock
        return {"done": 1}

    spec = OrgTaskSpec("drill", dies_with_redis, time_limit=30, heartbeat=2)
    # The work is recorded; the release fails (logged) and the lock stays behind.
    assert run_org_task(spec, acme.pk) == "succeeded"

    redis.start()
    ttl = redis_client().pttl(key)
    assert 0 < ttl <= spec.lock_ttl * 1000, "the lock came back without its TTL"
    quick = OrgTaskSpec("drill", lambda org, state: {}, time_limit=30, heartbeat=2)
    assert run_org_task(quick, acme.pk) == "locked"

    def lock_gone():
        """the lock to expire"""
        return not redis_client().exists(key)

    wait_for(lock_gone, timeout=spec.lock_ttl + 2, every=0.1)
    assert run_org_task(quick, acme.pk) == "succeeded"
    assert SyncState.objects.get(org=acme, kind="drill").status == SyncStatus.SUCCEEDED
