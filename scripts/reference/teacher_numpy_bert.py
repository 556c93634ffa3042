#!/usr/bin/env python3
"""Independent numpy BERT forward for the Teacher module's tests (no torch, no transformers).

Reads config.json and model.safetensors of all-MiniLM-L6-v2 itself (header parsed with json, tensors
with numpy.frombuffer), tokenises with the ids stored in the tokenizer fixture (written by
teacher_tokenizer.py), and runs each input alone (no padding) in float64. Writes:
  Tests/TeacherTests/Fixtures/bert_reference.json  — inputs (ids), shapes, pooled embeddings
  Tests/TeacherTests/Fixtures/bert_reference.f32   — hidden states of every layer (0 = embeddings
      output … L = last), float32 little-endian, input-major then layer then token then dim.
  Tests/TeacherTests/Fixtures/tiny-bert/           — a tiny random BERT (2 layers, hidden 32) with
      `bert.`-prefixed names, mixed F32/F16/BF16 tensors, sharded in two files with
      model.safetensors.index.json, vocab.txt only; tiny_reference.json holds its decoded float32
      weights' forward (every layer) on a few id sequences.
  Tests/TeacherTests/Fixtures/function_reference.json — the four function embedding kinds of a
      few functions at layer 3 (token selection by the `tokenizers` offsets).

Usage: python3 scripts/reference/teacher_numpy_bert.py [MODEL_DIR]
"""
import json, os, struct, sys
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".cache/models/all-MiniLM-L6-v2")
FIX = os.path.join(ROOT, "Tests/TeacherTests/Fixtures")

def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        if e["dtype"] == "BF16":
            bits = np.frombuffer(data[b:end], dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(data[b:end], dtype={"F32": "<f4", "F16": "<f2", "I64": "<i8"}[e["dtype"]])
        out[name] = arr.reshape(e["shape"]).astype(np.float64)
    return out

def load_model_weights(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index):
        W = {}
        for shard in sorted(set(json.load(open(index))["weight_map"].values())):
            W.update(load_safetensors(os.path.join(folder, shard)))
        return W
    return load_safetensors(os.path.join(folder, "model.safetensors"))

def save_safetensors(path, tensors):
    """Minimal writer: tensors = {name: (dtype, shape, raw bytes)}; header padded to 8 bytes."""
    header, blob = {}, bytearray()
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + bytes(blob))

cfg = json.load(open(os.path.join(MODEL, "config.json")))
W = load_model_weights(MODEL)

def erf(x):
    # Vectorised erf via math.erf (exact to double precision).
    import math
    return np.vectorize(math.erf)(x)

