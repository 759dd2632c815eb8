"""A worker killed with SIGKILL in the middle of a contact push to the simulator:
once a new worker runs, RapidPro holds the change exactly once.

The drill uses real parts throughout: a Celery worker subprocess
(tracpro.tests.workers), the Redis broker, Postgres, the simulator over HTTP with
a `delay` fault holding the create in flight while the worker is killed.
"""

from datetime import timedelta

import pytest
import time_machine

from django.utils import timezone

from tracpro.contacts.models import Contact, PushStatus
from tracpro.groups.models import Region
from tracpro.rapidpro import contact_changes, push
from tracpro.rapidpro.tasks import requeue_stale_pushes
from tracpro.simulator.testing import running_simulator
from tracpro.tests.workers import celery_worker, fast_forward_lock, purge_broker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

URN = "tel:+256772009901"


@pytest.fixture
def simulator():
    with running_simulator(seed=11, contacts=20, runs=10) as handle:
        yield handle


def contacts_with_urn(simulator) -> list:
    return list(simulator.client("edu").get_contacts(urn=URN).all())


def test_a_push_killed_mid_create_reaches_rapidpro_exactly_once(simulator, acme, ann):
    acme.api_url, acme.api_token = simulator.base_url, simulator.tokens["edu"]
    acme.save()
    kampala = next(g for g in simulator.client("edu").get_groups().all() if g.name == "Kampala")
    region = Region.objects.create(org=acme, uuid=kampala.uuid, name="Kampala")
    # The create reaches the simulator, which answers 4 seconds later: the worker
    # is killed while it waits, after RapidPro has the contact, before TracPro knows.
    simulator.faults(mode="delay", seconds=4, endpoint="contacts", method="POST")
    purge_broker()

    with celery_worker() as worker:
        contact = Contact(org=acme, name="Grace Okello", urn=URN, region=region)
        contact_changes.save_contact(contact, [], ann)  # queued on commit

        def create_received():
            """the simulator to receive the create"""
            return any(rule["fired"] for rule in simulator.call("GET", "/sim/faults")["faults"])

        wait_for(create_received, every=0.05)
        worker.kill()

    wait_for(lambda: contacts_with_urn(simulator), timeout=15)  # RapidPro made it
    contact.refresh_from_db()
    assert contact.push_status == PushStatus.PENDING
    assert contact.uuid is None
    # The killed push's lock outlives it by its TTL at most; its time runs out here.
    fast_forward_lock(push.LOCK_KEY.format(contact_id=contact.pk), push.LOCK_TTL)

    with celery_worker():
        # Beat's requeue of pushes lost for half an hour, run half an hour later.
        with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
            assert requeue_stale_pushes() == 1

        def synced():
            """the push to finish"""
            contact.refresh_from_db()
            return contact.push_status == PushStatus.SYNCED

        wait_for(synced)

    [remote] = contacts_with_urn(simulator)
    assert contact.uuid == remote.uuid
    assert remote.name == "Grace Okello"
    assert [group.name for group in remote.groups] == ["Kampala"]
