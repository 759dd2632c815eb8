"""Sphinx configuration: the Markdown pages of docs/ as a site (`make docs`)."""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path[:0] = [str(DOCS.parent), str(DOCS / "_ext")]
# The management commands reference reads the commands from Django itself.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracpro.settings")

import tracpro  # noqa: E402 (after the path is set)

project = "TracPro"
author = "The TracPro contributors"
copyright = "TracPro contributors, BSD-3-Clause"
version = release = tracpro.__version__

extensions = ["myst_parser", "management_commands"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
myst_heading_anchors = 3

html_theme = "alabaster"
html_title = f"TracPro {release}"
html_static_path: list[str] = []
