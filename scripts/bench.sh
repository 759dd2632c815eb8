#!/usr/bin/env bash
# `make bench`: the benchmarks, side by side in one run. Each prints medians and
# ratios and exits non-zero when a target is missed. BENCH_RUNS scales the sync part.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

bash scripts/setup.sh
# Development mode, explicitly: the settings default to production.
export DEBUG=1
export STARTED_FILE="$RUN_DIR/started.bench.$$"
trap 'bash scripts/services.sh stop-started' EXIT
bash scripts/services.sh start

status=0
for bench in bench/bench_simulator.py bench/bench_sync.py bench/bench_dashboard.py; do
    say "$bench"
    "$VENV/bin/python" "$bench" || status=1
done
exit $status