def layer_norm(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b

def forward(ids, W=W, cfg=cfg):
    P = "bert." if "bert.embeddings.word_embeddings.weight" in W else ""
    D, H, L, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"], cfg["layer_norm_eps"]
    dh = D // H
    def linear(x, name):
        return x @ W[name + ".weight"].T + W[name + ".bias"]
    T = len(ids)
    x = (W[P + "embeddings.word_embeddings.weight"][ids]
         + W[P + "embeddings.position_embeddings.weight"][:T]
         + W[P + "embeddings.token_type_embeddings.weight"][0])
    x = layer_norm(x, W[P + "embeddings.LayerNorm.weight"], W[P + "embeddings.LayerNorm.bias"], eps)
    states = [x]
    for l in range(L):
        p = f"{P}encoder.layer.{l}."
        q = linear(x, p + "attention.self.query").reshape(T, H, dh).transpose(1, 0, 2)
        k = linear(x, p + "attention.self.key").reshape(T, H, dh).transpose(1, 0, 2)
        v = linear(x, p + "attention.self.value").reshape(T, H, dh).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / np.sqrt(dh)
        s = np.exp(s - s.max(-1, keepdims=True))
        s = s / s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(T, D)
        x = layer_norm(linear(ctx, p + "attention.output.dense") + x,
                       W[p + "attention.output.LayerNorm.weight"], W[p + "attention.output.LayerNorm.bias"], eps)
        h = linear(x, p + "intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))
        x = layer_norm(linear(h, p + "output.dense") + x,
                       W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"], eps)
        states.append(x)
    return states

tok_fixture = json.load(open(os.path.join(FIX, "tokenizer_reference.json")))
by_text = {c["text"]: c["full"]["ids"] for c in tok_fixture["cases"]}
TEXTS = [
    "This is an example sentence",
    "def add(a, b):\n    \"\"\"Add two numbers.\"\"\"\n    return a + b",
    "Café naïve résumé Ångström ÉCOLE façade",
]
inputs, blob = [], bytearray()
for t in TEXTS:
    ids = by_text[t]
    states = forward(np.array(ids))
    last = states[-1]
    pooled = last.mean(0)  # sentence-transformers: mean over all tokens of the (unpadded) input
    pooled = pooled / np.linalg.norm(pooled)
    inputs.append({"text": t, "ids": ids, "pooled_normalized": [round(float(v), 8) for v in pooled]})
    for s in states:
        blob += s.astype("<f4").tobytes()

with open(os.path.join(FIX, "bert_reference.f32"), "wb") as f:
    f.write(blob)
with open(os.path.join(FIX, "bert_reference.json"), "w") as f:
    json.dump({"generator": "scripts/reference/teacher_numpy_bert.py", "hidden_size": cfg["hidden_size"],
               "layers": cfg["num_hidden_layers"] + 1,
               "inputs": inputs}, f, indent=1)
print("pooled example sentence:", [round(v, 4) for v in inputs[0]["pooled_normalized"][:5]])
print(f"wrote {len(blob)} bytes of hidden states for {len(inputs)} inputs")

# ---- The four function embedding kinds (layer 3), tokens chosen with the tokenizers' offsets ----
from tokenizers import Tokenizer
tok = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
tok.no_padding()
tok.enable_truncation(512)
FUNCTIONS = [
    ("def add(a, b):", '    """Add two numbers."""\n    return a + b'),
    ("async def fetch(url: str, *, timeout: float = 10.0) -> bytes:",
     "    async with session.get(url, timeout=timeout) as r:\n        return await r.read()"),
    ("def café(ñ):", "    return ñ * 2  # 中文"),
]
LAYER = 3
funcs = []
for sig, body in FUNCTIONS:
    e = tok.encode(sig)
    real = [i for i, s in enumerate(e.special_tokens_mask) if not s]
    st = forward(np.array(e.ids))[LAYER][real]
    joined = sig + "\n" + body
    body_start = len(sig) + 1
    ej = tok.encode(joined)
    rows = [i for i, (s, o) in enumerate(zip(ej.special_tokens_mask, ej.offsets)) if not s and o[0] >= body_start]
    bm = forward(np.array(ej.ids))[LAYER][rows].mean(0)
    eb = tok.encode(body)
    rb = [i for i, s in enumerate(eb.special_tokens_mask) if not s]
    bo = forward(np.array(eb.ids))[LAYER][rb].mean(0)
    r = lambda a: [round(float(v), 7) for v in np.asarray(a).ravel()]
    funcs.append({"signature": sig, "body": body, "sig_token_count": len(real), "body_token_count": len(rows),
                  "body_only_token_count": len(rb),
                  "sig_tokens": r(st) if not funcs else None,  # first function only (fixture size) "sig_mean": r(st.mean(0)),
                  "body_mean": r(bm), "body_only_mean": r(bo)})
with open(os.path.join(FIX, "function_reference.json"), "w") as f:
    json.dump({"generator": "scripts/reference/teacher_numpy_bert.py", "layer": LAYER, "functions": funcs}, f)

# ---- A tiny random BERT: prefixed names, mixed dtypes, two shards, vocab.txt only ----
rng = np.random.default_rng(5)
TINY = os.path.join(FIX, "tiny-bert")
os.makedirs(TINY, exist_ok=True)
tcfg = {"model_type": "bert", "architectures": ["BertModel"], "vocab_size": 40, "hidden_size": 32,
        "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 48,
        "max_position_embeddings": 16, "type_vocab_size": 2, "layer_norm_eps": 1e-5, "hidden_act": "gelu"}
json.dump(tcfg, open(os.path.join(TINY, "config.json"), "w"), indent=1)
vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list("abcdefghijklmnopqrstuvwxyz") + ["def", "return", "(", ")", ":", ",", "+", "##s", "##ed"]
assert len(vocab) == 40
open(os.path.join(TINY, "vocab.txt"), "w").write("\n".join(vocab) + "\n")
Dt, It = tcfg["hidden_size"], tcfg["intermediate_size"]
shapes = {"embeddings.word_embeddings.weight": (40, Dt), "embeddings.position_embeddings.weight": (16, Dt),
          "embeddings.token_type_embeddings.weight": (2, Dt),
          "embeddings.LayerNorm.weight": (Dt,), "embeddings.LayerNorm.bias": (Dt,)}
for l in range(2):
    p = f"encoder.layer.{l}."
    for part in ["query", "key", "value"]:
        shapes[p + f"attention.self.{part}.weight"] = (Dt, Dt); shapes[p + f"attention.self.{part}.bias"] = (Dt,)
    shapes.update({p + "attention.output.dense.weight": (Dt, Dt), p + "attention.output.dense.bias": (Dt,),
                   p + "attention.output.LayerNorm.weight": (Dt,), p + "attention.output.LayerNorm.bias": (Dt,),
                   p + "intermediate.dense.weight": (It, Dt), p + "intermediate.dense.bias": (It,),
                   p + "output.dense.weight": (Dt, It), p + "output.dense.bias": (Dt,),
                   p + "output.LayerNorm.weight": (Dt,), p + "output.LayerNorm.bias": (Dt,)})
shards = [{}, {}]
dtypes = ["F32", "F16", "BF16"]
for i, (name, shape) in enumerate(shapes.items()):
    a = rng.normal(0, 0.5, size=shape).astype(np.float32)
    if name.endswith("LayerNorm.weight"):
        a = (1 + 0.1 * a).astype(np.float32)
    dt = dtypes[i % 3]
    if dt == "F32":
        raw = a.astype("<f4").tobytes()
    elif dt == "F16":
        raw = a.astype("<f2").tobytes()
    else:  # BF16, round to nearest even
        bits = a.view(np.uint32).astype(np.uint64)
        bits = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")
        raw = bits.tobytes()
    shards[0 if name.startswith("embeddings") or ".layer.0." in name else 1]["bert." + name] = (dt, shape, raw)
names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
weight_map = {}
for fname, tensors in zip(names, shards):
    save_safetensors(os.path.join(TINY, fname), tensors)
    weight_map.update({k: fname for k in tensors})
json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map},
          open(os.path.join(TINY, "model.safetensors.index.json"), "w"), indent=1)
TW = load_model_weights(TINY)
tiny_inputs = []
for ids in [[2, 31, 7, 33, 3], [2, 10, 11, 12, 13, 14, 15, 38, 39, 3], [2, 3]]:
    st = forward(np.array(ids), TW, tcfg)
    tiny_inputs.append({"ids": ids, "states": [[round(float(v), 7) for v in s.ravel()] for s in st]})
with open(os.path.join(FIX, "tiny_reference.json"), "w") as f:
    json.dump({"generator": "scripts/reference/teacher_numpy_bert.py", "inputs": tiny_inputs}, f)
print("wrote function_reference.json, tiny-bert/ and tiny_reference.json")
