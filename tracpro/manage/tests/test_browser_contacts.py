"""A supervisor edits a contact in a real browser and sees RapidPro take the change."""

import pytest
from playwright.sync_api import expect

from tracpro.contacts.models import PushStatus
from tracpro.contacts.tests.factories import make_contact
from tracpro.groups.models import Region
from tracpro.orgs.models import Membership
from tracpro.simulator.testing import running_simulator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sim():
    with running_simulator(seed=11, contacts=30, runs=10) as handle:
        yield handle


@pytest.fixture
def kampala_contact(acme, sam, sim):
    """acme mirrors the simulator's edu workspace; sam supervises Kampala."""
    acme.api_url, acme.api_token = sim.base_url, sim.tokens["edu"]
    acme.save()
    rapidpro = sim.client("edu")
    groups = {group.name: group for group in rapidpro.get_groups().all()}
    kampala = Region.objects.create(org=acme, uuid=groups["Kampala"].uuid, name="Kampala")
    Region.objects.create(org=acme, uuid=groups["Gulu"].uuid, name="Gulu")
    Membership.objects.get(user=sam, org=acme).regions.add(kampala)
    remote = rapidpro.get_contacts(group="Kampala").first()
    return make_contact(
        acme,
        remote.name,
        uuid=remote.uuid,
        urn=remote.urns[0],
        region=kampala,
        language=remote.language or "",
    )


def test_a_supervisor_edits_a_contact_and_sees_it_synced(
    local_page, site_url, log_in, acme, sam, sim, kampala_contact, celery_eager
):
    page = local_page
    log_in(sam, acme)
    page.goto(site_url(acme, "/"))

    page.get_by_role("link", name="Contacts").click()
    page.get_by_label("Name or phone number").fill(kampala_contact.name.split()[0])
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=kampala_contact.name).click()
    page.get_by_role("link", name="Edit").click()

    # Gulu is not sam's: it is not offered.
    expect(page.locator("#id_region option")).to_have_text(["—", "Kampala"])
    page.get_by_role("textbox", name="Name", exact=True).fill("Grace Nakato")
    page.get_by_label("Phone number or address").fill("+256 772 555 010")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Grace Nakato")
    expect(page.locator("#push-status")).to_contain_text("Synced")
    kampala_contact.refresh_from_db()
    assert kampala_contact.push_status == PushStatus.SYNCED
    remote = sim.client("edu").get_contacts(uuid=kampala_contact.uuid).first()
    assert (remote.name, remote.urns[0]) == ("Grace Nakato", "tel:+256772555010")


def test_a_refused_change_is_shown_on_the_contact(
    local_page, site_url, log_in, acme, sam, sim, kampala_contact, celery_eager
):
    taken = next(
        contact.urns[0]
        for contact in sim.client("edu").get_contacts().all()
        if contact.uuid != kampala_contact.uuid and contact.urns[0].startswith("tel:")
    )
    page = local_page
    log_in(sam, acme)
    page.goto(site_url(acme, f"/contact/update/{kampala_contact.pk}/"))

    page.get_by_label("Phone number or address").fill(taken.removeprefix("tel:"))
    page.get_by_role("button", name="Save").click()

    expect(page.locator("#push-status")).to_contain_text(
        f"RapidPro already has another contact with {taken}."
    )
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
