"""conf/: each file checked by the tool that reads it (nginx, systemd, logrotate,
gunicorn, the shell), as `fab setup` renders it."""

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

import fabfile
from tracpro.tests.production import ROOT, self_signed_certificate, tool

CONF = ROOT / "conf"
VENV_BIN = Path(sys.executable).parent


def run(*command: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=60
    )


def nginx_site(directory: Path, **overrides) -> str:
    certificate, key = self_signed_certificate(directory, "tracpro.example.org")
    target = fabfile.Target(
        parent_host="tracpro.example.org",
        tls_certificate=str(certificate),
        tls_certificate_key=str(key),
        nginx_log_dir=str(directory),
        app_root=str(directory / "srv"),
        **overrides,
    )
    return fabfile.render("nginx/tracpro.conf", fabfile.conf_values(target))


def test_nginx_accepts_the_site_under_debians_main_configuration(tmp_path):
    (tmp_path / "tracpro").write_text(nginx_site(tmp_path))
    main = Path("/etc/nginx/nginx.conf").read_text()
    main = main.replace("/etc/nginx/sites-enabled/*", str(tmp_path / "tracpro"))
    main = re.sub(r"(?m)^pid .*$", f"pid {tmp_path}/nginx.pid;", main)
    (tmp_path / "nginx.conf").write_text(main)
    result = run(tool("nginx"), "-t", "-p", tmp_path, "-c", tmp_path / "nginx.conf")
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr and "[emerg]" not in result.stderr, result.stderr


