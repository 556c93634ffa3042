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
echo "Command: \`scripts/bench/store.sh\` (\`.build/release/Bench store\` with \`--db sqlite\` and \`--db $url\` per round)."
echo "PostgreSQL $pg_version: a throwaway local cluster over loopback TCP started by the script with \`fsync=off\`"
echo "(scripts/pg-test-cluster.sh); SQLite: WAL in a temporary directory. Load average before: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
# STORE_ROUNDS rounds (default 3), each backend once per round, the order alternating (sqlite first,
# then postgres first, …) so that load drifting on a shared machine falls on both; each PostgreSQL
# round gets a fresh database. The ratios are per round (the two runs next to each other), then their median.
rounds=${STORE_ROUNDS:-3}
args=()
for r in $(seq 1 "$rounds"); do
    psql "$url" -qc "CREATE DATABASE bench_round$r" >/dev/null
    pg="${url%/*}/bench_round$r"
    if [ $((r % 2)) = 1 ]; then args+=(--db sqlite --db "$pg"); else args+=(--db "$pg" --db sqlite); fi
done
out=$(.build/release/Bench store "${args[@]}")
echo "$out"
echo
echo "$out" | python3 -c '
import statistics, sys
rows = [l.split("|")[1:-1] for l in sys.stdin if l.startswith("| sqlite") or l.startswith("| postgres")]
names = ["ingest", "upload", "whole-space read"]
ratios = {n: [] for n in names}
claims = []
for a, b in zip(rows[0::2], rows[1::2]):
    sq, pg = (a, b) if a[0].strip() == "sqlite" else (b, a)
    for i, n in enumerate(names):
        ratios[n].append(float(pg[i + 1]) / float(sq[i + 1]))
    claims.append(float(pg[5]))
print("PostgreSQL / SQLite per round: " + "; ".join(
    n + " " + ", ".join(f"{r:.0%}" for r in ratios[n]) + f" (median {statistics.median(ratios[n]):.0%})" for n in names)
    + "; PostgreSQL claims with 3 workers " + ", ".join(f"{c:.0f}" for c in claims) + f" jobs/s (median {statistics.median(claims):.0f}).")
'
echo
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
