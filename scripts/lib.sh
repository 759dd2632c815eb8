# Shared settings for the scripts in this folder. Source it; do not run it.
# Every value can be overridden from the environment.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${RUN_DIR:-$ROOT/.run}"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

WEB_PORT="${WEB_PORT:-8000}"
SIMULATOR_PORT="${SIMULATOR_PORT:-8001}"
PG_PORT="${TRACPRO_PG_PORT:-5433}"
REDIS_PORT="${TRACPRO_REDIS_PORT:-6380}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

pg_bin() {
    # Debian keeps the server binaries out of PATH.
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir"; return; }
    done
    command -v initdb >/dev/null && dirname "$(command -v initdb)"
}
