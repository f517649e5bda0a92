//! Meeting records (docs/domain.md, Organizational life): plan and record, field-named problems,
//! notifications, attendance whole or nothing, archiving and addenda, versions, scope, a member's
//! study hours, the audit trail, and the notification outbox under concurrent senders.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::{Datelike, Duration};
use common::{Fx, Req, users};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde_json::{Value, json};

fn ago(days: i64) -> String {
    (common::clock().now() - Duration::days(days)).to_rfc3339()
}

fn ahead(days: i64) -> String {
    (common::clock().now() + Duration::days(days)).to_rfc3339()
}

fn people(d: &Value) -> Vec<i64> {
    let mut v: Vec<i64> = d["attendees"].as_array().unwrap().iter().map(|a| a["person_id"].as_i64().unwrap()).collect();
    v.sort_unstable();
    v
}

fn attendee(d: &Value, person: i64) -> &Value {
    d["attendees"].as_array().unwrap().iter().find(|a| a["person_id"] == json!(person)).unwrap()
}

fn version(d: &Value) -> i64 {
    d["version"].as_i64().unwrap()
}

/// A meeting created through the API by `token`, answered 201.
async fn create(fx: &Fx, token: &str, body: Value) -> Value {
    let r = fx.send(Req::post("/api/v1/meetings").token(token).json(body)).await;
    r.expect(201);
    assert_eq!(r.etag(), Some(format!("\"{}\"", version(&r.json)).as_str()));
    r.json.clone()
}

async fn planned_b1(fx: &Fx, token: &str) -> Value {
    create(
        fx,
        token,
        json!({"org_id": fx.orgs.b1, "kind": "party_lecture", "topic": "学习党章", "starts_at": ahead(7), "place": "三楼会议室", "status": "planned"}),
    )
    .await
}

async fn held_b1(fx: &Fx, token: &str, kind: &str) -> Value {
    create(fx, token, json!({"org_id": fx.orgs.b1, "kind": kind, "topic": "上周的会议", "starts_at": ago(7), "status": "held"})).await
}

async fn notifications_of(fx: &Fx, person: i64) -> Vec<(String, Option<String>)> {
    use dangjian::schema::notifications as n;
    n::table.filter(n::person_id.eq(person)).order(n::id).select((n::kind, n::link)).load(&mut fx.conn().await).await.unwrap()
}

#[actix_web::test]
async fn plan_a_meeting_and_enter_a_held_one_after_the_fact() {
    let fx = Fx::new().await;
    let p = fx.people;
    let br = fx.login(users::BR_B1).await;

    // Due by default: B1's members with status normal and those of its party group B1-1
    // (docs/domain.md, Organizational life: the members due). 李四 is probationary: no vote (章程 art. 7).
    let c = fx.send(Req::get(format!("/api/v1/meetings/attendee-candidates?org_id={}&kind=branch_general_meeting", fx.orgs.b1)).token(&br)).await;
    c.expect(200);
    let mut ids: Vec<i64> = c.json.as_array().unwrap().iter().map(|x| x["person_id"].as_i64().unwrap()).collect();
    ids.sort_unstable();
    let mut want = vec![p.zhangsan, p.lisi, p.wangwu];
    want.sort_unstable();
    assert_eq!(ids, want);
    let lisi = c.json.as_array().unwrap().iter().find(|x| x["person_id"] == json!(p.lisi)).unwrap();
    assert_eq!((lisi["category"].as_str(), lisi["has_vote"].as_bool()), (Some("probationary"), Some(false)));

    let m = planned_b1(&fx, &br).await;
    assert_eq!(m["status"], "planned");
    assert_eq!(m["kind_name"], "党课");
    assert_eq!(m["org_name"], "机关第一党支部");
    // 党课 counts as study time: the kind's 2 hours by default.
    assert_eq!(m["study_hours"], json!(2.0));
    assert_eq!(people(&m), want);
    assert_eq!(m["counts"], json!({"due": 3, "present": 0, "absent": 0, "pending": 3, "voters_due": 2, "voters_present": 0}));
    assert_eq!(attendee(&m, p.lisi)["has_vote"], false);
    // Each attendee is notified in the platform, linking to the record.
    let link = format!("/meetings/{}", m["id"]);
    for person in [p.zhangsan, p.lisi, p.wangwu] {
        assert_eq!(notifications_of(&fx, person).await, vec![("meeting_planned".to_string(), Some(link.clone()))]);
    }
    assert!(notifications_of(&fx, p.qianqi).await.is_empty());

    // Clerks enter records after the fact: held last week, directly; nobody is notified.
    let held = create(
        &fx,
        &br,
        json!({"org_id": fx.orgs.b1, "kind": "theme_party_day", "topic": "主题党日：参观", "starts_at": ago(7),
        "ends_at": ago(7), "status": "held", "attendee_ids": [p.zhangsan, p.wangwu], "minutes": "参观了纪念馆", "resolutions": ["下月继续"],
        "host_person_id": p.zhangsan, "recorder_person_id": p.lisi, "study_hours": 1.5}),
    )
    .await;
    assert_eq!(held["status"], "held");
    assert_eq!(held["host_name"], "张三");
    assert_eq!(held["recorder_name"], "李四");
    assert_eq!(held["resolutions"], json!(["下月继续"]));
    assert_eq!(held["study_hours"], json!(1.5));
    assert_eq!(people(&held).len(), 2);
    assert_eq!(notifications_of(&fx, p.zhangsan).await.len(), 1);

    // A group holds its own group meeting; its members are due.
    let g = create(&fx, &br, json!({"org_id": fx.orgs.b1_1, "kind": "group_meeting", "topic": "小组学习", "starts_at": ago(1), "status": "held"})).await;
    assert_eq!(people(&g), vec![p.wangwu]);

    // Read back with its ETag.
    let r = fx.send(Req::get(format!("/api/v1/meetings/{}", held["id"])).token(&br)).await;
    r.expect(200);
    assert_eq!(r.json["minutes"], "参观了纪念馆");
    assert_eq!(r.etag(), Some("\"1\""));

    // Created meetings are audited.
    let audit = fx.audit("meeting", m["id"].as_i64().unwrap()).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].0, "create");
    assert_eq!(audit[0].1, Some(fx.accounts[users::BR_B1]));
    assert_eq!(audit[0].3.as_ref().unwrap()["topic"], "学习党章");
}

