//! The member endpoints: the roster and its filters, the record's rules (each problem naming its
//! field), masking of personal data by role, audit and history, versions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fx, Req, ZS_PHONE, id_for, users, zs_id_number};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

/// Whole years from `from` to `today` (党龄, docs/domain.md, Members): the expectation follows
/// the clock the application runs on, so these tests hold on any date (`make test-dates`).
fn years_since(from: &str, today: chrono::NaiveDate) -> i64 {
    use chrono::Datelike;
    let from = common::d(from);
    let mut years = today.year() - from.year();
    if (today.month(), today.day()) < (from.month(), from.day()) {
        years -= 1;
    }
    i64::from(years)
}

fn names(v: &Value) -> Vec<String> {
    let mut n: Vec<String> = v["items"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_string()).collect();
    n.sort();
    n
}

fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// A valid create body for a new full member of `org`.
fn new_member(org: i64) -> Value {
    json!({
        "name": "孙八", "gender": "female", "id_number": id_for("1990-05-17", false, 20), "birth_date": "1990-05-17",
        "ethnicity": "汉族", "native_place": "北京", "education": "研究生", "degree": "硕士", "job_category": "专业技术人员",
        "post": "教师", "title": "讲师", "phone": "139 1234 5678", "work_started_on": "2014-07-01",
        "category": "full", "org_id": org, "joined_at": "2015-06-20", "full_member_at": "2016-06-20"
    })
}

#[actix_web::test]
async fn list_search_and_filters() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let list = |q: &str| fx.send(Req::get(format!("/api/v1/members{q}")).token(&admin));

    let all = list("").await;
    all.expect(200);
    assert_eq!(all.json["total"], 5);
    assert_eq!(names(&all.json), sorted(&["张三", "李四", "王五", "赵六", "钱七"]));

    // Pinyin initials, pinyin prefix, and a part of the name.
    assert_eq!(names(&list("?q=zs").await.json), ["张三"]);
    assert_eq!(names(&list("?q=ZS").await.json), ["张三"]);
    assert_eq!(names(&list("?q=zhangs").await.json), ["张三"]);
    assert_eq!(names(&list("?q=%E4%B8%89").await.json), ["张三"]); // 三
    assert_eq!(list("?q=%25").await.json["total"], 0, "% is not a wildcard");

    assert_eq!(names(&list("?category=probationary").await.json), ["李四"]);
    assert_eq!(names(&list("?status=suspended").await.json), ["赵六"]);
    assert_eq!(names(&list("?gender=female").await.json), sorted(&["李四", "赵六"]));
    assert_eq!(names(&list("?joined_from=2005-01-01&joined_to=2015-12-31").await.json), sorted(&["张三", "王五", "赵六"]));
    assert_eq!(names(&list("?joined_from=2020-01-01").await.json), ["李四"]);
    assert_eq!(names(&list("?gender=male&category=full&joined_to=2008-01-01").await.json), sorted(&["王五", "钱七"]));

    // Subtree filter: B1 includes its group.
    assert_eq!(names(&list(&format!("?org_id={}", fx.orgs.b1)).await.json), sorted(&["张三", "李四", "王五"]));
    assert_eq!(list(&format!("?org_id={}", fx.orgs.c1)).await.json["total"], 4);
    assert_eq!(names(&list(&format!("?org_id={}", fx.orgs.c2)).await.json), ["钱七"]);

    // Pages and totals.
    let p1 = list("?page_size=2").await;
    assert_eq!((p1.json["items"].as_array().unwrap().len(), p1.json["total"].as_i64()), (2, Some(5)));
    let p3 = list("?page_size=2&page=3").await;
    assert_eq!((p3.json["items"].as_array().unwrap().len(), p3.json["total"].as_i64()), (1, Some(5)));
    let p4 = list("?page_size=2&page=4").await;
    assert_eq!((p4.json["items"].as_array().unwrap().len(), p4.json["total"].as_i64()), (0, Some(5)));
    let mut seen: Vec<i64> = Vec::new();
    for page in 1..=3 {
        let r = list(&format!("?page_size=2&page={page}")).await;
        seen.extend(r.json["items"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()));
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 5, "pages neither repeat nor skip");
    let filtered = list("?gender=male&page_size=1&page=2").await;
    assert_eq!(filtered.json["total"], 3);

    // Bad filters name the parameter.
    let r = list("?joined_from=2020-01-01&joined_to=2010-01-01").await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.errors(), ["joined_to:before_joined_from"]);
    let r = list("?page=0").await;
    assert_eq!(r.errors(), ["page:out_of_range"]);
    let r = list("?page_size=201").await;
    assert_eq!(r.errors(), ["page_size:out_of_range"]);
    let r = list("?category=honorary").await;
    r.expect(400);
    assert_eq!(r.first_error().0, "category", "{}", r.text);
    let r = list("?joined_from=yesterday").await;
    r.expect(400);
    assert_eq!(r.first_error().0, "joined_from", "{}", r.text);
}

