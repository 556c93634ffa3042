#!/usr/bin/env python3
"""The service (over HTTP) against Chroma embedded, on one data set, side by side in one run.

usage: chroma_bench.py BASE_URL BASE.npy QUERIES.npy GT.npy|- LABEL

BASE.npy: (n, dim) float32 base vectors (row r is id r); QUERIES.npy: (q, dim) queries not in the
base; GT.npy: (q, 10) int64 exact cosine top-10 rows per query (`-`: computed here with numpy).
Runs under a Python that has chromadb (scripts/bench/chroma.sh makes the venv) and prints a
markdown subsection. Both systems use cosine, k = 10, the same queries and the same ground truth.

Load ($CHROMA_LOAD_ROUNDS rounds, default 3, both systems afresh in each, the order alternating;
the ratio per round and its median), the service: POST /v1/functions (one per vector), the space, PUT the vectors as .npz (20k
rows per request), POST index $CHROMA_BENCH_FACTORY (default HNSW32) with target_recall 0.95 (build + held-out recall calibration),
until GET .../index says it is calibrated, then one search. Load, Chroma: PersistentClient on a
fresh directory, collection (cosine, defaults otherwise: max_neighbors 16, ef_construction 100),
`add` in batches of the client's max batch size (Chroma builds its HNSW during add), then one query.

Search: for each ef in a ladder, both systems in turn (service first, then Chroma reopened with
that ef_search, because `collection.modify` does not reach an open embedded index): all queries in
batches of 64 (the service: one .npy body per request, `Accept: application/x-npz` answers, over a
keep-alive `http.client` connection per caller) with 1
caller and with 2 concurrent callers, and the first 200 queries one per call; recall@10 from the
batch-64 answers. Then, per target recall, the best queries/s among ef values that reach it."""
import http.client
import io
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse

import numpy as np
import requests

base, bpath, qpath, gpath, label = sys.argv[1].rstrip("/"), *sys.argv[2:6]
FACTORY = os.environ.get("CHROMA_BENCH_FACTORY", "HNSW32")
X = np.load(bpath).astype(np.float32)
Q = np.load(qpath).astype(np.float32)
n, dim = X.shape
if gpath == "-":
    Xn = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    Qn = Q / np.maximum(np.linalg.norm(Q, axis=1, keepdims=True), 1e-12)
    GT = np.argsort(-(Qn @ Xn.T), axis=1)[:, :10]
    del Xn
else:
    GT = np.load(gpath)[:, :10]
K, BATCH, SINGLES = 10, 64, min(200, len(Q))
EFS = [int(e) for e in os.environ.get("CHROMA_BENCH_EF", "10 16 24 32 48 64 96 128 192 256 384 512").split()]
TARGETS = [0.90, 0.95]
base_space = f"chroma-bench-{label}".replace(" ", "-")


def loadavg():
    return open("/proc/loadavg").read().split()[0]


def recall(rows):
    return float(np.mean([len(set(r.tolist()) & set(g.tolist())) / K for r, g in zip(rows, GT)]))


def run(search, queries, batch, callers):
    """(queries/s, rows) for `queries` in `batch`-sized calls spread over `callers` threads;
    `search(worker, block)` gives rows (len(block), K) and makes its own per-worker state."""
    chunks = [(s, min(len(queries), s + batch)) for s in range(0, len(queries), batch)]
    out = np.full((len(queries), K), -1, dtype=np.int64)
    search(callers, queries[:batch])  # warm-up
    errors = []

    def worker(w):
        try:
            for s, e in chunks[w::callers]:
                out[s:e] = search(w, queries[s:e])
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    ths = [threading.Thread(target=worker, args=(w,)) for w in range(callers)]
    t = time.perf_counter()
    [th.start() for th in ths]
    [th.join() for th in ths]
    dt = time.perf_counter() - t
    if errors:
        raise errors[0]
    return len(queries) / dt, out


# ---------------------------------------------------------------- the service: load
s = requests.Session()
la_before = loadavg()
ROUNDS = max(1, int(os.environ.get("CHROMA_LOAD_ROUNDS", "3")))


def svc_load(name):
    """Loads the set into a fresh space `name` (functions of its own); returns (ids, timings)."""
    t0 = time.perf_counter()
    ids = []
    for start in range(0, n, 10_000):
        batch = [{"repo": f"{name}-r{i % 100}", "path": "m.py", "qualified_name": f"f{i}", "start_line": 1, "end_line": 1,
                  "signature": f"def f{i}():", "body": ""} for i in range(start, min(n, start + 10_000))]
        r = s.post(f"{base}/v1/functions", json={"functions": batch})
        r.raise_for_status()
        ids += r.json()["ids"]
    ids = np.array(ids, dtype=np.int64)
    t_functions = time.perf_counter() - t0
    s.post(f"{base}/v1/spaces", json={"name": name, "kind": "body_mean", "dim": dim}).raise_for_status()
    t = time.perf_counter()
    for start in range(0, n, 20_000):
        buf = io.BytesIO()
        np.savez(buf, ids=ids[start:start + 20_000], vectors=X[start:start + 20_000])
        s.put(f"{base}/v1/spaces/{name}/vectors", data=buf.getvalue(),
              headers={"Content-Type": "application/x-npz"}).raise_for_status()
    t_upload = time.perf_counter() - t
    t = time.perf_counter()
    s.post(f"{base}/v1/spaces/{name}/index", json={"factory": FACTORY, "target_recall": 0.95}).raise_for_status()
    while True:
        info = s.get(f"{base}/v1/spaces/{name}/index").json()
        if not info.get("calibrating") and info.get("recall"):
            break
        time.sleep(0.2)
    t_index = time.perf_counter() - t
    return ids, info, t0, t_functions, t_upload, t_index


