#!/usr/bin/env python3
"""Soak test: a release `swejepa serve` under a mixed client load for SOAK_MINUTES (`make soak`).

Standard library only; not part of `make test`. On a temporary data directory it starts the server
with a token and seeds functions and a 64-dimensional space, then THREADS client threads (default 4)
keep sending, each request picked at random:
  - searches (JSON vectors, function ids with exclude_same_repo, a `.npy` query matrix),
  - vector uploads (PUT …/vectors, JSON, overwriting ids already stored: the data does not grow),
  - vector downloads (`.npy`, `.npz` and JSON, the whole space),
  - function writes (POST /v1/functions re-upserting existing keys with a new body),
  - job submissions (a short `sleep` job; now and then a `neighbours` job over the space) and reads
    of the job list,
half of them on a kept-alive connection, half on a new one. Every SAMPLE seconds (default 5) it
samples the server's RSS (/proc/PID/status VmRSS) and open file descriptors (/proc/PID/fd).

Pass/fail:
  - RSS: its level over the last minute (the median of that minute's samples) is at most RSS_BOUND
    (default 1.10) × its level over the minute after the warm-up (the first minute; a fifth of runs
    shorter than 2 minutes), i.e. within 10 % as issue 12 asks. Medians, because the server hands
    freed memory back every 10 s and RSS is a sawtooth: one sample lands anywhere on it. Single
    samples (after warm-up, peak, end) and the anonymous part, the heap, are printed beside it;
  - FDs: after the load stops and the clients' connections are closed (2 s settle), sockets and other
    descriptors are at most 2 more than after seeding, and each SQLite file (database, -wal) is open at
    most once per pooled connection (1 writer + 8 readers): more clients open more pooled readers, which
    is no leak;
  - no 5xx answer and no transport error;
and prints a summary (requests by kind, errors, RSS/FD at warm-up, peak and end, load average).

Usage: scripts/soak.py [--binary .build/release/swejepa] [--minutes 10] [--threads 4] [--keep]
                       [--kinds search_vectors,upload,...] [--warmup SECONDS] [--serve-arg=ARG ...]
(--kinds sends only those request kinds, with their usual relative weights: to tell which kind makes
RSS grow; --warmup overrides the warm-up length.)
"""
import argparse
import http.client
import io
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "soak-secret-token"
SPACE, DIM = "soak.vectors", 64
N_FUNCTIONS = 2000
REPOS = [f"soak{r}" for r in range(10)]


def malloc_mib(port):
    """The server's glibc malloc figures from /metrics (swejepa_malloc_bytes), MiB by kind; {} if absent."""
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        text = c.getresponse().read().decode()
        c.close()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        if line.startswith("swejepa_malloc_bytes{kind=\""):
            kind = line.split('"')[1]
            out[kind] = float(line.rsplit(" ", 1)[1]) / 2**20
        elif line.startswith("swejepa_sqlite_memory_bytes{kind=\"now\"} "):
            out["sqlite"] = float(line.rsplit(" ", 1)[1]) / 2**20
        elif line.startswith("swejepa_malloc_trims_total "):
            out["trims"] = int(float(line.rsplit(" ", 1)[1]))
        elif line.startswith("swejepa_malloc_trimmed_bytes_total "):
            out["trimmed"] = float(line.rsplit(" ", 1)[1]) / 2**20
    return out


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


# The store's SQLite connections: one writer and up to SQLiteStore.readerThreads (8) readers, each holding the
# database file and its -wal open. They open as requests arrive in parallel and stay in the pool.
SQLITE_CONNECTIONS = 1 + 8


def fd_kinds(pid, data):
    """The open descriptors by kind: sockets, SQLite files under `data` (per path) and the rest."""
    kinds = {"socket": 0, "other": 0}
    db = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:"):
            kinds["socket"] += 1
        elif target.startswith(data) and ".sqlite" in target:
            db[target] = db.get(target, 0) + 1
        else:
            kinds["other"] += 1
    return kinds, db


def npy(rows):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (len(rows), DIM)
    header = header.ljust(118) + "\n"
    body = b"".join(struct.pack(f"<{DIM}f", *r) for r in rows)
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + body


