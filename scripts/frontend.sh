#!/usr/bin/env bash
# The web app (frontend/): dependencies and build, for `make run`, `make test` and .ci/run.
#
#   scripts/frontend.sh deps    npm ci when node_modules is missing or package-lock.json changed
#                               (with a timeout and one retry: one npm ci once hung for 10 minutes)
#   scripts/frontend.sh build   deps, then `vite build` when frontend/dist is older than its sources
#   scripts/frontend.sh check   deps, then the checks: API types fresh, vue-tsc, eslint, vitest, build
set -euo pipefail
cd "$(dirname "$0")/../frontend"

say() { printf 'frontend.sh: %s\n' "$*" >&2; }

need_node() {
    command -v node >/dev/null && command -v npm >/dev/null ||
        { say "node and npm are needed (Node 20.19 or newer)"; exit 1; }
    local v
    v=$(node -p 'process.versions.node')
    if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
        say "Node $v is too old: vite 8 needs 20.19 or newer"
        exit 1
    fi
}

deps() {
    need_node
    local stamp=node_modules/.dangjian-lock-sha sum
    sum=$(sha256sum package-lock.json | cut -d' ' -f1)
    if [[ -d node_modules && -f $stamp && $(cat "$stamp") == "$sum" ]]; then
        return 0
    fi
    say "npm ci (package-lock.json changed or node_modules missing)"
    timeout 600 npm ci --no-audit --no-fund --loglevel=error ||
        { say "npm ci failed or timed out; retrying once"; sleep 5; timeout 600 npm ci --no-audit --no-fund --loglevel=error; }
    echo "$sum" >"$stamp"
}

stale_dist() {
    [[ -f dist/index.html && -f dist/.built ]] || return 0
    [[ -n $(find src public index.html vite.config.ts package.json package-lock.json -newer dist/.built -print -quit 2>/dev/null) ]]
}

build() {
    deps
    if stale_dist; then
        say "vite build"
        npx vite build --logLevel warn
        touch dist/.built
    else
        say "dist is up to date"
    fi
}

check() {
    deps
    npm run -s check:api
    echo "==> vue-tsc"
    npm run -s typecheck
    echo "==> eslint"
    npm run -s lint
    echo "==> vitest"
    npx vitest run
    echo "==> vite build"
    npx vite build --logLevel warn
    touch dist/.built
}

case ${1:-} in
    deps) deps ;;
    build) build ;;
    check) check ;;
    *) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
