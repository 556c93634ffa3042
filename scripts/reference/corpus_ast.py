#!/usr/bin/env python3
"""Reference extraction for the Corpus module, written on Python's own `ast` and `tokenize`.

Independent of the Swift code: it walks the AST for functions, qualified names, spans and the static
properties, and uses `tokenize` for LOC and the header colon. Standard library only.

Usage:
    corpus_ast.py ROOT [--exclude-dir NAME ...] [--no-text] > out.json

Output: {"files": [{"path", "error", "functions": [...]}]} with paths relative to ROOT, sorted.

The checked-in fixture is regenerated with:
    python3 scripts/reference/corpus_ast.py Tests/CorpusTests/Fixtures/python > Tests/CorpusTests/Fixtures/reference.json
The standard-library and mutation tests run this script at test time (python3, standard library only).

Rules (kept in step with the README and Sources/Corpus/PythonMetrics.swift):
- LOC: lines from the first decorator line to end_lineno covered by a token other than COMMENT, NL,
  NEWLINE, INDENT, DEDENT (multi-line tokens cover all their lines), not counting the docstring's
  string tokens.
- Cyclomatic complexity: radon's rules over the body, skipping nested def/class: 1 + If + IfExp +
  For/AsyncFor/While (+1 with orelse) + except handlers (+1 for try-else) + With/AsyncWith + Assert +
  comprehension (1 + len(ifs)) + BoolOp (len(values) - 1) + Match (cases - 1 if a case is a bare MatchAs).
"""
import ast
import hashlib
import io
import json
import re
import os
import sys
import tokenize
import warnings

SCALARS = {"None", "int", "float", "complex", "str", "bytes", "bool"}
CONTAINERS = {
    "list", "dict", "set", "frozenset", "tuple", "List", "Dict", "Set", "FrozenSet", "Tuple",
    "Sequence", "MutableSequence", "Mapping", "MutableMapping", "AbstractSet", "MutableSet",
    "Iterable", "Iterator", "Collection", "Generator", "AsyncIterable", "AsyncIterator", "AsyncGenerator",
    "Deque", "deque", "DefaultDict", "defaultdict", "OrderedDict", "Counter", "ChainMap",
}
SKIP_TOKENS = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
               tokenize.ENCODING, tokenize.ENDMARKER}
FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


def line_starts(data):
    """Byte offsets of line starts; \\n, \\r\\n and \\r end lines (as in CPython's tokenizer)."""
    starts = [0]
    i, n = 0, len(data)
    while i < n:
        c = data[i]
        if c == 10:
            starts.append(i + 1)
        elif c == 13:
            if i + 1 < n and data[i + 1] == 10:
                i += 1
            starts.append(i + 1)
        i += 1
    return starts


def body_nodes(fn):
    """Yields every node under fn.body without entering nested functions or classes."""
    stack = list(fn.body)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(node))


def complexity(fn):
    c = 1
    for node in body_nodes(fn):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, (ast.If, ast.IfExp)):
            c += 1
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            c += 1 + bool(node.orelse)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            c += len(node.handlers) + bool(node.orelse)
        elif isinstance(node, (ast.With, ast.AsyncWith, ast.Assert)):
            c += 1
        elif isinstance(node, ast.comprehension):
            c += 1 + len(node.ifs)
        elif isinstance(node, ast.BoolOp):
            c += len(node.values) - 1
        elif isinstance(node, ast.Match):
            bare = any(isinstance(cs.pattern, ast.MatchAs) and cs.pattern.pattern is None for cs in node.cases)
            c += max(0, len(node.cases) - int(bare))
    return c


def counts(fn):
    branches = loops = returns = calls = 0
    for node in body_nodes(fn):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, (ast.If, ast.match_case)):
            branches += 1
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            loops += 1
        elif isinstance(node, ast.Return):
            returns += 1
        elif isinstance(node, ast.Call):
            calls += 1
    return branches, loops, returns, calls


