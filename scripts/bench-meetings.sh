#!/usr/bin/env bash
# `make bench` (fourth part): the meetings' compliance analysis of issue 6 on 60,000 orgs with 3
# years of generated meetings (about 5 million attendance rows), each figure beside its SQL peer
# measured in the same run:
#   - GET /api/v1/meetings/compliance for the root and for one committee, over the last year and
#     over 3 years (median and p95 of several requests), beside the core aggregate in plain SQL run
#     by pgbench (held meetings of the subtree counted by org, kind and local month over the same
#     days the endpoint reads: whole periods, so from 1 January of the first year);
#   - GET /api/v1/meetings/heatmap (this year) for the root and the committee, beside the same
#     aggregate over the year;
#   - GET /api/v1/meetings/attendance (last year) for the root and the committee, beside the
#     attendance rows of the subtree's held meetings counted by org and by member in plain SQL.
# Targets (issue 6, Speed): compliance of the root < 2 s, of one committee < 200 ms.
# Writes the figures into docs/benchmarks.md between the `bench-meetings:begin` and
# `bench-meetings:end` markers. An endpoint that answers other than 200 is reported as such and the
# rest still runs.
#
# Data: a database of its own (dangjian_meetings) in the private cluster of bench.sh (.data/pg-bench,
# port 54330), filled once by `dangjian gen --meetings-years 3` and reused by later runs (the
# meetings end on the day they were generated: drop the database to regenerate).
# Settings (environment): BENCH_MEMBERS (1000000), BENCH_ORGS (60000), BENCH_MEETING_YEARS (3),
# BENCH_ATTENDANCE_ROWS (5000000), BENCH_PG_DIR, BENCH_PG_PORT, BENCH_MEETINGS_DB
# (dangjian_meetings), BENCH_MEETINGS_BIND (127.0.0.1:18084), BENCH_ROOT_N (5 requests per root
# case), BENCH_COMMITTEE_N (20), BENCH_BUILD (1; 0 uses the binary already built), BENCH_DOC
# (docs/benchmarks.md; empty leaves the document alone).
# To try it small:
#   BENCH_MEMBERS=20000 BENCH_ORGS=1200 BENCH_ATTENDANCE_ROWS=200000 BENCH_MEETINGS_DB=dangjian_meetings_small BENCH_DOC= scripts/bench-meetings.sh
set -euo pipefail
cd "$(dirname "$0")/.."

MEMBERS=${BENCH_MEMBERS:-1000000}
ORGS=${BENCH_ORGS:-60000}
YEARS=${BENCH_MEETING_YEARS:-3}
ATTENDANCE=${BENCH_ATTENDANCE_ROWS:-5000000}
PG_DIR=${BENCH_PG_DIR:-.data/pg-bench}
PG_PORT=${BENCH_PG_PORT:-54330}
DB=${BENCH_MEETINGS_DB:-dangjian_meetings}
BIND=${BENCH_MEETINGS_BIND:-127.0.0.1:18084}
DOC=${BENCH_DOC-docs/benchmarks.md}
ROOT_N=${BENCH_ROOT_N:-5}
COMMITTEE_N=${BENCH_COMMITTEE_N:-20}
ROUNDS=5
BIN=target/release/dangjian
WORK=.data/bench-meetings
TARGET_ROOT_MS=2000
TARGET_COMMITTEE_MS=200

say() { printf 'bench-meetings: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
for tool in psql pgbench curl python3; do command -v "$tool" >/dev/null || die "$tool not found"; done

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd -P)
export DANGJIAN_DATA_DIR=$WORK/secrets

scripts/pg.sh start "$PG_DIR" "$PG_PORT" fast >/dev/null
URL=$(scripts/pg.sh createdb "$PG_PORT" "$DB")
export DATABASE_URL=$URL
PSQL=(psql -X -q -At -v ON_ERROR_STOP=1 "$URL")

if [[ ${BENCH_BUILD:-1} != 0 ]]; then
    say "building the release binary"
    built_from=$(git rev-parse --short HEAD 2>/dev/null || echo ?)$(git diff --quiet HEAD -- backend 2>/dev/null || echo ' plus uncommitted changes in backend/')
    cargo build --release --quiet --bin dangjian
    CODE="commit $built_from, release build"
else
    # BENCH_BUILD=0: the binary may be older than the tree.
    CODE="release build made before the run (BENCH_BUILD=0; HEAD at the run: $(git rev-parse --short HEAD 2>/dev/null || echo ?))"
fi
"$BIN" migrate >/dev/null

