#!/usr/bin/env bash
# PostgreSQL benchmarks: durable JSON submissions with the demo rules on, one node and two
# nodes on one database, then the report of a site with 1,000,000 responses.
# A throwaway cluster (tests/pg-cluster.sh, fsync on), the release build and wrk all share the
# machine's cores. Usage: bench/postgres.sh [seconds] [report-responses]   (needs wrk)
# Workloads (each wrk -t2, 64 connections in all):
#   typical   a patient who never tried to sign up: tags, no follow-up (bench/submit-typical.lua)
#   provider  the demo provider survey: tags and a task (bench/submit.lua)
#   patient   a patient whose sign-up failed: tags, a task and a help-desk webhook
#             (bench/submit-patient.lua; deliveries off, so the outbox only fills)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
report_n=${2:-1000000}
cargo build --release -q
bin=${CARGO_TARGET_DIR:-target}/release/chorus
cluster=$(mktemp -d /tmp/chorus-bench-pg.XXXXXX)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  bash tests/pg-cluster.sh stop "$cluster"
  rm -rf "$work"
}
trap cleanup EXIT
bash tests/pg-cluster.sh start "$cluster" durable >/dev/null
# The demo site's help-desk webhook points at 127.0.0.1; deliveries stay off (the outbox fills).
printf 'deliver_webhooks = false\nwebhook_allow_private = ["127.0.0.1/32"]\n' >"$work/chorus.toml"

start_node() { # name port url
  CHORUS_LOG=warn CHORUS_STORE="$3" "$bin" serve --config "$work/chorus.toml" --bind "127.0.0.1:$2" \
    --data "$work/$1" --workers 2 >/dev/null &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$2/healthz" >/dev/null && return; sleep 0.1; done
  echo "node $1 did not start" >&2; exit 1
}
stop_nodes() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pids=()
}
# wrk's summary as "responses/s p99".
summary() { awk '/Requests\/sec/ { r = $2 } /^ +99%/ { p = $2 } END { printf "%s responses/s, p99 %s\n", r, p }' "$@"; }

run() { # workload script survey
  local url
  url=$(bash tests/pg-cluster.sh createdb "$cluster" "bench_$1")
  start_node a 18091 "$url"
  wrk -t2 -c64 -d"${secs}s" --latency -s "bench/$2" \
    "http://127.0.0.1:18091/api/v1/sites/demo-clinic/surveys/$3/responses" >"$work/one.txt"
  echo "$1, one node:  $(summary "$work/one.txt")"
  start_node b 18092 "$url"
  wrk -t1 -c32 -d"${secs}s" --latency -s "bench/$2" \
    "http://127.0.0.1:18091/api/v1/sites/demo-clinic/surveys/$3/responses" >"$work/a.txt" &
  local w=$!
  wrk -t1 -c32 -d"${secs}s" --latency -s "bench/$2" \
    "http://127.0.0.1:18092/api/v1/sites/demo-clinic/surveys/$3/responses" >"$work/b.txt"
  wait $w
  echo "$1, two nodes: A $(summary "$work/a.txt"); B $(summary "$work/b.txt")"
  stop_nodes
}

run typical submit-typical.lua patient-enrollment
run provider submit.lua provider-enrollment
run patient submit-patient.lua patient-enrollment

echo "== the report with $report_n responses (cargo bench --bench report)"
url=$(bash tests/pg-cluster.sh createdb "$cluster" bench_report)
CHORUS_BENCH_STORE="$url" CHORUS_BENCH_RESPONSES="$report_n" cargo bench -q --bench report 2>&1 |
  grep -E "stored|opened|time:|report_" || true
