#!/usr/bin/env bash
# Real embeddings for the Chroma section: a release `swejepa serve` ingests the Python standard library
# (as `make run` does), embeds it at layer 3 as body_mean with the default teacher, and writes
# $BENCH_WORK/stdlib.npy (distinct vectors) and stdlib.queries.npy (1,000 of them held out, seed 0).
# CHROMA_STDLIB_DIRS (e.g. "json email http") ingests only those packages, for a quicker run.
# Prints nothing on stdout; `scripts/bench/chroma.sh` runs it when stdlib.npy is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${BENCH_WORK:-/tmp/swejepa-bench}
bin=.build/release/swejepa
data=$(mktemp -d)
mkdir -p "$data/models" "$work"
ln -s "$PWD/.cache/models/all-MiniLM-L6-v2" "$data/models/all-MiniLM-L6-v2"
stdlib=$(python3 -c "import sysconfig; print(sysconfig.get_paths()['stdlib'])")
port=$((20000 + RANDOM % 10000))
server="http://127.0.0.1:$port"
"$bin" serve --data "$data" --port "$port" --ingest-root "$stdlib" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -fs "$server/healthz" >/dev/null && break; sleep 0.1; done
if [ -n "${CHROMA_STDLIB_DIRS:-}" ]; then
  for d in $CHROMA_STDLIB_DIRS; do
    "$bin" ingest "$stdlib/$d" --repo "stdlib-$d" --skip-dirs test,tests --on-server --server "$server" >/dev/null 2>&1
  done
else
  "$bin" ingest "$stdlib" --repo stdlib --split-top-level --skip-dirs test,tests,idle_test --on-server --server "$server" >/dev/null 2>&1
fi
"$bin" embed --layers 3 --kinds body_mean --server "$server" >/dev/null 2>&1
python3 - "$server" "$work" <<'EOF'
import io, sys
import numpy as np, requests
server, work = sys.argv[1], sys.argv[2]
z = np.load(io.BytesIO(requests.get(f"{server}/v1/spaces/all-MiniLM-L6-v2.L3.body_mean/vectors",
                                    params={"format": "npz"}).content))
v = np.unique(z["vectors"].astype(np.float32), axis=0)
held = np.random.default_rng(0).permutation(len(v))
q = min(1000, len(v) // 10)
np.save(f"{work}/stdlib.queries.npy", v[held[:q]])
np.save(f"{work}/stdlib.npy", v[np.sort(held[q:])])
print(f"{len(z['vectors'])} vectors, {len(v)} distinct, {q} held out as queries", file=sys.stderr)
EOF
