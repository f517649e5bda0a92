//! GET /stats/reminders (分析提醒): terms overdue and ending (docs/domain.md, Organizations: renewal is
//! due when the term ends), branches under 3 full members, probations ending (one year), and
//! member records lacking fields.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::{Days, Months};
use common::{Fx, Req, users};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::Value;

fn of_kind<'a>(r: &'a Value, kind: &str) -> Vec<&'a Value> {
    r["items"].as_array().unwrap().iter().filter(|i| i["kind"] == kind).collect()
}

#[actix_web::test]
async fn reminders_of_a_subtree() {
    let fx = Fx::new().await;
    let today = common::clock().today();
    let overdue = today.checked_sub_days(Days::new(10)).unwrap();
    let ending = today.checked_add_months(Months::new(5)).unwrap();
    let far = today.checked_add_months(Months::new(7)).unwrap();
    // 李四 (B1, probationary) was admitted so that her year ends in 20 days.
    let admitted = today.checked_add_days(Days::new(20)).unwrap().checked_sub_months(Months::new(12)).unwrap();
    let due = admitted.checked_add_months(Months::new(12)).unwrap();
    {
        use dangjian::schema::{members as m, orgs as o, people as p};
        let mut conn = fx.conn().await;
        let term = |id: i64, end: chrono::NaiveDate| {
            diesel::update(o::table.find(id)).set((o::term_start.eq(end.checked_sub_months(Months::new(36)).unwrap()), o::term_end.eq(end)))
        };
        term(fx.orgs.b2, overdue).execute(&mut conn).await.unwrap();
        term(fx.orgs.g1, ending).execute(&mut conn).await.unwrap();
        term(fx.orgs.b1, far).execute(&mut conn).await.unwrap();
        term(fx.orgs.b3, overdue).execute(&mut conn).await.unwrap();
        diesel::update(m::table.find(fx.people.lisi)).set(m::joined_at.eq(admitted)).execute(&mut conn).await.unwrap();
        diesel::update(p::table.find(fx.people.zhangsan)).set(p::education.eq(None::<String>)).execute(&mut conn).await.unwrap();
    }
    let com = fx.login(users::COM_C1).await;
    let r = fx.send(Req::get(format!("/api/v1/stats/reminders?org_id={}", fx.orgs.c1)).token(&com)).await;
    r.expect(200);
    let j = &r.json;
    assert_eq!(j["org_id"], fx.orgs.c1);
    assert_eq!(j["as_of"], today.to_string());
    // B3's overdue term is in C2: not here. B1's term ends in 7 months: not yet.
    assert_eq!(j["counts"], serde_json::json!({"term_overdue": 1, "term_ending": 1, "below_three_full": 2, "probation_ending": 1, "missing_data": 2}));
    let t = of_kind(j, "term_overdue");
    assert_eq!(
        (t[0]["org_id"].as_i64(), t[0]["severity"].as_str(), t[0]["due_on"].as_str()),
        (Some(fx.orgs.b2), Some("danger"), Some(overdue.to_string().as_str()))
    );
    let t = of_kind(j, "term_ending");
    assert_eq!((t[0]["org_id"].as_i64(), t[0]["severity"].as_str()), (Some(fx.orgs.g1), Some("warning")));
    // B1: 张三 and 王五 (in its party group) are full, 李四 probationary; B2: 赵六 is suspended.
    let b = of_kind(j, "below_three_full");
    assert_eq!(b.iter().map(|i| i["org_id"].as_i64().unwrap()).collect::<Vec<_>>(), [fx.orgs.b2, fx.orgs.b1]);
    assert!(b[1]["detail_zh"].as_str().unwrap().contains("正式党员 2 名"), "{}", b[1]);
    let p = of_kind(j, "probation_ending");
    assert_eq!((p[0]["person_id"].as_i64(), p[0]["person_name"].as_str()), (Some(fx.people.lisi), Some("李四")));
    assert_eq!((p[0]["due_on"].as_str(), p[0]["severity"].as_str()), (Some(due.to_string().as_str()), Some("warning")));
    // 张三 lacks education; 王五 has no phone. 赵六 (suspended) is not counted.
    let m = of_kind(j, "missing_data");
    let mut lacking: Vec<(i64, String)> = m.iter().map(|i| (i["person_id"].as_i64().unwrap(), i["detail_en"].as_str().unwrap().to_string())).collect();
    lacking.sort();
    let mut expected = vec![(fx.people.zhangsan, "lacks education".to_string()), (fx.people.wangwu, "lacks phone".to_string())];
    expected.sort();
    assert_eq!(lacking, expected);
    assert!(m.iter().any(|i| i["detail_zh"] == "缺少学历"));
    // The most urgent first.
    let severities: Vec<&str> = j["items"].as_array().unwrap().iter().map(|i| i["severity"].as_str().unwrap()).collect();
    let mut sorted = severities.clone();
    sorted.sort_by_key(|s| ["danger", "warning", "info"].iter().position(|x| x == s));
    assert_eq!(severities, sorted);

    // A probation passed without full membership is danger.
    {
        use dangjian::schema::members as mm;
        let passed = today.checked_sub_months(Months::new(13)).unwrap();
        diesel::update(mm::table.find(fx.people.lisi)).set(mm::joined_at.eq(passed)).execute(&mut fx.conn().await).await.unwrap();
    }
    let br = fx.login(users::BR_B1).await;
    let r = fx.send(Req::get("/api/v1/stats/reminders").token(&br)).await;
    r.expect(200);
    assert_eq!(r.json["org_id"], fx.orgs.b1, "the branch worker's own branch by default");
    assert_eq!(r.json["counts"]["term_overdue"], 0);
    assert_eq!(r.json["counts"]["below_three_full"], 1);
    assert_eq!(of_kind(&r.json, "probation_ending")[0]["severity"], "danger");
    // Scope.
    fx.send(Req::get(format!("/api/v1/stats/reminders?org_id={}", fx.orgs.b3)).token(&br)).await.expect_problem(403, "out_of_scope");
    let member = fx.login(users::MEMBER_ZS).await;
    fx.send(Req::get("/api/v1/stats/reminders").token(&member)).await.expect_problem(403, "role_not_allowed");
    let r = fx.send(Req::get("/api/v1/stats/reminders?org_id=x").token(&br)).await;
    assert_eq!(r.first_error().0, "org_id");
}

/// Counts stay exact when the items are capped at 200.
#[actix_web::test]
async fn counts_are_exact_beyond_the_cap() {
    let fx = Fx::new().await;
    diesel::sql_query(
        "WITH p AS (INSERT INTO people (name, name_initials, name_pinyin, gender) SELECT '成员' || g, 'cy', 'chengyuan', 'male' FROM generate_series(1, 250) g RETURNING id) \
         INSERT INTO members (person_id, org_id, category, joined_at, full_member_at) SELECT id, $1, 'full', DATE '2005-01-01', DATE '2006-01-01' FROM p",
    )
    .bind::<diesel::sql_types::BigInt, _>(fx.orgs.b3)
    .execute(&mut fx.conn().await)
    .await
    .unwrap();
    let admin = fx.login(users::ADMIN).await;
    let r = fx.send(Req::get(format!("/api/v1/stats/reminders?org_id={}", fx.orgs.c2)).token(&admin)).await;
    r.expect(200);
    // 钱七 has no phone either.
    assert_eq!(r.json["counts"]["missing_data"], 251);
    assert_eq!(r.json["items"].as_array().unwrap().len(), 200);
}
