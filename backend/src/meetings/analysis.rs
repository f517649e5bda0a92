//! 分析提醒 beyond the compliance rows: the heat map (branch × month) and attendance (rates by
//! branch and member, members absent from their last three or more meetings).
//!
//! Attendance counts held meetings only (a planned or cancelled meeting has no attendance), in
//! [from, to] by start time, of the orgs in the subtree. A rate is present / (present + absent):
//! attendance not recorded yet (`pending`) is the clerk's backlog, not the member's absence, so it
//! counts neither way (it is in `due`). docs/domain.md, Organizational life: the record says who was
//! absent and why; a member absent from three meetings in a row is one the branch should talk to.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::QueryableByName;
use diesel::sql_query;
use diesel::sql_types::{Array, BigInt, Bool, Int8, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::compliance::{self, Analysis, SNAPSHOT, State};
use crate::AppState;
use crate::auth::Actor;
use crate::clock::Clock;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiQuery;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(meetings_heatmap).service(meetings_attendance);
}

/// Members absent from this many of their latest meetings in a row are flagged.
pub const ABSENT_STREAK: i64 = 3;

/// Rows of the attendance lists.
const LIST_LIMIT: usize = 200;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HeatmapQuery {
    /// The org whose children are the rows (default: your single scope root).
    #[param(example = 3)]
    pub org_id: Option<i64>,
    /// The year (default this year).
    #[param(example = 2026)]
    pub year: Option<i32>,
}

#[derive(Debug, Default, Clone, Serialize, ToSchema)]
#[schema(example = json!({"month": "2026-03", "required": 14, "held": 12, "missing": 2, "due": 0}))]
pub struct HeatmapCell {
    pub month: String,
    /// Meetings required by the periods ending in this month (a quarter in its last month, a year
    /// in December).
    pub required: i64,
    pub held: i64,
    /// Compliance rows in state missing.
    pub missing: i64,
    /// Compliance rows in state due.
    pub due: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeatmapRow {
    pub org_id: i64,
    pub org_name: String,
    pub org_kind: String,
    /// Branches in the row's subtree.
    pub branches: i64,
    pub cells: Vec<HeatmapCell>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Heatmap {
    pub org_id: i64,
    pub year: i32,
    pub months: Vec<String>,
    /// The direct children of org_id, each summing its subtree (for a branch: the branch itself).
    pub rows: Vec<HeatmapRow>,
}

/// The heat map of an analysis of one year: rows = the root's children (a branch or group root: itself).
pub fn heatmap(a: &Analysis, root: i64, year: i32) -> Heatmap {
    let months: Vec<String> = (1..=12).map(|m| format!("{year}-{m:02}")).collect();
    let root_org = a.set.get(root);
    let single = root_org.is_none_or(|o| o.kind == "branch" || o.kind == "group") || !a.set.orgs.iter().any(|o| o.depth == 1);
    let mut rows: Vec<HeatmapRow> = Vec::new();
    let mut row_of: HashMap<i64, usize> = HashMap::new();
    for o in &a.set.orgs {
        let row = if single {
            Some(0)
        } else if o.depth == 1 {
            Some(rows.len())
        } else {
            o.parent_id.and_then(|p| row_of.get(&p).copied())
        };
        let Some(row) = row else { continue };
        if row == rows.len() {
            rows.push(HeatmapRow {
                org_id: o.org_id,
                org_name: o.name.clone(),
                org_kind: o.kind.clone(),
                branches: 0,
                cells: months.iter().map(|m| HeatmapCell { month: m.clone(), ..Default::default() }).collect(),
            });
        }
        row_of.insert(o.org_id, row);
        rows[row].branches += i64::from(o.kind == "branch");
    }
    for o in &a.set.orgs {
        let Some(&row) = row_of.get(&o.org_id) else { continue };
        a.each_of(o, &mut |e| {
            if e.period.end.year() != year {
                return;
            }
            let cell = &mut rows[row].cells[e.period.end.month0() as usize];
            cell.required += e.required;
            cell.held += e.held;
            cell.missing += i64::from(e.state == State::Missing);
            cell.due += i64::from(e.state == State::Due);
        });
    }
    if !single {
        rows.sort_by(|x, y| x.org_name.cmp(&y.org_name).then(x.org_id.cmp(&y.org_id)));
    }
    Heatmap { org_id: root, year, months, rows }
}

/// The compliance of a year by month for the root's children (branch × month), to drill down:
/// a row with children → the heat map of that org; a branch → its meetings and compliance rows.
#[utoipa::path(
    tag = "meetings",
    params(HeatmapQuery),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "Rows of the children, twelve monthly cells each", body = Heatmap),
        (status = 400, description = "A malformed parameter (named in the problem)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "org_id is outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such org_id, or year outside 2000 to next year", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/meetings/heatmap")]
