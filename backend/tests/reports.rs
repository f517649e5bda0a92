//! The party statistics report (党内统计报表, docs/domain.md "Party statistics"): on generated data
//! with known numbers, every total equals the sum of its parts, the tables agree with each
//! other, previous + gained − lost = current, the reasons follow the documented rule; the
//! workbook read back with calamine and opened by LibreOffice; the JSON answer; the role scope
//! and the fields of an invalid body.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Cursor;

use calamine::{Data, Reader};
use common::{Fx, Req, d, libreoffice_opens, record, tempdir, users};
use dangjian::members::types::{Category, Gender, Status};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde_json::{Value, json};

const URL: &str = "/api/v1/reports/party-statistics";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A subtree R (committee) ─ RA, RB (branches), apart from the fixture's, and the members of the
/// scenario in `scenario`.
struct World {
    r: i64,
    ra: i64,
    rb: i64,
}

async fn add_org(fx: &Fx, code: &str, name: &str, kind: &str, parent: Option<i64>) -> i64 {
    use dangjian::schema::orgs as o;
    diesel::insert_into(o::table)
        .values((o::code.eq(code), o::name.eq(name), o::kind.eq(kind), o::parent_id.eq(parent)))
        .returning(o::id)
        .get_result(&mut fx.conn().await)
        .await
        .unwrap()
}

struct M<'a> {
    name: &'a str,
    gender: Gender,
    org: i64,
    joined: &'a str,
    full: Option<&'a str>,
    status: Status,
    ethnicity: Option<&'a str>,
    education: Option<&'a str>,
}

fn m<'a>(name: &'a str, gender: Gender, org: i64, joined: &'a str, full: Option<&'a str>) -> M<'a> {
    M { name, gender, org, joined, full, status: Status::Normal, ethnicity: Some("汉族"), education: Some("大学本科") }
}

async fn add_member(fx: &Fx, spec: M<'_>) -> i64 {
    let mut rec = record(spec.name, spec.gender, spec.org, spec.joined, spec.full);
    rec.status = spec.status;
    rec.ethnicity = spec.ethnicity.map(str::to_string);
    rec.education = spec.education.map(str::to_string);
    let key = fx.shared.state.config.data_key.clone();
    let mut conn = fx.conn().await;
    dangjian::members::queries::insert(&mut conn, &key, &rec).await.unwrap()
}

/// Changes a membership with effect on `on` (the way a dated transfer or status change is
/// recorded: `SET LOCAL dangjian.effective_on`).
async fn change(fx: &Fx, person: i64, on: &str, org: Option<i64>, status: Option<&str>, full_on: Option<&str>) {
    use dangjian::schema::members as mb;
    let mut conn = fx.conn().await;
    let on = on.to_string();
    let full_on = full_on.map(d);
    let status = status.map(str::to_string);
    conn.transaction::<_, diesel::result::Error, _>(async move |conn| {
        diesel::sql_query("SELECT set_config('dangjian.effective_on', $1, true)").bind::<diesel::sql_types::Text, _>(&on).execute(conn).await?;
        if let Some(org) = org {
            diesel::update(mb::table.find(person)).set(mb::org_id.eq(org)).execute(conn).await?;
        }
        if let Some(s) = status {
            diesel::update(mb::table.find(person)).set(mb::status.eq(s)).execute(conn).await?;
        }
        if let Some(f) = full_on {
            diesel::update(mb::table.find(person)).set((mb::category.eq(Category::Full.as_str()), mb::full_member_at.eq(f))).execute(conn).await?;
        }
        Ok(())
    })
    .await
    .unwrap();
}

