#!/usr/bin/env python3
"""The live server and the seeded corpus of the dashboard's browser test (scripts/browser/dashboard_test.py).

`Server` runs a release `swejepa serve` on a free port and a data directory (token, auth scope, its
log to a file) and talks to its API; `seed` fills it with a small real corpus: a fixed handful of
modules of this machine's Python standard library (one repository each), ingested, embedded with the
default teacher (layer 3, sig_mean and body_mean), one probe job and one short train job. `Checks`
prints one PASS/FAIL line per check.

    server = Server(binary, data, ingest_root, token, "reads", log_path); server.start()
    jobs = seed(server, corpus)      # {"ingest": id, "embed": id, "probe": id, "train": id}
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sysconfig
import time
import urllib.error
import urllib.request

MODEL = "all-MiniLM-L6-v2"
LAYER = 3
TEACHER = f"{MODEL}.L{LAYER}"
STUDENT = "student.browser_mlp"
# A fixed choice of standard-library modules (single files, ~350 functions in CPython 3.11), each
# its own repository: enough groups for 5-fold probes and a train/validation/test split by repository.
MODULES = ["textwrap", "shlex", "glob", "heapq", "csv", "difflib", "gettext", "pprint",
           "statistics", "string", "fractions", "base64"]


# ---------------------------------------------------------------------------------------- output
class Checks:
    def __init__(self):
        self.results: list[tuple[str, bool, str]] = []

    def record(self, name: str, ok: bool, detail: str = "") -> bool:
        self.results.append((name, ok, detail))
        print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f"  — {detail}" if detail else ""), flush=True)
        return ok

    def run(self, name: str, fn) -> bool:
        """Runs fn() (returns a detail string, or raises AssertionError/Exception to fail)."""
        try:
            detail = fn()
            return self.record(name, True, detail or "")
        except AssertionError as e:
            return self.record(name, False, str(e))
        except Exception as e:  # noqa: BLE001 — a broken step fails its check, the others still run
            return self.record(name, False, f"{type(e).__name__}: {e}")

    @property
    def failed(self) -> list[str]:
        return [n for n, ok, _ in self.results if not ok]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------------------------------- server
class Server:
    def __init__(self, binary: str, data: str, ingest_root: str, token: str, auth: str, log_path: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.token = token
        self.log = open(log_path, "wb")
        self.argv = [binary, "serve", "--data", data, "--port", str(self.port), "--ingest-root", ingest_root,
                     "--auth", auth, "--workers", "1", "--shutdown-grace", "2"]
        atexit.register(self.stop)
        self.start()

    def start(self) -> None:
        """Starts the server (again, on the same port and data) and waits for /healthz."""
        self.proc = subprocess.Popen(
            self.argv, env={**os.environ, "SWEJEPA_TOKEN": self.token}, stdin=subprocess.DEVNULL,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"swejepa serve did not come up (see {self.log.name})")
                time.sleep(0.1)

    def request(self, method: str, path: str, body=None, token: bool = True):
        """(status, JSON body) of one API call."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode(errors="replace")

    def get(self, path: str):
        status, body = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body}")
        return body

    def submit(self, job: dict) -> int:
        status, body = self.request("POST", "/v1/jobs", job)
        if status != 202:
            raise RuntimeError(f"POST /v1/jobs {job}: {status} {body}")
        return body["id"]

    def wait_job(self, job_id: int, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(f"/v1/jobs/{job_id}")
            if job["state"] in ("succeeded", "failed", "cancelled"):
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} ({job['type']}) still {job['state']} after {timeout:g} s")
            time.sleep(0.25)

    def stop(self, close_log: bool = True) -> None:
        proc = getattr(self, "proc", None)
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if close_log:
            self.log.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------- seeding
def make_corpus(root: str) -> int:
    """Copies MODULES from this Python's standard library, each into its own top-level folder."""
    stdlib = sysconfig.get_paths()["stdlib"]
    for m in MODULES:
        os.makedirs(os.path.join(root, m))
        shutil.copy(os.path.join(stdlib, f"{m}.py"), os.path.join(root, m, f"{m}.py"))
    return len(MODULES)


def seed(server: Server, corpus: str) -> dict:
    """ingest → embed → probe → train; returns the job ids by type. Each step must succeed."""
    steps = [
        ("ingest", {"type": "ingest", "path": corpus, "name": "stdlib", "split": "top_level", "history": False}),
        ("embed", {"type": "embed", "model": MODEL, "layers": [LAYER], "kinds": ["sig_mean", "body_mean"]}),
        ("probe", {"type": "probe", "space": f"{TEACHER}.body_mean",
                   "targets": "loc,cyclomatic_complexity,return_category"}),
        ("train", {"type": "train", "input_space": f"{TEACHER}.sig_mean", "target_space": f"{TEACHER}.body_mean",
                   "model": "mlp", "loss": "infonce", "epochs": 4, "batch_size": 32, "mlp_hidden": 256,
                   "patience": 0, "output_space": STUDENT}),
    ]
    ids = {}
    for name, job in steps:
        t = time.monotonic()
        ids[name] = server.submit(job)
        done = server.wait_job(ids[name])
        if done["state"] != "succeeded":
            raise RuntimeError(f"{name} job {ids[name]} {done['state']}: {done.get('error')}")
        r = done.get("result") or {}
        extra = (f", test {r['test']}, {len(server.get(f'/v1/jobs/{ids[name]}/metrics')['series'])} metric series"
                 if name == "train" else f", {len(r.get('results', []))} targets" if name == "probe" else "")
        log(f"seed: {name} job {ids[name]} succeeded in {time.monotonic() - t:.1f} s{extra}")
    return ids


def seeded_jobs(server: Server) -> dict | None:
    """The first succeeded job of each seeding type when all four exist (a reused --data), else None."""
    ids = {}
    for name in ("ingest", "embed", "probe", "train"):
        jobs = server.get(f"/v1/jobs?type={name}&state=succeeded&limit=1000")["jobs"]
        if not jobs:
            return None
        ids[name] = min(j["id"] for j in jobs)
    return ids
