//! Statistics queries (docs/domain.md, Party statistics). Counting rules:
//! - a member counts on `as_of` where the membership is held on that date, with the category and
//!   status of that date, all from `member_history` (valid_from <= as_of < valid_to, or open);
//!   only status 正常 (`normal`) counts. The subtree comes from `org_closure`.
//! - education and job category are those of `as_of` too: they change over a member's life (a
//!   degree earned, a new post) and are historized like a move (a change closes the open history
//!   row at its effective date and opens a new one), so past rows keep the values of their time.
//! - gender, birth date, ethnicity and the dates of admission and full membership are facts: a
//!   change is a correction and is written to every history row of the person (a corrected birth
//!   date corrects past figures too). Age and 党龄 are computed at `as_of`, so a figure for a past
//!   date comes out the same when asked again later unless someone corrects those facts.
//! - the statements read all of these from the copies on the `member_history` rows, which triggers
//!   keep in step for every writer (migration 2026-11-30-053000; the open row always equals
//!   people/members): no join of the million people and memberships.
//! - new and made-full members (pipeline) should count where they were approved; the platform
//!   does not record that org yet, so they count where they are held on `as_of`.
//!
//! Each request scans the members of the subtree once: one statement counts them by the
//! combination of their dimensions' values (summed per dimension here); a second, narrow one reads
//! the orgs and the full members per branch from the history alone.

use std::collections::HashMap;

use chrono::{Datelike, Months, NaiveDate};

use diesel::pg::Pg;
use diesel::sql_types::{Array, BigInt, Date, Int4, Int8, Nullable, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use futures_util::future::BoxFuture;

use super::bands::{self, BandSet, YearBand};
use super::types::{
    Alerts, BandsUsed, BelowThreeFull, Bucket, BucketFilter, Dimensions, OrgCounts, OrgStats, OrgStatsItem, Pipeline, Structure, TermExpired, Trend, TrendPoint,
};
use crate::auth::Actor;
use crate::code_lists::{self, CodeItem};
use crate::error::AppError;
use crate::orgs::queries as orgs_q;
use crate::orgs::types::{OrgKind, OrgRow};

/// 大专及以上 (docs/domain.md, Party statistics): these education names.
pub const COLLEGE_OR_ABOVE: [&str; 3] = ["研究生", "大学本科", "大学专科"];

const UNKNOWN_LABEL: &str = "未填写";

/// The org a statistics request is about: `org_id`, or by default the actor's single scope root
/// (the institution's single top org for political_dept over everything). Only the org-managing
/// grants count (contract of issue 5): a member role sees no statistics.
pub async fn target_org(conn: &mut AsyncPgConnection, actor: &Actor, org_id: Option<i64>) -> Result<OrgRow, AppError> {
    let scope = actor.manage_scope();
    let id = match org_id {
        Some(id) => id,
        None if scope.org_roots.len() == 1 && !scope.all => scope.org_roots[0],
        None if scope.all => {
            use crate::schema::orgs;
            use diesel::{ExpressionMethods, QueryDsl};
            let tops: Vec<i64> = orgs::table.filter(orgs::parent_id.is_null()).select(orgs::id).limit(2).load(conn).await?;
            match tops.as_slice() {
                [one] => *one,
                _ => return Err(org_id_required()),
            }
        }
        None if scope.org_roots.is_empty() => return Err(AppError::out_of_scope()),
        None => return Err(org_id_required()),
    };
    let org = orgs_q::get_row(conn, id).await?.ok_or_else(|| AppError::field("org_id", "not_found", "no organization has this id", "该组织不存在"))?;
    if !orgs_q::manageable(conn, &scope, id, false).await? {
        return Err(AppError::out_of_scope());
    }
    Ok(org)
}

/// A statistics request's connection and org ([`target_org`]): one resolution and scope rule for
/// the statistics pages, the reminders and the statistical report. Callers check their other
/// parameters first, so that a malformed one is answered before the database is asked.
pub async fn target(pool: &crate::db::DbPool, actor: &Actor, org_id: Option<i64>) -> Result<(crate::db::PooledConn, OrgRow), AppError> {
    let mut conn = crate::db::conn(pool).await?;
    let org = target_org(&mut conn, actor, org_id).await?;
    Ok((conn, org))
}

fn org_id_required() -> AppError {
    AppError::field("org_id", "required", "your roles cover several organizations: choose one with org_id", "您的角色管理多个组织，请用 org_id 指定")
}

/// Dates after today have no figures yet (the open history rows would project today's state).
pub fn check_as_of(as_of: NaiveDate, today: NaiveDate) -> Result<(), AppError> {
    if as_of > today {
        return Err(AppError::field("as_of", "in_future", "as_of cannot be after today", "统计日期不能晚于今天"));
    }
    Ok(())
}

/// `as_of`, by default `today`, checked by [`check_as_of`].
pub fn as_of_or_today(as_of: Option<NaiveDate>, today: NaiveDate) -> Result<NaiveDate, AppError> {
    let as_of = as_of.unwrap_or(today);
    check_as_of(as_of, today)?;
    Ok(as_of)
}

fn years_before(d: NaiveDate, years: i32) -> Option<NaiveDate> {
    u32::try_from(years).ok().and_then(|y| d.checked_sub_months(Months::new(y.saturating_mul(12))))
}

/// Birth (or full-membership) dates of those whose age in whole years is within the band today.
fn dates_for_years(band: &YearBand, today: NaiveDate) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let to = band.min.and_then(|min| years_before(today, min));
    let from = band.max.and_then(|max| years_before(today, max + 1)).and_then(|d| d.succ_opt());
    (from, to)
}

