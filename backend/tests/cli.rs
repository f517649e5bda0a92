//! The `dangjian` command line, run as a process against a fresh database: `user create` (password
//! on stdin, repeatable grants), and its refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::{Datelike, NaiveDate};
use common::{DATA_KEY, Fx, Req};
use dangjian::crypto::DataKey;
use serde_json::json;

/// Runs `dangjian ARGS` against the fixture's database with `stdin` as input: (success, stdout+stderr).
fn dangjian(fx: &Fx, args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dangjian"))
        .args(args)
        .env("DATABASE_URL", &fx.db.url)
        .env("DANGJIAN_DATA_KEY", DataKey::from_bytes(DATA_KEY).to_base64())
        .env("JWT_SECRET", "cli-test-secret-0123456789")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[actix_web::test]
async fn user_create_takes_the_password_from_stdin_and_repeatable_grants() {
    let fx = Fx::new().await;
    let (ok, out) = dangjian(&fx, &["user", "create", "--username", "lishuji", "--grant", "branch:B1", "--grant", "committee:C1"], "Autumn-Maple-Ledger-47\n");
    assert!(ok, "{out}");
    assert!(out.contains("created account"), "{out}");

    let login = fx.send(Req::post("/api/v1/auth/login").json(json!({"username": "lishuji", "password": "Autumn-Maple-Ledger-47"}))).await;
    assert_eq!(login.status, 200, "{}", login.text);
    let token = login.json["access_token"].as_str().unwrap().to_string();
    let me = fx.send(Req::get("/api/v1/me").token(&token)).await;
    let grants: Vec<(String, String)> =
        me.json["grants"].as_array().unwrap().iter().map(|g| (g["role"].as_str().unwrap().to_string(), g["org_code"].as_str().unwrap().to_string())).collect();
    assert_eq!(grants, [("branch".to_string(), "B1".to_string()), ("committee".to_string(), "C1".to_string())]);

    // The account creation is audited as done from the command line.
    let audit = fx.audit("account", me.json["account"]["id"].as_i64().unwrap()).await;
    assert_eq!(audit.first().map(|a| a.0.as_str()), Some("create"));
}

#[actix_web::test]
async fn user_create_refuses_bad_input_and_creates_nothing() {
    let fx = Fx::new().await;
    let cases: [(&[&str], &str, &str); 7] = [
        (&["--username", "a1", "--grant", "boss:B1"], "Autumn-Maple-Ledger-47\n", "unknown role"),
        (&["--username", "a2", "--grant", "branch:NOPE"], "Autumn-Maple-Ledger-47\n", "NOPE"),
        (&["--username", "a3", "--grant", "branch"], "Autumn-Maple-Ledger-47\n", "needs an org"),
        (&["--username", "a4", "--grant", "branch:B1"], "short\n", "at least 12 characters"),
        // The security review's probe: both were accepted.
        (&["--username", "a5", "--grant", "branch:B1"], "aaaaaaa1\n", "at least 12 characters"),
        (&["--username", "a6", "--grant", "branch:B1"], "password1234\n", "too easy to guess"),
        (&["--username", "wangxiaoming", "--grant", "branch:B1"], "wangxiaoming2026\n", "too easy to guess"),
    ];
    for (extra, stdin, expected) in cases {
        let mut args = vec!["user", "create"];
        args.extend_from_slice(extra);
        let (ok, out) = dangjian(&fx, &args, stdin);
        assert!(!ok, "{args:?} should fail: {out}");
        assert!(out.contains(expected), "{args:?}: expected {expected:?} in {out:?}");
        let login = fx.send(Req::post("/api/v1/auth/login").json(json!({"username": args[3], "password": "Autumn-Maple-Ledger-47"}))).await;
        assert_eq!(login.status, 401, "{} must not exist", args[3]);
    }
}

/// `dangjian gen --meetings-years`: meetings for every branch and group as their kinds owe them,
/// officers and committee settings that agree with the members, and attendance rows that name
/// members of the meeting's org who were due (docs/domain.md, Organizational life).
#[actix_web::test]
async fn gen_writes_meetings_officers_and_attendance() {
    let db = common::TestDb::migrated().await;
    let out = Command::new(env!("CARGO_BIN_EXE_dangjian"))
        .args(["gen", "--orgs", "2100", "--members", "20000", "--meetings-years", "2", "--attendance-rows", "300000"])
        .env("DATABASE_URL", &db.url)
        .env("DANGJIAN_DATA_KEY", DataKey::from_bytes(DATA_KEY).to_base64())
        .env("JWT_SECRET", "cli-test-secret-0123456789")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{log}");
    assert!(log.contains("attendance rows"), "{log}");

    let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    // Months as the institution counts them, and "now" on the generator's clock.
    client.batch_execute(&dangjian::db::session_sql(&common::clock())).await.unwrap();
    let now = format!("'{}'::timestamptz", common::clock().now().to_rfc3339());
    let one = async |sql: &str| -> i64 { client.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0) };

    // Kinds go where they are owed: branch kinds to branches, 党小组会 to groups, none above.
    assert!(one("SELECT count(*) FROM meetings").await > 20_000);
    assert_eq!(one("SELECT count(*) FROM meetings m JOIN orgs o ON o.id = m.org_id WHERE o.kind NOT IN ('branch', 'group')").await, 0);
    assert_eq!(one("SELECT count(*) FROM meetings m JOIN orgs o ON o.id = m.org_id WHERE (o.kind = 'group') <> (m.kind = 'group_meeting')").await, 0);
    // 支委会 only where there is a committee: at least 3 officers (7 or more full members).
    assert_eq!(
        one("SELECT count(*) FROM meetings m WHERE m.kind = 'branch_committee_meeting'
              AND (SELECT count(*) FROM org_officers f WHERE f.org_id = m.org_id AND f.until IS NULL) < 3")
        .await,
        0
    );
    assert!(one("SELECT count(DISTINCT org_id) FROM meetings WHERE kind = 'branch_committee_meeting'").await > 100);
    // Most branches hold most monthly 主题党日 of the last full 12 months; some miss some.
    let per_branch: Vec<i64> = client
        .query(
            &format!(
                "SELECT count(m.id) FROM orgs o LEFT JOIN meetings m ON m.org_id = o.id AND m.kind = 'theme_party_day' AND m.status = 'held'
                AND m.starts_at >= date_trunc('month', {now}) - interval '12 months' AND m.starts_at < date_trunc('month', {now})
              WHERE o.kind = 'branch' GROUP BY o.id ORDER BY 1"
            ),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(per_branch.len() > 500, "{} branches", per_branch.len());
    assert!(per_branch[per_branch.len() / 2] >= 11, "median {}", per_branch[per_branch.len() / 2]);
    assert!(per_branch[per_branch.len() / 10] < 12, "the lowest tenth misses none");
    assert!(per_branch.iter().all(|&n| n <= 12), "at most one per month");
    // Two years: nothing before the periods that end after today less two years.
    assert_eq!(
        one(&format!("SELECT count(*) FROM meetings WHERE kind = 'theme_party_day' AND starts_at < date_trunc('month', {now} - interval '2 years')")).await,
        0
    );
    assert_eq!(one(&format!("SELECT count(*) FROM meetings WHERE starts_at > {now} + interval '31 days'")).await, 0);
    assert_eq!(one(&format!("SELECT count(*) FROM meetings WHERE status = 'held' AND starts_at > {now}")).await, 0);
    assert_eq!(one("SELECT count(*) FROM meetings WHERE status <> 'held' AND archived_at IS NOT NULL").await, 0);

    // Officers: one secretary per branch with a full member, all full members of the branch.
    assert_eq!(one("SELECT count(*) FROM (SELECT org_id FROM org_officers WHERE post = 'secretary' GROUP BY org_id HAVING count(*) > 1) x").await, 0);
    assert_eq!(
        one("SELECT count(*) FROM org_officers f WHERE NOT EXISTS (SELECT 1 FROM org_closure c JOIN members m ON m.org_id = c.descendant_id
              WHERE c.ancestor_id = f.org_id AND m.person_id = f.person_id AND m.category = 'full')")
        .await,
        0
    );
    // The committee setting where the members of the branch itself would say otherwise.
    assert!(one("SELECT count(*) FROM org_life_settings WHERE has_committee").await > 0);
    assert!(one("SELECT count(*) FROM org_meeting_rules").await >= 2);
    // Two 党课 a quarter under the committee whose rule asks for it.
    assert!(
        one("SELECT count(*) FROM (SELECT m.org_id FROM meetings m JOIN org_closure c ON c.descendant_id = m.org_id
              JOIN org_meeting_rules r ON r.org_id = c.ancestor_id AND r.kind = 'party_lecture' AND r.per_period = 2
              WHERE m.kind = 'party_lecture' GROUP BY m.org_id, date_trunc('quarter', m.starts_at AT TIME ZONE 'Asia/Shanghai') HAVING count(*) = 2) x")
        .await
            > 0
    );

    // Attendance: near the rows asked for; every attendee a member of the meeting's org (or of
    // its groups) who had joined by then, with a vote exactly when a full member.
    let rows = one("SELECT count(*) FROM meeting_attendees").await;
    assert!((240_000..=360_000).contains(&rows), "{rows} attendance rows");
    assert_eq!(
        one("SELECT count(*) FROM meeting_attendees a JOIN meetings t ON t.id = a.meeting_id WHERE NOT EXISTS (
              SELECT 1 FROM org_closure c JOIN members m ON m.org_id = c.descendant_id
               WHERE c.ancestor_id = t.org_id AND m.person_id = a.person_id AND m.joined_at <= (t.starts_at AT TIME ZONE 'Asia/Shanghai')::date
                 AND a.has_vote = (m.category = 'full'))")
        .await,
        0
    );
    assert_eq!(
        one("SELECT count(*) FROM meeting_attendees a JOIN meetings t ON t.id = a.meeting_id WHERE (t.status = 'planned') <> (a.attendance = 'pending')").await,
        0
    );
    assert_eq!(one("SELECT count(*) FROM meeting_attendees WHERE attendance = 'absent' AND absence_reason IS NULL").await, 0);
    let absent = one("SELECT count(*) FROM meeting_attendees WHERE attendance = 'absent'").await;
    assert!(absent * 20 > rows && absent * 5 < rows, "{absent} absences of {rows}");
    // 支委会 lists are the officers.
    assert_eq!(
        one("SELECT count(*) FROM meeting_attendees a JOIN meetings t ON t.id = a.meeting_id WHERE t.kind = 'branch_committee_meeting'
              AND NOT EXISTS (SELECT 1 FROM org_officers f WHERE f.org_id = t.org_id AND f.person_id = a.person_id)")
        .await,
        0
    );
    // The archive guard is back on: an archived meeting's list refuses changes.
    let err = client
        .batch_execute("UPDATE meeting_attendees SET attendance = 'present', absence_reason = NULL WHERE meeting_id = (SELECT min(meeting_id) FROM meeting_attendees a JOIN meetings t ON t.id = a.meeting_id WHERE t.archived_at IS NOT NULL)")
        .await
        .unwrap_err();
    let message = err.as_db_error().map(|e| e.message().to_string()).unwrap_or_default();
    assert!(message.contains("archived"), "{err:?}");
}

/// `dangjian demo-data`: the demo institution's organizational life — the first branch misses
/// exactly this year's March 支委会, has meetings planned in the coming days with the member
/// `dangyuan` due, one member absent from their last three meetings, study hours from 党课, its
/// secretary the 一人多岗 login's person; a second `--if-empty` load changes nothing.
#[actix_web::test]
async fn demo_data_has_a_year_of_meetings() {
    let db = common::TestDb::migrated().await;
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_dangjian"))
            .args(args)
            .env("DATABASE_URL", &db.url)
            .env("DANGJIAN_DATA_KEY", DataKey::from_bytes(DATA_KEY).to_base64())
            .env("JWT_SECRET", "cli-test-secret-0123456789")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{log}");
        log
    };
    let log = run(&["demo-data"]);
    assert!(log.contains("meetings"), "{log}");
    let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let one = async |sql: &str| -> i64 { client.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0) };
    let b1 = "(SELECT id FROM orgs WHERE name = '计算机学院教工第一党支部')";
    // The demo was drawn around the institution's date on the same clock as the CLI's
    // (DANGJIAN_NOW under `make test-dates`): every "now" and "this year" below is the clock's,
    // never the database's or the process's.
    let clock = common::clock();
    let local_now = clock.local_now();
    let now = format!("'{}'::timestamptz", clock.now().to_rfc3339());
    let tz = clock.time_zone().name();
    let local_month = format!("to_char(starts_at AT TIME ZONE '{tz}', 'MM')");
    let year_start = format!("'{}'::timestamptz", clock.midnight(NaiveDate::from_ymd_opt(local_now.year(), 1, 1).unwrap()).to_rfc3339());
    let last_year_start = format!("'{}'::timestamptz", clock.midnight(NaiveDate::from_ymd_opt(local_now.year() - 1, 1, 1).unwrap()).to_rfc3339());
    let this_year = format!("starts_at >= {year_start} AND starts_at < {now}");
    let months: Vec<String> = client
        .query(
            &format!(
                "SELECT {local_month} FROM meetings WHERE org_id = {b1} AND kind = 'branch_committee_meeting' AND status = 'held' AND {this_year} ORDER BY 1"
            ),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let expected: Vec<String> = (1..=local_now.month()).map(|m| format!("{m:02}")).filter(|m| m != "03").collect();
    // This month's may still be ahead (planned), the others are all there but March's.
    assert!(months == expected || months == expected[..expected.len() - 1], "{months:?}");
    assert!(one("SELECT count(*) FROM meetings WHERE status = 'held'").await > 1000);
    // Some branches missed some: fewer than last year's twelve monthly 主题党日 (a whole year
    // behind us on any date, where this year's could still be January's one).
    assert!(
        one(&format!(
            "SELECT count(*) FROM (SELECT o.id FROM orgs o LEFT JOIN meetings m ON m.org_id = o.id AND m.kind = 'theme_party_day' AND m.status = 'held'
              AND m.starts_at >= {last_year_start} AND m.starts_at < {year_start}
              WHERE o.kind = 'branch' GROUP BY o.id HAVING count(m.id) < 12) x"
        ))
        .await
            >= 1
    );
    // Planned in the coming days, with dangyuan due (pending) and notified.
    let dangyuan = "(SELECT person_id FROM accounts WHERE username = 'dangyuan')";
    assert!(
        one(&format!(
            "SELECT count(*) FROM meetings m JOIN meeting_attendees a ON a.meeting_id = m.id AND a.person_id = {dangyuan}
              WHERE m.org_id = {b1} AND m.status = 'planned' AND m.starts_at > {now} AND m.starts_at < {now} + interval '8 days' AND a.attendance = 'pending'"
        ))
        .await
            >= 2
    );
    assert!(one(&format!("SELECT count(*) FROM notifications WHERE person_id = {dangyuan} AND kind = 'meeting_planned'")).await >= 2);
    // Archived records have complete lists and minutes.
    assert!(one("SELECT count(*) FROM meetings WHERE archived_at IS NOT NULL").await > 0);
    assert_eq!(
        one("SELECT count(*) FROM meetings m WHERE m.archived_at IS NOT NULL AND (m.minutes IS NULL OR EXISTS (SELECT 1 FROM meeting_attendees a WHERE a.meeting_id = m.id AND a.attendance = 'pending'))").await,
        0
    );
    // Absences carry reasons; one member's last three meetings are absences (a person's meetings
    // never start together, so "last" is well defined).
    assert_eq!(one("SELECT count(*) FROM meeting_attendees WHERE attendance = 'absent' AND absence_reason IS NULL").await, 0);
    assert_eq!(
        one("SELECT count(*) FROM (SELECT person_id FROM (SELECT a.person_id, a.attendance, row_number() OVER (PARTITION BY a.person_id ORDER BY m.starts_at DESC, m.id DESC) AS rn
              FROM meeting_attendees a JOIN meetings m ON m.id = a.meeting_id WHERE m.status = 'held') x
             WHERE rn <= 3 GROUP BY person_id HAVING count(*) = 3 AND bool_and(attendance = 'absent')) y").await,
        1
    );
    // Study hours: dangyuan attended 党课 over the last year (120 minutes each; on 1 January
    // this year may not have had one yet).
    assert!(
        one(&format!(
            "SELECT coalesce(sum(m.study_minutes), 0) FROM meetings m JOIN meeting_attendees a ON a.meeting_id = m.id AND a.person_id = {dangyuan}
              WHERE m.kind = 'party_lecture' AND m.status = 'held' AND a.attendance = 'present' AND m.starts_at >= {now} - interval '1 year'"
        ))
        .await
            >= 120
    );
    // No two held meetings of one person start at the same time.
    assert_eq!(
        one("SELECT count(*) FROM (SELECT a.person_id, m.starts_at FROM meeting_attendees a JOIN meetings m ON m.id = a.meeting_id
              WHERE m.status = 'held' GROUP BY 1, 2 HAVING count(*) > 1) x")
        .await,
        0
    );
    // The first branch's secretary is the person of the 一人多岗 login.
    assert_eq!(
        one(&format!("SELECT count(*) FROM org_officers WHERE org_id = {b1} AND post = 'secretary' AND person_id = (SELECT person_id FROM accounts WHERE username = 'duozhi')")).await,
        1
    );
    let meetings = one("SELECT count(*) FROM meetings").await;
    assert!(run(&["demo-data", "--if-empty"]).contains("not loaded"));
    assert_eq!(one("SELECT count(*) FROM meetings").await, meetings);
}
