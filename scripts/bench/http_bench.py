#!/usr/bin/env python3
"""HTTP benchmarks against a running `swejepa serve`: function ingest rate (10k batches) and vector
upload rate as .npy and as JSON. Prints a Markdown table. usage: http_bench.py BASE_URL"""
import io
import json
import sys
import time

import numpy as np
import requests

base = sys.argv[1].rstrip("/")
s = requests.Session()
rows = []


def timed(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


# Function ingest: 5 batches of 10k synthetic functions (each ~300 bytes of body), new rows each time.
def batch(k):
    return {"functions": [{"repo": f"bench{k % 7}", "path": f"pkg/mod{i % 97}.py", "qualified_name": f"f_{k}_{i}",
                           "start_line": i + 1, "end_line": i + 12,
                           "signature": f"def f_{k}_{i}(a, b=None):\n    \"\"\"Doc {i}.\"\"\"",
                           "body": "".join(f"    x{j} = a + {j} * b  # {k}\n" for j in range(10)),
                           "properties": {"loc": 12, "cyclomatic_complexity": 1}} for i in range(10_000)]}

bodies = [json.dumps(batch(k)).encode() for k in range(5)]
t0 = time.perf_counter()
for b in bodies:
    r = s.post(f"{base}/v1/functions", data=b, headers={"Content-Type": "application/json"})
    r.raise_for_status()
elapsed = time.perf_counter() - t0
ids = []
for b in bodies[:1]:
    ids = s.post(f"{base}/v1/functions", data=b, headers={"Content-Type": "application/json"}).json()["ids"]
rows.append(("function ingest, 5 × 10k batches (new rows)", f"{50_000 / elapsed:,.0f} functions/s",
             f"{sum(map(len, bodies)) / elapsed / 1e6:.1f} MB/s of JSON"))
t_same = timed(lambda: s.post(f"{base}/v1/functions", data=bodies[0], headers={"Content-Type": "application/json"}).raise_for_status(), 2)
rows.append(("function re-ingest, 10k unchanged", f"{10_000 / t_same:,.0f} functions/s", ""))

# Vectors: 10k × 384 float32 (15.4 MB) into one space.
s.delete(f"{base}/v1/spaces/bench.vectors")
s.post(f"{base}/v1/spaces", json={"name": "bench.vectors", "kind": "body_mean", "dim": 384}).raise_for_status()
v = np.random.default_rng(0).standard_normal((len(ids), 384)).astype(np.float32)
buf = io.BytesIO(); np.savez(buf, ids=np.array(ids, dtype=np.int64), vectors=v); npz = buf.getvalue()
t_npz = timed(lambda: s.put(f"{base}/v1/spaces/bench.vectors/vectors", data=npz,
                            headers={"Content-Type": "application/x-npz"}).raise_for_status())
rows.append(("vector upload .npz (ids + vectors), 10k × 384 float32 in one request", f"{v.nbytes / t_npz / 1e6:,.0f} MB/s", f"{len(ids) / t_npz:,.0f} vectors/s"))
# .npy with the ids in the query string, in batches of 1k ids (a request line holds up to 10k ids;
# .npz carries ids and vectors of any batch in the body).
npys = []
for start in range(0, len(ids), 1000):
    b = io.BytesIO(); np.save(b, v[start:start + 1000]); npys.append((",".join(map(str, ids[start:start + 1000])), b.getvalue()))
t_npy = timed(lambda: [s.put(f"{base}/v1/spaces/bench.vectors/vectors", data=d, params={"ids": q},
                             headers={"Content-Type": "application/x-npy"}).raise_for_status() for q, d in npys])
rows.append(("vector upload .npy, 10 requests × 1k × 384 (ids in the query)", f"{v.nbytes / t_npy / 1e6:,.0f} MB/s", f"{len(ids) / t_npy:,.0f} vectors/s"))
js = json.dumps({"ids": ids, "vectors": v.tolist()}).encode()
t_json = timed(lambda: s.put(f"{base}/v1/spaces/bench.vectors/vectors", data=js, headers={"Content-Type": "application/json"}).raise_for_status())
rows.append(("vector upload JSON, 10k × 384", f"{v.nbytes / t_json / 1e6:,.0f} MB/s (float32 equivalent)", f"{len(js) / t_json / 1e6:,.0f} MB/s of JSON text"))
t_get = timed(lambda: s.get(f"{base}/v1/spaces/bench.vectors/vectors", params={"format": "npz"}).raise_for_status())
rows.append(("vector download .npz, all 10k", f"{v.nbytes / t_get / 1e6:,.0f} MB/s", ""))
s.delete(f"{base}/v1/spaces/bench.vectors")

# Request heads: a 10,000-id list in the query (~60 KB request line; the cap is 64 KiB) and a 1 MiB
# request line, refused with 414 as soon as 64 KiB of it arrived. Medians of keep-alive requests.
import socket
import statistics
import threading
from urllib.parse import urlsplit


def median_ms(fn, n=20):
    fn()
    times = []
    for _ in range(n):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


s.delete(f"{base}/v1/spaces/bench.ids")
s.post(f"{base}/v1/spaces", json={"name": "bench.ids", "kind": "custom", "dim": 2}).raise_for_status()
many = ids[:10_000]
buf = io.BytesIO(); np.savez(buf, ids=np.array(many, dtype=np.int64), vectors=np.ones((len(many), 2), np.float32))
s.put(f"{base}/v1/spaces/bench.ids/vectors", data=buf.getvalue(), headers={"Content-Type": "application/x-npz"}).raise_for_status()
id_list = ",".join(map(str, many))
t_health = median_ms(lambda: s.get(f"{base}/healthz").raise_for_status())
t_health_list = median_ms(lambda: s.get(f"{base}/healthz?ids={id_list}").raise_for_status())
rows.append((f"GET /healthz with a {len(id_list) / 1e3:.0f} KB `?ids=` query (head scanned and parsed, query unused)",
             f"{t_health_list:.2f} ms", f"plain GET /healthz: {t_health:.2f} ms (medians of 20)"))
t_one = median_ms(lambda: s.get(f"{base}/v1/spaces/bench.ids/vectors?format=npz&ids={many[0]}").raise_for_status())
t_list = median_ms(lambda: s.get(f"{base}/v1/spaces/bench.ids/vectors?format=npz&ids={id_list}").raise_for_status())
rows.append((f"GET vectors `?ids=` {len(many):,} ids ({len(id_list) / 1e3:.0f} KB request line), dim 2, .npz",
             f"{t_list:.2f} ms", f"1 id: {t_one:.2f} ms (medians of 20)"))
s.delete(f"{base}/v1/spaces/bench.ids")


def sent_quietly(fn):
    try:
        return fn()
    except (BrokenPipeError, ConnectionResetError):
        return None


def long_line():
    host, port = urlsplit(base).hostname, urlsplit(base).port
    c = socket.create_connection((host, port))
    line = b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    sender = threading.Thread(target=sent_quietly, args=(lambda: c.sendall(line),), daemon=True)
    t = time.perf_counter()
    sender.start()
    head = b""
    try:
        while b"\r\n" not in head:
            chunk = c.recv(4096)
            if not chunk:
                break
            head += chunk
    except ConnectionResetError:
        pass
    elapsed = time.perf_counter() - t
    c.close()
    assert head.startswith(b"HTTP/1.1 414"), head[:80]
    return elapsed


times = sorted(long_line() for _ in range(5))
rows.append(("1 MiB request line: sent → 414 answer (refused after 64 KiB)", f"{statistics.median(times) * 1e3:.2f} ms",
             f"min {times[0] * 1e3:.2f} ms of 5"))

print("| operation | rate | also |")
print("|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
