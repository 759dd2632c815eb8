"""Start…, Send message…, Restart…, the message log and the inbox, through the test
client: who may do what, what the forms refuse, and what each page shows."""

import csv
import io

import pytest
from openpyxl import load_workbook

from django.test import Client

from tracpro.contacts.tests.factories import make_contact
from tracpro.groups.scope import RegionScope
from tracpro.groups.tests.factories import make_region
from tracpro.msgs.models import InboxMessage, Message
from tracpro.msgs.tests.factories import make_inbox_message, make_message
from tracpro.orgs.models import Membership
from tracpro.polls.models import PollRun, ResponseStatus
from tracpro.polls.tests.factories import make_poll, make_pollrun, make_response
from tracpro.rapidpro import actions


@pytest.fixture
def world(acme, sam):
    kampala = make_region(acme, "Kampala")
    gulu = make_region(acme, "Gulu")
    Membership.objects.get(user=sam, org=acme).regions.add(kampala)
    poll = make_poll(acme, "Attendance")
    pollrun = make_pollrun(poll)
    gulu_pollrun = make_pollrun(poll, region=gulu)
    contacts = {
        "kampala_done": make_contact(acme, "Kampala Done", region=kampala),
        "kampala_silent": make_contact(acme, "Kampala Silent", region=kampala),
        "gulu_silent": make_contact(acme, "Gulu Silent", region=gulu),
    }
    make_response(pollrun, contacts["kampala_done"], status=ResponseStatus.COMPLETE)
    make_response(pollrun, contacts["kampala_silent"], status=ResponseStatus.EMPTY)
    make_response(pollrun, contacts["gulu_silent"], status=ResponseStatus.EMPTY)
    return {
        "kampala": kampala,
        "gulu": gulu,
        "poll": poll,
        "pollrun": pollrun,
        "gulu_pollrun": gulu_pollrun,
        **contacts,
    }


def test_the_start_page_counts_whom_the_start_reaches_and_starts_it(
    client_for, acme, sam, world, django_capture_on_commit_callbacks
):
    client = client_for(sam, acme)
    page = client.get(f"/pollrun/start/{world['poll'].pk}/")
    assert page.status_code == 200
    assert [value for value, _ in page.context["form"].fields["region"].choices] == [
        str(world["kampala"].pk)
    ], "a supervisor starts only for their regions"
    assert "This will start the poll for 2 contacts." in page.content.decode()

    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            f"/pollrun/start/{world['poll'].pk}/",
            {"region": world["kampala"].pk, "include_subregions": "on"},
        )

    pollrun = PollRun.objects.get(created_by=sam)
    assert response.status_code == 302
    assert response["Location"] == f"/pollrun/read/{pollrun.pk}/"
    assert (pollrun.region, pollrun.kind) == (world["kampala"], PollRun.Kind.START)
    assert len(queued) == 1
    shown = client.get(response["Location"]).content.decode()
    assert "Poll started from TracPro by" in shown and "Pending" in shown


def test_a_supervisor_cannot_start_for_another_region_or_the_whole_org(
    client_for, acme, sam, world
):
    client = client_for(sam, acme)
    for region in (world["gulu"].pk, "all"):
        response = client.post(f"/pollrun/start/{world['poll'].pk}/", {"region": region})
        assert response.status_code == 200
        assert "region" in response.context["form"].errors
    assert not Message.objects.exists()


def test_the_count_refreshes_for_htmx(client_for, acme, ann, world):
    response = client_for(ann, acme).get(
        f"/pollrun/start/{world['poll'].pk}/",
        {"region": world["gulu"].pk},
        headers={"HX-Request": "true"},
    )
    assert response.content.decode().strip().startswith('<p id="audience-count"')
    assert "for 1 contact." in response.content.decode()


def test_a_spoofed_poll_date_cannot_be_messaged_or_restarted(client_for, acme, ann, world):
    acme.show_spoof_data = True
    acme.save()
    spoofed = make_pollrun(world["poll"], kind=PollRun.Kind.SPOOF)
    make_response(spoofed, world["kampala_silent"], status=ResponseStatus.EMPTY)
    client = client_for(ann, acme)
    for action in ("send", "restart"):
        assert client.get(f"/pollrun/{action}/{spoofed.pk}/").status_code == 404
    response = client.post(
        f"/pollrun/send/{spoofed.pk}/", {"audience": "non_respondents", "text": "Hello"}
    )
    assert response.status_code == 404
    assert not Message.objects.filter(pollrun=spoofed).exists()
    scope = RegionScope.build(acme, is_admin=True)
    with pytest.raises(actions.ActionRefused):
        actions.send_to_poll_date(scope, ann, spoofed, "non_respondents", "Hello")


def test_the_send_page_counts_each_audience_in_the_senders_regions(client_for, acme, sam, world):
    page = client_for(sam, acme).get(f"/pollrun/send/{world['pollrun'].pk}/")
    labels = dict(page.context["form"].fields["audience"].choices)
    assert labels["non_respondents"] == "Non-respondents (no answer) (1 contact)"
    assert labels["all"] == "Everyone reached (2 contacts)"


