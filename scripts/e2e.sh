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
bin=target/debug/dangjian
cargo build --quiet --bin dangjian

psql=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | tail -1)
admin_url=$(scripts/pg.sh admin-url "$TEST_DATABASE_URL")
db="e2e_$(date +%s)_$$"
[[ $admin_url =~ ^(.*)/postgres(\?.*)?$ ]] || die "cannot read the database URL: $admin_url"
db_url="${BASH_REMATCH[1]}/$db${BASH_REMATCH[2]}"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data_dir=$(mktemp -d)
log="$root/tests/e2e/artifacts/server.log"
mkdir -p "$root/tests/e2e/artifacts"
server_pid=""

cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
    fi
    "$psql" -X -q "$admin_url" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$data_dir"
}
trap cleanup EXIT

"$psql" -X -q -v ON_ERROR_STOP=1 "$admin_url" -c "CREATE DATABASE \"$db\"" >/dev/null
export DATABASE_URL=$db_url DANGJIAN_DATA_DIR=$data_dir BIND=127.0.0.1:$port DANGJIAN_STATIC_DIR=$root/frontend/dist RUST_LOG=warn
"$bin" migrate >/dev/null
"$bin" demo-data | tail -1
"$bin" serve >"$log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; die "the server stopped"; }
    sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || die "the server did not become ready on port $port"
say "server on http://127.0.0.1:$port (database $db)"

cd frontend   # where playwright.config.ts and node_modules are; testDir is ../tests/e2e
E2E_BASE_URL="http://127.0.0.1:$port" CHROMIUM=$chromium npx playwright test "$@"
