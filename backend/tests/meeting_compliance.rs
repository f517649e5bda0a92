//! 分析提醒 (issue 6): compliance rows against hand-made calendars, the heat map's sums, attendance
//! rates and absence streaks, role scope.
//!
//! docs/domain.md, Organizational life: the usual frequencies (支委会 and 主题党日 monthly, 支部党员大会
//! and 党课 quarterly, 组织生活会 / 民主评议 / 谈心谈话 yearly) are per-organization settings with
//! these defaults. docs/domain.md, Organizations: a branch with 7 or more full members elects a committee
//! (支部工作条例 (2018) art. 17), so only such a branch owes 支委会 unless its setting says otherwise.
//! The calendars use a fixed range in the past (2025-01-01..2025-06-30), so today does not matter,
//! except for the running period's test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::{Datelike, NaiveDate};
use common::{Fx, Req, users};
use diesel::sql_query;
use diesel::sql_types::{Int8, Text};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use serde_json::Value;

const H1: &str = "from=2025-01-01&to=2025-06-30";

/// A meeting of `org` and `kind` at 10:00 local time on `day`; its id.
async fn meeting(fx: &Fx, org: i64, kind: &str, day: &str, status: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = Int8)]
        id: i64,
    }
    let row: Id = sql_query(
        "INSERT INTO meetings (org_id, kind, topic, starts_at, status) VALUES ($1, $2, '会议', ($3 || 'T10:00:00+08:00')::timestamptz, $4) RETURNING id",
    )
    .bind::<Int8, _>(org)
    .bind::<Text, _>(kind)
    .bind::<Text, _>(day)
    .bind::<Text, _>(status)
    .get_result(&mut fx.conn().await)
    .await
    .unwrap();
    row.id
}

async fn attend(fx: &Fx, meeting: i64, person: i64, attendance: &str) {
    let reason = if attendance == "absent" { "'personal'" } else { "NULL" };
    fx.conn()
        .await
        .batch_execute(&format!(
            "INSERT INTO meeting_attendees (meeting_id, person_id, attendance, absence_reason) VALUES ({meeting}, {person}, '{attendance}', {reason})"
        ))
        .await
        .unwrap();
}

async fn sql(fx: &Fx, s: &str) {
    fx.conn().await.batch_execute(s).await.unwrap();
}

/// A new branch under `parent` with `full` full members (docs/domain.md: 7 or more elect a committee).
async fn branch(fx: &Fx, parent: i64, full: usize) -> (i64, Vec<i64>) {
    let b = fx.new_org("branch", parent).await;
    let mut people = Vec::new();
    for i in 0..full {
        people.push(fx.new_member(&format!("党员{i}"), b).await);
    }
    (b, people)
}

async fn compliance(fx: &Fx, token: &str, query: &str) -> Value {
    let r = fx.send(Req::get(format!("/api/v1/meetings/compliance?{query}")).token(token)).await;
    r.expect(200);
    r.json
}

