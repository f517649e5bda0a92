//! The API shapes of a meeting record (records, attendance, votes, attachments, addenda) and the
//! small loaders the detail is assembled from, shared by the meeting modules.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::schema::{meeting_attachments, meeting_votes};

/// A vote taken at a meeting (支部党员大会), with the quorum and outcome computed from DOMAIN.md's
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
    Ok(meeting_votes::table
        .filter(meeting_votes::meeting_id.eq(meeting_id))
        .order(meeting_votes::id.asc())
        .select(Vote::as_select())
        .load(conn)
        .await?)
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
