//! Statistics (docs/domain.md, Party statistics): the structure of a subtree on a date, checked against
//! independent SQL (daterange containment, `age()`, explicit band CASEs) on a generated population;
//! dates before and after a move and a status change; stable past figures (dated education and job
//! category, corrected birth dates); band sets by date;
//! role scope; parameters named in problems; trend and treemap items.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};
use common::{Fx, Req, d, users};
use dangjian::stats::bands::BandSets;
use diesel::sql_types::{BigInt, Date, Int8, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use serde_json::{Value, json};

fn today() -> NaiveDate {
    common::clock().today()
}

async fn structure(fx: &Fx, token: &str, org: i64, as_of: &str) -> Value {
    let r = fx.send(Req::get(format!("/api/v1/stats/structure?org_id={org}&as_of={as_of}")).token(token)).await;
    r.expect(200);
    r.json
}

/// A dimension as key → count, without the empty buckets.
fn dim(s: &Value, name: &str) -> BTreeMap<String, i64> {
    s["dimensions"][name]
        .as_array()
        .unwrap_or_else(|| panic!("no dimension {name}"))
        .iter()
        .map(|b| (b["key"].as_str().unwrap().to_string(), b["count"].as_i64().unwrap()))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn bucket<'a>(s: &'a Value, name: &str, key: &str) -> &'a Value {
    s["dimensions"][name].as_array().unwrap().iter().find(|b| b["key"] == key).unwrap_or_else(|| panic!("no bucket {name}.{key}"))
}

#[derive(QueryableByName)]
struct KeyCount {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Independent count of one dimension: the memberships whose dated range contains the date,
/// grouped by `key_sql` (over `h` history, `p` people, `m` members, `$2` the date).
async fn independent(fx: &Fx, org: i64, as_of: NaiveDate, key_sql: &str) -> BTreeMap<String, i64> {
    let sql = format!(
        "SELECT ({key_sql})::text AS key, count(*) AS n
           FROM member_history h JOIN people p ON p.id = h.person_id JOIN members m ON m.person_id = h.person_id
          WHERE h.status = 'normal' AND daterange(h.valid_from, h.valid_to) @> $2
            AND EXISTS (SELECT 1 FROM org_closure c WHERE c.ancestor_id = $1 AND c.descendant_id = h.org_id)
          GROUP BY 1"
    );
    let rows: Vec<KeyCount> = sql_query(sql).bind::<Int8, _>(org).bind::<Date, _>(as_of).load(&mut fx.conn().await).await.unwrap();
    rows.into_iter().map(|r| (r.key, r.n)).collect()
}

const AGE_2023: &str = "CASE WHEN p.birth_date IS NULL THEN 'unknown' ELSE (SELECT CASE WHEN a <= 30 THEN 'le30' WHEN a <= 35 THEN '31_35'
    WHEN a <= 40 THEN '36_40' WHEN a <= 45 THEN '41_45' WHEN a <= 50 THEN '46_50' WHEN a <= 55 THEN '51_55' WHEN a <= 60 THEN '56_60'
    ELSE 'ge61' END FROM (SELECT date_part('year', age($2::timestamp, p.birth_date::timestamp)) AS a) x) END";
const PERIOD_2023: &str = "CASE WHEN m.joined_at < '1949-10-01' THEN 'before_1949_10' WHEN m.joined_at <= '1978-12-31' THEN '1949_10_1978_12'
    WHEN m.joined_at <= '2012-10-31' THEN '1979_01_2012_10' ELSE 'from_2012_11' END";
const STANDING: &str = "CASE WHEN h.category = 'probationary' THEN 'probationary' WHEN m.full_member_at IS NULL OR m.full_member_at > $2 THEN 'unknown'
    ELSE (SELECT CASE WHEN y < 10 THEN 'lt10' WHEN y < 20 THEN '10_19' WHEN y < 30 THEN '20_29' WHEN y < 40 THEN '30_39' WHEN y < 50 THEN '40_49'
    ELSE 'ge50' END FROM (SELECT date_part('year', age($2::timestamp, m.full_member_at::timestamp)) AS y) x) END";

