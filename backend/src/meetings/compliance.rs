//! 分析提醒: which meetings each org of a subtree owed in each period and how many it held
//! (docs/domain.md, Organizational life: the usual frequencies, kept as per-organization settings).
//!
//! Counting rules (contract of issue 6):
//! - an org owes the kinds of [`super::rules`] (its org kind among the kind's org kinds; 支委会 only
//!   with a committee; frequency `none` owes nothing), `per_period` meetings per period;
//! - periods are calendar months, quarters, half years and years in the institution's local time;
//!   a period counts once it has started (its first day <= today) and when it intersects [from, to];
//!   an org owes a period only if it existed through the whole period (founded on or before its
//!   first day, not dissolved by its last);
//! - held = meetings of that org and kind with status `held` whose local start date is in the
//!   period (planned and cancelled ones do not count);
//! - state: `ok` when held >= required, else `missing` when the period ended before today, else
//!   `due` (running; `days_left` to its last day, `due_soon` within 7 days).
//!
//! Speed: the rules come from [`super::rules::rules_for_subtree`] (four statements); the held
//! meetings from one grouped statement (org, kind, local month) over the subtree's held meetings in
//! the periods' range; the expected rows are generated in Rust, in the answer's order, and only the
//! requested page is materialized (the root of 60,000 orgs owes about 2 million rows a year).

use std::collections::HashMap;

use actix_web::{HttpResponse, get, web};
use chrono::{Datelike, Months, NaiveDate};
use diesel::QueryableByName;
use diesel::sql_query;
use diesel::sql_types::{Array, Int4, Int8, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::rules::{self, EffectiveRule, Frequency, OrgRules, RuleSet};
use crate::AppState;
use crate::auth::Actor;
use crate::clock::Clock;
use crate::db::DbPool;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiQuery;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(meetings_compliance);
}

/// Due rows ending within this many days are "due soon".
pub const DUE_SOON_DAYS: i64 = 7;

/// The longest range asked at once.
const MAX_RANGE_MONTHS: u32 = 36;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Held at least the required number.
    Ok,
    /// The period ended with fewer held than required.
    Missing,
    /// The period is running and fewer have been held so far.
    Due,
}

/// One period of a frequency: label (`2026-03`, `2026-Q1`, `2026-H1`, `2026`), first and last day,
/// and its months as indexes (year * 12 + month0), `m0..m1`.
#[derive(Debug, Clone)]
pub struct Period {
    pub label: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub m0: i32,
    pub m1: i32,
}

fn month_index(d: NaiveDate) -> i32 {
    d.year() * 12 + d.month0() as i32
}

fn first_of(mi: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(mi.div_euclid(12), mi.rem_euclid(12) as u32 + 1, 1)
}

/// The periods of `f` that intersect [from, to] and have started by `today`.
pub fn periods(f: Frequency, from: NaiveDate, to: NaiveDate, today: NaiveDate) -> Vec<Period> {
    let Some(len) = f.months() else { return Vec::new() };
    let len = len as i32;
    let last = month_index(to.min(today));
    let mut mi = month_index(from);
    mi -= mi.rem_euclid(12) % len;
    let mut out = Vec::new();
    while mi <= last {
        let (Some(start), Some(next)) = (first_of(mi), first_of(mi + len)) else { break };
        let Some(end) = next.pred_opt() else { break };
        let year = start.year();
        let nth = start.month0() as i32 / len + 1;
        let label = match f {
            Frequency::Month => format!("{year}-{:02}", start.month()),
            Frequency::Quarter => format!("{year}-Q{nth}"),
            Frequency::HalfYear => format!("{year}-H{nth}"),
            _ => format!("{year}"),
        };
        if start <= today && end >= from && start <= to {
            out.push(Period { label, start, end, m0: mi, m1: mi + len });
        }
        mi += len;
    }
    out
}

/// The institution's months from `lo`'s to `hi`'s, as the instants they start: an instant's
/// month is then a binary search among a few dozen instants rather than a time zone conversion
/// per meeting (3.6 million at the root over three years), and exact across summer time too.
struct MonthStarts {
    first: i32,
    starts: Vec<i64>,
}

impl MonthStarts {
    fn new(clock: &Clock, lo: NaiveDate, hi: NaiveDate) -> MonthStarts {
        let (first, last) = (month_index(lo), month_index(hi) + 1);
        let starts = (first..=last).filter_map(first_of).map(|d| clock.midnight(d).timestamp()).collect();
        MonthStarts { first, starts }
    }

