#!/usr/bin/env bash
# `make bench`: benchmarks of issue 7 and the load test of issue 8 (not tests).
# Arguments pass through, e.g. `bench/run.sh --quick` or `make bench BENCH_ARGS=--quick`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d bench/peers/node_modules/rxdb-server ] || [ ! -d bench/peers/node_modules/pouchdb-server ]; then
  (cd bench/peers && npm ci --no-audit --no-fund)
fi
exec .venv/bin/python -m bench.run --from-make "$@"
