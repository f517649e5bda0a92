//! Votes of a branch general meeting (支部党员大会), with quorum.
//!
//! docs/domain.md, Member development, last paragraph: "quorum is more than half of the members with a
//! vote, and a motion passes with more than half of those due to attend" (admission: step 15,
//! full membership: step 23). docs/domain.md, Organizations, renewal: an election needs over 4/5 of
//! those with a vote present, and a candidate is elected with over half of the votes of those
//! present. Members with a vote are the full members due (probationary members have none:
//! 中国共产党章程 art. 7); the counts come from the recorded attendance, not from the client, and
//! the thresholds applied are stored with the result.

use actix_web::{HttpRequest, HttpResponse, delete, post, web};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::access;
use super::types::Vote;
use crate::audit::{self, By};
use crate::auth::Actor;
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::http::{ApiJson, expected_version, if_match};
use crate::schema::{meeting_attendees, meeting_kinds, meeting_votes, people};
use crate::{AppState, db};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_vote).service(delete_vote);
}

/// What the vote decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoteSubject {
    /// Admission as a probationary member (发展党员 step 15).
    Admission,
    /// Full membership at the end of probation (step 23).
    FullMembership,
    /// Electing the committee (换届, 增补).
    Election,
    Other,
}

impl VoteSubject {
    pub fn as_str(self) -> &'static str {
        match self {
            VoteSubject::Admission => "admission",
            VoteSubject::FullMembership => "full_membership",
            VoteSubject::Election => "election",
            VoteSubject::Other => "other",
        }
    }
}

/// A vote's counts (who may vote and who came are taken from the recorded attendance).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"motion": "接收李四为预备党员", "subject": "admission", "subject_person_id": 102, "yes": 6, "no": 0, "abstain": 1, "version": 5}))]
pub struct CreateVote {
    pub motion: String,
    pub subject: VoteSubject,
    /// The candidate (admission, full membership, election).
    pub subject_person_id: Option<i64>,
    pub yes: i32,
    pub no: i32,
    pub abstain: i32,
    /// The meeting's version read (or If-Match).
    pub version: Option<i32>,
}

/// Quorum and outcome by docs/domain.md's rules, with the thresholds applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub quorum_met: bool,
    pub passed: bool,
    pub min_present: i32,
    pub min_yes: i32,
    pub rule: serde_json::Value,
}

/// The decision rules. Ordinary votes (docs/domain.md, Member development): quorum voters_present * 2 >
/// voters_due, passes with yes * 2 > voters_due. Elections (docs/domain.md, Organizations): quorum
/// voters_present * 5 > voters_due * 4, elected with yes * 2 > voters_present.
pub fn decide(subject: VoteSubject, voters_due: i32, voters_present: i32, yes: i32) -> Outcome {
    if subject == VoteSubject::Election {
        let min_present = voters_due * 4 / 5 + 1;
        let min_yes = voters_present / 2 + 1;
        Outcome {
            quorum_met: voters_present * 5 > voters_due * 4,
            passed: voters_present * 5 > voters_due * 4 && yes * 2 > voters_present,
            min_present,
            min_yes,
            rule: json!({
                "quorum": "voters_present * 5 > voters_due * 4", "min_present": min_present,
                "pass": "yes * 2 > voters_present", "min_yes": min_yes,
                "source": "docs/domain.md, Organizations: renewal (quorum over 4/5 of those with a vote; elected with over half of the votes of those present)"
            }),
        }
    } else {
        let min_present = voters_due / 2 + 1;
        let min_yes = voters_due / 2 + 1;
        Outcome {
            quorum_met: voters_present * 2 > voters_due,
            passed: voters_present * 2 > voters_due && yes * 2 > voters_due,
            min_present,
            min_yes,
            rule: json!({
                "quorum": "voters_present * 2 > voters_due", "min_present": min_present,
                "pass": "yes * 2 > voters_due", "min_yes": min_yes,
                "source": "docs/domain.md, Member development (quorum more than half of the members with a vote; passes with more than half of those due to attend)"
            }),
        }
    }
}

