"""Who a flow start or broadcast reaches, and the group and label write endpoints."""

import pytest

from .conftest import Raw

UNKNOWN = "01234567-89ab-4def-8123-456789abcdef"


def groups_by_name(raw: Raw) -> dict[str, dict]:
    return {g["name"]: g for g in raw.get("groups").json()["results"]}


def all_contacts(client, **filters) -> list:
    return client.get_contacts(**filters).all()


def all_pages(raw: Raw, endpoint: str, **params) -> list[dict]:
    page = raw.get(endpoint, **params).json()
    results = page["results"]
    while page["next"]:
        page = raw.url(page["next"]).json()
        results += page["results"]
    return results


# -- recipients -----------------------------------------------------------------------------------


def test_a_flow_start_reaches_each_active_contact_of_its_groups_contacts_and_urns_once(fresh_sim):
    client, raw = fresh_sim.client(), Raw(fresh_sim)
    flow = next(f for f in client.get_flows().all() if f.name == "Feedback")
    female = all_contacts(client, group="Female Reporters")
    gulu = all_contacts(client, group="Gulu")
    blocked = next(c for c in all_contacts(client) if c.status == "blocked")
    outsider = next(
        c
        for c in all_contacts(client)
        if c.status == "active" and c.urns and c.uuid not in {x.uuid for x in female + gulu}
    )
    by_urn = next(c for c in gulu if c.status == "active")
    body = {
        "flow": flow.uuid,
        "groups": ["Female Reporters", "gulu"],
        "contacts": [outsider.uuid, blocked.uuid, outsider.uuid],
        "urns": [by_urn.urns[0], "tel:+256700000001"],
    }
    response = raw.post("flow_starts", body)
    assert response.status_code == 201
    start = response.json()
    fresh_sim.tick()

    expected = {c.uuid for c in [*female, *gulu, outsider] if c.status == "active"}
    runs = [
        r
        for r in client.get_runs(flow=flow.uuid).all()
        if r.start and r.start.uuid == start["uuid"]
    ]
    assert sorted(r.contact.uuid for r in runs) == sorted(expected)
    progress = raw.get("flow_starts", uuid=start["uuid"]).json()["results"][0]["progress"]
    assert progress == {"total": len(expected), "started": len(expected)}


def test_a_flow_start_without_restarting_participants_skips_who_already_ran_the_flow(fresh_sim):
    client, raw = fresh_sim.client(), Raw(fresh_sim)
    flow = next(f for f in client.get_flows().all() if f.name == "Textbooks")
    members = {c.uuid for c in all_contacts(client, group="Kampala") if c.status == "active"}
    ran = {r.contact.uuid for r in client.get_runs(flow=flow.uuid).all()}
    body = {"flow": flow.uuid, "groups": ["Kampala"], "restart_participants": False}
    start = raw.post("flow_starts", body).json()
    fresh_sim.tick()
    runs = [
        r
        for r in client.get_runs(flow=flow.uuid).all()
        if r.start and r.start.uuid == start["uuid"]
    ]
    assert {r.contact.uuid for r in runs} == members - ran


def test_a_broadcast_reaches_each_active_contact_with_a_urn_once(fresh_sim):
    client, raw = fresh_sim.client(), Raw(fresh_sim)
    female = all_contacts(client, group="Female Reporters")
    extra = next(c for c in all_contacts(client) if c.status == "active" and c.urns)
    body = {
        "text": "Term starts on Monday.",
        "groups": ["Female Reporters"],
        "urns": [extra.urns[0], extra.urns[0], "tel:+256700000002"],
    }
    response = raw.post("broadcasts", body)
    assert response.status_code == 201
    broadcast = response.json()
    expected = {c.uuid for c in [*female, extra] if c.status == "active" and c.urns}
    sent = [
        m for m in all_pages(raw, "messages", folder="sent") if m["broadcast"] == broadcast["id"]
    ]
    assert sorted(m["contact"]["uuid"] for m in sent) == sorted(expected)
    assert raw.get("broadcasts", uuid=broadcast["uuid"]).json()["results"][0]["progress"] == {
        "total": len(expected),
        "started": len(expected),
    }


@pytest.mark.parametrize("endpoint", ["flow_starts", "broadcasts"])
@pytest.mark.parametrize(
    ("recipients", "expected"),
    [
        ({"groups": ["No Such Group"]}, {"groups": ["No such object: No Such Group"]}),
        ({"contacts": [UNKNOWN]}, {"contacts": [f"No such object: {UNKNOWN}"]}),
        ({"contacts": ["nope"]}, {"contacts": ["No such object: nope"]}),
        (
            {"urns": ["tel:+256700000003", "tel:12"]},
            {"urns": {"1": ["Invalid URN: tel:12. Ensure phone numbers contain country codes."]}},
        ),
        ({}, {"non_field_errors": ["Must specify at least one group, contact or URN"]}),
    ],
)
def test_unknown_recipients_are_refused_with_the_servers_errors(
    fresh_sim, endpoint, recipients, expected
):
    client, raw = fresh_sim.client(), Raw(fresh_sim)
    if endpoint == "flow_starts":
        body = {"flow": client.get_flows().first().uuid, **recipients}
    else:
        body = {"text": "Hello", **recipients}
    response = raw.post(endpoint, body)
    assert response.status_code == 400
    assert response.json() == expected


