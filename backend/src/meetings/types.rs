//! The API shapes of a meeting record (records, attendance, votes, attachments, addenda) and the
//! small loaders the detail is assembled from, shared by the meeting modules.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::AppError;
use crate::orgs::types::double_option;
use crate::schema::{meeting_attachments, meeting_votes};

/// A vote taken at a meeting (支部党员大会), with the quorum and outcome computed from docs/domain.md's
/// rules (Member development, last paragraph) at the time; `rule` records the thresholds used.
#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = meeting_votes)]
#[schema(example = json!({
    "id": 3, "motion": "接收李四为预备党员", "subject": "admission", "subject_person_id": 102,
    "voters_due": 9, "voters_present": 7, "yes": 6, "no": 0, "abstain": 1, "quorum_met": true, "passed": true,
    "rule": {"quorum": "voters_present * 2 > voters_due", "pass": "yes * 2 > voters_due"}, "created_at": "2026-03-12T07:30:00Z"
}))]
pub struct Vote {
    pub id: i64,
    pub motion: String,
    /// admission | full_membership | election | other
    #[schema(example = "admission")]
    pub subject: String,
    pub subject_person_id: Option<i64>,
    /// Attendees with a vote (full members; probationary members have none: 章程 art. 7).
    pub voters_due: i32,
    pub voters_present: i32,
    pub yes: i32,
    pub no: i32,
    pub abstain: i32,
    pub quorum_met: bool,
    pub passed: bool,
    #[schema(value_type = Object)]
    pub rule: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// A file attached to a meeting record: a photo, the scanned sign-in sheet, a document.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 5, "meeting_id": 12, "category": "sign_in_sheet", "file_name": "签到表.pdf", "content_type": "application/pdf",
    "size_bytes": 183204, "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "uploaded_at": "2026-03-12T08:00:00Z", "addendum_id": null
}))]
pub struct Attachment {
    pub id: i64,
    pub meeting_id: i64,
    /// photo | sign_in_sheet | document
    #[schema(example = "photo")]
    pub category: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
    /// Added after archiving, as part of this addendum.
    pub addendum_id: Option<i64>,
}

/// An attachment's row as stored (the digest as bytes); [`Attachment`] is its API form.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = meeting_attachments)]
pub struct AttachmentRow {
    pub id: i64,
    pub meeting_id: i64,
    pub category: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: Vec<u8>,
    pub storage_key: String,
    pub uploaded_at: DateTime<Utc>,
    pub addendum_id: Option<i64>,
}

impl From<AttachmentRow> for Attachment {
    fn from(r: AttachmentRow) -> Self {
        Attachment {
            id: r.id,
            meeting_id: r.meeting_id,
            category: r.category,
            file_name: r.file_name,
            content_type: r.content_type,
            size_bytes: r.size_bytes,
            sha256: hex::encode(r.sha256),
            uploaded_at: r.uploaded_at,
            addendum_id: r.addendum_id,
        }
    }
}

/// The votes of a meeting, oldest first.
pub async fn votes_of(conn: &mut AsyncPgConnection, meeting_id: i64) -> Result<Vec<Vote>, AppError> {
    Ok(meeting_votes::table.filter(meeting_votes::meeting_id.eq(meeting_id)).order(meeting_votes::id.asc()).select(Vote::as_select()).load(conn).await?)
}

/// The attachments of a meeting, oldest first.
pub async fn attachments_of(conn: &mut AsyncPgConnection, meeting_id: i64) -> Result<Vec<Attachment>, AppError> {
    let rows: Vec<AttachmentRow> = meeting_attachments::table
        .filter(meeting_attachments::meeting_id.eq(meeting_id))
        .order(meeting_attachments::id.asc())
        .select(AttachmentRow::as_select())
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(Attachment::from).collect())
}

/// planned | held | cancelled. A meeting held last week is entered directly as `held` (clerks
/// enter records after the fact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    Planned,
    Held,
    Cancelled,
}

impl MeetingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MeetingStatus::Planned => "planned",
            MeetingStatus::Held => "held",
            MeetingStatus::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<MeetingStatus> {
        [MeetingStatus::Planned, MeetingStatus::Held, MeetingStatus::Cancelled].into_iter().find(|x| x.as_str() == s)
    }
}

/// pending (not recorded yet) | present | absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Attendance {
    Pending,
    Present,
    Absent,
}

impl Attendance {
    pub fn as_str(self) -> &'static str {
        match self {
            Attendance::Pending => "pending",
            Attendance::Present => "present",
            Attendance::Absent => "absent",
        }
    }
}

/// Why a member was absent (docs/domain.md, Organizational life: "who was absent and why"):
/// 病假 sick, 事假 personal, 公差 business, 其他 other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AbsenceReason {
    Sick,
    Personal,
    Business,
    Other,
}

impl AbsenceReason {
    pub fn as_str(self) -> &'static str {
        match self {
            AbsenceReason::Sick => "sick",
            AbsenceReason::Personal => "personal",
            AbsenceReason::Business => "business",
            AbsenceReason::Other => "other",
        }
    }
}

