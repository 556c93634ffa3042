#!/usr/bin/env python3
"""Reference numbers for the Analysis module (probes, folds, layer statistics).

Generates Tests/AnalysisTests/Fixtures/analysis_sklearn.json with small synthetic data and the
results of scikit-learn (GroupKFold, KFold, StandardScaler + RidgeCV in a Pipeline,
LogisticRegression(class_weight='balanced'), r2_score, balanced_accuracy_score) and numpy
(pairwise cosine, effective rank). The Swift tests recompute everything and compare.

    pip install scikit-learn   # once; the version used is recorded in the fixture
    python3 scripts/reference/analysis_sklearn.py

The shuffled-label control uses a permutation that both sides compute the same way:
SplitMix64 seeded with `seed`, then Fisher-Yates from the end (j = next() % (i+1)).
"""
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import balanced_accuracy_score, r2_score
from sklearn.model_selection import GroupKFold, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "AnalysisTests", "Fixtures", "analysis_sklearn.json")
MASK = (1 << 64) - 1
ALPHAS = [float(a) for a in np.logspace(-2, 4, 13)]
C = 1.0


def splitmix64_permutation(n, seed):
    state = seed & MASK
    perm = list(range(n))

    def nxt():
        nonlocal state
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    for i in range(n - 1, 0, -1):
        j = nxt() % (i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def ridge_cv(X, y, folds):
    scores, alphas = [], []
    for train, test in folds:
        model = make_pipeline(StandardScaler(), RidgeCV(alphas=ALPHAS))
        model.fit(X[train], y[train])
        scores.append(float(r2_score(y[test], model.predict(X[test]))))
        alphas.append(float(model[-1].alpha_))
    return scores, alphas


def logistic_cv(X, y, folds):
    scores = []
    for train, test in folds:
        model = make_pipeline(
            StandardScaler(),
            LogisticRegression(C=C, class_weight="balanced", tol=1e-12, max_iter=100000),
        )
        model.fit(X[train], y[train])
        # Cross-check: a second solver must reach the same unique optimum.
        other = make_pipeline(
            StandardScaler(),
            LogisticRegression(C=C, class_weight="balanced", solver="newton-cholesky",
                               tol=1e-12, max_iter=1000),
        ).fit(X[train], y[train])
        assert np.allclose(model[-1].coef_, other[-1].coef_, atol=1e-6), "solvers disagree"
        scores.append(float(balanced_accuracy_score(y[test], model.predict(X[test]))))
    return scores


def summary(scores):
    return {"folds": scores, "mean": float(np.mean(scores)), "std": float(np.std(scores))}


def probe(kind, X, y, trivial, groups, n_splits, seed):
    folds = list(GroupKFold(n_splits=n_splits).split(X, y, groups))
    perm = splitmix64_permutation(len(y), seed)
    y_shuf = y[perm]
    if kind == "regression":
        main, alphas = ridge_cv(X, y, folds)
        shuf, _ = ridge_cv(X, y_shuf, folds)
        triv, _ = ridge_cv(trivial[:, None], y, folds)
        out = {"alphas": alphas}
    else:
        main = logistic_cv(X, y, folds)
        shuf = logistic_cv(X, y_shuf, folds)
        triv = logistic_cv(trivial[:, None], y, folds)
        out = {}
    out.update({
        "kind": kind, "n_splits": n_splits, "seed": seed,
        "test_folds": [t.tolist() for _, t in folds],
        "permutation": perm,
        "result": summary(main), "shuffled": summary(shuf), "trivial": summary(triv),
    })
    return out


def main():
    rng = np.random.default_rng(20240606)
    n, d = 120, 10
    # Six repositories of unequal size (two ties) with non-contiguous ids.
    sizes = [31, 24, 20, 20, 15, 10]
    repo_ids = [42, 7, 19, 3, 88, 11]
    groups = np.concatenate([[g] * s for g, s in zip(repo_ids, sizes)])
    rng.shuffle(groups)
    X = (rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, size=d) + rng.normal(size=d) * 2)
    X = X.astype(np.float32)
    Xd = X.astype(np.float64)
    beta = rng.normal(size=d)
    counts = np.round(np.exp(1.5 + 0.35 * (Xd - Xd.mean(0)) / Xd.std(0) @ beta / np.sqrt(d)
                             + rng.normal(scale=0.3, size=n))).astype(np.int64)
    y_log = np.log1p(counts.astype(np.float64))
    tokens = (counts * 7 + rng.integers(0, 40, size=n)).astype(np.float64)
    logits = (Xd - Xd.mean(0)) / Xd.std(0) @ rng.normal(size=(d, 3)) + rng.normal(size=(n, 3))
    logits[:, 0] += 0.8  # imbalanced classes
    y3 = np.argmax(logits, axis=1).astype(np.int64)
    y2 = (((Xd - Xd.mean(0)) / Xd.std(0)) @ beta + rng.normal(scale=1.5, size=n) > 0.7).astype(np.int64)

    # Wide data (n_train < d): RidgeCV takes its Gram-matrix path.
    nw, dw = 40, 64
    Xw = rng.normal(size=(nw, dw)).astype(np.float32)
    yw = Xw.astype(np.float64) @ rng.normal(size=dw) * 0.3 + rng.normal(size=nw)
    gw = np.arange(nw) % 8 * 5  # eight groups of five

    # Layer statistics.
    nl, dl = 50, 16
    E = (rng.normal(size=(nl, dl)) * np.linspace(0.2, 3.0, dl) + 1.5).astype(np.float32)
    Ed = E.astype(np.float64)
    U = Ed / np.linalg.norm(Ed, axis=1, keepdims=True)
    cos = U @ U.T
    iu = np.triu_indices(nl, k=1)
    pairs = cos[iu]
    s = np.linalg.svd(Ed - Ed.mean(0), compute_uv=False)
    p = s / s.sum()
    p = p[p > 0]
    erank = float(np.exp(-(p * np.log(p)).sum()))

    fixture = {
        "generator": "scripts/reference/analysis_sklearn.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "alphas": ALPHAS, "C": C,
        "n": n, "d": d,
        "X": X.ravel().tolist(), "groups": groups.tolist(),
        "counts": counts.tolist(), "tokens": tokens.tolist(), "y3": y3.tolist(), "y2": y2.tolist(),
        "kfold_5": [t.tolist() for _, t in KFold(n_splits=5).split(X)],
        "kfold_7": [t.tolist() for _, t in KFold(n_splits=7).split(X)],
        "groupkfold_function_4": [t.tolist() for _, t in GroupKFold(n_splits=4).split(X, groups=np.arange(n))],
        "probes": {
            "log_count": probe("regression", Xd, y_log, tokens, groups, 5, 1),
            "class3": probe("classification", Xd, y3, tokens, groups, 5, 2),
            "binary": probe("classification", Xd, y2, tokens, groups, 3, 3),
        },
        "wide": {
            "n": nw, "d": dw, "X": Xw.ravel().tolist(), "y": yw.tolist(), "groups": gw.tolist(),
            **probe("regression", Xw.astype(np.float64), yw, np.abs(yw) + 1, gw, 4, 4),
        },
        "layer": {
            "n": nl, "d": dl, "X": E.ravel().tolist(),
            "mean_cosine": float(pairs.mean()), "std_cosine": float(pairs.std()),
            "effective_rank": erank, "singular_values": s.tolist(),
        },
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes) with scikit-learn {sklearn.__version__}",
          file=sys.stderr)
    for k, v in fixture["probes"].items():
        print(k, v["result"], v.get("alphas"), "shuf", v["shuffled"]["mean"], "triv", v["trivial"]["mean"],
              file=sys.stderr)
    print("wide", fixture["wide"]["result"], fixture["wide"]["alphas"], file=sys.stderr)


if __name__ == "__main__":
    main()
