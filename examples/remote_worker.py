#!/usr/bin/env python3
"""A remote worker for SWE-JEPA Store: claims `embed` jobs over HTTP, computes the vectors here (a GPU
machine can run a model the server cannot, e.g. Qwen3-8B), uploads them as .npy through the spaces API
and completes the jobs.

    python3 examples/remote_worker.py --server http://10.0.0.5:8080 --token "$SWEJEPA_TOKEN" --worker gpu-1
    python3 examples/remote_worker.py --server http://127.0.0.1:8080 --once     # one job (or none), then exit

Queue work for it with `POST /v1/jobs {"type":"embed","remote":true,"model":"Qwen3-8B","layers":[18],
"kinds":["body_mean"]}`: `remote: true` keeps the server's own workers off the job. The worker also
takes ordinary embed jobs when no local worker got to them first.

Plug in your model by replacing `compute` (or passing `compute=` to `run_job`): it gets the texts, the
layer and the model name of the job and returns a float32 array with one row per text. The default
calls the server's `POST /v1/embed` (its own teacher) so that this example runs anywhere.

Protocol (see the README, "Remote workers"): POST /v1/jobs/claim {types, worker, lease_seconds} → the
job (200) or nothing (204); while working, POST /v1/jobs/{id}/progress {worker, progress, message,
lease_seconds} (renews the lease; the answer says whether cancel was requested) and a heartbeat thread
POST /v1/jobs/{id}/heartbeat {worker, lease_seconds}; at the end POST /v1/jobs/{id}/complete {worker,
result} or /fail {worker, error, retry}. A 409 `lease_lost` means the job went to another worker: drop it.
"""
import argparse
import io
import sys
import threading
import time

import numpy as np
import requests

DEFAULT_MODEL = "all-MiniLM-L6-v2"
TEXT_OF_KIND = {  # what each pooled kind embeds (sig_tokens needs token matrices: not in this example)
    "sig_mean": lambda f: f["signature"],
    "body_mean": lambda f: f["signature"] + "\n" + f["body"],
    "body_only_mean": lambda f: f["body"],
}


class LeaseLost(Exception):
    """The server gave the job to another worker (409 lease_lost): drop the work."""


class Cancelled(Exception):
    """Cancel was requested for the job."""


class Client:
    def __init__(self, server, token=None, worker="remote-worker", lease=60.0):
        self.base = server.rstrip("/")
        self.worker, self.lease = worker, lease
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method, path, **kw):
        r = self.http.request(method, self.base + path, timeout=300, **kw)
        if r.status_code == 409 and r.json().get("error", {}).get("code") == "lease_lost":
            raise LeaseLost(r.json()["error"]["message"])
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
        return r

    def claim(self, types):
        r = self.call("POST", "/v1/jobs/claim", json={"types": types, "worker": self.worker, "lease_seconds": self.lease})
        return None if r.status_code == 204 else r.json()

    def job_call(self, job_id, action, **body):
        return self.call("POST", f"/v1/jobs/{job_id}/{action}", json={"worker": self.worker, **body}).json()


def compute(client, texts, layer, model):
    """Default embedding function: the server's own teacher (POST /v1/embed, mean pooled, L2-normalised).
    Replace it with your model; return float32 of shape (len(texts), dim)."""
    r = client.call("POST", "/v1/embed", json={"texts": texts, "layer": layer}, headers={"Accept": "application/x-npy"})
    return np.load(io.BytesIO(r.content)).astype(np.float32)


def functions(client, repo, page=500):
    """Every function (id, signature, body) of the corpus or of one repository, page by page."""
    params = {"limit": page}
    if repo:
        params["repo"] = repo
    while True:
        out = client.call("GET", "/v1/functions", params=params).json()
        yield from out["functions"]
        if not out["next_cursor"]:
            return
        params["cursor"] = out["next_cursor"]


def ensure_space(client, name, model, layer, kind, dim):
    r = client.http.get(f"{client.base}/v1/spaces/{name}", timeout=60)
    if r.status_code == 404:
        client.call("POST", "/v1/spaces", json={"name": name, "model": model, "layer": layer, "kind": kind,
                                                "dim": int(dim), "metric": "cosine"})
    elif r.status_code >= 400:
        raise RuntimeError(f"GET /v1/spaces/{name}: {r.status_code} {r.text}")


def upload(client, space, ids, vectors):
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(vectors, dtype=np.float32))
    client.call("PUT", f"/v1/spaces/{space}/vectors", data=buf.getvalue(), params={"ids": ",".join(map(str, ids))},
                headers={"Content-Type": "application/x-npy"})