/// (voters due, voters present, voters still pending) of a meeting.
async fn voter_counts(conn: &mut AsyncPgConnection, meeting_id: i64) -> Result<(i32, i32, i32), AppError> {
    let rows: Vec<String> = meeting_attendees::table
        .filter(meeting_attendees::meeting_id.eq(meeting_id))
        .filter(meeting_attendees::has_vote.eq(true))
        .select(meeting_attendees::attendance)
        .load(conn)
        .await?;
    let count = |a: &str| i32::try_from(rows.iter().filter(|r| r.as_str() == a).count()).unwrap_or(i32::MAX);
    Ok((i32::try_from(rows.len()).unwrap_or(i32::MAX), count("present"), count("pending")))
}

/// Record a vote of a held meeting of a kind that votes (支部党员大会). Quorum is checked from the
/// recorded attendance (409 `quorum_not_met`, nothing recorded); the outcome is computed, not sent.
#[utoipa::path(
    tag = "meetings",
    params(("id" = i64, Path, description = "Meeting id", example = 12), ("If-Match" = Option<String>, Header, description = "The meeting's ETag", example = "\"5\"")),
    request_body = CreateVote,
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 201, description = "Recorded", body = Vote),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`meeting_cannot_vote` (kind), `meeting_not_held`, `attendance_not_recorded`, `quorum_not_met`, `meeting_archived`, stale `version`", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (`yes`: more votes than voters present)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No version given", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/meetings/{id}/votes")]
pub async fn create_vote(state: web::Data<AppState>, actor: Actor, req: HttpRequest, id: web::Path<i64>, body: ApiJson<CreateVote>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let b = body.0;
    let (expected, via_header) = expected_version(&req, b.version)?;
    let motion = crate::text::clean(&b.motion);
    let mut errors = Vec::new();
    if motion.is_empty() || motion.chars().count() > 500 {
        errors.push(FieldError::new("motion", "required", "the motion is required (at most 500 characters)", "请填写表决事项（不超过 500 字）"));
    }
    for (field, n) in [("yes", b.yes), ("no", b.no), ("abstain", b.abstain)] {
        if n < 0 {
            errors.push(FieldError::new(field, "out_of_range", "a count cannot be negative", "票数不能为负数"));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let mut conn = db::conn(&state.pool).await?;
    let vote = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let m = access::load_for_write(conn, &actor, id).await?;
            if m.version != expected {
                return Err(AppError::stale(via_header));
            }
            let may_vote: bool = meeting_kinds::table.find(&m.kind).select(meeting_kinds::may_vote).first(conn).await?;
            if !may_vote {
                return Err(AppError::conflict(
                    "meeting_cannot_vote",
                    "meetings of this kind do not take votes; votes are taken at a branch general meeting",
                    "此类会议不进行表决；表决应在支部党员大会上进行",
                ));
            }
            if m.status != "held" {
                return Err(AppError::conflict(
                    "meeting_not_held",
                    "record the meeting as held before recording its votes",
                    "请先将会议登记为已召开，再登记表决",
                ));
            }
            if let Some(p) = b.subject_person_id {
                let known: Option<i64> = people::table.find(p).select(people::id).first(conn).await.optional()?;
                if known.is_none() {
                    return Err(AppError::field("subject_person_id", "not_found", "no person has this id", "该人员不存在"));
                }
            }
            let (due, present, pending) = voter_counts(conn, id).await?;
            if pending > 0 {
                return Err(AppError::conflict(
                    "attendance_not_recorded",
                    format!("record the attendance of every member with a vote first ({pending} still pending): the quorum is counted from it"),
                    format!("请先登记所有有表决权党员的出席情况（尚有 {pending} 人未登记），法定人数据此计算"),
                ));
            }
            let outcome = decide(b.subject, due, present, b.yes);
            if !outcome.quorum_met {
                return Err(AppError::conflict(
                    "quorum_not_met",
                    format!("{present} of {due} members with a vote are present; at least {} must be for a valid vote", outcome.min_present),
                    format!("有表决权的应到 {due} 人，实到 {present} 人；至少须到 {} 人表决方有效", outcome.min_present),
                ));
            }
            if b.yes + b.no + b.abstain > present {
                return Err(AppError::field(
                    "yes",
                    "more_votes_than_present",
                    format!("yes + no + abstain cannot exceed the {present} members with a vote present"),
                    format!("赞成、反对、弃权票数之和不能超过实到有表决权党员 {present} 人"),
                ));
            }
            let vote: Vote = diesel::insert_into(meeting_votes::table)
                .values((
                    meeting_votes::meeting_id.eq(id),
                    meeting_votes::motion.eq(&motion),
                    meeting_votes::subject.eq(b.subject.as_str()),
                    meeting_votes::subject_person_id.eq(b.subject_person_id),
                    meeting_votes::voters_due.eq(due),
                    meeting_votes::voters_present.eq(present),
                    meeting_votes::yes.eq(b.yes),
                    meeting_votes::no.eq(b.no),
                    meeting_votes::abstain.eq(b.abstain),
                    meeting_votes::quorum_met.eq(outcome.quorum_met),
                    meeting_votes::passed.eq(outcome.passed),
                    meeting_votes::rule.eq(&outcome.rule),
                    meeting_votes::created_by.eq(actor.account_id),
                ))
                .returning(Vote::as_returning())
                .get_result(conn)
                .await?;
            access::touch(conn, id).await?;
            audit::record(conn, By::from(&actor), "create", "meeting_vote", Some(vote.id), None::<&()>, Some(&vote)).await?;
            Ok(vote)
        })
        .await?;
    let mut res = HttpResponse::Created();
    res.insert_header((actix_web::http::header::LOCATION, format!("/api/v1/meetings/{id}/votes/{}", vote.id)));
    Ok(res.json(vote))
}

