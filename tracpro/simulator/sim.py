"""The simulator: orgs, the write lock, the clock, and the log of writes.

Every change (an API write, a tick, added runs) is applied through `apply()` as
a small JSON op with its time. The ops are what `--state` persists: a restart
rebuilds the seeded data and replays them, which gives back the same state.
"""

import json
import os
import random
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import writes
from .api import ApiError, Query
from .archives import archive_old_runs
from .catalog import org_specs
from .clock import Clock, wall_us
from .data import build_org
from .geo import KAMPALA_DIVISIONS, UPPER_LEVELS
from .live import Tick, add_runs
from .store import LateWrites, OrgStore

STATE_FORMAT = 1
WRITES = {
    ("contacts", "POST"): writes.post_contacts,
    ("contacts", "DELETE"): writes.delete_contacts,
    ("contact_actions", "POST"): writes.post_contact_actions,
    ("flow_starts", "POST"): writes.post_flow_starts,
    ("broadcasts", "POST"): writes.post_broadcasts,
    ("messages", "POST"): writes.post_messages,
    ("message_actions", "POST"): writes.post_message_actions,
    ("groups", "POST"): writes.post_groups,
    ("groups", "DELETE"): writes.delete_groups,
    ("labels", "POST"): writes.post_labels,
    ("labels", "DELETE"): writes.delete_labels,
    ("fields", "POST"): writes.post_fields,
}


class StateError(Exception):
    pass


@dataclass
class Config:
    seed: int = 1
    contacts: int = 600
    runs: int = 20_000
    now: int | None = None  # anchor in µs; None = the wall clock at start
    tick: float = 5.0
    state: str | None = None
    media_url: str = ""  # this server's address, for the URLs of recordings
    archive_days: int | None = None  # archive runs older than this many days (rp-archiver)
    delete_archived: bool = False  # ...and take them out of the runs endpoint
    late_share: float = 0.0  # writes that become visible late (store.LateWrites)...
    late_seconds: float = 120.0  # ...this long after the modified_on they carry
    boundaries: int | None = None  # all boundaries, wards included (None: the demo's 19)
    orgs: int = 2  # workspaces: edu, health, then ws03, ws04, ...


