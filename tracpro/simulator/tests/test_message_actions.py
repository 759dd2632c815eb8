"""message_actions, the message length limit, and starts and broadcasts that name a
group deleted afterwards: what the server answers, through the real client."""

import pytest
from temba_client.exceptions import TembaBadRequestError

from .conftest import Raw
from .test_write_targets import all_pages, groups_by_name


def inbox(raw: Raw) -> list[dict]:
    return all_pages(raw, "messages", folder="inbox")


def test_it_archives_and_restores_incoming_messages_by_id(fresh_sim):
    client, raw = fresh_sim.client(), Raw(fresh_sim)
    first, second = inbox(raw)[:2]

    assert client.bulk_archive_messages([first["id"], second["id"]]) is None

    archived = {m["id"] for m in all_pages(raw, "messages", folder="archived")}
    assert {first["id"], second["id"]} <= archived
    assert {first["id"], second["id"]}.isdisjoint(m["id"] for m in inbox(raw))
    shown = raw.get("messages", uuid=first["uuid"]).json()["results"][0]
    assert shown["visibility"] == "archived" and shown["modified_on"] > first["modified_on"]

    client.bulk_restore_messages([first["id"]])
    assert first["id"] in {m["id"] for m in inbox(raw)}


def test_uuids_and_unknown_ids_come_back_as_failures(fresh_sim):
    raw = Raw(fresh_sim)
    message = inbox(raw)[0]
    response = raw.post(
        "message_actions", {"messages": [message["uuid"], 999999], "action": "archive"}
    )
    assert response.status_code == 200
    assert response.json() == {"failures": [message["uuid"], 999999]}
    assert message["id"] in {m["id"] for m in inbox(raw)}, "nothing was archived"
    ok = raw.post("message_actions", {"messages": [message["id"]], "action": "archive"})
    assert (ok.status_code, ok.content) == (204, b"")


def test_it_labels_and_unlabels_with_a_label_name_it_may_create(fresh_sim):
    client, raw = fresh_sim.client(), Raw(fresh_sim)
    message = inbox(raw)[0]
    client.bulk_label_messages([message["id"]], label_name="Follow Up")
    labels = {lb["name"]: lb for lb in raw.get("labels").json()["results"]}
    assert labels["Follow Up"]["count"] == 1
    shown = raw.get("messages", uuid=message["uuid"]).json()["results"][0]
    assert "Follow Up" in {label["name"] for label in shown["labels"]}

    client.bulk_unlabel_messages([message["id"]], label=labels["Follow Up"]["uuid"])
    shown = raw.get("messages", uuid=message["uuid"]).json()["results"][0]
    assert "Follow Up" not in {label["name"] for label in shown["labels"]}


def test_a_deleted_message_leaves_every_folder(fresh_sim):
    client, raw = fresh_sim.client(), Raw(fresh_sim)
    message = inbox(raw)[0]
    client.bulk_delete_messages([message["id"]])
    assert raw.get("messages", uuid=message["uuid"]).json()["results"] == []


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"action": "archive"}, {"messages": ["This field is required."]}),
        ({"messages": [1]}, {"action": ["This field is required."]}),
        ({"messages": [1], "action": "shred"}, {"action": ['"shred" is not a valid choice.']}),
        (
            {"messages": list(range(1, 102)), "action": "archive"},
            {"messages": ["Ensure this field has no more than 100 elements."]},
        ),
        (
            {"messages": [1], "action": "label"},
            {"non_field_errors": ['For action "label" you should also specify a label']},
        ),
        (
            {"messages": [1], "action": "archive", "label_name": "X"},
            {"non_field_errors": ['For action "archive" you should not specify a label']},
        ),
        (
            {"messages": [1], "action": "label", "label": "Nope"},
            {"label": ["No such object: Nope"]},
        ),
    ],
)
def test_it_answers_the_servers_validation_errors(fresh_sim, body, errors):
    response = Raw(fresh_sim).post("message_actions", body)
    assert response.status_code == 400
    assert response.json() == errors


def test_an_outgoing_message_cannot_be_archived(fresh_sim):
    raw = Raw(fresh_sim)
    sent = raw.get("messages", folder="sent").json()["results"][0]
    response = raw.post("message_actions", {"messages": [sent["id"]], "action": "archive"})
    assert response.status_code == 400
    assert response.json() == {"messages": [f"Not an incoming message: {sent['id']}"]}


# -- the message length limit ---------------------------------------------------------------------


def test_broadcasts_and_messages_refuse_text_over_4096_characters(fresh_sim):
    client = fresh_sim.client()
    contact = client.get_contacts(group="Kampala").first()
    with pytest.raises(TembaBadRequestError) as refused:
        client.create_broadcast("x" * 4097, contacts=[contact.uuid])
    assert refused.value.errors == {
        "text": {"eng": ["Ensure this field has no more than 4096 characters."]}
    }
    with pytest.raises(TembaBadRequestError) as refused:
        client.create_message(contact.uuid, "x" * 4097, [])
    assert refused.value.errors == {"text": ["Ensure this field has no more than 4096 characters."]}

    assert client.create_broadcast("y" * 4096, contacts=[contact.uuid]).uuid
    assert len(client.create_message(contact.uuid, "z" * 4096, []).text) == 4096


# -- starts and broadcasts naming a deleted group -------------------------------------------------


def test_starts_and_broadcasts_keep_naming_a_deleted_group(fresh_sim):
    client, raw = fresh_sim.client(), Raw(fresh_sim)
    flow = next(f for f in client.get_flows().all() if f.name == "Attendance")
    last = client.create_group("Temporary")  # the last group: a stale index would overflow
    groups = groups_by_name(raw)
    start = client.create_flow_start(flow.uuid, groups=[groups["Wakiso"]["uuid"], last.uuid])
    bcast = client.create_broadcast("Hello", groups=[last.uuid, groups["Wakiso"]["uuid"]])

    client.delete_group(last.uuid)
    client.delete_group(groups["Wakiso"]["uuid"])

    named = [("Wakiso", groups["Wakiso"]["uuid"]), ("Temporary", last.uuid)]
    shown = client.get_flow_starts(uuid=start.uuid).first()
    assert [(g.name, g.uuid) for g in shown.groups] == named
    shown = client.get_broadcasts(uuid=bcast.uuid).first()
    assert [(g.name, g.uuid) for g in shown.groups] == named[::-1]
    assert raw.get("flow_starts").status_code == 200
    assert raw.get("broadcasts").status_code == 200


def test_a_start_naming_a_deleted_group_reaches_nobody_through_it(fresh_sim):
    client = fresh_sim.client()
    flow = next(f for f in client.get_flows().all() if f.name == "Attendance")
    doomed = client.create_group("Doomed")
    contact = client.get_contacts(group="Gulu").first()
    client.bulk_add_contacts([contact.uuid], doomed.uuid)
    start = client.create_flow_start(flow.uuid, groups=[doomed.uuid])
    client.delete_group(doomed.uuid)

    fresh_sim.tick()

    runs = [
        r for r in client.get_runs(flow=flow.uuid).all() if r.start and r.start.uuid == start.uuid
    ]
    assert runs == []
    assert client.get_flow_starts(uuid=start.uuid).first().status == "completed"
