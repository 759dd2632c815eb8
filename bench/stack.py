"""TracPro's production stack on this machine, on loopback only, for `make loadtest`.

gunicorn started with conf/gunicorn.py, nginx with the site from conf/ (rendered
by fabfile.py as `fab setup` does, TLS with a self-signed certificate, every
`listen` moved to 127.0.0.1 / [::1]), a Celery worker and beat as the systemd
units start them, and the RapidPro simulator; all in production mode (DEBUG
unset) on the private Postgres and Redis of scripts/services.sh. Every process
is ours: `stop()` ends each one by its own id.

Import after Django's settings are configured (tracpro.tests.production reads them).
"""

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

import fabfile
from tracpro.tests.production import (
    PARENT_HOST,
    ROOT,
    free_port,
    manage,
    nginx_main,
    production_env,
    self_signed_certificate,
    tool,
)

BIN = Path(sys.executable).parent


def loopback_only(site: str) -> str:
    """The nginx site with every `listen` on the loopback addresses only."""
    site = re.sub(r"listen \[::\]:(\d+)", r"listen [::1]:\1", site)
    return re.sub(r"listen (\d+)", r"listen 127.0.0.1:\1", site)


@dataclass
class Stack:
    directory: Path
    database_url: str
    redis_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    simulator_url: str = ""
    https_url: str = ""
    certificate: Path | None = None
    parent_host: str = PARENT_HOST

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.env = production_env(
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            STATIC_ROOT=str(self.directory / "static"),
            PYTHONUNBUFFERED="1",
            BEHIND_PROXY="1",  # nginx in front, as conf/tracpro.env.example says
            **self.extra_env,
        )

    def log(self, name: str) -> Path:
        return self.directory / f"{name}.log"

    def start(self, name: str, command: list, env: dict[str, str] | None = None) -> None:
        with self.log(name).open("w") as log:
            self.processes[name] = subprocess.Popen(  # noqa: S603 - our own programs
                [str(part) for part in command],
                cwd=ROOT,
                env=env or self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the driver, which stops them in order
            )

    # The parts ------------------------------------------------------------------------

    def start_simulator(self, *options: str) -> str:
        port = free_port()
        self.start(
            "simulator",
            [sys.executable, "-m", "tracpro.simulator", "--host", "127.0.0.1", "--port", port,
             *options],
        )  # fmt: skip
        self.simulator_url = f"http://127.0.0.1:{port}"
        self.wait_for("simulator", f"{self.simulator_url}/sim/health", timeout=600)
        return self.simulator_url

    def start_web(self) -> None:
        """collectstatic and offline compression, then gunicorn behind nginx."""
        for command in ("collectstatic --no-input --verbosity 0", "compress --verbosity 0"):
            result = manage(*command.split(), env=self.env, timeout=600)
            if result.returncode:
                raise RuntimeError(f"manage.py {command} failed:\n{result.stderr}")
        gunicorn_port, https_port = free_port(), free_port()
        self.start(
            "gunicorn",
            [BIN / "gunicorn", "--config", ROOT / "conf" / "gunicorn.py"],
            {
                **self.env,
                "GUNICORN_BIND": f"127.0.0.1:{gunicorn_port}",
                "GUNICORN_ACCESS_LOG": str(self.log("access")),
            },
        )
        self.certificate, key = self_signed_certificate(self.directory, PARENT_HOST)
        target = fabfile.Target(
            parent_host=PARENT_HOST,
            web_bind=f"127.0.0.1:{gunicorn_port}",
            http_port=free_port(),
            https_port=https_port,
            tls_certificate=str(self.certificate),
            tls_certificate_key=str(key),
            nginx_log_dir=str(self.directory),
        )
        values = {**fabfile.conf_values(target), "static_root": self.env["STATIC_ROOT"]}
        site = self.directory / "nginx-site.conf"
        site.write_text(loopback_only(fabfile.render("nginx/tracpro.conf", values)))
        main = nginx_main(self.directory, site, connections=1024)
        self.start("nginx", [tool("nginx"), "-p", self.directory, "-c", main])
        self.https_url = f"https://127.0.0.1:{https_port}"
        self.wait_for("gunicorn", f"http://127.0.0.1:{gunicorn_port}/healthz")
        self.wait_for("nginx", f"{self.https_url}/healthz")

    def start_celery(self) -> None:
        celery = BIN / "celery"
        self.start("worker", [celery, "--app", "tracpro.celery", "worker", "--loglevel", "INFO",
                              "--hostname", "loadtest@%h"])  # fmt: skip
        self.start("beat", [celery, "--app", "tracpro.celery", "beat", "--loglevel", "INFO",
                            "--schedule", self.directory / "celerybeat-schedule"])  # fmt: skip

    # Looking at them ----------------------------------------------------------------------

    def get(self, path: str, host: str, **kwargs) -> requests.Response:
        """A request through nginx, over TLS, to `host` (an org or the root host)."""
        headers = {"Host": host, **kwargs.pop("headers", {})}
        kwargs.setdefault("allow_redirects", False)
        return requests.get(
            f"{self.https_url}{path}",
            headers=headers,
            verify=str(self.certificate),
            timeout=60,
            **kwargs,
        )

    def wait_for(self, name: str, url: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited early:\n{self.log(name).read_text()[-3000:]}")
            try:
                verify = str(self.certificate) if self.certificate else True
                requests.get(url, headers={"Host": PARENT_HOST}, timeout=10, verify=verify)
                return
            except requests.RequestException:
                time.sleep(0.3)
        raise RuntimeError(f"{name} did not answer {url} within {timeout:.0f} s")

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def stop(self) -> None:
        """Stop every process this stack started, newest first, each by its own id."""
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name, process in reversed(list(self.processes.items())):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop within 60 s; killing it", file=sys.stderr)
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        self.processes.clear()
