//! The master-data sync: PUT /sync/members and /sync/orgs (created / updated / unchanged, a bad
//! item blocks the batch unless partial, Idempotency-Key, mode=full, scope, batch size), and the
//! example script of tests/api/sync_example run against a real server process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{DATA_KEY, Fx, Req, users, zs_id_number};
use dangjian::crypto::DataKey;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

fn put(path: &str, token: &str, body: Value) -> Req {
    Req::new("PUT", path).token(token).json(body)
}

fn member(ext: &str, name: &str, org_code: &str) -> Value {
    json!({
        "external_id": ext, "name": name, "gender": "male", "birth_date": "1985-01-01", "ethnicity": "汉族",
        "education": "大学本科", "category": "full", "org_code": org_code, "joined_at": "2012-01-01", "full_member_at": "2013-01-01"
    })
}

fn ids(v: &Value) -> Vec<&str> {
    v.as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect()
}

/// The person id and org code of the member with this external id.
async fn member_by_ext(fx: &Fx, ext: &str) -> Option<(i64, String)> {
    use dangjian::schema::{members as m, orgs as o, people as p};
    p::table
        .inner_join(m::table.inner_join(o::table))
        .filter(p::external_id.eq(ext))
        .select((p::id, o::code))
        .first(&mut fx.conn().await)
        .await
        .optional()
        .unwrap()
}

async fn sync_audits(fx: &Fx) -> i64 {
    use dangjian::schema::audit_log as l;
    l::table.filter(l::action.eq("sync")).count().get_result(&mut fx.conn().await).await.unwrap()
}

#[actix_web::test]
async fn members_are_created_updated_and_left_unchanged() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    // Two new members, and 张三 (entered by hand, no external id) adopted by his ID number.
    let batch = json!({"items": [
        member("HR-1", "孙一", "B1"),
        member("HR-2", "周二", "B2"),
        {"external_id": "HR-ZS", "id_number": zs_id_number()},
    ]});
    let r = fx.send(put("/api/v1/sync/members", &admin, batch.clone())).await;
    r.expect(200);
    assert_eq!(ids(&r.json["created"]), ["HR-1", "HR-2"]);
    assert_eq!(ids(&r.json["updated"]), ["HR-ZS"]);
    assert_eq!(r.json["rejected"], json!([]));
    assert_eq!(member_by_ext(&fx, "HR-1").await.unwrap().1, "B1");
    assert_eq!(member_by_ext(&fx, "HR-ZS").await.unwrap().0, fx.people.zhangsan);

    // The same batch again changes nothing.
    let r = fx.send(put("/api/v1/sync/members", &admin, batch)).await;
    r.expect(200);
    assert_eq!(ids(&r.json["unchanged"]), ["HR-1", "HR-2", "HR-ZS"]);
    assert!(r.json["created"].as_array().unwrap().is_empty() && r.json["updated"].as_array().unwrap().is_empty());

    // A change of phone and a transfer to B1-1.
    let mut moved = member("HR-2", "周二", "B1-1");
    moved["phone"] = json!("13912345678");
    let r = fx.send(put("/api/v1/sync/members", &admin, json!({"items": [member("HR-1", "孙一", "B1"), moved]}))).await;
    r.expect(200);
    assert_eq!(ids(&r.json["updated"]), ["HR-2"]);
    assert_eq!(ids(&r.json["unchanged"]), ["HR-1"]);
    let (id2, org) = member_by_ext(&fx, "HR-2").await.unwrap();
    assert_eq!(org, "B1-1");
    let audit = fx.audit("member", id2).await;
    assert_eq!(audit.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(), ["sync", "sync"]);
    assert_eq!(audit[1].3.as_ref().unwrap()["phone"], "139****5678", "the audit keeps masked personal data");
}

#[actix_web::test]
async fn an_idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let batch = json!({"items": [member("HR-7", "钱七七", "B1")]});
    let first = fx.send(put("/api/v1/sync/members", &admin, batch.clone()).header("Idempotency-Key", "batch-1")).await;
    first.expect(200);
    assert_eq!(ids(&first.json["created"]), ["HR-7"]);
    let audits = sync_audits(&fx).await;

    let again = fx.send(put("/api/v1/sync/members", &admin, batch).header("Idempotency-Key", "batch-1")).await;
    again.expect(200);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json, first.json, "the first answer (created), not 'unchanged'");
    assert_eq!(sync_audits(&fx).await, audits, "nothing applied twice");

    let other = json!({"items": [member("HR-8", "钱八", "B1")]});
    fx.send(put("/api/v1/sync/members", &admin, other.clone()).header("Idempotency-Key", "batch-1")).await.expect_problem(422, "idempotency_key_reused");
    assert!(member_by_ext(&fx, "HR-8").await.is_none());
    // Keys are per account: another account may use the same key.
    let pd = fx.login(users::PD_C1).await;
    fx.send(put("/api/v1/sync/members", &pd, other).header("Idempotency-Key", "batch-1")).await.expect(200);
    assert!(member_by_ext(&fx, "HR-8").await.is_some());
}