/// The scenario, between the previous year end 2025-12-31 and 2026-06-30 (O = B3, outside R):
///
/// | member | before 2025-12-31 | in the period | counts for R |
/// |---|---|---|---|
/// | m1 | RA, 回族, 研究生 | – | both |
/// | m2 | RA | deceased 03-01 | lost: 死亡 |
/// | m3 | RB | → O 02-01 | lost: 转出 |
/// | m4 | RB probationary | full 06-01 | both |
/// | m5 | RA | left 04-01 | lost: 出党 |
/// | m6 | RA | suspended 01-15 | lost: 停止党籍 |
/// | m7 | RA suspended | restored 05-01 | gained: 恢复党籍 |
/// | m8 | O | → RB 03-15 | gained: 转入 |
/// | m9 | RB | → O 02-01, → RB 05-01 | both (neither gained nor lost) |
/// | m10 | RA | suspended 02-01, deceased 04-01 | lost: 死亡 (the last change) |
/// | m11 | – | admitted 03-01 in RA (no ethnicity, no education) | gained: 发展党员 |
/// | m12 | – | admitted 04-01 in RB, → O 05-15 | neither |
/// | m13 | – | admitted 07-15 (after the date) | neither |
/// | m14 | RB | → O 01-10, deceased in O 03-01 | lost: 转出 (the death is O's) |
/// | m15 | RA suspended | restored 02-01, → RB 03-01 | gained: 恢复党籍 |
///
/// 上年底 9 (8 full, 1 probationary); gained 4 (admitted 1, transferred in 1, restored 2); lost 6
/// (transferred out 2, deceased 2, left 1, suspended 1); now 7 (6 full, 1 probationary): male 4,
/// female 3; 汉族 5, minority 1, unknown 1; 研究生 1, 大学本科 4, 大学专科 1, unknown 1.
async fn scenario(fx: &Fx) -> World {
    use Gender::{Female, Male};
    let r = add_org(fx, "R", "测试党委", "committee", None).await;
    let ra = add_org(fx, "RA", "测试第一党支部", "branch", Some(r)).await;
    let rb = add_org(fx, "RB", "测试第二党支部", "branch", Some(r)).await;
    let o = fx.orgs.b3;
    let m1 = add_member(fx, M { ethnicity: Some("回族"), education: Some("研究生"), ..m("党员一", Male, ra, "1975-01-10", Some("1976-01-10")) }).await;
    let m2 = add_member(fx, m("党员二", Female, ra, "2010-03-01", Some("2011-03-01"))).await;
    let m3 = add_member(fx, m("党员三", Male, rb, "1990-05-01", Some("1991-05-01"))).await;
    let m4 = add_member(fx, m("党员四", Female, rb, "2025-06-01", None)).await;
    let m5 = add_member(fx, m("党员五", Male, ra, "2001-07-01", Some("2002-07-01"))).await;
    let m6 = add_member(fx, m("党员六", Male, ra, "2003-07-01", Some("2004-07-01"))).await;
    let m7 = add_member(fx, M { status: Status::Suspended, ..m("党员七", Male, ra, "2012-01-01", Some("2013-01-01")) }).await;
    let m8 = add_member(fx, M { education: Some("大学专科"), ..m("党员八", Female, o, "2015-01-01", Some("2016-01-01")) }).await;
    let m9 = add_member(fx, m("党员九", Male, rb, "2016-01-01", Some("2017-01-01"))).await;
    let m10 = add_member(fx, m("党员十", Female, ra, "2000-01-01", Some("2001-01-01"))).await;
    let m11 = add_member(fx, M { ethnicity: None, education: None, ..m("党员十一", Female, ra, "2026-03-01", None) }).await;
    let m12 = add_member(fx, m("党员十二", Male, rb, "2026-04-01", None)).await;
    add_member(fx, m("党员十三", Male, ra, "2026-07-15", None)).await;
    let m14 = add_member(fx, m("党员十四", Male, rb, "1995-01-01", Some("1996-01-01"))).await;
    let m15 = add_member(fx, M { status: Status::Suspended, ..m("党员十五", Male, ra, "2008-01-01", Some("2009-01-01")) }).await;
    // Each member's changes in date order (a change dated before an earlier one would rewrite history).
    change(fx, m2, "2026-03-01", None, Some("deceased"), None).await;
    change(fx, m3, "2026-02-01", Some(o), None, None).await;
    change(fx, m4, "2026-06-01", None, None, Some("2026-06-01")).await;
    change(fx, m5, "2026-04-01", None, Some("left"), None).await;
    change(fx, m6, "2026-01-15", None, Some("suspended"), None).await;
    change(fx, m7, "2026-05-01", None, Some("normal"), None).await;
    change(fx, m8, "2026-03-15", Some(rb), None, None).await;
    change(fx, m9, "2026-02-01", Some(o), None, None).await;
    change(fx, m9, "2026-05-01", Some(rb), None, None).await;
    change(fx, m10, "2026-02-01", None, Some("suspended"), None).await;
    change(fx, m10, "2026-04-01", None, Some("deceased"), None).await;
    let _ = m11;
    change(fx, m12, "2026-05-15", Some(o), None, None).await;
    change(fx, m14, "2026-01-10", Some(o), None, None).await;
    change(fx, m14, "2026-03-01", None, Some("deceased"), None).await;
    change(fx, m15, "2026-02-01", None, Some("normal"), None).await;
    change(fx, m15, "2026-03-01", Some(rb), None, None).await;
    let _ = m1;
    World { r, ra, rb }
}

async fn report_json(fx: &Fx, token: &str, body: Value) -> Value {
    let r = fx.send(Req::post(URL).token(token).header("Accept", "application/json").json(body)).await;
    r.expect(200);
    assert!(r.header("content-type").unwrap().starts_with("application/json"));
    r.json
}

