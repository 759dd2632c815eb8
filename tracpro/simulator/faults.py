"""Fault injection: rules set at start (--fault) or at run time (POST /sim/faults).

A rule is a dict with a `mode` and optional scope:
  endpoint  "runs" or ["runs", "contacts"] (default: every API endpoint)
  org       an org slug (default: every org)
  method    "GET" / "POST" / "DELETE" (default: any)
  nth       first fire on the nth matching request (1-based; then count defaults to 1)
  count     fire at most this many times, then the rule is dropped
  probability  fire on each matching request with this probability (seeded)

Modes and their settings:
  rate_limit      requests=N, window=S: over N requests per S seconds -> 429 + Retry-After;
                  per="scope" counts each workspace and throttle scope apart, as the server
                  does (SERVER_LIMITS: 3,600 an hour in each of v2.runs, v2.contacts,
                  v2.messages and v2 for every other endpoint)
  error           status=500: a server error page
  delay           seconds=S: answer S seconds late
  disconnect      close the connection without an answer
  truncate        send half the body, announce all of it, close (a cut connection)
  malformed       a 200 whose body is cut in half (invalid JSON)
  broken_item     field=..., value=..., index=...: one item of the page gets a bad field
  duplicate_item  a page fetched with a cursor repeats the previous page's last item
"""

import math
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field

MODES = (
    "rate_limit",
    "error",
    "delay",
    "disconnect",
    "truncate",
    "malformed",
    "broken_item",
    "duplicate_item",
)
BODY_MODES = ("truncate", "malformed", "broken_item")
# The server's throttle scopes (temba/api/v2/views.py `throttle_scope`) and default rates
# (temba/settings_common.py DEFAULT_THROTTLE_RATES); its OrgUserRateThrottle
# (temba/api/support.py) keeps one history per workspace and scope.
SCOPES = {"runs": "v2.runs", "contacts": "v2.contacts", "messages": "v2.messages"}
SERVER_LIMITS = {"mode": "rate_limit", "requests": 3600, "window": 3600, "per": "scope"}
BROKEN_DEFAULTS = {
    "runs": ("contact", None),
    "contacts": ("groups", None),
    "messages": ("contact", None),
}


class FaultError(ValueError):
    pass


@dataclass
class Rule:
    mode: str
    settings: dict
    endpoints: frozenset[str] | None = None
    org: str | None = None
    method: str | None = None
    nth: int = 1
    count: int | None = None
    probability: float | None = None
    seen: int = 0
    fired: int = 0
    hits: dict[tuple, deque] = field(default_factory=dict)  # per workspace and scope

    def as_json(self) -> dict:
        return {
            "mode": self.mode,
            **self.settings,
            "endpoint": sorted(self.endpoints) if self.endpoints else None,
            "org": self.org,
            "method": self.method,
            "nth": self.nth,
            "count": self.count,
            "probability": self.probability,
            "seen": self.seen,
            "fired": self.fired,
        }


def parse_rule(spec: object) -> Rule:
    """A Rule from its JSON form; FaultError with a one-line reason when invalid."""
    if not isinstance(spec, dict):
        raise FaultError("a fault must be a JSON object")
    spec = dict(spec)
    mode = spec.pop("mode", None)
    if mode not in MODES:
        raise FaultError(f"unknown fault mode {mode!r} (choose from {', '.join(MODES)})")
    endpoint = spec.pop("endpoint", None)
    if isinstance(endpoint, str):
        endpoint = [endpoint]
    nth = spec.pop("nth", None)
    count = spec.pop("count", None)
    probability = spec.pop("probability", None)
    rule = Rule(
        mode=mode,
        settings={},
        endpoints=frozenset(e.removesuffix(".json") for e in endpoint) if endpoint else None,
        org=spec.pop("org", None),
        method=(spec.pop("method", None) or "").upper() or None,
        nth=int(nth) if nth is not None else 1,
        count=int(count) if count is not None else (1 if nth is not None else None),
        probability=float(probability) if probability is not None else None,
    )
    rule.settings = _settings(mode, spec)
    return rule


