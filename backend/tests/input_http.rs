//! Input and HTTP hardening (security issue 14): dates outside the platform's years, names of
//! only invisible characters, download names, and the security headers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fx, Req, users};
use serde_json::json;

/// A date outside 1000..=9999 is a 422 naming the parameter or field, never a 500: in a query
/// (`as_of`, the statistics) and in a body (a member's `birth_date`, a meeting's `starts_at`).
#[actix_web::test]
async fn dates_outside_the_platforms_years_are_refused_naming_the_field() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let o = fx.orgs;
    for date in ["-262143-01-01", "+262142-12-31", "0999-12-31", "10000-01-01"] {
        for path in [format!("/api/v1/stats/structure?org_id={}&as_of={date}", o.b1), format!("/api/v1/stats/orgs?org_id={}&as_of={date}", o.c1)] {
            let r = fx.send(Req::get(path.replace('+', "%2B")).token(&admin)).await;
            r.expect_problem(422, "validation_failed");
            assert_eq!(r.first_error(), ("as_of".to_string(), "out_of_range".to_string()), "{path}: {}", r.text);
        }
        let r = fx
            .send(Req::post("/api/v1/members").token(&admin).json(json!({
                "name": "新党员", "gender": "male", "birth_date": date, "category": "full",
                "org_id": o.b1, "joined_at": "2012-01-01", "full_member_at": "2013-01-01"
            })))
            .await;
        r.expect_problem(422, "validation_failed");
        assert_eq!(r.first_error(), ("birth_date".to_string(), "out_of_range".to_string()), "{}", r.text);
        let r = fx
            .send(Req::post("/api/v1/meetings").token(&admin).json(json!({
                "org_id": o.b1, "kind": "party_lecture", "topic": "党课", "starts_at": format!("{date}T09:00:00Z"), "status": "planned"
            })))
            .await;
        r.expect_problem(422, "validation_failed");
        assert_eq!(r.first_error(), ("starts_at".to_string(), "out_of_range".to_string()), "{}", r.text);
    }
    // The years of the platform still pass.
    fx.send(Req::get(format!("/api/v1/stats/structure?org_id={}&as_of=2020-01-01", o.b1)).token(&admin)).await.expect(200);
}

#[test]
fn what_counts_as_a_date_outside_the_years() {
    use dangjian::http::date_out_of_range as odd;
    for s in ["-262143-01-01", "+12024-01-01", "0999-01-01", "12-01-01", "10000-01-01T00:00:00Z", "-0001-12-31 10:00"] {
        assert!(odd(s), "{s}");
    }
    for s in ["2024-01-01", "1000-01-01", "9999-12-31T23:59:59Z", "-5", "010-1234-5678", "12-99-01", "abc", "", "2024-01-01x"] {
        assert!(!odd(s), "{s}");
    }
}

/// Every answer carries the security headers: an API answer (also a problem, also one the policy
/// middleware answers), the SPA's index and a static asset; API answers are never stored.
#[actix_web::test]
async fn security_headers_on_the_api_the_spa_and_its_assets() {
    let dir = common::tempdir("spa");
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>t</title><div id=app></div>").unwrap();
    std::fs::write(dir.join("assets/index-abc.js"), "console.log(1)").unwrap();
    let static_dir = dir.clone();
    let fx = Fx::with_config(move |c| c.static_dir = static_dir).await;
    let admin = fx.login(users::ADMIN).await;
    let check = |r: &common::Resp, what: &str| {
        let csp = r.header("content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP"));
        for part in ["default-src 'self'", "script-src 'self';", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'", "form-action 'self'"] {
            assert!(csp.contains(part), "{what}: {csp} lacks {part}");
        }
        assert!(!csp.contains("unsafe-eval") && !csp.contains("script-src 'self' 'unsafe-inline'"), "{what}: {csp}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{what}");
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{what}");
    };
    let r = fx.send(Req::get(format!("/api/v1/orgs/{}", fx.orgs.b1)).token(&admin)).await;
    r.expect(200);
    check(&r, "API answer");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let r = fx.send(Req::get(format!("/api/v1/orgs/{}", fx.orgs.b1))).await;
    r.expect(401);
    check(&r, "401 problem");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let r = fx.send(Req::get("/api/v1/openapi.json")).await;
    r.expect(200);
    check(&r, "the OpenAPI document");
    let r = fx.send(Req::get("/members/1")).await;
    r.expect(200);
    assert!(r.text.contains("id=app"));
    check(&r, "the SPA's index");
    let r = fx.send(Req::get("/assets/index-abc.js")).await;
    r.expect(200);
    check(&r, "a static asset");
    assert_eq!(r.header("cache-control"), Some("public, max-age=31536000, immutable"));
    let r = fx.send(Req::get("/api/docs/")).await;
    r.expect(200);
    assert!(r.header("content-security-policy").is_some(), "Swagger UI");
}

