//! Streamed XLSX exports (members and orgs): read back with calamine (rows, header, dates as
//! dates, chosen columns, filters, masking by role), opened by LibreOffice and openpyxl, the
//! scope, bad columns, the audit entry, and that the body is streamed: its first chunk arrives
//! while the export is still reading rows, and the writer waits for the client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Cursor;

use actix_web::body::MessageBody;
use actix_web::dev::Service;
use calamine::{Data, Reader};
use common::{Fx, Req, ZS_PHONE, libreoffice_opens, tempdir, users, zs_id_number};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::Value;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The first sheet's rows, as calamine reads them.
fn sheet(bytes: &[u8]) -> Vec<Vec<Data>> {
    assert_eq!(&bytes[..4], b"PK\x03\x04", "a zip file");
    let mut wb = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let name = wb.sheet_names()[0].clone();
    wb.worksheet_range(&name).unwrap().rows().map(|r| r.to_vec()).collect()
}

fn text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

fn column(rows: &[Vec<Data>], label: &str) -> Vec<String> {
    let i = rows[0].iter().position(|h| text(h) == label).unwrap_or_else(|| panic!("no column {label}"));
    rows[1..].iter().map(|r| text(&r[i])).collect()
}

/// The number of rows openpyxl (Debian's python3-openpyxl, a third reader) finds in the first
/// sheet; None, with a reason printed, when /usr/bin/python3 lacks it.
fn openpyxl_rows(bytes: &[u8]) -> Option<usize> {
    let python = "/usr/bin/python3";
    if !std::process::Command::new(python).args(["-c", "import openpyxl"]).output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED the openpyxl check: {python} has no openpyxl (apt-get install python3-openpyxl)");
        return None;
    }
    let dir = tempdir("dj-export");
    let input = dir.join("export.xlsx");
    std::fs::write(&input, bytes).unwrap();
    let out = std::process::Command::new(python)
        .args(["-c", "import sys, openpyxl; ws = openpyxl.load_workbook(sys.argv[1]).worksheets[0]; print(sum(1 for r in ws.iter_rows(values_only=True) if any(v is not None for v in r)))"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(out.status.success(), "openpyxl failed: {}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
    Some(String::from_utf8_lossy(&out.stdout).trim().parse().unwrap())
}

/// Export audit entries (entity, entity_id, after), oldest first.
async fn exports_audited(fx: &Fx) -> Vec<(String, Option<i64>, Value)> {
    use dangjian::schema::audit_log as l;
    let rows: Vec<(String, Option<i64>, Option<Value>)> =
        l::table.filter(l::action.eq("export")).order(l::id).select((l::entity, l::entity_id, l::after)).load(&mut fx.conn().await).await.unwrap();
    rows.into_iter().map(|(e, id, a)| (e, id, a.unwrap_or(Value::Null))).collect()
}

/// The audit entry is written by the export's task once the body has ended: wait for it.
async fn wait_for_exports(fx: &Fx, n: usize) -> Vec<(String, Option<i64>, Value)> {
    for _ in 0..100 {
        let rows = exports_audited(fx).await;
        if rows.len() >= n {
            return rows;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no export audit entry after 5 s")
}

#[actix_web::test]
async fn member_export_reads_back_with_header_dates_and_masking_by_role() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let r = fx.send(Req::get("/api/v1/members/export.xlsx").token(&admin)).await;
    r.expect(200);
    assert_eq!(r.header("content-type"), Some(XLSX));
    let cd = r.header("content-disposition").unwrap();
    assert!(cd.starts_with("attachment; filename=\"members-"), "{cd}");
    // 党员花名册 in UTF-8, percent-encoded (RFC 5987).
    assert!(cd.contains("filename*=UTF-8''%E5%85%9A%E5%91%98%E8%8A%B1%E5%90%8D%E5%86%8C-"), "{cd}");
    let rows = sheet(&r.bytes);
    let header: Vec<String> = rows[0].iter().map(text).collect();
    assert_eq!(
        header,
        [
            "姓名",
            "性别",
            "公民身份号码",
            "民族",
            "出生日期",
            "籍贯",
            "学历",
            "学位",
            "工作岗位",
            "职务",
            "职称",
            "手机号码",
            "参加工作日期",
            "人员类别",
            "所在党组织",
            "入党日期",
            "转正日期",
            "党龄",
            "党籍状态",
            "流动党员",
            "失联党员",
            "外部编号"
        ]
    );
    assert_eq!(rows.len(), 6, "header and the five fixture members");
    // The list's order: by org, then person.
    assert_eq!(column(&rows, "姓名"), ["张三", "李四", "王五", "赵六", "钱七"]);
    // political_dept over everything sees ID numbers and phones in full.
    assert_eq!(column(&rows, "公民身份号码")[0], zs_id_number());
    assert_eq!(column(&rows, "手机号码")[0], ZS_PHONE);
    assert_eq!(column(&rows, "人员类别"), ["正式党员", "预备党员", "正式党员", "正式党员", "正式党员"]);
    assert_eq!(column(&rows, "党籍状态")[3], "停止党籍");
    assert_eq!(column(&rows, "性别")[1], "女");
    assert_eq!(column(&rows, "流动党员")[0], "否");
    // Dates are date cells; 党龄 a number (docs/domain.md: from full membership; none while probationary).
    let joined = rows[0].iter().position(|h| text(h) == "入党日期").unwrap();
    let Data::DateTime(dt) = &rows[1][joined] else { panic!("入党日期 is not a date cell: {:?}", rows[1][joined]) };
    assert_eq!(dt.as_datetime().unwrap().date(), common::d("2010-07-01"));
    let full = rows[0].iter().position(|h| text(h) == "转正日期").unwrap();
    assert!(matches!(rows[2][full], Data::Empty), "李四 is probationary");
    let standing = rows[0].iter().position(|h| text(h) == "党龄").unwrap();
    assert!(matches!(rows[1][standing], Data::Float(_) | Data::Int(_)), "{:?}", rows[1][standing]);
    assert!(matches!(rows[2][standing], Data::Empty));
    // Two other readers open the same file and find the same rows.
    libreoffice_opens(&r.bytes, &["\"姓名\",\"性别\",\"公民身份号码\"", "\"张三\",\"男\",", "2010-07-01"]);
    if let Some(n) = openpyxl_rows(&r.bytes) {
        assert_eq!(n, rows.len(), "openpyxl reads the header and the five members");
    }

    let audited = wait_for_exports(&fx, 1).await;
    let (entity, entity_id, after) = &audited[0];
    assert_eq!((entity.as_str(), *entity_id), ("member", None));
    assert_eq!(after["rows"], 5);
    assert_eq!(after["completed"], true);
    assert_eq!(after["reveal"], serde_json::json!({"id_number": true, "phone": true}));
    assert_eq!(after["columns"].as_array().unwrap().len(), 22);

    // A branch worker: its branch only; phones in full, ID numbers masked (the rule of GET /members/{id}).
    let br = fx.login(users::BR_B1).await;
    let rows = sheet(&fx.send(Req::get("/api/v1/members/export.xlsx").token(&br)).await.expect(200).bytes);
    assert_eq!(column(&rows, "姓名"), ["张三", "李四", "王五"]);
    let id = zs_id_number();
    assert_eq!(column(&rows, "公民身份号码")[0], format!("{}{}", "*".repeat(14), &id[14..]));
    assert_eq!(column(&rows, "手机号码")[0], ZS_PHONE);
    wait_for_exports(&fx, 2).await;
    // A committee worker over C1 sees ID numbers of B1, which lies below.
    let com = fx.login(users::COM_C1).await;
    let rows = sheet(&fx.send(Req::get(format!("/api/v1/members/export.xlsx?org_id={}", fx.orgs.b1)).token(&com)).await.expect(200).bytes);
    assert_eq!(column(&rows, "公民身份号码")[0], id);
    let audited = wait_for_exports(&fx, 3).await;
    assert_eq!(audited[1].2["reveal"], serde_json::json!({"id_number": false, "phone": true}));
    assert_eq!((audited[2].1, &audited[2].2["filters"]), (Some(fx.orgs.b1), &serde_json::json!({"org_id": fx.orgs.b1})));
}

#[actix_web::test]
async fn member_export_takes_the_list_filters_and_the_chosen_columns() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let r = fx.send(Req::get("/api/v1/members/export.xlsx?gender=female&columns=name,joined_at,%20phone").token(&admin)).await;
    let rows = sheet(&r.expect(200).bytes);
    assert_eq!(rows.iter().map(|r| r.iter().map(text).collect::<Vec<_>>()).next().unwrap(), ["姓名", "入党日期", "手机号码"]);
    assert_eq!(column(&rows, "姓名"), ["李四", "赵六"]);
    assert_eq!(rows[1].len(), 3);
    wait_for_exports(&fx, 1).await;
    // The same filters as the list, the drill-down ones among them.
    let list = fx.send(Req::get(format!("/api/v1/members?org_id={}&category=full&ethnic_group=han", fx.orgs.c1)).token(&admin)).await;
    let rows = sheet(
        &fx.send(Req::get(format!("/api/v1/members/export.xlsx?org_id={}&category=full&ethnic_group=han&columns=name", fx.orgs.c1)).token(&admin))
            .await
            .expect(200)
            .bytes,
    );
    let listed: Vec<String> = list.json["items"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(column(&rows, "姓名"), listed);
    assert_eq!(listed, ["张三", "王五", "赵六"]);
    let audited = wait_for_exports(&fx, 2).await;
    assert_eq!(audited[0].2["columns"], serde_json::json!(["name", "joined_at", "phone"]));
    assert_eq!(audited[0].2["filters"], serde_json::json!({"gender": "female"}));
    assert_eq!(audited[1].2["rows"], 3);

    // Nothing matches: a header row alone.
    let rows = sheet(&fx.send(Req::get("/api/v1/members/export.xlsx?q=nobody").token(&admin)).await.expect(200).bytes);
    assert_eq!(rows.len(), 1);

    // The column list for the chooser.
    let cols = fx.send(Req::get("/api/v1/members/export/columns").token(&admin)).await;
    cols.expect(200);
    assert_eq!(cols.json[0], serde_json::json!({"key": "name", "label": "姓名"}));
    assert_eq!(cols.json.as_array().unwrap().len(), 22);

    // Text that is markup, a character XML 1.0 forbids, Excel's own escape pattern and edge spaces.
    {
        use dangjian::schema::people as p;
        diesel::update(p::table.filter(p::name.eq("张三"))).set(p::post.eq(" 书记 & <委员>\u{1}_x0041_ ")).execute(&mut fx.conn().await).await.unwrap();
    }
    let r = fx.send(Req::get("/api/v1/members/export.xlsx?q=%E5%BC%A0%E4%B8%89&columns=name,post,joined_at").token(&admin)).await;
    let rows = sheet(&r.expect(200).bytes);
    assert_eq!(column(&rows, "职务"), [" 书记 & <委员>_x0041_ "], "escaped, the control character dropped");
    libreoffice_opens(&r.bytes, &["\"张三\",\" 书记 & <委员>_x0041_ \",2010-07-01"]);
}

#[actix_web::test]
async fn export_errors_come_before_the_first_byte_as_problems() {
    let fx = Fx::new().await;
    let br = fx.login(users::BR_B1).await;
    fx.send(Req::get(format!("/api/v1/members/export.xlsx?org_id={}", fx.orgs.b3)).token(&br)).await.expect_problem(403, "out_of_scope");
    fx.send(Req::get(format!("/api/v1/orgs/export.xlsx?org_id={}", fx.orgs.b3)).token(&br)).await.expect_problem(403, "out_of_scope");
    let r = fx.send(Req::get("/api/v1/members/export.xlsx?columns=name,salary").token(&br)).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.errors(), ["columns:unknown_column"]);
    let r = fx.send(Req::get("/api/v1/members/export.xlsx?columns=name,name").token(&br)).await;
    assert_eq!(r.errors(), ["columns:duplicate_column"]);
    let r = fx.send(Req::get("/api/v1/orgs/export.xlsx?columns=code,nope").token(&br)).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.errors(), ["columns:unknown_column"]);
    let r = fx.send(Req::get("/api/v1/members/export.xlsx?born_from=2000-01-01&born_to=1990-01-01").token(&br)).await;
    assert_eq!(r.errors(), ["born_to:before_born_from"]);
    let r = fx.send(Req::get("/api/v1/members/export.xlsx?gender=x").token(&br)).await;
    assert_eq!(r.first_error().0, "gender");
    let member = fx.login(users::MEMBER_ZS).await;
    fx.send(Req::get("/api/v1/members/export.xlsx").token(&member)).await.expect_problem(403, "role_not_allowed");
    fx.send(Req::get("/api/v1/members/export.xlsx")).await.expect(401);
    assert!(exports_audited(&fx).await.is_empty(), "a refused export is not an export");
}

#[actix_web::test]
async fn org_export_reads_back() {
    let fx = Fx::new().await;
    {
        use dangjian::schema::orgs as o;
        diesel::update(o::table.find(fx.orgs.b1))
            .set((o::term_start.eq(common::d("2023-06-01")), o::term_end.eq(common::d("2026-05-31"))))
            .execute(&mut fx.conn().await)
            .await
            .unwrap();
    }
    let com = fx.login(users::COM_C1).await;
    let r = fx.send(Req::get("/api/v1/orgs/export.xlsx").token(&com)).await;
    r.expect(200);
    assert!(r.header("content-disposition").unwrap().contains("filename*=UTF-8''"), "{:?}", r.header("content-disposition"));
    let rows = sheet(&r.bytes);
    assert_eq!(text(&rows[0][0]), "组织编码");
    // C1's subtree, in code order.
    assert_eq!(column(&rows, "组织编码"), ["B1", "B1-1", "B2", "C1", "G1"]);
    assert_eq!(column(&rows, "组织类别"), ["党支部", "党小组", "党支部", "党委", "党总支"]);
    assert_eq!(column(&rows, "上级组织")[0], "机关第一党总支");
    assert_eq!(column(&rows, "党员数")[0], "2", "B1 itself: 张三 and 李四 (王五 is in its group)");
    let end = rows[0].iter().position(|h| text(h) == "届期结束").unwrap();
    assert!(matches!(rows[1][end], Data::DateTime(_)), "{:?}", rows[1][end]);
    let audited = wait_for_exports(&fx, 1).await;
    assert_eq!((audited[0].0.as_str(), &audited[0].2["rows"]), ("org", &serde_json::json!(5)));
    // The list's filters: a kind, and renewal due.
    let rows = sheet(&fx.send(Req::get("/api/v1/orgs/export.xlsx?kind=branch&columns=name").token(&com)).await.expect(200).bytes);
    assert_eq!(column(&rows, "组织名称"), ["机关第一党支部", "机关第二党支部"]);
    let rows = sheet(&fx.send(Req::get("/api/v1/orgs/export.xlsx?term_end_before=2026-12-31&columns=code").token(&com)).await.expect(200).bytes);
    assert_eq!(column(&rows, "组织编码"), ["B1"]);
    let rows = sheet(&fx.send(Req::get(format!("/api/v1/orgs/export.xlsx?parent_id={}&columns=code", fx.orgs.g1)).token(&com)).await.expect(200).bytes);
    assert_eq!(column(&rows, "组织编码"), ["B1", "B2"], "parent_id: its children, as the list shows them");
    let rows = sheet(&fx.send(Req::get(format!("/api/v1/orgs/export.xlsx?org_id={}&columns=code", fx.orgs.b1)).token(&com)).await.expect(200).bytes);
    assert_eq!(column(&rows, "组织编码"), ["B1", "B1-1"], "org_id: the org and its subtree");
    let audited = wait_for_exports(&fx, 5).await;
    assert!(audited.iter().any(|(_, id, after)| *id == Some(fx.orgs.b1) && after["rows"] == 2 && after["filters"]["org_id"] == fx.orgs.b1), "{audited:?}");
}

/// Open transactions on the test's database other than the asking connection's: the export's
/// read-only snapshot while its fetch task is still reading rows.
async fn open_transactions(fx: &Fx) -> i64 {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL)",
    ))
    .get_result(&mut fx.conn().await)
    .await
    .unwrap()
}