/// 400 members with known, varied attributes in a new branch B4 (and its group) under C2:
/// both genders, every education and some unknown, minorities, ages from 4 to 86, admissions
/// from 1945 on, probationary ones, suspended ones.
async fn populate(fx: &Fx) -> (i64, i64) {
    let b4 = fx.new_org("branch", fx.orgs.c2).await;
    let b4_1 = fx.new_org("group", b4).await;
    let sql = format!(
        "WITH src AS (
             SELECT i, CASE WHEN i % 3 = 0 THEN 'female' ELSE 'male' END AS gender,
                    CASE WHEN i % 17 = 0 THEN NULL ELSE DATE '1940-01-01' + (i * 97 % 30000) END AS birth_date,
                    (ARRAY['汉族', '汉族', '汉族', '蒙古族', '回族', NULL])[1 + i % 6] AS ethnicity,
                    (ARRAY['研究生', '大学本科', '大学专科', '中专', '高中', '初中及以下', NULL, '大学本科'])[1 + i % 8] AS education,
                    (ARRAY['工人', '专业技术人员', '学生', '离退休人员', NULL, '其他', '农牧渔民'])[1 + i % 7] AS job_category,
                    least(DATE '1945-01-01' + (i * 131 % 30000), current_date - 400) AS joined_at
               FROM generate_series(1, 400) i),
         p AS (
             INSERT INTO people (name, name_initials, name_pinyin, gender, birth_date, ethnicity, education, job_category, external_id)
             SELECT '统计' || i, 'tj', 'tongji', gender, birth_date, ethnicity, education, job_category, 'stats-' || i FROM src
             RETURNING id, external_id)
         INSERT INTO members (person_id, org_id, category, joined_at, full_member_at, status)
         SELECT p.id, CASE WHEN s.i % 2 = 0 THEN {b4} ELSE {b4_1} END,
                CASE WHEN s.i % 7 = 0 THEN 'probationary' ELSE 'full' END, s.joined_at,
                CASE WHEN s.i % 7 = 0 THEN NULL ELSE s.joined_at + 365 END,
                CASE WHEN s.i % 11 = 0 THEN 'suspended' ELSE 'normal' END
           FROM p JOIN src s ON p.external_id = 'stats-' || s.i"
    );
    fx.conn().await.batch_execute(&sql).await.unwrap();
    (b4, b4_1)
}

