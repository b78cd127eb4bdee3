#!/usr/bin/env bash
# The README's test command: installs what the suite needs (tests/setup.sh), runs every test on
# the sled store, then starts a throwaway PostgreSQL cluster (tests/pg-cluster.sh: Debian's
# postgresql package when missing, initdb into a temporary directory, a free port) and runs
# the integration tests again on it (CHORUS_TEST_STORE); the cluster is removed on every exit.
# Extra arguments go to `cargo test` (e.g. `bash tests/run.sh --test api_submit`).
# CHORUS_TEST_BACKENDS=sled or =postgres runs one pass only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
backends=${CHORUS_TEST_BACKENDS:-sled postgres}
log=$(mktemp)
cluster=$(mktemp -d /tmp/chorus-pg.XXXXXX)
cleanup() {
  bash tests/pg-cluster.sh stop "$cluster" || true
  rm -f "$log"
}
trap cleanup EXIT
status=0
for backend in $backends; do
  set +e
  case "$backend" in
    sled)
      echo "== tests on the sled store"
      cargo test --no-fail-fast "$@" 2>&1 | tee -a "$log"
      pass=${PIPESTATUS[0]}
      ;;
    postgres)
      echo "== tests on PostgreSQL (a throwaway cluster in $cluster)"
      started=$(date +%s)
      bash tests/pg-cluster.sh start "$cluster" >/dev/null || { echo "could not start PostgreSQL"; exit 1; }
      url=$(bash tests/pg-cluster.sh createdb "$cluster" chorus_test)
      # The library's unit tests are about sled and pure code: the integration tests only.
      CHORUS_TEST_STORE="$url" cargo test --no-fail-fast --test '*' "$@" 2>&1 | tee -a "$log"
      pass=${PIPESTATUS[0]}
      echo "== PostgreSQL pass: $(( $(date +%s) - started )) s"
      ;;
    *) echo "unknown backend $backend (sled or postgres)"; exit 2 ;;
  esac
  set -e
  [ "$pass" -ne 0 ] && status=$pass
done
# One closing line for the whole run (cargo prints one result line per test binary).
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
