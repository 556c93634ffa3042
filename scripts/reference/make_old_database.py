#!/usr/bin/env python3
"""Writes Tests/StoreTests/Fixtures/schema_v2.sqlite: a store database frozen at schema version 2
(migrations 0001 and 0002 applied, 0003 and later not), with rows in every table that exists at that
version, made with Python's own sqlite3 and the migration files themselves.

The Swift test (Tests/StoreTests/MigrationTests.swift) opens a copy with SQLiteStore, which migrates
it to the latest version, and checks every row through the store API against the values below.

usage: python3 scripts/reference/make_old_database.py           # (re)writes the fixture
       python3 scripts/reference/make_old_database.py --check   # rebuilds in a temp dir, compares with the committed one

Deterministic: fixed ids, times and values; no randomness. The file is small (1 KiB pages, VACUUMed).
"""
import hashlib
import json
import sqlite3
import struct
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "migrations" / "sqlite"
OUT = ROOT / "Tests" / "StoreTests" / "Fixtures" / "schema_v2.sqlite"
VERSION = 2  # apply migrations up to and including this one

T0 = 1_700_000_000.0


def content_hash(signature, body):
    return hashlib.sha256((signature + "\0" + body).encode()).hexdigest()


def f32(values):
    return struct.pack(f"<{len(values)}f", *values)


def f16(values):
    return struct.pack(f"<{len(values)}e", *values)


def body_mean_vector(function_id):
    """Space 1 (dim 4, float32): exactly representable values."""
    return [function_id + j / 4 for j in range(4)]


def sig_token_rows(function_id, n_rows):
    """Space 2 (dim 2, float16): n_rows × 2 exactly representable values."""
    return [function_id * 0.5 + r + j * 0.125 for r in range(n_rows) for j in range(2)]


