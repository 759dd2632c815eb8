"""Throwaway Redis and Postgres servers that a drill may stop, kill and start again
on the same port and data, without touching the suite's own services."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from tracpro.rapidpro.backups import pg_tool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing answers on port {port}")


class RedisServer:
    """A Redis with an append-only file, so what it held survives a restart."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def broker_url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/1"

    def start(self) -> None:
        server = shutil.which("redis-server") or "redis-server"
        self.process = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.folder), "--save", "", "--appendonly", "yes",
             "--appendfsync", "always"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port)

    def kill(self) -> None:
        """SIGKILL: Redis gone at once, as in a crash or a lost machine."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


class PostgresServer:
    """A Postgres cluster of its own (initdb'd as the `postgres` user when run as
    root), on a free port, with a `tracpro` superuser and database."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="tracpro-drill-", dir="/var/tmp"))
        self.data = self.folder / "data"
        self.port = free_port()

    def as_owner(self, *command: str) -> None:
        if os.getuid() == 0:
            command = ("runuser", "-u", "postgres", "--", *command)
        subprocess.run(command, check=True, capture_output=True)

    def init(self) -> None:
        if os.getuid() == 0:
            shutil.chown(self.folder, "postgres")
        self.as_owner(
            pg_tool("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.data}'\nfsync = off\n"
            )
        self.start()
        self.psql("CREATE ROLE tracpro LOGIN SUPERUSER")
        self.psql("CREATE DATABASE tracpro OWNER tracpro")

    def psql(self, sql: str) -> None:
        subprocess.run(
            [pg_tool("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-qc", sql],
            check=True, capture_output=True,
        )  # fmt: skip

    def pg_ctl(self, action: str, *arguments: str) -> None:
        log = str(self.folder / "server.log")
        self.as_owner(
            pg_tool("pg_ctl"), action, "-D", str(self.data), "-w", "-t", "60", "-l", log,
            *arguments,
        )  # fmt: skip

    def start(self) -> None:
        self.pg_ctl("start")

    def stop(self) -> None:
        """An immediate shutdown: every connection cut, as in a crash."""
        self.pg_ctl("stop", "-m", "immediate")

    def restart(self) -> None:
        self.pg_ctl("restart", "-m", "immediate")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def database(self, name: str = "tracpro") -> dict:
        return {"NAME": name, "USER": "tracpro", "HOST": "127.0.0.1", "PORT": str(self.port)}


@contextmanager
def postgres_server():
    server = PostgresServer()
    try:
        server.init()
        yield server
    finally:
        server.destroy()


@contextmanager
def using_database(database: dict):
    """Django's default connection points at `database` inside the block."""
    from django.db import connection

    keys = ("NAME", "USER", "PASSWORD", "HOST", "PORT")
    original = {key: connection.settings_dict.get(key) for key in keys}
    connection.close()
    connection.settings_dict.update({key: database.get(key, "") for key in keys})
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(original)
