//! Spreadsheet imports: files written by other programs (openpyxl, xlwt, a hand-made ODS, UTF-8
//! and GBK CSV: `tests/fixtures/make_fixtures.py`), each quirk a clerk's file has, each problem
//! a row can have, the bad files that must leave nothing behind, dry run vs commit, skip_invalid,
//! the idempotent second run, scope, the templates, the list, the detail, the annotated workbook
//! and the audit entries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Cursor;

use calamine::{Data, Reader, SheetVisible};
use common::{Fx, Req, Resp, users};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::Value;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

const BOUNDARY: &str = "----dangjian-test-boundary";

/// A multipart/form-data body with one file field.
fn multipart(field: &str, file_name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body =
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
            .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn upload_req(kind: &str, query: &str, file_name: &str, bytes: &[u8]) -> Req {
    Req::post(format!("/api/v1/imports/{kind}?{query}")).raw(&format!("multipart/form-data; boundary={BOUNDARY}"), multipart("file", file_name, bytes))
}

async fn upload(fx: &Fx, token: &str, kind: &str, query: &str, name: &str) -> Resp {
    fx.send(upload_req(kind, query, name, &fixture(name)).token(token)).await
}

async fn count(fx: &Fx, table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let r: N = diesel::sql_query(format!("SELECT count(*) AS n FROM {table}")).get_result(&mut fx.conn().await).await.unwrap();
    r.n
}

/// (people, members, orgs, imports, audit_log) row counts.
async fn counts(fx: &Fx) -> [i64; 5] {
    [count(fx, "people").await, count(fx, "members").await, count(fx, "orgs").await, count(fx, "imports").await, count(fx, "audit_log").await]
}

async fn person(fx: &Fx, name: &str) -> i64 {
    use dangjian::schema::people as p;
    p::table.filter(p::name.eq(name)).select(p::id).first(&mut fx.conn().await).await.unwrap_or_else(|_| panic!("no person {name}"))
}

async fn org_id(fx: &Fx, code: &str) -> Option<i64> {
    use dangjian::schema::orgs as o;
    o::table.filter(o::code.eq(code)).select(o::id).first(&mut fx.conn().await).await.optional().unwrap()
}

fn counts_of(r: &Value) -> (i64, i64, i64, i64, i64) {
    let n = |k: &str| r[k].as_i64().unwrap_or(-1);
    (n("rows_read"), n("created"), n("updated"), n("unchanged"), n("invalid"))
}

/// The report's problems as "row:column:code".
fn problems(r: &Value) -> Vec<String> {
    r["problems"].as_array().unwrap().iter().map(|p| format!("{}:{}:{}", p["row"], p["column"].as_str().unwrap_or("-"), p["code"].as_str().unwrap())).collect()
}

#[actix_web::test]
async fn a_messy_file_is_read_as_a_patient_clerk_would_and_a_second_run_changes_nothing() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let before = counts(&fx).await;

    // Dry run: counts of what would happen, nothing written but the import's record.
    let r = upload(&fx, &admin, "members", "dry_run=true", "members_messy.xlsx").await;
    r.expect(200);
    assert_eq!(counts_of(&r.json), (4, 4, 0, 0, 0), "{}", r.text);
    assert_eq!((r.json["dry_run"].as_bool(), r.json["committed"].as_bool(), r.json["kind"].as_str()), (Some(true), Some(false), Some("members")));
    // The title rows are skipped; the one unknown column is reported once, on the header row.
    assert_eq!(problems(&r.json), ["3:备注:unknown_column"]);
    let after_dry = counts(&fx).await;
    assert_eq!(after_dry[..3], before[..3], "a dry run writes no people, members or orgs");
    assert_eq!(after_dry[3], before[3] + 1, "the dry run is recorded");

    // Commit.
    let r = upload(&fx, &admin, "members", "dry_run=false", "members_messy.xlsx").await;
    r.expect(200);
    assert_eq!(counts_of(&r.json), (4, 4, 0, 0, 0), "{}", r.text);
    assert_eq!(r.json["committed"], true);
    let import_id = r.json["import_id"].as_i64().unwrap();
    assert_eq!(counts(&fx).await[0], before[0] + 4);

    let get = |id: i64| fx.send(Req::get(format!("/api/v1/members/{id}")).token(&admin));
    let sun1 = get(person(&fx, "孙一").await).await.json; // trailing space in the name trimmed
    assert_eq!(sun1["id_number"].as_str().unwrap().chars().last(), Some('X'), "lower-case x upper-cased: {sun1}");
    assert_eq!(
        (sun1["birth_date"].as_str(), sun1["joined_at"].as_str(), sun1["full_member_at"].as_str()),
        (Some("1980-05-06"), Some("2010-07-01"), Some("2011-07-01"))
    );
    assert_eq!(sun1["phone"], "13912345678", "full-width digits converted");
    assert_eq!((sun1["external_id"].as_str(), sun1["org_id"].as_i64(), sun1["gender"].as_str()), (Some("E001"), Some(fx.orgs.b1), Some("male")));
    let sun2 = get(person(&fx, "孙二").await).await.json;
    assert_eq!(sun2["org_id"], fx.orgs.b2, "所在党组织 by its full name");
    assert_eq!(
        (sun2["joined_at"].as_str(), sun2["full_member_at"].as_str(), sun2["birth_date"].as_str()),
        (Some("2012-07-01"), Some("2013-07-01"), Some("1985-09-10"))
    );
    assert_eq!((sun2["ethnicity"].as_str(), sun2["education"].as_str()), (Some("回族"), Some("研究生")));
    let sun3 = get(person(&fx, "孙三").await).await.json;
    assert_eq!(
        (sun3["org_id"].as_i64(), sun3["category"].as_str(), sun3["joined_at"].as_str()),
        (Some(fx.orgs.b1_1), Some("probationary"), Some("2026-01-15"))
    );
    let sun5 = get(person(&fx, "孙五").await).await.json;
    assert_eq!(
        (sun5["birth_date"].as_str(), sun5["joined_at"].as_str(), sun5["full_member_at"].as_str()),
        (Some("1975-03-04"), Some("2000-07-01"), Some("2001-07-01"))
    );

    // Every created member is audited with the import as its cause.
    let audit = fx.audit("member", sun1["id"].as_i64().unwrap()).await;
    assert_eq!(audit.len(), 2, "{audit:?}"); // the import, and the read of personal data above
    assert_eq!(audit[0].0, "import");
    assert_eq!(audit[0].3.as_ref().unwrap()["import_id"], import_id);
    assert_eq!(audit[0].3.as_ref().unwrap()["name"], "孙一");
    // The entry shows the member as the API's list does (personal data masked).
    let mut after = audit[0].3.clone().unwrap();
    after.as_object_mut().unwrap().remove("import_id");
    let listed = fx.send(Req::get(format!("/api/v1/members?org_id={}&q=%E5%AD%99%E4%B8%80", fx.orgs.b1)).token(&admin)).await.json; // 孙一
    assert_eq!(after, listed["items"][0]);

    // The same file again: matched by 外部编号 or ID number, nothing changes and it says so.
    let audit_rows = count(&fx, "audit_log").await;
    let r = upload(&fx, &admin, "members", "dry_run=false", "members_messy.xlsx").await;
    assert_eq!(counts_of(&r.json), (4, 0, 0, 4, 0), "{}", r.text);
    assert_eq!(count(&fx, "audit_log").await, audit_rows, "an unchanged row writes no audit entry");
    assert_eq!(counts(&fx).await[0], before[0] + 4);
}