#[actix_web::test]
async fn list_is_limited_to_the_scope() {
    let fx = Fx::new().await;
    let br = fx.login(users::BR_B1).await;
    let r = fx.send(Req::get("/api/v1/members").token(&br)).await;
    assert_eq!(names(&r.json), sorted(&["张三", "李四", "王五"]));
    fx.send(Req::get(format!("/api/v1/members?org_id={}", fx.orgs.b3)).token(&br)).await.expect_problem(403, "out_of_scope");
    let com2 = fx.login(users::COM_C2).await;
    assert_eq!(names(&fx.send(Req::get("/api/v1/members").token(&com2)).await.json), ["钱七"]);
    let member = fx.login(users::MEMBER_ZS).await;
    let r = fx.send(Req::get("/api/v1/members").token(&member)).await;
    assert_eq!(names(&r.json), ["张三"]);
    assert_eq!(r.json["total"], 1);
    let masses = fx.login(users::MASSES).await;
    fx.send(Req::get("/api/v1/members").token(&masses)).await.expect_problem(403, "role_not_allowed");
}

#[actix_web::test]
async fn personal_data_is_masked_by_role_and_reads_are_audited() {
    let fx = Fx::new().await;
    let id = zs_id_number();
    let masked_id = format!("{}{}", "*".repeat(14), &id[14..]);
    let masked_phone = format!("{}****{}", &ZS_PHONE[..3], &ZS_PHONE[7..]);

    // Lists never show personal data, whoever asks.
    let admin = fx.login(users::ADMIN).await;
    let r = fx.send(Req::get("/api/v1/members?q=zs").token(&admin)).await;
    let item = &r.json["items"][0];
    assert_eq!(item["id_number"], masked_id.as_str());
    // Only the last four are shown (docs/domain.md, Confidentiality): no digit of the region code
    // or of the birth date, which the same list shows in clear.
    let masked = item["id_number"].as_str().unwrap();
    assert!(masked.starts_with("**************") && masked.chars().count() == 18, "{masked}");
    assert_eq!(item["phone"], masked_phone.as_str());
    assert!(!r.text.contains(&id) && !r.text.contains(ZS_PHONE));

    let url = format!("/api/v1/members/{}", fx.people.zhangsan);
    // A committee worker over the member sees the ID number and phone.
    let com = fx.login(users::COM_C1).await;
    let r = fx.send(Req::get(&url).token(&com)).await;
    r.expect(200);
    assert_eq!(r.json["id_number"], id.as_str());
    assert_eq!(r.json["phone"], ZS_PHONE);
    assert_eq!(r.json["standing_years"], years_since("2011-07-01", fx.today()));
    // A branch worker: the phone, not the ID number.
    let br = fx.login(users::BR_B1).await;
    let r = fx.send(Req::get(&url).token(&br)).await;
    assert_eq!(r.json["id_number"], masked_id.as_str());
    assert_eq!(r.json["phone"], ZS_PHONE);
    // The member themself: both.
    let me = fx.login(users::MEMBER_ZS).await;
    let r = fx.send(Req::get(&url).token(&me)).await;
    assert_eq!(r.json["id_number"], id.as_str());
    assert_eq!(r.json["phone"], ZS_PHONE);

    // Each read of someone else's personal data is audited, naming the fields shown.
    let reads: Vec<(Option<i64>, Value)> =
        fx.audit("member", fx.people.zhangsan).await.into_iter().filter(|a| a.0 == "read_personal").map(|a| (a.1, a.3.unwrap()["fields"].clone())).collect();
    assert_eq!(reads, [(Some(fx.accounts[users::COM_C1]), json!(["id_number", "phone"])), (Some(fx.accounts[users::BR_B1]), json!(["phone"]))]);

    // A member without personal data: nothing to reveal, nothing audited.
    fx.send(Req::get(format!("/api/v1/members/{}", fx.people.zhaoliu)).token(&com)).await.expect(200);
    assert!(fx.audit("member", fx.people.zhaoliu).await.is_empty());

    // Stored encrypted: the plaintext is nowhere in the table.
    let (enc, hash, masked): (Option<Vec<u8>>, Option<Vec<u8>>, Option<String>) = {
        use dangjian::schema::people as p;
        p::table.find(fx.people.zhangsan).select((p::id_number_enc, p::id_number_hash, p::id_number_masked)).first(&mut fx.conn().await).await.unwrap()
    };
    let enc = enc.unwrap();
    assert!(!enc.windows(id.len()).any(|w| w == id.as_bytes()));
    assert_eq!(hash.unwrap().len(), 32);
    assert_eq!(masked.unwrap(), masked_id);
}

