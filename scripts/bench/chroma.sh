#!/usr/bin/env bash
# Chroma section of docs/benchmarks.md (issue 19): the service over HTTP against Chroma embedded,
# side by side in one run, on the clustered 100k × 384 set that `Bench search --write-vectors`
# wrote (scripts/bench/search.sh, same `make bench`), and on real stdlib embeddings when
# $BENCH_WORK/stdlib.npy exists (scripts/bench/chroma_stdlib.sh writes it).
# chromadb comes from PyPI into .cache/venv-chroma; when it cannot be installed the section says so.
# Making stdlib.npy (ingest + embed of the standard library) takes ~12 min on 2 busy cores; CHROMA_STDLIB=0
# skips it, CHROMA_STDLIB_DIRS="json email http" makes a smaller set. CHROMA_BENCH_EF sets the ef ladder.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${BENCH_WORK:-/tmp/swejepa-bench}
echo "## The service against Chroma (recall vs queries/s, load time)"
echo
[ -f "$work/vectors.npy" ] || { echo "_chroma: run scripts/bench/search.sh with --write-vectors first_"; echo; exit 0; }
venv=.cache/venv-chroma
chroma_version=1.5.9
if ! "$venv/bin/python" -c "import chromadb, numpy, requests; assert chromadb.__version__ == '$chroma_version'" 2>/dev/null; then
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q "chromadb==$chroma_version" "numpy<3" requests; } >/dev/null 2>&1; then
    echo "_chroma: chromadb==$chroma_version could not be installed from PyPI into $venv; section skipped._"
    echo
    exit 0
  fi
fi
stdlib_note=""
if [ ! -f "$work/stdlib.npy" ] && [ "${CHROMA_STDLIB:-1}" != 0 ]; then
  t=$(date +%s)
  bash scripts/bench/chroma_stdlib.sh 2>"$work/stdlib.log" || echo "_chroma: making the stdlib embeddings failed ($work/stdlib.log)_"
  stdlib_note=" (stdlib embeddings made by \`scripts/bench/chroma_stdlib.sh\` in $(( $(date +%s) - t )) s: $(tail -1 "$work/stdlib.log"))"
fi
source scripts/bench/serve.sh
echo "Command: \`scripts/bench/chroma.sh\` (release \`swejepa serve\` on a fresh data directory; \`$venv/bin/python scripts/bench/chroma_bench.py\`; both systems and the Python client share this machine's cores)$stdlib_note."
echo
"$venv/bin/python" scripts/bench/chroma_bench.py "http://127.0.0.1:$port" "$work/vectors.npy" "$work/vectors.queries.npy" "$work/vectors.gt.npy" "clustered"
if [ -f "$work/stdlib.npy" ]; then
  "$venv/bin/python" scripts/bench/chroma_bench.py "http://127.0.0.1:$port" "$work/stdlib.npy" "$work/stdlib.queries.npy" - "stdlib"
fi
