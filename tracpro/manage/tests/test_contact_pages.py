"""Contacts: list, search, filters, export, page, create, edit and remove, within the
user's regions; every change is queued for RapidPro."""

import csv
import io
from contextlib import contextmanager
from datetime import datetime
from unittest import mock

import pytest

from django.urls import reverse

from tracpro.contacts.models import Contact, PushStatus
from tracpro.contacts.tests.factories import make_contact, make_data_field
from tracpro.exports.tests.xlsx import xlsx_rows
from tracpro.groups.tests.factories import make_region, make_reporter_group
from tracpro.orgs.models import Membership
from tracpro.polls.tests.factories import (
    make_answer,
    make_poll,
    make_pollrun,
    make_question,
    make_response,
)


def url(name: str, *args) -> str:
    return reverse(name, urlconf="tracpro.urls", args=args)


@pytest.fixture
def regions(acme):
    central = make_region(acme, "Central")
    return {
        "central": central,
        "kampala": make_region(acme, "Kampala", parent=central),
        "gulu": make_region(acme, "Gulu"),
    }


@pytest.fixture
def kampala_sam(acme, sam, regions):
    Membership.objects.get(user=sam, org=acme).regions.set([regions["kampala"]])
    return sam


@pytest.fixture
def pushes(django_capture_on_commit_callbacks):
    """`with pushes() as queued:` collects the contact ids queued for a push to
    RapidPro once the request's transaction commits."""
    queued: list[int] = []

    @contextmanager
    def capture():
        with django_capture_on_commit_callbacks(execute=True):
            yield queued

    with mock.patch("tracpro.rapidpro.tasks.push_contact.delay", side_effect=queued.append):
        yield capture


def contact_data(region, **overrides) -> dict:
    return {
        "name": "Grace Okello",
        "urn_scheme": "tel",
        "urn_path": "+256 772 123456",
        "region": region.pk,
        "language": "eng",
        **overrides,
    }


def names(response) -> list[str]:
    return [contact.name for contact in response.context["contacts"]]


def test_a_supervisor_lists_only_active_contacts_of_their_regions(
    client_for, acme, beta, kampala_sam, regions
):
    make_contact(acme, "Kampala one", region=regions["kampala"])
    make_contact(acme, "Kampala removed", region=regions["kampala"], is_active=False)
    make_contact(acme, "Gulu one", region=regions["gulu"])
    make_contact(beta, "Beta one", region=make_region(beta, "Kampala"))

    assert names(client_for(kampala_sam, acme).get(url("contacts:list"))) == ["Kampala one"]


def test_search_finds_by_name_or_by_phone_however_it_is_written(client_for, acme, ann, regions):
    make_contact(acme, "Grace Okello", urn="tel:+256772123456")
    make_contact(acme, "Moses Kato", urn="tel:+256701999888")
    client = client_for(ann, acme)

    assert names(client.get(url("contacts:list"), {"search": "okel"})) == ["Grace Okello"]
    assert names(client.get(url("contacts:list"), {"search": "0772 123 456"})) == []
    assert names(client.get(url("contacts:list"), {"search": "772-123"})) == ["Grace Okello"]
    assert names(client.get(url("contacts:list"), {"search": "moses 999"})) == ["Moses Kato"]


def test_a_supervisors_search_never_leaves_their_regions(client_for, acme, kampala_sam, regions):
    make_contact(acme, "Grace in Kampala", region=regions["kampala"])
    make_contact(acme, "Grace in Gulu", region=regions["gulu"])

    response = client_for(kampala_sam, acme).get(url("contacts:list"), {"search": "grace"})

    assert names(response) == ["Grace in Kampala"]


def test_filters_by_region_with_its_sub_regions_and_by_reporter_group(
    client_for, acme, ann, regions
):
    teachers = make_reporter_group(acme, "Teachers")
    make_contact(acme, "In Kampala", region=regions["kampala"]).reporter_groups.add(teachers)
    make_contact(acme, "In Central", region=regions["central"])
    make_contact(acme, "In Gulu", region=regions["gulu"]).reporter_groups.add(teachers)
    client = client_for(ann, acme)

    by_region = client.get(url("contacts:list"), {"region": regions["central"].pk})
    by_group = client.get(url("contacts:list"), {"group": teachers.pk})

    assert names(by_region) == ["In Central", "In Kampala"]
    assert names(by_group) == ["In Gulu", "In Kampala"]


def test_a_supervisor_cannot_filter_on_a_region_outside_theirs(
    client_for, acme, kampala_sam, regions
):
    make_contact(acme, "In Kampala", region=regions["kampala"])
    make_contact(acme, "In Gulu", region=regions["gulu"])

    response = client_for(kampala_sam, acme).get(
        url("contacts:list"), {"region": regions["gulu"].pk}
    )

    assert names(response) == ["In Kampala"]
    choices = [region.name for region in response.context["filters"].region_choices]
    assert choices == ["Kampala"]


