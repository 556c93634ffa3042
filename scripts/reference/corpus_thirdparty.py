#!/usr/bin/env python3
"""Third-party Python code against the Corpus module: a committed sample and its `ast` reference.

Standard library only; the extraction rules are corpus_ast.py's (imported from this directory).

Usage:
    corpus_thirdparty.py sample SITE_PACKAGES OUT_DIR [--budget BYTES] [--include REL_PATH ...]
        Copies a diverse sample of permissively licensed .py files from SITE_PACKAGES into
        OUT_DIR/<distribution>/<path>, each distribution's license files into OUT_DIR/<distribution>/LICENSES/,
        and writes OUT_DIR/SOURCES.md (distribution, version, license, files). Deterministic for the same
        installed packages. --include forces files (paths relative to SITE_PACKAGES) in first.
    corpus_thirdparty.py reference ROOT [--verdicts-only] > reference.json
        Every .py under ROOT (no symlinks, no __pycache__), per file: its sha256, CPython's verdict
        (`error`, null when ast parses it), one line per function (spans, offsets, LOC, complexity,
        counts, flags) and a digest of the functions' content and body hashes (with --verdicts-only:
        `functions` and `hashes` null, and only the verdicts are compared).

The checked-in sample and fixture were made with (Python 3.11.7):
    python3 scripts/reference/corpus_thirdparty.py sample "$(python3 -c 'import site; print(site.getsitepackages()[0])')" \\
        Tests/CorpusTests/Fixtures/thirdparty
    python3 scripts/reference/corpus_thirdparty.py reference Tests/CorpusTests/Fixtures/thirdparty \\
        > Tests/CorpusTests/Fixtures/thirdparty_reference.json
A whole site-packages is compared by hand with (prints per-category skips):
    SWEJEPA_CORPUS_ROOT=/path/to/site-packages swift test --skip-build --filter ThirdPartyTests
or, verdicts only (the full reference takes about an hour of one core for ~11k files):
    corpus_thirdparty.py reference SITE --verdicts-only > /tmp/v.json
    SWEJEPA_CORPUS_ROOT=SITE SWEJEPA_CORPUS_REFERENCE=/tmp/v.json swift test --skip-build --filter ThirdPartyTests
"""
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_ast  # noqa: E402

PERMISSIVE = re.compile(r"\b(MIT|BSD|Apache|PSF|Python Software Foundation|ISC)\b", re.I)
LICENSE_FILE = re.compile(r"(LICEN[CS]E|COPYING|NOTICE)", re.I)
FEATURES = {
    "raw_fstring_backslash_brace": re.compile(rb"(?:[rR][fF]|[fF][rR])(['\"]).*?\\[{}]"),
    "fstring": re.compile(rb"(?<![\w])[fF][rR]?['\"]"),
    "fstring_format_spec": re.compile(rb"[fF]['\"][^'\"\n]*\{[^}\n]*:[^}\n]*\}"),
    "crlf": re.compile(rb"\r\n"),
    "tab_indent": re.compile(rb"\n\t+\S"),
    "coding_cookie": re.compile(rb"\A(?:[^\n]*\n)?[ \t\f]*#.*?coding[:=]"),
    "match": re.compile(rb"\n[ \t]*match [^\n]*:[ \t]*\n[ \t]+case "),
    "async": re.compile(rb"\basync def\b"),
    "walrus": re.compile(rb":="),
    "decorator": re.compile(rb"\n[ \t]*@\w"),
    "continuation": re.compile(rb"\\\r?\n"),
    "triple_quote": re.compile(rb"'''|\"\"\""),
    "lambda": re.compile(rb"\blambda\b"),
    "nested_def": re.compile(rb"\n[ \t]{8,}def "),
    "nonlocal_global": re.compile(rb"\b(nonlocal|global) \w"),
    "star_args": re.compile(rb"\(\s*\*\s*,|/\s*,"),
    "semicolon_def": re.compile(rb"def [^\n]*:[^\n#]*;"),
    "non_ascii": re.compile(rb"[\x80-\xff]"),
}


def distribution_license(dist):
    meta = dist.metadata
    text = " ".join(filter(None, [meta.get("License-Expression"), (meta.get("License") or "")[:200]]
                            + [c for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]))
    return text.strip()


def short_license(text):
    found = sorted({m.group(1).upper().replace("PYTHON SOFTWARE FOUNDATION", "PSF") for m in PERMISSIVE.finditer(text)})
    return "/".join(found) or text[:40]


