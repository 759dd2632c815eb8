"""Deploying TracPro to a Debian server with Fabric 3 and the files in conf/.

Run from a checkout on your own machine (`requirements/dev.txt` has Fabric),
connecting as root or as a user with password-less sudo:

    fab -H root@tracpro.example.org setup --parent-host tracpro.example.org
    fab -H root@tracpro.example.org deploy              # the newest v* tag
    fab -H root@tracpro.example.org deploy --tag v2.0.0
    fab -H root@tracpro.example.org rollback            # back to the previous release
    fab -H root@tracpro.example.org status

The server's layout (docs/deployment.md walks through it):

    /srv/tracpro/repo             a clone of the repository; deploy fetches its tags
    /srv/tracpro/releases/<tag>   one directory per release, with its own .venv and staticfiles
    /srv/tracpro/current          -> the release being served (the systemd units follow it)
    /srv/tracpro/previous         -> the one served before (what `rollback` returns to)
    /etc/tracpro/tracpro.env      the environment (conf/tracpro.env.example)
    /var/log/tracpro/             web.log, worker.log, actions.log, beat.log, rotated by logrotate

Every setting below can be changed in Fabric's configuration, for example in a
`fabric.yaml` next to this file:

    tracpro:
      repo: https://github.com/your-org/tracpro.git
      keep_releases: 3
"""

import io
import re
import secrets
import shlex
import string
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from fabric import task
from invoke.exceptions import Exit

CONF = Path(__file__).resolve().parent / "conf"
# Restarted in this order: pages first, then the workers that run what the new
# code queues, then beat, which queues it.
SERVICES = ("tracpro-web", "tracpro-worker", "tracpro-actions", "tracpro-beat")
PACKAGES = (
    "git curl ca-certificates openssl python3 python3-venv postgresql redis-server nginx logrotate"
)
PLACEHOLDER = re.compile(r"{{\s*(\w+)\s*}}")
SAFE_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Target:
    """Where and how TracPro is installed on the server."""

    repo: str = "https://github.com/rapidpro/tracpro.git"
    app_root: str = "/srv/tracpro"
    user: str = "tracpro"
    env_file: str = "/etc/tracpro/tracpro.env"
    parent_host: str = ""  # read from the environment file when empty
    web_bind: str = "127.0.0.1:8000"  # gunicorn's GUNICORN_BIND
    http_port: int = 80
    https_port: int = 443
    tls_certificate: str = "/etc/ssl/tracpro/fullchain.pem"
    tls_certificate_key: str = "/etc/ssl/tracpro/privkey.pem"
    nginx_log_dir: str = "/var/log/nginx"
    python: str = "python3"
    systemctl: str = "systemctl"
    keep_releases: int = 5
    health_timeout: int = 60  # seconds the new release has to answer /healthz

    @property
    def repo_dir(self) -> str:
        return f"{self.app_root}/repo"

    @property
    def releases(self) -> str:
        return f"{self.app_root}/releases"

    def release(self, tag: str) -> str:
        return f"{self.releases}/{tag}"


def target_of(c: Any, **overrides: Any) -> Target:
    """The Target from Fabric's `tracpro` configuration, then the task's arguments."""
    configured = dict(c.config.get("tracpro") or {})
    unknown = set(configured) - {field.name for field in fields(Target)}
    if unknown:
        raise Exit(f"unknown tracpro settings in the Fabric configuration: {sorted(unknown)}")
    given = {name: value for name, value in overrides.items() if value not in (None, "")}
    return Target(**{**configured, **given})


# Rendering conf/ ---------------------------------------------------------------


