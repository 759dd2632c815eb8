"""Seeded generation of an org's data set.

Same seed, same sizes and same "now" anchor -> the same UUIDs, names, tokens,
values and dates. `--contacts` and `--runs` size the edu org; health gets a
small fixed share (see catalog.HEALTH_CONTACTS / HEALTH_RUNS).
"""

import json
import random
from collections.abc import Callable

from . import catalog
from .catalog import District, OrgSpec
from .clock import DAY_US, US, fmt_local
from .engine import CompiledFlow
from .flows import FlowSpec, build_definition
from .geo import KAMPALA_DIVISIONS, boundary_path, uganda_boundaries
from .ids import label_uuid, token_for
from .store import (
    COMPLETED,
    EXPIRED,
    INTERRUPTED,
    WAITING,
    Broadcast,
    Contact,
    ContactField,
    Flow,
    FlowStart,
    Group,
    Label,
    Message,
    Org,
    OrgStore,
)

WINDOW_DAYS = 90
VOICE_SHARE = 0.02  # runs of voice flows, on top of --runs
KEYWORD_DAYS = 4  # reporting days per poll on which runs arrive without a start
HOUR_US = 3600 * US
# Nothing seeded happens in the last minute before "now": a flow's steps after an
# answer take a few seconds, and no run may be modified after the server's now.
SETTLED_US = 60 * US
Answers = list[list[str | None]]  # one list of inputs per wait, in order


def org_sizes(spec: OrgSpec, contacts: int, runs: int) -> tuple[int, int]:
    if spec.share >= 1:
        return contacts, runs
    lo_c, hi_c = catalog.HEALTH_CONTACTS
    lo_r, hi_r = catalog.HEALTH_RUNS
    return (
        max(lo_c, min(hi_c, int(contacts * spec.share))),
        max(lo_r, min(hi_r, int(runs * spec.share))),
    )


def build_org(
    spec: OrgSpec,
    seed: int,
    contacts: int,
    runs: int,
    anchor: int,
    media_url: str = "",
    wards: int = len(KAMPALA_DIVISIONS),
) -> OrgStore:
    n_contacts, n_runs = org_sizes(spec, contacts, runs)
    builder = _Builder(spec, seed, anchor)
    builder.store.media_url = media_url
    builder.wards = wards
    builder.structure()
    builder.contacts(n_contacts)
    builder.runs(n_runs)
    builder.messages()
    builder.store.finish_bulk()
    return builder.store


