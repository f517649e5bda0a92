//! The authorization matrix: every operation of the OpenAPI document, called by each role kind on
//! a target inside and outside its scope, must answer the status in [`TABLE`]. An operation
//! without a row (a new endpoint) or a row without an operation fails the test, so nobody can add
//! an endpoint without deciding who may call it.
//!
//! Writes send bodies that would be valid, on fresh targets, so the status reflects the
//! authorization (2xx or 403), not validation or earlier writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Fx, PASSWORD, Req, users};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::json;

/// Role kinds in the order of the table's columns, and the fixture account playing each:
/// member = 张三 (B1); branch over B1; committee over C1; political_dept over C1 (so it has an
/// outside too: C2 and B3).
const ROLES: [(&str, &str); 5] =
    [("masses", users::MASSES), ("member", users::MEMBER_ZS), ("branch", users::BR_B1), ("committee", users::COM_C1), ("political_dept", users::PD_C1)];

enum Expect {
    /// No login needed; the status of a valid anonymous call.
    Public(u16),
    /// (inside the scope, outside it) for masses, member, branch, committee, political_dept.
    Roles([(u16, u16); 5]),
}

use Expect::{Public, Roles};

const NO: (u16, u16) = (403, 403);

/// Operations on the institution's configuration (meeting kinds): only political_dept over the
/// whole institution may call them, so its "inside" case is played by that grant (admin) and its
/// "outside" case by the grant over C1.
const WHOLE_INSTITUTION_ONLY: &[&str] = &["POST /api/v1/meeting-kinds", "PATCH /api/v1/meeting-kinds/{code}"];

