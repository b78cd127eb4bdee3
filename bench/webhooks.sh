#!/usr/bin/env bash
# Webhook delivery benchmark: a burst of 10,000 webhook actions delivered to a loopback receiver,
# and submission throughput with the delivery worker idle versus busy with that burst.
# Usage: bench/webhooks.sh [burst]   (needs wrk and ab: apt-get install wrk apache2-utils)
set -euo pipefail
cd "$(dirname "$0")/.."
burst=${1:-10000}
cargo build --release -q --bin chorus --example webhook_receiver
out=${CARGO_TARGET_DIR:-target}/release
tmp=$(mktemp -d)
export DEMO_HELPDESK_SECRET="whsec_$(head -c 24 /dev/urandom | base64)"
rport=19090; cport=18082
cp -r sites "$tmp/sites"
sed -i "s|http://127.0.0.1:9000/hooks/chorus|http://127.0.0.1:$rport/hooks/chorus|" "$tmp/sites/demo-clinic/site.toml"
"$out/examples/webhook_receiver" $rport & rpid=$!
pids="$rpid"
trap 'kill $pids 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
serve() {  # $1 = deliver_webhooks
  printf 'deliver_webhooks = %s\nwebhook_allow_private = ["127.0.0.1/32"]\n' "$1" > "$tmp/chorus.toml"
  CHORUS_LOG=warn "$out/chorus" serve --config "$tmp/chorus.toml" --bind 127.0.0.1:$cport \
    --data "$tmp/data" --sites "$tmp/sites" --workers 2 >/dev/null 2>&1 &
  cpid=$!; pids="$rpid $cpid"
  for _ in $(seq 100); do curl -sf http://127.0.0.1:$cport/healthz >/dev/null && break; sleep 0.1; done
}
api=http://127.0.0.1:$cport/api/v1/sites/demo-clinic/surveys
printf '%s' '{"answers":{"aware":"yes","tried":"yes","enrolled":"yes","what_happened":["error"],"contact_ok":"no"}}' > "$tmp/patient.json"

serve false
echo "== storing $burst responses that each ask for a help-desk webhook (deliveries paused)"
ab -q -n "$burst" -c 64 -p "$tmp/patient.json" -T application/json "$api/patient-enrollment/responses" | grep -E "Requests per second|Failed requests|Non-2xx"
echo "== submissions with the delivery worker off"
wrk -t2 -c64 -d10s -s bench/submit.lua "$api/provider-enrollment/responses" | grep -E "Requests/sec|99%" || true
kill $cpid; wait $cpid 2>/dev/null || true

serve true
start=$(date +%s.%N)
echo "== submissions while the worker delivers the burst"
wrk -t2 -c64 -d10s --latency -s bench/submit.lua "$api/provider-enrollment/responses" | grep -E "Requests/sec| 99%"
while :; do
  read -r ids requests bad < <(curl -s http://127.0.0.1:$rport/count)
  [ "$ids" -ge "$burst" ] && break
  sleep 0.2
done
end=$(date +%s.%N)
echo "== burst: $ids distinct webhook-ids delivered ($requests requests, $bad bad signatures) in $(echo "$end - $start" | bc) s after the restart"
