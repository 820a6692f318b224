#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run it all:
# ruff, mypy and pytest (which also checks the wheel in a clean venv). Fails loudly on any step.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
# Only what is missing: a machine whose node comes from another repository (nodesource's
# nodejs bundles npm and conflicts with Debian's npm) keeps the one it has.
pkgs=()
command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || pkgs+=(fonts-dejavu-core)
if [ ${#pkgs[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PY" -m venv .venv
fi
echo "== installing spacesmith[local,dev] into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[local,dev]' 2>&1 \
  | { grep -v "is ignored: it is neither a file nor a directory" || true; }

# npm ci with a deadline and a bounded number of tries: a registry download that stalls
# must not hang the run.
npm_ci() {
  local dir=$1 try
  for try in 1 2 3; do
    if (cd "$dir" && timeout 240 npm ci --no-audit --no-fund --loglevel=error \
          --fetch-timeout=60000 --fetch-retries=3); then
      return 0
    fi
    echo "npm ci in $dir failed or timed out (try $try of 3)" >&2
  done
  echo "npm ci in $dir failed 3 times: the tests need these pinned packages" >&2
  return 1
}
for dir in tests/js site_template; do
  if [ -f "$dir/package-lock.json" ]; then
    echo "== npm ci in $dir"
    npm_ci "$dir"
  fi
done

echo "== ruff"
.venv/bin/ruff check agent tools tests benchmarks spacesmith/__init__.py spacesmith/__init__.pyi spacesmith/__main__.py
echo "== mypy"
.venv/bin/mypy
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
