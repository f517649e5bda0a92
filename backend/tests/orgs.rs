//! The org tree endpoints: happy paths, each validation problem naming its field, versions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fx, Req, users};
use serde_json::{Value, json};

fn names(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|o| o["code"].as_str().unwrap().to_string()).collect()
}

#[actix_web::test]
async fn list_tops_children_search_kind_and_pages() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let tops = fx.send(Req::get("/api/v1/orgs").token(&admin)).await;
    tops.expect(200);
    assert_eq!(names(&tops.json), ["C1", "C2"]);
    assert_eq!(tops.json["total"], 2);
    assert_eq!(tops.json["items"][0]["child_count"], 1);

    let children = fx.send(Req::get(format!("/api/v1/orgs?parent_id={}", fx.orgs.g1)).token(&admin)).await;
    children.expect(200);
    assert_eq!(names(&children.json), ["B1", "B2"]);

    let search = fx.send(Req::get("/api/v1/orgs?q=%E7%AC%AC%E4%B8%80").token(&admin)).await; // 第一
    assert_eq!(names(&search.json), ["B1", "B1-1", "B3", "G1"]);
    let kind = fx.send(Req::get("/api/v1/orgs?q=B&kind=branch").token(&admin)).await;
    assert_eq!(names(&kind.json), ["B1", "B2", "B3"]);
    let page = fx.send(Req::get("/api/v1/orgs?q=B&kind=branch&page=2&page_size=2").token(&admin)).await;
    assert_eq!(names(&page.json), ["B3"]);
    assert_eq!((page.json["total"].as_i64(), page.json["page"].as_i64(), page.json["page_size"].as_i64()), (Some(3), Some(2), Some(2)));

    // A committee worker's tops are its own root; search stays inside its scope.
    let com = fx.login(users::COM_C1).await;
    assert_eq!(names(&fx.send(Req::get("/api/v1/orgs").token(&com)).await.json), ["C1"]);
    assert_eq!(names(&fx.send(Req::get("/api/v1/orgs?q=B").token(&com)).await.json), ["B1", "B1-1", "B2"]);
    // A member sees their own org.
    let member = fx.login(users::MEMBER_ZS).await;
    assert_eq!(names(&fx.send(Req::get("/api/v1/orgs").token(&member)).await.json), ["B1"]);

    // Bad parameters name themselves.
    let r = fx.send(Req::get("/api/v1/orgs?page_size=500").token(&admin)).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.first_error().0, "page_size");
    let r = fx.send(Req::get("/api/v1/orgs?parent_id=999999").token(&admin)).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.first_error(), ("parent_id".to_string(), "not_found".to_string()));
    let r = fx.send(Req::get("/api/v1/orgs?kind=club").token(&admin)).await;
    r.expect(400);
    assert_eq!(r.first_error().0, "kind", "{}", r.text);
}

#[actix_web::test]
async fn create_get_and_audit() {
    let fx = Fx::new().await;
    let com = fx.login(users::COM_C1).await;
    let body = json!({"code": "B4", "name": "机关第四党支部", "kind": "branch", "parent_id": fx.orgs.g1, "founded_on": "2026-07-01",
                      "term_start": "2026-07-01", "term_end": "2029-06-30"});
    let r = fx.send(Req::post("/api/v1/orgs").token(&com).json(body)).await;
    r.expect(201);
    let id = r.json["id"].as_i64().unwrap();
    assert_eq!(r.header("location"), Some(format!("/api/v1/orgs/{id}").as_str()));
    assert_eq!(r.etag(), Some("\"1\""));
    assert_eq!(r.json["kind"], "branch");
    assert_eq!(r.json["version"], 1);
    assert_eq!(r.json["child_count"], 0);

    let got = fx.send(Req::get(format!("/api/v1/orgs/{id}")).token(&com)).await;
    got.expect(200);
    assert_eq!(got.etag(), Some("\"1\""));
    assert_eq!(got.json["name"], "机关第四党支部");
    assert_eq!(got.json["term_end"], "2029-06-30");
    assert_eq!(got.json["parent_id"], fx.orgs.g1);
    fx.send(Req::get("/api/v1/orgs/999999").token(&com)).await.expect_problem(404, "not_found");

    let audit = fx.audit("org", id).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].0, "create");
    assert_eq!(audit[0].1, Some(fx.accounts[users::COM_C1]));
    assert_eq!(audit[0].3.as_ref().unwrap()["code"], "B4");

    // A top-level committee: only political_dept over the whole institution.
    let admin = fx.login(users::ADMIN).await;
    fx.send(Req::post("/api/v1/orgs").token(&admin).json(json!({"code": "C3", "name": "后勤党委", "kind": "committee"}))).await.expect(201);
    let pd = fx.login(users::PD_C1).await;
    fx.send(Req::post("/api/v1/orgs").token(&pd).json(json!({"code": "C4", "name": "x", "kind": "committee"}))).await.expect_problem(403, "forbidden");
}

