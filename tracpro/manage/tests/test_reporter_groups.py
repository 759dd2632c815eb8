"""Administration > Reporter groups."""

from unittest import mock

import pytest

from django.urls import reverse

from tracpro.contacts.tests.factories import make_contact
from tracpro.groups.models import ReporterGroup
from tracpro.groups.tests.factories import make_region, make_remote_group, make_reporter_group
from tracpro.orgs.models import SyncKind


def url(name: str) -> str:
    return reverse(name, urlconf="tracpro.urls")


@pytest.fixture
def trigger():
    with mock.patch("tracpro.orgs.tasks.trigger") as patched:
        yield patched


def test_it_chooses_reporter_groups_and_fetches_their_contacts(
    client_for, acme, ann, trigger, django_capture_on_commit_callbacks
):
    teachers = make_remote_group(acme, "Head Teachers")
    dropped = make_reporter_group(acme, "SMC Members")

    with django_capture_on_commit_callbacks(execute=True):
        client_for(ann, acme).post(url("groups:reportergroup_select"), {"groups": [teachers.pk]})

    active = ReporterGroup.objects.for_org(acme).active()
    assert [group.name for group in active] == ["Head Teachers"]
    dropped.refresh_from_db()
    assert dropped.is_active is False
    trigger.assert_called_once_with(acme, SyncKind.CONTACTS)


def test_a_region_cannot_also_be_a_reporter_group(client_for, acme, ann, trigger):
    kampala = make_remote_group(acme, "Kampala")
    make_region(acme, "Kampala", uuid=kampala.uuid)

    response = client_for(ann, acme).post(
        url("groups:reportergroup_select"), {"groups": [kampala.pk]}
    )

    assert "These groups cannot be chosen: Kampala." in response.content.decode()
    assert not ReporterGroup.objects.exists()


def test_it_lists_reporter_groups_with_their_active_contacts(client_for, acme, ann):
    teachers = make_reporter_group(acme, "Head Teachers")
    make_reporter_group(acme, "Old group", is_active=False)
    for name, active in (("A", True), ("B", True), ("C", False)):
        make_contact(acme, name, is_active=active).reporter_groups.add(teachers)

    response = client_for(ann, acme).get(url("groups:reportergroup_list"))

    assert [(g.name, g.contact_count) for g in response.context["groups"]] == [("Head Teachers", 2)]
