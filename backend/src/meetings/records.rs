//! Meeting records (docs/domain.md, Organizational life): plan a meeting or enter one held after the
//! fact, correct it until the branch archives it, cancel or delete a planned one; after archiving,
//! corrections are addenda. Every write is audited (entity `meeting`) and checks the version read.
//!
//! Who is due by default (`attendee-candidates`): for a kind the committee holds (支委会,
//! `committee_only`) the org's current officers; otherwise the org's members with status normal
//! and, for a branch, the members of its party groups. Full members vote; probationary members
//! have no vote (中国共产党章程 art. 7).

use std::collections::HashSet;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::access::{self, MeetingRow};
use super::types::{
    AbsenceReason, Addendum, Attendance, Attendee, Candidate, Counts, CreateMeeting, MeetingDetail, MeetingStatus, MeetingSummary, NewAddendum, UpdateMeeting,
    VersionOnly, attachments_of, hours, votes_of,
};
use crate::audit::{self, By};
use crate::auth::{Actor, Role};
use crate::clock::Clock;
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::http::{ApiJson, ApiQuery, Page, PageParams, expected_version, with_etag};
use crate::notifications::{self, Notice};
use crate::orgs::queries as org_queries;
use crate::schema::{accounts, meeting_addenda, meeting_attachments, meeting_attendees, meeting_kinds, meetings, members, org_closure, orgs, people};
use crate::{AppState, db};

pub fn routes(cfg: &mut ServiceConfig) {
    // attendee-candidates before /meetings/{id}, which would take it for an id.
    cfg.service(attendee_candidates)
        .service(create_meeting)
        .service(list_meetings)
        .service(get_meeting)
        .service(update_meeting)
        .service(delete_meeting)
        .service(archive_meeting)
        .service(add_addendum);
}

// ---------------------------------------------------------------------------------------------
// Queries shared by the meeting modules

/// What a meeting needs to know of its kind.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = meeting_kinds)]
pub struct KindInfo {
    pub code: String,
    pub name: String,
    pub org_kinds: Vec<String>,
    pub committee_only: bool,
    pub may_vote: bool,
    pub study_minutes: i32,
}

pub async fn kind_info(conn: &mut AsyncPgConnection, code: &str) -> Result<Option<KindInfo>, AppError> {
    Ok(meeting_kinds::table.find(code).select(KindInfo::as_select()).first(conn).await.optional()?)
}

#[derive(QueryableByName)]
struct CandidateRow {
    #[diesel(sql_type = BigInt)]
    person_id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    name_pinyin: String,
    #[diesel(sql_type = Nullable<Text>)]
    category: Option<String>,
    #[diesel(sql_type = Bool)]
    has_vote: bool,
    #[diesel(sql_type = Nullable<Text>)]
    post: Option<String>,
}

/// The post's rank, for ordering officers (secretary first).
fn post_rank(post: Option<&str>) -> u8 {
    match post {
        Some("secretary") => 0,
        Some("deputy_secretary") => 1,
        Some(_) => 2,
        None => 3,
    }
}

/// Who is due at a meeting of this kind by default (see the module's comment), officers first.
pub async fn candidates(conn: &mut AsyncPgConnection, org_id: i64, kind: &KindInfo) -> Result<Vec<Candidate>, AppError> {
    let sql = if kind.committee_only {
        // 支委会: the committee, i.e. the org's current officers (one row per person, their
        // highest post).
        "SELECT DISTINCT ON (p.id) p.id AS person_id, p.name, p.name_pinyin, m.category, COALESCE(m.category = 'full', false) AS has_vote, o.post \
         FROM org_officers o JOIN people p ON p.id = o.person_id LEFT JOIN members m ON m.person_id = o.person_id \
         WHERE o.org_id = $1 AND o.until IS NULL \
         ORDER BY p.id, CASE o.post WHEN 'secretary' THEN 0 WHEN 'deputy_secretary' THEN 1 ELSE 2 END"
    } else {
        // The org's members with status normal; a branch's party groups belong to it.
        "SELECT p.id AS person_id, p.name, p.name_pinyin, m.category, m.category = 'full' AS has_vote, \
                (SELECT o.post FROM org_officers o WHERE o.org_id = $1 AND o.person_id = m.person_id AND o.until IS NULL \
                 ORDER BY CASE o.post WHEN 'secretary' THEN 0 WHEN 'deputy_secretary' THEN 1 ELSE 2 END LIMIT 1) AS post \
         FROM members m JOIN people p ON p.id = m.person_id \
         WHERE m.status = 'normal' \
           AND (m.org_id = $1 OR m.org_id IN (SELECT g.id FROM orgs g JOIN orgs b ON b.id = g.parent_id \
                                               WHERE g.parent_id = $1 AND g.kind = 'group' AND b.kind = 'branch'))"
    };
    let rows: Vec<CandidateRow> = diesel::sql_query(sql).bind::<BigInt, _>(org_id).load(conn).await?;
    let mut names: Vec<(u8, String, Candidate)> = Vec::with_capacity(rows.len());
    for r in rows {
        names.push((
            post_rank(r.post.as_deref()),
            r.name_pinyin,
            Candidate { person_id: r.person_id, name: r.name, category: r.category, has_vote: r.has_vote, is_officer: r.post.is_some(), post: r.post },
        ));
    }
    names.sort_by(|a, b| (a.0, &a.1, a.2.person_id).cmp(&(b.0, &b.1, b.2.person_id)));
    Ok(names.into_iter().map(|(_, _, c)| c).collect())
}