class Heartbeat(threading.Thread):
    """Renews the lease every lease/3 seconds; notes a cancel request or a lost lease."""

    def __init__(self, client, job_id):
        super().__init__(daemon=True)
        self.client, self.job_id = client, job_id
        self.stop, self.cancelled, self.lost = threading.Event(), False, False

    def run(self):
        while not self.stop.wait(self.client.lease / 3):
            try:
                beat = self.client.job_call(self.job_id, "heartbeat", lease_seconds=self.client.lease)
                self.cancelled = self.cancelled or beat["cancel_requested"]
            except LeaseLost:
                self.lost = True
                return
            except Exception as e:  # a network blip: try again at the next beat
                print(f"heartbeat failed: {e}", file=sys.stderr)


def run_job(client, job, compute=compute, batch=256):
    """Computes and uploads every (layer, kind) space of an embed job, reporting progress as it goes."""
    p = job["params"]
    model = p.get("model") or DEFAULT_MODEL
    layers, kinds = p["layers"], p.get("kinds") or ["sig_mean", "body_mean", "body_only_mean"]
    if layers == "all" or any(k not in TEXT_OF_KIND for k in kinds):
        raise ValueError(f"this worker computes pooled kinds {sorted(TEXT_OF_KIND)} of listed layers, got layers={layers} kinds={kinds}")
    beat = Heartbeat(client, job["id"])
    beat.start()
    try:
        todo = list(functions(client, p.get("repo")))
        total, done, spaces = len(todo) * len(layers) * len(kinds), 0, set()
        for start in range(0, len(todo), batch):
            chunk = todo[start:start + batch]
            for layer in layers:
                for kind in kinds:
                    if beat.lost:
                        raise LeaseLost("lease lost")
                    if beat.cancelled:
                        raise Cancelled()
                    t0 = time.time()
                    vectors = compute(client, [TEXT_OF_KIND[kind](f) for f in chunk], layer, model)
                    name = f"{model}.L{layer}.{kind}"
                    if name not in spaces:
                        ensure_space(client, name, model, layer, kind, vectors.shape[1])
                        spaces.add(name)
                    upload(client, name, [f["id"] for f in chunk], vectors)
                    done += len(chunk)
                    rate = len(chunk) / max(time.time() - t0, 1e-6)
                    answer = client.job_call(job["id"], "progress", progress=done / max(total, 1), lease_seconds=client.lease,
                                             message=f"{done}/{total} vectors on {client.worker}",
                                             metrics=[{"step": done, "name": "functions_per_second", "value": rate}])
                    if answer["cancel_requested"]:
                        raise Cancelled()
        return {"model": model, "functions": len(todo), "spaces": sorted(spaces), "worker": client.worker}
    finally:
        beat.stop.set()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", default="http://127.0.0.1:8080")
    ap.add_argument("--token", help="bearer token (the server's write token)")
    ap.add_argument("--types", default="embed", help="job types to claim, comma-separated (this example runs embed)")
    ap.add_argument("--worker", default="remote-worker", help="this worker's name: 1-100 of A-Z a-z 0-9 . _ : @ -")
    ap.add_argument("--lease", type=float, default=60, help="lease seconds (5-3600); renewed every lease/3 s")
    ap.add_argument("--batch", type=int, default=256, help="functions per compute call and upload")
    ap.add_argument("--once", action="store_true", help="run at most one job, then exit")
    ap.add_argument("--poll", type=float, default=2, help="seconds between claims when the queue is empty")
    args = ap.parse_args(argv)
    client = Client(args.server, args.token, args.worker, args.lease)
    while True:
        job = client.claim(args.types.split(","))
        if job is None:
            if args.once:
                print("no job")
                return 0
            time.sleep(args.poll)
            continue
        print(f"job {job['id']} ({job['type']}, attempt {job['attempt']} of {job['max_attempts']})", flush=True)
        try:
            result = run_job(client, job, batch=args.batch)
            client.job_call(job["id"], "complete", result=result)
            print(f"job {job['id']} succeeded: {result}", flush=True)
        except LeaseLost as e:
            print(f"job {job['id']}: {e}; dropped", flush=True)
        except Cancelled:
            client.job_call(job["id"], "fail", error="cancel requested", retry=False)
            print(f"job {job['id']} cancelled", flush=True)
        except Exception as e:  # noqa: BLE001 - report any failure; retry while attempts remain
            try:
                answer = client.job_call(job["id"], "fail", error=f"{type(e).__name__}: {e}"[:10000],
                                         retry=not isinstance(e, ValueError))
                print(f"job {job['id']} failed ({answer['state']}): {e}", flush=True)
            except LeaseLost:
                pass
        if args.once:
            return 0


if __name__ == "__main__":
    sys.exit(main())
