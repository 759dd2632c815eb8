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