#[actix_web::test]
async fn create_then_read_update_delete_with_audit() {
    let fx = Fx::new().await;
    let br = fx.login(users::BR_B1).await;
    let r = fx.send(Req::post("/api/v1/members").token(&br).json(new_member(fx.orgs.b1_1))).await;
    r.expect(201);
    let id = r.json["id"].as_i64().unwrap();
    assert_eq!(r.header("location"), Some(format!("/api/v1/members/{id}").as_str()));
    assert_eq!(r.etag(), Some("\"1\""));
    assert_eq!(r.json["phone"], "13912345678", "phone normalized, shown to the branch");
    assert!(r.json["id_number"].as_str().unwrap().contains('*'), "ID number masked for a branch worker");
    assert_eq!(r.json["org_name"], "第一党小组");
    assert_eq!(r.json["status"], "normal");
    assert_eq!(r.json["standing_years"], years_since("2016-06-20", fx.today()), "党龄 from full membership");

    let url = format!("/api/v1/members/{id}");
    let got = fx.send(Req::get(&url).token(&br)).await;
    got.expect(200);
    assert_eq!(got.etag(), Some("\"1\""));
    assert_eq!(got.json["degree"], "硕士");

    let r = fx.send(Req::patch(&url).token(&br).if_match(1).json(json!({"post": "副教授", "title": null}))).await;
    r.expect(200);
    assert_eq!(r.etag(), Some("\"2\""));
    assert_eq!(r.json["post"], "副教授");
    assert!(r.json["title"].is_null());
    assert_eq!(r.json["name"], "孙八", "fields left out are kept");

    fx.send(Req::delete(&url).token(&br).if_match(1)).await.expect_problem(412, "stale_version");
    fx.send(Req::delete(&url).token(&br).if_match(2)).await.expect(204);
    fx.send(Req::get(&url).token(&br)).await.expect_problem(404, "not_found");
    fx.send(Req::delete(&url).token(&br)).await.expect_problem(404, "not_found");

    let audit = fx.audit("member", id).await;
    let actions: Vec<&str> = audit.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(actions, ["create", "read_personal", "update", "delete"]);
    assert!(audit.iter().all(|a| a.1 == Some(fx.accounts[users::BR_B1])));
    // The audit log holds masked personal data only.
    let all = serde_json::to_string(&audit.iter().map(|a| (&a.2, &a.3)).collect::<Vec<_>>()).unwrap();
    assert!(!all.contains(&id_for("1990-05-17", false, 20)), "plaintext ID number in the audit log");
    assert!(!all.contains("13912345678"), "plaintext phone in the audit log");
    assert_eq!(audit[2].2.as_ref().unwrap()["post"], "教师");
    assert_eq!(audit[2].3.as_ref().unwrap()["post"], "副教授");
}

