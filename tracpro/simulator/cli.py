"""`python -m tracpro.simulator`: options, start-up banner, signals, shutdown."""

import argparse
import errno
import json
import os
import signal
import sys
import threading

from .clock import parse_datetime
from .faults import SERVER_LIMITS, FaultError, Faults
from .geo import UPPER_LEVELS
from .live import LiveThread
from .server import SimulatorServer
from .sim import Config, Simulator, StateError

PROG = "tracpro.simulator"
ANY_ADDRESS = ("0.0.0.0", "::", "")  # noqa: S104 - to recognise it, not to bind it


class CliError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(message)


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {value!r} (0-65535)")
    return port


def _at_least(minimum: int):
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid number {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {number}")
        return number

    return parse


def _decimal(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {value!r}") from None


def _positive(value: str) -> float:
    number = _decimal(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return number


def _share(value: str) -> float:
    number = _decimal(value)
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return number


def _now(value: str) -> int:
    stamp = parse_datetime(value)
    if stamp is None:
        raise argparse.ArgumentTypeError(f"invalid ISO 8601 date/time {value!r}")
    return stamp


def _fault(value: str) -> dict:
    try:
        return json.loads(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid JSON {value!r}") from None


def _rate(value: str) -> dict:
    requests, _, window = value.partition("/")
    try:
        return {"mode": "rate_limit", "requests": int(requests), "window": float(window or 3600)}
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid rate {value!r} (use N/SECONDS)") from None


def build_parser() -> argparse.ArgumentParser:
    env_port = os.environ.get("SIMULATOR_PORT") or "8001"
    parser = _Parser(prog=PROG, description="A RapidPro API v2 simulator for TracPro.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port",
        type=_port,
        default=None,
        help=f"port (default $SIMULATOR_PORT or 8001; now {env_port})",
    )
    parser.add_argument("--seed", type=int, default=1, help="data set seed (default 1)")
    parser.add_argument(
        "--contacts", type=_at_least(10), default=600, help="edu contacts (default 600)"
    )
    parser.add_argument(
        "--runs", type=_at_least(0), default=20_000, help="edu runs (default 20000)"
    )
    parser.add_argument(
        "--orgs",
        type=_at_least(1),
        default=2,
        help="workspaces: edu, health, then small ones ws03, ws04, ... (default 2)",
    )
    parser.add_argument(
        "--live",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="tick on a timer (default on)",
    )
    parser.add_argument(
        "--tick", type=_positive, default=5.0, help="seconds between ticks (default 5)"
    )
    parser.add_argument(
        "--now", type=_now, default=None, help="fix 'now' (ISO 8601) for a fixed clock"
    )
    parser.add_argument(
        "--state", default=None, help="persist writes and live activity to this file"
    )
    parser.add_argument(
        "--state-interval",
        type=_positive,
        default=10.0,
        help="seconds between state saves (default 10)",
    )
    parser.add_argument(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        help="a fault rule as JSON (repeatable)",
    )
    parser.add_argument(
        "--rate-limit", type=_rate, default=None, help="e.g. 3600/3600 (N requests/SECONDS)"
    )
    parser.add_argument(
        "--server-limits",
        action="store_true",
        help="the server's rate limits: 3600 requests/hour per workspace and throttle scope",
    )
    parser.add_argument(
        "--archive-days",
        type=_at_least(0),
        default=None,
        help="archive finished runs older than this many days (rp-archiver: 90)",
    )
    parser.add_argument(
        "--delete-archived",
        action="store_true",
        help="and delete archived runs from the runs endpoint",
    )
    parser.add_argument(
        "--late-writes",
        type=_share,
        default=0.0,
        help="share of writes that become visible late (a read replica), e.g. 0.1",
    )
    parser.add_argument(
        "--late-seconds",
        type=_positive,
        default=120.0,
        help="how late those writes become visible (default 120)",
    )
    parser.add_argument(
        "--boundaries",
        type=_at_least(UPPER_LEVELS),
        default=None,
        help=f"serve this many boundaries, wards (level 3) included (default {UPPER_LEVELS + 5})",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def parse_options(argv: list[str] | None) -> argparse.Namespace:
    options = build_parser().parse_args(argv)
    if options.port is None:
        try:
            options.port = _port(os.environ.get("SIMULATOR_PORT") or "8001")
        except argparse.ArgumentTypeError as error:
            raise CliError(f"SIMULATOR_PORT: {error}") from None
    return options


def _listen(options: argparse.Namespace, faults: Faults) -> SimulatorServer:
    try:
        return SimulatorServer((options.host, options.port), None, faults, options.verbose)  # type: ignore[arg-type]
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise CliError(f"port {options.port} is already in use") from None
        raise CliError(
            f"cannot listen on {options.host}:{options.port}: {error.strerror or error}"
        ) from None


def _banner(sim: Simulator, server: SimulatorServer, options: argparse.Namespace) -> str:
    host, port = server.server_address[:2]
    lines = [
        f"{PROG}: RapidPro API v2 on http://{host}:{port}/api/v2/ "
        f"(seed {options.seed}, built in {sim.build_seconds:.1f} s, "
        f"live {'on' if options.live else 'off'})"
    ]
    for store in sim.orgs.values():
        contacts, runs = len(store.contacts), len(store.runs)
        lines.append(
            f"  {store.org.slug:<7} {store.org.name:<28} token {store.org.token}  "
            f"({contacts} contacts, {runs} runs)"
        )
    return "\n".join(lines)


def run(options: argparse.Namespace) -> int:
    faults = Faults(options.seed)
    try:
        rules = list(options.fault) + ([options.rate_limit] if options.rate_limit else [])
        if options.server_limits:
            rules.append(dict(SERVER_LIMITS))
        if rules:
            faults.add(rules)
    except FaultError as error:
        raise CliError(f"--fault: {error}") from None
    server = _listen(options, faults)
    host, port = server.server_address[:2]
    config = Config(
        options.seed,
        options.contacts,
        options.runs,
        options.now,
        options.tick,
        options.state,
        orgs=options.orgs,
        media_url=f"http://{'127.0.0.1' if host in ANY_ADDRESS else host}:{port}",
        archive_days=options.archive_days,
        delete_archived=options.delete_archived,
        late_share=options.late_writes,
        late_seconds=options.late_seconds,
        boundaries=options.boundaries,
    )
    try:
        sim = Simulator(config)
    except StateError as error:
        server.server_close()
        raise CliError(str(error)) from None
    server.sim = sim
    print(_banner(sim, server, options), flush=True)
    stopping = threading.Event()

    def stop(signum: int, frame: object) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    helpers = []
    if options.live:
        helpers.append(LiveThread(sim.tick, options.tick))
    if options.state:
        helpers.append(LiveThread(sim.save_state, options.state_interval))
    for helper in helpers:
        helper.start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        for helper in helpers:
            helper.stop()
        sim.save_state()
        server.server_close()
    print(f"{PROG}: stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        return run(parse_options(argv))
    except CliError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr, flush=True)
        return 2
