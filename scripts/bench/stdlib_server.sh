# Sourced by bench sections that need a real corpus: starts a release `swejepa serve` on a fresh data
# directory holding the default teacher, ingests the Python standard library as `make run` does (or only
# the packages named in $STDLIB_DIRS, e.g. "json email http"), embeds layer 3 in the kinds $EMBED_KINDS
# (default body_mean), and stops the server (removing the data) when the section exits.
# Sets $bin, $server and $stdlib_corpus (a description for the section's text).
bin=.build/release/swejepa
data=$(mktemp -d)
mkdir -p "$data/models"
ln -s "$PWD/.cache/models/all-MiniLM-L6-v2" "$data/models/all-MiniLM-L6-v2"
stdlib=$(python3 -c "import sysconfig; print(sysconfig.get_paths()['stdlib'])")
port=$((20000 + RANDOM % 10000))
server="http://127.0.0.1:$port"
"$bin" serve --data "$data" --port "$port" --ingest-root "$stdlib" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -fs "$server/healthz" >/dev/null && break; sleep 0.1; done
if [ -n "${STDLIB_DIRS:-}" ]; then
  for d in $STDLIB_DIRS; do
    "$bin" ingest "$stdlib/$d" --repo "stdlib-$d" --skip-dirs test,tests --on-server --server "$server" >/dev/null 2>&1
  done
  stdlib_corpus="stdlib packages: $STDLIB_DIRS"
else
  "$bin" ingest "$stdlib" --repo stdlib --split-top-level --skip-dirs test,tests,idle_test --on-server --server "$server" >/dev/null 2>&1
  stdlib_corpus="the standard library (as \`make run\` ingests it)"
fi
"$bin" embed --layers 3 --kinds "${EMBED_KINDS:-body_mean}" --server "$server" >/dev/null 2>&1