#[actix_web::test]
async fn create_refuses_invalid_fields_naming_each() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let post = |body: Value| fx.send(Req::post("/api/v1/orgs").token(&admin).json(body));

    let r = post(json!({"code": "bad code!", "name": "x", "kind": "branch", "parent_id": fx.orgs.c1})).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.errors(), ["code:invalid_code"]);
    assert!(r.json["errors"][0]["message_zh"].as_str().is_some_and(|s| !s.is_empty()));

    let r = post(json!({"code": "X1", "name": "  ", "kind": "branch", "parent_id": fx.orgs.c1})).await;
    assert_eq!(r.errors(), ["name:required"]);

    let r = post(json!({"code": "X1", "name": "x", "kind": "branch", "parent_id": fx.orgs.c1, "founded_on": "2020-01-01", "dissolved_on": "2019-01-01"})).await;
    assert_eq!(r.errors(), ["dissolved_on:before_founded"]);

    let r = post(json!({"code": "X1", "name": "x", "kind": "branch", "parent_id": fx.orgs.c1, "term_start": "2020-01-01", "term_end": "2020-01-01"})).await;
    assert_eq!(r.errors(), ["term_end:before_term_start"]);

    // Several at once.
    let r = post(json!({"code": "", "name": "", "kind": "branch", "parent_id": fx.orgs.c1})).await;
    assert_eq!(r.errors(), ["code:invalid_code", "name:required"]);

    // The tree's shape: a group under a committee, a branch under a group, a branch at the top.
    let r = post(json!({"code": "X1", "name": "x", "kind": "group", "parent_id": fx.orgs.c1})).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.errors(), ["parent_id:kind_not_allowed_here"]);
    let r = post(json!({"code": "X1", "name": "x", "kind": "branch", "parent_id": fx.orgs.b1_1})).await;
    assert_eq!(r.errors(), ["parent_id:kind_not_allowed_here"]);
    let r = post(json!({"code": "X1", "name": "x", "kind": "general_branch", "parent_id": fx.orgs.g1})).await;
    assert_eq!(r.errors(), ["parent_id:kind_not_allowed_here"]);
    let r = post(json!({"code": "X1", "name": "x", "kind": "branch"})).await;
    assert_eq!(r.errors(), ["parent_id:kind_not_allowed_here"]);

    let r = post(json!({"code": "X1", "name": "x", "kind": "branch", "parent_id": 999999})).await;
    assert_eq!(r.errors(), ["parent_id:not_found"]);

    // A taken code: 409 naming the field.
    let r = post(json!({"code": "B1", "name": "x", "kind": "branch", "parent_id": fx.orgs.c1})).await;
    r.expect_problem(409, "duplicate");
    assert_eq!(r.errors(), ["code:duplicate"]);

    // Malformed bodies: 400 naming the field.
    let r = post(json!({"code": "X1", "name": "x", "kind": "club", "parent_id": fx.orgs.c1})).await;
    r.expect(400);
    assert_eq!(r.first_error().0, "kind");
    let r = post(json!({"code": "X1", "name": "x", "kind": "branch", "parent_id": fx.orgs.c1, "colour": "red"})).await;
    r.expect(400);
    assert_eq!(r.first_error(), ("colour".to_string(), "unknown_field".to_string()));
    let r = post(json!({"code": "X1", "name": "x", "kind": "branch", "parent_id": fx.orgs.c1, "founded_on": "2020-13-01"})).await;
    r.expect(400);
    assert_eq!(r.first_error().0, "founded_on");
    let r = post(json!({"name": "x", "kind": "branch", "parent_id": fx.orgs.c1})).await;
    r.expect(400);
    assert_eq!(r.first_error(), ("code".to_string(), "required".to_string()));

    // Nothing was created by any of these.
    let all = fx.send(Req::get("/api/v1/orgs?q=X1").token(&admin)).await;
    assert_eq!(all.json["total"], 0);
}