/// (period, required, held, state) of one org and kind, in the answer's order.
fn rows(c: &Value, org: i64, kind: &str) -> Vec<(String, i64, i64, String)> {
    c["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["org_id"] == org && i["kind"] == kind)
        .map(|i| (i["period"].as_str().unwrap().into(), i["required"].as_i64().unwrap(), i["held"].as_i64().unwrap(), i["state"].as_str().unwrap().into()))
        .collect()
}

fn kinds(c: &Value, org: i64) -> Vec<String> {
    let mut k: Vec<String> = c["items"].as_array().unwrap().iter().filter(|i| i["org_id"] == org).map(|i| i["kind"].as_str().unwrap().to_string()).collect();
    k.dedup();
    k
}

fn r(period: &str, required: i64, held: i64, state: &str) -> (String, i64, i64, String) {
    (period.into(), required, held, state.into())
}

#[tokio::test]
async fn a_branch_that_missed_marchs_committee_meeting_has_exactly_that_missing_row() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let (b, _) = branch(&fx, fx.orgs.c1, 0).await;
    // The setting: a committee whatever the count (docs/domain.md, Organizations).
    sql(&fx, &format!("INSERT INTO org_life_settings (org_id, has_committee) VALUES ({b}, true)")).await;
    for day in ["2025-01-08", "2025-02-12", "2025-04-09", "2025-05-14", "2025-06-11"] {
        meeting(&fx, b, "branch_committee_meeting", day, "held").await;
    }
    // March: one planned, one cancelled; neither counts.
    meeting(&fx, b, "branch_committee_meeting", "2025-03-12", "planned").await;
    meeting(&fx, b, "branch_committee_meeting", "2025-03-19", "cancelled").await;
    // Outside the range: does not count for it.
    meeting(&fx, b, "branch_committee_meeting", "2024-12-30", "held").await;
    // 支部党员大会 quarterly: Q1 held twice, Q2 not.
    meeting(&fx, b, "branch_general_meeting", "2025-01-20", "held").await;
    meeting(&fx, b, "branch_general_meeting", "2025-03-31", "held").await;
    // 党课 quarterly: Q2 only.
    meeting(&fx, b, "party_lecture", "2025-06-30", "held").await;

    let c = compliance(&fx, &admin, &format!("org_id={b}&{H1}")).await;
    assert_eq!(
        rows(&c, b, "branch_committee_meeting"),
        vec![
            r("2025-01", 1, 1, "ok"),
            r("2025-02", 1, 1, "ok"),
            r("2025-03", 1, 0, "missing"),
            r("2025-04", 1, 1, "ok"),
            r("2025-05", 1, 1, "ok"),
            r("2025-06", 1, 1, "ok")
        ]
    );
    assert_eq!(rows(&c, b, "branch_general_meeting"), vec![r("2025-Q1", 1, 2, "ok"), r("2025-Q2", 1, 0, "missing")]);
    assert_eq!(rows(&c, b, "party_lecture"), vec![r("2025-Q1", 1, 0, "missing"), r("2025-Q2", 1, 1, "ok")]);
    // 主题党日 monthly, none held; the yearly kinds' 2025 intersects the range.
    assert_eq!(rows(&c, b, "theme_party_day").len(), 6);
    assert_eq!(rows(&c, b, "org_life_meeting"), vec![r("2025", 1, 0, "missing")]);
    // A branch owes the branch kinds, not the party group's meeting.
    assert_eq!(
        kinds(&c, b),
        [
            "branch_general_meeting",
            "branch_committee_meeting",
            "party_lecture",
            "theme_party_day",
            "org_life_meeting",
            "democratic_appraisal",
            "heart_to_heart_talk"
        ]
    );
    let item = c["items"].as_array().unwrap().iter().find(|i| i["period"] == "2025-03" && i["kind"] == "branch_committee_meeting").unwrap();
    assert_eq!((item["period_start"].as_str(), item["period_end"].as_str(), &item["days_left"]), (Some("2025-03-01"), Some("2025-03-31"), &Value::Null));
    let committee = c["summary"]["by_kind"].as_array().unwrap().iter().find(|k| k["kind"] == "branch_committee_meeting").unwrap();
    assert_eq!((committee["ok"].as_i64(), committee["missing"].as_i64(), committee["due"].as_i64()), (Some(5), Some(1), Some(0)));
    assert_eq!(c["total"], 6 + 2 + 2 + 6 + 3);

    // Filters: kind and state; the summary still counts every row.
    let missing = compliance(&fx, &admin, &format!("org_id={b}&{H1}&kind=branch_committee_meeting&state=missing")).await;
    assert_eq!(missing["total"], 1);
    assert_eq!(missing["items"][0]["period"], "2025-03");
    assert_eq!(missing["summary"]["ok"], c["summary"]["ok"]);
    // Paging.
    let p2 = compliance(&fx, &admin, &format!("org_id={b}&{H1}&page=2&page_size=5")).await;
    assert_eq!(p2["items"].as_array().unwrap().len(), 5);
    assert_eq!(p2["items"][0], c["items"][5]);
}

