#!/usr/bin/env bash
# Training section of docs/benchmarks.md: sig_predictor at the default size (D 384, d_model 512,
# 8 heads, FFN 2048, 2 blocks, batch 64 × 32 tokens): examples/s, achieved GFLOP/s of forward +
# backward next to sgemm on the same shapes, peak memory. Needs `swift build -c release --product Bench`.
set -euo pipefail
cd "$(dirname "$0")/../.."
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}"
echo "## Training"
echo
echo "Command: \`.build/release/Bench training --steps ${STEPS:-5}\`"
echo
.build/release/Bench training --steps "${STEPS:-5}"
echo
