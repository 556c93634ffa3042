#!/usr/bin/env bash
# `make run`: the main job on the embedded default store.
# Starts `swejepa serve` on DATA (./data), then runs the SWE-JEPA loop on the Python standard library
# found on this machine: ingest (every top-level package its own repository, test dirs skipped) →
# embed with the default teacher at layer 3 (all four kinds) → probes → students → a printed report
# (probe table, leaderboard, one nearest-neighbour example with code). Each step is a job
# followed with a progress bar; all of them are resumable, so a second `make run` only does what is
# missing. The server keeps running afterwards (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-./data}
PORT=${PORT:-8080}
LAYER=${LAYER:-3}
bin=.build/release/swejepa
server="http://127.0.0.1:$PORT"
mkdir -p "$DATA/models"
[ -d "$DATA/models/all-MiniLM-L6-v2" ] || cp -r .cache/models/all-MiniLM-L6-v2 "$DATA/models/"

stdlib=$(python3 -c "import sysconfig; print(sysconfig.get_paths()['stdlib'])")
# The server reads only directories under an --ingest-root: the standard library is the one it ingests.
"$bin" serve --data "$DATA" --port "$PORT" --ingest-root "$stdlib" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' INT TERM
for _ in $(seq 100); do curl -fs "$server/healthz" >/dev/null && break; sleep 0.1; done
echo "dashboard: $server/   API: $server/v1/…   metrics: $server/metrics"

space="all-MiniLM-L6-v2.L$LAYER"
step() { echo; echo "== $*"; }

step "ingest $stdlib"
"$bin" ingest "$stdlib" --repo stdlib --split-top-level --skip-dirs test,tests,idle_test --on-server --server "$server"
step "embed: teacher layer $LAYER, kinds sig_tokens sig_mean body_mean body_only_mean"
"$bin" embed --layers "$LAYER" --server "$server"
if "$bin" help probe >/dev/null 2>&1; then
  step "probes of $space.body_mean (grouped by repository)"
  "$bin" probe --space "$space.body_mean" --targets loc,cyclomatic_complexity,return_category --server "$server" || true
fi
if "$bin" help train >/dev/null 2>&1; then
  step "student: mlp + InfoNCE, $space.sig_mean → $space.body_mean (about 2 minutes)"
  "$bin" train --input-space "$space.sig_mean" --target-space "$space.body_mean" --model mlp --loss infonce --epochs 20 \
    --output-space student.mlp_infonce --server "$server" || true
  step "student: sig_predictor + InfoNCE, $space.sig_tokens → $space.body_mean (about 5 minutes)"
  "$bin" train --input-space "$space.sig_tokens" --target-space "$space.body_mean" --model sig_predictor --loss infonce \
    --epochs 4 --d-model 256 --ffn 1024 --output-space student.sigpred_infonce --server "$server" || true
fi
step "report: probe results, student leaderboard, one function's nearest bodies (swejepa report)"
"$bin" report --space "$space.body_mean" --server "$server" || true
echo
echo "done in $SECONDS s; the server is still running (Ctrl-C to stop)"
echo "dashboard: $server/   (overview, jobs, probes, students, explorer, run forms)"
wait $pid
