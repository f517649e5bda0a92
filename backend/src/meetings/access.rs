//! Who may read or write a meeting (docs/domain.md, Roles): the org-managing roles over the
//! meeting's org (a branch worker its branch and groups, a committee worker its subtree,
//! political_dept everything in its scope); a member the meetings they are due at or of their own
//! org. Archived records are read-only (docs/domain.md: "Records are locked once archived").

use chrono::{DateTime, Utc};
use diesel::dsl::exists;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::auth::Actor;
use crate::error::AppError;
use crate::orgs::queries as org_queries;
use crate::schema::{meeting_attendees, meetings, org_officers};

/// A meeting's row, as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = meetings)]
pub struct MeetingRow {
    pub id: i64,
    pub org_id: i64,
    pub kind: String,
    pub topic: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub place: Option<String>,
    pub host_person_id: Option<i64>,
    pub recorder_person_id: Option<i64>,
    pub status: String,
    pub cancel_reason: Option<String>,
    pub minutes: Option<String>,
    pub resolutions: serde_json::Value,
    pub study_minutes: i32,
    pub archived_at: Option<DateTime<Utc>>,
    pub archived_by: Option<i64>,
    pub created_by: Option<i64>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn not_found() -> AppError {
    AppError::not_found("meeting", "会议")
}

/// 409 `meeting_archived`: the record is locked; corrections are addenda.
pub fn archived_error() -> AppError {
    AppError::conflict(
        "meeting_archived",
        "the meeting record is archived and read-only; add an addendum to correct it",
        "会议记录已归档，不能修改；如需更正请添加补充说明",
    )
}

/// The meeting, or 404.
pub async fn load(conn: &mut AsyncPgConnection, id: i64) -> Result<MeetingRow, AppError> {
    meetings::table.find(id).select(MeetingRow::as_select()).first(conn).await.optional()?.ok_or_else(not_found)
}

/// The meeting locked for a write (`FOR UPDATE`), or 404; refuses an archived one with 409.
pub async fn load_for_write(conn: &mut AsyncPgConnection, actor: &Actor, id: i64) -> Result<MeetingRow, AppError> {
    let row = meetings::table.find(id).select(MeetingRow::as_select()).for_update().first(conn).await.optional()?.ok_or_else(not_found)?;
    check_manage(conn, actor, row.org_id).await?;
    if row.archived_at.is_some() {
        return Err(archived_error());
    }
    Ok(row)
}

/// May the actor's org-managing grants write meetings of this org (its own org included)?
pub async fn check_manage(conn: &mut AsyncPgConnection, actor: &Actor, org_id: i64) -> Result<(), AppError> {
    if org_queries::manageable(conn, &actor.manage_scope(), org_id, false).await? { Ok(()) } else { Err(AppError::out_of_scope()) }
}

/// May the actor read this meeting: an org-managing grant over its org, or (member role) being
/// due at it or a member of its org.
pub async fn check_read(conn: &mut AsyncPgConnection, actor: &Actor, row: &MeetingRow) -> Result<(), AppError> {
    let scope = actor.scope();
    if org_queries::manageable(conn, &actor.manage_scope(), row.org_id, false).await? {
        return Ok(());
    }
    if let Some(person) = scope.person_id {
        let due: bool =
            diesel::select(exists(meeting_attendees::table.filter(meeting_attendees::meeting_id.eq(row.id)).filter(meeting_attendees::person_id.eq(person))))
                .get_result(conn)
                .await?;
        if due || org_queries::member_org(conn, Some(person)).await? == Some(row.org_id) {
            return Ok(());
        }
    }
    Err(AppError::out_of_scope())
}

/// May the actor see why other attendees were absent (病假 and the like are personal)? Those
/// who manage the meeting's org and its current officers (secretary, committee); everyone else
/// sees only their own reason (docs/domain.md, Confidentiality).
pub async fn sees_absence_reasons(conn: &mut AsyncPgConnection, actor: &Actor, row: &MeetingRow) -> Result<bool, AppError> {
    if org_queries::manageable(conn, &actor.manage_scope(), row.org_id, false).await? {
        return Ok(true);
    }
    let Some(person) = actor.scope().person_id else { return Ok(false) };
    Ok(diesel::select(exists(
        org_officers::table.filter(org_officers::org_id.eq(row.org_id)).filter(org_officers::person_id.eq(person)).filter(org_officers::until.is_null()),
    ))
    .get_result(conn)
    .await?)
}

/// Bumps the version after a write to the meeting or to what hangs off it (attendance, votes,
/// attachments), so that a client holding the old ETag learns of the change.
pub async fn touch(conn: &mut AsyncPgConnection, id: i64) -> Result<i32, AppError> {
    Ok(diesel::update(meetings::table.find(id))
        .set((meetings::version.eq(meetings::version + 1), meetings::updated_at.eq(diesel::dsl::now)))
        .returning(meetings::version)
        .get_result(conn)
        .await?)
}
