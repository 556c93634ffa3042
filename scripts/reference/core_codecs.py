#!/usr/bin/env python3
"""Writes Tests/CoreTests/Fixtures: .npy/.npz files made by numpy itself, and reference values from
hashlib (SHA-256), zlib (CRC-32) and an independent Python version of the body normalisation.

usage: python3 scripts/reference/core_codecs.py   (numpy only)
"""
import hashlib
import io
import json
import re
import zlib
from pathlib import Path

import numpy as np

out = Path(__file__).resolve().parents[2] / "Tests" / "CoreTests" / "Fixtures"
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(7)

arrays = {
    "f32_2d": rng.standard_normal((5, 3)).astype("<f4"),
    "f16_2d": rng.standard_normal((4, 6)).astype("<f2"),
    "f64_1d": rng.standard_normal(7).astype("<f8"),
    "i64_1d": np.array([1, 2, 3, 1 << 40, -5], dtype="<i8"),
    "i32_1d": np.array([9, 8, 7], dtype="<i4"),
    "f32_empty": np.zeros((0, 4), dtype="<f4"),
}
ref = {"arrays": {}}
for name, a in arrays.items():
    np.save(out / f"{name}.npy", a)
    ref["arrays"][name] = {"shape": list(a.shape), "values": a.astype(np.float64).ravel().tolist()}
# A version-2.0 header, as numpy writes for very wide structured headers.
buf = io.BytesIO()
np.lib.format.write_array(buf, arrays["f32_2d"], version=(2, 0))
(out / "f32_2d_v2.npy").write_bytes(buf.getvalue())
# np.savez (ZIP64 members) with ids, vectors and rows.
np.savez(out / "batch.npz", ids=np.array([10, 20, 30], dtype=np.int64),
         vectors=arrays["f32_2d"][:3], rows=np.array([1, 1, 1], dtype=np.int64))
np.savez_compressed(out / "compressed.npz", ids=np.array([1]))


def normalized_body(body: str) -> str:
    """Independent restatement of Core's FunctionHash.normalizedBody rules."""
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    lines = []
    for raw in text.split("\n"):
        m = re.match(r"[ \t]*", raw)
        lead = m.group(0)
        col = 0
        for ch in lead:
            col = (col // 8 + 1) * 8 if ch == "\t" else col + 1
        rest = raw[len(lead):].rstrip(" \t")
        if rest:
            lines.append((col, rest))
    common = min((c for c, _ in lines), default=0)
    return "".join(" " * (c - common) + re.sub(r"[ \t]+", " ", r) + "\n" for c, r in lines)


texts = ["", "abc", "def f(x):\n    return x\n", "ünïcödé ✓", "a" * 200]
bodies = ["    return 1\n", "  return  1", "\treturn 1\r\n\n", "    if x:\n        y = 1\n    return y\n",
          "        x = 'a  b'\n", "\n\n", "\t  x\n\t\ty\n"]
ref["sha256"] = {t: hashlib.sha256(t.encode()).hexdigest() for t in texts}
ref["crc32"] = {t: zlib.crc32(t.encode()) for t in texts}
ref["bodies"] = [{"body": b, "normalized": normalized_body(b),
                  "hash": hashlib.sha256(normalized_body(b).encode()).hexdigest()} for b in bodies]
(out / "codecs.json").write_text(json.dumps(ref, indent=1, ensure_ascii=False))
print(f"fixtures written to {out}")