/// Of `person_ids`, those who may be due at (or host, or record) a meeting of the org: members
/// (any status) of an org in its subtree, or its current officers.
pub async fn eligible(conn: &mut AsyncPgConnection, org_id: i64, person_ids: &[i64]) -> Result<HashSet<i64>, AppError> {
    if person_ids.is_empty() {
        return Ok(HashSet::new());
    }
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let rows: Vec<Id> = diesel::sql_query(
        "SELECT m.person_id AS id FROM members m \
         WHERE m.person_id = ANY($2) AND m.org_id IN (SELECT c.descendant_id FROM org_closure c WHERE c.ancestor_id = $1) \
         UNION SELECT o.person_id FROM org_officers o WHERE o.org_id = $1 AND o.until IS NULL AND o.person_id = ANY($2)",
    )
    .bind::<BigInt, _>(org_id)
    .bind::<Array<BigInt>, _>(person_ids)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Adds people to a meeting's attendees (pending), each with a vote when a full member
/// (probationary members have no vote: 章程 art. 7); those already due are left as they are.
pub async fn add_attendees(conn: &mut AsyncPgConnection, meeting_id: i64, person_ids: &[i64]) -> Result<usize, AppError> {
    if person_ids.is_empty() {
        return Ok(0);
    }
    Ok(diesel::sql_query(
        "INSERT INTO meeting_attendees (meeting_id, person_id, has_vote) \
         SELECT $1, u.id, COALESCE((SELECT m.category = 'full' FROM members m WHERE m.person_id = u.id), false) \
         FROM unnest($2::bigint[]) AS u(id) ON CONFLICT DO NOTHING",
    )
    .bind::<BigInt, _>(meeting_id)
    .bind::<Array<BigInt>, _>(person_ids)
    .execute(conn)
    .await?)
}

/// The people due at a meeting.
pub async fn attendee_ids(conn: &mut AsyncPgConnection, meeting_id: i64) -> Result<Vec<i64>, AppError> {
    Ok(meeting_attendees::table.filter(meeting_attendees::meeting_id.eq(meeting_id)).select(meeting_attendees::person_id).load(conn).await?)
}

/// The attendees of a meeting with their attendance, by name.
pub async fn attendees(conn: &mut AsyncPgConnection, meeting_id: i64) -> Result<Vec<Attendee>, AppError> {
    type Row = (i64, String, String, Option<String>, bool, String, Option<String>, Option<String>, Option<String>, Option<DateTime<Utc>>);
    let rows: Vec<Row> = meeting_attendees::table
        .inner_join(people::table)
        .left_join(members::table.on(members::person_id.eq(meeting_attendees::person_id)))
        .filter(meeting_attendees::meeting_id.eq(meeting_id))
        .order((people::name_pinyin.asc(), people::id.asc()))
        .select((
            meeting_attendees::person_id,
            people::name,
            people::name_pinyin,
            members::category.nullable(),
            meeting_attendees::has_vote,
            meeting_attendees::attendance,
            meeting_attendees::absence_reason,
            meeting_attendees::absence_note,
            meeting_attendees::checked_in_by,
            meeting_attendees::checked_in_at,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(person_id, name, _, category, has_vote, attendance, reason, note, by, at)| Attendee {
            person_id,
            name,
            category,
            has_vote,
            attendance: parse_attendance(&attendance),
            absence_reason: reason.as_deref().and_then(parse_reason),
            absence_note: note,
            checked_in_by: by,
            checked_in_at: at,
        })
        .collect())
}

pub fn parse_attendance(s: &str) -> Attendance {
    match s {
        "present" => Attendance::Present,
        "absent" => Attendance::Absent,
        _ => Attendance::Pending,
    }
}

pub fn parse_reason(s: &str) -> Option<AbsenceReason> {
    [AbsenceReason::Sick, AbsenceReason::Personal, AbsenceReason::Business, AbsenceReason::Other].into_iter().find(|r| r.as_str() == s)
}

pub fn counts(attendees: &[Attendee]) -> Counts {
    let mut c = Counts::default();
    for a in attendees {
        c.due += 1;
        match a.attendance {
            Attendance::Present => c.present += 1,
            Attendance::Absent => c.absent += 1,
            Attendance::Pending => c.pending += 1,
        }
        if a.has_vote {
            c.voters_due += 1;
            if a.attendance == Attendance::Present {
                c.voters_present += 1;
            }
        }
    }
    c
}

async fn person_name(conn: &mut AsyncPgConnection, id: Option<i64>) -> Result<Option<String>, AppError> {
    let Some(id) = id else { return Ok(None) };
    Ok(people::table.find(id).select(people::name).first(conn).await.optional()?)
}

pub async fn addenda(conn: &mut AsyncPgConnection, meeting_id: i64) -> Result<Vec<Addendum>, AppError> {
    type Row = (i64, String, Option<serde_json::Value>, Option<String>, Option<String>, DateTime<Utc>);
    let rows: Vec<Row> = meeting_addenda::table
        .left_join(accounts::table.on(accounts::id.nullable().eq(meeting_addenda::created_by)))
        .left_join(people::table.on(people::id.nullable().eq(accounts::person_id)))
        .filter(meeting_addenda::meeting_id.eq(meeting_id))
        .order(meeting_addenda::id.asc())
        .select((
            meeting_addenda::id,
            meeting_addenda::body,
            meeting_addenda::changes,
            people::name.nullable(),
            accounts::username.nullable(),
            meeting_addenda::created_at,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, body, changes, person, username, created_at)| Addendum { id, body, changes, created_by_name: person.or(username), created_at })
        .collect())
}

