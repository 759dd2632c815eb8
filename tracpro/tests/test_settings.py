"""Production settings: the default, secure, and refusing to start half-configured."""

import pytest

from django.conf import settings

from tracpro.tests.production import development_env, manage, production_env

SHOW_MODE = (
    "from django.conf import settings; "
    "print(settings.DEBUG, 'tracpro.demo' in settings.INSTALLED_APPS, settings.COMPRESS_OFFLINE)"
)


def test_without_debug_the_settings_are_production_settings():
    result = manage("shell", "--no-imports", "-c", SHOW_MODE, env=production_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "True"]


def test_debug_1_turns_on_development_mode_and_the_demo():
    result = manage("shell", "--no-imports", "-c", SHOW_MODE, env=development_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "False"]


@pytest.mark.slow
def test_the_deploy_checks_pass_in_production_mode():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stderr
    assert "no issues (0 silenced)" in result.stdout


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "ALLOWED_HOSTS", "PARENT_HOST", "DATABASE_URL", "REDIS_URL"]
)
@pytest.mark.parametrize("debug", [None, "0"], ids=["DEBUG unset", "DEBUG=0"])
def test_production_mode_refuses_to_start_half_configured(missing, debug):
    env = production_env(**{missing: ""})
    if debug is not None:
        env["DEBUG"] = debug
    result = manage("check", env=env)
    assert result.returncode != 0
    assert f"{missing} must be set when DEBUG is off" in result.stderr


@pytest.mark.parametrize(("value", "expected"), [(None, "64MB"), ("", "8MB"), ("32MB", "32MB")])
def test_connections_get_the_temp_buffers_the_sync_stages_batches_in(value, expected, monkeypatch):
    """DB_TEMP_BUFFERS sets temp_buffers at connection start; empty leaves the server's."""
    monkeypatch.delenv("DB_TEMP_BUFFERS", raising=False)
    env = development_env() if value is None else development_env(DB_TEMP_BUFFERS=value)
    show = (
        "from django.db import connection as c; "
        "print(c.cursor().execute('SHOW temp_buffers').fetchone()[0])"
    )
    result = manage("shell", "--no-imports", "-c", show, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def setting_in_production(name: str, **env: str) -> str:
    code = f"from django.conf import settings; print(repr(getattr(settings, {name!r}, None)))"
    result = manage("shell", "-c", code, env=production_env(**env))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # after the shell's own notice


def test_the_proxy_header_is_trusted_only_when_a_proxy_is_declared():
    """Trusted unconditionally, X-Forwarded-Proto let any client claim HTTPS."""
    assert setting_in_production("SECURE_PROXY_SSL_HEADER") == "None"
    behind = setting_in_production("SECURE_PROXY_SSL_HEADER", BEHIND_PROXY="1")
    assert behind == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_csp_directives_can_be_widened_one_at_a_time():
    policy = setting_in_production(
        "CONTENT_SECURITY_POLICY", CSP_MEDIA_SRC="'self',https://media.example.org"
    )
    assert "'media-src': [\"'self'\", 'https://media.example.org']" in policy
    assert "'script-src': [\"'self'\"]" in policy


def test_the_csrf_cookie_is_out_of_reach_of_scripts(client_for, acme, ann):
    response = client_for(ann, acme).get("/contact/create/")
    cookie = response.cookies[settings.CSRF_COOKIE_NAME]
    assert cookie["httponly"] is True
    # htmx sends the token from the page instead.
    assert "X-CSRFToken" in response.content.decode()
