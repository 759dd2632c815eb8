"""Organization settings, for an org's admins on its own host."""

from unittest import mock

import pytest

from django.urls import reverse

from tracpro.contacts.models import DataField
from tracpro.contacts.tests.factories import make_data_field
from tracpro.orgs.models import SyncKind

SETTINGS_URL = reverse("orgs:settings", urlconf="tracpro.urls")


def settings_data(**overrides) -> dict:
    return {
        "name": "Acme Schools",
        "timezone": "Africa/Nairobi",
        "language": "fr",
        "languages": ["en", "fr"],
        "same_day_rule": "last",
        "show_spoof_data": "on",
        **overrides,
    }


@pytest.fixture
def trigger():
    with mock.patch("tracpro.orgs.tasks.trigger") as patched:
        yield patched


def test_an_admin_changes_the_orgs_settings(client_for, acme, ann, trigger):
    response = client_for(ann, acme).post(SETTINGS_URL, settings_data())

    assert response.status_code == 302
    acme.refresh_from_db()
    assert (acme.name, acme.timezone, acme.language) == ("Acme Schools", "Africa/Nairobi", "fr")
    assert (acme.languages, acme.show_spoof_data) == (["en", "fr"], True)
    trigger.assert_not_called()


def test_changing_the_same_day_rule_recounts_the_answers(
    client_for, acme, ann, trigger, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(ann, acme).post(
            SETTINGS_URL, settings_data(same_day_rule="sum"), follow=True
        )

    acme.refresh_from_db()
    assert acme.same_day_rule == "sum"
    trigger.assert_called_once_with(acme, SyncKind.RUNS)
    assert "recounted with the new settings" in response.content.decode()


def test_the_default_language_must_be_available(client_for, acme, ann, trigger):
    response = client_for(ann, acme).post(
        SETTINGS_URL, settings_data(language="fa", languages=["en"])
    )

    assert "Include the default language." in response.content.decode()


def test_an_admin_chooses_the_contact_fields_shown_and_the_facility_code(
    client_for, acme, beta, ann, trigger
):
    gender = make_data_field(acme, "gender")
    code = make_data_field(acme, "school_code")
    hidden = make_data_field(acme, "age", is_visible=True)
    make_data_field(beta, "gender")

    client_for(ann, acme).post(
        SETTINGS_URL,
        settings_data(shown_fields=[gender.pk], facility_code_field=code.pk),
    )

    visible = DataField.objects.filter(org=acme, is_visible=True)
    assert list(visible) == [gender]
    hidden.refresh_from_db()
    assert hidden.is_visible is False
    assert DataField.objects.facility_code(acme) == code
    assert [f.key for f in DataField.objects.shown_on_contacts(acme)] == ["school_code", "gender"]


def test_the_facility_code_defaults_to_the_facility_code_field(acme):
    make_data_field(acme, "facility_code")

    assert DataField.objects.facility_code(acme).key == "facility_code"


def test_another_orgs_fields_cannot_be_chosen(client_for, acme, beta, ann, trigger):
    foreign = make_data_field(beta, "gender")

    response = client_for(ann, acme).post(SETTINGS_URL, settings_data(shown_fields=[foreign.pk]))

    assert response.status_code == 200
    foreign.refresh_from_db()
    assert foreign.is_visible is False
