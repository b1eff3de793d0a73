#!/usr/bin/env bash
# Re-vendor HTMX into static/vendor/ from the npm registry package `htmx.org`.
#
#   scripts/vendor-htmx.sh            # latest 2.x
#   scripts/vendor-htmx.sh 2.0.11     # an exact version
#
# Only needed when upgrading HTMX; the result is committed, so neither `make run`
# nor `make test` needs npm. Afterwards update the version/checksum in
# static/vendor/README.md (the script prints them).
set -euo pipefail

spec="htmx.org@${1:-2}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$repo_root/static/vendor"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# `npm pack` downloads the published tarball without installing anything.
(cd "$work" && npm pack --silent "$spec" >/dev/null)
tar -xzf "$work"/htmx.org-*.tgz -C "$work"

version="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$work/package/package.json" | head -n1)"
licence="$(sed -n 's/^ *"license": *"\([^"]*\)".*/\1/p' "$work/package/package.json" | head -n1)"

mkdir -p "$dest"
cp "$work/package/dist/htmx.min.js" "$dest/htmx.min.js"

echo "vendored htmx.org $version (licence $licence) -> static/vendor/htmx.min.js"
echo "tarball sha256: $(sha256sum "$work"/htmx.org-*.tgz | cut -d' ' -f1)"
echo "file    sha256: $(sha256sum "$dest/htmx.min.js" | cut -d' ' -f1)"
