#!/usr/bin/env bash
# Training section of docs/benchmarks.md: sig_predictor at the default size (D 384, d_model 512,
# 8 heads, FFN 2048, 2 blocks, batch 64 × 32 tokens), the mean-pool MLP (hidden 1024) and the
# token_decoder (the same encoder + 1 cross-attention decoder block over 64 target tokens):
# examples/s, achieved GFLOP/s of forward + backward next to sgemm on the same shapes, peak memory —
# without and with an InfoNCE negative queue (QUEUES, default "0 1024 4096").
# The sig_predictor row without a queue also runs the same model in PyTorch
# (scripts/reference/training_torch.py), alternating ROUNDS (default 3) rounds of STEPS steps of each:
# the interpreter is $SWEJEPA_TORCH_PYTHON, else `python3` when it can import torch; without one the
# PyTorch column is skipped with a note (torch is never installed by the Makefile).
# Needs `swift build -c release --product Bench`.
set -euo pipefail
cd "$(dirname "$0")/../.."
torch_python=${SWEJEPA_TORCH_PYTHON:-}
if [ -z "$torch_python" ] && python3 -c 'import torch' >/dev/null 2>&1; then torch_python=python3; fi
echo "## Training"
echo
if [ -n "$torch_python" ]; then
    echo "PyTorch side: \`$torch_python scripts/reference/training_torch.py\` ($("$torch_python" -c 'import torch; print("torch", torch.__version__)'))."
    echo "Same model against the numpy/autograd fixture our tests use (\`--check\`):"
    echo
    echo '```'
    "$torch_python" scripts/reference/training_torch.py --check || true
    echo '```'
else
    echo "_torch not installed: PyTorch column skipped_ (set SWEJEPA_TORCH_PYTHON to an interpreter with torch)."
fi
echo
for model in "" --mlp --token-decoder; do
    for q in ${QUEUES:-0 1024 4096}; do
        extra=()
        if [ -z "$model" ] && [ "$q" = 0 ] && [ -n "$torch_python" ]; then
            extra=(--torch "$torch_python" --rounds "${ROUNDS:-3}")
        fi
        echo "Command: \`.build/release/Bench training --steps ${STEPS:-5} --queue $q${model:+ $model}${extra[*]:+ ${extra[*]}}\`"
        echo
        .build/release/Bench training --steps "${STEPS:-5}" --queue "$q" $model "${extra[@]}"
        echo
    done
done
