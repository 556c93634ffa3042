#!/usr/bin/env bash
# Real embeddings for the Chroma section: a release `swejepa serve` ingests the Python standard library
# (as `make run` does), embeds it at layer 3 as body_mean with the default teacher, and writes
# $BENCH_WORK/stdlib.npy (distinct vectors) and stdlib.queries.npy (1,000 of them held out, seed 0).
# CHROMA_STDLIB_DIRS (e.g. "json email http") ingests only those packages, for a quicker run.
# Prints nothing on stdout; `scripts/bench/chroma.sh` runs it when stdlib.npy is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${BENCH_WORK:-/tmp/swejepa-bench}
mkdir -p "$work"
STDLIB_DIRS=${CHROMA_STDLIB_DIRS:-} EMBED_KINDS=body_mean source scripts/bench/stdlib_server.sh
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