def test_a_message_to_an_unknown_or_deleted_contact_is_refused(fresh_sim):
    client, raw = fresh_sim.client(), Raw(fresh_sim)
    deleted = client.get_contacts(deleted=True).first()
    for ref in (UNKNOWN, "nope", deleted.uuid):
        response = raw.post("messages", {"contact": ref, "text": "Hello"})
        assert response.status_code == 400
        assert response.json() == {"contact": [f"No such object: {ref}"]}


# -- groups and labels ----------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["groups", "labels"])
def test_it_creates_renames_and_deletes_groups_and_labels(fresh_sim, endpoint):
    raw = Raw(fresh_sim)
    created = raw.post(endpoint, {"name": "  Follow Up  "})
    assert created.status_code == 201
    item = created.json()
    assert item["name"] == "Follow Up" and item["count"] == 0
    assert raw.post(endpoint, {"name": "follow up"}).json() == {
        "name": ["This field must be unique."]
    }
    renamed = raw.post(endpoint, {"name": "FOLLOW UP"}, uuid=item["uuid"])
    assert renamed.status_code == 200 and renamed.json() == {**item, "name": "FOLLOW UP"}
    assert raw.get(endpoint, uuid=item["uuid"]).json()["results"] == [renamed.json()]
    deleted = raw.delete(endpoint, uuid=item["uuid"])
    assert deleted.status_code == 204 and deleted.content == b""
    assert raw.get(endpoint, uuid=item["uuid"]).json()["results"] == []
    assert raw.delete(endpoint, uuid=item["uuid"]).json() == {"detail": "Not found."}


@pytest.mark.parametrize("endpoint", ["groups", "labels"])
@pytest.mark.parametrize(
    ("method", "body", "params", "status", "expected"),
    [
        ("POST", {}, {}, 400, {"name": ["This field is required."]}),
        (
            "POST",
            {"name": "x" * 65},
            {},
            400,
            {"name": ["Ensure this field has no more than 64 characters."]},
        ),
        (
            "POST",
            ["x"],
            {},
            400,
            {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
        ),
        ("POST", {"name": "New"}, {"uuid": UNKNOWN}, 404, {"detail": "Not found."}),
        (
            "POST",
            {"name": "New"},
            {"uuid": "bad"},
            400,
            {"detail": "Param 'uuid': bad is not a valid UUID."},
        ),
        (
            "DELETE",
            None,
            {},
            400,
            {"detail": "URL must contain one of the following parameters: uuid"},
        ),
        ("DELETE", None, {"uuid": UNKNOWN}, 404, {"detail": "Not found."}),
    ],
)
def test_group_and_label_writes_answer_the_servers_errors(
    fresh_sim, endpoint, method, body, params, status, expected
):
    raw = Raw(fresh_sim)
    if method == "POST":
        response = raw.post(endpoint, body, **params)
    else:
        response = raw.delete(endpoint, **params)
    assert response.status_code == status
    assert response.json() == expected


def test_a_system_group_cannot_be_renamed_or_deleted(fresh_sim):
    raw = Raw(fresh_sim)
    system = groups_by_name(raw)["Open Tickets"]
    for response in (
        raw.post("groups", {"name": "Tickets"}, uuid=system["uuid"]),
        raw.delete("groups", uuid=system["uuid"]),
    ):
        assert response.status_code == 403
        assert response.json() == {"detail": "Cannot modify system object."}


def test_deleting_a_group_takes_it_off_its_members_and_leaves_the_other_groups(fresh_sim):
    client, raw = fresh_sim.client(), Raw(fresh_sim)
    before = groups_by_name(raw)
    members = all_contacts(client, group="Wakiso")
    assert members
    assert raw.delete("groups", uuid=before["Wakiso"]["uuid"]).status_code == 204
    after = groups_by_name(raw)
    assert after == {name: g for name, g in before.items() if name != "Wakiso"}
    for contact in members:
        fresh = client.get_contacts(uuid=contact.uuid).first()
        assert "Wakiso" not in {g.name for g in fresh.groups}
        assert fresh.modified_on > contact.modified_on
    for name, group in after.items():
        if group["query"] is None:
            assert len(all_contacts(client, group=group["uuid"])) == group["count"], name


def test_deleting_a_label_takes_it_off_its_messages_and_leaves_the_other_labels(fresh_sim):
    raw = Raw(fresh_sim)
    labels = {lb["name"]: lb for lb in raw.get("labels").json()["results"]}
    gone = max(labels.values(), key=lambda lb: lb["count"])
    assert gone["count"] > 0
    assert raw.delete("labels", uuid=gone["uuid"]).status_code == 204
    after = {lb["name"]: lb for lb in raw.get("labels").json()["results"]}
    assert after == {name: lb for name, lb in labels.items() if name != gone["name"]}
    inbox = fresh_sim.client().get_messages(folder="inbox").all()
    shown = {label.name for message in inbox for label in message.labels}
    assert gone["name"] not in shown and shown <= set(after)
