#!/usr/bin/env bash
# `make bench` (second part): the member import at the size issue 4 names. A generated roster of
# BENCH_IMPORT_ROWS (100,000) new members over BENCH_IMPORT_BRANCHES (2,000) branches, as XLSX, is
# uploaded to a release server: a dry run, then a commit. Beside it, in the same run, the
# ceiling: `COPY` of the very rows the commit wrote (exported to CSV) into `people` and `members`
# (their indexes, foreign keys and history trigger) of a copy of the database taken before the
# import, in a transaction rolled back. Also the server's peak memory (VmHWM). Writes the
# figures into docs/benchmarks.md between the `bench-import:begin` and `bench-import:end` markers.
#
# Data: a fresh database dangjian_import_bench on the benchmark cluster (.data/pg-bench, port
# 54330, `fast` mode), with an org tree from `dangjian gen --orgs` and a few members already in it.
# Settings: BENCH_IMPORT_ROWS, BENCH_IMPORT_BRANCHES, BENCH_PG_DIR, BENCH_PG_PORT, BENCH_IMPORT_BIND
# (127.0.0.1:18082), BENCH_DOC (docs/benchmarks.md; empty leaves the document alone).
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${BENCH_IMPORT_ROWS:-100000}
BRANCHES=${BENCH_IMPORT_BRANCHES:-2000}
PG_DIR=${BENCH_PG_DIR:-.data/pg-bench}
PG_PORT=${BENCH_PG_PORT:-54330}
BIND=${BENCH_IMPORT_BIND:-127.0.0.1:18082}
DOC=${BENCH_DOC-docs/benchmarks.md}
DB=dangjian_import_bench
BIN=target/release/dangjian
WORK=.data/bench-import
# The targets from the issue: dry run and commit each under 5 s, server memory under 200 MB,
# the commit within 4x of COPY.
TARGET_SECONDS=5
TARGET_MB=200
TARGET_RATIO=4

say() { printf 'bench-import: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
for tool in psql curl python3; do command -v "$tool" >/dev/null || die "$tool not found"; done

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd -P)
export DANGJIAN_DATA_DIR=$WORK/secrets

scripts/pg.sh start "$PG_DIR" "$PG_PORT" fast >/dev/null
ADMIN_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
psql -X -q -v ON_ERROR_STOP=1 "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
URL="postgres://postgres@127.0.0.1:$PG_PORT/$DB"
export DATABASE_URL=$URL
PSQL=(psql -X -q -At -v ON_ERROR_STOP=1 "$URL")

say "building the release binary"
cargo build --release --quiet --bin dangjian
"$BIN" migrate >/dev/null
# Enough orgs for BRANCHES branches, and some members already there, as in a live database.
"$BIN" gen --members 20000 --orgs $((BRANCHES * 5 / 2)) >"$WORK/gen.log" 2>&1 || { cat "$WORK/gen.log" >&2; die "dangjian gen failed"; }
# The database as the import finds it, kept for the COPY ceiling (the same tables, the same state).
psql -X -q -v ON_ERROR_STOP=1 "$ADMIN_URL" -c "DROP DATABASE IF EXISTS ${DB}_base" -c "CREATE DATABASE ${DB}_base TEMPLATE $DB" >/dev/null
"$BIN" gen-roster --rows "$ROWS" --branches "$BRANCHES" --out "$WORK/roster.xlsx" 2>&1 | tail -n1 >&2
FILE_MB=$(python3 -c "import os; print(f'{os.path.getsize(\"$WORK/roster.xlsx\") / 1048576:.1f}')")