#[actix_web::test]
async fn create_refuses_invalid_records_naming_each_field() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let post = |body: Value| fx.send(Req::post("/api/v1/members").token(&admin).json(body));
    let with = |changes: Value| {
        let mut b = new_member(fx.orgs.b2);
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                b.as_object_mut().unwrap().remove(k);
            } else {
                b[k] = v.clone();
            }
        }
        b
    };
    let good_id = id_for("1990-05-17", false, 20);

    // GB 11643 check digit.
    let mut bad = good_id.clone();
    let last = bad.pop().unwrap();
    bad.push(if last == '0' { '1' } else { '0' });
    let r = post(with(json!({"id_number": bad}))).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.json["errors"][0]["field"], "id_number");
    assert_eq!(r.errors(), ["id_number:id_number_checksum"]);
    assert!(r.json["errors"][0]["message_zh"].as_str().unwrap().contains("校验位"));
    assert!(r.json["detail_zh"].as_str().unwrap().starts_with("id_number："));

    // Without a birth date the ID number's own error is the only one (not also "birth_date required").
    let r = post(with(json!({"id_number": bad, "birth_date": null}))).await;
    assert_eq!(r.errors(), ["id_number:id_number_checksum"]);
    let r = post(with(json!({"id_number": "12345"}))).await;
    assert_eq!(r.errors(), ["id_number:id_number_length"]);
    let r = post(with(json!({"gender": "male"}))).await;
    assert_eq!(r.errors(), ["id_number:id_number_gender_mismatch"]);
    let r = post(with(json!({"birth_date": "1990-05-18"}))).await;
    assert_eq!(r.errors(), ["id_number:id_number_birth_date_mismatch"]);

    // Probation: full membership one to two years after admission.
    let r = post(with(json!({"full_member_at": "2015-12-20"}))).await;
    assert_eq!(r.errors(), ["full_member_at:probation_length"]);
    let r = post(with(json!({"full_member_at": "2017-07-20"}))).await;
    assert_eq!(r.errors(), ["full_member_at:probation_length"]);
    let r = post(with(json!({"full_member_at": null}))).await;
    assert_eq!(r.errors(), ["full_member_at:required"]);
    let r = post(with(json!({"category": "probationary"}))).await;
    assert_eq!(r.errors(), ["full_member_at:probationary_has_no_full_date"]);
    let r = post(with(json!({"joined_at": "2006-01-01", "full_member_at": "2007-01-01"}))).await;
    assert_eq!(r.errors(), ["joined_at:before_18th_birthday"]);

    // Code lists.
    let r = post(with(json!({"ethnicity": "火星族"}))).await;
    assert_eq!(r.errors(), ["ethnicity:not_in_code_list"]);
    let r = post(with(json!({"education": "博士后", "job_category": "宇航员"}))).await;
    assert_eq!(r.errors(), ["education:not_in_code_list", "job_category:not_in_code_list"]);

    let r = post(with(json!({"phone": "12345"}))).await;
    assert_eq!(r.errors(), ["phone:invalid_phone"]);

    // Where members may belong.
    let r = post(with(json!({"org_id": fx.orgs.g1}))).await;
    assert_eq!(r.errors(), ["org_id:org_cannot_hold_members"]);
    let r = post(with(json!({"org_id": 999999}))).await;
    assert_eq!(r.errors(), ["org_id:not_found"]);

    // Required fields, all at once.
    let r = post(json!({"phone": "13800138000"})).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.errors(), ["name:required", "gender:required", "category:required", "org_id:required", "joined_at:required"]);
    let r = post(with(json!({"id_number": null, "birth_date": null}))).await;
    assert_eq!(r.errors(), ["birth_date:required"]);

    // Malformed JSON values: 400 naming the field.
    let r = post(with(json!({"birth_date": "1990-02-30"}))).await;
    r.expect(400);
    assert_eq!(r.first_error().0, "birth_date");
    let r = post(with(json!({"gender": "unknown"}))).await;
    r.expect(400);
    assert_eq!(r.first_error().0, "gender");

    // Nothing was stored by any of these.
    let r = fx.send(Req::get("/api/v1/members").token(&admin)).await;
    assert_eq!(r.json["total"], 5);

    // Duplicate citizen ID number: 409 naming the field (also with a lowercase x or spaces).
    post(with(json!({}))).await.expect(201);
    let again = post(with(json!({"name": "孙九"}))).await;
    again.expect_problem(409, "duplicate");
    assert_eq!(again.errors(), ["id_number:duplicate"]);
    let zs = zs_id_number();
    let r = post(json!({"name": "重复", "gender": "male", "id_number": format!(" {} ", zs.to_lowercase()), "category": "full",
                        "org_id": fx.orgs.b2, "joined_at": "2010-07-01", "full_member_at": "2011-07-01"}))
    .await;
    r.expect_problem(409, "duplicate");
}

