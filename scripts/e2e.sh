#!/usr/bin/env bash
# Browser tests of the web app against the real backend: a fresh database on the test cluster
# (TEST_DATABASE_URL's server, as `make test` gets it from scripts/pg.sh test-url), migrated and
# loaded with the demo data; `target/debug/dangjian serve` on a free port serving frontend/dist;
# Playwright with Debian's chromium runs the specs of tests/e2e/ (config: frontend/playwright.config.ts,
# packages: frontend/node_modules); then the server stops and the database is dropped. Screenshots
# go to tests/e2e/artifacts/ (ignored by git).
#
#   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:54329/postgres scripts/e2e.sh [playwright args]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

say() { printf 'e2e.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[[ -n ${TEST_DATABASE_URL:-} ]] || die "TEST_DATABASE_URL is not set (make test sets it)"
chromium=${CHROMIUM:-/usr/bin/chromium}
[[ -x $chromium ]] || die "$chromium not found: apt-get install chromium fonts-noto-cjk"
[[ -f frontend/dist/index.html ]] || die "frontend/dist is not built: scripts/frontend.sh build"
source scripts/demo-server.sh
start_demo_server e2e "$root/tests/e2e/artifacts/server.log" DANGJIAN_STATIC_DIR="$root/frontend/dist"

cd frontend   # where playwright.config.ts and node_modules are; testDir is ../tests/e2e
E2E_BASE_URL="$base" CHROMIUM=$chromium npx playwright test "$@"
