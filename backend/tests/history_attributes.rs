//! The attributes the statistics group by, copied onto `member_history` (migration
//! 2026-11-30-053000), whoever writes people or members: the API, the sync (the bulk path imports
//! share), plain SQL; across moves (several history rows per person). The invariant: the OPEN row
//! of every member equals people/members; closed rows keep the education and job category of
//! their time (historized like a move, issue 5: past figures do not change); the facts (gender,
//! birth date, ethnicity, the membership's dates) equal people/members on every row (a
//! correction, docs/domain.md, Party statistics).
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

/// Open history rows whose attributes differ from their person's and membership's, members
/// without exactly one open row, and rows of any date whose facts differ.
async fn mismatches(fx: &Fx) -> i64 {
    let open = scalar(
        fx,
        "SELECT count(*) AS n FROM members m JOIN people p ON p.id = m.person_id
           LEFT JOIN member_history h ON h.person_id = m.person_id AND h.valid_to IS NULL
          WHERE h.id IS NULL
             OR (h.gender, h.birth_date, h.ethnicity, h.education, h.job_category, h.joined_at, h.full_member_at)
                IS DISTINCT FROM (p.gender, p.birth_date, p.ethnicity, p.education, p.job_category, m.joined_at, m.full_member_at)",
    )
    .await;
    let facts = scalar(
        fx,
        "SELECT count(*) AS n FROM member_history h JOIN members m ON m.person_id = h.person_id JOIN people p ON p.id = h.person_id
          WHERE (h.gender, h.birth_date, h.ethnicity, h.joined_at, h.full_member_at)
                IS DISTINCT FROM (p.gender, p.birth_date, p.ethnicity, m.joined_at, m.full_member_at)",
    )
    .await;
    open + facts
}

/// The person's rows as (valid_from, valid_to, education, job_category), oldest first.
async fn rows_of(fx: &Fx, person: i64) -> Vec<String> {
    #[derive(QueryableByName)]
    struct R {
        #[diesel(sql_type = diesel::sql_types::Text)]
        r: String,
    }
    diesel::sql_query(format!(
        "SELECT concat_ws('|', valid_from, coalesce(valid_to::text, 'open'), education, job_category) AS r
           FROM member_history WHERE person_id = {person} ORDER BY valid_from, id"
    ))
    .load::<R>(&mut fx.conn().await)
    .await
    .unwrap()
    .into_iter()
    .map(|r| r.r)
    .collect()
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
    let corrected =
        scalar(&fx, &format!("SELECT count(*) AS n FROM member_history WHERE person_id = {id} AND birth_date = '1979-02-03' AND joined_at = '2011-05-06'"))
            .await;
    assert_eq!(corrected, 2, "facts: both history rows of the moved member");
    // Education and job category are dated: the move opened a row today, which takes the new
    // values in place (same day); the closed row keeps those of its time.
    let today = common::clock().today();
    assert_eq!(rows_of(&fx, id).await, [format!("2012-01-01|{today}|大学本科|专业技术人员"), format!("{today}|open|研究生|专业技术人员")]);

    // A change dated in the past (`dangjian.effective_on`, as for a move) splits the open row
    // there; the same change again writes nothing.
    let dated = format!("BEGIN; SET LOCAL dangjian.effective_on = '2020-03-01'; UPDATE people SET job_category = '工人' WHERE id = {id}; COMMIT;");
    let solo = fx.new_member("学历", fx.orgs.b1).await;
    fx.conn().await.batch_execute(&dated.replace(&format!("id = {id}"), &format!("id = {solo}"))).await.unwrap();
    assert_eq!(rows_of(&fx, solo).await, ["2012-01-01|2020-03-01|大学本科|专业技术人员", "2020-03-01|open|大学本科|工人"]);
    fx.conn().await.batch_execute(&dated.replace(&format!("id = {id}"), &format!("id = {solo}"))).await.unwrap();
    assert_eq!(rows_of(&fx, solo).await.len(), 2);
    assert_eq!(mismatches(&fx).await, 0, "after a dated change");

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
    assert_eq!(moved, 1, "the open row; the closed one keeps 大学专科");
    let closed = scalar(
        &fx,
        "SELECT count(*) AS n FROM member_history h JOIN people p ON p.id = h.person_id
          WHERE p.external_id = 'HA-2' AND h.education = '大学专科' AND h.valid_to IS NOT NULL AND h.joined_at = '2014-02-01'",
    )
    .await;
    assert_eq!(closed, 1);

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
