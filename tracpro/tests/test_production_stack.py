"""The production stack on loopback: collectstatic and offline compression into
a fresh STATIC_ROOT, gunicorn started with conf/gunicorn.py in production mode,
and nginx with the site from conf/ (TLS with a self-signed certificate) in front."""

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from django.conf import settings

import fabfile
from tracpro.polls.tests.world import IN_MAY, page_url
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
from tracpro.tests.test_conf import VENV_BIN

pytestmark = pytest.mark.slow


@dataclass
class Site:
    gunicorn: str  # http://127.0.0.1:port, straight to gunicorn
    http: str  # nginx, plain HTTP
    https: str  # nginx, TLS
    certificate: Path
    static_root: Path
    access_log: Path

    def get(self, url: str, host: str = PARENT_HOST, **kwargs) -> requests.Response:
        headers = {"Host": host, **kwargs.pop("headers", {})}
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("verify", str(self.certificate))
        return requests.get(url, headers=headers, timeout=30, **kwargs)


def wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    for _ in range(150):
        if process.poll() is not None:
            raise AssertionError(f"{url} exited early:\n{log.read_text()}")
        try:
            requests.get(url, timeout=10, allow_redirects=False)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up:\n{log.read_text()}")


@pytest.fixture(scope="module")
def site(django_db_setup, tmp_path_factory):  # gunicorn uses the test database
    directory = tmp_path_factory.mktemp("production")
    static_root = directory / "static"
    gunicorn_port, http_port, https_port = free_port(), free_port(), free_port()
    env = production_env(
        STATIC_ROOT=str(static_root),
        # The test's sessions are signed with the development key: log in with them.
        SECRET_KEY=settings.SECRET_KEY,
        GUNICORN_BIND=f"127.0.0.1:{gunicorn_port}",
        WEB_CONCURRENCY="2",
        BEHIND_PROXY="1",  # nginx in front, as conf/tracpro.env.example says
    )
    for command in ("collectstatic --no-input --verbosity 0", "compress --verbosity 0"):
        result = manage(*command.split(), env=env)
        assert result.returncode == 0, result.stderr

    access_log = directory / "gunicorn.log"
    with access_log.open("w") as log:
        gunicorn = subprocess.Popen(
            [VENV_BIN / "gunicorn", "--config", ROOT / "conf" / "gunicorn.py"],
            cwd=directory,  # conf/gunicorn.py finds the checkout by itself
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    certificate, key = self_signed_certificate(directory, PARENT_HOST)
    target = fabfile.Target(
        parent_host=PARENT_HOST,
        web_bind=f"127.0.0.1:{gunicorn_port}",
        http_port=http_port,
        https_port=https_port,
        tls_certificate=str(certificate),
        tls_certificate_key=str(key),
        nginx_log_dir=str(directory),
    )
    values = {**fabfile.conf_values(target), "static_root": str(static_root)}
    site_conf = directory / "tracpro"
    site_conf.write_text(fabfile.render("nginx/tracpro.conf", values))
    nginx_log = directory / "nginx.log"
    with nginx_log.open("w") as log:
        nginx = subprocess.Popen(
            [tool("nginx"), "-p", directory, "-c", nginx_main(directory, site_conf)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(f"http://127.0.0.1:{gunicorn_port}/", gunicorn, access_log)
        wait_for(f"http://127.0.0.1:{http_port}/", nginx, nginx_log)
        yield Site(
            gunicorn=f"http://127.0.0.1:{gunicorn_port}",
            http=f"http://127.0.0.1:{http_port}",
            https=f"https://127.0.0.1:{https_port}",
            certificate=certificate,
            static_root=static_root,
            access_log=access_log,
        )
    finally:
        for process in (nginx, gunicorn):
            process.terminate()
            process.wait(timeout=30)


def test_gunicorn_with_conf_gunicorn_serves_the_health_check(site):
    response = site.get(f"{site.gunicorn}/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    # gunicorn writes the access line after the response has left: give it a moment.
    logged = r'"GET /healthz HTTP/1.1" 200 .* host=tracpro\.example\.org ms=\d+'
    deadline = time.monotonic() + 10
    while not re.search(logged, site.access_log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert re.search(logged, site.access_log.read_text())


def test_nginx_moves_plain_http_to_https_but_answers_the_health_check(site):
    response = site.get(f"{site.http}/users/login/", host=f"acme.{PARENT_HOST}")
    assert response.status_code == 301
    port = site.https.rsplit(":", 1)[1]
    assert response.headers["Location"] == f"https://acme.{PARENT_HOST}:{port}/users/login/"
    assert site.get(f"{site.http}/healthz").status_code == 200


def test_django_behind_nginx_knows_the_request_came_over_https(site):
    response = site.get(f"{site.https}/users/login/")
    assert response.status_code == 200
    # Django sends HSTS only on requests it takes for secure (X-Forwarded-Proto).
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.headers["Content-Encoding"] == "gzip"


def own_assets(html: str) -> tuple[list[str], list[str]]:
    """The stylesheets and scripts a page loads from /static/, vendored ones left out."""
    styles = re.findall(r'<link rel="stylesheet" href="(/static/[^"]+)"', html)
    scripts = re.findall(r'<script src="(/static/[^"]+)"', html)
    return (
        [url for url in styles if "/vendor/" not in url],
        [url for url in scripts if "/vendor/" not in url and "django_htmx" not in url],
    )


def test_the_login_page_loads_our_css_and_js_as_one_compressed_bundle_each(site):
    html = site.get(f"{site.https}/users/login/").text
    styles, scripts = own_assets(html)
    assert len(styles) == 1 and re.fullmatch(
        r"/static/CACHE/css/output\.[0-9a-f]{12}\.css", styles[0]
    )
    assert len(scripts) == 1 and re.fullmatch(
        r"/static/CACHE/js/output\.[0-9a-f]{12}\.js", scripts[0]
    )
    assert "/static/vendor/bootstrap-5.3.9/bootstrap.min." in html  # vendored, not bundled


@pytest.mark.django_db(transaction=True)
def test_a_poll_page_loads_one_bundle_of_our_css_and_one_of_our_js(site, world, client_for, ann):
    session = client_for(ann, world.org).cookies["sessionid"].value
    url = page_url("polls.poll_read", world.poll.pk, **IN_MAY)
    response = site.get(f"{site.https}{url}", host=f"acme.{PARENT_HOST}",
                        cookies={"sessionid": session})  # fmt: skip
    assert response.status_code == 200, response.text[:500]
    styles, scripts = own_assets(response.text)
    assert len(styles) == 1 and styles[0].startswith("/static/CACHE/css/output.")
    assert len(scripts) == 1 and scripts[0].startswith("/static/CACHE/js/output.")
    bundle = (site.static_root / scripts[0].removeprefix("/static/")).read_text()
    # charts.js and maps.js, minified into one file.
    assert "chart-data" in bundle and "L.map" in bundle
    css = (site.static_root / styles[0].removeprefix("/static/")).read_text()
    assert ".navbar-brand" in css and ".chart-box" in css  # tracpro.css and charts.css


def test_nginx_serves_hashed_static_files_gzipped_and_cached_for_a_year(site):
    styles, _ = own_assets(site.get(f"{site.https}/users/login/").text)
    response = site.get(f"{site.https}{styles[0]}", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Content-Type"] == "text/css"
    bootstrap = next(site.static_root.glob("vendor/bootstrap-5.3.9/bootstrap.min.*.css"))
    response = site.get(f"{site.https}/static/{bootstrap.relative_to(site.static_root)}",
                        headers={"Accept-Encoding": "gzip"})  # fmt: skip
    assert response.headers["Content-Encoding"] == "gzip"  # collectstatic's .gz, or nginx's
    assert "immutable" in response.headers["Cache-Control"]
    unhashed = site.get(f"{site.https}/static/css/tracpro.css")
    assert unhashed.headers["Cache-Control"] == "public, max-age=3600"


def test_nginx_refuses_a_body_over_its_limit(site):
    response = requests.post(
        f"{site.https}/users/login/",
        headers={"Host": PARENT_HOST},
        data=b"x" * (11 * 1024 * 1024),
        verify=str(site.certificate),
        timeout=30,
    )
    assert response.status_code == 413
