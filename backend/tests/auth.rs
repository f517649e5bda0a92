//! Log in, throttling and locking, tokens, /me and role narrowing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fx, PASSWORD, Req, users};
use dangjian::schema::login_throttle_users as t;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::json;

async fn login_as(fx: &Fx, username: &str, password: &str) -> common::Resp {
    fx.send(Req::post("/api/v1/auth/login").json(json!({"username": username, "password": password}))).await
}

/// Lets the next attempt through at once (instead of waiting out the throttle).
async fn clear_wait(fx: &Fx, username: &str) {
    diesel::update(t::table.filter(t::username.eq(username)))
        .set(t::next_attempt_at.eq(None::<chrono::DateTime<chrono::Utc>>))
        .execute(&mut fx.conn().await)
        .await
        .unwrap();
}

#[actix_web::test]
async fn login_succeeds_and_the_token_works() {
    let fx = Fx::new().await;
    let r = login_as(&fx, users::BR_B1, PASSWORD).await;
    r.expect(200);
    assert_eq!(r.json["token_type"], "Bearer");
    assert_eq!(r.json["expires_in"], 900);
    let token = r.json["access_token"].as_str().unwrap();
    assert!(r.json["refresh_token"].as_str().is_some_and(|t| t.len() >= 32));
    fx.send(Req::get("/api/v1/me").token(token)).await.expect(200);
    // The login is audited.
    let id = fx.accounts[users::BR_B1];
    assert!(fx.audit("account", id).await.iter().any(|(action, by, _, _)| action == "login" && *by == Some(id)));
}

#[actix_web::test]
async fn wrong_password_and_unknown_user_get_the_same_problem() {
    let fx = Fx::new().await;
    let wrong = login_as(&fx, users::BR_B1, "Not-the-password-1").await;
    wrong.expect_problem(401, "invalid_credentials");
    assert_eq!(wrong.json["detail"], "wrong username or password");
    assert_eq!(wrong.json["detail_zh"], "用户名或密码错误");
    assert_eq!(wrong.header("www-authenticate"), Some("Bearer"));
    let unknown = login_as(&fx, "nobody-here", "Not-the-password-1").await;
    unknown.expect_problem(401, "invalid_credentials");
    assert_eq!(unknown.json, wrong.json, "an unknown username must not be distinguishable");
}

#[actix_web::test]
async fn failures_are_throttled_after_three_and_lock_after_ten() {
    let fx = Fx::new().await;
    let user = users::BR_B1;
    // Three failures are answered at once; the fourth sets a wait.
    for i in 1..=4 {
        login_as(&fx, user, "Wrong-pass-1").await.expect_problem(401, "invalid_credentials");
        let (failed, next): (i32, Option<chrono::DateTime<chrono::Utc>>) =
            t::table.filter(t::username.eq(user)).select((t::failures, t::next_attempt_at)).first(&mut fx.conn().await).await.unwrap();
        assert_eq!(failed, i);
        let waits = next.is_some_and(|n| n > chrono::Utc::now());
        assert_eq!(waits, i > 3, "after failure {i} the next attempt should {}wait", if i > 3 { "" } else { "not " });
    }
    // Even the right password waits.
    let throttled = login_as(&fx, user, PASSWORD).await;
    throttled.expect_problem(429, "login_throttled");
    let retry: i64 = throttled.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=31).contains(&retry), "Retry-After {retry}");

    // Failures 5..10 (the waits skipped): the tenth locks.
    for i in 5..=10 {
        clear_wait(&fx, user).await;
        let r = login_as(&fx, user, "Wrong-pass-1").await;
        if i < 10 {
            r.expect_problem(401, "invalid_credentials");
            let left = 10 - i;
            assert!(r.json["detail"].as_str().unwrap().contains(&format!("{left} attempts left")), "{}", r.text);
        } else {
            r.expect_problem(423, "account_locked");
            assert!(r.header("retry-after").is_some());
        }
    }
    clear_wait(&fx, user).await;
    let locked = login_as(&fx, user, PASSWORD).await;
    locked.expect_problem(423, "account_locked");
    let retry: i64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 800 && retry <= 900, "locked for 15 minutes, Retry-After {retry}");

    // Once the lock has passed, the right password works and resets the count.
    diesel::update(t::table.filter(t::username.eq(user)))
        .set(t::locked_until.eq(Some(chrono::Utc::now() - chrono::Duration::seconds(1))))
        .execute(&mut fx.conn().await)
        .await
        .unwrap();
    login_as(&fx, user, PASSWORD).await.expect(200);
    let failed: Option<i32> = t::table.filter(t::username.eq(user)).select(t::failures).first(&mut fx.conn().await).await.optional().unwrap();
    assert_eq!(failed, None, "a login clears the count");
}

