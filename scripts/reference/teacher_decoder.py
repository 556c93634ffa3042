#!/usr/bin/env python3
"""Reference fixtures for the Swift decoder forward (Teacher module, `DecoderModel`).

An independent numpy implementation (float64) written from Hugging Face transformers'
modeling_llama / modeling_qwen2 / modeling_qwen3: RMSNorm (weight · x / sqrt(mean(x²) + eps)),
rotary embeddings with `rotate_half` (pairs (i, i + d/2), inv_freq = base^(-2i/d)), grouped-query
attention (`repeat_kv`: query head h reads KV head h // (heads / kv_heads)) with a causal mask, QKV
bias (qwen2), per-head q/k RMSNorm before RoPE (qwen3), SwiGLU MLP (down(silu(gate(x)) · up(x))),
pre-norm residual blocks. Hidden states follow transformers' `output_hidden_states`: index 0 is the
token embeddings, index l < N the residual stream after block l, index N the last block's output
after the final RMSNorm (`output_norm`).

The GGUF files are written the way llama.cpp's convert_hf_to_gguf.py writes them: weights [out, in]
(ggml dims reversed), and for `llama` only, the rows of attn_q / attn_k permuted within each head
(row 2j + s of a head is HF row s·d/2 + j) so that ggml's "normal" RoPE (adjacent pairs) applies;
qwen2 / qwen3 keep HF's layout (ggml's NeoX RoPE). The reference reads the weights back from the
written file (dequantised with gguf.quants) and undoes that permutation, so quantisation error is
the same on both sides.

  tiny      Tests/TeacherTests/Fixtures/decoder/<case>.gguf and <case>.npz for
              llama_f32      llama, tied embeddings (no output.weight), all F32
              llama_q8_0     same hyper-parameters, matrices Q8_0 / Q4_1 / Q5_0 (norms F32)
              qwen2_f32      qwen2 with q/k/v biases and an untied output.weight
              qwen2_q4_0     same, matrices Q4_0 / Q8_0
              qwen3_f32      qwen3, per-head q/k norms, head_dim · heads != hidden
            The npz holds `ids` (two sequences, concatenated), `lengths` and `layer_<l>` (Σ T × D,
            float32) for l = 0 … N.
  smollm2   the real SmolLM2-135M-Instruct GGUF: token ids of 3 code snippets from Hugging Face
            `tokenizers` built from the GGUF (as teacher_gguf.py does) and the mean over tokens of
            hidden state 15 of each, written to Fixtures/decoder/smollm2_layer15.json.
  sanity    (writes nothing) SmolLM2 through all 30 blocks and the tied head, with the llama Q/K
            un-permutation and without it: the mean next-token negative log-likelihood of a code
            snippet and the top 5 after two prompts. The right layout should give the lower NLL (the
            wrong one is only a mispairing of RoPE frequencies, so its text is still plausible).

Usage: .cache/venv-gguf/bin/python scripts/reference/teacher_decoder.py tiny
       .cache/venv-gguf/bin/python scripts/reference/teacher_decoder.py smollm2 [PATH.gguf]
       .cache/venv-gguf/bin/python scripts/reference/teacher_decoder.py sanity [PATH.gguf]
"""
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf import quants

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests/TeacherTests/Fixtures/decoder")
SMOL = os.path.join(ROOT, ".cache/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf")


# ---------------------------------------------------------------- llama.cpp's conversion layout

