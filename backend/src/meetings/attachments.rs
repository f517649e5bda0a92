//! Attachments of a meeting record (docs/domain.md, Organizational life: "attachments (photos,
//! sign-in sheet)"): photos, the scanned sign-in sheet, documents, kept through
//! [`crate::storage`].
//!
//! The type is decided by the content's magic bytes (JPEG, PNG, WebP, PDF), never by the name or
//! the client's Content-Type, and the download is sent with that type, `nosniff` and as an
//! attachment, so an uploaded HTML or script is neither accepted nor ever rendered by the
//! browser. The client's file name is kept only as a label (for the download's name); the storage
//! key is generated. An archived record is read-only; a file added later belongs to one of its
//! addenda (the correction it documents).

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::access;
use super::types::{Attachment, AttachmentRow};
use crate::audit::{self, By};
use crate::auth::Actor;
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::http::ApiQuery;
use crate::schema::{meeting_addenda, meeting_attachments, meetings};
use crate::storage::Storage;
use crate::{AppState, db};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(upload_attachment).service(download_attachment).service(delete_attachment);
}

/// What the file shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentCategory {
    Photo,
    SignInSheet,
    Document,
}

impl AttachmentCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentCategory::Photo => "photo",
            AttachmentCategory::SignInSheet => "sign_in_sheet",
            AttachmentCategory::Document => "document",
        }
    }
}

/// The accepted types, by their magic bytes: (content type, extension).
pub fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image/jpeg", "jpg"))
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", "png"))
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(("image/webp", "webp"))
    } else if bytes.starts_with(b"%PDF-") {
        Some(("application/pdf", "pdf"))
    } else {
        None
    }
}

/// The client's file name as a label: its last path component, without control and format
/// characters (a U+202E in `x\u{202E}gnp.html` shows `xlmth.png`), its stem at most 200
/// characters, and always the extension `ext` of the type the bytes are (a PNG named `a.html`
/// is `a.png`: a download never opens as another type); `upload.{ext}` when nothing is left.
pub fn clean_file_name(name: &str, ext: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let visible = crate::text::without_format(last);
    let visible = visible.trim();
    let stem = match visible.rsplit_once('.') {
        Some((stem, _)) => stem,
        None => visible,
    };
    let stem: String = stem.trim().trim_start_matches('.').chars().take(200).collect();
    let stem = stem.trim_end_matches(['.', ' ']);
    if stem.is_empty() { format!("upload.{ext}") } else { format!("{stem}.{ext}") }
}

fn file_too_large(max: usize) -> AppError {
    let mib = max as f64 / (1024.0 * 1024.0);
    let mut e = AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "file_too_large", "The file is too large", "文件过大")
        .with_detail(format!("files up to {mib:.1} MiB are accepted"), format!("文件不能超过 {mib:.1} MiB"));
    e.fields = vec![FieldError::new("file", "file_too_large", format!("files up to {mib:.1} MiB are accepted"), format!("文件不能超过 {mib:.1} MiB"))];
    e
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    pub category: AttachmentCategory,
    /// For an archived record: the addendum the file belongs to.
    #[param(example = 4)]
    pub addendum_id: Option<i64>,
}