#[actix_web::test]
async fn structure_matches_independent_counts_on_generated_members() {
    let fx = Fx::new().await;
    let (b4, _) = populate(&fx).await;
    let admin = fx.login(users::ADMIN).await;
    let as_of = today();
    for org in [fx.orgs.c2, b4, fx.orgs.c1] {
        let s = structure(&fx, &admin, org, &as_of.to_string()).await;
        let total = s["total"].as_i64().unwrap();
        let expected_total: i64 = independent(&fx, org, as_of, "'all'").await.values().sum();
        assert_eq!(total, expected_total, "total of {org}");
        assert_eq!(s["full"].as_i64().unwrap() + s["probationary"].as_i64().unwrap(), total);

        let education = "coalesce((SELECT code FROM code_lists WHERE list = 'education' AND name = p.education), 'unknown')";
        let job = "coalesce((SELECT code FROM code_lists WHERE list = 'job_category' AND name = p.job_category), 'unknown')";
        let ethnicity = "CASE WHEN p.ethnicity IS NULL THEN 'unknown' WHEN p.ethnicity = '汉族' THEN 'han' ELSE 'minority' END";
        for (name, sql) in [
            ("gender", "p.gender"),
            ("category", "h.category"),
            ("ethnicity", ethnicity),
            ("age_band", AGE_2023),
            ("education", education),
            ("job_category", job),
            ("joined_period", PERIOD_2023),
            ("party_standing", STANDING),
        ] {
            assert_eq!(dim(&s, name), independent(&fx, org, as_of, sql).await, "{name} of org {org}");
            let sum: i64 = s["dimensions"][name].as_array().unwrap().iter().map(|b| b["count"].as_i64().unwrap()).sum();
            assert_eq!(sum, total, "{name} adds up to the total");
        }
        let college: i64 =
            independent(&fx, org, as_of, "coalesce(p.education IN ('研究生', '大学本科', '大学专科'), false)").await.get("true").copied().unwrap_or(0);
        assert_eq!(s["college_or_above"].as_i64().unwrap(), college);
        let year_start = NaiveDate::from_ymd_opt(as_of.year(), 1, 1).unwrap();
        let admitted = independent(&fx, org, as_of, &format!("m.joined_at >= '{year_start}'")).await.get("true").copied().unwrap_or(0);
        assert_eq!(s["pipeline"]["admitted_this_year"].as_i64().unwrap(), admitted);
        let made_full = independent(&fx, org, as_of, &format!("coalesce(m.full_member_at >= '{year_start}' AND m.full_member_at <= $2, false)"))
            .await
            .get("true")
            .copied()
            .unwrap_or(0);
        assert_eq!(s["pipeline"]["made_full_this_year"].as_i64().unwrap(), made_full);
        assert!(s["pipeline"]["applicants"].is_null() && s["pipeline"]["activists"].is_null() && s["pipeline"]["targets"].is_null());
    }

    // The generated branch at a past date, too (some of its members had not joined yet).
    let past = d("1990-12-31");
    let s = structure(&fx, &admin, b4, "1990-12-31").await;
    let expected: i64 = independent(&fx, b4, past, "'all'").await.values().sum();
    assert!(expected > 0 && expected < 300, "a past date sees fewer members ({expected})");
    assert_eq!(s["total"].as_i64().unwrap(), expected);
    assert_eq!(s["bands"]["name"], "earlier");
    assert_eq!(dim(&s, "gender"), independent(&fx, b4, past, "p.gender").await);
    assert_eq!(dim(&s, "party_standing"), independent(&fx, b4, past, STANDING).await);
    let age_earlier = "CASE WHEN p.birth_date IS NULL OR p.birth_date > $2 THEN 'unknown' ELSE (SELECT CASE WHEN a <= 35 THEN 'le35' WHEN a <= 45 THEN '36_45'
        WHEN a <= 59 THEN '46_59' ELSE 'ge60' END FROM (SELECT date_part('year', age($2::timestamp, p.birth_date::timestamp)) AS a) x) END";
    assert_eq!(dim(&s, "age_band"), independent(&fx, b4, past, age_earlier).await);
}

#[actix_web::test]
async fn buckets_carry_member_list_filters() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let b1 = fx.orgs.b1;
    let s = structure(&fx, &admin, b1, "2025-12-31").await;
    assert_eq!(bucket(&s, "gender", "male")["filter"], json!({"org_id": b1, "status": "normal", "gender": "male"}));
    assert_eq!(bucket(&s, "category", "probationary")["filter"], json!({"org_id": b1, "status": "normal", "category": "probationary"}));
    assert_eq!(bucket(&s, "ethnicity", "han")["filter"], json!({"org_id": b1, "status": "normal", "ethnic_group": "han"}));
    assert_eq!(bucket(&s, "ethnicity", "unknown")["filter"], json!({"org_id": b1, "status": "normal", "missing": "ethnicity"}));
    assert_eq!(bucket(&s, "education", "02")["filter"], json!({"org_id": b1, "status": "normal", "education": "大学本科"}));
    assert_eq!(bucket(&s, "education", "02")["label"], "大学本科");
    assert_eq!(bucket(&s, "job_category", "unknown")["label"], "未填写");
    assert_eq!(
        bucket(&s, "joined_period", "1979_01_2012_10")["filter"],
        json!({"org_id": b1, "status": "normal", "joined_from": "1979-01-01", "joined_to": "2012-10-31"})
    );
    // Age bands list today's members of that age: born after today - 36 years, up to today - 31.
    let t = today();
    let born_from = t.checked_sub_months(Months::new(36 * 12)).unwrap().succ_opt().unwrap();
    let born_to = t.checked_sub_months(Months::new(31 * 12)).unwrap();
    assert_eq!(
        bucket(&s, "age_band", "31_35")["filter"],
        json!({"org_id": b1, "status": "normal", "born_from": born_from.to_string(), "born_to": born_to.to_string()})
    );
    assert_eq!(bucket(&s, "age_band", "le30")["filter"]["born_to"], Value::Null);
    assert_eq!(bucket(&s, "party_standing", "ge50")["filter"]["full_from"], Value::Null);
    assert_eq!(bucket(&s, "party_standing", "ge50")["filter"]["category"], "full");
    assert!(bucket(&s, "party_standing", "unknown")["filter"].is_null());
}

