#!/usr/bin/env python3
"""Reference fixtures for Qwen2.5-Coder-0.5B-Instruct (GGUF Q4_K_M, `make model-qwen-coder`).

Two independent references, written next to the SmolLM2 ones:

  tokenizer  Fixtures/gguf/qwen_coder_tokenizer_reference.json: Hugging Face `tokenizers` built from
             the GGUF's own vocabulary and merges with Qwen2's tokenizer.json pre-tokenizer
             (Split(qwen2 regex, isolated) + ByteLevel(add_prefix_space=False, use_regex=False)) and its
             control / user-defined tokens (GGUF token types 3 and 4: the 22 added tokens
             <|endoftext|> … <|file_sep|>) as special tokens; ids, offsets and the decoded text of
             teacher_gguf.py's code and unicode sample. Qwen2's tokenizer.json also has an NFC
             normalizer, which llama.cpp and our tokenizer do not apply: each case records
             `nfc_ids`, the ids with NFC, so the texts where that matters are visible.
  hidden     Fixtures/decoder/qwen_coder_means.npy + qwen_coder_means.json: the numpy float64 decoder of
             teacher_decoder.py (qwen2 with q/k/v biases, weights dequantised by the `gguf` package's
             `quants.dequantize`), mean over tokens of hidden states 12 and 24 (the last, after the final
             RMSNorm) of 3 code snippets. The npy is float32 [layers × snippets × 896] (21 KB); the
             json holds texts, ids and layers.

Usage: .cache/venv-gguf/bin/python scripts/reference/teacher_qwen_coder.py tokenizer|hidden [PATH.gguf]
"""
import json
import os
import sys
import unicodedata

import numpy as np
import gguf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from teacher_decoder import forward, read_weights  # noqa: E402
from teacher_gguf import PRE_EXTRA, TOKENIZER_TEXTS, gguf_bpe  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "Tests/TeacherTests/Fixtures")
QWEN = os.path.join(ROOT, ".cache/models/Qwen2.5-Coder-0.5B-Instruct/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf")
QWEN2_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""

# Code with the FIM / repo tokens the coder model was trained with, on top of teacher_gguf.py's sample.
CODER_TEXTS = [
    "<|repo_name|>swejepa\n<|file_sep|>store.py\n<|fim_prefix|>def f(x):\n    <|fim_suffix|>\n<|fim_middle|>return x",
    "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>",
    "    def __init__(self, *args: int, **kw: str) -> None:\n        super().__init__()\n        self._cache: dict[str, list[int]] = {}\n",
    "λx → x² ≠ ∞; π≈3.14159; naïve_café = \"日本\"  # ✓ 🐍",
]

SNIPPETS = [
    "def add(a, b):\n    return a + b\n",
    "for i in range(10):\n    print(i * i)",
    "class Stack:\n    def push(self, x):\n        self.items.append(x)\n",
]
LAYERS = [12, 24]


def gguf_tokenizer(path, nfc=False):
    """`tokenizers` from the GGUF vocabulary and merges, configured as Qwen2's tokenizer.json."""
    from tokenizers import Regex, decoders, normalizers, pre_tokenizers
    tok, tokens, types = gguf_bpe(path)
    if nfc:
        tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([tokens[i] for i, t in enumerate(types) if t in (3, 4)])
    return tok


def write_tokenizer(path):
    tok, tok_nfc = gguf_tokenizer(path), gguf_tokenizer(path, nfc=True)
    cases = []
    for text in TOKENIZER_TEXTS + PRE_EXTRA + CODER_TEXTS:
        enc = tok.encode(text)
        case = {"text": text, "ids": enc.ids, "offsets": [list(o) for o in enc.offsets],
                "decoded": tok.decode(enc.ids, skip_special_tokens=False)}
        nfc_ids = tok_nfc.encode(text).ids
        if nfc_ids != enc.ids:
            assert unicodedata.normalize("NFC", text) != text
            case["nfc_ids"] = nfc_ids
        cases.append(case)
    out = os.path.join(FIX, "gguf/qwen_coder_tokenizer_reference.json")
    with open(out, "w") as f:
        json.dump({"pre": "qwen2", "cases": cases}, f, ensure_ascii=False)
        f.write("\n")
    print(f"{len(cases)} tokenizer cases, {sum(len(c['ids']) for c in cases)} tokens, "
          f"{sum('nfc_ids' in c for c in cases)} differ under NFC")


def write_hidden(path):
    tok = gguf_tokenizer(path)
    cfg, W = read_weights(path, layers=max(LAYERS))
    assert cfg["arch"] == "qwen2" and "blk.0.attn_q.bias" in W
    means = np.zeros((len(LAYERS), len(SNIPPETS), W["token_embd.weight"].shape[1]), dtype=np.float32)
    ids_all = []
    for s, text in enumerate(SNIPPETS):
        ids = tok.encode(text).ids
        ids_all.append(ids)
        states = forward(cfg, W, np.array(ids), upto=max(LAYERS))
        for j, layer in enumerate(LAYERS):
            means[j, s] = states[layer].mean(axis=0)
    np.save(os.path.join(FIX, "decoder/qwen_coder_means.npy"), means)
    with open(os.path.join(FIX, "decoder/qwen_coder_means.json"), "w") as f:
        json.dump({"layers": LAYERS, "pooling": "mean", "texts": SNIPPETS, "ids": ids_all,
                   "means": "qwen_coder_means.npy [layers × texts × hidden], float32"}, f, indent=1)
        f.write("\n")
    print(f"qwen-coder: layers {LAYERS}, {[len(i) for i in ids_all]} tokens")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    model = sys.argv[2] if len(sys.argv) > 2 else QWEN
    if what == "tokenizer":
        write_tokenizer(model)
    elif what == "hidden":
        write_hidden(model)
    else:
        sys.exit(__doc__)
