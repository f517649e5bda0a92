//! The attributes the statistics group by, copied onto `member_history` (migration
//! 2026-11-30-053000): every history row holds its person's CURRENT gender, birth date, ethnicity,
//! education, job category and the membership's dates (DOMAIN.md, Party statistics: not
//! historized), whoever writes people or members: the API, the sync (the bulk path imports share),
//! plain SQL; across moves (several history rows per person).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fx, Req, users};
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use serde_json::{Value, json};

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn scalar(fx: &Fx, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<N>(&mut fx.conn().await).await.unwrap().n
}

/// History rows whose attributes differ from their person's and membership's.
async fn mismatches(fx: &Fx) -> i64 {
    scalar(
        fx,
        "SELECT count(*) AS n FROM member_history h JOIN members m ON m.person_id = h.person_id JOIN people p ON p.id = h.person_id
          WHERE (h.gender, h.birth_date, h.ethnicity, h.education, h.job_category, h.joined_at, h.full_member_at)
                IS DISTINCT FROM (p.gender, p.birth_date, p.ethnicity, p.education, p.job_category, m.joined_at, m.full_member_at)",
    )
    .await
}

fn sync_member(ext: &str, org_code: &str, education: &str, birth: &str, joined: &str, full: &str) -> Value {
    json!({
        "external_id": ext, "name": format!("同步{ext}"), "gender": "female", "birth_date": birth, "ethnicity": "回族",
        "education": education, "job_category": "工人", "category": "full", "org_code": org_code,
        "joined_at": joined, "full_member_at": full
    })
}

#[actix_web::test]
async fn history_attributes_follow_every_writer() {
    let fx = Fx::new().await;
    assert!(scalar(&fx, "SELECT count(*) AS n FROM member_history").await >= 5);
    assert_eq!(mismatches(&fx).await, 0, "fixture members (INSERT)");

    // API: a move (a second history row), then corrections of the person and the membership,
    // which reach both rows.
    let com = fx.login(users::COM_C1).await;
    let id = fx.new_member("史料", fx.orgs.b1).await;
    let url = format!("/api/v1/members/{id}");
    fx.send(Req::patch(&url).token(&com).if_match(1).json(json!({"org_id": fx.orgs.b2}))).await.expect(200);
    let rows = scalar(&fx, &format!("SELECT count(*) AS n FROM member_history WHERE person_id = {id}")).await;
    assert_eq!(rows, 2);
    let body = json!({"education": "研究生", "birth_date": "1979-02-03", "joined_at": "2011-05-06", "job_category": "专业技术人员"});
    fx.send(Req::patch(&url).token(&com).if_match(2).json(body)).await.expect(200);
    assert_eq!(mismatches(&fx).await, 0, "after PATCH");
    let corrected = scalar(
        &fx,
        &format!(
            "SELECT count(*) AS n FROM member_history WHERE person_id = {id} AND education = '研究生'
                AND birth_date = '1979-02-03' AND joined_at = '2011-05-06' AND job_category = '专业技术人员'"
        ),
    )
    .await;
    assert_eq!(corrected, 2, "both history rows of the moved member");

    // A change of none of the attributes leaves the history rows alone (no rewrite of the
    // person's rows on every phone number).
    let before = scalar(&fx, &format!("SELECT sum(xmin::text::int8)::int8 AS n FROM member_history WHERE person_id = {id}")).await;
    fx.send(Req::patch(&url).token(&com).if_match(3).json(json!({"post": "科员", "phone": "13600136001"}))).await.expect(200);
    let after = scalar(&fx, &format!("SELECT sum(xmin::text::int8)::int8 AS n FROM member_history WHERE person_id = {id}")).await;
    assert_eq!(before, after);

    // Sync (the set-based bulk path of imports too): new members, then the same people with other
    // attributes and one of them moved.
    let admin = fx.login(users::ADMIN).await;
    let put = |body: Value| Req::new("PUT", "/api/v1/sync/members").token(&admin).json(body);
    let batch = json!({"items": [
        sync_member("HA-1", "B1", "大学本科", "1985-01-01", "2012-01-01", "2013-01-01"),
        sync_member("HA-2", "B2", "大学专科", "1990-06-01", "2014-01-01", "2015-01-01"),
    ]});
    fx.send(put(batch)).await.expect(200);
    assert_eq!(mismatches(&fx).await, 0, "after sync creates");
    let batch = json!({"items": [
        sync_member("HA-1", "B1", "研究生", "1985-01-02", "2012-02-01", "2013-02-01"),
        sync_member("HA-2", "B1-1", "中专", "1990-06-02", "2014-02-01", "2015-02-01"),
    ]});
    let r = fx.send(put(batch)).await;
    r.expect(200);
    assert_eq!(r.json["updated"].as_array().unwrap().len(), 2);
    assert_eq!(mismatches(&fx).await, 0, "after sync updates and a move");
    let moved = scalar(
        &fx,
        "SELECT count(*) AS n FROM member_history h JOIN people p ON p.id = h.person_id
          WHERE p.external_id = 'HA-2' AND h.education = '中专' AND h.joined_at = '2014-02-01'",
    )
    .await;
    assert_eq!(moved, 2, "the closed row and the open one");

    // Plain SQL over several people and members at once, and a status change (a new row).
    fx.conn()
        .await
        .batch_execute(
            "UPDATE people SET ethnicity = NULL, gender = 'female' WHERE id IN (SELECT person_id FROM members);
             UPDATE members SET full_member_at = joined_at + 400 WHERE category = 'full';
             UPDATE members SET status = 'suspended' WHERE person_id = (SELECT id FROM people WHERE external_id = 'HA-1');",
        )
        .await
        .unwrap();
    assert_eq!(mismatches(&fx).await, 0, "after SQL updates");
    assert_eq!(scalar(&fx, "SELECT count(*) AS n FROM member_history WHERE ethnicity IS NOT NULL OR gender <> 'female'").await, 0);
}