    /// The month index of an instant (Unix seconds) inside the range.
    fn of(&self, secs: i64) -> Option<i32> {
        let after = self.starts.partition_point(|&s| s <= secs);
        let i = i32::try_from(after.checked_sub(1)?).ok()?;
        (after < self.starts.len()).then_some(self.first + i)
    }
}

#[derive(QueryableByName)]
struct HeldRow {
    #[diesel(sql_type = Int8)]
    org_id: i64,
    /// 1-based positions in the kinds' codes ($4), 0 for a kind not there.
    #[diesel(sql_type = Array<Int4>)]
    kinds: Vec<i32>,
    /// Unix seconds of each meeting's start, in the order of `kinds`.
    #[diesel(sql_type = Array<Int8>)]
    starts: Vec<i64>,
}

/// Held meetings of the subtree of $1 starting in [$2, $3), by org: the kind (position in $4) and
/// start of each; the local month is computed in Rust.
///
/// Nearly every org holds about one meeting of a kind a month, so grouping by month as well hardly
/// groups at all (1.06 million groups for the root of 60,000 orgs over a year: a hash aggregate
/// that spilled, 1.5-2 s on an idle machine). Grouped by org (57,000 groups) in the order of the
/// meetings_org_kind_time index, merge-joined to the closure's rows of the subtree (also ordered by
/// org), it is a streaming GroupAggregate with no hash table and no per-row date arithmetic
/// ([`Analysis::load`] turns hash aggregation off for it; 1.3 s against 2.6 s for the
/// per-(org, kind, month) form, both under a load of 10 on 2 cores). A committee: a nested loop
/// over the same index, a few ms.
const HELD_SQL: &str = "
    SELECT m.org_id,
           array_agg(coalesce(array_position($4::text[], m.kind), 0)) AS kinds,
           array_agg(date_part('epoch', m.starts_at)::int8) AS starts
      FROM org_closure c
      JOIN meetings m ON m.org_id = c.descendant_id
     WHERE c.ancestor_id = $1 AND m.status = 'held' AND m.starts_at >= $2 AND m.starts_at < $3
     GROUP BY m.org_id";

/// Held meetings by org: (kind index, local month index) of each, sorted, so a period's count
/// is two binary searches rather than a pass over all the org's meetings for every period.
pub struct Held(HashMap<i64, Vec<(usize, i32)>>);

impl Held {
    /// The held meetings of an org (one look-up per org, not per period).
    pub fn of(&self, org_id: i64) -> &[(usize, i32)] {
        self.0.get(&org_id).map_or(&[], Vec::as_slice)
    }
}

/// How many of an org's held meetings (sorted) are of the kind and in the period.
fn in_period(held: &[(usize, i32)], kind_ix: usize, p: &Period) -> i64 {
    let lo = held.partition_point(|&x| x < (kind_ix, p.m0));
    let hi = held.partition_point(|&x| x < (kind_ix, p.m1));
    (hi - lo) as i64
}

async fn load_held(conn: &mut AsyncPgConnection, clock: &Clock, codes: &[String], root: i64, from: NaiveDate, to: NaiveDate) -> Result<Held, AppError> {
    let months = MonthStarts::new(clock, from, to);
    let rows: Vec<HeldRow> = sql_query(HELD_SQL)
        .bind::<Int8, _>(root)
        .bind::<Timestamptz, _>(clock.midnight(from))
        .bind::<Timestamptz, _>(clock.midnight(to.succ_opt().unwrap_or(to)))
        .bind::<Array<Text>, _>(codes)
        .load(conn)
        .await?;
    let held = rows
        .into_iter()
        .map(|r| {
            let meetings = r.kinds.iter().zip(&r.starts).filter_map(|(&k, &secs)| Some((usize::try_from(k).ok()?.checked_sub(1)?, months.of(secs)?))).collect();
            (r.org_id, meetings)
        })
        .collect();
    Ok(Held(held))
}

/// The analyses' transaction: one consistent snapshot for their statements, read-only, with the
/// statistics' settings (crate::stats::queries: no JIT, whose compilation cost more than these
/// short statements, enough work_mem for the hash joins, index scans priced for a cached
/// database).
pub const SNAPSHOT: &str = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET LOCAL jit = off; \
    SET LOCAL work_mem = '64MB'; SET LOCAL random_page_cost = 1.1";