#[actix_web::test]
async fn update_needs_a_current_version_and_changes_nothing_when_stale() {
    let fx = Fx::new().await;
    let com = fx.login(users::COM_C1).await;
    let url = format!("/api/v1/orgs/{}", fx.orgs.b2);
    let before = fx.send(Req::get(&url).token(&com)).await;
    assert_eq!(before.etag(), Some("\"1\""));

    // No version at all: 428.
    fx.send(Req::patch(&url).token(&com).json(json!({"name": "新名"}))).await.expect_problem(428, "version_required");

    // If-Match with the version read.
    let r = fx
        .send(Req::patch(&url).token(&com).if_match(1).json(json!({"name": "机关第二党支部（新）", "term_start": "2026-01-01", "term_end": "2029-01-01"})))
        .await;
    r.expect(200);
    assert_eq!(r.etag(), Some("\"2\""));
    assert_eq!(r.json["name"], "机关第二党支部（新）");
    assert_eq!(r.json["code"], "B2", "fields left out are kept");
    assert_eq!(r.json["founded_on"], "2015-07-01");

    // Stale If-Match: 412; stale body version: 409; the record is as it was.
    fx.send(Req::patch(&url).token(&com).if_match(1).json(json!({"name": "覆盖"}))).await.expect_problem(412, "stale_version");
    fx.send(Req::patch(&url).token(&com).json(json!({"name": "覆盖", "version": 1}))).await.expect_problem(409, "stale_version");
    let after = fx.send(Req::get(&url).token(&com)).await;
    assert_eq!(after.json["name"], "机关第二党支部（新）");
    assert_eq!(after.json["version"], 2);

    // Body version, and null clears a date.
    let r = fx.send(Req::patch(&url).token(&com).json(json!({"founded_on": null, "version": 2}))).await;
    r.expect(200);
    assert!(r.json["founded_on"].is_null());
    assert_eq!(r.json["version"], 3);

    // A malformed If-Match.
    fx.send(Req::patch(&url).token(&com).header("If-Match", "abc").json(json!({"name": "x"}))).await.expect_problem(400, "bad_request");

    // Validation on update names the field; nothing changes.
    let r = fx.send(Req::patch(&url).token(&com).if_match(3).json(json!({"code": "has space"}))).await;
    assert_eq!(r.errors(), ["code:invalid_code"]);
    let r = fx.send(Req::patch(&url).token(&com).if_match(3).json(json!({"code": "B1"}))).await;
    r.expect_problem(409, "duplicate");
    assert_eq!(r.errors(), ["code:duplicate"]);
    assert_eq!(fx.org_version(fx.orgs.b2).await, 3);

    // Kind changes must fit the parent, the children and the members.
    let admin = fx.login(users::ADMIN).await;
    let r = fx.send(Req::patch(format!("/api/v1/orgs/{}", fx.orgs.b2)).token(&admin).if_match(3).json(json!({"kind": "group"}))).await;
    assert_eq!(r.errors(), ["kind:kind_not_allowed_here"]);
    let r = fx.send(Req::patch(format!("/api/v1/orgs/{}", fx.orgs.b3)).token(&admin).if_match(1).json(json!({"kind": "general_branch"}))).await;
    assert_eq!(r.errors(), ["kind:kind_conflicts_with_members"]);
    // B1 sits under a general branch, which cannot hold another general branch.
    let r = fx.send(Req::patch(format!("/api/v1/orgs/{}", fx.orgs.b1)).token(&admin).if_match(1).json(json!({"kind": "general_branch"}))).await;
    assert_eq!(r.errors(), ["kind:kind_not_allowed_here"]);
    // A branch under a committee may become a general branch, but not while a group is under it.
    let branch = fx.new_org("branch", fx.orgs.c2).await;
    fx.new_org("group", branch).await;
    let r = fx.send(Req::patch(format!("/api/v1/orgs/{branch}")).token(&admin).if_match(1).json(json!({"kind": "general_branch"}))).await;
    assert_eq!(r.errors(), ["kind:kind_conflicts_with_children"]);

    // Audit: before and after of the successful updates.
    let audit = fx.audit("org", fx.orgs.b2).await;
    let actions: Vec<&str> = audit.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(actions, ["update", "update"]);
    assert_eq!(audit[0].2.as_ref().unwrap()["name"], "机关第二党支部");
    assert_eq!(audit[0].3.as_ref().unwrap()["name"], "机关第二党支部（新）");
}

