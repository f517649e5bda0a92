#!/usr/bin/env bash
# `make bench` (third part): the statistics, the annual report and the roster export of issue 5, on
# the benchmark database of scripts/bench.sh (`dangjian gen --members 1000000`), each beside its
# peer or ceiling measured in the same run:
#   - GET /api/v1/stats/structure for the root (BENCH_STATS_ROOT_N requests) and for one branch
#     (BENCH_STATS_BRANCH_N requests, the branch with the most members), median and p95, beside the
#     same counting in plain SQL run by pgbench on the same database (one client, prepared);
#   - POST /api/v1/reports/party-statistics for the root (annual, XLSX), BENCH_REPORT_N times;
#   - GET /api/v1/members/export.xlsx of every member (20 columns): rows/s and the server's peak
#     memory (VmHWM, reset just before), beside (a) Python's XlsxWriter in constant_memory mode and
#     (b) a bare rust_xlsxwriter loop (backend/examples/xlsx_ceiling.rs), both writing the same rows
#     read by psql into a CSV first, so that only the writing is timed.
# Writes the figures into docs/benchmarks.md between the `bench-stats:begin` and `bench-stats:end`
# markers. An endpoint that answers 404 is reported as missing and the rest still runs.
#
# Data: the private cluster of bench.sh (.data/pg-bench, port 54330, database dangjian_bench), filled
# by `dangjian gen` when empty, exactly as bench.sh does (same data key in .data/bench/secrets).
# Settings (environment): BENCH_MEMBERS (1000000), BENCH_ORGS (60000), BENCH_PG_DIR, BENCH_PG_PORT,
# BENCH_STATS_BIND (127.0.0.1:18083), BENCH_PEER_ROWS (every row: rows the Python peer writes; its
# rate is per row), BENCH_BUILD (1; 0 uses the binaries already built), BENCH_DOC (docs/benchmarks.md;
# empty leaves the document alone).
# To try it small without touching the 1M database:
#   BENCH_MEMBERS=20000 BENCH_ORGS=1200 BENCH_PG_DIR=.data/pg-bench-small BENCH_PG_PORT=54331 BENCH_DOC= scripts/bench-stats.sh
set -euo pipefail
cd "$(dirname "$0")/.."

MEMBERS=${BENCH_MEMBERS:-1000000}
ORGS=${BENCH_ORGS:-60000}
PG_DIR=${BENCH_PG_DIR:-.data/pg-bench}
PG_PORT=${BENCH_PG_PORT:-54330}
BIND=${BENCH_STATS_BIND:-127.0.0.1:18083}
DOC=${BENCH_DOC-docs/benchmarks.md}
ROOT_N=${BENCH_STATS_ROOT_N:-10}
BRANCH_N=${BENCH_STATS_BRANCH_N:-50}
REPORT_N=${BENCH_REPORT_N:-3}
DB=dangjian_bench
BIN=target/release/dangjian
GEN_WORK=.data/bench        # shared with bench.sh: the data key, the generator's log and time
WORK=.data/bench-stats
# The export's 20 columns (of its 22: all but 党龄 and 外部编号), in its order, as the peers write
# them: the export's column key, the header label, the SQL (Chinese values where the export shows
# labels) and the kind of cell (s text, d date).
COLUMNS=(
    "name|姓名|p.name|s"
    "gender|性别|CASE p.gender WHEN 'female' THEN '女' ELSE '男' END|s"
    "id_number|公民身份号码|p.id_number_masked|s"
    "ethnicity|民族|p.ethnicity|s"
    "birth_date|出生日期|p.birth_date|d"
    "native_place|籍贯|p.native_place|s"
    "education|学历|p.education|s"
    "degree|学位|p.degree|s"
    "job_category|工作岗位|p.job_category|s"
    "post|职务|p.post|s"
    "title|职称|p.title|s"
    "phone|手机号码|p.phone_masked|s"
    "work_started_on|参加工作日期|p.work_started_on|d"
    "category|人员类别|CASE m.category WHEN 'probationary' THEN '预备党员' ELSE '正式党员' END|s"
    "org_name|所在党组织|o.name|s"
    "joined_at|入党日期|m.joined_at|d"
    "full_member_at|转正日期|m.full_member_at|d"
    "status|党籍状态|CASE m.status WHEN 'suspended' THEN '停止党籍' WHEN 'left' THEN '出党' WHEN 'deceased' THEN '死亡' ELSE '正常' END|s"
    "is_flowing|流动党员|CASE WHEN m.is_flowing THEN '是' ELSE '否' END|s"
    "lost_contact|失联党员|CASE WHEN m.lost_contact THEN '是' ELSE '否' END|s"
)
# The targets from the issue.
TARGET_ROOT_S=1          # structure of the root, seconds
TARGET_BRANCH_MS=50      # structure of one branch, milliseconds
TARGET_REPORT_S=10       # annual report of the root, seconds
TARGET_VS_PY=4           # export at least 4x Python XlsxWriter's rate
TARGET_VS_RUST=0.70      # export at least 70% of the bare rust_xlsxwriter rate
TARGET_MB=150            # server peak memory during the export

