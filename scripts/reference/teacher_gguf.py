#!/usr/bin/env python3
"""Reference fixtures for the Swift GGUF reader and dequantisation (Teacher module).

Uses the `gguf` Python package (gguf-py, 0.19.0; `make gguf-venv` installs it with numpy into
.cache/venv-gguf) as the independent implementation:

  tiny      writes Tests/TeacherTests/Fixtures/gguf/tiny.gguf with gguf.GGUFWriter: metadata of every
            value type (every scalar type, strings, arrays of each scalar type, an array of strings,
            nested arrays), and tensors of F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (quantised by
            gguf.quants.quantize from seeded normal data) and Q4_K, Q5_K, Q6_K (gguf-py cannot quantise
            those: seeded random blocks with finite fp16 scales), each at least 2 blocks and 2 rows,
            plus an I32 tensor. Then reads the file back with gguf.GGUFReader and writes
              tiny_expected.json  metadata (type and value), tensors (dims, type, offset), data offset
              tiny_expected.npz   every float tensor dequantised by gguf.quants.dequantize (float32,
                                  row-major, shaped like the gguf reader reports)
  smollm2   reads the SmolLM2-135M-Instruct GGUF and writes
              smollm2_summary.json   hyper-parameters, tensor names / dims / types, type counts
              smollm2_q4_1_rows.npy  the first rows of one Q4_1 tensor, dequantised
  tokenizer reads the same GGUF's vocabulary and merges into Hugging Face `tokenizers` (0.23.3, no
            dependencies needed) with SmolLM2's pre-tokenizer and control tokens, and writes
              smollm2_tokenizer_reference.json  ids, offsets, pre-tokenizer pieces and decoded text
                                                of a sample of code and unicode text

Usage: .cache/venv-gguf/bin/python scripts/reference/teacher_gguf.py tiny
       .cache/venv-gguf/bin/python scripts/reference/teacher_gguf.py smollm2 [PATH.gguf]
       .cache/venv-gguf/bin/python scripts/reference/teacher_gguf.py tokenizer [PATH.gguf]
"""
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T, GGUFValueType as V
from gguf import quants

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests/TeacherTests/Fixtures/gguf")
SMOL = os.path.join(ROOT, ".cache/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf")


def random_k_blocks(rng, qtype, n_blocks):
    """Random blocks of a k-quant type with finite fp16 scales (d, dmin) at their ggml positions."""
    _, size = gguf.GGML_QUANT_SIZES[qtype]
    blocks = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    scales = rng.uniform(-0.05, 0.05, size=(n_blocks, 2)).astype(np.float16)
    scales[0, 0] = np.float16(6.0e-6)  # a subnormal d in the first block
    if qtype in (T.Q4_K, T.Q5_K):  # d, dmin lead the block
        blocks[:, 0:4] = scales.view(np.uint8).reshape(n_blocks, 4)
    else:  # Q6_K: d is the last two bytes
        blocks[:, size - 2:size] = scales[:, :1].view(np.uint8).reshape(n_blocks, 2)
    return blocks


# Nested arrays (inner element type INT32 / STRING, as the writer infers): gguf.GGUFReader keeps them as
# raw parts only, so their expected values are the writer's input.
NESTED = {"test.array.nested": [[1, 2, 3], [4], [5, 6]],
          "test.array.nested_strings": [["x", "y"], ["z"]],
          "test.array.nested2": [[[1], [2, 3]], [[4, 5, 6]]]}


