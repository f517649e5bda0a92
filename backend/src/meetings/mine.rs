//! A member's own meetings and study hours (docs/domain.md, Organizational life: members owe 32 study
//! hours a year, branch secretaries and committee members 56; 党员教育管理工作条例 (2019)).
//! Study time counts for held meetings the member attended (present), at the meeting's own
//! study time (党课 and any kind with study time).

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::exists;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::records::{parse_attendance, parse_reason};
use super::types::{Attendance, MeetingStatus, MyMeeting, MyMeetings, hours};
use crate::auth::Actor;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiQuery;
use crate::schema::{meeting_attendees, meeting_kinds, meetings, org_officers, orgs};
use crate::{AppState, db};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(my_meetings);
}

/// Yearly study hours: 56 for secretaries and committee members, 32 for every other member
/// (党员教育管理工作条例 (2019)).
pub const REQUIRED_HOURS: i32 = 32;
pub const REQUIRED_HOURS_OFFICER: i32 = 56;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MineQuery {
    /// The calendar year (local); default this year.
    #[param(example = 2026)]
    pub year: Option<i32>,
}

/// Your meetings of a year with your attendance, and the study hours you earned against the
/// year's requirement (32 h; 56 h for a secretary or committee member).
#[utoipa::path(
    tag = "meetings",
    params(MineQuery),
    security(("bearer" = ["member"])),
    responses(
        (status = 200, description = "Your meetings and study hours", body = MyMeetings),
        (status = 422, description = "Invalid year", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/meetings/mine")]
pub async fn my_meetings(state: web::Data<AppState>, actor: Actor, query: ApiQuery<MineQuery>) -> AppResult<HttpResponse> {
    let year = query.year.unwrap_or_else(|| state.config.clock.this_year());
    let (Some(start), Some(end)) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year + 1, 1, 1)) else {
        return Err(AppError::field("year", "out_of_range", "not a valid year", "年份无效"));
    };
    if !(1921..=9998).contains(&year) {
        return Err(AppError::field("year", "out_of_range", "not a valid year", "年份无效"));
    }
    let Some(person) = actor.person_id else {
        return Err(AppError::forbidden("your account has no member record", "您的账号未关联党员信息"));
    };
    let mut conn = db::conn(&state.pool).await?;
    type Row = (i64, i64, String, String, String, String, DateTime<Utc>, Option<String>, String, String, Option<String>, i32);
    let rows: Vec<Row> = meeting_attendees::table
        .inner_join(meetings::table.inner_join(orgs::table).inner_join(meeting_kinds::table))
        .filter(meeting_attendees::person_id.eq(person))
        .filter(meetings::starts_at.ge(state.config.clock.midnight(start)))
        .filter(meetings::starts_at.lt(state.config.clock.midnight(end)))
        .order((meetings::starts_at.desc(), meetings::id.desc()))
        .select((
            meetings::id,
            meetings::org_id,
            orgs::name,
            meetings::kind,
            meeting_kinds::name,
            meetings::topic,
            meetings::starts_at,
            meetings::place,
            meetings::status,
            meeting_attendees::attendance,
            meeting_attendees::absence_reason,
            meetings::study_minutes,
        ))
        .load(&mut conn)
        .await?;
    let mut earned: i64 = 0;
    let items: Vec<MyMeeting> = rows
        .into_iter()
        .map(|(id, org_id, org_name, kind, kind_name, topic, starts_at, place, status, attendance, reason, minutes)| {
            let status = MeetingStatus::parse(&status).unwrap_or(MeetingStatus::Planned);
            let attendance = parse_attendance(&attendance);
            if status == MeetingStatus::Held && attendance == Attendance::Present {
                earned += i64::from(minutes);
            }
            MyMeeting {
                id,
                org_id,
                org_name,
                kind,
                kind_name,
                topic,
                starts_at,
                place,
                status,
                attendance,
                absence_reason: reason.as_deref().and_then(parse_reason),
                study_hours: hours(i64::from(minutes)),
            }
        })
        .collect();
    // A current officer of any org: a secretary, deputy or committee member.
    let is_officer: bool = diesel::select(exists(org_officers::table.filter(org_officers::person_id.eq(person)).filter(org_officers::until.is_null())))
        .get_result(&mut conn)
        .await?;
    Ok(HttpResponse::Ok().json(MyMeetings {
        year,
        study_hours: hours(earned),
        required_hours: if is_officer { REQUIRED_HOURS_OFFICER } else { REQUIRED_HOURS },
        is_officer,
        items,
    }))
}