pub async fn meetings_heatmap(state: web::Data<AppState>, actor: Actor, query: ApiQuery<HeatmapQuery>) -> AppResult<HttpResponse> {
    let today = state.config.clock.today();
    let year = query.year.unwrap_or(today.year());
    let (Some(from), Some(to)) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31)) else {
        return Err(year_error());
    };
    if !(2000..=today.year() + 1).contains(&year) {
        return Err(year_error());
    }
    let (mut conn, org) = crate::stats::queries::target(&state.pool, &actor, query.org_id).await?;
    let a = Analysis::load(&state.pool, &mut conn, org.id, from, to, &state.config.clock).await?;
    let body = web::block(move || heatmap(&a, org.id, year)).await.map_err(|e| AppError::internal(e.to_string()))?;
    Ok(HttpResponse::Ok().json(body))
}

fn year_error() -> AppError {
    AppError::field("year", "out_of_range", "year must be between 2000 and next year", "年份须在 2000 年到明年之间")
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttendanceQuery {
    /// The org whose subtree is analysed (default: your single scope root).
    #[param(example = 3)]
    pub org_id: Option<i64>,
    /// First day (default 1 January of this year).
    #[param(example = "2026-01-01")]
    pub from: Option<NaiveDate>,
    /// Last day (default today; at most 3 years after from).
    #[param(example = "2026-06-30")]
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"org_id": 12, "org_name": "第一党支部", "meetings": 18, "due": 160, "present": 150, "absent": 8, "rate": 0.949}))]
pub struct OrgAttendance {
    pub org_id: i64,
    pub org_name: String,
    /// Held meetings of the branch and its party groups.
    pub meetings: i64,
    /// Attendee rows (due to attend), pending included.
    pub due: i64,
    pub present: i64,
    pub absent: i64,
    /// present / (present + absent); null without recorded attendance.
    pub rate: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"person_id": 7, "name": "张三", "org_id": 12, "org_name": "第一党支部", "due": 12, "present": 9, "absent": 3, "rate": 0.75}))]
pub struct MemberAttendance {
    pub person_id: i64,
    pub name: String,
    /// The member's org today.
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    pub due: i64,
    pub present: i64,
    pub absent: i64,
    pub rate: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"person_id": 7, "name": "张三", "org_id": 12, "org_name": "第一党支部", "streak": 3, "last_meeting_at": "2026-06-20T09:00:00Z"}))]