say() { printf 'bench-stats: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
for tool in psql pgbench curl python3; do command -v "$tool" >/dev/null || die "$tool not found"; done

mkdir -p "$WORK" "$GEN_WORK"
WORK=$(cd "$WORK" && pwd -P)
GEN_WORK=$(cd "$GEN_WORK" && pwd -P)
export DANGJIAN_DATA_DIR=$GEN_WORK/secrets

# Python's XlsxWriter, in a venv of its own, installed once.
VENV=$GEN_WORK/venv
if ! "$VENV/bin/python" -c 'import xlsxwriter' 2>/dev/null; then
    say "installing XlsxWriter into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet XlsxWriter
fi
PY_XLSX_VERSION=$("$VENV/bin/python" -c 'import xlsxwriter; print(xlsxwriter.__version__)')

scripts/pg.sh start "$PG_DIR" "$PG_PORT" fast >/dev/null
URL=$(scripts/pg.sh createdb "$PG_PORT" "$DB")
export DATABASE_URL=$URL
PSQL=(psql -X -q -At -v ON_ERROR_STOP=1 "$URL")

if [[ ${BENCH_BUILD:-1} != 0 ]]; then
    say "building the release binary and the rust_xlsxwriter ceiling"
    cargo build --release --quiet --bin dangjian --example xlsx_ceiling
fi
"$BIN" migrate >/dev/null

have=$("${PSQL[@]}" -c "SELECT count(*) FROM members")
if [[ $have == 0 ]]; then
    say "generating $MEMBERS members in $ORGS orgs (once; later runs of bench.sh and this script reuse them)"
    start=$(date +%s.%N)
    "$BIN" gen --members "$MEMBERS" --orgs "$ORGS" 2>&1 | tee "$GEN_WORK/gen.log" >&2
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.0f}')" >"$GEN_WORK/gen.seconds"
    "${PSQL[@]}" -c "ANALYZE"
elif [[ $have != "$MEMBERS" ]]; then
    say "note: $DB holds $have members, not $MEMBERS; using them (drop the database to regenerate)"
fi