#[actix_web::test]
async fn update_versions_and_a_refused_write_changes_nothing() {
    let fx = Fx::new().await;
    let com = fx.login(users::COM_C1).await;
    let url = format!("/api/v1/members/{}", fx.people.zhangsan);
    let read = fx.send(Req::get(&url).token(&com)).await;
    assert_eq!(read.etag(), Some("\"1\""));

    fx.send(Req::patch(&url).token(&com).json(json!({"post": "处长"}))).await.expect_problem(428, "version_required");
    let r = fx.send(Req::patch(&url).token(&com).if_match(1).json(json!({"post": "处长"}))).await;
    r.expect(200);
    assert_eq!(r.etag(), Some("\"2\""));
    fx.send(Req::patch(&url).token(&com).if_match(1).json(json!({"post": "科长"}))).await.expect_problem(412, "stale_version");
    fx.send(Req::patch(&url).token(&com).json(json!({"post": "科长", "version": 1}))).await.expect_problem(409, "stale_version");
    // If-Match wins over the body's version.
    fx.send(Req::patch(&url).token(&com).if_match(1).json(json!({"post": "科长", "version": 2}))).await.expect_problem(412, "stale_version");
    // An invalid change: 422, and nothing changes.
    let r = fx.send(Req::patch(&url).token(&com).if_match(2).json(json!({"ethnicity": "火星族", "post": "科长"}))).await;
    assert_eq!(r.errors(), ["ethnicity:not_in_code_list"]);
    let r = fx.send(Req::patch(&url).token(&com).if_match(2).json(json!({"gender": "female"}))).await;
    assert_eq!(r.errors(), ["id_number:id_number_gender_mismatch"]);
    // Moving a member to an org outside the scope.
    let r = fx.send(Req::patch(&url).token(&com).if_match(2).json(json!({"org_id": fx.orgs.b3}))).await;
    r.expect_problem(403, "out_of_scope");
    let after = fx.send(Req::get(&url).token(&com)).await;
    assert_eq!(after.json["post"], "处长");
    assert_eq!(after.json["gender"], "male");
    assert_eq!(after.json["org_id"], fx.orgs.b1);
    assert_eq!(after.json["version"], 2);
    assert_eq!(after.etag(), Some("\"2\""));

    // Clearing the ID number keeps the birth date it gave.
    let r = fx.send(Req::patch(&url).token(&com).if_match(2).json(json!({"id_number": null}))).await;
    r.expect(200);
    assert!(r.json["id_number"].is_null());
    assert_eq!(r.json["birth_date"], "1985-03-12");
}