#[rustfmt::skip]
const TABLE: &[(&str, Expect)] = &[
    ("GET /healthz",                      Public(200)),
    ("GET /readyz",                       Public(200)),
    ("GET /api/v1/clock",                 Public(200)),
    ("POST /api/v1/auth/login",           Public(200)),
    ("POST /api/v1/auth/refresh",         Public(200)),
    ("POST /api/v1/auth/logout",          Public(204)),
    //                                          masses      member      branch      committee   political_dept
    ("GET /api/v1/me",                    Roles([(200, 200), (200, 200), (200, 200), (200, 200), (200, 200)])),
    ("GET /api/v1/code-lists",            Roles([(200, 200), (200, 200), (200, 200), (200, 200), (200, 200)])),
    ("GET /api/v1/orgs",                  Roles([NO,         (200, 403), (200, 403), (200, 403), (200, 403)])),
    ("POST /api/v1/orgs",                 Roles([NO,         NO,         (201, 403), (201, 403), (201, 403)])),
    ("GET /api/v1/orgs/{id}",             Roles([NO,         (200, 403), (200, 403), (200, 403), (200, 403)])),
    ("PATCH /api/v1/orgs/{id}",           Roles([NO,         NO,         (200, 403), (200, 403), (200, 403)])),
    ("DELETE /api/v1/orgs/{id}",          Roles([NO,         NO,         (204, 403), (204, 403), (204, 403)])),
    ("GET /api/v1/orgs/{id}/subtree",     Roles([NO,         NO,         (200, 403), (200, 403), (200, 403)])),
    ("GET /api/v1/orgs/{id}/path",        Roles([NO,         (200, 403), (200, 403), (200, 403), (200, 403)])),
    ("POST /api/v1/orgs/{id}/move",       Roles([NO,         NO,         NO,         (200, 403), (200, 403)])),
    ("GET /api/v1/members",               Roles([NO,         (200, 403), (200, 403), (200, 403), (200, 403)])),
    ("POST /api/v1/members",              Roles([NO,         NO,         (201, 403), (201, 403), (201, 403)])),
    ("GET /api/v1/members/{id}",          Roles([NO,         (200, 403), (200, 403), (200, 403), (200, 403)])),
    ("PATCH /api/v1/members/{id}",        Roles([NO,         (200, 403), (200, 403), (200, 403), (200, 403)])),
    ("DELETE /api/v1/members/{id}",       Roles([NO,         NO,         (204, 403), (204, 403), (204, 403)])),
    ("GET /api/v1/jobs/{id}",             Roles([NO,         NO,         (200, 403), (200, 403), (200, 403)])),
    ("PUT /api/v1/sync/orgs",             Roles([NO,         NO,         NO,         (200, 403), (200, 403)])),
    ("PUT /api/v1/sync/members",          Roles([NO,         NO,         NO,         (200, 403), (200, 403)])),
    // Templates and the list have no target; an upload reports rows outside the scope as
    // problems (out_of_scope) in a 200 report; a past import is visible to who ran it and to the
    // roles whose scope holds the importer's.
    ("GET /api/v1/imports/templates/{kind}", Roles([NO,      NO,         (200, 200), (200, 200), (200, 200)])),
    ("POST /api/v1/imports/{kind}",       Roles([NO,         NO,         (200, 200), (200, 200), (200, 200)])),
    ("GET /api/v1/imports",               Roles([NO,         NO,         (200, 200), (200, 200), (200, 200)])),
    ("GET /api/v1/imports/{id}",          Roles([NO,         NO,         (200, 403), (200, 403), (200, 403)])),
    ("GET /api/v1/imports/{id}/annotated", Roles([NO,        NO,         (200, 403), (200, 403), (200, 403)])),
    ("POST /api/v1/reports/party-statistics", Roles([NO,     NO,         (200, 403), (200, 403), (200, 403)])),
    ("GET /api/v1/stats/structure",       Roles([NO,         NO,         (200, 403), (200, 403), (200, 403)])),
    ("GET /api/v1/stats/trend",           Roles([NO,         NO,         (200, 403), (200, 403), (200, 403)])),
    ("GET /api/v1/stats/orgs",            Roles([NO,         NO,         (200, 403), (200, 403), (200, 403)])),
    ("GET /api/v1/stats/reminders",       Roles([NO,         NO,         (200, 403), (200, 403), (200, 403)])),
    ("GET /api/v1/meetings/compliance",   Roles([NO,         NO,         (200, 403), (200, 403), (200, 403)])),
    ("GET /api/v1/meetings/heatmap",      Roles([NO,         NO,         (200, 403), (200, 403), (200, 403)])),
    ("GET /api/v1/meetings/attendance",   Roles([NO,         NO,         (200, 403), (200, 403), (200, 403)])),
    // Exports: the column lists have no target.
    ("GET /api/v1/members/export.xlsx",   Roles([NO,         NO,         (200, 403), (200, 403), (200, 403)])),
    ("GET /api/v1/members/export/columns", Roles([NO,        NO,         (200, 200), (200, 200), (200, 200)])),
    ("GET /api/v1/orgs/export.xlsx",      Roles([NO,         NO,         (200, 403), (200, 403), (200, 403)])),
    ("GET /api/v1/orgs/export/columns",   Roles([NO,         NO,         (200, 200), (200, 200), (200, 200)])),
    // Meeting kinds are institution-wide configuration: political_dept "inside" is the grant over
    // the whole institution (WHOLE_INSTITUTION_ONLY), "outside" the one over C1.
    ("GET /api/v1/meeting-kinds",         Roles([NO,         (200, 200), (200, 200), (200, 200), (200, 200)])),
    ("POST /api/v1/meeting-kinds",        Roles([NO,         NO,         NO,         NO,         (201, 403)])),
    ("PATCH /api/v1/meeting-kinds/{code}", Roles([NO,        NO,         NO,         NO,         (200, 403)])),
    ("GET /api/v1/orgs/{id}/meeting-rules", Roles([NO,       NO,         (200, 403), (200, 403), (200, 403)])),
    ("PUT /api/v1/orgs/{id}/meeting-rules", Roles([NO,       NO,         NO,         (200, 403), (200, 403)])),
    ("GET /api/v1/orgs/{id}/officers",    Roles([NO,         NO,         (200, 403), (200, 403), (200, 403)])),
    ("PUT /api/v1/orgs/{id}/officers",    Roles([NO,         NO,         (200, 403), (200, 403), (200, 403)])),
    ("GET /api/v1/orgs/{id}/ledger",      Roles([NO,         NO,         (200, 403), (200, 403), (200, 403)])),
    ("GET /api/v1/meetings/{id}/checkin-code", Roles([NO,    NO,         (200, 403), (200, 403), (200, 403)])),
    ("POST /api/v1/meetings/{id}/checkin", Roles([NO,        (200, 403), NO,         NO,         NO])),
    ("POST /api/v1/meetings/{id}/votes",  Roles([NO,         NO,         (201, 403), (201, 403), (201, 403)])),
    ("DELETE /api/v1/meetings/{id}/votes/{vote_id}", Roles([NO, NO,      (204, 403), (204, 403), (204, 403)])),
    ("POST /api/v1/meetings/{id}/attachments", Roles([NO,    NO,         (201, 403), (201, 403), (201, 403)])),
    ("GET /api/v1/meetings/{id}/attachments/{att_id}", Roles([NO, (200, 403), (200, 403), (200, 403), (200, 403)])),
    ("DELETE /api/v1/meetings/{id}/attachments/{att_id}", Roles([NO, NO, (204, 403), (204, 403), (204, 403)])),
    // Meeting records: the org-managing roles over the meeting's org write; a member reads the
    // meetings they are due at, and has "mine".
    ("GET /api/v1/meetings/attendee-candidates", Roles([NO,  NO,         (200, 403), (200, 403), (200, 403)])),
    ("POST /api/v1/meetings",             Roles([NO,         NO,         (201, 403), (201, 403), (201, 403)])),
    ("GET /api/v1/meetings",              Roles([NO,         (200, 403), (200, 403), (200, 403), (200, 403)])),
    ("GET /api/v1/meetings/mine",         Roles([NO,         (200, 200), NO,         NO,         NO])),
    ("GET /api/v1/meetings/{id}",         Roles([NO,         (200, 403), (200, 403), (200, 403), (200, 403)])),
    ("PATCH /api/v1/meetings/{id}",       Roles([NO,         NO,         (200, 403), (200, 403), (200, 403)])),
    ("DELETE /api/v1/meetings/{id}",      Roles([NO,         NO,         (204, 403), (204, 403), (204, 403)])),
    ("PUT /api/v1/meetings/{id}/attendees", Roles([NO,       NO,         (200, 403), (200, 403), (200, 403)])),
    ("PUT /api/v1/meetings/{id}/attendance", Roles([NO,      NO,         (200, 403), (200, 403), (200, 403)])),
    ("POST /api/v1/meetings/{id}/archive", Roles([NO,        NO,         (200, 403), (200, 403), (200, 403)])),
    ("POST /api/v1/meetings/{id}/addenda", Roles([NO,        NO,         (201, 403), (201, 403), (201, 403)])),
    // Notifications are the caller's own: someone else's is 404, as if it did not exist (the
    // fixture's branch, committee and political_dept accounts have no person, so none of theirs).
    ("GET /api/v1/notifications",         Roles([NO,         (200, 200), (200, 200), (200, 200), (200, 200)])),
    ("GET /api/v1/notifications/unread-count", Roles([NO,    (200, 200), (200, 200), (200, 200), (200, 200)])),
    ("POST /api/v1/notifications/{id}/read", Roles([NO,      (204, 404), (404, 404), (404, 404), (404, 404)])),
    // Passwords: everyone changes their own (played with a wrong current password, 422 after the
    // role check, so that the role's session goes on); political_dept resets the accounts whose
    // grants lie below its org (fresh accounts in B1 and B3).
    ("POST /api/v1/me/password",          Roles([(422, 422), (422, 422), (422, 422), (422, 422), (422, 422)])),
    ("POST /api/v1/accounts/{id}/password", Roles([NO,       NO,         NO,         NO,         (204, 403)])),
];

