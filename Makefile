# 智慧党建平台: developer entry points. Logic lives in scripts/; keep recipes short.
# Run `make help` for the list.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PG_DIR        := .data/pg
PG_PORT       := 54320
PG_DB         := dangjian
PG_TEST_DIR   := .data/pg-test
PG_TEST_PORT  := 54329
BIN           := target/release/dangjian

.PHONY: help run test test-dates bench openapi stop-db

help: ## list the targets
	@echo "智慧党建平台 make targets:"
	@awk -F':.*## ' '/^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "Details: docs/operations.md"

run: ## build and serve (default http://127.0.0.1:8080); PostgreSQL in .data/pg unless DATABASE_URL is set
	scripts/frontend.sh build
	@url=$$(scripts/pg.sh dev-url $(PG_DIR) $(PG_PORT) $(PG_DB)) && export DATABASE_URL=$$url && \
	cargo build --release --bin dangjian && \
	$(BIN) migrate && \
	$(BIN) demo-data --if-empty && \
	MIMALLOC_PURGE_DELAY=$${MIMALLOC_PURGE_DELAY:-0} exec $(BIN) serve

test: ## clippy + tests (PostgreSQL in .data/pg-test unless TEST_DATABASE_URL or DATABASE_URL) + API contract (schemathesis) + compose check + web app checks + browser tests
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	@url=$$(scripts/pg.sh test-url $(PG_TEST_DIR) $(PG_TEST_PORT)) && export TEST_DATABASE_URL=$$url && \
	echo "TEST_DATABASE_URL=$$url" && \
	cargo test --workspace
	@# the API contract from outside: schemathesis (PyPI, pinned, venv under .data/) against a server
	@# with the demo data, as admin and as zhibu01, about three minutes each
	@url=$$(scripts/pg.sh test-url $(PG_TEST_DIR) $(PG_TEST_PORT)) && TEST_DATABASE_URL=$$url tests/api/schemathesis.sh
	@# the date-sensitive tests again at fixed dates and hours (1 Jan, 29 Feb, 17:30 UTC, ...)
	@$(MAKE) --no-print-directory test-dates
	@if command -v docker-compose >/dev/null; then \
	  JWT_SECRET=check DANGJIAN_DATA_KEY=check docker-compose -f docker-compose.yml config -q && echo "docker-compose.yml: ok"; \
	else echo "SKIP docker-compose.yml check: docker-compose not installed (apt-get install docker-compose)"; fi
	@# the web app: npm ci when needed, API types fresh, vue-tsc, eslint, vitest, vite build
	scripts/frontend.sh check
	@# browser tests (tests/e2e): a fresh database on the test cluster, the server on a free port, chromium
	@url=$$(scripts/pg.sh test-url $(PG_TEST_DIR) $(PG_TEST_PORT)) && TEST_DATABASE_URL=$$url scripts/e2e.sh

test-dates: ## the date-sensitive tests at fixed dates and hours, on the platform's clock (scripts/test-dates.sh)
	@url=$$(scripts/pg.sh test-url $(PG_TEST_DIR) $(PG_TEST_PORT)) && TEST_DATABASE_URL=$$url scripts/test-dates.sh

bench: ## benchmarks: member list (scripts/bench.sh), member import (scripts/bench-import.sh), statistics, report and export (scripts/bench-stats.sh), meetings' compliance (scripts/bench-meetings.sh)
	scripts/bench.sh
	scripts/bench-import.sh
	scripts/bench-stats.sh
	scripts/bench-meetings.sh

openapi: ## regenerate openapi/openapi.json from the code
	@mkdir -p openapi
	@cargo run --quiet --bin dangjian -- openapi > openapi/openapi.json.tmp && \
	  mv openapi/openapi.json.tmp openapi/openapi.json && echo "wrote openapi/openapi.json" || \
	  { rm -f openapi/openapi.json.tmp; exit 1; }

stop-db: ## stop the private PostgreSQL clusters (.data/pg and .data/pg-test); data stays
	@scripts/pg.sh stop $(PG_DIR)
	@scripts/pg.sh stop $(PG_TEST_DIR)
