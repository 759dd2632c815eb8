"""The Sync status page in a real browser: on a phone, in Persian, nothing fetched
from outside, and the live table refreshing itself while a sync runs."""

import pytest
from playwright.sync_api import expect

from django.utils import timezone

from tracpro.orgs.models import SyncKind, SyncState, SyncStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_watches_a_running_sync_finish(local_page, site_url, log_in, acme, ann):
    state = SyncState.objects.create(
        org=acme,
        kind=SyncKind.RUNS,
        status=SyncStatus.RUNNING,
        started_on=timezone.now(),
        progress_done=250,
        progress_total=1000,
        progress_label="Runs of Attendance",
    )
    page = local_page
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(ann, acme)
    page.goto(site_url(acme, "/sync/"))

    runs = page.locator("section", has_text="Runs of the selected polls")
    expect(runs.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "25")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    state.status = SyncStatus.SUCCEEDED
    state.last_success_on = timezone.now()
    state.counts = {"created": 1000, "updated": 0, "skipped": 0, "failed": 0}
    state.save()

    # htmx polls every few seconds while a sync runs.
    expect(runs.get_by_text("Up to date")).to_be_visible(timeout=10_000)
    expect(runs.get_by_text("1,000")).to_be_visible()


def test_the_page_reads_right_to_left_in_persian(local_page, site_url, log_in, acme, ann):
    ann.language = "fa"
    ann.save()
    log_in(ann, acme)
    local_page.goto(site_url(acme, "/sync/"))

    expect(local_page.locator("html")).to_have_attribute("dir", "rtl")
    assert (
        local_page.locator("#sync-status").evaluate("e => getComputedStyle(e).direction") == "rtl"
    )
