//! Optimistic concurrency under real contention: two writers read the same version and write at
//! once; exactly one wins, the other is told its version is stale, and the winner's change is
//! what remains.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fx, Req, Resp, users};
use serde_json::{Value, json};

/// Checks that exactly one of the two answers is 200 and the other `loser` (stale_version), and
/// returns the index of the winner.
fn one_winner(a: &Resp, b: &Resp, loser: u16) -> usize {
    let statuses = [a.status.as_u16(), b.status.as_u16()];
    let winner = match statuses {
        [200, s] if s == loser => 0,
        [s, 200] if s == loser => 1,
        _ => panic!("expected one 200 and one {loser}, got {statuses:?}:\n{}\n{}", a.text, b.text),
    };
    let lost = if winner == 0 { b } else { a };
    lost.expect_problem(loser, "stale_version");
    winner
}

/// Two concurrent PATCHes of `url`, each setting `field` to its own value, both based on version
/// 1 (via If-Match, or via the body when `in_body`). Answers the final record.
async fn race(fx: &Fx, token: &str, url: &str, field: &str, values: [&str; 2], in_body: bool) -> Value {
    let before = fx.send(Req::get(url).token(token)).await;
    let version = before.json["version"].as_i64().unwrap();
    let build = |value: &str| {
        let mut body = json!({ field: value });
        if in_body {
            body["version"] = json!(version);
            Req::patch(url).token(token).json(body)
        } else {
            Req::patch(url).token(token).if_match(version).json(body)
        }
    };
    let (a, b) = tokio::join!(fx.send(build(values[0])), fx.send(build(values[1])));
    let winner = one_winner(&a, &b, if in_body { 409 } else { 412 });
    let after = fx.send(Req::get(url).token(token)).await;
    after.expect(200);
    assert_eq!(after.json[field], values[winner], "the winner's change remains");
    assert_eq!(after.json["version"].as_i64(), Some(version + 1), "exactly one write happened");
    assert_eq!(after.etag().map(str::to_string), Some(format!("\"{}\"", version + 1)));
    let winner_resp = if winner == 0 { &a } else { &b };
    assert_eq!(winner_resp.json["version"], after.json["version"]);
    after.json
}

#[actix_web::test]
async fn concurrent_member_edits_with_if_match() {
    let fx = Fx::new().await;
    let token = fx.login(users::COM_C1).await;
    let url = format!("/api/v1/members/{}", fx.people.zhangsan);
    race(&fx, &token, &url, "post", ["处长", "科长"], false).await;
    // Only one update is in the audit log.
    let updates = fx.audit("member", fx.people.zhangsan).await.into_iter().filter(|a| a.0 == "update").count();
    assert_eq!(updates, 1);
}

#[actix_web::test]
async fn concurrent_member_edits_with_body_version() {
    let fx = Fx::new().await;
    let token = fx.login(users::COM_C1).await;
    let url = format!("/api/v1/members/{}", fx.people.wangwu);
    race(&fx, &token, &url, "post", ["处长", "科长"], true).await;
}

#[actix_web::test]
async fn concurrent_org_edits_with_if_match_and_body_version() {
    let fx = Fx::new().await;
    let token = fx.login(users::ADMIN).await;
    let url = format!("/api/v1/orgs/{}", fx.orgs.b2);
    race(&fx, &token, &url, "name", ["第二支部甲", "第二支部乙"], false).await;
    let url = format!("/api/v1/orgs/{}", fx.orgs.b3);
    race(&fx, &token, &url, "name", ["第三支部甲", "第三支部乙"], true).await;
    let updates = fx.audit("org", fx.orgs.b2).await.into_iter().filter(|a| a.0 == "update").count();
    assert_eq!(updates, 1);
}

#[actix_web::test]
async fn concurrent_moves_of_one_org() {
    let fx = Fx::new().await;
    let token = fx.login(users::ADMIN).await;
    let mv = |parent: i64| fx.send(Req::post(format!("/api/v1/orgs/{}/move", fx.orgs.b2)).token(&token).if_match(1).json(json!({"parent_id": parent})));
    let (a, b) = tokio::join!(mv(fx.orgs.c1), mv(fx.orgs.c2));
    let winner = one_winner(&a, &b, 412);
    let parent = [fx.orgs.c1, fx.orgs.c2][winner];
    let after = fx.send(Req::get(format!("/api/v1/orgs/{}", fx.orgs.b2)).token(&token)).await;
    assert_eq!(after.json["parent_id"], parent);
    assert_eq!(after.json["version"], 2);
    // The closure table agrees: the path goes through the winner's parent only.
    let path = fx.send(Req::get(format!("/api/v1/orgs/{}/path", fx.orgs.b2)).token(&token)).await;
    let ids: Vec<i64> = path.json.as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [parent, fx.orgs.b2]);
}
