"""Run the simulator inside a test suite.

    from tracpro.simulator.testing import running_simulator

    with running_simulator(seed=1, contacts=120, runs=1500, now="2025-06-01T12:00:00Z") as sim:
        client = TembaClient(sim.base_url, sim.tokens["edu"])
        sim.faults(mode="error", endpoint="runs", count=2)
        sim.tick()

The server runs in a background thread of the calling process on a free port.
`token_for(slug, seed)` gives the token the simulator will use, without starting it.
"""

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from .clock import parse_datetime, to_us
from .faults import SERVER_LIMITS, Faults
from .ids import token_for
from .server import SimulatorServer
from .sim import Config, Simulator

__all__ = ["SimulatorHandle", "running_simulator", "start_simulator", "token_for"]


@dataclass
class SimulatorHandle:
    """A running simulator: its URL, tokens by org slug and its /sim/ controls."""

    base_url: str
    tokens: dict[str, str]
    orgs: list[dict]
    server: SimulatorServer = field(repr=False)
    thread: threading.Thread = field(repr=False)

    @property
    def simulator(self) -> Simulator:
        return self.server.sim

    def call(self, method: str, path: str, payload: object = None) -> object:
        """A raw call to a /sim/ control endpoint; returns the decoded JSON."""
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(  # noqa: S310 - always our own http:// base_url
            self.base_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{method} {path}: {error.code} {error.read().decode()}") from error
        return json.loads(body) if body else None

    def faults(self, **rule: object) -> list[dict]:
        """Add one fault rule, e.g. faults(mode="rate_limit", requests=2, window=10)."""
        return self.call("POST", "/sim/faults", rule)["faults"]

    def clear_faults(self) -> None:
        self.call("DELETE", "/sim/faults")

    def stats(self) -> dict:
        return self.call("GET", "/sim/stats")

    def reset_stats(self) -> dict:
        return self.call("POST", "/sim/stats/reset")

    def tick(self, org: str | None = None) -> list[dict]:
        return self.call("POST", "/sim/tick", {"org": org} if org else {})["ticks"]

    def add_runs(self, org: str = "edu", count: int = 1) -> dict:
        return self.call("POST", "/sim/runs", {"org": org, "count": count})

    def summary(self, org: str = "edu") -> dict:
        return self.call("GET", f"/sim/summary?org={org}")

    def reset(self) -> dict:
        return self.call("POST", "/sim/reset")

    def client(self, org: str = "edu"):
        """A real rapidpro-python client for `org` (imported lazily)."""
        from temba_client.v2 import TembaClient

        return TembaClient(self.base_url, self.tokens[org])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
        self.simulator.save_state()


def _anchor(now: datetime | str | None) -> int | None:
    if now is None:
        return None
    if isinstance(now, datetime):
        return to_us(now)
    stamp = parse_datetime(now)
    if stamp is None:
        raise ValueError(f"invalid now {now!r}")
    return stamp


def start_simulator(
    seed: int = 1,
    contacts: int = 120,
    runs: int = 1500,
    live: bool = False,
    now: datetime | str | None = None,
    tick: float = 5.0,
    state: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: list[dict] | None = None,
    server_limits: bool = False,
    **real_server: object,
) -> SimulatorHandle:
    """Build and serve a simulator in a background thread; call `stop()` when done.

    `server_limits=True` throttles like the server (3,600 requests an hour per scope);
    `real_server` takes the other Config options that make it behave like a real
    server: archive_days, delete_archived, late_share, late_seconds, boundaries; and
    `orgs`, the number of workspaces."""
    fault_set = Faults(seed)
    if faults:
        fault_set.add(faults)
    if server_limits:
        fault_set.add(dict(SERVER_LIMITS))
    server = SimulatorServer((host, port), None, fault_set)  # type: ignore[arg-type]
    bound_host, bound_port = server.server_address[:2]
    config = Config(seed, contacts, runs, _anchor(now), tick, state, **real_server)  # type: ignore[arg-type]
    config.media_url = f"http://{bound_host}:{bound_port}"
    sim = Simulator(config)
    server.sim = sim
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="simulator", daemon=True
    )
    thread.start()
    if live:
        from .live import LiveThread

        ticker = LiveThread(sim.tick, tick)
        ticker.start()
        original = server.shutdown

        def shutdown() -> None:
            ticker.stop()
            original()

        server.shutdown = shutdown  # type: ignore[method-assign]
    orgs = sim.org_list()
    return SimulatorHandle(
        base_url=f"http://{bound_host}:{bound_port}",
        tokens={o["slug"]: o["token"] for o in orgs},
        orgs=orgs,
        server=server,
        thread=thread,
    )


@contextmanager
def running_simulator(**options: object) -> Iterator[SimulatorHandle]:
    """`start_simulator(**options)` as a context manager that always stops it."""
    handle = start_simulator(**options)  # type: ignore[arg-type]
    try:
        yield handle
    finally:
        handle.stop()