SERVER_PID=""
cleanup() {
    if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT
# As `make run` and the container start it: freed pages go back to the system at once.
env BIND=$BIND RUST_LOG=${BENCH_RUST_LOG:-warn} MIMALLOC_PURGE_DELAY=0 ${BENCH_ENV:-} "$BIN" serve >"$WORK/serve.log" 2>&1 &
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

# One upload, timed by curl from the first byte sent to the last byte of the report received.
upload() { # dry_run out
    curl -sS -o "$2" -w '%{http_code} %{time_total}\n' -X POST \
        "http://$BIND/api/v1/imports/members?dry_run=$1&background=false" \
        -H "Authorization: Bearer $TOKEN" -F "file=@$WORK/roster.xlsx"
}
check_report() { # file expected_created committed
    python3 - "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
want, committed = int(sys.argv[2]), sys.argv[3] == "true"
ok = r.get("rows_read") == want and r.get("created") == want and r.get("invalid") == 0 and r.get("committed") == committed
if not ok:
    print(f"unexpected report: { {k: r.get(k) for k in ('rows_read', 'created', 'updated', 'invalid', 'committed')} } problems: {r.get('problems', [])[:3]}", file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}

BEFORE=$("${PSQL[@]}" -c "SELECT count(*) FROM members")
say "dry run of $ROWS rows ($FILE_MB MB)"
read -r CODE DRY_S < <(upload true "$WORK/dry.json")
[[ $CODE == 200 ]] || { cat "$WORK/dry.json" >&2; die "dry run answered $CODE"; }
check_report "$WORK/dry.json" "$ROWS" false || die "the dry run's report is wrong"
DRY_HWM=$(hwm_mb)
say "commit"
read -r CODE COMMIT_S < <(upload false "$WORK/commit.json")
[[ $CODE == 200 ]] || { cat "$WORK/commit.json" >&2; die "commit answered $CODE"; }
check_report "$WORK/commit.json" "$ROWS" true || die "the commit's report is wrong"
PEAK_MB=$(hwm_mb)
AFTER=$("${PSQL[@]}" -c "SELECT count(*) FROM members")
[[ $((AFTER - BEFORE)) == "$ROWS" ]] || die "members went from $BEFORE to $AFTER, not up by $ROWS"
IMPORT_ID=$(python3 -c "import json; print(json.load(open('$WORK/commit.json'))['import_id'])")
AUDITED=$("${PSQL[@]}" -c "SELECT count(*) FROM audit_log WHERE action = 'import' AND (after->>'import_id')::bigint = $IMPORT_ID")
HISTORY=$("${PSQL[@]}" -c "SELECT count(*) FROM member_history WHERE person_id > (SELECT max(person_id) FROM members) - $ROWS")
say "dry run ${DRY_S} s, commit ${COMMIT_S} s; audited $AUDITED, history rows $HISTORY; server peak ${PEAK_MB} MB"

# The sync at the same size: SYNC_ROWS new members through PUT /sync/members in batches of 5,000
# (the most a batch may hold), then the same batches again (every item unchanged).
SYNC_ROWS=${BENCH_SYNC_ROWS:-$ROWS}
"${PSQL[@]}" -c "SELECT code FROM orgs WHERE kind = 'branch' ORDER BY id LIMIT $BRANCHES" >"$WORK/branches.txt"
rm -f "$WORK"/sync-*.json
python3 - "$WORK" "$SYNC_ROWS" <<'PY'
import datetime, json, sys
work, rows = sys.argv[1], int(sys.argv[2])
codes = open(f"{work}/branches.txt").read().split()
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
def id_number(birth, seq, male):  # GB 11643, region 371326 (not among the generated members' regions)
    body = f"371326{birth:%Y%m%d}{seq:02d}{(2 * (seq % 5) + (1 if male else 0))}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, W)) % 11]
start = datetime.date(1960, 1, 1)
items = []
for i in range(rows):
    birth = start + datetime.timedelta(days=i % 14000)
    male = i % 2 == 0
    items.append({"external_id": f"SYNC-{i:07d}", "name": f"同步{i}", "gender": "male" if male else "female",
                  "id_number": id_number(birth, i // 14000, male), "birth_date": birth.isoformat(), "ethnicity": "汉族",
                  "education": "大学本科", "category": "full", "org_code": codes[i % len(codes)],
                  "joined_at": f"{birth.year + 25}-07-01", "full_member_at": f"{birth.year + 26}-07-01"})
for b in range(0, rows, 5000):
    json.dump({"items": items[b:b + 5000]}, open(f"{work}/sync-{b // 5000:03d}.json", "w"), ensure_ascii=False)
PY
sync_round() { # expect: created|unchanged; prints the seconds of all batches
    local total=0 f code secs
    for f in "$WORK"/sync-*.json; do
        read -r code secs < <(curl -sS -o "$WORK/sync.out" -w '%{http_code} %{time_total}\n' -X PUT "http://$BIND/api/v1/sync/members" \
            -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' --data-binary "@$f")
        [[ $code == 200 ]] || { head -c 2000 "$WORK/sync.out" >&2; die "sync answered $code"; }
        python3 -c "import json, sys; r = json.load(open('$WORK/sync.out')); n = len(json.load(open('$f'))['items']); sys.exit(0 if len(r['$1']) == n and not r['rejected'] else 1)" ||
            { head -c 2000 "$WORK/sync.out" >&2; die "sync: not every item $1"; }
        total=$(python3 -c "print($total + $secs)")
    done
    python3 -c "print(f'{$total:.2f}')"
}
say "sync of $SYNC_ROWS members in batches of 5,000"
SYNC_CREATE_S=$(sync_round created)
SYNC_AGAIN_S=$(sync_round unchanged)
SYNC_HWM=$(hwm_mb)
say "sync: created in ${SYNC_CREATE_S} s, unchanged in ${SYNC_AGAIN_S} s"

# The ceiling: the rows the commit wrote, exported as CSV and COPYed into the same tables of the
# database as it was before the import (a copy made then), in a transaction rolled back.
IDS="SELECT person_id FROM members ORDER BY person_id DESC LIMIT $ROWS"
"${PSQL[@]}" -c "\\copy (SELECT * FROM people WHERE id IN ($IDS) ORDER BY id) TO '$WORK/people.csv' WITH (FORMAT csv)"
"${PSQL[@]}" -c "\\copy (SELECT * FROM members WHERE person_id IN ($IDS) ORDER BY person_id) TO '$WORK/members.csv' WITH (FORMAT csv)"
COPY_OUT=$(psql -X -v ON_ERROR_STOP=1 "postgres://postgres@127.0.0.1:$PG_PORT/${DB}_base" <<SQL
BEGIN;
\\timing on
\\copy people FROM '$WORK/people.csv' WITH (FORMAT csv)
\\copy members FROM '$WORK/members.csv' WITH (FORMAT csv)
\\timing off
ROLLBACK;
SQL
)
COPY_S=$(printf '%s\n' "$COPY_OUT" | python3 -c '
import re, sys
ms = [float(m) for m in re.findall(r"Time: ([\d.]+) ms", sys.stdin.read())]
print(f"{sum(ms) / 1000:.2f}" if len(ms) == 2 else "nan")')
[[ $COPY_S != nan ]] || { printf '%s\n' "$COPY_OUT" >&2; die "could not time COPY"; }

RATIO=$(python3 -c "print(f'{$COMMIT_S / $COPY_S:.1f}')")
ok() { python3 -c "print('yes' if $1 else 'no')"; }
DRY_OK=$(ok "$DRY_S < $TARGET_SECONDS"); COMMIT_OK=$(ok "$COMMIT_S < $TARGET_SECONDS")
MEM_OK=$(ok "$PEAK_MB < $TARGET_MB"); RATIO_OK=$(ok "$RATIO <= $TARGET_RATIO")
say "COPY ${COPY_S} s; commit/COPY = ${RATIO}x"

[[ -n $DOC ]] || exit 0
CPU=$(sed -n 's/^model name\s*:\s*//p' /proc/cpuinfo | head -n1)
PG_VERSION=$("${PSQL[@]}" -c "SHOW server_version" | awk '{print $1}')
section=$(mktemp)
cat >"$section" <<EOF
<!-- bench-import:begin (written by scripts/bench-import.sh; edit the script, not this section) -->
## Member import: latest run

| | |
|---|---|
| date | $(date -u '+%Y-%m-%d %H:%M UTC') |
| machine | $(nproc) cores ($CPU); curl, the server and PostgreSQL $PG_VERSION (\`fast\` mode: fsync off, for both sides) share them |
| file | \`dangjian gen-roster --rows $ROWS --branches $BRANCHES\`: $ROWS new members, 14 columns, real Excel dates, $FILE_MB MB of XLSX |
| database | $DB: an org tree from \`dangjian gen --orgs $((BRANCHES * 5 / 2))\` with $BEFORE members already in it |
| request | \`POST /api/v1/imports/members?dry_run=…&background=false\` as \`bench_admin\`, timed by curl (upload to last byte of the report) |
| ceiling | \`COPY\` (psql \\copy, CSV) of the rows the commit wrote into \`people\` and \`members\` (their indexes, foreign keys and history trigger) of a copy of the database taken before the import |

| | seconds | rows/s | target | met |
|---|---:|---:|---|---|
| dry run (read, check every row, report) | $DRY_S | $(python3 -c "print(f'{$ROWS / $DRY_S:,.0f}')") | < $TARGET_SECONDS s | $DRY_OK |
| commit (read, check, write people + members + history + audit, one transaction) | $COMMIT_S | $(python3 -c "print(f'{$ROWS / $COMMIT_S:,.0f}')") | < $TARGET_SECONDS s | $COMMIT_OK |
| ceiling: \`COPY\` of the same rows from CSV into \`people\` and \`members\`, same run | $COPY_S | $(python3 -c "print(f'{$ROWS / $COPY_S:,.0f}')") | | |
| commit / COPY | ${RATIO}× | | ≤ ${TARGET_RATIO}× | $RATIO_OK |

Server memory: ${IDLE_MB} MB idle, peak ${DRY_HWM} MB after the dry run and ${PEAK_MB} MB after the commit
(VmHWM; target < $TARGET_MB MB: $MEM_OK). The commit wrote $AUDITED audit entries and $HISTORY history rows.

The sync, same run and server: $SYNC_ROWS further new members sent as \`PUT /api/v1/sync/members\` batches of
5,000 (the most a batch holds), one after another, each created and audited in its transaction:
**$SYNC_CREATE_S s** ($(python3 -c "print(f'{$SYNC_ROWS / $SYNC_CREATE_S:,.0f}')") members/s, beside the import commit's
$(python3 -c "print(f'{$ROWS / $COMMIT_S:,.0f}')")/s); the same batches again, every item unchanged: **$SYNC_AGAIN_S s**.
Server peak after the sync: $SYNC_HWM MB.
<!-- bench-import:end -->
EOF
scripts/bench-doc.py bench-import "$DOC" "$section"
rm -f "$section"
say "wrote the figures to $DOC"
