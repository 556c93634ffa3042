#!/usr/bin/env python3
"""Writes the fuzz seed corpora under Tests/*/Fixtures/fuzz/ (standard library only, no numpy).

Valid inputs of each form, plus every input that crashed the server (issue 12, item 1) as a
regression seed (names start with `crash_`). Run from the package root: python3 scripts/fuzz/make_seeds.py
"""
import io, json, os, struct, zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
I64_MAX = 2**63 - 1


def npy(descr, shape, payload, version=1):
    shape_text = "(%d,)" % shape[0] if len(shape) == 1 else "(" + ", ".join(str(n) for n in shape) + ")"
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    prefix = 10 if version == 1 else 12
    header += " " * ((64 - (prefix + len(header) + 1) % 64) % 64) + "\n"
    h = header.encode("latin1")
    size = struct.pack("<H", len(h)) if version == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([version, 0]) + size + h + payload


def f32(values):
    return struct.pack("<%df" % len(values), *values)


def i64(values):
    return struct.pack("<%dq" % len(values), *values)


def savez(members, zip64=False):
    """What np.savez writes: stored members (numpy forces ZIP64 local extras)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            with z.open(name + ".npy", "w", force_zip64=zip64) as f:
                f.write(data)
    return buf.getvalue()


def raw_zip(members, central):
    """A hand-made ZIP: `members` [(name, payload)] as local entries, `central` a function
    (offsets, sizes) -> list of (name, size, offset, extra) central entries."""
    out = bytearray()
    offsets = []
    for name, payload in members:
        offsets.append(len(out))
        n = name.encode()
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, 0, len(payload), len(payload), len(n), 0)
        out += n + payload
    cd_start = len(out)
    entries = central(offsets, [len(p) for _, p in members])
    for name, size, offset, extra in entries:
        n = name.encode()
        out += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0x21, 0,
                           min(size, 0xFFFFFFFF), min(size, 0xFFFFFFFF), len(n), len(extra), 0, 0, 0, 0,
                           min(offset, 0xFFFFFFFF))
        out += n + extra
    cd_size = len(out) - cd_start
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), cd_size, cd_start, 0)
    return bytes(out)


def zip64_eocd(entries, cd_offset):
    """Just the ZIP64 end records and an EOCD that defers to them (no members)."""
    out = bytearray(b"junk")
    z64 = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, entries % 2**64, entries % 2**64, 0, cd_offset % 2**64)
    out += struct.pack("<IIQI", 0x07064B50, 0, z64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return bytes(out)


def write(folder, name, data):
    path = os.path.join(ROOT, folder, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def main():
    vec = f32([0.5, -1.0, 2.0, 3.0, 4.0, 5.5])
    ids = i64([1, 2])
    # --- npy (CoreTests) ---
    d = "Tests/CoreTests/Fixtures/fuzz/npy"
    write(d, "f32_2x3.npy", npy("<f4", (2, 3), vec))
    write(d, "f64_3.npy", npy("<f8", (3,), struct.pack("<3d", 1, 2, 3)))
    write(d, "f16_v2_1x2.npy", npy("<f2", (1, 2), struct.pack("<2e", 1, -2), version=2))
    write(d, "i64_v3_2.npy", npy("<i8", (2,), ids, version=3))
    write(d, "scalar_f32.npy", npy("<f4", (), f32([7])))
    # Crashers: the shape product (2^63) and the byte count (2^61 x 4) overflowed Int.
    write(d, "crash_shape_overflow_2p62x2.npy", npy("<f4", (2**62, 2), f32([1, 2])))
    write(d, "crash_bytes_overflow_2p61_f4.npy", npy("<f4", (2**61,), f32([1, 2])))
    # --- npz (CoreTests) ---
    d = "Tests/CoreTests/Fixtures/fuzz/npz"
    members = {"ids": npy("<i8", (2,), ids), "vectors": npy("<f4", (2, 3), vec)}
    write(d, "savez.npz", savez(members))
    write(d, "savez_zip64.npz", savez(members, zip64=True))
    write(d, "tokens.npz", savez({**members, "rows": npy("<i8", (2,), i64([1, 1]))}))
    payload = npy("<f4", (2, 3), vec)
    def z64(size=None, offset=None):
        extra = b""
        if size is not None: extra += struct.pack("<QQ", size, size)  # uncompressed, compressed
        if offset is not None: extra += struct.pack("<Q", offset)
        return struct.pack("<HH", 1, len(extra)) + extra
    # Valid, with ZIP64 sizes and offsets in the central directory (what a >4 GiB archive carries).
    write(d, "zip64_central.npz", raw_zip([("ids.npy", npy("<i8", (2,), ids)), ("vectors.npy", payload)],
          lambda o, s: [("ids.npy", 0xFFFFFFFF, 0xFFFFFFFF, z64(size=s[0], offset=o[0])),
                        ("vectors.npy", 0xFFFFFFFF, 0xFFFFFFFF, z64(size=s[1], offset=o[1]))]))
    # Crashers: ZIP64 sizes/offsets near 2^64 (negative after the old Int conversion) and 2^63.
    write(d, "crash_zip64_size_2p64m16.npz", raw_zip([("vectors.npy", payload)],
          lambda o, s: [("vectors.npy", 0xFFFFFFFF, o[0], z64(size=2**64 - 16))]))
    write(d, "crash_zip64_offset_2p63m1.npz", raw_zip([("vectors.npy", payload)],
          lambda o, s: [("vectors.npy", 0xFFFFFFFF, 0xFFFFFFFF, z64(size=s[0], offset=2**63 - 1))]))
    write(d, "crash_zip64_entries_2p64m1.npz", zip64_eocd(2**64 - 1, 4))
    write(d, "crash_zip64_cd_offset_2p63m1.npz", zip64_eocd(1, 2**63 - 1))
    # Refused: one member referenced many times (memory amplification), and a name given twice.
    write(d, "overlap_40_refs.npz", raw_zip([("ids.npy", npy("<i8", (2,), ids)), ("vectors.npy", payload)],
          lambda o, s: [("ids.npy", s[0], o[0], b""), ("vectors.npy", s[1], o[1], b"")]
          + [("copy%d.npy" % i, s[1], o[1], b"") for i in range(40)]))
    write(d, "duplicate_names.npz", raw_zip([("ids.npy", npy("<i8", (2,), ids)), ("vectors.npy", payload), ("v2", payload)],
          lambda o, s: [("ids.npy", s[0], o[0], b""), ("vectors.npy", s[1], o[1], b""), ("vectors.npy", s[2], o[2], b"")]))
    # --- vector bodies (ServerTests): dim 3; file extension = content type ---
    d = "Tests/ServerTests/Fixtures/fuzz/vectorbody"
    write(d, "plain.json", json.dumps({"ids": [1, 2], "vectors": [[0.5, -1, 2], [3, 4, 5.5]]}))
    write(d, "b64.json", json.dumps({"ids": [1], "vectors_b64": ["AAAAPwAAgL8AAABA"]}))
    write(d, "tokens.json", json.dumps({"ids": [1, 2], "vectors": [[[0.5, -1, 2]], [[3, 4, 5.5], [1, 1, 1]]]}))
    write(d, "one.npy", npy("<f4", (2, 3), vec))
    write(d, "batch.npz", savez(members))
    write(d, "tokens.npz", savez({**members, "rows": npy("<i8", (2,), i64([1, 1]))}))
    # Crasher: token rows [Int64.max, 1] summed past Int.max.
    write(d, "crash_rows_sum_overflow.npz", savez({"ids": npy("<i8", (2,), ids), "vectors": npy("<f4", (1, 3), vec[:12]),
                                                   "rows": npy("<i8", (2,), i64([I64_MAX, 1]))}))
    write(d, "rows_negative.npz", savez({"ids": npy("<i8", (2,), ids), "vectors": npy("<f4", (1, 3), vec[:12]),
                                         "rows": npy("<i8", (2,), i64([-1, 2]))}))
    # --- safetensors headers (TeacherTests) ---
    d = "Tests/TeacherTests/Fixtures/fuzz/safetensors"
    def st(header, data):
        h = json.dumps(header, separators=(",", ":")).encode()
        return struct.pack("<Q", len(h)) + h + data
    write(d, "two.safetensors", st({"__metadata__": {"format": "pt"},
                                    "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                    "b": {"dtype": "BF16", "shape": [1, 2], "data_offsets": [8, 12]}}, f32([1, 2]) + b"\x80\x3f\x00\x40"))
    write(d, "f16_f64.safetensors", st({"h": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]},
                                        "d": {"dtype": "F64", "shape": [], "data_offsets": [4, 12]}}, struct.pack("<2e", 1, 2) + struct.pack("<d", 3)))
    # Crashers: shape x dtype size overflowed (the error message multiplied again and trapped),
    # and a product that wrapped to 0 was accepted as a 2^62-element tensor.
    write(d, "crash_size_overflow_message.safetensors", st({"a": {"dtype": "F32", "shape": [2**61], "data_offsets": [0, 4]}}, f32([1])))
    write(d, "crash_size_wraps_to_zero.safetensors", st({"a": {"dtype": "F32", "shape": [2**62], "data_offsets": [0, 0]}}, b""))
    # --- Python sources (CorpusTests) ---
    d = "Tests/CorpusTests/Fixtures/fuzz/python"
    write(d, "fstrings.py", 'def f(x):\n    return rf\'(\\{{%)(-?\\s*)(filter)(\\s+)({x})\' + f"{x!r:>{10}}" + f\'{"a" if x else "b"}\'\n')
    write(d, "nesting.py", "@dec(1)\nclass A(B, metaclass=M):\n    async def m(self, *a, b=[1, (2, {3: 4})], **k) -> 'A':\n        if (n := len(a)) > 1:\n            return [i async for i in g() if i]\n        \\\n            pass\n        '''doc\n        '''\n\tdef g(): yield from h()\n")
    write(d, "lambda_match.py", "match p:\n    case [x, *rest] if x: print(lambda y=0: y ** 2)\n    case {'k': v}: pass\nx = 0x_1F + 1_000j + .5e-3\n")


if __name__ == "__main__":
    main()
