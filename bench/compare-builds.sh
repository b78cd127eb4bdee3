#!/usr/bin/env bash
# Throughput of two chorus binaries on the same workload, run alternately (a shared machine
# drifts between runs): durable JSON submissions at concurrency 64, as bench/run.sh, with the
# data directory in a fresh temporary directory each run. Prints every run, the server's CPU
# time per request, and the median share the second binary keeps of the first's throughput.
# Usage: bench/compare-builds.sh OLD_BIN NEW_BIN [seconds] [rounds] [lua script]   (needs wrk)
# e.g. the cost of a change: build the commit before it in a worktree, then
#   bench/compare-builds.sh /tmp/before/target/release/chorus target/release/chorus 20 5
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2
secs=${3:-20}
rounds=${4:-5}
script=${5:-bench/submit-patient.lua}
survey=provider-enrollment
grep -q '"aware"' "$script" && survey=patient-enrollment
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
path="/api/v1/sites/demo-clinic/surveys/$survey/responses"
. bench/measure.sh
# The repository's chorus.toml (it lets the demo help desk's loopback webhook through);
# BENCH_CONFIG=/dev/null for a build older than its keys.
run() { measure "$1" 18084 "$path" "$script" "$secs" "$tmp/data" --config "${BENCH_CONFIG:-chorus.toml}"; }

alternate "$rounds" old "$old" new "$new"
echo "median kept: $MEDIAN_KEPT % ($script, $rounds rounds of ${secs}s, data in $(df --output=fstype "$tmp" | tail -1) $tmp)"