#[actix_web::test]
async fn invalid_meetings_are_refused_naming_the_field() {
    let fx = Fx::new().await;
    let p = fx.people;
    let br = fx.login(users::BR_B1).await;
    let base = json!({"org_id": fx.orgs.b1, "kind": "party_lecture", "topic": "学习", "starts_at": ago(3), "status": "planned"});
    let with = |patch: Value| {
        let mut b = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let cases = [
        (with(json!({"status": "held", "starts_at": ahead(2)})), "starts_at", "held_in_future"),
        (with(json!({"kind": "tea_party"})), "kind", "unknown_kind"),
        // A branch does not hold party group meetings (a group does).
        (with(json!({"kind": "group_meeting"})), "kind", "kind_not_owed"),
        (with(json!({"attendee_ids": [p.zhangsan, p.qianqi]})), "attendee_ids[1]", "not_in_org"),
        (with(json!({"host_person_id": p.zhaoliu})), "host_person_id", "not_in_org"),
        (with(json!({"topic": "  "})), "topic", "required"),
        (with(json!({"ends_at": ago(4)})), "ends_at", "before_starts_at"),
        (with(json!({"status": "cancelled"})), "cancel_reason", "required"),
        (with(json!({"study_hours": 30})), "study_hours", "out_of_range"),
    ];
    for (body, field, code) in cases {
        let r = fx.send(Req::post("/api/v1/meetings").token(&br).json(body.clone())).await;
        r.expect_problem(422, "validation_failed");
        assert_eq!(r.first_error(), (field.to_string(), code.to_string()), "{body}");
        assert!(r.json["errors"][0]["message_zh"].as_str().is_some_and(|s| !s.is_empty()));
    }
    // An unknown status is refused by name too.
    let r = fx.send(Req::post("/api/v1/meetings").token(&br).json(with(json!({"status": "postponed"})))).await;
    assert!(r.status.is_client_error());
    assert_eq!(r.first_error().0, "status", "{}", r.text);
    // Nothing was written.
    use dangjian::schema::meetings as m;
    let n: i64 = m::table.count().get_result(&mut fx.conn().await).await.unwrap();
    assert_eq!(n, 0);
}

#[actix_web::test]
async fn members_read_and_mark_their_notifications_and_hear_of_changes() {
    let fx = Fx::new().await;
    let p = fx.people;
    let br = fx.login(users::BR_B1).await;
    let zs = fx.login(users::MEMBER_ZS).await;
    let m = planned_b1(&fx, &br).await;
    let id = m["id"].as_i64().unwrap();

    let r = fx.send(Req::get("/api/v1/notifications/unread-count").token(&zs)).await;
    r.expect(200);
    assert_eq!(r.json["count"], 1);
    let list = fx.send(Req::get("/api/v1/notifications").token(&zs)).await;
    list.expect(200);
    assert_eq!(list.json["total"], 1);
    let n = &list.json["items"][0];
    assert_eq!(n["kind"], "meeting_planned");
    assert_eq!(n["link"], format!("/meetings/{id}"));
    assert!(n["title"].as_str().unwrap().contains("党课"));
    assert!(n["body"].as_str().unwrap().contains("学习党章"));
    assert!(n["read_at"].is_null());
    let nid = n["id"].as_i64().unwrap();

    // Someone else's notification is not there for you.
    let multi = fx.login(users::MULTI).await; // 李四
    fx.send(Req::post(format!("/api/v1/notifications/{nid}/read")).token(&multi)).await.expect_problem(404, "not_found");
    fx.send(Req::post(format!("/api/v1/notifications/{nid}/read")).token(&zs)).await.expect(204);
    fx.send(Req::post(format!("/api/v1/notifications/{nid}/read")).token(&zs)).await.expect(204);
    assert_eq!(fx.send(Req::get("/api/v1/notifications/unread-count").token(&zs)).await.json["count"], 0);
    assert_eq!(fx.send(Req::get("/api/v1/notifications?unread=true").token(&zs)).await.json["total"], 0);
    assert_eq!(fx.send(Req::get("/api/v1/notifications?unread=false").token(&zs)).await.json["total"], 1);
    // 李四's own is still unread.
    assert_eq!(fx.send(Req::get("/api/v1/notifications/unread-count").token(&multi)).await.json["count"], 1);

    // A new place notifies the attendees; a topic alone does not.
    let r = fx.send(Req::patch(format!("/api/v1/meetings/{id}")).token(&br).json(json!({"place": "五楼报告厅", "version": 1}))).await;
    r.expect(200);
    let r = fx.send(Req::patch(format!("/api/v1/meetings/{id}")).token(&br).json(json!({"topic": "学习新党章", "version": 2}))).await;
    r.expect(200);
    // Cancelling needs a reason, then tells everyone.
    let r = fx.send(Req::patch(format!("/api/v1/meetings/{id}")).token(&br).json(json!({"status": "cancelled", "version": 3}))).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.first_error().0, "cancel_reason");
    let r = fx
        .send(Req::patch(format!("/api/v1/meetings/{id}")).token(&br).json(json!({"status": "cancelled", "cancel_reason": "与上级会议冲突", "version": 3})))
        .await;
    r.expect(200);
    assert_eq!(r.json["cancel_reason"], "与上级会议冲突");
    let kinds: Vec<String> = notifications_of(&fx, p.wangwu).await.into_iter().map(|n| n.0).collect();
    assert_eq!(kinds, ["meeting_planned", "meeting_changed", "meeting_cancelled"]);
    let actions: Vec<String> = fx.audit("meeting", id).await.into_iter().map(|a| a.0).collect();
    assert_eq!(actions, ["create", "update", "update", "cancel"]);
}

