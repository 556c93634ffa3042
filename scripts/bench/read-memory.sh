#!/usr/bin/env bash
# Peak RSS of a release `serve` per read scenario (issue 12 item 4): a whole 20,000 × 384 space as
# JSON (once, and four at once), as .npz, and a search with 4,000 function_ids and
# exclude_same_repo over a 20,000-function repository. Each scenario runs on a fresh server over the
# same data directory, under `/usr/bin/time -v` (each figure includes the space's loaded Flat index).
# Usage: scripts/bench/read-memory.sh [BIN]   (default .build/release/swejepa)
set -euo pipefail
BIN=${1:-.build/release/swejepa}
DATA=$(mktemp -d)
PORT=${PORT:-18931}
trap 'rm -rf "$DATA"' EXIT
URL=http://127.0.0.1:$PORT

start() {
  /usr/bin/time -v "$BIN" serve --data "$DATA" --port "$PORT" --workers 0 2>"$DATA/time.txt" >/dev/null &
  SERVER=$!
  for _ in $(seq 1 600); do curl -fs "$URL/healthz" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "server did not start" >&2; exit 1
}
stop() {
  kill -TERM "$(pgrep -P "$SERVER" swejepa)" 2>/dev/null || true
  wait "$SERVER" || true
  grep "Maximum resident" "$DATA/time.txt" | awk '{printf "%.0f MiB\n", $6 / 1024}'
}

start
python3 - "$URL" <<'PY'
import io, json, sys, urllib.request
import struct
url = sys.argv[1]
def call(method, path, body=None, ctype="application/json"):
    req = urllib.request.Request(url + path, data=body, method=method, headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=600) as r: return r.read()
ids = []
for start in range(0, 20000, 5000):
    fns = [{"repo": "big", "path": f"m{i // 100}.py", "qualified_name": f"f{i}", "start_line": 1, "end_line": 2,
            "signature": f"def f{i}():", "body": f"    return {i}\n"} for i in range(start, start + 5000)]
    ids += json.loads(call("POST", "/v1/functions", json.dumps({"functions": fns}).encode()))["ids"]
call("POST", "/v1/spaces", json.dumps({"name": "sp", "kind": "custom", "dim": 384}).encode())
import random
random.seed(1)
n, d = len(ids), 384
def npy(dtype, shape, raw):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (dtype, "(%s)" % ", ".join(map(str, shape)) + ("," if len(shape) == 1 else ""))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + raw
import zipfile
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("ids.npy", npy("<i8", (n,), struct.pack("<%dq" % n, *ids)))
    z.writestr("vectors.npy", npy("<f4", (n, d), struct.pack("<%df" % (n * d), *[random.gauss(0, 1) for _ in range(n * d)])))
call("PUT", "/v1/spaces/sp/vectors", buf.getvalue(), "application/x-npz")
json.dump(ids, open(sys.argv[0] if False else "/dev/null", "w"))
PY
stop >/dev/null

scenario() {
  local name=$1; shift
  start
  python3 - "$URL" "$@" <<'PY'
import json, sys, threading, urllib.request
url, what = sys.argv[1], sys.argv[2]
def get(path):
    with urllib.request.urlopen(url + path, timeout=600) as r:
        n = 0
        while True:
            b = r.read(1 << 20)
            if not b: return n
            n += len(b)
if what == "idle":
    get("/v1/stats"); import time; time.sleep(3)  # let the index warm-up finish
elif what == "json":
    print("  bytes", get("/v1/spaces/sp/vectors"))
elif what == "json4":
    ts = [threading.Thread(target=get, args=("/v1/spaces/sp/vectors",)) for _ in range(4)]
    [t.start() for t in ts]; [t.join() for t in ts]
elif what == "npz":
    print("  bytes", get("/v1/spaces/sp/vectors?format=npz"))
elif what == "search":
    ids = json.loads(urllib.request.urlopen(url + "/v1/spaces/sp/vectors?format=json&ids=1").read())["ids"]
    body = json.dumps({"function_ids": list(range(1, 4001)), "k": 10, "exclude_same_repo": True}).encode()
    req = urllib.request.Request(url + "/v1/spaces/sp/search", data=body, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r: print("  results", len(json.loads(r.read())["results"]))
PY
  echo "$name: $(stop)"
}
scenario "GET whole space as JSON" json
scenario "4 × GET whole space as JSON at once" json4
scenario "GET whole space as .npz" npz
scenario "search: 4,000 function_ids, exclude_same_repo" search