def last_name(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (isinstance(node.value, (ast.Name, ast.Attribute))):
        # only dotted names: a.b.c
        v = node.value
        while isinstance(v, ast.Attribute):
            v = v.value
        return node.attr if isinstance(v, ast.Name) else None
    return None


def return_category(fn):
    r = fn.returns
    if r is None:
        return "none"
    if isinstance(r, ast.Constant) and r.value is None:
        return "builtin_scalar"
    name = last_name(r)
    if name is not None:
        if name in SCALARS:
            return "builtin_scalar"
        if name in CONTAINERS:
            return "container"
        return "other"
    if isinstance(r, ast.Subscript):
        name = last_name(r.value)
        if name is not None and name in CONTAINERS:
            return "container"
    return "other"


def docstring_node(fn):
    if fn.body and isinstance(fn.body[0], ast.Expr):
        v = fn.body[0].value
        if isinstance(v, ast.Constant) and isinstance(v.value, str):
            return fn.body[0]
    return None


def body_start(data, k):
    n = len(data)
    while k < n and data[k] in (32, 9, 12):
        k += 1
    if k < n and data[k] == 59:  # ';'
        k += 1
        while k < n and data[k] in (32, 9, 12):
            k += 1
    if k < n and data[k] == 35:  # '#'
        while k < n and data[k] not in (10, 13):
            k += 1
    if k < n and data[k] == 13:
        k += 1
        if k < n and data[k] == 10:
            k += 1
        return k
    if k < n and data[k] == 10:
        return k + 1
    return k


def normalised_body(body):
    """Core.FunctionHash.normalizedBody: CRLF/CR -> LF, leading tabs to 8 columns, trailing blanks and
    blank lines dropped, common indentation removed, inner runs of spaces/tabs collapsed to one space."""
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    lines = []
    for raw in text.split("\n"):
        col = 0
        idx = 0
        while idx < len(raw) and raw[idx] in " \t":
            col = (col // 8 + 1) * 8 if raw[idx] == "\t" else col + 1
            idx += 1
        rest = raw[idx:].rstrip(" \t")
        if rest:
            lines.append((col, rest))
    common = min((c for c, _ in lines), default=0)
    out = []
    for col, rest in lines:
        out.append(" " * (col - common) + re.sub(r"[ \t]+", " ", rest) + "\n")
    return "".join(out)


def analyse(raw, with_text):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(raw)
    encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    text = raw.decode(encoding)
    data = text.encode("utf-8")
    starts = line_starts(data)
    text_lines = {}
    by_row = {}
    # CPython's parser reads \r\n and a lone \r as line ends; the tokenize module does not split on a
    # lone \r, so give it the same lines.
    lines_raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    for tok in tokenize.tokenize(io.BytesIO(lines_raw).readline):
        by_row.setdefault(tok.start[0], []).append(tok)

    def tokens_in(first_row, last_row):
        for row in range(first_row, last_row + 1):
            yield from by_row.get(row, ())

    def char_to_byte(row, col):
        # tokenize columns count characters of the decoded line
        if row not in text_lines:
            a = starts[row - 1]
            b = starts[row] if row < len(starts) else len(data)
            text_lines[row] = data[a:b].decode("utf-8")
        return len(text_lines[row][:col].encode("utf-8"))

    # Walk with scopes for __qualname__.
    found = []

    def visit(node, prefix, in_class):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, FUNCS):
                q = prefix + child.name
                found.append((child, q, in_class))
                visit(child, q + ".<locals>.", False)
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".", True)
            else:
                visit(child, prefix, in_class)

    visit(tree, "", False)
    found.sort(key=lambda f: (f[0].lineno, f[0].col_offset))

    out = []
    seen = {}
    for fn, q, is_method in found:
        start_line = fn.decorator_list[0].lineno if fn.decorator_list else fn.lineno
        start_byte = starts[start_line - 1]
        def_byte = starts[fn.lineno - 1] + fn.col_offset
        end_byte = starts[fn.end_lineno - 1] + fn.end_col_offset
        doc = docstring_node(fn)
        if doc is not None:
            sig_end = starts[doc.end_lineno - 1] + doc.end_col_offset
        else:
            first = fn.body[0]
            limit = (first.lineno, first.col_offset)
            if getattr(first, "decorator_list", None):   # a decorated def/class: its '@' line ends the header
                limit = (first.decorator_list[0].lineno, 0)
            colon = None
            for tok in tokens_in(fn.lineno, first.lineno):
                if tok.type == tokenize.OP and tok.string == ":":
                    row, col = tok.start
                    pos = (row, char_to_byte(row, col))
                    if (fn.lineno, fn.col_offset) <= pos < limit:
                        colon = pos
            sig_end = starts[colon[0] - 1] + colon[1] + 1
        bstart = min(body_start(data, sig_end), end_byte)
        # LOC by tokens
        covered = set()
        for tok in tokens_in(start_line, fn.end_lineno):
            if tok.type in SKIP_TOKENS:
                continue
            if doc is not None and tok.type == tokenize.STRING and doc.lineno <= tok.start[0] <= doc.end_lineno:
                continue
            covered.update(range(tok.start[0], tok.end[0] + 1))
        branches, loops, returns, calls = counts(fn)
        a = fn.args
        occ = seen.get(q, 0)
        seen[q] = occ + 1
        rec = {
            "qualified_name": q,
            "occurrence": occ,
            "start_line": start_line,
            "def_line": fn.lineno,
            "end_line": fn.end_lineno,
            "start_byte": start_byte,
            "def_byte": def_byte,
            "signature_end_byte": sig_end,
            "body_start_byte": bstart,
            "end_byte": end_byte,
            "content_hash": hashlib.sha256(data[start_byte:sig_end] + b"\0" + data[bstart:end_byte]).hexdigest(),
            "body_hash": hashlib.sha256(normalised_body(data[bstart:end_byte].decode("utf-8")).encode("utf-8")).hexdigest(),
            "loc": len(covered),
            "complexity": complexity(fn),
            "branches": branches,
            "loops": loops,
            "returns": returns,
            "arguments": len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) + (a.vararg is not None)
            + (a.kwarg is not None),
            "api_calls": calls,
            "return_annotation": return_category(fn),
            "has_docstring": doc is not None,
            "has_decorators": bool(fn.decorator_list),
            "is_method": is_method,
            "is_async": isinstance(fn, ast.AsyncFunctionDef),
        }
        if with_text:
            rec["signature"] = data[start_byte:sig_end].decode("utf-8")
            rec["body"] = data[bstart:end_byte].decode("utf-8")
        out.append(rec)
    return out