/// One combination of the dimensions' values and how many members have it.
#[derive(QueryableByName)]
struct ComboRow {
    #[diesel(sql_type = Text)]
    category: String,
    #[diesel(sql_type = Text)]
    gender: String,
    #[diesel(sql_type = Nullable<Text>)]
    ethnic_group: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    education: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    job_category: Option<String>,
    #[diesel(sql_type = Nullable<Int4>)]
    age_b: Option<i32>,
    #[diesel(sql_type = Int4)]
    period_b: i32,
    #[diesel(sql_type = Nullable<Int4>)]
    standing_b: Option<i32>,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    admitted: i64,
    #[diesel(sql_type = BigInt)]
    made_full: i64,
}

/// The members held in the subtree of $1 on $2 with status normal, counted by the combination
/// of their dimensions' values; $3 and $5 the birth and full-membership dates where an age or 党龄
/// band starts (see [`BandSet::birth_thresholds`]), $4 the joining-period bounds, $6 the first day
/// of $2's year. Band columns hold `width_bucket` indexes: comparing dates is much cheaper than
/// `age()` on every row.
///
/// One plain GROUP BY, summed per dimension in Rust: the combinations are few (1,846 for the
/// 50,000 members of `dangjian gen`), and a plain aggregate can run in parallel workers, unlike
/// GROUPING SETS (measured on the root of 50,000: 90 ms, against 140-150 ms with grouping sets).
///
/// Only org_closure and member_history, whose rows carry the person's and the membership's
/// attributes (see the module comment): measured on `dangjian gen --members 1000000 --orgs 60000`
/// (2 cores, PostgreSQL 15, jit off, 64 MB work_mem), for the root: joined to `members` and
/// `people`, EXPLAIN ANALYZE 3.8 s (3.5 s plain): three parallel hash joins (the people's hash
/// alone 0.5 s), then 1,000,000 rows sorted for a GroupAggregate, as the planner expected 422,108
/// groups; from the history alone, 0.45-0.5 s (EXPLAIN ANALYZE 0.5-0.73 s): a parallel scan of
/// the history hash-joined to the 60,000 closure rows, a parallel HashAggregate into 2,526
/// combinations (4 MB). GET /stats/structure (release build, keep-alive client, this statement
/// and [`ORGS_ON`]): root 0.69 s median (before: about 3 s), a committee of 6,700 members 16 ms, the
/// largest branch (645) 4 ms.
const STRUCTURE_SQL: &str = "
    SELECT h.category,
           h.gender,
           CASE WHEN nullif(h.ethnicity, '') IS NULL THEN NULL WHEN h.ethnicity = '汉族' THEN 'han' ELSE 'minority' END AS ethnic_group,
           nullif(h.education, '') AS education,
           nullif(h.job_category, '') AS job_category,
           CASE WHEN h.birth_date <= $2 THEN width_bucket(h.birth_date, $3::date[]) END AS age_b,
           width_bucket(h.joined_at, $4::date[]) AS period_b,
           CASE WHEN h.category <> 'full' THEN -1
                WHEN h.full_member_at <= $2 THEN width_bucket(h.full_member_at, $5::date[]) END AS standing_b,
           count(*) AS n,
           count(*) FILTER (WHERE h.joined_at BETWEEN $6 AND $2) AS admitted,
           count(*) FILTER (WHERE h.full_member_at BETWEEN $6 AND $2) AS made_full
      FROM org_closure c
      JOIN member_history h ON h.org_id = c.descendant_id
     WHERE c.ancestor_id = $1 AND h.status = 'normal'
       AND h.valid_from <= $2 AND (h.valid_to IS NULL OR h.valid_to > $2)
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8";

