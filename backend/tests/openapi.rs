//! The published OpenAPI document: the committed snapshot is what the code generates (the SPA's
//! typed client is generated from it), and every operation is documented the same way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::Value;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");

fn doc() -> Value {
    serde_json::to_value(dangjian::app::openapi()).unwrap()
}

/// Every operation as ("METHOD /path", operation).
fn operations(doc: &Value) -> Vec<(String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                ops.push((format!("{} {path}", method.to_uppercase()), op.clone()));
            }
        }
    }
    ops
}

/// Follows a `$ref` into components.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

#[test]
fn committed_snapshot_matches_the_code() {
    let generated = dangjian::app::openapi_json().unwrap();
    let committed = std::fs::read_to_string(SNAPSHOT).unwrap_or_else(|e| panic!("cannot read {SNAPSHOT}: {e}; run `make openapi`"));
    if committed.trim_end() != generated.trim_end() {
        // Say where they part, so the diff is easy to find.
        let line = committed.lines().zip(generated.lines()).position(|(a, b)| a != b).map_or_else(
            || format!("one is longer ({} vs {} lines)", committed.lines().count(), generated.lines().count()),
            |i| format!("first difference at line {}", i + 1),
        );
        panic!("openapi/openapi.json is out of date with the code ({line}): run `make openapi` and commit the result");
    }
}

