#!/usr/bin/env python3
"""Vector upload and download rates over HTTP against a running `swejepa serve` (issue 14's target):
100k × 384 float32 into a fresh space, end to end (request sent → 2xx after commit), as one `.npz`
request, as 10k-row `.npz` and `.npy` batches (ids in an `X-Ids` header), and as JSON (10k-row batches),
plus the whole-space `.npz` download. Every timed upload goes into a freshly created space, so rows are
inserted, not updated. Prints a Markdown table.

usage: http_upload.py BASE_URL [N] [REPEAT]"""
import io
import json
import os
import sys
import time

import numpy as np
import requests

base = sys.argv[1].rstrip("/")
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 3
dim, batch = 384, 10_000
s = requests.Session()
space = f"{base}/v1/spaces/bench.upload"


server_pid = os.environ.get("SERVER_PID")


def server_cpu():
    """The server's CPU seconds so far (user + system), or 0 without SERVER_PID: a rate's cost in
    CPU, which a busy shared machine does not inflate the way it inflates wall time."""
    if not server_pid:
        return 0.0
    with open(f"/proc/{server_pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ingest():
    """n functions in 10k batches (their ids are what the vectors attach to)."""
    ids = []
    for k in range(0, n, batch):
        fns = [{"repo": "upload", "path": f"m{i % 97}.py", "qualified_name": f"f_{i}", "start_line": 1, "end_line": 2,
                "signature": f"def f_{i}():", "body": "    pass\n"} for i in range(k, min(n, k + batch))]
        r = s.post(f"{base}/v1/functions", json={"functions": fns})
        r.raise_for_status()
        ids += r.json()["ids"]
    return np.array(ids, dtype=np.int64)


def fresh_space():
    s.delete(space)
    s.post(f"{base}/v1/spaces", json={"name": "bench.upload", "kind": "body_mean", "dim": dim}).raise_for_status()


def timed(requests_):
    """Best of `repeat` runs (each into a fresh space) of sending every (headers, body) in order, and
    the server's CPU seconds in that best run."""
    times, cpus = [], []
    for _ in range(repeat):
        fresh_space()
        c = server_cpu()
        t = time.perf_counter()
        for headers, body in requests_:
            r = s.put(f"{space}/vectors", data=body, headers=headers)
            if r.status_code // 100 != 2:
                raise SystemExit(f"upload failed: {r.status_code} {r.text[:300]}")
        times.append(time.perf_counter() - t)
        cpus.append(server_cpu() - c)
    return min(times), times, cpus[times.index(min(times))]


def npz(ids, v):
    b = io.BytesIO()
    np.savez(b, ids=ids, vectors=v)
    return b.getvalue()


def npy(v):
    b = io.BytesIO()
    np.save(b, v)
    return b.getvalue()


ids = ingest()
v = np.random.default_rng(0).standard_normal((n, dim)).astype(np.float32)
mb = v.nbytes / 1e6
NPZ, NPY, JSON = {"Content-Type": "application/x-npz"}, {"Content-Type": "application/x-npy"}, {"Content-Type": "application/json"}
cases = [
    (f".npz, one request ({n:,} × {dim}, {len(npz(ids, v)) / 1e6:.0f} MB)", [(NPZ, npz(ids, v))]),
    (f".npz, {n // batch} requests × {batch:,} rows", [(NPZ, npz(ids[k:k + batch], v[k:k + batch])) for k in range(0, n, batch)]),
    (f".npy, {n // batch} requests × {batch:,} rows (ids in X-Ids)",
     [({**NPY, "X-Ids": ",".join(map(str, ids[k:k + batch]))}, npy(v[k:k + batch])) for k in range(0, n, batch)]),
]
rows = []
for name, reqs in cases:
    best, all_, cpu = timed(reqs)
    rows.append((f"upload {name}", f"{mb / best:,.0f} MB/s", f"{n / best:,.0f} vectors/s; runs {', '.join(f'{t:.2f}' for t in all_)} s; server CPU {cpu:.2f} s"))
# JSON: one 10k batch (the whole space as JSON text would pass the 256 MiB body limit).
js = json.dumps({"ids": ids[:batch].tolist(), "vectors": v[:batch].tolist()}).encode()
best, all_, cpu = timed([(JSON, js)])
rows.append((f"upload JSON, 1 request × {batch:,} rows", f"{v[:batch].nbytes / 1e6 / best:,.0f} MB/s (float32 equivalent)",
             f"{len(js) / best / 1e6:,.0f} MB/s of JSON text; runs {', '.join(f'{t:.2f}' for t in all_)} s; server CPU {cpu:.2f} s"))
# Download the whole space (after one more full upload).
fresh_space()
s.put(f"{space}/vectors", data=cases[0][1][0][1], headers=NPZ).raise_for_status()
times, cpus = [], []
for _ in range(repeat):
    c = server_cpu()
    t = time.perf_counter()
    r = s.get(f"{space}/vectors", params={"format": "npz"})
    r.raise_for_status()
    times.append(time.perf_counter() - t)
    cpus.append(server_cpu() - c)
    got = np.load(io.BytesIO(r.content))
    assert got["vectors"].shape == (n, dim) and np.array_equal(got["ids"], ids) and np.array_equal(got["vectors"], v)
rows.append((f"download .npz, whole space ({n:,} × {dim})", f"{mb / min(times):,.0f} MB/s",
             f"runs {', '.join(f'{t:.2f}' for t in times)} s; server CPU {cpus[times.index(min(times))]:.2f} s"))
s.delete(space)

print("| operation | rate | also |")
print("|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