/// [`STRUCTURE_SQL`] or [`structure_by_child_sql`] (the same parameters) for `org_id` on `as_of`,
/// the bands of `set`.
async fn load_combos<R>(conn: &mut AsyncPgConnection, sql: impl Into<String>, org_id: i64, as_of: NaiveDate, set: &BandSet) -> Result<Vec<R>, AppError>
where
    R: QueryableByName<Pg> + Send + 'static,
{
    let year_start = NaiveDate::from_ymd_opt(as_of.year(), 1, 1).unwrap_or(as_of);
    Ok(sql_query(sql)
        .bind::<Int8, _>(org_id)
        .bind::<Date, _>(as_of)
        .bind::<Array<Date>, _>(BandSet::birth_thresholds(&set.age, as_of))
        .bind::<Array<Date>, _>(set.period_thresholds())
        .bind::<Array<Date>, _>(BandSet::birth_thresholds(&set.party_standing, as_of))
        .bind::<Date, _>(year_start)
        .load(conn)
        .await?)
}

#[derive(QueryableByName)]
struct OrgRowLite {
    #[diesel(sql_type = Int8)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<Date>)]
    term_end: Option<NaiveDate>,
    #[diesel(sql_type = BigInt)]
    full_n: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Orgs of the subtree of $1 existing on $2 (founded on or before it, or with no founding date
/// recorded; not dissolved by then): each branch by itself with its full members on $2 (those of
/// its party groups included) counted up to 3 only (`full_n`: exact below 3, the alert's
/// threshold), the other kinds as counts (`n`). Each branch's count stops at the third full member
/// found through the history's (org_id, valid_from) index: 0.2 s on one core for the 25,000
/// branches under the root of a million, where counting every full member per branch (a parallel
/// scan, join and aggregate of the million history rows) took 0.4 s on both cores beside the
/// structure's own scan.
const ORGS_ON: &str = "
    WITH sub AS (
        SELECT o.id, o.name, o.kind, o.term_end
          FROM org_closure c JOIN orgs o ON o.id = c.descendant_id
         WHERE c.ancestor_id = $1 AND (o.founded_on IS NULL OR o.founded_on <= $2)
           AND (o.dissolved_on IS NULL OR o.dissolved_on > $2))
    SELECT s.id, s.name, s.kind, s.term_end,
           (SELECT count(*) FROM (SELECT FROM org_closure g JOIN member_history h ON h.org_id = g.descendant_id
                                   WHERE g.ancestor_id = s.id AND h.status = 'normal' AND h.category = 'full'
                                     AND h.valid_from <= $2 AND (h.valid_to IS NULL OR h.valid_to > $2)
                                   LIMIT 3) f) AS full_n,
           1::int8 AS n
      FROM sub s WHERE s.kind = 'branch'
    UNION ALL
    SELECT 0, '', kind, NULL, 0, count(*) FROM sub WHERE kind <> 'branch' GROUP BY kind";

/// (dimension, key) → members.
type CountMap = HashMap<(&'static str, Option<String>), i64>;

struct Counts(CountMap);

impl Counts {
    fn get(&self, dim: &'static str, key: Option<&str>) -> i64 {
        self.0.get(&(dim, key.map(str::to_string))).copied().unwrap_or(0)
    }

    fn add(&mut self, dim: &'static str, key: Option<String>, n: i64) {
        *self.0.entry((dim, key)).or_default() += n;
    }

    /// Each dimension's buckets from the combinations.
    fn from_combos(rows: Vec<ComboRow>) -> (Counts, i64, i64, i64) {
        let mut c = Counts(HashMap::new());
        let (mut total, mut admitted, mut made_full) = (0, 0, 0);
        for r in rows {
            total += r.n;
            admitted += r.admitted;
            made_full += r.made_full;
            c.add("gender", Some(r.gender), r.n);
            c.add("category", Some(r.category), r.n);
            c.add("ethnicity", r.ethnic_group, r.n);
            c.add("age_band", r.age_b.map(|b| b.to_string()), r.n);
            c.add("education", r.education, r.n);
            c.add("job_category", r.job_category, r.n);
            c.add("joined_period", Some(r.period_b.to_string()), r.n);
            c.add("party_standing", r.standing_b.map(|b| b.to_string()), r.n);
        }
        (c, total, admitted, made_full)
    }
}

struct Builder<'a> {
    counts: &'a Counts,
    base: BucketFilter,
}

impl Builder<'_> {
    fn bucket(&self, dim: &'static str, sql_key: Option<&str>, key: &str, label: &str, filter: Option<BucketFilter>) -> Bucket {
        Bucket { key: key.to_string(), label: label.to_string(), count: self.counts.get(dim, sql_key), filter }
    }

    fn with(&self, f: impl FnOnce(&mut BucketFilter)) -> Option<BucketFilter> {
        let mut filter = self.base.clone();
        f(&mut filter);
        Some(filter)
    }

    fn missing(&self, field: &str) -> Option<BucketFilter> {
        self.with(|f| f.missing = Some(field.to_string()))
    }

    /// A code-list dimension: the list's entries in order, values outside the list (a renamed
    /// entry) by their name, then unknown.
    fn code_list(&self, dim: &'static str, list: &[CodeItem], set: impl Fn(&mut BucketFilter, String)) -> Vec<Bucket> {
        let mut out: Vec<Bucket> =
            list.iter().map(|item| self.bucket(dim, Some(&item.name), &item.code, &item.name, self.with(|f| set(f, item.name.clone())))).collect();
        let mut others: Vec<&String> = self
            .counts
            .0
            .keys()
            .filter(|(d, k)| *d == dim && k.as_ref().is_some_and(|k| !list.iter().any(|i| &i.name == k)))
            .filter_map(|(_, k)| k.as_ref())
            .collect();
        others.sort();
        out.extend(others.into_iter().map(|name| self.bucket(dim, Some(name), name, name, self.with(|f| set(f, name.clone())))));
        out.push(self.bucket(dim, None, "unknown", UNKNOWN_LABEL, self.missing(dim)));
        out
    }

    fn year_bands(
        &self,
        dim: &'static str,
        bands: &[YearBand],
        today: NaiveDate,
        set: impl Fn(&mut BucketFilter, Option<NaiveDate>, Option<NaiveDate>),
    ) -> Vec<Bucket> {
        bands
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let (from, to) = dates_for_years(b, today);
                let sql_key = BandSet::year_band_bucket(bands, i).to_string();
                self.bucket(dim, Some(&sql_key), &b.key, &b.label, self.with(|f| set(f, from, to)))
            })
            .collect()
    }
}