#[test]
fn every_operation_declares_security_and_a_success() {
    let doc = doc();
    let mut problems = Vec::new();
    for (op, o) in operations(&doc) {
        match o["security"].as_array() {
            None => problems.push(format!("{op}: no security (add security((\"bearer\" = [roles])) or security(()))")),
            Some(s) if s.is_empty() => problems.push(format!("{op}: empty security list")),
            Some(_) => {}
        }
        let responses = o["responses"].as_object().unwrap();
        if !responses.keys().any(|k| k.starts_with('2')) {
            problems.push(format!("{op}: no 2xx response"));
        }
        if o["operationId"].as_str().is_none_or(str::is_empty) {
            problems.push(format!("{op}: no operationId"));
        }
        if o["tags"].as_array().is_none_or(Vec::is_empty) {
            problems.push(format!("{op}: no tag"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Follows a response's `$ref` into components/responses.
fn resolve_response<'a>(doc: &'a Value, response: &'a Value) -> &'a Value {
    match response["$ref"].as_str() {
        Some(r) => &doc["components"]["responses"][r.trim_start_matches("#/components/responses/")],
        None => response,
    }
}

#[test]
fn every_4xx_and_5xx_is_a_problem_document() {
    let doc = doc();
    let mut problems = Vec::new();
    for (op, o) in operations(&doc) {
        for (status, r) in o["responses"].as_object().unwrap() {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let r = resolve_response(&doc, r);
            if r.is_null() {
                problems.push(format!("{op} {status}: refers to a response components/responses lacks"));
                continue;
            }
            let content = r["content"].as_object();
            let Some(content) = content else {
                problems.push(format!("{op} {status}: no body (should be application/problem+json)"));
                continue;
            };
            let keys: Vec<&String> = content.keys().collect();
            if keys != ["application/problem+json"] {
                problems.push(format!("{op} {status}: content types {keys:?}, expected only application/problem+json"));
                continue;
            }
            let schema = &content["application/problem+json"]["schema"];
            if schema["$ref"] != "#/components/schemas/Problem" {
                problems.push(format!("{op} {status}: schema {schema}, expected the Problem schema"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The statuses an operation answers by its shape (docs/api.md, Errors), derived here from the
/// document independently of the code that adds them:
/// behind a login 400 (X-Acting-Grant), 401, 403, and 409 for a write (unique and foreign keys);
/// path parameters 400, and 404 unless they are
/// all enums; query parameters 400, 422; a JSON or multipart body 400, 413, 415, 422; If-Match
/// 400, 412, and 428 when it is required or the body's `version` is optional.
fn expected_statuses(doc: &Value, method: &str, o: &Value) -> Vec<&'static str> {
    let mut want = Vec::new();
    let public = o["security"].as_array().is_some_and(|a| a.iter().any(|r| r.as_object().is_some_and(|m| m.is_empty())));
    if !public {
        want.extend(["400", "401", "403"]);
        if method != "GET" {
            want.push("409");
        }
    }
    let params = o["parameters"].as_array().cloned().unwrap_or_default();
    let mut if_match_required = None;
    for p in &params {
        match p["in"].as_str().unwrap_or_default() {
            "path" => {
                want.push("400");
                if resolve(doc, &p["schema"]).get("enum").is_none() {
                    want.push("404");
                }
            }
            "query" => want.extend(["400", "422"]),
            "header" if p["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case("if-match")) => {
                want.extend(["400", "412"]);
                if_match_required = Some(p["required"] == true);
            }
            _ => {}
        }
    }
    let mut body_version_optional = false;
    for (ct, media) in o["requestBody"]["content"].as_object().into_iter().flatten() {
        if ct == "application/json" || ct == "multipart/form-data" {
            want.extend(["400", "413", "415", "422"]);
        }
        let schema = resolve(doc, &media["schema"]);
        let required = schema["required"].as_array().cloned().unwrap_or_default();
        body_version_optional |= schema["properties"].get("version").is_some() && !required.contains(&Value::from("version"));
    }
    if if_match_required == Some(true) || (if_match_required == Some(false) && body_version_optional) {
        want.push("428");
    }
    want.sort_unstable();
    want.dedup();
    want
}

/// Every operation documents every standard status its shape can answer, so a generic client
/// (schemathesis, tests/api/schemathesis.sh) can trust the document; a new endpoint gets them
/// from app::openapi() and this test keeps that from breaking.
#[test]
fn every_operation_documents_the_standard_statuses_of_its_shape() {
    let doc = doc();
    let mut problems = Vec::new();
    for (op, o) in operations(&doc) {
        let responses = o["responses"].as_object().unwrap();
        let method = op.split_once(' ').unwrap().0;
        for status in expected_statuses(&doc, method, &o) {
            if !responses.contains_key(status) {
                problems.push(format!("{op}: answers {status} but does not document it"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The shared responses exist, and are referred to only under their own status.
    for (_, name, _) in dangjian::app::STANDARD_RESPONSES {
        assert!(doc["components"]["responses"][name]["content"]["application/problem+json"].is_object(), "components/responses/{name}");
    }
    for (op, o) in operations(&doc) {
        for (status, r) in o["responses"].as_object().unwrap() {
            if let Some(name) = r["$ref"].as_str() {
                let name = name.trim_start_matches("#/components/responses/");
                assert!(dangjian::app::STANDARD_RESPONSES.iter().any(|(s, n, _)| s == status && *n == name), "{op} {status} refers to {name}");
            }
        }
    }
}

/// Record ids in paths are bounded 1..=i64::MAX; paging is bounded so that (page - 1) × page_size
/// cannot overflow (PageParams::MAX_PAGE).
#[test]
fn path_ids_and_paging_parameters_are_bounded() {
    let doc = doc();
    let mut problems = Vec::new();
    for (op, o) in operations(&doc) {
        for p in o["parameters"].as_array().cloned().unwrap_or_default() {
            let (name, at, schema) = (p["name"].as_str().unwrap_or_default(), p["in"].as_str().unwrap_or_default(), &p["schema"]);
            let bounds = (schema["minimum"].as_i64(), schema["maximum"].as_i64());
            if at == "path" && schema["type"] == "integer" && bounds != (Some(1), Some(i64::MAX)) {
                problems.push(format!("{op}: path id {name} bounded {bounds:?}, expected 1..=i64::MAX"));
            }
            if at == "query" && (name == "page" || name == "page_size") {
                match bounds {
                    (Some(1), Some(max)) if name == "page" && max == dangjian::http::PageParams::MAX_PAGE => {}
                    (Some(1), Some(max)) if name == "page_size" && (1..=5000).contains(&max) => {}
                    _ => problems.push(format!("{op}: {name} bounded {bounds:?}")),
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_request_body_has_an_example() {
    let doc = doc();
    let mut missing = Vec::new();
    for (op, o) in operations(&doc) {
        let Some(content) = o["requestBody"]["content"].as_object() else { continue };
        for (ct, media) in content {
            let schema = resolve(&doc, &media["schema"]);
            let has = media.get("example").is_some() || media.get("examples").is_some() || schema.get("example").is_some() || schema.get("examples").is_some();
            if !has {
                missing.push(format!("{op} ({ct})"));
            }
        }
    }
    assert!(missing.is_empty(), "request bodies without an example (add #[schema(example = ...)]): {missing:?}");
}

#[test]
fn path_parameters_are_declared_with_examples() {
    let doc = doc();
    let mut problems = Vec::new();
    for (op, o) in operations(&doc) {
        let path = op.split_once(' ').unwrap().1;
        let params = o["parameters"].as_array().cloned().unwrap_or_default();
        for seg in path.split('/').filter(|s| s.starts_with('{')) {
            let name = seg.trim_matches(|c| c == '{' || c == '}');
            match params.iter().find(|p| p["name"] == name && p["in"] == "path") {
                None => problems.push(format!("{op}: path parameter {name} not declared")),
                Some(p) if p.get("example").is_none() && p["schema"].get("example").is_none() => {
                    problems.push(format!("{op}: path parameter {name} has no example"))
                }
                Some(_) => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The document served at run time (Swagger UI's source) is the generated one.
#[actix_web::test]
async fn served_document_is_the_generated_one() {
    let fx = common::Fx::new().await;
    let r = fx.send(common::Req::get("/api/v1/openapi.json")).await;
    r.expect(200);
    assert_eq!(r.json, doc());
    let ui = fx.send(common::Req::get("/api/docs/")).await;
    ui.expect(200);
}

/// What the document promises about parameters and bodies is what the server answers.
#[actix_web::test]
async fn bounds_and_bodies_answer_the_documented_problems() {
    use common::{Req, users};
    let fx = common::Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    // A path id that is not an i64, or is out of its bounds: 400 naming it, after the login check.
    for path in ["/api/v1/members/9223372036854775808", "/api/v1/members/abc", "/api/v1/members/0", "/api/v1/members/-5", "/api/v1/imports/abc/annotated"] {
        let r = fx.send(Req::get(path).token(&admin)).await;
        r.expect(400);
        assert_eq!(r.header("content-type"), Some("application/problem+json"), "{path}");
        assert_eq!(r.first_error().0, "id", "{path}: {}", r.text);
    }
    let r = fx.send(Req::delete("/api/v1/meetings/1/votes/99999999999999999999").token(&admin)).await;
    r.expect(400);
    assert_eq!(r.first_error().0, "vote_id", "{}", r.text);
    fx.send(Req::get("/api/v1/members/abc")).await.expect_problem(401, "unauthenticated");
    // An existing route shape with a valid id still reaches the handler.
    fx.send(Req::get(format!("/api/v1/members/{}", fx.people.zhangsan)).token(&admin)).await.expect(200);

    // Paging: page 1..=100000 on every paged list (no overflow of (page - 1) × page_size).
    for list in [
        "/api/v1/members",
        "/api/v1/orgs",
        "/api/v1/imports",
        "/api/v1/meetings",
        "/api/v1/notifications",
        &format!("/api/v1/orgs/{}/subtree", fx.orgs.c1),
        &format!("/api/v1/meetings/compliance?org_id={}", fx.orgs.c1),
    ] {
        let sep = if list.contains('?') { '&' } else { '?' };
        for page in ["9223372036854775806", "100001", "0"] {
            let r = fx.send(Req::get(format!("{list}{sep}page={page}")).token(&admin)).await;
            r.expect_problem(422, "validation_failed");
            assert_eq!(r.first_error(), ("page".to_string(), "out_of_range".to_string()), "{list}?page={page}");
        }
        fx.send(Req::get(format!("{list}{sep}page=100000")).token(&admin)).await.expect(200);
        let r = fx.send(Req::get(format!("{list}{sep}page=abc")).token(&admin)).await;
        r.expect(400);
        assert_eq!(r.first_error().0, "page", "{list}: {}", r.text);
    }

    // JSON bodies: 415 for another type, 413 past the limit, both as problems.
    fx.send(Req::post("/api/v1/members").token(&admin).raw("text/plain", b"{}".to_vec())).await.expect_problem(415, "unsupported_media_type");
    let big = serde_json::json!({ "name": "x".repeat(300 * 1024) });
    fx.send(Req::post("/api/v1/members").token(&admin).json(big)).await.expect_problem(413, "payload_too_large");
    // NUL characters (PostgreSQL stores none) in a query parameter, a JSON field or key, a path
    // parameter: 400 naming it, never a 500.
    let r = fx.send(Req::get("/api/v1/orgs?q=a%00b").token(&admin)).await;
    r.expect_problem(400, "validation_failed");
    assert_eq!(r.first_error().0, "q");
    let r = fx.send(Req::post("/api/v1/auth/login").json(serde_json::json!({"username": "ad\u{0}min", "password": "x"}))).await;
    r.expect_problem(400, "validation_failed");
    assert_eq!(r.first_error().0, "username");
    let r = fx.send(Req::patch("/api/v1/meeting-kinds/a%00b").token(&admin).json(serde_json::json!({"version": 1}))).await;
    r.expect_problem(400, "validation_failed");
    assert_eq!(r.first_error().0, "code");
    let r = fx.send(Req::new("PUT", "/api/v1/sync/orgs").token(&admin).json(serde_json::json!({"items": [{"external_id": "X", "name": "a\u{0}"}]}))).await;
    r.expect_problem(400, "validation_failed");
    assert_eq!(r.first_error().0, "items[0].name");
    // Numbers jsonb would write back in a form JSON readers refuse (1e308 as 309 digits): 422.
    let r = fx
        .send(Req::post("/api/v1/meetings/1/addenda").token(&admin).json(serde_json::json!({"body": "更正", "changes": {"x": 1.7976931348623157e308}})))
        .await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.first_error(), ("changes".to_string(), "out_of_range".to_string()));
    // Uploads: 415 for a body that is not a multipart form.
    fx.send(Req::post("/api/v1/imports/members").token(&admin).raw("application/json", b"{}".to_vec())).await.expect_problem(415, "unsupported_media_type");
}