def svc_search(w, block, params=None):
    # One keep-alive http.client connection per caller: `requests` adds ~1-2 ms of its own per call,
    # which at batch 1 was most of what a search cost (measured 3.5 vs 1.3 ms per call).
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(block, dtype="<f4"))
    query = urllib.parse.urlencode({"k": K, **(params or svc_params)})
    for attempt in range(2):  # the server closes connections idle past its timeout: reconnect once
        conn = svc_sessions.get(w)
        if conn is None:
            conn = svc_sessions[w] = http.client.HTTPConnection(svc_host, svc_port)
        try:
            conn.request("POST", f"/v1/spaces/{space}/search?{query}", body=buf.getvalue(),
                         headers={"Content-Type": "application/x-npy", "Accept": "application/x-npz"})
            r = conn.getresponse()
            content = r.read()
            break
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            conn.close()
            svc_sessions.pop(w, None)
            if attempt == 1:
                raise
    if r.status != 200:
        raise RuntimeError(f"search: {r.status} {content[:300]!r}")
    got = np.load(io.BytesIO(content))["ids"]
    rows = order[np.clip(np.searchsorted(sorted_ids, got), 0, n - 1)]
    return np.where(got >= 0, rows, -1)



# ---------------------------------------------------------------- loads, in rounds
import chromadb  # noqa: E402
from chromadb.api.client import SharedSystemClient  # noqa: E402


