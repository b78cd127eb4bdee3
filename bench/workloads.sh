#!/usr/bin/env bash
# The write path, every demo workload: durable JSON submissions at concurrency 64 (wrk -t2 -c64,
# release build, 2 workers, on the same cores as the server), each on a fresh data directory
# after a 2 s warm-up, printed with the calibration prototype measured in the same run
# (examples/calibration.rs: actix JSON, one rhai rule, one sled insert, the group commit) and
# each workload's share of it:
#   typical patient   — tags only (bench/submit-typical.lua)
#   provider          — tags and a practice-manager task (bench/submit.lua)
#   patient, webhook  — tags, a call-back task and a help-desk webhook (bench/submit-patient.lua),
#                       deliveries paused (deliver_webhooks = false)
#   … delivering      — the same while a loopback receiver (examples/webhook_receiver.rs) takes
#                       the deliveries
# Usage: bench/workloads.sh [seconds] [rounds]   (needs wrk; CHORUS_BIN=another build to compare)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
rounds=${2:-1}
cargo build --release -q --bin chorus --example calibration --example webhook_receiver
out=${CARGO_TARGET_DIR:-target}/release
tmp=$(mktemp -d)
pids=
trap 'kill $pids 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
port=18087 rport=19091
export DEMO_HELPDESK_SECRET="whsec_$(head -c 24 /dev/urandom | base64)"
cp -r sites "$tmp/sites"
sed -i "s|http://127.0.0.1:9000/hooks/chorus|http://127.0.0.1:$rport/hooks/chorus|" \
  "$tmp/sites/demo-clinic/site.toml"
"$out/examples/webhook_receiver" $rport >/dev/null 2>&1 & rpid=$!
pids=$rpid

# Starts a server (the command given) on $port, waits for it, loads it, stops it; prints
# "requests/s p99".
load() {
  local path=$1 script=$2; shift 2
  rm -rf "$tmp/data"
  "$@" >/dev/null 2>&1 &
  local pid=$!
  pids="$rpid $pid"
  for _ in $(seq 200); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.05
  done
  wrk -t2 -c64 -d2s -s "$script" "http://127.0.0.1:$port$path" >/dev/null
  local result
  result=$(wrk -t2 -c64 -d"${secs}s" --latency -s "$script" "http://127.0.0.1:$port$path")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  pids=$rpid
  echo "$result" | awk '/ 99%/ { p99 = $2 } /Requests\/sec/ { rps = $2 }
    / [0-9]+ requests in/ { n = $1 } /Non-2xx/ { bad = $4 }
    END { printf "%.0f %s %s\n", rps, p99, bad + 0 }'
}
chorus() {  # $1 = deliver_webhooks
  printf 'deliver_webhooks = %s\nwebhook_allow_private = ["127.0.0.1/32"]\n' "$1" > "$tmp/chorus-$1.toml"
  echo env CHORUS_LOG=warn "${CHORUS_BIN:-$out/chorus}" serve --config "$tmp/chorus-$1.toml" \
    --bind 127.0.0.1:$port --data "$tmp/data" --sites "$tmp/sites" --workers 2
}
api=/api/v1/sites/demo-clinic/surveys
# shellcheck disable=SC2046
for round in $(seq "$rounds"); do
  read -r c_rps c_p99 c_bad < <(load / bench/submit-typical.lua \
    "$out/examples/calibration" $port "$tmp/data")
  echo "round $round: calibration prototype        $c_rps/s  p99 $c_p99  (non-2xx $c_bad)"
  row() {
    local name=$1 path=$2 script=$3 deliver=$4 rps p99 bad
    read -r rps p99 bad < <(load "$path" "$script" $(chorus "$deliver"))
    printf 'round %s: %-28s %s/s  p99 %s  (non-2xx %s)  %s %% of calibration\n' "$round" "$name" \
      "$rps" "$p99" "$bad" "$(awk -v a="$rps" -v b="$c_rps" 'BEGIN { printf "%.0f", 100 * a / b }')"
  }
  row "typical patient (tags)" "$api/patient-enrollment/responses" bench/submit-typical.lua false
  row "provider (task)" "$api/provider-enrollment/responses" bench/submit.lua false
  row "patient (task+webhook)" "$api/patient-enrollment/responses" bench/submit-patient.lua false
  row "patient, delivering" "$api/patient-enrollment/responses" bench/submit-patient.lua true
done
read -r ids requests bad < <(curl -s http://127.0.0.1:$rport/count)
echo "receiver: $ids webhook-ids, $requests requests, $bad bad signatures"