#[actix_web::test]
async fn attendance_is_recorded_whole_or_not_at_all() {
    let fx = Fx::new().await;
    let p = fx.people;
    let br = fx.login(users::BR_B1).await;
    let m = held_b1(&fx, &br, "branch_general_meeting").await;
    let id = m["id"].as_i64().unwrap();
    let path = format!("/api/v1/meetings/{id}/attendance");

    // One bad line (an absence without a reason) refuses them all; so does someone not due.
    let r = fx
        .send(Req::new("PUT", &path).token(&br).json(json!({"version": 1, "items": [
            {"person_id": p.zhangsan, "attendance": "present"},
            {"person_id": p.lisi, "attendance": "absent"},
            {"person_id": p.qianqi, "attendance": "present"},
            {"person_id": p.wangwu, "attendance": "present", "absence_reason": "sick"}]})))
        .await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.errors(), ["items[1].absence_reason:required", "items[2].person_id:not_an_attendee", "items[3].absence_reason:only_when_absent"]);
    let after = fx.send(Req::get(format!("/api/v1/meetings/{id}")).token(&br)).await;
    assert_eq!(after.json["counts"]["pending"], 3, "nothing was recorded");
    assert_eq!(version(&after.json), 1);
    // A reason that is not one of 病假/事假/公差/其他 is refused by name.
    let r = fx
        .send(Req::new("PUT", &path).token(&br).json(json!({"version": 1, "items": [{"person_id": p.lisi, "attendance": "absent", "absence_reason": "lazy"}]})))
        .await;
    assert!(r.status.is_client_error());
    assert!(r.first_error().0.starts_with("items[0].absence_reason"), "{}", r.text);

    let r = fx
        .send(Req::new("PUT", &path).token(&br).json(json!({"version": 1, "items": [
            {"person_id": p.zhangsan, "attendance": "present"},
            {"person_id": p.lisi, "attendance": "absent", "absence_reason": "business", "absence_note": "出差"},
            {"person_id": p.wangwu, "attendance": "present"}]})))
        .await;
    r.expect(200);
    assert_eq!(r.json["counts"], json!({"due": 3, "present": 2, "absent": 1, "pending": 0, "voters_due": 2, "voters_present": 2}));
    let lisi = attendee(&r.json, p.lisi);
    assert_eq!((lisi["attendance"].as_str(), lisi["absence_reason"].as_str(), lisi["absence_note"].as_str()), (Some("absent"), Some("business"), Some("出差")));
    assert_eq!(attendee(&r.json, p.zhangsan)["checked_in_by"], "clerk");
    assert_eq!(version(&r.json), 2);

    // The attendees can change: kept ones keep their attendance, new ones are pending.
    let extra = fx.new_member("新人", fx.orgs.b1).await;
    let r = fx
        .send(Req::new("PUT", format!("/api/v1/meetings/{id}/attendees")).token(&br).json(json!({"version": 2, "person_ids": [p.zhangsan, p.lisi, extra]})))
        .await;
    r.expect(200);
    assert_eq!(attendee(&r.json, p.zhangsan)["attendance"], "present");
    assert_eq!(attendee(&r.json, extra)["attendance"], "pending");
    assert_eq!(r.json["counts"]["due"], 3);
    let r =
        fx.send(Req::new("PUT", format!("/api/v1/meetings/{id}/attendees")).token(&br).json(json!({"version": 3, "person_ids": [p.zhangsan, p.qianqi]}))).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.first_error(), ("person_ids[1]".to_string(), "not_in_org".to_string()));
    let actions: Vec<String> = fx.audit("meeting", id).await.into_iter().map(|a| a.0).collect();
    assert_eq!(actions, ["create", "attendance", "update"]);
}