#[actix_web::test]
async fn workers_edit_below_their_org_not_their_own() {
    let fx = Fx::new().await;
    let br = fx.login(users::BR_B1).await;
    // The branch worker edits its group but not its branch (the level above does that).
    fx.send(Req::patch(format!("/api/v1/orgs/{}", fx.orgs.b1_1)).token(&br).if_match(1).json(json!({"name": "一组"}))).await.expect(200);
    fx.send(Req::patch(format!("/api/v1/orgs/{}", fx.orgs.b1)).token(&br).if_match(1).json(json!({"name": "x"}))).await.expect_problem(403, "out_of_scope");
    fx.send(Req::patch(format!("/api/v1/orgs/{}", fx.orgs.b3)).token(&br).if_match(1).json(json!({"name": "x"}))).await.expect_problem(403, "out_of_scope");
    assert_eq!(fx.org_version(fx.orgs.b1).await, 1);
}

#[actix_web::test]
async fn delete_refuses_orgs_with_children_or_members() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let r = fx.send(Req::delete(format!("/api/v1/orgs/{}", fx.orgs.g1)).token(&admin)).await;
    r.expect_problem(409, "org_has_children");
    assert!(r.json["detail_zh"].as_str().unwrap().contains("下级组织"));
    fx.send(Req::delete(format!("/api/v1/orgs/{}", fx.orgs.b3)).token(&admin)).await.expect_problem(409, "org_has_members");

    let empty = fx.new_org("branch", fx.orgs.c2).await;
    let url = format!("/api/v1/orgs/{empty}");
    fx.send(Req::delete(&url).token(&admin).if_match(7)).await.expect_problem(412, "stale_version");
    fx.send(Req::get(&url).token(&admin)).await.expect(200);
    fx.send(Req::delete(&url).token(&admin).if_match(1)).await.expect(204);
    fx.send(Req::get(&url).token(&admin)).await.expect_problem(404, "not_found");
    fx.send(Req::delete(&url).token(&admin)).await.expect_problem(404, "not_found");
    let audit = fx.audit("org", empty).await;
    assert_eq!(audit.last().unwrap().0, "delete");
    assert!(audit.last().unwrap().2.is_some(), "the deleted org is kept in the audit log");
}

