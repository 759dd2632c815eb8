"""Running TracPro's own programs in production mode, for the tests that check it."""

import os
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PARENT_HOST = "tracpro.example.org"
# Development mode comes from pytest.ini; production mode is the settings' default.
DEVELOPMENT_ONLY = {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def production_env(**overrides: str) -> dict[str, str]:
    """The process environment of a production server on this machine's services:
    DEBUG unset, so the settings' default applies."""
    env = {k: v for k, v in os.environ.items() if k not in DEVELOPMENT_ONLY}
    database = settings.DATABASES["default"]
    return {
        **env,
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": f".{PARENT_HOST}",
        "PARENT_HOST": PARENT_HOST,
        # The test database, once pytest-django has made it; the development one before.
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,
        **overrides,
    }


def development_env(**overrides: str) -> dict[str, str]:
    return {**os.environ, "DEBUG": "1", **overrides}


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tool(name: str) -> str:
    """A system program, also from the sbin folders a non-root PATH leaves out
    (scripts/setup.sh installs them)."""
    found = shutil.which(name, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    assert found, f"{name} is not installed; run scripts/setup.sh"
    return found


def self_signed_certificate(directory: Path, host: str) -> tuple[Path, Path]:
    """A certificate for `host`, `*.host` and 127.0.0.1, and its key, in `directory`."""
    certificate, key = directory / "cert.pem", directory / "key.pem"
    result = subprocess.run(
        [
            tool("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", f"/CN={host}",
            "-addext", f"subjectAltName=DNS:{host},DNS:*.{host},IP:127.0.0.1",
            "-keyout", str(key), "-out", str(certificate),
        ],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return certificate, key


def nginx_main(directory: Path, site: Path, connections: int = 64) -> Path:
    """A main configuration of its own (temporary files and pid in the directory),
    including the site as Debian's would."""
    main = directory / "nginx.conf"
    temp = " ".join(
        f"{kind}_temp_path {directory / kind};" for kind in ("client_body", "proxy", "fastcgi")
    )
    main.write_text(
        f"""user root; daemon off; pid {directory / "nginx.pid"}; error_log stderr;
events {{ worker_connections {connections}; }}
http {{
    include /etc/nginx/mime.types; default_type application/octet-stream;
    {temp} uwsgi_temp_path {directory / "uwsgi"}; scgi_temp_path {directory / "scgi"};
    include {site};
}}
"""
    )
    return main
