#!/usr/bin/env bash
# Private Postgres and Redis for development and tests, with their data under
# .run/. Skipped when DATABASE_URL / REDIS_URL point elsewhere.
#
#   scripts/services.sh start   # start what is not running; prints what it started
#   scripts/services.sh stop    # stop both
#   scripts/services.sh status
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PG_DIR="$RUN_DIR/postgres"
# Which services this invocation started, so the caller stops only those.
STARTED_FILE="${STARTED_FILE:-$RUN_DIR/started}"
REDIS_DIR="$RUN_DIR/redis"

as_pg_owner() {
    # Postgres refuses to run as root; run it as the postgres user instead.
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_data_dir() {
    # The postgres user must reach the data directory through every parent; a
    # checkout under a private home is not reachable, so use /var/tmp there.
    if [ "$(id -u)" -ne 0 ] || runuser -u postgres -- test -x "$RUN_DIR" 2>/dev/null; then
        echo "$PG_DIR"
    else
        echo "/var/tmp/tracpro-$(echo "$ROOT" | sha256sum | cut -c1-12)/postgres"
    fi
}

pg_running() {
    "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null
}

start_postgres() {
    [ -n "${DATABASE_URL:-}" ] && return
    pg_running && return
    local bin data
    bin="$(pg_bin)"
    [ -n "$bin" ] || die "PostgreSQL is not installed (run scripts/setup.sh)."
    data="$(pg_data_dir)"
    mkdir -p "$RUN_DIR"
    if [ ! -f "$data/PG_VERSION" ]; then
        say "Creating a Postgres cluster in $data"
        mkdir -p "$data"
        [ "$(id -u)" -eq 0 ] && chown postgres: "$data"
        as_pg_owner "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
        # A throwaway development cluster: durability traded for speed.
        cat >> "$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$data'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
max_connections = 200
CONF
    fi
    say "Starting Postgres on 127.0.0.1:$PG_PORT"
    # The port on the command line wins over the one the cluster was made with.
    as_pg_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -o "-p $PG_PORT" -w -t 60 start >/dev/null
    if ! "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc \
        "SELECT 1 FROM pg_roles WHERE rolname='tracpro'" | grep -q 1; then
        "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE ROLE tracpro LOGIN SUPERUSER"
        "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres -O tracpro tracpro
    fi
    echo postgres >> "$STARTED_FILE"
}

stop_postgres() {
    pg_running || return 0
    local data
    data="$(pg_data_dir)"
    [ -f "$data/postmaster.pid" ] || return 0
    say "Stopping Postgres"
    as_pg_owner "$(pg_bin)/pg_ctl" -D "$data" -m fast -w stop >/dev/null
}

redis_running() {
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1
}

start_redis() {
    [ -n "${REDIS_URL:-}" ] && return
    redis_running && return
    command -v redis-server >/dev/null || die "redis-server is not installed (run scripts/setup.sh)."
    mkdir -p "$REDIS_DIR"
    say "Starting Redis on 127.0.0.1:$REDIS_PORT"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DIR" \
        --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
        --save "" --appendonly no >/dev/null
    for _ in $(seq 50); do redis_running && break; sleep 0.1; done
    redis_running || die "Redis did not start; see $REDIS_DIR/redis.log"
    echo redis >> "$STARTED_FILE"
}

stop_redis() {
    redis_running || return 0
    [ -f "$REDIS_DIR/redis.pid" ] || return 0
    say "Stopping Redis"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}

case "${1:-}" in
    start)
        mkdir -p "$RUN_DIR"
        : > "$STARTED_FILE"
        start_postgres
        start_redis
        ;;
    stop)
        stop_postgres
        stop_redis
        ;;
    stop-started)
        # Stop only what the last `start` started (make run / make test leave
        # alone the services someone else had running).
        if [ -f "$STARTED_FILE" ]; then
            if grep -qx postgres "$STARTED_FILE"; then stop_postgres; fi
            if grep -qx redis "$STARTED_FILE"; then stop_redis; fi
            rm -f "$STARTED_FILE"
        fi
        ;;
    status)
        pg_running && echo "postgres: up on $PG_PORT" || echo "postgres: down"
        redis_running && echo "redis: up on $REDIS_PORT" || echo "redis: down"
        ;;
    *)
        echo "usage: $0 start|stop|stop-started|status" >&2
        exit 2
        ;;
esac