/// One expected row, as the generator hands it to its visitor.
pub struct Expected<'a> {
    pub org: &'a OrgRules,
    pub rule: &'a EffectiveRule,
    pub kind_ix: usize,
    pub period: &'a Period,
    pub required: i64,
    pub held: i64,
    pub state: State,
    /// Days to the period's last day, for due rows.
    pub days_left: Option<i64>,
}

/// The rules and held meetings of a subtree over [from, to], on `today`: everything the rows are
/// generated from ([`Analysis::each`]).
pub struct Analysis {
    pub set: RuleSet,
    pub held: Held,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub today: NaiveDate,
    periods: HashMap<Frequency, Vec<Period>>,
}

impl Analysis {
    /// Loads the rules of `root`'s subtree (on `conn`) and its held meetings in the periods that
    /// intersect [from, to] (on a second connection of `pool`, at the same time: at the root of
    /// 60,000 orgs each takes a few hundred ms, and PostgreSQL runs them on two cores), each in a
    /// read-only transaction with the statistics' settings. Two snapshots a moment apart: a
    /// meeting recorded in between may show in one and not the other, as on the next request.
    pub async fn load(pool: &DbPool, conn: &mut AsyncPgConnection, root: i64, from: NaiveDate, to: NaiveDate, clock: &Clock) -> Result<Analysis, AppError> {
        let today = clock.today();
        let periods: HashMap<Frequency, Vec<Period>> =
            [Frequency::Month, Frequency::Quarter, Frequency::HalfYear, Frequency::Year].into_iter().map(|f| (f, periods(f, from, to, today))).collect();
        // The held meetings of every period that counts: from the earliest period's first day to
        // the latest's last (a year kind widens [from, to] to whole years).
        let lo = periods.values().flatten().map(|p| p.start).min().unwrap_or(from);
        let hi = periods.values().flatten().map(|p| p.end).max().unwrap_or(to).min(today);
        let codes: Vec<String> = rules::load_kinds(conn).await?.into_iter().map(|k| k.code).collect();
        let mut other = crate::db::conn(pool).await?;
        let rules_part = conn.transaction::<_, AppError, _>(async move |conn| {
            conn.batch_execute(SNAPSHOT).await?;
            rules::rules_for_subtree(conn, root).await
        });
        let codes_ref = &codes;
        let held_part = other.transaction::<_, AppError, _>(async move |conn| {
            // The streaming aggregate of HELD_SQL.
            conn.batch_execute(SNAPSHOT).await?;
            conn.batch_execute("SET LOCAL enable_hashagg = off").await?;
            load_held(conn, clock, codes_ref, root, lo, hi).await
        });
        let (set, mut held) = futures_util::try_join!(rules_part, held_part)?;
        // Positions in `codes` to positions in the rule set's kinds (the same list, read apart).
        let remap: Vec<usize> = codes.iter().map(|c| set.kind_rank(c)).collect();
        for meetings in held.0.values_mut() {
            for m in meetings.iter_mut() {
                m.0 = remap.get(m.0).copied().unwrap_or(usize::MAX);
            }
            meetings.sort_unstable();
        }
        Ok(Analysis { set, held, from, to, today, periods })
    }

    /// The orgs in the answer's order: name, then id.
    pub fn orgs_by_name(&self) -> Vec<&OrgRules> {
        let mut orgs: Vec<&OrgRules> = self.set.orgs.iter().filter(|o| o.owed().next().is_some()).collect();
        orgs.sort_by(|a, b| a.name.cmp(&b.name).then(a.org_id.cmp(&b.org_id)));
        orgs
    }

    /// Calls `f` for each expected row of `org`: kinds in sort order, periods in time order.
    pub fn each_of<'a>(&'a self, org: &'a OrgRules, f: &mut impl FnMut(Expected<'a>)) {
        for rule in org.owed() {
            let kind_ix = self.set.kind_rank(&rule.kind);
            let Some(periods) = self.periods.get(&rule.frequency) else { continue };
            let held = self.held.of(org.org_id);
            for period in periods {
                if org.founded_on.is_some_and(|d| d > period.start) || org.dissolved_on.is_some_and(|d| d <= period.end) {
                    continue;
                }
                let required = i64::from(rule.per_period);
                let held_n = in_period(held, kind_ix, period);
                let (state, days_left) = if held_n >= required {
                    (State::Ok, None)
                } else if period.end < self.today {
                    (State::Missing, None)
                } else {
                    (State::Due, Some((period.end - self.today).num_days()))
                };
                f(Expected { org, rule, kind_ix, period, required, held: held_n, state, days_left });
            }
        }
    }
}