/// The multipart form of an upload.
#[derive(ToSchema)]
#[schema(example = json!({"file": "签到表.pdf"}))]
#[allow(dead_code)]
pub struct AttachmentUpload {
    /// JPEG, PNG, WebP or PDF, up to 10 MiB (DANGJIAN_ATTACHMENT_MAX_BYTES).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Attach a file (JPEG, PNG, WebP or PDF, by content) to a meeting record. An archived record
/// takes files only as part of one of its addenda (`addendum_id`).
#[utoipa::path(
    tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id", example = 12), UploadQuery),
    request_body(content = AttachmentUpload, content_type = "multipart/form-data"),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 201, description = "Stored", body = Attachment),
        (status = 400, description = "A malformed multipart form", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`meeting_archived`: the record is archived and no addendum of it is named", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`file_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`file`: `unsupported_type` or missing; `addendum_id` not of this meeting", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/meetings/{id}/attachments")]
pub async fn upload_attachment(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<i64>,
    query: ApiQuery<UploadQuery>,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let UploadQuery { category, addendum_id } = query.0;
    // Scope first, so a file is read only from someone who may store it; but on a connection
    // given back before the body is read, which a slow client may take minutes to send.
    {
        let mut conn = db::conn(&state.pool).await?;
        let m = access::load(&mut conn, id).await?;
        access::check_manage(&mut conn, &actor, m.org_id).await?;
    }
    let max = state.config.attachment_max_bytes;
    let (name, bytes) = crate::http::read_form_file(&req, payload, max, || file_too_large(max)).await?;
    let name = name.unwrap_or_default();
    let mut conn = db::conn(&state.pool).await?;
    if bytes.is_empty() {
        return Err(AppError::field("file", "required", "the file is empty", "文件为空"));
    }
    let (content_type, ext) = sniff(&bytes)
        .ok_or_else(|| AppError::field("file", "unsupported_type", "send a JPEG, PNG or WebP photo, or a PDF", "仅支持 JPEG、PNG、WebP 图片或 PDF 文件"))?;
    let file_name = clean_file_name(&name, ext);
    let sha = Sha256::digest(&bytes).to_vec();
    let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    let storage = state.config.storage.clone();
    let key = Storage::new_key();
    // A directory backend writes outside the transaction: first, so the row never names a file
    // that is not there, and removed again if the transaction fails.
    if !storage.is_transactional() {
        storage.put(&mut conn, &key, &bytes).await?;
    }
    let (storage_tx, key_tx) = (storage.clone(), key.clone());
    let result = conn
        .transaction::<_, AppError, _>(async move |conn| {
            // Locked, so that an archive cannot slip in between the check and the insert.
            let archived: Option<chrono::DateTime<chrono::Utc>> =
                meetings::table.find(id).select(meetings::archived_at).for_update().first(conn).await.optional()?.ok_or_else(access::not_found)?;
            if let Some(a) = addendum_id {
                let of: Option<i64> = meeting_addenda::table.find(a).select(meeting_addenda::meeting_id).first(conn).await.optional()?;
                if of != Some(id) {
                    return Err(AppError::field("addendum_id", "not_found", "no addendum of this meeting has this id", "本次会议没有该补充说明"));
                }
            } else if archived.is_some() {
                return Err(AppError::conflict(
                    "meeting_archived",
                    "the meeting record is archived; attach the file to an addendum (addendum_id)",
                    "会议记录已归档，请在补充说明中添加附件（addendum_id）",
                ));
            }
            if storage_tx.is_transactional() {
                storage_tx.put(conn, &key_tx, &bytes).await?;
            }
            let row: AttachmentRow = diesel::insert_into(meeting_attachments::table)
                .values((
                    meeting_attachments::meeting_id.eq(id),
                    meeting_attachments::category.eq(category.as_str()),
                    meeting_attachments::file_name.eq(&file_name),
                    meeting_attachments::content_type.eq(content_type),
                    meeting_attachments::size_bytes.eq(size),
                    meeting_attachments::sha256.eq(&sha),
                    meeting_attachments::storage_key.eq(&key_tx),
                    meeting_attachments::uploaded_by.eq(actor.account_id),
                    meeting_attachments::addendum_id.eq(addendum_id),
                ))
                .returning(AttachmentRow::as_returning())
                .get_result(conn)
                .await?;
            if archived.is_none() {
                access::touch(conn, id).await?;
            }
            let att = Attachment::from(row);
            audit::record(conn, By::from(&actor), "create", "meeting_attachment", Some(att.id), None::<&()>, Some(&att)).await?;
            Ok(att)
        })
        .await;
    match result {
        Ok(att) => {
            let mut res = HttpResponse::Created();
            res.insert_header((header::LOCATION, format!("/api/v1/meetings/{id}/attachments/{}", att.id)));
            Ok(res.json(att))
        }
        Err(e) => {
            if !storage.is_transactional()
                && let Err(cleanup) = storage.delete(&mut conn, &key).await
            {
                log::warn!("could not remove the stored file {key} of a failed upload: {cleanup}");
            }
            Err(e)
        }
    }
}

async fn attachment_of(conn: &mut diesel_async::AsyncPgConnection, meeting_id: i64, att_id: i64) -> Result<AttachmentRow, AppError> {
    meeting_attachments::table
        .filter(meeting_attachments::id.eq(att_id))
        .filter(meeting_attachments::meeting_id.eq(meeting_id))
        .select(AttachmentRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::not_found("attachment", "附件"))
}

/// Download an attachment: its bytes with the type found at upload, `nosniff`, as a download
/// named after the uploaded file (RFC 5987 `filename*`).
#[utoipa::path(
    tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id", example = 12), ("att_id" = i64, Path, description = "Attachment id", example = 5)),
    security(("bearer" = ["member", "branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The file, with the type found at upload", content(
            (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"), (Vec<u8> = "application/pdf"),
        )),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting or attachment", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/meetings/{id}/attachments/{att_id}")]
pub async fn download_attachment(state: web::Data<AppState>, actor: Actor, path: web::Path<(i64, i64)>) -> AppResult<HttpResponse> {
    let (id, att_id) = path.into_inner();
    let mut conn = db::conn(&state.pool).await?;
    let m = access::load(&mut conn, id).await?;
    access::check_read(&mut conn, &actor, &m).await?;
    let row = attachment_of(&mut conn, id, att_id).await?;
    let bytes = state
        .config
        .storage
        .get(&mut conn, &row.storage_key)
        .await?
        .ok_or_else(|| AppError::internal(format!("attachment {att_id}: nothing stored under its key")))?;
    // Named by what the bytes are (also a name stored before uploads were renamed so).
    let ext = sniff(&bytes).map_or("bin", |t| t.1);
    let ascii = format!("attachment-{att_id}.{ext}");
    Ok(HttpResponse::Ok()
        .content_type(row.content_type.as_str())
        .insert_header((header::CONTENT_DISPOSITION, crate::http::attachment(&clean_file_name(&row.file_name, ext), &ascii)))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes))
}

/// Remove an attachment (not once the record is archived).
#[utoipa::path(
    tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id", example = 12), ("att_id" = i64, Path, description = "Attachment id", example = 5)),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting or attachment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`meeting_archived`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/meetings/{id}/attachments/{att_id}")]
