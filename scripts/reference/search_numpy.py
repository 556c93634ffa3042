#!/usr/bin/env python3
"""Reference k-NN results for Tests/SearchTests (exact search computed by numpy, float64).

Writes Tests/SearchTests/Fixtures/search_numpy.json: a small clustered data set with arbitrary
ids, queries, and for each metric (cosine, inner_product, l2) the top-k ids and scores, both
unfiltered and with an allow-list + global exclusions + one exclusion list per query.
Scores follow the service: cosine similarity, raw inner product, squared L2 distance.

    python3 scripts/reference/search_numpy.py
"""
import json
import pathlib

import numpy as np

rng = np.random.default_rng(20240607)
n, d, nq, k = 600, 24, 12, 10
basis = rng.normal(size=(6, d)) / np.sqrt(6)
centres = rng.normal(size=(15, 6)) * 2
labels = rng.integers(0, 15, size=n + nq)
z = centres[labels] + rng.normal(size=(n + nq, 6))
x = (z @ basis + 0.05 * rng.normal(size=(n + nq, d))).astype(np.float32)
base, queries = x[:n], x[n:]
ids = (rng.permutation(n) * 13 + 1_000_003).astype(np.int64)  # arbitrary, unordered ids

allow = np.sort(rng.choice(ids, size=n // 2, replace=False))
exclude = np.sort(rng.choice(allow, size=40, replace=False))
per_query = [sorted(rng.choice(ids, size=5, replace=False).tolist()) for _ in range(nq)]


def scores(metric):
    b, q = base.astype(np.float64), queries.astype(np.float64)
    if metric == "cosine":
        b = b / np.linalg.norm(b, axis=1, keepdims=True)
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        return q @ b.T
    if metric == "inner_product":
        return q @ b.T
    return ((q[:, None, :] - b[None, :, :]) ** 2).sum(-1)


def topk(s, metric, allowed):
    out_ids, out_scores = [], []
    for i in range(nq):
        rows = np.array([j for j in range(n) if allowed(i, ids[j])], dtype=np.int64)
        si = s[i, rows]
        order = np.argsort(si if metric == "l2" else -si, kind="stable")[:k]
        out_ids.append(ids[rows[order]].tolist())
        out_scores.append(si[order].tolist())
    return out_ids, out_scores


allow_set, exclude_set = set(allow.tolist()), set(exclude.tolist())
results = {}
for metric in ["cosine", "inner_product", "l2"]:
    s = scores(metric)
    plain_ids, plain_scores = topk(s, metric, lambda i, t: True)
    f_ids, f_scores = topk(s, metric, lambda i, t: t in allow_set and t not in exclude_set and t not in per_query[i])
    results[metric] = {"ids": plain_ids, "scores": plain_scores, "filtered_ids": f_ids, "filtered_scores": f_scores}

fixture = {
    "generator": "scripts/reference/search_numpy.py (numpy %s)" % np.__version__,
    "dim": d, "k": k,
    "ids": ids.tolist(),
    "base": [float(v) for v in base.ravel()],
    "queries": [float(v) for v in queries.ravel()],
    "allow": allow.tolist(), "exclude": exclude.tolist(), "exclude_per_query": per_query,
    "results": results,
}
out = pathlib.Path(__file__).resolve().parents[2] / "Tests/SearchTests/Fixtures/search_numpy.json"
out.write_text(json.dumps(fixture))
print(f"wrote {out} ({out.stat().st_size} bytes)")