def test_sending_to_non_respondents_records_the_message_and_shows_it(client_for, acme, sam, world):
    client = client_for(sam, acme)
    response = client.post(
        f"/pollrun/send/{world['pollrun'].pk}/",
        {"audience": "non_respondents", "text": "Please answer today"},
    )
    message = Message.objects.get()
    assert response["Location"] == f"/message/read/{message.pk}/"
    assert list(message.recipients.all()) == [world["kampala_silent"]]
    detail = client.get(response["Location"]).content.decode()
    assert "Please answer today" in detail and "Pending" in detail
    assert "Gulu Silent" not in detail


@pytest.mark.parametrize(
    ("text", "error"),
    [("  ", "Write the message first."), ("x" * 4097, "at most 4096 characters")],
)
def test_the_send_form_refuses_empty_or_too_long_text(client_for, acme, ann, world, text, error):
    response = client_for(ann, acme).post(
        f"/pollrun/send/{world['pollrun'].pk}/", {"audience": "all", "text": text}
    )
    assert response.status_code == 200
    assert error in " ".join(response.context["form"].errors["text"])
    assert not Message.objects.exists()


def test_the_send_form_refuses_an_empty_audience(client_for, acme, ann, world):
    response = client_for(ann, acme).post(
        f"/pollrun/send/{world['pollrun'].pk}/", {"audience": "incomplete", "text": "Hi"}
    )
    assert response.context["form"].errors["audience"] == ["Nobody in view is in this audience."]


def test_a_poll_date_of_another_region_is_out_of_a_supervisors_reach(client_for, acme, sam, world):
    client = client_for(sam, acme)
    for url in (
        f"/pollrun/send/{world['gulu_pollrun'].pk}/",
        f"/pollrun/restart/{world['gulu_pollrun'].pk}/",
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, {"audience": "all", "text": "Hi"}).status_code == 404
    assert not Message.objects.exists()


def test_a_double_submission_sends_once(client_for, acme, ann, world):
    client = client_for(ann, acme)
    form = client.get(f"/pollrun/restart/{world['pollrun'].pk}/").context["form"]
    key = form.fields["key"].initial
    for _ in range(2):
        response = client.post(f"/pollrun/restart/{world['pollrun'].pk}/", {"key": key})
        assert response.status_code == 302
    assert Message.objects.count() == 1
    assert Message.objects.get().recipient_count == 2


def test_every_action_needs_the_csrf_token(acme, ann, world):
    client = Client(HTTP_HOST="acme.localhost", enforce_csrf_checks=True)
    client.force_login(ann)
    contact = world["gulu_silent"]
    inbox = make_inbox_message(acme, contact)
    for url, data in [
        (f"/pollrun/start/{world['poll'].pk}/", {"region": "all"}),
        (f"/pollrun/send/{world['pollrun'].pk}/", {"audience": "all", "text": "Hi"}),
        (f"/pollrun/restart/{world['pollrun'].pk}/", {}),
        (f"/inboxmessage/conversation/{contact.pk}/", {"text": "Hi"}),
        (f"/inboxmessage/archive/{inbox.pk}/", {}),
    ]:
        assert client.post(url, data).status_code == 403, url
    assert not Message.objects.exists()
    inbox.refresh_from_db()
    assert not inbox.is_archived


# The message log --------------------------------------------------------------------------------


def test_the_log_shows_a_supervisor_only_what_concerns_their_regions(
    client_for, acme, ann, sam, world
):
    mine = make_message(acme, [world["kampala_silent"]], text="Kampala reminder", created_by=sam)
    make_message(acme, [world["gulu_silent"]], text="Gulu reminder", created_by=ann)
    both = make_message(
        acme, [world["gulu_silent"], world["kampala_done"]], text="Everyone", created_by=ann
    )

    log = client_for(sam, acme).get("/message/")
    assert list(log.context["log"]) == [both, mine]
    assert client_for(ann, acme).get("/message/").context["paginator"].count == 3
    gulu = Message.objects.get(text="Gulu reminder")
    assert client_for(sam, acme).get(f"/message/read/{gulu.pk}/").status_code == 404


def test_the_log_filters_by_poll_date_sender_and_status(client_for, acme, ann, sam, world):
    first = make_message(acme, [world["kampala_silent"]], pollrun=world["pollrun"], created_by=ann)
    make_message(acme, [world["kampala_silent"]], created_by=sam, status=Message.Status.FAILED)
    client = client_for(ann, acme)
    assert list(client.get(f"/message/?pollrun={world['pollrun'].pk}").context["log"]) == [first]
    assert list(client.get(f"/message/?sender={ann.pk}").context["log"]) == [first]
    failed = client.get("/message/?status=failed").context["log"]
    assert [message.created_by for message in failed] == [sam]