/// The meeting as the API shows it, or 404.
pub async fn detail(conn: &mut AsyncPgConnection, id: i64) -> Result<MeetingDetail, AppError> {
    let (row, org_name, kind_name, may_vote): (MeetingRow, String, String, bool) = meetings::table
        .inner_join(orgs::table)
        .inner_join(meeting_kinds::table)
        .filter(meetings::id.eq(id))
        .select((MeetingRow::as_select(), orgs::name, meeting_kinds::name, meeting_kinds::may_vote))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(access::not_found)?;
    let attendees = attendees(conn, id).await?;
    let counts = counts(&attendees);
    Ok(MeetingDetail {
        id: row.id,
        org_id: row.org_id,
        org_name,
        kind: row.kind,
        kind_name,
        topic: row.topic,
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        place: row.place,
        host_name: person_name(conn, row.host_person_id).await?,
        host_person_id: row.host_person_id,
        recorder_name: person_name(conn, row.recorder_person_id).await?,
        recorder_person_id: row.recorder_person_id,
        status: MeetingStatus::parse(&row.status).unwrap_or(MeetingStatus::Planned),
        cancel_reason: row.cancel_reason,
        minutes: row.minutes,
        resolutions: resolutions_of(&row.resolutions),
        study_hours: hours(i64::from(row.study_minutes)),
        archived: row.archived_at.is_some(),
        archived_at: row.archived_at,
        may_vote,
        attendees,
        counts,
        votes: votes_of(conn, id).await?,
        attachments: attachments_of(conn, id).await?,
        addenda: addenda(conn, id).await?,
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
    })
}

