#!/usr/bin/env bash
# `make bench`: load benchmark of the member list (GET /api/v1/members filtered by a mid-size
# subtree, page of 50 with the total), measured with wrk, beside pgbench running the same SQL on
# the same database in the same run (the ceiling the API can approach). Writes the figures into
# docs/benchmarks.md, between the `bench:begin` and `bench:end` markers.
#
# Data: a private cluster in .data/pg-bench (port 54330), database dangjian_bench, filled once by
# `dangjian gen` and reused by later runs. Everything shares this machine's cores: wrk, the
# server and PostgreSQL compete for them, as the benchmark intends.
#
# Settings (environment): BENCH_MEMBERS (1000000), BENCH_ORGS (60000), BENCH_SECONDS (30),
# BENCH_CONNECTIONS (32), BENCH_PG_DIR (.data/pg-bench), BENCH_PG_PORT (54330), BENCH_BIND
# (127.0.0.1:18081), BENCH_DOC (docs/benchmarks.md; set it empty to leave the document alone).
set -euo pipefail
cd "$(dirname "$0")/.."

MEMBERS=${BENCH_MEMBERS:-1000000}
ORGS=${BENCH_ORGS:-60000}
SECONDS_RUN=${BENCH_SECONDS:-30}
CONNS=${BENCH_CONNECTIONS:-32}
PG_DIR=${BENCH_PG_DIR:-.data/pg-bench}
PG_PORT=${BENCH_PG_PORT:-54330}
BIND=${BENCH_BIND:-127.0.0.1:18081}
DOC=${BENCH_DOC-docs/benchmarks.md}
DB=dangjian_bench
BIN=target/release/dangjian
WORK=.data/bench
PAGES=20
PAGE_SIZE=50
# The targets from the issue: p99 under 15 ms at 32 connections, at least 70% of pgbench's rate.
TARGET_P99_MS=15
TARGET_RATIO=0.70

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

for tool in psql pgbench curl python3; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install postgresql-client curl python3)"
done
if ! command -v wrk >/dev/null; then
    say "wrk not found: installing Debian's package"
    if [[ $(id -u) -eq 0 ]]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
fi

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd -P)
export DANGJIAN_DATA_DIR=$WORK/secrets   # the data key the generated rows are encrypted with

# fast = fsync off: harmless for a read benchmark, and the one-off load is quicker.
scripts/pg.sh start "$PG_DIR" "$PG_PORT" fast >/dev/null
URL=$(scripts/pg.sh createdb "$PG_PORT" "$DB")
export DATABASE_URL=$URL
PSQL=(psql -X -q -At -v ON_ERROR_STOP=1 "$URL")

say "building the release binary"
cargo build --release --quiet --bin dangjian
"$BIN" migrate >/dev/null

have=$("${PSQL[@]}" -c "SELECT count(*) FROM members")
if [[ $have == 0 ]]; then
    say "generating $MEMBERS members in $ORGS orgs (once; later runs reuse them)"
    start=$(date +%s.%N)
    "$BIN" gen --members "$MEMBERS" --orgs "$ORGS" 2>&1 | tee "$WORK/gen.log" >&2
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.0f}')" >"$WORK/gen.seconds"
elif [[ $have != "$MEMBERS" ]]; then
    say "note: $DB holds $have members, not $MEMBERS; using them (drop the database to regenerate)"
fi
GEN_SECONDS=$(cat "$WORK/gen.seconds" 2>/dev/null || echo "?")

read -r N_ORGS N_MEMBERS N_PEOPLE < <("${PSQL[@]}" -F ' ' -c "SELECT (SELECT count(*) FROM orgs), (SELECT count(*) FROM members), (SELECT count(*) FROM people)")
read -r ORG ORG_CODE ORG_KIND < <("${PSQL[@]}" -F ' ' -c "SELECT o.id, o.code, o.kind FROM role_grants g JOIN accounts a ON a.id = g.account_id JOIN orgs o ON o.id = g.org_id WHERE a.username = 'bench_committee' AND g.role = 'committee'")
[[ -n ${ORG:-} ]] || die "no bench_committee login in $DB: it was not filled by \`dangjian gen\`; drop it and rerun"
SUBTREE=$("${PSQL[@]}" -c "SELECT count(*) FROM members m WHERE m.org_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $ORG)")
SUBTREE_ORGS=$("${PSQL[@]}" -c "SELECT count(*) FROM org_closure WHERE ancestor_id = $ORG")
say "subtree: $ORG_KIND $ORG_CODE (id $ORG): $SUBTREE members in $SUBTREE_ORGS orgs; $N_MEMBERS members and $N_ORGS orgs in all"

# The server, stopped whatever happens.
SERVER_PID=""
cleanup() {
    if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT
BIND=$BIND RUST_LOG=warn "$BIN" serve >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -sf -o /dev/null "http://$BIND/api/v1/openapi.json" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; die "the server exited"; }
    sleep 0.2
done

