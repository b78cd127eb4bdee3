#!/usr/bin/env bash
# Page benchmark: GET of a survey form (a fresh submission id each time) against a release build.
# Usage: bench/form-page.sh [seconds] [path]   (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
path=${2:-/s/demo-clinic/patient-enrollment}
cargo build --release -q
bin=${CARGO_TARGET_DIR:-target}/release/chorus
data=$(mktemp -d)
port=18081
CHORUS_LOG=warn "$bin" serve --bind 127.0.0.1:$port --data "$data" --workers 2 >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
echo "page size: $(curl -s "http://127.0.0.1:$port$path" | wc -c) bytes"
wrk -t2 -c32 -d"${secs}s" --latency "http://127.0.0.1:$port$path"