fn resolutions_of(v: &serde_json::Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// Notifies the attendees of a planned meeting (or of its change or cancellation).
async fn notify_attendees(conn: &mut AsyncPgConnection, clock: &Clock, d: &MeetingDetail, kind: &str) -> Result<(), AppError> {
    let ids: Vec<i64> = d.attendees.iter().map(|a| a.person_id).collect();
    notify_people(conn, clock, d, kind, &ids).await
}

/// Notifies these people of the meeting: `meeting_planned`, `meeting_changed` (new time or
/// place) or `meeting_cancelled`, linking to the record.
pub async fn notify_people(conn: &mut AsyncPgConnection, clock: &Clock, d: &MeetingDetail, kind: &str, person_ids: &[i64]) -> Result<(), AppError> {
    let title = match kind {
        "meeting_changed" => format!("会议变更：{}", d.kind_name),
        "meeting_cancelled" => format!("会议取消：{}", d.kind_name),
        _ => format!("会议通知：{}", d.kind_name),
    };
    let mut body = format!("{}；{}", d.topic, clock.local_minute(d.starts_at));
    if let Some(place) = &d.place {
        body.push('；');
        body.push_str(place);
    }
    if let (Some(reason), "meeting_cancelled") = (&d.cancel_reason, kind) {
        body.push_str(&format!("（取消原因：{reason}）"));
    }
    let link = format!("/meetings/{}", d.id);
    notifications::notify(conn, person_ids, Notice { kind, title: &title, body: &body, link: Some(&link), entity: Some("meeting"), entity_id: Some(d.id) })
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Validation

/// The fields of a record after a create or a change, checked together.
struct Fields {
    topic: String,
    starts_at: DateTime<Utc>,
    ends_at: Option<DateTime<Utc>>,
    place: Option<String>,
    host_person_id: Option<i64>,
    recorder_person_id: Option<i64>,
    status: MeetingStatus,
    cancel_reason: Option<String>,
    minutes: Option<String>,
    resolutions: Vec<String>,
    study_minutes: i32,
}

fn trimmed(s: Option<String>) -> Option<String> {
    crate::text::clean_opt(s)
}

fn study_minutes(hours: f64) -> Result<i32, FieldError> {
    if !hours.is_finite() || !(0.0..=24.0).contains(&hours) {
        return Err(FieldError::new("study_hours", "out_of_range", "study_hours must be 0 to 24", "学时须在 0 到 24 之间"));
    }
    // Whole minutes: the hours arrive as 1.5 or 0.75; the float is within range, so the cast is exact enough.
    Ok((hours * 60.0).round() as i32)
}

impl Fields {
    fn check(&self, now: DateTime<Utc>) -> Vec<FieldError> {
        let mut e = Vec::new();
        let n = self.topic.chars().count();
        if n == 0 || n > 200 {
            e.push(FieldError::new("topic", "required", "the topic is required (at most 200 characters)", "请填写会议主题（不超过 200 字）"));
        }
        // Records are entered after the fact, never before: a held meeting lies in the past.
        if self.status == MeetingStatus::Held && self.starts_at > now {
            e.push(FieldError::new("starts_at", "held_in_future", "a meeting in the future cannot be recorded as held", "未来的会议不能登记为已召开"));
        }
        if self.ends_at.is_some_and(|end| end < self.starts_at) {
            e.push(FieldError::new("ends_at", "before_starts_at", "the meeting cannot end before it starts", "结束时间不能早于开始时间"));
        }
        if self.place.as_ref().is_some_and(|p| p.chars().count() > 200) {
            e.push(FieldError::new("place", "too_long", "at most 200 characters", "地点不超过 200 字"));
        }
        if self.status == MeetingStatus::Cancelled && self.cancel_reason.is_none() {
            e.push(FieldError::new("cancel_reason", "required", "say why the meeting is cancelled", "请填写取消原因"));
        }
        if self.minutes.as_ref().is_some_and(|m| m.chars().count() > 100_000) {
            e.push(FieldError::new("minutes", "too_long", "the minutes are limited to 100,000 characters", "会议记录不超过 10 万字"));
        }
        if self.resolutions.len() > 100 {
            e.push(FieldError::new("resolutions", "too_many", "at most 100 resolutions", "决议不超过 100 条"));
        }
        for (i, r) in self.resolutions.iter().enumerate() {
            let n = r.chars().count();
            if n == 0 || n > 2000 {
                e.push(FieldError::new(format!("resolutions[{i}]"), "invalid", "each resolution has 1 to 2,000 characters", "每条决议 1 到 2000 字"));
            }
        }
        e
    }
}

/// People named by the request who cannot take part in a meeting of the org, each named by
/// its field (`host_person_id`, `attendee_ids[3]`).
async fn people_errors(conn: &mut AsyncPgConnection, org_id: i64, named: &[(String, i64)]) -> Result<Vec<FieldError>, AppError> {
    let ids: Vec<i64> = named.iter().map(|(_, id)| *id).collect();
    let ok = eligible(conn, org_id, &ids).await?;
    Ok(named
        .iter()
        .filter(|(_, id)| !ok.contains(id))
        .map(|(field, id)| {
            FieldError::new(
                field.clone(),
                "not_in_org",
                format!("person {id} is not a member of this organization (or of its groups) nor one of its officers"),
                format!("人员 {id} 不是本组织（含其党小组）的党员或委员"),
            )
        })
        .collect())
}

fn audit_snapshot(d: &MeetingDetail) -> serde_json::Value {
    // The record without what hangs off it (attendance, votes, attachments have their own entries).
    let mut v = serde_json::to_value(d).unwrap_or(serde_json::Value::Null);
    if let Some(o) = v.as_object_mut() {
        for k in ["votes", "attachments", "addenda", "counts"] {
            o.remove(k);
        }
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Handlers

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CandidateQuery {
    #[param(example = 3)]
    pub org_id: i64,
    #[param(example = "branch_general_meeting")]
    pub kind: String,
}

async fn org_and_kind(conn: &mut AsyncPgConnection, actor: &Actor, org_id: i64, kind: &str) -> AppResult<(crate::orgs::types::OrgRow, KindInfo)> {
    let org =
        org_queries::get_row(conn, org_id).await?.ok_or_else(|| AppError::field("org_id", "not_found", "no organization has this id", "所选组织不存在"))?;
    access::check_manage(conn, actor, org_id).await?;
    let kind = kind_info(conn, kind.trim())
        .await?
        .ok_or_else(|| AppError::field("kind", "unknown_kind", "no meeting kind has this code (see GET /meeting-kinds)", "没有这种会议类型"))?;
    if !kind.org_kinds.iter().any(|k| k == &org.kind) {
        return Err(AppError::field(
            "kind",
            "kind_not_owed",
            format!("a {} does not hold meetings of kind {} (it is for: {})", org.kind, kind.code, kind.org_kinds.join(", ")),
            format!("该类组织不召开“{}”", kind.name),
        ));
    }
    Ok((org, kind))
}

/// Who is due at a meeting of this kind by default: the committee (current officers) for a
/// committee meeting, else the org's members with status normal (a branch's with its groups').
#[utoipa::path(
    tag = "meetings",
    params(CandidateQuery),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The people due by default, officers first", body = Vec<Candidate>),
        (status = 403, description = "The org is outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown org or kind, or a kind the org does not hold", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/meetings/attendee-candidates")]
pub async fn attendee_candidates(state: web::Data<AppState>, actor: Actor, query: ApiQuery<CandidateQuery>) -> AppResult<HttpResponse> {
    let mut conn = db::conn(&state.pool).await?;
    let (org, kind) = org_and_kind(&mut conn, &actor, query.org_id, &query.kind).await?;
    Ok(HttpResponse::Ok().json(candidates(&mut conn, org.id, &kind).await?))
}

/// Plan a meeting, or enter one held after the fact (`status: held`). Without `attendee_ids` the
/// candidates are due. A planned meeting notifies each attendee in the platform.
#[utoipa::path(
    tag = "meetings",
    request_body = CreateMeeting,
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 201, description = "Created", body = MeetingDetail, headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "The org is outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named (kind, topic, starts_at, ends_at, attendee_ids[i], ...)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/meetings")]
pub async fn create_meeting(state: web::Data<AppState>, actor: Actor, body: ApiJson<CreateMeeting>) -> AppResult<HttpResponse> {
    let clock = state.config.clock;
    let body = body.0;
    let mut conn = db::conn(&state.pool).await?;
    let detail = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let (org, kind) = org_and_kind(conn, &actor, body.org_id, &body.kind).await?;
            let mut errors = Vec::new();
            let minutes = match body.study_hours.map(study_minutes) {
                None => kind.study_minutes,
                Some(Ok(m)) => m,
                Some(Err(e)) => {
                    errors.push(e);
                    0
                }
            };
            let fields = Fields {
                topic: crate::text::clean(&body.topic),
                starts_at: body.starts_at,
                ends_at: body.ends_at,
                place: trimmed(body.place),
                host_person_id: body.host_person_id,
                recorder_person_id: body.recorder_person_id,
                status: body.status,
                cancel_reason: trimmed(body.cancel_reason),
                minutes: trimmed(body.minutes),
                resolutions: body.resolutions.unwrap_or_default().into_iter().map(|r| r.trim().to_string()).collect(),
                study_minutes: minutes,
            };
            errors.extend(fields.check(clock.now()));
            let attendees: Vec<i64> = match body.attendee_ids {
                Some(ids) => ids,
                None => candidates(conn, org.id, &kind).await?.into_iter().map(|c| c.person_id).collect(),
            };
            let mut named: Vec<(String, i64)> = attendees.iter().enumerate().map(|(i, id)| (format!("attendee_ids[{i}]"), *id)).collect();
            named.extend(fields.host_person_id.map(|id| ("host_person_id".to_string(), id)));
            named.extend(fields.recorder_person_id.map(|id| ("recorder_person_id".to_string(), id)));
            errors.extend(people_errors(conn, org.id, &named).await?);
            if !errors.is_empty() {
                return Err(AppError::validation(errors));
            }
            let id: i64 = diesel::insert_into(meetings::table)
                .values((
                    meetings::org_id.eq(org.id),
                    meetings::kind.eq(&kind.code),
                    meetings::topic.eq(&fields.topic),
                    meetings::starts_at.eq(fields.starts_at),
                    meetings::ends_at.eq(fields.ends_at),
                    meetings::place.eq(&fields.place),
                    meetings::host_person_id.eq(fields.host_person_id),
                    meetings::recorder_person_id.eq(fields.recorder_person_id),
                    meetings::status.eq(fields.status.as_str()),
                    meetings::cancel_reason.eq(&fields.cancel_reason),
                    meetings::minutes.eq(&fields.minutes),
                    meetings::resolutions.eq(serde_json::json!(fields.resolutions)),
                    meetings::study_minutes.eq(fields.study_minutes),
                    meetings::created_by.eq(actor.account_id),
                ))
                .returning(meetings::id)
                .get_result(conn)
                .await?;
            add_attendees(conn, id, &attendees).await?;
            let d = detail(conn, id).await?;
            if d.status == MeetingStatus::Planned {
                notify_attendees(conn, &clock, &d, "meeting_planned").await?;
            }
            audit::record(conn, By::from(&actor), "create", "meeting", Some(id), None::<&()>, Some(&audit_snapshot(&d))).await?;
            Ok(d)
        })
        .await?;
    let mut res = HttpResponse::Created();
    res.insert_header((actix_web::http::header::LOCATION, format!("/api/v1/meetings/{}", detail.id)));
    Ok(with_etag(res, detail.version, &detail))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MeetingListQuery {
    /// Meetings of this org's subtree (it must be readable); none: your whole scope.
    #[param(example = 3)]
    pub org_id: Option<i64>,
    #[param(example = "party_lecture")]
    pub kind: Option<String>,
    pub status: Option<MeetingStatus>,
    /// Starting on or after this (local) day.
    #[param(example = "2026-01-01")]
    pub from: Option<NaiveDate>,
    /// Starting on or before this (local) day.
    #[param(example = "2026-12-31")]
    pub to: Option<NaiveDate>,
    /// Only archived (true) or only not archived (false).
    pub archived: Option<bool>,
    /// Part of the topic.
    #[param(example = "四中全会")]
    pub q: Option<String>,
}

/// Meetings in your scope, newest first: the org-managing roles those of their subtrees, a member
/// those they are due at.
#[utoipa::path(
    tag = "meetings",
    params(MeetingListQuery, PageParams),
    security(("bearer" = ["member", "branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "A page of meetings", body = Page<MeetingSummary>),
        (status = 403, description = "org_id is outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/meetings")]
pub async fn list_meetings(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<MeetingListQuery>,
    paging: ApiQuery<PageParams>,
) -> AppResult<HttpResponse> {
    let (page, size) = PageParams::resolve(paging.page, paging.page_size)?;
    let f = query.0;
    if let (Some(a), Some(b)) = (f.from, f.to)
        && b < a
    {
        return Err(AppError::field("to", "before_from", "to is before from", "结束日期早于开始日期"));
    }
    let scope = actor.scope();
    let mut conn = db::conn(&state.pool).await?;
    if let Some(org) = f.org_id {
        org_queries::get_row(&mut conn, org).await?.ok_or_else(|| AppError::field("org_id", "not_found", "no organization has this id", "所选组织不存在"))?;
        if !org_queries::readable(&mut conn, &scope, org).await? {
            return Err(AppError::out_of_scope());
        }
    }
    // A member's part of the scope is the meetings they are due at (-1: no person, no meeting).
    let person = if actor.has_role(Role::Member) { scope.person_id.unwrap_or(-1) } else { -1 };
    let q = trimmed(f.q).map(|t| format!("%{}%", crate::db::escape_like(&t)));
    let build = || {
        let mut b = meetings::table.inner_join(orgs::table).inner_join(meeting_kinds::table).into_boxed();
        if !scope.all {
            let managed = org_closure::table.filter(org_closure::ancestor_id.eq_any(scope.org_roots.clone())).select(org_closure::descendant_id);
            let due = meeting_attendees::table.filter(meeting_attendees::person_id.eq(person)).select(meeting_attendees::meeting_id);
            b = b.filter(meetings::org_id.eq_any(managed).or(meetings::id.eq_any(due)));
        }
        if let Some(org) = f.org_id {
            b = b.filter(meetings::org_id.eq_any(org_closure::table.filter(org_closure::ancestor_id.eq(org)).select(org_closure::descendant_id)));
        }
        if let Some(k) = &f.kind {
            b = b.filter(meetings::kind.eq(k.clone()));
        }
        if let Some(s) = f.status {
            b = b.filter(meetings::status.eq(s.as_str()));
        }
        if let Some(d) = f.from {
            b = b.filter(meetings::starts_at.ge(state.config.clock.midnight(d)));
        }
        if let Some(d) = f.to.and_then(|d| d.succ_opt()) {
            b = b.filter(meetings::starts_at.lt(state.config.clock.midnight(d)));
        }
        match f.archived {
            Some(true) => b = b.filter(meetings::archived_at.is_not_null()),
            Some(false) => b = b.filter(meetings::archived_at.is_null()),
            None => {}
        }
        if let Some(p) = &q {
            b = b.filter(meetings::topic.ilike(p.clone()));
        }
        b
    };
    let total: i64 = build().count().get_result(&mut conn).await?;
    let count_of = |which: &str| {
        let cond = if which.is_empty() { String::new() } else { format!(" AND a.attendance = '{which}'") };
        diesel::dsl::sql::<BigInt>(&format!("(SELECT count(*) FROM meeting_attendees a WHERE a.meeting_id = meetings.id{cond})"))
    };
    type Row =
        (i64, i64, String, String, String, String, DateTime<Utc>, Option<DateTime<Utc>>, Option<String>, String, Option<DateTime<Utc>>, i32, i64, i64, i64);
    let rows: Vec<Row> = build()
        .order((meetings::starts_at.desc(), meetings::id.desc()))
        .offset((page - 1) * size)
        .limit(size)
        .select((
            meetings::id,
            meetings::org_id,
            orgs::name,
            meetings::kind,
            meeting_kinds::name,
            meetings::topic,
            meetings::starts_at,
            meetings::ends_at,
            meetings::place,
            meetings::status,
            meetings::archived_at,
            meetings::version,
            count_of(""),
            count_of("present"),
            count_of("absent"),
        ))
        .load(&mut conn)
        .await?;
    let items = rows
        .into_iter()
        .map(|(id, org_id, org_name, kind, kind_name, topic, starts_at, ends_at, place, status, archived_at, version, due, present, absent)| MeetingSummary {
            id,
            org_id,
            org_name,
            kind,
            kind_name,
            topic,
            starts_at,
            ends_at,
            place,
            status: MeetingStatus::parse(&status).unwrap_or(MeetingStatus::Planned),
            archived: archived_at.is_some(),
            due,
            present,
            absent,
            version,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page { items, total, page, page_size: size }))
}

/// One meeting record with its attendance, votes, attachments and addenda. Members read the
/// meetings they are due at (and those of their own org).
#[utoipa::path(
    tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id", example = 12)),
    security(("bearer" = ["member", "branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The meeting", body = MeetingDetail, headers(("ETag" = String))),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/meetings/{id}")]
pub async fn get_meeting(state: web::Data<AppState>, actor: Actor, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let mut conn = db::conn(&state.pool).await?;
    let row = access::load(&mut conn, id).await?;
    access::check_read(&mut conn, &actor, &row).await?;
    let mut d = detail(&mut conn, id).await?;
    if !access::sees_absence_reasons(&mut conn, &actor, &row).await? {
        let me = actor.scope().person_id;
        for a in d.attendees.iter_mut().filter(|a| Some(a.person_id) != me) {
            (a.absence_reason, a.absence_note) = (None, None);
        }
    }
    Ok(with_etag(HttpResponse::Ok(), d.version, &d))
}

/// Locks the meeting for a write by the actor (403, 404, archived 409) and checks the version read.
pub async fn lock_version(conn: &mut AsyncPgConnection, actor: &Actor, id: i64, expected: (i32, bool)) -> AppResult<MeetingRow> {
    let row = access::load_for_write(conn, actor, id).await?;
    if row.version != expected.0 {
        return Err(AppError::stale(expected.1));
    }
    Ok(row)
}

/// Correct a record, reschedule or cancel a meeting (until archived: then 409 `meeting_archived`;
/// corrections are addenda). A planned meeting's attendees are told of a new time or place and
/// of a cancellation.
#[utoipa::path(
    tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id", example = 12), ("If-Match" = Option<String>, Header, description = "The ETag read", example = "\"2\"")),
    request_body = UpdateMeeting,
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "Updated", body = MeetingDetail, headers(("ETag" = String))),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale `version`, or the record is archived (meeting_archived)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No version given", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/meetings/{id}")]
pub async fn update_meeting(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<i64>,
    body: ApiJson<UpdateMeeting>,
) -> AppResult<HttpResponse> {
    let clock = state.config.clock;
    let id = id.into_inner();
    let b = body.0;
    let expected = expected_version(&req, b.version)?;
    let mut conn = db::conn(&state.pool).await?;
    let detail = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let row = lock_version(conn, &actor, id, expected).await?;
            let before = detail(conn, id).await?;
            let mut errors = Vec::new();
            let minutes = match b.study_hours.map(study_minutes) {
                None => row.study_minutes,
                Some(Ok(m)) => m,
                Some(Err(e)) => {
                    errors.push(e);
                    row.study_minutes
                }
            };
            let status = b.status.unwrap_or(before.status);
            let fields = Fields {
                topic: b.topic.map_or(row.topic.clone(), |t| crate::text::clean(&t)),
                starts_at: b.starts_at.unwrap_or(row.starts_at),
                ends_at: b.ends_at.unwrap_or(row.ends_at),
                place: b.place.map_or(row.place.clone(), trimmed),
                host_person_id: b.host_person_id.unwrap_or(row.host_person_id),
                recorder_person_id: b.recorder_person_id.unwrap_or(row.recorder_person_id),
                status,
                // A reason is kept only with a cancellation.
                cancel_reason: if status == MeetingStatus::Cancelled { b.cancel_reason.map_or(row.cancel_reason.clone(), trimmed) } else { None },
                minutes: b.minutes.map_or(row.minutes.clone(), trimmed),
                resolutions: b.resolutions.map_or_else(|| before.resolutions.clone(), |r| r.into_iter().map(|s| s.trim().to_string()).collect()),
                study_minutes: minutes,
            };
            errors.extend(fields.check(clock.now()));
            let mut named = Vec::new();
            if fields.host_person_id != row.host_person_id {
                named.extend(fields.host_person_id.map(|p| ("host_person_id".to_string(), p)));
            }
            if fields.recorder_person_id != row.recorder_person_id {
                named.extend(fields.recorder_person_id.map(|p| ("recorder_person_id".to_string(), p)));
            }
            errors.extend(people_errors(conn, row.org_id, &named).await?);
            if !errors.is_empty() {
                return Err(AppError::validation(errors));
            }
            diesel::update(meetings::table.find(id))
                .set((
                    meetings::topic.eq(&fields.topic),
                    meetings::starts_at.eq(fields.starts_at),
                    meetings::ends_at.eq(fields.ends_at),
                    meetings::place.eq(&fields.place),
                    meetings::host_person_id.eq(fields.host_person_id),
                    meetings::recorder_person_id.eq(fields.recorder_person_id),
                    meetings::status.eq(fields.status.as_str()),
                    meetings::cancel_reason.eq(&fields.cancel_reason),
                    meetings::minutes.eq(&fields.minutes),
                    meetings::resolutions.eq(serde_json::json!(fields.resolutions)),
                    meetings::study_minutes.eq(fields.study_minutes),
                    meetings::version.eq(meetings::version + 1),
                    meetings::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            let after = detail(conn, id).await?;
            let cancelled = before.status != MeetingStatus::Cancelled && after.status == MeetingStatus::Cancelled;
            if before.status == MeetingStatus::Planned {
                if cancelled {
                    notify_attendees(conn, &clock, &after, "meeting_cancelled").await?;
                } else if after.status == MeetingStatus::Planned && (after.starts_at != before.starts_at || after.place != before.place) {
                    notify_attendees(conn, &clock, &after, "meeting_changed").await?;
                }
            }
            let action = if cancelled { "cancel" } else { "update" };
            audit::record(conn, By::from(&actor), action, "meeting", Some(id), Some(&audit_snapshot(&before)), Some(&audit_snapshot(&after))).await?;
            Ok(after)
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), detail.version, &detail))
}

