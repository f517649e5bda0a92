//! 支部工作台账 (docs/domain.md, Organizational life: the year's record of the meetings, the members
//! and their changes): the workbook read back by calamine and openpyxl (libraries other than the
//! writer) and opened by LibreOffice, the PDF's text extracted by pdftotext (poppler-utils) with
//! the Chinese font embedded as a subset, the watermark, the audit entry, the role scope, an org
//! without meetings, and the year's validation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Cursor;

use calamine::{Data, Reader};
use common::{Fx, Req, libreoffice_opens, tempdir, users};
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const TOPIC: &str = "学习贯彻党的二十届三中全会精神";
const LECTURE: &str = "党课：党章第一章学习";
const GROUP_TOPIC: &str = "党小组学习会：主题教育";

fn url(org: i64, query: &str) -> String {
    format!("/api/v1/orgs/{org}/ledger?{query}")
}

async fn exec(fx: &Fx, sql: &str) {
    diesel::sql_query(sql).execute(&mut fx.conn().await).await.unwrap();
}

/// A meeting of `org` inserted as the record endpoints would leave it; answers its id.
async fn meeting(fx: &Fx, org: i64, kind: &str, topic: &str, starts_at: &str, status: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let row: Id = diesel::sql_query(
        "INSERT INTO meetings (org_id, kind, topic, starts_at, ends_at, place, status, minutes, resolutions)
         VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz + interval '90 minutes', '三楼会议室', $5,
                 CASE WHEN $5 = 'held' THEN '会议由书记主持，传达学习了有关精神，与会党员逐一发言。' END,
                 CASE WHEN $5 = 'held' THEN '[\"同意接收王五同志的入党申请\", \"下季度开展主题党日活动\"]'::jsonb ELSE '[]'::jsonb END)
         RETURNING id",
    )
    .bind::<BigInt, _>(org)
    .bind::<Text, _>(kind)
    .bind::<Text, _>(topic)
    .bind::<Text, _>(starts_at)
    .bind::<Text, _>(status)
    .get_result(&mut fx.conn().await)
    .await
    .unwrap();
    row.id
}

/// B1's 2025: officers, a branch general meeting with attendance (李四 absent, sick), a vote, an
/// archived party lecture with an addendum, a group meeting of B1-1, a cancelled meeting; and
/// meetings that must stay out (B3's, B1's of 2024).
async fn b1_year(fx: &Fx) -> i64 {
    let (o, p) = (fx.orgs, fx.people);
    exec(
        fx,
        &format!(
            "INSERT INTO org_officers (org_id, person_id, post, since) VALUES ({}, {}, 'secretary', '2024-01-01'), ({}, {}, 'committee_member', '2025-01-01')",
            o.b1, p.zhangsan, o.b1, p.wangwu
        ),
    )
    .await;
    let general = meeting(fx, o.b1, "branch_general_meeting", TOPIC, "2025-03-12T14:30:00+08:00", "held").await;
    exec(fx, &format!("UPDATE meetings SET host_person_id = {}, recorder_person_id = {} WHERE id = {general}", p.zhangsan, p.wangwu)).await;
    exec(
        fx,
        &format!(
            "INSERT INTO meeting_attendees (meeting_id, person_id, has_vote, attendance, absence_reason, absence_note) VALUES
             ({general}, {}, true, 'present', NULL, NULL), ({general}, {}, false, 'absent', 'sick', '住院治疗'), ({general}, {}, true, 'present', NULL, NULL)",
            p.zhangsan, p.lisi, p.wangwu
        ),
    )
    .await;
    exec(
        fx,
        &format!(
            "INSERT INTO meeting_votes (meeting_id, motion, subject, voters_due, voters_present, yes, no, abstain, quorum_met, passed, rule)
             VALUES ({general}, '接收赵某为预备党员', 'admission', 2, 2, 2, 0, 0, true, true, '{{}}')"
        ),
    )
    .await;
    exec(fx, &format!("UPDATE meetings SET archived_at = '2025-03-20T10:00:00+08:00' WHERE id = {general}")).await;

    let lecture = meeting(fx, o.b1, "party_lecture", LECTURE, "2025-06-20T09:00:00+08:00", "held").await;
    exec(fx, &format!("INSERT INTO meeting_attendees (meeting_id, person_id, attendance) VALUES ({lecture}, {}, 'present')", p.zhangsan)).await;
    exec(fx, &format!("UPDATE meetings SET archived_at = '2025-06-30T10:00:00+08:00' WHERE id = {lecture}")).await;
    exec(fx, &format!("INSERT INTO meeting_addenda (meeting_id, body) VALUES ({lecture}, '更正：本次党课时长为两小时')")).await;

    meeting(fx, o.b1_1, "group_meeting", GROUP_TOPIC, "2025-05-10T19:00:00+08:00", "held").await;
    let cancelled = meeting(fx, o.b1, "theme_party_day", "主题党日：参观红色教育基地", "2025-09-01T09:00:00+08:00", "cancelled").await;
    exec(fx, &format!("UPDATE meetings SET cancel_reason = '因天气原因取消' WHERE id = {cancelled}")).await;
    meeting(fx, o.b3, "branch_general_meeting", "学院支部不应出现的会议", "2025-04-01T09:00:00+08:00", "held").await;
    meeting(fx, o.b1, "branch_general_meeting", "上一年度不应出现的会议", "2024-12-31T15:00:00+08:00", "held").await;
    general
}

