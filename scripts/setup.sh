#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks: system packages (as root, via
# apt-get), the .venv and the pinned Python requirements. Safe to run again.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

missing_packages() {
    local pkgs=()
    [ -n "$(pg_bin)" ] || pkgs+=(postgresql)
    command -v redis-server >/dev/null || pkgs+=(redis-server)
    command -v chromium >/dev/null || pkgs+=(chromium)
    dpkg -s fonts-noto-core >/dev/null 2>&1 || pkgs+=(fonts-noto-core)
    command -v msgfmt >/dev/null || pkgs+=(gettext)
    # The production stack the tests check and run (conf/): nginx, systemd's
    # analyser, logrotate, and what the TLS and health checks use.
    [ -x /usr/sbin/nginx ] || pkgs+=(nginx)
    command -v systemd-analyze >/dev/null || pkgs+=(systemd)
    [ -x /usr/sbin/logrotate ] || pkgs+=(logrotate)
    command -v openssl >/dev/null || pkgs+=(openssl)
    command -v curl >/dev/null || pkgs+=(curl)
    command -v git >/dev/null || pkgs+=(git)
    "$PYTHON" -c "import venv, ensurepip" 2>/dev/null || pkgs+=(python3-venv)
    echo "${pkgs[@]:-}"
}

install_system_packages() {
    local pkgs
    pkgs="$(missing_packages)"
    [ -z "$pkgs" ] && return
    if [ "$(id -u)" -ne 0 ]; then
        echo "These Debian packages are missing: $pkgs" >&2
        echo "Install them as root, then run this again:" >&2
        echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends $pkgs" >&2
        exit 1
    fi
    say "Installing Debian packages: $pkgs"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $pkgs
    # The Debian package starts a system-wide Redis; TracPro runs its own.
    if [[ " $pkgs " == *" redis-server "* ]] && command -v systemctl >/dev/null; then
        systemctl disable --now redis-server >/dev/null 2>&1 || true
    fi
    # Likewise nginx: the tests start their own, on free ports.
    if [[ " $pkgs " == *" nginx "* ]] && command -v systemctl >/dev/null; then
        systemctl disable --now nginx >/dev/null 2>&1 || true
    fi
}

install_python_requirements() {
    if [ ! -x "$VENV/bin/python" ]; then
        say "Creating $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    local stamp="$VENV/.requirements.sha256"
    local wanted
    wanted="$(cat "$ROOT"/requirements/*.txt | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
        say "Installing Python requirements"
        "$VENV/bin/pip" install -q -r "$ROOT/requirements/dev.txt"
        echo "$wanted" > "$stamp"
    fi
}

install_system_packages
install_python_requirements
