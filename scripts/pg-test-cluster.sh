#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `start` runs initdb in a fresh temporary folder, starts
# the server on a free loopback port with trust authentication and prints its URL; `url` prints the
# URL of the running one; `stop` stops it and deletes the folder. As root (CI), the server runs as the
# `postgres` system user (PostgreSQL refuses to run as root). `down` stops the server but keeps the
# folder and `up` starts it again on the same port (an outage, for the tests of reconnection).
#
#   url=$(bash scripts/pg-test-cluster.sh start)      # postgres://postgres@127.0.0.1:PORT/postgres
#   SWEJEPA_TEST_PG=$url swift test --filter StoreTests
#   bash scripts/pg-test-cluster.sh stop
#
# The cluster's folder is remembered in $SWEJEPA_PG_STATE (default .build/pg-test-cluster), so each
# checkout has its own cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=${SWEJEPA_PG_STATE:-$PWD/.build/pg-test-cluster}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PG_BIN/initdb" ] || PG_BIN=$(dirname "$(command -v initdb)")

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url_of() { echo "postgres://postgres@127.0.0.1:$(cat "$1/port")/postgres"; }

running() { [ -f "$STATE" ] && dir=$(cat "$STATE") && [ -d "$dir/data" ] && as_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; }

# Starts the server of cluster folder $1 on the port recorded there.
start_server() {
    as_owner "$PG_BIN/pg_ctl" -D "$1/data" -l "$1/data/server.log" -w -t 60 \
        -o "-p $(cat "$1/port") -k $1 -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
}

case "${1:-}" in
start)
    if running; then url_of "$dir"; exit 0; fi
    dir=$(mktemp -d /tmp/swejepa-pg-XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo "$port" > "$dir/port"
    as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1; }
    start_server "$dir" \
        || { cat "$dir/data/server.log" >&2; rm -rf "$dir"; exit 1; }
    mkdir -p "$(dirname "$STATE")"
    echo "$dir" > "$STATE"
    url_of "$dir"
    ;;
url)
    running || { echo "no test cluster is running (start one: $0 start)" >&2; exit 1; }
    url_of "$dir"
    ;;
down)
    running || { echo "no test cluster is running" >&2; exit 1; }
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
up)
    [ -f "$STATE" ] && dir=$(cat "$STATE") && [ -d "$dir/data" ] || { echo "no test cluster to start again" >&2; exit 1; }
    running || start_server "$dir" || { tail -20 "$dir/data/server.log" >&2; exit 1; }
    url_of "$dir"
    ;;
stop)
    [ -f "$STATE" ] || exit 0
    dir=$(cat "$STATE")
    if [ -d "$dir/data" ]; then as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
    case "$dir" in /tmp/swejepa-pg-*) rm -rf "$dir" ;; esac
    rm -f "$STATE"
    ;;
*)
    echo "usage: $0 start|stop|url|down|up" >&2; exit 2 ;;
esac
