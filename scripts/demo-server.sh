# Sourced by the tests from outside (scripts/e2e.sh, tests/api/schemathesis.sh): a fresh database
# on TEST_DATABASE_URL's server, migrated and loaded with the demo data, and `dangjian serve`
# (target/debug) on a free port; both are removed when the sourcing script exits.
#
#   source scripts/demo-server.sh
#   start_demo_server NAME LOG [VAR=value ...]   # sets base, port, db, server_pid
#
# The sourcing script defines say and die, and runs from the repository's root.

start_demo_server() { # NAME LOG [VAR=value ...]: the database's name prefix, the server's log
    local name=$1 log=$2
    shift 2
    bin=target/debug/dangjian
    cargo build --quiet --bin dangjian

    psql=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | tail -1)
    admin_url=$(scripts/pg.sh admin-url "$TEST_DATABASE_URL")
    db="${name}_$(date +%s)_$$"
    [[ $admin_url =~ ^(.*)/postgres(\?.*)?$ ]] || die "cannot read the database URL: $admin_url"
    local db_url="${BASH_REMATCH[1]}/$db${BASH_REMATCH[2]}"

    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    base="http://127.0.0.1:$port"
    demo_data_dir=$(mktemp -d)
    mkdir -p "$(dirname "$log")"
    server_pid=""
    trap stop_demo_server EXIT

    "$psql" -X -q -v ON_ERROR_STOP=1 "$admin_url" -c "CREATE DATABASE \"$db\"" >/dev/null
    export DATABASE_URL=$db_url DANGJIAN_DATA_DIR=$demo_data_dir BIND=127.0.0.1:$port RUST_LOG=${RUST_LOG:-warn} "$@"
    "$bin" migrate >/dev/null
    "$bin" demo-data | tail -1
    "$bin" serve >"$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        curl -fsS "$base/readyz" >/dev/null 2>&1 && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; die "the server stopped"; }
        sleep 0.2
    done
    curl -fsS "$base/readyz" >/dev/null || die "the server did not become ready on port $port"
    say "server on $base (database $db)"
}

stop_demo_server() {
    if [[ -n ${server_pid:-} ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
    fi
    [[ -n ${db:-} ]] && "$psql" -X -q "$admin_url" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "${demo_data_dir:-}"
}