/// Delete a planned or cancelled meeting entered by mistake (If-Match required). A held
/// meeting's record is corrected or cancelled, never deleted (409 `meeting_held`); an archived
/// one is kept (409 `meeting_archived`). A planned meeting's attendees are told it is off.
#[utoipa::path(
    tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id", example = 12), ("If-Match" = String, Header, description = "The ETag read", example = "\"2\"")),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Held (meeting_held) or archived (meeting_archived)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/meetings/{id}")]
pub async fn delete_meeting(state: web::Data<AppState>, actor: Actor, req: HttpRequest, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let clock = state.config.clock;
    let id = id.into_inner();
    let expected = expected_version(&req, None)?;
    let storage = state.config.storage.clone();
    let storage_tx = storage.clone();
    let mut conn = db::conn(&state.pool).await?;
    let keys = conn
        .transaction::<_, AppError, _>(async move |conn| {
            lock_version(conn, &actor, id, expected).await?;
            let before = detail(conn, id).await?;
            if before.status == MeetingStatus::Held {
                return Err(AppError::conflict(
                    "meeting_held",
                    "a held meeting's record is corrected or cancelled, not deleted",
                    "已召开会议的记录只能更正或取消，不能删除",
                ));
            }
            if before.status == MeetingStatus::Planned {
                let mut gone = before.clone();
                gone.cancel_reason = Some("会议已删除".to_string());
                notify_attendees(conn, &clock, &gone, "meeting_cancelled").await?;
            }
            // The attachments' rows go with the meeting (ON DELETE CASCADE); their contents are
            // removed here, with the transaction when they live in PostgreSQL, after it otherwise.
            let keys: Vec<String> =
                meeting_attachments::table.filter(meeting_attachments::meeting_id.eq(id)).select(meeting_attachments::storage_key).load(conn).await?;
            if storage_tx.is_transactional() {
                for key in &keys {
                    storage_tx.delete(conn, key).await?;
                }
            }
            diesel::delete(meetings::table.find(id)).execute(conn).await?;
            audit::record(conn, By::from(&actor), "delete", "meeting", Some(id), Some(&audit_snapshot(&before)), None::<&()>).await?;
            Ok(keys)
        })
        .await?;
    if !storage.is_transactional() {
        for key in &keys {
            if let Err(e) = storage.delete(&mut conn, key).await {
                log::warn!("meeting {id} deleted, but its attachment content {key} was not: {e}");
            }
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Archive a held or cancelled meeting's record: from then on it is read-only (docs/domain.md:
/// records are locked once archived) and corrections are addenda. A held meeting needs its
/// attendance recorded (none pending) and its minutes.
#[utoipa::path(
    tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id", example = 12), ("If-Match" = Option<String>, Header, description = "The ETag read", example = "\"5\"")),
    request_body = VersionOnly,
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "Archived", body = MeetingDetail, headers(("ETag" = String))),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale `version`, or already archived", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not ready: status planned, attendance pending, or no minutes", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No version given", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/meetings/{id}/archive")]
pub async fn archive_meeting(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<i64>,
    body: ApiJson<VersionOnly>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let expected = expected_version(&req, body.0.version)?;
    let mut conn = db::conn(&state.pool).await?;
    let detail = conn
        .transaction::<_, AppError, _>(async move |conn| {
            lock_version(conn, &actor, id, expected).await?;
            let before = detail(conn, id).await?;
            let mut errors = Vec::new();
            match before.status {
                MeetingStatus::Planned => errors.push(FieldError::new(
                    "status",
                    "not_held",
                    "a planned meeting is archived once held (or cancelled)",
                    "计划中的会议须召开（或取消）后才能归档",
                )),
                MeetingStatus::Held => {
                    if before.counts.pending > 0 {
                        errors.push(FieldError::new(
                            "attendance",
                            "attendance_pending",
                            format!("record the attendance of everyone due first ({} pending)", before.counts.pending),
                            format!("请先登记全部应到人员的出席情况（尚有 {} 人未登记）", before.counts.pending),
                        ));
                    }
                    if before.minutes.is_none() {
                        errors.push(FieldError::new("minutes", "required", "a held meeting's record needs its minutes", "已召开的会议须有会议记录"));
                    }
                }
                MeetingStatus::Cancelled => {}
            }
            if !errors.is_empty() {
                return Err(AppError::validation(errors));
            }
            diesel::update(meetings::table.find(id))
                .set((
                    meetings::archived_at.eq(diesel::dsl::now),
                    meetings::archived_by.eq(actor.account_id),
                    meetings::version.eq(meetings::version + 1),
                    meetings::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            let after = detail(conn, id).await?;
            audit::record(conn, By::from(&actor), "archive", "meeting", Some(id), Some(&audit_snapshot(&before)), Some(&audit_snapshot(&after))).await?;
            Ok(after)
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), detail.version, &detail))
}

fn has_huge_number(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Number(n) => n.as_f64().is_none_or(|f| f.abs() > 9_007_199_254_740_991.0),
        serde_json::Value::Array(a) => a.iter().any(has_huge_number),
        serde_json::Value::Object(o) => o.values().any(has_huge_number),
        _ => false,
    }
}

