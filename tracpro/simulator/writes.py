"""Write endpoints (POST / DELETE) with the server's validation errors.

Every handler takes `now` from its caller, so a recorded write replays to the
same result (see sim.Simulator and --state).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter

from .api import (
    ApiError,
    Query,
    broadcast_json,
    check_uuid,
    contact_by_urn,
    contact_json,
    field_json,
    group_json,
    label_json,
    message_json,
    normalize_urn,
    start_json,
)
from .clock import fmt_local, parse_datetime
from .engine import field_key, format_decimal, parse_decimal
from .ids import label_uuid
from .live import interrupt_contact
from .store import (
    Broadcast,
    Contact,
    ContactField,
    FlowStart,
    Group,
    Label,
    Message,
    OrgStore,
    index_remove,
    key_of,
)

MAX_ITEMS = 100
MAX_TEXT_LEN = 4096  # the server's Msg.MAX_TEXT_LEN
TOO_LONG = f"Ensure this field has no more than {MAX_TEXT_LEN} characters."
LANGUAGE_RE = re.compile(r"^[a-z]{3}$")
FIELD_TYPES = ("text", "number", "datetime", "state", "district", "ward")
NOT_FOUND = ApiError(404, {"detail": "Not found."})
Result = tuple[int, object]


def _body_dict(body: object) -> dict:
    if not isinstance(body, dict):
        kind = type(body).__name__ if body is not None else "null"
        raise ApiError(
            400, {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}
        )
    return body


def _lookup(query: Query, names: tuple[str, ...], required: bool = False) -> tuple[str, str] | None:
    given = [(n, query.get(n)) for n in names if query.get(n) is not None]
    if len(given) > 1:
        joined = ", ".join(names)
        raise ApiError(
            400, {"detail": f"URL can only contain one of the following parameters: {joined}"}
        )
    if not given:
        if required:
            joined = ", ".join(names)
            raise ApiError(
                400, {"detail": f"URL must contain one of the following parameters: {joined}"}
            )
        return None
    return given[0]


def _list(errors: dict, data: dict, name: str) -> list | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, list):
        errors[name] = [f'Expected a list of items but got type "{type(value).__name__}".']
        return None
    if len(value) > MAX_ITEMS:
        errors[name] = [f"This field can only contain up to {MAX_ITEMS} items."]
        return None
    return value


# -- contacts -------------------------------------------------------------------------------------


def _contact_by(store: OrgStore, lookup: tuple[str, str]) -> Contact | None:
    name, value = lookup
    if name == "uuid":
        contact = store.contact_by_uuid(check_uuid("uuid", value))
    else:
        contact = contact_by_urn(store, value)
    return None if contact is None or contact.deleted else contact


def _find_contact(store: OrgStore, ref: object, by_urn: bool = False) -> Contact | None:
    """A contact named in a request body by UUID (or, with `by_urn`, by URN too); None
    when there is no such contact or it is deleted."""
    ref = str(ref)
    if by_urn and ":" in ref:
        return _contact_by(store, ("urn", ref))
    return _contact_by(store, ("uuid", ref)) if _looks_like_uuid(ref) else None


def _field_value(field: ContactField, value: object, tz_offset: int) -> str | None:
    if value is None or value == "":
        return None
    text = value if isinstance(value, str) else str(value)
    if field.type == "number":
        number = parse_decimal(text)
        return format_decimal(number) if number is not None else None
    if field.type == "datetime":
        stamp = parse_datetime(text)
        return fmt_local(stamp, tz_offset) if stamp is not None else None
    return text.strip() or None


def _validate_contact(store: OrgStore, data: dict, instance: Contact | None, urn_in_url: bool):
    errors: dict = {}
    clean: dict = {}
    if "name" in data:
        name = data["name"]
        if name is not None and not isinstance(name, str):
            errors["name"] = ["Not a valid string."]
        elif name is not None and len(name) > 64:
            errors["name"] = ["Ensure this field has no more than 64 characters."]
        else:
            clean["name"] = name.strip() if isinstance(name, str) else None
    if "language" in data:
        language = data["language"]
        if language is not None and (
            not isinstance(language, str) or not LANGUAGE_RE.match(language)
        ):
            errors["language"] = ["Not a valid ISO639-3 language code."]
        else:
            clean["language"] = language
    urns = _list(errors, data, "urns")
    if urns is not None:
        if urn_in_url:
            errors["urns"] = ["Field not allowed when using URN in URL"]
        else:
            _validate_urns(store, urns, instance, errors, clean)
    if "fields" in data:
        _validate_fields(store, data["fields"], errors, clean)
    groups = _list(errors, data, "groups")
    if groups is not None:
        _validate_groups(store, groups, errors, clean)
    if errors:
        raise ApiError(400, errors)
    return clean


def _validate_urns(store: OrgStore, urns: list, instance, errors: dict, clean: dict) -> None:
    bad: dict[str, list[str]] = {}
    normalized = []
    for i, urn in enumerate(urns):
        value = normalize_urn(urn) if isinstance(urn, str) else None
        if value is None:
            bad[str(i)] = [f"Invalid URN: {urn}. Ensure phone numbers contain country codes."]
        else:
            normalized.append(value)
    if bad:
        errors["urns"] = bad
        return
    for value in normalized:
        owner = store.urn_owner.get(value)
        if owner is not None and (instance is None or owner != instance.id):
            errors["urns"] = ["URN is in use by another contact."]
            return
    clean["urns"] = list(dict.fromkeys(normalized))


def _validate_fields(store: OrgStore, fields: object, errors: dict, clean: dict) -> None:
    if not isinstance(fields, dict):
        errors["fields"] = [
            f'Expected a dictionary of items but got type "{type(fields).__name__}".'
        ]
        return
    known = {f.key: f for f in store.fields}
    values = {}
    for key, value in fields.items():
        if key not in known:
            errors["fields"] = [f"Invalid contact field key: {key}"]
            return
        if value is not None and not isinstance(value, str | int | float):
            errors["fields"] = [f"Invalid value for field {key}"]
            return
        values[key] = _field_value(known[key], value, store.org.tz_offset)
    clean["fields"] = values


def _validate_groups(store: OrgStore, refs: list, errors: dict, clean: dict) -> None:
    found = set()
    for ref in refs:
        group = store.group_by_ref(str(ref))
        if group is None:
            errors["groups"] = [f"No such object: {ref}"]
            return
        if group.query is not None or group.system:
            errors["groups"] = [f"Contact group must not be query based: {group.name}"]
            return
        found.add(group.idx)
    clean["groups"] = found


def _apply_contact(store: OrgStore, contact: Contact, clean: dict) -> None:
    if "name" in clean:
        contact.name = clean["name"]
    if "language" in clean:
        contact.language = clean["language"]
    if "urns" in clean:
        for urn in contact.urns:
            store.urn_owner.pop(urn, None)
        contact.urns = clean["urns"]
        for urn in contact.urns:
            store.urn_owner[urn] = contact.id
    for key, value in clean.get("fields", {}).items():
        if value is None:
            contact.fields.pop(key, None)
        else:
            contact.fields[key] = value
    if "groups" in clean:
        store.set_groups(contact, clean["groups"])


def post_contacts(store: OrgStore, query: Query, body: object, now: int) -> Result:
    data = _body_dict(body)
    lookup = _lookup(query, ("urn", "uuid"))
    instance = _contact_by(store, lookup) if lookup else None
    if lookup and lookup[0] == "uuid" and instance is None:
        raise NOT_FOUND
    urn_in_url = lookup is not None and lookup[0] == "urn"
    if urn_in_url and instance is None and normalize_urn(lookup[1]) is None:
        raise ApiError(400, {"urn": [f"Invalid URN: {lookup[1]}"]})
    clean = _validate_contact(store, data, instance, urn_in_url)
    if instance is None:
        if urn_in_url:
            clean["urns"] = [normalize_urn(lookup[1])]
        contact = Contact(len(store.contacts) + 1, "", now)
        contact.uuid = store.contact_uuids.make(contact.id)
        store.contacts.append(contact)
        _apply_contact(store, contact, clean)
        store.index_contact(contact)
        return 201, contact_json(store, contact)
    _apply_contact(store, instance, clean)
    store.touch_contact(instance, now)
    return 200, contact_json(store, instance)


def release_contact(store: OrgStore, contact: Contact, now: int) -> None:
    """Delete a contact: its URNs, groups, values and runs go; a tombstone stays."""
    runs = store.runs
    for row in range(len(runs)):
        if runs.contact[row] == contact.id and not runs.deleted[row]:
            store.remove_run(row + 1)
    for urn in contact.urns:
        store.urn_owner.pop(urn, None)
    store.set_groups(contact, set())
    index_remove(store.contact_keys, key_of(contact.modified, contact.id))
    contact.deleted = True
    contact.name = contact.language = None
    contact.urns, contact.fields = [], {}
    contact.status = "active"
    contact.modified = max(now, contact.modified)
    contact.ref = contact.ref_json = None
    store.index_contact(contact)


def delete_contacts(store: OrgStore, query: Query, body: object, now: int) -> Result:
    lookup = _lookup(query, ("urn", "uuid"), required=True)
    contact = _contact_by(store, lookup)
    if contact is None:
        raise NOT_FOUND
    release_contact(store, contact, now)
    return 204, None


CONTACT_ACTIONS = ("add", "remove", "block", "unblock", "interrupt", "archive_messages", "delete")


def post_contact_actions(store: OrgStore, query: Query, body: object, now: int) -> Result:
    data = _body_dict(body)
    errors: dict = {}
    refs = _list(errors, data, "contacts")
    if refs is None and "contacts" not in errors:
        errors["contacts"] = ["This field is required."]
    action = data.get("action")
    if action not in CONTACT_ACTIONS:
        errors["action"] = [f'"{action}" is not a valid choice.']
    contacts = []
    for ref in refs or []:
        contact = _find_contact(store, ref, by_urn=True)
        if contact is None:
            errors["contacts"] = [f"No such object: {ref}"]
            break
        contacts.append(contact)
    group = None
    if action in ("add", "remove"):
        group = store.group_by_ref(str(data.get("group") or ""))
        if not data.get("group"):
            errors["group"] = [f'For action "{action}" you should also specify a group']
        elif group is None:
            errors["group"] = [f"No such object: {data.get('group')}"]
        elif group.query is not None or group.system:
            errors["group"] = [f"Contact group must not be query based: {group.name}"]
    if errors:
        raise ApiError(400, errors)
    for contact in contacts:
        _contact_action(store, contact, action, group, now)
    return 204, None


def _looks_like_uuid(value: str) -> bool:
    try:
        check_uuid("contacts", value)
    except ApiError:
        return False
    return True


def _contact_action(store: OrgStore, contact: Contact, action: str, group, now: int) -> None:
    if action == "delete":
        release_contact(store, contact, now)
        return
    if action == "archive_messages":
        for msg in store.messages:
            if msg.contact == contact.id and msg.direction == "in" and msg.visibility == "visible":
                store.update_message(msg, visibility="archived", modified=now)
        return
    if action == "interrupt":
        interrupt_contact(store, contact.id, now)
        return
    if action == "add":
        store.set_groups(contact, contact.groups | {group.idx})
    elif action == "remove":
        store.set_groups(contact, contact.groups - {group.idx})
    elif action == "block":
        contact.status = "blocked"
        store.set_groups(contact, set())
        interrupt_contact(store, contact.id, now)
    elif action == "unblock":
        contact.status = "active"
    store.touch_contact(contact, now)


# -- flow starts, broadcasts, messages ------------------------------------------------------------


def _recipients(store: OrgStore, data: dict, errors: dict) -> tuple[list, list, list]:
    """The groups, contacts and URNs a flow start or broadcast names (see OrgStore.reach)."""
    groups, contacts, urns = [], [], []
    for ref in _list(errors, data, "groups") or []:
        group = store.group_by_ref(str(ref))
        if group is None:
            errors["groups"] = [f"No such object: {ref}"]
            break
        groups.append(group.idx)
    for ref in _list(errors, data, "contacts") or []:
        contact = _find_contact(store, ref)
        if contact is None:
            errors["contacts"] = [f"No such object: {ref}"]
            break
        contacts.append(contact.id)
    for i, ref in enumerate(_list(errors, data, "urns") or []):
        urn = normalize_urn(ref) if isinstance(ref, str) else None
        if urn is None:
            errors["urns"] = {
                str(i): [f"Invalid URN: {ref}. Ensure phone numbers contain country codes."]
            }
            break
        urns.append(urn)
    if not errors and not (groups or contacts or urns):
        errors["non_field_errors"] = ["Must specify at least one group, contact or URN"]
    return groups, contacts, urns


def post_flow_starts(store: OrgStore, query: Query, body: object, now: int) -> Result:
    data = _body_dict(body)
    errors: dict = {}
    flow_ref = data.get("flow")
    flow = store.flow_by_uuid(str(flow_ref)) if flow_ref else None
    if not flow_ref:
        errors["flow"] = ["This field is required."]
    elif flow is None or flow.archived:
        errors["flow"] = [f"No such object: {flow_ref}"]
    groups, contacts, urns = _recipients(store, data, errors)
    params = data.get("params", data.get("extra"))
    if params is not None and not isinstance(params, dict):
        errors["params"] = ["Must be a valid JSON object"]
    if errors:
        raise ApiError(400, errors)
    ident = len(store.starts) + 1
    start = FlowStart(
        id=ident,
        uuid=label_uuid(store.seed, store.org.slug, "start", ident),
        flow=flow.idx,
        created=now,
        modified=now,
        groups=groups,
        contacts=contacts,
        urns=urns,
        status="pending",
        restart_participants=_flag(data.get("restart_participants"), True),
        exclude_active=_flag(data.get("exclude_active"), False),
        params=params,
        total=-1,
        started=0,
    )
    store.starts.append(start)
    return 201, start_json(store, start)


def _flag(value: object, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool | int):
        return bool(value)
    return str(value).lower() in ("true", "1", "yes", "y")


def post_broadcasts(store: OrgStore, query: Query, body: object, now: int) -> Result:
    data = _body_dict(body)
    errors: dict = {}
    text = data.get("text")
    base = data.get("base_language") or store.org.languages[0]
    if isinstance(text, str) and text.strip():
        texts = {base: text}
    elif isinstance(text, dict) and text and all(isinstance(v, str) for v in text.values()):
        texts = dict(text)
    else:
        texts = {}
        errors["text"] = ["This field is required."]
    too_long = {lang: [TOO_LONG] for lang, value in texts.items() if len(value) > MAX_TEXT_LEN}
    if too_long:
        errors["text"] = too_long
    groups, contacts, urns = _recipients(store, data, errors)
    if errors:
        raise ApiError(400, errors)
    ident = len(store.broadcasts) + 1
    bcast = Broadcast(
        id=ident,
        uuid=label_uuid(store.seed, store.org.slug, "broadcast", ident),
        text=texts,
        created=now,
        urns=urns,
        contacts=contacts,
        groups=groups,
        status="pending",
        base_language=base if base in texts else next(iter(texts)),
        total=-1,
    )
    store.broadcasts.append(bcast)
    response = broadcast_json(store, bcast)
    _send_broadcast(store, bcast, now)
    return 201, response


def _send_broadcast(store: OrgStore, bcast: Broadcast, now: int) -> None:
    sent = 0
    for contact in store.reach(bcast.groups, bcast.contacts, bcast.urns):
        if not contact.urns:
            continue
        text = bcast.text.get(contact.language or "", bcast.text[bcast.base_language])
        msg = store.next_message(contact, "out", text, now)
        msg.status, msg.sent, msg.broadcast = "wired", now, bcast.id
        store.add_message(msg)
        sent += 1
    bcast.status, bcast.total = "completed", sent


def post_messages(store: OrgStore, query: Query, body: object, now: int) -> Result:
    data = _body_dict(body)
    errors: dict = {}
    ref = data.get("contact")
    contact = _find_contact(store, ref) if ref else None
    if not ref:
        errors["contact"] = ["This field is required."]
    elif contact is None:
        errors["contact"] = [f"No such object: {ref}"]
    text = data.get("text") or ""
    attachments = data.get("attachments") or []
    if not isinstance(text, str) or (not text and not attachments):
        errors["non_field_errors"] = ["Must provide either text or attachments."]
    elif len(text) > MAX_TEXT_LEN:
        errors["text"] = [TOO_LONG]
    if errors:
        raise ApiError(400, errors)
    msg = store.next_message(contact, "out", text, now)
    msg.status = "queued"
    store.add_message(msg)
    return 201, message_json(store, msg)


MESSAGE_ACTIONS = ("label", "unlabel", "archive", "restore", "delete")
LABEL_ACTIONS = ("label", "unlabel")


def post_message_actions(store: OrgStore, query: Query, body: object, now: int) -> Result:
    """Label, unlabel, archive, restore or delete incoming messages, named by their
    integer ids (the server looks them up by id only: a UUID is never found). 204,
    or 200 with the ids that match no message."""
    data = _body_dict(body)
    errors: dict = {}
    refs = data.get("messages")
    if refs is None:
        errors["messages"] = ["This field is required."]
    elif not isinstance(refs, list):
        errors["messages"] = [f'Expected a list of items but got type "{type(refs).__name__}".']
    elif len(refs) > MAX_ITEMS:
        errors["messages"] = [f"Ensure this field has no more than {MAX_ITEMS} elements."]
    action = data.get("action")
    if action is None:
        errors["action"] = ["This field is required."]
    elif action not in MESSAGE_ACTIONS:
        errors["action"] = [f'"{action}" is not a valid choice.']
    found, missing = [], []
    for ref in refs if isinstance(refs, list) and "messages" not in errors else []:
        msg = _message_by_id(store, ref)
        if msg is None:
            missing.append(ref)
        elif msg.direction != "in":
            errors["messages"] = [f"Not an incoming message: {msg.id}"]
            break
        else:
            found.append(msg)
    label = _action_label(store, data, action, errors, now) if not errors else None
    if errors:
        raise ApiError(400, errors)
    for msg in found:
        _message_action(store, msg, action, label, now)
    return (200, {"failures": missing}) if missing else (204, None)


def _message_by_id(store: OrgStore, ref: object) -> Message | None:
    if not isinstance(ref, int) or isinstance(ref, bool) or not 0 < ref <= len(store.messages):
        return None
    msg = store.messages[ref - 1]
    return msg if msg.visibility in ("visible", "archived") else None


def _action_label(store: OrgStore, data: dict, action: str, errors: dict, now: int) -> Label | None:
    """The label a label/unlabel action names (label_name may create it)."""
    ref, name = data.get("label"), data.get("label_name")
    if ref and name:
        errors["non_field_errors"] = ["Can't specify both label and label_name."]
        return None
    if action in LABEL_ACTIONS and not (ref or name):
        errors["non_field_errors"] = [f'For action "{action}" you should also specify a label']
        return None
    if action not in LABEL_ACTIONS and (ref or name):
        errors["non_field_errors"] = [f'For action "{action}" you should not specify a label']
        return None
    if ref:
        label = next(
            (lb for lb in store.labels if lb.uuid == str(ref) or lb.name == str(ref)), None
        )
        if label is None:
            errors["label"] = [f"No such object: {ref}"]
        return label
    if name:
        label = next((lb for lb in store.labels if lb.name.lower() == str(name).lower()), None)
        if label is None and action == "label":
            uuid = label_uuid(store.seed, store.org.slug, "label", name, now)
            label = Label(len(store.labels), uuid, str(name), now)
            store.labels.append(label)
        return label
    return None


def _message_action(store: OrgStore, msg: Message, action: str, label, now: int) -> None:
    if action == "label" and label is not None and label.idx not in msg.labels:
        store.update_message(msg, labels=(*msg.labels, label.idx), modified=now)
    elif action == "unlabel" and label is not None and label.idx in msg.labels:
        labels = tuple(i for i in msg.labels if i != label.idx)
        store.update_message(msg, labels=labels, modified=now)
    elif action == "archive" and msg.visibility == "visible":
        store.update_message(msg, visibility="archived", modified=now)
    elif action == "restore" and msg.visibility == "archived":
        store.update_message(msg, visibility="visible", modified=now)
    elif action == "delete":
        store.update_message(msg, visibility="deleted", labels=(), modified=now)


# -- groups, labels, fields -----------------------------------------------------------------------


def _name(data: dict, taken: list[str], errors: dict) -> str | None:
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = ["This field is required."]
        return None
    if len(name) > 64:
        errors["name"] = ["Ensure this field has no more than 64 characters."]
        return None
    if name.strip().lower() in (t.lower() for t in taken):
        errors["name"] = ["This field must be unique."]
        return None
    return name.strip()


@dataclass(frozen=True)
class _Named:
    """Contact groups and message labels: created, renamed and deleted by the same rules."""

    kind: str  # "group" / "label": part of a new record's seeded UUID
    records: Callable[[OrgStore], list]
    new: Callable[[int, str, str, int], Group | Label]
    show: Callable[[OrgStore, Group | Label], dict]
    remove: Callable[[OrgStore, Group | Label, int], None]

    def find(self, store: OrgStore, uuid: str) -> Group | Label:
        """The record `?uuid=` names: 404 when there is none, 403 for a system group."""
        found = (r for r in self.records(store) if r.uuid == check_uuid("uuid", uuid))
        record = next(found, None)
        if record is None:
            raise NOT_FOUND
        if getattr(record, "system", False):
            raise ApiError(403, {"detail": "Cannot modify system object."})
        return record

    def post(self, store: OrgStore, query: Query, body: object, now: int) -> Result:
        """Create (201), or rename the record `?uuid=` names (200)."""
        data = _body_dict(body)
        lookup = _lookup(query, ("uuid",))
        record = self.find(store, lookup[1]) if lookup else None
        records = self.records(store)
        errors: dict = {}
        name = _name(data, [r.name for r in records if r is not record], errors)
        if errors:
            raise ApiError(400, errors)
        if record is not None:
            record.name = name
            return 200, self.show(store, record)
        uuid = label_uuid(store.seed, store.org.slug, self.kind, name, now)
        record = self.new(len(records), uuid, name, now)
        records.append(record)
        return 201, self.show(store, record)

    def delete(self, store: OrgStore, query: Query, body: object, now: int) -> Result:
        lookup = _lookup(query, ("uuid",), required=True)
        self.remove(store, self.find(store, lookup[1]), now)
        return 204, None


GROUPS = _Named("group", attrgetter("groups"), Group, group_json, OrgStore.remove_group)
LABELS = _Named(
    "label",
    attrgetter("labels"),
    Label,
    label_json,
    lambda store, label, now: store.remove_label(label),
)
post_groups, delete_groups = GROUPS.post, GROUPS.delete
post_labels, delete_labels = LABELS.post, LABELS.delete


def post_fields(store: OrgStore, query: Query, body: object, now: int) -> Result:
    data = _body_dict(body)
    lookup = _lookup(query, ("key",))
    field = None
    if lookup:
        field = next((f for f in store.fields if f.key == lookup[1]), None)
        if field is None:
            raise NOT_FOUND
    errors: dict = {}
    name = _name(data, [f.name for f in store.fields if f is not field], errors)
    field_type = data.get("type")
    if field_type not in FIELD_TYPES:
        errors["type"] = [f'"{field_type}" is not a valid choice.']
    if errors:
        raise ApiError(400, errors)
    if field is not None:
        field.name, field.type = name, field_type
        return 200, field_json(store, field)
    field = ContactField(field_key(name), name, field_type, now)
    if any(f.key == field.key for f in store.fields):
        raise ApiError(400, {"name": ["This field must be unique."]})
    store.fields.append(field)
    return 201, field_json(store, field)
