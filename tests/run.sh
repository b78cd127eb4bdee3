#!/usr/bin/env bash
# The README's test command: installs what the suite needs (tests/setup.sh), then runs every
# test. Extra arguments go to `cargo test` (e.g. `bash tests/run.sh --test api_submit`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole run (cargo prints one result line per test binary).
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