#[actix_web::test]
async fn every_row_problem_is_reported_and_invalid_rows_block_the_commit_unless_skipped() {
    let fx = Fx::new().await;
    let com = fx.login(users::COM_C1).await;
    let before = counts(&fx).await;
    let r = upload(&fx, &com, "members", "dry_run=true", "members_errors.xlsx").await;
    r.expect(200);
    assert_eq!(counts_of(&r.json), (10, 1, 0, 0, 9), "{}", r.text);
    assert_eq!(
        problems(&r.json),
        [
            "3:公民身份号码:id_number_checksum",
            "4:公民身份号码:id_number_as_number",
            "5:出生日期:invalid_date",
            "6:入党日期:before_18th_birthday",
            "7:转正日期:probation_length",
            "8:党组织编码:unknown_org",
            "9:公民身份号码:duplicate_in_file",
            "10:党组织编码:out_of_scope",
            "11:公民身份号码:id_number_gender_mismatch",
        ],
        "{}",
        r.text
    );
    // Messages are in Chinese.
    for p in r.json["problems"].as_array().unwrap() {
        assert!(p["message"].as_str().unwrap().chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{p}");
    }
    assert!(r.json["problems"][6]["message"].as_str().unwrap().contains("第 2 行"), "the duplicate names the first row");

    // A commit with invalid rows writes nothing (but records the attempt).
    let r = upload(&fx, &com, "members", "dry_run=false", "members_errors.xlsx").await;
    assert_eq!((r.json["committed"].as_bool(), r.json["created"].as_i64()), (Some(false), Some(1)), "{}", r.text);
    let now = counts(&fx).await;
    assert_eq!((now[0], now[1], now[2], now[4]), (before[0], before[1], before[2], before[4]), "nothing written");

    // skip_invalid: the valid row goes in.
    let r = upload(&fx, &com, "members", "dry_run=false&skip_invalid=true", "members_errors.xlsx").await;
    assert_eq!((r.json["committed"].as_bool(), r.json["created"].as_i64(), r.json["invalid"].as_i64()), (Some(true), Some(1), Some(9)), "{}", r.text);
    assert_eq!(counts(&fx).await[0], before[0] + 1);
    person(&fx, "周一").await;

    // The same rows as political_dept over everything: B3 is now in scope.
    let admin = fx.login(users::ADMIN).await;
    let r = upload(&fx, &admin, "members", "dry_run=true", "members_errors.xlsx").await;
    assert!(!problems(&r.json).iter().any(|p| p.contains("out_of_scope")), "{}", r.text);
}

#[actix_web::test]
async fn csv_in_utf8_and_gbk_xls_and_ods_are_read_alike() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    for name in ["members_utf8.csv", "members_gbk.csv", "members.xls", "members.ods"] {
        let r = upload(&fx, &admin, "members", "dry_run=true", name).await;
        r.expect(200);
        assert_eq!(counts_of(&r.json), (2, 2, 0, 0, 0), "{name}: {}", r.text);
        assert!(r.json["problems"].as_array().unwrap().is_empty(), "{name}: {}", r.text);
    }
    let r = upload(&fx, &admin, "members", "dry_run=false", "members_gbk.csv").await;
    assert_eq!(counts_of(&r.json), (2, 2, 0, 0, 0), "{}", r.text);
    let wu1 = fx.send(Req::get(format!("/api/v1/members/{}", person(&fx, "吴一").await)).token(&admin)).await.json;
    assert_eq!((wu1["joined_at"].as_str(), wu1["org_id"].as_i64()), (Some("2005-07-01"), Some(fx.orgs.b2)));
    // The same people from the other formats: unchanged.
    for name in ["members_utf8.csv", "members.xls", "members.ods"] {
        let r = upload(&fx, &admin, "members", "dry_run=false", name).await;
        assert_eq!(counts_of(&r.json), (2, 0, 0, 2, 0), "{name}: {}", r.text);
    }
}

#[actix_web::test]
async fn a_changed_row_updates_the_member_it_matches() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    upload(&fx, &admin, "members", "dry_run=false", "members_utf8.csv").await.expect(200);
    let id = person(&fx, "吴一").await;
    let version = fx.member_version(id).await;
    // Same 外部编号, a new name and org; the columns left out keep their values.
    let csv = "外部编号,姓名,党组织编码\nF001,吴一一,B1\n";
    let r = fx.send(upload_req("members", "dry_run=false", "change.csv", csv.as_bytes()).token(&admin)).await;
    assert_eq!(counts_of(&r.json), (1, 0, 1, 0, 0), "{}", r.text);
    let m = fx.send(Req::get(format!("/api/v1/members/{id}")).token(&admin)).await.json;
    assert_eq!((m["name"].as_str(), m["org_id"].as_i64(), m["joined_at"].as_str()), (Some("吴一一"), Some(fx.orgs.b1), Some("2005-07-01")));
    assert_eq!(fx.member_version(id).await, version + 1);
    let audit = fx.audit("member", id).await;
    let last = audit.iter().rev().find(|a| a.0 == "import").unwrap();
    assert_eq!((last.2.as_ref().unwrap()["name"].as_str(), last.3.as_ref().unwrap()["name"].as_str()), (Some("吴一"), Some("吴一一")));
    let mut after = last.3.clone().unwrap();
    after.as_object_mut().unwrap().remove("import_id");
    let listed = fx.send(Req::get(format!("/api/v1/members?org_id={}&q=%E5%90%B4", fx.orgs.b1)).token(&admin)).await.json; // 吴
    assert_eq!(after, listed["items"][0], "after = the record as listed, version bumped");
    // A member of another scope cannot be changed by a file.
    let com2 = fx.login(users::COM_C2).await;
    let r = fx.send(upload_req("members", "dry_run=true", "change.csv", "外部编号,姓名\nF001,吴某\n".as_bytes()).token(&com2)).await;
    assert_eq!(problems(&r.json), ["2:党组织编码:out_of_scope"], "{}", r.text);
    // A repeated column: the first counts, the second is reported and skipped.
    let r = fx.send(upload_req("members", "dry_run=true", "twice.csv", "外部编号,姓名,姓 名\nF001,吴一一,别名\n".as_bytes()).token(&admin)).await;
    assert_eq!(problems(&r.json), ["1:姓 名:duplicate_column"], "{}", r.text);
    assert_eq!(counts_of(&r.json), (1, 0, 0, 1, 0), "{}", r.text);
}

