#!/usr/bin/env bash
# `make release VERSION=x.y.z`: set the version (tracpro/__init__.py), turn the
# changelog's "Unreleased" section into "x.y.z - today", commit and tag vx.y.z.
# Pushing is left to you: git push --follow-tags
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

version="${1:-}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "usage: make release VERSION=x.y.z (got '${version}')"
tag="v$version"
[ -z "$(git status --porcelain)" ] || die "the working tree has uncommitted changes; commit or stash them first"
! git rev-parse -q --verify "refs/tags/$tag" >/dev/null || die "the tag $tag exists already"
changelog=docs/changelog.md
grep -q '^## \[Unreleased\]$' "$changelog" || die "$changelog has no '## [Unreleased]' section"
# The Unreleased section must say what the release brings.
notes="$(awk '/^## \[Unreleased\]$/ {on=1; next} /^## / {on=0} on && /[^[:space:]]/' "$changelog")"
[ -n "$notes" ] || die "the Unreleased section of $changelog is empty: say what $version brings"

sed -i -E "s/^__version__ = \".*\"$/__version__ = \"$version\"/" tracpro/__init__.py
grep -q "^__version__ = \"$version\"$" tracpro/__init__.py || die "could not set the version in tracpro/__init__.py"
today="$(date -u +%Y-%m-%d)"
sed -i "s/^## \[Unreleased\]$/## [Unreleased]\n\n## [$version] - $today/" "$changelog"

git add tracpro/__init__.py "$changelog"
git commit -q -m "Release $version"
git tag -a "$tag" -m "TracPro $version ($today)"
say "Tagged $tag. Push it with: git push --follow-tags"