/// Moves 张三 from B1 to B2 on 2020-06-01 and suspends 王五 (B1-1) on 2022-03-01, as a writer
/// dating its change does (`SET LOCAL dangjian.effective_on`, migrations 000002 and 000009).
#[actix_web::test]
async fn as_of_dates_around_a_move_and_a_status_change() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let (o, p) = (fx.orgs, fx.people);
    let before_b1 = structure(&fx, &admin, o.b1, "2020-05-31").await;
    let stable_past = structure(&fx, &admin, o.c1, "2019-12-31").await;
    fx.conn()
        .await
        .batch_execute(&format!(
            "BEGIN; SET LOCAL dangjian.effective_on = '2020-06-01'; UPDATE members SET org_id = {} WHERE person_id = {}; COMMIT;
             BEGIN; SET LOCAL dangjian.effective_on = '2022-03-01'; UPDATE members SET status = 'suspended' WHERE person_id = {}; COMMIT;",
            o.b2, p.zhangsan, p.wangwu
        ))
        .await
        .unwrap();

    // 张三 (male, full) and 王五 (male, full, in B1's group) count in B1 until the move.
    let b1 = structure(&fx, &admin, o.b1, "2020-05-31").await;
    assert_eq!(b1, before_b1, "a past date before the change is unchanged");
    assert_eq!((b1["total"].as_i64(), b1["full"].as_i64()), (Some(2), Some(2)));
    assert_eq!(structure(&fx, &admin, o.b2, "2020-05-31").await["total"], 0, "赵六 is suspended; 张三 not there yet");
    let b1 = structure(&fx, &admin, o.b1, "2020-06-01").await;
    assert_eq!(b1["total"], 1, "only 王五 after the move");
    let b2 = structure(&fx, &admin, o.b2, "2020-06-01").await;
    assert_eq!(b2["total"], 1);
    assert_eq!(dim(&b2, "gender"), BTreeMap::from([("male".to_string(), 1)]));
    // The committee above both sees no change from the move.
    assert_eq!(structure(&fx, &admin, o.g1, "2020-05-31").await["total"], structure(&fx, &admin, o.g1, "2020-06-01").await["total"]);

    // 王五 suspended on 2022-03-01: counted the day before, not from then on.
    assert_eq!(structure(&fx, &admin, o.b1, "2022-02-28").await["total"], 1);
    assert_eq!(structure(&fx, &admin, o.b1, "2022-03-01").await["total"], 0);
    assert_eq!(structure(&fx, &admin, o.b1_1, "2022-03-01").await["total"], 0);

    // The trend walks the same history: 2 in B1 at the end of 2019, 1 from the move, 0 from 2022.
    let r = fx.send(Req::get(format!("/api/v1/stats/trend?org_id={}&years=10", o.b1)).token(&admin)).await;
    let points = r.json["points"].as_array().unwrap().clone();
    assert_eq!(points.len(), 11);
    for p in &points {
        let s = structure(&fx, &admin, o.b1, p["as_of"].as_str().unwrap()).await;
        assert_eq!((&p["total"], &p["full"], &p["probationary"]), (&s["total"], &s["full"], &s["probationary"]), "{p}");
    }
    let at = |date: &str| points.iter().find(|p| p["as_of"] == date).map(|p| p["total"].as_i64().unwrap());
    assert_eq!((at("2019-12-31"), at("2020-12-31"), at("2022-12-31")), (Some(2), Some(1), Some(0)));

    // A figure for a past date before both changes comes out the same after them, and twice.
    let again = structure(&fx, &admin, o.c1, "2019-12-31").await;
    assert_eq!(again, stable_past);
    assert_eq!(structure(&fx, &admin, o.c1, "2019-12-31").await, again);
    // A change dated today (no effective_on) leaves yesterday's figures alone.
    let yesterday = today().pred_opt().unwrap().to_string();
    let before = structure(&fx, &admin, o.c2, &yesterday).await;
    fx.conn().await.batch_execute(&format!("UPDATE members SET org_id = {} WHERE person_id = {}", o.b1, p.qianqi)).await.unwrap();
    assert_eq!(structure(&fx, &admin, o.c2, &yesterday).await, before);
    assert_eq!(structure(&fx, &admin, o.c2, &today().to_string()).await["total"], 0);
}