/// Remove a vote recorded by mistake (not once the record is archived).
#[utoipa::path(
    tag = "meetings",
    params(
        ("id" = i64, Path, description = "Meeting id", example = 12),
        ("vote_id" = i64, Path, description = "Vote id", example = 3),
        ("If-Match" = Option<String>, Header, description = "The meeting's ETag (optional)", example = "\"6\""),
    ),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting or vote", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`meeting_archived`", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/meetings/{id}/votes/{vote_id}")]
pub async fn delete_vote(state: web::Data<AppState>, actor: Actor, req: HttpRequest, path: web::Path<(i64, i64)>) -> AppResult<HttpResponse> {
    let (id, vote_id) = path.into_inner();
    let expected = if_match(&req)?;
    let mut conn = db::conn(&state.pool).await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let m = access::load_for_write(conn, &actor, id).await?;
        if expected.is_some_and(|v| v != m.version) {
            return Err(AppError::stale(true));
        }
        let vote: Vote = meeting_votes::table
            .filter(meeting_votes::id.eq(vote_id))
            .filter(meeting_votes::meeting_id.eq(id))
            .select(Vote::as_select())
            .first(conn)
            .await
            .optional()?
            .ok_or_else(|| AppError::not_found("vote", "表决记录"))?;
        diesel::delete(meeting_votes::table.find(vote_id)).execute(conn).await?;
        access::touch(conn, id).await?;
        audit::record(conn, By::from(&actor), "delete", "meeting_vote", Some(vote_id), Some(&vote), None::<&()>).await?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_and_passing_follow_domain_md() {
        // 10 with a vote: 5 present is exactly half, not more than half.
        assert!(!decide(VoteSubject::Admission, 10, 5, 5).quorum_met);
        let o = decide(VoteSubject::Admission, 10, 6, 6);
        assert!(o.quorum_met && o.passed && o.min_present == 6 && o.min_yes == 6);
        // Passing counts against those due, not those present: 5 of 10 is not enough.
        assert!(!decide(VoteSubject::FullMembership, 10, 9, 5).passed);
        // Elections: over 4/5 present (8 of 10 is not over), over half of those present.
        assert!(!decide(VoteSubject::Election, 10, 8, 8).quorum_met);
        let e = decide(VoteSubject::Election, 10, 9, 5);
        assert!(e.quorum_met && e.passed && e.min_present == 9 && e.min_yes == 5);
        assert!(!decide(VoteSubject::Election, 10, 9, 4).passed);
    }
}
