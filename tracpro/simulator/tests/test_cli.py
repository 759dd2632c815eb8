"""The command line: one-line errors, clean shutdown, and --state across restarts."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SMALL = ["--contacts", "20", "--runs", "150", "--no-live", "--now", "2025-06-02T09:30:00Z"]


def _run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tracpro.simulator", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "SIMULATOR_PORT": ""},
    )


def _start(*args: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tracpro.simulator", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    banner = process.stdout.readline()
    found = re.search(r"http://([\d.]+:\d+)/api/v2/", banner)
    assert found, banner + process.stderr.read()
    for _ in range(2):
        process.stdout.readline()
    return process, f"http://{found.group(1)}"


def _call(base: str, method: str, path: str, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = json.dumps(body).encode() if body is not None else None
    # only ever the local http:// URL the simulator printed
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        text = response.read()
    return json.loads(text) if text else None


def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> tuple[int, str]:
    process.send_signal(sig)
    _out, err = process.communicate(timeout=30)
    return process.returncode, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus"], "tracpro.simulator: error: unrecognized arguments: --bogus"),
        (["--port", "abc"], "tracpro.simulator: error: argument --port: invalid port 'abc'"),
        (
            ["--contacts", "3"],
            "tracpro.simulator: error: argument --contacts: must be at least 10, got 3",
        ),
        (
            ["--now", "soon"],
            "tracpro.simulator: error: argument --now: invalid ISO 8601 date/time 'soon'",
        ),
    ],
)
def test_it_prints_a_one_line_error_for_a_bad_flag(args, message):
    result = _run(*args)
    assert result.returncode == 2
    assert result.stderr.strip() == message
    assert result.stdout == ""


def test_it_prints_a_one_line_error_when_the_port_is_in_use():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _run("--port", str(port), *SMALL)
    assert result.returncode == 2
    assert result.stderr.strip() == f"tracpro.simulator: error: port {port} is already in use"


def test_it_takes_the_port_from_simulator_port():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "tracpro.simulator", *SMALL],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "SIMULATOR_PORT": str(port)},
        )
    assert result.stderr.strip() == f"tracpro.simulator: error: port {port} is already in use"


@pytest.mark.slow
def test_it_prints_tokens_and_stops_cleanly_on_sigint():
    process, base = _start(*SMALL)
    orgs = _call(base, "GET", "/sim/orgs")
    assert {o["slug"] for o in orgs} == {"edu", "health"}
    code, err = _stop(process, signal.SIGINT)
    assert code == 0 and "Traceback" not in err


@pytest.mark.slow
def test_it_continues_from_the_state_file_after_a_restart(tmp_path):
    state = tmp_path / "state.json"
    process, base = _start(*SMALL, "--state", str(state))
    token = _call(base, "GET", "/sim/orgs")[0]["token"]
    created = _call(
        base,
        "POST",
        "/api/v2/contacts.json",
        {"name": "Kept", "urns": ["tel:+256772999000"]},
        token,
    )
    _call(base, "POST", "/sim/tick", {})
    _call(base, "POST", "/sim/runs", {"org": "edu", "count": 25})
    before = _call(base, "GET", "/sim/summary?org=edu")
    newest = _call(base, "GET", "/api/v2/runs.json", token=token)["results"][0]
    code, err = _stop(process)
    assert code == 0 and "Traceback" not in err
    assert json.loads(state.read_text())["ops"]

    process, base = _start(*SMALL, "--state", str(state))
    try:
        found = _call(base, "GET", f"/api/v2/contacts.json?uuid={created['uuid']}", token=token)
        assert found["results"][0]["name"] == "Kept"
        assert _call(base, "GET", "/sim/summary?org=edu") == before
        assert _call(base, "GET", "/api/v2/runs.json", token=token)["results"][0] == newest
        ticks = _call(base, "POST", "/sim/tick", {"org": "edu"})["ticks"]
        assert ticks[0]["tick"] == 2
    finally:
        _stop(process)


def test_it_refuses_a_state_file_written_for_other_options(tmp_path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"format": 1, "seed": 99, "contacts": 20, "runs": 150, "ops": []}))
    result = _run("--port", "0", *SMALL, "--state", str(state))
    assert result.returncode == 2
    assert result.stderr.startswith("tracpro.simulator: error: state file")
    assert len(result.stderr.strip().splitlines()) == 1


def test_it_replays_wall_clock_activity_from_the_state_file(tmp_path):
    from tracpro.simulator.api import Query, list_runs
    from tracpro.simulator.pagination import page
    from tracpro.simulator.sim import Config, Simulator

    config = Config(seed=4, contacts=40, runs=400, tick=1.0, state=str(tmp_path / "s.json"))
    first = Simulator(config)
    store = first.orgs["edu"]
    flow = next(f for f in store.flows if f.name == "Textbooks")
    group = next(g for g in store.groups if g.name == "Head Teachers")
    first.write(store, "flow_starts", "POST", {}, {"flow": flow.uuid, "groups": [group.uuid]})
    for _ in range(4):
        first.tick()
    first.add_runs("health", 30)
    first.save_state()

    second = Simulator(config)
    assert second.clock.anchor == first.clock.anchor
    for slug in ("edu", "health"):
        assert second.orgs[slug].summary() == first.orgs[slug].summary()
        one, two = first.orgs[slug], second.orgs[slug]
        keys_one = page(list_runs(one, Query({})), None)[0]
        assert keys_one == page(list_runs(two, Query({})), None)[0]
