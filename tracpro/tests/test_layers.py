"""Imports point one way: an app imports only apps on floors below its own.

`FLOORS` lists them bottom to top; docs/development.md explains where new code goes.
"""

import ast
from pathlib import Path

import pytest

TRACPRO = Path(__file__).resolve().parents[1]

FLOORS: list[set[str]] = [
    {"simulator", "exports"},  # standalone libraries: import nothing of tracpro
    {"orgs"},  # tenants, memberships, the per-org task wrapper
    {"accounts"},  # users and signing in
    {"groups"},  # regions (the tree and the scope), reporter groups, boundaries
    {"contacts"},
    {"polls", "msgs"},  # the mirrored data: polls and answers, messages
    {"charts", "rapidpro"},  # reading it into charts; talking to RapidPro
    {"dashboards", "manage", "messaging", "health"},  # pages
    {"indicators"},  # recent indicators: pages that reuse the dashboards' filter bar
    {"home"},  # the home page, which sums up the pages below it
    {"demo"},  # development-only demo data, configured through everything
]
# Modules of the project itself (settings, URL confs, the Celery app) sit
# around the apps rather than on a floor: anyone may import `tracpro.celery`.
PROJECT_MODULES = {"celery", "settings", "urls", "urls_root", "hosts", "wsgi", "conftest"}

FLOOR_OF = {app: number for number, apps in enumerate(FLOORS) for app in apps}


def apps() -> list[str]:
    return sorted(
        path.name
        for path in TRACPRO.iterdir()
        if (path / "__init__.py").exists() and path.name not in ("tests", "static", "templates")
    )


def imports_of(app: str, root: Path = TRACPRO) -> list[tuple[str, str]]:
    """(module file, imported tracpro app) for every import in the app's code,
    tests and migrations left out."""
    found = []
    for path in sorted((root / app).rglob("*.py")):
        parts = path.relative_to(root).parts
        if "tests" in parts or "migrations" in parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("tracpro."):
                    found.append((str(path.relative_to(root)), name.split(".")[1]))
    return found


def upward_imports(app: str, root: Path = TRACPRO) -> list[str]:
    return [
        f"{module} imports tracpro.{target}"
        for module, target in imports_of(app, root)
        if target != app
        and target not in PROJECT_MODULES
        and FLOOR_OF.get(target, len(FLOORS)) >= FLOOR_OF[app]
    ]


def test_every_app_has_a_floor():
    assert set(apps()) == set(FLOOR_OF), "put a new app on a floor in FLOORS"


@pytest.mark.parametrize("app", apps())
def test_imports_point_down(app):
    upward = upward_imports(app)
    assert not upward, "imports on the same floor or above:\n" + "\n".join(upward)


def test_it_catches_an_upward_or_sideways_import(tmp_path):
    for app in ("orgs", "charts"):
        (tmp_path / app / "tests").mkdir(parents=True)
    (tmp_path / "orgs" / "models.py").write_text("from tracpro.polls.models import Poll\n")
    (tmp_path / "orgs" / "tests" / "test_x.py").write_text("import tracpro.home.views\n")
    (tmp_path / "charts" / "data.py").write_text(
        "import tracpro.rapidpro.client\nfrom tracpro.orgs.models import Org\n"
    )
    assert upward_imports("orgs", tmp_path) == ["orgs/models.py imports tracpro.polls"]
    assert upward_imports("charts", tmp_path) == ["charts/data.py imports tracpro.rapidpro"]


# Only the request's own layer sees it: views, middleware, forms, context processors
# (and `orgs/requests.py`, which declares what the middleware adds to it). Below
# them, code takes the scope or the org.
REQUEST_LAYER = {"views", "middleware", "forms", "context_processors", "requests", "urls"}


def request_importers(root: Path = TRACPRO) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if "tests" in parts or "migrations" in parts or parts[0] == "conftest.py":
            continue
        if REQUEST_LAYER & {path.stem, *parts[:-1]}:
            continue
        tree = ast.parse(path.read_text(), str(path))
        if any(
            isinstance(node, ast.ImportFrom)
            and node.module == "django.http"
            and any(alias.name == "HttpRequest" for alias in node.names)
            for node in ast.walk(tree)
        ):
            found.append(str(path.relative_to(root)))
    return found


def test_only_the_request_layer_takes_a_request():
    assert request_importers() == []


def test_it_catches_a_request_below_the_views(tmp_path):
    (tmp_path / "charts").mkdir()
    (tmp_path / "charts" / "data.py").write_text("from django.http import HttpRequest\n")
    (tmp_path / "charts" / "views.py").write_text("from django.http import HttpRequest\n")
    assert request_importers(tmp_path) == ["charts/data.py"]
