#!/usr/bin/env bash
# Cost of the rules: durable submissions with the demo site's plugins and rule, versus the same
# site with none. Usage: bench/rules-overhead.sh [seconds] [lua script]   (needs wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
script=${2:-bench/submit-patient.lua}
survey=provider-enrollment
grep -q '"aware"' "$script" && survey=patient-enrollment
cargo build --release -q --bin chorus
bin=${CARGO_TARGET_DIR:-target}/release/chorus
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/off" && cp -r sites/demo-clinic "$tmp/off/" && rm -rf "$tmp/off/demo-clinic/rules"
sed -i 's/^plugins = .*/plugins = []/; /^\[plugin_settings/,/^$/d' "$tmp/off/demo-clinic/site.toml"
for mode in off on; do
  sites=sites; [ $mode = off ] && sites="$tmp/off"
  CHORUS_LOG=warn "$bin" serve --bind 127.0.0.1:18083 --data "$tmp/data-$mode" --sites "$sites" \
    --workers 2 --config /dev/null >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:18083/healthz >/dev/null && break; sleep 0.1; done
  echo "== rules $mode ($script)"
  wrk -t2 -c64 -d"${secs}s" --latency -s "$script" \
    "http://127.0.0.1:18083/api/v1/sites/demo-clinic/surveys/$survey/responses" | grep -E "Requests/sec| 99%"
  kill $pid; wait $pid 2>/dev/null || true
done