/// Tens of thousands of rows: the first chunk of the body arrives while the export is still
/// reading rows (its snapshot transaction is open, no audit entry yet), which a workbook zipped
/// at the end cannot do (it sends its first byte after the last row is read and the transaction
/// closed). The client does not read on: the writer and the fetch wait (bounded channels), with
/// most rows unread. Reading on to the end completes it, with every row.
#[actix_web::test]
async fn member_export_sends_its_first_bytes_before_the_last_row_is_read() {
    const EXTRA: i64 = 40_000;
    let fx = Fx::new().await;
    // md5 text compresses poorly, so that the channels' few chunks hold few of the rows.
    diesel::sql_query(
        "WITH p AS (INSERT INTO people (name, name_initials, name_pinyin, gender, birth_date, ethnicity, education, native_place) \
         SELECT '成员' || g, 'cy', 'chengyuan', 'male', DATE '1980-01-01' + (g % 5000)::int, '汉族', '大学本科', md5(g::text) FROM generate_series(1, $1) g RETURNING id) \
         INSERT INTO members (person_id, org_id, category, joined_at, full_member_at) SELECT id, $2, 'full', DATE '2005-01-01', DATE '2006-01-01' FROM p",
    )
    .bind::<diesel::sql_types::BigInt, _>(EXTRA)
    .bind::<diesel::sql_types::BigInt, _>(fx.orgs.b2)
    .execute(&mut fx.conn().await)
    .await
    .unwrap();
    let token = fx.login(users::ADMIN).await;
    assert_eq!(open_transactions(&fx).await, 0, "nothing else is reading");
    let svc = actix_web::test::init_service(dangjian::app::build(fx.shared.clone())).await;
    let req = actix_web::test::TestRequest::get()
        .uri(&format!("/api/v1/members/export.xlsx?org_id={}", fx.orgs.b2))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .to_request();
    let res = svc.call(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let mut body = std::pin::pin!(res.into_body());
    let first = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await.unwrap().ok().unwrap();
    assert!(first.starts_with(b"PK\x03\x04"), "the zip begins");
    // The first chunk is here and the fetch is still reading: its snapshot is open.
    assert_eq!(open_transactions(&fx).await, 1, "the export's read-only snapshot is open after the first chunk");
    // The client does not read on: the pipeline fills up and stops; the fetch still has rows to read.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(open_transactions(&fx).await, 1, "the fetch waits for the writer, which waits for the client");
    assert!(exports_audited(&fx).await.is_empty(), "the export ended before the client read it");
    let mut bytes = first.to_vec();
    let mut chunks = 1;
    // Chunks read before the fetch ended: more than the pipeline holds while waiting (4 in the
    // body's channel, one filling), so rows were still unread when the first chunk came.
    let mut chunks_while_fetching = 1;
    while let Some(chunk) = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await {
        bytes.extend_from_slice(&chunk.ok().unwrap());
        chunks += 1;
        if chunks_while_fetching == chunks - 1 && open_transactions(&fx).await == 1 {
            chunks_while_fetching = chunks;
        }
    }
    eprintln!("{chunks_while_fetching} of {chunks} chunks ({} bytes) came while rows were being read", bytes.len());
    assert!(chunks_while_fetching > 8, "only {chunks_while_fetching} of {chunks} chunks came while rows were being read");
    let rows = sheet(&bytes);
    assert_eq!(rows.len() as i64, 1 + 1 + EXTRA, "header, 赵六 and the generated members");
    let audited = wait_for_exports(&fx, 1).await;
    assert_eq!(audited[0].2["rows"], 1 + EXTRA);
    assert_eq!(audited[0].2["completed"], true);
    assert_eq!(audited[0].2["filters"], serde_json::json!({"org_id": fx.orgs.b2}));
}

/// A client that stops reading: the export ends, and its audit entry says so.
#[actix_web::test]
async fn an_aborted_download_is_audited_as_such() {
    const EXTRA: i64 = 20_000;
    let fx = Fx::new().await;
    diesel::sql_query(
        "WITH p AS (INSERT INTO people (name, name_initials, name_pinyin, gender) SELECT '成员' || g, 'cy', 'chengyuan', 'female' FROM generate_series(1, $1) g RETURNING id) \
         INSERT INTO members (person_id, org_id, category, joined_at) SELECT id, $2, 'probationary', DATE '2026-01-01' FROM p",
    )
    .bind::<diesel::sql_types::BigInt, _>(EXTRA)
    .bind::<diesel::sql_types::BigInt, _>(fx.orgs.b3)
    .execute(&mut fx.conn().await)
    .await
    .unwrap();
    let token = fx.login(users::ADMIN).await;
    let svc = actix_web::test::init_service(dangjian::app::build(fx.shared.clone())).await;
    let req = actix_web::test::TestRequest::get().uri("/api/v1/members/export.xlsx").insert_header(("Authorization", format!("Bearer {token}"))).to_request();
    let res = svc.call(req).await.unwrap();
    {
        let mut body = std::pin::pin!(res.into_body());
        std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await.unwrap().ok().unwrap();
    }
    let audited = wait_for_exports(&fx, 1).await;
    assert_eq!(audited[0].2["completed"], false);
    assert!(audited[0].2["aborted"].as_str().is_some_and(|s| !s.is_empty()), "{}", audited[0].2);
}