/// Why someone was absent (病假 …) is theirs and the officers' (docs/domain.md, Confidentiality):
/// another attendee reads the record without it, the person sees their own, the branch's
/// officers and workers see all.
#[actix_web::test]
async fn absence_reasons_are_shown_to_the_person_and_the_officers_only() {
    let fx = Fx::new().await;
    let p = fx.people;
    let absentee = fx.new_member("缺席者", fx.orgs.b1).await;
    let br = fx.login(users::BR_B1).await;
    let m = held_b1(&fx, &br, "branch_general_meeting").await;
    let id = m["id"].as_i64().unwrap();
    let items: Vec<Value> = m["attendees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| match a["person_id"].as_i64() == Some(absentee) {
            true => json!({"person_id": absentee, "attendance": "absent", "absence_reason": "sick", "absence_note": "住院"}),
            false => json!({"person_id": a["person_id"], "attendance": "present"}),
        })
        .collect();
    assert!(items.iter().any(|i| i["attendance"] == "absent"), "the new member is due");
    fx.send(Req::new("PUT", format!("/api/v1/meetings/{id}/attendance")).token(&br).json(json!({"version": 1, "items": items}))).await.expect(200);

    let read = async |token: &str| {
        let r = fx.send(Req::get(format!("/api/v1/meetings/{id}")).token(token)).await;
        r.expect(200);
        r
    };
    let zs = fx.login(users::MEMBER_ZS).await;
    let as_zs = read(&zs).await;
    let theirs = attendee(&as_zs.json, absentee);
    assert_eq!((theirs["attendance"].as_str(), theirs["absence_reason"].as_str(), theirs["absence_note"].as_str()), (Some("absent"), None, None));
    assert!(!as_zs.text.contains("住院"), "{}", as_zs.text);
    let own = read(&fx.login_person(absentee).await).await;
    assert_eq!(
        (attendee(&own.json, absentee)["absence_reason"].as_str(), attendee(&own.json, absentee)["absence_note"].as_str()),
        (Some("sick"), Some("住院"))
    );
    assert_eq!(attendee(&read(&br).await.json, absentee)["absence_note"], "住院");
    // 张三 made the branch's secretary sees them too.
    {
        use dangjian::schema::org_officers as oo;
        diesel::insert_into(oo::table)
            .values((oo::org_id.eq(fx.orgs.b1), oo::person_id.eq(p.zhangsan), oo::post.eq("secretary")))
            .execute(&mut fx.conn().await)
            .await
            .unwrap();
    }
    assert_eq!(attendee(&read(&zs).await.json, absentee)["absence_reason"], "sick");
}

