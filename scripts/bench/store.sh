#!/usr/bin/env bash
# Store section of `make bench`: `Bench store` on SQLite and on PostgreSQL side by side in one run
# (function ingest, .npz-sized vector upload, whole-space read, job claims with 1 and 3 workers).
# PostgreSQL is a throwaway local cluster (scripts/pg-test-cluster.sh, its own state file), started
# here and stopped at the end; it runs with fsync=off, as the test cluster does, while SQLite keeps
# its own durability settings (WAL, synchronous=NORMAL): PostgreSQL's figures do not pay for fsync.
set -euo pipefail
cd "$(dirname "$0")/../.."
export SWEJEPA_PG_STATE=${SWEJEPA_PG_STATE:-$PWD/.build/pg-bench-cluster}
url=$(bash scripts/pg-test-cluster.sh start)
trap 'bash scripts/pg-test-cluster.sh stop' EXIT
pg_version=$(psql "$url" -Atc 'SHOW server_version' 2>/dev/null || echo "?")
echo "## Store backends: SQLite and PostgreSQL side by side"
echo
echo "Command: \`.build/release/Bench store --db sqlite --db $url\` (\`scripts/bench/store.sh\`)."
echo "PostgreSQL $pg_version: a throwaway local cluster over loopback TCP started by the script with \`fsync=off\`"
echo "(scripts/pg-test-cluster.sh); SQLite: WAL in a temporary directory. Load average before: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
.build/release/Bench store --db sqlite --db "$url"
echo
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