/// Someone due at a meeting by default (`GET /meetings/attendee-candidates`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"person_id": 101, "name": "张三", "category": "full", "has_vote": true, "is_officer": true, "post": "secretary"}))]
pub struct Candidate {
    pub person_id: i64,
    pub name: String,
    /// full | probationary (null for an officer whose membership is not in the org)
    pub category: Option<String>,
    /// Full members vote; probationary members have no vote (中国共产党章程 art. 7).
    pub has_vote: bool,
    /// A current officer (secretary, deputy, committee member) of the meeting's org.
    pub is_officer: bool,
    /// secretary | deputy_secretary | committee_member
    pub post: Option<String>,
}

/// One person due at a meeting, with their attendance.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"person_id": 101, "name": "张三", "category": "full", "has_vote": true, "attendance": "absent",
    "absence_reason": "sick", "absence_note": "住院", "checked_in_by": null, "checked_in_at": null}))]
pub struct Attendee {
    pub person_id: i64,
    pub name: String,
    pub category: Option<String>,
    pub has_vote: bool,
    pub attendance: Attendance,
    pub absence_reason: Option<AbsenceReason>,
    pub absence_note: Option<String>,
    /// qr (the member scanned the host's code) | clerk (recorded by a worker)
    pub checked_in_by: Option<String>,
    pub checked_in_at: Option<DateTime<Utc>>,
}

/// Attendance counts of a meeting; voters are the attendees with a vote (full members).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[schema(example = json!({"due": 12, "present": 10, "absent": 2, "pending": 0, "voters_due": 11, "voters_present": 9}))]
pub struct Counts {
    pub due: i64,
    pub present: i64,
    pub absent: i64,
    pub pending: i64,
    pub voters_due: i64,
    pub voters_present: i64,
}

/// A correction of an archived record: the record stays as archived, the addendum says what is
/// corrected and why (docs/domain.md: records are locked once archived).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": 2, "body": "出席名单更正：王五实际出席", "changes": {"attendance": [{"person_id": 103, "attendance": "present"}]},
    "created_by_name": "br_b1", "created_at": "2026-04-02T02:00:00Z"}))]
pub struct Addendum {
    pub id: i64,
    pub body: String,
    #[schema(schema_with = changes_schema)]
    pub changes: Option<serde_json::Value>,
    /// The account that added it.
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A meeting record with its attendance, votes, attachments and addenda.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 12, "org_id": 3, "org_name": "机关第一党支部", "kind": "party_lecture", "kind_name": "党课",
    "topic": "学习贯彻党的二十届四中全会精神", "starts_at": "2026-03-12T06:30:00Z", "ends_at": "2026-03-12T08:30:00Z",
    "place": "三楼会议室", "host_person_id": 101, "host_name": "张三", "recorder_person_id": 102, "recorder_name": "李四",
    "status": "held", "cancel_reason": null, "minutes": "……", "resolutions": ["……"], "study_hours": 2.0,
    "archived": false, "archived_at": null, "may_vote": false, "attendees": [], "counts": {"due": 12, "present": 10, "absent": 2, "pending": 0, "voters_due": 11, "voters_present": 9},
    "votes": [], "attachments": [], "addenda": [], "created_at": "2026-03-01T02:00:00Z", "updated_at": "2026-03-12T09:00:00Z", "version": 4
}))]
pub struct MeetingDetail {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub kind: String,
    pub kind_name: String,
    pub topic: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub place: Option<String>,
    pub host_person_id: Option<i64>,
    pub host_name: Option<String>,
    pub recorder_person_id: Option<i64>,
    pub recorder_name: Option<String>,
    pub status: MeetingStatus,
    pub cancel_reason: Option<String>,
    pub minutes: Option<String>,
    pub resolutions: Vec<String>,
    /// Study time each member present earns (党员教育管理工作条例 (2019): 32 h a year, 56 for
    /// secretaries and committee members).
    pub study_hours: f64,
    pub archived: bool,
    pub archived_at: Option<DateTime<Utc>>,
    /// The kind may take votes (支部党员大会).
    pub may_vote: bool,
    pub attendees: Vec<Attendee>,
    pub counts: Counts,
    pub votes: Vec<Vote>,
    pub attachments: Vec<Attachment>,
    pub addenda: Vec<Addendum>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// A meeting in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": 12, "org_id": 3, "org_name": "机关第一党支部", "kind": "party_lecture", "kind_name": "党课",
    "topic": "学习贯彻党的二十届四中全会精神", "starts_at": "2026-03-12T06:30:00Z", "ends_at": null, "place": "三楼会议室",
    "status": "held", "archived": false, "due": 12, "present": 10, "absent": 2, "version": 4}))]
pub struct MeetingSummary {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub kind: String,
    pub kind_name: String,
    pub topic: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub place: Option<String>,
    pub status: MeetingStatus,
    pub archived: bool,
    pub due: i64,
    pub present: i64,
    pub absent: i64,
    pub version: i32,
}

/// Minutes to the API's hours (study time is stored exactly, in minutes).
pub fn hours(minutes: i64) -> f64 {
    (minutes as f64) / 60.0
}