#[actix_web::test]
async fn band_sets_follow_the_date_and_the_setting() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    // 2015: the earlier set (seven joining periods, four age bands). 张三 born 1985-03-12 (30),
    // 王五 1970-01-05 (45); admitted 2010 and 2005: both 1979 or later.
    let s = structure(&fx, &admin, fx.orgs.b1, "2015-12-31").await;
    assert_eq!(s["bands"]["name"], "earlier");
    assert_eq!(s["bands"]["joined_period"].as_array().unwrap().len(), 7);
    assert_eq!(dim(&s, "age_band"), BTreeMap::from([("le35".into(), 1), ("36_45".into(), 1)]));
    assert_eq!(dim(&s, "joined_period"), BTreeMap::from([("from_1979_01".into(), 2)]));
    assert_eq!(dim(&s, "party_standing"), BTreeMap::from([("lt10".into(), 2)]));
    // 2024: the 2023 bulletin's set. 张三 39, 王五 54; 党龄 13 and 18.
    let s = structure(&fx, &admin, fx.orgs.b1, "2024-12-31").await;
    assert_eq!(s["bands"]["name"], "2023");
    assert_eq!(s["bands"]["age"][0], "30岁及以下");
    assert_eq!(dim(&s, "age_band"), BTreeMap::from([("36_40".into(), 1), ("51_55".into(), 1)]));
    assert_eq!(dim(&s, "joined_period"), BTreeMap::from([("1979_01_2012_10".into(), 2)]));
    assert_eq!(dim(&s, "party_standing"), BTreeMap::from([("10_19".into(), 2)]));

    // A broken setting is a server error with a log, not a panic or a wrong figure.
    let refused = fx.conn().await.batch_execute("UPDATE settings SET value = '{\"sets\": []}' WHERE key = 'stats.band_sets'").await;
    assert!(refused.is_err(), "the outline is checked on write");
    fx.conn().await.batch_execute("UPDATE settings SET value = jsonb_set(value, '{sets,0,age,1,min}', '45') WHERE key = 'stats.band_sets'").await.unwrap();
    fx.send(Req::get(format!("/api/v1/stats/structure?org_id={}", fx.orgs.b1)).token(&admin)).await.expect_problem(500, "internal");
}

#[test]
fn band_set_validation() {
    let good = json!({"sets": [{"name": "x", "from": "2000-01-01",
        "age": [{"key": "young", "label": "青", "max": 40}, {"key": "old", "label": "老", "min": 41}],
        "joined_period": [{"key": "a", "label": "前", "until": "2000-01-01"}, {"key": "b", "label": "后", "from": "2000-01-01"}],
        "party_standing": [{"key": "all", "label": "全部"}]}]});
    let sets = BandSets::parse(good.clone()).unwrap();
    assert_eq!(sets.for_date(d("1990-01-01")).name, "x", "the earliest set covers earlier dates");
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        BandSets::parse(v).unwrap_err()
    };
    assert!(broken(&|v| v["sets"][0]["age"][1]["min"] = json!(45)).contains("must start the year after"));
    assert!(broken(&|v| v["sets"][0]["age"][0]["key"] = json!("old")).contains("twice"));
    assert!(broken(&|v| v["sets"][0]["joined_period"][1]["from"] = json!("2001-01-01")).contains("must start where"));
    assert!(broken(&|v| v["sets"][0]["party_standing"][0]["key"] = json!("unknown")).contains("reserved"));
    assert!(broken(&|v| v["sets"][0]["age"] = json!([])).contains("no band"));
    assert!(broken(&|v| v["sets"][0]["from"] = json!("soon")).contains("input"));
    assert!(broken(&|v| v["sets"] = json!([])).contains("no band set"));
}