/// A name of only spaces or invisible characters (U+200B, U+202E, U+3000, U+FEFF …) is refused
/// with the field named, on create and on PATCH (where spaces used to be ignored with 200); bidi
/// controls inside a name are not stored.
#[actix_web::test]
async fn names_of_only_invisible_characters_are_refused() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let o = fx.orgs;
    let member = |name: &str| {
        json!({"name": name, "gender": "male", "birth_date": "1985-01-01", "category": "full",
               "org_id": o.b1, "joined_at": "2012-01-01", "full_member_at": "2013-01-01"})
    };
    for name in ["\u{200B}", "\u{202E}\u{200B}", "\u{3000}\u{FEFF}\u{2060}", "\u{2066}\u{2069} "] {
        let r = fx.send(Req::post("/api/v1/members").token(&admin).json(member(name))).await;
        r.expect_problem(422, "validation_failed");
        assert_eq!(r.first_error(), ("name".to_string(), "required".to_string()), "{name:?}: {}", r.text);

        let r = fx.send(Req::post("/api/v1/orgs").token(&admin).json(json!({"code": "X1", "name": name, "kind": "branch", "parent_id": o.g1}))).await;
        r.expect_problem(422, "validation_failed");
        assert!(r.errors().contains(&"name:required".to_string()), "{name:?}: {}", r.text);

        let r = fx
            .send(Req::post("/api/v1/meetings").token(&admin).json(json!({
                "org_id": o.b1, "kind": "party_lecture", "topic": name, "starts_at": "2020-01-01T09:00:00Z", "status": "held"
            })))
            .await;
        r.expect_problem(422, "validation_failed");
        assert!(r.errors().contains(&"topic:required".to_string()), "{name:?}: {}", r.text);
    }
    // PATCH: a name of spaces is refused, not silently ignored.
    for name in ["   ", "\u{200B}\u{202E}"] {
        let id = fx.people.zhangsan;
        let version = fx.member_version(id).await;
        let r = fx.send(Req::patch(format!("/api/v1/members/{id}")).token(&admin).json(json!({"name": name, "version": version}))).await;
        r.expect_problem(422, "validation_failed");
        assert_eq!(r.first_error(), ("name".to_string(), "required".to_string()), "{name:?}: {}", r.text);
        let org = fx.new_org("branch", o.g1).await;
        let r = fx.send(Req::patch(format!("/api/v1/orgs/{org}")).token(&admin).if_match(1).json(json!({"name": name}))).await;
        r.expect_problem(422, "validation_failed");
        assert!(r.errors().contains(&"name:required".to_string()), "{name:?}: {}", r.text);
    }
    // Bidi controls are not stored.
    let r = fx.send(Req::post("/api/v1/members").token(&admin).json(member("\u{202E}张\u{2066}三\u{2069}"))).await;
    r.expect(201);
    assert_eq!(r.json["name"], "张三", "{}", r.text);
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xff\xff?\0\x05\xfe\x02\xfe\xa7\x35\x81\x84\0\0\0\0IEND\xaeB`\x82";

/// A PNG/HTML polyglot uploaded as `照片\u{202E}lmth.html` downloads as a PNG named `照片lmth.png`:
/// the detected type's extension, no bidi override; so does a name stored before the fix.
#[actix_web::test]
async fn downloads_are_named_by_the_detected_type_without_bidi_controls() {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let r = fx
        .send(Req::post("/api/v1/meetings").token(&admin).json(json!({
            "org_id": fx.orgs.b1, "kind": "party_lecture", "topic": "党课", "starts_at": "2020-01-01T09:00:00Z", "status": "held"
        })))
        .await;
    r.expect(201);
    let meeting = r.json["id"].as_i64().unwrap();
    let mut polyglot = PNG.to_vec();
    polyglot.extend_from_slice(b"<html><script>alert(document.cookie)</script></html>");
    let boundary = "b-7f3c";
    let mut body =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"照片\u{202E}lmth.html\"\r\nContent-Type: text/html\r\n\r\n")
            .into_bytes();
    body.extend_from_slice(&polyglot);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = fx
        .send(
            Req::post(format!("/api/v1/meetings/{meeting}/attachments?category=photo"))
                .token(&admin)
                .raw(&format!("multipart/form-data; boundary={boundary}"), body),
        )
        .await;
    r.expect(201);
    assert_eq!(r.json["file_name"], "照片lmth.png", "{}", r.text);
    let att = r.json["id"].as_i64().unwrap();
    // A name stored before the fix is cleaned on the way out too.
    use dangjian::schema::meeting_attachments as ma;
    diesel::update(ma::table.find(att)).set(ma::file_name.eq("照片\u{202E}lmth.html")).execute(&mut fx.conn().await).await.unwrap();
    let r = fx.send(Req::get(format!("/api/v1/meetings/{meeting}/attachments/{att}")).token(&admin)).await;
    r.expect(200);
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert!(r.header("cache-control").is_some_and(|c| c.contains("no-store")));
    let cd = r.header("content-disposition").unwrap();
    assert!(cd.ends_with("filename*=UTF-8''%E7%85%A7%E7%89%87lmth.png"), "{cd}");
    assert!(!cd.contains("html") && !cd.contains("%E2%80%AE"), "{cd}");
    assert_eq!(dangjian::http::attachment("报告\u{202E}xslx.exe", "a.xlsx"), "attachment; filename=\"a.xlsx\"; filename*=UTF-8''%E6%8A%A5%E5%91%8Axslx.exe");
}
