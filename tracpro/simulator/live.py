"""Live activity: what one tick does to an org, and the thread that ticks.

A tick processes pending flow starts (runs appear for their contacts), lets
some contacts answer waiting runs, times out or expires old waits, delivers
queued messages and brings new inbox messages. It only uses the RNG and time it
is given, so a recorded tick replays identically.
"""

import random
import sys
import threading
from collections.abc import Callable

from . import catalog
from .data import answers_for, plan_inputs
from .engine import Walk
from .store import (
    COMPLETED,
    EXPIRED,
    INTERRUPTED,
    WAITING,
    Contact,
    Flow,
    FlowStart,
    OrgStore,
)

STARTS_PER_TICK = 250


def interrupt_contact(store: OrgStore, contact_id: int, now: int) -> None:
    rid = store.waiting.get(contact_id)
    if rid is not None:
        walk = store.walk_run(rid)
        store.settle_run(rid, walk, walk, INTERRUPTED, max(now, walk.end + 1))
        store.fates.pop(rid, None)


def _language_index(store: OrgStore, contact: Contact) -> int:
    languages = store.org.languages
    return languages.index(contact.language) if contact.language in languages else -1


def start_run(store: OrgStore, flow: Flow, contact: Contact, start: int, now: int) -> int:
    """A new run that walks up to its first wait (or completes at once)."""
    interrupt_contact(store, contact.id, now)
    rid = store.runs.append(flow.idx, contact.id, start, _language_index(store, contact), now, ())
    walk = store.walk_run(rid)
    if walk.completed:
        store.settle_run(rid, None, walk, COMPLETED, walk.end)
    else:
        store.settle_run(rid, None, walk, WAITING, None)
    return rid


def answer_run(store: OrgStore, rid: int, text: str | None, now: int) -> Walk:
    """The contact sends `text` (None: the wait timed out) to a waiting run at `now`."""
    runs, row = store.runs, rid - 1
    old = store.walk_run(rid)
    runs.inputs[row] = (*runs.inputs[row], text)
    runs.times[rid] = (*old.input_times, now)
    walk = store.walk_run(rid)
    if walk.completed:
        store.settle_run(rid, old, walk, COMPLETED, walk.end)
    else:
        store.settle_run(rid, old, walk, WAITING, None)
    if text is not None:
        contact = store.contacts[runs.contact[row] - 1]
        msg = store.next_message(contact, "in", text, now)
        msg.flow = runs.flow[row]
        store.add_message(msg)
        store.touch_contact(contact, now, seen=True)
    return walk


def _answer_text(store: OrgStore, rng: random.Random, rid: int, walk: Walk) -> str | None:
    flow = store.flows[store.runs.flow[rid - 1]]
    contact = store.contacts[store.runs.contact[rid - 1] - 1]
    router = flow.compiled.nodes[walk.path[-1][0]].router
    answers = answers_for(rng, flow, contact, store)
    position = flow.compiled.waits.index(router) if router in flow.compiled.waits else -1
    if not 0 <= position < len(answers):
        return None
    choices = answers[position]
    return choices[0] if len(choices) > 1 and rng.random() < 0.3 else choices[-1]