def test_the_log_exports_formula_safe_csv(client_for, acme, ann, world):
    make_message(acme, [world["kampala_silent"]], text='=HYPERLINK("x")', created_by=ann)
    response = client_for(ann, acme).get("/message/export/")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["Sent on", "Sent by", "Kind", "Text"]
    assert rows[1][3] == '\'=HYPERLINK("x")'
    assert rows[1][1] == ann.email


def test_the_log_exports_excel_with_dates_as_dates(client_for, acme, ann, world):
    message = make_message(acme, [world["kampala_silent"]], text="=SUM(A1)", created_by=ann)
    response = client_for(ann, acme).get("/message/export/?_format=xlsx")
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header, row = [[cell.value for cell in line] for line in sheet.iter_rows(max_row=2)]
    assert header[:4] == ["Sent on", "Sent by", "Kind", "Text"]
    local = message.created_on.astimezone(acme.tz).replace(tzinfo=None, second=0, microsecond=0)
    assert abs((row[0] - local).total_seconds()) < 60
    assert row[3] == "'=SUM(A1)"
    assert row[8] == 1  # recipients, a number


# The inbox ----------------------------------------------------------------------------------------


def test_the_inbox_shows_a_supervisor_only_their_regions_newest_first(client_for, acme, sam, world):
    old = make_inbox_message(acme, world["kampala_silent"], text="Old")
    new = make_inbox_message(acme, world["kampala_done"], text="New")
    make_inbox_message(acme, world["gulu_silent"], text="Gulu")
    inbox = client_for(sam, acme).get("/inboxmessage/")
    assert list(inbox.context["inbox"]) == [new, old]
    page = client_for(sam, acme).get("/").content.decode()
    assert 'Inbox <span class="badge' in page and ">2<" in page


def test_the_inbox_filters_by_label_and_not_yet_replied(client_for, acme, ann, world):
    labelled = make_inbox_message(acme, world["kampala_silent"], labels=["Urgent"])
    make_inbox_message(acme, world["kampala_done"])
    replied = make_inbox_message(acme, world["gulu_silent"], replied_on=labelled.created_on)
    client = client_for(ann, acme)
    assert list(client.get("/inboxmessage/?label=Urgent").context["inbox"]) == [labelled]
    unanswered = client.get("/inboxmessage/?unanswered=1").context["inbox"]
    assert replied not in unanswered and len(unanswered) == 2


def test_a_reply_from_the_conversation_appears_at_once_as_pending(client_for, acme, sam, world):
    contact = world["kampala_silent"]
    make_inbox_message(acme, contact, text="When is the next poll?")
    client = client_for(sam, acme)
    response = client.post(f"/inboxmessage/conversation/{contact.pk}/", {"text": "Next Monday"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert page.index("When is the next poll?") < page.index("Next Monday")
    assert "Pending" in page
    assert not InboxMessage.objects.unanswered().exists()


def test_a_supervisor_cannot_open_or_reply_to_a_conversation_outside_their_regions(
    client_for, acme, sam, world
):
    url = f"/inboxmessage/conversation/{world['gulu_silent'].pk}/"
    client = client_for(sam, acme)
    assert client.get(url).status_code == 404
    assert client.post(url, {"text": "Hi"}).status_code == 404
    assert not Message.objects.exists()


def test_only_admins_archive_and_the_archive_is_pushed(
    client_for, acme, ann, sam, world, django_capture_on_commit_callbacks
):
    message = make_inbox_message(acme, world["kampala_silent"])
    assert client_for(sam, acme).post(f"/inboxmessage/archive/{message.pk}/").status_code == 404
    with django_capture_on_commit_callbacks() as queued:
        response = client_for(ann, acme).post(f"/inboxmessage/archive/{message.pk}/")
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.is_archived
    assert len(queued) == 1


def test_the_contact_page_lists_messages_sent_to_it_and_its_inbox(client_for, acme, ann, world):
    contact = world["kampala_silent"]
    make_message(acme, [contact], text="Reminder for you", created_by=ann)
    make_inbox_message(acme, contact, text="I will answer tomorrow")
    page = client_for(ann, acme).get(f"/contact/read/{contact.pk}/").content.decode()
    assert "Reminder for you" in page and "I will answer tomorrow" in page


def test_only_the_sender_or_an_admin_tries_a_failed_message_again(
    client_for, acme, ann, sam, world, django_capture_on_commit_callbacks
):
    failed = make_message(
        acme, [world["kampala_silent"]], created_by=ann, status=Message.Status.FAILED
    )
    assert client_for(sam, acme).post(f"/message/retry/{failed.pk}/").status_code == 404
    failed.refresh_from_db()
    assert failed.status == "failed"
    with django_capture_on_commit_callbacks() as queued:
        response = client_for(ann, acme).post(f"/message/retry/{failed.pk}/")
    assert response["Location"] == f"/message/read/{failed.pk}/"
    failed.refresh_from_db()
    assert failed.status == "pending" and len(queued) == 1
