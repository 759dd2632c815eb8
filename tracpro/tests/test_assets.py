"""Front-end assets: vendored, verified, and never fetched from elsewhere."""

import hashlib
import json
import re
from pathlib import Path

import pytest

from django.conf import settings
from django.contrib.staticfiles import finders

TRACPRO = Path(settings.BASE_DIR) / "tracpro"
VENDOR = TRACPRO / "static" / "vendor"
TEMPLATES = sorted(TRACPRO.glob("**/templates/**/*.html")) + sorted(
    TRACPRO.glob("**/templates/**/*.txt")
)
EXTERNAL = re.compile(r"""(?:src|href|url)\s*[=(]\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
STATIC_TAG = re.compile(r"""{%\s*static\s+["']([^"']+)["']\s*%}""")


def test_the_vendored_files_match_their_manifest():
    manifest = json.loads((VENDOR / "MANIFEST.json").read_text())
    assert set(manifest) == {"bootstrap", "chart.js", "leaflet", "wordcloud"}
    for package, entry in manifest.items():
        assert any(name.split("/")[-1].startswith("LICENSE") for name in entry["files"]), package
        for name, digest in entry["files"].items():
            path = VENDOR / name
            assert path.exists(), name
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, name


def test_nothing_unlisted_hides_in_the_vendor_folder():
    manifest = json.loads((VENDOR / "MANIFEST.json").read_text())
    listed = {name for entry in manifest.values() for name in entry["files"]}
    present = {
        str(path.relative_to(VENDOR))
        for path in VENDOR.rglob("*")
        if path.is_file() and path.name != "MANIFEST.json"
    }
    assert present == listed


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(TRACPRO)))
def test_templates_reference_no_external_url(template):
    found = EXTERNAL.findall(template.read_text())
    assert not found, f"external reference in {template.name}: {found}"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(TRACPRO)))
def test_every_static_reference_resolves(template):
    for path in STATIC_TAG.findall(template.read_text()):
        assert finders.find(path), f"{template.name} refers to missing static file {path}"


def test_the_external_reference_check_catches_what_it_should():
    for sample in (
        '<script src="https://cdn.example.com/x.js">',
        "<link href='//fonts.example.com/css'>",
        "background: url(http://tiles.example.com/1.png)",
    ):
        assert EXTERNAL.search(sample), sample
    assert not EXTERNAL.search('<a href="/users/login/">')


OWN_STATIC = sorted(
    path
    for path in (TRACPRO / "static").rglob("*")
    if path.suffix in {".js", ".css"} and VENDOR not in path.parents
)


@pytest.mark.parametrize("asset", OWN_STATIC, ids=lambda p: str(p.relative_to(TRACPRO)))
def test_our_scripts_and_styles_fetch_nothing_remote(asset):
    assert not re.search(r"https?://", asset.read_text()), asset.name