def main(argv):
    root = argv[1]
    exclude = set()
    with_text = True
    i = 2
    while i < len(argv):
        if argv[i] == "--exclude-dir":
            exclude.add(argv[i + 1])
            i += 2
        elif argv[i] == "--no-text":
            with_text = False
            i += 1
        else:
            raise SystemExit("unknown argument " + argv[i])
    paths = []
    if os.path.isfile(root):
        paths = [os.path.basename(root)]
        root = os.path.dirname(root) or "."
    else:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in exclude
                                 and not os.path.islink(os.path.join(dirpath, d)))
            for f in filenames:
                full = os.path.join(dirpath, f)
                if f.endswith(".py") and not os.path.islink(full):
                    paths.append(os.path.relpath(full, root))
    files = []
    for rel in sorted(paths):
        with open(os.path.join(root, rel), "rb") as fh:
            raw = fh.read()
        try:
            fns = analyse(raw, with_text)
            files.append({"path": rel, "error": None, "functions": fns})
        except (SyntaxError, ValueError, UnicodeDecodeError, LookupError) as e:
            files.append({"path": rel, "error": type(e).__name__ + ": " + str(e), "functions": []})
    json.dump({"files": files}, sys.stdout, indent=None, separators=(",", ":"), sort_keys=True)


if __name__ == "__main__":
    main(sys.argv)