def permute(w, n_head):
    """convert_hf_to_gguf.py LlamaModel.permute: HF rows (s, j) of each head → GGUF rows (j, s)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute(w, n_head):
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


# ---------------------------------------------------------------- the model (float64)

def rms_norm(x, w, eps):
    return w * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def rope(x, base):
    """x: [heads, T, dh]; HF apply_rotary_pos_emb with default rope."""
    dh, t = x.shape[-1], x.shape[-2]
    inv = 1.0 / (base ** (np.arange(0, dh, 2, dtype=np.float64) / dh))
    freqs = np.outer(np.arange(t, dtype=np.float64), inv)
    emb = np.concatenate([freqs, freqs], axis=-1)
    return x * np.cos(emb) + rotate_half(x) * np.sin(emb)


def silu(x):
    return x / (1 + np.exp(-x))


def forward(cfg, W, ids, upto=None):
    """Hidden states 0 … upto (default N) of one sequence, HF numbering (see the module doc)."""
    n, heads, kv, dh, eps = cfg["layers"], cfg["heads"], cfg["kv_heads"], cfg["head_dim"], cfg["eps"]
    upto = n if upto is None else upto
    x = W["token_embd.weight"][ids].astype(np.float64)
    t = len(ids)
    states = [x.copy()]
    mask = np.triu(np.full((t, t), -np.inf), 1)
    for l in range(min(upto, n)):
        p = f"blk.{l}."
        h = rms_norm(x, W[p + "attn_norm.weight"], eps)
        q = h @ W[p + "attn_q.weight"].T
        k = h @ W[p + "attn_k.weight"].T
        v = h @ W[p + "attn_v.weight"].T
        if p + "attn_q.bias" in W:
            q, k, v = q + W[p + "attn_q.bias"], k + W[p + "attn_k.bias"], v + W[p + "attn_v.bias"]
        q = q.reshape(t, heads, dh).transpose(1, 0, 2)
        k = k.reshape(t, kv, dh).transpose(1, 0, 2)
        v = v.reshape(t, kv, dh).transpose(1, 0, 2)
        if p + "attn_q_norm.weight" in W:
            q = rms_norm(q, W[p + "attn_q_norm.weight"], eps)
            k = rms_norm(k, W[p + "attn_k_norm.weight"], eps)
        q, k = rope(q, cfg["rope_base"]), rope(k, cfg["rope_base"])
        k = np.repeat(k, heads // kv, axis=0)  # repeat_kv
        v = np.repeat(v, heads // kv, axis=0)
        s = q @ k.transpose(0, 2, 1) / np.sqrt(dh) + mask
        s = np.exp(s - s.max(axis=-1, keepdims=True))
        s /= s.sum(axis=-1, keepdims=True)
        a = (s @ v).transpose(1, 0, 2).reshape(t, heads * dh)
        x = x + a @ W[p + "attn_output.weight"].T
        h = rms_norm(x, W[p + "ffn_norm.weight"], eps)
        x = x + (silu(h @ W[p + "ffn_gate.weight"].T) * (h @ W[p + "ffn_up.weight"].T)) @ W[p + "ffn_down.weight"].T
        states.append(rms_norm(x, W["output_norm.weight"], eps) if l == n - 1 else x.copy())
    return states


def read_weights(path, layers=None, undo_permutation=True):
    """Every tensor of a GGUF dequantised to float64, [out, in] like HF, llama Q/K un-permuted."""
    r = gguf.GGUFReader(path)

    def scalar(key):
        f = r.fields[key]
        return f.parts[f.data[0]][0].item() if f.types[0] != gguf.GGUFValueType.STRING \
            else bytes(f.parts[f.data[0]]).decode()

    arch = scalar("general.architecture")
    heads = scalar(f"{arch}.attention.head_count")
    kv = scalar(f"{arch}.attention.head_count_kv")
    d = scalar(f"{arch}.embedding_length")
    cfg = {"arch": arch, "layers": scalar(f"{arch}.block_count"), "heads": heads, "kv_heads": kv,
           "head_dim": scalar(f"{arch}.attention.key_length") if f"{arch}.attention.key_length" in r.fields else d // heads,
           "eps": scalar(f"{arch}.attention.layer_norm_rms_epsilon"), "rope_base": scalar(f"{arch}.rope.freq_base")}
    W = {}
    for t in r.tensors:
        if t.name == "output.weight":
            continue
        if layers is not None and t.name.startswith("blk.") and int(t.name.split(".")[1]) >= layers:
            continue
        shape = [int(x) for x in reversed(t.shape)]
        a = quants.dequantize(np.asarray(t.data), t.tensor_type).reshape(shape).astype(np.float64)
        if undo_permutation and arch == "llama" and t.name.endswith("attn_q.weight"):
            a = unpermute(a, heads)
        elif undo_permutation and arch == "llama" and t.name.endswith("attn_k.weight"):
            a = unpermute(a, kv)
        W[t.name] = a
    return cfg, W


# ---------------------------------------------------------------- tiny random models

CASES = {
    #            arch     hidden heads kv  head_dim ffn layers vocab  matrix types (attn, ffn, embd)
    "llama_f32": ("llama", 32, 4, 2, 8, 64, 3, 48, (T.F32, T.F32, T.F32)),
    "llama_q8_0": ("llama", 32, 4, 2, 8, 64, 3, 48, (T.Q8_0, T.Q5_0, T.Q4_1)),
    "qwen2_f32": ("qwen2", 32, 4, 2, 8, 64, 2, 48, (T.F32, T.F32, T.F32)),
    "qwen2_q4_0": ("qwen2", 32, 4, 2, 8, 64, 2, 48, (T.Q4_0, T.Q8_0, T.Q8_0)),
    "qwen3_f32": ("qwen3", 32, 4, 2, 16, 64, 2, 48, (T.F32, T.F32, T.F32)),
}
SEQUENCES = [[3, 17, 5, 44, 0, 9, 9, 21, 30], [47, 2, 11, 6]]


def write_case(name, seed):
    arch, d, heads, kv, dh, ffn, n, vocab, (ta, tf, te) = CASES[name]
    rng = np.random.default_rng(seed)
    path = os.path.join(OUT, f"{name}.gguf")
    w = gguf.GGUFWriter(path, arch=arch)
    w.add_block_count(n)
    w.add_context_length(64)
    w.add_embedding_length(d)
    w.add_feed_forward_length(ffn)
    w.add_head_count(heads)
    w.add_head_count_kv(kv)
    w.add_layer_norm_rms_eps(1e-6 if arch != "llama" else 1e-5)
    w.add_rope_freq_base(10000.0 if arch == "llama" else 1000000.0)
    if dh * heads != d:
        w.add_key_length(dh)
        w.add_value_length(dh)

    def mat(shape, scale):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    def put(tname, a, qtype):
        if qtype == T.F32:
            w.add_tensor(tname, a)
        else:
            w.add_tensor(tname, quants.quantize(a, qtype), raw_dtype=qtype)

    put("token_embd.weight", mat((vocab, d), 1.0), te)
    for l in range(n):
        p = f"blk.{l}."
        wq, wk = mat((heads * dh, d), d ** -0.5), mat((kv * dh, d), d ** -0.5)
        if arch == "llama":  # what convert_hf_to_gguf.py does to llama's Q and K
            wq, wk = permute(wq, heads), permute(wk, kv)
        put(p + "attn_norm.weight", (1 + 0.2 * rng.standard_normal(d)).astype(np.float32), T.F32)
        put(p + "attn_q.weight", wq, ta)
        put(p + "attn_k.weight", wk, ta)
        put(p + "attn_v.weight", mat((kv * dh, d), d ** -0.5), ta)
        if arch == "qwen2":
            for part, size in (("q", heads * dh), ("k", kv * dh), ("v", kv * dh)):
                put(p + f"attn_{part}.bias", mat((size,), 0.5), T.F32)
        if arch == "qwen3":
            put(p + "attn_q_norm.weight", (1 + 0.2 * rng.standard_normal(dh)).astype(np.float32), T.F32)
            put(p + "attn_k_norm.weight", (1 + 0.2 * rng.standard_normal(dh)).astype(np.float32), T.F32)
        put(p + "attn_output.weight", mat((d, heads * dh), (heads * dh) ** -0.5), ta)
        put(p + "ffn_norm.weight", (1 + 0.2 * rng.standard_normal(d)).astype(np.float32), T.F32)
        put(p + "ffn_gate.weight", mat((ffn, d), d ** -0.5), tf)
        put(p + "ffn_up.weight", mat((ffn, d), d ** -0.5), tf)
        put(p + "ffn_down.weight", mat((d, ffn), ffn ** -0.5), tf)
    put("output_norm.weight", (1 + 0.2 * rng.standard_normal(d)).astype(np.float32), T.F32)
    if arch != "llama":  # untied head: present in the file, never computed
        put("output.weight", mat((vocab, d), d ** -0.5), T.F32)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    cfg, W = read_weights(path)
    per_seq = [forward(cfg, W, np.array(s)) for s in SEQUENCES]
    out = {"ids": np.array(sum(SEQUENCES, []), dtype=np.int64),
           "lengths": np.array([len(s) for s in SEQUENCES], dtype=np.int64)}
    for l in range(n + 1):
        out[f"layer_{l}"] = np.concatenate([s[l] for s in per_seq]).astype(np.float32)
    np.savez(os.path.join(OUT, f"{name}.npz"), **out)
    print(f"{name}: {os.path.getsize(path)} bytes, {n} layers")


def write_tiny():
    os.makedirs(OUT, exist_ok=True)
    for i, name in enumerate(CASES):
        write_case(name, 1000 + i)


# ---------------------------------------------------------------- SmolLM2

SNIPPETS = [
    "def add(a, b):\n    return a + b\n",
    "for i in range(10):\n    print(i * i)",
    "class Stack:\n    def push(self, x):\n        self.items.append(x)\n",
]


def gguf_tokenizer(path):
    """Hugging Face `tokenizers` from the GGUF's vocabulary and merges with SmolLM2's pre-tokenizer
    (the construction of teacher_gguf.py's tokenizer fixture)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    r = gguf.GGUFReader(path)

    def strings(key):
        f = r.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    tokens, merges = strings("tokenizer.ggml.tokens"), strings("tokenizer.ggml.merges")
    vocab = {t: i for i, t in reversed(list(enumerate(tokens)))}
    tok = Tokenizer(models.BPE(vocab, [tuple(m.split(" ", 1)) for m in merges]))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    return tok


def write_smollm2(path, layer=15):
    tok = gguf_tokenizer(path)
    cfg, W = read_weights(path, layers=layer)
    cases = []
    for text in SNIPPETS:
        ids = tok.encode(text).ids
        states = forward(cfg, W, np.array(ids), upto=layer)
        cases.append({"text": text, "ids": ids, "mean": [float(v) for v in states[layer].mean(axis=0).astype(np.float32)]})
    with open(os.path.join(OUT, "smollm2_layer15.json"), "w") as f:
        json.dump({"layer": layer, "pooling": "mean", "cases": cases}, f)
        f.write("\n")
    print(f"smollm2: layer {layer}, {[len(c['ids']) for c in cases]} tokens")


def sanity(path):
    tok = gguf_tokenizer(path)
    for undo in (True, False):
        cfg, W = read_weights(path, undo_permutation=undo)
        for text in ["The capital of France is", "def add(a, b):\n    return a"]:
            ids = tok.encode(text).ids
            logits = forward(cfg, W, np.array(ids))[-1][-1] @ W["token_embd.weight"].T
            top = [tok.decode([int(i)]) for i in np.argsort(-logits)[:5]]
            print(f"{'un-permuted' if undo else 'as stored  '} {text!r} → {top}")
        ids = tok.encode(SNIPPETS[2] + "    def pop(self):\n        return self.items.pop()\n").ids
        logits = forward(cfg, W, np.array(ids))[-1] @ W["token_embd.weight"].T
        logits -= logits.max(axis=-1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        nll = -np.mean(logp[np.arange(len(ids) - 1), ids[1:]])
        print(f"{'un-permuted' if undo else 'as stored  '} mean NLL over {len(ids) - 1} code tokens: {nll:.3f}")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "tiny"
    if what == "tiny":
        write_tiny()
    elif what == "smollm2":
        write_smollm2(sys.argv[2] if len(sys.argv) > 2 else SMOL)
    elif what == "sanity":
        sanity(sys.argv[2] if len(sys.argv) > 2 else SMOL)
    else:
        sys.exit(__doc__)