have=$("${PSQL[@]}" -c "SELECT count(*) FROM meetings")
if [[ $have == 0 ]]; then
    [[ $("${PSQL[@]}" -c "SELECT count(*) FROM members") == 0 ]] || die "$DB holds members but no meetings: drop it (dropdb -h 127.0.0.1 -p $PG_PORT -U postgres $DB) and rerun"
    say "generating $MEMBERS members in $ORGS orgs with $YEARS years of meetings (once; later runs reuse them)"
    start=$(date +%s.%N)
    "$BIN" gen --members "$MEMBERS" --orgs "$ORGS" --meetings-years "$YEARS" --attendance-rows "$ATTENDANCE" 2>&1 | tee "$WORK/gen.log" >&2
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.0f}')" >"$WORK/gen.seconds"
    date -u +%Y-%m-%d >"$WORK/gen.date"
    "${PSQL[@]}" -c "ANALYZE"
fi
GEN_SECONDS=$(cat "$WORK/gen.seconds" 2>/dev/null || echo "?")
GEN_DATE=$(cat "$WORK/gen.date" 2>/dev/null || echo "?")
GEN_MEETINGS_LINE=$(grep -h '^generated .* meetings' "$WORK/gen.log" 2>/dev/null || echo "")
GEN_MEETINGS_S=$(sed -n 's/.* rows in \([0-9.]*\) s$/\1/p' <<<"$GEN_MEETINGS_LINE")

read -r N_ORGS N_BRANCHES N_GROUPS N_MEMBERS < <("${PSQL[@]}" -F ' ' -c "SELECT count(*), count(*) FILTER (WHERE kind = 'branch'), count(*) FILTER (WHERE kind = 'group'), (SELECT count(*) FROM members) FROM orgs")
read -r N_MEETINGS N_HELD N_ARCHIVED FIRST_MEETING < <("${PSQL[@]}" -F ' ' -c "SELECT count(*), count(*) FILTER (WHERE status = 'held'), count(*) FILTER (WHERE archived_at IS NOT NULL), min(starts_at)::date FROM meetings")
read -r N_ATTENDEES LISTS_FROM < <("${PSQL[@]}" -F ' ' -c "SELECT count(*), (SELECT min(m.starts_at)::date FROM meetings m WHERE EXISTS (SELECT 1 FROM meeting_attendees a WHERE a.meeting_id = m.id)) FROM meeting_attendees")
N_OFFICERS=$("${PSQL[@]}" -c "SELECT count(*) FROM org_officers")
ROOT=$("${PSQL[@]}" -c "SELECT id FROM orgs WHERE parent_id IS NULL ORDER BY id LIMIT 1")
# The committee: bench_committee's (the second-level committee closest to 2,000 members), and the
# largest second-level committee (by branches), the slowest one.
read -r COM COM_CODE < <("${PSQL[@]}" -F ' ' -c "SELECT o.id, o.code FROM role_grants g JOIN accounts a ON a.id = g.account_id JOIN orgs o ON o.id = g.org_id WHERE a.username = 'bench_committee'")
read -r BIG BIG_CODE < <("${PSQL[@]}" -F ' ' -c "SELECT o.id, o.code FROM orgs o JOIN org_closure c ON c.ancestor_id = o.id JOIN orgs d ON d.id = c.descendant_id AND d.kind = 'branch'
    WHERE o.parent_id = $ROOT AND o.kind = 'committee' GROUP BY o.id, o.code ORDER BY count(*) DESC, o.id LIMIT 1")
branches_of() { "${PSQL[@]}" -c "SELECT count(*) FROM org_closure c JOIN orgs d ON d.id = c.descendant_id AND d.kind = 'branch' WHERE c.ancestor_id = $1"; }
COM_BRANCHES=$(branches_of "$COM"); BIG_BRANCHES=$(branches_of "$BIG")
TODAY=$(date +%Y-%m-%d)
YEAR=${TODAY:0:4}
FROM_1Y=$(date -d "$TODAY -1 year +1 day" +%Y-%m-%d)
FROM_3Y=$(date -d "$TODAY -3 years +1 day" +%Y-%m-%d)
TOMORROW=$(date -d "$TODAY +1 day" +%Y-%m-%d)
say "root $ROOT; committee $COM_CODE (id $COM, $COM_BRANCHES branches); largest committee $BIG_CODE (id $BIG, $BIG_BRANCHES branches)"
say "$N_ORGS orgs, $N_MEMBERS members, $N_MEETINGS meetings ($N_HELD held), $N_ATTENDEES attendance rows (lists from $LISTS_FROM); generated on $GEN_DATE"
[[ $GEN_DATE == "?" || $GEN_DATE == "$(date -u +%Y-%m-%d)" ]] || say "note: the meetings were generated on $GEN_DATE: the latest periods show as missing; drop $DB to regenerate"

SERVER_PID=""
cleanup() {
    if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT
env BIND=$BIND RUST_LOG=${BENCH_RUST_LOG:-warn} MIMALLOC_PURGE_DELAY=0 "$BIN" serve >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -sf -o /dev/null "http://$BIND/api/v1/openapi.json" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; die "the server exited"; }
    sleep 0.2
done
TOKEN=$(curl -sf -X POST "http://$BIND/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"username":"bench_admin","password":"Bench-2026"}' | python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])') ||
    die "login as bench_admin failed (see $WORK/serve.log)"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# The API: a keep-alive client, one warm-up request, then n timed ones; prints "status note ms ...",
# or "status" alone when the answer is not 200. The note sums up the answer (rows, states).
api_round() { # path n
    python3 - "$BIND" "$TOKEN" "$1" "$2" <<'PY'
import http.client, json, sys, time
bind, token, path, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
host, port = bind.rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port), timeout=600)
def get():
    t = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    r = conn.getresponse()
    body = r.read()
    return r.status, body, (time.perf_counter() - t) * 1000
status, body, _ = get()
if status != 200:
    print(status)
    print(body[:500].decode(errors="replace"), file=sys.stderr)
    sys.exit(0)
j = json.loads(body)
if "summary" in j:
    s = j["summary"]
    note = f"{j.get('total')}_rows:_{s.get('ok')}_ok,_{s.get('missing')}_missing,_{s.get('due')}_due;_{len(body) // 1024}_KB"
elif "rows" in j:
    cells = [c for r in j["rows"] for c in r["cells"]]
    note = f"{len(j['rows'])}_rows,_{sum(c['held'] for c in cells)}_held,_{sum(c['missing'] for c in cells)}_missing;_{len(body) // 1024}_KB"
elif "by_org" in j:
    note = f"{len(j['by_org'])}_orgs,_{len(j['by_member'])}_members,_{len(j['absent_streaks'])}_streaks;_{len(body) // 1024}_KB"
else:
    note = f"{len(body) // 1024}_KB"
out = [str(status), note]
for _ in range(n):
    status, body, t = get()
    if status != 200:
        sys.exit(f"{path} answered {status}: {body[:300]!r}")
    out.append(f"{t:.2f}")
print(" ".join(out))
PY
}