def render(template: str, values: Mapping[str, object]) -> str:
    """conf/<template> with its {{ placeholders }} filled; a missing value is an error."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"conf/{template} needs a value for {name!r}")
        return str(values[name])

    return PLACEHOLDER.sub(fill, (CONF / template).read_text())


def conf_values(t: Target) -> dict[str, object]:
    return {
        **asdict(t),
        "upstream": t.web_bind,
        "static_root": f"{t.app_root}/current/staticfiles",
    }


def new_environment(t: Target, parent_host: str, db_password: str) -> str:
    """conf/tracpro.env.example with this server's required values filled in."""
    required = {
        "SECRET_KEY": random_secret(64),
        "PARENT_HOST": parent_host,
        "ALLOWED_HOSTS": f".{parent_host}",
        "DATABASE_URL": f"postgres://{t.user}:{db_password}@127.0.0.1:5432/{t.user}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    lines = []
    for line in (CONF / "tracpro.env.example").read_text().splitlines():
        name = line.partition("=")[0]
        lines.append(f"{name}={required[name]}" if name in required else line)
    return "\n".join(lines) + "\n"


def random_secret(length: int) -> str:
    # Letters and digits only: the file is read by both systemd and the shell.
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


# Running commands ----------------------------------------------------------------


def as_root(c: Any, command: str, **kwargs: Any) -> Any:
    """Run a shell command line as root (through sudo unless connected as root)."""
    kwargs.setdefault("hide", True)
    if getattr(c, "user", None) == "root":
        return c.run(command, **kwargs)
    # sudo applies to one program: hand it the whole line.
    return c.sudo(f"sh -c {shlex.quote(command)}", **kwargs)


def as_app(c: Any, t: Target, command: str, **kwargs: Any) -> Any:
    """Run a command as the application's user, with the environment file loaded
    when it exists."""
    load_env = f"if [ -r {t.env_file} ]; then set -a; . {t.env_file}; set +a; fi; "
    script = shlex.quote(load_env + command)
    if getattr(c, "user", None) == t.user:
        kwargs.setdefault("hide", True)
        return c.run(f"sh -c {script}", **kwargs)
    return as_root(c, f"runuser -u {t.user} -- sh -c {script}", **kwargs)


def install_file(c: Any, text: str, path: str, mode: str = "0644", owner: str = "root") -> None:
    """Upload text and move it into place as root."""
    upload = c.run("mktemp", hide=True).stdout.strip()
    c.put(io.StringIO(text), upload)
    as_root(c, f"install -D -m {mode} -o root -g {owner} {upload} {path} && rm -f {upload}")


def manage(c: Any, t: Target, release: str, arguments: str) -> None:
    print(f"manage.py {arguments}")
    as_app(c, t, f"cd {release} && .venv/bin/python manage.py {arguments}")


def server_env(c: Any, t: Target, name: str, default: str = "") -> str:
    value = as_app(c, t, f'printf %s "${{{name}:-{default}}}"').stdout
    return value.strip()


def link_target(c: Any, t: Target, name: str) -> str | None:
    """The release the `current` or `previous` link points to (its tag), if any."""
    result = as_app(c, t, f"readlink {t.app_root}/{name}", warn=True)
    return Path(result.stdout.strip()).name if result.ok and result.stdout.strip() else None


def point(c: Any, t: Target, name: str, tag: str) -> None:
    """Point `current` or `previous` at a release, atomically (rename over the link)."""
    link = f"{t.app_root}/{name}"
    as_app(c, t, f"ln -sfn releases/{tag} {link}.new && mv -T {link}.new {link}")


def restart(c: Any, t: Target) -> None:
    for service in SERVICES:
        # A machine that runs only workers has web and beat disabled.
        enabled = as_root(c, f"{t.systemctl} is-enabled --quiet {service}", warn=True)
        if enabled.ok:
            print(f"restarting {service}")
            as_root(c, f"{t.systemctl} restart {service}")


def healthy(c: Any, t: Target) -> bool:
    """Whether the web server answers /healthz with 200 within health_timeout."""
    bind = server_env(c, t, "GUNICORN_BIND", t.web_bind)
    host = t.parent_host or server_env(c, t, "PARENT_HOST")
    check = (
        f"curl --fail --silent --show-error --max-time 5 "
        f"--header {shlex.quote('Host: ' + host)} http://{bind}/healthz"
    )
    deadline = time.monotonic() + t.health_timeout
    while True:
        result = c.run(check, warn=True, hide=True)
        if result.ok:
            return True
        if time.monotonic() >= deadline:
            print(f"/healthz did not answer 200: {result.stdout.strip()} {result.stderr.strip()}")
            return False
        time.sleep(1)


# Tasks -------------------------------------------------------------------------------


@task(help={"parent_host": "the domain orgs live under, e.g. tracpro.example.org"})
def setup(c, parent_host="", repo=""):
    """Prepare a bare Debian server: packages, user, Postgres, Redis, nginx, systemd units."""
    t = target_of(c, repo=repo, parent_host=parent_host)
    if not t.parent_host:
        raise Exit("setup needs --parent-host (the domain orgs live under)")
    print(f"installing {PACKAGES}")
    as_root(
        c,
        f"apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
        f"--no-install-recommends {PACKAGES}",
    )
    as_root(
        c,
        f"id -u {t.user} >/dev/null 2>&1 || useradd --system --user-group "
        f"--home-dir {t.app_root} --shell /usr/sbin/nologin {t.user}",
    )
    as_root(c, f"install -d -o {t.user} -g {t.user} {t.app_root} {t.releases}")
    as_root(c, "install -d -m 0755 /var/log/tracpro")
    as_root(c, f"install -d -m 0750 -g {t.user} {Path(t.env_file).parent}")
    as_root(c, "systemctl enable --now postgresql redis-server")
    setup_database(c, t)
    as_app(c, t, f"test -d {t.repo_dir}/.git || git clone --quiet {t.repo} {t.repo_dir}")
    setup_certificate(c, t)
    values = conf_values(t)
    install_file(c, render("nginx/tracpro.conf", values), "/etc/nginx/sites-available/tracpro")
    as_root(
        c,
        "ln -sfn /etc/nginx/sites-available/tracpro /etc/nginx/sites-enabled/tracpro "
        "&& rm -f /etc/nginx/sites-enabled/default",
    )
    as_root(c, "nginx -t && systemctl enable nginx && systemctl reload-or-restart nginx")
    for service in SERVICES:
        unit = render(f"systemd/{service}.service", values)
        install_file(c, unit, f"/etc/systemd/system/{service}.service")
    install_file(c, render("logrotate/tracpro", values), "/etc/logrotate.d/tracpro")
    as_root(c, f"systemctl daemon-reload && systemctl enable {' '.join(SERVICES)}")
    print(f"ready: now `fab -H {getattr(c, 'host', 'host')} deploy`")


def setup_database(c: Any, t: Target) -> None:
    """The Postgres role and database, and the environment file with their password
    (made once: an existing environment file is never overwritten)."""
    if as_root(c, f"test -f {t.env_file}", warn=True).ok:
        print(f"{t.env_file} exists; keeping it")
        return
    password = random_secret(32)
    # Names and password are letters and digits (the Target's and random_secret's).
    role = f"{t.user} LOGIN PASSWORD '{password}'"
    statement = (
        f"DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{t.user}') "
        f"THEN ALTER ROLE {role}; ELSE CREATE ROLE {role}; END IF; END $$"
    )
    as_root(c, f"runuser -u postgres -- psql --quiet --command {shlex.quote(statement)}")
    databases = as_root(c, "runuser -u postgres -- psql --list --tuples-only --no-align").stdout
    if not any(line.split("|")[0] == t.user for line in databases.splitlines()):
        as_root(c, f"runuser -u postgres -- createdb --owner {t.user} {t.user}")
    install_file(c, new_environment(t, t.parent_host, password), t.env_file, "0640", t.user)


def setup_certificate(c: Any, t: Target) -> None:
    """A self-signed certificate, so nginx starts, until the real one is installed."""
    if as_root(c, f"test -f {t.tls_certificate}", warn=True).ok:
        return
    host = t.parent_host
    print(f"no certificate at {t.tls_certificate}: making a self-signed one for now")
    as_root(
        c,
        f"install -d -m 0755 {Path(t.tls_certificate).parent} "
        f"&& install -d -m 0700 {Path(t.tls_certificate_key).parent} "
        f"&& openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN={host} "
        f"-addext subjectAltName=DNS:{host},DNS:*.{host} "
        f"-keyout {t.tls_certificate_key} -out {t.tls_certificate}",
    )


@task(help={"tag": "the release to deploy (default: the newest v* tag)"})
def deploy(c, tag=""):
    """Fetch a tagged release, build it, migrate, compress, switch, restart, check /healthz;
    roll back to the previous release when the check fails."""
    t = target_of(c)
    as_app(c, t, f"git -C {t.repo_dir} fetch --quiet --prune --tags origin")
    tag = tag or newest_tag(c, t)
    if (
        not SAFE_TAG.match(tag)
        or not as_app(
            c, t, f"git -C {t.repo_dir} rev-parse --quiet --verify refs/tags/{tag}", warn=True
        ).ok
    ):
        raise Exit(f"no such release tag: {tag!r}")
    release = build(c, t, tag)
    # Migrations run while the old release still serves: they must suit both
    # (docs/development.md, "Releasing"). A failure here changes nothing served.
    manage(c, t, release, "migrate --no-input")
    manage(c, t, release, "collectstatic --no-input --verbosity 0")
    # After collectstatic: the bundles are made from the hashed files it wrote.
    manage(c, t, release, "compress --verbosity 0")
    manage(c, t, release, "check --deploy --fail-level WARNING")
    before = link_target(c, t, "current")
    if before == tag:
        print(f"{tag} is already current: restarting it")
    else:
        if before:
            point(c, t, "previous", before)
        point(c, t, "current", tag)
    restart(c, t)
    if not healthy(c, t):
        if before and before != tag:
            print(f"{tag} is unhealthy: rolling back to {before}")
            point(c, t, "current", before)
            restart(c, t)
            raise Exit(f"deploy of {tag} failed its health check; {before} is back")
        raise Exit(f"deploy of {tag} failed its health check")
    prune(c, t)
    print(f"{tag} is live")


def newest_tag(c: Any, t: Target) -> str:
    tags = as_app(c, t, f"git -C {t.repo_dir} tag --list 'v*' --sort=-v:refname").stdout.split()
    if not tags:
        raise Exit("the repository has no v* release tags")
    return tags[0]


def build(c: Any, t: Target, tag: str) -> str:
    """releases/<tag> with its code and virtualenv (reused when already built)."""
    release = t.release(tag)
    if as_app(c, t, f"test -f {release}/.built", warn=True).ok:
        print(f"{release} is already built")
        return release
    print(f"building {release}")
    as_app(
        c,
        t,
        f"rm -rf {release} && mkdir -p {release} "
        f"&& git -C {t.repo_dir} archive {tag} | tar -x -C {release}",
    )
    as_app(
        c,
        t,
        f"{t.python} -m venv {release}/.venv "
        f"&& {release}/.venv/bin/pip install --quiet --disable-pip-version-check "
        f"--requirement {release}/requirements/production.txt "
        f"&& touch {release}/.built",
    )
    return release


def prune(c: Any, t: Target) -> None:
    """Keep keep_releases releases: current, previous and the newest others."""
    kept = {tag for tag in (link_target(c, t, "current"), link_target(c, t, "previous")) if tag}
    newest_first = as_app(c, t, f"ls -1t {t.releases}").stdout.split()
    others = [tag for tag in newest_first if tag not in kept]
    for tag in others[max(t.keep_releases - len(kept), 0) :]:
        print(f"removing the old release {tag}")
        as_app(c, t, f"rm -rf {t.release(tag)}")


@task
def rollback(c):
    """Serve the previous release again (the current one becomes `previous`)."""
    t = target_of(c)
    current, previous = link_target(c, t, "current"), link_target(c, t, "previous")
    if not previous:
        raise Exit("there is no previous release to roll back to")
    print(f"rolling back from {current} to {previous}")
    point(c, t, "current", previous)
    if current:
        point(c, t, "previous", current)
    restart(c, t)
    if not healthy(c, t):
        raise Exit(f"{previous} is current again but fails its health check")
    print(f"{previous} is live")


@task
def status(c):
    """The current and previous releases, the services and /healthz."""
    t = target_of(c)
    print(f"current:  {link_target(c, t, 'current') or '(none)'}")
    print(f"previous: {link_target(c, t, 'previous') or '(none)'}")
    for service in SERVICES:
        state = as_root(c, f"{t.systemctl} is-active {service}", warn=True).stdout.strip()
        print(f"{service}: {state or 'unknown'}")
    bind = server_env(c, t, "GUNICORN_BIND", t.web_bind)
    host = t.parent_host or server_env(c, t, "PARENT_HOST")
    health = c.run(
        f"curl --silent --max-time 5 --header {shlex.quote('Host: ' + host)} http://{bind}/healthz",
        warn=True,
        hide=True,
    )
    print(f"healthz: {health.stdout.strip() or health.stderr.strip() or 'no answer'}")
