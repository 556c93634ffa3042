#!/usr/bin/env bash
# `make bench`: builds release, runs every section and writes docs/benchmarks.md.
# Figures are from this (shared, noisy, 2-core) machine; compare ratios within one run.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product swejepa >/dev/null
swift build -c release --product Bench >/dev/null
out=docs/benchmarks.md
tmp=$(mktemp)
{
  echo "# Benchmarks"
  echo
  echo "Produced by \`make bench\` (scripts/bench.sh) on $(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), Swift $(swift --version 2>&1 | head -1 | sed 's/.*version \([0-9.]*\).*/\1/'), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} (the kernel OpenBLAS runs is printed in the sgemm section)."
  echo "Each section names the command that produced it; numbers in one section were measured side by side in one run."
  echo
  echo "## sgemm peak on model-sized shapes"
  echo
  echo "Command: \`.build/release/Bench sgemm\`"
  echo
  .build/release/Bench sgemm
  echo
  work=${BENCH_WORK:-/tmp/swejepa-bench}
  mkdir -p "$work"
  for section in ${SECTIONS:-http http_upload corpus search search_http chroma text_search teacher decoder training store}; do
    args=()
    [ "$section" = search ] && args=(--write-vectors "$work/vectors.npy" --json "$work/search.json")
    if [ -f "scripts/bench/$section.sh" ]; then
      bash "scripts/bench/$section.sh" "${args[@]}" || echo "_section $section failed_"
    fi
  done
} | tee "$tmp"
mv "$tmp" "$out"
echo "wrote $out"