#[actix_web::test]
async fn archived_records_are_read_only_and_corrected_by_addenda() {
    let fx = Fx::new().await;
    let p = fx.people;
    let br = fx.login(users::BR_B1).await;

    // A planned meeting is not archived.
    let planned = planned_b1(&fx, &br).await;
    let r = fx.send(Req::post(format!("/api/v1/meetings/{}/archive", planned["id"])).token(&br).json(json!({"version": 1}))).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.first_error().0, "status");

    // A held one needs its attendance and minutes.
    let m = held_b1(&fx, &br, "theme_party_day").await;
    let id = m["id"].as_i64().unwrap();
    let r = fx.send(Req::post(format!("/api/v1/meetings/{id}/archive")).token(&br).json(json!({"version": 1}))).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.errors(), ["attendance:attendance_pending", "minutes:required"]);
    // Before archiving, corrections are edits, not addenda.
    let r = fx.send(Req::post(format!("/api/v1/meetings/{id}/addenda")).token(&br).json(json!({"body": "更正"}))).await;
    r.expect_problem(409, "meeting_not_archived");

    let items = json!([{"person_id": p.zhangsan, "attendance": "present"}, {"person_id": p.lisi, "attendance": "absent", "absence_reason": "sick"},
                       {"person_id": p.wangwu, "attendance": "absent", "absence_reason": "other", "absence_note": "家中有事"}]);
    fx.send(Req::new("PUT", format!("/api/v1/meetings/{id}/attendance")).token(&br).json(json!({"version": 1, "items": items}))).await.expect(200);
    let r = fx.send(Req::patch(format!("/api/v1/meetings/{id}")).token(&br).if_match(2).json(json!({"minutes": "学习了……"}))).await;
    r.expect(200);
    let r = fx.send(Req::post(format!("/api/v1/meetings/{id}/archive")).token(&br).if_match(3).json(json!({}))).await;
    r.expect(200);
    assert_eq!(r.json["archived"], true);
    assert!(r.json["archived_at"].is_string());
    assert_eq!(version(&r.json), 4);

    // Any writer is refused by the trigger, and the refusal maps to the same problem as the API's
    // own check (the schema's convention: code, English, Chinese; error.rs knows no feature).
    {
        use dangjian::schema::meetings as m;
        let refused = diesel::update(m::table.find(id)).set(m::topic.eq("绕过接口")).execute(&mut fx.conn().await).await.unwrap_err();
        let problem = dangjian::error::AppError::from(refused);
        assert_eq!((problem.status.as_u16(), problem.code), (409, "meeting_archived"));
        assert_eq!(problem.detail.map(|d| d.1).as_deref(), Some("会议记录已归档，不能修改；如需更正请添加补充说明"));
    }

    // Read-only now: the API answers 409 meeting_archived ...
    fx.send(Req::patch(format!("/api/v1/meetings/{id}")).token(&br).json(json!({"topic": "改", "version": 4}))).await.expect_problem(409, "meeting_archived");
    fx.send(
        Req::new("PUT", format!("/api/v1/meetings/{id}/attendance"))
            .token(&br)
            .json(json!({"version": 4, "items": [{"person_id": p.lisi, "attendance": "present"}]})),
    )
    .await
    .expect_problem(409, "meeting_archived");
    fx.send(Req::new("PUT", format!("/api/v1/meetings/{id}/attendees")).token(&br).json(json!({"version": 4, "person_ids": [p.zhangsan]})))
        .await
        .expect_problem(409, "meeting_archived");
    fx.send(Req::delete(format!("/api/v1/meetings/{id}")).token(&br).if_match(4)).await.expect_problem(409, "meeting_archived");
    fx.send(Req::post(format!("/api/v1/meetings/{id}/archive")).token(&br).json(json!({"version": 4}))).await.expect_problem(409, "meeting_archived");
    // ... and the database refuses any other writer too (the trigger).
    {
        let mut conn = fx.conn().await;
        let e = diesel::sql_query(format!("UPDATE meetings SET topic = 'x' WHERE id = {id}")).execute(&mut conn).await.unwrap_err();
        assert!(e.to_string().contains("archived"), "{e}");
        let e = diesel::sql_query(format!("UPDATE meeting_attendees SET attendance = 'present' WHERE meeting_id = {id}")).execute(&mut conn).await.unwrap_err();
        assert!(e.to_string().contains("archived"), "{e}");
        let e = diesel::sql_query(format!("DELETE FROM meetings WHERE id = {id}")).execute(&mut conn).await.unwrap_err();
        assert!(e.to_string().contains("archived"), "{e}");
    }

    // A later correction is an addendum; the record stays as archived.
    let r = fx.send(Req::post(format!("/api/v1/meetings/{id}/addenda")).token(&br).json(json!({"body": "  "}))).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.first_error().0, "body");
    let r = fx
        .send(
            Req::post(format!("/api/v1/meetings/{id}/addenda"))
                .token(&br)
                .json(json!({"body": "王五实际出席", "changes": {"attendance": [{"person_id": p.wangwu, "attendance": "present"}]}})),
        )
        .await;
    r.expect(201);
    assert_eq!(r.json["body"], "王五实际出席");
    assert_eq!(r.json["created_by_name"], "br_b1");
    let d = fx.send(Req::get(format!("/api/v1/meetings/{id}")).token(&br)).await;
    assert_eq!(d.json["addenda"].as_array().unwrap().len(), 1);
    assert_eq!(attendee(&d.json, p.wangwu)["attendance"], "absent");
    assert_eq!(version(&d.json), 4);

    let actions: Vec<String> = fx.audit("meeting", id).await.into_iter().map(|a| a.0).collect();
    assert_eq!(actions, ["create", "attendance", "update", "archive", "addendum"]);

    // A cancelled meeting is archived as it is.
    let c = create(
        &fx,
        &br,
        json!({"org_id": fx.orgs.b1, "kind": "party_lecture", "topic": "取消的党课", "starts_at": ago(2), "status": "cancelled", "cancel_reason": "停电"}),
    )
    .await;
    fx.send(Req::post(format!("/api/v1/meetings/{}/archive", c["id"])).token(&br).json(json!({"version": 1}))).await.expect(200);
}

