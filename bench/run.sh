#!/usr/bin/env bash
# `make bench`: benchmarks of issue 7 and the load test of issue 8 (not tests), then the
# PWA's initial sync in Chromium (bench/pwa.py) and the scale curves (bench/curves.py).
# Arguments pass through to bench.run, e.g.
# `bench/run.sh --quick` or `make bench BENCH_ARGS=--quick`; with `--only`, bench.run alone.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d bench/peers/node_modules/rxdb-server ] || [ ! -d bench/peers/node_modules/pouchdb-server ]; then
  (cd bench/peers && npm ci --no-audit --no-fund)
fi
.venv/bin/python -m bench.run --from-make "$@"
quick=""
for arg in "$@"; do
  case "$arg" in
    --only|--only=*) exit 0 ;;
    --quick) quick="--quick" ;;
  esac
done
.venv/bin/python -m bench.pwa --append $quick
exec .venv/bin/python -m bench.curves --append $quick
