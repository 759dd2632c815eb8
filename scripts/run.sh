#!/usr/bin/env bash
# `make run`: set up what is missing, start Postgres and Redis, migrate, then run
# the simulator, the web server (after seeding the demo), a Celery worker and
# beat in the foreground. Ctrl-C stops all of them, the databases included.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$WEB_PORT" "$SIMULATOR_PORT"; do
    if port_in_use "$port"; then
        die "port $port is in use (is \`make run\` already running?). Stop it, or set WEB_PORT / SIMULATOR_PORT."
    fi
done

bash scripts/setup.sh
export STARTED_FILE="$RUN_DIR/started.run.$$"
cleanup() {
    trap - EXIT INT TERM
    bash scripts/services.sh stop-started
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bash scripts/services.sh start

# Development mode, explicitly: the settings default to production.
export DEBUG=1 WEB_PORT SIMULATOR_PORT PYTHONUNBUFFERED=1
"$VENV/bin/python" manage.py migrate --no-input

cat <<BANNER

  TracPro is starting:
    http://localhost:$WEB_PORT/                superusers: organizations and users
    http://edu.localhost:$WEB_PORT/            Uganda Education Monitoring
    http://health.localhost:$WEB_PORT/         Uganda Health Monitoring
    http://localhost:$SIMULATOR_PORT/sim/orgs          the RapidPro simulator

  Demo logins (password: tracpro-demo)
    root@example.com            superuser
    admin@edu.example.com       edu administrator
    kampala@edu.example.com     edu supervisor (Kampala and its sub-regions)
    admin@health.example.com    health administrator

  Ctrl-C stops everything.

BANNER

# honcho stops every process when one exits or on Ctrl-C.
"$VENV/bin/honcho" start