def build(path):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA page_size = 1024")
    db.execute("PRAGMA foreign_keys = ON")
    # Exactly what Migrator.migrate does: the bookkeeping table, then each file in its own transaction.
    db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (\n"
               "    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)")
    files = sorted(p for p in MIGRATIONS.glob("*.sql") if int(p.name[:4]) <= VERSION)
    assert [int(p.name[:4]) for p in files] == list(range(1, VERSION + 1)), files
    for p in files:
        version, name = int(p.stem[:4]), p.stem[5:]
        db.execute("BEGIN")
        # Statement by statement: executescript would commit on its own.
        for statement in split_sql(p.read_text(encoding="utf-8")):
            db.execute(statement)
        db.execute("INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)", (version, name, T0 + version))
        db.execute("COMMIT")

    db.execute("BEGIN")
    db.executemany("INSERT INTO repositories(id, name, path, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", [
        (1, "alpha", "/src/alpha", T0 + 10, T0 + 20),
        (2, "beta", None, T0 + 30, T0 + 30),
    ])
    functions = [
        # id, repo, path, qualified name, language, start, end, signature, body, body_hash, properties
        (1, 1, "pkg/a.py", "f", "python", 1, 3, "def f(x):", "    y = x  # é\n    return y\n", "bh-f",
         {"loc": 3, "commits": 2, "authors": 1, "return_category": "none", "has_docstring": False}),
        (2, 1, "pkg/a.py", "K.m", "python", 6, 9, "    @property\n    def m(self):", "        return self._m\n", "bh-m",
         {"loc": 3, "is_method": True}),
        (3, 1, "pkg/b.py", "g", "python", 1, 2, "async def g():", "    await h()\n", "bh-dup", None),
        (4, 2, "x.py", "h", "python", 10, 12, "def h():\n    \"\"\"Docs.\"\"\"", "    pass\n", "bh-dup", {"loc": 1}),
        (5, 2, "x.py", "h#2", "cython", 20, 20, "def h():", "    return 0\n", "bh-h2", {}),
    ]
    for (fid, repo, path, name, lang, start, end, sig, body, bh, props) in functions:
        db.execute("""INSERT INTO functions(id, repo_id, path, qualified_name, language, start_line, end_line, signature,
                        body, content_hash, body_hash, properties, created_at, updated_at)
                      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(?, '{}'), ?, ?)""",
                   (fid, repo, path, name, lang, start, end, sig, body, content_hash(sig, body), bh,
                    None if props is None else json.dumps(props, sort_keys=True, separators=(",", ":")),
                    T0 + 100 + fid, T0 + 200 + fid))
    db.executemany("""INSERT INTO spaces(id, name, model, layer, kind, dim, dtype, metric, index_factory, generation, created_at)
                      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", [
        (1, "m.L3.body_mean", "m", 3, "body_mean", 4, "float32", "cosine", "Flat", 7, T0 + 300),
        (2, "m.L3.sig_tokens", "m", 3, "sig_tokens", 2, "float16", "ip", "HNSW32", 3, T0 + 301),
        (3, "empty", "", None, "custom", 3, "float32", "l2", "Flat", 0, T0 + 302),
    ])
    # Space 1: every function; function 2's vector is stale, function 3's input was truncated.
    for fid in range(1, 6):
        db.execute("INSERT INTO vectors(space_id, function_id, n_rows, data, stale, truncated, updated_at) VALUES (1, ?, 1, ?, ?, ?, ?)",
                   (fid, f32(body_mean_vector(fid)), int(fid == 2), int(fid == 3), T0 + 400 + fid))
    # Space 2 (token matrices, float16): function 1 with 3 rows, function 4 with 1 row (stale).
    for fid, n in [(1, 3), (4, 1)]:
        db.execute("INSERT INTO vectors(space_id, function_id, n_rows, data, stale, truncated, updated_at) VALUES (2, ?, ?, ?, ?, 0, ?)",
                   (fid, n, f16(sig_token_rows(fid, n)), int(fid == 4), T0 + 500 + fid))

    jobs = [
        # id, type, state, params, result, error, progress, message, attempt, max, worker, lease, cancel, created, started, finished
        (1, "ingest", "succeeded", {"path": "/src/alpha"}, {"created": 3, "removed": 0}, None, 1.0, "done", 1, 3, "w1", None, 0,
         T0 + 600, T0 + 601, T0 + 610),
        (2, "embed", "failed", {"model": "m", "layers": [3]}, None, "model not found", 0.25, "loading", 3, 3, "w2", None, 0,
         T0 + 620, T0 + 621, T0 + 630),
        (3, "probe", "queued", {"space": "m.L3.body_mean", "targets": ["loc"]}, None, None, 0.0, "", 0, 3, None, None, 0,
         T0 + 640, None, None),
        (4, "train", "running", {"epochs": 2}, None, None, 0.5, "epoch 1/2", 1, 5, "w1", T0 + 700, 1, T0 + 650, T0 + 651, None),
        (5, "neighbours", "cancelled", {"space": "m.L3.body_mean", "k": 2}, None, None, 0.0, "cancelled", 1, 3, "w2", None, 1,
         T0 + 660, T0 + 661, T0 + 662),
    ]
    for (jid, typ, state, params, result, error, progress, message, attempt, max_attempts, worker, lease, cancel,
         created, started, finished) in jobs:
        db.execute("""INSERT INTO jobs(id, type, state, params, result, error, progress, message, attempt, max_attempts, worker,
                        lease_expires_at, cancel_requested, created_at, started_at, finished_at, updated_at)
                      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                   (jid, typ, state, json.dumps(params, sort_keys=True, separators=(",", ":")),
                    None if result is None else json.dumps(result, sort_keys=True, separators=(",", ":")),
                    error, progress, message, attempt, max_attempts, worker, lease, cancel, created, started, finished,
                    finished or started or created))
    db.executemany("INSERT INTO job_metrics(job_id, step, name, value, at) VALUES (?, ?, ?, ?, ?)", [
        (4, 0, "loss", 2.5, T0 + 652), (4, 1, "loss", 1.75, T0 + 653), (4, 2, "loss", 1.125, T0 + 654),
        (4, 0, "lr", 0.001, T0 + 652), (1, 0, "functions", 5.0, T0 + 605),
    ])
    db.executemany("INSERT INTO job_logs(id, job_id, at, level, message) VALUES (?, ?, ?, ?, ?)", [
        (1, 1, T0 + 601, "info", "attempt 1 of 3"), (2, 1, T0 + 609, "info", "stored: 3 new"),
        (3, 2, T0 + 629, "error", "model not found: m"), (4, 4, T0 + 651, "warning", "slow epoch ✓"),
    ])
    db.executemany("""INSERT INTO probe_results(id, job_id, space, target, task, metric, mean, std, group_by, result, created_at)
                      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", [
        (1, 1, "m.L3.body_mean", "loc", "regression", "r2", 0.625, 0.03125, "repo",
         json.dumps({"folds": [0.5, 0.75], "n": 5}, sort_keys=True, separators=(",", ":")), T0 + 800),
        (2, None, "m.L3.body_mean", "is_method", "classification", "balanced_accuracy", 0.875, 0.0625, "file",
         json.dumps({"folds": [0.875], "n": 5}, sort_keys=True, separators=(",", ":")), T0 + 801),
    ])
    db.executemany("INSERT INTO neighbours(space, function_id, rank, neighbour_id, score) VALUES (?, ?, ?, ?, ?)", [
        ("m.L3.body_mean", 1, 0, 4, 0.875), ("m.L3.body_mean", 1, 1, 5, 0.5),
        ("m.L3.body_mean", 4, 0, 1, 0.875), ("m.L3.body_mean", 5, 0, 1, 0.5),
    ])
    db.execute("INSERT INTO neighbour_runs(space, job_id, k, exclude, functions, created_at) VALUES (?, ?, ?, ?, ?, ?)",
               ("m.L3.body_mean", 5, 2, "repo", 3, T0 + 900))
    db.execute("COMMIT")
    db.execute("VACUUM")
    db.close()


def split_sql(text):
    """Splits a migration file into statements (sqlite3.complete_statement keeps triggers whole)."""
    statements, current = [], ""
    for line in text.splitlines(keepends=True):
        if not current and (line.strip() == "" or line.lstrip().startswith("--")):
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    assert current.strip() == "", f"unterminated statement: {current!r}"
    return statements


def dump(path):
    db = sqlite3.connect(path)
    out = list(db.iterdump())
    db.close()
    return out


if __name__ == "__main__":
    if "--check" in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "fresh.sqlite"
            build(fresh)
            same_content = dump(fresh) == dump(OUT)
            same_bytes = fresh.read_bytes() == OUT.read_bytes()
            print(f"content {'identical' if same_content else 'DIFFERS'}, bytes {'identical' if same_bytes else 'differ'}"
                  f" (sqlite {sqlite3.sqlite_version})")
            sys.exit(0 if same_content else 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    if OUT.exists():
        OUT.unlink()
    build(OUT)
    print(f"wrote {OUT.relative_to(ROOT)}: {OUT.stat().st_size} bytes (sqlite {sqlite3.sqlite_version})")
