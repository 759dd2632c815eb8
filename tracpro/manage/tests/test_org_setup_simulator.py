"""The issue's walk-through against the simulator: an admin sets up regions and a
supervisor limited to Kampala; the supervisor sees only Kampala's contacts and
creates one that reaches RapidPro with the same URN and groups."""

import pytest

from django.urls import reverse

from tracpro.accounts.models import User
from tracpro.contacts.models import Contact, PushStatus
from tracpro.groups.models import RemoteGroup
from tracpro.orgs import tasks
from tracpro.orgs.models import SyncKind
from tracpro.simulator.testing import running_simulator

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "kampala-reporting-2026"


def url(name: str, *args) -> str:
    return reverse(name, urlconf="tracpro.urls", args=args)


@pytest.fixture
def sim():
    with running_simulator(seed=5, contacts=80, runs=20) as handle:
        yield handle


def test_an_org_is_set_up_from_nothing_and_a_supervisor_stays_in_kampala(
    sim, acme, ann, client_for, celery_eager
):
    celery_eager.conf.task_eager_propagates = False
    acme.api_url, acme.api_token = sim.base_url, sim.tokens["edu"]
    acme.save()
    tasks.trigger(acme, SyncKind.GROUPS)
    groups = {group.name: group for group in RemoteGroup.objects.for_org(acme)}
    admin = client_for(ann, acme)

    # Regions and a reporter group; the contact fetch runs (eagerly) on commit.
    admin.post(url("groups:region_select"), {"groups": [groups["Kampala"].pk, groups["Gulu"].pk]})
    admin.post(url("groups:reportergroup_select"), {"groups": [groups["Head Teachers"].pk]})
    tasks.trigger(acme, SyncKind.CONTACTS)
    kampala_id = acme.regions.get(name="Kampala").pk
    admin.post(
        url("users:create"),
        {
            "full_name": "Kampala Supervisor",
            "email": "kampala@acme.example.com",
            "role": "supervisor",
            "regions": [kampala_id],
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    supervisor = client_for(User.objects.get(email="kampala@acme.example.com"), acme)

    listed = supervisor.get(url("contacts:list"), {"page": 1}).context["paginator"].count
    in_kampala = Contact.objects.filter(org=acme, is_active=True, region_id=kampala_id)
    assert listed == in_kampala.count() > 0
    assert Contact.objects.filter(org=acme, is_active=True).exclude(region_id=kampala_id).exists()
    exported = b"".join(supervisor.get(url("contacts:export")).streaming_content).decode()
    assert "Gulu" not in exported and exported.count("\n") == listed + 1
    form = supervisor.get(url("contacts:create")).context["form"]
    assert [label for value, label in form.fields["region"].choices if value] == ["Kampala"]

    teachers = acme.reporter_groups.get(name="Head Teachers")
    supervisor.post(
        url("contacts:create"),
        {
            "name": "Grace Nakato",
            "urn_scheme": "tel",
            "urn_path": "+256 772 555 011",
            "region": kampala_id,
            "reporter_groups": [teachers.pk],
            "language": "eng",
        },
    )

    contact = Contact.objects.get(org=acme, name="Grace Nakato")
    assert contact.push_status == PushStatus.SYNCED
    remote = sim.client("edu").get_contacts(uuid=contact.uuid).first()
    assert remote.urns == ["tel:+256772555011"]
    assert sorted(group.name for group in remote.groups) == ["Head Teachers", "Kampala"]