#[actix_web::test]
async fn bad_files_are_refused_and_leave_nothing_behind() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let before = counts(&fx).await;
    let check = async |r: Resp, status: u16, code: &str| {
        r.expect_problem(status, code);
        assert!(r.json["detail_zh"].as_str().is_some_and(|s| !s.is_empty()), "{}", r.text);
        assert_eq!(counts(&fx).await, before, "{code}: nothing written");
    };
    check(upload(&fx, &admin, "members", "dry_run=false", "not_a_spreadsheet.xlsx").await, 422, "not_a_spreadsheet").await;
    check(upload(&fx, &admin, "members", "dry_run=false", "encrypted.xlsx").await, 422, "encrypted_file").await;
    check(upload(&fx, &admin, "members", "dry_run=false", "zip_bomb.xlsx").await, 413, "uncompressed_too_large").await;
    let big = vec![b'a'; dangjian::imports::MAX_FILE_BYTES + 1];
    check(fx.send(upload_req("members", "dry_run=false", "big.csv", &big).token(&admin)).await, 413, "file_too_large").await;
    let mut many = String::from("姓名,性别\n");
    for _ in 0..=dangjian::imports::MAX_ROWS {
        many.push_str("张,男\n");
    }
    // (A file this size would run as a job, which would fail the same way: kept in the request.)
    check(fx.send(upload_req("members", "dry_run=false&background=false", "many.csv", many.as_bytes()).token(&admin)).await, 422, "too_many_rows").await;
    check(fx.send(upload_req("members", "dry_run=false", "x.csv", "a,b\n1,2\n".as_bytes()).token(&admin)).await, 422, "no_header_row").await;
    let no_file =
        Req::post("/api/v1/imports/members?dry_run=false").raw(&format!("multipart/form-data; boundary={BOUNDARY}"), multipart("other", "a.csv", b"x"));
    check(fx.send(no_file.token(&admin)).await, 422, "validation_failed").await;
    check(fx.send(upload_req("people", "dry_run=false", "a.csv", b"x").token(&admin)).await, 422, "validation_failed").await;
}

#[actix_web::test]
async fn orgs_are_imported_with_parents_from_earlier_rows_and_scope_checked() {
    let fx = Fx::new().await;
    let com = fx.login(users::COM_C1).await;
    let r = upload(&fx, &com, "orgs", "dry_run=true", "orgs.xlsx").await;
    r.expect(200);
    assert_eq!(counts_of(&r.json), (4, 2, 1, 0, 1), "{}", r.text);
    assert_eq!(problems(&r.json), ["5:上级党组织编码:out_of_scope"]);
    assert_eq!(org_id(&fx, "B4").await, None, "dry run");
    let r = upload(&fx, &com, "orgs", "dry_run=false", "orgs.xlsx").await;
    assert_eq!(r.json["committed"], false, "blocked by the invalid row");
    assert_eq!(org_id(&fx, "B4").await, None);
    let r = upload(&fx, &com, "orgs", "dry_run=false&skip_invalid=true", "orgs.xlsx").await;
    assert_eq!((r.json["committed"].as_bool(), r.json["created"].as_i64(), r.json["updated"].as_i64()), (Some(true), Some(2), Some(1)), "{}", r.text);
    let b4 = org_id(&fx, "B4").await.unwrap();
    let b4_1 = org_id(&fx, "B4-1").await.unwrap();
    let path = fx.send(Req::get(format!("/api/v1/orgs/{b4_1}/path")).token(&com)).await.json;
    let codes: Vec<&str> = path.as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["C1", "G1", "B4", "B4-1"]);
    let b4j = fx.send(Req::get(format!("/api/v1/orgs/{b4}")).token(&com)).await.json;
    assert_eq!(
        (b4j["founded_on"].as_str(), b4j["term_start"].as_str(), b4j["term_end"].as_str()),
        (Some("2026-07-01"), Some("2026-07-01"), Some("2029-06-30"))
    );
    let b2 = fx.send(Req::get(format!("/api/v1/orgs/{}", fx.orgs.b2)).token(&com)).await.json;
    assert_eq!(b2["name"], "机关第二党支部（更名）");
    let audit = fx.audit("org", b4).await;
    assert_eq!(audit[0].0, "import");
    assert_eq!(audit[0].3.as_ref().unwrap()["import_id"], r.json["import_id"]);
    let r = upload(&fx, &com, "orgs", "dry_run=false&skip_invalid=true", "orgs.xlsx").await;
    assert_eq!(counts_of(&r.json), (4, 0, 0, 3, 1), "second run: {}", r.text);
}

