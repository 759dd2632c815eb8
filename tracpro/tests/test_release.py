"""Releases: the version in one place, `make release` in a throwaway repository,
and the habits around it (licence, pre-commit, CI)."""

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

import tracpro
from tracpro.tests.production import ROOT

RELEASE_FILES = ["Makefile", "scripts/release.sh", "scripts/lib.sh", "tracpro/__init__.py",
                 "docs/changelog.md"]  # fmt: skip


def test_the_version_lives_in_tracpro_init_only():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project
    assert project["dynamic"] == ["version"]
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["dynamic"]["version"] == {"attr": "tracpro.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+)?", tracpro.__version__)


@pytest.fixture
def throwaway(tmp_path) -> Path:
    """A repository with the files `make release` touches, as committed here."""
    repo = tmp_path / "repo"
    for name in RELEASE_FILES:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, repo / name)
    for command in (["init", "--quiet"], ["config", "user.email", "dev@example.org"],
                    ["config", "user.name", "Dev"], ["add", "."],
                    ["commit", "--quiet", "-m", "Start"]):  # fmt: skip
        subprocess.run(["git", "-C", repo, *command], check=True)
    return repo


def make_release(repo: Path, version: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "release", f"VERSION={version}"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
    )


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", repo, *args], check=True, capture_output=True, text=True
    ).stdout


def test_make_release_sets_the_version_dates_the_changelog_commits_and_tags(throwaway):
    result = make_release(throwaway, "2.3.4")
    assert result.returncode == 0, result.stderr
    assert '__version__ = "2.3.4"' in (throwaway / "tracpro" / "__init__.py").read_text()
    changelog = (throwaway / "docs" / "changelog.md").read_text()
    assert re.search(r"^## \[Unreleased\]\n\n## \[2\.3\.4\] - \d{4}-\d{2}-\d{2}\n", changelog, re.M)
    assert git(throwaway, "log", "-1", "--format=%s").strip() == "Release 2.3.4"
    assert git(throwaway, "tag", "--list").split() == ["v2.3.4"]
    assert git(throwaway, "status", "--porcelain") == ""
    # The tagged commit is the one that carries the version.
    assert '"2.3.4"' in git(throwaway, "show", "v2.3.4:tracpro/__init__.py")


@pytest.mark.parametrize(
    ("version", "prepare", "error"),
    [
        ("2.3", None, "usage: make release VERSION=x.y.z"),
        ("2.3.4", "dirty", "uncommitted changes"),
        ("2.3.4", "tagged", "the tag v2.3.4 exists already"),
        ("2.3.4", "no notes", "the Unreleased section of docs/changelog.md is empty"),
    ],
)
def test_make_release_refuses_what_would_make_a_bad_release(throwaway, version, prepare, error):
    changelog = throwaway / "docs" / "changelog.md"
    if prepare == "dirty":
        (throwaway / "tracpro" / "__init__.py").write_text("# changed\n")
    elif prepare == "tagged":
        git(throwaway, "tag", "v2.3.4")
    elif prepare == "no notes":
        text = re.sub(r"(## \[Unreleased\]\n).*", r"\1", changelog.read_text(), flags=re.S)
        changelog.write_text(text)
        git(throwaway, "commit", "--quiet", "-am", "Empty notes")
    head = git(throwaway, "rev-parse", "HEAD")
    result = make_release(throwaway, version)
    assert result.returncode != 0
    assert error in result.stderr
    assert git(throwaway, "rev-parse", "HEAD") == head  # nothing committed


def test_the_licence_is_bsd_3_clause():
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("BSD 3-Clause License")
    assert "Neither the name of the copyright holder" in licence


def test_pre_commit_runs_the_ruff_version_the_project_pins():
    pinned = re.search(r"^ruff==(\S+)$", (ROOT / "requirements/dev.txt").read_text(), re.M)
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    assert f"rev: v{pinned.group(1)}" in config
    assert "id: ruff-check" in config and "id: ruff-format" in config


def test_ci_runs_make_check_and_make_test():
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    assert "run: make check" in workflow and "run: make test" in workflow
