#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS (default 5: the CI smoke), one after the other,
# starting from the seed corpus in fuzz/seeds/<target>/. New inputs go to a temporary corpus,
# so the repository's stays small. Installs cargo-fuzz (crates.io) when it is missing.
# Exits 1 on a crash; libFuzzer saves the input under fuzz/artifacts/<target>/ and prints how
# to replay it.
# Usage: fuzz/smoke.sh [seconds] [cargo-fuzz build flags]
#   fuzz/smoke.sh                CI: 5 s each, unoptimised and without a sanitizer (the
#                                shortest build from scratch)
#   fuzz/smoke.sh 600 -O --sanitizer=address   the 10-minute runs fuzz/README.md reports
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-5}
shift || true
flags=${*:---dev --sanitizer=none}
if ! command -v cargo-fuzz >/dev/null; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
# cargo-fuzz passes -Z flags to rustc; the stable toolchain accepts them with this.
export RUSTC_BOOTSTRAP=1
echo "== building the fuzz targets ($flags)"
# shellcheck disable=SC2086
cargo fuzz build $flags
status=0
for target in $(cargo fuzz list); do
  corpus=$(mktemp -d)
  log=$(mktemp)
  # shellcheck disable=SC2086
  if cargo fuzz run $flags "$target" "$corpus" "seeds/$target" -- \
      -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || true)
    cov=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | grep -o 'cov: [0-9]*' | tail -1 || true)
    echo "$target: ok, ${runs:-?} runs in ${secs} s, ${cov:-cov: ?} (no crash)"
  else
    echo "$target: FAILED"
    grep -E 'panicked|ERROR|SUMMARY|Test unit written|artifact_prefix' "$log" | head -20
    status=1
  fi
  rm -rf "$corpus" "$log"
done
exit $status