#[actix_web::test]
async fn a_bad_item_blocks_the_batch_unless_partial() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let mut bad_id = member("HR-B", "错号", "B1");
    let mut wrong = zs_id_number();
    let last = if wrong.ends_with('0') { "1" } else { "0" };
    wrong.replace_range(17.., last); // a wrong check digit
    bad_id["id_number"] = json!(wrong);
    let mut no_org = member("HR-C", "无组织", "B1");
    no_org.as_object_mut().unwrap().remove("org_code");
    // Two items giving one ID number: the second is refused.
    let same_id = common::id_for("1985-01-01", true, 7);
    let (mut first, mut second) = (member("HR-D", "同号甲", "B1"), member("HR-E", "同号乙", "B1"));
    first["id_number"] = json!(same_id);
    second["id_number"] = json!(same_id);
    let mut unknown_org = member("HR-F", "无此组织", "B1");
    unknown_org.as_object_mut().unwrap().remove("org_code");
    unknown_org["org_external_id"] = json!("NO-SUCH-ORG");
    let batch = json!({"items": [member("HR-A", "好人", "B1"), bad_id, no_org, {"name": "无编号"}, member("HR-A", "重复", "B1"), first, second, unknown_org]});
    let r = fx.send(put("/api/v1/sync/members", &admin, batch.clone())).await;
    r.expect_problem(422, "batch_rejected");
    let rejected: Vec<(u64, String)> =
        r.json["rejected"].as_array().unwrap().iter().map(|x| (x["index"].as_u64().unwrap(), x["errors"][0]["field"].as_str().unwrap().to_string())).collect();
    assert_eq!(
        rejected,
        [
            (1, "id_number".into()),
            (2, "org_code".into()),
            (3, "external_id".into()),
            (4, "external_id".into()),
            (6, "id_number".into()),
            (7, "org_external_id".into())
        ]
    );
    assert!(r.errors().contains(&"items[6].id_number:id_number_taken".to_string()), "{:?}", r.errors());
    assert!(r.errors().contains(&"items[1].id_number:id_number_checksum".to_string()), "{:?}", r.errors());
    assert!(member_by_ext(&fx, "HR-A").await.is_none(), "nothing written");
    assert_eq!(sync_audits(&fx).await, 0);

    let r = fx.send(put("/api/v1/sync/members?partial=true", &admin, batch)).await;
    r.expect(200);
    assert_eq!(ids(&r.json["created"]), ["HR-A", "HR-D"]);
    assert_eq!(r.json["rejected"].as_array().unwrap().len(), 6);
    assert!(member_by_ext(&fx, "HR-A").await.is_some());
    assert!(member_by_ext(&fx, "HR-E").await.is_none());
    assert_eq!(sync_audits(&fx).await, 2, "each written member audited once");
}