def write_tiny():
    rng = np.random.default_rng(20240613)
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "tiny.gguf")
    w = gguf.GGUFWriter(path, arch="llama")
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_uint64("test.u64", 18000000000000000000)
    w.add_int64("test.i64", -9000000000000000000)
    w.add_float32("test.f32", 3.14159)
    w.add_float64("test.f64", -2.718281828459045)
    w.add_bool("test.bool_true", True)
    w.add_bool("test.bool_false", False)
    w.add_string("test.string", "héllo, 世界 🤗")
    w.add_key_value("test.empty_string", "", V.STRING)
    for name, vtype, values in [
        ("u8", V.UINT8, [0, 1, 255]), ("i8", V.INT8, [-128, 0, 127]),
        ("u16", V.UINT16, [0, 65535]), ("i16", V.INT16, [-32768, 32767]),
        ("u32", V.UINT32, [0, 4294967295]), ("i32", V.INT32, [-2147483648, 2147483647]),
        ("u64", V.UINT64, [0, 18446744073709551615]), ("i64", V.INT64, [-9223372036854775808, 9223372036854775807]),
        ("f32", V.FLOAT32, [0.5, -1.25, 1e-30]), ("f64", V.FLOAT64, [1e300, -0.1]),
        ("bool", V.BOOL, [True, False, True]),
    ]:
        w.add_key_value(f"test.array.{name}", values, V.ARRAY, sub_type=vtype)
    w.add_array("test.array.string", ["a", "", "ünïcödé", "Ġhello"])
    for key, value in NESTED.items():
        w.add_array(key, value)
    w.add_custom_alignment(64)  # not the default 32: the reader must honour general.alignment

    floats = {}

    def normal(shape):
        return rng.standard_normal(size=shape).astype(np.float32)

    f32 = normal((3, 64))
    f32[0, :6] = [np.inf, -np.inf, np.nan, -0.0, 1e-45, 3.4e38]
    w.add_tensor("t.f32", f32)
    f16 = normal((3, 64)).astype(np.float16)
    f16[0, :6] = np.array([np.inf, -np.inf, np.nan, -0.0, 6e-8, 65504], dtype=np.float16)
    w.add_tensor("t.f16", f16)
    w.add_tensor("t.bf16", quants.quantize(normal((2, 64)), T.BF16), raw_dtype=T.BF16)
    for qtype, shape in [(T.Q4_0, (3, 64)), (T.Q4_1, (3, 64)), (T.Q5_0, (3, 64)), (T.Q5_1, (3, 64)),
                         (T.Q8_0, (2, 3, 32))]:
        x = normal(shape) * rng.uniform(0.01, 4.0)
        x.reshape(-1)[:5] = 0  # partly constant blocks
        w.add_tensor(f"t.{qtype.name.lower()}", quants.quantize(x, qtype), raw_dtype=qtype)
    for qtype in (T.Q4_K, T.Q5_K, T.Q6_K):
        rows, blocks_per_row = 2, 2
        blocks = random_k_blocks(rng, qtype, rows * blocks_per_row)
        w.add_tensor(f"t.{qtype.name.lower()}", blocks.reshape(rows, -1), raw_dtype=qtype)
    w.add_tensor("t.vector_q8_0", quants.quantize(normal((64,)), T.Q8_0), raw_dtype=T.Q8_0)
    w.add_tensor("t.i32", np.array([1, -2, 3, 2147483647], dtype=np.int32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    # Read back with the package's own reader: the expected values the Swift reader must report.
    r = gguf.GGUFReader(path)
    meta = {}
    for f in r.fields.values():
        if f.name.startswith("GGUF."):
            continue
        meta[f.name] = {"type": field_type(f), "value": field_value(r, f)}
    tensors = []
    for t in r.tensors:
        dims = [int(d) for d in t.shape]  # ggml order: ne[0] (the row) first
        tensors.append({"name": t.name, "type": t.tensor_type.name, "type_id": int(t.tensor_type),
                        "dims": dims, "offset": int(t.data_offset - r.data_offset), "n_bytes": int(t.n_bytes)})
        if t.tensor_type != T.I32:
            floats[t.name] = quants.dequantize(np.asarray(t.data), t.tensor_type).reshape(list(reversed(dims)))
    expected = {"version": 3, "alignment": int(r.alignment), "data_offset": int(r.data_offset),
                "file_size": os.path.getsize(path), "tensor_count": len(r.tensors),
                "metadata": meta, "tensors": tensors}
    with open(os.path.join(OUT, "tiny_expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False, allow_nan=False)
        f.write("\n")
    np.savez(os.path.join(OUT, "tiny_expected.npz"), **floats)
    print(f"wrote {path} ({os.path.getsize(path)} bytes), {len(tensors)} tensors, {len(meta)} keys")


def field_type(f):
    """'UINT8', …, 'ARRAY[UINT16]', 'ARRAY[ARRAY]' (the reader only gives the outer element type)."""
    t = V(f.types[0]).name
    if f.types[0] == V.ARRAY:
        t += f"[{V(f.types[1]).name}]" if len(f.types) > 1 else "[]"
    return t


def json_number(x):
    """Exact JSON for a numpy scalar: floats as their bit pattern (hex) so nothing rounds."""
    if isinstance(x, (np.floating, float)):
        arr = np.asarray(x)
        return {"bits": hex(int(arr.view(np.uint32 if arr.dtype == np.float32 else np.uint64)))}
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    return str(int(x))  # decimal text: JSON parsers differ on integers beyond 2^53


def nested_json(v):
    return [nested_json(x) for x in v] if isinstance(v, list) else (v if isinstance(v, str) else str(v))


def field_value(r, f):
    if f.types[0] == V.STRING:
        return bytes(f.parts[f.data[0]]).decode("utf-8")
    if f.types[0] != V.ARRAY:
        return json_number(f.parts[f.data[0]][0]) if f.types[0] != V.BOOL else bool(f.parts[f.data[0]][0])
    if len(f.types) > 1 and f.types[1] == V.ARRAY:
        return nested_json(NESTED[f.name])
    if f.types[1] == V.STRING:
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
    if f.types[1] == V.BOOL:
        return [bool(f.parts[i][0]) for i in f.data]
    return [json_number(f.parts[i][0]) for i in f.data]


def write_smollm2(path):
    r = gguf.GGUFReader(path)

    def scalar(key):
        f = r.fields[key]
        if f.types[0] == V.STRING:
            return bytes(f.parts[f.data[0]]).decode("utf-8")
        return f.parts[f.data[0]][0].item()

    arch = scalar("general.architecture")
    types = {}
    for t in r.tensors:
        types[t.tensor_type.name] = types.get(t.tensor_type.name, 0) + 1
    q41 = next(t for t in r.tensors if t.tensor_type == T.Q4_1 and len(t.shape) == 2)
    rows = 2
    row_bytes = q41.data.shape[-1]
    first = quants.dequantize(np.asarray(q41.data)[:rows].reshape(rows, row_bytes), T.Q4_1)
    np.save(os.path.join(OUT, "smollm2_q4_1_rows.npy"), first.astype(np.float32))
    summary = {
        "file_size": os.path.getsize(path), "version": int(r.fields["GGUF.version"].parts[-1][0]),
        "alignment": int(r.alignment), "data_offset": int(r.data_offset),
        "architecture": arch, "block_count": scalar(f"{arch}.block_count"),
        "embedding_length": scalar(f"{arch}.embedding_length"),
        "head_count": scalar(f"{arch}.attention.head_count"),
        "head_count_kv": scalar(f"{arch}.attention.head_count_kv"),
        "vocab_size": len(r.fields["tokenizer.ggml.tokens"].data),
        "tokenizer_model": scalar("tokenizer.ggml.model"),
        "metadata_count": len([k for k in r.fields if not k.startswith("GGUF.")]),
        "tensor_count": len(r.tensors), "type_counts": types,
        "tensors": [{"name": t.name, "type": t.tensor_type.name, "dims": [int(d) for d in t.shape],
                     "offset": int(t.data_offset - r.data_offset)} for t in r.tensors],
        "q4_1_reference": {"name": q41.name, "rows": rows},
    }
    tensors = summary.pop("tensors")
    text = json.dumps(summary, indent=1)[:-2]  # one tensor per line keeps the file small and diffable
    text += ',\n "tensors": [\n' + ",\n".join("  " + json.dumps(t) for t in tensors) + "\n ]\n}\n"
    with open(os.path.join(OUT, "smollm2_summary.json"), "w") as f:
        f.write(text)
    print(f"{arch}: {summary['tensor_count']} tensors {types}; reference rows of {q41.name}")


TOKENIZER_TEXTS = [
    "def add(a, b):\n    \"\"\"Add two numbers.\"\"\"\n    return a + b\n",
    "async def fetch(url: str, *, timeout: float = 10.0) -> dict[str, Any]:",
    "    if x >= 0 and y != 1:\n\t\tz = x ** 2 // 3 % 4 @ m\n    else: raise ValueError(f'bad {x!r}')",
    "class Foo(Bar, metaclass=ABCMeta):\n    __slots__ = ('_a', '_b')  # it's they're we've I'm you'll he'd",
    "for i in range(1234567890): print(i, 3.14159, 0x1F, 1e-9, ١٢٣, ½, Ⅻ)",
    "Café naïve résumé Ångström ÉCOLE façade Straße İstanbul ΣΊΣΥΦΟΣ ﬁne",
    "中文字符测试 and 日本語のテキスト 한국어 텍스트",
    "emoji 🤗😀👍🏽 family 👨‍👩‍👧 flags 🇫🇷 e\u0301 a\u0300\u0323",
    "trailing   spaces   \n\n\n  \t \r\n\u00a0\u2003x\u3000y  ",
    "<|im_start|>user\nWrite a function<|im_end|>\n<|im_start|>assistant\n<file_sep><|endoftext|>",
    "'s 't 're 've 'm 'll 'd '' 'S 'Re n't don't",
    "",
    " ",
    "x",
    "bytes without a token are dropped: a\x04b \x00\x01\x7f",
    "!!!???... ;;; --> <= == != ** // @@ $$ %% ^^ && || ~~ `` \\ \"\" ''",
]


PRE_EXTRA = [
    "I'M YOU'LL WE'VE THEY'RE 'ſ x\r\n\r\n  y \n\n z\t\n",
    "12345678901 a1b22c333d4444 ١٢٣٤٥ ½¾ ²³",
    "foo.bar()\n\n\n    baz += [1, 2];\r\n}\n",
    "\tx ,y  ,,z\u00a0w\u2003\nq",
]


def gguf_bpe(path):
    """Hugging Face `tokenizers` BPE model from a GGUF's own vocabulary and merges (no pre-tokenizer
    yet), with the vocabulary and token types: (tokenizer, tokens, types)."""
    from tokenizers import Tokenizer, models
    r = gguf.GGUFReader(path)

    def strings(key):
        f = r.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    tokens, merges = strings("tokenizer.ggml.tokens"), strings("tokenizer.ggml.merges")
    tt = r.fields["tokenizer.ggml.token_type"]
    types = [int(tt.parts[i][0]) for i in tt.data]
    vocab = {t: i for i, t in reversed(list(enumerate(tokens)))}
    return Tokenizer(models.BPE(vocab, [tuple(m.split(" ", 1)) for m in merges])), tokens, types


def write_tokenizer(path):
    """Reference ids and offsets for the byte-level BPE tokenizer: Hugging Face `tokenizers` built
    from the GGUF's own vocabulary and merges with SmolLM2's pre-tokenizer (Digits(individual) +
    ByteLevel(add_prefix_space=False)) and its control tokens as special tokens."""
    from tokenizers import pre_tokenizers, decoders
    tok, tokens, types = gguf_bpe(path)
    pre = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                   pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.pre_tokenizer = pre
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([tokens[i] for i, t in enumerate(types) if t in (3, 4)])
    cases = []
    for text in TOKENIZER_TEXTS:
        enc = tok.encode(text)
        pieces = pre.pre_tokenize_str(text)
        cases.append({"text": text, "ids": enc.ids, "offsets": [list(o) for o in enc.offsets],
                      "pre_offsets": [list(o) for _, o in pieces], "decoded": tok.decode(enc.ids, skip_special_tokens=False)})
    # The Qwen2 and Llama 3 patterns, as their tokenizer.json Split pre-tokenizers apply them (no model needed).
    from tokenizers import Regex
    patterns = {
        "qwen2": r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
        "llama-bpe": r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
    }
    texts = TOKENIZER_TEXTS + PRE_EXTRA
    splits = {}
    for name, pattern in patterns.items():
        split = pre_tokenizers.Split(Regex(pattern), behavior="isolated")
        splits[name] = [[list(o) for _, o in split.pre_tokenize_str(t)] for t in texts]
    with open(os.path.join(OUT, "smollm2_tokenizer_reference.json"), "w") as f:
        json.dump({"pre": "smollm", "cases": cases, "split_texts": texts, "splits": splits}, f, ensure_ascii=False)
        f.write("\n")
    print(f"{len(cases)} tokenizer cases, {sum(len(c['ids']) for c in cases)} tokens")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "tiny"
    if what == "tiny":
        write_tiny()
    elif what == "smollm2":
        write_smollm2(sys.argv[2] if len(sys.argv) > 2 else SMOL)
    elif what == "tokenizer":
        write_tokenizer(sys.argv[2] if len(sys.argv) > 2 else SMOL)
    else:
        sys.exit(__doc__)