fn table<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["tables"].as_array().unwrap().iter().find(|t| t["key"] == key).unwrap_or_else(|| panic!("no table {key}"))
}

fn values(t: &Value) -> Vec<i64> {
    t["rows"][0]["values"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect()
}

/// The leaf columns' labels (the header's last row), in order, with the columns spanning all
/// rows (单位, 党员总数) where they stand.
fn columns(t: &Value) -> Vec<String> {
    let header = t["header"].as_array().unwrap();
    let rows = header.len();
    let width: u64 = header[0].as_array().unwrap().iter().map(|c| c["colspan"].as_u64().unwrap()).sum();
    let mut grid = vec![vec![None::<String>; width as usize]; rows];
    for (r, cells) in header.iter().enumerate() {
        let mut c = 0;
        for cell in cells.as_array().unwrap() {
            while grid[r][c].is_some() {
                c += 1;
            }
            let (cs, rs) = (cell["colspan"].as_u64().unwrap() as usize, cell["rowspan"].as_u64().unwrap() as usize);
            for row in grid.iter_mut().skip(r).take(rs) {
                for slot in row.iter_mut().skip(c).take(cs) {
                    *slot = Some(cell["text"].as_str().unwrap().to_string());
                }
            }
            c += cs;
        }
    }
    grid.pop().unwrap().into_iter().map(Option::unwrap).collect()
}

/// The groups of a one-row dimension table: each top header cell spanning several leaf columns
/// (or one, under a group) is checked to add up to the 党员总数 column.
fn assert_groups_sum_to_total(t: &Value) {
    assert_groups_add_up(t, &values(t));
}

/// [`assert_groups_sum_to_total`] for any row's values.
fn assert_groups_add_up(t: &Value, v: &[i64]) {
    let top = t["header"][0].as_array().unwrap();
    let total = v[0];
    let mut col = 1; // after 单位 (the label): 党员总数 is value 0
    for cell in top.iter().skip(1) {
        let cs = cell["colspan"].as_u64().unwrap() as usize;
        if cell["rowspan"].as_u64().unwrap() == 1 {
            let sum: i64 = v[col - 1..col - 1 + cs].iter().sum();
            assert_eq!(sum, total, "table {}: group {} adds up to {sum}, not {total}", t["key"], cell["text"]);
        }
        col += cs;
    }
}

#[actix_web::test]
async fn the_tables_add_up_agree_and_follow_the_change_rules() {
    let fx = Fx::new().await;
    let w = scenario(&fx).await;
    let admin = fx.login(users::ADMIN).await;
    let rep = report_json(&fx, &admin, json!({"org_id": w.r, "as_of": "2026-06-30", "kind": "half_year"})).await;
    assert_eq!(rep["org_id"], json!(w.r));
    assert_eq!(rep["org_name"], "测试党委");
    assert_eq!(rep["as_of"], "2026-06-30");
    assert_eq!(rep["previous_as_of"], "2025-12-31", "a half-year report compares against the year end before");
    assert_eq!(rep["kind"], "half_year");
    assert_eq!(rep["generated_by"], "admin", "an account without a person shows its user name");
    let keys: Vec<&str> = rep["tables"].as_array().unwrap().iter().map(|t| t["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["totals", "basic", "joined_period", "education", "age", "job_category", "orgs", "changes"]);

    // 党员总数及增减: 上年底 9 (8 + 1), +4, −6, now 7 (6 + 1).
    let totals = table(&rep, "totals");
    assert_eq!(columns(totals), ["单位", "合计", "正式党员", "预备党员", "本期增加", "本期减少", "合计", "正式党员", "预备党员"]);
    let t = values(totals);
    assert_eq!(t, [9, 8, 1, 4, 6, 7, 6, 1]);
    assert_eq!(t[0], t[1] + t[2]);
    assert_eq!(t[5], t[6] + t[7]);
    assert_eq!(t[0] + t[3] - t[4], t[5], "previous + gained − lost = current");

    // 党员增减变化情况, with reasons.
    let changes = table(&rep, "changes");
    assert_eq!(
        columns(changes),
        [
            "单位",
            "上年底党员数",
            "合计",
            "发展党员",
            "转入组织关系",
            "恢复党籍",
            "其他",
            "合计",
            "转出组织关系",
            "死亡",
            "出党",
            "停止党籍",
            "其他",
            "本期末党员数"
        ]
    );
    let c = values(changes);
    assert_eq!(c, [9, 4, 1, 1, 2, 0, 6, 2, 2, 1, 1, 0, 7]);
    assert_eq!(c[1], c[2..6].iter().sum::<i64>(), "gained = the sum of its reasons");
    assert_eq!(c[6], c[7..12].iter().sum::<i64>(), "lost = the sum of its reasons");
    assert_eq!(c[0] + c[1] - c[6], c[12]);
    assert_eq!((c[0], c[1], c[6], c[12]), (t[0], t[3], t[4], t[5]), "the changes table agrees with the totals table");

    // Every dimension table: its total is the year-end count, and each group adds up to it.
    for key in ["basic", "joined_period", "education", "age", "job_category"] {
        let tb = table(&rep, key);
        assert_eq!(values(tb)[0], 7, "table {key}'s total");
        assert_eq!(tb["rows"][0]["label"], "测试党委");
        assert_eq!(tb["rows"][0]["total"], true);
        assert_groups_sum_to_total(tb);
    }
    let basic = table(&rep, "basic");
    let cols = columns(basic);
    let v = values(basic);
    let at = |label: &str| v[cols.iter().position(|c| c == label).unwrap() - 1];
    assert_eq!((at("男"), at("女")), (4, 3));
    assert_eq!((at("汉族"), at("少数民族"), at("未填写")), (5, 1, 1));
    assert_eq!((at("正式党员"), at("预备党员")), (6, 1), "the category agrees with the totals table");
    let edu = table(&rep, "education");
    let (cols, v) = (columns(edu), values(edu));
    let at = |label: &str| v[cols.iter().position(|c| c == label).unwrap() - 1];
    assert_eq!((at("研究生"), at("大学本科"), at("大学专科"), at("未填写")), (1, 4, 1, 1));
    assert!(edu["notes"][0].as_str().unwrap().contains("6 人"), "大专及以上: {}", edu["notes"]);

    let orgs = table(&rep, "orgs");
    let (cols, v) = (columns(orgs), values(orgs));
    assert_eq!(v[0], 3, "R, RA and RB");
    assert_eq!(v[0], v[1..].iter().sum::<i64>());
    assert_eq!(v[cols.iter().position(|c| c == "党支部").unwrap() - 1], 2);

    // An annual report at the year end before: the same 9, and its own changes.
    let annual = report_json(&fx, &admin, json!({"org_id": w.r, "as_of": "2025-12-31", "kind": "annual"})).await;
    assert_eq!(annual["previous_as_of"], "2024-12-31");
    let a = values(table(&annual, "totals"));
    assert_eq!(a[5], 9);
    assert_eq!(a[0] + a[3] - a[4], a[5]);
    // 4 admitted in 2025? Only m4 (2025-06-01): the others were members before 2024 ended.
    assert_eq!(values(table(&annual, "changes"))[2], 1);

    // A branch: its own figures, and the two branches add up to the committee (no member is in R itself).
    let ra = values(table(&report_json(&fx, &admin, json!({"org_id": w.ra, "as_of": "2026-06-30", "kind": "half_year"})).await, "changes"));
    let rb = values(table(&report_json(&fx, &admin, json!({"org_id": w.rb, "as_of": "2026-06-30", "kind": "half_year"})).await, "changes"));
    assert_eq!(ra[0] + rb[0], 9);
    assert_eq!(ra[12] + rb[12], 7);
    for v in [&ra, &rb] {
        assert_eq!(v[0] + v[1] - v[6], v[12]);
    }
    // m15, suspended in RA at the year end, was restored in RA and then moved to RB: for RA
    // neither (counted on neither date), for RB transferred in (its last change into the count).
    assert_eq!((rb[3], rb[7]), (2, 2), "RB: transferred in m8 and m15, out m3 and m14");
    assert_eq!((ra[2], ra[4], ra[7]), (1, 1, 0), "RA: admitted m11, restored m7, none transferred out");

    // Audited, as `report`.
    let audit = fx.audit("party_statistics", w.r).await;
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].0, "report");
    assert_eq!(audit[0].1, Some(fx.accounts[users::ADMIN]));
    let after = audit[0].3.as_ref().unwrap();
    assert_eq!(after["format"], "json");
    assert_eq!(after["kind"], "half_year");
    assert_eq!(after["total"], 7);
}

/// Cell text of a calamine range (strings and numbers).
fn text(range: &calamine::Range<Data>, r: u32, c: u32) -> String {
    match range.get_value((r, c)) {
        Some(Data::String(s)) => s.clone(),
        Some(Data::Float(f)) => format!("{f}"),
        Some(Data::Int(i)) => format!("{i}"),
        Some(other) => format!("{other}"),
        None => String::new(),
    }
}

fn number(range: &calamine::Range<Data>, r: u32, c: u32) -> i64 {
    match range.get_value((r, c)) {
        Some(Data::Float(f)) => *f as i64,
        Some(Data::Int(i)) => *i,
        other => panic!("({r}, {c}) is not a number: {other:?}"),
    }
}

#[actix_web::test]
async fn the_workbook_has_a_sheet_per_table_with_titles_merges_figures_and_the_watermark() {
    let fx = Fx::new().await;
    let w = scenario(&fx).await;
    let admin = fx.login(users::ADMIN).await;
    // No Accept header: the workbook.
    let r = fx.send(Req::post(URL).token(&admin).json(json!({"org_id": w.r, "as_of": "2026-06-30", "kind": "half_year"}))).await;
    r.expect(200);
    assert_eq!(r.header("content-type"), Some(XLSX));
    let cd = r.header("content-disposition").unwrap();
    assert!(cd.starts_with("attachment;") && cd.contains("filename*=UTF-8''"), "{cd}");
    let bytes = r.bytes.clone();
    // */* and the workbook's type ask for the same.
    for accept in ["*/*", XLSX, "application/json;q=0, */*"] {
        let r = fx.send(Req::post(URL).token(&admin).header("Accept", accept).json(json!({"org_id": w.r, "as_of": "2026-06-30", "kind": "half_year"}))).await;
        r.expect(200);
        assert_eq!(r.header("content-type"), Some(XLSX), "Accept: {accept}");
    }
    let r = fx.send(Req::post(URL).token(&admin).header("Accept", "text/html").json(json!({"org_id": w.r, "as_of": "2026-06-30", "kind": "half_year"}))).await;
    r.expect_problem(406, "not_acceptable");

    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.clone())).unwrap();
    assert_eq!(book.sheet_names(), ["党员总数及增减", "基本情况", "入党时间", "学历", "年龄", "工作岗位", "党组织", "党员增减及原因"]);
    let totals = book.worksheet_range("党员总数及增减").unwrap();
    assert!(text(&totals, 0, 0).contains("表一") && text(&totals, 0, 0).contains("党员总数及增减情况"), "{}", text(&totals, 0, 0));
    let sub = text(&totals, 1, 0);
    assert!(sub.contains("测试党委") && sub.contains("2026年6月30日") && sub.contains("2025年12月31日") && sub.contains("半年报"), "{sub}");
    assert_eq!(text(&totals, 2, 0), "单位");
    assert_eq!(text(&totals, 2, 1), "上年底党员数（2025年12月31日）");
    assert_eq!(text(&totals, 3, 1), "合计");
    assert_eq!(text(&totals, 4, 0), "测试党委");
    let figures: Vec<i64> = (1..=8).map(|c| number(&totals, 4, c)).collect();
    assert_eq!(figures, [9, 8, 1, 4, 6, 7, 6, 1]);
    // The notes, then the watermark under the table.
    let last = totals.end().unwrap().0;
    let mark = text(&totals, last, 0);
    assert!(mark.starts_with("内部资料 注意保密 · admin ") && mark.ends_with(" 生成"), "{mark}");
    // (After the data rows, one per unit, and a blank row.)
    let blank = (4..last).find(|r| text(&totals, *r, 0).is_empty()).unwrap();
    assert!(text(&totals, blank + 1, 0).starts_with("注："));

    // Merged cells: the title across the table, 单位 over both header rows, the year-end groups.
    if let calamine::Sheets::Xlsx(x) = &mut book {
        let merges = x.merge_cells_by_sheet_name("党员总数及增减").unwrap();
        let has = |s: (u32, u32), e: (u32, u32)| merges.iter().any(|m| m.start == s && m.end == e);
        assert!(has((0, 0), (0, 8)), "title: {merges:?}");
        assert!(has((2, 0), (3, 0)), "单位: {merges:?}");
        assert!(has((2, 1), (2, 3)), "上年底党员数: {merges:?}");
        assert!(has((2, 4), (3, 4)), "本期增加: {merges:?}");
        let merges = x.merge_cells_by_sheet_name("基本情况").unwrap();
        assert!(merges.iter().any(|m| m.start == (2, 2) && m.end == (2, 3)), "性别 over 男 and 女: {merges:?}");
    } else {
        panic!("not read as xlsx");
    }

    let changes = book.worksheet_range("党员增减及原因").unwrap();
    let c: Vec<i64> = (1..=13).map(|col| number(&changes, 4, col)).collect();
    assert_eq!(c, [9, 4, 1, 1, 2, 0, 6, 2, 2, 1, 1, 0, 7]);
    let basic = book.worksheet_range("基本情况").unwrap();
    assert_eq!(text(&basic, 2, 2), "性别");
    assert_eq!((text(&basic, 3, 2), number(&basic, 4, 2)), ("男".to_string(), 4));
    assert_eq!(number(&basic, 4, 1), 7);
    for sheet in ["入党时间", "学历", "年龄", "工作岗位"] {
        let s = book.worksheet_range(sheet).unwrap();
        let total = number(&s, 4, 1);
        let parts: i64 = (2..s.width() as u32).map(|c| number(&s, 4, c)).sum();
        assert_eq!((total, parts), (7, 7), "sheet {sheet}");
    }

    // The page footer carries the watermark too (read from the sheet's XML).
    let xml = sheet_xml(&bytes, 1);
    assert!(xml.contains("<oddFooter>&amp;L内部资料 注意保密&amp;C") && xml.contains("admin "), "footer: {}", &xml[xml.find("<headerFooter").unwrap_or(0)..]);

    libreoffice_opens(&bytes, &["党员总数及增减情况", "\"测试党委\",9,8,1,4,6,7,6,1"]);
}