#[actix_web::test]
async fn a_member_may_change_only_their_own_phone() {
    let fx = Fx::new().await;
    let me = fx.login(users::MEMBER_ZS).await;
    let url = format!("/api/v1/members/{}", fx.people.zhangsan);
    fx.send(Req::patch(&url).token(&me).if_match(1).json(json!({"post": "处长"}))).await.expect_problem(403, "forbidden");
    let r = fx.send(Req::patch(&url).token(&me).if_match(1).json(json!({"phone": "13600136000"}))).await;
    r.expect(200);
    assert_eq!(r.json["phone"], "13600136000");
    fx.send(Req::patch(format!("/api/v1/members/{}", fx.people.lisi)).token(&me).if_match(1).json(json!({"phone": "13600136000"})))
        .await
        .expect_problem(403, "out_of_scope");
    fx.send(Req::delete(&url).token(&me)).await.expect_problem(403, "role_not_allowed");
}

#[actix_web::test]
async fn moving_a_member_writes_dated_history() {
    let fx = Fx::new().await;
    let com = fx.login(users::COM_C1).await;
    let url = format!("/api/v1/members/{}", fx.people.zhangsan);
    let r = fx.send(Req::patch(&url).token(&com).if_match(1).json(json!({"org_id": fx.orgs.b2}))).await;
    r.expect(200);
    assert_eq!(r.json["org_id"], fx.orgs.b2);
    assert_eq!(r.json["org_name"], "机关第二党支部");

    use dangjian::schema::member_history as h;
    let rows: Vec<(i64, chrono::NaiveDate, Option<chrono::NaiveDate>)> = h::table
        .filter(h::person_id.eq(fx.people.zhangsan))
        .order(h::id)
        .select((h::org_id, h::valid_from, h::valid_to))
        .load(&mut fx.conn().await)
        .await
        .unwrap();
    let today = common::clock().today();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0], (fx.orgs.b1, common::d("2010-07-01"), Some(today)));
    assert_eq!(rows[1], (fx.orgs.b2, today, None));

    // A change that does not touch org, category or status adds no history.
    fx.send(Req::patch(&url).token(&com).if_match(2).json(json!({"post": "处长"}))).await.expect(200);
    let n: i64 = h::table.filter(h::person_id.eq(fx.people.zhangsan)).count().get_result(&mut fx.conn().await).await.unwrap();
    assert_eq!(n, 2);
    // Status changes do.
    fx.send(Req::patch(&url).token(&com).if_match(3).json(json!({"status": "suspended"}))).await.expect(200);
    let open: Vec<String> =
        h::table.filter(h::person_id.eq(fx.people.zhangsan)).filter(h::valid_to.is_null()).select(h::status).load(&mut fx.conn().await).await.unwrap();
    assert_eq!(open, ["suspended"]);
}

#[actix_web::test]
async fn reads_outside_the_scope_are_refused() {
    let fx = Fx::new().await;
    let br = fx.login(users::BR_B1).await;
    fx.send(Req::get(format!("/api/v1/members/{}", fx.people.qianqi)).token(&br)).await.expect_problem(403, "out_of_scope");
    fx.send(Req::get(format!("/api/v1/members/{}", fx.people.zhaoliu)).token(&br)).await.expect_problem(403, "out_of_scope");
    fx.send(Req::get("/api/v1/members/999999").token(&br)).await.expect_problem(404, "not_found");
    // A malformed path id is a 400 naming it, as a malformed query parameter is.
    let r = fx.send(Req::get("/api/v1/members/abc").token(&br)).await;
    r.expect_problem(400, "validation_failed");
    assert_eq!(r.first_error(), ("id".to_string(), "invalid_format".to_string()));
    fx.send(Req::post("/api/v1/members").token(&br).json(new_member(fx.orgs.b3))).await.expect_problem(403, "out_of_scope");
    fx.send(Req::delete(format!("/api/v1/members/{}", fx.people.qianqi)).token(&br)).await.expect_problem(403, "out_of_scope");
    // Sending something other than JSON.
    let r = fx.send(Req::post("/api/v1/members").token(&br).header("Content-Type", "text/plain")).await;
    r.expect_problem(415, "unsupported_media_type");
}