#[actix_web::test]
async fn subtree_and_path() {
    let fx = Fx::new().await;
    let com = fx.login(users::COM_C1).await;
    let r = fx.send(Req::get(format!("/api/v1/orgs/{}/subtree", fx.orgs.c1)).token(&com)).await;
    r.expect(200);
    assert_eq!(r.json["total"], 5);
    let got: Vec<(String, i64)> =
        r.json["items"].as_array().unwrap().iter().map(|o| (o["code"].as_str().unwrap().to_string(), o["depth"].as_i64().unwrap())).collect();
    let want = [("C1", 0), ("G1", 1), ("B1", 2), ("B2", 2), ("B1-1", 3)].map(|(c, d)| (c.to_string(), d));
    assert_eq!(got, want);
    let r = fx.send(Req::get(format!("/api/v1/orgs/{}/subtree?max_depth=1", fx.orgs.c1)).token(&com)).await;
    assert_eq!(names(&r.json), ["C1", "G1"]);
    let r = fx.send(Req::get(format!("/api/v1/orgs/{}/subtree?page=2&page_size=2", fx.orgs.c1)).token(&com)).await;
    assert_eq!(names(&r.json), ["B1", "B2"]);
    fx.send(Req::get("/api/v1/orgs/999999/subtree").token(&com)).await.expect_problem(404, "not_found");
    fx.send(Req::get(format!("/api/v1/orgs/{}/subtree", fx.orgs.c2)).token(&com)).await.expect_problem(403, "out_of_scope");

    let member = fx.login(users::MEMBER_ZS).await;
    let r = fx.send(Req::get(format!("/api/v1/orgs/{}/path", fx.orgs.b1)).token(&member)).await;
    r.expect(200);
    let path: Vec<&str> = r.json.as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert_eq!(path, ["C1", "G1", "B1"]);
    assert_eq!(r.json[0]["kind"], "committee");
    let r = fx.send(Req::get(format!("/api/v1/orgs/{}/path", fx.orgs.b1_1)).token(&com)).await;
    assert_eq!(r.json.as_array().unwrap().len(), 4);
    fx.send(Req::get("/api/v1/orgs/999999/path").token(&com)).await.expect_problem(404, "not_found");
}