class Simulator:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.ops: list[dict] = []
        self.saved_ops = 0
        self.orgs: dict[str, OrgStore] = {}
        self.tokens: dict[str, OrgStore] = {}
        state = self._read_state() if config.state else None
        anchor = state["anchor"] if state else config.now
        fixed = state["fixed"] if state else config.now is not None
        if anchor is None:
            anchor = wall_us() // 1_000_000 * 1_000_000
        self.clock = Clock(anchor, fixed)
        self.build_seconds = 0.0
        self.build()
        if state:
            for op in state["ops"]:
                self.apply(op)
            self.saved_ops = len(self.ops)

    # -- building -------------------------------------------------------------------------------

    def build(self) -> None:
        started = time.perf_counter()
        cfg = self.config
        orgs = {}
        for spec in org_specs(cfg.orgs):
            wards = (
                len(KAMPALA_DIVISIONS) if cfg.boundaries is None else cfg.boundaries - UPPER_LEVELS
            )
            store = build_org(
                spec, cfg.seed, cfg.contacts, cfg.runs, self.clock.anchor, cfg.media_url, wards
            )
            if cfg.archive_days is not None:
                archive_old_runs(store, self.clock.anchor, cfg.archive_days, cfg.delete_archived)
            if cfg.late_share:
                store.late = LateWrites(cfg.late_share, int(cfg.late_seconds * 1e6), self.now)
            orgs[spec.slug] = store
        with self.lock:
            self.orgs = orgs
            self.tokens = {store.org.token: store for store in orgs.values()}
        self.build_seconds = time.perf_counter() - started

    def reset(self) -> None:
        with self.lock:
            self.build()
            self.ops = []
            self.saved_ops = -1
            self.clock = Clock(self.clock.anchor, self.clock.fixed)

    def now(self) -> int:
        return self.clock.peek()

    def org_list(self) -> list[dict]:
        return [
            {
                "slug": s.org.slug,
                "name": s.org.name,
                "uuid": s.org.uuid,
                "token": s.org.token,
                "family": s.org.family,
            }
            for s in self.orgs.values()
        ]

    # -- changes --------------------------------------------------------------------------------

    def apply(self, op: dict):
        """Apply one recorded change; it joins the log only when it succeeds."""
        with self.lock:
            store = self.orgs[op["org"]]
            at = op["at"]
            self.clock.observe(at)
            kind = op["type"]
            if kind == "api":
                handler = WRITES[(op["endpoint"], op["method"])]
                result = handler(store, Query(op["params"]), op.get("body"), at)
            elif kind == "tick":
                rng = random.Random(f"{self.config.seed}/{op['org']}/tick/{store.ticks}")
                ticker = Tick(store, rng, at)
                result = ticker.run()
                self.clock.observe(ticker.latest)
            elif kind == "add_runs":
                rng = random.Random(f"{self.config.seed}/{op['org']}/add/{len(store.runs)}")
                added, latest = add_runs(store, rng, int(op["count"]), at)
                self.clock.observe(latest)
                result = {"org": op["org"], "added": added, "runs": len(store.runs)}
            else:
                raise StateError(f"unknown op {kind!r}")
            self.ops.append(op)
            return result

    def write(self, store: OrgStore, endpoint: str, method: str, params: dict, body: object):
        """An API write: (status, payload); ApiError for the server's 4xx answers."""
        if (endpoint, method) not in WRITES:
            raise ApiError(405, {"detail": f'Method "{method}" not allowed.'})
        with self.lock:
            op = {
                "type": "api",
                "org": store.org.slug,
                "endpoint": endpoint,
                "method": method,
                "params": params,
                "body": body,
                "at": self.clock.now(),
            }
            return self.apply(op)

    def tick(self, slug: str | None = None) -> list[dict]:
        with self.lock:
            self.clock.advance(self.config.tick)
            return [
                self.apply({"type": "tick", "org": s, "at": self.clock.now()})
                for s in ([slug] if slug else list(self.orgs))
            ]

    def add_runs(self, slug: str, count: int) -> dict:
        with self.lock:
            return self.apply(
                {"type": "add_runs", "org": slug, "count": count, "at": self.clock.now()}
            )

    # -- state file -----------------------------------------------------------------------------

    def _fingerprint(self) -> dict:
        cfg = self.config
        # Archiving is left out: it is redone from the seeded data at every start, and
        # a state file from before it existed still replays.
        return {
            "format": STATE_FORMAT,
            "seed": cfg.seed,
            "contacts": cfg.contacts,
            "runs": cfg.runs,
            "orgs": cfg.orgs,
        }

    def _read_state(self) -> dict | None:
        path = Path(self.config.state)
        if not path.exists():
            return None
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise StateError(f"cannot read state file {path}: {error}") from error
        expected = self._fingerprint()
        # State files from before --orgs served the two orgs.
        found = {k: state.get(k, 2 if k == "orgs" else None) for k in expected}
        if found != expected:
            raise StateError(
                f"state file {path} was written for seed {found['seed']}, "
                f"{found['contacts']} contacts, {found['runs']} runs, {found['orgs']} orgs; "
                "start with those options or remove the file"
            )
        return state

    def save_state(self, force: bool = False) -> bool:
        """Write the state file atomically (temp file + rename) if anything changed."""
        if not self.config.state:
            return False
        with self.lock:
            if not force and self.saved_ops == len(self.ops):
                return False
            state = {
                **self._fingerprint(),
                "anchor": self.clock.anchor,
                "fixed": self.clock.fixed,
                "ops": list(self.ops),
            }
            count = len(self.ops)
        path = Path(self.config.state)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w") as handle:
            json.dump(state, handle, separators=(",", ":"))
        os.replace(temp, path)
        self.saved_ops = count
        return True
