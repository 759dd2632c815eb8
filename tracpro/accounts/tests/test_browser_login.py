import pytest
from playwright.sync_api import expect

from tracpro.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_logs_in_on_the_org_host_and_switches_to_persian(local_page, site_url, acme, ann):
    page = local_page
    page.goto(site_url(acme, "/"))
    expect(page).to_have_url(site_url(acme, "/users/login/?next=/"))
    expect(page.locator("html")).to_have_attribute("dir", "ltr")

    page.get_by_label("Email address").fill(ann.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(site_url(acme, "/"))
    expect(page.locator("h1")).to_have_text("Acme")

    page.get_by_role("button", name="Language").click()
    page.get_by_role("button", name="فارسی").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "fa")
    stylesheets = page.locator("link[rel=stylesheet]").evaluate_all("ls => ls.map(l => l.href)")
    assert any("bootstrap.rtl.min.css" in href for href in stylesheets)
    ann.refresh_from_db()
    assert ann.language == "fa"
