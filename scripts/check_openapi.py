#!/usr/bin/env python3
"""Validates openapi/openapi.yaml as OpenAPI 3.1, checks house conventions, and optionally checks a
live server's answers against it.

Usage:
  python3 scripts/check_openapi.py [SPEC]                      # static checks
  python3 scripts/check_openapi.py --serve .build/release/swejepa [SPEC]
      # also starts `swejepa serve` on a free loopback port (temp data dir, --token, 1 MiB body
      # limit), sends good and bad requests to every route (extend exercise() as routes are added), and checks that each status is
      # documented for its operation and each JSON body validates against the documented schema.

Needs: pip install openapi-spec-validator (brings jsonschema); numpy for --serve. Not needed by
`make test`: Tests/ServerTests/OpenAPITests.swift checks route coverage without them.

Static checks beyond the validator: a unique operationId and at least one 4xx response per operation,
every path parameter of a template declared, every `example` valid against its schema.
"""
import argparse
import base64
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

try:
    from jsonschema import Draft202012Validator
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
except ImportError:
    sys.exit("openapi-spec-validator is missing: pip install openapi-spec-validator")

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
SPEC_URI = "urn:swejepa-openapi"


class Spec:
    def __init__(self, path: Path):
        self.path = path
        self.doc, _ = read_from_filename(str(path))
        self.registry = Registry().with_resource(SPEC_URI, Resource(contents=self.doc, specification=DRAFT202012))

    def operations(self):
        for template, item in self.doc.get("paths", {}).items():
            for method, op in item.items():
                if method in METHODS:
                    yield template, method, item, op

    def deref(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            node = self.doc
            for token in obj["$ref"].lstrip("#/").split("/"):
                node = node[token.replace("~1", "/").replace("~0", "~")]
            obj = node
        return obj

    def schema_errors(self, schema_pointer: list, value) -> list:
        """Validates `value` against the schema at `schema_pointer` (keys into the document)."""
        fragment = "/".join(str(k).replace("~", "~0").replace("/", "~1") for k in schema_pointer)
        root = {"$ref": SPEC_URI + "#/" + urllib.parse.quote(fragment, safe="/~")}
        v = Draft202012Validator(root, registry=self.registry)
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}" for e in v.iter_errors(value)]

    def match(self, method: str, path: str):
        """The (template, operation) serving `method path`, like the server's router."""
        parts = [p for p in path.split("?")[0].split("/") if p]
        for template, m, _, op in self.operations():
            segs = [s for s in template.split("/") if s]
            if m == method.lower() and len(segs) == len(parts) and all(
                    s.startswith("{") or s == p for s, p in zip(segs, parts)):
                return template, op
        return None, None


def static_checks(spec: Spec) -> list:
    problems, seen = [], {}
    for template, method, item, op in spec.operations():
        where = f"{method.upper()} {template}"
        op_id = op.get("operationId")
        if not op_id:
            problems.append(f"{where}: no operationId")
        elif op_id in seen:
            problems.append(f"{where}: operationId {op_id} repeats {seen[op_id]}")
        else:
            seen[op_id] = where
        if not any(str(code).startswith("4") for code in op.get("responses", {})):
            problems.append(f"{where}: no 4xx response")
        declared = {spec.deref(p)["name"] for p in item.get("parameters", []) + op.get("parameters", [])
                    if spec.deref(p).get("in") == "path"}
        for name in re.findall(r"\{([^}]+)\}", template):
            if name not in declared:
                problems.append(f"{where}: path parameter {{{name}}} is not declared")
    # Every example against its schema.
    def walk(node, pointer):
        if isinstance(node, dict):
            if "example" in node and "schema" in node:
                for e in spec.schema_errors(pointer + ["schema"], node["example"]):
                    problems.append(f"example at /{'/'.join(map(str, pointer))}: {e}")
            if "example" in node and pointer[:2] == ["components", "schemas"] and len(pointer) == 3:
                for e in spec.schema_errors(pointer, node["example"]):
                    problems.append(f"example of schema {pointer[2]}: {e}")
            for k, v in node.items():
                walk(v, pointer + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, pointer + [i])
    walk(spec.doc, [])
    return problems


# ---------------------------------------------------------------- live checks

