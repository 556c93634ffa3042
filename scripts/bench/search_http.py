#!/usr/bin/env python3
"""Replays the search benchmark's data set over HTTP against a running server and compares with
the in-process FAISS figures measured in the same `make bench` run.

usage: search_http.py BASE_URL VECTORS.npy INPROCESS.json
VECTORS.npy, VECTORS.queries.npy and VECTORS.gt.npy come from `Bench search --write-vectors`."""
import io
import json
import sys
import threading
import time

import numpy as np
import requests

base, vpath, jpath = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
stem = vpath[:-4]
X = np.load(vpath)
Q = np.load(stem + ".queries.npy")
GT = np.load(stem + ".gt.npy")
inproc = {(r["factory"], r.get("efSearch")): r for r in json.load(open(jpath))["rows"]}
n, dim = X.shape
s = requests.Session()

# Functions (one per row; ids returned in order), then the space and its vectors in .npz chunks.
ids = []
for start in range(0, n, 10_000):
    batch = [{"repo": f"r{i % 100}", "path": "m.py", "qualified_name": f"f{i}", "start_line": 1, "end_line": 1,
              "signature": f"def f{i}():", "body": ""} for i in range(start, min(n, start + 10_000))]
    ids += s.post(f"{base}/v1/functions", json={"functions": batch}).json()["ids"]
ids = np.array(ids, dtype=np.int64)
row_of = {int(i): r for r, i in enumerate(ids)}
s.post(f"{base}/v1/spaces", json={"name": "bench", "kind": "body_mean", "dim": dim}).raise_for_status()
t = time.perf_counter()
for start in range(0, n, 20_000):
    buf = io.BytesIO()
    np.savez(buf, ids=ids[start:start + 20_000], vectors=X[start:start + 20_000])
    s.put(f"{base}/v1/spaces/bench/vectors", data=buf.getvalue(), headers={"Content-Type": "application/x-npz"}).raise_for_status()
upload = time.perf_counter() - t


def run(batch, threads, seconds=4.0, ef=None):
    """Queries/s with `threads` keep-alive clients each sending `batch` queries per request."""
    count = [0] * threads
    stop = time.perf_counter() + seconds
    params = {"k": 10}
    if ef:
        params["ef_search"] = ef

    def client(t):
        sess = requests.Session()
        i = t * 97
        while time.perf_counter() < stop:
            rows = [(i + j) % len(Q) for j in range(batch)]
            buf = io.BytesIO(); np.save(buf, Q[rows])
            sess.post(f"{base}/v1/spaces/bench/search", data=buf.getvalue(), params=params,
                      headers={"Content-Type": "application/x-npy"}).raise_for_status()
            count[t] += batch
            i += batch

    ths = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    t0 = time.perf_counter()
    [th.start() for th in ths]
    [th.join() for th in ths]
    return sum(count) / (time.perf_counter() - t0)


def recall(ef=None):
    hit = 0
    for start in range(0, len(Q), 64):
        buf = io.BytesIO(); np.save(buf, Q[start:start + 64])
        params = {"k": 10}
        if ef:
            params["ef_search"] = ef
        res = s.post(f"{base}/v1/spaces/bench/search", data=buf.getvalue(), params=params,
                     headers={"Content-Type": "application/x-npy"}).json()["results"]
        for q, r in enumerate(res):
            got = {row_of[h["id"]] for h in r["hits"]}
            hit += len(got & set(GT[start + q].tolist()))
    return hit / (len(Q) * 10)


WRK_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-npy"
local f = assert(io.open(os.getenv("WRK_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
"""


def wrk_run(batch, connections, seconds=5, answer="json", ef=None):
    """wrk (C, a few % of a core) posting one prepared `.npy` body of `batch` queries over keep-alive
    connections: (queries/s, p50 ms, p99 ms). `answer` npz asks for numbers only (no summaries)."""
    import os
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        body, lua = os.path.join(d, "q.npy"), os.path.join(d, "post.lua")
        np.save(body, Q[:batch])
        open(lua, "w").write(WRK_LUA)
        url = f"{base}/v1/spaces/bench/search?k=10" + ("&format=npz" if answer == "npz" else "") + (f"&ef_search={ef}" if ef else "")
        out = subprocess.run(["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", lua, url],
                             env={**os.environ, "WRK_BODY": body}, capture_output=True, text=True, check=True).stdout
    rps = float(next(l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec")))
    bad = [l for l in out.splitlines() if "Non-2xx" in l or "Socket errors" in l]
    assert not bad, bad

    def pct(name):
        v = next(l.split()[1] for l in out.splitlines() if l.strip().startswith(name))
        return float(v[:-2]) if v.endswith("ms") else float(v[:-2]) / 1e3 if v.endswith("us") else float(v[:-1]) * 1e3
    return rps * batch, pct("50%"), pct("99%")


def have_wrk():
    import shutil
    return shutil.which("wrk") is not None


print(f"### Over HTTP (same data, same run; Python clients on the same 2 cores)")
print()
print(f"Upload of {n:,} × {dim} vectors as .npz: {upload:.1f} s ({X.nbytes / upload / 1e6:.0f} MB/s).")
print()
print("| index | q/s batch 1, 4 clients | q/s batch 64, 4 clients | in-process batch 64 (catalog ×4) | HTTP / in-process (batch 64) | recall@10 over HTTP |")
print("|---|---|---|---|---|---|")
wrk_rows = []
for factory in ["Flat", "HNSW32"]:
    t = time.perf_counter()
    s.post(f"{base}/v1/spaces/bench/index", json={"factory": factory}).raise_for_status()
    build = time.perf_counter() - t
    ref = inproc.get((factory, None)) or next((v for (f, _), v in inproc.items() if f == factory), None)
    q1 = run(1, 4)
    q64 = run(64, 4)
    ratio = f"{q64 / ref['qpsBatch64Concurrent4']:.0%}" if ref else "–"
    refq = f"{ref['qpsBatch64Concurrent4']:.0f}" if ref else "–"
    print(f"| {factory} (built in {build:.1f} s over HTTP) | {q1:.0f} | {q64:.0f} | {refq} | {ratio} | {recall():.4f} |")
    if have_wrk() and ref:
        ef = ref.get("efSearch")  # the in-process row's ef_search, asked for explicitly
        j64 = wrk_run(64, 4, ef=ef)
        n64 = wrk_run(64, 4, answer="npz", ef=ef)
        one = wrk_run(1, 1, ef=ef)
        inq = ref['qpsBatch64Concurrent4']
        wrk_rows.append(f"| {factory}{f' (ef_search {ef})' if ef else ''} | {j64[0]:.0f} ({j64[0] / inq:.0%}) | {n64[0]:.0f} ({n64[0] / inq:.0%}) | {inq:.0f} | "
                        f"{one[1]:.2f} / {one[2]:.2f} ms | {one[0]:.0f} |")
print()
if wrk_rows:
    print("With `wrk` as the client (a Lua script posting one prepared `.npy` body of 64 queries over 4 keep-alive")
    print("connections, 5 s; the single-query line: 1 connection): the server's own cost, not Python's. In brackets:")
    print("share of the in-process batch-64 figure measured earlier in this run (FAISS through `IndexCatalog`, 4 callers).")
    print()
    print("| index | q/s batch 64, JSON hits | q/s batch 64, `format=npz` | in-process batch 64 | single query p50 / p99 | single query q/s, 1 connection |")
    print("|---|---|---|---|---|---|")
    for r in wrk_rows:
        print(r)
    print()
else:
    print("_wrk not installed: the wrk rows are skipped._")
    print()