/// The structure of the membership of `org_id`'s subtree on `as_of` (see the module comment
/// for the counting rules). `today` anchors the drill-down filters, which list today's members.
pub async fn structure(conn: &mut AsyncPgConnection, org_id: i64, as_of: NaiveDate, today: NaiveDate) -> Result<Structure, AppError> {
    tuned(conn, move |conn| Box::pin(structure_in(conn, org_id, as_of, today))).await
}

/// The figures of one part of a subtree (see [`structure_by_child`]).
#[derive(Debug, Clone)]
pub struct ChildStructure {
    /// A direct child of the org asked about (its whole subtree), or that org itself (the
    /// members it holds directly: 本级).
    pub org_id: i64,
    pub total: i64,
    pub college_or_above: i64,
    pub dimensions: Dimensions,
}

/// [`STRUCTURE_SQL`] grouped by the part of $1's subtree the membership is held in as well: the
/// direct child of $1 above the member's org, found as the org's ancestor one level below $1
/// (closure depth = the org's depth under $1 minus one), or $1 itself for the members it holds.
/// Derived from [`STRUCTURE_SQL`] (a first column `unit_id`, the closure joined once more, the
/// grouping shifted by one) so that the dimensions' expressions cannot drift apart; `None` when
/// that statement no longer has the shape this expects (a plain SELECT from `org_closure c` with a
/// positional GROUP BY), which the unit test below catches.
fn structure_by_child_sql() -> Option<String> {
    let sql = STRUCTURE_SQL.trim_start();
    let rest = sql.strip_prefix("SELECT ")?;
    let (body, group) = rest.rsplit_once("GROUP BY ")?;
    let keys = group.split(',').map(|k| k.trim().parse::<usize>().ok().map(|k| k + 1)).collect::<Option<Vec<_>>>()?;
    let (select, from) = body.split_once("FROM org_closure c")?;
    if !from.starts_with(char::is_whitespace) {
        return None;
    }
    let keys = std::iter::once(1).chain(keys).map(|k| k.to_string()).collect::<Vec<_>>().join(", ");
    Some(format!(
        "SELECT coalesce(u.ancestor_id, $1) AS unit_id, {select}FROM org_closure c
      LEFT JOIN org_closure u ON u.descendant_id = c.descendant_id AND u.depth = c.depth - 1{from}GROUP BY {keys}"
    ))
}

