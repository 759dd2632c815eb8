"""fabfile.py: its tasks run against a server that is a temporary directory on this
machine. `deploy` and `rollback` run for real there (git, a virtualenv, symlinks,
curl against a health check), with a stand-in for systemctl and a small project
whose manage.py records what it is asked; `setup` is recorded, not run (it
installs packages and users)."""

import getpass
import http.server
import io
import shlex
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import invoke
import pytest

import fabfile
from tracpro.tests.production import ROOT, free_port

pytestmark = pytest.mark.slow

MANAGE_PY = """\
import os, sys
with open(os.environ["MANAGE_LOG"], "a") as log:
    log.write(os.path.basename(os.getcwd()) + " " + " ".join(sys.argv[1:]) + "\\n")
sys.exit(1 if os.environ.get("FAIL_MANAGE") == sys.argv[1] else 0)
"""
SYSTEMCTL = """#!/bin/sh
echo "$@" >> "{log}"
"""


class LocalServer(invoke.Context):
    """Stands in for fabric.Connection: runs the fabfile's commands here, as the
    user the target is installed for."""

    user = getpass.getuser()
    host = "localhost"
    root: Path | None = None  # the application's root (/srv/tracpro on a server)
    logs: Path | None = None  # where manage.py and systemctl record their calls

    def __init__(self, **tracpro):
        config = invoke.Config(overrides={"tracpro": tracpro, "run": {"in_stream": False}})
        super().__init__(config=config)

    def sudo(self, command, **kwargs):
        return self.run(command, **kwargs)

    def put(self, local, remote):
        Path(remote).write_text(local.getvalue())


class Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        self.send_response(Health.status if self.path == "/healthz" else 404)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, *args):
        pass


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="module")
def origin(tmp_path_factory) -> Path:
    """The project's repository with three releases, v1.0.0 to v1.2.0."""
    repo = tmp_path_factory.mktemp("origin")
    git(repo, "init", "--quiet", "--initial-branch", "main")
    git(repo, "config", "user.email", "dev@example.org")
    git(repo, "config", "user.name", "Dev")
    (repo / "requirements").mkdir()
    (repo / "requirements" / "production.txt").write_text("# nothing to install\n")
    (repo / "manage.py").write_text(MANAGE_PY)
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        (repo / "VERSION").write_text(version)
        git(repo, "add", ".")
        git(repo, "commit", "--quiet", "-m", f"Release {version}")
        git(repo, "tag", f"v{version}")
    return repo


@pytest.fixture(scope="module")
def built(tmp_path_factory, origin) -> Path:
    """Every release built once by `fabfile.build` (its code and a virtualenv):
    the tests below start from copies, as a server that deployed them before."""
    cache = tmp_path_factory.mktemp("built")
    (cache / "releases").mkdir()
    git(cache, "clone", "--quiet", str(origin), str(cache / "repo"))
    c = LocalServer(app_root=str(cache), user=LocalServer.user, python=sys.executable)
    for tag in ("v1.0.0", "v1.1.0", "v1.2.0"):
        fabfile.build(c, fabfile.target_of(c), tag)
    return cache / "releases"


@pytest.fixture
def bare_server(tmp_path, origin):
    """A server set up as `fab setup` leaves it, with its health check answering."""
    health = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Health)
    threading.Thread(target=health.serve_forever, daemon=True).start()
    Health.status = 200
    root = tmp_path / "srv"
    (root / "releases").mkdir(parents=True)
    git(tmp_path, "clone", "--quiet", str(origin), str(root / "repo"))
    env_file = tmp_path / "tracpro.env"
    env_file.write_text(
        f"PARENT_HOST=tracpro.example.org\nGUNICORN_BIND=127.0.0.1:{health.server_port}\n"
        f"MANAGE_LOG={tmp_path / 'manage.log'}\n"
    )
    systemctl = tmp_path / "systemctl"
    systemctl.write_text(SYSTEMCTL.format(log=tmp_path / "systemctl.log"))
    systemctl.chmod(0o755)
    c = LocalServer(
        app_root=str(root),
        user=LocalServer.user,
        env_file=str(env_file),
        systemctl=str(systemctl),
        python=sys.executable,
        health_timeout=2,
    )
    c.root, c.logs = root, tmp_path
    yield c
    health.shutdown()


@pytest.fixture
def server(bare_server, built):
    """The server with every release already built."""
    for release in built.iterdir():
        shutil.copytree(release, bare_server.root / "releases" / release.name, symlinks=True)
    return bare_server


