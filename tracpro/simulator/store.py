"""One org's state: records, sorted keyset indexes and the bookkeeping for /sim/summary.

Runs are kept column-wise (arrays plus a list of input tuples); everything else
a run shows (path, values, times) is replayed by the engine when it is served.
Index keys are `timestamp << 32 | id`, so a sorted list of ints gives the
server's `-modified_on,-id` order and `bisect` gives keyset pagination.
"""

import bisect
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from .engine import CompiledFlow, Walk, parse_decimal
from .ids import UuidMaker

ID_BITS = 32
ID_MASK = (1 << ID_BITS) - 1
EXIT_TYPES = (None, "completed", "interrupted", "expired", "failed")
WAITING, COMPLETED, INTERRUPTED, EXPIRED, FAILED = range(5)


def key_of(us: int, ident: int) -> int:
    return (us << ID_BITS) | ident


def index_add(keys: list[int], key: int) -> None:
    if not keys or key > keys[-1]:
        keys.append(key)
    else:
        bisect.insort(keys, key)


def index_remove(keys: list[int], key: int) -> None:
    pos = bisect.bisect_left(keys, key)
    if pos < len(keys) and keys[pos] == key:
        del keys[pos]


def _remove_numbered(records: list, record: object) -> dict[int, int]:
    """Take `record` out of `records` (numbered by position in `idx`) and number the rest
    again; returns {old idx: new idx} for those that moved."""
    records[:] = [r for r in records if r is not record]
    moved = {r.idx: i for i, r in enumerate(records) if r.idx != i}
    for i, r in enumerate(records):
        r.idx = i
    return moved


@dataclass
class Org:
    slug: str
    name: str
    uuid: str
    token: str
    languages: list[str]
    family: str = ""  # "edu" or "health": the data set it is shaped like
    country: str = "UG"
    timezone: str = "Africa/Kampala"
    tz_offset: int = 3
    date_style: str = "day_first"


@dataclass
class Flow:
    idx: int
    uuid: str
    name: str
    definition: dict
    compiled: CompiledFlow
    archived: bool
    created: int
    modified: int
    labels: list[dict]
    poll: bool
    keyword: str | None
    spec: object = None
    ref: dict = field(default_factory=dict)
    ref_json: str = ""


@dataclass
class Group:
    idx: int
    uuid: str
    name: str
    created: int
    query: str | None = None
    system: bool = False
    members: set[int] = field(default_factory=set)

    def matches(self, contact: "Contact") -> bool:
        """Smart groups: only the `key = "value"` queries the simulator writes."""
        if self.query is None:
            return contact.id in self.members
        key, operator, value = self.query.partition(" = ")
        if not operator:
            return False
        wanted = value.strip().strip('"').casefold()
        return (contact.fields.get(key.strip()) or "").casefold() == wanted


@dataclass
class ContactField:
    key: str
    name: str
    type: str
    created: int
    priority: int = 0
    featured: bool = False


@dataclass
class Label:
    idx: int
    uuid: str
    name: str
    created: int


class Contact:
    __slots__ = (
        "created",
        "deleted",
        "district",
        "fields",
        "groups",
        "id",
        "language",
        "last_seen",
        "modified",
        "name",
        "propensity",
        "ref",
        "ref_json",
        "status",
        "urns",
        "uuid",
    )

    def __init__(self, ident: int, uuid: str, created: int) -> None:
        self.id = ident
        self.uuid = uuid
        self.created = created
        self.modified = created
        self.last_seen: int | None = None
        self.name: str | None = None
        self.language: str | None = None
        self.urns: list[str] = []
        self.groups: set[int] = set()
        self.fields: dict[str, str] = {}
        self.status = "active"
        self.deleted = False
        self.district = -1
        self.propensity = 0.6
        self.ref: dict | None = None
        self.ref_json: str | None = None


