#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, and nothing when it is there:
# Chromium and Node.js (apt), the pinned npm packages of the browser tests (npm ci), and a
# Python venv (tests/.venv) with the pinned packages of the FHIR and statistics cross-checks.
# Called by tests/run.sh (the README's test command) and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "tests/setup.sh: '$*' needs root (or sudo); install it by hand and run again" >&2
    return 1
  fi
}

apt_packages=()
[ -x /usr/bin/chromium ] || apt_packages+=(chromium)
command -v node >/dev/null || apt_packages+=(nodejs)
command -v npm >/dev/null || apt_packages+=(npm)
command -v python3 >/dev/null || apt_packages+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_packages+=(python3-venv)
if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "== installing ${apt_packages[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

# npm ci only when the installed packages are older than the lock file.
stamp=tests/browser/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ tests/browser/package-lock.json -nt "$stamp" ]; then
  echo "== npm ci (tests/browser)"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

# The venv is (re)made when missing or older than tests/requirements.txt; the stamp is a copy
# of the requirements it was made from.
venv=tests/.venv
stamp=$venv/requirements.txt
if [ ! -f "$stamp" ] || ! cmp -s tests/requirements.txt "$stamp"; then
  echo "== python venv $venv (tests/requirements.txt)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt
  cp tests/requirements.txt "$stamp"
fi
