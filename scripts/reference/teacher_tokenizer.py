#!/usr/bin/env python3
"""Reference fixture for the Swift WordPiece tokenizer (Teacher module).

Uses Hugging Face's `tokenizers` package (pip install tokenizers) on the real all-MiniLM-L6-v2
tokenizer.json, with its fixed padding to 128 turned off and truncation at the model's limit (512),
as a teacher must do. Writes Tests/TeacherTests/Fixtures/tokenizer_reference.json with:
  - cases: ids, tokens and character (code point) offsets of many inputs, truncated at 512 and not;
  - classes: per-code-point behaviour of the BertNormalizer / BertPreTokenizer over all of Unicode
    (which code points clean_text removes, which become whitespace, which split as punctuation,
    which strip_accents deletes, and what the full normalizer maps each other code point to).

Usage: python3 scripts/reference/teacher_tokenizer.py [MODEL_DIR]
"""
import json, os, sys
from tokenizers import Tokenizer
from tokenizers.normalizers import BertNormalizer
from tokenizers.pre_tokenizers import BertPreTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".cache/models/all-MiniLM-L6-v2")
OUT = os.path.join(ROOT, "Tests/TeacherTests/Fixtures/tokenizer_reference.json")

tok = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
tok.no_padding()
tok.no_truncation()

long_code = "\n".join(
    f"def function_{i}(alpha, beta=None, *args, **kwargs):\n    return alpha + beta * {i} # comment {i}"
    for i in range(60))
TEXTS = [
    "This is an example sentence",
    "def add(a, b):\n    \"\"\"Add two numbers.\"\"\"\n    return a + b",
    "async def fetch(url: str, *, timeout: float = 10.0) -> dict[str, Any]:",
    "    if x >= 0 and y != 1:\n\t\tz = x ** 2 // 3 % 4 @ m\n    else: raise ValueError(f'bad {x!r}')",
    "class Foo(Bar, metaclass=ABCMeta):\n    __slots__ = ('_a', '_b')",
    "Café naïve résumé Ångström ÉCOLE façade",
    "Straße İstanbul ΣΊΣΥΦΟΣ ﬁne ǅungla",
    "e\u0301 a\u0300\u0323 o\u0308\u0304 combining marks",
    "中文字符测试 and 日本語のテキスト 한국어 텍스트",
    "emoji 🤗😀👍🏽 🥲 🫨 family 👨‍👩‍👧 flags 🇫🇷",
    "control\x00chars\x01here\x7f and\u200bzero\u200dwidth\ufeffbom \ufffd replacement",
    "tabs\tand\r\nnewlines\x0b\x0cform\u00a0nbsp\u2003emspace\u3000ideographic",
    "x" * 101 + " short " + "y" * 100,
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "[CLS] special [SEP] tokens [MASK] inside [UNK] text [PAD] and [cls] lower",
    "punctuation: «quotes» „low“ ‘single’ — dash – … ¿question? ¡bang! 、。「」【】・",
    "math ∑∫√∞ ≠ ≤ ≥ ± × ÷ symbols $ % ^ & ~ ` | \\ < > { } [ ]",
    "mixed\u0085nel\u2028ls\u2029ps \U000e0001tag \ue000private \U000f0000plane15",
    "Ѐ Ё Ђ Ѓ Є Ѕ ру́сский ελληνικά Ελληνικά العربية עברית हिन्दी ไทย",
    "numbers 3.14159 1e-10 0xFF 1_000_000 -42 +7 12:30:45",
    "URL https://example.com/path?query=1&b=2#frag email a.b@c.org",
    "",
    "   ",
    "\u0301\u0301 leading marks",
    long_code,
    "word " * 600,
]

def case(text, max_length):
    if max_length is None:
        tok.no_truncation()
    else:
        tok.enable_truncation(max_length)
    e = tok.encode(text)
    return {"ids": e.ids, "tokens": e.tokens, "offsets": [list(o) for o in e.offsets],
            "special": e.special_tokens_mask}

cases = []
for t in TEXTS:
    c = {"text": t, "full": case(t, None), "truncated512": case(t, 512)}
    if len(c["full"]["ids"]) <= 512:
        del c["truncated512"]  # identical
    cases.append(c)

# Per-code-point behaviour over all of Unicode.
clean = BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
strip = BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
full = BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
pre = BertPreTokenizer()

def ranges(cps):
    out = []
    for cp in cps:
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out

removed, whitespace, punct, stripped, mapped = [], [], [], [], {}
for cp in range(0x110000):
    if 0xD800 <= cp <= 0xDFFF:
        continue
    c = chr(cp)
    s = clean.normalize_str("a" + c + "b")
    if s == "ab":
        removed.append(cp)
    elif s == "a b":
        whitespace.append(cp)
    pieces = pre.pre_tokenize_str("a" + c + "b")
    if len(pieces) == 3:
        punct.append(cp)
    if strip.normalize_str(c) == "":
        stripped.append(cp)
    is_cjk = (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or
              0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B920 <= cp <= 0x2CEAF or
              0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)
    is_hangul = 0xAC00 <= cp <= 0xD7A3  # algorithmic NFD; covered by the Korean case
    if not is_cjk and not is_hangul and s != "ab":
        n = full.normalize_str(c)
        if n != c:
            mapped[str(cp)] = n

fixture = {
    "generator": "scripts/reference/teacher_tokenizer.py",
    "tokenizers_version": __import__("tokenizers").__version__,
    "cases": cases,
    "classes": {"removed": ranges(removed), "whitespace": ranges(whitespace), "punctuation": ranges(punct),
                "stripped": ranges(stripped)},
    "normalized": mapped,
}
with open(OUT, "w") as f:
    json.dump(fixture, f, ensure_ascii=True, separators=(",", ":"))
print(f"wrote {OUT}: {len(cases)} cases, {len(mapped)} mapped code points, {os.path.getsize(OUT)} bytes")
