#!/usr/bin/env bash
# HTTP section of docs/benchmarks.md: keep-alive latency and throughput (wrk), function ingest and
# vector upload rates (Python client). Needs `swift build -c release`.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/serve.sh
echo "## HTTP service"
echo
echo "Command: \`scripts/bench/http.sh\` (release build; wrk and the Python client run on the same 2-core machine as the server)."
echo
echo "| wrk run | req/s | p50 | p99 |"
echo "|---|---|---|---|"
for spec in "1 1" "2 32"; do
  set -- $spec
  out=$(wrk -t"$1" -c"$2" -d5s --latency "http://127.0.0.1:$port/healthz")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  echo "| GET /healthz keep-alive, $2 connection(s), $1 thread(s) | $rps | $p50 | $p99 |"
done
echo
python3 scripts/bench/http_bench.py "http://127.0.0.1:$port"
echo