pub async fn delete_attachment(state: web::Data<AppState>, actor: Actor, path: web::Path<(i64, i64)>) -> AppResult<HttpResponse> {
    let (id, att_id) = path.into_inner();
    let storage = state.config.storage.clone();
    let storage_tx = storage.clone();
    let mut conn = db::conn(&state.pool).await?;
    let key = conn
        .transaction::<_, AppError, _>(async move |conn| {
            access::load_for_write(conn, &actor, id).await?;
            let row = attachment_of(conn, id, att_id).await?;
            diesel::delete(meeting_attachments::table.find(att_id)).execute(conn).await?;
            if storage_tx.is_transactional() {
                storage_tx.delete(conn, &row.storage_key).await?;
            }
            access::touch(conn, id).await?;
            let key = row.storage_key.clone();
            audit::record(conn, By::from(&actor), "delete", "meeting_attachment", Some(att_id), Some(&Attachment::from(row)), None::<&()>).await?;
            Ok(key)
        })
        .await?;
    if !storage.is_transactional() {
        storage.delete(&mut conn, &key).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_four_types_and_nothing_else() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest").map(|t| t.0), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest").map(|t| t.0), Some("image/png"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").map(|t| t.0), Some("image/webp"));
        assert_eq!(sniff(b"%PDF-1.7").map(|t| t.0), Some("application/pdf"));
        assert_eq!(sniff(b"MZ\x90\0"), None); // a Windows executable
        assert_eq!(sniff(b"<html><script>"), None);
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVE"), None);
    }

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(clean_file_name("C:\\Users\\a\\签到表.pdf", "pdf"), "签到表.pdf");
        assert_eq!(clean_file_name("../../etc/passwd", "png"), "passwd.png");
        assert_eq!(clean_file_name("a\r\nb.png", "png"), "ab.png");
        assert_eq!(clean_file_name("", "jpg"), "upload.jpg");
        assert_eq!(clean_file_name("..", "jpg"), "upload.jpg");
        // The detected type's extension, never the client's; no bidi or zero-width characters.
        assert_eq!(clean_file_name("a.html", "png"), "a.png");
        assert_eq!(clean_file_name("photo.JPEG", "jpg"), "photo.jpg");
        assert_eq!(clean_file_name("x\u{202E}gnp.html", "png"), "xgnp.png");
        assert_eq!(clean_file_name("\u{200B}.html", "pdf"), "upload.pdf");
        assert_eq!(clean_file_name("会场 照片.v2.png", "png"), "会场 照片.v2.png");
    }
}
