#!/usr/bin/env bash
# Text-search section of docs/benchmarks.md: a release `swejepa serve` over the Python standard library
# (ingested as `make run` does, embedded at layer 3 as sig_mean and body_mean with the default teacher),
# then scripts/bench/text_search.py: latency of one-text searches (k = 10) beside vector searches with
# the same functions' stored vectors; embedding time is the difference of their medians.
# TEXT_BENCH_DIRS (e.g. "json email http") ingests only those stdlib packages, for a quicker run.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
STDLIB_DIRS=${TEXT_BENCH_DIRS:-} EMBED_KINDS=sig_mean,body_mean source scripts/bench/stdlib_server.sh
corpus=$stdlib_corpus
echo "Command: \`scripts/bench/text_search.sh\`${TEXT_BENCH_DIRS:+ with TEXT_BENCH_DIRS=\"$TEXT_BENCH_DIRS\"} (corpus: $corpus; ingest + embed took $(( $(date +%s) - start )) s; load average $(cut -d' ' -f1-3 /proc/loadavg))."
echo
python3 scripts/bench/text_search.py "$server" all-MiniLM-L6-v2.L3