class _Builder:
    def __init__(self, spec: OrgSpec, seed: int, anchor: int) -> None:
        self.spec = spec
        self.seed = seed
        self.anchor = anchor
        self.rng = random.Random(f"{seed}/{spec.slug}")
        org = Org(
            slug=spec.slug,
            name=spec.name,
            uuid=label_uuid(seed, spec.slug, "org"),
            token=token_for(spec.slug, seed),
            languages=list(spec.languages),
            family=spec.family,
        )
        self.store = OrgStore(org, seed)
        self.store.spec = spec
        self.store.bulk = True
        self.uid = lambda *parts: label_uuid(seed, spec.slug, *parts)
        self.district_groups: dict[str, int] = {}
        self.division_groups: dict[str, list[int]] = {}  # district -> its division groups
        self.region_groups: dict[str, int] = {}
        self.reporter_groups: dict[str, int] = {}
        self.wards = len(KAMPALA_DIVISIONS)

    # -- flows, groups, fields, labels ----------------------------------------------------------

    def structure(self) -> None:
        store, anchor = self.store, self.anchor
        store.boundaries = uganda_boundaries(self.seed, self.wards)
        store.channels = [
            {"uuid": self.uid("channel", name), "name": name}
            for name in ("MTN Uganda", "WhatsApp", "Telegram")
        ]
        for spec in self.spec.flows:
            self._add_flow(spec)
        created = anchor - 200 * DAY_US
        for key, name, type_ in self.spec.fields:
            store.fields.append(ContactField(key, name, type_, created))
            created += 3600 * US
        regions = sorted({d.region for d in self.spec.districts})
        for region in regions:
            self.region_groups[region] = self._group(region)
            for district in self.spec.districts:
                if district.region == region:
                    self.district_groups[district.name] = self._group(district.name)
                    self.division_groups[district.name] = [
                        self._group(name) for name in district.divisions
                    ]
        for name in self.spec.reporters:
            self.reporter_groups[name] = self._group(name)
        self._group("Female Reporters", query='gender = "female"')
        self._group("Open Tickets", query="tickets > 0", system=True)
        for i, name in enumerate(self.spec.labels):
            store.labels.append(
                Label(i, self.uid("label", name), name, anchor - (150 - i) * DAY_US)
            )

    def _group(self, name: str, query: str | None = None, system: bool = False) -> int:
        groups = self.store.groups
        created = self.anchor - (180 - len(groups)) * DAY_US + 3_600 * US * len(groups)
        groups.append(Group(len(groups), self.uid("group", name), name, created, query, system))
        return len(groups) - 1

    def _add_flow(self, spec: FlowSpec) -> None:
        store = self.store
        flow_uuid = self.uid("flow", spec.key)
        definition = build_definition(spec, flow_uuid, lambda *p: self.uid(spec.key, *p), 7)
        created = self.anchor - spec.created_days_ago * DAY_US + len(store.flows) * 3_600 * US
        label = "Polls" if spec.poll else "Reminders"
        flow = Flow(
            idx=len(store.flows),
            uuid=flow_uuid,
            name=spec.name,
            definition=definition,
            compiled=CompiledFlow(definition),
            archived=spec.archived,
            created=created,
            modified=created + 2 * DAY_US + 417_000,
            labels=[{"uuid": self.uid("flow-label", label), "name": label}],
            poll=spec.poll,
            keyword=spec.keyword,
            spec=spec,
        )
        flow.ref = {"uuid": flow.uuid, "name": flow.name}
        flow.ref_json = json.dumps(flow.ref, ensure_ascii=False, separators=(",", ":"))
        store.flows.append(flow)

    # -- contacts -------------------------------------------------------------------------------

    def contacts(self, count: int) -> None:
        rng, store = self.rng, self.store
        weights = [max(d.size, 150) for d in self.spec.districts]
        for ident in range(1, count + 1):
            district = rng.choices(self.spec.districts, weights)[0]
            created = self._contact_created(rng)
            contact = Contact(ident, store.contact_uuids.make(ident), created)
            contact.district = self.spec.districts.index(district)
            contact.propensity = min(0.97, district.propensity * rng.uniform(0.55, 1.35))
            self._identity(contact, district, rng)
            self._membership(contact, district, rng)
            self._fields(contact, district, rng)
            self._status(contact, rng)
            store.contacts.append(contact)

    def _contact_created(self, rng: random.Random) -> int:
        days = rng.uniform(WINDOW_DAYS + 5, 400) if rng.random() < 0.9 else rng.uniform(2, 88)
        created = self.anchor - int(days * DAY_US)
        if rng.random() < 0.3:  # imported from a spreadsheet: whole seconds
            return created - created % US
        return created

    def _identity(self, contact: Contact, district: District, rng: random.Random) -> None:
        mix = catalog.LANGUAGE_MIX[district.region]
        languages = self.spec.languages
        if len(languages) == 1:
            language = languages[0] if rng.random() < 0.96 else None
        else:
            language = rng.choices(["eng", "fra", "ara", None], mix)[0]
        contact.language = language
        pool = language or "eng"
        if language == "ara" and rng.random() < 0.5:
            pool = "ara-script"
        first = rng.choice(catalog.FIRST_NAMES[pool])
        last = rng.choice(catalog.LAST_NAMES[pool])
        contact.name = f"{first} {last}" if rng.random() < 0.97 else None
        number = (contact.id * 7_368_787 + self.seed * 104_729 + len(self.spec.slug)) % 100_000_000
        phone = f"2567{number:08d}"
        roll = rng.random()
        if roll < 0.06:
            contact.urns = [f"whatsapp:{phone}"]
        elif roll < 0.10:
            contact.urns = [f"telegram:{(number * 31) % 9_000_000_000 + 1_000_000_000}"]
        else:
            contact.urns = [f"tel:+{phone}"]
            if rng.random() < 0.12:
                contact.urns.append(f"whatsapp:{phone}")
        for urn in contact.urns:
            self.store.urn_owner[urn] = contact.id

    def _membership(self, contact: Contact, district: District, rng: random.Random) -> None:
        groups = set()
        roll = rng.random()
        if roll < 0.90:
            groups.add(self.district_groups[district.name])
            divisions = self.division_groups[district.name]
            if divisions and rng.random() < 0.8:
                groups.add(rng.choice(divisions))
        elif roll < 0.96:
            groups.add(self.region_groups[district.region])
        reporters = list(self.reporter_groups.values())
        groups.update(rng.sample(reporters, 2 if rng.random() < 0.25 else 1))
        self.store.set_groups(contact, groups)

    def _fields(self, contact: Contact, district: District, rng: random.Random) -> None:
        fields = contact.fields
        fields["facility_code"] = f"{self.spec.slug.upper()}-{10_000 + contact.id * 7 % 90_000}"
        if rng.random() < 0.92:
            fields["gender"] = rng.choice(("female", "male"))
        fields["district"] = boundary_path(district.name)
        kind = rng.random()
        if self.spec.family == "edu":
            fields["school_type"] = (
                "Government" if kind < 0.7 else "Private" if kind < 0.9 else "Community"
            )
            count_key, date_key = "head_count", "enrolled_on"
            count = str(rng.randint(4, 40)) if rng.random() < 0.95 else f"{rng.randint(4, 20)}.5"
        else:
            fields["facility_level"] = (
                "HC II" if kind < 0.5 else "HC III" if kind < 0.85 else "HC IV"
            )
            count_key, date_key = "catchment_population", "registered_on"
            count = str(rng.randint(800, 40_000))
        if rng.random() < 0.85:
            fields[count_key] = count
        if rng.random() < 0.8:
            day = contact.created - rng.randint(0, 2000) * DAY_US
            fields[date_key] = fmt_local(day - day % (3600 * US), self.store.org.tz_offset)

    def _status(self, contact: Contact, rng: random.Random) -> None:
        # by id rather than at random, so that even a small data set has each kind
        slot = contact.id % 50
        if slot == 7:
            contact.status = "blocked"
        elif slot == 13:
            contact.status = "stopped"
        elif contact.id % 200 == 42:
            contact.status = "archived"
        elif slot == 21:
            contact.deleted = True
        if contact.status != "active" or contact.deleted:
            # blocking, stopping, archiving or deleting removes a contact from its groups
            self.store.set_groups(contact, set())
            span = max(self.anchor - contact.created, DAY_US)
            contact.modified = contact.created + int(span * rng.uniform(0.3, 0.99))
        if contact.deleted:
            for urn in contact.urns:
                self.store.urn_owner.pop(urn, None)
            contact.name = contact.language = None
            contact.urns, contact.fields = [], {}

    # -- runs -----------------------------------------------------------------------------------

    def runs(self, total: int) -> None:
        plan = _RunPlan(self, total)
        plan.generate()
        plan.settle()
        for contact in self.store.contacts:
            contact.modified = max(contact.modified, contact.last_seen or 0)
            self.store.index_contact(contact)

    # -- messages -------------------------------------------------------------------------------

    def messages(self) -> None:
        _MessagePlan(self).generate()