/// `POST /meetings`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"org_id": 3, "kind": "party_lecture", "topic": "学习贯彻党的二十届四中全会精神",
    "starts_at": "2026-12-10T14:30:00+08:00", "ends_at": "2026-12-10T16:30:00+08:00", "place": "三楼会议室",
    "host_person_id": 1, "recorder_person_id": 2, "status": "planned"}))]
pub struct CreateMeeting {
    pub org_id: i64,
    /// A meeting kind's code (`GET /meeting-kinds`) that the org's kind owes.
    pub kind: String,
    /// 1 to 200 characters.
    pub topic: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub place: Option<String>,
    pub host_person_id: Option<i64>,
    pub recorder_person_id: Option<i64>,
    /// `held` for a record entered after the fact (not in the future).
    pub status: MeetingStatus,
    /// Required with `cancelled`.
    pub cancel_reason: Option<String>,
    /// Study time each member present earns; defaults to the kind's (党课: 2 h).
    #[schema(example = 2.0)]
    pub study_hours: Option<f64>,
    /// Who is due; absent: the candidates (`GET /meetings/attendee-candidates`).
    pub attendee_ids: Option<Vec<i64>>,
    pub minutes: Option<String>,
    pub resolutions: Option<Vec<String>>,
}

/// `PATCH /meetings/{id}`: only the fields sent change; null clears an optional one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"starts_at": "2026-12-11T14:30:00+08:00", "place": "五楼报告厅", "version": 2}))]
pub struct UpdateMeeting {
    pub topic: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub ends_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub place: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub host_person_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub recorder_person_id: Option<Option<i64>>,
    pub status: Option<MeetingStatus>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub cancel_reason: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub minutes: Option<Option<String>>,
    pub resolutions: Option<Vec<String>>,
    pub study_hours: Option<f64>,
    /// The version read; alternatively send If-Match.
    pub version: Option<i32>,
}

/// `PUT /meetings/{id}/attendees`: who is due (recorded attendance of those kept stays).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"person_ids": [101, 102, 103], "version": 2}))]
pub struct SetAttendees {
    pub person_ids: Vec<i64>,
    pub version: Option<i32>,
}

/// One line of `PUT /meetings/{id}/attendance`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceItem {
    pub person_id: i64,
    pub attendance: Attendance,
    /// Required when absent (病假 sick, 事假 personal, 公差 business, 其他 other); only then.
    pub absence_reason: Option<AbsenceReason>,
    pub absence_note: Option<String>,
}

/// `PUT /meetings/{id}/attendance`: applied whole or not at all.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"version": 3, "items": [
    {"person_id": 101, "attendance": "present"},
    {"person_id": 102, "attendance": "absent", "absence_reason": "sick", "absence_note": "住院"}]}))]
pub struct SetAttendance {
    pub items: Vec<AttendanceItem>,
    pub version: Option<i32>,
}

/// A body carrying only the version read (`POST /meetings/{id}/archive`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"version": 5}))]
pub struct VersionOnly {
    pub version: Option<i32>,
}

/// `POST /meetings/{id}/addenda`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "出席名单更正：王五实际出席", "changes": {"attendance": [{"person_id": 103, "attendance": "present"}]}}))]
pub struct NewAddendum {
    /// What is corrected and why, 1 to 10,000 characters.
    pub body: String,
    #[schema(schema_with = changes_schema)]
    pub changes: Option<serde_json::Value>,
}

/// An addendum's `changes`: what the correction changes, as the client describes it — a JSON
/// object or array (anything else is 422 `changes`).
fn changes_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::Array(vec![Type::Object, Type::Array, Type::Null]))
        .description(Some("What the correction changes: a JSON object or array"))
        .build()
}

/// One of a member's meetings (`GET /meetings/mine`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": 12, "org_id": 3, "org_name": "机关第一党支部", "kind": "party_lecture", "kind_name": "党课",
    "topic": "学习贯彻党的二十届四中全会精神", "starts_at": "2026-03-12T06:30:00Z", "place": "三楼会议室", "status": "held",
    "attendance": "present", "absence_reason": null, "study_hours": 2.0}))]
pub struct MyMeeting {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub kind: String,
    pub kind_name: String,
    pub topic: String,
    pub starts_at: DateTime<Utc>,
    pub place: Option<String>,
    pub status: MeetingStatus,
    pub attendance: Attendance,
    pub absence_reason: Option<AbsenceReason>,
    /// The meeting's study time (earned when present at a held meeting).
    pub study_hours: f64,
}

/// A member's meetings of one year and the study hours earned (党员教育管理工作条例 (2019)).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"year": 2026, "study_hours": 18.5, "required_hours": 32, "is_officer": false, "items": []}))]
pub struct MyMeetings {
    pub year: i32,
    /// Hours of the held meetings attended (present) that year.
    pub study_hours: f64,
    /// 32 a year; 56 for branch secretaries and committee members (current officers).
    pub required_hours: i32,
    pub is_officer: bool,
    pub items: Vec<MyMeeting>,
}
