#!/usr/bin/env bash
# Crash-cycle soak: CYCLES times, mixed durable submissions against the release binary (half
# of them a patient who failed to enrol and asked for a call back: a task and a help-desk
# webhook each; every request with its own submission id), then `kill -9` in the middle of
# the load. After every restart, every acknowledged response must be stored exactly once and
# every follow-up it reported must exist (tasks through the follow-ups API, webhooks through
# the deliveries API); requests that failed at the kill are retried with the same submission
# id. At the end, the stopped server's `chorus export --format jsonl` is checked the same
# way. Exit status 1 on any loss or duplicate.
# Usage: bench/soak.sh [cycles=20] [seconds of load per cycle=6] [clients=16]
set -euo pipefail
cd "$(dirname "$0")/.."
cycles=${1:-20}
secs=${2:-6}
clients=${3:-16}
cargo build --release -q --bin chorus --example webhook_receiver
out=${CARGO_TARGET_DIR:-target}/release
tmp=$(mktemp -d)
state="$tmp/state" && mkdir -p "$state"
rport=19391; cport=18391
base="http://127.0.0.1:$cport"
export DEMO_HELPDESK_SECRET="whsec_$(head -c 24 /dev/urandom | base64)"
cp -r sites "$tmp/sites"
sed -i "s|http://127.0.0.1:9000/hooks/chorus|http://127.0.0.1:$rport/hooks/chorus|" "$tmp/sites/demo-clinic/site.toml"
echo 'webhook_allow_private = ["127.0.0.1/32"]' > "$tmp/chorus.toml"
"$out/examples/webhook_receiver" $rport >/dev/null 2>&1 & rpid=$!
cpid=""
# errexit holds inside the trap too: every step must succeed or the rest (the receiver) is left.
trap '[ -z "$cpid" ] || kill -9 $cpid 2>/dev/null || true; kill $rpid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT

serve() {
  CHORUS_LOG=warn "$out/chorus" serve --config "$tmp/chorus.toml" --bind 127.0.0.1:$cport \
    --data "$tmp/data" --sites "$tmp/sites" --workers 2 >>"$tmp/serve.log" 2>&1 &
  cpid=$!
  for _ in $(seq 300); do
    curl -sf "$base/healthz" >/dev/null && return 0
    kill -0 $cpid 2>/dev/null || break
    sleep 0.1
  done
  echo "the server did not start; its log:" >&2; tail -20 "$tmp/serve.log" >&2; exit 1
}

started=$(date +%s)
for cycle in $(seq "$cycles"); do
  serve
  token=$(tr -d '\n' < "$tmp/data/initial-admin-token")
  if [ "$cycle" -gt 1 ]; then
    printf 'cycle %2d, after restart: ' "$((cycle - 1))"
    python3 bench/soak_client.py verify "$base" "$token" "$state"
  fi
  python3 bench/soak_client.py load "$base" "$secs" "$clients" "$state" > "$tmp/load.json" &
  lpid=$!
  # The kill comes at a random moment of the second half of the load.
  sleep "$(python3 -c "import random; print($secs * random.uniform(0.5, 0.95))")"
  kill -9 $cpid; wait $cpid 2>/dev/null || true
  wait $lpid
  echo "cycle $cycle load: $(cat "$tmp/load.json")"
done

# Last restart: retry what failed at the last kill, check, stop cleanly, check the export.
serve
token=$(tr -d '\n' < "$tmp/data/initial-admin-token")
printf 'cycle %2d, after restart: ' "$cycles"
python3 bench/soak_client.py verify "$base" "$token" "$state"
python3 bench/soak_client.py load "$base" 0 "$clients" "$state" > "$tmp/load.json"
echo "retries after the last kill: $(cat "$tmp/load.json")"
printf 'final, through the API:   '
python3 bench/soak_client.py verify "$base" "$token" "$state"
kill -TERM $cpid; wait $cpid 2>/dev/null || true
cpid=""
"$out/chorus" export --site demo-clinic --format jsonl --data "$tmp/data" --sites "$tmp/sites" \
  --config "$tmp/chorus.toml" > "$tmp/export.jsonl" 2>/dev/null
printf 'final, through the export: '
python3 bench/soak_client.py verify-export "$tmp/export.jsonl" "$state"
echo "delivered to the help desk (distinct webhook-ids, requests, bad signatures): $(curl -s http://127.0.0.1:$rport/count)"
echo "soak: $cycles kill -9 cycles, $(( $(date +%s) - started )) s, no loss, no duplicate"