class _RunPlan:
    """Plans every run (flow, contact, start, time, answers), then replays them in time order."""

    def __init__(self, builder: _Builder, total: int) -> None:
        self.b = builder
        self.store = builder.store
        self.total = total
        self.rng = random.Random(f"{builder.seed}/{builder.spec.slug}/runs")
        self.rows: list[tuple] = []  # (created, flow, contact, start, inputs)
        self.calls: list[tuple] = []  # the same, of voice flows

    def generate(self) -> None:
        flows = [f for f in self.store.flows if not f.archived]
        polls = [f for f in flows if f.poll and f.spec.flow_type == "message"]
        others = [f for f in flows if not f.poll]
        keyword_share, repeat_share = 0.05, 0.02
        other_share = 0.015 if others else 0.0
        per_poll = self.total * (1 - keyword_share - repeat_share - other_share) / len(polls)
        for flow in polls:
            self._starts(flow, int(per_poll))
        for flow in others:
            self._starts(flow, int(self.total * other_share))
        self._repeats(int(self.total * repeat_share))
        self._keywords(polls, self.total - len(self.rows))
        self._calls([f for f in flows if f.spec.flow_type == "voice"])

    def _calls(self, flows: list[Flow]) -> None:
        """Voice polls: a few calls, planned with a random generator of their own after
        everything else, so adding them left the messaging data as it was."""
        texts, self.rng = self.rng, random.Random(f"{self.b.seed}/{self.b.spec.slug}/calls")
        texts_rows, self.rows = self.rows, self.calls
        for flow in flows:
            self._starts(flow, int(self.total * VOICE_SHARE))
        self.rows, self.rng = texts_rows, texts

    def _starts(self, flow: Flow, count: int) -> None:
        targets = self.b.spec.targets.get(flow.spec.key, ())
        target_groups = [self.b.reporter_groups[n] for n in targets]
        eligible = self.store.reach(target_groups)
        if not eligible or count <= 0:
            return
        starts = max(2 if not flow.poll else 13, -(-count // len(eligible)))
        starts = min(starts, WINDOW_DAYS * 4)
        step = WINDOW_DAYS * DAY_US // starts
        for i in range(starts):
            size = count // starts + (1 if i < count % starts else 0)
            # the latest start of each flow is a few days old at most, so some runs still wait
            lag = 8 * HOUR_US + (flow.idx * 7 * HOUR_US) % step
            created = self.b.anchor - lag - (starts - 1 - i) * step
            created += self.rng.randint(0, 600) * US
            pool = [c for c in eligible if c.created < created]
            chosen = self.rng.sample(pool, min(size, len(pool)))
            start = self._start(flow, created, target_groups, len(chosen))
            for contact in chosen:
                at = created + self.rng.randint(5 * US, 900 * US)
                self._plan(flow, contact, start.id, at)

    def _start(self, flow: Flow, created: int, groups: list[int], total: int) -> FlowStart:
        starts = self.store.starts
        ident = len(starts) + 1
        start = FlowStart(
            id=ident,
            uuid=self.b.uid("start", ident),
            flow=flow.idx,
            created=created,
            modified=created + 240 * US + ident * 7_001,
            groups=groups,
            total=total,
            started=total,
            restart_participants=True,
        )
        starts.append(start)
        return start

    def _plan(self, flow: Flow, contact: Contact, start: int, created: int) -> None:
        inputs = plan_inputs(self.rng, flow, contact, self.store)
        self.rows.append((created, flow.idx, contact.id, start, inputs))

    def _repeats(self, count: int) -> None:
        """The same contact answering a start twice on one day (the start was resent)."""
        if not self.rows:
            return
        for _ in range(count):
            created, flow, contact, start, _inputs = self.rng.choice(self.rows)
            at = created + self.rng.randint(HOUR_US, 6 * HOUR_US)
            if at < self.b.anchor - SETTLED_US:
                self._plan(self.store.flows[flow], self.store.contacts[contact - 1], start, at)

    def _keywords(self, polls: list[Flow], count: int) -> None:
        """Runs without a start: reporters texting a poll's keyword, which happens on a
        few reporting days per poll rather than every day."""
        active = [c for c in self.store.contacts if c.groups]
        if not active:
            return
        days = {flow.idx: self.rng.sample(range(1, WINDOW_DAYS), KEYWORD_DAYS) for flow in polls}
        # 05:00-12:00 UTC: office hours on one calendar day in East Africa
        midnight = self.b.anchor - self.b.anchor % DAY_US
        for _ in range(max(count, 0)):
            flow = self.rng.choice(polls)
            contact = self.rng.choice(active)
            day = self.rng.choice(days[flow.idx])
            at = midnight - day * DAY_US + self.rng.randint(5 * HOUR_US, 12 * HOUR_US)
            at += self.rng.randint(0, US)
            if at > contact.created:
                self._plan(flow, contact, -1, at)

    def settle(self) -> None:
        """Replay every planned run in time order: waits, interruptions, expiries.
        Calls come after the messaging runs (their ids too): a call is a session of its
        own, which neither interrupts a messaging run nor is interrupted by one."""
        for rows in (self.rows, self.calls):
            self._settle(rows)
        self.rows = []

    def _settle(self, rows: list[tuple]) -> None:
        rows.sort(key=lambda row: row[0])
        following: list[int] = [0] * len(rows)
        last_by_contact: dict[int, int] = {}
        for i in range(len(rows) - 1, -1, -1):
            contact = rows[i][2]
            following[i] = last_by_contact.get(contact, 0)
            last_by_contact[contact] = rows[i][0]
        store, anchor, runs = self.store, self.b.anchor, self.store.runs
        languages = store.org.languages
        for i, (created, flow_idx, contact_id, start, inputs) in enumerate(rows):
            contact = store.contacts[contact_id - 1]
            lang = languages.index(contact.language) if contact.language in languages else -1
            rid = runs.append(flow_idx, contact_id, start, lang, created, inputs)
            flow = store.flows[flow_idx]
            until = min(following[i] or anchor, anchor - SETTLED_US)
            walk = flow.compiled.walk(
                inputs,
                created,
                contact.language if lang >= 0 else None,
                store.run_salt(rid),
                until=until,
            )
            if walk.consumed < len(inputs):
                runs.inputs[rid - 1] = inputs[: walk.consumed]
            exit_type, exited = self._outcome(walk, flow, following[i])
            store.settle_run(rid, None, walk, exit_type, exited)
            for text, at in zip(inputs, walk.input_times, strict=False):
                if text is not None and at > (contact.last_seen or 0):
                    contact.last_seen = at

    def _outcome(self, walk, flow: Flow, following: int) -> tuple[int, int | None]:
        if walk.completed:
            return COMPLETED, walk.end
        expiry = walk.end + flow.compiled.expires_us
        if following and following < expiry:
            return INTERRUPTED, max(following, walk.end + 1)
        if expiry <= self.b.anchor:
            return EXPIRED, expiry
        return WAITING, None


def plan_inputs(rng: random.Random, flow: Flow, contact: Contact, store: OrgStore) -> tuple:
    """Everything a contact will send in one run: all answers, the first only, or nothing."""
    answers = answers_for(rng, flow, contact, store)
    roll = rng.random()
    if not answers:
        inputs: list[str | None] = []
    elif roll < contact.propensity:
        inputs = [text for group in answers for text in group]
    elif roll < contact.propensity + 0.08 and len(answers) > 1:
        inputs = list(answers[0])  # answered the first question only
    else:
        inputs = []
    first_wait = flow.compiled.waits[0] if flow.compiled.waits else None
    if not inputs and first_wait is not None and first_wait.timeout_category is not None:
        inputs = [None]
    return tuple(inputs)


def answers_for(rng: random.Random, flow: Flow, contact: Contact, store: OrgStore) -> Answers:
    """One list of inputs per wait of the flow (an unclear reply may come before the answer)."""
    return _ANSWERERS[flow.spec.key](rng, contact, store)


def _number(rng: random.Random, value: int, language: str | None, noun: str) -> list[str | None]:
    """How a reporter types a number: mostly bare, sometimes in words, sometimes unclear first."""
    inputs: list[str | None] = []
    if rng.random() < 0.04:
        inputs.append(rng.choice(catalog.UNCLEAR[language or "eng"]))
    roll = rng.random()
    if language == "ara" and roll < 0.3:
        inputs.append(str(value).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")))
    elif roll < 0.12 and language in (None, "eng"):
        inputs.append(f"We have {value} {noun}")
    else:
        inputs.append(str(value))
    return inputs


def _enrolment(rng: random.Random, contact: Contact, store: OrgStore) -> Answers:
    district = store.spec.districts[contact.district]
    boys = max(12, int(rng.gauss(district.size, district.size * 0.3)))
    girls = max(8, int(boys * rng.gauss(district.parity, 0.09)))
    return [
        _number(rng, boys, contact.language, "boys"),
        _number(rng, girls, contact.language, "girls"),
    ]


def _attendance(rng: random.Random, contact: Contact, store: OrgStore) -> Answers:
    district = store.spec.districts[contact.district]
    absent = 0 if rng.random() < 0.12 else min(240, int(rng.expovariate(1 / district.absent)) + 1)
    return [_number(rng, absent, contact.language, "pupils absent")]


def _textbooks(rng: random.Random, contact: Contact, store: OrgStore) -> Answers:
    district = store.spec.districts[contact.district]
    language = contact.language or "eng"
    choice = rng.choices(range(3), district.books)[0]
    inputs: list[str | None] = []
    if rng.random() < 0.05:
        inputs.append(rng.choice(catalog.UNCLEAR[language]))
    inputs.append(rng.choice(catalog.TEXTBOOK_WORDS[language][choice]))
    return [inputs]


def _feedback(rng: random.Random, contact: Contact, store: OrgStore) -> Answers:
    return [[rng.choice(catalog.FEEDBACK[contact.language or "eng"])]]


def _stock(rng: random.Random, contact: Contact, store: OrgStore) -> Answers:
    district = store.spec.districts[contact.district]
    act = 0 if rng.random() < 0.15 else max(1, int(rng.gauss(district.size, district.size * 0.5)))
    ors: list[str | None] = [None] if rng.random() < 0.2 else [str(rng.randint(0, 300))]
    return [_number(rng, act, "eng", "doses"), ors]


def _school_visit(rng: random.Random, contact: Contact, store: OrgStore) -> Answers:
    """An IVR call: a menu digit, keypad digits, and a recording the server stores
    (its URL; the simulator serves the file itself under /sim/media/)."""
    district = store.spec.districts[contact.district]
    status = rng.choices(("1", "2", "3"), (district.propensity, 0.1, 0.15))[0]
    teachers = str(max(0, int(rng.gauss(district.size / 40, 2))))
    name = f"{rng.randrange(16**12):012x}"
    return [[status], [teachers], [recording_url(store, name)]]


def recording_url(store: OrgStore, name: str) -> str:
    return f"{store.media_url}/sim/media/{store.org.slug}/{name}.wav"


def _rating(rng: random.Random, contact: Contact, store: OrgStore) -> Answers:
    word = rng.choices(("Good", "fair", "POOR", "ok", "bad service"), (4, 3, 2, 1, 1))[0]
    return [[word]]


_ANSWERERS: dict[str, Callable] = {
    "enrolment": _enrolment,
    "attendance": _attendance,
    "textbooks": _textbooks,
    "feedback": _feedback,
    "single_message": lambda rng, contact, store: [],
    "enrolment_2023": lambda rng, contact, store: [[str(rng.randint(100, 900))]],
    "stock_levels": _stock,
    "service_rating": _rating,
    "patient_comments": lambda rng, contact, store: [[rng.choice(catalog.PATIENT_COMMENTS)]],
    "school_visit": _school_visit,
}


class _MessagePlan:
    """Inbox, flow, broadcast, archived, outbox and failed messages (capped, see docs)."""

    def __init__(self, builder: _Builder) -> None:
        self.b = builder
        self.store = builder.store
        self.rng = random.Random(f"{builder.seed}/{builder.spec.slug}/messages")
        self.pending: list[tuple] = []  # (created, order, builder of Message)

    def generate(self) -> None:
        contacts = [c for c in self.store.contacts if not c.deleted and c.urns]
        if not contacts:
            return
        self._inbox(contacts)
        self._flow_messages()
        self._broadcasts(contacts)
        self._outbox(contacts)
        self.pending.sort(key=lambda item: (item[0], item[1]))
        for _created, _order, make in self.pending:
            self.store.add_message(make(len(self.store.messages) + 1))

    def _add(self, created: int, make: Callable[[int], Message]) -> None:
        self.pending.append((created, len(self.pending), make))

    def _message(self, ident, contact: Contact, direction: str, text: str, created: int) -> Message:
        msg = Message(ident, contact.id, contact.urns[0], direction, text)
        msg.created = msg.modified = created
        msg.channel = self.store.channel_for(contact.urns[0])
        return msg

    def _inbox(self, contacts: list[Contact]) -> None:
        count = min(max(40, len(self.store.contacts) // 3), 6000)
        labels = {label.name: label.idx for label in self.store.labels}
        for _ in range(count):
            contact = self.rng.choice(contacts)
            texts = (
                catalog.INBOX.get(contact.language or "eng", catalog.INBOX["eng"])
                if self.b.spec.family == "edu"
                else catalog.HEALTH_INBOX
            )
            text = self.rng.choice(texts)
            created = self.b.anchor - self.rng.randint(60 * US, WINDOW_DAYS * DAY_US)
            archived = self.rng.random() < 0.1
            found = tuple(i for name, i in labels.items() if name.lower() in text.lower())
            if "URGENT" in text and "Urgent" in labels:
                found = (labels["Urgent"],)

            def make(
                ident, contact=contact, text=text, created=created, archived=archived, found=found
            ):
                msg = self._message(ident, contact, "in", text, created)
                msg.visibility = "archived" if archived else "visible"
                msg.labels = found
                return msg

            self._add(created, make)

    def _flow_messages(self) -> None:
        store = self.store
        runs = store.runs
        total = len(runs)
        voice = {flow.idx for flow in store.flows if flow.spec.flow_type == "voice"}
        while total and runs.flow[total - 1] in voice:  # calls come last and have no messages
            total -= 1
        for rid in range(max(1, total - min(1500, total // 10 + 1) + 1), total + 1):
            contact = store.contacts[runs.contact[rid - 1] - 1]
            if contact.deleted or not contact.urns:
                continue
            walk = store.walk_run(rid)
            flow = store.flows[runs.flow[rid - 1]]
            prompt = _first_prompt(flow)
            if prompt:

                def make_out(ident, contact=contact, at=walk.path[0][1], flow=flow, text=prompt):
                    msg = self._message(ident, contact, "out", text, at)
                    msg.flow, msg.sent = flow.idx, at + 2 * US
                    return msg

                self._add(walk.path[0][1], make_out)
            for text, at in zip(runs.inputs[rid - 1], walk.input_times, strict=False):
                if text is None:
                    continue

                def make_in(ident, contact=contact, at=at, flow=flow, text=text):
                    msg = self._message(ident, contact, "in", text, at)
                    msg.flow = flow.idx
                    return msg

                self._add(at, make_in)

    def _broadcasts(self, contacts: list[Contact]) -> None:
        store = self.store
        texts = catalog.BROADCASTS[self.b.spec.family]
        reporters = list(self.b.reporter_groups.values())
        for i, text in enumerate(texts):
            created = self.b.anchor - (WINDOW_DAYS - 20 * i) * DAY_US + 3 * HOUR_US
            groups = [reporters[i % len(reporters)]]
            reached = store.reach(groups)[:300]
            ident = len(store.broadcasts) + 1
            store.broadcasts.append(
                Broadcast(
                    id=ident,
                    uuid=self.b.uid("broadcast", ident),
                    text={"eng": text},
                    created=created,
                    groups=groups,
                    total=len(reached),
                )
            )
            for contact in reached:
                at = created + self.rng.randint(US, 120 * US)

                def make(ident_, contact=contact, at=at, text=text, bcast=ident):
                    msg = self._message(ident_, contact, "out", text, at)
                    msg.sent, msg.broadcast = at + 3 * US, bcast
                    msg.status = self.rng.choice(("wired", "sent", "delivered", "delivered"))
                    return msg

                self._add(at, make)

    def _outbox(self, contacts: list[Contact]) -> None:
        for i in range(8):
            contact = self.rng.choice(contacts)
            at = self.b.anchor - self.rng.randint(60 * US, 3 * DAY_US)
            status = "queued" if i < 3 else "failed"

            def make(ident, contact=contact, at=at, status=status):
                msg = self._message(ident, contact, "out", "Please confirm your school code.", at)
                msg.status = status
                return msg

            self._add(at, make)


def _first_prompt(flow: Flow) -> str | None:
    for node in flow.definition["nodes"]:
        for action in node.get("actions", []):
            if action["type"] == "send_msg":
                return action["text"]
    return None
