//! QR check-in (a code per 30-second window, stateless HMAC) and votes with quorum (docs/domain.md,
//! Member development, last paragraph; Organizations, renewal). Meetings and attendees are
//! inserted directly, so these tests do not depend on the record endpoints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{Fx, JWT_SECRET, Req, users};
use dangjian::meetings::checkin::{code_for, window_of};
use dangjian::schema::{meeting_attendees as ma, meeting_votes, meetings as m};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::json;

async fn meeting(fx: &Fx, org: i64, kind: &str, status: &str, starts_at: DateTime<Utc>) -> i64 {
    diesel::insert_into(m::table)
        .values((m::org_id.eq(org), m::kind.eq(kind), m::topic.eq("测试会议"), m::starts_at.eq(starts_at), m::status.eq(status)))
        .returning(m::id)
        .get_result(&mut fx.conn().await)
        .await
        .unwrap()
}

async fn attendee(fx: &Fx, meeting: i64, person: i64, has_vote: bool, attendance: &str) {
    let reason = (attendance == "absent").then_some("sick");
    diesel::insert_into(ma::table)
        .values((ma::meeting_id.eq(meeting), ma::person_id.eq(person), ma::has_vote.eq(has_vote), ma::attendance.eq(attendance), ma::absence_reason.eq(reason)))
        .execute(&mut fx.conn().await)
        .await
        .unwrap();
}

async fn archive(fx: &Fx, meeting: i64) {
    diesel::update(m::table.find(meeting)).set(m::archived_at.eq(common::clock().now())).execute(&mut fx.conn().await).await.unwrap();
}

async fn version(fx: &Fx, meeting: i64) -> i32 {
    m::table.find(meeting).select(m::version).first(&mut fx.conn().await).await.unwrap()
}

fn checkin(meeting: i64, code: &str) -> Req {
    Req::post(format!("/api/v1/meetings/{meeting}/checkin")).json(json!({"code": code}))
}

#[actix_web::test]
async fn a_fresh_code_checks_the_member_in_and_stale_forged_or_foreign_codes_are_refused() {
    let fx = Fx::new().await;
    let (o, p) = (fx.orgs, fx.people);
    let branch = fx.login(users::BR_B1).await;
    let zs = fx.login(users::MEMBER_ZS).await;
    let id = meeting(&fx, o.b1, "theme_party_day", "planned", common::clock().now() + Duration::minutes(10)).await;
    attendee(&fx, id, p.zhangsan, true, "pending").await;
    let other = meeting(&fx, o.b1, "party_lecture", "planned", common::clock().now()).await;
    attendee(&fx, other, p.zhangsan, true, "pending").await;

    // The host's code.
    let r = fx.send(Req::get(format!("/api/v1/meetings/{id}/checkin-code")).token(&branch)).await;
    r.expect(200);
    let code = r.json["code"].as_str().unwrap().to_string();
    assert_eq!(r.json["valid_secs"], 30);
    assert_eq!(r.json["path"], json!(format!("/checkin?m={id}&c={code}")));
    let (window, mac) = code.split_once('.').unwrap();
    assert_eq!(mac.len(), 22);
    let window: i64 = window.parse().unwrap();
    assert!((window_of(common::clock().now()) - window) <= 1);
    // A member cannot fetch the code.
    fx.send(Req::get(format!("/api/v1/meetings/{id}/checkin-code")).token(&zs)).await.expect_problem(403, "role_not_allowed");

    // Stale: two windows back (a photo of an old code).
    let stale = code_for(JWT_SECRET, id, window_of(common::clock().now()) - 2).unwrap();
    let r = fx.send(checkin(id, &stale).token(&zs)).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.first_error(), ("code".into(), "checkin_code_expired".into()));
    // Forged: one character of the MAC flipped.
    let mut forged = code.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let r = fx.send(checkin(id, &String::from_utf8(forged).unwrap()).token(&zs)).await;
    assert_eq!(r.first_error(), ("code".into(), "checkin_code_invalid".into()));
    // Another meeting's code, garbage, a code signed with another secret.
    let r = fx.send(checkin(id, &code_for(JWT_SECRET, other, window).unwrap()).token(&zs)).await;
    assert_eq!(r.first_error(), ("code".into(), "checkin_code_invalid".into()));
    let r = fx.send(checkin(id, "not-a-code").token(&zs)).await;
    assert_eq!(r.first_error(), ("code".into(), "checkin_code_invalid".into()));
    let r = fx.send(checkin(id, &code_for(b"some-other-secret-0123456789", id, window).unwrap()).token(&zs)).await;
    assert_eq!(r.first_error(), ("code".into(), "checkin_code_invalid".into()));
    let pending: String = ma::table.find((id, p.zhangsan)).select(ma::attendance).first(&mut fx.conn().await).await.unwrap();
    assert_eq!(pending, "pending");

    // The fresh code: present, by QR, audited, the meeting's version bumped.
    let v0 = version(&fx, id).await;
    let r = fx.send(checkin(id, &code).token(&zs)).await;
    r.expect(200);
    assert_eq!(r.json["meeting_id"], json!(id));
    assert_eq!(r.json["person_id"], json!(p.zhangsan));
    assert_eq!(r.json["attendance"], "present");
    assert_eq!(r.json["already"], false);
    let (att, by, at): (String, Option<String>, Option<DateTime<Utc>>) =
        ma::table.find((id, p.zhangsan)).select((ma::attendance, ma::checked_in_by, ma::checked_in_at)).first(&mut fx.conn().await).await.unwrap();
    assert_eq!((att.as_str(), by.as_deref()), ("present", Some("qr")));
    assert!(at.is_some());
    assert_eq!(version(&fx, id).await, v0 + 1);
    let audit = fx.audit("meeting", id).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].0, "checkin");
    assert_eq!(audit[0].1, Some(fx.accounts[users::MEMBER_ZS]));
    // A second scan changes nothing.
    let r = fx.send(checkin(id, &code).token(&zs)).await;
    r.expect(200);
    assert_eq!(r.json["already"], true);
    assert_eq!(fx.audit("meeting", id).await.len(), 1);

    // The previous window's code is still accepted (the code turned while the phone focused).
    let previous = code_for(JWT_SECRET, other, window_of(common::clock().now()) - 1).unwrap();
    fx.send(checkin(other, &previous).token(&zs)).await.expect(200);
}

