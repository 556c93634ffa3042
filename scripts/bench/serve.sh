# Sourced by bench sections: starts a release `swejepa serve` on a fresh data directory and a free-ish
# port, waits for /healthz, and stops it (and removes the data) when the section exits. Sets $port.
data=$(mktemp -d)
port=$((20000 + RANDOM % 10000))
"${SWEJEPA_BIN:-.build/release/swejepa}" serve --data "$data" --port "$port" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