class Client:
    def __init__(self, port, rng):
        self.port, self.rng = port, rng
        self.conn = None

    def request(self, method, path, body=None, content_type="application/json", keep=True):
        headers = {"Authorization": f"Bearer {TOKEN}"}
        if body is not None:
            if not isinstance(body, bytes):
                body = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        if not keep or self.conn is None:
            if self.conn is not None:
                self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        conn = self.conn
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        payload = r.read()
        if not keep or r.getheader("Connection", "").lower() == "close":
            conn.close()
            self.conn = None
        return r.status, payload

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def function(i, version=0):
    return {"repo": REPOS[i % len(REPOS)], "path": f"m{i % 37}.py", "qualified_name": f"f{i}",
            "start_line": 1, "end_line": 2, "signature": f"def f{i}(x):",
            "body": f"    return x + {i} * {version}\n"}


def vec(rng):
    return [rng.gauss(0, 1) for _ in range(DIM)]


class Load:
    KINDS = ["search_vectors", "search_ids", "search_npy", "upload", "download", "functions", "job", "jobs_list"]
    WEIGHTS = [20, 15, 10, 15, 10, 15, 8, 7]

    def __init__(self, port, ids, seed, kinds=None):
        self.port, self.ids = port, ids
        chosen = [(k, w) for k, w in zip(self.KINDS, self.WEIGHTS) if kinds is None or k in kinds]
        self.kinds, self.weights = [k for k, _ in chosen], [w for _, w in chosen]
        self.counts, self.errors = {}, []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.seed = seed

    def note(self, kind, status, payload):
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            if status >= 500 or status == 0:
                self.errors.append(f"{kind}: {status} {payload[:200]!r}")

    def worker(self, n):
        rng = random.Random(self.seed * 1000 + n)
        c = Client(self.port, rng)
        kinds, weights = self.kinds, self.weights
        while not self.stop.is_set():
            kind = rng.choices(kinds, weights)[0]
            keep = rng.random() < 0.5
            try:
                status, payload = self.one(c, rng, kind, keep)
            except (OSError, http.client.HTTPException) as e:
                status, payload = 0, str(e).encode()
                c.close()
            self.note(kind, status, payload)
        c.close()

    def one(self, c, rng, kind, keep):
        s = f"/v1/spaces/{SPACE}"
        if kind == "search_vectors":
            return c.request("POST", s + "/search", {"vectors": [vec(rng) for _ in range(rng.randint(1, 8))], "k": 10}, keep=keep)
        if kind == "search_ids":
            ids = rng.sample(self.ids, rng.randint(1, 50))
            return c.request("POST", s + "/search", {"function_ids": ids, "k": 10, "exclude_same_repo": True}, keep=keep)
        if kind == "search_npy":
            return c.request("POST", s + "/search?k=5", npy([vec(rng) for _ in range(4)]), "application/x-npy", keep=keep)
        if kind == "upload":
            ids = rng.sample(self.ids, 200)
            return c.request("PUT", s + "/vectors", {"ids": ids, "vectors": [vec(rng) for _ in ids]}, keep=keep)
        if kind == "download":
            fmt = rng.choice(["npy", "npz", "json"])
            return c.request("GET", s + f"/vectors?format={fmt}", keep=keep)
        if kind == "functions":
            picks = rng.sample(range(N_FUNCTIONS), 50)
            return c.request("POST", "/v1/functions", {"functions": [function(i, rng.randint(1, 3)) for i in picks]}, keep=keep)
        if kind == "job":
            if rng.random() < 0.1:
                return c.request("POST", "/v1/jobs", {"type": "neighbours", "space": SPACE, "k": 5, "exclude": "self"}, keep=keep)
            return c.request("POST", "/v1/jobs", {"type": "sleep", "seconds": 0.05, "steps": 2}, keep=keep)
        return c.request("GET", "/v1/jobs?limit=50", keep=keep)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.path.join(REPO, ".build/release/swejepa"))
    ap.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 10)))
    ap.add_argument("--threads", type=int, default=int(os.environ.get("SOAK_THREADS", 4)))
    ap.add_argument("--sample", type=float, default=5.0)
    ap.add_argument("--rss-bound", type=float, default=float(os.environ.get("RSS_BOUND", 1.10)))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the data directory")
    ap.add_argument("--kinds", help="comma-separated request kinds to send (default all): " + ", ".join(Load.KINDS))
    ap.add_argument("--warmup", type=float, help="warm-up seconds (default 60, or a fifth of runs under 2 minutes)")
    ap.add_argument("--serve-arg", action="append", default=[], metavar="ARG",
                    help="one more argument for `swejepa serve` (repeatable), e.g. --serve-arg=--malloc-trim-seconds=0")
    a = ap.parse_args()
    kinds = None
    if a.kinds:
        kinds = set(a.kinds.split(","))
        unknown = kinds - set(Load.KINDS)
        if unknown:
            ap.error(f"unknown kinds {sorted(unknown)}; known: {', '.join(Load.KINDS)}")

    data = tempfile.mkdtemp(prefix="swejepa-soak-")
    log = open(os.path.join(data, "serve.log"), "wb")
    env = dict(os.environ, SWEJEPA_MODEL_DIR=os.environ.get("SWEJEPA_MODEL_DIR", os.path.join(REPO, ".cache/models/all-MiniLM-L6-v2")))
    proc = subprocess.Popen([a.binary, "serve", "--data", data, "--port", "0", "--token", TOKEN, "--workers", "1",
                             "--log-level", "warning", *a.serve_arg], stdout=log, stderr=log, env=env)
    ok = False
    try:
        port = None
        for _ in range(600):
            text = open(log.name, errors="replace").read()
            if "listening on http://127.0.0.1:" in text:
                port = int(text.split("listening on http://127.0.0.1:")[1].split()[0].strip("/"))
                break
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        if port is None:
            print("server did not start:\n" + open(log.name, errors="replace").read())
            return 1
        rng = random.Random(a.seed)
        c = Client(port, rng)
        ids = []
        for start in range(0, N_FUNCTIONS, 500):
            st, body = c.request("POST", "/v1/functions", {"functions": [function(i) for i in range(start, start + 500)]})
            assert st == 200, (st, body)
        st, body = c.request("GET", f"/v1/functions?limit=1000")
        page = json.loads(body)
        ids = [f["id"] for f in page["functions"]]
        while page.get("next_cursor"):
            st, body = c.request("GET", f"/v1/functions?limit=1000&cursor={page['next_cursor']}")
            page = json.loads(body)
            ids += [f["id"] for f in page["functions"]]
        st, body = c.request("POST", "/v1/spaces", {"name": SPACE, "kind": "custom", "dim": DIM, "metric": "cosine"})
        assert st == 201, (st, body)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            st, body = c.request("PUT", f"/v1/spaces/{SPACE}/vectors", {"ids": chunk, "vectors": [vec(rng) for _ in chunk]})
            assert st == 200, (st, body)
        c.close()
        time.sleep(1)
        fds_seeded = open_fds(proc.pid)
        kinds_seeded, _ = fd_kinds(proc.pid, data)

        load = Load(port, ids, a.seed, kinds)
        threads = [threading.Thread(target=load.worker, args=(n,), daemon=True) for n in range(a.threads)]
        started = time.time()
        for t in threads:
            t.start()
        total = a.minutes * 60
        warm = 60.0 if total >= 120 else total / 5   # the "after the first minute"
        if a.warmup is not None:
            warm = min(a.warmup, total)
        samples, warm_rss, warm_fds = [], None, None
        while time.time() - started < total:
            time.sleep(a.sample)
            if proc.poll() is not None:
                print(f"server exited with {proc.returncode} during the soak")
                return 1
            t = time.time() - started
            samples.append((t, rss_kib(proc.pid), open_fds(proc.pid), rss_kib(proc.pid, "RssAnon"), malloc_mib(port)))
            if warm_rss is None and t >= warm:
                warm_rss, warm_fds = samples[-1][1], samples[-1][2]
            m = samples[-1][4]
            heap = f"  malloc live {m['in_use']:6.1f} kept {m['free_kept']:6.1f} sqlite {m.get('sqlite', 0):5.1f}" if m else ""
            print(f"  {t:6.0f} s  RSS {samples[-1][1] / 1024:7.1f} MiB (anonymous {samples[-1][3] / 1024:7.1f}){heap}  FDs {samples[-1][2]:4d}  "
                  f"requests {sum(load.counts.values())}", flush=True)
        load.stop.set()
        for t in threads:
            t.join(timeout=180)
        time.sleep(2)
        fds_after = open_fds(proc.pid)
        kinds_after, db_after = fd_kinds(proc.pid, data)
        end_rss = rss_kib(proc.pid)
        peak = max(s[1] for s in samples)
        load1, load5, _ = os.getloadavg()
        n = sum(load.counts.values())
        print(f"soak: {a.minutes:g} min, {a.threads} client threads, {n} requests ({n / total:.0f}/s): "
              + ", ".join(f"{k} {v}" for k, v in sorted(load.counts.items())))
        print(f"RSS: after warm-up ({warm:.0f} s) {warm_rss / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, "
              f"end {end_rss / 1024:.1f} MiB ({end_rss / warm_rss:.3f}× warm-up; bound {a.rss_bound:.2f}×)")
        # The level of a window: the server hands freed memory back every 10 s (malloc_trim), so RSS is a
        # sawtooth and one sample can land on a crest or a trough; the median of a minute's samples is
        # the level then. Pass/fail compares the minute after the warm-up with the last minute.
        span = min(60.0, warm)
        first = sorted(s[1] for s in samples if warm <= s[0] < warm + span)
        last = sorted(s[1] for s in samples if s[0] > samples[-1][0] - span)
        warm_level, end_level = first[len(first) // 2], last[len(last) // 2]
        print(f"RSS level (median of a window's samples): the {span:.0f} s after warm-up {warm_level / 1024:.1f} MiB "
              f"(max {first[-1] / 1024:.1f}), the last {span:.0f} s {end_level / 1024:.1f} MiB (max {last[-1] / 1024:.1f}): "
              f"{end_level / warm_level:.3f}×; bound {a.rss_bound:.2f}×")
        anon = [s[3] for s in samples]
        warm_anon = next(s[3] for s in samples if s[0] >= warm)
        print(f"anonymous RSS (heap): after warm-up {warm_anon / 1024:.1f} MiB, end {anon[-1] / 1024:.1f} MiB; "
              f"data directory {sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data) if os.path.isfile(os.path.join(data, f))) / 2**20:.0f} MiB")
        mw = next((s[4] for s in samples if s[0] >= warm), {})
        if mw and samples[-1][4]:
            me = samples[-1][4]
            print(f"malloc: live {mw['in_use']:.1f} → {me['in_use']:.1f} MiB, free but kept in the arenas "
                  f"{mw['free_kept']:.1f} → {me['free_kept']:.1f} MiB (after warm-up → end)")
            if "trims" in me:
                print(f"malloc_trim: {me['trims']} trims released {me.get('trimmed', 0):.1f} MiB of resident memory in all")
        print(f"FDs: after seeding {fds_seeded}, under load at warm-up {warm_fds}, peak {max(s[2] for s in samples)}, "
              f"after the load {fds_after}: sockets {kinds_seeded['socket']} → {kinds_after['socket']}, other "
              f"{kinds_seeded['other']} → {kinds_after['other']}, SQLite files "
              + (", ".join(f"{os.path.basename(k)} ×{v}" for k, v in sorted(db_after.items())) or "none")
              + f" (bounds: sockets and other +2, each SQLite file ×{SQLITE_CONNECTIONS})")
        print(f"load average at the end: {load1:.2f} (1 min), {load5:.2f} (5 min) on {os.cpu_count()} CPUs")
        failures = []
        if end_level > a.rss_bound * warm_level:
            failures.append(f"RSS level grew to {end_level / warm_level:.3f}× its level after the warm-up")
        # A leak grows with the requests: client sockets left open, files never closed. The pooled SQLite
        # connections are not one (their count is bounded by the pool), so they are checked per file.
        for kind in ("socket", "other"):
            if kinds_after[kind] > kinds_seeded[kind] + 2:
                failures.append(f"{kinds_after[kind] - kinds_seeded[kind]} more '{kind}' descriptors than after seeding")
        for path, count in db_after.items():
            if count > SQLITE_CONNECTIONS:
                failures.append(f"{os.path.basename(path)} open {count} times (the pool holds at most {SQLITE_CONNECTIONS})")
        if load.errors:
            failures.append(f"{len(load.errors)} server errors or transport failures, e.g. {load.errors[:3]}")
        for f in failures:
            print("FAIL: " + f)
        ok = not failures
        print("soak passed" if ok else "soak FAILED")
        return 0 if ok else 1
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        if a.keep or not ok:
            print(f"data directory kept: {data}")
        else:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