def current(c) -> str:
    return (c.root / "current").readlink().name


def previous(c) -> str:
    return (c.root / "previous").readlink().name


def log(c, name: str) -> list[str]:
    path = c.logs / f"{name}.log"
    return path.read_text().splitlines() if path.exists() else []


RESTARTS = [
    f"{verb} {service}"
    for service in fabfile.SERVICES
    for verb in ("is-enabled --quiet", "restart")
]


def test_deploy_builds_the_newest_tag_migrates_compresses_and_restarts_in_order(bare_server):
    server = bare_server
    fabfile.deploy(server)
    assert current(server) == "v1.2.0"
    release = server.root / "releases" / "v1.2.0"
    assert (release / "VERSION").read_text() == "1.2.0"
    assert (release / ".venv" / "bin" / "python").exists()
    assert log(server, "manage") == [
        "v1.2.0 migrate --no-input",
        "v1.2.0 collectstatic --no-input --verbosity 0",
        "v1.2.0 compress --verbosity 0",
        "v1.2.0 check --deploy --fail-level WARNING",
    ]
    assert log(server, "systemctl") == RESTARTS


def test_a_second_deploy_keeps_the_first_as_previous_and_rollback_swaps_them(server):
    fabfile.deploy(server, tag="v1.0.0")
    fabfile.deploy(server, tag="v1.1.0")
    assert (current(server), previous(server)) == ("v1.1.0", "v1.0.0")
    fabfile.rollback(server)
    assert (current(server), previous(server)) == ("v1.0.0", "v1.1.0")
    assert log(server, "systemctl") == RESTARTS * 3


def test_a_release_that_fails_its_health_check_is_rolled_back(server):
    fabfile.deploy(server, tag="v1.0.0")
    Health.status = 503
    with pytest.raises(invoke.exceptions.Exit, match=r"v1\.1\.0 failed its health check"):
        fabfile.deploy(server, tag="v1.1.0")
    assert current(server) == "v1.0.0"
    # Restarted onto the new release, then back onto the old one.
    assert log(server, "systemctl") == RESTARTS * 3


def test_a_failed_migration_changes_nothing_served(server):
    fabfile.deploy(server, tag="v1.0.0")
    with server.root.parent.joinpath("tracpro.env").open("a") as env:
        env.write("FAIL_MANAGE=migrate\n")
    with pytest.raises(invoke.exceptions.UnexpectedExit):
        fabfile.deploy(server, tag="v1.1.0")
    assert current(server) == "v1.0.0"
    assert log(server, "manage")[-1] == "v1.1.0 migrate --no-input"
    assert log(server, "systemctl") == RESTARTS  # the first deploy's only


def test_deploy_refuses_a_tag_that_does_not_exist(server):
    with pytest.raises(invoke.exceptions.Exit, match=r"no such release tag: 'v9\.9\.9'"):
        fabfile.deploy(server, tag="v9.9.9")
    assert not (server.root / "current").exists()


def test_rollback_needs_a_previous_release(server):
    fabfile.deploy(server, tag="v1.0.0")
    with pytest.raises(invoke.exceptions.Exit, match="no previous release"):
        fabfile.rollback(server)


def test_old_releases_are_pruned_but_current_and_previous_stay(server):
    fabfile.deploy(server, tag="v1.0.0")
    fabfile.deploy(server, tag="v1.1.0")
    server.config.tracpro.keep_releases = 2
    fabfile.deploy(server, tag="v1.2.0")
    assert sorted(p.name for p in (server.root / "releases").iterdir()) == ["v1.1.0", "v1.2.0"]
    assert (current(server), previous(server)) == ("v1.2.0", "v1.1.0")


def test_status_shows_the_releases_the_services_and_the_health_check(server, capsys):
    fabfile.deploy(server, tag="v1.0.0")
    fabfile.deploy(server, tag="v1.1.0")
    capsys.readouterr()
    fabfile.status(server)
    out = capsys.readouterr().out
    assert "current:  v1.1.0\nprevious: v1.0.0\n" in out
    assert 'healthz: {"status": "ok"}' in out
    assert [line for line in log(server, "systemctl") if "is-active" in line] == [
        f"is-active {service}" for service in fabfile.SERVICES
    ]