#[actix_web::test]
async fn templates_have_the_headers_lists_and_explanations_and_import_cleanly() {
    let fx = Fx::new().await;
    let br = fx.login(users::BR_B1).await;
    let r = fx.send(Req::get("/api/v1/imports/templates/members").token(&br)).await;
    r.expect(200);
    assert_eq!(r.header("content-type"), Some(dangjian::http::XLSX_TYPE));
    let cd = r.header("content-disposition").unwrap();
    assert!(cd.starts_with("attachment;") && cd.contains("filename*=UTF-8''%E5%85%9A%E5%91%98%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"), "{cd}"); // 党员导入模板.xlsx
    let bytes = fx_bytes(&fx, Req::get("/api/v1/imports/templates/members").token(&br)).await;
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.clone())).unwrap();
    let names: Vec<(String, SheetVisible)> = book.sheets_metadata().iter().map(|s| (s.name.clone(), s.visible)).collect();
    assert_eq!(names, [("党员信息".into(), SheetVisible::Visible), ("说明".into(), SheetVisible::Visible), ("代码表".into(), SheetVisible::Hidden)]);
    let data = book.worksheet_range("党员信息").unwrap();
    let header: Vec<String> = data.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(
        header,
        [
            "外部编号",
            "姓名",
            "性别",
            "公民身份号码",
            "民族",
            "出生日期",
            "学历",
            "工作岗位",
            "人员类别",
            "党组织编码",
            "入党日期",
            "转正日期",
            "手机号码",
            "党籍状态"
        ]
    );
    assert!(matches!(data.get((1, 10)), Some(Data::DateTime(_))), "the example's dates are dates: {:?}", data.get((1, 10)));
    let lists = book.worksheet_range("代码表").unwrap();
    let list_header: Vec<String> = lists.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(list_header, ["性别", "民族", "学历", "工作岗位", "人员类别", "党组织编码", "党籍状态"]);
    let column = |i: usize| lists.rows().skip(1).map(|r| r[i].to_string()).filter(|s| !s.is_empty()).collect::<Vec<_>>();
    assert_eq!(column(5), ["B1", "B1-1"], "the org codes of the branch worker's scope");
    assert_eq!(column(1).len(), 58);
    assert_eq!(column(4), ["正式党员", "预备党员"]);
    let help = book.worksheet_range("说明").unwrap();
    assert_eq!(help.get((0, 0)).map(|c| c.to_string()).as_deref(), Some("列名"));
    assert_eq!(help.get((4, 0)).map(|c| c.to_string()).as_deref(), Some("公民身份号码"));
    // The drop-downs, as another program reads them: lists pointing at 代码表.
    let dvs = validations_by_openpyxl(&bytes);
    assert_eq!(dvs.len(), 7, "{dvs:?}");
    assert!(dvs.iter().any(|d| d.starts_with("list ") && d.contains("代码表'!$F$2:$F$3") && d.ends_with("J2:J10001")), "{dvs:?}");

    // The template itself imports: its example row is valid.
    let r = fx.send(upload_req("members", "dry_run=true", "模板.xlsx", &bytes).token(&br)).await;
    assert_eq!(counts_of(&r.json), (1, 1, 0, 0, 0), "{}", r.text);

    let orgs = fx_bytes(&fx, Req::get("/api/v1/imports/templates/orgs").token(&br)).await;
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(orgs)).unwrap();
    let data = book.worksheet_range_at(0).unwrap().unwrap();
    let header: Vec<String> = data.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(header, ["外部编号", "党组织编码", "党组织名称", "党组织类别", "上级党组织编码", "成立日期", "本届任期开始", "本届任期届满"]);
}

/// The raw bytes of a download.
async fn fx_bytes(fx: &Fx, req: Req) -> Vec<u8> {
    let r = fx.send(req).await;
    r.expect(200);
    r.bytes
}

/// Data validations of the first sheet as openpyxl (another program) reads them: (type, formula, range).
fn validations_by_openpyxl(xlsx: &[u8]) -> Vec<String> {
    let path = std::env::temp_dir().join(format!("dj_template_{:016x}.xlsx", rand::random::<u64>()));
    std::fs::write(&path, xlsx).unwrap();
    let script = "import sys, openpyxl\nws = openpyxl.load_workbook(sys.argv[1]).worksheets[0]\nfor dv in ws.data_validations.dataValidation:\n    print(dv.type, dv.formula1, dv.sqref)";
    let out = std::process::Command::new("/usr/bin/python3").args(["-c", script]).arg(&path).output().expect("python3 (apt-get install python3-openpyxl)");
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "openpyxl: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect()
}

#[actix_web::test]
async fn imports_are_listed_in_scope_with_reports_and_an_annotated_workbook() {
    let fx = Fx::new().await;
    let com = fx.login(users::COM_C1).await;
    let r = upload(&fx, &com, "members", "dry_run=true", "members_errors.xlsx").await;
    let id = r.json["import_id"].as_i64().unwrap();

    let list = fx.send(Req::get("/api/v1/imports").token(&com)).await;
    list.expect(200);
    assert_eq!(list.json["total"], 1);
    let item = &list.json["items"][0];
    assert_eq!((item["id"].as_i64(), item["created_by"].as_str(), item["file_name"].as_str()), (Some(id), Some("com_c1"), Some("members_errors.xlsx")));
    assert_eq!(
        (item["kind"].as_str(), item["dry_run"].as_bool(), item["committed"].as_bool(), item["invalid"].as_i64()),
        (Some("members"), Some(true), Some(false), Some(9))
    );
    // Political_dept over everything sees it; a branch worker below, and another committee, do not.
    let admin = fx.login(users::ADMIN).await;
    assert_eq!(fx.send(Req::get("/api/v1/imports").token(&admin)).await.json["total"], 1);
    let br = fx.login(users::BR_B1).await;
    assert_eq!(fx.send(Req::get("/api/v1/imports").token(&br)).await.json["total"], 0);
    let com2 = fx.login(users::COM_C2).await;
    fx.send(Req::get(format!("/api/v1/imports/{id}")).token(&com2)).await.expect_problem(403, "out_of_scope");
    fx.send(Req::get("/api/v1/imports/999999").token(&com2)).await.expect_problem(404, "not_found");

    let detail = fx.send(Req::get(format!("/api/v1/imports/{id}")).token(&admin)).await;
    detail.expect(200);
    assert_eq!(detail.json["created_by"], "com_c1");
    assert_eq!(detail.json["report"]["problems"], r.json["problems"]);
    assert_eq!(detail.json["report"]["import_id"], id);

    let res = fx.send(Req::get(format!("/api/v1/imports/{id}/annotated")).token(&com)).await;
    res.expect(200);
    assert_eq!(res.header("content-type"), Some(dangjian::http::XLSX_TYPE));
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(res.bytes.clone())).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let cell = |r: usize, c: usize| sheet.get((r, c)).map(|d| d.to_string()).unwrap_or_default();
    assert_eq!(cell(0, 0), "姓名", "the original cells are kept");
    assert_eq!(cell(0, 8), "错误说明");
    assert_eq!(cell(1, 8), "", "the valid row has no note");
    assert!(cell(2, 8).contains("【公民身份号码】") && cell(2, 8).contains("校验"), "{}", cell(2, 8));
    assert!(cell(9, 8).contains("管理范围"), "{}", cell(9, 8));
    assert_eq!(cell(2, 1), "男");
    // A CSV upload is annotated as XLSX as well.
    let r = upload(&fx, &com, "members", "dry_run=true", "members_gbk.csv").await;
    let res = fx.send(Req::get(format!("/api/v1/imports/{}/annotated", r.json["import_id"])).token(&com)).await;
    res.expect(200);
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(res.bytes.clone())).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(sheet.get((1, 1)).map(|d| d.to_string()).as_deref(), Some("吴一"));
}

