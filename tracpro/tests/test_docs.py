"""The documentation builds as a site with Sphinx, warnings as errors (`make docs`)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tracpro.tests.production import ROOT, development_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    result = subprocess.run(
        [Path(sys.executable).parent / "sphinx-build", "--fail-on-warning", "--nitpicky",
         "--quiet", "--builder", "html", ROOT / "docs", out],
        env=development_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


def test_every_page_of_docs_is_in_the_site_and_its_index(site):
    index = (site / "index.html").read_text()
    for page in sorted((ROOT / "docs").glob("*.md")):
        if page.stem == "index":
            continue
        assert (site / f"{page.stem}.html").exists(), page.name
        assert f'href="{page.stem}.html"' in index, f"{page.name} is not in the index"


@pytest.mark.parametrize("command", ["fetchruns", "syncorg", "rebuild_rollups", "seed_demo"])
def test_the_commands_reference_shows_each_commands_own_usage(site, command):
    html = (site / "commands.html").read_text()
    assert re.search(rf"usage: manage\.py {command} ", html), command
