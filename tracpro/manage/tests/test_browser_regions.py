"""An admin sets up regions and reporter groups in a real browser."""

from unittest import mock

import pytest
from playwright.sync_api import expect

from tracpro.groups.models import Region, ReporterGroup
from tracpro.groups.tests.factories import make_boundary, make_remote_group

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rapidpro_groups(acme):
    for name, count in (("Central", 0), ("Kampala", 4), ("Gulu", 3), ("Head Teachers", 5)):
        make_remote_group(acme, name, member_count=count)
    make_boundary(acme, "Kampala District", level=2)


@pytest.fixture(autouse=True)
def no_sync():
    with mock.patch("tracpro.orgs.tasks.trigger") as trigger:
        yield trigger


def test_an_admin_chooses_regions_and_a_reporter_group_and_arranges_the_hierarchy(
    local_page, site_url, log_in, acme, ann, rapidpro_groups, no_sync
):
    page = local_page
    log_in(ann, acme)
    page.goto(site_url(acme, "/"))

    page.get_by_role("button", name="Administration").click()
    page.get_by_role("link", name="Regions").click()
    page.get_by_role("main").get_by_role("link", name="Choose regions").first.click()
    for name in ("Central", "Kampala", "Gulu"):
        page.get_by_label(name).check()
    expect(page.get_by_label("Head Teachers")).to_be_enabled()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert").first).to_contain_text("fetching the contacts")
    rows = page.locator("tr.region-row")
    expect(rows).to_have_count(3)
    assert no_sync.call_count == 1

    # Drag Kampala into Central.
    rows.filter(has_text="Kampala").drag_to(rows.filter(has_text="Central"))
    expect(page.get_by_role("alert").first).to_contain_text("Kampala is now inside Central.")
    expect(page.locator("tr.region-row[data-depth='1']")).to_contain_text("Kampala")

    # Dragging Central into its own child is refused, with the reason.
    rows = page.locator("tr.region-row")
    rows.filter(has_text="Central").drag_to(rows.filter(has_text="Kampala"))
    expect(page.locator("#region-move-error")).to_have_text(
        "Kampala is inside Central, so it cannot also be its parent."
    )

    # The edit page moves Gulu under Central too and links Kampala to its boundary.
    page.get_by_role("link", name="Edit Gulu").click()
    page.get_by_label("Parent region").select_option(label="Central")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Edit Kampala").click()
    page.get_by_label("Boundary").select_option(label="Kampala District (District)")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("tr.region-row").filter(has_text="Kampala")).to_contain_text(
        "Kampala District"
    )

    regions = {r.name: r for r in Region.objects.filter(org=acme).select_related("parent")}
    assert regions["Kampala"].parent == regions["Central"]
    assert regions["Gulu"].parent == regions["Central"]
    assert regions["Central"].parent is None
    assert regions["Kampala"].boundary.name == "Kampala District"

    # Reporter groups: the regions are not offered again.
    page.get_by_role("button", name="Administration").click()
    page.get_by_role("link", name="Reporter groups").click()
    page.get_by_role("main").get_by_role("link", name="Choose reporter groups").first.click()
    expect(page.get_by_label("Kampala")).to_be_disabled()
    page.get_by_label("Head Teachers").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("table")).to_contain_text("Head Teachers")
    assert [g.name for g in ReporterGroup.objects.filter(org=acme, is_active=True)] == [
        "Head Teachers"
    ]


def test_the_region_page_works_on_a_phone_in_persian(
    local_page, site_url, log_in, acme, ann, rapidpro_groups
):
    Region.objects.create(org=acme, uuid="u-1", name="Kampala")
    ann.language = "fa"
    ann.save()
    page = local_page
    page.set_viewport_size({"width": 375, "height": 740})
    log_in(ann, acme)

    page.goto(site_url(acme, "/region/"))

    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("tr.region-row")).to_contain_text("Kampala")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
