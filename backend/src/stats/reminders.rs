//! 分析提醒: what needs doing in a subtree today, from the rules of docs/domain.md:
//! - terms (Organizations): renewal (换届) is due when the term ends (`term_overdue`), and is
//!   prepared months ahead (`term_ending`: the term ends within 6 months);
//! - forming (Organizations): a branch needs at least 3 full members (`below_three_full`);
//! - probation (Member development, step 22): one year from admission (`probation_ending`:
//!   within 30 days, or passed without full membership; an extension is not recorded yet, so an
//!   extended probation shows as passed);
//! - the record fields (Members) the statistics count by: citizen ID number, birth date,
//!   ethnicity, education, job category, and the phone (`missing_data`).
//!
//! Counts are exact; the items are capped at [`MAX_ITEMS`], the most urgent first.

use actix_web::{HttpResponse, get, web};
use chrono::{Days, Months, NaiveDate};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Date, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::queries::target;
use crate::AppState;
use crate::auth::Actor;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiQuery;
use crate::members::types::MissingField;

pub const MAX_ITEMS: usize = 200;
/// `term_ending`: the term ends within this many months (contract of issue 5).
const TERM_ENDING_MONTHS: u32 = 6;
/// `probation_ending`: the one-year probation ends within this many days.
const PROBATION_ENDING_DAYS: u64 = 30;
/// docs/domain.md, Organizations: a branch needs at least 3 full members.
const MIN_FULL_MEMBERS: i64 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReminderKind {
    TermOverdue,
    TermEnding,
    BelowThreeFull,
    ProbationEnding,
    MissingData,
}

/// Ordered from the most urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Danger,
    Warning,
    Info,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "kind": "probation_ending", "severity": "warning", "org_id": 12, "org_name": "机关第一党支部",
    "person_id": 101, "person_name": "李四", "due_on": "2026-12-20",
    "detail_zh": "预备期将于 2026-12-20 届满，请及时讨论转正", "detail_en": "the probation ends on 2026-12-20: prepare the vote on full membership"
}))]
pub struct Reminder {
    pub kind: ReminderKind,
    pub severity: Severity,
    pub org_id: i64,
    pub org_name: String,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub detail_zh: String,
    pub detail_en: String,
}