fn row_values(row: &Value) -> Vec<i64> {
    row["values"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect()
}

/// Across each row: every total column is the sum of its parts (and 上年底 + 增加 − 减少 = 本期末);
/// down each column: the total row (the first, the only one with `total`) is the sum of the others.
fn assert_sums_both_ways(t: &Value) {
    let rows = t["rows"].as_array().unwrap();
    let key = t["key"].as_str().unwrap();
    assert_eq!(rows[0]["total"], true, "table {key}: the total row comes first");
    assert!(rows.iter().skip(1).all(|r| r["total"] == false), "table {key}: one total row");
    for row in rows {
        let v = row_values(row);
        match key {
            "totals" => {
                assert_eq!((v[0], v[5]), (v[1] + v[2], v[6] + v[7]), "{key} {}", row["label"]);
                assert_eq!(v[0] + v[3] - v[4], v[5], "{key} {}: previous + gained − lost = current", row["label"]);
            }
            "changes" => {
                assert_eq!(v[1], v[2..6].iter().sum::<i64>(), "{key} {}", row["label"]);
                assert_eq!(v[6], v[7..12].iter().sum::<i64>(), "{key} {}", row["label"]);
                assert_eq!(v[0] + v[1] - v[6], v[12], "{key} {}: previous + gained − lost = current", row["label"]);
            }
            "orgs" => assert_eq!(v[0], v[1..].iter().sum::<i64>(), "{key} {}", row["label"]),
            _ => assert_groups_add_up(t, &v),
        }
    }
    let total = row_values(&rows[0]);
    for (j, cell) in total.iter().enumerate() {
        let sum: i64 = rows[1..].iter().map(|r| row_values(r)[j]).sum();
        assert_eq!(sum, *cell, "table {key}: column {j} of the total row against the rows below it");
    }
}

/// Whether the font of each cell (A1 references) of sheet `n` is bold (Python reads the XML).
fn bold(bytes: &[u8], n: usize, cells: &[&str]) -> Vec<bool> {
    let dir = tempdir("dj-report");
    let path = dir.join("r.xlsx");
    std::fs::write(&path, bytes).unwrap();
    let script = r#"
import sys, zipfile, xml.etree.ElementTree as ET
z = zipfile.ZipFile(sys.argv[1]); ns = {'m': 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'}
st = ET.fromstring(z.read('xl/styles.xml'))
fonts = st.find('m:fonts', ns).findall('m:font', ns)
xfs = st.find('m:cellXfs', ns).findall('m:xf', ns)
sh = ET.fromstring(z.read('xl/worksheets/sheet%s.xml' % sys.argv[2]))
out = ''
for ref in sys.argv[3:]:
    c = sh.find(".//m:c[@r='%s']" % ref, ns)
    s = int(c.get('s', '0')) if c is not None else 0
    out += '1' if fonts[int(xfs[s].get('fontId', '0'))].find('m:b', ns) is not None else '0'
sys.stdout.write(out)
"#;
    let out = std::process::Command::new("python3").args(["-c", script]).arg(&path).arg(n.to_string()).args(cells).output().expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().chars().map(|c| c == '1').collect()
}

/// The report of a committee lists its units (docs/domain.md, Party statistics: the 年报's tables):
/// the total first (bold, `total: true`), the members the committee holds itself (本级), then each
/// branch with its figures; totals add up across and down in JSON and in the workbook, the tables
/// agree row by row, and a member moving between the branches is 转出 for one and 转入 for the
/// other (counted in the total's both columns). A branch without child orgs keeps its one row.
#[actix_web::test]
async fn a_committee_report_has_a_row_per_branch_and_a_total_that_adds_up() {
    let fx = Fx::new().await;
    let w = scenario(&fx).await;
    // Beside `scenario`: one member held by the committee itself, one moving from RA to RB.
    add_member(&fx, m("党委委员", Gender::Female, w.r, "2005-07-01", Some("2006-07-01"))).await;
    let mover = add_member(&fx, m("调动党员", Gender::Male, w.ra, "2010-07-01", Some("2011-07-01"))).await;
    change(&fx, mover, "2026-04-01", Some(w.rb), None, None).await;
    let admin = fx.login(users::ADMIN).await;
    let body = json!({"org_id": w.r, "as_of": "2026-06-30", "kind": "half_year"});
    let rep = report_json(&fx, &admin, body.clone()).await;
    let units = ["测试党委", "测试党委（本级）", "测试第一党支部", "测试第二党支部"];
    for t in rep["tables"].as_array().unwrap() {
        let labels: Vec<&str> = t["rows"].as_array().unwrap().iter().map(|r| r["label"].as_str().unwrap()).collect();
        assert_eq!(labels, units, "table {}", t["key"]);
        assert_sums_both_ways(t);
    }
    // 党员增减变化情况 by unit (scenario's table, plus the two): RA loses the mover as 转出, RB
    // gains them as 转入; m15 (restored in RA, then moved to RB) is the committee's 恢复党籍 and
    // counts where they are held at the end, in RB.
    let rows = |key: &str| table(&rep, key)["rows"].as_array().unwrap().iter().map(row_values).collect::<Vec<_>>();
    let changes = rows("changes");
    assert_eq!(changes[0], [11, 5, 1, 2, 2, 0, 7, 3, 2, 1, 1, 0, 9], "total");
    assert_eq!(changes[1], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "本级");
    assert_eq!(changes[2], [6, 2, 1, 0, 1, 0, 5, 1, 2, 1, 1, 0, 3], "RA");
    assert_eq!(changes[3], [4, 3, 0, 2, 1, 0, 2, 2, 0, 0, 0, 0, 5], "RB");
    let notes = table(&rep, "changes")["notes"].to_string();
    assert!(notes.contains("所属单位之间转移组织关系的党员 1 人"), "{notes}");
    // The tables agree row by row: each unit's year-end count is its total in every dimension table.
    let totals = rows("totals");
    assert_eq!(totals[2], [6, 6, 0, 2, 5, 3, 2, 1]);
    for key in ["basic", "joined_period", "education", "age", "job_category"] {
        let current: Vec<i64> = rows(key).iter().map(|v| v[0]).collect();
        assert_eq!(current, totals.iter().map(|v| v[5]).collect::<Vec<_>>(), "table {key} against the totals table");
        assert_eq!(current, changes.iter().map(|v| v[12]).collect::<Vec<_>>(), "table {key} against the changes table");
    }
    // 基本情况 by unit: RA holds m1 (回族, male), m7 (male) and m11 (female, no ethnicity).
    let basic = table(&rep, "basic");
    let cols = columns(basic);
    let at = |row: &[i64], label: &str| row[cols.iter().position(|c| c == label).unwrap() - 1];
    let ra = &rows("basic")[2];
    assert_eq!((at(ra, "男"), at(ra, "女"), at(ra, "汉族"), at(ra, "少数民族"), at(ra, "未填写")), (2, 1, 1, 1, 1));
    // 党组织: the committee in its own row, a branch in each branch's.
    assert_eq!(rows("orgs").iter().map(|v| v[0]).collect::<Vec<_>>(), [3, 1, 1, 1]);

    // The workbook: the same rows under the header, the total bold, the sums read back.
    let r = fx.send(Req::post(URL).token(&admin).json(body)).await;
    r.expect(200);
    let bytes = r.bytes.clone();
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.clone())).unwrap();
    let names = book.sheet_names();
    for (i, t) in rep["tables"].as_array().unwrap().iter().enumerate() {
        let sheet = book.worksheet_range(&names[i]).unwrap();
        let json_rows = t["rows"].as_array().unwrap();
        let width = row_values(&json_rows[0]).len() as u32;
        let grid: Vec<Vec<i64>> = (0..json_rows.len() as u32).map(|r| (1..=width).map(|c| number(&sheet, 4 + r, c)).collect()).collect();
        for (r, row) in json_rows.iter().enumerate() {
            assert_eq!(text(&sheet, 4 + r as u32, 0), row["label"].as_str().unwrap(), "sheet {}", names[i]);
            assert_eq!(grid[r], row_values(row), "sheet {} row {r}", names[i]);
        }
        assert!(text(&sheet, 4 + json_rows.len() as u32, 0).is_empty(), "sheet {}: no more data rows", names[i]);
        for c in 0..width as usize {
            assert_eq!(grid[0][c], grid[1..].iter().map(|r| r[c]).sum::<i64>(), "sheet {} column {c}: total = sum of the rows", names[i]);
        }
        // Bold: the total row's label and figure, not the units'.
        assert_eq!(bold(&bytes, i + 1, &["A5", "B5", "A6", "B6", "A8", "B8"]), [true, true, false, false, false, false], "sheet {}", names[i]);
    }
    let basic = book.worksheet_range("基本情况").unwrap();
    for r in 4..8 {
        // 党员总数 = 男 + 女 across each row of the sheet.
        assert_eq!(number(&basic, r, 1), number(&basic, r, 2) + number(&basic, r, 3), "row {r}");
    }
    libreoffice_opens(
        &bytes,
        &["党员总数及增减情况", "\"测试党委\",11,10,1,5,7,9,8,1", "\"测试第一党支部\",6,6,0,2,5,3,2,1", "\"测试第二党支部\",4,3,1,3,2,5,5,0"],
    );

    // A branch without child orgs: its one row, as before.
    let leaf = report_json(&fx, &admin, json!({"org_id": w.ra, "as_of": "2026-06-30", "kind": "half_year"})).await;
    for t in leaf["tables"].as_array().unwrap() {
        let rows = t["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "table {}", t["key"]);
        assert_eq!((rows[0]["label"].as_str(), rows[0]["total"].as_bool()), (Some("测试第一党支部"), Some(true)));
    }
    assert_eq!(values(table(&leaf, "changes")), [6, 2, 1, 0, 1, 0, 5, 1, 2, 1, 1, 0, 3], "the branch's own report agrees with its row");
    assert!(!table(&leaf, "totals")["notes"].to_string().contains("合计等于各行之和"));
}

/// xl/worksheets/sheet{n}.xml of a workbook (Python's zipfile: no zip crate in the tree).
fn sheet_xml(bytes: &[u8], n: usize) -> String {
    let dir = tempdir("dj-report");
    let path = dir.join("r.xlsx");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())"])
        .arg(&path)
        .arg(format!("xl/worksheets/sheet{n}.xml"))
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[actix_web::test]
async fn scope_roles_and_invalid_bodies() {
    let fx = Fx::new().await;
    let o = fx.orgs;
    let br = fx.login(users::BR_B1).await;
    let ok = |org: i64| json!({"org_id": org, "as_of": "2025-12-31", "kind": "annual"});
    // A branch worker: their branch (with its group), not another branch; the default org is theirs.
    let rep = report_json(&fx, &br, ok(o.b1)).await;
    assert_eq!(values(table(&rep, "totals"))[5], 3, "张三, 李四 and 王五 (in the group B1-1)");
    let rep = report_json(&fx, &br, json!({"as_of": "2025-12-31", "kind": "annual"})).await;
    assert_eq!(rep["org_id"], json!(o.b1));
    fx.send(Req::post(URL).token(&br).header("Accept", "application/json").json(ok(o.b2))).await.expect_problem(403, "out_of_scope");
    fx.send(Req::post(URL).token(&br).json(ok(o.c1))).await.expect_problem(403, "out_of_scope");
    // A committee worker: not the other committee.
    let com = fx.login(users::COM_C1).await;
    report_json(&fx, &com, ok(o.g1)).await;
    fx.send(Req::post(URL).token(&com).json(ok(o.b3))).await.expect_problem(403, "out_of_scope");
    // The member role may not generate reports at all.
    let member = fx.login(users::MEMBER_ZS).await;
    fx.send(Req::post(URL).token(&member).json(ok(o.b1))).await.expect_problem(403, "role_not_allowed");
    // 李四 is a member and a branch worker: the branch grant admits the report, and the watermark names her.
    let multi = fx.login(users::MULTI).await;
    assert_eq!(report_json(&fx, &multi, ok(o.b1)).await["generated_by"], "李四");

    // Invalid bodies name the field.
    let admin = fx.login(users::ADMIN).await;
    let cases = [
        (json!({"org_id": "x", "as_of": "2025-12-31", "kind": "annual"}), 400, "org_id"),
        (json!({"org_id": o.c1, "as_of": "2025-13-01", "kind": "annual"}), 400, "as_of"),
        (json!({"org_id": o.c1, "kind": "annual"}), 400, "as_of"),
        (json!({"org_id": o.c1, "as_of": "2025-12-31", "kind": "monthly"}), 400, "kind"),
        (json!({"org_id": o.c1, "as_of": "2025-12-31"}), 400, "kind"),
        (json!({"org_id": o.c1, "as_of": "2025-12-31", "kind": "annual", "format": "pdf"}), 400, "format"),
        (json!({"org_id": o.c1, "as_of": "2999-12-31", "kind": "annual"}), 422, "as_of"),
        (json!({"org_id": 999_999, "as_of": "2025-12-31", "kind": "annual"}), 422, "org_id"),
        // The institution has two top-level committees: say which.
        (json!({"as_of": "2025-12-31", "kind": "annual"}), 422, "org_id"),
    ];
    for (body, status, field) in cases {
        let r = fx.send(Req::post(URL).token(&admin).header("Accept", "application/json").json(body.clone())).await;
        r.expect(status);
        assert_eq!(r.first_error().0, field, "{body}: {}", r.text);
    }
}