/// The default range and its checks: from = 1 January of this year, to = today; from <= to and at
/// most 3 years.
pub fn range(from: Option<NaiveDate>, to: Option<NaiveDate>, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), AppError> {
    let to = to.unwrap_or(today);
    let from = from.unwrap_or_else(|| NaiveDate::from_ymd_opt(to.year(), 1, 1).unwrap_or(to));
    if from > to {
        return Err(AppError::field("from", "after_to", "from must not be after to", "开始日期不能晚于结束日期"));
    }
    if from.checked_add_months(Months::new(MAX_RANGE_MONTHS)).is_none_or(|max| to > max) {
        return Err(AppError::field("to", "range_too_long", "from and to may be at most 3 years apart", "起止日期相隔不能超过 3 年"));
    }
    Ok((from, to))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComplianceQuery {
    /// The org whose subtree is analysed (default: your single scope root).
    #[param(example = 3)]
    pub org_id: Option<i64>,
    /// First day (default 1 January of this year).
    #[param(example = "2026-01-01")]
    pub from: Option<NaiveDate>,
    /// Last day (default today; at most 3 years after from).
    #[param(example = "2026-06-30")]
    pub to: Option<NaiveDate>,
    /// Only this kind.
    #[param(example = "branch_committee_meeting")]
    pub kind: Option<String>,
    /// Only rows in this state (`due_soon`: due within 7 days).
    #[param(example = "missing", pattern = "^(ok|missing|due|due_soon)$")]
    pub state: Option<String>,
    /// 1-based page number, at most 100000.
    #[param(minimum = 1, maximum = 100_000, example = 1)]
    pub page: Option<i64>,
    /// Rows per page (default 500, at most 5000).
    #[param(minimum = 1, maximum = 5000, example = 500)]
    pub page_size: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"org_id": 12, "kind": "branch_committee_meeting", "org_name": "第一党支部", "period": "2026-03", "period_start": "2026-03-01", "period_end": "2026-03-31", "required": 1, "held": 0, "state": "missing", "days_left": null}))]
pub struct ComplianceItem {
    pub org_id: i64,
    pub org_name: String,
    pub kind: String,
    /// `2026-03` (month), `2026-Q1` (quarter), `2026-H1` (half year) or `2026` (year).
    pub period: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub required: i64,
    pub held: i64,
    pub state: State,
    /// Days left to the period's last day (due rows only).
    pub days_left: Option<i64>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct KindSummary {
    pub kind: String,
    pub name: String,
    pub ok: i64,
    pub missing: i64,
    pub due: i64,
}

/// Counts over all rows of the subtree and range (before the kind and state filters).
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ComplianceSummary {
    pub ok: i64,
    pub missing: i64,
    pub due: i64,
    /// Due rows with at most 7 days left.
    pub due_soon: i64,
    pub by_kind: Vec<KindSummary>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Compliance {
    pub org_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub today: NaiveDate,
    pub summary: ComplianceSummary,
    /// Ordered by org name, kind (sort order), period.
    pub items: Vec<ComplianceItem>,
    /// Rows matching kind and state.
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

impl ComplianceItem {
    pub fn from_expected(e: &Expected<'_>) -> ComplianceItem {
        ComplianceItem {
            org_id: e.org.org_id,
            org_name: e.org.name.clone(),
            kind: e.rule.kind.clone(),
            period: e.period.label.clone(),
            period_start: e.period.start,
            period_end: e.period.end,
            required: e.required,
            held: e.held,
            state: e.state,
            days_left: e.days_left,
        }
    }
}

/// The compliance rows of the analysis, filtered and paged, with the summary of all rows.
pub fn compliance(a: &Analysis, root: i64, kind: Option<&str>, state: Option<&str>, page: i64, page_size: i64) -> Compliance {
    let mut summary = ComplianceSummary {
        by_kind: a.set.kinds.iter().map(|k| KindSummary { kind: k.code.clone(), name: k.name.clone(), ..Default::default() }).collect(),
        ..Default::default()
    };
    let skip = (page - 1).saturating_mul(page_size);
    let mut total = 0i64;
    let mut items = Vec::new();
    for org in a.orgs_by_name() {
        a.each_of(org, &mut |e| {
            let soon = e.days_left.is_some_and(|d| d <= DUE_SOON_DAYS);
            let by_kind = &mut summary.by_kind[e.kind_ix];
            let (all, one) = match e.state {
                State::Ok => (&mut summary.ok, &mut by_kind.ok),
                State::Missing => (&mut summary.missing, &mut by_kind.missing),
                State::Due => (&mut summary.due, &mut by_kind.due),
            };
            *all += 1;
            *one += 1;
            summary.due_soon += i64::from(soon);
            let wanted = kind.is_none_or(|k| k == e.rule.kind)
                && match state {
                    None => true,
                    Some("due_soon") => soon,
                    Some(s) => s == state_str(e.state),
                };
            if wanted {
                if total >= skip && total < skip + page_size {
                    items.push(ComplianceItem::from_expected(&e));
                }
                total += 1;
            }
        });
    }
    summary.by_kind.retain(|k| k.ok + k.missing + k.due > 0);
    Compliance { org_id: root, from: a.from, to: a.to, today: a.today, summary, items, total, page, page_size }
}

fn state_str(s: State) -> &'static str {
    match s {
        State::Ok => "ok",
        State::Missing => "missing",
        State::Due => "due",
    }
}

/// Which meetings each org of the subtree owed and held, by kind and period (分析提醒).
#[utoipa::path(
    tag = "meetings",
    params(ComplianceQuery),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "One row per org, owed kind and started period; the summary counts all rows", body = Compliance),
        (status = 400, description = "A malformed parameter (named in the problem)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "org_id is outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such org_id; from after to; more than 3 years (`to`); bad state, kind or paging", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/meetings/compliance")]