def sample(site, out, budget, include):
    site = os.path.abspath(site)
    owner = {}          # relative path -> distribution
    dists = {}
    for dist in importlib.metadata.distributions(path=[site]):
        name = re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower()
        if not name or name in dists or not dist.files:
            continue
        licence = distribution_license(dist)
        licence_files = [f for f in dist.files if ".dist-info" in str(f) and LICENSE_FILE.search(os.path.basename(str(f)))]
        if not PERMISSIVE.search(licence) or not licence_files:
            continue
        dists[name] = (dist, licence, licence_files)
        for f in dist.files:
            rel = os.path.normpath(str(f))
            if rel.endswith(".py") and not rel.startswith(".."):
                owner[rel] = name
    candidates = []
    for rel, name in owner.items():
        full = os.path.join(site, rel)
        if os.path.islink(full) or not os.path.isfile(full):
            continue
        size = os.path.getsize(full)
        if rel in include or 800 <= size <= 12000:
            raw = open(full, "rb").read()
            present = {k for k, rx in FEATURES.items() if rx.search(raw)}
            tie = hashlib.sha256(rel.encode()).hexdigest()
            candidates.append([rel not in include, -len(present), tie, rel, name, size, present])
    # The smallest file with each feature is forced in too, so rare ones (CRLF, tabs, match) are covered.
    for feature in FEATURES:
        having = sorted((c[5], c[2], i) for i, c in enumerate(candidates) if feature in c[6])
        if having and not any(not c[0] and feature in c[6] for c in candidates):
            candidates[having[0][2]][0] = False
    candidates = [tuple(c[:6]) for c in sorted(candidates, key=lambda c: tuple(c[:6]))]
    chosen, per_dist, total = [], {}, 0
    for quota in (1, 2, 3):   # forced files first; then rounds of one more file per distribution, best-scored first
        for forced, _, _, rel, name, size in candidates:
            if (rel, name) in chosen:
                continue
            if not forced or (per_dist.get(name, 0) < quota and total + size <= budget):
                chosen.append((rel, name))
                per_dist[name] = per_dist.get(name, 0) + 1
                total += size
    if os.path.exists(out):
        shutil.rmtree(out)
    rows = []
    for name in sorted(per_dist):
        dist, licence, licence_files = dists[name]
        os.makedirs(os.path.join(out, name, "LICENSES"), exist_ok=True)
        for f in licence_files:
            shutil.copyfile(dist.locate_file(f), os.path.join(out, name, "LICENSES", os.path.basename(str(f))))
        files = sorted(rel for rel, n in chosen if n == name)
        for rel in files:
            dst = os.path.join(out, name, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(os.path.join(site, rel), dst)
        rows.append(f"| {name} | {dist.version} | {short_license(licence)} | {', '.join(files)} |")
    with open(os.path.join(out, "SOURCES.md"), "w") as fh:
        fh.write("# Third-party sample\n\nUnmodified copies of .py files from installed PyPI distributions, for\n"
                 "CorpusTests/ThirdPartyTests (made by scripts/reference/corpus_thirdparty.py). Each\n"
                 "distribution's license files are in its LICENSES/ folder.\n\n"
                 "| distribution | version | license | files |\n|---|---|---|---|\n" + "\n".join(rows) + "\n")
    with open(os.path.join(out, ".gitattributes"), "w") as fh:
        fh.write("* -text\n")
    print(f"{len(chosen)} files from {len(per_dist)} distributions, {total} bytes", file=sys.stderr)


def function_line(r):
    flags = "".join("1" if r[k] else "0" for k in ("has_docstring", "has_decorators", "is_method", "is_async"))
    keys = ("occurrence", "start_line", "def_line", "end_line", "start_byte", "def_byte", "signature_end_byte",
            "body_start_byte", "end_byte", "loc", "complexity", "branches", "loops", "returns", "arguments",
            "api_calls", "return_annotation")
    return " ".join([r["qualified_name"]] + [str(r[k]) for k in keys] + [flags])


def reference(root, verdicts_only=False):
    paths = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not os.path.islink(os.path.join(dirpath, d)))
        for f in filenames:
            full = os.path.join(dirpath, f)
            if f.endswith(".py") and not os.path.islink(full) and os.path.isfile(full):
                paths.append(os.path.relpath(full, root))
    files = []
    for rel in sorted(paths):
        raw = open(os.path.join(root, rel), "rb").read()
        entry = {"path": rel, "sha256": hashlib.sha256(raw).hexdigest(), "error": None, "functions": [], "hashes": ""}
        try:
            if verdicts_only:   # ast's verdict only (a whole site-packages in minutes, not an hour)
                with corpus_ast.warnings.catch_warnings():
                    corpus_ast.warnings.simplefilter("ignore")
                    corpus_ast.ast.parse(raw)
                entry["functions"], entry["hashes"] = None, None
                files.append(entry)
                continue
            fns = corpus_ast.analyse(raw, False)
            entry["functions"] = [function_line(r) for r in fns]
            entry["hashes"] = hashlib.sha256("".join(f"{r['content_hash']} {r['body_hash']}\n" for r in fns)
                                             .encode()).hexdigest()
        except (SyntaxError, ValueError, UnicodeDecodeError, LookupError) as e:
            entry["error"] = type(e).__name__ + ": " + str(e)
        except RecursionError:
            entry["error"] = "RecursionError"
        files.append(entry)
    json.dump({"python": sys.version.split()[0], "files": files}, sys.stdout, indent=0, separators=(",", ":"))
    sys.stdout.write("\n")


def main(argv):
    if len(argv) >= 4 and argv[1] == "sample":
        budget, include, i = 400_000, set(), 4
        while i < len(argv):
            if argv[i] == "--budget":
                budget = int(argv[i + 1])
            elif argv[i] == "--include":
                include.add(os.path.normpath(argv[i + 1]))
            else:
                raise SystemExit("unknown argument " + argv[i])
            i += 2
        sample(argv[2], argv[3], budget, include)
    elif len(argv) in (3, 4) and argv[1] == "reference" and argv[3:] in ([], ["--verdicts-only"]):
        reference(argv[2], verdicts_only=len(argv) == 4)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
