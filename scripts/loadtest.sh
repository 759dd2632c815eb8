#!/usr/bin/env bash
# `make loadtest`: the production stack under load, on loopback (bench/loadtest.py).
# Not part of `make test`: it takes minutes and wants a quiet machine.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

bash scripts/setup.sh
export STARTED_FILE="$RUN_DIR/started.loadtest.$$"
trap 'bash scripts/services.sh stop-started' EXIT
bash scripts/services.sh start
export DATABASE_URL="${DATABASE_URL:-postgres://tracpro@127.0.0.1:$PG_PORT/tracpro}"
"$VENV/bin/python" bench/loadtest.py "$@"
