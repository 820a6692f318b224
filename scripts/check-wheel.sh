#!/usr/bin/env bash
# Build the wheel, install it in a clean venv, and run the installed CLI from outside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
.venv/bin/python -m pip wheel -q --no-deps -w "$tmp/dist" . >/dev/null
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q --disable-pip-version-check "$tmp"/dist/*.whl
cd "$tmp"
"$tmp/venv/bin/spacesmith" --help >/dev/null
"$tmp/venv/bin/python" - <<'PY'
import importlib.resources as r
for pkg, name in (("prompts", "__init__.py"), ("site_template", "__init__.py")):
    assert r.files(pkg).joinpath(name).is_file(), f"{pkg}/{name} missing from the wheel"
extra = [p.name for p in r.files("site_template").iterdir()]
assert "node_modules" not in extra, "node_modules leaked into the wheel"
print("wheel ok:", sorted(extra))
PY