#[actix_web::test]
async fn writes_stay_within_the_callers_scope() {
    let fx = Fx::new().await;
    let com_c1 = fx.login(users::COM_C1).await;
    // B3 is under C2; 钱七 (B3) is matched by his ID number.
    let qianqi = json!({"external_id": "HR-QQ", "id_number": common::id_for("1975-11-30", true, 4)});
    let batch = json!({"items": [member("HR-IN", "范围内", "B2"), member("HR-OUT", "范围外", "B3"), qianqi]});
    let r = fx.send(put("/api/v1/sync/members", &com_c1, batch.clone())).await;
    r.expect_problem(403, "out_of_scope");
    assert_eq!(r.json["rejected"].as_array().unwrap().len(), 2);
    assert!(member_by_ext(&fx, "HR-IN").await.is_none());

    let r = fx.send(put("/api/v1/sync/members?partial=true", &com_c1, batch)).await;
    r.expect(200);
    assert_eq!(ids(&r.json["created"]), ["HR-IN"]);
    let codes: Vec<&str> = r.json["rejected"].as_array().unwrap().iter().map(|x| x["errors"][0]["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["out_of_scope", "out_of_scope"]);
    assert!(member_by_ext(&fx, "HR-QQ").await.is_none(), "钱七 was not given the external id");

    // Branch workers do not sync; members neither.
    let br = fx.login(users::BR_B1).await;
    fx.send(put("/api/v1/sync/members", &br, json!({"items": []}))).await.expect_problem(403, "role_not_allowed");
}

#[actix_web::test]
async fn batches_over_5000_items_are_refused() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let items: Vec<Value> = (0..5001).map(|i| json!({"external_id": format!("X{i}")})).collect();
    fx.send(put("/api/v1/sync/members", &admin, json!({ "items": items }))).await.expect_problem(413, "batch_too_large");
    fx.send(put("/api/v1/sync/orgs", &admin, json!({ "items": items }))).await.expect_problem(413, "batch_too_large");
    fx.send(put("/api/v1/sync/members", &admin, json!({"rows": []}))).await.expect_problem(400, "validation_failed");
}

async fn org_by_ext(fx: &Fx, ext: &str) -> (i64, Option<i64>, Option<chrono::NaiveDate>, String) {
    use dangjian::schema::orgs as o;
    o::table.filter(o::external_id.eq(ext)).select((o::id, o::parent_id, o::dissolved_on, o::name)).first(&mut fx.conn().await).await.unwrap()
}

#[actix_web::test]
async fn orgs_may_name_parents_later_in_the_batch_and_sync_twice_changes_nothing() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let batch = json!({"items": [
        {"external_id": "ORG-G9", "code": "G9-1", "name": "第九党小组", "kind": "group", "parent_code": "B9"},
        {"external_id": "ORG-B9", "code": "B9", "name": "第九党支部", "kind": "branch", "parent_external_id": "ORG-C9", "founded_on": "2020-07-01"},
        {"external_id": "ORG-C9", "code": "C9", "name": "第九党委", "kind": "committee", "parent_external_id": null},
    ]});
    let r = fx.send(put("/api/v1/sync/orgs", &admin, batch.clone())).await;
    r.expect(200);
    let mut created = ids(&r.json["created"]);
    created.sort_unstable();
    assert_eq!(created, ["ORG-B9", "ORG-C9", "ORG-G9"]);
    let c9 = org_by_ext(&fx, "ORG-C9").await;
    let b9 = org_by_ext(&fx, "ORG-B9").await;
    assert_eq!((c9.1, b9.1, org_by_ext(&fx, "ORG-G9").await.1), (None, Some(c9.0), Some(b9.0)));

    let r = fx.send(put("/api/v1/sync/orgs", &admin, batch)).await;
    r.expect(200);
    assert_eq!(r.json["unchanged"].as_array().unwrap().len(), 3, "{}", r.text);

    let r = fx.send(put("/api/v1/sync/orgs", &admin, json!({"items": [{"external_id": "ORG-B9", "name": "第九党支部（新）"}]}))).await;
    r.expect(200);
    assert_eq!(ids(&r.json["updated"]), ["ORG-B9"]);
    assert_eq!(org_by_ext(&fx, "ORG-B9").await.3, "第九党支部（新）");
    assert_eq!(fx.audit("org", b9.0).await.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(), ["sync", "sync"]);

    // A cycle, a group at the top and an unknown parent: every problem, nothing written.
    let bad = json!({"items": [
        {"external_id": "ORG-X", "code": "X1", "name": "甲", "kind": "committee", "parent_external_id": "ORG-Y"},
        {"external_id": "ORG-Y", "code": "Y1", "name": "乙", "kind": "committee", "parent_external_id": "ORG-X"},
        {"external_id": "ORG-Z", "code": "Z1", "name": "丙", "kind": "group", "parent_external_id": null},
        {"external_id": "ORG-W", "code": "W1", "name": "丁", "kind": "branch", "parent_code": "NOPE"},
        {"external_id": "ORG-V", "code": "V1", "name": "戊", "kind": "branch", "parent_code": "C1"},
    ]});
    let r = fx.send(put("/api/v1/sync/orgs", &admin, bad)).await;
    r.expect_problem(422, "batch_rejected");
    let codes: Vec<(u64, &str)> =
        r.json["rejected"].as_array().unwrap().iter().map(|x| (x["index"].as_u64().unwrap(), x["errors"][0]["code"].as_str().unwrap())).collect();
    assert_eq!(codes, [(0, "parent_cycle"), (1, "parent_cycle"), (2, "kind_not_allowed_here"), (3, "not_found")]);
    use dangjian::schema::orgs as o;
    let v: i64 = o::table.filter(o::code.eq("V1")).count().get_result(&mut fx.conn().await).await.unwrap();
    assert_eq!(v, 0, "the valid item was not written either");
}

