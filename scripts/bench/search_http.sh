#!/usr/bin/env bash
# HTTP half of the search section: replays the data set that `Bench search --write-vectors` wrote
# (run by scripts/bench/search.sh in the same `make bench`) against a fresh `swejepa serve`.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${BENCH_WORK:-/tmp/swejepa-bench}
[ -f "$work/vectors.npy" ] || { echo "_search_http: run scripts/bench/search.sh with --write-vectors first_"; exit 0; }
data=$(mktemp -d)
port=$((20000 + RANDOM % 10000))
.build/release/swejepa serve --data "$data" --port "$port" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
echo "Command: \`scripts/bench/search_http.sh\` (after \`scripts/bench/search.sh --write-vectors $work/vectors.npy --json $work/search.json\`)."
echo
python3 scripts/bench/search_http.py "http://127.0.0.1:$port" "$work/vectors.npy" "$work/search.json"
