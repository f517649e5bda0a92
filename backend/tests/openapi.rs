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

#[test]
fn every_4xx_and_5xx_is_a_problem_document() {
    let doc = doc();
    let mut problems = Vec::new();
    for (op, o) in operations(&doc) {
        for (status, r) in o["responses"].as_object().unwrap() {
            if !(status.starts_with('4') || status.starts_with('5')) {
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

#[test]
fn every_request_body_has_an_example() {
    let doc = doc();
    let mut missing = Vec::new();
    for (op, o) in operations(&doc) {
        let Some(content) = o["requestBody"]["content"].as_object() else { continue };
        for (ct, media) in content {
            let schema = resolve(&doc, &media["schema"]);
            let has = media.get("example").is_some()
                || media.get("examples").is_some()
                || schema.get("example").is_some()
                || schema.get("examples").is_some();
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
