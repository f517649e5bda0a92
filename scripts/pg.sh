#!/usr/bin/env bash
# Private PostgreSQL clusters for `make run` and `make test` (no system server, no Docker needed).
#
#   scripts/pg.sh start DIR PORT [fast]   start (or reuse) a cluster whose data directory is DIR,
#                                         listening on 127.0.0.1:PORT only; `fast` = fsync off etc.
#   scripts/pg.sh stop DIR                stop it (no error when it is not running)
#   scripts/pg.sh status DIR              exit 0 when it is running
#   scripts/pg.sh createdb PORT NAME      create database NAME when missing
#   scripts/pg.sh dev-url DIR PORT NAME   $DATABASE_URL if set, else start DIR PORT + createdb NAME
#   scripts/pg.sh test-url DIR PORT       $TEST_DATABASE_URL if set, else the server of $DATABASE_URL
#                                         (database `postgres`), else start DIR PORT fast
#   scripts/pg.sh admin-url URL           URL with its database replaced by `postgres`
#
# URLs go to stdout, everything else to stderr, so `url=$(scripts/pg.sh ...)` works.
# As root, the cluster belongs to the `postgres` user (initdb refuses root).
set -euo pipefail

PGUSER_NAME=postgres
CONF_NAME=pg_sh.conf   # our settings, included from postgresql.conf, rewritten at each start