#[actix_web::test]
async fn orgs_alerts_and_pipeline() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let o = fx.orgs;
    // B2's term ended in 2023; a branch founded in 2030 does not exist yet; a dissolved one no longer.
    fx.conn()
        .await
        .batch_execute(&format!(
            "UPDATE orgs SET term_start = '2020-01-01', term_end = '2023-01-01' WHERE id = {b2};
             UPDATE orgs SET term_start = '2024-01-01', term_end = '2027-01-01' WHERE id = {b1};
             INSERT INTO orgs (code, name, kind, parent_id, founded_on) VALUES ('LATE', '新支部', 'branch', {g1}, '2030-01-01');
             INSERT INTO orgs (code, name, kind, parent_id, founded_on, dissolved_on) VALUES ('GONE', '撤销支部', 'branch', {g1}, '2010-01-01', '2020-01-01');",
            b2 = o.b2,
            b1 = o.b1,
            g1 = o.g1
        ))
        .await
        .unwrap();
    let s = structure(&fx, &admin, o.c1, "2025-12-31").await;
    assert_eq!(s["orgs"]["total"], 5, "C1, G1, B1, B1-1, B2");
    let kinds: BTreeMap<String, i64> =
        s["orgs"]["by_kind"].as_array().unwrap().iter().map(|b| (b["key"].as_str().unwrap().to_string(), b["count"].as_i64().unwrap())).collect();
    assert_eq!(kinds, BTreeMap::from([("committee".into(), 1), ("general_branch".into(), 1), ("branch".into(), 2), ("group".into(), 1)]));
    assert_eq!(s["alerts"]["term_expired"], json!([{"org_id": o.b2, "org_name": "机关第二党支部", "term_end": "2023-01-01"}]));
    // B2: 赵六 is suspended (0 full); B1: 张三 and 王五 (in the group) are full, 李四 probationary.
    assert_eq!(
        s["alerts"]["below_three_full"],
        json!([{"org_id": o.b2, "org_name": "机关第二党支部", "full_members": 0}, {"org_id": o.b1, "org_name": "机关第一党支部", "full_members": 2}])
    );
    // 2015-12-31: the orgs founded 2015-07-01 exist, so does GONE; nothing of 2025.
    let s = structure(&fx, &admin, o.c1, "2015-12-31").await;
    assert_eq!(s["orgs"]["total"], 6);
    assert_eq!(s["alerts"]["term_expired"], json!([]));
    // 李四 was admitted 2025-06-01: admitted this year as of 2025-12-31, not as of 2025-05-31.
    assert_eq!(structure(&fx, &admin, o.b1, "2025-12-31").await["pipeline"]["admitted_this_year"], 1);
    assert_eq!(structure(&fx, &admin, o.b1, "2025-05-31").await["pipeline"]["admitted_this_year"], 0);
    // 张三 was made full 2011-07-01.
    assert_eq!(structure(&fx, &admin, o.b1, "2011-12-31").await["pipeline"]["made_full_this_year"], 1);
    assert_eq!(structure(&fx, &admin, o.b1, "2011-06-30").await["pipeline"]["made_full_this_year"], 0);
}