/// Every cell of every sheet as text, by sheet name, as calamine reads them.
fn sheets(bytes: &[u8]) -> Vec<(String, Vec<Vec<String>>)> {
    let mut wb = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let names = wb.sheet_names().to_vec();
    names
        .into_iter()
        .map(|name| {
            let range = wb.worksheet_range(&name).unwrap();
            let rows = range
                .rows()
                .map(|r| {
                    r.iter()
                        .map(|c| match c {
                            Data::Empty => String::new(),
                            Data::String(s) => s.clone(),
                            Data::DateTime(d) => d.as_datetime().map(|d| d.date().to_string()).unwrap_or_default(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .collect();
            (name, rows)
        })
        .collect()
}

fn sheet<'a>(all: &'a [(String, Vec<Vec<String>>)], name: &str) -> &'a Vec<Vec<String>> {
    &all.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no sheet {name}")).1
}

fn any_cell(rows: &[Vec<String>], pred: impl Fn(&str) -> bool) -> bool {
    rows.iter().flatten().any(|c| pred(c))
}

#[actix_rt::test]
async fn the_workbook_holds_the_years_meetings_roster_and_changes() {
    let fx = Fx::new().await;
    let general = b1_year(&fx).await;
    let t = fx.login(users::BR_B1).await;
    let r = fx.send(Req::get(url(fx.orgs.b1, "year=2025&format=xlsx")).token(&t)).await;
    r.expect(200);
    assert_eq!(r.header("content-type"), Some(XLSX));
    let cd = r.header("content-disposition").unwrap();
    assert!(cd.starts_with("attachment;") && cd.contains(&format!("ledger-{}-2025.xlsx", fx.orgs.b1)), "{cd}");
    // 支部工作台账-机关第一党支部-2025.xlsx, percent-encoded (RFC 5987).
    assert!(cd.contains("filename*=UTF-8''%E6%94%AF%E9%83%A8%E5%B7%A5%E4%BD%9C%E5%8F%B0%E8%B4%A6-"), "{cd}");

    let all = sheets(&r.bytes);
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["封面概况", "会议记录", "党员名册", "党员变动"]);

    let cover = sheet(&all, "封面概况");
    assert!(any_cell(cover, |c| c.contains("机关第一党支部支部工作台账（2025年）")));
    assert!(any_cell(cover, |c| c == "张三"), "the secretary: {cover:?}");
    assert!(any_cell(cover, |c| c.contains("王五（委员")), "the committee: {cover:?}");
    assert!(any_cell(cover, |c| c.contains("发展党员工作")), "says development work is not included");
    // Held per kind: 支部党员大会 once in March, against the required (quarterly: 4).
    let general_row = cover.iter().find(|r| r.as_slice().first().is_some_and(|c| c == "支部党员大会")).expect("a row for 支部党员大会");
    assert_eq!(general_row[3], "1", "March: {general_row:?}");
    assert_eq!(general_row[13], "1", "the year: {general_row:?}");
    assert_eq!(general_row[14], "4", "required, quarterly: {general_row:?}");
    assert!(cover.iter().any(|r| r.as_slice().first().is_some_and(|c| c == "党小组会") && r[5] == "1"), "B1-1's group meeting in May");

    let meetings = sheet(&all, "会议记录");
    let header = &meetings[2];
    assert_eq!(header[4], "主题");
    let topics: Vec<&str> = meetings.iter().skip(3).filter(|r| r[0].parse::<u32>().is_ok()).map(|r| r[4].as_str()).collect();
    assert_eq!(topics, [TOPIC, GROUP_TOPIC, LECTURE, "主题党日：参观红色教育基地"], "the year's meetings of B1 and its group, in date order");
    let row = meetings.iter().find(|r| r[4] == TOPIC).unwrap();
    // Shown in the institution's time zone (chrono::Local, as the rest of the platform).
    let local = chrono::DateTime::parse_from_rfc3339("2025-03-12T14:30:00+08:00").unwrap().with_timezone(&common::clock().time_zone());
    assert!(row[1].starts_with(&local.format("%Y-%m-%d %H:%M").to_string()), "{row:?}");
    assert_eq!(row[3], "支部党员大会");
    assert_eq!((row[6].as_str(), row[7].as_str()), ("张三", "王五"), "host and recorder");
    assert_eq!((row[9].as_str(), row[10].as_str()), ("3", "2"), "due and present");
    assert_eq!(row[12], "李四（病假：住院治疗）", "absent with the reason");
    assert!(row[14].contains("同意接收王五同志的入党申请"), "{row:?}");
    assert!(row[15].contains("接收赵某为预备党员：同意 2，反对 0，弃权 0") && row[15].contains("通过"), "{row:?}");
    assert_eq!(row[16], "是", "archived");
    let lecture = meetings.iter().find(|r| r[4] == LECTURE).unwrap();
    assert!(lecture[17].contains("更正：本次党课时长为两小时"), "the addendum: {lecture:?}");
    assert!(meetings.iter().any(|r| r[4].starts_with("主题党日") && r[8] == "已取消" && r[13].contains("因天气原因取消")));

    let roster = sheet(&all, "党员名册");
    let names: Vec<&str> = roster.iter().skip(3).filter(|r| r[0].parse::<f64>().is_ok()).map(|r| r[1].as_str()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    for n in ["张三", "李四", "王五"] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    let lisi = roster.iter().find(|r| r.get(1).is_some_and(|c| c == "李四")).unwrap();
    assert_eq!((lisi[2].as_str(), lisi[4].as_str(), lisi[5].as_str()), ("女", "预备党员", "2025-06-01"));
    assert!(!any_cell(roster, |c| c.contains("钱七")), "B3's member stays out");
    assert!(!any_cell(roster, |c| c.contains("13900139000")), "no phone numbers");

    let changes = sheet(&all, "党员变动");
    let lisi = changes.iter().find(|r| r.get(2).is_some_and(|c| c == "李四")).expect("李四 joined in 2025");
    assert_eq!((lisi[1].as_str(), lisi[3].as_str()), ("2025-06-01", "发展党员（入党）"));
    assert!(any_cell(changes, |c| c.contains("上年底党员 2 人，本年增加 1 人，减少 0 人")), "{changes:?}");

    for (name, rows) in &all {
        assert!(any_cell(rows, |c| c.contains("内部资料") && c.contains("导出于")), "the watermark on {name}");
    }

    // A second reader: openpyxl (Debian's python3-openpyxl), also for the page footer.
    let python = "/usr/bin/python3";
    if std::process::Command::new(python).args(["-c", "import openpyxl"]).output().is_ok_and(|o| o.status.success()) {
        let dir = tempdir("ledger");
        let path = dir.join("ledger.xlsx");
        std::fs::write(&path, &r.bytes).unwrap();
        let out = std::process::Command::new(python)
            .arg("-c")
            .arg(
                "import sys, openpyxl\n\
                 wb = openpyxl.load_workbook(sys.argv[1])\n\
                 print('|'.join(wb.sheetnames))\n\
                 ws = wb['会议记录']\n\
                 print('\\n'.join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None))\n\
                 print('FOOTER', ws.oddFooter.left.text, ws.oddFooter.right.text)",
            )
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "openpyxl failed: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.starts_with("封面概况|会议记录|党员名册|党员变动"), "{text}");
        assert!(text.contains(TOPIC) && text.contains("李四（病假：住院治疗）"), "{text}");
        assert!(text.lines().any(|l| l.starts_with("FOOTER 内部资料") && l.contains("导出于")), "{text}");
        std::fs::remove_dir_all(dir).ok();
    } else {
        eprintln!("SKIPPED the openpyxl check: {python} has no openpyxl (apt-get install python3-openpyxl)");
    }

    // A third reader: LibreOffice opens it (the cover sheet, converted to CSV).
    libreoffice_opens(&r.bytes, &["机关第一党支部支部工作台账（2025年）", "支部党员大会"]);

    // Audited: action export, entity ledger, the org.
    let audit = fx.audit("ledger", fx.orgs.b1).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].0, "export");
    let after = audit[0].3.as_ref().unwrap();
    assert_eq!((after["year"].as_i64(), after["format"].as_str(), after["meetings"].as_i64()), (Some(2025), Some("xlsx"), Some(4)));
    let _ = general;
}

/// The text pdftotext (poppler-utils) extracts, or None with a reason when it is not installed.
fn pdftotext(bytes: &[u8]) -> Option<String> {
    if std::process::Command::new("pdftotext").arg("-v").output().is_err() {
        if std::env::var_os("CI").is_some() {
            panic!("pdftotext is missing on CI: .ci/run installs poppler-utils");
        }
        eprintln!("SKIPPED the PDF text check: no pdftotext (apt-get install poppler-utils)");
        return None;
    }
    let dir = tempdir("ledger-pdf");
    let path = dir.join("ledger.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("pdftotext").args(["-enc", "UTF-8"]).arg(&path).arg("-").output().unwrap();
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_dir_all(dir).ok();
    Some(String::from_utf8(out.stdout).unwrap())
}

#[actix_rt::test]
async fn the_pdf_embeds_a_font_subset_and_its_chinese_text_extracts() {
    let fx = Fx::new().await;
    b1_year(&fx).await;
    let t = fx.login(users::COM_C1).await;
    let r = fx.send(Req::get(url(fx.orgs.b1, "year=2025&format=pdf")).token(&t)).await;
    if r.status.as_u16() == 503 {
        // Only where neither font package is installed; .ci/run installs fonts-noto-cjk.
        r.expect_problem(503, "pdf_font_missing");
        assert!(r.text.contains("fonts-noto-cjk"), "{}", r.text);
        assert!(std::env::var_os("CI").is_none(), "CI must have fonts-noto-cjk");
        eprintln!("SKIPPED the PDF checks: no CJK font here");
        return;
    }
    r.expect(200);
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    assert!(r.header("content-disposition").unwrap().contains(&format!("ledger-{}-2025.pdf", fx.orgs.b1)));
    assert!(r.bytes.starts_with(b"%PDF-"), "a PDF");
    // To look at it: LEDGER_PDF_OUT=/tmp/ledger.pdf cargo test --test ledger the_pdf
    if let Some(out) = std::env::var_os("LEDGER_PDF_OUT") {
        std::fs::write(out, &r.bytes).unwrap();
    }
    // A subset of the font (the whole NotoSansCJK-Regular.ttc is 19 MB, wqy-microhei 5 MB).
    assert!(r.bytes.len() < 400_000, "{} bytes: the font subset, not the whole font", r.bytes.len());
    let Some(text) = pdftotext(&r.bytes) else {
        return;
    };
    for expected in ["机关第一党支部", "支部工作台账（2025年）", TOPIC, LECTURE, "李四（病假：住院治疗）", "党员名册", "党员变动", "内部资料", "第 1 页，共"]
    {
        assert!(text.contains(expected), "{expected:?} not in the PDF's text:\n{text}");
    }
    assert!(!text.contains("学院支部不应出现的会议"));
    // 党员人数 is dated, as in the workbook: both print the ledger's one text (issue 15).
    assert!(text.contains("预备党员 1 人），2025-12-31"), "the dated member count:\n{text}");
    let audit = fx.audit("ledger", fx.orgs.b1).await;
    assert_eq!(audit.last().unwrap().3.as_ref().unwrap()["format"], "pdf");
}

#[actix_rt::test]
async fn a_long_record_continues_on_the_next_page() {
    let fx = Fx::new().await;
    let id = meeting(&fx, fx.orgs.b2, "branch_general_meeting", "长篇会议记录", "2025-04-01T09:00:00+08:00", "held").await;
    let minutes: String = (1..=400).map(|i| format!("第{i}条发言内容记录。")).collect::<String>() + "会议记录到此结束";
    diesel::sql_query("UPDATE meetings SET minutes = $1 WHERE id = $2")
        .bind::<Text, _>(&minutes)
        .bind::<BigInt, _>(id)
        .execute(&mut fx.conn().await)
        .await
        .unwrap();
    let t = fx.login(users::COM_C1).await;
    let r = fx.send(Req::get(url(fx.orgs.b2, "year=2025")).token(&t)).await;
    r.expect(200);
    let all = sheets(&r.bytes);
    assert!(any_cell(sheet(&all, "会议记录"), |c| c == minutes), "the whole minutes in one cell");

    let r = fx.send(Req::get(url(fx.orgs.b2, "year=2025&format=pdf")).token(&t)).await;
    if r.status.as_u16() == 503 {
        return;
    }
    r.expect(200);
    let Some(text) = pdftotext(&r.bytes) else {
        return;
    };
    // Wrapped lines come out as lines: join them to find the text whole.
    let joined: String = text.lines().map(str::trim).collect();
    assert!(joined.contains("第1条发言内容记录。第2条") && joined.contains("第400条发言内容记录。会议记录到此结束"), "{text}");
    let pages: u32 = text.split("页，共 ").nth(1).and_then(|s| s.split(' ').next()).and_then(|n| n.parse().ok()).unwrap();
    assert!(pages >= 4, "cover, the long record over two pages or more, the roster: {pages} pages");
}

#[actix_rt::test]
async fn an_org_without_meetings_still_has_a_ledger() {
    let fx = Fx::new().await;
    let t = fx.login(users::COM_C2).await;
    let r = fx.send(Req::get(url(fx.orgs.b3, "year=2025")).token(&t)).await;
    r.expect(200);
    assert_eq!(r.header("content-type"), Some(XLSX), "xlsx by default");
    let all = sheets(&r.bytes);
    assert!(any_cell(sheet(&all, "会议记录"), |c| c == "本年无会议记录"));
    assert!(any_cell(sheet(&all, "党员名册"), |c| c == "钱七"));
    let cover = sheet(&all, "封面概况");
    // Nothing held, but B3 owes its meetings: the required column is there, every count 0.
    let lecture = cover.iter().find(|r| r.as_slice().first().is_some_and(|c| c == "党课")).expect("党课 is owed");
    assert_eq!((lecture[13].as_str(), lecture[14].as_str()), ("0", "4"));

    let r = fx.send(Req::get(url(fx.orgs.b3, "year=2025&format=pdf")).token(&t)).await;
    if r.status.as_u16() != 503 {
        r.expect(200);
        assert!(r.bytes.starts_with(b"%PDF-"));
        if let Some(text) = pdftotext(&r.bytes) {
            assert!(text.contains("学院第一党支部") && text.contains("本年无会议记录"), "{text}");
        }
    }
}

#[actix_rt::test]
async fn only_org_managing_roles_over_the_org_get_its_ledger() {
    let fx = Fx::new().await;
    let o = fx.orgs;
    let branch = fx.login(users::BR_B1).await;
    for format in ["xlsx", "pdf"] {
        fx.send(Req::get(url(o.b3, &format!("year=2025&format={format}"))).token(&branch)).await.expect_problem(403, "out_of_scope");
    }
    // B1-1 is under B1: the branch worker's scope.
    fx.send(Req::get(url(o.b1_1, "year=2025")).token(&branch)).await.expect(200);
    for user in [users::MEMBER_ZS, users::MASSES] {
        let t = fx.login(user).await;
        fx.send(Req::get(url(o.b1, "year=2025")).token(&t)).await.expect(403);
    }
    let committee = fx.login(users::COM_C2).await;
    fx.send(Req::get(url(o.b1, "year=2025")).token(&committee)).await.expect(403);
    fx.send(Req::get(url(o.b3, "year=2025")).token(&committee)).await.expect(200);
    fx.send(Req::get(url(999_999, "year=2025")).token(&committee)).await.expect(404);
    assert!(fx.audit("ledger", o.b3).await.len() == 1, "only the answered export is audited");
}

#[actix_rt::test]
async fn the_year_is_checked() {
    let fx = Fx::new().await;
    let t = fx.login(users::BR_B1).await;
    let b1 = fx.orgs.b1;
    for year in ["1920", "2999"] {
        let r = fx.send(Req::get(url(b1, &format!("year={year}"))).token(&t)).await;
        r.expect(422);
        assert_eq!(r.first_error().0, "year", "{}", r.text);
    }
    let r = fx.send(Req::get(url(b1, "year=abc")).token(&t)).await;
    assert!(matches!(r.status.as_u16(), 400 | 422), "{}", r.text);
    assert!(r.text.contains("year"), "{}", r.text);
    let r = fx.send(Req::get(url(b1, "format=doc")).token(&t)).await;
    assert!(matches!(r.status.as_u16(), 400 | 422), "{}", r.text);
    assert!(r.text.contains("format"), "{}", r.text);
    // The current year, by default: counts up to today.
    fx.send(Req::get(url(b1, "")).token(&t)).await.expect(200);
}

#[test]
fn a_missing_font_answers_503_naming_the_package() {
    let e = dangjian::ledger::pdf::load_font(Some("/nonexistent/NotoSansCJK-Regular.ttc#2")).err().unwrap();
    assert_eq!((e.status.as_u16(), e.code), (503, "pdf_font_missing"));
    let (en, zh) = e.detail.unwrap();
    assert!(en.contains("fonts-noto-cjk") && zh.contains("fonts-noto-cjk"), "{en} / {zh}");
}
