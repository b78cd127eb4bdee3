#!/usr/bin/env bash
# Cost of the rules: durable submissions with the demo site's plugins and rule, versus the same
# site with none. Runs the two alternately, `rounds` times each (a shared machine drifts between
# runs), and prints every run, the server's CPU time per request, and the median share kept.
# Usage: bench/rules-overhead.sh [seconds] [lua script] [rounds]   (needs wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
script=${2:-bench/submit-patient.lua}
rounds=${3:-3}
survey=provider-enrollment
grep -q '"aware"' "$script" && survey=patient-enrollment
cargo build --release -q --bin chorus
bin=${CARGO_TARGET_DIR:-target}/release/chorus
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/off" && cp -r sites/demo-clinic "$tmp/off/" && rm -rf "$tmp/off/demo-clinic/rules"
sed -i 's/^plugins = .*/plugins = []/; /^\[plugin_settings/,/^$/d' "$tmp/off/demo-clinic/site.toml"
# Only the demo help desk's loopback address, as the repository's chorus.toml allows.
echo 'webhook_allow_private = ["127.0.0.1/32"]' > "$tmp/chorus.toml"
path="/api/v1/sites/demo-clinic/surveys/$survey/responses"
. bench/measure.sh

# One run: prints "requests/s p99 cpu-µs-per-request".
run() {
  local sites=sites
  [ "$1" = off ] && sites="$tmp/off"
  measure "$bin" 18083 "$path" "$script" "$secs" "$tmp/data" --sites "$sites" \
    --config "$tmp/chorus.toml"
}

alternate "$rounds" "rules off" off on on
echo "median kept: $MEDIAN_KEPT % ($script, $rounds rounds of ${secs}s)"