def test_nginx_rejects_a_broken_site(tmp_path):
    """The check above can fail: a site with a typo does not pass."""
    (tmp_path / "tracpro").write_text(nginx_site(tmp_path).replace("proxy_pass", "proxy_pas"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid; events {{}} http {{ include {tmp_path}/tracpro; }}"
    )
    result = run(tool("nginx"), "-t", "-p", tmp_path, "-c", tmp_path / "nginx.conf")
    assert result.returncode != 0
    assert 'unknown directive "proxy_pas"' in result.stderr


def test_the_site_serves_every_org_and_the_root_host_over_tls():
    site = fabfile.render(
        "nginx/tracpro.conf", fabfile.conf_values(fabfile.Target(parent_host="tp.example.org"))
    )
    assert site.count("server_name tp.example.org .tp.example.org;") == 2
    assert "listen 443 ssl http2;" in site
    assert "ssl_certificate /etc/ssl/tracpro/fullchain.pem;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    assert "alias /srv/tracpro/current/staticfiles/;" in site
    assert "client_max_body_size 10m;" in site
    assert "gzip on;" in site
    assert "{{" not in site


def installed_units(directory: Path) -> list[Path]:
    """The units as `fab setup` renders them, with their programs present: the
    release (`current`) is this checkout and its virtualenv the running one."""
    current = directory / "srv" / "current"
    (current / ".venv" / "bin").mkdir(parents=True)
    for program in ("gunicorn", "celery"):
        (current / ".venv" / "bin" / program).symlink_to(VENV_BIN / program)
    (current / "conf").symlink_to(CONF)
    target = fabfile.Target(
        parent_host="tracpro.example.org",
        app_root=str(directory / "srv"),
        env_file=str(directory / "tracpro.env"),
    )
    units = []
    for service in fabfile.SERVICES:
        unit = directory / f"{service}.service"
        unit.write_text(fabfile.render(f"systemd/{service}.service", fabfile.conf_values(target)))
        units.append(unit)
    return units


def test_systemd_accepts_the_units(tmp_path):
    result = run(tool("systemd-analyze"), "verify", *installed_units(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr


def test_systemd_verify_reports_what_it_should(tmp_path):
    """The check above can fail: an unknown key or a missing program is reported."""
    unit = installed_units(tmp_path)[0]
    unit.write_text(
        unit.read_text().replace("Restart=", "Restrat=").replace("gunicorn --", "gun --")
    )
    result = run(tool("systemd-analyze"), "verify", unit)
    assert "Unknown key 'Restrat'" in result.stderr
    assert result.returncode != 0


@pytest.mark.parametrize("service", fabfile.SERVICES)
def test_each_unit_restarts_runs_as_its_user_and_reads_the_environment(service):
    unit = fabfile.render(f"systemd/{service}.service", fabfile.conf_values(fabfile.Target()))
    assert "\nUser=tracpro\n" in unit
    assert "\nEnvironmentFile=/etc/tracpro/tracpro.env\n" in unit
    assert re.search(r"\nRestart=(on-failure|always)\n", unit)
    assert f"StandardOutput=append:/var/log/tracpro/{service.split('-')[1]}.log" in unit
    assert "WantedBy=multi-user.target" in unit


def test_beat_runs_once_with_its_schedule_outside_the_releases():
    unit = fabfile.render("systemd/tracpro-beat.service", fabfile.conf_values(fabfile.Target()))
    assert "celery --app tracpro.celery beat" in unit
    assert "--schedule /var/lib/tracpro/celerybeat-schedule" in unit
    assert "\nRestart=always\n" in unit


def test_logrotate_accepts_its_configuration(tmp_path):
    result = run(tool("logrotate"), "--debug", "--state", tmp_path / "state",
                 CONF / "logrotate" / "tracpro")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "error:" not in result.stderr, result.stderr
    assert "rotating pattern: /var/log/tracpro/*.log" in result.stderr


def test_logrotate_check_catches_an_unknown_option(tmp_path):
    broken = tmp_path / "tracpro"
    broken.write_text((CONF / "logrotate" / "tracpro").read_text().replace("daily", "dayly"))
    result = run(tool("logrotate"), "--debug", "--state", tmp_path / "state", broken)
    assert "unknown option 'dayly'" in result.stderr


def gunicorn_settings(monkeypatch, **env: str) -> dict:
    for name in ("GUNICORN_BIND", "WEB_CONCURRENCY", "GUNICORN_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF / "gunicorn.py"))


def test_gunicorn_takes_its_workers_from_the_cores_unless_told(monkeypatch):
    default = gunicorn_settings(monkeypatch)
    assert default["workers"] == 2 * os.cpu_count() + 1
    assert default["bind"] == "127.0.0.1:8000"
    assert default["wsgi_app"] == "tracpro.wsgi:application"
    assert default["chdir"] == str(ROOT)
    assert default["timeout"] == 120
    told = gunicorn_settings(monkeypatch, WEB_CONCURRENCY="3", GUNICORN_BIND="127.0.0.1:9123")
    assert told["workers"] == 3
    assert told["bind"] == "127.0.0.1:9123"
    assert "ms=%(M)s" in told["access_log_format"]


def test_gunicorn_accepts_its_configuration():
    result = run(VENV_BIN / "gunicorn", "--config", CONF / "gunicorn.py", "--print-config")
    assert result.returncode == 0, result.stderr
    assert re.search(r"(?m)^wsgi_app\s*= tracpro\.wsgi:application$", result.stdout)


OPERATIONS = (ROOT / "docs" / "operations.md").read_text()


def variables_operations_md_names() -> set[str]:
    """The names in the first column of operations.md's configuration tables;
    SYNC_<KIND>_EVERY stands for each kind its row lists."""
    names: set[str] = set()
    for row in re.findall(r"(?m)^\| (`[A-Z].*?) \|(.*)\|$", OPERATIONS):
        for name in re.findall(r"`([A-Z][A-Z0-9_<>]+)`", row[0]):
            if "<KIND>" in name:
                kinds = re.findall(r"`([A-Z]+)`", row[1])
                names.update(name.replace("<KIND>", kind) for kind in kinds)
            else:
                names.add(name)
    return names


def example_environment() -> dict[str, str]:
    """Every VARIABLE=value of the example, the commented-out defaults included."""
    found = {}
    for line in (CONF / "tracpro.env.example").read_text().splitlines():
        match = re.match(r"^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def test_the_example_environment_lists_every_variable_operations_md_names():
    documented = variables_operations_md_names()
    assert {"SECRET_KEY", "DATABASE_URL", "SYNC_BOUNDARIES_EVERY", "GUNICORN_BIND"} <= documented
    example = set(example_environment())
    # A name with a placeholder (CSP_<DIRECTIVE>) needs one example of its family.
    missing = {
        name
        for name in documented
        if not any(re.fullmatch(re.sub(r"<[A-Z]+>", "[A-Z_]+", name), found) for found in example)
    }
    assert not missing, f"conf/tracpro.env.example lacks {sorted(missing)}"


def test_the_example_environment_reads_the_same_in_the_shell(tmp_path):
    """`fab deploy` loads the file with the shell, systemd with its own parser:
    every line, uncommented, means the same to the shell as it says."""
    expected = example_environment()
    uncommented = "\n".join(f"{name}={value}" for name, value in expected.items())
    (tmp_path / "env").write_text(uncommented + "\n")
    names = " ".join(f'"${name}"' for name in expected)
    result = run("sh", "-c", f"set -a; . {tmp_path / 'env'}; printf '%s\\n' {names}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [value.strip('"') for value in expected.values()]