#[actix_web::test]
async fn role_scope() {
    let fx = Fx::new().await;
    let o = fx.orgs;
    let get = async |user: &str, q: &str| {
        let t = fx.login(user).await;
        fx.send(Req::get(format!("/api/v1/stats/structure{q}")).token(&t)).await
    };
    // A branch worker: their branch by default, not another branch nor the parent.
    let r = get(users::BR_B1, "").await;
    r.expect(200);
    assert_eq!(r.json["org_id"], o.b1);
    get(users::BR_B1, &format!("?org_id={}", o.b1_1)).await.expect(200);
    get(users::BR_B1, &format!("?org_id={}", o.b2)).await.expect_problem(403, "out_of_scope");
    get(users::BR_B1, &format!("?org_id={}", o.g1)).await.expect_problem(403, "out_of_scope");
    for path in ["trend", "orgs"] {
        let t = fx.login(users::BR_B1).await;
        fx.send(Req::get(format!("/api/v1/stats/{path}?org_id={}", o.c1)).token(&t)).await.expect_problem(403, "out_of_scope");
    }
    // A member or masses role sees no statistics, not even of their own branch.
    assert_eq!(get(users::MEMBER_ZS, &format!("?org_id={}", o.b1)).await.status.as_u16(), 403);
    assert_eq!(get(users::MASSES, "").await.status.as_u16(), 403);
    // A committee worker: their subtree.
    assert_eq!(get(users::COM_C1, "").await.json["org_id"], o.c1);
    get(users::COM_C1, &format!("?org_id={}", o.c2)).await.expect_problem(403, "out_of_scope");
    get(users::COM_C2, &format!("?org_id={}", o.b3)).await.expect(200);
    // political_dept over everything: any org; with two top committees it must name one.
    get(users::ADMIN, &format!("?org_id={}", o.b3)).await.expect(200);
    let r = get(users::ADMIN, "").await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.first_error(), ("org_id".into(), "required".into()));
    assert_eq!(get(users::PD_C1, "").await.json["org_id"], o.c1);
}

#[actix_web::test]
async fn invalid_parameters_are_named() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let b1 = fx.orgs.b1;
    let tomorrow = today().succ_opt().unwrap();
    // Malformed values are 400 (as every query parameter of the API), well-formed but
    // unacceptable ones 422; both name the parameter.
    for (path, status, field) in [
        (format!("structure?org_id={b1}&as_of=2025-13-01"), 400, "as_of"),
        (format!("structure?org_id={b1}&as_of={tomorrow}"), 422, "as_of"),
        ("structure?org_id=abc".to_string(), 400, "org_id"),
        ("structure?org_id=999999".to_string(), 422, "org_id"),
        (format!("orgs?org_id={b1}&as_of=yesterday"), 400, "as_of"),
        (format!("orgs?org_id={b1}&depth=11"), 422, "depth"),
        (format!("trend?org_id={b1}&years=0"), 422, "years"),
        (format!("trend?org_id={b1}&years=51"), 422, "years"),
    ] {
        let r = fx.send(Req::get(format!("/api/v1/stats/{path}")).token(&admin)).await;
        assert_eq!(r.status.as_u16(), status, "{path}: {}", r.text);
        assert_eq!(r.first_error().0, field, "{path}: {}", r.text);
    }
}

