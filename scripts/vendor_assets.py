#!/usr/bin/env python3
"""Copy the pinned front-end libraries from node_modules into tracpro/static/vendor.

Run through `make vendor` (which runs `npm ci` first). The copies are committed,
so CI and production never need npm; MANIFEST.json records each file's version
and sha256, and a test checks the copies against it.
"""

import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "tracpro" / "static" / "vendor"

# package -> files or directories to copy, relative to the package root.
FILES = {
    "bootstrap": [
        "LICENSE",
        "dist/css/bootstrap.min.css",
        "dist/css/bootstrap.min.css.map",
        "dist/css/bootstrap.rtl.min.css",
        "dist/css/bootstrap.rtl.min.css.map",
        "dist/js/bootstrap.bundle.min.js",
        "dist/js/bootstrap.bundle.min.js.map",
    ],
    "chart.js": ["LICENSE.md", "dist/chart.umd.min.js", "dist/chart.umd.min.js.map"],
    "leaflet": [
        "LICENSE",
        "dist/leaflet.js",
        "dist/leaflet.js.map",
        "dist/leaflet.css",
        "dist/images",
    ],
    "wordcloud": ["LICENSE", "src/wordcloud2.js"],
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_package(name: str, paths: list[str]) -> dict:
    package_dir = NODE_MODULES / name
    version = json.loads((package_dir / "package.json").read_text())["version"]
    target = VENDOR / f"{name}-{version}"
    if target.exists():
        shutil.rmtree(target)
    files = {}
    for relative in paths:
        source = package_dir / relative
        sources = (
            sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        )
        for file in sources:
            destination = target / file.relative_to(package_dir / Path(relative).parent)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, destination)
            files[str(destination.relative_to(VENDOR))] = sha256(destination)
    return {"version": version, "files": files}


def main() -> int:
    if not NODE_MODULES.exists():
        print("node_modules is missing: run `npm ci` first (make vendor does).", file=sys.stderr)
        return 1
    for stale in VENDOR.glob("*-*"):
        if stale.is_dir():
            shutil.rmtree(stale)
    manifest = {name: copy_package(name, paths) for name, paths in FILES.items()}
    (VENDOR / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    for name, entry in manifest.items():
        print(f"{name} {entry['version']}: {len(entry['files'])} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
