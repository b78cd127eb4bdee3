#!/usr/bin/env bash
# Load benchmark: durable JSON submissions at concurrency 64 against a release build.
# Usage: bench/run.sh [seconds] [survey]   (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
survey=${2:-provider-enrollment}
script=bench/submit.lua
[ "$survey" = patient-enrollment ] && script=bench/submit-patient.lua
cargo build --release -q
bin=${CARGO_TARGET_DIR:-target}/release/chorus
data=$(mktemp -d)
port=18080
CHORUS_LOG=warn "$bin" serve --bind 127.0.0.1:$port --data "$data" --workers 2 >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
wrk -t2 -c64 -d"${secs}s" --latency -s "$script" \
  "http://127.0.0.1:$port/api/v1/sites/demo-clinic/surveys/$survey/responses"
echo "server RSS: $(ps -o rss= -p $pid) KiB"