/// The form's choices come from the same code lists the rules check against (docs/domain.md, Members:
/// closed lists kept as data).
#[actix_web::test]
async fn code_lists_serve_the_lists_the_rules_check() {
    let fx = Fx::new().await;
    let token = fx.login(users::MEMBER_ZS).await;
    let res = fx.send(Req::get("/api/v1/code-lists").token(&token)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let names = |list: &str| -> Vec<String> { res.json[list].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect() };
    let ethnicity = names("ethnicity");
    assert_eq!(ethnicity.len(), 58, "56 groups of GB/T 3304 plus 其他 and 外国血统中国籍人士");
    assert_eq!(ethnicity[0], "汉族");
    assert_eq!(ethnicity[55], "基诺族");
    assert_eq!(names("education"), ["研究生", "大学本科", "大学专科", "中专", "高中", "初中及以下"]);
    assert!(names("job_category").contains(&"军人武警".to_string()));
    assert_eq!(res.json["degree"][0]["code"], "01");
}

/// The statistics' drill-down filters (contract: "GET /members filters").
#[actix_web::test]
async fn list_filters_of_the_statistics_drill_down() {
    let fx = Fx::new().await;
    {
        use dangjian::schema::people as p;
        let mut conn = fx.conn().await;
        let set = |id: i64| diesel::update(p::table.find(id));
        set(fx.people.wangwu).set(p::ethnicity.eq("回族")).execute(&mut conn).await.unwrap();
        set(fx.people.qianqi).set(p::ethnicity.eq(None::<String>)).execute(&mut conn).await.unwrap();
        set(fx.people.lisi).set(p::education.eq("研究生")).execute(&mut conn).await.unwrap();
        set(fx.people.zhaoliu).set((p::job_category.eq("学生"), p::education.eq(None::<String>))).execute(&mut conn).await.unwrap();
    }
    let admin = fx.login(users::ADMIN).await;
    let list = |q: &str| fx.send(Req::get(format!("/api/v1/members{q}")).token(&admin));

    assert_eq!(names(&list("?ethnicity=%E5%9B%9E%E6%97%8F").await.json), ["王五"]); // 回族
    // docs/domain.md, Party statistics: 汉族 / minorities; an unrecorded ethnicity is neither.
    assert_eq!(names(&list("?ethnic_group=han").await.json), sorted(&["张三", "李四", "赵六"]));
    assert_eq!(names(&list("?ethnic_group=minority").await.json), ["王五"]);
    assert_eq!(names(&list("?missing=ethnicity").await.json), ["钱七"]);
    assert_eq!(names(&list("?education=%E7%A0%94%E7%A9%B6%E7%94%9F").await.json), ["李四"]); // 研究生
    assert_eq!(names(&list("?job_category=%E5%AD%A6%E7%94%9F").await.json), ["赵六"]); // 学生
    assert_eq!(names(&list("?missing=education").await.json), ["赵六"]);
    assert_eq!(names(&list("?missing=id_number").await.json), ["赵六"]);
    assert_eq!(names(&list("?missing=phone").await.json), sorted(&["王五", "赵六", "钱七"]));
    assert_eq!(list("?missing=birth_date").await.json["total"], 0);
    assert_eq!(list("?missing=job_category").await.json["total"], 0);
    // Births: 王五 1970-01-05, 钱七 1975-11-30, 张三 1985-03-12, 赵六 1990-03-01, 李四 1992-08-20.
    assert_eq!(names(&list("?born_from=1975-11-30&born_to=1990-03-01").await.json), sorted(&["钱七", "张三", "赵六"]));
    assert_eq!(names(&list("?born_to=1970-12-31").await.json), ["王五"]);
    // Full membership: 钱七 2001-10-01, 王五 2006-05-01, 张三 2011-07-01, 赵六 2016-03-01; 李四 is probationary.
    assert_eq!(names(&list("?full_from=2006-05-01&full_to=2011-07-01").await.json), sorted(&["王五", "张三"]));
    assert_eq!(names(&list("?full_from=2000-01-01").await.json), sorted(&["钱七", "王五", "张三", "赵六"]));
    // Combined with the older filters and the subtree; the count agrees with the page.
    let r = list(&format!("?org_id={}&ethnic_group=han&gender=female", fx.orgs.b1)).await;
    assert_eq!((names(&r.json), r.json["total"].as_i64()), (vec!["李四".to_string()], Some(1)));
    assert_eq!(list("?education=%20%20").await.json["total"], 5, "a blank text filter is no filter");

    let r = list("?born_from=1990-01-01&born_to=1980-01-01&full_from=2020-01-01&full_to=2010-01-01").await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.errors(), ["born_to:before_born_from", "full_to:before_full_from"]);
    let r = list("?missing=name").await;
    r.expect(400);
    assert_eq!(r.first_error().0, "missing", "{}", r.text);
    let r = list("?ethnic_group=other").await;
    assert_eq!(r.first_error().0, "ethnic_group", "{}", r.text);
    let r = list("?full_to=2020-02-30").await;
    assert_eq!(r.first_error().0, "full_to", "{}", r.text);
}