def test_the_list_is_paginated(client_for, acme, ann):
    for number in range(55):
        make_contact(acme, f"Contact {number:02d}")
    client = client_for(ann, acme)

    first = client.get(url("contacts:list"))
    second = client.get(url("contacts:list"), {"page": 2})

    assert len(first.context["contacts"]) == 50
    assert names(second) == [f"Contact {n}" for n in range(50, 55)]


def test_the_export_holds_the_listed_contacts_with_safe_cells(
    client_for, acme, kampala_sam, regions
):
    make_data_field(acme, "facility_code", label="Facility Code")
    teachers = make_reporter_group(acme, "Teachers")
    contact = make_contact(
        acme,
        "=HYPERLINK(1)",
        region=regions["kampala"],
        urn="tel:+256772000001",
        fields={"facility_code": "KLA-01"},
    )
    contact.reporter_groups.add(teachers)
    make_contact(acme, "In Gulu", region=regions["gulu"])

    response = client_for(kampala_sam, acme).get(url("contacts:export"))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "Name", "URN", "Region", "Reporter groups", "Language", "Facility Code", "RapidPro sync"
    ]  # fmt: skip
    assert rows[1:] == [
        ["'=HYPERLINK(1)", "tel:+256772000001", "Kampala", "Teachers", "", "KLA-01", "Synced"]
    ]


def test_the_export_is_offered_as_xlsx_too(client_for, acme, kampala_sam, regions):
    make_contact(acme, "=HYPERLINK(1)", region=regions["kampala"], urn="tel:+256772000001")
    make_contact(acme, "In Gulu", region=regions["gulu"])
    client = client_for(kampala_sam, acme)
    assert "_format=xlsx" in client.get(url("contacts:list")).content.decode()

    header, *rows = xlsx_rows(client.get(url("contacts:export") + "?_format=xlsx"))

    assert header[:3] == ["Name", "URN", "Region"]
    assert [row[:3] for row in rows] == [["'=HYPERLINK(1)", "tel:+256772000001", "Kampala"]]


def test_a_supervisor_creates_a_contact_that_is_queued_for_rapidpro(
    client_for, acme, kampala_sam, regions, pushes
):
    teachers = make_reporter_group(acme, "Teachers")
    make_data_field(acme, "facility_code", label="Facility Code")
    make_data_field(acme, "head_count", label="Head Count", value_type="number", is_visible=True)
    data = contact_data(
        regions["kampala"],
        reporter_groups=[teachers.pk],
        field_facility_code=" KLA-7 ",
        field_head_count="12.50",
    )

    with pushes() as queued:
        response = client_for(kampala_sam, acme).post(url("contacts:create"), data)

    contact = Contact.objects.get(org=acme, name="Grace Okello")
    assert response["Location"] == url("contacts:read", contact.pk)
    assert contact.urn == "tel:+256772123456"
    assert contact.uuid is None
    assert (contact.region, contact.language) == (regions["kampala"], "eng")
    assert list(contact.reporter_groups.all()) == [teachers]
    assert contact.fields == {"facility_code": "KLA-7", "head_count": "12.5"}
    assert (contact.push_status, contact.created_by) == (PushStatus.PENDING, kampala_sam)
    assert queued == [contact.pk]


def test_a_supervisor_can_only_put_a_contact_in_their_regions(
    client_for, acme, kampala_sam, regions, pushes
):
    with pushes() as queued:
        response = client_for(kampala_sam, acme).post(
            url("contacts:create"), contact_data(regions["gulu"])
        )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    choices = [label for value, label in response.context["form"].fields["region"].choices]
    assert choices == ["—", "Kampala"]
    assert queued == []


def test_a_urn_already_used_in_the_org_is_refused(client_for, acme, ann, regions, pushes):
    make_contact(acme, "Someone", urn="tel:+256772123456", region=regions["gulu"])

    response = client_for(ann, acme).post(url("contacts:create"), contact_data(regions["kampala"]))

    assert "Another contact already uses this address." in response.content.decode()
    assert Contact.objects.filter(org=acme).count() == 1


def test_a_supervisor_learns_nothing_about_contacts_outside_their_regions(
    client_for, acme, kampala_sam, regions, pushes
):
    """A clash with a contact outside their regions is answered exactly as one inside."""
    make_contact(acme, "Inside Person", urn="tel:+256772000001", region=regions["kampala"])
    make_contact(acme, "Outside Person", urn="tel:+256772000002", region=regions["gulu"])
    client = client_for(kampala_sam, acme)

    def errors_for(urn_path: str) -> dict:
        data = contact_data(regions["kampala"], urn_path=urn_path)
        response = client.post(url("contacts:create"), data)
        assert response.status_code == 200
        assert "Outside Person" not in response.content.decode()
        return response.context["form"].errors

    assert errors_for("+256772000001") == errors_for("+256772000002")
    assert Contact.objects.filter(org=acme).count() == 2


def test_a_bad_phone_number_is_explained(client_for, acme, ann, regions, pushes):
    data = contact_data(regions["kampala"], urn_path="0772123456")

    response = client_for(ann, acme).post(url("contacts:create"), data)

    assert "Start the number with + and its country code" in response.content.decode()