#[actix_web::test]
async fn disabled_account_cannot_log_in() {
    let fx = Fx::new().await;
    login_as(&fx, users::DISABLED, PASSWORD).await.expect_problem(403, "account_disabled");
    // With a wrong password the answer reveals nothing about the account.
    login_as(&fx, users::DISABLED, "Wrong-pass-1").await.expect_problem(401, "invalid_credentials");
}

#[actix_web::test]
async fn refresh_rotates_and_a_reused_token_ends_the_session() {
    let fx = Fx::new().await;
    let first = fx.login_tokens(users::COM_C1).await;
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let second = fx.send(Req::post("/api/v1/auth/refresh").json(json!({"refresh_token": r1}))).await;
    second.expect(200);
    let r2 = second.json["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    let access2 = second.json["access_token"].as_str().unwrap();
    fx.send(Req::get("/api/v1/me").token(access2)).await.expect(200);

    // The old token again: someone copied it. The whole login ends, the new token too.
    fx.send(Req::post("/api/v1/auth/refresh").json(json!({"refresh_token": r1}))).await.expect_problem(401, "refresh_reused");
    fx.send(Req::post("/api/v1/auth/refresh").json(json!({"refresh_token": r2}))).await.expect_problem(401, "invalid_refresh_token");
    // Other logins of the same account are not affected.
    let other = fx.login_tokens(users::COM_C1).await;
    fx.send(Req::post("/api/v1/auth/refresh").json(json!({"refresh_token": other["refresh_token"]}))).await.expect(200);
    // Garbage.
    fx.send(Req::post("/api/v1/auth/refresh").json(json!({"refresh_token": "not-a-token"}))).await.expect_problem(401, "invalid_refresh_token");
}

#[actix_web::test]
async fn logout_ends_the_refresh_token() {
    let fx = Fx::new().await;
    let t = fx.login_tokens(users::COM_C1).await;
    let refresh = t["refresh_token"].as_str().unwrap();
    fx.send(Req::post("/api/v1/auth/logout").json(json!({"refresh_token": refresh}))).await.expect(204);
    fx.send(Req::post("/api/v1/auth/refresh").json(json!({"refresh_token": refresh}))).await.expect_problem(401, "invalid_refresh_token");
    // Logging out twice, or with an unknown token, is fine.
    fx.send(Req::post("/api/v1/auth/logout").json(json!({"refresh_token": refresh}))).await.expect(204);
    fx.send(Req::post("/api/v1/auth/logout").json(json!({"refresh_token": "unknown"}))).await.expect(204);
}

#[actix_web::test]
async fn me_shows_the_person_and_every_grant() {
    let fx = Fx::new().await;
    let token = fx.login(users::MULTI).await;
    let r = fx.send(Req::get("/api/v1/me").token(&token)).await;
    r.expect(200);
    assert_eq!(r.json["account"]["username"], users::MULTI);
    assert_eq!(r.json["person"]["name"], "李四");
    assert_eq!(r.json["person"]["member_org_id"], fx.orgs.b1);
    let grants = r.json["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 2);
    assert_eq!(grants[0]["role"], "member");
    assert_eq!(grants[1]["role"], "branch");
    assert_eq!(grants[1]["org_id"], fx.orgs.b1);
    assert_eq!(grants[1]["org_code"], "B1");
    assert_eq!(grants[1]["org_name"], "机关第一党支部");

    let admin = fx.login(users::ADMIN).await;
    let r = fx.send(Req::get("/api/v1/me").token(&admin)).await;
    r.expect(200);
    assert!(r.json["person"].is_null());
    assert_eq!(r.json["grants"][0]["role"], "political_dept");
    assert!(r.json["grants"][0]["org_id"].is_null());
}

#[actix_web::test]
async fn missing_expired_or_forged_tokens_are_refused() {
    let fx = Fx::new().await;
    fx.send(Req::get("/api/v1/me")).await.expect_problem(401, "unauthenticated");
    fx.send(Req::get("/api/v1/me").header("Authorization", "Basic Zm9vOmJhcg==")).await.expect_problem(401, "unauthenticated");
    fx.send(Req::get("/api/v1/me").token("not.a.jwt")).await.expect_problem(401, "invalid_token");

    let id = fx.accounts[users::ADMIN];
    let grants = vec![dangjian::auth::Grant { id: 1, role: dangjian::auth::Role::PoliticalDept, org_id: None }];
    let subject = |grants| dangjian::auth::token::Subject { account_id: id, username: users::ADMIN, person_id: None, grants, token_version: 1, family: "f" };
    let expired = dangjian::auth::token::issue_access(common::JWT_SECRET, subject(grants.clone()), -120).unwrap();
    let r = fx.send(Req::get("/api/v1/me").token(&expired)).await;
    r.expect_problem(401, "token_expired");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    let forged = dangjian::auth::token::issue_access(b"some-other-secret-0123456789", subject(grants), 600).unwrap();
    fx.send(Req::get("/api/v1/me").token(&forged)).await.expect_problem(401, "invalid_token");
}

#[actix_web::test]
async fn acting_grant_narrows_a_request_to_one_role() {
    let fx = Fx::new().await;
    let token = fx.login(users::MULTI).await;
    let me = fx.send(Req::get("/api/v1/me").token(&token)).await;
    let member_grant = me.json["grants"][0]["id"].as_i64().unwrap();
    let branch_grant = me.json["grants"][1]["id"].as_i64().unwrap();
    let zs = format!("/api/v1/members/{}", fx.people.zhangsan);

    // With all grants (branch over B1) 李四 reads 张三; acting as a member, only herself.
    fx.send(Req::get(&zs).token(&token)).await.expect(200);
    fx.send(Req::get(&zs).token(&token).header("X-Acting-Grant", branch_grant.to_string())).await.expect(200);
    fx.send(Req::get(&zs).token(&token).header("X-Acting-Grant", member_grant.to_string())).await.expect_problem(403, "out_of_scope");
    fx.send(Req::get(format!("/api/v1/members/{}", fx.people.lisi)).token(&token).header("X-Acting-Grant", member_grant.to_string())).await.expect(200);
    let list = fx.send(Req::get("/api/v1/members").token(&token).header("X-Acting-Grant", member_grant.to_string())).await;
    list.expect(200);
    assert_eq!(list.json["total"], 1);
    assert_eq!(list.json["items"][0]["name"], "李四");

    // Acting as a member on a route for branch workers only: the role is refused.
    let body = json!({"name": "x", "gender": "male", "category": "full", "org_id": fx.orgs.b1, "joined_at": "2010-01-01"});
    fx.send(Req::post("/api/v1/members").token(&token).header("X-Acting-Grant", member_grant.to_string()).json(body))
        .await
        .expect_problem(403, "role_not_allowed");
    // A grant that is not the caller's, or not a number.
    let other = fx.login(users::ADMIN).await;
    let admin_grant = fx.send(Req::get("/api/v1/me").token(&other)).await.json["grants"][0]["id"].as_i64().unwrap();
    fx.send(Req::get(&zs).token(&token).header("X-Acting-Grant", admin_grant.to_string())).await.expect_problem(403, "forbidden");
    fx.send(Req::get(&zs).token(&token).header("X-Acting-Grant", "branch")).await.expect_problem(400, "bad_request");
}

#[actix_web::test]
async fn health_checks_are_public() {
    let fx = Fx::new().await;
    let r = fx.send(Req::get("/healthz")).await;
    r.expect(200);
    assert_eq!(r.text, "ok");
    fx.send(Req::get("/readyz")).await.expect(200);
    fx.send(Req::get("/api/v1/no-such-endpoint")).await.expect_problem(404, "not_found");
}

/// `GET /api/v1/clock` (public) answers the institution's date on the application's clock, which
/// `DANGJIAN_NOW` moves (`make test-dates`), whatever the process's TZ.
#[actix_web::test]
async fn the_clock_answers_the_institutions_date() {
    let fx = Fx::new().await;
    let r = fx.send(Req::get("/api/v1/clock")).await;
    r.expect(200);
    assert_eq!(r.json["time_zone"], "Asia/Shanghai");
    assert_eq!(r.json["today"], fx.today().to_string());
    let now = chrono::DateTime::parse_from_rfc3339(r.json["now"].as_str().unwrap()).unwrap();
    assert_eq!(now.offset().local_minus_utc(), 8 * 3600, "{}", r.text);
    assert!((now.with_timezone(&chrono::Utc) - fx.clock().now()).num_seconds().abs() < 60);
    if let Ok(at) = std::env::var("DANGJIAN_NOW") {
        let at = chrono::DateTime::parse_from_rfc3339(&at).unwrap().with_timezone(&chrono_tz::Asia::Shanghai);
        assert_eq!(r.json["today"], at.date_naive().to_string(), "the clock was started at DANGJIAN_NOW");
    }
    assert_eq!(r.header("cache-control"), Some("no-store"));
}