/// Migration 2026-12-07-010000_id_number_mask cuts the stored masks of the earlier form
/// (first 3 and last 4) to the last 4, for every row, as the code now writes them.
#[actix_web::test]
async fn stored_masks_of_the_earlier_form_are_cut_to_the_last_four() {
    use dangjian::schema::people as p;
    let fx = Fx::new().await;
    let mut conn = fx.conn().await;
    // As the database was before the migration.
    diesel_async::SimpleAsyncConnection::batch_execute(&mut *conn, include_str!("../migrations/2026-12-07-010000_id_number_mask/down.sql")).await.unwrap();
    diesel::update(p::table.find(fx.people.zhangsan)).set(p::id_number_masked.eq("110***********123X")).execute(&mut conn).await.unwrap();
    diesel::update(p::table.find(fx.people.lisi)).set(p::id_number_masked.eq("123*5678")).execute(&mut conn).await.unwrap();
    let current: Option<String> = p::table.find(fx.people.wangwu).select(p::id_number_masked).first(&mut conn).await.unwrap();
    diesel_async::SimpleAsyncConnection::batch_execute(&mut *conn, include_str!("../migrations/2026-12-07-010000_id_number_mask/up.sql")).await.unwrap();
    let masks: Vec<(i64, Option<String>)> = p::table
        .filter(p::id.eq_any([fx.people.zhangsan, fx.people.lisi, fx.people.wangwu]))
        .select((p::id, p::id_number_masked))
        .load(&mut conn)
        .await
        .unwrap();
    let masked = |id: i64| masks.iter().find(|m| m.0 == id).and_then(|m| m.1.clone());
    assert_eq!(masked(fx.people.zhangsan).as_deref(), Some("**************123X"));
    assert_eq!(masked(fx.people.lisi).as_deref(), Some("********"));
    // Masks already of the new form stay as they were.
    assert_eq!(masked(fx.people.wangwu), current);
    // And no writer may store the earlier form again.
    let refused = diesel::update(p::table.find(fx.people.zhangsan)).set(p::id_number_masked.eq("110***********123X")).execute(&mut conn).await;
    assert!(refused.is_err(), "a mask showing the region code is refused by the database");
}
