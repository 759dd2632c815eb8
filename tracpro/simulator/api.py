"""Read endpoints: filters, orderings and the server's JSON shapes."""

import bisect
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import archives
from .clock import fmt_drf, fmt_full, parse_datetime
from .store import EXIT_TYPES, ID_MASK, Contact, Message, OrgStore, key_of

PAGE_SIZE = 250
UUID_RE = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I)
TRUE_VALUES = frozenset({"true", "y", "yes", "1"})


class ApiError(Exception):
    def __init__(self, status: int, payload: object) -> None:
        super().__init__(status, payload)
        self.status = status
        self.payload = payload


class Query:
    """Query parameters with Django QueryDict semantics (`get` returns the last value)."""

    def __init__(self, params: dict[str, list[str]]) -> None:
        self.params = params

    def get(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[-1] if values else None

    def getlist(self, name: str) -> list[str]:
        return self.params.get(name, [])

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.get(name)
        return default if value is None else str_to_bool(value)

    def uuid(self, name: str) -> str | None:
        value = self.get(name)
        return None if value is None else check_uuid(name, value)

    def exclusive(self, *names: str) -> None:
        if sum(1 for n in names if self.get(n) is not None) > 1:
            raise ApiError(
                400, {"detail": f"You may only specify one of the {', '.join(names)} parameters"}
            )


def str_to_bool(value: str) -> bool:
    return value.lower() in TRUE_VALUES


def check_uuid(name: str, value: str) -> str:
    if not UUID_RE.match(value.strip()):
        raise ApiError(400, {"detail": f"Param '{name}': {value} is not a valid UUID."})
    return value.strip().lower()


@dataclass
class Listing:
    """What a list endpoint pages over: sorted keys and how to show one."""

    keys: Sequence
    fetch: Callable[[object], dict]
    descending: bool = True
    lo: int = 0
    hi: int | None = None
    accept: Callable[[object], bool] | None = None
    key_type: type = int
    encode: Callable[[object], str] | None = None  # a JSON fragment, faster than fetch()


EMPTY = Listing(keys=[], fetch=lambda key: {})


def time_bounds(keys: Sequence[int], query: Query):
    """Index bounds for inclusive `after`/`before`; None when a date does not parse."""
    lo, hi = 0, len(keys)
    after, before = query.get("after"), query.get("before")
    if after is not None:
        stamp = parse_datetime(after)
        if stamp is None:
            return None
        lo = bisect.bisect_left(keys, key_of(stamp, 0), lo, hi)
    if before is not None:
        stamp = parse_datetime(before)
        if stamp is None:
            return None
        hi = bisect.bisect_left(keys, key_of(stamp + 1, 0), lo, hi)
    return lo, hi


def bounded(
    keys: Sequence[int], query: Query, fetch, descending=True, accept=None, encode=None
) -> Listing:
    bounds = time_bounds(keys, query)
    if bounds is None:
        return EMPTY
    return Listing(keys, fetch, descending, bounds[0], bounds[1], accept, encode=encode)


def small_listing(items: list, stamp: Callable, fetch: Callable) -> Listing:
    """A listing over a few records, ordered by (stamp, position)."""
    by_key = {key_of(stamp(item), i + 1): item for i, item in enumerate(items)}
    return Listing(sorted(by_key), lambda key: fetch(by_key[key]))


# -- shapes ---------------------------------------------------------------------------------------


def urn_display(urn: str | None) -> str | None:
    if not urn:
        return None
    scheme, _, path = urn.partition(":")
    if scheme == "tel" and path.startswith("+256") and len(path) == 13:
        return f"0{path[4:7]} {path[7:]}"
    return path


def contact_ref(contact: Contact) -> dict:
    if contact.ref is None:
        urn = contact.urns[0] if contact.urns else None
        contact.ref = {
            "uuid": contact.uuid,
            "name": contact.name,
            "urn": urn,
            "urn_display": urn_display(urn),
        }
    return contact.ref


def contact_json(store: OrgStore, contact: Contact) -> dict:
    if contact.deleted:
        return {
            "uuid": contact.uuid,
            "name": None,
            "status": None,
            "language": None,
            "urns": [],
            "groups": [],
            "notes": [],
            "fields": {},
            "flow": None,
            "created_on": fmt_drf(contact.created),
            "modified_on": fmt_drf(contact.modified),
            "last_seen_on": fmt_drf(contact.last_seen),
            "blocked": None,
            "stopped": None,
        }
    waiting = store.waiting.get(contact.id)
    return {
        "uuid": contact.uuid,
        "name": contact.name,
        "status": contact.status,
        "language": contact.language,
        "urns": list(contact.urns),
        "groups": [{"uuid": g.uuid, "name": g.name} for g in store.contact_groups(contact)],
        "notes": [],
        "fields": {f.key: contact.fields.get(f.key) for f in store.fields},
        "flow": store.flows[store.runs.flow[waiting - 1]].ref if waiting else None,
        "created_on": fmt_drf(contact.created),
        "modified_on": fmt_drf(contact.modified),
        "last_seen_on": fmt_drf(contact.last_seen),
        "blocked": contact.status == "blocked",
        "stopped": contact.status == "stopped",
    }


_text = json.encoder.encode_basestring  # JSON string literal, C speed, non-ASCII kept


def contact_ref_json(contact: Contact) -> str:
    if contact.ref_json is None:
        contact.ref_json = json.dumps(
            contact_ref(contact), ensure_ascii=False, separators=(",", ":")
        )
    return contact.ref_json


def run_fragment(store: OrgStore, rid: int, paths: bool = True) -> str:
    """One run as JSON text. Built by hand: pages of runs are the hot path."""
    runs, row = store.runs, rid - 1
    flow = store.flows[runs.flow[row]]
    nodes = flow.compiled.node_uuids
    walk = store.walk_run(rid)
    start, exited, exit_type = runs.start[row], runs.exited[row], runs.exit_type[row]
    if paths:
        steps = [f'{{"node":"{nodes[i]}","time":"{fmt_full(t)}"}}' for i, t in walk.path]
        path = "[" + ",".join(steps) + "]"
    else:
        path = "null"
    values = ",".join(
        [
            f'{_text(key)}:{{"name":{_text(name)},"value":{_text(value)}'
            f',"category":{_text(category) if category else "null"}'
            f',"node":"{nodes[node]}","time":"{fmt_full(t)}"}}'
            for key, (name, value, category, node, t, _input) in walk.values.items()
        ]
    )
    start_ref = f'{{"uuid":"{store.starts[start - 1].uuid}"}}' if start > 0 else "null"
    exited_on = '"' + fmt_drf(exited) + '"' if exited else "null"
    exit_name = '"' + EXIT_TYPES[exit_type] + '"' if exit_type else "null"
    return (
        f'{{"id":{rid},"uuid":"{store.run_uuids.make(rid)}","flow":{flow.ref_json}'
        f',"contact":{contact_ref_json(store.contacts[runs.contact[row] - 1])},"start":{start_ref}'
        f',"responded":{"true" if walk.responded else "false"},"path":{path},"values":{{{values}}}'
        f',"created_on":"{fmt_drf(runs.created[row])}","modified_on":"{fmt_drf(runs.modified[row])}"'
        f',"exited_on":{exited_on},"exit_type":{exit_name}}}'
    )


def run_json(store: OrgStore, rid: int, paths: bool = True) -> dict:
    return json.loads(run_fragment(store, rid, paths))


def flow_json(store: OrgStore, flow) -> dict:
    live = store.flow_counts.get(flow.idx, [0] * 5)
    released = store.released_counts.get(flow.idx, [0] * 5)
    counts = [a + b for a, b in zip(live, released, strict=True)]
    return {
        "uuid": flow.uuid,
        "name": flow.name,
        "type": flow.spec.flow_type,
        "archived": flow.archived,
        "labels": list(flow.labels),
        "expires": flow.definition["expire_after_minutes"],
        "runs": {
            "active": 0,
            "waiting": counts[0],
            "completed": counts[1],
            "interrupted": counts[2],
            "expired": counts[3],
            "failed": counts[4],
        },
        "results": flow.compiled.results(),
        "parent_refs": [],
        "created_on": fmt_drf(flow.created),
        "modified_on": fmt_drf(flow.modified),
    }


def group_json(store: OrgStore, group) -> dict:
    return {
        "uuid": group.uuid,
        "name": group.name,
        "query": group.query,
        "status": "ready",
        "system": group.system,
        "count": store.group_count(group),
    }


def field_json(store: OrgStore, field) -> dict:
    in_queries = sum(1 for g in store.groups if g.query and g.query.startswith(field.key + " "))
    return {
        "key": field.key,
        "name": field.name,
        "type": field.type,
        "featured": field.featured,
        "priority": field.priority,
        "usages": {"flows": 0, "groups": in_queries, "campaign_events": 0},
        "agent_access": "edit",
        "label": field.name,
        "value_type": "numeric" if field.type == "number" else field.type,
    }


def label_json(store: OrgStore, label) -> dict:
    count = sum(1 for m in store.messages if label.idx in m.labels and m.visibility == "visible")
    return {"uuid": label.uuid, "name": label.name, "count": count}


def message_json(store: OrgStore, msg: Message) -> dict:
    contact = store.contacts[msg.contact - 1]
    incoming = msg.direction == "in"
    return {
        "id": msg.id,
        "uuid": store.message_uuids.make(msg.id),
        "contact": {"uuid": contact.uuid, "name": contact.name},
        "urn": msg.urn,
        "channel": dict(store.channels[msg.channel]) if store.channels else None,
        "direction": msg.direction,
        "type": "text",
        "status": msg.status,
        "archived": msg.visibility == "archived",
        "visibility": msg.visibility,
        "text": msg.text,
        "labels": [{"uuid": store.labels[i].uuid, "name": store.labels[i].name} for i in msg.labels]
        if incoming
        else [],
        "flow": store.flows[msg.flow].ref if msg.flow >= 0 else None,
        "attachments": [],
        "quick_replies": [],
        "created_on": fmt_drf(msg.created),
        "sent_on": fmt_drf(msg.sent),
        "modified_on": fmt_drf(msg.modified),
        "media": None,
        "broadcast": msg.broadcast,
    }


def start_json(store: OrgStore, start) -> dict:
    return {
        "id": start.id,
        "uuid": start.uuid,
        "flow": store.flows[start.flow].ref,
        "status": start.status,
        "progress": {"total": start.total, "started": start.started},
        "groups": store.group_refs(start),
        "contacts": [
            {"uuid": c.uuid, "name": c.name}
            for c in (store.contact(i) for i in start.contacts)
            if c is not None
        ],
        "params": start.params,
        "extra": start.params,
        "restart_participants": start.restart_participants,
        "exclude_active": start.exclude_active,
        "created_on": fmt_drf(start.created),
        "modified_on": fmt_drf(start.modified),
    }


def broadcast_json(store: OrgStore, bcast) -> dict:
    return {
        "id": bcast.id,
        "uuid": bcast.uuid,
        "status": bcast.status,
        "progress": {
            "total": bcast.total,
            "started": bcast.total if bcast.status == "completed" else 0,
        },
        "urns": list(bcast.urns),
        "contacts": [
            {"uuid": c.uuid, "name": c.name}
            for c in (store.contact(i) for i in bcast.contacts)
            if c is not None
        ],
        "groups": store.group_refs(bcast),
        "text": dict(bcast.text),
        "attachments": {lang: [] for lang in bcast.text},
        "quick_replies": {lang: [] for lang in bcast.text},
        "base_language": bcast.base_language,
        "created_on": fmt_drf(bcast.created),
    }


def org_json(store: OrgStore) -> dict:
    org = store.org
    return {
        "uuid": org.uuid,
        "name": org.name,
        "country": org.country,
        "languages": list(org.languages),
        "timezone": org.timezone,
        "date_style": org.date_style,
        "anon": False,
        "credits": {"used": -1, "remaining": -1},
        "primary_language": org.languages[0] if org.languages else None,
    }


# -- GET handlers ---------------------------------------------------------------------------------


def get_org(store: OrgStore, query: Query) -> dict:
    return org_json(store)


def get_definitions(store: OrgStore, query: Query) -> dict:
    dependencies = query.get("dependencies") or "all"
    if dependencies not in ("none", "flows", "all"):
        raise ApiError(400, {"detail": "dependencies must be one of none, flows, all"})
    wanted = [check_uuid("flow", value) for value in query.getlist("flow")]
    for value in query.getlist("campaign"):
        check_uuid("campaign", value)
    flows = [f for f in store.flows if f.uuid in wanted]
    triggers = []
    if dependencies != "none":
        triggers = [
            {
                "trigger_type": "K",
                "keywords": [f.keyword],
                "match_type": "F",
                "flow": {"uuid": f.uuid, "name": f.name},
                "groups": [],
                "exclude_groups": [],
                "contacts": [],
                "channel": None,
            }
            for f in flows
            if f.keyword
        ]
    return {
        "version": "13",
        "site": "https://rapidpro.simulator",
        "flows": [f.definition for f in flows],
        "campaigns": [],
        "triggers": triggers,
        "fields": [],
        "groups": [],
    }


def list_flows(store: OrgStore, query: Query) -> Listing:
    flows = list(store.flows)
    uuid = query.uuid("uuid")
    if uuid:
        flows = [f for f in flows if f.uuid == uuid]
    flow_type = query.get("type")
    if flow_type:
        flows = [f for f in flows if f.spec.flow_type == flow_type]
    archived = query.get("archived")
    if archived:
        flows = [f for f in flows if f.archived == str_to_bool(archived)]
    for name, test in (
        ("after", lambda f, t: f.modified >= t),
        ("before", lambda f, t: f.modified <= t),
    ):
        value = query.get(name)
        if value is not None:
            stamp = parse_datetime(value)
            flows = [f for f in flows if stamp is not None and test(f, stamp)]
    return small_listing(flows, lambda f: f.created, lambda f: flow_json(store, f))


def by_uuid_or_name(records: list, query: Query) -> list:
    """The groups or labels `?uuid=` or `?name=` (case-insensitive) picks, else all."""
    query.exclusive("uuid", "name")
    uuid, name = query.uuid("uuid"), query.get("name")
    if uuid:
        records = [r for r in records if r.uuid == uuid]
    if name is not None:
        records = [r for r in records if r.name.lower() == name.strip().lower()]
    return list(records)


def list_groups(store: OrgStore, query: Query) -> Listing:
    groups = by_uuid_or_name(store.groups, query)
    if query.flag("manual_only"):
        groups = [g for g in groups if g.query is None and not g.system]
    return small_listing(groups, lambda g: g.created, lambda g: group_json(store, g))


def list_fields(store: OrgStore, query: Query) -> Listing:
    fields = list(store.fields)
    key = query.get("key")
    if key is not None:
        fields = [f for f in fields if f.key == key]
    return small_listing(fields, lambda f: f.created, lambda f: field_json(store, f))


def list_labels(store: OrgStore, query: Query) -> Listing:
    labels = by_uuid_or_name(store.labels, query)
    return small_listing(labels, lambda lb: lb.created, lambda lb: label_json(store, lb))


def normalize_urn(value: str, country_code: str = "256") -> str | None:
    """Normalize a URN the way the server does for lookups (None when invalid)."""
    scheme, sep, path = value.strip().partition(":")
    scheme = scheme.lower()
    if not sep or not path or scheme not in URN_SCHEMES:
        return None
    if scheme == "tel":
        digits = re.sub(r"[\s\-().]", "", path)
        if digits.startswith("00"):
            digits = "+" + digits[2:]
        elif digits.startswith("0"):
            digits = f"+{country_code}{digits[1:]}"
        elif not digits.startswith("+"):
            digits = "+" + digits
        if not re.fullmatch(r"\+[1-9]\d{7,14}", digits):
            return None
        return f"tel:{digits}"
    if scheme == "whatsapp" and not re.fullmatch(r"\d{6,15}", path):
        return None
    if scheme == "telegram" and not re.fullmatch(r"\d{1,15}", path):
        return None
    if scheme == "mailto" and "@" not in path:
        return None
    return f"{scheme}:{path}"


def contact_by_urn(store: OrgStore, value: str) -> Contact | None:
    """The contact that owns URN `value` (normalized first), or None."""
    normalized = normalize_urn(value)
    owner = store.urn_owner.get(normalized) if normalized else None
    return store.contact(owner) if owner else None


URN_SCHEMES = frozenset(
    [
        "tel",
        "whatsapp",
        "telegram",
        "mailto",
        "facebook",
        "twitter",
        "twitterid",
        "viber",
        "line",
        "ext",
        "fcm",
        "email",
    ]
)


def list_contacts(store: OrgStore, query: Query) -> Listing:
    deleted = query.flag("deleted")
    keys = store.deleted_contact_keys if deleted else store.contact_keys
    descending = not query.flag("reverse")

    def fetch(key: int) -> dict:
        return contact_json(store, store.contacts[(key & ID_MASK) - 1])

    uuid, urn = query.uuid("uuid"), query.get("urn")
    if uuid is not None or urn is not None:
        contact = store.contact_by_uuid(uuid) if uuid else None
        if urn is not None:
            by_urn = contact_by_urn(store, urn)
            contact = by_urn if uuid is None or contact is by_urn else None
        if contact is None or contact.deleted != deleted:
            return EMPTY
        return bounded([key_of(contact.modified, contact.id)], query, fetch, descending)
    accept = None
    group_ref_value = query.get("group")
    if group_ref_value is not None:
        group = store.group_by_ref(group_ref_value)
        if group is None:
            return EMPTY
        if group.query is None:
            members = group.members
            accept = lambda key: (key & ID_MASK) in members  # noqa: E731
        else:
            accept = lambda key: group.matches(store.contacts[(key & ID_MASK) - 1])  # noqa: E731
    return bounded(keys, query, fetch, descending, both(accept, late(store, "contacts")))


def late(store: OrgStore, kind: str):
    """Leaves out what was written but is not visible yet (store.LateWrites)."""
    if store.late is None:
        return None
    held = store.run_visible_at if kind == "runs" else store.contact_visible_at
    return store.late.hides(held)


def both(first, second):
    if first is None or second is None:
        return first or second
    return lambda key: first(key) and second(key)


def list_runs(store: OrgStore, query: Query) -> Listing:
    query.exclusive("flow", "contact")
    paths = query.flag("paths", default=True)
    descending = not query.flag("reverse")

    def fetch(key: int) -> dict:
        return run_json(store, key & ID_MASK, paths)

    def encode(key: int) -> str:
        return run_fragment(store, key & ID_MASK, paths)

    uuid = query.uuid("uuid")
    if uuid is not None:
        rid = store.run_id_by_uuid(uuid)
        if rid is None:
            return EMPTY
        return bounded(
            [key_of(store.runs.modified[rid - 1], rid)], query, fetch, descending, None, encode
        )
    responded = query.flag("responded")
    flow_uuid = query.uuid("flow")
    accept = None
    if flow_uuid is not None:
        flow = store.flow_by_uuid(flow_uuid)
        if flow is None:
            return EMPTY
        index = store.flow_responded_keys if responded else store.flow_run_keys
        keys = index.get(flow.idx, [])
    else:
        keys = store.run_keys
        if responded:
            flags = store.runs.responded
            accept = lambda key: flags[(key & ID_MASK) - 1] == 1  # noqa: E731
    contact_uuid = query.uuid("contact")
    if contact_uuid is not None:
        contact = store.contact_by_uuid(contact_uuid)
        if contact is None:
            return EMPTY
        owners, previous = store.runs.contact, accept

        def accept(key: int) -> bool:
            return owners[(key & ID_MASK) - 1] == contact.id and (previous is None or previous(key))

    return bounded(keys, query, fetch, descending, both(accept, late(store, "runs")), encode)


FOLDERS = ("inbox", "flows", "archived", "outbox", "sent", "failed")


def list_messages(store: OrgStore, query: Query) -> Listing:
    def fetch(key: int) -> dict:
        return message_json(store, store.messages[(key & ID_MASK) - 1])

    uuid = query.uuid("uuid")
    if uuid is not None:
        ident = store.message_uuids.parse(uuid)
        msg = store.messages[ident - 1] if ident and ident <= len(store.messages) else None
        if msg is None or msg.folder() is None:
            return EMPTY
        return bounded([key_of(msg.created, msg.id)], query, fetch)
    folder = query.get("folder")
    if folder is not None:
        folder = folder.lower()
        if folder not in FOLDERS:
            return EMPTY
    keys = store.message_keys.get(folder, [])
    if folder != "sent":
        return bounded(keys, query, fetch)
    # sent is ordered by sent_on but still filtered on created_on
    after, before = query.get("after"), query.get("before")
    low = parse_datetime(after) if after is not None else 0
    high = parse_datetime(before) if before is not None else None
    if low is None or (before is not None and high is None):
        return EMPTY
    messages = store.messages

    def accept(key: int) -> bool:
        created = messages[(key & ID_MASK) - 1].created
        return created >= low and (high is None or created <= high)

    return Listing(keys, fetch, accept=accept if (after or before) else None)


def list_flow_starts(store: OrgStore, query: Query) -> Listing:
    starts = list(store.starts)
    uuid = query.uuid("uuid")
    if uuid is not None:
        starts = [s for s in starts if s.uuid == uuid]
    by_key = {key_of(s.modified, s.id): s for s in starts}
    return bounded(
        sorted(by_key),
        query,
        lambda key: start_json(store, by_key[key]),
        descending=not query.flag("reverse"),
    )


def list_broadcasts(store: OrgStore, query: Query) -> Listing:
    items = list(store.broadcasts)
    uuid = query.uuid("uuid")
    if uuid is not None:
        items = [b for b in items if b.uuid == uuid]
    by_key = {key_of(b.created, b.id): b for b in items}
    return bounded(sorted(by_key), query, lambda key: broadcast_json(store, by_key[key]))


def list_boundaries(store: OrgStore, query: Query) -> Listing:
    by_id = {b["osm_id"]: b for b in store.boundaries}
    return Listing(sorted(by_id), lambda key: by_id[key], descending=False, key_type=str)


def list_archives(store: OrgStore, query: Query) -> list[dict]:
    """Archives use limit/offset pagination, newest first (see archives.py)."""
    period = query.get("period")
    found = archives.listing(
        store,
        period if period in ("daily", "monthly") else None,
        query.get("type") or query.get("archive_type"),
    )
    for name, keep in (("after", lambda a, d: a >= d), ("before", lambda a, d: a <= d)):
        value = query.get(name)
        if value:  # the server ignores an empty value
            stamp = parse_datetime(value)
            if stamp is None:
                return []
            day = fmt_full(stamp)[:10]
            found = [a for a in found if keep(a["start_date"], day)]
    return found
