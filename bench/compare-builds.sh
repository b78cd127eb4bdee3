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
url="http://127.0.0.1:18084/api/v1/sites/demo-clinic/surveys/$survey/responses"
ticks=$(getconf CLK_TCK)

# One run of binary $1: prints "requests/s p99 cpu-µs-per-request".
run() {
  rm -rf "$tmp/data"
  CHORUS_LOG=warn "$1" serve --bind 127.0.0.1:18084 --data "$tmp/data" --workers 2 \
    --config /dev/null >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:18084/healthz >/dev/null && break; sleep 0.1; done
  wrk -t2 -c64 -d2s -s "$script" "$url" >/dev/null   # warm-up
  local before out after
  before=$(awk '{print $14+$15}' /proc/$pid/stat)
  out=$(wrk -t2 -c64 -d"${secs}s" --latency -s "$script" "$url")
  after=$(awk '{print $14+$15}' /proc/$pid/stat)
  kill $pid; wait $pid 2>/dev/null || true
  echo "$out" | awk -v t=$((after - before)) -v hz="$ticks" '
    /requests in/ { n = $1 } / 99%/ { p99 = $2 } /Requests\/sec/ { rps = $2 }
    END { printf "%.0f %s %.0f\n", rps, p99, t / hz * 1e6 / n }'
}

ratios=()
for i in $(seq "$rounds"); do
  read -r a_rps a_p99 a_cpu < <(run "$old")
  read -r b_rps b_p99 b_cpu < <(run "$new")
  ratio=$(awk -v a="$b_rps" -v b="$a_rps" 'BEGIN { printf "%.1f", 100 * a / b }')
  ratios+=("$ratio")
  echo "round $i: old $a_rps/s (p99 $a_p99, $a_cpu µs CPU/request)" \
    "| new $b_rps/s (p99 $b_p99, $b_cpu µs CPU/request) | kept $ratio %"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
echo "median kept: $median % ($script, $rounds rounds of ${secs}s, data in $(df --output=fstype "$tmp" | tail -1) $tmp)"
