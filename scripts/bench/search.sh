#!/usr/bin/env bash
# Search section of docs/benchmarks.md: FAISS in-process on 100k × 384 float32 vectors (Flat and
# HNSW32: build time, resident memory, queries/s for batches of 1 and 64, recall@10 vs Flat).
# Builds nothing: run after `swift build -c release --product Bench`.
# Extra arguments go to `Bench search`, e.g. `--vectors real.npy`, `--write-vectors /tmp/v.npy`
# (dumps base, queries and Flat top-10 for the HTTP replay), `--json /tmp/search.json`.
set -euo pipefail
cd "$(dirname "$0")/../.."
echo "## Search (FAISS)"
echo
echo "Command: \`scripts/bench/search.sh\` (release build; \`.build/release/Bench search $*\`)."
echo
.build/release/Bench search "$@"
