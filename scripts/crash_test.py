#!/usr/bin/env python3
"""Crash test: a release `swejepa serve` SIGKILLed at random under a writing client (`make crash-test`).

Standard library only. On a temporary data directory it starts the server, and a client keeps
  - upserting batches of new functions (POST /v1/functions; a batch is retried until acknowledged),
  - uploading vectors for them into a small space (PUT …/vectors, each batch a new version per id),
  - running an `embed` job (the tiny BERT fixture) and, once it succeeded, a `train` job,
while the server is SIGKILLed a random 1–5 s after each start, for CRASH_MINUTES (default 2).
After every restart it checks:
  - every acknowledged write is present (functions with the ids they were given, vectors at their
    acknowledged version, spaces, jobs);
  - no partial batch is visible (an unacknowledged batch is all there or not at all);
  - every index equals a rebuild from the store: the index holds as many vectors as the store, and a
    search by function id (exclude_self=false) finds each stored vector itself at the top score;
  - every job is queued, running or succeeded (never failed or lost).
Then, without kills, every job must succeed (bounded wait) and the checks run a last time.

Usage: scripts/crash_test.py [--binary .build/release/swejepa] [--minutes 2] [--seed N] [--keep]
Exit status 0 when every check passed; the counts are printed either way.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_BERT = os.path.join(REPO, "Tests/TeacherTests/Fixtures/tiny-bert")
SPACE, DIM = "crash.vectors", 16
REPOS = [f"crash{r}" for r in range(8)]
MAX_FUNCTIONS = 320


class CheckFailed(Exception):
    pass


class Unavailable(Exception):
    """The request got no answer (server down, connection reset): its outcome is unknown."""


class Server:
    def __init__(self, binary, data, port):
        self.binary, self.data, self.port = binary, data, port
        self.proc = None
        self.lock = threading.Lock()
        self.kills = 0
        self.killed = threading.Event()   # set before each of our SIGKILLs, cleared by start()
        self.log = open(os.path.join(data, "serve.log"), "ab")

    def start(self):
        with self.lock:
            self.killed.clear()
            self.proc = subprocess.Popen([self.binary, "serve", "--data", self.data, "--port", str(self.port),
                                          "--log-level", "warning"], stdout=self.log, stderr=self.log)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise CheckFailed(f"server exited with {self.proc.returncode} while starting (see {self.log.name})")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        raise CheckFailed("server not healthy within 120 s")

    def kill(self, count=True):
        with self.lock:
            if self.proc is not None and self.proc.poll() is None:
                self.killed.set()
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait()
                self.kills += count

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


class Client:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def call(self, method, path, body=None, timeout=60):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            payload = e.read()
            if e.code in (502, 503, 504):
                raise Unavailable(f"{method} {path}: {e.code}")
            try:
                return e.code, json.loads(payload)
            except ValueError:
                return e.code, payload.decode(errors="replace")
        except (OSError, urllib.error.URLError, ValueError) as e:   # refused, reset, truncated body
            raise Unavailable(f"{method} {path}: {e}")

    def ok(self, method, path, body=None, timeout=60):
        status, payload = self.call(method, path, body, timeout)
        if not 200 <= status < 300:
            raise CheckFailed(f"{method} {path} answered {status}: {payload}")
        return payload


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def vector(fid, version):
    rng = random.Random(fid * 100_003 + version)
    return [f32(rng.gauss(0, 1)) for _ in range(DIM)]


class Workload:
    """What the client sent and what the server acknowledged."""

    def __init__(self, rng):
        self.rng = rng
        self.next_function = 0
        self.function_batches = []      # [{"keys": [...], "acked": bool, "ids": {key: id}}]
        self.ids = {}                   # acked key -> id
        self.acked_version = {}         # id -> last acknowledged vector version
        self.pending_vectors = None     # (ids, version) sent without an answer
        self.jobs = {}                  # job id -> type
        self.acknowledged = 0
        self.space_created = False

    def new_function_batch(self):
        n = self.rng.randint(4, 16)
        fns = []
        for _ in range(n):
            k = self.next_function
            self.next_function += 1
            repo = REPOS[k % len(REPOS)]
            name = f"f{k}"
            # Single letters: words the tiny teacher's 40-token vocabulary knows, so texts differ as vectors.
            args = ", ".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(5))
            body = "    return " + " + ".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6)) + "\n"
            fns.append({"repo": repo, "path": f"pkg/m{k % 5}.py", "qualified_name": name, "start_line": 1,
                        "end_line": 2, "signature": f"def {name}({args}):", "body": body})
        batch = {"functions": fns, "keys": [(f["repo"], f["path"], f["qualified_name"]) for f in fns], "acked": False}
        self.function_batches.append(batch)
        return batch


class CrashTest:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.data = tempfile.mkdtemp(prefix="swejepa-crash-")
        os.makedirs(os.path.join(self.data, "models"))
        shutil.copytree(TINY_BERT, os.path.join(self.data, "models", "tiny-bert"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.server = Server(args.binary, self.data, port)
        self.client = Client(port)
        self.w = Workload(self.rng)
        self.checks = 0
        self.timer = None

    # --- the client's writes -------------------------------------------------------------------
    def step(self):
        w = self.w
        open_batch = next((b for b in w.function_batches if not b["acked"]), None)
        if not w.space_created:
            status, payload = self.client.call("POST", "/v1/spaces", {"name": SPACE, "kind": "body_mean", "dim": DIM})
            if status not in (201, 409):
                raise CheckFailed(f"create space: {status} {payload}")
            w.space_created = True
            w.acknowledged += 1
        elif open_batch is not None:              # retry the unacknowledged batch first (upserts are idempotent)
            self.post_functions(open_batch)
        elif w.pending_vectors is not None:
            self.put_vectors(*w.pending_vectors)
        else:
            roll = self.rng.random()
            if roll < 0.45 and w.next_function < MAX_FUNCTIONS:
                self.post_functions(w.new_function_batch())
            elif w.ids:
                ids = self.rng.sample(sorted(w.ids.values()), min(len(w.ids), self.rng.randint(4, 40)))
                version = max(w.acked_version.get(i, 0) for i in ids) + 1
                w.pending_vectors = (ids, version)
                self.put_vectors(ids, version)
        self.maybe_submit_jobs()

    def post_functions(self, batch):
        payload = self.client.ok("POST", "/v1/functions", {"functions": batch["functions"]})
        ids = payload["ids"]
        if len(ids) != len(batch["keys"]):
            raise CheckFailed(f"POST /v1/functions returned {len(ids)} ids for {len(batch['keys'])} functions")
        for key, fid in zip(batch["keys"], ids):
            if key in self.w.ids and self.w.ids[key] != fid:
                raise CheckFailed(f"{key} was id {self.w.ids[key]}, now {fid}")
            self.w.ids[key] = fid
        batch["acked"] = True
        self.w.acknowledged += 1

    def put_vectors(self, ids, version):
        self.client.ok("PUT", f"/v1/spaces/{SPACE}/vectors", {"ids": ids, "vectors": [vector(i, version) for i in ids]})
        for i in ids:
            self.w.acked_version[i] = version
        self.w.pending_vectors = None
        self.w.acknowledged += 1

    def maybe_submit_jobs(self):
        types = set(self.w.jobs.values())
        if "embed" not in types and len(self.w.ids) >= 64:
            self.submit({"type": "embed", "model": "tiny-bert", "layers": [1], "kinds": ["sig_tokens", "body_mean"]})
        elif "train" not in types and "embed" in types:
            embed = next(j for j, t in self.w.jobs.items() if t == "embed")
            if self.client.ok("GET", f"/v1/jobs/{embed}")["state"] == "succeeded":
                self.submit({"type": "train", "input_space": "tiny-bert.L1.sig_tokens",
                             "target_space": "tiny-bert.L1.body_mean", "model": "sig_predictor", "d_model": 32,
                             "layers": 1, "heads": 4, "ffn": 64, "epochs": 4, "batch_size": 32, "patience": 0,
                             "dropout": 0, "max_tokens": 16, "seed": 1})

    def submit(self, body):
        # A job submitted without an answer may exist or not: look for it before submitting again.
        body = dict(body, max_attempts=100)
        for job in self.client.ok("GET", "/v1/jobs?limit=100").get("jobs", []):
            if job["type"] == body["type"]:
                self.w.jobs[job["id"]] = job["type"]
                return
        job = self.client.ok("POST", "/v1/jobs", body)
        self.w.jobs[job["id"]] = job["type"]
        self.w.acknowledged += 1

    # --- the checks after each restart ---------------------------------------------------------------
    def check(self, final=False):
        c, w = self.client, self.w
        present = {}
        for repo in REPOS:
            cursor = None
            while True:
                page = c.ok("GET", f"/v1/functions?repo={repo}&limit=1000" + (f"&cursor={cursor}" if cursor else ""))
                for f in page["functions"]:
                    present[(f["repo"], f["path"], f["qualified_name"])] = f["id"]
                cursor = page.get("next_cursor")
                if not cursor:
                    break
        sent = set()
        for b in w.function_batches:
            keys = b["keys"]
            sent.update(keys)
            there = [k for k in keys if k in present]
            if b["acked"]:
                for k in keys:
                    if present.get(k) != w.ids[k]:
                        raise CheckFailed(f"acknowledged function {k} (id {w.ids[k]}) missing or renumbered: {present.get(k)}")
            elif there and len(there) != len(keys):
                raise CheckFailed(f"partial function batch visible: {len(there)} of {len(keys)}")
        unknown = set(present) - sent
        if unknown:
            raise CheckFailed(f"functions nobody sent: {sorted(unknown)[:3]}")
        if w.space_created:
            self.check_vectors()
        self.check_indexes()
        for jid, jtype in w.jobs.items():
            job = c.ok("GET", f"/v1/jobs/{jid}")
            allowed = {"succeeded"} if final else {"queued", "running", "succeeded"}
            if job["state"] not in allowed:
                raise CheckFailed(f"{jtype} job {jid} is {job['state']}: {job.get('error')}")
        self.checks += 1

    def check_vectors(self):
        w = self.w
        status, page = self.client.call("GET", f"/v1/spaces/{SPACE}/vectors")   # the whole (small) space
        if status != 200:
            raise CheckFailed(f"GET {SPACE} vectors: {status} {page}")
        stored = {i: [f32(x) for x in v] for i, v in zip(page["ids"], page["vectors"])}
        for i, version in w.acked_version.items():
            if stored.get(i) != vector(i, version):
                if w.pending_vectors and i in w.pending_vectors[0] and stored.get(i) == vector(i, w.pending_vectors[1]):
                    continue
                raise CheckFailed(f"vector of {i}: acknowledged version {version} not stored")
        if w.pending_vectors:
            pids, pver = w.pending_vectors
            new = [i for i in pids if stored.get(i) == vector(i, pver)]
            if new and len(new) != len(pids):
                raise CheckFailed(f"partial vector batch visible: {len(new)} of {len(pids)}")
            if new:   # it landed before the kill: it counts as written
                for i in pids:
                    w.acked_version[i] = pver
                w.pending_vectors = None
        for i in stored:
            if i not in w.acked_version:
                raise CheckFailed(f"vector for {i} nobody acknowledged")

    def check_indexes(self):
        c = self.client
        for space in c.ok("GET", "/v1/spaces")["spaces"]:
            name = space["name"]
            if space.get("kind") == "sig_tokens":
                continue
            stored = [i for i in self.all_vector_ids(name)]
            info = c.ok("GET", f"/v1/spaces/{name}/index")
            if info["count"] != len(stored):
                raise CheckFailed(f"index of {name} holds {info['count']} vectors, the store {len(stored)}")
            for k in range(0, len(stored), 100):
                chunk = stored[k:k + 100]
                res = c.ok("POST", f"/v1/spaces/{name}/search", {"function_ids": chunk, "k": 5, "exclude_self": False})
                for fid, r in zip(chunk, res["results"]):
                    if not self.self_on_top(r["hits"], fid):
                        # Equal vectors tie with self: look deeper before calling it missing.
                        again = c.ok("POST", f"/v1/spaces/{name}/search", {"function_ids": [fid], "k": 200,
                                                                           "exclude_self": False})
                        hits = again["results"][0]["hits"]
                        if not self.self_on_top(hits, fid) and not (len(hits) == 200 and hits[-1]["score"] == hits[0]["score"]):
                            raise CheckFailed(f"{name}: {fid} is not its own top-1 ({hits[:2]})")

    @staticmethod
    def self_on_top(hits, fid):
        """fid is among the hits with the top score (ties with equal vectors allowed)."""
        mine = [h["score"] for h in hits if h["id"] == fid]
        return bool(mine) and abs(mine[0] - hits[0]["score"]) <= 1e-4 * max(1.0, abs(hits[0]["score"]))

    def all_vector_ids(self, name):
        status, page = self.client.call("GET", f"/v1/spaces/{name}/vectors")
        if status != 200:
            raise CheckFailed(f"GET {name} vectors: {status} {page}")
        return page["ids"]

    # --- the run ----------------------------------------------------------------------------------
    def arm_kill(self):
        self.timer = threading.Timer(self.rng.uniform(1, 5), self.server.kill)
        self.timer.daemon = True
        self.timer.start()

    def restart_and_check(self):
        self.server.start()
        self.check()

    def run(self):
        end = time.time() + self.args.minutes * 60
        self.restart_and_check()
        self.arm_kill()
        while time.time() < end:
            try:
                self.step()
                time.sleep(0.02)
            except Unavailable:
                time.sleep(0.05)
                if self.server.alive():
                    continue          # a slow answer or a 503 while stopping: try again
                if not self.server.killed.is_set():   # died, and not by our hand
                    raise CheckFailed(f"the server exited on its own (code {self.server.proc.returncode})")
                self.timer.join()
                self.restart_and_check()
                self.arm_kill()
            if not self.server.alive() and self.server.killed.is_set():
                self.timer.join()
                self.restart_and_check()
                self.arm_kill()
        self.timer.cancel()
        if not self.server.alive():
            self.restart_and_check()
        # No more kills: finish the workload and wait for every job to succeed.
        deadline = time.time() + self.args.final_wait
        while time.time() < deadline:
            self.step()
            states = {self.client.ok("GET", f"/v1/jobs/{j}")["state"] for j in self.w.jobs}
            if set(self.w.jobs.values()) == {"embed", "train"} and states == {"succeeded"} \
                    and all(b["acked"] for b in self.w.function_batches) and self.w.pending_vectors is None:
                break
            if states & {"failed", "cancelled"}:
                break
            time.sleep(1)
        self.check(final=True)
        if set(self.w.jobs.values()) != {"embed", "train"}:
            raise CheckFailed(f"jobs submitted: {sorted(self.w.jobs.values())}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.path.join(REPO, ".build/release/swejepa"))
    ap.add_argument("--minutes", type=float, default=float(os.environ.get("CRASH_MINUTES", "2")))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("CRASH_SEED", time.time_ns() % 1_000_000)))
    ap.add_argument("--final-wait", type=float, default=600, help="seconds the jobs get to succeed after the kills")
    ap.add_argument("--keep", action="store_true", help="keep the data directory")
    args = ap.parse_args()
    t = CrashTest(args)
    print(f"crash test: {args.minutes} min, seed {args.seed}, data {t.data}", flush=True)
    failure = None
    try:
        t.run()
    except CheckFailed as e:
        failure = str(e)
    except Unavailable as e:
        failure = f"no answer after the kills stopped: {e}"
    finally:
        if t.timer:
            t.timer.cancel()
    w = t.w
    jobs = {}
    for jid, jtype in w.jobs.items():
        try:
            job = t.client.ok("GET", f"/v1/jobs/{jid}", timeout=5)
            jobs[jtype] = f"{job['state']} (attempt {job['attempt']})"
        except (Unavailable, CheckFailed):
            jobs[jtype] = "?"
    t.server.kill(count=False)
    print(f"kills: {t.server.kills}; acknowledged writes: {w.acknowledged} "
          f"({len(w.ids)} functions, {len(w.acked_version)} vectors); checks passed: {t.checks}; jobs: {jobs}")
    if failure:
        print(f"FAILED (seed {args.seed}, data kept in {t.data}): {failure}")
        sys.exit(1)
    if not args.keep:
        shutil.rmtree(t.data, ignore_errors=True)
    print("crash test passed")


if __name__ == "__main__":
    main()
