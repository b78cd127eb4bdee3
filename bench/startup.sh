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
# STARTUP_DAYS=N fills it instead with COUNT responses spread over the N UTC days before today,
# written through the store API by examples/fill_store.rs (the API stamps each response with
# the current time, so an HTTP fill has one day only): the admin is created by a first start,
# then the generator writes the three workloads as the server would have on those days.
# STARTUP_KILL=S adds a last round: a start, S seconds of wrk load (bench/submit-mixed.lua,
# today's responses), `kill -9` of the server under that load, then the start after the crash,
# timed as the others, with the server's count of the marked days it read again (the days
# written in the last second or two before the kill: today's, not the whole run's).
# Usage: bench/startup.sh [count] [rounds]
# (needs wrk; CHORUS_BIN=a built binary skips the build; FILL_BIN the generator's)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000000}
rounds=${2:-3}
data=${STARTUP_DATA:-/tmp/chorus-startup-$count}
bin=${CHORUS_BIN:-${CARGO_TARGET_DIR:-target}/release/chorus}
fill=${FILL_BIN:-${CARGO_TARGET_DIR:-target}/release/examples/fill_store}
[ -n "${CHORUS_BIN:-}" ] || cargo build --release -q --bin chorus
[ -z "${STARTUP_DAYS:-}" ] || [ -n "${FILL_BIN:-}" ] || cargo build --release -q --example fill_store
port=18086
base=http://127.0.0.1:$port
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -f "$conf" "$log"
  [ "${STARTUP_KEEP:-}" = 1 ] || rm -rf "$data"' EXIT
log=$(mktemp)
conf=$(mktemp)
# Deliveries paused: the demo help desk does not listen here.
printf 'deliver_webhooks = false\nwebhook_allow_private = ["127.0.0.1/32"]\n' > "$conf"
start() {
  CHORUS_LOG=${1:-warn} "$bin" serve --bind 127.0.0.1:$port --data "$data" --workers 2 \
    --config "$conf" >/dev/null 2>"$log" &
  pid=$!
}
stop() { kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=; }
stored() {
  curl -s -H "Authorization: Bearer $(cat "$data/initial-admin-token")" "$base/metrics" |
    awk '/^chorus_responses_stored_total/ {s+=$2} END {print s+0}'
}
healthy() { for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done; }
if [ ! -f "$data/.filled" ] && [ -n "${STARTUP_DAYS:-}" ]; then
  rm -rf "$data"
  start; healthy; stop
  "$fill" "$data" "$count" "$STARTUP_DAYS"
  echo "$count" > "$data/.filled"
fi
if [ ! -f "$data/.filled" ]; then
  rm -rf "$data"
  start; healthy
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
# A timed start: prints how long until /healthz and the report answered 200.
timed_start() {
  [ "${STARTUP_COLD:-}" = 1 ] && sync && echo 3 > /proc/sys/vm/drop_caches
  t0=$(ms); start "${2:-warn}"
  until curl -sf "$base/healthz" >/dev/null; do sleep 0.01; done
  t1=$(ms)
  until body=$(curl -sf -H "Authorization: Bearer $token" "$base/api/v1/sites/demo-clinic/report"); do
    sleep 0.01
  done
  t2=$(ms)
  respondents=$(printf '%s' "$body" | python3 -c 'import json,sys; print(sum(g.get("respondents", 0) for g in json.load(sys.stdin)["groups"]))')
  echo "start $1: /healthz 200 after $((t1 - t0)) ms, report 200 after $((t2 - t0)) ms (respondents: $respondents)"
}
for r in $(seq "$rounds"); do
  timed_start "$r"
  stop
done
if [ -n "${STARTUP_KILL:-}" ]; then
  start; healthy
  wrk -t2 -c64 -d"$((STARTUP_KILL + 5))s" -s bench/submit-mixed.lua "$base" >/dev/null &
  load=$!
  sleep "$STARTUP_KILL"
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=
  kill "$load" 2>/dev/null; wait "$load" 2>/dev/null || true
  timed_start "after kill -9 under load" info
  sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -o 'read again days=[0-9]* repaired=[0-9]*' |
    sed 's/^/  the marked days /' || true
  stop
fi