#[actix_web::test]
async fn org_rows_are_checked_like_the_api() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let csv = "外部编号,党组织编码,党组织名称,党组织类别,上级党组织编码,本届任期开始,本届任期届满\n\
               X1,B 9,错误编码支部,党支部,G1,,\n\
               X2,B10,任期倒置支部,党支部,G1,2026-07-01,2025-07-01\n\
               X2,B11,外部编号重复,党支部,G1,,\n\
               X3,B12,无上级,党支部,NOPE,,\n\
               X4,B13,小组挂党委,党小组,C1,,\n\
               ,B1,机关第一党支部,党总支,G1,,\n\
               ,B14,类别不明,支部委员会,G1,,\n";
    let before = counts(&fx).await;
    let r = fx.send(upload_req("orgs", "dry_run=false", "orgs.csv", csv.as_bytes()).token(&admin)).await;
    r.expect(200);
    assert_eq!(
        problems(&r.json),
        [
            "2:党组织编码:invalid_code",
            "3:本届任期届满:before_term_start",
            "4:外部编号:duplicate_in_file",
            "5:上级党组织编码:unknown_org",
            "6:上级党组织编码:kind_not_allowed_here",
            "7:党组织类别:kind_change_not_supported",
            "8:党组织类别:invalid_value",
        ],
        "{}",
        r.text
    );
    assert_eq!((r.json["committed"].as_bool(), r.json["invalid"].as_i64()), (Some(false), Some(7)));
    let now = counts(&fx).await;
    assert_eq!((now[0], now[1], now[2], now[4]), (before[0], before[1], before[2], before[4]), "nothing written");
}

/// run_import is what a background job calls: a plain async fn over a connection, reporting
/// progress as (done, total) with a growing fraction that ends at 1.
#[actix_web::test]
async fn run_import_reports_progress_as_a_job_would_show_it() {
    use dangjian::imports::{ImportKind, ImportOptions, Importer, run_import};
    let fx = Fx::new().await;
    let importer = Importer {
        account_id: fx.accounts[users::ADMIN],
        ip: None,
        scope: dangjian::auth::Scope { all: true, org_roots: Vec::new(), person_id: None },
        today: fx.today(),
    };
    let key = fx.shared.state.config.data_key.clone();
    let mut conn = fx.conn().await;
    for dry_run in [true, false] {
        let mut seen: Vec<(usize, usize)> = Vec::new();
        let options = ImportOptions { dry_run, skip_invalid: false };
        let bytes = fixture("members_messy.xlsx");
        let report = run_import(&mut conn, &key, &importer, ImportKind::Members, "members_messy.xlsx", &bytes, options, None, &mut |d, t| seen.push((d, t)))
            .await
            .unwrap();
        assert_eq!((report.created, report.committed), (4, !dry_run));
        let last = *seen.last().unwrap();
        assert_eq!(last.0, last.1, "ends at 100%: {seen:?}");
        let fractions: Vec<f64> = seen.iter().map(|(d, t)| *d as f64 / *t as f64).collect();
        assert!(fractions.windows(2).all(|w| w[0] <= w[1]), "never goes back: {seen:?}");
    }
}

/// A large upload runs as a background job: 202 {job_id, import_id} at once and nothing written,
/// then a worker (any server process) runs it; the job shows progress and, as its result, the
/// same report the import keeps. A file of 1 MB or more goes to the background by default, and a
/// job that cannot read its file fails with the reason in Chinese.
#[actix_web::test]
async fn a_large_file_runs_as_a_job_that_reports_progress_and_the_report() {
    use dangjian::config::Config;
    use dangjian::crypto::DataKey;
    use dangjian::jobs::{Registry, Worker};
    let fx = Fx::new().await;
    let token = fx.login(users::ADMIN).await;
    let before = counts(&fx).await;
    let r = fx.send(upload_req("members", "dry_run=false&background=true", "members_messy.xlsx", &fixture("members_messy.xlsx")).token(&token)).await;
    r.expect(202);
    let (job_id, import_id) = (r.json["job_id"].as_i64().unwrap(), r.json["import_id"].as_i64().unwrap());
    let queued = counts(&fx).await;
    assert_eq!((queued[0], queued[1], queued[3], queued[4]), (before[0], before[1], before[3] + 1, before[4]), "only the import's own row before the job runs");
    let job = fx.send(Req::get(format!("/api/v1/jobs/{job_id}")).token(&token)).await;
    job.expect(200);
    assert_eq!(job.json["status"], "queued", "{}", job.text);

    let config = Config::for_database(fx.db.url.clone(), DataKey::from_bytes(common::DATA_KEY), common::JWT_SECRET).unwrap();
    let worker = Worker::new(dangjian::db::pool(&fx.db.url, 4, config.pool_timeout, config.clock).unwrap(), config, Registry::standard());
    assert_eq!(worker.drain().await.unwrap(), 1);

    let job = fx.send(Req::get(format!("/api/v1/jobs/{job_id}")).token(&token)).await;
    job.expect(200);
    assert_eq!(job.json["status"], "succeeded", "{}", job.text);
    assert_eq!(job.json["progress"]["done"], job.json["progress"]["total"], "{}", job.text);
    let report = &job.json["result"];
    assert_eq!((report["import_id"].as_i64(), report["created"].as_i64(), report["committed"].as_bool()), (Some(import_id), Some(4), Some(true)), "{report}");
    let detail = fx.send(Req::get(format!("/api/v1/imports/{import_id}")).token(&token)).await;
    detail.expect(200);
    assert_eq!(&detail.json["report"], report, "the import keeps the job's report");
    assert_eq!(detail.json["job_id"].as_i64(), Some(job_id));
    assert_eq!(counts(&fx).await[0], before[0] + 4, "the members were written");
    let audited: i64 = {
        use dangjian::schema::audit_log as l;
        l::table
            .filter(l::action.eq("import"))
            .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!("(after->>'import_id')::bigint = {import_id}")))
            .count()
            .get_result(&mut fx.conn().await)
            .await
            .unwrap()
    };
    assert_eq!(audited, 4, "each created member audited with the import as its cause");

    // A file of 1 MB or more: a job by default.
    let mut big = String::from("姓名,公民身份号码,党组织编码\n");
    while big.len() < 1024 * 1024 {
        big.push_str("张三,110101199003070000,NOPE\n");
    }
    let r = fx.send(upload_req("members", "dry_run=true", "big.csv", big.as_bytes()).token(&token)).await;
    r.expect(202);
    // A file a job cannot read: the job fails and says why.
    let r = fx.send(upload_req("members", "dry_run=true&background=true", "notes.csv", "just some notes\nnothing else\n".as_bytes()).token(&token)).await;
    r.expect(202);
    let bad = r.json["job_id"].as_i64().unwrap();
    assert_eq!(worker.drain().await.unwrap(), 2);
    let job = fx.send(Req::get(format!("/api/v1/jobs/{bad}")).token(&token)).await;
    assert_eq!(job.json["status"], "failed", "{}", job.text);
    assert!(job.json["error"].as_str().unwrap().contains("没有找到"), "{}", job.text);
    // Not a spreadsheet at all is refused at once, not queued.
    fx.send(upload_req("members", "background=true", "a.exe", b"MZ\x90\x00\x03\x00\x00\x00").token(&token)).await.expect_problem(422, "not_a_spreadsheet");
}