class Tick:
    """One tick of one org."""

    def __init__(self, store: OrgStore, rng: random.Random, now: int) -> None:
        self.store, self.rng, self.now = store, rng, now
        self.counts = {
            "started": 0,
            "keyword": 0,
            "answered": 0,
            "timed_out": 0,
            "expired": 0,
            "inbox": 0,
            "sent": 0,
        }
        self.latest = now

    def run(self) -> dict:
        self.store.ticks += 1
        self.deadlines()
        self.answer_fated()
        self.answer_some()
        self.keywords()
        self.starts()
        self.outbox()
        self.inbox()
        return {"org": self.store.org.slug, "tick": self.store.ticks, **self.counts}

    def _answer(self, rid: int, text: str | None) -> None:
        walk = answer_run(self.store, rid, text, self.now)
        self.latest = max(self.latest, walk.end)

    def deadlines(self) -> None:
        store = self.store
        for rid, deadline in sorted(store.deadlines.items()):
            if deadline > self.now:
                continue
            walk = store.walk_run(rid)
            router = store.flows[store.runs.flow[rid - 1]].compiled.nodes[walk.path[-1][0]].router
            if router is not None and router.timeout_category is not None:
                self._answer(rid, None)
                self.counts["timed_out"] += 1
            else:
                store.settle_run(rid, walk, walk, EXPIRED, self.now)
                self.counts["expired"] += 1
            store.fates.pop(rid, None)

    def answer_fated(self) -> None:
        """Runs from flow starts made through the API answer as their fate says."""
        store = self.store
        for rid in sorted(store.fates):
            fate = store.fates[rid]
            if store.runs.exit_type[rid - 1] != WAITING or store.runs.deleted[rid - 1]:
                del store.fates[rid]
                continue
            if fate == "never" or (fate == "partial" and store.runs.responded[rid - 1]):
                continue
            text = _answer_text(store, self.rng, rid, store.walk_run(rid))
            if text is not None:
                self._answer(rid, text)
                self.counts["answered"] += 1

    def answer_some(self) -> None:
        """A few contacts reply to runs that were already waiting."""
        store = self.store
        waiting = sorted(rid for rid in store.waiting.values() if rid not in store.fates)
        for rid in self.rng.sample(waiting, min(len(waiting), max(1, len(waiting) // 30), 20)):
            contact = store.contacts[store.runs.contact[rid - 1] - 1]
            if self.rng.random() < contact.propensity:
                text = _answer_text(store, self.rng, rid, store.walk_run(rid))
                if text is not None:
                    self._answer(rid, text)
                    self.counts["answered"] += 1

    def keywords(self) -> None:
        """Now and then a contact texts a poll's keyword and a run without a start begins."""
        store = self.store
        polls = [f for f in store.flows if f.poll and not f.archived and f.keyword]
        for _ in range(self.rng.choices((0, 1, 2), (6, 3, 1))[0]):
            contact = self.rng.choice(store.contacts) if store.contacts and polls else None
            if (
                contact is None
                or contact.deleted
                or contact.status != "active"
                or not contact.groups
            ):
                continue
            rid = start_run(store, self.rng.choice(polls), contact, -1, self.now)
            store.fates[rid] = "complete" if self.rng.random() < contact.propensity else "partial"
            self.counts["keyword"] += 1

    def starts(self) -> None:
        store = self.store
        for start in store.starts:
            if start.status == "pending":
                start.queue = self._targets(start)
                start.status, start.total, start.started = "started", len(start.queue), 0
            if start.status != "started":
                continue
            batch, start.queue = start.queue[:STARTS_PER_TICK], start.queue[STARTS_PER_TICK:]
            flow = store.flows[start.flow]
            for ident in batch:
                contact = store.contacts[ident - 1]
                rid = start_run(store, flow, contact, start.id, self.now)
                roll = self.rng.random()
                fate = (
                    "complete"
                    if roll < contact.propensity
                    else "partial"
                    if roll < 0.9
                    else "never"
                )
                store.fates[rid] = fate
                self.counts["started"] += 1
            start.started += len(batch)
            start.modified = self.now
            if not start.queue:
                start.status = "completed"

    def _targets(self, start: FlowStart) -> list[int]:
        store = self.store
        skip: set[int] = set()
        if not start.restart_participants:
            runs = store.runs
            skip.update(runs.contact[r] for r in range(len(runs)) if runs.flow[r] == start.flow)
        if start.exclude_active:
            skip.update(store.waiting)
        reached = store.reach(start.groups, start.contacts, start.urns)
        return [c.id for c in reached if c.id not in skip]

    def outbox(self) -> None:
        store = self.store
        for key in list(store.message_keys.get("outbox", [])):
            msg = store.messages[(key & 0xFFFFFFFF) - 1]
            if msg.status == "queued":
                store.update_message(msg, status="wired", sent=self.now, modified=self.now)
                self.counts["sent"] += 1

    def inbox(self) -> None:
        store = self.store
        count = self.rng.choices((0, 1, 2, 3), (4, 3, 2, 1))[0]
        for _ in range(count):
            contact = self.rng.choice(store.contacts) if store.contacts else None
            if contact is None or contact.deleted or not contact.urns or contact.status != "active":
                continue
            if store.org.family == "edu":
                pool = catalog.INBOX.get(contact.language or "eng", catalog.INBOX["eng"])
            else:
                pool = catalog.HEALTH_INBOX
            msg = store.next_message(contact, "in", self.rng.choice(pool), self.now)
            labels = [lb.idx for lb in store.labels if lb.name.lower() in msg.text.lower()]
            msg.labels = tuple(labels)
            store.add_message(msg)
            store.touch_contact(contact, self.now, seen=True)
            self.counts["inbox"] += 1


def add_runs(store: OrgStore, rng: random.Random, count: int, now: int) -> tuple[int, int]:
    """`count` new runs, started in the last hours and last touched `now`.

    Each run's timeline is shifted to end at `now`, so an incremental sync with
    `after=<its last watermark>` sees every one of them, as with a real server.
    """
    polls = [f for f in store.flows if f.poll and not f.archived]
    active = [c for c in store.contacts if c.groups and not c.deleted and c.status == "active"]
    if not polls or not active:
        return 0, now
    runs = store.runs
    for _ in range(count):
        flow, contact = rng.choice(polls), rng.choice(active)
        interrupt_contact(store, contact.id, now)
        began = now - rng.randint(3600, 6 * 3600) * 1_000_000 - rng.randint(0, 999_999)
        inputs = plan_inputs(rng, flow, contact, store)
        lang = _language_index(store, contact)
        rid = runs.append(flow.idx, contact.id, -1, lang, began, inputs)
        language = store.org.languages[lang] if lang >= 0 else None
        draft = flow.compiled.walk(inputs, began, language, store.run_salt(rid), until=now)
        runs.inputs[rid - 1] = inputs[: draft.consumed]
        runs.created[rid - 1] = runs.modified[rid - 1] = began + (now - draft.end)
        walk = store.walk_run(rid)
        if walk.completed:
            store.settle_run(rid, None, walk, COMPLETED, walk.end)
        else:
            store.settle_run(rid, None, walk, WAITING, None)
        answered = [
            t for t, text in zip(walk.input_times, runs.inputs[rid - 1], strict=True) if text
        ]
        if answered:
            store.touch_contact(contact, max(answered), seen=True)
    return count, now


class LiveThread(threading.Thread):
    """Calls `tick()` every `interval` seconds until stopped."""

    def __init__(self, tick: Callable[[], object], interval: float) -> None:
        super().__init__(name="simulator-live", daemon=True)
        self._tick = tick
        self._interval = interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self._interval):
            try:
                self._tick()
            except Exception as error:  # keep ticking, but say what went wrong
                print(f"tracpro.simulator: tick failed: {error!r}", file=sys.stderr, flush=True)

    def stop(self) -> None:
        self._stop_event.set()
