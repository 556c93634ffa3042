#!/usr/bin/env bash
# Decoder-teacher section of docs/benchmarks.md: our `Bench decoder` (GGUF → Float32 on OpenBLAS, output
# head never computed) next to PyTorch `transformers` on the same GGUF, the same token ids (8 × 128 and
# 2 × 512) and the same threads, in alternating rounds of fresh processes (decoder_side_by_side.py):
# tokens/s, ratio, share of sgemm, load times (first and cached), peak RSS, for SmolLM2-135M-Instruct and
# Qwen2.5-Coder-0.5B-Instruct (`make model-smollm2 model-qwen-coder`; a missing model is skipped).
#
# PyTorch is never installed by the Makefile: set SWEJEPA_TORCH_PYTHON to a Python with torch,
# transformers, gguf and accelerate (transformers needs it for GGUF files; e.g. a venv:
# `pip install torch transformers gguf accelerate`); else `python3` is used if it imports them; else the
# transformers column is skipped with a note.
# Env: ROUNDS (3), REPEATS (2 timed forwards per process after a warm-up), THREADS (2), LAYERS (all),
# BENCH_WORK (/tmp/swejepa-bench; caches and ids under $BENCH_WORK/decoder), DECODER_MODELS
# ("smollm2 qwen-coder"). Needs `swift build -c release --product Bench`.
set -euo pipefail
cd "$(dirname "$0")/../.."
torch="${SWEJEPA_TORCH_PYTHON:-}"
if [ -z "$torch" ] && python3 -c 'import torch, transformers, gguf, accelerate' >/dev/null 2>&1; then torch=python3; fi
declare -A paths=(
  [smollm2]=.cache/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf
  [qwen-coder]=.cache/models/Qwen2.5-Coder-0.5B-Instruct/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf
)
models=()
for m in ${DECODER_MODELS:-smollm2 qwen-coder}; do models+=("$m=$PWD/${paths[$m]}"); done
echo "## Decoder teacher next to PyTorch transformers"
echo
echo "Command: \`SWEJEPA_TORCH_PYTHON=… ROUNDS=${ROUNDS:-3} REPEATS=${REPEATS:-2} bash scripts/bench/decoder.sh\`" \
     "(release build; $(nproc) cores; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg))."
if [ -z "$torch" ]; then
  echo
  echo "_No Python with torch, transformers, gguf and accelerate found (set SWEJEPA_TORCH_PYTHON): transformers column skipped._"
fi
echo
python3 scripts/bench/decoder_side_by_side.py --bench .build/release/Bench --work "${BENCH_WORK:-/tmp/swejepa-bench}/decoder" \
  --torch "$torch" --rounds "${ROUNDS:-3}" --repeats "${REPEATS:-2}" --threads "${THREADS:-2}" --layers "${LAYERS:-0}" \
  "${models[@]}"