#[actix_web::test]
async fn writes_need_the_version_read() {
    let fx = Fx::new().await;
    let br = fx.login(users::BR_B1).await;
    let m = planned_b1(&fx, &br).await;
    let id = m["id"].as_i64().unwrap();
    let path = format!("/api/v1/meetings/{id}");
    fx.send(Req::patch(&path).token(&br).json(json!({"topic": "新主题"}))).await.expect_problem(428, "version_required");
    fx.send(Req::new("PUT", format!("{path}/attendance")).token(&br).json(json!({"items": []}))).await.expect_problem(428, "version_required");
    fx.send(Req::post(format!("{path}/archive")).token(&br).json(json!({}))).await.expect_problem(428, "version_required");
    fx.send(Req::delete(&path).token(&br)).await.expect_problem(428, "version_required");
    fx.send(Req::patch(&path).token(&br).json(json!({"topic": "新主题", "version": 1}))).await.expect(200);
    // Someone else's change in between: stale.
    fx.send(Req::patch(&path).token(&br).if_match(1).json(json!({"topic": "又一个"}))).await.expect_problem(412, "stale_version");
    fx.send(Req::patch(&path).token(&br).json(json!({"topic": "又一个", "version": 1}))).await.expect_problem(409, "stale_version");
    fx.send(Req::new("PUT", format!("{path}/attendees")).token(&br).json(json!({"person_ids": [], "version": 1}))).await.expect_problem(409, "stale_version");
    fx.send(Req::delete(&path).token(&br).if_match(1)).await.expect_problem(412, "stale_version");
    // The current version deletes a planned meeting (its attendees are told); a held one is kept.
    fx.send(Req::delete(&path).token(&br).if_match(2)).await.expect(204);
    fx.send(Req::get(&path).token(&br)).await.expect_problem(404, "not_found");
    assert_eq!(notifications_of(&fx, fx.people.zhangsan).await.last().unwrap().0, "meeting_cancelled");
    let held = held_b1(&fx, &br, "party_lecture").await;
    fx.send(Req::delete(format!("/api/v1/meetings/{}", held["id"])).token(&br).if_match(1)).await.expect_problem(409, "meeting_held");
    // A deleted meeting's attachments go with it, contents included.
    let m = planned_b1(&fx, &br).await;
    {
        use dangjian::schema::{meeting_attachments as a, stored_files as f};
        let mut conn = fx.conn().await;
        dangjian::storage::Storage::Postgres.put(&mut conn, "00ff", b"%PDF-1.4").await.unwrap();
        diesel::insert_into(a::table)
            .values((
                a::meeting_id.eq(m["id"].as_i64().unwrap()),
                a::category.eq("document"),
                a::file_name.eq("a.pdf"),
                a::content_type.eq("application/pdf"),
                a::size_bytes.eq(8i64),
                a::sha256.eq(vec![0u8; 32]),
                a::storage_key.eq("00ff"),
            ))
            .execute(&mut conn)
            .await
            .unwrap();
        drop(conn);
        fx.send(Req::delete(format!("/api/v1/meetings/{}", m["id"])).token(&br).if_match(1)).await.expect(204);
        let left: i64 = f::table.count().get_result(&mut fx.conn().await).await.unwrap();
        assert_eq!(left, 0);
    }
    let actions: Vec<String> = fx.audit("meeting", id).await.into_iter().map(|a| a.0).collect();
    assert_eq!(actions, ["create", "update", "delete"]);
}

#[actix_web::test]
async fn each_role_sees_and_writes_only_its_scope() {
    let fx = Fx::new().await;
    let p = fx.people;
    let br = fx.login(users::BR_B1).await;
    let com2 = fx.login(users::COM_C2).await;
    let zs = fx.login(users::MEMBER_ZS).await;
    let com1 = fx.login(users::COM_C1).await;

    let b1 = held_b1(&fx, &br, "party_lecture").await;
    let b3 = create(&fx, &com2, json!({"org_id": fx.orgs.b3, "kind": "party_lecture", "topic": "学院党课", "starts_at": ago(3), "status": "held"})).await;
    assert_eq!(people(&b3), vec![p.qianqi]);
    // A B1 meeting zhangsan is not due at.
    let other = create(&fx, &com1, json!({"org_id": fx.orgs.b2, "kind": "party_lecture", "topic": "二支部党课", "starts_at": ago(3), "status": "held"})).await;
    let b3_id = b3["id"].as_i64().unwrap();

    // The B1 branch worker cannot read or write B3's meetings, nor plan one there.
    fx.send(Req::get(format!("/api/v1/meetings/{b3_id}")).token(&br)).await.expect_problem(403, "out_of_scope");
    fx.send(Req::patch(format!("/api/v1/meetings/{b3_id}")).token(&br).json(json!({"topic": "x", "version": 1}))).await.expect_problem(403, "out_of_scope");
    fx.send(Req::new("PUT", format!("/api/v1/meetings/{b3_id}/attendance")).token(&br).json(json!({"version": 1, "items": []})))
        .await
        .expect_problem(403, "out_of_scope");
    fx.send(Req::post(format!("/api/v1/meetings/{b3_id}/archive")).token(&br).json(json!({"version": 1}))).await.expect_problem(403, "out_of_scope");
    fx.send(Req::delete(format!("/api/v1/meetings/{b3_id}")).token(&br).if_match(1)).await.expect_problem(403, "out_of_scope");
    fx.send(
        Req::post("/api/v1/meetings")
            .token(&br)
            .json(json!({"org_id": fx.orgs.b3, "kind": "party_lecture", "topic": "x", "starts_at": ago(1), "status": "held"})),
    )
    .await
    .expect_problem(403, "out_of_scope");
    fx.send(Req::get(format!("/api/v1/meetings/attendee-candidates?org_id={}&kind=party_lecture", fx.orgs.b3)).token(&br))
        .await
        .expect_problem(403, "out_of_scope");

    // The member sees the B1 meeting they are due at (and their attendance), not B3's or B2's.
    let r = fx.send(Req::get(format!("/api/v1/meetings/{}", b1["id"])).token(&zs)).await;
    r.expect(200);
    assert_eq!(attendee(&r.json, p.zhangsan)["attendance"], "pending");
    fx.send(Req::get(format!("/api/v1/meetings/{b3_id}")).token(&zs)).await.expect_problem(403, "out_of_scope");
    fx.send(Req::get(format!("/api/v1/meetings/{}", other["id"])).token(&zs)).await.expect_problem(403, "out_of_scope");
    // Members may not write.
    fx.send(Req::patch(format!("/api/v1/meetings/{}", b1["id"])).token(&zs).json(json!({"topic": "x", "version": 1})))
        .await
        .expect_problem(403, "role_not_allowed");

    // Lists hold only what is in scope.
    let ids = |v: &Value| -> Vec<i64> { v["items"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect() };
    let r = fx.send(Req::get("/api/v1/meetings").token(&br)).await;
    r.expect(200);
    assert_eq!(ids(&r.json), vec![b1["id"].as_i64().unwrap()]);
    assert_eq!(r.json["items"][0]["due"], 3);
    assert_eq!(ids(&fx.send(Req::get("/api/v1/meetings").token(&zs)).await.json), vec![b1["id"].as_i64().unwrap()]);
    assert_eq!(ids(&fx.send(Req::get("/api/v1/meetings").token(&com2)).await.json), vec![b3_id]);
    let mut all = ids(&fx.send(Req::get("/api/v1/meetings").token(&com1)).await.json);
    all.sort_unstable();
    assert_eq!(all, {
        let mut v = vec![b1["id"].as_i64().unwrap(), other["id"].as_i64().unwrap()];
        v.sort_unstable();
        v
    });
    fx.send(Req::get(format!("/api/v1/meetings?org_id={}", fx.orgs.b3)).token(&br)).await.expect_problem(403, "out_of_scope");
    // Filters.
    let admin = fx.login(users::ADMIN).await;
    assert_eq!(fx.send(Req::get("/api/v1/meetings").token(&admin)).await.json["total"], 3);
    assert_eq!(ids(&fx.send(Req::get(format!("/api/v1/meetings?org_id={}", fx.orgs.c2)).token(&admin)).await.json), vec![b3_id]);
    assert_eq!(fx.send(Req::get("/api/v1/meetings?q=%E5%AD%A6%E9%99%A2").token(&admin)).await.json["total"], 1); // 学院
    assert_eq!(fx.send(Req::get("/api/v1/meetings?status=planned").token(&admin)).await.json["total"], 0);
    assert_eq!(fx.send(Req::get("/api/v1/meetings?archived=true").token(&admin)).await.json["total"], 0);
    assert_eq!(fx.send(Req::get("/api/v1/meetings?kind=party_lecture&page_size=2").token(&admin)).await.json["items"].as_array().unwrap().len(), 2);
    let today = common::clock().today();
    let week_ago = today - Duration::days(8);
    assert_eq!(fx.send(Req::get(format!("/api/v1/meetings?from={}&to={today}", today - Duration::days(4))).token(&admin)).await.json["total"], 2);
    assert_eq!(fx.send(Req::get(format!("/api/v1/meetings?to={week_ago}")).token(&admin)).await.json["total"], 0);
    let r = fx.send(Req::get(format!("/api/v1/meetings?from={today}&to={week_ago}")).token(&admin)).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.first_error().0, "to");
}