#[derive(QueryableByName)]
struct ChildComboRow {
    #[diesel(sql_type = Int8)]
    unit_id: i64,
    #[diesel(embed)]
    combo: ComboRow,
}

/// The dimensions of [`structure`] for each direct child of `org_id` (its whole subtree) and for
/// the members `org_id` holds itself, in one scan of the subtree's members (the report's rows
/// per unit, docs/domain.md, Party statistics): the same band set, code lists and bucket keys and
/// labels as [`structure`], so that the parts of a bucket add up to its count there. Only the
/// parts holding members on `as_of` come back, in no particular order.
pub async fn structure_by_child(conn: &mut AsyncPgConnection, org_id: i64, as_of: NaiveDate, today: NaiveDate) -> Result<Vec<ChildStructure>, AppError> {
    tuned(conn, move |conn| {
        Box::pin(async move {
            let band_sets = bands::load(conn).await?;
            let set = band_sets.for_date(as_of);
            let lists = code_lists::load(conn).await?;
            let sql = structure_by_child_sql().ok_or_else(|| AppError::internal("STRUCTURE_SQL changed shape: update structure_by_child_sql"))?;
            let rows: Vec<ChildComboRow> = load_combos(conn, sql, org_id, as_of, set).await?;
            let mut by_unit: HashMap<i64, Vec<ComboRow>> = HashMap::new();
            for r in rows {
                by_unit.entry(r.unit_id).or_default().push(r.combo);
            }
            Ok(by_unit
                .into_iter()
                .map(|(unit, rows)| {
                    let (counts, total, _, _) = Counts::from_combos(rows);
                    let b = Builder { counts: &counts, base: BucketFilter { org_id: Some(unit), status: Some("normal".into()), ..BucketFilter::default() } };
                    let college_or_above = COLLEGE_OR_ABOVE.iter().map(|name| counts.get("education", Some(name))).sum();
                    ChildStructure { org_id: unit, total, college_or_above, dimensions: dimensions(&b, set, &lists, today) }
                })
                .collect())
        })
    })
    .await
}

/// Settings for the statements over a whole subtree's history, for this transaction only
/// (a savepoint when the caller has one open). The root of `dangjian gen --members 1000000`
/// costs about a million: PostgreSQL would JIT-compile the plan with inlining and optimization,
/// which measured 0.7-0.8 s on this query, more than the query itself. With a few MB of work_mem
/// the joins and the grouping sets of a million rows spill to disk. diesel-async prepares and
/// caches the statements: after five executions PostgreSQL may switch to a generic plan, costed
/// for `ancestor_id = $1` as an average (small) subtree, with nested loops that took 6.3 s for the
/// root of a million; a custom plan per execution costs about a millisecond of planning. The
/// history of a subtree is read through its (org_id, valid_from) index unless the subtree is most
/// of the table; with the default random_page_cost (4, a spinning disk's) the planner scanned the
/// whole million-row history for a committee of 6,700 members (94 ms against 8.5 ms by the index).
async fn tune(conn: &mut AsyncPgConnection) -> Result<(), AppError> {
    conn.batch_execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'; SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL random_page_cost = 1.1")
        .await?;
    Ok(())
}

/// `f` in a transaction (a savepoint inside the caller's) with the settings of [`tune`]: every
/// statement over a subtree's history runs through here. `f` returns a boxed future because
/// diesel-async's bound on transaction callbacks cannot be named outside the crate.
async fn tuned<R: Send>(
    conn: &mut AsyncPgConnection,
    f: impl for<'r> FnOnce(&'r mut AsyncPgConnection) -> BoxFuture<'r, Result<R, AppError>> + Send,
) -> Result<R, AppError> {
    conn.transaction::<_, AppError, _>(async move |conn| {
        tune(conn).await?;
        f(conn).await
    })
    .await
}

