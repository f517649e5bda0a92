//! The attacks of the security review's "Authentication" section, carried out against a real
//! server on a port (parallel bursts over TCP, as a script would send them): the login throttle
//! under parallel requests, username enumeration, password spraying, tokens after logout and
//! disabling, weak passwords.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};

use common::{Fx, PASSWORD, Req, users};
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

/// The fixture's application served by a real actix server on 127.0.0.1 (two workers).
fn serve(fx: &Fx) -> SocketAddr {
    let shared = fx.shared.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = actix_web::HttpServer::new(move || dangjian::app::build(shared.clone())).workers(2).listen(listener).unwrap().disable_signals().run();
    actix_web::rt::spawn(server);
    addr
}

/// One HTTP/1.1 request on its own connection: (status, body as JSON or Null, raw head).
fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, String)], body: Option<&Value>) -> (u16, Value, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    // Bodies may come chunked: take the JSON object between the first '{' and the last '}'.
    let json = match (rest.find('{'), rest.rfind('}')) {
        (Some(a), Some(b)) if b > a => serde_json::from_str(&rest[a..=b]).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (status, json, head.to_string())
}

/// `n` login attempts sent at the same instant (threads released by a barrier), each with the
/// password `passwords(i)`: the statuses and problem codes in the order of `i`.
fn burst(
    addr: SocketAddr,
    username: &str,
    n: usize,
    headers: impl Fn(usize) -> Vec<(&'static str, String)>,
    password: impl Fn(usize) -> String,
) -> Vec<(u16, String)> {
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let barrier = barrier.clone();
            let body = json!({"username": username, "password": password(i)});
            let headers = headers(i);
            std::thread::spawn(move || {
                barrier.wait();
                let (status, json, _) = http(addr, "POST", "/api/v1/auth/login", &headers, Some(&body));
                (status, json["code"].as_str().unwrap_or_default().to_string())
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn count(results: &[(u16, String)], status: u16) -> usize {
    results.iter().filter(|(s, _)| *s == status).count()
}

/// Runs blocking client code off the test's runtime (the server runs on this runtime's system).
async fn off<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// The probe: 60 parallel wrong passwords had 35 checked in 1.5 s. Each attempt is reserved in
/// the database before its password is checked, so a burst gets the three free attempts and the
/// one that sets the first wait, and nothing more.
#[actix_web::test]
async fn a_parallel_burst_gets_no_more_password_checks_than_the_throttle_allows() {
    let fx = Fx::new().await;
    let addr = serve(&fx);
    let results = off(move || burst(addr, users::BR_B1, 60, |_| vec![], |_| "Wrong-pass-1".into())).await;
    let checked = count(&results, 401);
    assert!(checked <= 4, "{checked} of 60 parallel wrong passwords were checked: {results:?}");
    assert_eq!(checked + count(&results, 429) + count(&results, 423), 60, "{results:?}");
    let failures = fx.audit("account", fx.accounts[users::BR_B1]).await.iter().filter(|a| a.0 == "login_failed").count();
    assert_eq!(failures, checked, "one audited failure per password check");
}

/// The probe: in a burst of 40 the right password was accepted although more than 10 failures
/// had been counted. With nine failures on record, the burst's first checked attempt locks the
/// account and no attempt of the burst, right password included, gets in.
#[actix_web::test]
async fn no_login_succeeds_in_the_burst_that_locks_the_account() {
    let fx = Fx::new().await;
    let addr = serve(&fx);
    for _ in 0..9 {
        clear_wait(&fx, users::BR_B1).await;
        let (status, _, _) =
            off(move || http(addr, "POST", "/api/v1/auth/login", &[], Some(&json!({"username": users::BR_B1, "password": "Wrong-pass-1"})))).await;
        assert_eq!(status, 401);
    }
    clear_wait(&fx, users::BR_B1).await;
    // Every fourth attempt has the right password.
    let results = off(move || burst(addr, users::BR_B1, 40, |_| vec![], |i| if i % 4 == 3 { PASSWORD.into() } else { "Wrong-pass-1".into() })).await;
    assert_eq!(count(&results, 200), 0, "a login succeeded in the burst that locked the account: {results:?}");
    assert!(count(&results, 401) + count(&results, 423) >= 1, "{results:?}");
    assert!(count(&results, 401) <= 1, "only the attempt that locks is checked: {results:?}");
}

/// Lets the next attempt through at once (instead of waiting out the throttle).
async fn clear_wait(fx: &Fx, username: &str) {
    diesel::sql_query("UPDATE login_throttle_users SET next_attempt_at = NULL WHERE username = $1")
        .bind::<diesel::sql_types::Text, _>(username)
        .execute(&mut fx.conn().await)
        .await
        .unwrap();
}

async fn login_from(fx: &Fx, ip: &str, username: &str, password: &str) -> common::Resp {
    fx.send(Req::post("/api/v1/auth/login").peer(ip).json(json!({"username": username, "password": password}))).await
}

/// The probe: a known account answered "5 attempts left", then 429 and 423; an unknown one
/// always a plain 401. Both now go through the same counts, waits and lock, word for word.
#[actix_web::test]
async fn known_and_unknown_usernames_answer_alike() {
    let fx = Fx::new().await;
    let mut answers = Vec::new();
    // From two addresses, each within its own limit.
    for (username, ip) in [(users::BR_B1, "192.0.2.10"), ("no-such-user", "192.0.2.11")] {
        let mut seq = Vec::new();
        for i in 1..=13 {
            // The wait after the fourth failure is kept once (429), then skipped.
            if i != 5 {
                clear_wait(&fx, username).await;
            }
            let r = login_from(&fx, ip, username, "Wrong-pass-1").await;
            // The lock's end (HH:MM) and Retry-After may differ by the seconds between the runs.
            let detail = r.json["detail"].as_str().unwrap_or_default();
            let detail = detail.split_once(" until ").map_or(detail, |(before, _)| before).to_string();
            seq.push((r.status.as_u16(), r.json["code"].clone(), detail, r.header("retry-after").is_some()));
        }
        answers.push(seq);
    }
    assert!(answers[0].iter().any(|a| a.0 == 423) && answers[0].iter().any(|a| a.0 == 429), "{:?}", answers[0]);
    for (i, (k, u)) in answers[0].iter().zip(&answers[1]).enumerate() {
        assert_eq!(k, u, "attempt {}: a known and an unknown username must be answered alike", i + 1);
    }

    // Comparable timing: both check a password hash (the unknown one a dummy).
    let addr = serve(&fx);
    let times = off(move || {
        // Three known accounts and three unknown names, three wrong passwords each (within
        // every limit), interleaved with the order alternating.
        let mut t = [Vec::new(), Vec::new()];
        for round in 0..9 {
            let pair = [[users::COM_C1, users::COM_C2, users::PD_C1][round % 3], ["nobody-1", "nobody-2", "nobody-3"][round % 3]];
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for k in order {
                let body = json!({"username": pair[k], "password": format!("Wrong-pass-{round}")});
                let start = std::time::Instant::now();
                let (status, _, _) = http(addr, "POST", "/api/v1/auth/login", &[], Some(&body));
                t[k].push(start.elapsed().as_secs_f64());
                assert_eq!(status, 401);
            }
        }
        t.map(|mut v| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        })
    })
    .await;
    let ratio = times[0] / times[1];
    eprintln!("median wrong-password answer: known {:.1} ms, unknown {:.1} ms", times[0] * 1e3, times[1] * 1e3);
    assert!((0.5..2.0).contains(&ratio), "known {:?} vs unknown {:?}", times[0], times[1]);
}

/// Password spraying: one guess at each of many accounts from one address. No username reaches
/// its limit, but the address does after twenty, whatever it claims in X-Forwarded-For (no
/// proxy is trusted here).
#[actix_web::test]
async fn spraying_from_one_address_is_slowed_whatever_it_forwards() {
    let fx = Fx::new().await;
    let mut statuses = Vec::new();
    for i in 0..30 {
        let r = fx
            .send(
                Req::post("/api/v1/auth/login")
                    .peer("198.51.100.7")
                    .header("X-Forwarded-For", format!("203.0.113.{i}"))
                    .json(json!({"username": format!("user{i}"), "password": "Spring-2026!"})),
            )
            .await;
        statuses.push((r.status.as_u16(), r.json["code"].as_str().unwrap_or_default().to_string()));
    }
    assert!(statuses[..20].iter().all(|s| s.0 == 401), "{statuses:?}");
    assert!(statuses[21..].iter().all(|s| *s == (429, "login_throttled".to_string())), "{statuses:?}");
    // Another address is not affected.
    login_from(&fx, "198.51.100.8", users::BR_B1, PASSWORD).await.expect(200);
}

/// Locking someone else's account is not a free denial of service: the owner's address (one
/// they logged in from) still gets in; everyone else meets the lock.
#[actix_web::test]
async fn a_lock_does_not_keep_the_owner_out_at_their_own_address() {
    let fx = Fx::new().await;
    login_from(&fx, "10.0.0.1", users::ADMIN, PASSWORD).await.expect(200);
    for _ in 0..10 {
        clear_wait(&fx, users::ADMIN).await;
        login_from(&fx, "10.6.6.6", users::ADMIN, "Guess-guess-1").await;
    }
    clear_wait(&fx, users::ADMIN).await;
    login_from(&fx, "10.6.6.6", users::ADMIN, PASSWORD).await.expect_problem(423, "account_locked");
    login_from(&fx, "10.0.0.2", users::ADMIN, PASSWORD).await.expect_problem(423, "account_locked");
    // At the owner's address: a wrong password is a plain 401, the right one gets in.
    login_from(&fx, "10.0.0.1", users::ADMIN, "Typo-typo-1").await.expect_problem(401, "invalid_credentials");
    login_from(&fx, "10.0.0.1", users::ADMIN, PASSWORD).await.expect(200);
}

/// The probe: access tokens outlived logout and disabling by up to 15 minutes, since the grants
/// live in the token. Each request now checks the token against the account (its token version,
/// bumped on disable, grant change and password change) and its login (revoked at logout).
#[actix_web::test]
async fn logout_disabling_and_grant_changes_take_effect_on_the_next_request() {
    let fx = Fx::new().await;
    let me = |t: &str| Req::get("/api/v1/me").token(t);

    // Logout ends that login's access token; another login of the same account goes on.
    let a = fx.login_tokens(users::COM_C1).await;
    let b = fx.login_tokens(users::COM_C1).await;
    let (access_a, access_b) = (a["access_token"].as_str().unwrap(), b["access_token"].as_str().unwrap());
    fx.send(me(access_a)).await.expect(200);
    fx.send(Req::post("/api/v1/auth/logout").json(json!({"refresh_token": a["refresh_token"]}))).await.expect(204);
    fx.send(me(access_a)).await.expect_problem(401, "token_revoked");
    fx.send(me(access_b)).await.expect(200);

    // A reused refresh token ends its login's access tokens too.
    let c = fx.login_tokens(users::COM_C1).await;
    let c2 = fx.send(Req::post("/api/v1/auth/refresh").json(json!({"refresh_token": c["refresh_token"]}))).await;
    let access_c2 = c2.json["access_token"].as_str().unwrap().to_string();
    fx.send(me(&access_c2)).await.expect(200);
    fx.send(Req::post("/api/v1/auth/refresh").json(json!({"refresh_token": c["refresh_token"]}))).await.expect_problem(401, "refresh_reused");
    fx.send(me(&access_c2)).await.expect_problem(401, "token_revoked");

    // A grant taken away: the token that carried it stops; a refresh gets the grants as they are.
    let multi = fx.login_tokens(users::MULTI).await;
    let access = multi["access_token"].as_str().unwrap();
    fx.send(Req::get(format!("/api/v1/members/{}", fx.people.zhangsan)).token(access)).await.expect(200);
    diesel::sql_query("DELETE FROM role_grants WHERE account_id = $1 AND role = 'branch'")
        .bind::<diesel::sql_types::BigInt, _>(fx.accounts[users::MULTI])
        .execute(&mut fx.conn().await)
        .await
        .unwrap();
    fx.send(Req::get(format!("/api/v1/members/{}", fx.people.zhangsan)).token(access)).await.expect_problem(401, "token_revoked");
    let renewed = fx.send(Req::post("/api/v1/auth/refresh").json(json!({"refresh_token": multi["refresh_token"]}))).await;
    renewed.expect(200);
    let access = renewed.json["access_token"].as_str().unwrap();
    fx.send(Req::get(format!("/api/v1/members/{}", fx.people.zhangsan)).token(access)).await.expect_problem(403, "out_of_scope");

    // Disabling: the next request is refused, and so is the refresh.
    let admin = fx.login_tokens(users::ADMIN).await;
    let access = admin["access_token"].as_str().unwrap();
    fx.send(me(access)).await.expect(200);
    diesel::sql_query("UPDATE accounts SET disabled = true WHERE username = 'admin'").execute(&mut fx.conn().await).await.unwrap();
    fx.send(me(access)).await.expect_problem(401, "token_revoked");
    fx.send(Req::post("/api/v1/auth/refresh").json(json!({"refresh_token": admin["refresh_token"]}))).await.expect_problem(401, "invalid_refresh_token");
}

/// What the per-request check costs: the check alone on a pooled connection, and a whole
/// authenticated request (GET /me, through the test service) for comparison.
#[actix_web::test]
async fn the_per_request_token_check_is_one_cheap_lookup() {
    let fx = Fx::new().await;
    let token = fx.login(users::COM_C1).await;
    let claims = dangjian::auth::token::verify_access(common::JWT_SECRET, &token).unwrap();
    let mut conn = fx.conn().await;
    for _ in 0..50 {
        dangjian::auth::token::check_live(&mut conn, &claims).await.unwrap();
    }
    let n = 1000;
    let start = std::time::Instant::now();
    for _ in 0..n {
        dangjian::auth::token::check_live(&mut conn, &claims).await.unwrap();
    }
    let check = start.elapsed().as_secs_f64() / f64::from(n);
    drop(conn);
    let start = std::time::Instant::now();
    for _ in 0..300 {
        fx.send(Req::get("/api/v1/me").token(&token)).await.expect(200);
    }
    let request = start.elapsed().as_secs_f64() / 300.0;
    eprintln!("token check: {:.0} µs per request; GET /me: {:.0} µs", check * 1e6, request * 1e6);
    assert!(check < 0.005, "the check took {check} s");
}

/// The probe: `password1` and `aaaaaaa1` were accepted. A password set through the API is at
/// least 12 characters and not guessable (zxcvbn, with the account's own words); changing it
/// needs the current one and ends every session of the account.
#[actix_web::test]
async fn changing_your_password_refuses_weak_ones_and_ends_every_session() {
    let fx = Fx::new().await;
    let first = fx.login_tokens(users::MEMBER_ZS).await;
    let other = fx.login_tokens(users::MEMBER_ZS).await;
    let token = first["access_token"].as_str().unwrap().to_string();
    let change = |current: &str, new: &str| Req::post("/api/v1/me/password").token(&token).json(json!({"current_password": current, "new_password": new}));

    for (weak, code) in [
        ("password1", "password_too_short"),
        ("aaaaaaa1", "password_too_short"),
        ("password1234", "weak_password"),
        ("aaaaaaaaaaaa1", "weak_password"),
        ("zhangsan1985!", "weak_password"),
        ("Zhangsan-2026", "weak_password"),
    ] {
        let r = fx.send(change(PASSWORD, weak)).await;
        r.expect_problem(422, "validation_failed");
        assert_eq!(r.first_error(), ("new_password".to_string(), code.to_string()), "{weak}: {}", r.text);
    }
    let r = fx.send(change("Not-my-password-1", "Autumn-Maple-Ledger-47")).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.first_error(), ("current_password".to_string(), "wrong_password".to_string()));

    fx.send(change(PASSWORD, "Autumn-Maple-Ledger-47")).await.expect(204);
    // Every session has ended, this one included; the new password logs in, the old does not.
    fx.send(Req::get("/api/v1/me").token(&token)).await.expect_problem(401, "token_revoked");
    fx.send(Req::get("/api/v1/me").token(other["access_token"].as_str().unwrap())).await.expect_problem(401, "token_revoked");
    fx.send(Req::post("/api/v1/auth/refresh").json(json!({"refresh_token": other["refresh_token"]}))).await.expect_problem(401, "invalid_refresh_token");
    fx.send(Req::post("/api/v1/auth/login").json(json!({"username": users::MEMBER_ZS, "password": PASSWORD}))).await.expect_problem(401, "invalid_credentials");
    fx.send(Req::post("/api/v1/auth/login").json(json!({"username": users::MEMBER_ZS, "password": "Autumn-Maple-Ledger-47"}))).await.expect(200);
    let audit = fx.audit("account", fx.accounts[users::MEMBER_ZS]).await;
    let change = audit.iter().find(|a| a.0 == "password_change").expect("audited");
    assert_eq!(change.1, Some(fx.accounts[users::MEMBER_ZS]));
    assert!(!change.3.as_ref().unwrap().to_string().contains("Autumn"), "no password in the audit log");
    assert!(audit.iter().any(|a| a.0 == "password_change_failed"));
}

/// An administrator's reset: political_dept over the whole institution, or over an org for the
/// accounts whose every grant lies below it; never one's own (that needs the current password).
#[actix_web::test]
async fn administrators_reset_passwords_within_their_scope() {
    let fx = Fx::new().await;
    let victim = fx.login_tokens(users::BR_B1).await;
    let pd_c1 = fx.login(users::PD_C1).await;
    let reset = |token: &str, id: i64, pw: &str| Req::post(format!("/api/v1/accounts/{id}/password")).token(token).json(json!({"new_password": pw}));

    // Below C1: B1's branch worker. Outside: C2's committee, the committee over C1 itself (as
    // political_dept manages what lies below its org), the whole institution's administrator.
    fx.send(reset(&pd_c1, fx.accounts[users::COM_C2], "Autumn-Maple-Ledger-47")).await.expect_problem(403, "out_of_scope");
    fx.send(reset(&pd_c1, fx.accounts[users::COM_C1], "Autumn-Maple-Ledger-47")).await.expect_problem(403, "out_of_scope");
    fx.send(reset(&pd_c1, fx.accounts[users::ADMIN], "Autumn-Maple-Ledger-47")).await.expect_problem(403, "out_of_scope");
    fx.send(reset(&pd_c1, fx.accounts[users::PD_C1], "Autumn-Maple-Ledger-47")).await.expect_problem(403, "forbidden");
    fx.send(reset(&pd_c1, 987_654, "Autumn-Maple-Ledger-47")).await.expect_problem(404, "not_found");
    let r = fx.send(reset(&pd_c1, fx.accounts[users::BR_B1], "aaaaaaa1")).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.first_error().1, "password_too_short");
    // Other roles may not.
    let com = fx.login(users::COM_C2).await;
    fx.send(reset(&com, fx.accounts[users::BR_B1], "Autumn-Maple-Ledger-47")).await.expect_problem(403, "role_not_allowed");

    fx.send(reset(&pd_c1, fx.accounts[users::BR_B1], "Quiet-Harbor-Lantern-83")).await.expect(204);
    fx.send(Req::get("/api/v1/me").token(victim["access_token"].as_str().unwrap())).await.expect_problem(401, "token_revoked");
    fx.send(Req::post("/api/v1/auth/refresh").json(json!({"refresh_token": victim["refresh_token"]}))).await.expect_problem(401, "invalid_refresh_token");
    fx.send(Req::post("/api/v1/auth/login").json(json!({"username": users::BR_B1, "password": "Quiet-Harbor-Lantern-83"}))).await.expect(200);
    let audit = fx.audit("account", fx.accounts[users::BR_B1]).await;
    assert!(audit.iter().any(|a| a.0 == "password_reset" && a.1 == Some(fx.accounts[users::PD_C1])), "{audit:?}");

    // The whole institution's political_dept resets anyone but itself.
    let admin = fx.login(users::ADMIN).await;
    fx.send(reset(&admin, fx.accounts[users::PD_C1], "Silver-Compass-Orchard-19")).await.expect(204);
    fx.send(reset(&admin, fx.accounts[users::MASSES], "Silver-Compass-Orchard-19")).await.expect(204);
    fx.send(reset(&admin, fx.accounts[users::ADMIN], "Silver-Compass-Orchard-19")).await.expect_problem(403, "forbidden");
}
