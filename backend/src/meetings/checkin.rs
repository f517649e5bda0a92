//! QR check-in: the host shows a code that changes every 30 seconds; a member, logged in on a
//! phone, scans it and is marked present.
//!
//! The code is stateless — `{window}.{mac}` with window = unix seconds / 30 and mac = the first
//! 22 characters of base64url(HMAC-SHA256(k, "{meeting_id}:{window}")), k = HMAC-SHA256(JWT
//! secret, "meeting-checkin") — so every server process checks it without shared memory, the key
//! for this purpose differs from the one that signs tokens, and a code names its meeting (a code
//! from another meeting never verifies). A scan is accepted in the code's window and the next one
//! (a code that turned while the phone focused), never older; macs are compared in constant time.

use actix_web::{HttpResponse, get, post, web};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::access::{self, MeetingRow};
use crate::audit::{self, By};
use crate::auth::Actor;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiJson;
use crate::schema::{meeting_attendees, meetings};
use crate::{AppState, db};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(checkin_code).service(checkin);
}

/// Seconds a code is the current one.
pub const WINDOW_SECS: i64 = 30;
/// Characters of the base64url MAC kept in the code (132 bits).
const MAC_CHARS: usize = 22;

fn hmac(key: &[u8], msg: &[u8]) -> Result<[u8; 32], AppError> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).map_err(|e| AppError::internal(format!("check-in key: {e}")))?;
    mac.update(msg);
    Ok(mac.finalize().into_bytes().into())
}

/// The window a moment falls in.
pub fn window_of(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(WINDOW_SECS)
}

/// The check-in code of a meeting for a window.
pub fn code_for(jwt_secret: &[u8], meeting_id: i64, window: i64) -> Result<String, AppError> {
    let key = hmac(jwt_secret, b"meeting-checkin")?;
    let mac = hmac(&key, format!("{meeting_id}:{window}").as_bytes())?;
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac);
    Ok(format!("{window}.{}", &text[..MAC_CHARS]))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn code_invalid() -> AppError {
    AppError::field(
        "code",
        "checkin_code_invalid",
        "this is not the check-in code of this meeting; scan the code the host shows",
        "不是本次会议的签到码，请扫描主持人展示的二维码",
    )
}

fn code_expired() -> AppError {
    AppError::field(
        "code",
        "checkin_code_expired",
        "the check-in code has expired; scan the code the host shows now",
        "签到码已过期，请扫描主持人当前展示的二维码",
    )
}

/// Checks a scanned code for this meeting at `now`: 422 `checkin_code_invalid` (malformed, wrong
/// MAC, another meeting's, from the future) or `checkin_code_expired` (older than the previous
/// window).
pub fn verify(jwt_secret: &[u8], meeting_id: i64, code: &str, now: DateTime<Utc>) -> Result<(), AppError> {
    let (window, _) = code.trim().split_once('.').ok_or_else(code_invalid)?;
    let window: i64 = window.parse().map_err(|_| code_invalid())?;
    let expected = code_for(jwt_secret, meeting_id, window)?;
    if !constant_time_eq(expected.as_bytes(), code.trim().as_bytes()) {
        return Err(code_invalid());
    }
    let current = window_of(now);
    if window > current {
        return Err(code_invalid());
    }
    if current - window > 1 {
        return Err(code_expired());
    }
    Ok(())
}

fn checkin_closed(en: &str, zh: &str) -> AppError {
    AppError::conflict("checkin_closed", en.to_string(), zh.to_string())
}

/// Check-in is open for a meeting neither cancelled nor archived, from 2 hours before it starts
/// until 2 hours after it ends (or, with no end given, 4 hours after the start).
fn check_open(m: &MeetingRow, now: DateTime<Utc>) -> Result<(), AppError> {
    if m.archived_at.is_some() {
        return Err(checkin_closed("the meeting record is archived", "会议记录已归档，不能签到"));
    }
    if m.status == "cancelled" {
        return Err(checkin_closed("the meeting was cancelled", "会议已取消，不能签到"));
    }
    let end = m.ends_at.unwrap_or(m.starts_at + Duration::hours(4));
    if now < m.starts_at - Duration::hours(2) || now > end + Duration::hours(2) {
        return Err(checkin_closed(
            "check-in is open from 2 hours before the meeting until 2 hours after it ends",
            "签到时间为会议开始前 2 小时至会议结束后 2 小时",
        ));
    }
    Ok(())
}

/// The code for the host's screen.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "59400000.q8Hc1mXl0p8b2b9sV0aXcA", "path": "/checkin?m=12&c=59400000.q8Hc1mXl0p8b2b9sV0aXcA", "expires_at": "2026-06-01T08:00:30Z", "valid_secs": 30}))]
pub struct CheckinCode {
    pub code: String,
    /// The SPA route the QR code opens (relative to the site).
    pub path: String,
    /// When the next code replaces it (it is still accepted for one more window).
    pub expires_at: DateTime<Utc>,
    pub valid_secs: i64,
}

/// The current check-in code of a meeting, for the host to show as a QR code (fetch again every
/// `valid_secs`).
#[utoipa::path(
    tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id", example = 12)),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The code", body = CheckinCode),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`checkin_closed`: cancelled, archived, or not around the meeting's time", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/meetings/{id}/checkin-code")]