#[tokio::test]
async fn committee_meetings_are_owed_from_seven_full_members_unless_the_setting_says_otherwise() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    // 6 full members: no committee (支部工作条例 art. 17).
    let (six, _) = branch(&fx, fx.orgs.c1, 6).await;
    let (seven, _) = branch(&fx, fx.orgs.c1, 7).await;
    let (overridden, _) = branch(&fx, fx.orgs.c1, 7).await;
    sql(&fx, &format!("INSERT INTO org_life_settings (org_id, has_committee) VALUES ({overridden}, false)")).await;
    for org in [six, seven, overridden] {
        let c = compliance(&fx, &admin, &format!("org_id={org}&{H1}&kind=branch_committee_meeting")).await;
        let expected = if org == seven { 6 } else { 0 };
        assert_eq!(c["total"], expected, "org {org}");
        // The other kinds are owed all the same.
        let all = compliance(&fx, &admin, &format!("org_id={org}&{H1}&kind=theme_party_day")).await;
        assert_eq!(all["total"], 6);
    }
    // The settings' view of the same resolution (rules_for_subtree).
    let set = dangjian::meetings::rules::rules_for_subtree(&mut *fx.conn().await, fx.orgs.c1).await.unwrap();
    let s = set.get(seven).unwrap();
    assert_eq!((s.has_committee.value, s.has_committee.full_members, s.has_committee.setting), (true, 7, None));
    let o = set.get(overridden).unwrap();
    assert_eq!((o.has_committee.value, o.has_committee.full_members, o.has_committee.setting), (false, 7, Some(false)));
    assert!(!set.get(six).unwrap().has_committee.value);

    // The members of a branch's party groups are the branch's: one more full member in a group
    // of the six-member branch makes seven, and a committee (docs/domain.md, Organizations).
    let group = fx.new_org("group", six).await;
    fx.new_member("组员", group).await;
    let set = dangjian::meetings::rules::rules_for_subtree(&mut *fx.conn().await, fx.orgs.c1).await.unwrap();
    let s = set.get(six).unwrap();
    assert_eq!((s.has_committee.value, s.has_committee.full_members), (true, 7));
    let c = compliance(&fx, &admin, &format!("org_id={six}&{H1}&kind=branch_committee_meeting")).await;
    assert_eq!(c["total"], 6);
}

#[tokio::test]
async fn an_ancestors_rule_applies_to_its_branches_and_the_nearest_rule_wins() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    // The committee asks for a monthly 党课 (local rules differ: docs/domain.md, Organizational life).
    sql(&fx, &format!("INSERT INTO org_meeting_rules (org_id, kind, frequency, per_period) VALUES ({}, 'party_lecture', 'month', 1)", fx.orgs.c1)).await;
    // B2 keeps its own: two a half year. 主题党日 switched off for B1 (frequency none).
    sql(&fx, &format!("INSERT INTO org_meeting_rules (org_id, kind, frequency, per_period) VALUES ({}, 'party_lecture', 'half_year', 2), ({}, 'theme_party_day', 'none', 1)", fx.orgs.b2, fx.orgs.b1)).await;
    meeting(&fx, fx.orgs.b1, "party_lecture", "2025-02-10", "held").await;
    let c = compliance(&fx, &admin, &format!("org_id={}&{H1}&page_size=5000", fx.orgs.c1)).await;
    let b1 = rows(&c, fx.orgs.b1, "party_lecture");
    assert_eq!(b1.len(), 6);
    assert_eq!(b1[1], r("2025-02", 1, 1, "ok"));
    assert_eq!(rows(&c, fx.orgs.b2, "party_lecture"), vec![r("2025-H1", 2, 0, "missing")]);
    assert!(rows(&c, fx.orgs.b1, "theme_party_day").is_empty());
    assert_eq!(rows(&c, fx.orgs.b2, "theme_party_day").len(), 6);
    // C2's branch keeps the kind's default (quarterly).
    let c2 = compliance(&fx, &admin, &format!("org_id={}&{H1}", fx.orgs.c2)).await;
    assert_eq!(rows(&c2, fx.orgs.b3, "party_lecture").len(), 2);

    let set = dangjian::meetings::rules::rules_for_subtree(&mut *fx.conn().await, fx.orgs.b1).await.unwrap();
    let lecture = set.get(fx.orgs.b1).unwrap().rules.iter().find(|r| r.kind == "party_lecture").unwrap().clone();
    assert_eq!((lecture.source, lecture.from_org_id), (dangjian::meetings::rules::RuleSource::Inherited, Some(fx.orgs.c1)));
}

