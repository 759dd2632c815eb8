"""Writing through the real client: contacts, flow starts, broadcasts and validation errors."""

import pytest
from temba_client.exceptions import TembaBadRequestError, TembaNoSuchObjectError

from .conftest import Raw


def test_it_creates_a_contact_with_201_and_the_read_shape(fresh_sim):
    client, raw = fresh_sim.client(), Raw(fresh_sim)
    contact = client.create_contact(
        name="Peter Okello",
        language="eng",
        urns=["tel:+256772000111"],
        fields={"gender": "male", "head_count": 12},
        groups=["Kampala", "Head Teachers"],
    )
    assert contact.name == "Peter Okello" and contact.urns == ["tel:+256772000111"]
    assert contact.fields["head_count"] == "12" and contact.fields["school_type"] is None
    assert sorted(g.name for g in contact.groups) == ["Head Teachers", "Kampala"]
    response = raw.post("contacts", {"name": "Direct", "urns": ["tel:+256772000112"]})
    assert response.status_code == 201
    assert client.get_contacts(uuid=contact.uuid).first().name == "Peter Okello"


def test_it_updates_a_contact_by_uuid_or_urn_with_200(fresh_sim):
    client, raw = fresh_sim.client(), Raw(fresh_sim)
    contact = client.create_contact(name="Before", urns=["tel:+256772000222"])
    updated = client.update_contact(contact, name="After", fields={"gender": "female"})
    assert updated.name == "After" and updated.uuid == contact.uuid
    assert updated.urns == ["tel:+256772000222"]
    by_urn = raw.post("contacts", {"language": "fra"}, urn="tel:+256772000222")
    assert by_urn.status_code == 200 and by_urn.json()["language"] == "fra"
    assert updated.modified_on >= contact.modified_on
    female = client.get_contacts(group="Female Reporters").all()
    assert contact.uuid in {c.uuid for c in female}


def test_it_creates_a_contact_when_updating_an_unknown_urn(fresh_sim):
    raw = Raw(fresh_sim)
    response = raw.post("contacts", {"name": "New by URN"}, urn="tel:+256772000333")
    assert response.status_code == 201
    assert response.json()["urns"] == ["tel:+256772000333"]
    clash = raw.post("contacts", {"urns": ["tel:+256772000334"]}, urn="tel:+256772000333")
    assert clash.status_code == 400 and "urns" in clash.json()


def test_it_deletes_a_contact_with_204_and_serves_it_as_deleted(fresh_sim):
    client, raw = fresh_sim.client(), Raw(fresh_sim)
    contact = client.create_contact(name="Gone", urns=["tel:+256772000444"])
    assert client.delete_contact(contact) is None
    response = raw.delete("contacts", uuid=contact.uuid)
    assert response.status_code == 404
    assert contact.uuid not in {c.uuid for c in client.get_contacts().all()}
    deleted = client.get_contacts(deleted=True, uuid=contact.uuid).first()
    assert deleted.name is None and deleted.urns == []
    with pytest.raises(TembaNoSuchObjectError):
        client.delete_contact(contact.uuid)
    other = client.create_contact(urns=["tel:+256772000445"])
    assert raw.delete("contacts", urn="tel:+256772000445").content == b""
    assert client.get_contacts(uuid=other.uuid).first() is None
    assert raw.delete("contacts").status_code == 400


def test_it_deleting_a_contact_removes_its_runs(fresh_sim):
    client = fresh_sim.client()
    run = client.get_runs().first()
    before = fresh_sim.summary()["runs"]
    client.delete_contact(run.contact.uuid)
    assert client.get_runs(uuid=run.uuid).first() is None
    assert fresh_sim.summary()["runs"] < before


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"urns": ["tel:12"]},
            {"urns": {"0": ["Invalid URN: tel:12. Ensure phone numbers contain country codes."]}},
        ),
        (
            {"urns": ["nonsense"]},
            {"urns": {"0": ["Invalid URN: nonsense. Ensure phone numbers contain country codes."]}},
        ),
        ({"fields": {"shoe_size": "42"}}, {"fields": ["Invalid contact field key: shoe_size"]}),
        (
            {"groups": ["Female Reporters"]},
            {"groups": ["Contact group must not be query based: Female Reporters"]},
        ),
        ({"groups": ["No Such Group"]}, {"groups": ["No such object: No Such Group"]}),
        ({"language": "english"}, {"language": ["Not a valid ISO639-3 language code."]}),
    ],
)
def test_it_answers_the_servers_validation_errors(fresh_sim, body, expected):
    response = Raw(fresh_sim).post("contacts", body)
    assert response.status_code == 400
    assert response.json() == expected


def test_it_refuses_a_urn_in_use_by_another_contact(fresh_sim):
    client = fresh_sim.client()
    taken = client.get_contacts().first().urns[0]
    with pytest.raises(TembaBadRequestError) as error:
        client.create_contact(name="Copycat", urns=[taken])
    assert error.value.errors == {"urns": ["URN is in use by another contact."]}