def _settings(mode: str, spec: dict) -> dict:
    try:
        if mode == "rate_limit":
            settings = {
                "requests": int(spec.pop("requests", 10)),
                "window": float(spec.pop("window", 60)),
            }
            if settings["requests"] < 0 or settings["window"] <= 0:
                raise FaultError("rate_limit needs requests >= 0 and window > 0")
            per = spec.pop("per", None)
            if per not in (None, "scope"):
                raise FaultError('rate_limit per must be "scope" or left out')
            if per:
                settings["per"] = per
        elif mode == "error":
            settings = {"status": int(spec.pop("status", 500))}
            if not 400 <= settings["status"] <= 599:
                raise FaultError("error status must be between 400 and 599")
        elif mode == "delay":
            settings = {"seconds": float(spec.pop("seconds", 1.0))}
        elif mode == "broken_item":
            settings = {k: spec.pop(k) for k in ("field", "value", "index") if k in spec}
        else:
            settings = {}
    except (TypeError, ValueError) as error:
        if isinstance(error, FaultError):
            raise
        raise FaultError(f"bad setting for {mode}: {error}") from error
    if spec:
        raise FaultError(f"unknown setting(s) for {mode}: {', '.join(sorted(spec))}")
    return settings


@dataclass
class Decision:
    """What the faults want done to one request."""

    delay: float = 0.0
    status: int | None = None  # 429 / 5xx answered instead of the real response
    retry_after: int = 0
    disconnect: bool = False
    body_faults: list[Rule] = field(default_factory=list)
    duplicate: Rule | None = None


class Faults:
    def __init__(self, seed: int = 0) -> None:
        self.rules: list[Rule] = []
        self.fired: dict[str, int] = {}
        self._lock = threading.Lock()
        self._rng = random.Random(f"faults/{seed}")

    def add(self, specs: object) -> list[dict]:
        items = specs.get("faults") if isinstance(specs, dict) and "faults" in specs else specs
        rules = [parse_rule(s) for s in (items if isinstance(items, list) else [items])]
        with self._lock:
            self.rules.extend(rules)
            return self.describe()

    def clear(self) -> None:
        with self._lock:
            self.rules = []

    def describe(self) -> list[dict]:
        return [rule.as_json() for rule in self.rules]

    def _matches(self, rule: Rule, endpoint: str, org: str, method: str) -> bool:
        return (
            (rule.endpoints is None or endpoint in rule.endpoints)
            and (rule.org is None or rule.org == org)
            and (rule.method is None or rule.method == method)
        )

    def _fires(self, rule: Rule) -> bool:
        rule.seen += 1
        if rule.seen < rule.nth:
            return False
        return rule.probability is None or self._rng.random() < rule.probability

    def _record(self, rule: Rule) -> None:
        rule.fired += 1
        self.fired[rule.mode] = self.fired.get(rule.mode, 0) + 1
        if rule.count is not None and rule.fired >= rule.count:
            self.rules.remove(rule)

    def decide(self, endpoint: str, org: str, method: str, has_cursor: bool) -> Decision:
        decision = Decision()
        with self._lock:
            for rule in list(self.rules):
                if not self._matches(rule, endpoint, org, method):
                    continue
                if rule.mode == "rate_limit":
                    scoped = rule.settings.get("per") == "scope"
                    key = (org, SCOPES.get(endpoint, "v2")) if scoped else ()
                    self._throttle(rule, decision, rule.hits.setdefault(key, deque()))
                    continue
                if rule.mode == "duplicate_item" and (not has_cursor or method != "GET"):
                    continue
                if rule.mode in BODY_MODES and method != "GET":
                    continue
                if not self._fires(rule):
                    continue
                self._record(rule)
                self._apply(rule, decision)
        return decision

    def _apply(self, rule: Rule, decision: Decision) -> None:
        if rule.mode == "delay":
            decision.delay += rule.settings["seconds"]
        elif rule.mode == "error" and decision.status is None:
            decision.status = rule.settings["status"]
        elif rule.mode == "disconnect":
            decision.disconnect = True
        elif rule.mode == "duplicate_item":
            decision.duplicate = rule
        elif rule.mode in BODY_MODES:
            decision.body_faults.append(rule)

    def _throttle(self, rule: Rule, decision: Decision, hits: deque) -> None:
        now = time.monotonic()
        window, limit = rule.settings["window"], rule.settings["requests"]
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) < limit:
            hits.append(now)  # throttled requests are not counted, as in DRF
            return
        if decision.status is None:
            # DRF's SimpleRateThrottle.wait(): until the oldest request leaves the window
            wait = (hits[0] + window - now) if hits else window
            decision.status = 429
            decision.retry_after = max(1, math.ceil(wait))
            self._record(rule)


def break_item(endpoint: str, body: dict, rule: Rule) -> None:
    """Give one item of a page a field the client cannot use."""
    results = body.get("results")
    if not isinstance(results, list) or not results:
        return
    default_field, default_value = BROKEN_DEFAULTS.get(endpoint, ("uuid", None))
    name = rule.settings.get("field", default_field)
    value = rule.settings.get("value", default_value if "field" not in rule.settings else None)
    index = int(rule.settings.get("index", len(results) // 2)) % len(results)
    results[index][name] = value
