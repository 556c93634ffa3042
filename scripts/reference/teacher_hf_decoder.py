#!/usr/bin/env python3
"""Reference fixtures for Hugging Face decoder folders (Teacher module, `DecoderModel.load(directory:)`).

Writes three tiny random Hugging Face model folders, by hand (json + struct, no `safetensors` or
`transformers` package), and the reference hidden states of every layer from an independent numpy
implementation (float64) written from transformers' modeling_llama / modeling_qwen2 / modeling_qwen3
with HF's own conventions: weights [out, in] under HF names, rotary embeddings with `rotate_half`
(pairs (i, i + d/2), inv_freq = base^(-2i/d), linear scaling divides positions by the factor),
grouped-query attention (`repeat_kv`), causal mask, QKV bias (qwen2, or `attention_bias`), o_proj
bias (`attention_bias` in llama/qwen3), per-head q/k RMSNorm before RoPE (qwen3), SwiGLU MLP.
Hidden states are transformers' `output_hidden_states` (0 = embeddings, N = after the final norm).
Nothing here permutes Q/K rows: that is exactly what the Swift loader must not do for HF folders.

  Tests/TeacherTests/Fixtures/hf/<case>/      config.json, tokenizer.json, safetensors, and
  Tests/TeacherTests/Fixtures/hf/<case>.npz   ids (two sequences, concatenated), lengths, layer_<l>
                                              (Σ T × D float32) for l = 0 … N
  Tests/TeacherTests/Fixtures/hf/tokenizer_reference.json   ids and offsets of sample texts from
                                              Hugging Face `tokenizers` loading each tokenizer.json

    qwen2_bf16   qwen2, q/k/v biases, untied lm_head (present, never read), BF16, Qwen2 Split regex
    qwen3_f16    qwen3, q/k norms, head_dim 16 != hidden 32 / 4 heads, attention_bias (q/k/v/o biases),
                 F16, two shards + model.safetensors.index.json, NFC normalizer
    llama_f32    llama, tied embeddings (no lm_head), linear RoPE scaling 2.0, F32, Digits + ByteLevel
                 (SmolLM2's pre-tokenizer) and a BOS template post-processor

The tokenizer is a small byte-level BPE (256 byte symbols, merges learned from a few lines of code,
two added special tokens). Usage: .cache/venv-gguf/bin/python scripts/reference/teacher_hf_decoder.py
(needs numpy and tokenizers).
"""
import collections
import json
import os
import re
import struct

import numpy as np
from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests/TeacherTests/Fixtures/hf")

QWEN2_REGEX = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
CORPUS = """def add(a, b):
    return a + b

class Stack:
    def push(self, item):
        self.items.append(item)
    def pop(self):
        return self.items.pop()

for i in range(10):
    print(i * i, "done")
"""
TEXTS = ["def add(a, b):\n    return a + b\n", "x = 12345  # café naïve → ok", "<|im_start|>print(self.items)<|im_end|>",
         "  \n\n\tclass Stack:  pass ", "ça va? 42, 'll 've"]


# ---------------------------------------------------------------- the tokenizer

def bytes_to_unicode():
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def learn_merges(count):
    """Greedy BPE on the corpus' words (a rough split; the merges only need to be valid)."""
    b2u = bytes_to_unicode()
    words = collections.Counter(tuple(b2u[b] for b in w.encode()) for w in re.findall(r" ?\w+| ?[^\w\s]+|\s+", CORPUS))
    merges = []
    for _ in range(count):
        pairs = collections.Counter()
        for w, c in words.items():
            for p in zip(w, w[1:]):
                pairs[p] += c
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        new = collections.Counter()
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] += c
        words = new
    return merges


def tokenizer_json(pre, merges_as_pairs, normalizer=None, bos=False):
    b2u = bytes_to_unicode()
    vocab = {b2u[b]: i for i, b in enumerate(sorted(b2u))}
    merges = learn_merges(40)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    specials = ["<|im_start|>", "<|im_end|>"]
    added = [{"id": len(vocab) + i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, s in enumerate(specials)]
    if pre == "qwen2":
        pre_tok = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_REGEX}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]}
    else:  # smollm
        pre_tok = {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]}
    post = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True}
    if bos:
        post = {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "<|im_start|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "<|im_start|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {"<|im_start|>": {"id": "<|im_start|>", "ids": [added[0]["id"]], "tokens": ["<|im_start|>"]}}}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": normalizer,
            "pre_tokenizer": pre_tok, "post_processor": post,
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": vocab,
                      "merges": [[a, b] for a, b in merges] if merges_as_pairs else [f"{a} {b}" for a, b in merges]}}


# ---------------------------------------------------------------- safetensors by hand