# The SQL peers, with the session settings of the analyses' transaction (no JIT, 64 MB work_mem,
# random_page_cost 1.1) and custom plans.
# Held meetings of the subtree by org, kind and local month: the core of compliance and heat map.
cat >"$WORK/held.sql" <<'SQL'
SELECT m.org_id, m.kind,
       (extract(year FROM m.starts_at AT TIME ZONE 'Asia/Shanghai') * 12 + extract(month FROM m.starts_at AT TIME ZONE 'Asia/Shanghai') - 1)::int AS month,
       count(*)
  FROM org_closure c
  JOIN meetings m ON m.org_id = c.descendant_id
 WHERE c.ancestor_id = :org AND m.status = 'held' AND m.starts_at >= :lo::timestamptz AND m.starts_at < :hi::timestamptz
 GROUP BY 1, 2, 3;
SQL
# Attendance of the subtree's held meetings in the range, by org and by member.
cat >"$WORK/attendance.sql" <<'SQL'
SELECT m.org_id, count(DISTINCT m.id), count(*), count(*) FILTER (WHERE a.attendance = 'present'), count(*) FILTER (WHERE a.attendance = 'absent')
  FROM org_closure c
  JOIN meetings m ON m.org_id = c.descendant_id
  JOIN meeting_attendees a ON a.meeting_id = m.id
 WHERE c.ancestor_id = :org AND m.status = 'held' AND m.starts_at >= :lo::timestamptz AND m.starts_at < :hi::timestamptz
 GROUP BY 1;
SELECT a.person_id, count(*), count(*) FILTER (WHERE a.attendance = 'present'), count(*) FILTER (WHERE a.attendance = 'absent')
  FROM org_closure c
  JOIN meetings m ON m.org_id = c.descendant_id
  JOIN meeting_attendees a ON a.meeting_id = m.id
 WHERE c.ancestor_id = :org AND m.status = 'held' AND m.starts_at >= :lo::timestamptz AND m.starts_at < :hi::timestamptz
 GROUP BY 1;
