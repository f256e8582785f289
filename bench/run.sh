#!/usr/bin/env bash
# Runs the microbenchmarks side by side with their reference programs and prints the
# medians and ratios as markdown (paste into bench/RESULTS.md with the date and machine).
#   bench/run.sh [BUILD_DIR] [REPETITIONS]
set -euo pipefail
build=${1:-build}
reps=${2:-7}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# Pin to one core when taskset is there: "messages per second on one core".
pin=()
command -v taskset > /dev/null && pin=(taskset -c 0)
"${pin[@]}" "$build/bench/sip_parse_bench" --benchmark_repetitions="$reps" \
  --benchmark_min_time=0.5 --benchmark_report_aggregates_only=true \
  --benchmark_format=json > "$out"
python3 "$here/report.py" "$out"