async fn structure_in(conn: &mut AsyncPgConnection, org_id: i64, as_of: NaiveDate, today: NaiveDate) -> Result<Structure, AppError> {
    let org = orgs_q::get_row(conn, org_id).await?.ok_or_else(|| AppError::field("org_id", "not_found", "no organization has this id", "该组织不存在"))?;
    let band_sets = bands::load(conn).await?;
    let set = band_sets.for_date(as_of);
    let lists = code_lists::load(conn).await?;

    let rows: Vec<ComboRow> = load_combos(conn, STRUCTURE_SQL, org_id, as_of, set).await?;
    let orgs: Vec<OrgRowLite> = sql_query(ORGS_ON).bind::<Int8, _>(org_id).bind::<Date, _>(as_of).load(conn).await?;

    let (counts, total, admitted, made_full) = Counts::from_combos(rows);
    let b = Builder { counts: &counts, base: BucketFilter { org_id: Some(org_id), status: Some("normal".into()), ..BucketFilter::default() } };

    let dimensions = dimensions(&b, set, &lists, today);
    let college_or_above = COLLEGE_OR_ABOVE.iter().map(|name| counts.get("education", Some(name))).sum();

    let mut by_kind: HashMap<&str, i64> = HashMap::new();
    let mut alerts = Alerts::default();
    for o in &orgs {
        *by_kind.entry(o.kind.as_str()).or_default() += o.n;
        if o.kind != "branch" {
            continue;
        }
        // 换届 is due when the term ends (docs/domain.md, Organizations). Terms are not historized:
        // a branch renewed since `as_of` no longer shows as expired on that date.
        if let Some(end) = o.term_end
            && end < as_of
        {
            alerts.term_expired.push(TermExpired { org_id: o.id, org_name: o.name.clone(), term_end: end });
        }
        // A branch needs at least 3 full members (docs/domain.md, Organizations; 党章 art. 30);
        // `full_n` is exact below 3.
        let full = o.full_n;
        if full < 3 {
            alerts.below_three_full.push(BelowThreeFull { org_id: o.id, org_name: o.name.clone(), full_members: full });
        }
    }
    alerts.term_expired.sort_by_key(|t| (t.term_end, t.org_id));
    alerts.below_three_full.sort_by_key(|t| (t.full_members, t.org_id));
    let kinds = [OrgKind::Committee, OrgKind::GeneralBranch, OrgKind::Branch, OrgKind::Group];
    let org_counts = OrgCounts {
        total: by_kind.values().sum(),
        by_kind: kinds
            .iter()
            .map(|k| Bucket { key: k.as_str().into(), label: k.zh().into(), count: by_kind.get(k.as_str()).copied().unwrap_or(0), filter: None })
            .collect(),
    };

    Ok(Structure {
        org_id,
        org_name: org.name,
        as_of,
        total,
        full: counts.get("category", Some("full")),
        probationary: counts.get("category", Some("probationary")),
        dimensions,
        college_or_above,
        orgs: org_counts,
        pipeline: Pipeline { applicants: None, activists: None, targets: None, admitted_this_year: admitted, made_full_this_year: made_full },
        alerts,
        bands: bands_used(set),
    })
}