/// Every operation of the OpenAPI document as "METHOD /path", with its security scopes (None
/// when public).
fn spec_operations() -> BTreeMap<String, Option<BTreeSet<String>>> {
    let doc = serde_json::to_value(dangjian::app::openapi()).unwrap();
    let mut ops = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete", "head", "options", "trace"].contains(&method.as_str()) {
                continue;
            }
            let security = op["security"].as_array().cloned().unwrap_or_default();
            let public = security.iter().any(|s| s.as_object().is_some_and(|o| o.is_empty()));
            let scopes: BTreeSet<String> =
                security.iter().flat_map(|s| s["bearer"].as_array().cloned().unwrap_or_default()).map(|s| s.as_str().unwrap().to_string()).collect();
            ops.insert(format!("{} {path}", method.to_uppercase()), if public { None } else { Some(scopes) });
        }
    }
    ops
}

#[test]
fn the_table_covers_exactly_the_operations_of_the_spec() {
    let spec = spec_operations();
    let table: BTreeSet<&str> = TABLE.iter().map(|(op, _)| *op).collect();
    assert_eq!(table.len(), TABLE.len(), "an operation has two rows");
    let missing: Vec<&String> = spec.keys().filter(|op| !table.contains(op.as_str())).collect();
    let extra: Vec<&&str> = table.iter().filter(|op| !spec.contains_key(**op)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "authorization matrix out of date.\n  operations without a row in TABLE (add one, with the statuses each role kind must get): {missing:?}\n  rows naming no operation: {extra:?}"
    );
    // The table agrees with each operation's declared scopes: a role kind outside them is
    // refused both inside and outside its scope, and a public operation is a Public row.
    for (op, expect) in TABLE {
        let scopes = &spec[*op];
        match (expect, scopes) {
            (Public(_), None) => {}
            (Public(_), Some(_)) => panic!("{op} is a Public row but the spec requires a login"),
            (Roles(_), None) => panic!("{op} is public in the spec but has a Roles row"),
            (Roles(cols), Some(scopes)) => {
                for (i, (role, _)) in ROLES.iter().enumerate() {
                    if !scopes.contains(*role) {
                        assert_eq!(cols[i], NO, "{op}: the spec does not admit {role}, so the row must say NO");
                    } else {
                        assert_ne!(cols[i].0, 403, "{op}: the spec admits {role}, so inside its scope it should succeed");
                    }
                }
            }
        }
    }
}

