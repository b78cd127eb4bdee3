#!/usr/bin/env bash
# Memory benchmark: fill the demo site with ~1,000,000 durable responses through the HTTP API,
# then report the server's resident memory. Usage: bench/memory.sh [target_count] [lua script]
# (default: the provider body, which opens a practice-manager task for every response)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-1000000}
script=${2:-bench/submit.lua}
survey=provider-enrollment
grep -q '"aware"' "$script" && survey=patient-enrollment
cargo build --release -q
bin=${CARGO_TARGET_DIR:-target}/release/chorus
data=$(mktemp -d)
port=18081
CHORUS_LOG=warn "$bin" serve --bind 127.0.0.1:$port --data "$data" --workers 2 >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$port/api/v1/sites/demo-clinic/surveys/$survey/responses"
count=0
while [ "$count" -lt "$target" ]; do
  wrk -t2 -c64 -d30s -s "$script" "$url" | grep -E "Requests/sec|requests in"
  count=$(curl -s -H "Authorization: Bearer $(cat "$data/initial-admin-token")" http://127.0.0.1:$port/metrics | awk '/^chorus_responses_stored_total/ {s+=$2} END {print s+0}')
  echo "stored: $count   RSS: $(ps -o rss= -p $pid) KiB"
done
echo "final: $count responses stored, server RSS $(ps -o rss= -p $pid) KiB, data dir $(du -sh "$data" | cut -f1)"