/// Each dimension's buckets, in the order of the contract, from the counts behind `b`.
fn dimensions(b: &Builder<'_>, set: &BandSet, lists: &code_lists::CodeLists, today: NaiveDate) -> Dimensions {
    Dimensions {
        gender: [("male", "男"), ("female", "女")].iter().map(|(k, l)| b.bucket("gender", Some(k), k, l, b.with(|f| f.gender = Some((*k).into())))).collect(),
        category: [("full", "正式党员"), ("probationary", "预备党员")]
            .iter()
            .map(|(k, l)| b.bucket("category", Some(k), k, l, b.with(|f| f.category = Some((*k).into()))))
            .collect(),
        ethnicity: vec![
            b.bucket("ethnicity", Some("han"), "han", "汉族", b.with(|f| f.ethnic_group = Some("han".into()))),
            b.bucket("ethnicity", Some("minority"), "minority", "少数民族", b.with(|f| f.ethnic_group = Some("minority".into()))),
            b.bucket("ethnicity", None, "unknown", UNKNOWN_LABEL, b.missing("ethnicity")),
        ],
        age_band: {
            let mut v = b.year_bands("age_band", &set.age, today, |f, from, to| {
                f.born_from = from;
                f.born_to = to;
            });
            v.push(b.bucket("age_band", None, "unknown", UNKNOWN_LABEL, b.missing("birth_date")));
            v
        },
        education: b.code_list("education", &lists.education, |f, name| f.education = Some(name)),
        job_category: b.code_list("job_category", &lists.job_category, |f, name| f.job_category = Some(name)),
        joined_period: set
            .joined_period
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let filter = b.with(|f| {
                    f.joined_from = p.from;
                    f.joined_to = p.until.and_then(|d| d.pred_opt());
                });
                b.bucket("joined_period", Some(&i.to_string()), &p.key, &p.label, filter)
            })
            .collect(),
        party_standing: {
            let mut v = vec![b.bucket("party_standing", Some("-1"), "probationary", "预备党员", b.with(|f| f.category = Some("probationary".into())))];
            v.extend(b.year_bands("party_standing", &set.party_standing, today, |f, from, to| {
                f.category = Some("full".into());
                f.full_from = from;
                f.full_to = to;
            }));
            // Full on the date by the history, but no (or a later) date of full membership on record.
            v.push(b.bucket("party_standing", None, "unknown", UNKNOWN_LABEL, None));
            v
        },
    }
}

fn bands_used(set: &BandSet) -> BandsUsed {
    BandsUsed {
        name: set.name.clone(),
        age: set.age.iter().map(|b| b.label.clone()).collect(),
        joined_period: set.joined_period.iter().map(|p| p.label.clone()).collect(),
        party_standing: set.party_standing.iter().map(|b| b.label.clone()).collect(),
    }
}

#[derive(QueryableByName)]
struct SpanRow {
    #[diesel(sql_type = Int4)]
    k_from: i32,
    #[diesel(sql_type = Int4)]
    k_to: i32,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    full: bool,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The dates of a trend: each year end of the last `years` years, then today.
pub fn trend_dates(today: NaiveDate, years: i32) -> Vec<NaiveDate> {
    let mut dates: Vec<NaiveDate> = (1..=years).rev().filter_map(|back| NaiveDate::from_ymd_opt(today.year() - back, 12, 31)).collect();
    dates.push(today);
    dates
}

/// Members (total, full, probationary) of the subtree on each date, in one pass over the history.
pub async fn counts_on(conn: &mut AsyncPgConnection, org_id: i64, dates: &[NaiveDate]) -> Result<Vec<TrendPoint>, AppError> {
    let mut dates = dates.to_vec();
    dates.sort_unstable();
    dates.dedup();
    tuned(conn, move |conn| Box::pin(async move { counts_in(conn, org_id, &dates).await })).await
}

/// A history row is held on dates[i] iff valid_from <= dates[i] < valid_to, that is iff
/// k_from <= i < k_to with k = the number of dates before valid_from (valid_to): rows grouped by
/// (k_from, k_to) are a few dozen groups, counted once, instead of each row joined to each date.
async fn counts_in(conn: &mut AsyncPgConnection, org_id: i64, dates: &[NaiveDate]) -> Result<Vec<TrendPoint>, AppError> {
    let (Some(last), Ok(n)) = (dates.last(), i32::try_from(dates.len())) else { return Ok(Vec::new()) };
    let rows: Vec<SpanRow> = sql_query(
        "SELECT width_bucket(h.valid_from - 1, $2::date[]) AS k_from,
                coalesce(width_bucket(h.valid_to - 1, $2::date[]), $3) AS k_to,
                h.category = 'full' AS full, count(*) AS n
           FROM member_history h JOIN org_closure c ON c.descendant_id = h.org_id
          WHERE c.ancestor_id = $1 AND h.status = 'normal' AND h.valid_from <= $4
          GROUP BY 1, 2, 3",
    )
    .bind::<Int8, _>(org_id)
    .bind::<Array<Date>, _>(dates)
    .bind::<Int4, _>(n)
    .bind::<Date, _>(*last)
    .load(conn)
    .await?;
    let mut points: Vec<TrendPoint> = dates.iter().map(|d| TrendPoint { as_of: *d, total: 0, full: 0, probationary: 0 }).collect();
    for r in rows {
        let (from, to) = (usize::try_from(r.k_from).unwrap_or(0), usize::try_from(r.k_to).unwrap_or(0).min(points.len()));
        for p in points.iter_mut().take(to).skip(from) {
            p.total += r.n;
            if r.full { p.full += r.n } else { p.probationary += r.n }
        }
    }
    Ok(points)
}

pub async fn trend(conn: &mut AsyncPgConnection, org_id: i64, years: i32, today: NaiveDate) -> Result<Trend, AppError> {
    let points = counts_on(conn, org_id, &trend_dates(today, years)).await?;
    Ok(Trend { org_id, points })
}

#[derive(QueryableByName)]
struct ItemRow {
    #[diesel(sql_type = Int8)]
    id: i64,
    #[diesel(sql_type = Nullable<Int8>)]
    parent_id: Option<i64>,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Int4)]
    depth: i32,
    #[diesel(sql_type = BigInt)]
    members: i64,
    #[diesel(sql_type = BigInt)]
    full: i64,
}