TOKEN=$(curl -sf -X POST "http://$BIND/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"username":"bench_committee","password":"Bench-2026"}' | python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])') ||
    die "login as bench_committee failed (see $WORK/serve.log)"
check=$(curl -sf "http://$BIND/api/v1/members?org_id=$ORG&page=2&page_size=$PAGE_SIZE" -H "Authorization: Bearer $TOKEN" |
    python3 -c 'import sys, json; d = json.load(sys.stdin); print(d["total"], len(d["items"]))')
say "one request: total and page length = $check"
[[ ${check%% *} == "$SUBTREE" ]] || die "the API's total ($check) differs from the database's count ($SUBTREE)"

# wrk: pages 1..20 in turn, so the offset varies as a user paging through the list would make it.
cat >"$WORK/members.lua" <<LUA
local n = 0
local headers = { ["Authorization"] = "Bearer $TOKEN" }
request = function()
    n = n + 1
    local path = "/api/v1/members?org_id=$ORG&page=" .. ((n % $PAGES) + 1) .. "&page_size=$PAGE_SIZE"
    return wrk.format("GET", path, headers)
end
LUA

# pgbench: the statements the endpoint sends for a committee grant over ORG, copied from the
# server's statement log (log_statement=all), with the same binds and, like the server, all
# three pipelined on one connection: the scope check, the count, and the page (its ids chosen in
# a subquery). Prepared statements (-M prepared), as diesel caches these per connection.
cat >"$WORK/members.sql" <<'SQL'
\set page random(1, 20)
\set off (:page - 1) * 50
\startpipeline
SELECT EXISTS (SELECT "org_closure"."ancestor_id", "org_closure"."descendant_id", "org_closure"."depth" FROM "org_closure" WHERE ((("org_closure"."ancestor_id" = ANY(:roots)) AND ("org_closure"."descendant_id" = :org)) AND ("org_closure"."depth" >= :zero)));
SELECT COUNT(*) FROM "members" WHERE ("members"."org_id" = ANY(SELECT "org_closure"."descendant_id" FROM "org_closure" WHERE ("org_closure"."ancestor_id" = :org)));
SELECT "people"."id", "people"."name", "people"."gender", "people"."id_number_enc", "people"."id_number_masked", "people"."birth_date", "people"."ethnicity", "people"."native_place", "people"."education", "people"."degree", "people"."job_category", "people"."post", "people"."title", "people"."phone_enc", "people"."phone_masked", "people"."work_started_on", "members"."category", "members"."org_id", "orgs"."name", "members"."joined_at", "members"."full_member_at", "members"."status", "members"."is_flowing", "members"."lost_contact", "members"."version" FROM (("members" INNER JOIN "people" ON ("members"."person_id" = "people"."id")) INNER JOIN "orgs" ON ("members"."org_id" = "orgs"."id")) WHERE ("members"."person_id" = ANY(SELECT "members"."person_id" FROM "members" WHERE ("members"."org_id" = ANY(SELECT "org_closure"."descendant_id" FROM "org_closure" WHERE ("org_closure"."ancestor_id" = :org))) ORDER BY "members"."org_id" ASC, "members"."person_id" ASC LIMIT :limit OFFSET :off)) ORDER BY "members"."org_id" ASC, "members"."person_id" ASC;
\endpipeline
SQL
PGBENCH=(pgbench -n -M prepared -c "$CONNS" -j 2 -f "$WORK/members.sql" -D "roots={$ORG}" -D "org=$ORG" -D zero=0 -D "limit=$PAGE_SIZE")

say "warming up (5 s each)"
wrk -t2 -c"$CONNS" -d5s -s "$WORK/members.lua" "http://$BIND" >/dev/null
"${PGBENCH[@]}" -T 5 "$URL" >/dev/null 2>&1

# Other work on the machine skews everything: note the load the run started under.
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v l="${LOAD_BEFORE%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }' &&
    say "warning: load average $LOAD_BEFORE before the run: other processes compete for the cores"
say "wrk: -t2 -c$CONNS -d${SECONDS_RUN}s"
wrk -t2 -c"$CONNS" -d"${SECONDS_RUN}s" --latency -s "$WORK/members.lua" "http://$BIND" | tee "$WORK/wrk.txt" >&2
say "pgbench: -c$CONNS -j2 -T$SECONDS_RUN"
rm -f "$WORK"/pgbench_log.*
(cd "$WORK" && "${PGBENCH[@]}" -T "$SECONDS_RUN" -l --log-prefix=pgbench_log "$URL") 2>&1 | tee "$WORK/pgbench.txt" >&2

# Figures: wrk's latency distribution, pgbench's rate and (from its per-transaction log) percentiles.
read -r WRK_RPS WRK_P50 WRK_P99 WRK_ERRORS < <(python3 - "$WORK/wrk.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
errors = re.search(r"Socket errors:.*", text)
print(f"{rps:.0f} {p50:.2f} {p99:.2f} {int(bad.group(1)) if bad else 0}{'+socket' if errors else ''}")
PY
)
read -r PG_TPS PG_AVG PG_P50 PG_P99 < <(python3 - "$WORK/pgbench.txt" "$WORK" <<'PY'
import glob, re, sys
text = open(sys.argv[1]).read()
tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", text).group(1))
avg = float(re.search(r"latency average = ([\d.]+) ms", text).group(1))
lat = []
for path in glob.glob(sys.argv[2] + "/pgbench_log.*"):
    for line in open(path):
        f = line.split()
        if len(f) >= 3:
            lat.append(int(f[2]) / 1000.0)
lat.sort()
pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")
print(f"{tps:.0f} {avg:.2f} {pct(0.50):.2f} {pct(0.99):.2f}")
PY
)
rm -f "$WORK"/pgbench_log.*
RATIO=$(python3 -c "print(f'{$WRK_RPS / $PG_TPS:.2f}')")
P99_OK=$(python3 -c "print('yes' if $WRK_P99 < $TARGET_P99_MS else 'no')")
RATIO_OK=$(python3 -c "print('yes' if $RATIO >= $TARGET_RATIO else 'no')")
say "API $WRK_RPS req/s, p50 $WRK_P50 ms, p99 $WRK_P99 ms; pgbench $PG_TPS tps (p99 $PG_P99 ms); ratio $RATIO"
[[ $WRK_ERRORS == 0 ]] || say "warning: $WRK_ERRORS failed responses during the wrk run"

[[ -n $DOC ]] || exit 0
CPU=$(sed -n 's/^model name\s*:\s*//p' /proc/cpuinfo | head -n1)
MEM_GB=$(awk '/^MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)
PG_VERSION=$("${PSQL[@]}" -c "SHOW server_version" | awk '{print $1}')
WRK_VERSION=$(wrk -v 2>&1 | head -n1 | awk '{print $2}' || true)
section=$(mktemp)
cat >"$section" <<EOF
<!-- bench:begin (written by scripts/bench.sh; edit the script, not this section) -->
## Latest run

| | |
|---|---|
| date | $(date -u '+%Y-%m-%d %H:%M UTC') |
| machine | $(nproc) cores ($CPU), ${MEM_GB} GB memory; wrk, the server and PostgreSQL share the cores; load average before the run: $LOAD_BEFORE |
| software | PostgreSQL $PG_VERSION (private cluster, \`fast\` mode: fsync off), wrk $WRK_VERSION, release build of \`dangjian\`, pool of 32 connections |
| data | $N_ORGS orgs, $N_MEMBERS members ($N_PEOPLE people) from \`dangjian gen --members $MEMBERS --orgs $ORGS\`, generated in ${GEN_SECONDS} s |
| subtree | $ORG_KIND $ORG_CODE (id $ORG): $SUBTREE members in $SUBTREE_ORGS orgs; caller \`bench_committee\` (committee grant over it) |
| request | \`GET /api/v1/members?org_id=$ORG&page=1..$PAGES&page_size=$PAGE_SIZE\` (the page varies per request) |

| | requests/s | p50 | p99 | |
|---|---:|---:|---:|---|
| API (wrk, $CONNS connections, ${SECONDS_RUN} s) | $WRK_RPS | $WRK_P50 ms | $WRK_P99 ms | failed responses: $WRK_ERRORS |
| same SQL (pgbench, $CONNS clients, ${SECONDS_RUN} s) | $PG_TPS | $PG_P50 ms | $PG_P99 ms | latency average $PG_AVG ms |
| ratio API / pgbench | $RATIO | | | |

Targets: p99 under $TARGET_P99_MS ms at $CONNS connections: **$P99_OK** ($WRK_P99 ms);
at least $(python3 -c "print(int($TARGET_RATIO * 100))")% of the pgbench rate: **$RATIO_OK** ($(python3 -c "print(round($RATIO * 100))")%).

Commands (from \`$WORK\`, written by the script):

\`\`\`
wrk -t2 -c$CONNS -d${SECONDS_RUN}s --latency -s members.lua http://$BIND
${PGBENCH[*]} -T $SECONDS_RUN -l $URL
\`\`\`
<!-- bench:end -->
EOF
if [[ -f $DOC ]] && grep -q '<!-- bench:begin' "$DOC" && grep -q '<!-- bench:end -->' "$DOC"; then
    awk -v f="$section" '
        /<!-- bench:begin/ { while ((getline l < f) > 0) print l; skip = 1; next }
        /<!-- bench:end -->/ { skip = 0; next }
        !skip { print }' "$DOC" >"$DOC.new"
    mv "$DOC.new" "$DOC"
else
    mkdir -p "$(dirname "$DOC")"
    { [[ -f $DOC ]] && cat "$DOC" && echo; cat "$section"; } >"$DOC.new"
    mv "$DOC.new" "$DOC"
fi
rm -f "$section"
say "wrote $DOC"
