#!/usr/bin/env bash
# `make run-postgres`: the `make run` demo (scripts/run.sh) on PostgreSQL instead of SQLite.
# Starts a throwaway local cluster (scripts/pg-test-cluster.sh: initdb in a temporary folder, a free
# loopback port, as the `postgres` user under root), points `swejepa serve` at it through SWEJEPA_DB,
# and stops and deletes the cluster when the demo ends (Ctrl-C stops the server, then the cluster).
# The data directory (models, FAISS caches) is fresh too unless DATA is given: the database is new
# every run, so caches of an earlier run must not be reused.
set -euo pipefail
cd "$(dirname "$0")/.."
export SWEJEPA_PG_STATE=${SWEJEPA_PG_STATE:-$PWD/.build/pg-run-cluster}
own_data=
if [ -z "${DATA:-}" ]; then DATA=$(mktemp -d /tmp/swejepa-run-pg-XXXXXX); own_data=$DATA; fi
cleanup() {
    bash scripts/pg-test-cluster.sh stop
    [ -n "$own_data" ] && rm -rf "$own_data"
    echo "PostgreSQL cluster stopped and deleted"
}
trap cleanup EXIT
url=$(bash scripts/pg-test-cluster.sh start)
echo "PostgreSQL: $url (throwaway cluster; data directory $DATA)"
.build/release/swejepa migrate --db "$url"
SWEJEPA_DB=$url DATA=$DATA bash scripts/run.sh
