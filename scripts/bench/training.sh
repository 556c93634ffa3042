#!/usr/bin/env bash
# Training section of docs/benchmarks.md: sig_predictor at the default size (D 384, d_model 512,
# 8 heads, FFN 2048, 2 blocks, batch 64 × 32 tokens), the mean-pool MLP (hidden 1024) and the
# token_decoder (the same encoder + 1 cross-attention decoder block over 64 target tokens):
# examples/s, achieved GFLOP/s of forward + backward next to sgemm on the same shapes, peak memory —
# without and with an InfoNCE negative queue (QUEUES, default "0 1024 4096").
# Needs `swift build -c release --product Bench`.
set -euo pipefail
cd "$(dirname "$0")/../.."
echo "## Training"
echo
for model in "" --mlp --token-decoder; do
    for q in ${QUEUES:-0 1024 4096}; do
        echo "Command: \`.build/release/Bench training --steps ${STEPS:-5} --queue $q${model:+ $model}\`"
        echo
        .build/release/Bench training --steps "${STEPS:-5}" --queue "$q" $model
        echo
    done
done