/// Exact counts per kind.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ReminderCounts {
    pub term_overdue: i64,
    pub term_ending: i64,
    pub below_three_full: i64,
    pub probation_ending: i64,
    pub missing_data: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "org_id": 3, "as_of": "2026-11-30",
    "counts": {"term_overdue": 1, "term_ending": 2, "below_three_full": 1, "probation_ending": 1, "missing_data": 14},
    "items": [{"kind": "term_overdue", "severity": "danger", "org_id": 12, "org_name": "机关第一党支部", "person_id": null, "person_name": null,
               "due_on": "2026-05-31", "detail_zh": "届期已于 2026-05-31 届满，应按期换届", "detail_en": "the term ended on 2026-05-31: renewal is due"}]
}))]
pub struct Reminders {
    pub org_id: i64,
    /// Today: reminders are about the present state.
    pub as_of: NaiveDate,
    pub counts: ReminderCounts,
    /// The most urgent first (severity, then kind, then date); at most 200.
    pub items: Vec<Reminder>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RemindersQuery {
    /// The org whose subtree is checked (default: your single scope root).
    #[param(example = 3)]
    pub org_id: Option<i64>,
}

/// 分析提醒: renewals overdue or due within 6 months, branches with fewer than 3 full members,
/// probations ending within 30 days (or passed), and member records lacking fields.
#[utoipa::path(
    tag = "stats",
    params(RemindersQuery),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "Counts per kind and the most urgent items", body = Reminders),
        (status = 400, description = "A malformed parameter (named in the problem)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "org_id is outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such org_id, or org_id needed (several scopes)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/reminders")]
pub async fn stats_reminders(state: web::Data<AppState>, actor: Actor, query: ApiQuery<RemindersQuery>) -> AppResult<HttpResponse> {
    let (mut conn, org) = target(&state.pool, &actor, query.org_id).await?;
    Ok(HttpResponse::Ok().json(reminders(&mut conn, org.id, state.config.clock.today()).await?))
}

#[derive(QueryableByName)]
struct OrgItem {
    #[diesel(sql_type = BigInt)]
    org_id: i64,
    #[diesel(sql_type = Text)]
    org_name: String,
    #[diesel(sql_type = Nullable<Date>)]
    due_on: Option<NaiveDate>,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

#[derive(QueryableByName)]
struct PersonItem {
    #[diesel(sql_type = BigInt)]
    person_id: i64,
    #[diesel(sql_type = Text)]
    person_name: String,
    #[diesel(sql_type = BigInt)]
    org_id: i64,
    #[diesel(sql_type = Text)]
    org_name: String,
    #[diesel(sql_type = Date)]
    joined_at: NaiveDate,
    #[diesel(sql_type = Bool)]
    no_id_number: bool,
    #[diesel(sql_type = Bool)]
    no_birth_date: bool,
    #[diesel(sql_type = Bool)]
    no_ethnicity: bool,
    #[diesel(sql_type = Bool)]
    no_education: bool,
    #[diesel(sql_type = Bool)]
    no_job_category: bool,
    #[diesel(sql_type = Bool)]
    no_phone: bool,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// Orgs of the subtree that have a term: committees, general branches and branches, not dissolved.
const TERMS: &str = "SELECT o.id AS org_id, o.name AS org_name, o.term_end AS due_on, 0::bigint AS n, count(*) OVER () AS total \
    FROM org_closure s JOIN orgs o ON o.id = s.descendant_id \
    WHERE s.ancestor_id = $1 AND o.kind <> 'group' AND o.dissolved_on IS NULL AND o.term_end >= $2 AND o.term_end <= $3 \
    ORDER BY o.term_end, o.code LIMIT $4";

const BELOW_THREE: &str = "SELECT o.id AS org_id, o.name AS org_name, NULL::date AS due_on, f.n, count(*) OVER () AS total \
    FROM org_closure s JOIN orgs o ON o.id = s.descendant_id \
    CROSS JOIN LATERAL (SELECT count(*) AS n FROM org_closure c JOIN members m ON m.org_id = c.descendant_id \
        WHERE c.ancestor_id = o.id AND m.status = 'normal' AND m.category = 'full') f \
    WHERE s.ancestor_id = $1 AND o.kind = 'branch' AND o.dissolved_on IS NULL AND f.n < $2 \
    ORDER BY f.n, o.code LIMIT $3";

/// Members (status 正常) of the subtree ($1), with the fields they lack; `condition` narrows
/// them, `limit` is the LIMIT's parameter.
fn people_sql(condition: &str, order: &str, limit: &str) -> String {
    format!(
        "SELECT p.id AS person_id, p.name AS person_name, m.org_id, o.name AS org_name, m.joined_at, \
           p.id_number_enc IS NULL AS no_id_number, p.birth_date IS NULL AS no_birth_date, p.ethnicity IS NULL AS no_ethnicity, \
           p.education IS NULL AS no_education, p.job_category IS NULL AS no_job_category, p.phone_enc IS NULL AS no_phone, \
           count(*) OVER () AS total \
         FROM members m JOIN people p ON p.id = m.person_id JOIN orgs o ON o.id = m.org_id \
         WHERE m.org_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $1) AND m.status = 'normal' AND ({condition}) \
         ORDER BY {order} LIMIT {limit}"
    )
}

const LACKS_ANY: &str = "p.id_number_enc IS NULL OR p.birth_date IS NULL OR p.ethnicity IS NULL OR p.education IS NULL \
    OR p.job_category IS NULL OR p.phone_enc IS NULL";

fn no_date() -> AppError {
    AppError::internal("a reminder date is out of range")
}

/// The reminders of `org_id`'s subtree as of `today`.
pub async fn reminders(conn: &mut AsyncPgConnection, org_id: i64, today: NaiveDate) -> Result<Reminders, AppError> {
    let limit = MAX_ITEMS as i64;
    let mut counts = ReminderCounts::default();
    let mut items = Vec::new();

    let far_past = NaiveDate::from_ymd_opt(1, 1, 1).ok_or_else(no_date)?;
    let yesterday = today.checked_sub_days(Days::new(1)).ok_or_else(no_date)?;
    let ending_by = today.checked_add_months(Months::new(TERM_ENDING_MONTHS)).ok_or_else(no_date)?;
    for (kind, from, to) in [(ReminderKind::TermOverdue, far_past, yesterday), (ReminderKind::TermEnding, today, ending_by)] {
        let rows: Vec<OrgItem> =
            diesel::sql_query(TERMS).bind::<BigInt, _>(org_id).bind::<Date, _>(from).bind::<Date, _>(to).bind::<BigInt, _>(limit).load(conn).await?;
        let total = <[_]>::first(&rows).map_or(0, |r| r.total);
        for r in rows {
            let Some(end) = r.due_on else { continue };
            let (severity, zh, en) = if kind == ReminderKind::TermOverdue {
                (Severity::Danger, format!("届期已于 {end} 届满，应按期换届"), format!("the term ended on {end}: renewal is due"))
            } else {
                (
                    Severity::Warning,
                    format!("届期将于 {end} 届满，请提前 1-2 个月启动换届"),
                    format!("the term ends on {end}: start the renewal 1-2 months ahead"),
                )
            };
            items.push(Reminder {
                kind,
                severity,
                org_id: r.org_id,
                org_name: r.org_name,
                person_id: None,
                person_name: None,
                due_on: Some(end),
                detail_zh: zh,
                detail_en: en,
            });
        }
        match kind {
            ReminderKind::TermOverdue => counts.term_overdue = total,
            _ => counts.term_ending = total,
        }
    }

    let rows: Vec<OrgItem> =
        diesel::sql_query(BELOW_THREE).bind::<BigInt, _>(org_id).bind::<BigInt, _>(MIN_FULL_MEMBERS).bind::<BigInt, _>(limit).load(conn).await?;
    counts.below_three_full = <[_]>::first(&rows).map_or(0, |r| r.total);
    for r in rows {
        items.push(Reminder {
            kind: ReminderKind::BelowThreeFull,
            severity: Severity::Warning,
            org_id: r.org_id,
            org_name: r.org_name,
            person_id: None,
            person_name: None,
            due_on: None,
            detail_zh: format!("正式党员 {} 名，不足 3 名（支部应有 3 名以上正式党员）", r.n),
            detail_en: format!("{} full members; a branch needs at least 3", r.n),
        });
    }

    // The probation ends a year after admission: admitted on or before (today + 30 days) - 1 year.
    let admitted_by = today.checked_add_days(Days::new(PROBATION_ENDING_DAYS)).and_then(|d| d.checked_sub_months(Months::new(12))).ok_or_else(no_date)?;
    let rows: Vec<PersonItem> = diesel::sql_query(people_sql("m.category = 'probationary' AND m.joined_at <= $2", "m.joined_at, p.id", "$3"))
        .bind::<BigInt, _>(org_id)
        .bind::<Date, _>(admitted_by)
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await?;
    counts.probation_ending = <[_]>::first(&rows).map_or(0, |r| r.total);
    for r in rows {
        let due = r.joined_at.checked_add_months(Months::new(12)).ok_or_else(no_date)?;
        let (severity, zh, en) = if due < today {
            (
                Severity::Danger,
                format!("预备期已于 {due} 届满，尚未转正（如已延长预备期请登记）"),
                format!("the probation ended on {due} without full membership"),
            )
        } else {
            (Severity::Warning, format!("预备期将于 {due} 届满，请及时讨论转正"), format!("the probation ends on {due}: prepare the vote on full membership"))
        };
        items.push(Reminder {
            kind: ReminderKind::ProbationEnding,
            severity,
            org_id: r.org_id,
            org_name: r.org_name,
            person_id: Some(r.person_id),
            person_name: Some(r.person_name),
            due_on: Some(due),
            detail_zh: zh,
            detail_en: en,
        });
    }

    let rows: Vec<PersonItem> =
        diesel::sql_query(people_sql(LACKS_ANY, "m.org_id, p.id", "$2")).bind::<BigInt, _>(org_id).bind::<BigInt, _>(limit).load(conn).await?;
    counts.missing_data = <[_]>::first(&rows).map_or(0, |r| r.total);
    for r in rows {
        let lacking: Vec<MissingField> = [
            (MissingField::IdNumber, r.no_id_number),
            (MissingField::BirthDate, r.no_birth_date),
            (MissingField::Ethnicity, r.no_ethnicity),
            (MissingField::Education, r.no_education),
            (MissingField::JobCategory, r.no_job_category),
            (MissingField::Phone, r.no_phone),
        ]
        .into_iter()
        .filter_map(|(f, lacks)| lacks.then_some(f))
        .collect();
        items.push(Reminder {
            kind: ReminderKind::MissingData,
            severity: Severity::Info,
            org_id: r.org_id,
            org_name: r.org_name,
            person_id: Some(r.person_id),
            person_name: Some(r.person_name),
            due_on: None,
            detail_zh: format!("缺少{}", lacking.iter().map(|f| f.zh()).collect::<Vec<_>>().join("、")),
            detail_en: format!("lacks {}", lacking.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")),
        });
    }

    items.sort_by_key(|a| (a.severity, a.kind, a.due_on));
    items.truncate(MAX_ITEMS);
    Ok(Reminders { org_id, as_of: today, counts, items })
}
