"""The Sync status page (org admins) and sync health (superusers, root host)."""

import json
from datetime import timedelta

import pytest

from django.conf import settings
from django.utils import timezone

from tracpro.orgs.models import SyncKind, SyncState, SyncStatus
from tracpro.rapidpro.tasks import TIME_LIMITS


@pytest.fixture
def broker():
    """The Celery queue on the broker, emptied before and after."""
    from redis import Redis

    client = Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("celery")
    yield client
    client.delete("celery")


def state(org, kind, **fields) -> SyncState:
    return SyncState.objects.create(org=org, kind=kind, **fields)


def test_admins_see_every_kind_with_its_last_success_counts_and_errors(acme, ann, client_for):
    state(
        acme,
        SyncKind.RUNS,
        status=SyncStatus.SUCCEEDED,
        last_success_on=timezone.now(),
        counts={"created": 1234, "updated": 5, "skipped": 6, "failed": 2},
    )
    state(
        acme,
        SyncKind.CONTACTS,
        status=SyncStatus.FAILED,
        failures=3,
        last_error="RapidPro error: 503 Server Error; gave up after 5 attempts.",
    )

    page = client_for(ann, acme).get("/sync/")

    assert page.status_code == 200
    html = page.content.decode()
    for kind in SyncKind:
        assert str(kind.label) in html
    assert "1,234" in html
    assert "Failed 3 times in a row" in html and "503 Server Error" in html
    assert "Never run" in html  # flows, fields... have no state yet
    assert 'hx-trigger="every 15s"' in html


def test_it_shows_a_live_progress_bar_while_a_sync_runs(acme, ann, client_for):
    state(
        acme,
        SyncKind.RUNS,
        status=SyncStatus.RUNNING,
        started_on=timezone.now(),
        progress_done=250,
        progress_total=1000,
        progress_label="Runs of Attendance",
    )

    partial = client_for(ann, acme).get("/sync/", HTTP_HX_REQUEST="true")

    html = partial.content.decode()
    assert "<html" not in html  # htmx gets only the table
    assert 'aria-valuenow="25"' in html
    assert "Runs of Attendance" in html and "250 of 1,000" in html
    assert 'hx-trigger="every 3s"' in html


def test_a_sync_running_past_its_time_limit_shows_as_stopped(acme, ann, client_for):
    long_ago = (
        timezone.now() - timedelta(seconds=TIME_LIMITS[SyncKind.RUNS]) - timedelta(minutes=10)
    )
    state(acme, SyncKind.RUNS, status=SyncStatus.RUNNING, started_on=long_ago)

    html = client_for(ann, acme).get("/sync/").content.decode()

    assert "Stopped unexpectedly" in html


def test_supervisors_and_other_orgs_admins_get_404(acme, sam, bea, client_for):
    assert client_for(sam, acme).get("/sync/").status_code == 404
    assert client_for(bea, acme).get("/sync/").status_code == 404
    assert client_for(sam, acme).post("/sync/now/", {"kind": "runs"}).status_code == 404


def test_sync_now_only_queues_the_sync(acme, ann, client_for, broker):
    response = client_for(ann, acme).post("/sync/now/", {"kind": "runs"}, follow=True)

    assert response.redirect_chain[-1][0] == "/sync/"
    assert "queued" in response.content.decode()
    tasks = [json.loads(raw)["headers"] for raw in broker.lrange("celery", 0, -1)]
    assert [(t["task"], t["argsrepr"]) for t in tasks] == [
        ("tracpro.org_task.runs", f"({acme.pk},)")
    ]
    assert not SyncState.objects.filter(org=acme).exists()  # nothing ran in the request


def test_sync_everything_queues_every_kind(acme, ann, client_for, broker):
    client_for(ann, acme).post("/sync/now/", {"kind": "all"})

    tasks = {json.loads(raw)["headers"]["task"] for raw in broker.lrange("celery", 0, -1)}
    assert tasks == {f"tracpro.org_task.{kind}" for kind in SyncKind}


def test_sync_now_needs_a_post_with_a_token_and_a_known_kind(acme, ann, client_for, broker):
    admin = client_for(ann, acme)
    assert admin.get("/sync/now/").status_code == 405
    assert admin.post("/sync/now/", {"kind": "everything"}).status_code == 400
    strict = client_for(ann, acme, enforce_csrf_checks=True)
    assert strict.post("/sync/now/", {"kind": "runs"}).status_code == 403
    assert broker.llen("celery") == 0


def test_an_org_without_a_token_cannot_be_synced_now(acme, ann, client_for, broker):
    acme.api_token = ""
    acme.save()

    response = client_for(ann, acme).post("/sync/now/", {"kind": "runs"}, follow=True)

    assert "no RapidPro API token" in response.content.decode()
    assert broker.llen("celery") == 0


def test_superusers_see_every_orgs_sync_health_failing_first(acme, beta, root, client_for):
    state(
        beta,
        SyncKind.RUNS,
        status=SyncStatus.FAILED,
        failures=1,
        last_error="RapidPro refused the API token",
    )
    state(acme, SyncKind.RUNS, status=SyncStatus.SUCCEEDED, last_success_on=timezone.now())

    html = client_for(root).get("/manage/sync/").content.decode()

    assert html.index("Beta") < html.index("Acme")
    assert "RapidPro refused the API token" in html
    assert "//acme." in html and "/sync/" in html


def test_the_sync_health_page_is_for_superusers_only(acme, ann, client_for):
    assert client_for(ann).get("/manage/sync/").status_code == 404


def test_the_admin_menu_links_to_the_sync_status(acme, ann, client_for):
    html = client_for(ann, acme).get("/").content.decode()
    assert 'href="/sync/"' in html