#[tokio::test]
async fn a_party_group_owes_group_meetings_only_and_orgs_owe_nothing_before_founding() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    meeting(&fx, fx.orgs.b1_1, "group_meeting", "2025-05-06", "held").await;
    let c = compliance(&fx, &admin, &format!("org_id={}&{H1}", fx.orgs.b1_1)).await;
    assert_eq!(kinds(&c, fx.orgs.b1_1), ["group_meeting"]);
    assert_eq!(rows(&c, fx.orgs.b1_1, "group_meeting")[4], r("2025-05", 1, 1, "ok"));
    assert_eq!(c["total"], 6);
    // A branch founded on 15 March owes from April (a period counts only if the org existed throughout).
    let (b, _) = branch(&fx, fx.orgs.c1, 0).await;
    sql(&fx, &format!("UPDATE orgs SET founded_on = '2025-03-15' WHERE id = {b}")).await;
    let c = compliance(&fx, &admin, &format!("org_id={b}&{H1}&kind=theme_party_day")).await;
    let periods: Vec<String> = rows(&c, b, "theme_party_day").into_iter().map(|r| r.0).collect();
    assert_eq!(periods, ["2025-04", "2025-05", "2025-06"]);
    // The committee itself owes nothing (the kinds are owed by branches and groups).
    let c1 = compliance(&fx, &admin, &format!("org_id={}&{H1}&page_size=5000", fx.orgs.c1)).await;
    assert!(kinds(&c1, fx.orgs.c1).is_empty());
}

#[tokio::test]
async fn a_running_period_is_due_not_missing() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let today = common::clock().today();
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap();
    let (b, _) = branch(&fx, fx.orgs.c1, 0).await;
    let c = compliance(&fx, &admin, &format!("org_id={b}&from={first}&to={today}&kind=theme_party_day")).await;
    let items = c["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let end = NaiveDate::parse_from_str(items[0]["period_end"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert_eq!(items[0]["state"], "due");
    assert_eq!(items[0]["days_left"].as_i64(), Some((end - today).num_days()));
    // The summary counts every kind (the filter narrows the items only).
    let theme = c["summary"]["by_kind"].as_array().unwrap().iter().find(|k| k["kind"] == "theme_party_day").unwrap();
    assert_eq!((theme["due"].as_i64(), theme["missing"].as_i64()), (Some(1), Some(0)));
    assert!(c["summary"]["due"].as_i64().unwrap() >= 1);
    assert!(c["summary"]["due_soon"].as_i64().unwrap() >= i64::from((end - today).num_days() <= 7));
    // Held today: ok.
    meeting(&fx, b, "theme_party_day", &today.to_string(), "held").await;
    let c = compliance(&fx, &admin, &format!("org_id={b}&from={first}&to={today}&kind=theme_party_day")).await;
    assert_eq!(c["items"][0]["state"], "ok");
    // Future periods do not count yet; the default range is this year to today.
    let c = compliance(&fx, &admin, &format!("org_id={b}&kind=theme_party_day")).await;
    assert_eq!(c["total"], today.month());
    assert_eq!(c["from"], format!("{}-01-01", today.year()));
}