/// The request playing `op` for the role kind in column `role`, on a target inside or outside
/// its scope. Fresh targets for writes, so that the cases do not depend on each other.
async fn request_for(fx: &Fx, op: &str, role: usize, inside: bool) -> Req {
    let o = fx.orgs;
    let p = fx.people;
    let pick = |pairs: [(i64, i64); 5]| if inside { pairs[role].0 } else { pairs[role].1 };
    // The org whose subtree the role manages (or, for a member, their own org).
    let root = pick([(o.b1, o.b3), (o.b1, o.b3), (o.b1, o.b3), (o.g1, o.c2), (o.c1, o.c2)]);
    // An org the role may read.
    let readable = pick([(o.b1, o.b3), (o.b1, o.b3), (o.b1_1, o.b3), (o.b2, o.b3), (o.g1, o.b3)]);
    // Where the role may create (and so edit and delete) an org, and what kind it is there.
    let (child_kind, child_parent) = match role {
        0..=2 => ("group", if inside { o.b1 } else { o.b3 }),
        _ => ("branch", if inside { if role == 3 { o.g1 } else { o.c1 } } else { o.c2 }),
    };
    // Where the role may add members.
    let member_org = pick([(o.b1_1, o.b3), (o.b1_1, o.b3), (o.b1_1, o.b3), (o.b2, o.b3), (o.b1, o.b3)]);
    let member_read = pick([(p.zhangsan, p.qianqi), (p.zhangsan, p.lisi), (p.wangwu, p.qianqi), (p.zhaoliu, p.qianqi), (p.zhangsan, p.qianqi)]);
    let code = format!("M{:08x}", rand::random::<u32>());
    // Where the role manages meetings (B1 for the member: their own branch, where 张三 is due).
    let meeting_org = pick([(o.b1, o.b3), (o.b1, o.b3), (o.b1, o.b3), (o.b2, o.b3), (o.b1, o.b3)]);

    match op {
        "GET /healthz" => Req::get("/healthz"),
        "GET /readyz" => Req::get("/readyz"),
        "GET /api/v1/clock" => Req::get("/api/v1/clock"),
        "POST /api/v1/auth/login" => Req::post("/api/v1/auth/login").json(json!({"username": users::ADMIN, "password": PASSWORD})),
        "POST /api/v1/auth/refresh" => {
            let t = fx.login_tokens(users::ADMIN).await;
            Req::post("/api/v1/auth/refresh").json(json!({"refresh_token": t["refresh_token"]}))
        }
        "POST /api/v1/auth/logout" => {
            let t = fx.login_tokens(users::ADMIN).await;
            Req::post("/api/v1/auth/logout").json(json!({"refresh_token": t["refresh_token"]}))
        }
        "GET /api/v1/me" => Req::get("/api/v1/me"),
        "POST /api/v1/me/password" => Req::post("/api/v1/me/password").json(json!({"current_password": "Not-the-password-1", "new_password": "Autumn-Maple-Ledger-47"})),
        "POST /api/v1/accounts/{id}/password" => {
            let username = format!("t{:08x}", rand::random::<u32>());
            let grant = (dangjian::auth::Role::Branch, Some(if inside { "B1" } else { "B3" }.to_string()));
            let new = dangjian::accounts::NewAccount { username: &username, password_hash: "-".into(), person_id: None };
            let mut conn = fx.conn().await;
            let id = dangjian::accounts::create(&mut conn, dangjian::audit::By::CLI, new, &[grant]).await.unwrap();
            Req::post(format!("/api/v1/accounts/{id}/password")).json(json!({"new_password": "Autumn-Maple-Ledger-47"}))
        }
        "GET /api/v1/orgs" => Req::get(format!("/api/v1/orgs?parent_id={root}")),
        "POST /api/v1/orgs" => {
            Req::post("/api/v1/orgs").json(json!({"code": code, "name": "新建组织", "kind": child_kind, "parent_id": child_parent}))
        }
        "GET /api/v1/orgs/{id}" => Req::get(format!("/api/v1/orgs/{readable}")),
        // Not scoped: every role reads the same lists.
        "GET /api/v1/code-lists" => Req::get("/api/v1/code-lists"),
        "PATCH /api/v1/orgs/{id}" => {
            let id = fx.new_org(child_kind, child_parent).await;
            Req::patch(format!("/api/v1/orgs/{id}")).if_match(1).json(json!({"name": "改名"}))
        }
        "DELETE /api/v1/orgs/{id}" => {
            let id = fx.new_org(child_kind, child_parent).await;
            Req::delete(format!("/api/v1/orgs/{id}")).if_match(1)
        }
        "GET /api/v1/orgs/{id}/subtree" => Req::get(format!("/api/v1/orgs/{root}/subtree")),
        "GET /api/v1/orgs/{id}/path" => Req::get(format!("/api/v1/orgs/{readable}/path")),
        "POST /api/v1/orgs/{id}/move" => {
            // A branch under G1 (inside C1) or under C2 (outside), moved to C1.
            let id = fx.new_org("branch", if inside { o.g1 } else { o.c2 }).await;
            Req::post(format!("/api/v1/orgs/{id}/move")).json(json!({"parent_id": o.c1, "version": 1}))
        }
        "GET /api/v1/members" => {
            if role == 1 && inside {
                Req::get("/api/v1/members") // a member's scope is themself, not an org
            } else {
                Req::get(format!("/api/v1/members?org_id={root}"))
            }
        }
        "POST /api/v1/members" => Req::post("/api/v1/members").json(json!({
            "name": "新党员", "gender": "male", "birth_date": "1985-01-01", "category": "full",
            "org_id": member_org, "joined_at": "2012-01-01", "full_member_at": "2013-01-01"
        })),
        "GET /api/v1/members/{id}" => Req::get(format!("/api/v1/members/{member_read}")),
        "PATCH /api/v1/members/{id}" => {
            // A member changes their own phone; the others edit a fresh member.
            let id = if role == 1 { member_read } else { fx.new_member("待改", member_org).await };
            let version = fx.member_version(id).await;
            Req::patch(format!("/api/v1/members/{id}")).json(json!({"phone": "13511112222", "version": version}))
        }
        "DELETE /api/v1/members/{id}" => {
            let id = fx.new_member("待删", member_org).await;
            Req::delete(format!("/api/v1/members/{id}"))
        }
        "GET /api/v1/jobs/{id}" => {
            // Inside: a job the caller started; outside: one someone else started.
            let by = if inside { ROLES[role].1 } else { users::ADMIN };
            let mut conn = fx.conn().await;
            let id = dangjian::jobs::enqueue(&mut conn, "noop", json!({}), Some(fx.accounts[by])).await.unwrap();
            Req::get(format!("/api/v1/jobs/{id}"))
        }
        // A batch of one new record: a branch under the role's org (G1 for committee over C1,
        // C1 for political_dept over C1) or under C2 (outside); a member in B2 / B1 or in B3.
        "PUT /api/v1/sync/orgs" => {
            let parent = if !inside { "C2" } else if role == 4 { "C1" } else { "G1" };
            Req::new("PUT", "/api/v1/sync/orgs").json(json!({"items": [{"external_id": code, "code": code, "name": "同步组织", "kind": "branch", "parent_code": parent}]}))
        }
        "PUT /api/v1/sync/members" => {
            let org = if !inside { "B3" } else if role == 4 { "B1" } else { "B2" };
            Req::new("PUT", "/api/v1/sync/members").json(json!({"items": [{
                "external_id": code, "name": "同步党员", "gender": "male", "birth_date": "1985-01-01", "category": "full",
                "org_code": org, "joined_at": "2012-01-01", "full_member_at": "2013-01-01"
            }]}))
        }
        "GET /api/v1/imports/templates/{kind}" => Req::get("/api/v1/imports/templates/members"),
        "POST /api/v1/imports/{kind}" => {
            let org_code = if inside { "B1-1" } else { "B3" };
            let csv = format!("姓名,性别,出生日期,人员类别,党组织编码,入党日期,转正日期\n新党员,男,1985-01-01,正式党员,{org_code},2012-01-01,2013-01-01\n");
            let boundary = "authz-boundary";
            let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n{csv}").into_bytes();
            body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
            Req::post("/api/v1/imports/members?dry_run=true").raw(&format!("multipart/form-data; boundary={boundary}"), body)
        }
        "GET /api/v1/imports" => Req::get("/api/v1/imports"),
        "GET /api/v1/imports/{id}" => Req::get(format!("/api/v1/imports/{}", import_by(fx, if inside { ROLES[role].1 } else { users::COM_C2 }, if inside { root } else { o.c2 }).await)),
        "GET /api/v1/imports/{id}/annotated" => {
            Req::get(format!("/api/v1/imports/{}/annotated", import_by(fx, if inside { ROLES[role].1 } else { users::COM_C2 }, if inside { root } else { o.c2 }).await))
        }
        "POST /api/v1/reports/party-statistics" => {
            Req::post("/api/v1/reports/party-statistics").header("Accept", "application/json").json(json!({"org_id": root, "as_of": "2025-12-31", "kind": "annual"}))
        }
        "GET /api/v1/stats/structure" => Req::get(format!("/api/v1/stats/structure?org_id={root}&as_of=2025-12-31")),
        "GET /api/v1/stats/trend" => Req::get(format!("/api/v1/stats/trend?org_id={root}&years=2")),
        "GET /api/v1/stats/orgs" => Req::get(format!("/api/v1/stats/orgs?org_id={root}")),
        "GET /api/v1/stats/reminders" => Req::get(format!("/api/v1/stats/reminders?org_id={root}")),
        "GET /api/v1/meetings/compliance" => Req::get(format!("/api/v1/meetings/compliance?org_id={root}")),
        "GET /api/v1/meetings/heatmap" => Req::get(format!("/api/v1/meetings/heatmap?org_id={root}")),
        "GET /api/v1/meetings/attendance" => Req::get(format!("/api/v1/meetings/attendance?org_id={root}")),
        "GET /api/v1/members/export.xlsx" => Req::get(format!("/api/v1/members/export.xlsx?org_id={root}&columns=name")),
        "GET /api/v1/members/export/columns" => Req::get("/api/v1/members/export/columns"),
        "GET /api/v1/orgs/export.xlsx" => Req::get(format!("/api/v1/orgs/export.xlsx?org_id={root}&columns=code")),
        "GET /api/v1/orgs/export/columns" => Req::get("/api/v1/orgs/export/columns"),
        "GET /api/v1/meeting-kinds" => Req::get("/api/v1/meeting-kinds"),
        "POST /api/v1/meeting-kinds" => Req::post("/api/v1/meeting-kinds").json(json!({"code": code.to_lowercase(), "name": "新会议", "name_en": "New", "frequency": "month"})),
        "PATCH /api/v1/meeting-kinds/{code}" => {
            let kind = code.to_lowercase();
            use dangjian::schema::meeting_kinds as k;
            diesel::insert_into(k::table)
                .values((k::code.eq(&kind), k::name.eq("待改"), k::name_en.eq("x"), k::frequency.eq("month")))
                .execute(&mut fx.conn().await)
                .await
                .unwrap();
            Req::patch(format!("/api/v1/meeting-kinds/{kind}")).if_match(1).json(json!({"name": "改名"}))
        }
        "GET /api/v1/orgs/{id}/meeting-rules" => Req::get(format!("/api/v1/orgs/{root}/meeting-rules")),
        "PUT /api/v1/orgs/{id}/meeting-rules" => {
            use dangjian::schema::org_life_settings as s;
            let version: i32 = s::table.find(root).select(s::version).first(&mut fx.conn().await).await.optional().unwrap().unwrap_or(0);
            Req::new("PUT", format!("/api/v1/orgs/{root}/meeting-rules")).json(json!({"has_committee": null, "rules": [], "version": version}))
        }
        "GET /api/v1/orgs/{id}/officers" => Req::get(format!("/api/v1/orgs/{root}/officers")),
        "PUT /api/v1/orgs/{id}/officers" => Req::new("PUT", format!("/api/v1/orgs/{root}/officers")).json(json!({"officers": []})),
        "GET /api/v1/orgs/{id}/ledger" => Req::get(format!("/api/v1/orgs/{root}/ledger?year=2025")),
        "GET /api/v1/meetings/{id}/checkin-code" => {
            let id = meeting_row(fx, meeting_org, "theme_party_day", "planned").await;
            Req::get(format!("/api/v1/meetings/{id}/checkin-code"))
        }
        "POST /api/v1/meetings/{id}/checkin" => {
            let id = meeting_row(fx, meeting_org, "theme_party_day", "planned").await;
            let window = dangjian::meetings::checkin::window_of(common::clock().now());
            let code = dangjian::meetings::checkin::code_for(common::JWT_SECRET, id, window).unwrap();
            Req::post(format!("/api/v1/meetings/{id}/checkin")).json(json!({"code": code}))
        }
        "POST /api/v1/meetings/{id}/votes" => {
            let id = meeting_row(fx, meeting_org, "branch_general_meeting", "held").await;
            Req::post(format!("/api/v1/meetings/{id}/votes")).json(json!({"motion": "接收某人为预备党员", "subject": "admission", "yes": 1, "no": 0, "abstain": 0, "version": 1}))
        }
        "DELETE /api/v1/meetings/{id}/votes/{vote_id}" => {
            let id = meeting_row(fx, meeting_org, "branch_general_meeting", "held").await;
            use dangjian::schema::meeting_votes as v;
            let vote: i64 = diesel::insert_into(v::table)
                .values((
                    v::meeting_id.eq(id), v::motion.eq("x"), v::voters_due.eq(1), v::voters_present.eq(1), v::yes.eq(1), v::no.eq(0), v::abstain.eq(0),
                    v::quorum_met.eq(true), v::passed.eq(true), v::rule.eq(json!({})),
                ))
                .returning(v::id)
                .get_result(&mut fx.conn().await)
                .await
                .unwrap();
            Req::delete(format!("/api/v1/meetings/{id}/votes/{vote}"))
        }
        "POST /api/v1/meetings/{id}/attachments" => {
            let id = meeting_row(fx, meeting_org, "theme_party_day", "held").await;
            let boundary = "authz-boundary";
            let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.4 x").into_bytes();
            body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
            Req::post(format!("/api/v1/meetings/{id}/attachments?category=document")).raw(&format!("multipart/form-data; boundary={boundary}"), body)
        }
        "GET /api/v1/meetings/{id}/attachments/{att_id}" | "DELETE /api/v1/meetings/{id}/attachments/{att_id}" => {
            let id = meeting_row(fx, meeting_org, "theme_party_day", "held").await;
            let key = dangjian::storage::Storage::new_key();
            let mut conn = fx.conn().await;
            dangjian::storage::Storage::Postgres.put(&mut conn, &key, b"%PDF-1.4 x").await.unwrap();
            use dangjian::schema::meeting_attachments as a;
            let att: i64 = diesel::insert_into(a::table)
                .values((
                    a::meeting_id.eq(id), a::category.eq("document"), a::file_name.eq("a.pdf"), a::content_type.eq("application/pdf"),
                    a::size_bytes.eq(10i64), a::sha256.eq(vec![0u8; 32]), a::storage_key.eq(&key),
                ))
                .returning(a::id)
                .get_result(&mut conn)
                .await
                .unwrap();
            let path = format!("/api/v1/meetings/{id}/attachments/{att}");
            if op.starts_with("GET") { Req::get(path) } else { Req::delete(path) }
        }
        "GET /api/v1/meetings/attendee-candidates" => Req::get(format!("/api/v1/meetings/attendee-candidates?org_id={meeting_org}&kind=party_lecture")),
        "POST /api/v1/meetings" => Req::post("/api/v1/meetings").json(json!({
            "org_id": meeting_org, "kind": "party_lecture", "topic": "党课", "starts_at": (common::clock().now() + chrono::Duration::days(3)).to_rfc3339(), "status": "planned"
        })),
        "GET /api/v1/meetings" => {
            if role == 1 && inside { Req::get("/api/v1/meetings") } else { Req::get(format!("/api/v1/meetings?org_id={meeting_org}")) }
        }
        "GET /api/v1/meetings/mine" => Req::get("/api/v1/meetings/mine"),
        "GET /api/v1/meetings/{id}" => Req::get(format!("/api/v1/meetings/{}", meeting_row(fx, meeting_org, "party_lecture", "held").await)),
        "PATCH /api/v1/meetings/{id}" => {
            Req::patch(format!("/api/v1/meetings/{}", meeting_row(fx, meeting_org, "party_lecture", "planned").await)).if_match(1).json(json!({"topic": "改"}))
        }
        "DELETE /api/v1/meetings/{id}" => Req::delete(format!("/api/v1/meetings/{}", meeting_row(fx, meeting_org, "party_lecture", "planned").await)).if_match(1),
        "PUT /api/v1/meetings/{id}/attendees" => {
            let id = meeting_row(fx, meeting_org, "party_lecture", "planned").await;
            Req::new("PUT", format!("/api/v1/meetings/{id}/attendees")).json(json!({"person_ids": [], "version": 1}))
        }
        "PUT /api/v1/meetings/{id}/attendance" => {
            let id = meeting_row(fx, meeting_org, "party_lecture", "held").await;
            let person = if meeting_org == o.b1 { p.zhangsan } else { p.qianqi };
            Req::new("PUT", format!("/api/v1/meetings/{id}/attendance")).json(json!({"items": [{"person_id": person, "attendance": "present"}], "version": 1}))
        }
        "POST /api/v1/meetings/{id}/archive" | "POST /api/v1/meetings/{id}/addenda" => {
            // Held, everyone's attendance recorded, with minutes: ready to archive (and archived
            // for an addendum).
            let id = meeting_row(fx, meeting_org, "party_lecture", "held").await;
            use dangjian::schema::meetings as m;
            let archived = op.ends_with("addenda").then(|| common::clock().now());
            diesel::update(m::table.find(id)).set((m::minutes.eq("记录"), m::archived_at.eq(archived))).execute(&mut fx.conn().await).await.unwrap();
            if archived.is_some() {
                Req::post(format!("/api/v1/meetings/{id}/addenda")).json(json!({"body": "更正"}))
            } else {
                Req::post(format!("/api/v1/meetings/{id}/archive")).json(json!({"version": 1}))
            }
        }
        "GET /api/v1/notifications" => Req::get("/api/v1/notifications"),
        "GET /api/v1/notifications/unread-count" => Req::get("/api/v1/notifications/unread-count"),
        "POST /api/v1/notifications/{id}/read" => {
            // 张三's own (the member's inside), or 钱七's.
            let person = if inside { p.zhangsan } else { p.qianqi };
            let notice = dangjian::notifications::Notice { kind: "test", title: "通知", body: "", link: None, entity: None, entity_id: None };
            dangjian::notifications::notify(&mut *fx.conn().await, &[person], notice).await.unwrap();
            use dangjian::schema::notifications as n;
            let id: i64 = n::table.filter(n::person_id.eq(person)).select(n::id).order(n::id.desc()).first(&mut fx.conn().await).await.unwrap();
            Req::post(format!("/api/v1/notifications/{id}/read"))
        }
        other => panic!("no request for {other}: add one to request_for"),
    }
}