class Live:
    def __init__(self, spec: Spec, base: str, token: str):
        self.spec, self.base, self.token = spec, base, token
        self.problems, self.exercised = [], set()

    def call(self, method, path, body=None, ctype=None, headers=None, expect=None, auth=True):
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            body, ctype = json.dumps(body).encode(), ctype or "application/json"
        if ctype:
            h["Content-Type"] = ctype
        if auth and method in ("POST", "PUT", "PATCH", "DELETE"):
            h["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, rtype, data = r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            status, rtype, data = e.code, e.headers.get("Content-Type", ""), e.read()
        where = f"{method} {path} -> {status}"
        if expect is not None and status != expect:
            self.problems.append(f"{where}: expected {expect}; body {data[:200]!r}")
        template, op = self.spec.match(method, path)
        if op is None:
            if status not in (404, 405):
                self.problems.append(f"{where}: no operation in the spec")
            self.check_error(where, rtype, data)
            return status, rtype, data
        self.exercised.add(f"{method} {template}")
        responses = op.get("responses", {})
        code = next((c for c in (str(status), f"{str(status)[0]}XX") if c in responses), None)
        if code is None:
            self.problems.append(f"{where}: status {status} not documented for {method} {template} (has {list(responses)})")
            return status, rtype, data
        resp = self.spec.deref(responses[code])
        media = rtype.split(";")[0].strip()
        content = resp.get("content", {})
        if not content:
            if data:
                self.problems.append(f"{where}: documented without a body, got {len(data)} bytes")
        elif media not in content:
            self.problems.append(f"{where}: Content-Type {media!r} not documented (has {list(content)})")
        elif media == "application/json":
            pointer = self.pointer_to(template, method, code, responses[code])
            for e in self.spec.schema_errors(pointer + ["content", media, "schema"], json.loads(data)):
                self.problems.append(f"{where}: body does not match the schema: {e}")
        return status, rtype, data

    def pointer_to(self, template, method, code, resp):
        if "$ref" in resp:
            return resp["$ref"].lstrip("#/").split("/")
        return ["paths", template, method.lower(), "responses", code]

    def check_error(self, where, rtype, data):
        try:
            errs = self.spec.schema_errors(["components", "schemas", "Error"], json.loads(data))
        except ValueError:
            errs = ["not JSON"]
        for e in errs:
            self.problems.append(f"{where}: error body: {e}")


def npy_bytes(a):
    import numpy as np
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def npz_bytes(compressed=False, **arrays):
    import numpy as np
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def exercise(live: Live):
    import numpy as np
    c = live.call
    c("GET", "/healthz", expect=200)
    c("GET", "/metrics", expect=200)
    c("GET", "/v1/stats", expect=200)
    fn = lambda q, **kw: {"repo": "demo/repo", "path": "pkg/mod.py", "qualified_name": q, "start_line": 1,
                          "end_line": 2, "signature": f"def {q}(x):", "body": "    return x\n", **kw}
    _, _, d = c("POST", "/v1/functions", {"functions": [fn("a"), fn("b"), fn("c", properties={"loc": 2})]}, expect=200)
    ids = json.loads(d)["ids"]
    c("POST", "/v1/functions", [fn("a"), fn("b")], expect=200)
    c("POST", "/v1/functions", {"functions": [fn("a")]}, auth=False, expect=401)
    c("POST", "/v1/functions", b"{not json", "application/json", expect=400)
    c("POST", "/v1/functions", {"functions": [{"repo": "r"}]}, expect=400)
    c("POST", "/v1/functions", {"functions": [fn("a"), fn("a")]}, expect=400)
    c("POST", "/v1/functions", {"functions": [fn("z", start_line=5, end_line=1)]}, expect=400)
    c("POST", "/v1/functions", {"functions": [fn(f"f{i}") for i in range(10001)]}, expect=413)  # over 1 MiB too
    _, _, d = c("GET", "/v1/functions?limit=2", expect=200)
    cursor = json.loads(d)["next_cursor"]
    c("GET", f"/v1/functions?limit=2&cursor={cursor}", expect=200)
    c("GET", "/v1/functions?repo=demo/repo&q=b", expect=200)
    c("GET", "/v1/functions?limit=0", expect=400)
    c("GET", "/v1/functions?cursor=zz", expect=400)
    c("GET", f"/v1/functions/{ids[0]}", expect=200)
    c("GET", "/v1/functions/999999", expect=404)
    c("GET", "/v1/functions/abc", expect=400)

    space = {"name": "m.L1.body_mean", "model": "m", "layer": 1, "kind": "body_mean", "dim": 3}
    c("POST", "/v1/spaces", space, expect=201)
    c("POST", "/v1/spaces", space, expect=409)
    c("POST", "/v1/spaces", {"name": "bad name!", "kind": "body_mean", "dim": 3}, expect=400)
    c("POST", "/v1/spaces", {"name": "x", "kind": "nope", "dim": 3}, expect=400)
    c("POST", "/v1/spaces", {"name": "t.L1.sig_tokens", "kind": "sig_tokens", "dim": 2, "dtype": "float16"}, expect=201)
    c("GET", "/v1/spaces", expect=200)
    c("GET", "/v1/spaces/m.L1.body_mean", expect=200)
    c("GET", "/v1/spaces/none", expect=404)

    V, T = "/v1/spaces/m.L1.body_mean/vectors", "/v1/spaces/t.L1.sig_tokens/vectors"
    c("PUT", V, {"ids": ids[:2], "vectors": [[1, 2, 3], [4, 5, 6]]}, expect=200)
    b64 = base64.b64encode(np.array([7, 8, 9], "<f4").tobytes()).decode()
    c("PUT", V, {"ids": [ids[2]], "vectors_b64": [b64]}, expect=200)
    m = np.arange(6, dtype=np.float32).reshape(2, 3)
    c("PUT", V + f"?ids={ids[0]},{ids[1]}", npy_bytes(m), "application/x-npy", expect=200)
    c("PUT", V, npy_bytes(m), "application/x-npy", headers={"X-Ids": f"{ids[0]},{ids[1]}"}, expect=200)
    c("PUT", V, npz_bytes(ids=np.array(ids[:2], np.int64), vectors=m), "application/x-npz", expect=200)
    c("PUT", V, {"ids": ids[:1], "vectors": [[1, 2]]}, expect=400)
    c("PUT", V, {"ids": [ids[0], ids[0]], "vectors": [[1, 2, 3], [1, 2, 3]]}, expect=400)
    c("PUT", V + f"?ids={ids[0]}", npy_bytes(np.array([[np.nan, 0, 0]], np.float32)), "application/x-npy", expect=400)
    c("PUT", V, npy_bytes(m), "application/x-npy", expect=400)
    c("PUT", V + "?ids=1,2", b"not npy", "application/x-npy", expect=400)
    c("PUT", V, npz_bytes(vectors=m), "application/x-npz", expect=400)
    c("PUT", V, npz_bytes(compressed=True, ids=np.array(ids[:2]), vectors=m), "application/x-npz", expect=415)
    c("PUT", V + "?ids=1,2", npy_bytes(m.astype(">f4")), "application/x-npy", expect=415)
    c("PUT", V, b"1,2,3", "text/csv", expect=415)
    c("PUT", V, {"ids": [999999], "vectors": [[1, 2, 3]]}, expect=422)
    c("PUT", V, {"ids": ids[:1], "vectors": [[1, 2, 3]]}, auth=False, expect=401)
    c("PUT", "/v1/spaces/none/vectors", {"ids": ids[:1], "vectors": [[1, 2, 3]]}, expect=404)
    c("PUT", V + f"?ids={ids[0]}", npy_bytes(np.zeros((90000, 3), np.float32)), "application/x-npy", expect=413)
    c("PUT", T, {"ids": ids[:2], "vectors": [[[1, 2], [3, 4]], [[5, 6]]]}, expect=200)
    c("PUT", T, npz_bytes(ids=np.array(ids[:2]), vectors=np.ones((3, 2), np.float32), rows=np.array([1, 2])),
      "application/x-npz", expect=200)
    c("PUT", T, npz_bytes(ids=np.array(ids[:2]), vectors=np.ones((3, 2), np.float32)), "application/x-npz", expect=400)
    c("GET", V, expect=200)
    c("GET", V + f"?ids={ids[1]},{ids[0]}", expect=200)
    c("GET", V + f"?ids={ids[0]}&format=npy", expect=200)
    c("GET", V, headers={"Accept": "application/x-npz"}, expect=200)
    c("GET", V + "?ids=x", expect=400)
    c("GET", V + "?ids=999999", expect=404)
    c("GET", T, expect=200)
    c("GET", T + "?format=npy", expect=400)
    c("GET", T + f"?ids={ids[0]}&format=npy", expect=200)
    c("GET", "/v1/spaces/none/vectors", expect=404)

    # jobs (the diagnostic `sleep` type)
    _, _, d = c("POST", "/v1/jobs", {"type": "sleep", "seconds": 0.3, "steps": 3}, expect=202)
    job = json.loads(d)["id"]
    c("POST", "/v1/jobs", {"type": "sleep", "seconds": 1}, auth=False, expect=401)
    c("POST", "/v1/jobs", {"seconds": 1}, expect=400)
    c("POST", "/v1/jobs", {"type": "no_such_type"}, expect=400)
    c("POST", "/v1/jobs", {"type": "sleep", "seconds": -1}, expect=400)
    c("POST", "/v1/jobs", {"type": "sleep", "seconds": 1, "max_attempts": 0}, expect=400)
    _, rtype, d = c("GET", f"/v1/jobs/{job}/events", expect=200)  # ends after the final state
    if b"event: end" not in d:
        live.problems.append(f"GET /v1/jobs/{job}/events: no end event in {d[-200:]!r}")
    c("GET", f"/v1/jobs/{job}", expect=200)
    c("GET", "/v1/jobs?state=succeeded&type=sleep&limit=5", expect=200)
    c("GET", "/v1/jobs?state=bogus", expect=400)
    c("GET", f"/v1/jobs/{job}/metrics", expect=200)
    c("GET", f"/v1/jobs/{job}/metrics?name=step&after_step=0", expect=200)
    c("GET", f"/v1/jobs/{job}/logs?after=0&limit=10", expect=200)
    c("GET", f"/v1/jobs/{job}/logs?limit=0", expect=400)
    c("GET", "/v1/jobs/999999", expect=404)
    c("GET", "/v1/jobs/999999/metrics", expect=404)
    c("GET", "/v1/jobs/999999/logs", expect=404)
    c("GET", "/v1/jobs/999999/events", expect=404)
    c("GET", "/v1/jobs/x/events", expect=400)
    _, _, d = c("POST", "/v1/jobs", {"type": "sleep", "seconds": 30, "steps": 30}, expect=202)
    long_job = json.loads(d)["id"]
    c("POST", f"/v1/jobs/{long_job}/cancel", auth=False, expect=401)
    c("POST", f"/v1/jobs/{long_job}/cancel", expect=202)
    c("POST", f"/v1/jobs/{job}/cancel", expect=202)
    c("POST", "/v1/jobs/999999/cancel", expect=404)

    c("DELETE", f"/v1/functions/{ids[2]}", auth=False, expect=401)
    c("DELETE", f"/v1/functions/{ids[2]}", expect=204)
    c("DELETE", f"/v1/functions/{ids[2]}", expect=404)
    c("DELETE", "/v1/functions/0", expect=400)
    c("DELETE", "/v1/spaces/t.L1.sig_tokens", expect=204)
    c("DELETE", "/v1/spaces/t.L1.sig_tokens", expect=404)
    c("DELETE", "/v1/spaces/m.L1.body_mean", auth=False, expect=401)
    c("PATCH", "/healthz", expect=405)
    c("GET", "/v1/nothing", expect=404)


def serve_and_check(spec: Spec, binary: str) -> list:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tempfile.mkdtemp(prefix="check-openapi-")
    token = "check-token"
    log = open(os.path.join(data, "server.log"), "w+b")
    proc = subprocess.Popen([binary, "serve", "--data", data, "--port", str(port), "--token", token, "--max-body-mb", "1"],
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None:
                    log.seek(0)
                    return [f"server exited with {proc.returncode}: {log.read().decode()[-500:]}"]
                time.sleep(0.1)
        live = Live(spec, base, token)
        exercise(live)
        documented = {f"{m.upper()} {t}" for t, m, _, _ in spec.operations()}
        missed = sorted(documented - live.exercised)
        if missed:
            print("note: operations not exercised by --serve (add them to exercise()):", ", ".join(missed))
        print(f"live: {len(live.exercised)} operations exercised on {base}")
        return live.problems
    finally:
        proc.terminate()  # graceful stop: the server may wait out its stop timeout
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(data, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("spec", nargs="?", default=str(Path(__file__).resolve().parent.parent / "openapi" / "openapi.yaml"))
    ap.add_argument("--serve", metavar="BINARY", help="swejepa binary to start and check live")
    args = ap.parse_args()
    spec = Spec(Path(args.spec))
    try:
        validate(spec.doc)
    except Exception as e:  # OpenAPIValidationError, or a referencing error for a dangling $ref
        at = "/".join(str(p) for p in getattr(e, "absolute_path", []) or [])
        print(f"error: {spec.path}: {type(e).__name__}: {str(e).splitlines()[0][:300]}" + (f" (at {at})" if at else ""),
              file=sys.stderr)
        return 1
    problems = static_checks(spec)
    ops = sum(1 for _ in spec.operations())
    if not problems and args.serve:
        problems = serve_and_check(spec, args.serve)
    for p in problems:
        print("error:", p, file=sys.stderr)
    if problems:
        return 1
    print(f"{spec.path}: valid OpenAPI {spec.doc['openapi']}, {len(spec.doc['paths'])} paths, {ops} operations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