#[actix_web::test]
async fn mode_full_dissolves_absent_orgs_only_within_the_scope() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let r = fx
        .send(put(
            "/api/v1/sync/orgs",
            &admin,
            json!({"items": [
                {"external_id": "ORG-Y", "code": "BY", "name": "保留支部", "kind": "branch", "parent_code": "G1"},
                {"external_id": "ORG-W", "code": "BW", "name": "撤销支部", "kind": "branch", "parent_code": "G1"},
                {"external_id": "ORG-Z", "code": "BZ", "name": "学院支部", "kind": "branch", "parent_code": "C2"},
            ]}),
        ))
        .await;
    r.expect(200);
    let com_c1 = fx.login(users::COM_C1).await;
    // Without mode=full, absent orgs stay.
    let only_y = json!({"items": [{"external_id": "ORG-Y", "code": "BY", "name": "保留支部", "kind": "branch", "parent_code": "G1"}]});
    let r = fx.send(put("/api/v1/sync/orgs", &com_c1, only_y.clone())).await;
    r.expect(200);
    assert!(r.json.get("dissolved").is_none());
    assert_eq!(org_by_ext(&fx, "ORG-W").await.2, None);

    let r = fx.send(put("/api/v1/sync/orgs?mode=full", &com_c1, only_y)).await;
    r.expect(200);
    assert_eq!(ids(&r.json["dissolved"]), ["ORG-W"]);
    assert_eq!(org_by_ext(&fx, "ORG-W").await.2, Some(common::clock().today()));
    assert_eq!(org_by_ext(&fx, "ORG-Y").await.2, None);
    assert_eq!(org_by_ext(&fx, "ORG-Z").await.2, None, "C2's branch is outside com_c1's scope");
    // An empty full batch would dissolve everything: refused.
    fx.send(put("/api/v1/sync/orgs?mode=full", &com_c1, json!({"items": []}))).await.expect_problem(422, "validation_failed");
    // Outside the scope: 403, nothing written.
    let out = json!({"items": [{"external_id": "ORG-Q", "code": "BQ", "name": "范围外", "kind": "branch", "parent_code": "C2"}]});
    fx.send(put("/api/v1/sync/orgs", &com_c1, out)).await.expect_problem(403, "out_of_scope");
}

/// A free TCP port on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Kills the server when the test ends, also when it fails.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[actix_web::test]
async fn the_example_script_syncs_a_csv_through_a_running_server() {
    let fx = Fx::new().await;
    let port = free_port();
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_dangjian"))
            .arg("serve")
            .env("DATABASE_URL", &fx.db.url)
            .env("DANGJIAN_DATA_KEY", DataKey::from_bytes(DATA_KEY).to_base64())
            .env("JWT_SECRET", "sync-test-secret-0123456789")
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let mut up = false;
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the server did not start");
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let run = move || {
        Command::new("python3")
            .arg(format!("{root}/tests/api/sync_example/sync_members.py"))
            .args(["--url", &format!("http://127.0.0.1:{port}"), "--username", users::ADMIN, "--batch-size", "2"])
            .arg(format!("{root}/tests/api/sync_example/members.csv"))
            .env("DANGJIAN_PASSWORD", common::PASSWORD)
            .output()
            .unwrap()
    };
    let out = tokio::task::spawn_blocking(run).await.unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("total: 3 created, 0 updated, 0 unchanged, 0 rejected"), "{text}");
    assert_eq!(member_by_ext(&fx, "HR-100001").await.unwrap().1, "B1");
    assert_eq!(member_by_ext(&fx, "HR-100002").await.unwrap().1, "B2");
    assert_eq!(member_by_ext(&fx, "HR-100003").await.unwrap().1, "B1-1");

    // Run again: the same Idempotency-Keys, so the server replays the first answers.
    let out = tokio::task::spawn_blocking(run).await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}");
    assert!(text.contains("replayed") && text.contains("total: 3 created"), "{text}");
    assert_eq!(sync_audits(&fx).await, 3);
}