#[actix_web::test]
async fn study_hours_add_up_towards_32_or_56_for_officers() {
    let fx = Fx::new().await;
    let p = fx.people;
    let br = fx.login(users::BR_B1).await;
    let zs = fx.login(users::MEMBER_ZS).await;
    // Held last week: 党课 (2 h by default) attended; a theme day with 1.5 h attended; a 党课 missed.
    let a = held_b1(&fx, &br, "party_lecture").await;
    let b = create(
        &fx,
        &br,
        json!({"org_id": fx.orgs.b1, "kind": "theme_party_day", "topic": "主题党日", "starts_at": ago(8), "status": "held", "study_hours": 1.5}),
    )
    .await;
    let c = held_b1(&fx, &br, "party_lecture").await;
    // A planned one counts nothing yet.
    planned_b1(&fx, &br).await;
    for (m, att) in
        [(&a, json!({"attendance": "present"})), (&b, json!({"attendance": "present"})), (&c, json!({"attendance": "absent", "absence_reason": "sick"}))]
    {
        let mut item = att.clone();
        item["person_id"] = json!(p.zhangsan);
        fx.send(Req::new("PUT", format!("/api/v1/meetings/{}/attendance", m["id"])).token(&br).json(json!({"version": 1, "items": [item]}))).await.expect(200);
    }
    let year = (common::clock().now() - Duration::days(8)).with_timezone(&common::clock().time_zone()).year();
    let r = fx.send(Req::get(format!("/api/v1/meetings/mine?year={year}")).token(&zs)).await;
    r.expect(200);
    // 党员教育管理工作条例 (2019): 32 hours a year for a member.
    assert_eq!(r.json["required_hours"], 32);
    assert_eq!(r.json["is_officer"], false);
    let items = r.json["items"].as_array().unwrap();
    let this_year: Vec<&Value> = items.iter().collect();
    assert!(this_year.len() >= 3);
    let sick = items.iter().find(|i| i["id"] == c["id"]).unwrap();
    assert_eq!((sick["attendance"].as_str(), sick["absence_reason"].as_str()), (Some("absent"), Some("sick")));
    let expect = if (common::clock().now() - Duration::days(7)).with_timezone(&common::clock().time_zone()).year() == year { 3.5 } else { 1.5 };
    assert_eq!(r.json["study_hours"], json!(expect));

    // A branch secretary (a current officer) owes 56.
    {
        use dangjian::schema::org_officers as o;
        diesel::insert_into(o::table)
            .values((o::org_id.eq(fx.orgs.b1), o::person_id.eq(p.zhangsan), o::post.eq("secretary")))
            .execute(&mut fx.conn().await)
            .await
            .unwrap();
    }
    let r = fx.send(Req::get(format!("/api/v1/meetings/mine?year={year}")).token(&zs)).await;
    assert_eq!((r.json["required_hours"].as_i64(), r.json["is_officer"].as_bool()), (Some(56), Some(true)));
    // Another year: nothing.
    let r = fx.send(Req::get(format!("/api/v1/meetings/mine?year={}", year - 5)).token(&zs)).await;
    assert_eq!((r.json["study_hours"].as_f64(), r.json["items"].as_array().unwrap().len()), (Some(0.0), 0));
    // Only members have "mine".
    fx.send(Req::get("/api/v1/meetings/mine").token(&br)).await.expect_problem(403, "role_not_allowed");

    // The committee meeting is for the committee: the officers are its candidates.
    let c = fx.send(Req::get(format!("/api/v1/meetings/attendee-candidates?org_id={}&kind=branch_committee_meeting", fx.orgs.b1)).token(&br)).await;
    c.expect(200);
    assert_eq!(c.json, json!([{"person_id": p.zhangsan, "name": "张三", "category": "full", "has_vote": true, "is_officer": true, "post": "secretary"}]));
    let m = create(&fx, &br, json!({"org_id": fx.orgs.b1, "kind": "branch_committee_meeting", "topic": "支委会", "starts_at": ago(1), "status": "held"})).await;
    assert_eq!(people(&m), vec![p.zhangsan]);
}