#[actix_web::test]
async fn trend_points_and_org_items() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let o = fx.orgs;
    let r = fx.send(Req::get(format!("/api/v1/stats/trend?org_id={}&years=3", o.c1)).token(&admin)).await;
    r.expect(200);
    let points = r.json["points"].as_array().unwrap();
    let y = today().year();
    let dates: Vec<&str> = points.iter().map(|p| p["as_of"].as_str().unwrap()).collect();
    let today_s = today().to_string();
    assert_eq!(dates, [format!("{}-12-31", y - 3), format!("{}-12-31", y - 2), format!("{}-12-31", y - 1), today_s.clone()]);
    for p in points {
        let s = structure(&fx, &admin, o.c1, p["as_of"].as_str().unwrap()).await;
        assert_eq!((&p["total"], &p["full"], &p["probationary"]), (&s["total"], &s["full"], &s["probationary"]), "{p}");
    }
    let default_years = fx.send(Req::get(format!("/api/v1/stats/trend?org_id={}", o.c1)).token(&admin)).await;
    assert_eq!(default_years.json["points"].as_array().unwrap().len(), 11);

    let r = fx.send(Req::get(format!("/api/v1/stats/orgs?org_id={}&as_of=2025-12-31", o.c1)).token(&admin)).await;
    r.expect(200);
    let items = r.json["items"].as_array().unwrap();
    let got: Vec<(i64, i64, i64, i64, i64)> = items
        .iter()
        .map(|i| {
            (
                i["org_id"].as_i64().unwrap(),
                i["depth"].as_i64().unwrap(),
                i["members"].as_i64().unwrap(),
                i["full"].as_i64().unwrap(),
                i["probationary"].as_i64().unwrap(),
            )
        })
        .collect();
    // Depth 2 by default: B1-1 (depth 3) is left out, but its 王五 counts in B1, G1 and C1.
    assert_eq!(got, [(o.c1, 0, 3, 2, 1), (o.g1, 1, 3, 2, 1), (o.b1, 2, 3, 2, 1), (o.b2, 2, 0, 0, 0)]);
    assert!(items[0]["parent_id"].is_null());
    assert_eq!(items[1]["parent_id"], o.c1);
    assert_eq!(items[2]["kind"], "branch");
    let r = fx.send(Req::get(format!("/api/v1/stats/orgs?org_id={}&as_of=2025-12-31&depth=0", o.b1)).token(&admin)).await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.json["items"][0]["members"], 3);
}

/// Issue 5: education and job category are dated (a degree earned, a new post: migration
/// 2026-11-30-053000), so a change does not alter a past figure; a corrected birth date is a
/// correction of a fact and corrects past figures too (docs/domain.md, Party statistics).
#[actix_web::test]
async fn past_figures_keep_education_and_job_but_take_corrections() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let com = fx.login(users::COM_C1).await;
    let b1 = fx.orgs.b1;
    // Joined 2012-01-01, born 1987-01-01, 大学本科, 专业技术人员 (tests/common record()).
    let id = fx.new_member("统计史", b1).await;
    let url = format!("/api/v1/members/{id}");
    let past = "2024-06-30";
    let now = today().to_string();
    let past_before = structure(&fx, &admin, b1, past).await;
    let now_before = structure(&fx, &admin, b1, &now).await;

    let body = json!({"education": "研究生", "job_category": "工人"});
    fx.send(Req::patch(&url).token(&com).if_match(1).json(body)).await.expect(200);
    let past_after = structure(&fx, &admin, b1, past).await;
    assert_eq!(past_after, past_before, "the past figure is unchanged, every dimension");
    let now_after = structure(&fx, &admin, b1, &now).await;
    for name in ["education", "job_category"] {
        assert_ne!(dim(&now_after, name), dim(&now_before, name), "today's {name} reflects the change");
    }
    assert_eq!(dim(&now_after, "age_band"), dim(&now_before, "age_band"));
    // Asked again later: the same.
    assert_eq!(structure(&fx, &admin, b1, past).await, past_before);

    // A corrected birth date (37 → 64 in 2024) moves the member to another age band in the past
    // figure too; education and job category stay those of 2024.
    fx.send(Req::patch(&url).token(&com).if_match(2).json(json!({"birth_date": "1960-01-01"}))).await.expect(200);
    let past_corrected = structure(&fx, &admin, b1, past).await;
    assert_ne!(dim(&past_corrected, "age_band"), dim(&past_before, "age_band"), "a correction reaches the past");
    assert_eq!(past_corrected["total"], past_before["total"]);
    for name in ["education", "job_category", "gender", "ethnicity", "party_standing"] {
        assert_eq!(dim(&past_corrected, name), dim(&past_before, name), "{name} as of {past}");
    }
    let now_corrected = structure(&fx, &admin, b1, &now).await;
    assert_ne!(dim(&now_corrected, "age_band"), dim(&now_after, "age_band"));
    for name in ["education", "job_category"] {
        assert_eq!(dim(&now_corrected, name), dim(&now_after, name));
    }
}
