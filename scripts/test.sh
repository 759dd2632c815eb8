#!/usr/bin/env bash
# `make test`: set up what is missing, start Postgres and Redis if needed, run
# the whole suite (browser tests included) with branch coverage, stop what it
# started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

bash scripts/setup.sh
# Development mode, explicitly: the settings default to production (pytest.ini sets it too).
export DEBUG=1
export STARTED_FILE="$RUN_DIR/started.test.$$"
trap 'bash scripts/services.sh stop-started' EXIT
bash scripts/services.sh start

if [ "$#" -eq 0 ]; then
    # The whole suite: measure branch coverage and fail under the floor
    # (pyproject.toml, [tool.coverage]). A partial run would fail it by design.
    "$VENV/bin/pytest" --cov --cov-report=term-missing:skip-covered
else
    "$VENV/bin/pytest" "$@"
fi