pub async fn meetings_compliance(state: web::Data<AppState>, actor: Actor, query: ApiQuery<ComplianceQuery>) -> AppResult<HttpResponse> {
    let today = state.config.clock.today();
    let (from, to) = range(query.from, query.to, today)?;
    if let Some(s) = query.state.as_deref()
        && !["ok", "missing", "due", "due_soon"].contains(&s)
    {
        return Err(AppError::field("state", "invalid", "state must be ok, missing, due or due_soon", "状态须为 ok、missing、due 或 due_soon"));
    }
    let (page, page_size) = crate::http::PageParams::resolve_sized(query.page, query.page_size, 500, 5000)?;
    let (mut conn, org) = crate::stats::queries::target(&state.pool, &actor, query.org_id).await?;
    let a = Analysis::load(&state.pool, &mut conn, org.id, from, to, &state.config.clock).await?;
    if let Some(k) = query.kind.as_deref()
        && a.set.kind(k).is_none()
    {
        return Err(AppError::field("kind", "unknown", "no meeting kind has this code", "没有这种会议类型"));
    }
    let body = web::block(move || compliance(&a, org.id, query.kind.as_deref(), query.state.as_deref(), page, page_size))
        .await
        .map_err(|e| AppError::internal(e.to_string()))?;
    Ok(HttpResponse::Ok().json(body))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn periods_are_calendar_periods_that_started() {
        let labels = |f, from, to, today| periods(f, d(from), d(to), d(today)).into_iter().map(|p| p.label).collect::<Vec<_>>();
        assert_eq!(labels(Frequency::Month, "2025-01-15", "2025-03-01", "2030-01-01"), ["2025-01", "2025-02", "2025-03"]);
        assert_eq!(labels(Frequency::Quarter, "2025-02-01", "2025-12-31", "2025-07-01"), ["2025-Q1", "2025-Q2", "2025-Q3"]);
        assert_eq!(labels(Frequency::HalfYear, "2024-12-01", "2025-12-31", "2030-01-01"), ["2024-H2", "2025-H1", "2025-H2"]);
        assert_eq!(labels(Frequency::Year, "2025-06-01", "2026-01-01", "2030-01-01"), ["2025", "2026"]);
        let q = periods(Frequency::Quarter, d("2025-01-01"), d("2025-06-30"), d("2030-01-01"));
        assert_eq!((q[1].start, q[1].end), (d("2025-04-01"), d("2025-06-30")));
    }

    #[test]
    fn range_defaults_and_limits() {
        let today = d("2026-05-10");
        assert_eq!(range(None, None, today).unwrap(), (d("2026-01-01"), today));
        assert!(range(Some(d("2023-01-01")), Some(d("2026-01-01")), today).is_ok());
        assert!(range(Some(d("2023-01-01")), Some(d("2026-01-02")), today).is_err());
        assert!(range(Some(d("2026-02-01")), Some(d("2026-01-01")), today).is_err());
    }
}
