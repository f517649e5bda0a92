#!/usr/bin/env bash
# The API contract from outside: schemathesis (a generic OpenAPI client) reads
# /api/v1/openapi.json and tries every operation with generated requests — examples, boundary and
# invalid values (coverage), random ones (fuzzing) and chains of calls linked by the responses
# (stateful) — checking that the server never answers 5xx and that every answer's status, content
# type and body are what the document says. Runs once as the political department (`admin`) and
# once as a branch worker (`zhibu01`), each for about three minutes.
#
# Like scripts/e2e.sh: a fresh database on the test cluster (TEST_DATABASE_URL's server, as
# `make test` gets it from scripts/pg.sh test-url), migrated and loaded with the demo data;
# `target/debug/dangjian serve` on a free port; then the server stops and the database is dropped.
# schemathesis (pinned) lives in a venv under .data/ made on first use; schemathesis_hooks.py
# works around a CPython 3.11 bug in the tool. JUnit reports, schemathesis's cache and the
# server's log go to tests/api/artifacts/ (ignored by git). Exits non-zero on any failure, and
# when the server panicked.
#
#   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:54329/postgres tests/api/schemathesis.sh
#   ST_MAX_TIME=60 tests/api/schemathesis.sh     # a shorter run (seconds per role)
#   tests/api/schemathesis.sh --include-path-regex '/imports'   # extra schemathesis arguments
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

say() { printf 'schemathesis.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

SCHEMATHESIS_VERSION=4.32.5
max_time=${ST_MAX_TIME:-180}
artifacts=$root/tests/api/artifacts
venv=${SCHEMATHESIS_VENV:-$root/.data/schemathesis-$SCHEMATHESIS_VERSION}

[[ -n ${TEST_DATABASE_URL:-} ]] || die "TEST_DATABASE_URL is not set (make test sets it)"

# schemathesis, pinned, in its own venv (PyPI; a timeout and one retry).
st=$venv/bin/schemathesis
if ! [[ -x $st ]] || ! "$st" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
    say "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv" || die "python3 -m venv failed: apt-get install python3-venv"
    install() { "$venv/bin/pip" install --quiet --disable-pip-version-check --timeout 60 "schemathesis==$SCHEMATHESIS_VERSION"; }
    install || { say "pip failed; retrying once"; sleep 5; install; } || die "could not install schemathesis from PyPI"
fi

mkdir -p "$artifacts"
source scripts/demo-server.sh
start_demo_server api "$artifacts/server.log"
log=$artifacts/server.log

# Both logins first: the runs fuzz POST /auth/login too, and wrong passwords for a demo login
# (generated from the request's example) may throttle or lock it for the next run. An access
# token lives 15 minutes, longer than both runs.
login() {
    curl -fsS -X POST "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
        -d "{\"username\": \"$1\", \"password\": \"Demo-2026\"}" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}
declare -A tokens
for user in admin zhibu01; do
    tokens[$user]=$(login "$user") || die "cannot log in as $user"
done

# Excluded, each for a reason that is not a failure it would find:
# - any operation under a `/password` path: changing the logged-in account's password ends its
#   tokens (token_version), so the rest of the run would only see 401.
# Not excluded: POST /auth/logout and /auth/refresh take a refresh token, which the runs never
# hold (they send the access token only), so they cannot end the runs' logins.
excludes=(--exclude-path-regex '/password')

status=0
for user in admin zhibu01; do
    say "schemathesis as $user for up to ${max_time}s"
    started=$(date +%s)
    # Run from the artifacts directory, where schemathesis keeps its cache (`.schemathesis/`, for
    # `st replay <id>`); --generation-database none: each run starts afresh, and the seed printed
    # at the end reproduces a failure with --seed.
    if (cd "$artifacts" && SCHEMATHESIS_HOOKS=$root/tests/api/schemathesis_hooks.py "$st" run "$base/api/v1/openapi.json" \
        -H "Authorization: Bearer ${tokens[$user]}" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --phases examples,coverage,fuzzing,stateful \
        --max-time "$max_time" \
        --max-examples 100 \
        --workers 2 \
        --request-timeout 60 \
        --generation-database none \
        --no-color \
        --report junit --report-junit-path "$artifacts/$user.junit.xml" \
        "${excludes[@]}" "$@"); then
        say "$user: passed in $(($(date +%s) - started))s"
    else
        say "$user: FAILED in $(($(date +%s) - started))s (report: $artifacts/$user.junit.xml)"
        status=1
    fi
done
if grep -q "panicked" "$log"; then
    say "the server panicked (see $log)"
    status=1
fi
exit $status