pub struct AbsentStreak {
    pub person_id: i64,
    pub name: String,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    /// The member's latest recorded meetings in the range that were all absences.
    pub streak: i64,
    pub last_meeting_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
// Named apart from the attendance state (`Attendance`, pending/present/absent, in types.rs):
// two schemas of one name are one entry in the OpenAPI document.
#[schema(as = AttendanceAnalysis)]
pub struct Attendance {
    pub org_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Branches of the subtree, lowest rate first (without recorded attendance last), at most 200.
    pub by_org: Vec<OrgAttendance>,
    /// Members with recorded attendance, lowest rate first, at most 200.
    pub by_member: Vec<MemberAttendance>,
    /// Members whose latest 3 or more recorded meetings were all absences, longest first.
    pub absent_streaks: Vec<AbsentStreak>,
}

#[derive(QueryableByName)]
struct OrgLite {
    #[diesel(sql_type = Int8)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<Int8>)]
    parent_id: Option<i64>,
}

#[derive(QueryableByName)]
struct OrgMeetings {
    #[diesel(sql_type = Int8)]
    org_id: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct OrgCounts {
    #[diesel(sql_type = Int8)]
    org_id: i64,
    #[diesel(sql_type = BigInt)]
    due: i64,
    #[diesel(sql_type = BigInt)]
    present: i64,
    #[diesel(sql_type = BigInt)]
    absent: i64,
}

#[derive(QueryableByName)]
struct PersonCounts {
    #[diesel(sql_type = Int8)]
    person_id: i64,
    #[diesel(sql_type = BigInt)]
    due: i64,
    #[diesel(sql_type = BigInt)]
    present: i64,
    #[diesel(sql_type = BigInt)]
    absent: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_present: Option<DateTime<Utc>>,
    #[diesel(sql_type = Bool)]
    low: bool,
    #[diesel(sql_type = Bool)]
    candidate: bool,
}

#[derive(QueryableByName)]
struct StreakRow {
    #[diesel(sql_type = Int8)]
    person_id: i64,
    #[diesel(sql_type = BigInt)]
    streak: i64,
    #[diesel(sql_type = Timestamptz)]
    last_meeting_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct PersonName {
    #[diesel(sql_type = Int8)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Int8>)]
    org_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    org_name: Option<String>,
}

const ORGS_SQL: &str = "
    SELECT o.id, o.name, o.kind, o.parent_id
      FROM org_closure c JOIN orgs o ON o.id = c.descendant_id
     WHERE c.ancestor_id = $1
     ORDER BY c.depth, o.id";

/// Per org of the subtree ($1): held meetings in [$2, $3), and their attendee rows. Two aggregates
/// by org rather than one by meeting first: the root of 60,000 orgs holds a million meetings a
/// year, and grouping them meeting by meeting before summing spilled to disk.
const MEETINGS_BY_ORG_SQL: &str = "
    SELECT m.org_id, count(*) AS n
      FROM org_closure c
      JOIN meetings m ON m.org_id = c.descendant_id
     WHERE c.ancestor_id = $1 AND m.status = 'held' AND m.starts_at >= $2 AND m.starts_at < $3
     GROUP BY m.org_id";

const ATTENDANCE_BY_ORG_SQL: &str = "
    SELECT m.org_id, count(*) AS due,
           count(*) FILTER (WHERE a.attendance = 'present') AS present,
           count(*) FILTER (WHERE a.attendance = 'absent') AS absent
      FROM org_closure c
      JOIN meetings m ON m.org_id = c.descendant_id
      JOIN meeting_attendees a ON a.meeting_id = m.id
     WHERE c.ancestor_id = $1 AND m.status = 'held' AND m.starts_at >= $2 AND m.starts_at < $3
     GROUP BY m.org_id";

/// Per person due at held meetings of the subtree ($1) in [$2, $3): the 200 lowest rates, and the
/// candidates for an absence streak (the latest recorded meeting an absence, 3+ absences), with
/// the time of their last presence: every recorded meeting after it was an absence.
const BY_PERSON_SQL: &str = "
    WITH p AS (
        SELECT a.person_id,
               count(*) AS due,
               count(*) FILTER (WHERE a.attendance = 'present') AS present,
               count(*) FILTER (WHERE a.attendance = 'absent') AS absent,
               max(m.starts_at) FILTER (WHERE a.attendance = 'present') AS last_present,
               max(m.starts_at) FILTER (WHERE a.attendance = 'absent') AS last_absent
          FROM org_closure c
          JOIN meetings m ON m.org_id = c.descendant_id
          JOIN meeting_attendees a ON a.meeting_id = m.id
         WHERE c.ancestor_id = $1 AND m.status = 'held' AND m.starts_at >= $2 AND m.starts_at < $3
         GROUP BY a.person_id
    ), low AS (
        SELECT person_id FROM p WHERE present + absent > 0
         ORDER BY present::float8 / (present + absent), absent DESC, person_id
         LIMIT $4
    )
    SELECT p.person_id, p.due, p.present, p.absent, p.last_present,
           p.person_id IN (SELECT person_id FROM low) AS low,
           (p.absent >= $5 AND p.last_absent > coalesce(p.last_present, '-infinity')) AS candidate
      FROM p
     WHERE p.person_id IN (SELECT person_id FROM low)
        OR (p.absent >= $5 AND p.last_absent > coalesce(p.last_present, '-infinity'))";

/// The absences of the candidates ($4) after their last presence ($5, null = none) in the
/// subtree ($1) and range: their streak.
const STREAK_SQL: &str = "
    SELECT a.person_id, count(*) AS streak, max(m.starts_at) AS last_meeting_at
      FROM unnest($4::bigint[], $5::timestamptz[]) AS k(person_id, after)
      JOIN meeting_attendees a ON a.person_id = k.person_id AND a.attendance = 'absent'
      JOIN meetings m ON m.id = a.meeting_id
      JOIN org_closure c ON c.descendant_id = m.org_id AND c.ancestor_id = $1
     WHERE m.status = 'held' AND m.starts_at >= $2 AND m.starts_at < $3
       AND m.starts_at > coalesce(k.after, '-infinity')
     GROUP BY a.person_id";

const NAMES_SQL: &str = "
    SELECT pe.id, pe.name, mb.org_id, o.name AS org_name
      FROM people pe
      LEFT JOIN members mb ON mb.person_id = pe.id
      LEFT JOIN orgs o ON o.id = mb.org_id
     WHERE pe.id = ANY($1)";

fn rate(present: i64, absent: i64) -> Option<f64> {
    let n = present + absent;
    // Counts of one subtree's meetings are far below 2^52: exact as f64.
    (n > 0).then(|| (present as f64 / n as f64 * 1000.0).round() / 1000.0)
}

/// Lowest rate first, no rate last.
fn by_rate(a: Option<f64>, b: Option<f64>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

/// Attendance of the subtree of `root` in [from, to].
pub async fn attendance(conn: &mut AsyncPgConnection, clock: &Clock, root: i64, from: NaiveDate, to: NaiveDate) -> Result<Attendance, AppError> {
    let lo = clock.midnight(from);
    let hi = clock.midnight(to.succ_opt().unwrap_or(to));
    conn.transaction::<_, AppError, _>(async move |conn| {
        conn.batch_execute(SNAPSHOT).await?;
        // The per-person aggregate of a large subtree has a group per member (a million at the
        // root of the largest installation): room for it in memory rather than spilling.
        conn.batch_execute("SET LOCAL work_mem = '128MB'").await?;
        let orgs: Vec<OrgLite> = sql_query(ORGS_SQL).bind::<Int8, _>(root).load(conn).await?;
        let meetings: Vec<OrgMeetings> =
            sql_query(MEETINGS_BY_ORG_SQL).bind::<Int8, _>(root).bind::<Timestamptz, _>(lo).bind::<Timestamptz, _>(hi).load(conn).await?;
        let counts: Vec<OrgCounts> =
            sql_query(ATTENDANCE_BY_ORG_SQL).bind::<Int8, _>(root).bind::<Timestamptz, _>(lo).bind::<Timestamptz, _>(hi).load(conn).await?;
        let people: Vec<PersonCounts> = sql_query(BY_PERSON_SQL)
            .bind::<Int8, _>(root)
            .bind::<Timestamptz, _>(lo)
            .bind::<Timestamptz, _>(hi)
            .bind::<BigInt, _>(LIST_LIMIT as i64)
            .bind::<BigInt, _>(ABSENT_STREAK)
            .load(conn)
            .await?;
        let (ids, after): (Vec<i64>, Vec<Option<DateTime<Utc>>>) = people.iter().filter(|p| p.candidate).map(|p| (p.person_id, p.last_present)).unzip();
        let streaks: Vec<StreakRow> = if ids.is_empty() {
            Vec::new()
        } else {
            sql_query(STREAK_SQL)
                .bind::<Int8, _>(root)
                .bind::<Timestamptz, _>(lo)
                .bind::<Timestamptz, _>(hi)
                .bind::<Array<Int8>, _>(ids)
                .bind::<Array<Nullable<Timestamptz>>, _>(after)
                .load(conn)
                .await?
        };
        let streaks: Vec<StreakRow> = streaks.into_iter().filter(|s| s.streak >= ABSENT_STREAK).collect();
        let named: Vec<i64> = people.iter().filter(|p| p.low).map(|p| p.person_id).chain(streaks.iter().map(|s| s.person_id)).collect();
        let names: HashMap<i64, PersonName> = if named.is_empty() {
            HashMap::new()
        } else {
            let rows: Vec<PersonName> = sql_query(NAMES_SQL).bind::<Array<Int8>, _>(named).load(conn).await?;
            rows.into_iter().map(|n| (n.id, n)).collect()
        };

        // Branches: their own meetings and those of their party groups (a group's parent is its
        // branch; docs/domain.md, Organizations).
        let mut branch_of: HashMap<i64, usize> = HashMap::new();
        let mut by_org: Vec<OrgAttendance> = Vec::new();
        for o in &orgs {
            let b = if o.kind == "branch" {
                by_org.push(OrgAttendance { org_id: o.id, org_name: o.name.clone(), meetings: 0, due: 0, present: 0, absent: 0, rate: None });
                Some(by_org.len() - 1)
            } else {
                o.parent_id.and_then(|p| branch_of.get(&p).copied())
            };
            if let Some(b) = b {
                branch_of.insert(o.id, b);
            }
        }
        for m in meetings {
            if let Some(&b) = branch_of.get(&m.org_id) {
                by_org[b].meetings += m.n;
            }
        }
        for c in counts {
            if let Some(&b) = branch_of.get(&c.org_id) {
                let row = &mut by_org[b];
                row.due += c.due;
                row.present += c.present;
                row.absent += c.absent;
            }
        }
        for row in &mut by_org {
            row.rate = rate(row.present, row.absent);
        }
        by_org.sort_by(|x, y| by_rate(x.rate, y.rate).then_with(|| x.org_name.cmp(&y.org_name)).then(x.org_id.cmp(&y.org_id)));
        by_org.truncate(LIST_LIMIT);

        let name_of = |id: i64| names.get(&id).map_or((String::new(), None, None), |n| (n.name.clone(), n.org_id, n.org_name.clone()));
        let mut by_member: Vec<MemberAttendance> = people
            .iter()
            .filter(|p| p.low)
            .map(|p| {
                let (name, org_id, org_name) = name_of(p.person_id);
                MemberAttendance {
                    person_id: p.person_id,
                    name,
                    org_id,
                    org_name,
                    due: p.due,
                    present: p.present,
                    absent: p.absent,
                    rate: rate(p.present, p.absent),
                }
            })
            .collect();
        by_member.sort_by(|x, y| by_rate(x.rate, y.rate).then(y.absent.cmp(&x.absent)).then(x.person_id.cmp(&y.person_id)));
        let mut absent_streaks: Vec<AbsentStreak> = streaks
            .into_iter()
            .map(|s| {
                let (name, org_id, org_name) = name_of(s.person_id);
                AbsentStreak { person_id: s.person_id, name, org_id, org_name, streak: s.streak, last_meeting_at: s.last_meeting_at }
            })
            .collect();
        absent_streaks.sort_by(|x, y| y.streak.cmp(&x.streak).then(x.person_id.cmp(&y.person_id)));
        Ok(Attendance { org_id: root, from, to, by_org, by_member, absent_streaks })
    })
    .await
}

/// Attendance rates of the subtree's held meetings by branch and member, and members absent from
/// their latest three or more meetings in a row.
#[utoipa::path(
    tag = "meetings",
    params(AttendanceQuery),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "Rates by branch and member, absence streaks", body = Attendance),
        (status = 400, description = "A malformed parameter (named in the problem)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "org_id is outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such org_id; from after to; more than 3 years (`to`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/meetings/attendance")]
pub async fn meetings_attendance(state: web::Data<AppState>, actor: Actor, query: ApiQuery<AttendanceQuery>) -> AppResult<HttpResponse> {
    let (from, to) = compliance::range(query.from, query.to, state.config.clock.today())?;
    let (mut conn, org) = crate::stats::queries::target(&state.pool, &actor, query.org_id).await?;
    Ok(HttpResponse::Ok().json(attendance(&mut conn, &state.config.clock, org.id, from, to).await?))
}
