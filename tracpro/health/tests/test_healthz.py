import shutil
import socket
import subprocess
import time
from unittest import mock

import pytest

from django.db import OperationalError

from tracpro.health.checks import CHECKS, check_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis(settings, tmp_path):
    """A Redis of the test's own that the test may stop, standing in for REDIS_URL."""
    port = free_port()
    server = subprocess.Popen(
        [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/1"
    yield server
    server.kill()
    server.wait()


def test_it_reports_every_dependency_up(client_for, db):
    response = client_for().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["state"] for name, check in body["checks"].items()} == {
        "db": "up",
        "redis": "up",
        "broker": "up",
    }


def test_it_answers_503_naming_redis_when_redis_stops(client_for, db, own_redis, settings):
    settings.HEALTHZ_CACHE_SECONDS = 0
    assert client_for().get("/healthz").status_code == 200
    own_redis.kill()
    own_redis.wait()
    response = client_for().get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["db"]["state"] == "up"
    assert checks["redis"]["state"] == "down"
    assert checks["broker"]["state"] == "down"
    assert response.json()["status"] == "unavailable"


def test_it_answers_on_org_hosts_without_login(client_for, acme):
    response = client_for(None, acme).get("/healthz")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_database_outage_shows_a_clear_page_not_a_traceback(client_for, acme, ann):
    client = client_for(ann, acme)
    with mock.patch("tracpro.orgs.middleware.Org.objects.filter", side_effect=OperationalError):
        response = client.get("/")
    assert response.status_code == 503
    assert "temporarily unavailable" in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_an_outage_inside_a_view_shows_the_same_page(client_for, acme, ann):
    client = client_for(ann, acme)
    with mock.patch("tracpro.groups.context_processors.get_scope", side_effect=OperationalError):
        response = client.get("/")
    assert response.status_code == 503
    assert "temporarily unavailable" in response.content.decode()


def counting_db_check(calls: list) -> dict:
    """CHECKS with a database check that counts its runs."""

    def check() -> None:
        calls.append(1)
        check_db()

    return {**CHECKS, "db": check}


def test_a_flood_of_requests_checks_the_dependencies_once(client_for, db):
    calls: list = []
    with mock.patch.dict(CHECKS, counting_db_check(calls)):
        for _ in range(20):
            assert client_for().get("/healthz").status_code == 200
    assert len(calls) == 1


def test_the_checks_run_again_once_their_result_is_old(client_for, db, settings):
    settings.HEALTHZ_CACHE_SECONDS = 0
    calls: list = []
    with mock.patch.dict(CHECKS, counting_db_check(calls)):
        for _ in range(3):
            client_for().get("/healthz")
    assert len(calls) == 3