#[actix_web::test]
async fn check_in_needs_an_open_meeting_the_member_is_due_at() {
    let fx = Fx::new().await;
    let (o, p) = (fx.orgs, fx.people);
    let branch = fx.login(users::BR_B1).await;
    let zs = fx.login(users::MEMBER_ZS).await;
    let now = common::clock().now();
    let code = |id: i64| code_for(JWT_SECRET, id, window_of(common::clock().now())).unwrap();

    // Not among those due (a 支委会 of B1 without 张三): 403 not_an_attendee.
    let id = meeting(&fx, o.b1, "branch_committee_meeting", "planned", now).await;
    attendee(&fx, id, p.lisi, true, "pending").await;
    fx.send(checkin(id, &code(id)).token(&zs)).await.expect_problem(403, "not_an_attendee");
    // A meeting of another branch: out of scope.
    let id = meeting(&fx, o.b3, "theme_party_day", "planned", now).await;
    fx.send(checkin(id, &code(id)).token(&zs)).await.expect_problem(403, "out_of_scope");
    fx.send(Req::get(format!("/api/v1/meetings/{id}/checkin-code")).token(&branch)).await.expect_problem(403, "out_of_scope");

    // Cancelled, archived, long over, not yet near: 409 checkin_closed, for the code and the scan.
    let cancelled = meeting(&fx, o.b1, "theme_party_day", "cancelled", now).await;
    let archived = meeting(&fx, o.b1, "theme_party_day", "held", now - Duration::hours(1)).await;
    let over = meeting(&fx, o.b1, "theme_party_day", "held", now - Duration::hours(7)).await;
    let later = meeting(&fx, o.b1, "theme_party_day", "planned", now + Duration::days(1)).await;
    for id in [cancelled, archived, over, later] {
        attendee(&fx, id, p.zhangsan, true, "pending").await;
    }
    archive(&fx, archived).await;
    for id in [cancelled, archived, over, later] {
        fx.send(Req::get(format!("/api/v1/meetings/{id}/checkin-code")).token(&branch)).await.expect_problem(409, "checkin_closed");
        fx.send(checkin(id, &code(id)).token(&zs)).await.expect_problem(409, "checkin_closed");
    }
    fx.send(checkin(999_999, &code(999_999)).token(&zs)).await.expect_problem(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// Votes

/// A held 支部党员大会 of B1 with `present` of `due` members with a vote present (the rest absent),
/// plus one probationary member present (no vote: 章程 art. 7).
async fn general_meeting(fx: &Fx, due: usize, present: usize) -> i64 {
    let id = meeting(fx, fx.orgs.b1, "branch_general_meeting", "held", common::clock().now() - Duration::days(1)).await;
    for i in 0..due {
        let person = fx.new_member(&format!("党员{i}"), fx.orgs.b1).await;
        attendee(fx, id, person, true, if i < present { "present" } else { "absent" }).await;
    }
    attendee(fx, id, fx.people.lisi, false, "present").await;
    id
}

fn vote(meeting: i64, body: serde_json::Value) -> Req {
    Req::post(format!("/api/v1/meetings/{meeting}/votes")).json(body)
}

#[actix_web::test]
async fn a_vote_needs_a_quorum_of_more_than_half_and_passes_with_more_than_half_of_those_due() {
    let fx = Fx::new().await;
    let branch = fx.login(users::BR_B1).await;

    // 4 with a vote, exactly half present: no quorum (docs/domain.md: more than half), nothing written.
    let id = general_meeting(&fx, 4, 2).await;
    let v = version(&fx, id).await;
    let r =
        fx.send(vote(id, json!({"motion": "接收李四为预备党员", "subject": "admission", "yes": 2, "no": 0, "abstain": 0, "version": v})).token(&branch)).await;
    r.expect_problem(409, "quorum_not_met");
    assert!(r.json["detail"].as_str().unwrap().contains("2 of 4"), "{}", r.text);
    let n: i64 = meeting_votes::table.count().get_result(&mut fx.conn().await).await.unwrap();
    assert_eq!(n, 0);

    // 4 with a vote, 3 present: quorum. 2 yes is half of those due: fails; 3 yes passes.
    let id = general_meeting(&fx, 4, 3).await;
    let v = version(&fx, id).await;
    let r = fx.send(vote(id, json!({"motion": "接收甲为预备党员", "subject": "admission", "subject_person_id": fx.people.lisi, "yes": 2, "no": 1, "abstain": 0, "version": v})).token(&branch)).await;
    r.expect(201);
    assert_eq!((r.json["voters_due"].as_i64(), r.json["voters_present"].as_i64()), (Some(4), Some(3)));
    assert_eq!((r.json["quorum_met"].as_bool(), r.json["passed"].as_bool()), (Some(true), Some(false)));
    assert_eq!(r.json["rule"]["quorum"], "voters_present * 2 > voters_due");
    assert_eq!(r.json["rule"]["min_yes"], 3);
    assert_eq!(r.json["subject_person_id"], json!(fx.people.lisi));
    let vote_id = r.json["id"].as_i64().unwrap();
    assert_eq!(fx.audit("meeting_vote", vote_id).await.len(), 1);
    // The version moved on: the old one is stale.
    fx.send(vote(id, json!({"motion": "再次表决", "subject": "other", "yes": 3, "no": 0, "abstain": 0, "version": v})).token(&branch))
        .await
        .expect_problem(409, "stale_version");
    let v = version(&fx, id).await;
    let r = fx
        .send(
            vote(id, json!({"motion": "接收乙为预备党员", "subject": "full_membership", "yes": 3, "no": 0, "abstain": 0}))
                .token(&branch)
                .if_match(i64::from(v)),
        )
        .await;
    r.expect(201);
    assert_eq!(r.json["passed"], true);
    // More ballots than voters present.
    let v = version(&fx, id).await;
    let r = fx.send(vote(id, json!({"motion": "x", "subject": "other", "yes": 3, "no": 1, "abstain": 0, "version": v})).token(&branch)).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.first_error().0, "yes");
    let r = fx.send(vote(id, json!({"motion": "", "subject": "other", "yes": -1, "no": 0, "abstain": 0, "version": v})).token(&branch)).await;
    assert_eq!(r.errors(), ["motion:required", "yes:out_of_range"]);
    fx.send(vote(id, json!({"motion": "x", "subject": "other", "yes": 1, "no": 0, "abstain": 0})).token(&branch)).await.expect_problem(428, "version_required");

    // Delete a vote; then archive: votes are read-only.
    let v = version(&fx, id).await;
    fx.send(Req::delete(format!("/api/v1/meetings/{id}/votes/{vote_id}")).token(&branch).if_match(i64::from(v) - 1)).await.expect_problem(412, "stale_version");
    fx.send(Req::delete(format!("/api/v1/meetings/{id}/votes/{vote_id}")).token(&branch)).await.expect(204);
    fx.send(Req::delete(format!("/api/v1/meetings/{id}/votes/{vote_id}")).token(&branch)).await.expect_problem(404, "not_found");
    let remaining: i64 = meeting_votes::table.filter(meeting_votes::meeting_id.eq(id)).select(meeting_votes::id).first(&mut fx.conn().await).await.unwrap();
    archive(&fx, id).await;
    fx.send(Req::delete(format!("/api/v1/meetings/{id}/votes/{remaining}")).token(&branch)).await.expect_problem(409, "meeting_archived");
    let v = version(&fx, id).await;
    fx.send(vote(id, json!({"motion": "x", "subject": "other", "yes": 3, "no": 0, "abstain": 0, "version": v})).token(&branch))
        .await
        .expect_problem(409, "meeting_archived");
}

#[actix_web::test]
async fn an_election_needs_over_four_fifths_present_and_over_half_of_those_present() {
    let fx = Fx::new().await;
    let branch = fx.login(users::BR_B1).await;
    // 10 with a vote, 8 present: enough for an admission vote, not for an election (8 is not over 4/5).
    let id = general_meeting(&fx, 10, 8).await;
    let v = version(&fx, id).await;
    let r = fx.send(vote(id, json!({"motion": "选举支部委员会", "subject": "election", "yes": 8, "no": 0, "abstain": 0, "version": v})).token(&branch)).await;
    r.expect_problem(409, "quorum_not_met");
    let r =
        fx.send(vote(id, json!({"motion": "接收丙为预备党员", "subject": "admission", "yes": 6, "no": 2, "abstain": 0, "version": v})).token(&branch)).await;
    r.expect(201);
    assert_eq!(r.json["passed"], true);

    // 10 with a vote, 9 present: an election quorum; 5 of the 9 present elects, 4 does not.
    let id = general_meeting(&fx, 10, 9).await;
    let v = version(&fx, id).await;
    let r =
        fx.send(vote(id, json!({"motion": "选举张某为支部委员", "subject": "election", "yes": 5, "no": 4, "abstain": 0, "version": v})).token(&branch)).await;
    r.expect(201);
    assert_eq!((r.json["quorum_met"].as_bool(), r.json["passed"].as_bool()), (Some(true), Some(true)));
    assert_eq!(r.json["rule"]["quorum"], "voters_present * 5 > voters_due * 4");
    assert_eq!(r.json["rule"]["min_present"], 9);
    let v = version(&fx, id).await;
    let r =
        fx.send(vote(id, json!({"motion": "选举李某为支部委员", "subject": "election", "yes": 4, "no": 5, "abstain": 0, "version": v})).token(&branch)).await;
    assert_eq!(r.json["passed"], false);
}

#[actix_web::test]
async fn only_held_meetings_of_a_voting_kind_with_attendance_recorded_take_votes() {
    let fx = Fx::new().await;
    let (o, p) = (fx.orgs, fx.people);
    let branch = fx.login(users::BR_B1).await;
    let body = |v: i32| json!({"motion": "接收某人为预备党员", "subject": "admission", "yes": 1, "no": 0, "abstain": 0, "version": v});

    // A 主题党日 does not vote.
    let id = meeting(&fx, o.b1, "theme_party_day", "held", common::clock().now()).await;
    attendee(&fx, id, p.zhangsan, true, "present").await;
    fx.send(vote(id, body(1)).token(&branch)).await.expect_problem(409, "meeting_cannot_vote");
    // Planned, not held.
    let id = meeting(&fx, o.b1, "branch_general_meeting", "planned", common::clock().now()).await;
    attendee(&fx, id, p.zhangsan, true, "present").await;
    fx.send(vote(id, body(1)).token(&branch)).await.expect_problem(409, "meeting_not_held");
    // A voter's attendance still pending.
    let id = meeting(&fx, o.b1, "branch_general_meeting", "held", common::clock().now()).await;
    attendee(&fx, id, p.zhangsan, true, "present").await;
    attendee(&fx, id, p.wangwu, true, "pending").await;
    fx.send(vote(id, body(1)).token(&branch)).await.expect_problem(409, "attendance_not_recorded");
    // Out of scope.
    let id = meeting(&fx, o.b3, "branch_general_meeting", "held", common::clock().now()).await;
    attendee(&fx, id, p.qianqi, true, "present").await;
    fx.send(vote(id, body(1)).token(&branch)).await.expect_problem(403, "out_of_scope");
}