SQL
PG_SETTINGS="-c jit=off -c work_mem=64MB -c plan_cache_mode=force_custom_plan -c random_page_cost=1.1"
# pgbench, one client, prepared, n + 1 transactions of which the first (parse and plan) is dropped;
# prints "ms ms ...".
sql_round() { # file org lo hi n
    rm -f "$WORK"/pgbench_log.*
    (cd "$WORK" && PGOPTIONS="$PG_SETTINGS" pgbench -n -M prepared -c 1 -t $(($5 + 1)) -f "$1" -D "org=$2" -D "lo=$3" -D "hi=$4" \
        -l --log-prefix=pgbench_log "$URL" >"$WORK/pgbench.txt" 2>&1) || { cat "$WORK/pgbench.txt" >&2; die "pgbench failed"; }
    tail -q -n +2 "$WORK"/pgbench_log.* | awk '{ printf "%.2f ", $3 / 1000 } END { print "" }'
    rm -f "$WORK"/pgbench_log.*
}
median_p95() {
    python3 -c "
import math, statistics, sys
v = sorted(float(x) for x in sys.argv[1:])
print(f'{statistics.median(v):.1f} {v[math.ceil(0.95 * len(v)) - 1]:.1f}')" "$@"
}
# midnight in Asia/Shanghai of a date, as the endpoint bounds its range
lt() { echo "${1}T00:00:00+08:00"; }

