#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run it all:
# ruff, mypy, the wheel check and pytest. Fails loudly on any step.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v chromium >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "== installing Debian packages (chromium, node)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core nodejs npm >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PY" -m venv .venv
fi
echo "== installing spacesmith[local,dev] into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[local,dev]' 2>&1 \
  | { grep -v "is ignored: it is neither a file nor a directory" || true; }

for dir in tests/js site_template; do
  if [ -f "$dir/package-lock.json" ]; then
    echo "== npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

echo "== ruff"
.venv/bin/ruff check agent tools tests benchmarks
echo "== mypy"
.venv/bin/mypy
echo "== wheel in a clean venv"
bash scripts/check-wheel.sh
echo "== pytest"
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$rc"