def chroma_load():
    """Loads the set into a fresh embedded Chroma; returns (dir, client, collection, add s, total s)."""
    cdir = tempfile.mkdtemp(prefix="chroma-bench-")
    t0 = time.perf_counter()
    client = chromadb.PersistentClient(path=cdir)
    col = client.create_collection("bench", embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
    maxb = client.get_max_batch_size()
    for start in range(0, n, maxb):
        end = min(n, start + maxb)
        col.add(ids=[str(i) for i in range(start, end)], embeddings=X[start:end])
    t_add = time.perf_counter() - t0
    col.query(query_embeddings=Q[:1], n_results=K, include=[])
    return cdir, client, col, maxb, t_add, time.perf_counter() - t0


svc_sessions, svc_params = {}, {}
svc_host, svc_port = urllib.parse.urlsplit(base).hostname, urllib.parse.urlsplit(base).port
# Each round loads both systems afresh, the order alternating (the service first in odd rounds), so
# load drifting on a shared machine falls on both; the ratio is per round, then the median. The
# search sweep below uses the last round's space and collection.
load_rounds = []
cdir = client = col = None
for rnd in range(1, ROUNDS + 1):
    def load_service():
        global space, ids, info, t_functions, t_upload, t_index, t_svc_load, order, sorted_ids
        name = f"{base_space}-{rnd}"
        ids, info, t0, t_functions, t_upload, t_index = svc_load(name)
        space = name
        order = np.argsort(ids)
        sorted_ids = ids[order]
        svc_search(0, Q[:1])
        t_svc_load = time.perf_counter() - t0

    def load_chroma():
        global cdir, client, col, maxb, t_chroma_add, t_chroma_load
        if col is not None:
            del col, client
            SharedSystemClient.clear_system_cache()
            shutil.rmtree(cdir, ignore_errors=True)
            col = client = None
        cdir, client, col, maxb, t_chroma_add, t_chroma_load = chroma_load()

    if rnd > 1:
        s.delete(f"{base}/v1/spaces/{space}")  # the previous round's space (its index and vectors)
    la = loadavg()
    for step in ((load_service, load_chroma) if rnd % 2 == 1 else (load_chroma, load_service)):
        step()
    load_rounds.append((rnd, "service" if rnd % 2 == 1 else "Chroma", la, t_svc_load, t_chroma_load))
chosen = (info["recall"] or {}).get("chosen") or {}
hnsw = col.configuration["hnsw"]
la_after_load = loadavg()


def chroma_open(ef):
    global client, col
    col.modify(configuration={"hnsw": {"ef_search": ef}})
    del col, client
    SharedSystemClient.clear_system_cache()
    client = chromadb.PersistentClient(path=cdir)
    col = client.get_collection("bench", embedding_function=None)
    col.query(query_embeddings=Q[:1], n_results=K, include=[])
    assert col.configuration["hnsw"]["ef_search"] == ef


def chroma_search(w, block):
    r = col.query(query_embeddings=block, n_results=K, include=[])
    out = np.full((len(block), K), -1, dtype=np.int64)
    for i, row in enumerate(r["ids"]):
        out[i, :len(row)] = [int(x) for x in row]
    return out


# ---------------------------------------------------------------- search sweep, interleaved
rows = []  # (system, ef, recall, qps64x1, qps64x2, qps1)
for ef in EFS:
    svc_params = {"ef_search": ef}
    q1c, res = run(svc_search, Q, BATCH, 1)
    q2c, _ = run(svc_search, Q, BATCH, 2)
    qs, _ = run(svc_search, Q[:SINGLES], 1, 1)
    rows.append(("service", ef, recall(res), q1c, q2c, qs))
    chroma_open(ef)
    q1c, res = run(chroma_search, Q, BATCH, 1)
    q2c, _ = run(chroma_search, Q, BATCH, 2)
    qs, _ = run(chroma_search, Q[:SINGLES], 1, 1)
    rows.append(("Chroma", ef, recall(res), q1c, q2c, qs))
# the service's own knob choice from its calibration (no ef_search in the request)
calibrated = []
for target in TARGETS:
    svc_params = {"target_recall": target}
    q1c, res = run(svc_search, Q, BATCH, 1)
    q2c, _ = run(svc_search, Q, BATCH, 2)
    calibrated.append((target, recall(res), q1c, q2c))
la_end = loadavg()
del col, client
SharedSystemClient.clear_system_cache()
shutil.rmtree(cdir, ignore_errors=True)

# ---------------------------------------------------------------- report
print(f"### {label}: {n:,} × {dim}, {len(Q):,} queries, cosine, k = 10")
print()
print(f"chromadb {chromadb.__version__} (embedded PersistentClient; HNSW max_neighbors {hnsw['max_neighbors']}, "
      f"ef_construction {hnsw['ef_construction']}); the service: {FACTORY} (FAISS), over HTTP on 127.0.0.1. "
      f"Load average (1 min) {la_before} before, {la_after_load} after the loads, {la_end} at the end.")
print()
print("| load | the service (HTTP) | Chroma (embedded) | service speed / Chroma's |")
print("|---|---|---|---|")
for rnd, first, la, a, b in load_rounds:
    print(f"| round {rnd} ({first} first, load average {la}), to the first answer | {a:.1f} s | {b:.1f} s | {b / a:.2f}× |")
ratios = sorted(b / a for _, _, _, a, b in load_rounds)
print(f"| **median of {len(ratios)} rounds** | | | **{ratios[len(ratios) // 2] if len(ratios) % 2 else (ratios[len(ratios) // 2 - 1] + ratios[len(ratios) // 2]) / 2:.2f}×** |")
print(f"| parts (last round) | functions {t_functions:.1f} s + vectors {t_upload:.1f} s + {FACTORY} build and calibration {t_index:.1f} s"
      f" (ef_search {chosen.get('value', '?')} chosen for 0.95) | add (HNSW built during add, batches of {maxb}) "
      f"{t_chroma_add:.1f} s | |")
print()
print("| ef_search | service recall@10 | Chroma recall@10 | service q/s, batch 64, 1 caller | Chroma | "
      "service q/s, batch 64, 2 callers | Chroma | service q/s, batch 1 | Chroma |")
print("|---|---|---|---|---|---|---|---|---|")
by = {(r[0], r[1]): r for r in rows}
for ef in EFS:
    a, b = by[("service", ef)], by[("Chroma", ef)]
    print(f"| {ef} | {a[2]:.3f} | {b[2]:.3f} | {a[3]:.0f} | {b[3]:.0f} | {a[4]:.0f} | {b[4]:.0f} | {a[5]:.0f} | {b[5]:.0f} |")
print()
print("The service with `target_recall` instead of `ef_search` (its calibrated choice): " + "; ".join(
    f"{t:.2f} → recall {r:.3f} vs the exact top-10, {a:.0f} q/s (batch 64, 1 caller), {b:.0f} q/s (2 callers)"
    for t, r, a, b in calibrated) + ".")
print()


def best(system, target, col_i):
    ok = [r for r in rows if r[0] == system and r[2] >= target]
    return max(ok, key=lambda r: r[col_i]) if ok else None


print("| at recall@10 ≥ | client | service q/s (ef) | Chroma q/s (ef) | service / Chroma |")
print("|---|---|---|---|---|")
for target in TARGETS:
    for col_i, name in [(3, "batch 64, 1 caller"), (4, "batch 64, 2 callers"), (5, "batch 1, 1 caller")]:
        a, b = best("service", target, col_i), best("Chroma", target, col_i)
        fa = f"{a[col_i]:.0f} ({a[1]})" if a else "not reached"
        fb = f"{b[col_i]:.0f} ({b[1]})" if b else "not reached"
        ratio = f"{a[col_i] / b[col_i]:.2f}×" if a and b else "–"
        print(f"| {target:.2f} | {name} | {fa} | {fb} | {ratio} |")
print()