/// A meeting of `org` starting now, inserted directly: 张三 (full member, a vote) is due at and
/// present at those of B1, 钱七 at those elsewhere.
async fn meeting_row(fx: &Fx, org: i64, kind: &str, status: &str) -> i64 {
    use dangjian::schema::{meeting_attendees as ma, meetings as m};
    let mut conn = fx.conn().await;
    let id: i64 = diesel::insert_into(m::table)
        .values((m::org_id.eq(org), m::kind.eq(kind), m::topic.eq("会议"), m::starts_at.eq(common::clock().now()), m::status.eq(status)))
        .returning(m::id)
        .get_result(&mut conn)
        .await
        .unwrap();
    let (person, attendance) =
        if org == fx.orgs.b1 { (fx.people.zhangsan, if status == "held" { "present" } else { "pending" }) } else { (fx.people.qianqi, "present") };
    diesel::insert_into(ma::table).values((ma::meeting_id.eq(id), ma::person_id.eq(person), ma::attendance.eq(attendance))).execute(&mut conn).await.unwrap();
    id
}

/// A dry-run import of a one-row CSV, run by `user` over the subtree of `root`.
async fn import_by(fx: &Fx, user: &str, root: i64) -> i64 {
    use dangjian::imports::{ImportKind, ImportOptions, Importer, run_import};
    let importer = Importer {
        account_id: fx.accounts[user],
        ip: None,
        scope: dangjian::auth::Scope { all: false, org_roots: vec![root], person_id: None },
        today: fx.today(),
    };
    let csv = "姓名,性别\n某人,男\n";
    let key = fx.shared.state.config.data_key.clone();
    let options = ImportOptions { dry_run: true, skip_invalid: false };
    let mut conn = fx.conn().await;
    run_import(&mut conn, &key, &importer, ImportKind::Members, "a.csv", csv.as_bytes(), options, None, &mut |_, _| {}).await.unwrap().import_id
}