/// A file is read, checked and written in steps of 5,000 rows: a row near the end that repeats
/// an earlier one (a step already written) still blocks the commit, and everything the earlier
/// steps wrote goes back; the dry run and the blocked commit report the same problems, and
/// `skip_invalid` writes every row but that one.
#[actix_web::test]
async fn an_invalid_row_after_the_first_steps_rolls_back_what_they_wrote() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let n: u16 = 6_200;
    let mut csv = String::from("姓名,性别,公民身份号码,人员类别,党组织编码,入党日期,转正日期\n");
    let id_of = |i: u16| common::id_for(&format!("19{}-{:02}-{:02}", 60 + i % 30, 1 + i % 12, 1 + i % 28), i.is_multiple_of(2), i / 360);
    for i in 0..n {
        csv.push_str(&format!("成员{i},{},{},正式党员,B2,2010-07-01,2011-07-01\n", if i.is_multiple_of(2) { "男" } else { "女" }, id_of(i)));
    }
    // Row 6,202 (the header is row 1) repeats the ID number of row 3.
    csv.push_str(&format!("重复者,女,{},正式党员,B2,2010-07-01,2011-07-01\n", id_of(1)));
    // Big reports are cut short in failure messages.
    let brief = |r: &common::Resp| r.text.chars().take(1500).collect::<String>();
    let before = counts(&fx).await;
    let dry = fx.send(upload_req("members", "dry_run=true&background=false", "big.csv", csv.as_bytes()).token(&admin)).await;
    dry.expect(200);
    assert_eq!(counts_of(&dry.json), (6_201, 6_200, 0, 0, 1), "{}", brief(&dry));
    assert_eq!(problems(&dry.json), ["6202:公民身份号码:duplicate_in_file"], "{}", brief(&dry));

    let blocked = fx.send(upload_req("members", "dry_run=false&background=false", "big.csv", csv.as_bytes()).token(&admin)).await;
    blocked.expect(200);
    assert_eq!(blocked.json["committed"].as_bool(), Some(false), "{}", brief(&blocked));
    assert_eq!(counts_of(&blocked.json), counts_of(&dry.json));
    assert_eq!(blocked.json["problems"], dry.json["problems"], "a commit reports what the dry run did");
    let now = counts(&fx).await;
    assert_eq!((now[0], now[1], now[4]), (before[0], before[1], before[4]), "the steps written before the bad row went back");
    let history: i64 = count(&fx, "member_history").await;

    let r = fx.send(upload_req("members", "dry_run=false&skip_invalid=true&background=false", "big.csv", csv.as_bytes()).token(&admin)).await;
    assert_eq!((r.json["committed"].as_bool(), counts_of(&r.json)), (Some(true), (6_201, 6_200, 0, 0, 1)), "{}", brief(&r));
    let now = counts(&fx).await;
    assert_eq!((now[0], now[1], now[4]), (before[0] + 6_200, before[1] + 6_200, before[4] + 6_200), "every valid row written and audited once");
    assert_eq!(count(&fx, "member_history").await, history + 6_200);
    assert_eq!(count(&fx, "people WHERE name = '重复者'").await, 0, "the invalid row is not written");

    // The same file again: nothing changes, and the rows match across the steps.
    let again = fx.send(upload_req("members", "dry_run=false&skip_invalid=true&background=false", "big.csv", csv.as_bytes()).token(&admin)).await;
    assert_eq!(counts_of(&again.json), (6_201, 0, 0, 6_200, 1), "{}", brief(&again));
    assert_eq!(problems(&again.json), ["6202:公民身份号码:duplicate_in_file"], "{}", brief(&again));
    assert_eq!(counts(&fx).await[4], before[4] + 6_200, "nothing audited the second time");
}