def test_names_longer_than_rapidpro_allows_are_refused(client_for, acme, ann, regions, pushes):
    response = client_for(ann, acme).post(
        url("contacts:create"), contact_data(regions["kampala"], name="x" * 65)
    )

    assert response.status_code == 200
    assert not Contact.objects.exists()


def test_editing_keeps_an_unusual_urn_from_rapidpro_as_it_is(
    client_for, acme, ann, regions, pushes
):
    contact = make_contact(acme, "Ext", urn="ext:9999", region=regions["kampala"])
    data = contact_data(regions["gulu"], name="Renamed", urn_scheme="ext", urn_path="9999")

    with pushes() as queued:
        client_for(ann, acme).post(url("contacts:update", contact.pk), data)

    contact.refresh_from_db()
    assert (contact.name, contact.urn, contact.region) == ("Renamed", "ext:9999", regions["gulu"])
    assert contact.push_status == PushStatus.PENDING
    assert queued == [contact.pk]


def test_the_edit_form_shows_the_contacts_values(client_for, acme, ann, regions):
    make_data_field(acme, "facility_code")
    contact = make_contact(
        acme,
        "Grace",
        urn="whatsapp:256772123456",
        region=regions["kampala"],
        language="fra",
        fields={"facility_code": "KLA-1"},
    )

    form = client_for(ann, acme).get(url("contacts:update", contact.pk)).context["form"]

    assert form.initial["urn_scheme"] == "whatsapp"
    assert form.initial["urn_path"] == "256772123456"
    assert form.initial["region"] == regions["kampala"].pk
    assert form.initial["language"] == "fra"
    assert form.initial["field_facility_code"] == "KLA-1"


def test_a_supervisor_cannot_open_a_contact_outside_their_regions(
    client_for, acme, kampala_sam, regions
):
    outside = make_contact(acme, "In Gulu", region=regions["gulu"])
    client = client_for(kampala_sam, acme)

    for name in ("contacts:read", "contacts:update", "contacts:delete"):
        assert client.get(url(name, outside.pk)).status_code == 404
    assert client.post(url("contacts:retry_push", outside.pk)).status_code == 404
    assert client.get(url("contacts:push_status", outside.pk)).status_code == 404


def test_removing_a_contact_deactivates_it_and_queues_the_delete(
    client_for, acme, ann, regions, pushes
):
    contact = make_contact(acme, "Leaving", region=regions["kampala"])

    with pushes() as queued:
        response = client_for(ann, acme).post(url("contacts:delete", contact.pk))

    assert response["Location"] == url("contacts:list")
    contact.refresh_from_db()
    assert (contact.is_active, contact.push_status) == (False, PushStatus.PENDING)
    assert queued == [contact.pk]
    assert client_for(ann, acme).get(url("contacts:read", contact.pk)).status_code == 404


def test_a_failed_push_is_shown_and_can_be_tried_again(client_for, acme, ann, regions, pushes):
    contact = make_contact(
        acme,
        "Grace",
        region=regions["kampala"],
        push_status=PushStatus.FAILED,
        push_error="RapidPro already has another contact with tel:+256772123456.",
    )
    client = client_for(ann, acme)

    page = client.get(url("contacts:read", contact.pk)).content.decode()
    assert "RapidPro already has another contact with tel:+256772123456." in page

    with pushes() as queued:
        client.post(url("contacts:retry_push", contact.pk))
    contact.refresh_from_db()
    assert (contact.push_status, contact.push_error) == (PushStatus.PENDING, "")
    assert queued == [contact.pk]


def test_the_status_fragment_polls_only_while_pending(client_for, acme, ann, regions):
    contact = make_contact(acme, "Grace", region=regions["kampala"], push_status="pending")
    client = client_for(ann, acme)

    pending = client.get(url("contacts:push_status", contact.pk)).content.decode()
    Contact.objects.filter(pk=contact.pk).update(push_status=PushStatus.SYNCED)
    synced = client.get(url("contacts:push_status", contact.pk)).content.decode()

    assert 'hx-trigger="every 2s"' in pending and "Pending" in pending
    assert "hx-trigger" not in synced and "Synced" in synced


def test_the_contact_page_lists_their_responses_across_polls(client_for, acme, ann, regions):
    contact = make_contact(acme, "Grace", region=regions["kampala"])
    enrolment = make_poll(acme, "Enrolment", is_active=True)
    boys = make_question(enrolment, "Boys", order=1)
    hidden = make_question(enrolment, "Internal", order=2, is_active=False)
    run = make_pollrun(enrolment, conducted_on=datetime(2026, 3, 2, 9, tzinfo=acme.tz))
    response = make_response(run, contact, status="complete")
    make_answer(response, boys, value="42", category="Numeric")
    make_answer(response, hidden, value="secret")
    unselected = make_poll(acme, "Not a poll", is_active=False)
    make_response(make_pollrun(unselected), contact)

    page = client_for(ann, acme).get(url("contacts:read", contact.pk))

    rows = [(r.pollrun.poll.display_name, r.status) for r in page.context["responses"]]
    assert rows == [("Enrolment", "complete")]
    text = page.content.decode()
    assert "Boys:</span> 42" in text
    assert "secret" not in text