def to_dtype(a, dtype):
    """float32 → the stored dtype's bytes and the exact values they hold (float64)."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    if dtype == "F32":
        return a.tobytes(), a.astype(np.float64)
    if dtype == "F16":
        h = a.astype(np.float16)
        return h.tobytes(), h.astype(np.float64)
    u = a.view(np.uint32).astype(np.uint64)  # BF16, round to nearest even
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return r.tobytes(), (r.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def write_safetensors(path, tensors):
    """tensors: [(name, dtype, shape, bytes)] in file order."""
    header, offset = {}, 0
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for *_, raw in tensors:
            f.write(raw)


# ---------------------------------------------------------------- the model (float64, HF names)

def rms_norm(x, w, eps):
    return w * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def rope(x, base, factor):
    dh, t = x.shape[-1], x.shape[-2]
    inv = 1.0 / (base ** (np.arange(0, dh, 2, dtype=np.float64) / dh))
    freqs = np.outer(np.arange(t, dtype=np.float64) / factor, inv)
    emb = np.concatenate([freqs, freqs], axis=-1)
    return x * np.cos(emb) + rotate_half(x) * np.sin(emb)


def forward(cfg, W, ids):
    n, heads, kv, dh, eps = cfg["num_hidden_layers"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"], cfg["rms_norm_eps"]
    factor = (cfg.get("rope_scaling") or {}).get("factor", 1.0)
    x = W["model.embed_tokens.weight"][ids]
    t = len(ids)
    states = [x.copy()]
    mask = np.triu(np.full((t, t), -np.inf), 1)
    for l in range(n):
        p = f"model.layers.{l}."
        a = p + "self_attn."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        q, k, v = (h @ W[a + f"{s}_proj.weight"].T for s in "qkv")
        if a + "q_proj.bias" in W:
            q, k, v = q + W[a + "q_proj.bias"], k + W[a + "k_proj.bias"], v + W[a + "v_proj.bias"]
        q = q.reshape(t, heads, dh).transpose(1, 0, 2)
        k = k.reshape(t, kv, dh).transpose(1, 0, 2)
        v = v.reshape(t, kv, dh).transpose(1, 0, 2)
        if a + "q_norm.weight" in W:
            q, k = rms_norm(q, W[a + "q_norm.weight"], eps), rms_norm(k, W[a + "k_norm.weight"], eps)
        q, k = rope(q, cfg["rope_theta"], factor), rope(k, cfg["rope_theta"], factor)
        k, v = np.repeat(k, heads // kv, axis=0), np.repeat(v, heads // kv, axis=0)
        s = q @ k.transpose(0, 2, 1) / np.sqrt(dh) + mask
        s = np.exp(s - s.max(axis=-1, keepdims=True))
        s /= s.sum(axis=-1, keepdims=True)
        o = (s @ v).transpose(1, 0, 2).reshape(t, heads * dh) @ W[a + "o_proj.weight"].T
        if a + "o_proj.bias" in W:
            o = o + W[a + "o_proj.bias"]
        x = x + o
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        g = h @ W[p + "mlp.gate_proj.weight"].T
        x = x + ((g / (1 + np.exp(-g))) * (h @ W[p + "mlp.up_proj.weight"].T)) @ W[p + "mlp.down_proj.weight"].T
        states.append(rms_norm(x, W["model.norm.weight"], eps) if l == n - 1 else x.copy())
    return states


# ---------------------------------------------------------------- the cases

CASES = {
    "qwen2_bf16": dict(model_type="qwen2", dtype="BF16", heads=4, kv=2, head_dim=None, layers=2, shards=1, tie=False,
                       bias="qkv", rope_scaling=None, pre="qwen2", pairs=False, normalizer=None, bos=False, theta=1e6),
    "qwen3_f16": dict(model_type="qwen3", dtype="F16", heads=4, kv=2, head_dim=16, layers=2, shards=2, tie=True,
                      bias="qkvo", rope_scaling=None, pre="qwen2", pairs=True, normalizer={"type": "NFC"}, bos=False, theta=1e6),
    "llama_f32": dict(model_type="llama", dtype="F32", heads=4, kv=2, head_dim=None, layers=3, shards=1, tie=True,
                      bias="", rope_scaling={"type": "linear", "factor": 2.0}, pre="smollm", pairs=False, normalizer=None,
                      bos=True, theta=10000.0),
}
HIDDEN, FFN = 32, 64


def write_case(name, spec, seed, tok_ref):
    rng = np.random.default_rng(seed)
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    tj = tokenizer_json(spec["pre"], spec["pairs"], spec["normalizer"], spec["bos"])
    with open(os.path.join(d, "tokenizer.json"), "w") as f:
        json.dump(tj, f, ensure_ascii=False)
    vocab_size = len(tj["model"]["vocab"]) + len(tj["added_tokens"])
    heads, kv = spec["heads"], spec["kv"]
    dh = spec["head_dim"] or HIDDEN // heads
    cfg = {"architectures": ["X"], "model_type": spec["model_type"], "hidden_size": HIDDEN, "intermediate_size": FFN,
           "num_hidden_layers": spec["layers"], "num_attention_heads": heads, "num_key_value_heads": kv,
           "rms_norm_eps": 1e-6 if spec["model_type"] != "llama" else 1e-5, "rope_theta": spec["theta"],
           "rope_scaling": spec["rope_scaling"], "max_position_embeddings": 128, "vocab_size": vocab_size,
           "tie_word_embeddings": spec["tie"], "hidden_act": "silu", "torch_dtype": {"BF16": "bfloat16", "F16": "float16", "F32": "float32"}[spec["dtype"]]}
    if spec["head_dim"]:
        cfg["head_dim"] = spec["head_dim"]
    if spec["model_type"] != "qwen2":
        cfg["attention_bias"] = spec["bias"] == "qkvo"
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    cfg["head_dim"] = dh

    tensors, W = [], {}

    def put(tname, a):
        raw, exact = to_dtype(a, spec["dtype"])
        tensors.append((tname, spec["dtype"], a.shape, raw))
        W[tname] = exact

    def mat(shape, scale):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    def norm(n):
        return (1 + 0.2 * rng.standard_normal(n)).astype(np.float32)

    put("model.embed_tokens.weight", mat((vocab_size, HIDDEN), 1.0))
    for l in range(spec["layers"]):
        p = f"model.layers.{l}."
        a = p + "self_attn."
        put(p + "input_layernorm.weight", norm(HIDDEN))
        put(a + "q_proj.weight", mat((heads * dh, HIDDEN), HIDDEN ** -0.5))
        put(a + "k_proj.weight", mat((kv * dh, HIDDEN), HIDDEN ** -0.5))
        put(a + "v_proj.weight", mat((kv * dh, HIDDEN), HIDDEN ** -0.5))
        if "qkv" in spec["bias"]:
            put(a + "q_proj.bias", mat((heads * dh,), 0.5))
            put(a + "k_proj.bias", mat((kv * dh,), 0.5))
            put(a + "v_proj.bias", mat((kv * dh,), 0.5))
        put(a + "o_proj.weight", mat((HIDDEN, heads * dh), (heads * dh) ** -0.5))
        if "o" in spec["bias"]:
            put(a + "o_proj.bias", mat((HIDDEN,), 0.5))
        if spec["model_type"] == "qwen3":
            put(a + "q_norm.weight", norm(dh))
            put(a + "k_norm.weight", norm(dh))
        put(p + "post_attention_layernorm.weight", norm(HIDDEN))
        put(p + "mlp.gate_proj.weight", mat((FFN, HIDDEN), HIDDEN ** -0.5))
        put(p + "mlp.up_proj.weight", mat((FFN, HIDDEN), HIDDEN ** -0.5))
        put(p + "mlp.down_proj.weight", mat((HIDDEN, FFN), FFN ** -0.5))
    put("model.norm.weight", norm(HIDDEN))
    if not spec["tie"]:
        put("lm_head.weight", mat((vocab_size, HIDDEN), HIDDEN ** -0.5))

    if spec["shards"] == 1:
        write_safetensors(os.path.join(d, "model.safetensors"), tensors)
    else:
        half = len(tensors) // 2
        names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
        parts = [tensors[:half], tensors[half:]]
        for fname, part in zip(names, parts):
            write_safetensors(os.path.join(d, fname), part)
        index = {"metadata": {"total_size": sum(len(t[3]) for t in tensors)},
                 "weight_map": {t[0]: fname for fname, part in zip(names, parts) for t in part}}
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump(index, f, indent=2)

    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    tok_ref[name] = [{"text": t, "ids": tok.encode(t).ids, "offsets": [list(o) for o in tok.encode(t).offsets]} for t in TEXTS]
    seqs = [tok.encode(TEXTS[0]).ids, tok.encode(TEXTS[2]).ids]
    per_seq = [forward(cfg, W, np.array(s)) for s in seqs]
    out = {"ids": np.array(sum(seqs, []), dtype=np.int64), "lengths": np.array([len(s) for s in seqs], dtype=np.int64)}
    for l in range(spec["layers"] + 1):
        out[f"layer_{l}"] = np.concatenate([s[l] for s in per_seq]).astype(np.float32)
    np.savez(os.path.join(OUT, f"{name}.npz"), **out)
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print(f"{name}: {size} bytes in {len(os.listdir(d))} files, vocab {vocab_size}, sequences {[len(s) for s in seqs]}")


def main():
    os.makedirs(OUT, exist_ok=True)
    tok_ref = {}
    for i, (name, spec) in enumerate(CASES.items()):
        write_case(name, spec, 2000 + i, tok_ref)
    with open(os.path.join(OUT, "tokenizer_reference.json"), "w") as f:
        json.dump(tok_ref, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