#[actix_web::test]
async fn every_operation_answers_each_role_as_the_table_says() {
    let fx = Fx::new().await;
    let spec = spec_operations();
    let mut tokens = Vec::new();
    for (_, user) in ROLES {
        tokens.push(fx.login(user).await);
    }
    let admin = fx.login(users::ADMIN).await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for (op, expect) in TABLE {
        match expect {
            Public(status) => {
                let r = fx.send(request_for(&fx, op, 4, true).await).await;
                checked += 1;
                if r.status.as_u16() != *status {
                    failures.push(format!("{op} anonymous: expected {status}, got {} {}", r.status.as_u16(), r.text));
                }
            }
            Roles(cols) => {
                let scopes = spec[*op].clone().unwrap_or_default();
                for (i, (role, _)) in ROLES.iter().enumerate() {
                    for inside in [true, false] {
                        let want = if inside { cols[i].0 } else { cols[i].1 };
                        let token = if inside && *role == "political_dept" && WHOLE_INSTITUTION_ONLY.contains(op) { &admin } else { &tokens[i] };
                        let r = fx.send(request_for(&fx, op, i, inside).await.token(token)).await;
                        checked += 1;
                        let got = r.status.as_u16();
                        let where_ = if inside { "inside" } else { "outside" };
                        if got != want {
                            failures.push(format!("{op} as {role} {where_} its scope: expected {want}, got {got} {}", r.text));
                        } else if got == 403 {
                            let want_code = if scopes.contains(*role) { "out_of_scope" } else { "role_not_allowed" };
                            if r.code() != want_code {
                                failures.push(format!("{op} as {role} {where_}: 403 with code {} (expected {want_code})", r.code()));
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} cases differ from the table:\n{}", failures.len(), failures.join("\n"));
}

#[actix_web::test]
async fn anonymous_callers_get_401_on_every_operation_that_needs_a_login() {
    let fx = Fx::new().await;
    let mut failures = Vec::new();
    for (op, expect) in TABLE {
        if let Roles(_) = expect {
            let r = fx.send(request_for(&fx, op, 4, true).await).await;
            if r.status.as_u16() != 401 || r.code() != "unauthenticated" || r.header("content-type") != Some("application/problem+json") {
                failures.push(format!("{op}: {} {:?} {}", r.status.as_u16(), r.header("content-type"), r.text));
            }
            // A token that is not one: 401 as well.
            let r = fx.send(request_for(&fx, op, 4, true).await.token("garbage")).await;
            if r.status.as_u16() != 401 {
                failures.push(format!("{op} with a bad token: {} {}", r.status.as_u16(), r.text));
            }
        }
    }
    assert!(failures.is_empty(), "operations that do not answer 401 without a login:\n{}", failures.join("\n"));
}