/// Every import that has a row reads back, whatever became of it: a background upload while it
/// waits, one whose job failed (no header row: the report says why, as row 0), and rows stored
/// before the report was written with the upload (`{}`, as production databases hold for failed
/// and unfinished jobs) — `GET /imports/{id}` and `/annotated` answered 500 "missing field
/// `import_id`" for those.
#[actix_web::test]
async fn failed_and_unfinished_imports_read_back() {
    use dangjian::jobs::{Registry, Worker};
    let fx = Fx::new().await;
    let token = fx.login(users::ADMIN).await;
    let notes = "just some notes\nnothing else\n";
    let r = fx.send(upload_req("members", "dry_run=false&background=true", "notes.csv", notes.as_bytes()).token(&token)).await;
    r.expect(202);
    let (job_id, import_id) = (r.json["job_id"].as_i64().unwrap(), r.json["import_id"].as_i64().unwrap());
    let read_back = async |id: i64| {
        let detail = fx.send(Req::get(format!("/api/v1/imports/{id}")).token(&token)).await;
        detail.expect(200);
        let annotated = fx.send(Req::get(format!("/api/v1/imports/{id}/annotated")).token(&token)).await;
        annotated.expect(200);
        assert!(annotated.bytes.starts_with(b"PK"), "an XLSX for import {id}");
        detail.json
    };
    // Queued: the report is there, empty.
    let queued = read_back(import_id).await;
    assert_eq!((queued["report"]["import_id"].as_i64(), queued["report"]["kind"].as_str()), (Some(import_id), Some("members")), "{queued}");
    assert_eq!((queued["committed"].as_bool(), queued["report"]["dry_run"].as_bool()), (Some(false), Some(false)));
    assert_eq!(counts_of(&queued["report"]), (0, 0, 0, 0, 0));

    // The job fails (no header row): the import's report says why.
    let worker = Worker::new(fx.shared.state.pool.clone(), fx.shared.state.config.clone(), Registry::standard());
    assert_eq!(worker.drain().await.unwrap(), 1);
    let job = fx.send(Req::get(format!("/api/v1/jobs/{job_id}")).token(&token)).await;
    assert_eq!(job.json["status"], "failed", "{}", job.text);
    let failed = read_back(import_id).await;
    assert_eq!(problems(&failed["report"]), ["0:-:no_header_row"], "{failed}");
    assert_eq!(failed["report"]["import_id"].as_i64(), Some(import_id));

    // A row as earlier versions left it: report `{}`.
    {
        use dangjian::schema::imports as i;
        diesel::update(i::table.find(import_id)).set(i::report.eq(serde_json::json!({}))).execute(&mut fx.conn().await).await.unwrap();
    }
    let legacy = read_back(import_id).await;
    assert_eq!((legacy["report"]["import_id"].as_i64(), legacy["report"]["kind"].as_str()), (Some(import_id), Some("members")), "{legacy}");
    assert_eq!(legacy["report"]["problems"], serde_json::json!([]));
    // And the list shows it as ever.
    let list = fx.send(Req::get("/api/v1/imports").token(&token)).await;
    list.expect(200);
    assert!(list.json["items"].as_array().unwrap().iter().any(|i| i["id"].as_i64() == Some(import_id)), "{}", list.text);
}

/// A small members CSV with personal data: ID numbers and phones in their columns, and another
/// phone and ID number in a column the import does not know (备注): (张三's ID number, 李雷's,
/// the one in 备注, the file).
fn personal_csv() -> (String, String, String, Vec<u8>) {
    let id = common::zs_id_number();
    let other = common::id_for("1990-05-06", false, 7);
    let noted = common::id_for("1988-01-02", true, 9);
    let csv = format!("姓名,公民身份号码,手机号码,党组织编码,备注\n张三,{id},{},B1,13712345678\n李雷,{other},13612345678,B1,{noted}\n", common::ZS_PHONE);
    (id, other, noted, csv.into_bytes())
}

/// The stored content of an import's file and whether it is marked encrypted.
async fn stored_file(fx: &Fx, import_id: i64) -> Option<(Vec<u8>, bool)> {
    use dangjian::schema::import_files as f;
    f::table.find(import_id).select((f::content, f::encrypted)).first(&mut fx.conn().await).await.optional().unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Issue 14: the uploaded file was kept in `import_files.content` as it came — a CSV's ID
/// numbers readable by anyone reading the database or a backup. It is now AES-256-GCM with the
/// data key; the annotated workbook and a background job still read it; a row stored in clear by
/// an earlier version is encrypted by the worker's sweep.
#[actix_web::test]
async fn uploaded_files_are_stored_encrypted_and_clear_rows_are_encrypted_by_the_sweep() {
    use dangjian::jobs::{Registry, Worker};
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let (id_number, _, _, csv) = personal_csv();
    let r = fx.send(upload_req("members", "dry_run=true", "personal.csv", &csv).token(&admin)).await;
    r.expect(200);
    let import_id = r.json["import_id"].as_i64().unwrap();
    let (content, encrypted) = stored_file(&fx, import_id).await.unwrap();
    assert!(encrypted);
    assert!(!contains(&content, id_number.as_bytes()), "no ID number in clear in import_files");
    assert!(!contains(&content, common::ZS_PHONE.as_bytes()), "no phone in clear in import_files");
    assert!(!contains(&content, "姓名".as_bytes()), "the file is not stored as it came");
    assert_eq!(fx.shared.state.config.data_key.decrypt_bytes(&content).unwrap(), csv, "the data key opens it");
    let annotated = fx.send(Req::get(format!("/api/v1/imports/{import_id}/annotated")).token(&admin)).await;
    annotated.expect(200);
    assert!(annotated.bytes.starts_with(b"PK"));

    // A background upload: stored encrypted, and the job decrypts it.
    let r = fx.send(upload_req("members", "dry_run=true&background=true", "personal.csv", &csv).token(&admin)).await;
    r.expect(202);
    let (job_id, queued) = (r.json["job_id"].as_i64().unwrap(), r.json["import_id"].as_i64().unwrap());
    assert!(!contains(&stored_file(&fx, queued).await.unwrap().0, id_number.as_bytes()));
    let worker = Worker::new(fx.shared.state.pool.clone(), fx.shared.state.config.clone(), Registry::standard());
    assert_eq!(worker.drain().await.unwrap(), 1);
    let job = fx.send(Req::get(format!("/api/v1/jobs/{job_id}")).token(&admin)).await;
    assert_eq!(job.json["status"], "succeeded", "{}", job.text);
    assert_eq!(job.json["result"]["rows_read"], 2, "{}", job.text);

    // A row as an earlier version stored it: in clear. It still reads back, and the sweep
    // encrypts it.
    {
        use dangjian::schema::import_files as f;
        diesel::update(f::table.find(import_id)).set((f::content.eq(&csv), f::encrypted.eq(false))).execute(&mut fx.conn().await).await.unwrap();
    }
    fx.send(Req::get(format!("/api/v1/imports/{import_id}/annotated")).token(&admin)).await.expect(200);
    let swept = worker.sweep_import_files().await.unwrap();
    assert_eq!((swept.deleted, swept.encrypted), (0, 1));
    let (content, encrypted) = stored_file(&fx, import_id).await.unwrap();
    assert!(encrypted && !contains(&content, id_number.as_bytes()), "the clear row is encrypted");
    assert_eq!(fx.shared.state.config.data_key.decrypt_bytes(&content).unwrap(), csv);
    assert_eq!(worker.sweep_import_files().await.unwrap(), Default::default(), "nothing left to do");
    fx.send(Req::get(format!("/api/v1/imports/{import_id}/annotated")).token(&admin)).await.expect(200);
}

/// The annotated workbook's cells, row by row.
fn annotated_cells(xlsx: &[u8]) -> Vec<Vec<String>> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(xlsx.to_vec())).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    sheet.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}