class Recorder(invoke.Context):
    """A connection that runs nothing: it records commands and uploads, and answers
    `test -f` with "missing", as on a bare server."""

    user = "admin"
    host = "bare.example.org"
    # Class-level so that invoke's Context keeps them as attributes; each
    # instance gets its own in __init__.
    commands: list[str] = []
    through_sudo: list[str] = []
    uploads: dict[str, str] = {}

    def __init__(self):
        super().__init__(config=invoke.Config(overrides={"tracpro": {}}))
        self.commands, self.through_sudo, self.uploads = [], [], {}

    def run(self, command, **kwargs):
        self.commands.append(command)
        exited = 1 if "test -f" in command else 0
        stdout = f"/tmp/upload{len(self.commands)}" if command == "mktemp" else ""
        return invoke.Result(stdout=stdout, exited=exited, command=command)

    def sudo(self, command, **kwargs):
        assert command.startswith("sh -c "), "sudo gets the whole line"
        self.through_sudo.append(shlex.split(command)[2])
        return self.run(shlex.split(command)[2], **kwargs)

    def put(self, local: io.StringIO, remote: str):
        self.uploads[remote] = local.getvalue()

    def installed(self) -> dict[str, str]:
        """Uploaded files by the path they were installed at."""
        found = {}
        for command in self.commands:
            for upload, text in self.uploads.items():
                if f" {upload} " in command and "install -D" in command:
                    found[command.split(f" {upload} ")[1].split(" &&")[0]] = text
        return found


def test_setup_installs_packages_user_database_nginx_units_and_logrotate():
    c = Recorder()
    fabfile.setup(c, parent_host="tracpro.example.org")
    commands = "\n".join(c.commands)
    for package in ("postgresql", "redis-server", "nginx", "python3-venv", "logrotate"):
        assert package in commands
    assert "useradd --system --user-group" in commands
    assert "createdb --owner tracpro tracpro" in commands
    assert "git clone --quiet https://github.com/rapidpro/tracpro.git /srv/tracpro/repo" in commands
    assert "openssl req -x509" in commands  # a placeholder certificate until the real one
    installed = c.installed()
    assert set(installed) == {
        "/etc/tracpro/tracpro.env",
        "/etc/nginx/sites-available/tracpro",
        "/etc/systemd/system/tracpro-web.service",
        "/etc/systemd/system/tracpro-worker.service",
        "/etc/systemd/system/tracpro-actions.service",
        "/etc/systemd/system/tracpro-beat.service",
        "/etc/logrotate.d/tracpro",
    }
    env = dict(
        line.split("=", 1) for line in installed["/etc/tracpro/tracpro.env"].splitlines()
        if line and not line.startswith("#")
    )  # fmt: skip
    assert len(env["SECRET_KEY"]) == 64 and env["SECRET_KEY"].isalnum()
    assert env["PARENT_HOST"] == "tracpro.example.org"
    assert env["ALLOWED_HOSTS"] == ".tracpro.example.org"
    password = env["DATABASE_URL"].split(":")[2].split("@")[0]
    psql = next(command for command in c.commands if "psql --quiet --command" in command)
    assert f"CREATE ROLE tracpro LOGIN PASSWORD '{password}'" in shlex.split(psql)[-1]
    assert (
        "server_name tracpro.example.org .tracpro.example.org;"
        in (installed["/etc/nginx/sites-available/tracpro"])
    )
    # nginx is checked before it is reloaded; units are enabled after they are installed.
    assert commands.index("nginx -t") < commands.index("reload-or-restart nginx")
    assert commands.rindex("install -D") < commands.index("systemctl daemon-reload")
    # Connected as admin, not root: what needs root goes through sudo.
    assert any(command.startswith("apt-get update") for command in c.through_sudo)
    assert any(command.startswith("runuser -u tracpro -- sh -c") for command in c.through_sudo)


def test_setup_needs_the_parent_host():
    with pytest.raises(invoke.exceptions.Exit, match="--parent-host"):
        fabfile.setup(Recorder())


def test_unknown_settings_in_the_fabric_configuration_are_refused():
    c = Recorder()
    c.config.tracpro.app_rot = "/srv/typo"
    with pytest.raises(invoke.exceptions.Exit, match="app_rot"):
        fabfile.target_of(c)


def test_fab_lists_the_tasks():
    result = subprocess.run(
        [Path(sys.executable).parent / "fab", "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for name in ("setup", "deploy", "rollback", "status"):
        assert f"\n  {name} " in result.stdout