/// The orgs of the subtree existing on `as_of`, down to `depth` levels, each with the members
/// held in its own whole subtree on that date (members counted once per org, then summed up
/// the closure).
pub async fn org_stats(conn: &mut AsyncPgConnection, org_id: i64, as_of: NaiveDate, depth: i32) -> Result<OrgStats, AppError> {
    tuned(conn, move |conn| Box::pin(org_stats_in(conn, org_id, as_of, depth))).await
}

async fn org_stats_in(conn: &mut AsyncPgConnection, org_id: i64, as_of: NaiveDate, depth: i32) -> Result<OrgStats, AppError> {
    let rows: Vec<ItemRow> = sql_query(
        "WITH per_org AS (
             SELECT h.org_id, count(*) AS n, count(*) FILTER (WHERE h.category = 'full') AS f
               FROM org_closure c JOIN member_history h ON h.org_id = c.descendant_id
              WHERE c.ancestor_id = $1 AND h.status = 'normal' AND h.valid_from <= $2 AND (h.valid_to IS NULL OR h.valid_to > $2)
              GROUP BY h.org_id),
         items AS (
             SELECT o.id, o.parent_id, o.name, o.kind, o.code, c.depth
               FROM org_closure c JOIN orgs o ON o.id = c.descendant_id
              WHERE c.ancestor_id = $1 AND c.depth <= $3
                AND (o.founded_on IS NULL OR o.founded_on <= $2) AND (o.dissolved_on IS NULL OR o.dissolved_on > $2))
         SELECT i.id, i.parent_id, i.name, i.kind, i.depth,
                coalesce(sum(p.n), 0)::int8 AS members, coalesce(sum(p.f), 0)::int8 AS full
           FROM items i
           JOIN org_closure d ON d.ancestor_id = i.id
           LEFT JOIN per_org p ON p.org_id = d.descendant_id
          GROUP BY i.id, i.parent_id, i.name, i.kind, i.code, i.depth
          ORDER BY i.depth, i.code, i.id",
    )
    .bind::<Int8, _>(org_id)
    .bind::<Date, _>(as_of)
    .bind::<Int4, _>(depth)
    .load(conn)
    .await?;
    let items = rows
        .into_iter()
        .map(|r| OrgStatsItem {
            org_id: r.id,
            // The requested org is the treemap's root, whatever lies above it.
            parent_id: if r.depth == 0 { None } else { r.parent_id },
            name: r.name,
            kind: r.kind,
            depth: r.depth,
            members: r.members,
            full: r.full,
            probationary: r.members - r.full,
        })
        .collect();
    Ok(OrgStats { org_id, as_of, items })
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    #[test]
    fn the_statement_by_child_is_the_structure_statement_grouped_by_unit_too() {
        let sql = super::structure_by_child_sql().expect("STRUCTURE_SQL keeps the shape structure_by_child_sql expects");
        assert!(sql.starts_with("SELECT coalesce(u.ancestor_id, $1) AS unit_id, h.category,"), "{sql}");
        assert!(sql.contains("LEFT JOIN org_closure u ON u.descendant_id = c.descendant_id AND u.depth = c.depth - 1\n      JOIN member_history h"), "{sql}");
        assert!(sql.ends_with("GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9"), "{sql}");
    }
}
