#!/usr/bin/env bash
# Start-up with a big store: fills a data directory once with COUNT durable responses through
# the HTTP API (the three demo workloads in turn, bench/submit-mixed.lua: a third tags only, a
# third open a task, a third a task and a webhook), stops the server in order, then starts it
# ROUNDS times and prints how long each start took until GET /healthz answered 200 and until
# the site report (GET /api/v1/sites/demo-clinic/report) answered 200, with its respondents.
# The filled directory (STARTUP_DATA, default /tmp/chorus-startup-COUNT; 3.5 GB for 1,000,000)
# is removed at the end unless STARTUP_KEEP=1 keeps it for the next run (the disk is shared).
# STARTUP_COLD=1 empties the kernel's page cache before each start (needs root), so that the
# store is read from disk as after a reboot.
# Usage: bench/startup.sh [count] [rounds]
# (needs wrk; CHORUS_BIN=a built binary skips the build)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000000}
rounds=${2:-3}
data=${STARTUP_DATA:-/tmp/chorus-startup-$count}
bin=${CHORUS_BIN:-${CARGO_TARGET_DIR:-target}/release/chorus}
[ -n "${CHORUS_BIN:-}" ] || cargo build --release -q --bin chorus
port=18086
base=http://127.0.0.1:$port
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -f "$conf"
  [ "${STARTUP_KEEP:-}" = 1 ] || rm -rf "$data"' EXIT
conf=$(mktemp)
# Deliveries paused: the demo help desk does not listen here.
printf 'deliver_webhooks = false\nwebhook_allow_private = ["127.0.0.1/32"]\n' > "$conf"
start() {
  CHORUS_LOG=warn "$bin" serve --bind 127.0.0.1:$port --data "$data" --workers 2 \
    --config "$conf" >/dev/null 2>&1 &
  pid=$!
}
stop() { kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=; }
stored() {
  curl -s -H "Authorization: Bearer $(cat "$data/initial-admin-token")" "$base/metrics" |
    awk '/^chorus_responses_stored_total/ {s+=$2} END {print s+0}'
}
if [ ! -f "$data/.filled" ]; then
  rm -rf "$data"
  start
  for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
  n=0
  while [ "$n" -lt "$count" ]; do
    left=$(( (count - n) / 6000 + 2 ))
    wrk -t2 -c64 -d"$(( left < 60 ? left : 60 ))s" -s bench/submit-mixed.lua "$base" >/dev/null
    n=$(stored)
    echo "filled: $n responses"
  done
  stop
  echo "$n" > "$data/.filled"
fi
echo "store: $(cat "$data/.filled") responses, $(du -sh "$data" | cut -f1) in $data"
token=$(cat "$data/initial-admin-token")
ms() { date +%s%3N; }
for r in $(seq "$rounds"); do
  [ "${STARTUP_COLD:-}" = 1 ] && sync && echo 3 > /proc/sys/vm/drop_caches
  t0=$(ms); start
  until curl -sf "$base/healthz" >/dev/null; do sleep 0.01; done
  t1=$(ms)
  until body=$(curl -sf -H "Authorization: Bearer $token" "$base/api/v1/sites/demo-clinic/report"); do
    sleep 0.01
  done
  t2=$(ms)
  respondents=$(printf '%s' "$body" | python3 -c 'import json,sys; print(sum(g.get("respondents", 0) for g in json.load(sys.stdin)["groups"]))')
  echo "start $r: /healthz 200 after $((t1 - t0)) ms, report 200 after $((t2 - t0)) ms (respondents: $respondents)"
  stop
done
