#!/usr/bin/env bash
# Corpus section of docs/benchmarks.md: standard-library extraction vs CPython's ast, and git history
# on a synthetic 1,000-commit repository. Builds nothing: run after `swift build -c release --product Bench`.
set -euo pipefail
cd "$(dirname "$0")/../.."
.build/release/Bench corpus "${@:-1000}"
