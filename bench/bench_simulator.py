"""How fast is the RapidPro simulator compared with the client that reads it?

    .venv/bin/python bench/bench_simulator.py [--runs 1000000] [--contacts N] [--max-pages N]

Starts the simulator at that scale (reporting build time and peak RSS), pages
every run with `TembaClient(...).get_runs().iterfetches()`, and compares, per
page, the server's own time (its X-Sim-Elapsed-Ms header) with the client's
`Run.deserialize_list()` time on the same page. Exits non-zero unless the
server's median is the smaller, so sync benchmarks measure TracPro, not the
simulator.
"""

import argparse
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import temba_client.base as temba_base
from temba_client.serialization import TembaObject
from temba_client.v2 import TembaClient
from temba_client.v2.types import Run

ROOT = Path(__file__).resolve().parents[1]
NOW = "2025-06-02T09:30:00Z"


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start(runs: int, contacts: int, seed: int) -> tuple[subprocess.Popen, str, str, float, float]:
    command = [sys.executable, "-m", "tracpro.simulator", "--port", "0", "--no-live", "--now", NOW]
    command += ["--seed", str(seed), "--runs", str(runs), "--contacts", str(contacts)]
    started = time.perf_counter()
    # our own interpreter and module, no shell
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)  # noqa: S603
    banner = process.stdout.readline()
    ready = time.perf_counter() - started
    edu = process.stdout.readline()
    process.stdout.readline()
    url = re.search(r"(http://[\d.]+:\d+)/api/v2/", banner)
    token = re.search(r"token ([0-9a-f]{40})", edu)
    built = re.search(r"built in ([\d.]+) s", banner)
    if not (url and token and built):
        process.kill()
        raise SystemExit(f"simulator did not start: {banner!r}")
    return process, url.group(1), token.group(1), float(built.group(1)), ready


class Meter:
    """Captures the server's time per response and the client's deserialisation time."""

    def __init__(self) -> None:
        self.server_ms: list[float] = []
        self.client_ms: list[float] = []

    def install(self) -> None:
        original_request = temba_base.request
        original_deserialize = TembaObject.deserialize_list.__func__

        def request(method, url, **kwargs):
            response = original_request(method, url, **kwargs)
            self.server_ms.append(float(response.headers["X-Sim-Elapsed-Ms"]))
            return response

        def deserialize_list(cls, item_list, transformer=None):
            began = time.perf_counter()
            result = original_deserialize(cls, item_list, transformer)
            self.client_ms.append((time.perf_counter() - began) * 1000)
            return result

        temba_base.request = request
        Run.deserialize_list = classmethod(deserialize_list)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=None, help="default: runs / 10")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-pages", type=int, default=0, help="stop after N pages (0: all)")
    options = parser.parse_args()
    contacts = options.contacts or max(100, options.runs // 10)
    process, url, token, built, ready = start(options.runs, contacts, options.seed)
    try:
        rss_after_build = peak_rss_mb(process.pid)
        meter = Meter()
        meter.install()
        client = TembaClient(url, token)
        began, pages, runs = time.perf_counter(), 0, 0
        for page in client.get_runs().iterfetches():
            pages, runs = pages + 1, runs + len(page)
            if options.max_pages and pages >= options.max_pages:
                break
        paging = time.perf_counter() - began
        rss = peak_rss_mb(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    server = statistics.median(meter.server_ms)
    deserialize = statistics.median(meter.client_ms)
    ratio = server / deserialize
    print(f"simulator: {options.runs:,} edu runs, {contacts:,} contacts (seed {options.seed})")
    print(
        f"  build {built:.1f} s (ready after {ready:.1f} s), peak RSS {rss_after_build:,.0f} MB "
        f"after build, {rss:,.0f} MB after paging"
    )
    print(f"  paged {runs:,} runs in {pages:,} pages in {paging:.1f} s")
    print()
    print(f"  {'per page (median)':<34}{'ms':>10}")
    print(f"  {'server (X-Sim-Elapsed-Ms)':<34}{server:>10.2f}")
    print(f"  {'client Run.deserialize_list()':<34}{deserialize:>10.2f}")
    print(f"  {'ratio server / client':<34}{ratio:>10.3f}")
    if ratio >= 1:
        print("FAIL: the simulator is slower per page than the client's own deserialisation")
        return 1
    print("OK: the simulator's share is the smaller")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