say() { printf 'pg.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

usage() { # [exit code]
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit "${1:-2}"
}

# Directory holding initdb/pg_ctl: the version that created DIR (if given and known), else PATH,
# else the newest /usr/lib/postgresql/*/bin.
find_bindir() { # [DIR]
    local d ver
    if [[ -n ${1:-} && -f $1/PG_VERSION ]]; then
        ver=$(cat "$1/PG_VERSION")
        if [[ -x /usr/lib/postgresql/$ver/bin/pg_ctl ]]; then
            echo "/usr/lib/postgresql/$ver/bin"
            return 0
        fi
    fi
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return 0
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -n -r); do
        if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

need_bindir() { # [DIR]
    BINDIR=$(find_bindir "${1:-}") || die "PostgreSQL server binaries (initdb, pg_ctl) not found.
  Install them:            apt-get install postgresql     (Debian/Ubuntu; any version >= 13)
  or run everything in containers instead:  docker-compose up
  or point the app at an existing server:   DATABASE_URL=postgres://user:pass@host:5432/dangjian make run"
}

# A client tool (psql, pg_isready): PATH first, then the server bin dir.
client() {
    local tool=$1
    if command -v "$tool" >/dev/null 2>&1; then
        command -v "$tool"
    elif BINDIR=${BINDIR:-$(find_bindir)} && [[ -x $BINDIR/$tool ]]; then
        echo "$BINDIR/$tool"
    else
        die "$tool not found: apt-get install postgresql-client"
    fi
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# Run a server command as the cluster owner.
as_owner() {
    if is_root; then
        runuser -u "$PGUSER_NAME" -- "$@"
    else
        "$@"
    fi
}

abs_dir() {
    local dir=$1
    [[ -n $dir ]] || die "empty directory argument"
    mkdir -p "$(dirname "$dir")"
    echo "$(cd "$(dirname "$dir")" && pwd -P)/$(basename "$dir")"
}

check_port() {
    [[ $1 =~ ^[0-9]+$ ]] && (($1 > 0 && $1 < 65536)) || die "bad port: '$1'"
}

port_in_use() { # PORT
    "$(client pg_isready)" -q -h 127.0.0.1 -p "$1" >/dev/null 2>&1 || (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

running() { # DIR
    [[ -f $1/PG_VERSION ]] && as_owner "$BINDIR/pg_ctl" -D "$1" status >/dev/null 2>&1
}

log_tail() { # DIR
    if [[ -f $1/log ]]; then
        say "last lines of $1/log:"
        tail -n 30 "$1/log" >&2 || true
    fi
}

pick_locale() {
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
        echo C.UTF-8
    else
        echo C
    fi
}

write_conf() { # DIR PORT MODE
    local dir=$1 port=$2 mode=$3 sockdir=$1
    # A Unix socket path is limited to ~107 bytes; beyond that, TCP only.
    if ((${#sockdir} + 20 > 100)); then
        say "path too long for a Unix socket, listening on TCP only: $sockdir"
        sockdir=""
    fi
    {
        echo "# written by scripts/pg.sh at each start; edit the script, not this file"
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $port"
        echo "unix_socket_directories = '$sockdir'"
        echo "max_connections = 200"
        echo "shared_buffers = 256MB"
        echo "logging_collector = off"
        echo "log_timezone = 'UTC'"
        echo "timezone = 'UTC'"
        if [[ $mode == fast ]]; then
            echo "# fast: throwaway test data, a crash may lose or corrupt it"
            echo "fsync = off"
            echo "synchronous_commit = off"
            echo "full_page_writes = off"
        fi
    } >"$dir/$CONF_NAME.new"
    mv "$dir/$CONF_NAME.new" "$dir/$CONF_NAME"
    if is_root; then chown "$PGUSER_NAME:" "$dir/$CONF_NAME"; fi
}

init_cluster() { # DIR
    local dir=$1 loc
    if is_root; then
        id "$PGUSER_NAME" >/dev/null 2>&1 || die "running as root but there is no '$PGUSER_NAME' user (apt-get install postgresql creates it)"
        install -d -m 700 -o "$PGUSER_NAME" -g "$(id -gn "$PGUSER_NAME")" "$dir"
        # every parent must be traversable by postgres
        as_owner test -w "$dir" || die "user $PGUSER_NAME cannot reach $dir (a parent directory is not world-executable); use another DIR"
    else
        install -d -m 700 "$dir"
    fi
    if [[ -n $(ls -A "$dir") ]]; then
        die "$dir exists, is not empty and is not a PostgreSQL data directory; remove it or choose another DIR"
    fi
    loc=$(pick_locale)
    say "initdb $dir (locale $loc)"
    as_owner "$BINDIR/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale="$loc" >"$dir.initdb.log" 2>&1 || {
        cat "$dir.initdb.log" >&2
        rm -f "$dir.initdb.log"
        die "initdb failed"
    }
    rm -f "$dir.initdb.log"
    echo "include = '$CONF_NAME'" | as_owner tee -a "$dir/postgresql.conf" >/dev/null
}

wait_ready() { # DIR PORT
    local dir=$1 port=$2 isready i
    isready=$(client pg_isready)
    for ((i = 0; i < 300; i++)); do # 30 s
        if "$isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then
            return 0
        fi
        sleep 0.1
    done
    log_tail "$dir"
    die "server in $dir did not accept connections on 127.0.0.1:$port within 30 s"
}

url() { echo "postgres://postgres@127.0.0.1:$1/${2:-postgres}"; }

cmd_start() { # DIR PORT [fast]
    (($# >= 2 && $# <= 3)) || usage
    local dir port=$2 mode=${3:-normal} running_port
    [[ $mode == normal || $mode == fast ]] || die "third argument must be 'fast' or absent, not '$mode'"
    check_port "$port"
    dir=$(abs_dir "$1")
    need_bindir "$dir"

    if running "$dir"; then
        running_port=$(sed -n 4p "$dir/postmaster.pid" 2>/dev/null || true)
        if [[ $running_port != "$port" ]]; then
            die "the cluster in $dir is already running on port ${running_port:-?}, not $port; run: scripts/pg.sh stop $dir"
        fi
        wait_ready "$dir" "$port"
        say "reusing running cluster in $dir"
        url "$port"
        return 0
    fi

    # Something else on that port? Starting would fail with a confusing log line.
    if port_in_use "$port"; then
        die "port $port on 127.0.0.1 is already in use by another program; choose another port"
    fi

    [[ -f $dir/PG_VERSION ]] || init_cluster "$dir"
    write_conf "$dir" "$port" "$mode"
    say "starting PostgreSQL ($("$BINDIR/postgres" --version | awk '{print $3}')) in $dir on 127.0.0.1:$port${3:+ ($mode)}"
    # pg_ctl puts the postmaster in its own session: Ctrl-C in the caller's terminal does not reach it.
    if ! as_owner "$BINDIR/pg_ctl" -D "$dir" -l "$dir/log" -w -t 60 start >/dev/null 2>&1; then
        log_tail "$dir"
        die "could not start PostgreSQL in $dir"
    fi
    wait_ready "$dir" "$port"
    url "$port"
}

cmd_stop() { # DIR
    (($# == 1)) || usage
    local dir
    if [[ ! -d $1 ]]; then
        say "not running (no such directory): $1"
        return 0
    fi
    dir=$(abs_dir "$1")
    need_bindir "$dir"
    if running "$dir"; then
        as_owner "$BINDIR/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null || die "could not stop $dir"
        say "stopped $dir"
    else
        say "not running: $dir"
    fi
}

cmd_status() { # DIR
    (($# == 1)) || usage
    local dir
    [[ -d $1 ]] || return 3
    dir=$(abs_dir "$1")
    need_bindir "$dir"
    running "$dir"
}

cmd_createdb() { # PORT NAME
    (($# == 2)) || usage
    local port=$1 name=$2 psql
    check_port "$port"
    [[ $name =~ ^[A-Za-z_][A-Za-z0-9_-]{0,62}$ ]] || die "bad database name: '$name'"
    psql=$(client psql)
    "$psql" -X -q -v ON_ERROR_STOP=1 -v name="$name" -h 127.0.0.1 -p "$port" -U postgres -d postgres >/dev/null <<'SQL' || die "could not create database $name on 127.0.0.1:$port"
SELECT format('CREATE DATABASE %I', :'name')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'name') \gexec
SQL
    url "$port" "$name"
}

cmd_admin_url() { # URL
    (($# == 1)) || usage
    local u=$1 base query=""
    [[ $u =~ ^postgres(ql)?:// ]] || die "not a postgres:// URL"
    if [[ $u == *\?* ]]; then
        query="?${u#*\?}"
        u=${u%%\?*}
    fi
    base=${u#*://}
    if [[ $base == */* ]]; then
        u="${u%/*}"
    fi
    echo "$u/postgres$query"
}

cmd_dev_url() { # DIR PORT NAME
    (($# == 3)) || usage
    if [[ -n ${DATABASE_URL:-} ]]; then
        echo "$DATABASE_URL"
        return 0
    fi
    cmd_start "$1" "$2" >/dev/null
    cmd_createdb "$2" "$3"
}

cmd_test_url() { # DIR PORT
    (($# == 2)) || usage
    if [[ -n ${TEST_DATABASE_URL:-} ]]; then
        echo "$TEST_DATABASE_URL"
    elif [[ -n ${DATABASE_URL:-} ]]; then
        cmd_admin_url "$DATABASE_URL"
    else
        # The test cluster is private and throwaway: when its usual port is held by something else
        # (another checkout's test cluster, say), take the next free port rather than fail.
        local dir port=$2
        check_port "$port"
        dir=$(abs_dir "$1")
        need_bindir "$dir"
        if running "$dir"; then
            port=$(sed -n 4p "$dir/postmaster.pid" 2>/dev/null || echo "$port")
        else
            while port_in_use "$port"; do
                ((port < $2 + 50)) || die "no free port in $2..$((port)) on 127.0.0.1"
                port=$((port + 1))
            done
        fi
        cmd_start "$1" "$port" fast
    fi
}

main() {
    (($# >= 1)) || usage
    local cmd=$1
    shift
    case $cmd in
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        status) cmd_status "$@" ;;
        createdb) cmd_createdb "$@" ;;
        dev-url) cmd_dev_url "$@" ;;
        test-url) cmd_test_url "$@" ;;
        admin-url) cmd_admin_url "$@" ;;
        -h | --help | help) usage 0 ;;
        *) say "unknown command: $cmd"; usage ;;
    esac
}

main "$@"
