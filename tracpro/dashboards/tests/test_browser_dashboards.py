"""The dashboards in a real browser (Debian's chromium via Playwright): an admin
and a supervisor go home -> poll -> poll date -> responses -> export, charts and
maps are drawn, Persian pages mirror, and nothing is fetched from outside."""

import csv
import io
from unittest import mock

import pytest
from playwright.sync_api import expect

from tracpro.polls.models import Poll
from tracpro.polls.tests.factories import make_poll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Draws nothing but still counts: how many pixels of a canvas are not transparent.
PAINTED_PIXELS = """canvas => {
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) painted++; }
    return painted;
}"""


def show_may(page) -> None:
    """Choose custom dates around the test world's poll dates in the filter bar."""
    page.get_by_label("Dates").select_option("custom")
    page.get_by_label("From").fill("2024-04-01")
    page.get_by_label("To").fill("2024-05-31")
    page.get_by_role("button", name="Apply").click()


def assert_chart_drawn(page) -> None:
    canvas = page.locator("canvas.js-chart").first
    expect(canvas).to_be_visible()
    # Charts are built after the page loads; wait for the instance and its first paint.
    handle = canvas.element_handle()
    page.wait_for_function("c => Chart.getChart(c) !== undefined", arg=handle)
    page.wait_for_function(f"c => ({PAINTED_PIXELS})(c) > 500", arg=handle)


def walk_to_export(page, site_url, world, expected_names: set[str]) -> None:
    page.goto(site_url(world.org, "/"))
    page.get_by_role("link", name="Enrolment").first.click()
    expect(page.locator("h1")).to_contain_text("Enrolment")
    show_may(page)
    assert "range=custom" in page.url and "start=2024-04-01" in page.url
    assert_chart_drawn(page)
    expect(page.locator(".js-map path.leaflet-interactive").first).to_be_visible()
    expect(page.locator(".js-wordcloud canvas").first).to_be_visible()
    page.wait_for_function("() => !document.querySelector('.js-wordcloud-status:not([hidden])')")

    page.get_by_role("link", name="Dates", exact=True).click()
    page.get_by_role("link", name="May 1, 2024").click()
    expect(page.locator("h1")).to_contain_text("May 1, 2024")
    assert_chart_drawn(page)

    page.get_by_role("link", name="Responses", exact=True).click()
    rows = page.locator("table.responses-table tbody tr")
    expect(rows).to_have_count(len(expected_names))
    with page.expect_download() as download:
        page.get_by_role("link", name="Export responses (CSV)").click()
    body = download.value.path().read_text(encoding="utf-8")
    assert body.startswith("\ufeff")
    names = {row[2].removeprefix("'") for row in list(csv.reader(io.StringIO(body[1:])))[1:]}
    assert names == expected_names
    assert download.value.suggested_filename == "enrolment-2024-05-01.csv"


def test_it_takes_an_admin_from_home_to_an_export(local_page, site_url, log_in, world, ann):
    log_in(ann, world.org)
    walk_to_export(local_page, site_url, world, {"Alice", "Bob", "=Carol", "Dan"})


def test_it_takes_a_supervisor_from_home_to_an_export(
    local_page, site_url, log_in, world, kampala_sam
):
    log_in(kampala_sam, world.org)
    walk_to_export(local_page, site_url, world, {"Alice", "Bob"})


def test_it_mirrors_charts_and_maps_in_persian(local_page, site_url, log_in, world, ann):
    ann.language = "fa"
    ann.save()
    log_in(ann, world.org)
    page = local_page
    page.goto(site_url(world.org, f"/poll/read/{world.poll.pk}/?range=custom&start=2024-04-01"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert_chart_drawn(page)
    options = page.locator("canvas.js-chart").first.evaluate(
        "c => { const o = Chart.getChart(c).options;"
        " return [o.plugins.legend.rtl, o.plugins.tooltip.textDirection, o.scales.x.reverse]; }"
    )
    assert options == [True, "rtl", True]
    expect(page.locator(".js-map path.leaflet-interactive").first).to_be_visible()


def test_it_filters_the_page_to_the_region_clicked_on_the_map(
    local_page, site_url, log_in, world, ann
):
    log_in(ann, world.org)
    page = local_page
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(site_url(world.org, f"/poll/read/{world.poll.pk}/?range=custom&start=2024-04-01"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.locator(".js-map").first.scroll_into_view_if_needed()
    page.locator(".js-map path.leaflet-interactive").first.click()
    page.wait_for_url("**region=*")
    region = page.url.split("region=")[1].split("&")[0]
    assert int(region) in {world.regions["Central"].pk, world.regions["Gulu"].pk}
    expect(page.locator(".filter-bar select[name=region]")).to_have_value(region)


def test_it_lets_an_admin_select_a_poll(local_page, site_url, log_in, acme, ann):
    attendance = make_poll(acme, "Attendance", is_active=False, result_count=2)
    log_in(ann, acme)
    page = local_page
    with mock.patch("tracpro.orgs.tasks.trigger") as trigger:
        page.goto(site_url(acme, "/"))
        page.get_by_role("button", name="Administration").click()
        page.get_by_role("link", name="Polls", exact=True).click()
        page.get_by_role("link", name="Select polls").click()
        page.get_by_label("Find a flow").fill("atten")
        page.get_by_label("Attendance").check()
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".alert-success")).to_contain_text("1 poll selected")
        expect(page.locator("#content").get_by_role("link", name="Attendance")).to_be_visible()
    attendance.refresh_from_db()
    assert attendance.is_active
    trigger.assert_called_once()
    assert Poll.objects.filter(org=acme, is_active=True).count() == 1
