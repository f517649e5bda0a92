//! The dimension figures of a subtree on a date (DOMAIN.md, Party statistics), in one set-based
//! statement: the members counted (history row covering the date, org in the subtree, status
//! 正常) grouped by each dimension at once (GROUPING SETS), and the orgs by kind. Band sets are
//! those of the 2023 bulletin. Used until `stats::queries::structure` (which reads the configured
//! band sets) is available to the report.

use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Date, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::tables::{Figures, Part};
use crate::error::AppError;

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    dim: String,
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

const MEMBERS: &str = "
WITH sub AS MATERIALIZED (SELECT descendant_id AS org_id FROM org_closure WHERE ancestor_id = $1),
m AS (
    SELECT h.category,
           p.gender,
           CASE WHEN p.ethnicity IS NULL OR p.ethnicity = '' THEN 'unknown' WHEN p.ethnicity = '汉族' THEN 'han' ELSE 'minority' END AS ethnicity,
           coalesce(nullif(p.education, ''), 'unknown') AS education,
           coalesce(nullif(p.job_category, ''), 'unknown') AS job_category,
           CASE WHEN p.birth_date IS NULL THEN 'unknown'
                ELSE CASE WHEN a <= 30 THEN 'le30' WHEN a <= 35 THEN '31_35' WHEN a <= 40 THEN '36_40' WHEN a <= 45 THEN '41_45'
                          WHEN a <= 50 THEN '46_50' WHEN a <= 55 THEN '51_55' WHEN a <= 60 THEN '56_60' ELSE 'ge61' END END AS age_band,
           CASE WHEN mb.joined_at < DATE '1949-10-01' THEN 'before_1949_10'
                WHEN mb.joined_at < DATE '1979-01-01' THEN '1949_10_1978_12'
                WHEN mb.joined_at < DATE '2012-11-01' THEN '1979_01_2012_10'
                ELSE 'from_2012_11' END AS joined_period
      FROM member_history h
      JOIN sub ON sub.org_id = h.org_id
      JOIN people p ON p.id = h.person_id
      JOIN members mb ON mb.person_id = h.person_id
      CROSS JOIN LATERAL (SELECT extract(year FROM age($2, p.birth_date))::int AS a) age
     WHERE h.status = 'normal' AND h.valid_from <= $2 AND (h.valid_to IS NULL OR h.valid_to > $2)
)
SELECT CASE WHEN GROUPING(category) = 0 THEN 'category' WHEN GROUPING(gender) = 0 THEN 'gender'
            WHEN GROUPING(ethnicity) = 0 THEN 'ethnicity' WHEN GROUPING(education) = 0 THEN 'education'
            WHEN GROUPING(job_category) = 0 THEN 'job_category' WHEN GROUPING(age_band) = 0 THEN 'age_band'
            ELSE 'joined_period' END AS dim,
       coalesce(category, gender, ethnicity, education, job_category, age_band, joined_period) AS key,
       count(*) AS n
  FROM m
 GROUP BY GROUPING SETS ((category), (gender), (ethnicity), (education), (job_category), (age_band), (joined_period))";

const ORGS: &str = "
SELECT 'orgs' AS dim, o.kind AS key, count(*) AS n
  FROM org_closure c JOIN orgs o ON o.id = c.descendant_id
 WHERE c.ancestor_id = $1 AND (o.founded_on IS NULL OR o.founded_on <= $2) AND (o.dissolved_on IS NULL OR o.dissolved_on > $2)
 GROUP BY o.kind
UNION ALL
SELECT 'term_expired', '', count(*)
  FROM org_closure c JOIN orgs o ON o.id = c.descendant_id
 WHERE c.ancestor_id = $1 AND o.dissolved_on IS NULL AND o.kind <> 'group' AND o.term_end < $2";

fn refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

fn parts(rows: &[Row], dim: &str, order: &[(&str, &str)]) -> Vec<Part> {
    let count = |k: &str| rows.iter().filter(|r| r.dim == dim && r.key == k).map(|r| r.n).sum::<i64>();
    let mut out: Vec<Part> = order.iter().map(|(k, l)| Part { label: (*l).to_string(), count: count(k) }).collect();
    // Values outside the list (an institution's own code, a name since renamed) still count.
    for r in rows.iter().filter(|r| r.dim == dim && !order.iter().any(|(k, _)| *k == r.key)) {
        out.push(Part { label: r.key.clone(), count: r.n });
    }
    out
}

pub async fn compute(conn: &mut AsyncPgConnection, org_id: i64, as_of: NaiveDate) -> Result<Figures, AppError> {
    let rows: Vec<Row> = sql_query(MEMBERS).bind::<BigInt, _>(org_id).bind::<Date, _>(as_of).load(conn).await?;
    let org_rows: Vec<Row> = sql_query(ORGS).bind::<BigInt, _>(org_id).bind::<Date, _>(as_of).load(conn).await?;
    let lists = crate::code_lists::load(conn).await?;
    let named = |items: &[crate::code_lists::CodeItem]| -> Vec<(String, String)> { items.iter().map(|c| (c.name.clone(), c.name.clone())).collect() };
    let with_unknown = |mut v: Vec<(String, String)>| {
        v.push(("unknown".into(), "未填写".into()));
        v
    };
    let education = with_unknown(named(&lists.education));
    let job = with_unknown(named(&lists.job_category));
    let gender = parts(&rows, "gender", &[("male", "男"), ("female", "女")]);
    let total: i64 = gender.iter().map(|p| p.count).sum();
    let college = parts(&rows, "education", &[("研究生", ""), ("大学本科", ""), ("大学专科", "")]).iter().take(3).map(|p| p.count).sum();
    let org_parts = parts(&org_rows, "orgs", &[("committee", "基层党委"), ("general_branch", "党总支"), ("branch", "党支部"), ("group", "党小组")]);
    Ok(Figures {
        total,
        gender,
        ethnicity: parts(&rows, "ethnicity", &[("han", "汉族"), ("minority", "少数民族"), ("unknown", "未填写")]),
        category: parts(&rows, "category", &[("full", "正式党员"), ("probationary", "预备党员")]),
        joined_period: parts(
            &rows,
            "joined_period",
            &[
                ("before_1949_10", "1949年10月以前"),
                ("1949_10_1978_12", "1949年10月至1978年12月"),
                ("1979_01_2012_10", "1979年1月至2012年10月"),
                ("from_2012_11", "2012年11月以后"),
            ],
        ),
        education: parts(&rows, "education", &refs(&education)),
        college_or_above: college,
        age: parts(
            &rows,
            "age_band",
            &[
                ("le30", "30岁及以下"),
                ("31_35", "31至35岁"),
                ("36_40", "36至40岁"),
                ("41_45", "41至45岁"),
                ("46_50", "46至50岁"),
                ("51_55", "51至55岁"),
                ("56_60", "56至60岁"),
                ("ge61", "61岁及以上"),
                ("unknown", "未填写"),
            ],
        ),
        job_category: parts(&rows, "job_category", &refs(&job)),
        orgs_total: org_parts.iter().map(|p| p.count).sum(),
        orgs_by_kind: org_parts,
        term_expired: org_rows.iter().filter(|r| r.dim == "term_expired").map(|r| usize::try_from(r.n).unwrap_or(0)).sum(),
        below_three_full: None,
    })
}