ROWS_MD=""
NOTES_MD=""
# One case: API and SQL alternate in ROUNDS rounds so that other load weighs on both alike.
measure() { # label path sqlfile org lo hi n target_ms
    local label=$1 path=$2 file=$3 org=$4 lo=$5 hi=$6 n=$7 target=$8
    local k=$(( (n + ROUNDS - 1) / ROUNDS )) api=() sql=() r line status="" note="" api_med=missing api_p95="" sql_med sql_p95
    for r in $(seq 1 "$ROUNDS"); do
        if [[ -z $status || $status == 200 ]]; then
            read -r -a line < <(api_round "$path" "$k")
            status=${line[0]}
            if [[ $status == 200 ]]; then note=${line[1]//_/ }; api+=("${line[@]:2}"); fi
        fi
        read -r -a line < <(sql_round "$WORK/$file" "$org" "$(lt "$lo")" "$(lt "$hi")" "$k")
        sql+=("${line[@]}")
    done
    if (( ${#api[@]} )); then read -r api_med api_p95 < <(median_p95 "${api[@]}"); fi
    read -r sql_med sql_p95 < <(median_p95 "${sql[@]}")
    say "$label: API ${api_med} ms (p95 ${api_p95:-$status}) over ${#api[@]}; SQL ${sql_med} ms (p95 ${sql_p95}) over ${#sql[@]}; $note"
    local tgt="" met=""
    if [[ -n $target ]]; then
        tgt="< $target ms"
        if [[ $api_med == missing ]]; then met=no; else met=$(python3 -c "print('yes' if $api_p95 < $target else 'no')"); fi
    fi
    if [[ $api_med == missing ]]; then
        ROWS_MD+="| $label | answered $status | | $sql_med ms | $sql_p95 ms | | $tgt | $met |"$'\n'
    else
        ROWS_MD+="| $label | $api_med ms | $api_p95 ms | $sql_med ms | $sql_p95 ms | $(python3 -c "print(f'{$api_med / $sql_med:.1f}')")× | $tgt | $met |"$'\n'
        NOTES_MD+="- $label: $note"$'\n'
    fi
}

Y1_LO="${FROM_1Y:0:4}-01-01"   # whole periods: a year kind reaches back to 1 January
Y3_LO="${FROM_3Y:0:4}-01-01"
say "compliance, heat map and attendance: root $ROOT_N requests per case, committees $COMMITTEE_N, as many SQL runs, in $ROUNDS rounds"
measure "compliance, root, last year ($FROM_1Y to $TODAY)" "/api/v1/meetings/compliance?org_id=$ROOT&from=$FROM_1Y&to=$TODAY" held.sql "$ROOT" "$Y1_LO" "$TOMORROW" "$ROOT_N" "$TARGET_ROOT_MS"
measure "compliance, root, 3 years ($FROM_3Y to $TODAY)" "/api/v1/meetings/compliance?org_id=$ROOT&from=$FROM_3Y&to=$TODAY" held.sql "$ROOT" "$Y3_LO" "$TOMORROW" "$ROOT_N" "$TARGET_ROOT_MS"
for c in "$COM:$COM_CODE:$COM_BRANCHES" "$BIG:$BIG_CODE:$BIG_BRANCHES"; do
    IFS=: read -r id code nb <<<"$c"
    measure "compliance, committee $code ($nb branches), last year" "/api/v1/meetings/compliance?org_id=$id&from=$FROM_1Y&to=$TODAY" held.sql "$id" "$Y1_LO" "$TOMORROW" "$COMMITTEE_N" "$TARGET_COMMITTEE_MS"
    measure "compliance, committee $code ($nb branches), 3 years" "/api/v1/meetings/compliance?org_id=$id&from=$FROM_3Y&to=$TODAY" held.sql "$id" "$Y3_LO" "$TOMORROW" "$COMMITTEE_N" "$TARGET_COMMITTEE_MS"
    [[ $COM != "$BIG" ]] || break
done
measure "heat map, root, $YEAR" "/api/v1/meetings/heatmap?org_id=$ROOT&year=$YEAR" held.sql "$ROOT" "$YEAR-01-01" "$TOMORROW" "$ROOT_N" ""
measure "heat map, committee $COM_CODE, $YEAR" "/api/v1/meetings/heatmap?org_id=$COM&year=$YEAR" held.sql "$COM" "$YEAR-01-01" "$TOMORROW" "$COMMITTEE_N" ""
measure "attendance, root, last year" "/api/v1/meetings/attendance?org_id=$ROOT&from=$FROM_1Y&to=$TODAY" attendance.sql "$ROOT" "$FROM_1Y" "$TOMORROW" "$ROOT_N" ""
measure "attendance, committee $COM_CODE, last year" "/api/v1/meetings/attendance?org_id=$COM&from=$FROM_1Y&to=$TODAY" attendance.sql "$COM" "$FROM_1Y" "$TOMORROW" "$COMMITTEE_N" ""

# ---------------------------------------------------------------------------------------------
[[ -n $DOC ]] || exit 0
CPU=$(sed -n 's/^model name\s*:\s*//p' /proc/cpuinfo | head -n1)
PG_VERSION=$("${PSQL[@]}" -c "SHOW server_version" | awk '{print $1}')
fmt() { python3 -c "print(f'{int($1):,}')"; }
section=$(mktemp)
cat >"$section" <<EOF
<!-- bench-meetings:begin (written by scripts/bench-meetings.sh; edit the script, not this section) -->
## Meetings: compliance analysis, heat map and attendance: latest run

| | |
|---|---|
| date | $(date -u '+%Y-%m-%d %H:%M UTC') |
| machine | $(nproc) cores ($CPU); the client, the server and PostgreSQL $PG_VERSION (\`fast\` mode) share them; load average before the run: $LOAD_BEFORE |
| data | $DB: $(fmt "$N_ORGS") orgs ($(fmt "$N_BRANCHES") branches, $(fmt "$N_GROUPS") party groups), $(fmt "$N_MEMBERS") members, $(fmt "$N_OFFICERS") officers; $(fmt "$N_MEETINGS") meetings from $FIRST_MEETING to 30 days after $GEN_DATE ($(fmt "$N_HELD") held, $(fmt "$N_ARCHIVED") archived), $(fmt "$N_ATTENDEES") attendance rows (lists on the meetings since $LISTS_FROM), from \`dangjian gen --members $MEMBERS --orgs $ORGS --meetings-years $YEARS --attendance-rows $ATTENDANCE\`: ${GEN_SECONDS} s in all, of which the meetings part ${GEN_MEETINGS_S:-?} s |
| code | $CODE |
| caller | \`bench_admin\` (political_dept, whole institution); today $TODAY |

Each endpoint (one keep-alive connection, one warm-up request per round, default page size) beside
its SQL peer (pgbench, one client, prepared, with the analyses' session settings: \`jit=off\`,
64 MB \`work_mem\`, custom plans, \`random_page_cost=1.1\`). The compliance and heat-map peer is
the core aggregate: the subtree's held meetings counted by org, kind and local month, over the days
the endpoint reads (whole periods: from 1 January of the first year, since a yearly kind's period
starts there); the endpoint adds the rules of every org of the subtree and the expected rows. The
attendance peer counts the attendance rows of the subtree's held meetings in the range by org and
by member; the endpoint adds the absence streaks and the names. API and SQL alternate in $ROUNDS
rounds, so other load on the machine weighs on both alike.

| case | API median | API p95 | SQL median | SQL p95 | API / SQL | target (p95) | met |
|---|---:|---:|---:|---:|---:|---|---|
${ROWS_MD%$'\n'}

What the endpoints answered:
${NOTES_MD%$'\n'}
<!-- bench-meetings:end -->
EOF
scripts/bench-doc.py bench-meetings "$DOC" "$section"
rm -f "$section"
say "wrote the figures to $DOC"
