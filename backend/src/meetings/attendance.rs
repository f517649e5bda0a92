//! Who is due at a meeting and who came (docs/domain.md, Organizational life: "the members due, who
//! attended, who was absent and why"). The attendance of a meeting is recorded in one request,
//! whole or not at all: one bad line refuses them all, each bad line named.

use std::collections::{HashMap, HashSet};

use actix_web::{HttpRequest, HttpResponse, put, web};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use utoipa_actix_web::service_config::ServiceConfig;

use super::access;
use super::records::{add_attendees, attendees, detail, eligible, lock_version, notify_people};
use super::types::{Attendance, MeetingDetail, MeetingStatus, SetAttendance, SetAttendees};
use crate::audit::{self, By};
use crate::auth::Actor;
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::http::{ApiJson, expected_version, with_etag};
use crate::schema::meeting_attendees;
use crate::{AppState, db};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(set_attendees).service(set_attendance);
}

/// Set who is due: those kept keep their recorded attendance, new ones are pending, and those
/// left out are removed. New attendees of a planned meeting are notified.
#[utoipa::path(
    tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id", example = 12), ("If-Match" = Option<String>, Header, description = "The ETag read", example = "\"2\"")),
    request_body = SetAttendees,
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The meeting with its new attendees", body = MeetingDetail, headers(("ETag" = String))),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale `version`, or archived (meeting_archived)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Someone outside the org (person_ids[i])", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No version given", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/meetings/{id}/attendees")]
pub async fn set_attendees(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<i64>,
    body: ApiJson<SetAttendees>,
) -> AppResult<HttpResponse> {
    let clock = state.config.clock;
    let id = id.into_inner();
    let b = body.0;
    let expected = expected_version(&req, b.version)?;
    let mut conn = db::conn(&state.pool).await?;
    let d = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let row = lock_version(conn, &actor, id, expected).await?;
            let ok = eligible(conn, row.org_id, &b.person_ids).await?;
            let mut errors = Vec::new();
            let mut seen = HashSet::new();
            for (i, p) in b.person_ids.iter().enumerate() {
                if !ok.contains(p) {
                    errors.push(FieldError::new(
                        format!("person_ids[{i}]"),
                        "not_in_org",
                        format!("person {p} is not a member of this organization (or of its groups) nor one of its officers"),
                        format!("人员 {p} 不是本组织（含其党小组）的党员或委员"),
                    ));
                } else if !seen.insert(*p) {
                    errors.push(FieldError::new(format!("person_ids[{i}]"), "duplicate", format!("person {p} is listed twice"), format!("人员 {p} 重复")));
                }
            }
            if !errors.is_empty() {
                return Err(AppError::validation(errors));
            }
            let before = attendees(conn, id).await?;
            let had: HashSet<i64> = before.iter().map(|a| a.person_id).collect();
            diesel::delete(meeting_attendees::table.filter(meeting_attendees::meeting_id.eq(id)).filter(meeting_attendees::person_id.ne_all(&b.person_ids)))
                .execute(conn)
                .await?;
            let new: Vec<i64> = b.person_ids.iter().copied().filter(|p| !had.contains(p)).collect();
            add_attendees(conn, id, &new).await?;
            access::touch(conn, id).await?;
            let d = detail(conn, id).await?;
            if d.status == MeetingStatus::Planned && !new.is_empty() {
                notify_people(conn, &clock, &d, "meeting_planned", &new).await?;
            }
            audit::record(
                conn,
                By::from(&actor),
                "update",
                "meeting",
                Some(id),
                Some(&serde_json::json!({ "attendees": before })),
                Some(&serde_json::json!({ "attendees": d.attendees })),
            )
            .await?;
            Ok(d)
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), d.version, &d))
}