/// Issue 14: `GET /imports/{id}/annotated` handed the file's full ID numbers and phones to a
/// branch worker, who sees ID numbers only masked in the roster, and left no trace. It now shows
/// them by the roster's rule for the downloader (a branch worker: ID numbers masked — in their
/// column and wherever else one stands — phones in full, as their roster export; a committee:
/// both), and each download is audited with the import's id.
#[actix_web::test]
async fn the_annotated_workbook_masks_personal_data_by_the_downloaders_role_and_is_audited() {
    let fx = Fx::new().await;
    let br = fx.login(users::BR_B1).await;
    let (id_number, other, noted, csv) = personal_csv();
    let r = fx.send(upload_req("members", "dry_run=true", "personal.csv", &csv).token(&br)).await;
    r.expect(200);
    let import_id = r.json["import_id"].as_i64().unwrap();

    let res = fx.send(Req::get(format!("/api/v1/imports/{import_id}/annotated")).token(&br)).await;
    res.expect(200);
    let cells = annotated_cells(&res.bytes);
    assert_eq!(cells[0][..5], ["姓名", "公民身份号码", "手机号码", "党组织编码", "备注"]);
    assert_eq!(cells[1][1], dangjian::members::id_number::mask(&id_number), "{cells:?}");
    assert_eq!(cells[2][1], dangjian::members::id_number::mask(&other));
    assert_eq!(cells[2][4], dangjian::members::id_number::mask(&noted), "one in another column too");
    assert!(!cells.iter().flatten().any(|c| [&id_number, &other, &noted].iter().any(|id| c.contains(&id[..14]))), "no full ID number anywhere: {cells:?}");
    // Phones: a branch worker sees them in full over the branch (GET /members/{id}, the export).
    assert_eq!((cells[1][2].as_str(), cells[1][4].as_str()), (common::ZS_PHONE, "13712345678"));
    assert_eq!(cells[1][3], "B1", "other cells as they were");

    // A committee over the branch sees them as its roster shows them: in full.
    let com = fx.login(users::COM_C1).await;
    let res = fx.send(Req::get(format!("/api/v1/imports/{import_id}/annotated")).token(&com)).await;
    res.expect(200);
    let cells = annotated_cells(&res.bytes);
    assert_eq!((cells[1][1].as_str(), cells[2][1].as_str(), cells[1][2].as_str()), (id_number.as_str(), other.as_str(), common::ZS_PHONE));
    assert_eq!(cells[2][4], noted);

    // Both downloads audited, with who, the import and what was shown in full.
    let audit = fx.audit("import", import_id).await;
    let downloads: Vec<_> = audit.iter().filter(|a| a.0 == "download").collect();
    assert_eq!(downloads.len(), 2, "{audit:?}");
    assert_eq!(downloads[0].1, Some(fx.accounts[users::BR_B1]));
    assert_eq!(downloads[1].1, Some(fx.accounts[users::COM_C1]));
    let after = downloads[0].3.as_ref().unwrap();
    assert_eq!(after["import_id"].as_i64(), Some(import_id));
    assert_eq!(after["revealed"], serde_json::json!({"id_number": false, "phone": true}));
    assert_eq!(downloads[1].3.as_ref().unwrap()["revealed"], serde_json::json!({"id_number": true, "phone": true}));
}

/// Issue 14: uploaded files were kept forever, dry runs and refused files included. The worker's
/// sweep deletes those older than DANGJIAN_IMPORT_FILE_DAYS (here 5): the import and its report
/// stay, the annotated workbook answers 410 `import_file_deleted` naming the retention; newer
/// files, and the file of a job still waiting, are kept.
#[actix_web::test]
async fn files_past_the_retention_are_deleted_by_the_sweep_and_their_download_answers_410() {
    use dangjian::jobs::{Registry, Worker};
    let fx = Fx::with_config(|c| c.import_file_days = 5).await;
    let admin = fx.login(users::ADMIN).await;
    let (_, _, _, csv) = personal_csv();
    let mut ids = Vec::new();
    for query in ["dry_run=true", "dry_run=true", "dry_run=true&background=true"] {
        let r = fx.send(upload_req("members", query, "personal.csv", &csv).token(&admin)).await;
        ids.push(r.json["import_id"].as_i64().unwrap());
    }
    let (old, recent, waiting) = (ids[0], ids[1], ids[2]);
    let age = async |id: i64, days: i32| {
        diesel::sql_query(format!("UPDATE imports SET created_at = now() - interval '{days} days' WHERE id = {id}"))
            .execute(&mut fx.conn().await)
            .await
            .unwrap();
    };
    age(old, 6).await;
    age(recent, 4).await;
    age(waiting, 6).await;
    let worker = Worker::new(fx.shared.state.pool.clone(), fx.shared.state.config.clone(), Registry::standard());
    assert_eq!(worker.sweep_import_files().await.unwrap().deleted, 1);
    assert!(stored_file(&fx, old).await.is_none(), "the old file is deleted");
    assert!(stored_file(&fx, recent).await.is_some() && stored_file(&fx, waiting).await.is_some(), "the recent one and the waiting job's are kept");

    let gone = fx.send(Req::get(format!("/api/v1/imports/{old}/annotated")).token(&admin)).await;
    gone.expect_problem(410, "import_file_deleted");
    assert!(gone.text.contains("5 天"), "{}", gone.text);
    let detail = fx.send(Req::get(format!("/api/v1/imports/{old}")).token(&admin)).await;
    detail.expect(200);
    assert_eq!(detail.json["report"]["rows_read"], 2, "the report stays");
    let deleted_at: Option<chrono::DateTime<chrono::Utc>> = {
        use dangjian::schema::imports as i;
        i::table.find(old).select(i::file_deleted_at).first(&mut fx.conn().await).await.unwrap()
    };
    assert!(deleted_at.is_some());
    fx.send(Req::get(format!("/api/v1/imports/{recent}/annotated")).token(&admin)).await.expect(200);

    // Once its job has run, the waiting one goes too; a second sweep finds nothing more.
    assert_eq!(worker.drain().await.unwrap(), 1);
    assert_eq!(worker.sweep_import_files().await.unwrap().deleted, 1);
    assert!(stored_file(&fx, waiting).await.is_none());
    assert_eq!(worker.sweep_import_files().await.unwrap().deleted, 0);
}
