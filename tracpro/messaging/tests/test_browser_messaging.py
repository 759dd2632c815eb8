"""A supervisor starts a poll, reminds non-respondents and replies to a contact, in a
real browser, at desktop width and on a 375 px phone. The page shows *pending* at
once; the test then does what the action worker does, and the page (which polls)
shows the outcome."""

import pytest
from playwright.sync_api import expect
from redis import Redis

from django.conf import settings

from tracpro.contacts.tests.factories import make_contact
from tracpro.groups.models import Region
from tracpro.msgs.models import Message
from tracpro.msgs.tests.factories import make_inbox_message
from tracpro.orgs.models import Membership
from tracpro.polls.models import PollRun, ResponseStatus
from tracpro.polls.tests.factories import make_poll, make_pollrun, make_response
from tracpro.rapidpro import sending
from tracpro.simulator.testing import running_simulator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [1280, 375]


@pytest.fixture
def sim():
    with running_simulator(seed=13, contacts=40, runs=30) as handle:
        yield handle


@pytest.fixture(autouse=True)
def no_worker_queue():
    """Tasks queued by the pages wait in the broker; the tests send in-process."""
    yield
    Redis.from_url(settings.CELERY_BROKER_URL).delete(settings.ACTIONS_QUEUE)


@pytest.fixture
def world(acme, sam, sim):
    """acme mirrors part of the simulator's edu workspace; sam supervises Kampala.
    Attendance ran once: two Kampala contacts answered, two did not, Gulu too."""
    acme.api_url, acme.api_token = sim.base_url, sim.tokens["edu"]
    acme.save()
    rapidpro = sim.client("edu")
    groups = {group.name: group for group in rapidpro.get_groups().all()}
    kampala = Region.objects.create(org=acme, uuid=groups["Kampala"].uuid, name="Kampala")
    gulu = Region.objects.create(org=acme, uuid=groups["Gulu"].uuid, name="Gulu")
    Membership.objects.get(user=sam, org=acme).regions.add(kampala)
    flow = next(f for f in rapidpro.get_flows().all() if f.name == "Attendance")
    poll = make_poll(acme, "Attendance", flow_uuid=flow.uuid)
    pollrun = make_pollrun(poll)
    contacts = {}
    for region, name in ((kampala, "Kampala"), (gulu, "Gulu")):
        remote = [c for c in rapidpro.get_contacts(group=name).all() if c.status == "active"]
        statuses = [ResponseStatus.COMPLETE, ResponseStatus.COMPLETE, ResponseStatus.EMPTY]
        for contact, status in zip(remote, statuses, strict=False):
            local = make_contact(acme, contact.name, uuid=contact.uuid, region=region)
            make_response(pollrun, local, status=status)
            contacts.setdefault(name, []).append((local, status))
    return {"poll": poll, "pollrun": pollrun, "contacts": contacts, "kampala": kampala}


def open_menu(page, width: int) -> None:
    if width < 992:
        page.get_by_role("button", name="Menu").click()


def assert_fits(page, width: int) -> None:
    if width == 375:
        assert page.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.mark.parametrize("width", WIDTHS)
def test_start_shows_pending_then_started(
    local_page, site_url, log_in, acme, sam, sim, world, width
):
    page = local_page
    page.set_viewport_size({"width": width, "height": 900})
    log_in(sam, acme)
    page.goto(site_url(acme, "/"))

    page.get_by_role("link", name="Start Attendance").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Start Attendance")
    expect(page.locator("#id_region option")).to_have_text(["Kampala"])
    expect(page.locator("#audience-count")).to_contain_text("for 3 contacts")
    assert_fits(page, width)
    page.get_by_role("button", name="Start the poll").click()

    status = page.locator("#start-status .message-status")
    expect(status).to_contain_text("Pending")
    message = Message.objects.get(kind=Message.Kind.START)
    assert sending.send(message.pk) is None  # what the action worker does

    expect(status).to_contain_text("Started", timeout=10_000)
    pollrun = PollRun.objects.get(pk=message.pollrun_id)
    expect(status).to_contain_text(pollrun.start_uuid)
    assert_fits(page, width)
    started = sim.client("edu").get_flow_starts(uuid=pollrun.start_uuid).first()
    kampala = {contact.uuid for contact, _ in world["contacts"]["Kampala"]}
    assert {c.uuid for c in started.contacts} == kampala


@pytest.mark.parametrize("width", WIDTHS)
def test_a_reminder_to_non_respondents_reaches_exactly_them(
    local_page, site_url, log_in, acme, sam, sim, world, width
):
    page = local_page
    page.set_viewport_size({"width": width, "height": 900})
    log_in(sam, acme)
    page.goto(site_url(acme, f"/pollrun/participation/{world['pollrun'].pk}/"))

    page.get_by_role("link", name="Send message…").click()
    page.get_by_label("Non-respondents (no answer) (1 contact)").check()
    page.get_by_label("Message").fill("Please send today's attendance.")
    assert_fits(page, width)
    page.get_by_role("button", name="Send").click()

    expect(page.locator(".message-status")).to_contain_text("Pending")
    message = Message.objects.get(kind=Message.Kind.BROADCAST)
    sending.send(message.pk)
    expect(page.locator(".message-status")).to_contain_text("Sent", timeout=10_000)

    broadcast = sim.client("edu").get_broadcasts(uuid=message.batches.get().remote_uuid).first()
    silent = [c.uuid for c, status in world["contacts"]["Kampala"] if status == "empty"]
    assert [c.uuid for c in broadcast.contacts] == silent


@pytest.mark.parametrize("width", WIDTHS)
def test_a_reply_from_the_conversation_is_pending_then_sent(
    local_page, site_url, log_in, acme, sam, sim, world, width
):
    contact = world["contacts"]["Kampala"][0][0]
    make_inbox_message(acme, contact, text="Our school is closed on Friday.")
    page = local_page
    page.set_viewport_size({"width": width, "height": 900})
    log_in(sam, acme)
    page.goto(site_url(acme, "/"))

    open_menu(page, width)
    page.get_by_role("link", name="Inbox").click()
    page.get_by_role("link", name=contact.name).click()
    expect(page.locator(".conversation")).to_contain_text("Our school is closed on Friday.")
    page.get_by_label("Reply").fill("Thank you, noted.")
    page.get_by_role("button", name="Send reply").click()

    latest = page.locator("#latest")
    expect(latest).to_contain_text("Thank you, noted.")
    expect(latest).to_contain_text("Pending")
    assert_fits(page, width)
    message = Message.objects.get(kind=Message.Kind.REPLY)
    sending.send(message.pk)
    expect(latest).to_contain_text("Sent", timeout=10_000)

    sent = sim.client("edu").get_messages(uuid=message.batches.get().remote_uuid).first()
    assert (sent.contact.uuid, sent.text) == (contact.uuid, "Thank you, noted.")
