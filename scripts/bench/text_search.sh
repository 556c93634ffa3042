#!/usr/bin/env bash
# Text-search section of docs/benchmarks.md: a release `swejepa serve` over the Python standard library
# (ingested as `make run` does, embedded at layer 3 as sig_mean and body_mean with the default teacher),
# then scripts/bench/text_search.py: latency of one-text searches (k = 10), split into embedding
# (`POST /v1/embed`) and search (`POST …/search` with the vector), beside the one-call text search.
# TEXT_BENCH_DIRS (e.g. "json email http") ingests only those stdlib packages, for a quicker run.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=.build/release/swejepa
data=$(mktemp -d)
mkdir -p "$data/models"
ln -s "$PWD/.cache/models/all-MiniLM-L6-v2" "$data/models/all-MiniLM-L6-v2"
stdlib=$(python3 -c "import sysconfig; print(sysconfig.get_paths()['stdlib'])")
port=$((20000 + RANDOM % 10000))
server="http://127.0.0.1:$port"
"$bin" serve --data "$data" --port "$port" --ingest-root "$stdlib" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -fs "$server/healthz" >/dev/null && break; sleep 0.1; done
start=$(date +%s)
if [ -n "${TEXT_BENCH_DIRS:-}" ]; then
  for d in $TEXT_BENCH_DIRS; do
    "$bin" ingest "$stdlib/$d" --repo "stdlib-$d" --skip-dirs test,tests --on-server --server "$server" >/dev/null 2>&1
  done
  corpus="stdlib packages: $TEXT_BENCH_DIRS"
else
  "$bin" ingest "$stdlib" --repo stdlib --split-top-level --skip-dirs test,tests,idle_test --on-server --server "$server" >/dev/null 2>&1
  corpus="the standard library (as \`make run\` ingests it)"
fi
"$bin" embed --layers 3 --kinds sig_mean,body_mean --server "$server" >/dev/null 2>&1
echo "Command: \`scripts/bench/text_search.sh\`${TEXT_BENCH_DIRS:+ with TEXT_BENCH_DIRS=\"$TEXT_BENCH_DIRS\"} (corpus: $corpus; ingest + embed took $(( $(date +%s) - start )) s; load average $(cut -d' ' -f1-3 /proc/loadavg))."
echo
python3 scripts/bench/text_search.py "$server" all-MiniLM-L6-v2.L3
