#!/usr/bin/env bash
# Teacher section of docs/benchmarks.md: forward-pass tokens/s and GFLOP/s of the built-in BERT
# (all-MiniLM-L6-v2) next to cblas_sgemm on the same shapes, tokenizer speed, and the time to embed
# standard-library functions (one layer, all four kinds). Needs `swift build -c release --product Bench`
# and the model (`make model`). Args are passed on: [--functions N] [--layer L] [--model DIR] [--stdlib DIR].
set -euo pipefail
cd "$(dirname "$0")/../.."
export SWEJEPA_MODEL_DIR="${SWEJEPA_MODEL_DIR:-$PWD/.cache/models/all-MiniLM-L6-v2}"
.build/release/Bench teacher "$@"
