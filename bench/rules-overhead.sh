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
url="http://127.0.0.1:18083/api/v1/sites/demo-clinic/surveys/$survey/responses"
ticks=$(getconf CLK_TCK)

# One run: prints "requests/s p99 cpu-µs-per-request".
run() {
  local sites=sites
  [ "$1" = off ] && sites="$tmp/off"
  rm -rf "$tmp/data"
  CHORUS_LOG=warn "$bin" serve --bind 127.0.0.1:18083 --data "$tmp/data" --sites "$sites" \
    --workers 2 --config "$tmp/chorus.toml" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:18083/healthz >/dev/null && break; sleep 0.1; done
  wrk -t2 -c64 -d2s -s "$script" "$url" >/dev/null   # warm-up: per-thread script copies, caches
  local before out after
  before=$(awk '{print $14+$15}' /proc/$pid/stat)
  out=$(wrk -t2 -c64 -d"${secs}s" --latency -s "$script" "$url")
  after=$(awk '{print $14+$15}' /proc/$pid/stat)
  kill $pid; wait $pid 2>/dev/null || true
  echo "$out" | awk -v t=$((after - before)) -v hz="$ticks" '
    /requests in/ { n = $1 } / 99%/ { p99 = $2 } /Requests\/sec/ { rps = $2 }
    END { printf "%.0f %s %.0f\n", rps, p99, t / hz * 1e6 / n }'
}

ratios=()
for i in $(seq "$rounds"); do
  read -r off_rps off_p99 off_cpu < <(run off)
  read -r on_rps on_p99 on_cpu < <(run on)
  ratio=$(awk -v a="$on_rps" -v b="$off_rps" 'BEGIN { printf "%.1f", 100 * a / b }')
  ratios+=("$ratio")
  echo "round $i: rules off $off_rps/s (p99 $off_p99, $off_cpu µs CPU/request)" \
    "| on $on_rps/s (p99 $on_p99, $on_cpu µs CPU/request) | kept $ratio %"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
echo "median kept: $median % ($script, $rounds rounds of ${secs}s)"
