#!/usr/bin/env bash
# Vector upload/download section of docs/benchmarks.md (issue 14): starts a release `swejepa serve` on a
# fresh data directory and runs scripts/bench/http_upload.py against it. Needs `swift build -c release`.
# usage: scripts/bench/http_upload.sh [N] [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/serve.sh
echo "## Vector upload and download over HTTP (SQLite, issue 14)"
echo
echo "Command: \`scripts/bench/http_upload.sh ${1:-100000} ${2:-3}\` (release build, SQLite; the Python client shares the 2 cores); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
SERVER_PID=$pid python3 scripts/bench/http_upload.py "http://127.0.0.1:$port" "$@"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
