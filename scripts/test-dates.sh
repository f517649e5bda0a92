#!/usr/bin/env bash
# The date-sensitive tests at fixed dates and hours: a test whose outcome depends on today is a
# defect, so these run with the platform's clock started at each instant below (DANGJIAN_NOW,
# crate::clock: the test process, the application under test and the CLI it starts all read
# it; the database follows through its session, crate::db::session_sql). The process's own
# zone is set to UTC, as a server left in UTC would be; the institution's stays Asia/Shanghai.
#
#   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres scripts/test-dates.sh [instant ...]
set -euo pipefail
cd "$(dirname "$0")/.."

[[ -n ${TEST_DATABASE_URL:-} ]] || { echo "test-dates.sh: TEST_DATABASE_URL is not set (make test-dates sets it)" >&2; exit 1; }

# Each with the reason it is here (Beijing time in brackets).
instants=(
    "2027-01-01T02:00:00Z"  # 1 January (10:00): no meeting of the year held yet, last year's not archived
    "2028-02-29T04:00:00Z"  # 29 February of a leap year (12:00): a year back is 28 February
    "2027-03-01T03:00:00Z"  # 1 March (11:00): the day after February's end
    "2027-06-30T08:00:00Z"  # 30 June (16:00): the last day of a half year
    "2026-12-31T09:00:00Z"  # 31 December (17:00): the last day of the year
    "2026-12-31T17:30:00Z"  # 17:30 UTC on 31 December is 01:30 on 1 January in Beijing: a new year
    "2027-04-03T06:00:00Z"  # the first week of a month (14:00, Saturday 3 April)
)
(($#)) && instants=("$@")

# The tests that decide by date: demo data, meetings (planning, check-in windows, compliance
# periods, archives, study hours, officers' dates), statistics and reminders, members (党龄,
# probation), the report and the ledger.
tests=(cli meetings meeting_compliance meeting_checkin meeting_settings stats reminders members history_attributes reports ledger)
args=()
for t in "${tests[@]}"; do args+=(--test "$t"); done

cargo build --quiet --bin dangjian
cargo test --quiet -p dangjian "${args[@]}" --no-run

# Two instants at a time (the machine has two cores; much of a test's time is PostgreSQL's),
# each with its own log, shown when it ends.
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
run_at() { # INSTANT: the tests on the clock started there
    TZ=UTC DANGJIAN_NOW=$1 cargo test --quiet -p dangjian "${args[@]}" -- --skip gen_writes_meetings >"$logs/$1.log" 2>&1
}
failed=()
t0=$SECONDS
for ((i = 0; i < ${#instants[@]}; i += 2)); do
    pair=("${instants[@]:i:2}")
    pids=()
    for at in "${pair[@]}"; do run_at "$at" & pids+=($!); done
    for k in "${!pair[@]}"; do
        at=${pair[$k]}
        if wait "${pids[$k]}"; then
            echo "test-dates: $at passed ($(grep -c '^test result: ok' "$logs/$at.log") test binaries)"
        else
            echo "test-dates: $at FAILED:"
            grep -E -A12 '^failures:|panicked at' "$logs/$at.log" | head -n 80
            failed+=("$at")
        fi
    done
done

if ((${#failed[@]})); then
    echo "test-dates: failed at ${failed[*]} ($((SECONDS - t0)) s)" >&2
    exit 1
fi
echo "test-dates: all ${#instants[@]} instants passed in $((SECONDS - t0)) s"