/// Add a correction to an archived record (the record itself stays as archived). Before
/// archiving, correct the record itself: 409 `meeting_not_archived`.
#[utoipa::path(
    tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id", example = 12)),
    request_body = NewAddendum,
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 201, description = "Added", body = Addendum),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not archived: correct the record itself (meeting_not_archived)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/meetings/{id}/addenda")]
pub async fn add_addendum(state: web::Data<AppState>, actor: Actor, id: web::Path<i64>, body: ApiJson<NewAddendum>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let b = body.0;
    let text = crate::text::clean(&b.body);
    let n = text.chars().count();
    if n == 0 || n > 10_000 {
        return Err(AppError::field("body", "required", "say what is corrected and why (at most 10,000 characters)", "请填写更正内容及原因（不超过 1 万字）"));
    }
    if b.changes.as_ref().is_some_and(|c| !c.is_object() && !c.is_array()) {
        return Err(AppError::field("changes", "invalid", "changes is an object or an array", "changes 须为对象或数组"));
    }
    // PostgreSQL's jsonb writes numbers out in full (1e308 as 309 digits), which do not read
    // back as JSON numbers: keep them to what any JSON reader takes exactly (±2^53).
    if b.changes.as_ref().is_some_and(has_huge_number) {
        return Err(AppError::field(
            "changes",
            "out_of_range",
            "numbers in changes must lie within ±9007199254740991",
            "changes 中的数字须在 ±9007199254740991 之内",
        ));
    }
    let mut conn = db::conn(&state.pool).await?;
    let added = conn
        .transaction::<_, AppError, _>(async move |conn| {
            // Locked so that addenda of one meeting are numbered in the order they commit.
            let row: MeetingRow =
                meetings::table.find(id).select(MeetingRow::as_select()).for_update().first(conn).await.optional()?.ok_or_else(access::not_found)?;
            access::check_manage(conn, &actor, row.org_id).await?;
            if row.archived_at.is_none() {
                return Err(AppError::conflict(
                    "meeting_not_archived",
                    "the record is not archived: correct the record itself",
                    "记录尚未归档，请直接修改记录",
                ));
            }
            let aid: i64 = diesel::insert_into(meeting_addenda::table)
                .values((
                    meeting_addenda::meeting_id.eq(id),
                    meeting_addenda::body.eq(&text),
                    meeting_addenda::changes.eq(&b.changes),
                    meeting_addenda::created_by.eq(actor.account_id),
                ))
                .returning(meeting_addenda::id)
                .get_result(conn)
                .await?;
            let added = addenda(conn, id).await?.into_iter().find(|a| a.id == aid).ok_or_else(|| AppError::internal("addendum vanished"))?;
            audit::record(conn, By::from(&actor), "addendum", "meeting", Some(id), None::<&()>, Some(&added)).await?;
            Ok(added)
        })
        .await?;
    Ok(HttpResponse::Created().json(added))
}