#[actix_web::test]
async fn move_keeps_the_tree_a_tree() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let mv = |id: i64, parent: i64, version: i64| {
        fx.send(Req::post(format!("/api/v1/orgs/{id}/move")).token(&admin).json(json!({"parent_id": parent, "version": version})))
    };
    // Cycles: under itself, under its own descendant.
    let r = mv(fx.orgs.g1, fx.orgs.g1, 1).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.errors(), ["parent_id:org_move_cycle"]);
    let r = mv(fx.orgs.c1, fx.orgs.b1, 1).await;
    assert_eq!(r.errors(), ["parent_id:org_move_cycle"]);
    // A writer that bypasses the API is refused by the trigger, with the same problem.
    {
        use dangjian::schema::orgs as o;
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        let refused = diesel::update(o::table.find(fx.orgs.c1)).set(o::parent_id.eq(fx.orgs.b1)).execute(&mut fx.conn().await).await.unwrap_err();
        let problem = dangjian::error::AppError::from(refused);
        assert_eq!(problem.status.as_u16(), 422);
        assert_eq!(
            (problem.fields[0].field.as_str(), &*problem.fields[0].code, problem.fields[0].message_zh.as_str()),
            ("parent_id", "org_move_cycle", "组织不能移动到自身或其下级组织之下")
        );
    }
    // Wrong kind of parent.
    let r = mv(fx.orgs.b2, fx.orgs.b1, 1).await;
    assert_eq!(r.errors(), ["parent_id:kind_not_allowed_here"]);
    let r = mv(fx.orgs.b2, 999999, 1).await;
    assert_eq!(r.errors(), ["parent_id:not_found"]);
    // Stale, and no version.
    mv(fx.orgs.b2, fx.orgs.c2, 5).await.expect_problem(409, "stale_version");
    fx.send(Req::post(format!("/api/v1/orgs/{}/move", fx.orgs.b2)).token(&admin).if_match(5).json(json!({"parent_id": fx.orgs.c2})))
        .await
        .expect_problem(412, "stale_version");
    fx.send(Req::post(format!("/api/v1/orgs/{}/move", fx.orgs.b2)).token(&admin).json(json!({"parent_id": fx.orgs.c2})))
        .await
        .expect_problem(428, "version_required");
    assert_eq!(fx.org_version(fx.orgs.b2).await, 1);

    // A real move: B1 (with its group and members) from G1 to C2.
    let r = mv(fx.orgs.b1, fx.orgs.c2, 1).await;
    r.expect(200);
    assert_eq!(r.json["parent_id"], fx.orgs.c2);
    assert_eq!(r.json["version"], 2);
    let path = fx.send(Req::get(format!("/api/v1/orgs/{}/path", fx.orgs.b1_1)).token(&admin)).await;
    let codes: Vec<&str> = path.json.as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["C2", "B1", "B1-1"]);
    let c1 = fx.send(Req::get(format!("/api/v1/orgs/{}/subtree", fx.orgs.c1)).token(&admin)).await;
    assert_eq!(names(&c1.json), ["C1", "G1", "B2"]);
    // Scopes follow: C2's committee now reaches 张三; C1's no longer does.
    let com2 = fx.login(users::COM_C2).await;
    fx.send(Req::get(format!("/api/v1/members/{}", fx.people.zhangsan)).token(&com2)).await.expect(200);
    let com1 = fx.login(users::COM_C1).await;
    fx.send(Req::get(format!("/api/v1/members/{}", fx.people.zhangsan)).token(&com1)).await.expect_problem(403, "out_of_scope");
    let audit = fx.audit("org", fx.orgs.b1).await;
    assert_eq!(audit.last().unwrap().0, "move");

    // A committee worker cannot move an org out of its scope, nor into a parent outside it.
    let r = fx.send(Req::post(format!("/api/v1/orgs/{}/move", fx.orgs.b2)).token(&com1).json(json!({"parent_id": fx.orgs.c2, "version": 1}))).await;
    r.expect_problem(403, "out_of_scope");
    assert_eq!(fx.org_version(fx.orgs.b2).await, 1);
}

async fn set_term(fx: &Fx, id: i64, end: &str, dissolved: Option<&str>) {
    use dangjian::schema::orgs as t;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    diesel::update(t::table.find(id))
        .set((t::term_end.eq(common::d(end)), t::dissolved_on.eq(dissolved.map(common::d))))
        .execute(&mut fx.conn().await)
        .await
        .unwrap();
}

/// Renewal due (换届, docs/domain.md Organizations): `term_end_before` searches the caller's whole scope
/// for committees and branches, not dissolved, whose term ends by then; party groups have no term.
#[actix_web::test]
async fn term_end_before_lists_renewals_due_in_scope() {
    let fx = Fx::new().await;
    let o = &fx.orgs;
    set_term(&fx, o.b1, "2026-12-31", None).await; // due
    set_term(&fx, o.b2, "2030-01-01", None).await; // not yet
    set_term(&fx, o.b1_1, "2026-01-01", None).await; // a group: no renewal
    set_term(&fx, o.b3, "2026-06-30", None).await; // due, but in C2
    set_term(&fx, o.g1, "2026-03-01", Some("2026-04-01")).await; // dissolved
    let com = fx.login(users::COM_C1).await;
    let due = fx.send(Req::get("/api/v1/orgs?term_end_before=2027-02-28").token(&com)).await;
    due.expect(200);
    assert_eq!(names(&due.json), ["B1"]);
    let admin = fx.login(users::ADMIN).await;
    let all = fx.send(Req::get("/api/v1/orgs?term_end_before=2027-02-28").token(&admin)).await;
    assert_eq!(names(&all.json), ["B1", "B3"]);
    fx.send(Req::get("/api/v1/orgs?term_end_before=2027-02-30").token(&admin)).await.expect_problem(400, "validation_failed");
}