@dataclass
class FlowStart:
    id: int
    uuid: str
    flow: int
    created: int
    modified: int
    groups: list[int] = field(default_factory=list)
    contacts: list[int] = field(default_factory=list)
    urns: list[str] = field(default_factory=list)
    status: str = "completed"
    restart_participants: bool = True
    exclude_active: bool = False
    params: dict | None = None
    total: int = 0
    started: int = 0
    queue: list[int] = field(default_factory=list)  # contacts still to start (live)
    # The groups as named when one of them was deleted (see OrgStore.remove_group).
    group_refs: list[dict] | None = None


@dataclass
class Broadcast:
    id: int
    uuid: str
    text: dict[str, str]
    created: int
    urns: list[str] = field(default_factory=list)
    contacts: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    status: str = "completed"
    base_language: str = "eng"
    total: int = 0
    group_refs: list[dict] | None = None  # as on FlowStart


class Message:
    __slots__ = (
        "broadcast",
        "channel",
        "contact",
        "created",
        "direction",
        "flow",
        "id",
        "labels",
        "modified",
        "sent",
        "status",
        "text",
        "urn",
        "visibility",
    )

    def __init__(self, ident: int, contact: int, urn: str | None, direction: str, text: str):
        self.id = ident
        self.contact = contact
        self.urn = urn
        self.direction = direction
        self.text = text
        self.status = "handled" if direction == "in" else "wired"
        self.visibility = "visible"
        self.labels: tuple[int, ...] = ()
        self.flow = -1
        self.created = 0
        self.sent: int | None = None
        self.modified = 0
        self.broadcast: int | None = None
        self.channel = 0

    def folder(self) -> str | None:
        if self.visibility == "deleted":
            return None
        if self.direction == "in":
            if self.visibility == "archived":
                return "archived"
            return "flows" if self.flow >= 0 else "inbox"
        if self.visibility != "visible":
            return None
        if self.status in ("initializing", "queued", "errored"):
            return "outbox"
        return "failed" if self.status == "failed" else "sent"


class RunTable:
    """Runs, column-wise. Row `i` is run id `i + 1`."""

    def __init__(self) -> None:
        self.flow = array("H")
        self.contact = array("l")
        self.start = array("l")
        self.lang = array("b")
        self.created = array("q")
        self.modified = array("q")
        self.exited = array("q")
        self.exit_type = array("B")
        self.responded = array("B")
        self.deleted = bytearray()  # gone with its contact: not served, not counted
        self.archived = bytearray()  # archived and deleted: not served, still counted
        self.inputs: list[tuple] = []
        self.times: dict[int, tuple[int, ...]] = {}  # live-answered runs: arrival of each input

    def __len__(self) -> int:
        return len(self.flow)

    def append(self, flow: int, contact: int, start: int, lang: int, created: int, inputs: tuple):
        self.flow.append(flow)
        self.contact.append(contact)
        self.start.append(start)
        self.lang.append(lang)
        self.created.append(created)
        self.modified.append(created)
        self.exited.append(0)
        self.exit_type.append(WAITING)
        self.responded.append(0)
        self.deleted.append(0)
        self.archived.append(0)
        self.inputs.append(inputs)
        return len(self.flow)


@dataclass
class LateWrites:
    """Some writes become visible only `delay_us` after the `modified_on` they carry.

    The server stamps `modified_on` in many writers (mailroom, courier, Django) and
    serves list requests from a read replica (`temba/api/views.py`: GETs use the
    "readonly" database), so a row stamped earlier can become visible after a later
    one was read. A share of the writes (chosen by id and time) is held back so.
    """

    share: float
    delay_us: int
    now: object  # () -> the simulator's current time (Clock.peek)

    def visible_at(self, ident: int, stamp: int) -> int | None:
        roll = ((ident * 2_654_435_761) ^ (stamp * 40_503)) % 10_000
        return stamp + self.delay_us if roll < self.share * 10_000 else None

    def hides(self, visible_at: dict[int, int]):
        """An `accept` for listings: keys whose id is not visible yet are left out."""
        if not visible_at:
            return None
        now = self.now()
        return lambda key: visible_at.get(key & ID_MASK, 0) <= now