#[actix_web::test]
async fn concurrent_senders_never_claim_the_same_notification() {
    let fx = Fx::new().await;
    let p = fx.people;
    {
        let mut conn = fx.conn().await;
        let n = dangjian::notifications::notify(
            &mut conn,
            &[p.zhangsan, p.lisi, p.wangwu, p.zhaoliu, p.qianqi, p.zhangsan],
            dangjian::notifications::Notice { kind: "test", title: "测试", body: "", link: None, entity: None, entity_id: None },
        )
        .await
        .unwrap();
        assert_eq!(n, 5, "one per person");
    }
    // Two senders at once, each holding its claim (the rows stay locked) while it "sends".
    let claim = |limit: i64| {
        let pool = fx.shared.state.pool.clone();
        async move {
            let mut conn = pool.get().await.unwrap();
            conn.transaction::<_, dangjian::error::AppError, _>(async move |c| {
                let items = dangjian::notifications::claim_unsent(c, limit).await?;
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
                dangjian::notifications::mark_sent(c, &ids).await?;
                Ok(ids)
            })
            .await
            .unwrap()
        }
    };
    let (a, b) = tokio::join!(claim(3), claim(3));
    assert!(a.iter().all(|id| !b.contains(id)), "both claimed some of {a:?} / {b:?}");
    assert_eq!(a.len() + b.len(), 5, "{a:?} {b:?}");
    // All sent: nothing left to claim.
    let mut conn = fx.conn().await;
    assert!(dangjian::notifications::claim_unsent(&mut conn, 10).await.unwrap().is_empty());
    use dangjian::schema::notifications as n;
    let attempts: Vec<i32> = n::table.select(n::attempts).load(&mut conn).await.unwrap();
    assert!(attempts.iter().all(|a| *a == 1));
}

/// A branch of 12,000 members (the browser tests' import makes one): planning a meeting for all of
/// them writes their attendee rows and notifications in bound arrays, not one VALUES row each,
/// which would pass PostgreSQL's 65,535 parameters per statement.
#[actix_rt::test]
async fn a_meeting_of_a_very_large_branch_is_planned_and_announced() {
    let fx = Fx::new().await;
    let branch = fx.new_org("branch", fx.orgs.c1).await;
    diesel::sql_query(
        "WITH p AS (INSERT INTO people (name, name_initials, name_pinyin, gender) \
           SELECT '党员' || g, 'dy', 'dangyuan', 'male' FROM generate_series(1, 12000) g RETURNING id) \
         INSERT INTO members (person_id, org_id, category, joined_at, full_member_at, status) \
           SELECT id, $1, 'full', DATE '2010-01-01', DATE '2011-01-01', 'normal' FROM p",
    )
    .bind::<diesel::sql_types::BigInt, _>(branch)
    .execute(&mut fx.conn().await)
    .await
    .unwrap();
    let token = fx.login(users::ADMIN).await;
    let m =
        create(&fx, &token, json!({"org_id": branch, "kind": "branch_general_meeting", "topic": "全体党员大会", "starts_at": ahead(3), "status": "planned"}))
            .await;
    assert_eq!(m["counts"]["due"], json!(12000));
    use dangjian::schema::notifications as n;
    let sent: i64 = n::table.filter(n::entity_id.eq(m["id"].as_i64().unwrap())).count().get_result(&mut fx.conn().await).await.unwrap();
    assert_eq!(sent, 12000);

    // 4,000 of them recorded present in one request (within the 256 KB body limit), one statement.
    let items: Vec<Value> = people(&m).iter().take(4000).map(|p| json!({"person_id": p, "attendance": "present"})).collect();
    let r =
        fx.send(Req::new("PUT", format!("/api/v1/meetings/{}/attendance", m["id"])).token(&token).json(json!({"version": version(&m), "items": items}))).await;
    r.expect(200);
    assert_eq!((r.json["counts"]["present"].as_i64(), r.json["counts"]["pending"].as_i64()), (Some(4000), Some(8000)));
}