#[tokio::test]
async fn the_heat_maps_cells_sum_the_compliance_items() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    for (org, kind, day) in [
        (fx.orgs.b1, "theme_party_day", "2025-01-15"),
        (fx.orgs.b1, "branch_general_meeting", "2025-03-01"),
        (fx.orgs.b2, "theme_party_day", "2025-03-20"),
        (fx.orgs.b2, "theme_party_day", "2025-03-21"),
        (fx.orgs.b1_1, "group_meeting", "2025-07-07"),
        (fx.orgs.b1, "org_life_meeting", "2025-12-20"),
    ] {
        meeting(&fx, org, kind, day, "held").await;
    }
    let c = compliance(&fx, &admin, &format!("org_id={}&from=2025-01-01&to=2025-12-31&page_size=5000", fx.orgs.c1)).await;
    let r = fx.send(Req::get(format!("/api/v1/meetings/heatmap?org_id={}&year=2025", fx.orgs.c1)).token(&admin)).await;
    r.expect(200);
    let h = r.json;
    assert_eq!(h["months"].as_array().unwrap().len(), 12);
    // C1's only child is G1, holding B1 (with its group) and B2.
    let rows = h["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0]["org_id"].as_i64(), rows[0]["org_kind"].as_str(), rows[0]["branches"].as_i64()), (Some(fx.orgs.g1), Some("general_branch"), Some(2)));
    let items = c["items"].as_array().unwrap();
    for (m, cell) in rows[0]["cells"].as_array().unwrap().iter().enumerate() {
        let month = format!("2025-{:02}", m + 1);
        assert_eq!(cell["month"], month.as_str());
        let ending: Vec<&Value> = items.iter().filter(|i| i["period_end"].as_str().unwrap()[..7] == month).collect();
        let sum = |f: &str| ending.iter().map(|i| i[f].as_i64().unwrap()).sum::<i64>();
        let count = |s: &str| ending.iter().filter(|i| i["state"] == s).count() as i64;
        assert_eq!(cell["required"], sum("required"), "{month}");
        assert_eq!(cell["held"], sum("held"), "{month}");
        assert_eq!(cell["missing"], count("missing"), "{month}");
        assert_eq!(cell["due"], 0);
    }
    // March: B1's 主题党日 missing, B2's held twice; the quarter's 支部党员大会 counts in March.
    let march = &rows[0]["cells"][2];
    assert_eq!(march["held"], 3);
    // Drill down: G1's rows are its branches; a branch's map is the branch itself (with its group).
    let r = fx.send(Req::get(format!("/api/v1/meetings/heatmap?org_id={}&year=2025", fx.orgs.g1)).token(&admin)).await;
    let names: Vec<&str> = r.json["rows"].as_array().unwrap().iter().map(|r| r["org_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["机关第一党支部", "机关第二党支部"]);
    let r = fx.send(Req::get(format!("/api/v1/meetings/heatmap?org_id={}&year=2025", fx.orgs.b1)).token(&admin)).await;
    let rows = r.json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["org_id"], fx.orgs.b1);
    assert_eq!(rows[0]["cells"][6]["held"], 1, "the group's July meeting");
    fx.send(Req::get(format!("/api/v1/meetings/heatmap?org_id={}&year=1999", fx.orgs.b1)).token(&admin)).await.expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn attendance_rates_and_three_absences_in_a_row() {
    let fx = Fx::new().await;
    let admin = fx.login(users::ADMIN).await;
    let (b, p) = branch(&fx, fx.orgs.c1, 3).await;
    let (a3, a2, ok) = (p[0], p[1], p[2]);
    // Four held meetings: p0 present once then absent three times in a row (flagged); p1 absent
    // the last two (not flagged); p2 always present.
    let days = ["2025-01-10", "2025-02-10", "2025-03-10", "2025-04-10"];
    for (i, day) in days.iter().enumerate() {
        let m = meeting(&fx, b, "theme_party_day", day, "held").await;
        attend(&fx, m, a3, if i == 0 { "present" } else { "absent" }).await;
        attend(&fx, m, a2, if i < 2 { "present" } else { "absent" }).await;
        attend(&fx, m, ok, "present").await;
    }
    // A planned meeting's rows do not count; nor a pending row of a held meeting in the rates.
    let planned = meeting(&fx, b, "theme_party_day", "2025-05-10", "planned").await;
    attend(&fx, planned, ok, "pending").await;
    let pending = meeting(&fx, b, "branch_general_meeting", "2025-05-20", "held").await;
    attend(&fx, pending, ok, "pending").await;

    let r = fx.send(Req::get(format!("/api/v1/meetings/attendance?org_id={}&{H1}", fx.orgs.c1)).token(&admin)).await;
    r.expect(200);
    let a = r.json;
    let org = a["by_org"].as_array().unwrap().iter().find(|o| o["org_id"] == b).unwrap();
    assert_eq!((org["meetings"].as_i64(), org["due"].as_i64(), org["present"].as_i64(), org["absent"].as_i64()), (Some(5), Some(13), Some(7), Some(5)));
    assert_eq!(org["rate"].as_f64(), Some(0.583));
    // Lowest rate first.
    let members: Vec<(i64, Option<f64>)> = a["by_member"].as_array().unwrap().iter().map(|m| (m["person_id"].as_i64().unwrap(), m["rate"].as_f64())).collect();
    assert_eq!(members, [(a3, Some(0.25)), (a2, Some(0.5)), (ok, Some(1.0))]);
    assert_eq!(a["by_member"][0]["org_id"], b);
    assert_eq!(a["by_member"][0]["name"], "党员0");
    let streaks = a["absent_streaks"].as_array().unwrap();
    assert_eq!(streaks.len(), 1, "{streaks:?}");
    assert_eq!((streaks[0]["person_id"].as_i64(), streaks[0]["streak"].as_i64()), (Some(a3), Some(3)));
    assert_eq!(streaks[0]["last_meeting_at"], "2025-04-10T02:00:00Z");
    // A later presence ends the streak.
    let m = meeting(&fx, b, "theme_party_day", "2025-06-10", "held").await;
    attend(&fx, m, a3, "present").await;
    let r = fx.send(Req::get(format!("/api/v1/meetings/attendance?org_id={b}&{H1}")).token(&admin)).await;
    assert!(r.json["absent_streaks"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn scope_branch_b1_sees_its_branch_not_c2() {
    let fx = Fx::new().await;
    let br = fx.login(users::BR_B1).await;
    let com2 = fx.login(users::COM_C2).await;
    for path in ["compliance", "heatmap", "attendance"] {
        fx.send(Req::get(format!("/api/v1/meetings/{path}?org_id={}", fx.orgs.c2)).token(&br)).await.expect_problem(403, "out_of_scope");
        fx.send(Req::get(format!("/api/v1/meetings/{path}?org_id={}", fx.orgs.b3)).token(&br)).await.expect_problem(403, "out_of_scope");
        fx.send(Req::get(format!("/api/v1/meetings/{path}?org_id={}", fx.orgs.b1)).token(&com2)).await.expect_problem(403, "out_of_scope");
        // Its own branch, and by default its single scope root.
        fx.send(Req::get(format!("/api/v1/meetings/{path}?org_id={}", fx.orgs.b1)).token(&br)).await.expect(200);
        fx.send(Req::get(format!("/api/v1/meetings/{path}")).token(&br)).await.expect(200);
    }
    let member = fx.login(users::MEMBER_ZS).await;
    let r = fx.send(Req::get(format!("/api/v1/meetings/compliance?org_id={}", fx.orgs.b1)).token(&member)).await;
    assert_eq!(r.status.as_u16(), 403);
    // Parameters named in the problem.
    let admin = fx.login(users::ADMIN).await;
    let r = fx.send(Req::get(format!("/api/v1/meetings/compliance?org_id={}&from=2020-01-01&to=2025-01-01", fx.orgs.b1)).token(&admin)).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.first_error().0, "to");
    let r = fx.send(Req::get(format!("/api/v1/meetings/compliance?org_id={}&state=late", fx.orgs.b1)).token(&admin)).await;
    assert_eq!(r.first_error().0, "state");
    let r = fx.send(Req::get(format!("/api/v1/meetings/compliance?org_id={}&kind=nope", fx.orgs.b1)).token(&admin)).await;
    assert_eq!(r.first_error().0, "kind");
}