read -r N_ORGS N_MEMBERS < <("${PSQL[@]}" -F ' ' -c "SELECT (SELECT count(*) FROM orgs), (SELECT count(*) FROM members)")
ROOT=$("${PSQL[@]}" -c "SELECT id FROM orgs WHERE parent_id IS NULL ORDER BY id LIMIT 1")
# The branch whose subtree (its party groups included) holds the most members: the slowest branch.
read -r BRANCH BRANCH_CODE BRANCH_MEMBERS < <("${PSQL[@]}" -F ' ' -c "
    SELECT b.id, b.code, count(m.person_id) FROM orgs b JOIN org_closure c ON c.ancestor_id = b.id
    JOIN members m ON m.org_id = c.descendant_id WHERE b.kind = 'branch'
    GROUP BY b.id, b.code ORDER BY count(m.person_id) DESC, b.id LIMIT 1")
AS_OF="$(( $(date -u +%Y) - 1 ))-12-31"   # the last year end, the date of the annual report
say "root org $ROOT, branch $BRANCH_CODE (id $BRANCH, $BRANCH_MEMBERS members); $N_MEMBERS members, $N_ORGS orgs; as of $AS_OF"

SERVER_PID=""
cleanup() {
    if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT
# As `make run` and the container start it: freed pages go back to the system at once.
env BIND=$BIND RUST_LOG=${BENCH_RUST_LOG:-warn} MIMALLOC_PURGE_DELAY=0 "$BIN" serve >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -sf -o /dev/null "http://$BIND/api/v1/openapi.json" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; die "the server exited"; }
    sleep 0.2
done
rss_mb() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER_PID/status"; }
hwm_mb() { awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER_PID/status"; }
IDLE_MB=$(rss_mb)
TOKEN=$(curl -sf -X POST "http://$BIND/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"username":"bench_admin","password":"Bench-2026"}' | python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])') ||
    die "login as bench_admin failed (see $WORK/serve.log)"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------
# 1. GET /stats/structure beside the same counting in SQL, in ROUNDS alternating rounds (API, then
#    SQL), so that whatever else the machine is doing weighs on both alike.
ROUNDS=5
# The API: a keep-alive client (Python standard library), one warm-up request, then n timed ones;
# prints "status total ms ms ...", or "status" alone when the answer is not 200.
api_round() { # org n
    python3 - "$BIND" "$TOKEN" "$1" "$AS_OF" "$2" <<'PY'
import http.client, json, sys, time
bind, token, org, as_of, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
host, port = bind.rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port), timeout=300)
path = f"/api/v1/stats/structure?org_id={org}&as_of={as_of}"
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
out = [str(status), str(json.loads(body)["total"])]
for _ in range(n):
    status, body, t = get()
    if status != 200:
        sys.exit(f"structure answered {status}: {body[:300]!r}")
    out.append(f"{t:.2f}")
print(" ".join(out))
PY
}
# The same counting in plain SQL, in the cheapest form found: the members held in the subtree on
# the date with status normal, from the dated history alone (its rows carry the person's and the
# membership's attributes), counted by the combination of every dimension's value in one plain
# GROUP BY (a few thousand rows, which a client sums per dimension; unlike GROUPING SETS it runs
# in parallel workers), bands as date thresholds (2023 bulletin); then the subtree's orgs existing
# on the date: each branch with its full members counted up to 3 (the alert's threshold), the
# other kinds by count. Custom plans (as the endpoint's) fold the thresholds into constants, as
# long as every function on the way is immutable (date_trunc on a date is not: it goes through
# timestamptz, and was evaluated twice per row); a CTE for them would be parallel-restricted and
# cost the scan its parallel workers.
cat >"$WORK/structure.sql" <<'SQL'
SELECT h.category, h.gender,
       CASE WHEN nullif(h.ethnicity, '') IS NULL THEN NULL WHEN h.ethnicity = '汉族' THEN 'han' ELSE 'minority' END AS ethnic_group,
       nullif(h.education, '') AS education, nullif(h.job_category, '') AS job_category,
       CASE WHEN h.birth_date <= :as_of::date THEN width_bucket(h.birth_date, ARRAY[:as_of::date - 61 * 365, :as_of::date - 56 * 365,
            :as_of::date - 51 * 365, :as_of::date - 46 * 365, :as_of::date - 41 * 365, :as_of::date - 36 * 365, :as_of::date - 31 * 365]) END AS age_b,
       width_bucket(h.joined_at, ARRAY[DATE '1949-10-01', DATE '1979-01-01', DATE '2012-11-01']) AS period_b,
       CASE WHEN h.category <> 'full' THEN -1
            WHEN h.full_member_at <= :as_of::date THEN width_bucket(h.full_member_at, ARRAY[:as_of::date - 50 * 365,
                 :as_of::date - 40 * 365, :as_of::date - 30 * 365, :as_of::date - 20 * 365, :as_of::date - 10 * 365]) END AS standing_b,
       count(*),
       count(*) FILTER (WHERE h.joined_at BETWEEN make_date(extract(year FROM :as_of::date)::int, 1, 1) AND :as_of::date),
       count(*) FILTER (WHERE h.full_member_at BETWEEN make_date(extract(year FROM :as_of::date)::int, 1, 1) AND :as_of::date)
  FROM org_closure c
  JOIN member_history h ON h.org_id = c.descendant_id
 WHERE c.ancestor_id = :org AND h.status = 'normal'
   AND h.valid_from <= :as_of::date AND (h.valid_to IS NULL OR h.valid_to > :as_of::date)
 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
WITH sub AS (
    SELECT o.id, o.kind, o.term_end
      FROM org_closure c JOIN orgs o ON o.id = c.descendant_id
     WHERE c.ancestor_id = :org AND (o.founded_on IS NULL OR o.founded_on <= :as_of::date)
       AND (o.dissolved_on IS NULL OR o.dissolved_on > :as_of::date))
SELECT s.id, s.kind, s.term_end < :as_of::date AS expired,
       (SELECT count(*) FROM (SELECT FROM org_closure g JOIN member_history h ON h.org_id = g.descendant_id
                               WHERE g.ancestor_id = s.id AND h.status = 'normal' AND h.category = 'full'
                                 AND h.valid_from <= :as_of::date AND (h.valid_to IS NULL OR h.valid_to > :as_of::date)
                               LIMIT 3) f) AS full_n
  FROM sub s WHERE s.kind = 'branch'
UNION ALL
SELECT 0, kind, NULL, count(*) FROM sub WHERE kind <> 'branch' GROUP BY kind;
SQL
# The SQL: pgbench, one client, prepared, n + 1 transactions of which the first (parse and plan,
# as the server's first use of a statement on a connection) is dropped; with the session settings
# the endpoint's transaction sets (no JIT, 64 MB work_mem, custom plans, random_page_cost 1.1); prints "ms ms ...".
sql_round() { # org n
    rm -f "$WORK"/pgbench_log.*
    (cd "$WORK" && PGOPTIONS="-c jit=off -c work_mem=64MB -c plan_cache_mode=force_custom_plan -c random_page_cost=1.1" pgbench -n -M prepared -c 1 -t $(($2 + 1)) -f "$WORK/structure.sql" -D "org=$1" -D "as_of=$AS_OF" \
        -l --log-prefix=pgbench_log "$URL" >"$WORK/pgbench.txt" 2>&1) || { cat "$WORK/pgbench.txt" >&2; die "pgbench failed"; }
    tail -q -n +2 "$WORK"/pgbench_log.* | awk '{ printf "%.2f ", $3 / 1000 } END { print "" }'
    rm -f "$WORK"/pgbench_log.*
}
median_p95() { # ms ...: prints "median p95" (p95 by nearest rank)
    python3 -c "
import math, statistics, sys
v = sorted(float(x) for x in sys.argv[1:])
print(f'{statistics.median(v):.1f} {v[math.ceil(0.95 * len(v)) - 1]:.1f}')" "$@"
}
measure_structure() { # org n label: sets API_MED API_P95 API_TOTAL SQL_MED SQL_P95
    local org=$1 k=$(( ($2 + ROUNDS - 1) / ROUNDS )) api=() sql=() r line
    API_MED=missing API_P95="" API_TOTAL=""
    for r in $(seq 1 "$ROUNDS"); do
        if [[ -z $API_P95 ]]; then   # not answered other than 200 so far
            read -r -a line < <(api_round "$org" "$k")
            if [[ ${line[0]} == 200 ]]; then API_TOTAL=${line[1]}; api+=("${line[@]:2}"); else API_P95=${line[0]}; fi
        fi
        read -r -a line < <(sql_round "$org" "$k")
        sql+=("${line[@]}")
    done
    if (( ${#api[@]} )); then read -r API_MED API_P95 < <(median_p95 "${api[@]}"); fi
    read -r SQL_MED SQL_P95 < <(median_p95 "${sql[@]}")
    say "$3: API ${API_MED} ms (p95 ${API_P95}) over ${#api[@]} requests; SQL ${SQL_MED} ms (p95 ${SQL_P95}) over ${#sql[@]}"
}
count_held() { # org: members held in the subtree on AS_OF with status normal, by plain SQL
    "${PSQL[@]}" -c "SELECT count(*) FROM org_closure c JOIN member_history h ON h.org_id = c.descendant_id
        AND h.status = 'normal' AND h.valid_from <= DATE '$AS_OF' AND (h.valid_to IS NULL OR h.valid_to > DATE '$AS_OF') WHERE c.ancestor_id = $1"
}
SQL_TOTAL_ROOT=$(count_held "$ROOT")
SQL_TOTAL_BRANCH=$(count_held "$BRANCH")

say "structure of the root: $ROOT_N requests and as many SQL runs, in $ROUNDS rounds"
measure_structure "$ROOT" "$ROOT_N" root
API_ROOT_MED=$API_MED API_ROOT_P95=$API_P95 API_ROOT_TOTAL=$API_TOTAL SQL_ROOT_MED=$SQL_MED SQL_ROOT_P95=$SQL_P95
say "structure of branch $BRANCH_CODE: $BRANCH_N requests and as many SQL runs, in $ROUNDS rounds"
measure_structure "$BRANCH" "$BRANCH_N" branch
API_BR_MED=$API_MED API_BR_P95=$API_P95 API_BR_TOTAL=$API_TOTAL SQL_BR_MED=$SQL_MED SQL_BR_P95=$SQL_P95
for t in "$API_ROOT_TOTAL:$SQL_TOTAL_ROOT" "$API_BR_TOTAL:$SQL_TOTAL_BRANCH"; do
    [[ $API_ROOT_MED == missing || ${t%%:*} == "${t##*:}" ]] || say "warning: the API's total ${t%%:*} differs from the SQL count ${t##*:}"
done

# ---------------------------------------------------------------------------------------------
# 2. POST /reports/party-statistics for the root, annual, as XLSX, timed by curl.
REPORT_STATUS=""; REPORT_TIMES=()
say "annual report of the root: $REPORT_N requests"
for _ in $(seq 1 "$REPORT_N"); do
    read -r code secs < <(curl -sS -o "$WORK/report.xlsx" -w '%{http_code} %{time_total}\n' -X POST \
        "http://$BIND/api/v1/reports/party-statistics" -H "Authorization: Bearer $TOKEN" \
        -H 'content-type: application/json' \
        -H 'accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' \
        -d "{\"org_id\":$ROOT,\"as_of\":\"$AS_OF\",\"kind\":\"annual\"}")
    REPORT_STATUS=$code
    [[ $code == 200 ]] || break
    REPORT_TIMES+=("$secs")
done
if [[ $REPORT_STATUS == 200 ]]; then
    python3 -c "import zipfile, sys; zipfile.ZipFile(sys.argv[1]).testzip() is None or sys.exit('bad zip')" "$WORK/report.xlsx" ||
        die "the report is not a valid XLSX"
    read -r REPORT_MED REPORT_MAX < <(python3 -c "import statistics, sys; t = [float(x) for x in sys.argv[1:]]; print(f'{statistics.median(t):.2f} {max(t):.2f}')" "${REPORT_TIMES[@]}")
    REPORT_KB=$(( $(stat -c %s "$WORK/report.xlsx") / 1024 ))
    say "report: median ${REPORT_MED} s, slowest ${REPORT_MAX} s (${REPORT_KB} KB)"
else
    say "report: answered $REPORT_STATUS: $(head -c 300 "$WORK/report.xlsx")"
fi

# ---------------------------------------------------------------------------------------------
# 3. The roster export, its peers and its memory.
# The peers' rows: every member (or BENCH_PEER_ROWS of them for Python), in the order of the list.
select_list=""; KINDS=""; KEYS=""
for c in "${COLUMNS[@]}"; do
    IFS='|' read -r key label expr kind <<<"$c"
    select_list+="${select_list:+, }$expr AS \"$label\""
    KINDS+=$kind
    KEYS+="${KEYS:+,}$key"
done
say "the peers' rows: psql \\copy to CSV (not timed)"
"${PSQL[@]}" -c "\\copy (SELECT $select_list FROM members m JOIN people p ON p.id = m.person_id JOIN orgs o ON o.id = m.org_id ORDER BY m.org_id, m.person_id) TO '$WORK/roster.csv' WITH (FORMAT csv, HEADER)"
CSV_ROWS=$(( $(wc -l <"$WORK/roster.csv") - 1 ))
PEER_ROWS=${BENCH_PEER_ROWS:-$CSV_ROWS}
if (( PEER_ROWS < CSV_ROWS )); then head -n $((PEER_ROWS + 1)) "$WORK/roster.csv" >"$WORK/roster-py.csv"; else cp "$WORK/roster.csv" "$WORK/roster-py.csv"; fi

say "the ceiling: bare rust_xlsxwriter, $CSV_ROWS rows"
read -r RS_ROWS RS_S RS_RATE RS_BYTES < <(target/release/examples/xlsx_ceiling "$WORK/roster.csv" "$WORK/ceiling.xlsx" "$KINDS")
say "rust_xlsxwriter: $RS_RATE rows/s ($RS_S s)"

say "the peer: Python XlsxWriter $PY_XLSX_VERSION (constant_memory), $PEER_ROWS rows"
read -r PY_ROWS PY_S PY_RATE PY_BYTES < <("$VENV/bin/python" - "$WORK/roster-py.csv" "$WORK/python.xlsx" "$KINDS" <<'PY'
import csv, datetime, os, sys, time
import xlsxwriter
src, out, kinds = sys.argv[1], sys.argv[2], sys.argv[3]
# Read and convert everything before the clock starts: only the writing is measured.
seen = {}
rows = []
with open(src, newline="", encoding="utf-8") as f:
    reader = csv.reader(f)
    header = next(reader)
    for rec in reader:
        row = []
        for v, k in zip(rec, kinds):
            if v == "":
                row.append(None)
            elif k == "d":
                row.append(seen.get(v) or seen.setdefault(v, datetime.date.fromisoformat(v)))
            else:
                row.append(seen.setdefault(v, v))
        rows.append(row)
start = time.perf_counter()
wb = xlsxwriter.Workbook(out, {"constant_memory": True})
ws = wb.add_worksheet("花名册")
bold = wb.add_format({"bold": True})
date = wb.add_format({"num_format": "yyyy-mm-dd"})
for c, name in enumerate(header):
    ws.write_string(0, c, name, bold)
dates = [k == "d" for k in kinds]
for r, row in enumerate(rows, 1):
    for c, v in enumerate(row):
        if v is None:
            continue
        if dates[c]:
            ws.write_datetime(r, c, v, date)
        else:
            ws.write_string(r, c, v)
wb.close()
s = time.perf_counter() - start
print(f"{len(rows)} {s:.3f} {len(rows) / s:.0f} {os.path.getsize(out)}")
PY
)
say "XlsxWriter: $PY_RATE rows/s ($PY_S s)"

# The export: every member the caller reads (no filter), the peers' 20 columns, timed by curl; the
# server's VmHWM reset just before (clear_refs 5), and VmRSS sampled during the download too.
say "the export: GET /api/v1/members/export.xlsx"
HWM_RESET=yes
echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null || HWM_RESET=no
BEFORE_EXPORT_MB=$(rss_mb)
curl -sS -o "$WORK/export.xlsx" -w '%{http_code} %{time_total} %{time_starttransfer} %{size_download}\n' \
    "http://$BIND/api/v1/members/export.xlsx?columns=$KEYS" -H "Authorization: Bearer $TOKEN" >"$WORK/export.curl" &
CURL_PID=$!
SAMPLED_MB=0
while kill -0 "$CURL_PID" 2>/dev/null; do
    now=$(rss_mb); (( now > SAMPLED_MB )) && SAMPLED_MB=$now
    sleep 0.1
done
wait "$CURL_PID" || true
read -r EXPORT_STATUS EXPORT_S EXPORT_TTFB EXPORT_BYTES <"$WORK/export.curl"
EXPORT_PEAK_MB=$(hwm_mb)
if [[ $EXPORT_STATUS == 200 ]]; then
    # Rows and columns of the file as written (sheet XML read as a stream: it is large).
    read -r EXPORT_ROWS EXPORT_COLS < <(python3 - "$WORK/export.xlsx" <<'PY'
import re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
sheet = sorted(n for n in z.namelist() if n.startswith("xl/worksheets/sheet"))[0]
rows, cols, tail = 0, 0, b""
with z.open(sheet) as f:
    while chunk := f.read(1 << 20):
        buf = tail + chunk  # the last 4 bytes carried over: a tag split between chunks counts once
        rows += buf.count(b"<row ")
        tail = buf[-4:]
        if not cols and b"</row>" in buf:
            cols = max(len(re.findall(rb"<c ", r)) for r in buf.split(b"</row>")[:3])
print(rows, cols)
PY
)
    # Members per second: the sheet's rows less its header and watermark rows.
    EXPORT_MEMBERS=$(( EXPORT_ROWS < N_MEMBERS ? EXPORT_ROWS : N_MEMBERS ))
    EXPORT_RATE=$(python3 -c "print(f'{$EXPORT_MEMBERS / $EXPORT_S:.0f}')")
    say "export: $EXPORT_ROWS sheet rows, $EXPORT_COLS columns, ${EXPORT_S} s (first byte after ${EXPORT_TTFB} s), $EXPORT_RATE members/s; peak ${EXPORT_PEAK_MB} MB"
else
    say "export: answered $EXPORT_STATUS: $(head -c 300 "$WORK/export.xlsx")"
fi

# ---------------------------------------------------------------------------------------------
[[ -n $DOC ]] || exit 0
ok() { python3 -c "print('yes' if $1 else 'no')"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
fmt() { python3 -c "print(f'{float($1):,.0f}')"; }
mb() { python3 -c "print(f'{$1 / 1048576:.1f}')"; }
CPU=$(sed -n 's/^model name\s*:\s*//p' /proc/cpuinfo | head -n1)
PG_VERSION=$("${PSQL[@]}" -c "SHOW server_version" | awk '{print $1}')
GEN_SECONDS=$(cat "$GEN_WORK/gen.seconds" 2>/dev/null || echo "?")
if [[ $API_ROOT_MED == missing ]]; then
    STRUCT_ROWS="| \`GET /stats/structure\` | missing: answered $API_ROOT_P95 | | | | | | |"
else
    STRUCT_ROWS="| root (id $ROOT), $ROOT_N requests | $API_ROOT_MED ms | $API_ROOT_P95 ms | $SQL_ROOT_MED ms | $SQL_ROOT_P95 ms | $(ratio "$API_ROOT_MED" "$SQL_ROOT_MED")× | < ${TARGET_ROOT_S} s | $(ok "$API_ROOT_P95 < $TARGET_ROOT_S * 1000") |
| branch $BRANCH_CODE (id $BRANCH, $BRANCH_MEMBERS members), $BRANCH_N requests | $API_BR_MED ms | $API_BR_P95 ms | $SQL_BR_MED ms | $SQL_BR_P95 ms | $(ratio "$API_BR_MED" "$SQL_BR_MED")× | < ${TARGET_BRANCH_MS} ms | $(ok "$API_BR_P95 < $TARGET_BRANCH_MS") |"
    STRUCT_NOTE="Totals: the API counted $API_ROOT_TOTAL (root) and $API_BR_TOTAL (branch) members; the SQL, $SQL_TOTAL_ROOT and $SQL_TOTAL_BRANCH."
fi
if [[ $REPORT_STATUS == 200 ]]; then
    REPORT_ROW="| annual report of the root, XLSX ($REPORT_KB KB), $REPORT_N requests | $REPORT_MED s | $REPORT_MAX s | < ${TARGET_REPORT_S} s | $(ok "$REPORT_MAX < $TARGET_REPORT_S") |"
else
    REPORT_ROW="| \`POST /reports/party-statistics\` | missing: answered $REPORT_STATUS | | | |"
fi
if [[ $EXPORT_STATUS == 200 ]]; then
    EXPORT_ROWS_MD="| \`GET /members/export.xlsx\`, all members, 20 columns: $EXPORT_ROWS sheet rows × $EXPORT_COLS columns, $(mb "$EXPORT_BYTES") MB | $EXPORT_MEMBERS | $EXPORT_S | **$(fmt "$EXPORT_RATE")** | | |
| peer: Python XlsxWriter $PY_XLSX_VERSION, \`constant_memory\`, the same 20 columns, $(mb "$PY_BYTES") MB | $PY_ROWS | $PY_S | $(fmt "$PY_RATE") | export ≥ ${TARGET_VS_PY}× its rate: $(ratio "$EXPORT_RATE" "$PY_RATE")× | $(ok "$EXPORT_RATE >= $TARGET_VS_PY * $PY_RATE") |
| ceiling: bare rust_xlsxwriter loop, constant-memory sheet, no database, no HTTP, $(mb "$RS_BYTES") MB | $RS_ROWS | $RS_S | $(fmt "$RS_RATE") | export ≥ $(python3 -c "print(int($TARGET_VS_RUST * 100))")% of its rate: $(python3 -c "print(round(100 * $EXPORT_RATE / $RS_RATE))")% | $(ok "$EXPORT_RATE >= $TARGET_VS_RUST * $RS_RATE") |"
    MEM_LINE="Server memory: ${IDLE_MB} MB idle, ${BEFORE_EXPORT_MB} MB before the export; peak during the export **${EXPORT_PEAK_MB} MB** (VmHWM$( [[ $HWM_RESET == yes ]] && echo ", reset just before it" || echo " since start: could not reset it"); the highest VmRSS sampled every 0.1 s: ${SAMPLED_MB} MB); target < ${TARGET_MB} MB: **$(ok "$EXPORT_PEAK_MB < $TARGET_MB")**. First byte after ${EXPORT_TTFB} s."
else
    EXPORT_ROWS_MD="| \`GET /members/export.xlsx\` | missing: answered $EXPORT_STATUS | | | | |
| peer: Python XlsxWriter $PY_XLSX_VERSION, \`constant_memory\`, the same 20 columns | $PY_ROWS | $PY_S | $(fmt "$PY_RATE") | | |
| ceiling: bare rust_xlsxwriter loop, constant-memory sheet, no database, no HTTP | $RS_ROWS | $RS_S | $(fmt "$RS_RATE") | | |"
    MEM_LINE="Server memory: ${IDLE_MB} MB idle."
fi
section=$(mktemp)
cat >"$section" <<EOF
<!-- bench-stats:begin (written by scripts/bench-stats.sh; edit the script, not this section) -->
## Statistics, annual report and roster export: latest run

| | |
|---|---|
| date | $(date -u '+%Y-%m-%d %H:%M UTC') |
| machine | $(nproc) cores ($CPU); the clients, the server and PostgreSQL $PG_VERSION (\`fast\` mode) share them; load average before the run: $LOAD_BEFORE |
| data | $DB: $N_ORGS orgs, $N_MEMBERS members from \`dangjian gen --members $MEMBERS --orgs $ORGS\` (generated in ${GEN_SECONDS} s), shared with the member-list benchmark |
| code | commit $(git rev-parse --short HEAD 2>/dev/null || echo ?)$(git diff --quiet HEAD -- backend 2>/dev/null || echo ' plus uncommitted changes in backend/'), release build |
| caller | \`bench_admin\` (political_dept, whole institution); as of $AS_OF (the last year end) |

**Structure statistics** (\`GET /api/v1/stats/structure?org_id=…&as_of=$AS_OF\`, one keep-alive
connection, one warm-up request per round) beside the same counting in plain SQL (pgbench, one
client, prepared, with the session settings the endpoint's transaction sets: \`jit=off\`, 64 MB
\`work_mem\`, custom plans, \`random_page_cost=1.1\`): the subtree's history rows on the date counted
by the combination of all dimensions in one plain \`GROUP BY\`, then the subtree's orgs with each
branch's full members counted up to 3. API and SQL alternate in $ROUNDS rounds, so other load on the
machine weighs on both alike.

| org | API median | API p95 | SQL median | SQL p95 | API / SQL | target (p95) | met |
|---|---:|---:|---:|---:|---:|---|---|
$STRUCT_ROWS

${STRUCT_NOTE:-}

**Annual report** (\`POST /api/v1/reports/party-statistics\`, \`{org_id: root, as_of: $AS_OF, kind: annual}\`,
\`Accept\` XLSX; timed by curl):

| | median | slowest | target | met |
|---|---:|---:|---|---|
$REPORT_ROW

**Roster export** (curl, to the last byte) beside its peer and its ceiling, which write the same
$CSV_ROWS members' 20 columns (text, and dates as Excel dates) read from the database by psql into a CSV
first and held in memory, so only their writing is timed:

| | rows | seconds | rows/s | ratio | met |
|---|---:|---:|---:|---|---|
$EXPORT_ROWS_MD

$MEM_LINE
<!-- bench-stats:end -->
EOF
scripts/bench-doc.py bench-stats "$DOC" "$section"
rm -f "$section"
say "wrote the figures to $DOC"
