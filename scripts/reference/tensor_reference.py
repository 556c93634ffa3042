#!/usr/bin/env python3
"""Reference numbers for the Tensor module's LAPACK wrappers.

Generates Tests/TensorTests/Fixtures/tensor_lapack.json: small symmetric and symmetric
positive-definite matrices (numpy's seeded generator, written out in full so Swift needs no RNG)
with numpy.linalg results: eigenvalues (ascending) and eigenvectors of the symmetric matrices
(`eigh`, signs normalised so each vector's largest-magnitude entry is positive) and the solution
of A·x = b for the SPD ones (`solve`). The Swift tests recompute them through `LAPACK`.

    python3 scripts/reference/tensor_reference.py
"""
import json
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "TensorTests", "Fixtures", "tensor_lapack.json")


def normalise_signs(v):
    v = v.copy()
    for j in range(v.shape[1]):
        i = int(np.argmax(np.abs(v[:, j])))
        if v[i, j] < 0:
            v[:, j] = -v[:, j]
    return v


def main():
    rng = np.random.default_rng(20261201)
    eigen, cholesky = [], []
    for n in (1, 3, 7):
        m = rng.standard_normal((n, n))
        a = (m + m.T) / 2
        w, v = np.linalg.eigh(a)
        eigen.append({"n": n, "a": a.ravel().tolist(), "values": w.tolist(),
                      "vectors": normalise_signs(v).ravel().tolist()})
    for n in (1, 4, 9):
        m = rng.standard_normal((n, n + 2))
        a = m @ m.T + 0.5 * np.eye(n)
        b = rng.standard_normal(n)
        cholesky.append({"n": n, "a": a.ravel().tolist(), "b": b.tolist(),
                         "x": np.linalg.solve(a, b).tolist()})
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"numpy": np.__version__, "eigen": eigen, "cholesky": cholesky}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