def test_it_starts_a_flow_whose_runs_appear_over_the_next_ticks(fresh_sim):
    client = fresh_sim.client()
    flow = next(f for f in client.get_flows().all() if f.name == "Textbooks")
    kampala = next(g for g in client.get_groups().all() if g.name == "Kampala")
    start = client.create_flow_start(flow.uuid, groups=[kampala.uuid], restart_participants=True)
    assert start.status == "pending" and start.groups[0].name == "Kampala"
    fresh_sim.tick()
    runs = [
        r for r in client.get_runs(flow=flow.uuid).all() if r.start and r.start.uuid == start.uuid
    ]
    assert len(runs) == kampala.count
    assert all(r.exit_type is None for r in runs)
    assert client.get_flow_starts(uuid=start.uuid).first().status == "completed"
    waiting = client.get_contacts(uuid=runs[0].contact.uuid).first()
    assert waiting.flow.uuid == flow.uuid
    fresh_sim.tick()
    fresh_sim.tick()
    runs = [
        r for r in client.get_runs(flow=flow.uuid).all() if r.start and r.start.uuid == start.uuid
    ]
    assert any(r.exit_type == "completed" and r.values["textbooks"].category for r in runs)


def test_it_validates_flow_starts(fresh_sim):
    raw = Raw(fresh_sim)
    flow = raw.get("flows").json()["results"][0]["uuid"]
    response = raw.post("flow_starts", {"flow": flow})
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Must specify at least one group, contact or URN"]
    }
    assert raw.post("flow_starts", {"groups": []}).json()["flow"] == ["This field is required."]


def test_it_sends_a_broadcast_into_the_sent_folder(fresh_sim):
    client = fresh_sim.client()
    contact = client.get_contacts().first()
    broadcast = client.create_broadcast("Schools close on Friday.", contacts=[contact.uuid])
    assert broadcast.text == {"eng": "Schools close on Friday."}
    assert broadcast.contacts[0].uuid == contact.uuid and broadcast.groups == []
    sent = client.get_messages(folder="sent").first()
    assert sent.text == "Schools close on Friday." and sent.direction == "out"
    assert client.get_broadcasts(uuid=broadcast.uuid).first().status == "completed"


def test_it_moves_created_messages_from_outbox_to_sent_on_a_tick(fresh_sim):
    client = fresh_sim.client()
    contact = client.get_contacts().first()
    message = client.create_message(contact.uuid, "Hello from TracPro", [])
    assert message.status == "queued"
    assert message.uuid in {m.uuid for m in client.get_messages(folder="outbox").all()}
    fresh_sim.tick()
    assert message.uuid in {m.uuid for m in client.get_messages(folder="sent").all()}


def test_it_applies_contact_actions(fresh_sim):
    client = fresh_sim.client()
    contact = client.create_contact(name="Bulk", urns=["tel:+256772000555"])
    client.bulk_add_contacts([contact.uuid], "Gulu")
    assert [g.name for g in client.get_contacts(uuid=contact.uuid).first().groups] == ["Gulu"]
    client.bulk_block_contacts(["tel:+256772000555"])
    blocked = client.get_contacts(uuid=contact.uuid).first()
    assert blocked.status == "blocked" and blocked.groups == []
    with pytest.raises(TembaBadRequestError):
        client.bulk_add_contacts([contact.uuid], "Female Reporters")


def test_it_ticks_answers_and_new_inbox_messages_with_moving_modified_on(fresh_sim):
    client = fresh_sim.client()
    newest = client.get_runs().first().modified_on
    inbox = len(client.get_messages(folder="inbox").all())
    for _ in range(6):
        fresh_sim.tick("edu")
    assert client.get_runs(after=newest).all()
    assert client.get_runs().first().modified_on > newest
    assert len(client.get_messages(folder="inbox").all()) > inbox


def test_it_adds_runs_now_that_an_incremental_sync_sees(fresh_sim):
    client = fresh_sim.client()
    watermark = client.get_runs().first().modified_on
    before = fresh_sim.summary()["runs"]
    assert fresh_sim.add_runs("edu", 120)["added"] == 120
    assert fresh_sim.summary()["runs"] == before + 120
    fresh = client.get_runs(after=watermark).all()
    assert len([r for r in fresh if r.start is None and r.created_on < r.modified_on]) >= 120


def test_it_ticks_on_its_own_when_live():
    import time

    from tracpro.simulator.testing import running_simulator

    from .conftest import NOW

    with running_simulator(seed=2, contacts=40, runs=300, live=True, tick=0.05, now=NOW) as sim:
        deadline = time.monotonic() + 5
        while sim.call("GET", "/sim/health")["ops"] < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sim.call("GET", "/sim/health")["ops"] >= 4


def test_it_rebuilds_from_the_seed_on_reset(fresh_sim):
    client = fresh_sim.client()
    first = client.get_runs().first().uuid
    client.create_contact(name="Temporary", urns=["tel:+256772000666"])
    fresh_sim.add_runs("edu", 5)
    fresh_sim.reset()
    assert client.get_runs().first().uuid == first
    assert client.get_contacts(urn="tel:+256772000666").first() is None
