#!/usr/bin/env python3
"""Independent numpy BERT forward for the Teacher module's tests (no torch, no transformers).

Reads config.json and model.safetensors of all-MiniLM-L6-v2 itself (header parsed with json, tensors
with numpy.frombuffer), tokenises with the ids stored in the tokenizer fixture (written by
teacher_tokenizer.py), and runs each input alone (no padding) in float64. Writes:
  Tests/TeacherTests/Fixtures/bert_reference.json  — inputs (ids), shapes, pooled embeddings
  Tests/TeacherTests/Fixtures/bert_reference.f32   — hidden states of every layer (0 = embeddings
      output … L = last), float32 little-endian, input-major then layer then token then dim.

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
        dt = {"F32": "<f4", "F16": "<f2", "I64": "<i8"}[e["dtype"]]
        out[name] = np.frombuffer(data[b:end], dtype=dt).reshape(e["shape"]).astype(np.float64)
    return out

cfg = json.load(open(os.path.join(MODEL, "config.json")))
W = load_safetensors(os.path.join(MODEL, "model.safetensors"))
P = "bert." if "bert.embeddings.word_embeddings.weight" in W else ""
D, H, L, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"], cfg["layer_norm_eps"]
dh = D // H

def erf(x):
    # Vectorised erf via math.erf (exact to double precision).
    import math
    return np.vectorize(math.erf)(x)

def layer_norm(x, g, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b

def linear(x, name):
    return x @ W[name + ".weight"].T + W[name + ".bias"]

def forward(ids):
    T = len(ids)
    x = (W[P + "embeddings.word_embeddings.weight"][ids]
         + W[P + "embeddings.position_embeddings.weight"][:T]
         + W[P + "embeddings.token_type_embeddings.weight"][0])
    x = layer_norm(x, W[P + "embeddings.LayerNorm.weight"], W[P + "embeddings.LayerNorm.bias"])
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
                       W[p + "attention.output.LayerNorm.weight"], W[p + "attention.output.LayerNorm.bias"])
        h = linear(x, p + "intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))
        x = layer_norm(linear(h, p + "output.dense") + x,
                       W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"])
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
    json.dump({"generator": "scripts/reference/teacher_numpy_bert.py", "hidden_size": D, "layers": L + 1,
               "inputs": inputs}, f, indent=1)
print("pooled example sentence:", [round(v, 4) for v in inputs[0]["pooled_normalized"][:5]])
print(f"wrote {len(blob)} bytes of hidden states for {len(inputs)} inputs")
