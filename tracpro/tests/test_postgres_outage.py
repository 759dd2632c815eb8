"""Postgres restarted under TracPro, on a cluster of the drill's own
(tracpro.tests.services.PostgresServer, loaded with the test database's schema):

- in the middle of a runs sync from the simulator: the sync fails, and the next
  one resumes at its cursor and stores every run exactly once;
- during a page request: the request gets the "temporarily unavailable" page
  (503), and once Postgres is back the next request is served as usual.

A cluster of its own keeps the suite's database out of harm's way on a shared
2-core machine; it starts in a couple of seconds (fsync off, trust auth).
"""

import threading

import psycopg
import pytest

from django.core.signals import request_started
from django.db import close_old_connections, connection

from tracpro.orgs.models import Org
from tracpro.polls.models import Response
from tracpro.rapidpro.backups import backup, restore
from tracpro.rapidpro.tests.sync_helpers import SIM_NOW, set_up_edu, sync
from tracpro.rapidpro.tests.test_sync_faults import expected_runs, requests_made
from tracpro.simulator.testing import running_simulator
from tracpro.tests.services import postgres_server, using_database
from tracpro.tests.workers import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def simulator():
    with running_simulator(seed=5, contacts=60, runs=1200, now=SIM_NOW) as handle:
        yield handle


@pytest.fixture
def drill_postgres(tmp_path, settings):
    """A throwaway cluster holding the schema, which Django uses for the test."""
    settings.RAPIDPRO_BACKOFF_BASE = 0.05
    settings.RAPIDPRO_BACKOFF_CAP = 0.2
    schema = tmp_path / "schema.dump"
    backup(schema)
    with postgres_server() as server:
        restore(schema, server.database())
        with using_database(server.database()):
            yield server


def count_responses(server, org: Org) -> int:
    """The org's responses stored, read over a connection of its own."""
    db = server.database()
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"]
    ) as conn:
        query = "SELECT count(*) FROM polls_response WHERE org_id = %s"
        row = conn.execute(query, [org.pk]).fetchone()
        assert row is not None  # count(*) always returns a row
        return row[0]


def test_a_runs_sync_interrupted_by_a_restart_resumes_at_its_cursor(drill_postgres, simulator):
    # Another org mirrors the same workspace undisturbed, to count a clean sync's requests.
    clean = Org.objects.create(name="Clean", subdomain="clean", timezone="Africa/Kampala")
    set_up_edu(clean, simulator)
    simulator.reset_stats()
    assert sync(clean, "runs") == {"runs": "succeeded"}
    clean_requests = requests_made(simulator, "runs")
    org = Org.objects.create(name="Edu", subdomain="edu", timezone="Africa/Kampala")
    set_up_edu(org, simulator)
    simulator.reset_stats()
    # Postgres restarts once a third of the runs are stored, in the middle of the sync.
    third = expected_runs(simulator, org) // 3

    def restart_once_batches_are_stored():
        wait_for(lambda: count_responses(drill_postgres, org) >= third, timeout=60, every=0.02)
        drill_postgres.restart()

    restarter = threading.Thread(target=restart_once_batches_are_stored)
    restarter.start()
    with pytest.raises(Exception, match=r"terminat|closed|connection"):
        sync(org, "runs")
    restarter.join()

    connection.close()  # what Celery does after every task
    stored = Response.objects.filter(org=org).count()
    assert 0 < stored < expected_runs(simulator, org)
    first_requests = requests_made(simulator, "runs")

    assert sync(org, "runs") == {"runs": "succeeded"}

    responses = Response.objects.filter(org=org)
    assert responses.count() == expected_runs(simulator, org)
    assert responses.values("run_uuid").distinct().count() == responses.count()
    # Resumed: the second sync fetched what the first had not stored, not everything
    # again; at most three requests more than a clean sync (the newest run and what
    # changed since, asked again, and the page in hand when Postgres went).
    resumed_requests = requests_made(simulator, "runs") - first_requests
    assert first_requests + resumed_requests <= clean_requests + 3
    assert resumed_requests < clean_requests - 1


def test_a_page_request_during_an_outage_gets_the_503_page(drill_postgres, client_for):
    from tracpro.conftest import make_user
    from tracpro.orgs.models import Role

    org = Org.objects.create(name="Acme", subdomain="acme", timezone="Africa/Kampala")
    admin = make_user("ann@acme.example.com", org, Role.ADMIN)
    client = client_for(admin, org, raise_request_exception=False)
    assert client.get("/").status_code == 200

    def postgres_goes_away(**kwargs):
        drill_postgres.stop()

    request_started.connect(postgres_goes_away)  # after Django's own receivers
    try:
        response = client.get("/")
    finally:
        request_started.disconnect(postgres_goes_away)

    assert response.status_code == 503
    assert "temporarily unavailable" in response.content.decode()

    drill_postgres.start()
    # What Django does at the start of every request (its test client skips it):
    # a connection that failed is dropped, and the next query opens a new one.
    close_old_connections()
    assert client.get("/").status_code == 200


def test_a_restart_between_requests_goes_unnoticed(drill_postgres, client_for):
    from tracpro.conftest import make_user
    from tracpro.orgs.models import Role

    org = Org.objects.create(name="Acme", subdomain="acme", timezone="Africa/Kampala")
    client = client_for(make_user("ann@acme.example.com", org, Role.ADMIN), org)
    assert client.get("/").status_code == 200

    drill_postgres.restart()
    close_old_connections()  # at the start of every request, outside the test client

    # The health check (CONN_HEALTH_CHECKS) finds the connection dead and opens another.
    assert client.get("/").status_code == 200