/// Record attendance: each line sets one attendee's attendance. Absent needs a reason (病假
/// sick, 事假 personal, 公差 business, 其他 other), and only absent takes one. Applied whole or not
/// at all: any bad line answers 422 naming it (`items[2].absence_reason`) and changes nothing.
/// Present is recorded as by the clerk (a QR check-in already recorded stays as it was).
#[utoipa::path(
    tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id", example = 12), ("If-Match" = Option<String>, Header, description = "The ETag read", example = "\"3\"")),
    request_body = SetAttendance,
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The meeting with the attendance recorded", body = MeetingDetail, headers(("ETag" = String))),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale `version`, archived (meeting_archived), or cancelled (meeting_cancelled)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad lines, each named; nothing was recorded", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No version given", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/meetings/{id}/attendance")]
pub async fn set_attendance(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<i64>,
    body: ApiJson<SetAttendance>,
) -> AppResult<HttpResponse> {
    let clock = state.config.clock;
    let id = id.into_inner();
    let b = body.0;
    let expected = expected_version(&req, b.version)?;
    let mut conn = db::conn(&state.pool).await?;
    let d = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let row = lock_version(conn, &actor, id, expected).await?;
            if row.status == "cancelled" {
                return Err(AppError::conflict(
                    "meeting_cancelled",
                    "the meeting was cancelled: there is no attendance to record",
                    "会议已取消，无需登记出席情况",
                ));
            }
            let before = attendees(conn, id).await?;
            let due: HashMap<i64, &super::types::Attendee> = before.iter().map(|a| (a.person_id, a)).collect();
            // Every line checked before anything is written, so the request is whole or nothing.
            let mut errors = Vec::new();
            let mut seen = HashSet::new();
            for (i, item) in b.items.iter().enumerate() {
                if !due.contains_key(&item.person_id) {
                    errors.push(FieldError::new(
                        format!("items[{i}].person_id"),
                        "not_an_attendee",
                        format!("person {} is not due at this meeting (set the attendees first)", item.person_id),
                        format!("人员 {} 不在本次会议应到人员中", item.person_id),
                    ));
                } else if !seen.insert(item.person_id) {
                    errors.push(FieldError::new(
                        format!("items[{i}].person_id"),
                        "duplicate",
                        format!("person {} is listed twice", item.person_id),
                        format!("人员 {} 重复", item.person_id),
                    ));
                }
                match (item.attendance, item.absence_reason) {
                    (Attendance::Absent, None) => errors.push(FieldError::new(
                        format!("items[{i}].absence_reason"),
                        "required",
                        "say why the member was absent: sick, personal, business or other",
                        "请选择缺席原因：病假、事假、公差或其他",
                    )),
                    (Attendance::Present | Attendance::Pending, Some(_)) => errors.push(FieldError::new(
                        format!("items[{i}].absence_reason"),
                        "only_when_absent",
                        "a reason is given only for an absence",
                        "只有缺席才填写缺席原因",
                    )),
                    _ => {}
                }
                if item.absence_note.as_ref().is_some_and(|n| n.chars().count() > 500) {
                    errors.push(FieldError::new(format!("items[{i}].absence_note"), "too_long", "at most 500 characters", "说明不超过 500 字"));
                }
            }
            if !errors.is_empty() {
                return Err(AppError::validation(errors));
            }
            // The lines as column arrays, written by one UPDATE … FROM unnest: 全部出席 of a
            // branch of thousands is one statement, not one per member.
            let now = clock.now();
            let mut people = Vec::with_capacity(b.items.len());
            let mut states = Vec::with_capacity(b.items.len());
            let mut reasons: Vec<Option<&str>> = Vec::with_capacity(b.items.len());
            let mut notes: Vec<Option<String>> = Vec::with_capacity(b.items.len());
            let mut bys: Vec<Option<String>> = Vec::with_capacity(b.items.len());
            let mut ats: Vec<Option<chrono::DateTime<chrono::Utc>>> = Vec::with_capacity(b.items.len());
            for item in &b.items {
                let was = due.get(&item.person_id).map(|a| (a.attendance, a.checked_in_by.clone(), a.checked_in_at));
                let note = item.absence_note.as_ref().map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
                let (by, at) = match (item.attendance, was) {
                    // Already present: keep how and when (a QR scan stays a QR scan).
                    (Attendance::Present, Some((Attendance::Present, by, at))) => (by, at),
                    (Attendance::Present, _) => (Some("clerk".to_string()), Some(now)),
                    _ => (None, None),
                };
                people.push(item.person_id);
                states.push(item.attendance.as_str());
                reasons.push(item.absence_reason.map(|r| r.as_str()));
                notes.push(if item.attendance == Attendance::Absent { note } else { None });
                bys.push(by);
                ats.push(at);
            }
            {
                use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz};
                diesel::sql_query(
                    "UPDATE meeting_attendees a SET attendance = u.attendance, absence_reason = u.reason, \
                            absence_note = u.note, checked_in_by = u.checked_by, checked_in_at = u.checked_at \
                       FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[]) \
                            AS u(person_id, attendance, reason, note, checked_by, checked_at) \
                      WHERE a.meeting_id = $1 AND a.person_id = u.person_id",
                )
                .bind::<BigInt, _>(id)
                .bind::<Array<BigInt>, _>(&people)
                .bind::<Array<Text>, _>(&states)
                .bind::<Array<Nullable<Text>>, _>(&reasons)
                .bind::<Array<Nullable<Text>>, _>(&notes)
                .bind::<Array<Nullable<Text>>, _>(&bys)
                .bind::<Array<Nullable<Timestamptz>>, _>(&ats)
                .execute(conn)
                .await?;
            }
            access::touch(conn, id).await?;
            let d = detail(conn, id).await?;
            audit::record(
                conn,
                By::from(&actor),
                "attendance",
                "meeting",
                Some(id),
                Some(&serde_json::json!({ "attendees": before })),
                Some(&serde_json::json!({ "attendees": d.attendees })),
            )
            .await?;
            Ok(d)
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), d.version, &d))
}
