# Sourced by the alternating benchmarks (rules-overhead.sh, compare-builds.sh).
set -euo pipefail

# One measured run on a fresh data directory: starts `BIN serve` with the extra serve
# arguments, warms up, runs wrk -c64 for SECS seconds, stops the server, and prints
# "requests/s p99 cpu-µs-per-request" (the server's CPU time, user + system, per request).
# Usage: measure BIN PORT URL_PATH LUA_SCRIPT SECS DATA_DIR [serve args...]
measure() {
  local bin=$1 port=$2 path=$3 script=$4 secs=$5 data=$6
  shift 6
  local url="http://127.0.0.1:$port$path"
  rm -rf "$data"
  CHORUS_LOG=warn "$bin" serve --bind "127.0.0.1:$port" --data "$data" --workers 2 \
    "$@" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  wrk -t2 -c64 -d2s -s "$script" "$url" >/dev/null   # warm-up: per-thread script copies, caches
  local before out after
  before=$(awk '{print $14+$15}' "/proc/$pid/stat")
  out=$(wrk -t2 -c64 -d"${secs}s" --latency -s "$script" "$url")
  after=$(awk '{print $14+$15}' "/proc/$pid/stat")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$out" | awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" '
    /requests in/ { n = $1 } / 99%/ { p99 = $2 } /Requests\/sec/ { rps = $2 }
    END { printf "%.0f %s %.0f\n", rps, p99, t / hz * 1e6 / n }'
}

# The median of the numbers given.
median() {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# Runs `run A` and `run B` (a function of the caller's) alternately ROUNDS times, since a shared
# machine drifts between runs; prints each round and sets MEDIAN_KEPT, the median share of A's
# throughput that B keeps.  Usage: alternate ROUNDS NAME_A A NAME_B B
alternate() {
  local rounds=$1 name_a=$2 a=$3 name_b=$4 b=$5 ratios=() i ratio
  local a_rps a_p99 a_cpu b_rps b_p99 b_cpu
  for i in $(seq "$rounds"); do
    read -r a_rps a_p99 a_cpu < <(run "$a")
    read -r b_rps b_p99 b_cpu < <(run "$b")
    ratio=$(awk -v x="$b_rps" -v y="$a_rps" 'BEGIN { printf "%.1f", 100 * x / y }')
    ratios+=("$ratio")
    echo "round $i: $name_a $a_rps/s (p99 $a_p99, $a_cpu µs CPU/request)" \
      "| $name_b $b_rps/s (p99 $b_p99, $b_cpu µs CPU/request) | kept $ratio %"
  done
  MEDIAN_KEPT=$(median "${ratios[@]}")
}
