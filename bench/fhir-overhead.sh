#!/usr/bin/env bash
# Cost of the FHIR endpoint: the demo patient survey's answers posted as JSON to
# /api/v1/.../responses (bench/submit-patient.lua) versus the same answers as a FHIR
# QuestionnaireResponse to /fhir/r4/QuestionnaireResponse (bench/submit-fhir.lua), both durable
# and through the same pipeline. Alternates the two `rounds` times (a shared machine drifts
# between runs) and prints every run, the server's CPU time per request, and the median share
# of the JSON API's throughput the FHIR endpoint keeps.
# Usage: bench/fhir-overhead.sh [seconds] [rounds]   (needs wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
rounds=${2:-3}
cargo build --release -q --bin chorus
bin=${CARGO_TARGET_DIR:-target}/release/chorus
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
. bench/measure.sh

# One run: prints "requests/s p99 cpu-µs-per-request".
run() {
  if [ "$1" = fhir ]; then
    measure "$bin" 18084 /fhir/r4/QuestionnaireResponse bench/submit-fhir.lua "$secs" "$tmp/data"
  else
    measure "$bin" 18084 /api/v1/sites/demo-clinic/surveys/patient-enrollment/responses \
      bench/submit-patient.lua "$secs" "$tmp/data"
  fi
}

# The FHIR body must be accepted before it is measured (wrk counts what is not 2xx).
CHORUS_LOG=warn "$bin" serve --bind 127.0.0.1:18084 --data "$tmp/check" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:18084/healthz >/dev/null && break; sleep 0.1; done
check=$(wrk -t1 -c1 -d1s -s bench/submit-fhir.lua http://127.0.0.1:18084/fhir/r4/QuestionnaireResponse)
kill "$pid"; wait "$pid" 2>/dev/null || true
if echo "$check" | grep -q "Non-2xx"; then
  echo "bench/submit-fhir.lua is refused by the server; fix it first:" >&2
  echo "$check" >&2
  exit 1
fi

alternate "$rounds" "JSON API" json FHIR fhir
echo "median kept: $MEDIAN_KEPT % (FHIR against the JSON API, $rounds rounds of ${secs}s)"