pub async fn checkin_code(state: web::Data<AppState>, actor: Actor, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let mut conn = db::conn(&state.pool).await?;
    let m = access::load(&mut conn, id).await?;
    access::check_manage(&mut conn, &actor, m.org_id).await?;
    let now = state.config.clock.now();
    check_open(&m, now)?;
    let window = window_of(now);
    let code = code_for(&state.config.jwt_secret, id, window)?;
    let expires_at = DateTime::from_timestamp((window + 1) * WINDOW_SECS, 0).unwrap_or(now);
    Ok(HttpResponse::Ok().json(CheckinCode { path: format!("/checkin?m={id}&c={code}"), code, expires_at, valid_secs: WINDOW_SECS }))
}

/// A scanned code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "59400000.q8Hc1mXl0p8b2b9sV0aXcA"}))]
pub struct CheckinRequest {
    pub code: String,
}

/// The member's attendance after the scan.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"meeting_id": 12, "person_id": 101, "attendance": "present", "checked_in_at": "2026-06-01T08:00:12Z", "already": false}))]
pub struct CheckinResult {
    pub meeting_id: i64,
    pub person_id: i64,
    #[schema(example = "present")]
    pub attendance: String,
    pub checked_in_at: DateTime<Utc>,
    /// Already marked present before this scan (nothing changed).
    pub already: bool,
}

/// Check in to a meeting with the code the host shows (the member themself, due at it).
#[utoipa::path(
    tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id", example = 12)),
    request_body = CheckinRequest,
    security(("bearer" = ["member"])),
    responses(
        (status = 200, description = "Present", body = CheckinResult),
        (status = 403, description = "Not your meeting (`out_of_scope`), or not due at it (`not_an_attendee`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`checkin_closed`: cancelled, archived, or not around the meeting's time", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`code`: `checkin_code_invalid` or `checkin_code_expired`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/meetings/{id}/checkin")]
pub async fn checkin(state: web::Data<AppState>, actor: Actor, id: web::Path<i64>, body: ApiJson<CheckinRequest>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let code = body.0.code;
    let person = actor.person_id.ok_or_else(|| AppError::forbidden("this account is not linked to a member", "该账号未关联党员"))?;
    let now = state.config.clock.now();
    let secret = state.config.jwt_secret.clone();
    let mut conn = db::conn(&state.pool).await?;
    let result = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let m: MeetingRow =
                meetings::table.find(id).select(MeetingRow::as_select()).for_update().first(conn).await.optional()?.ok_or_else(access::not_found)?;
            access::check_read(conn, &actor, &m).await?;
            verify(&secret, id, &code, now)?;
            check_open(&m, now)?;
            let row: Option<(String, Option<DateTime<Utc>>)> = meeting_attendees::table
                .find((id, person))
                .select((meeting_attendees::attendance, meeting_attendees::checked_in_at))
                .first(conn)
                .await
                .optional()?;
            let Some((attendance, checked_in_at)) = row else {
                return Err(AppError::new(actix_web::http::StatusCode::FORBIDDEN, "not_an_attendee", "Not due at this meeting", "不在本次会议应到人员之列")
                    .with_detail("you are not among those due at this meeting; ask the host to add you", "您不在本次会议的应到人员名单中，请联系主持人添加"));
            };
            if attendance == "present" {
                return Ok(CheckinResult { meeting_id: id, person_id: person, attendance, checked_in_at: checked_in_at.unwrap_or(now), already: true });
            }
            diesel::update(meeting_attendees::table.find((id, person)))
                .set((
                    meeting_attendees::attendance.eq("present"),
                    meeting_attendees::absence_reason.eq(None::<String>),
                    meeting_attendees::absence_note.eq(None::<String>),
                    meeting_attendees::checked_in_by.eq("qr"),
                    meeting_attendees::checked_in_at.eq(now),
                ))
                .execute(conn)
                .await?;
            access::touch(conn, id).await?;
            let result = CheckinResult { meeting_id: id, person_id: person, attendance: "present".into(), checked_in_at: now, already: false };
            audit::record(conn, By::from(&actor), "checkin", "meeting", Some(id), None::<&()>, Some(&result)).await?;
            Ok(result)
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"unit-test-secret-0123456789";

    #[test]
    fn current_and_previous_window_pass_older_expire_forged_fail() {
        let now = Utc::now();
        let w = window_of(now);
        assert!(verify(SECRET, 7, &code_for(SECRET, 7, w).unwrap(), now).is_ok());
        assert!(verify(SECRET, 7, &code_for(SECRET, 7, w - 1).unwrap(), now).is_ok());
        assert_eq!(verify(SECRET, 7, &code_for(SECRET, 7, w - 2).unwrap(), now).unwrap_err().fields[0].code, "checkin_code_expired");
        assert_eq!(verify(SECRET, 7, &code_for(SECRET, 7, w + 1).unwrap(), now).unwrap_err().fields[0].code, "checkin_code_invalid");
        assert_eq!(verify(SECRET, 8, &code_for(SECRET, 7, w).unwrap(), now).unwrap_err().fields[0].code, "checkin_code_invalid");
        assert_eq!(verify(b"another-secret-0123456789", 7, &code_for(SECRET, 7, w).unwrap(), now).unwrap_err().fields[0].code, "checkin_code_invalid");
        for bad in ["", "abc", "12", ".", "x.y"] {
            assert_eq!(verify(SECRET, 7, bad, now).unwrap_err().fields[0].code, "checkin_code_invalid", "{bad}");
        }
    }

    #[test]
    fn the_code_is_window_dot_22_base64url_characters() {
        let c = code_for(SECRET, 1, 123).unwrap();
        let (w, mac) = c.split_once('.').unwrap();
        assert_eq!(w, "123");
        assert_eq!(mac.len(), 22);
        assert!(mac.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }
}
