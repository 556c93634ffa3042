#!/usr/bin/env bash
# HTTP half of the search section: replays the data set that `Bench search --write-vectors` wrote
# (run by scripts/bench/search.sh in the same `make bench`) against a fresh `swejepa serve`.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${BENCH_WORK:-/tmp/swejepa-bench}
[ -f "$work/vectors.npy" ] || { echo "_search_http: run scripts/bench/search.sh with --write-vectors first_"; exit 0; }
source scripts/bench/serve.sh
echo "Command: \`scripts/bench/search_http.sh\` (after \`scripts/bench/search.sh --write-vectors $work/vectors.npy --json $work/search.json\`)."
echo
python3 scripts/bench/search_http.py "http://127.0.0.1:$port" "$work/vectors.npy" "$work/search.json"