class ResultStats:
    __slots__ = ("categories", "count", "numeric_count", "sum")

    def __init__(self) -> None:
        self.count = 0
        self.numeric_count = 0
        self.sum = Decimal(0)
        self.categories: Counter[str] = Counter()


class OrgStore:
    """Everything one org serves, with its indexes."""

    def __init__(self, org: Org, seed: int) -> None:
        self.org = org
        self.spec: object = None  # the catalog.OrgSpec it was built from
        self.seed = seed
        self.salt = (seed * 1_000_003 + len(org.slug) * 7_919) & 0xFFFFFF
        self.run_uuids = UuidMaker(seed, org.slug, "run")
        self.contact_uuids = UuidMaker(seed, org.slug, "contact")
        self.message_uuids = UuidMaker(seed, org.slug, "message")
        self.flows: list[Flow] = []
        self.groups: list[Group] = []
        self.fields: list[ContactField] = []
        self.labels: list[Label] = []
        self.contacts: list[Contact] = []
        self.urn_owner: dict[str, int] = {}
        self.runs = RunTable()
        self.starts: list[FlowStart] = []
        self.broadcasts: list[Broadcast] = []
        self.messages: list[Message] = []
        self.boundaries: list[dict] = []
        self.channels: list[dict] = []
        # keyset indexes (sorted ascending)
        self.contact_keys: list[int] = []
        self.deleted_contact_keys: list[int] = []
        self.run_keys: list[int] = []
        self.flow_run_keys: dict[int, list[int]] = {}
        self.flow_responded_keys: dict[int, list[int]] = {}
        self.message_keys: dict[str | None, list[int]] = {}
        # bookkeeping
        self.waiting: dict[int, int] = {}  # contact id -> waiting run id
        self.deadlines: dict[int, int] = {}  # waiting run id -> when it times out or expires
        self.fates: dict[int, str] = {}  # live run id -> complete / partial / never
        self.flow_counts: dict[int, list[int]] = {}
        self.released_counts: dict[int, list[int]] = {}  # runs of deleted contacts
        self.responded_counts: Counter[int] = Counter()
        self.result_stats: dict[int, dict[str, ResultStats]] = {}
        self.ticks = 0
        self.bulk = False
        self.media_url = ""  # where the server's media (recordings) are served
        self.archives: list = []  # archives.Archive, newest first
        # Late-visible writes (see LateWrites): run id / contact id -> when it shows.
        self.late: LateWrites | None = None
        self.run_visible_at: dict[int, int] = {}
        self.contact_visible_at: dict[int, int] = {}

    # -- lookups --------------------------------------------------------------------------------

    def contact(self, ident: int) -> Contact | None:
        return self.contacts[ident - 1] if 0 < ident <= len(self.contacts) else None

    def contact_by_uuid(self, value: str) -> Contact | None:
        ident = self.contact_uuids.parse(value)
        return self.contact(ident) if ident is not None else None

    def run_id_by_uuid(self, value: str) -> int | None:
        ident = self.run_uuids.parse(value)
        if ident is None or not 0 < ident <= len(self.runs):
            return None
        if self.runs.deleted[ident - 1] or self.runs.archived[ident - 1]:
            return None
        return ident

    def flow_by_uuid(self, value: str) -> Flow | None:
        value = value.strip().lower()
        return next((f for f in self.flows if f.uuid == value), None)

    def group_by_ref(self, value: str) -> Group | None:
        """A group by UUID or (case-insensitive) name."""
        value = value.strip()
        return next(
            (g for g in self.groups if g.uuid == value.lower() or g.name.lower() == value.lower()),
            None,
        )

    def contact_groups(self, contact: Contact) -> list[Group]:
        return [g for g in self.groups if g.matches(contact)]

    def group_contact_ids(self, group: Group) -> Iterable[int]:
        """A group's contacts: its members, or those a smart group's query matches."""
        if group.query is None:
            return group.members
        return (c.id for c in self.contacts if not c.deleted and group.matches(c))

    def group_count(self, group: Group) -> int:
        if group.query is None:
            return len(group.members)
        return sum(1 for _ in self.group_contact_ids(group))

    def reach(
        self, groups: Iterable[int] = (), contacts: Iterable[int] = (), urns: Iterable[str] = ()
    ) -> list[Contact]:
        """Who a flow start or broadcast reaches: its contacts, its groups' contacts and
        its URNs' owners, each once and in id order, leaving out deleted and inactive
        (blocked, stopped, archived) contacts."""
        ids = set(contacts)
        for idx in groups:
            ids.update(self.group_contact_ids(self.groups[idx]))
        ids.update(self.urn_owner[urn] for urn in urns if urn in self.urn_owner)
        reached = (self.contact(ident) for ident in sorted(ids))
        return [c for c in reached if c is not None and not c.deleted and c.status == "active"]

    # -- runs -----------------------------------------------------------------------------------

    def run_salt(self, rid: int) -> int:
        return rid * 31 + self.salt

    def walk_run(self, rid: int) -> Walk:
        runs, row = self.runs, rid - 1
        flow = self.flows[runs.flow[row]]
        lang = runs.lang[row]
        return flow.compiled.walk(
            runs.inputs[row],
            runs.created[row],
            self.org.languages[lang] if lang >= 0 else None,
            self.run_salt(rid),
            runs.times.get(rid),
        )

    def _run_indexes(self, rid: int) -> list[list[int]]:
        row = rid - 1
        flow = self.runs.flow[row]
        lists = [self.run_keys, self.flow_run_keys.setdefault(flow, [])]
        if self.runs.responded[row]:
            lists.append(self.flow_responded_keys.setdefault(flow, []))
        return lists

    def _account(self, rid: int, walk: Walk, sign: int) -> None:
        runs, row = self.runs, rid - 1
        flow = runs.flow[row]
        counts = self.flow_counts.setdefault(flow, [0, 0, 0, 0, 0])
        counts[runs.exit_type[row]] += sign
        if walk.responded:
            self.responded_counts[flow] += sign
        stats = self.result_stats.setdefault(flow, {})
        for key, (_name, value, category, _node, _time, _input) in walk.values.items():
            entry = stats.get(key)
            if entry is None:
                entry = stats[key] = ResultStats()
            entry.count += sign
            entry.categories[category] += sign
            number = parse_decimal(value) if value else None
            if number is not None:
                entry.numeric_count += sign
                entry.sum += number * sign

    def settle_run(
        self, rid: int, old: Walk | None, walk: Walk, exit_type: int, exited: int | None
    ) -> None:
        """Record a run's new state; `old` is its previous replay (None for a new run)."""
        runs, row = self.runs, rid - 1
        if old is not None:
            old_key = key_of(runs.modified[row], rid)
            for keys in self._run_indexes(rid):
                index_remove(keys, old_key)
            self._account(rid, old, -1)
        runs.exit_type[row] = exit_type
        runs.exited[row] = exited or 0
        runs.responded[row] = 1 if walk.responded else 0
        runs.modified[row] = exited if exited else walk.end
        contact = runs.contact[row]
        if exit_type == WAITING:
            self.waiting[contact] = rid
            self.deadlines[rid] = walk.end + self._patience(rid, walk)
        else:
            self.deadlines.pop(rid, None)
            if self.waiting.get(contact) == rid:
                del self.waiting[contact]
        new_key = key_of(runs.modified[row], rid)
        self._hold_back(self.run_visible_at, rid, runs.modified[row])
        for keys in self._run_indexes(rid):
            if self.bulk:
                keys.append(new_key)
            else:
                index_add(keys, new_key)
        self._account(rid, walk, +1)

    def _hold_back(self, visible_at: dict[int, int], ident: int, stamp: int) -> None:
        """A write that becomes visible late (LateWrites), or at once."""
        held = self.late.visible_at(ident, stamp) if self.late and not self.bulk else None
        if held is None:
            visible_at.pop(ident, None)
        else:
            visible_at[ident] = held

    def _patience(self, rid: int, walk: Walk) -> int:
        """How long a waiting run waits: its wait's timeout, else the flow's expiry."""
        compiled = self.flows[self.runs.flow[rid - 1]].compiled
        router = compiled.nodes[walk.path[-1][0]].router
        if router is not None and router.timeout_category is not None:
            return router.timeout_us
        return compiled.expires_us

    def finish_bulk(self) -> None:
        """After a bulk build: sort every index once."""
        self.bulk = False
        for keys in (
            self.run_keys,
            *self.flow_run_keys.values(),
            *self.flow_responded_keys.values(),
        ):
            keys.sort()
        self.contact_keys.sort()
        self.deleted_contact_keys.sort()
        for keys in self.message_keys.values():
            keys.sort()

    def remove_run(self, rid: int) -> None:
        runs, row = self.runs, rid - 1
        if runs.deleted[row]:
            return
        key = key_of(runs.modified[row], rid)
        for keys in self._run_indexes(rid):
            index_remove(keys, key)
        self._account(rid, self.walk_run(rid), -1)
        # The server interrupts a deleted contact's waiting run, then deletes its runs;
        # its delete trigger only takes back runs still active or waiting, so the flows
        # endpoint keeps counting them (temba/sql/current_functions.sql).
        kept = self.released_counts.setdefault(runs.flow[row], [0, 0, 0, 0, 0])
        kept[INTERRUPTED if runs.exit_type[row] == WAITING else runs.exit_type[row]] += 1
        runs.deleted[row] = 1
        self.deadlines.pop(rid, None)
        if self.waiting.get(runs.contact[row]) == rid:
            del self.waiting[runs.contact[row]]

    def archive_run(self, rid: int) -> None:
        """rp-archiver deleted a finished run it archived: the API no longer serves it,
        the flow's run counts keep it (the server only takes back active or waiting runs)."""
        runs, row = self.runs, rid - 1
        if runs.deleted[row] or runs.archived[row]:
            return
        key = key_of(runs.modified[row], rid)
        for keys in self._run_indexes(rid):
            index_remove(keys, key)
        runs.archived[row] = 1

    # -- contacts -------------------------------------------------------------------------------

    def touch_contact(self, contact: Contact, now: int, seen: bool = False) -> None:
        """Move a contact's modified_on (and last_seen_on) forward, keeping the index sorted."""
        keys = self.deleted_contact_keys if contact.deleted else self.contact_keys
        index_remove(keys, key_of(contact.modified, contact.id))
        contact.modified = max(now, contact.modified)
        self._hold_back(self.contact_visible_at, contact.id, contact.modified)
        if seen:
            contact.last_seen = max(now, contact.last_seen or 0)
        index_add(keys, key_of(contact.modified, contact.id))
        contact.ref = contact.ref_json = None

    def index_contact(self, contact: Contact) -> None:
        keys = self.deleted_contact_keys if contact.deleted else self.contact_keys
        if self.bulk:
            keys.append(key_of(contact.modified, contact.id))
        else:
            index_add(keys, key_of(contact.modified, contact.id))

    def set_groups(self, contact: Contact, groups: set[int]) -> None:
        for idx in contact.groups - groups:
            self.groups[idx].members.discard(contact.id)
        for idx in groups:
            self.groups[idx].members.add(contact.id)
        contact.groups = set(groups)

    # -- groups and labels ----------------------------------------------------------------------

    def remove_group(self, group: Group, now: int) -> None:
        """Delete a group: its members leave it (and are modified `now`), and the groups
        after it move up one place in contacts, flow starts and broadcasts."""
        for ident in list(group.members):
            contact = self.contact(ident)
            self.set_groups(contact, contact.groups - {group.idx})
            self.touch_contact(contact, now)
        for record in (*self.starts, *self.broadcasts):
            # A start or broadcast keeps naming a deleted group (as the server's do),
            # but reaches nobody through it.
            if group.idx in record.groups and record.group_refs is None:
                record.group_refs = [self.group_ref(i) for i in record.groups]
        moved = _remove_numbered(self.groups, group)
        for contact in self.contacts:
            if contact.groups:
                contact.groups = {moved.get(i, i) for i in contact.groups}
        for record in (*self.starts, *self.broadcasts):
            record.groups = [moved.get(i, i) for i in record.groups if i != group.idx]

    def group_ref(self, idx: int) -> dict:
        group = self.groups[idx]
        return {"uuid": group.uuid, "name": group.name}

    def group_refs(self, record: "FlowStart | Broadcast") -> list[dict]:
        """The groups a flow start or broadcast names, deleted ones included."""
        if record.group_refs is not None:
            return list(record.group_refs)
        return [self.group_ref(i) for i in record.groups]

    def remove_label(self, label: Label) -> None:
        """Delete a label: it comes off its messages, and the labels after it move up one place."""
        moved = _remove_numbered(self.labels, label)
        for msg in self.messages:
            if msg.labels:
                msg.labels = tuple(moved.get(i, i) for i in msg.labels if i != label.idx)

    # -- messages -------------------------------------------------------------------------------

    def _message_index_keys(self, msg: Message) -> list[tuple[str | None, int]]:
        folder = msg.folder()
        if folder is None:
            return []
        stamp = msg.sent if folder == "sent" and msg.sent else msg.created
        entries = [(folder, key_of(stamp, msg.id))]
        entries.append((None, key_of(msg.created, msg.id)))
        return entries

    def add_message(self, msg: Message) -> None:
        self.messages.append(msg)
        for folder, key in self._message_index_keys(msg):
            keys = self.message_keys.setdefault(folder, [])
            if self.bulk:
                keys.append(key)
            else:
                index_add(keys, key)

    def update_message(self, msg: Message, **changes: object) -> None:
        for folder, key in self._message_index_keys(msg):
            index_remove(self.message_keys.setdefault(folder, []), key)
        for name, value in changes.items():
            setattr(msg, name, value)
        for folder, key in self._message_index_keys(msg):
            index_add(self.message_keys.setdefault(folder, []), key)

    def next_message(self, contact: Contact, direction: str, text: str, now: int) -> Message:
        urn = contact.urns[0] if contact.urns else None
        msg = Message(len(self.messages) + 1, contact.id, urn, direction, text)
        msg.created = msg.modified = now
        msg.channel = self.channel_for(urn)
        return msg

    def channel_for(self, urn: str | None) -> int:
        scheme = (urn or "tel:").split(":", 1)[0]
        return {"whatsapp": 1, "telegram": 2}.get(scheme, 0)

    # -- summary --------------------------------------------------------------------------------

    def summary(self) -> dict:
        """The simulator's own truth, for verification tests."""
        statuses = Counter("deleted" if c.deleted else c.status for c in self.contacts)
        flows = {}
        for flow in self.flows:
            counts = self.flow_counts.get(flow.idx, [0] * 5)
            results = {}
            for key, stats in self.result_stats.get(flow.idx, {}).items():
                results[key] = {
                    "count": stats.count,
                    "numeric_count": stats.numeric_count,
                    "sum": float(stats.sum),
                    "categories": {k: v for k, v in stats.categories.items() if v},
                }
            flows[flow.uuid] = {
                "name": flow.name,
                "runs": sum(counts),
                "responded": self.responded_counts.get(flow.idx, 0),
                "exit_types": {
                    "waiting": counts[WAITING],
                    "completed": counts[COMPLETED],
                    "interrupted": counts[INTERRUPTED],
                    "expired": counts[EXPIRED],
                    "failed": counts[FAILED],
                },
                "results": results,
            }
        return {
            "org": self.org.slug,
            "contacts": {
                "active": statuses.get("active", 0),
                "blocked": statuses.get("blocked", 0),
                "stopped": statuses.get("stopped", 0),
                "archived": statuses.get("archived", 0),
                "deleted": statuses.get("deleted", 0),
            },
            "groups": {g.name: self.group_count(g) for g in self.groups},
            "runs": sum(sum(c) for c in self.flow_counts.values()),
            "flows": flows,
            "messages": {
                folder or "all": len(keys)
                for folder, keys in sorted(
                    self.message_keys.items(), key=lambda item: item[0] or ""
                )
            },
        }
