# One set of commands for people, the README and CI.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install pwa browser run test test-sqlite test-postgres lint bench soak clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python ## create the virtualenv and install pinned dependencies
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'

pwa: ## build the PWA into pwa/dist (needs node >= 20.19)
	@if [ -f pwa/package.json ]; then cd pwa && npm ci --no-audit --no-fund && npm run build; else echo "no PWA yet"; fi

browser: ## Debian's Chromium (and a CJK font for screenshots) for the browser tests, when missing and possible
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi wenquanyi; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null; \
	  else echo "install Debian's chromium and fonts-wqy-zenhei packages to run the browser tests"; fi; }

run: install pwa ## migrate, load demo data into an empty SQLite database, serve on http://127.0.0.1:8000
	$(BIN)/revisit serve --demo --host $(HOST) --port $(PORT)

test: install pwa browser ## the whole suite (set REVISIT_TEST_DATABASE_URL for PostgreSQL)
	$(BIN)/python -m pytest

test-sqlite: install pwa browser ## the suite on SQLite
	env -u REVISIT_TEST_DATABASE_URL $(BIN)/python -m pytest

test-postgres: install pwa browser ## the suite on PostgreSQL at $(PG_TEST_URL)
	REVISIT_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest

lint: install ## ruff and mypy (strict on sync/)
	$(BIN)/ruff check server sync tests bench
	$(BIN)/mypy

bench: install pwa browser ## benchmarks (BENCH_ARGS=--quick for a smoke run); results appended to docs/benchmarks.md
	@if [ -x bench/run.sh ]; then bench/run.sh $(BENCH_ARGS); else echo "no benchmarks yet"; fi

soak: install ## thousands of sync simulation runs (in memory, then over HTTP on SQLite)
	REVISIT_SIM_MEMORY_RUNS=2000 $(BIN)/python -m pytest -q tests/sync/test_simulation.py
	env -u REVISIT_TEST_DATABASE_URL REVISIT_SIM_RUNS=1000 $(BIN)/python -m pytest -q tests/server/test_sync_http_simulation.py

clean: ## remove the virtualenv, builds and local data
	rm -rf $(VENV) pwa/dist pwa/node_modules var
