#!/usr/bin/env bash
# Schemathesis against a live release `swejepa serve` (part of `make test`; also `make schemathesis`).
# Starts the server on a free loopback port with a temporary data directory and a token, seeds a
# little data (functions, a space with vectors) so routes reach their logic instead of 404, and runs
# every operation of openapi/openapi.yaml: example, coverage, fuzzing and stateful phases, every check
# (server errors, response schemas, accepted-invalid / rejected-valid requests, undeclared methods).
# Deterministic: a fixed seed and a bounded number of examples per operation. Must end with 0 findings.
#   ST_EXAMPLES=N  examples per operation (default 12)   ST_SEED=N   (default 1)
# Needs Python 3 with venv (python3-venv, in `make deps`); installs schemathesis (pinned) into
# .cache/venv-schemathesis once.
#
# Three settings narrow what counts as a finding, each as narrowly as schemathesis allows:
#  - scripts/schemathesis.toml: on the operations that document a 422 for requests that fit their
#    schema but break a rule JSON Schema cannot state (between fields, such as end_line ≥ start_line;
#    or against stored data, such as a space's dimension or an unknown id), a 422 is an accepted
#    answer to a schema-valid request. Only 422, only there: a 400 to a schema-valid request is still
#    a finding, so every rule the schema can state must be in the spec. (The server's rule: 400 when
#    the request does not fit the documented schema, 422 when it does but breaks such a rule.)
#  - scripts/schemathesis_hooks.py: generated bodies holding a lone UTF-16 surrogate ("\udc80") are
#    dropped. They are not Unicode text (I-JSON forbids them), the server answers 400 invalid_json,
#    and JSON Schema cannot say "valid Unicode" (see the hook's docstring). The same file keeps
#    `.npy`/`.npz` request bodies out: the spec can only call them binary strings, so generated ones
#    are random bytes (400 bad_npy); the Swift fuzz suites and route tests cover those parsers.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SWEJEPA_BIN:-.build/release/swejepa}
venv=.cache/venv-schemathesis
version=4.32.5
if [ ! -x "$venv/bin/st" ] || ! "$venv/bin/st" --version 2>/dev/null | grep -q "$version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$version"
fi
data=$(mktemp -d)
token=st-secret-token
SWEJEPA_MODEL_DIR="${SWEJEPA_MODEL_DIR:-$PWD/.cache/models/all-MiniLM-L6-v2}" \
  "$bin" serve --data "$data" --port 0 --token "$token" --workers 1 >"$data/serve.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
port=""
for _ in $(seq 200); do
  port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$data/serve.log" | head -1 | sed 's/.*://') || true
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "swejepa serve did not start:"; cat "$data/serve.log"; exit 1; }
url="http://127.0.0.1:$port"
auth="Authorization: Bearer $token"
post() { curl -fsS -X "$1" -H "$auth" -H 'Content-Type: application/json' "$url$2" -d "$3" >/dev/null; }
post POST /v1/functions '{"functions":[
  {"repo":"demo","path":"a.py","qualified_name":"f","start_line":1,"end_line":2,"signature":"def f(x):","body":"    return x\n"},
  {"repo":"demo","path":"a.py","qualified_name":"g","start_line":4,"end_line":5,"signature":"def g(y):","body":"    return y + 1\n"},
  {"repo":"other","path":"b.py","qualified_name":"h","start_line":1,"end_line":2,"signature":"def h():","body":"    pass\n"}]}'
post POST /v1/spaces '{"name":"demo.space","kind":"custom","dim":3,"metric":"cosine"}'
post PUT /v1/spaces/demo.space/vectors '{"ids":[1,2,3],"vectors":[[1,0,0],[0,1,0],[0.5,0.5,0.1]]}'

started=$(date +%s)
SCHEMATHESIS_HOOKS=scripts/schemathesis_hooks.py \
"$venv/bin/st" --config-file scripts/schemathesis.toml run openapi/openapi.yaml --url "$url" -H "$auth" \
  --checks all --max-examples "${ST_EXAMPLES:-12}" --seed "${ST_SEED:-1}" --workers 1 \
  --request-timeout 60 --no-color "$@"
echo "schemathesis: passed in $(( $(date +%s) - started )) s"
