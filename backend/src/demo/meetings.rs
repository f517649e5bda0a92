//! The demo institution's organizational life (docs/domain.md, Organizational life): last year and this
//! year to date, so that `make run` shows a heat map with a few red cells, a due list, attendance
//! rates, an absence streak and study hours.
//!
//! - Officers: every branch gets a secretary (its first full member: the 一人多岗 login `duozhi`'s
//!   person in the first branch); a branch with 7 or more full members (its groups included) a
//!   committee of 3, or 5 from 40 (支部工作条例 art. 17), with the explicit `has_committee` setting
//!   where the branch's own members alone would say otherwise.
//! - One rule: 机关党总支 asks 谈心谈话 each half year (inherited by its branches).
//! - Meetings: each owed kind and period from 1 January last year to today; most branches hold
//!   nearly everything, three are visibly behind, and the first branch misses exactly this year's
//!   March 支委会 (issue 6's example). A meeting drawn after today stays planned when within ten
//!   days. The first branch also has a 主题党日 in three days and a 党课 in six, with their lists
//!   pending and a notification to each attendee.
//! - Attendance on every held meeting: about 6% absent with a reason, and one member of the first
//!   branch absent from their last three meetings.
//! - Archives: last year's held records (archived on 15 January, once it has come), and each of
//!   the first branch's records twenty days after it.
//!
//! Everything is drawn around `today` (the institution's date), so the demo tells the same story
//! on any day of the year; backend/tests/cli.rs checks it at several dates (`make test-dates`).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use diesel::QueryableByName;
use diesel::sql_query;
use diesel::sql_types::{Array, BigInt, Bool, Date, Int4, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::AppError;

const SEED: u64 = 0x6D65_6574_696E_6773;

/// Branches behind on their meetings (the share of owed meetings they hold).
const BEHIND: &[(&str, f64)] = &[("机械工程学院本科生党支部", 0.55), ("离退休第二党支部", 0.75), ("教务处党支部", 0.85)];

#[derive(QueryableByName)]
struct OrgRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    parent_id: Option<i64>,
    #[diesel(sql_type = Nullable<Date>)]
    term_start: Option<NaiveDate>,
}

#[derive(QueryableByName)]
struct MemberRow {
    #[diesel(sql_type = BigInt)]
    person_id: i64,
    #[diesel(sql_type = BigInt)]
    org_id: i64,
    #[diesel(sql_type = Bool)]
    full: bool,
    #[diesel(sql_type = Date)]
    joined_at: NaiveDate,
}

#[derive(QueryableByName)]
struct KindRow {
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Text)]
    frequency: String,
    #[diesel(sql_type = Int4)]
    per_period: i32,
    #[diesel(sql_type = Array<Text>)]
    org_kinds: Vec<String>,
    #[diesel(sql_type = Bool)]
    needs_committee: bool,
    #[diesel(sql_type = Bool)]
    committee_only: bool,
    #[diesel(sql_type = Int4)]
    study_minutes: i32,
}

#[derive(QueryableByName)]
struct Base {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn months_of(freq: &str) -> Option<u32> {
    match freq {
        "month" => Some(1),
        "quarter" => Some(3),
        "half_year" => Some(6),
        "year" => Some(12),
        _ => None,
    }
}

/// `minutes` after midnight of `d` in the institution's time (Asia/Shanghai, UTC+8, no DST).
fn at(d: NaiveDate, minutes: i64) -> DateTime<Utc> {
    (d.and_time(chrono::NaiveTime::MIN) + Duration::minutes(minutes) - Duration::hours(8)).and_utc()
}

fn period_label(d: NaiveDate, step: u32) -> String {
    match step {
        1 => format!("{}年{}月", d.year(), d.month()),
        3 => format!("{}年第{}季度", d.year(), d.month0() / 3 + 1),
        6 => format!("{}年{}半年", d.year(), if d.month0() < 6 { "上" } else { "下" }),
        _ => format!("{}年度", d.year()),
    }
}

fn topic(code: &str, label: &str, n: usize) -> String {
    const THEMES: &[&str] = &["重温入党誓词", "学习贯彻党的二十届四中全会精神", "走访慰问老党员", "志愿服务进社区", "参观红色教育基地", "廉洁文化主题教育"];
    const LECTURES: &[&str] = &["书记讲党课：坚定理想信念", "党课：弘扬伟大建党精神", "党课：全面从严治党永远在路上", "党课：做新时代合格党员"];
    const GENERAL: &[&str] = &["通报支部工作、收缴党费", "讨论接收预备党员", "讨论预备党员转正", "审议支部年度工作计划"];
    match code {
        "branch_committee_meeting" => format!("{label}支委会：研究部署支部工作"),
        "branch_general_meeting" => format!("{label}党员大会：{}", GENERAL[n % GENERAL.len()]),
        "party_lecture" => format!("{label}{}", LECTURES[n % LECTURES.len()]),
        "theme_party_day" => format!("{label}主题党日：{}", THEMES[n % THEMES.len()]),
        "org_life_meeting" => format!("{label}组织生活会"),
        "democratic_appraisal" => format!("{label}民主评议党员"),
        "heart_to_heart_talk" => format!("{label}谈心谈话"),
        "group_meeting" => format!("{label}党小组学习会"),
        other => format!("{label}{other}"),
    }
}

struct Meeting {
    org: usize,
    kind: usize,
    topic: String,
    starts_at: DateTime<Utc>,
    date: NaiveDate,
    status: &'static str,
    place: &'static str,
    host: Option<i64>,
    recorder: Option<i64>,
    archive_at: Option<DateTime<Utc>>,
}

struct Attendee {
    meeting: usize,
    person: i64,
    has_vote: bool,
    attendance: &'static str,
    reason: Option<&'static str>,
    note: Option<&'static str>,
}

/// What was loaded, for the summary line.
pub struct Loaded {
    pub meetings: usize,
    pub held: usize,
    pub attendees: usize,
    pub officers: usize,
}

/// Loads the demo's meetings inside the demo transaction, after its orgs and members.
pub async fn load(conn: &mut AsyncPgConnection, today: NaiveDate) -> Result<Loaded, AppError> {
    let orgs: Vec<OrgRow> = sql_query("SELECT id, name, kind, parent_id, term_start FROM orgs ORDER BY id").load(conn).await?;
    let members: Vec<MemberRow> =
        sql_query("SELECT person_id, org_id, category = 'full' AS full, joined_at FROM members WHERE status = 'normal' ORDER BY person_id").load(conn).await?;
    let kinds: Vec<KindRow> =
        sql_query("SELECT code, frequency, per_period, org_kinds, needs_committee, committee_only, study_minutes FROM meeting_kinds ORDER BY sort_order, code")
            .load(conn)
            .await?;
    let index: HashMap<i64, usize> = orgs.iter().enumerate().map(|(i, o)| (o.id, i)).collect();
    let mut own: Vec<Vec<&MemberRow>> = (0..orgs.len()).map(|_| Vec::new()).collect();
    for m in &members {
        if let Some(&i) = index.get(&m.org_id) {
            own[i].push(m);
        }
    }
    // A branch's roster: its own members, then its groups'.
    let roster = |bi: usize| -> Vec<&MemberRow> {
        let mut out = own[bi].clone();
        for (gi, g) in orgs.iter().enumerate() {
            if g.kind == "group" && g.parent_id == Some(orgs[bi].id) {
                out.extend(own[gi].iter().copied());
            }
        }
        out
    };
    let branches: Vec<usize> = (0..orgs.len()).filter(|&i| orgs[i].kind == "branch").collect();
    let first_branch = *<[_]>::first(&branches).ok_or_else(|| AppError::internal("demo has no branch"))?;

    // Officers and committee settings.
    let mut officers: Vec<Vec<i64>> = vec![Vec::new(); orgs.len()];
    let mut has_committee = vec![false; orgs.len()];
    let (mut settings_org, mut settings_val) = (Vec::new(), Vec::new());
    let (mut off_org, mut off_person, mut off_post, mut off_since) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for &bi in &branches {
        let full: Vec<i64> = roster(bi).iter().filter(|m| m.full).map(|m| m.person_id).collect();
        has_committee[bi] = full.len() >= 7;
        let own_full = own[bi].iter().filter(|m| m.full).count();
        if (own_full >= 7) != has_committee[bi] {
            settings_org.push(orgs[bi].id);
            settings_val.push(has_committee[bi]);
        }
        let size = match full.len() {
            0 => 0,
            1..=6 => 1,
            7..=39 => 3,
            _ => 5,
        };
        officers[bi] = full.into_iter().take(size).collect();
        let since = orgs[bi].term_start.unwrap_or(today - Duration::days(365)).min(today);
        for (j, &p) in officers[bi].iter().enumerate() {
            off_org.push(orgs[bi].id);
            off_person.push(p);
            off_post.push(match j {
                0 => "secretary",
                1 if size >= 5 => "deputy_secretary",
                _ => "committee_member",
            });
            off_since.push(since);
        }
    }
    sql_query("INSERT INTO org_officers (org_id, person_id, post, since) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::date[])")
        .bind::<Array<BigInt>, _>(&off_org)
        .bind::<Array<BigInt>, _>(&off_person)
        .bind::<Array<Text>, _>(&off_post)
        .bind::<Array<Date>, _>(&off_since)
        .execute(conn)
        .await?;
    sql_query("INSERT INTO org_life_settings (org_id, has_committee) SELECT * FROM unnest($1::bigint[], $2::bool[])")
        .bind::<Array<BigInt>, _>(&settings_org)
        .bind::<Array<Bool>, _>(&settings_val)
        .execute(conn)
        .await?;
    // 机关党总支 asks its branches for heart-to-heart talks each half year.
    let office = orgs.iter().position(|o| o.name == "机关党总支");
    if let Some(oi) = office {
        sql_query("INSERT INTO org_meeting_rules (org_id, kind, frequency, per_period) SELECT $1, 'heart_to_heart_talk', 'half_year', 1 WHERE EXISTS (SELECT 1 FROM meeting_kinds WHERE code = 'heart_to_heart_talk')")
            .bind::<BigInt, _>(orgs[oi].id)
            .execute(conn)
            .await?;
    }

    // The meetings.
    let mut rng = StdRng::seed_from_u64(SEED);
    let start = NaiveDate::from_ymd_opt(today.year() - 1, 1, 1).unwrap_or(today);
    let horizon = today + Duration::days(10);
    let this_march = NaiveDate::from_ymd_opt(today.year(), 3, 1).unwrap_or(today);
    let places = ["党员活动室", "学院会议室 302", "党建活动中心", "线上（视频会议）"];
    let mut meetings: Vec<Meeting> = Vec::new();
    for (oi, o) in orgs.iter().enumerate() {
        if o.kind != "branch" && o.kind != "group" {
            continue;
        }
        let branch = if o.kind == "group" { o.parent_id.and_then(|p| index.get(&p).copied()).unwrap_or(oi) } else { oi };
        let diligence = BEHIND.iter().find(|b| b.0 == orgs[branch].name).map_or(0.97, |b| b.1);
        let host = if o.kind == "group" { <[_]>::first(&own[oi]).map(|m| m.person_id) } else { <[_]>::first(&officers[oi]).copied() };
        let recorder = if o.kind == "group" { own[oi].get(1).map(|m| m.person_id) } else { officers[oi].get(1).copied() }.or(host);
        let in_office = office.is_some_and(|g| o.parent_id == Some(orgs[g].id) || orgs[branch].parent_id == Some(orgs[g].id));
        for (ki, k) in kinds.iter().enumerate() {
            if !k.org_kinds.contains(&o.kind) || (k.needs_committee && !has_committee[oi]) {
                continue;
            }
            let (freq, per) = if in_office && k.code == "heart_to_heart_talk" { ("half_year", 1) } else { (k.frequency.as_str(), k.per_period.max(1)) };
            let Some(step) = months_of(freq) else { continue };
            let mut p = start;
            let mut n = 0usize;
            while p <= today {
                let end = p.checked_add_months(Months::new(step)).map_or(p, |d| d - Duration::days(1));
                for _ in 0..per {
                    n += 1;
                    let from = if step == 12 && matches!(k.code.as_str(), "org_life_meeting" | "democratic_appraisal") {
                        NaiveDate::from_ymd_opt(p.year(), 12, 1).unwrap_or(p)
                    } else {
                        p
                    };
                    let date = from + Duration::days(rng.random_range(0..=(end - from).num_days().max(0)));
                    let held_draw = rng.random_bool(diligence);
                    // Issue 6's example: the first branch misses exactly this year's March 支委会.
                    let missed_example = oi == first_branch && k.code == "branch_committee_meeting" && p == this_march;
                    let status = if date >= today {
                        if date > horizon {
                            continue;
                        }
                        "planned"
                    } else if missed_example || (branch != first_branch && !held_draw) {
                        continue;
                    } else {
                        "held"
                    };
                    let minutes = match orgs[branch].name.contains("研究生") || orgs[branch].name.contains("本科生") {
                        true => 19 * 60,
                        false if orgs[branch].name.contains("离退休") => 9 * 60,
                        false => 14 * 60 + 30,
                    };
                    meetings.push(Meeting {
                        org: oi,
                        kind: ki,
                        topic: topic(&k.code, &period_label(date, step), n),
                        // A quarter of an hour apart by kind: a branch's meetings on one day, or its
                        // group's and its own, do not start together (a person's meetings have an
                        // order, which the absence streak reads).
                        starts_at: at(date, minutes + 15 * ki as i64),
                        date,
                        status,
                        place: places[rng.random_range(0..places.len())],
                        host,
                        recorder,
                        archive_at: None,
                    });
                }
                match p.checked_add_months(Months::new(step)) {
                    Some(next) => p = next,
                    None => break,
                }
            }
        }
    }
    // The first branch's coming meetings, whatever the draw gave.
    let next_month = today.checked_add_months(Months::new(1)).unwrap_or(today);
    for (code, days, title) in [("theme_party_day", 3, "主题党日：学习贯彻党的二十届四中全会精神"), ("party_lecture", 6, "书记讲党课：以学铸魂、以学增智")]
    {
        if let Some(ki) = kinds.iter().position(|k| k.code == code) {
            let date = today + Duration::days(days);
            meetings.push(Meeting {
                org: first_branch,
                kind: ki,
                topic: format!("{}{title}", if date.month() == today.month() { period_label(today, 1) } else { period_label(next_month, 1) }),
                starts_at: at(date, 14 * 60 + 30),
                date,
                status: "planned",
                place: "学院会议室 302",
                host: <[_]>::first(&officers[first_branch]).copied(),
                recorder: officers[first_branch].get(1).copied(),
                archive_at: None,
            });
        }
    }
    // Archives: last year's held records in mid-January (once that day has come); the first
    // branch archives each of its records twenty days after it, so that some are archived on any
    // day of the year.
    let archive_day = NaiveDate::from_ymd_opt(today.year(), 1, 15).unwrap_or(today);
    for m in meetings.iter_mut().filter(|m| m.status == "held") {
        if m.org == first_branch && m.date + Duration::days(20) < today {
            m.archive_at = Some(at(m.date + Duration::days(20), 10 * 60));
        } else if m.date.year() < today.year() && archive_day < today {
            m.archive_at = Some(at(archive_day, 10 * 60));
        }
    }
    meetings.sort_by_key(|m| (m.starts_at, m.org, m.kind));

    // Attendance: the due list (officers for 支委会, else the roster who had joined), nobody for
    // 谈心谈话 (one-to-one talks).
    let streak_person = roster(first_branch).get(6).map(|m| m.person_id);
    let mut attendees: Vec<Attendee> = Vec::new();
    for (mi, m) in meetings.iter().enumerate() {
        let k = &kinds[m.kind];
        if k.code == "heart_to_heart_talk" {
            continue;
        }
        let due: Vec<(i64, bool)> = if k.committee_only {
            officers[m.org].iter().map(|&p| (p, true)).collect()
        } else {
            let list = if orgs[m.org].kind == "branch" { roster(m.org) } else { own[m.org].clone() };
            list.iter().filter(|x| x.joined_at <= m.date).map(|x| (x.person_id, x.full)).collect()
        };
        for (person, full) in due {
            let (attendance, reason, note) = if m.status == "planned" {
                ("pending", None, None)
            } else if rng.random_bool(0.06) {
                match rng.random_range(0..10) {
                    0..=2 => ("absent", Some("sick"), Some("身体不适")),
                    3..=5 => ("absent", Some("personal"), Some("家中有事")),
                    6..=8 => ("absent", Some("business"), Some("出差")),
                    _ => ("absent", Some("other"), None),
                }
            } else {
                ("present", None, None)
            };
            attendees.push(Attendee { meeting: mi, person, has_vote: full || k.committee_only, attendance, reason, note });
        }
    }
    // Exactly one member absent from their last three held meetings (the streak the analysis
    // flags): anyone else whose draws made one is marked present at their latest.
    let mut latest: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, a) in attendees.iter().enumerate() {
        if meetings[a.meeting].status == "held" && Some(a.person) != streak_person {
            latest.entry(a.person).or_default().push(i);
        }
    }
    for list in latest.values_mut() {
        list.sort_by_key(|&i| meetings[attendees[i].meeting].starts_at);
        let n = list.len();
        if n >= 3 && list[n - 3..].iter().all(|&i| attendees[i].attendance == "absent") {
            let a = &mut attendees[list[n - 1]];
            (a.attendance, a.reason, a.note) = ("present", None, None);
        }
    }
    if let Some(p) = streak_person {
        let mut theirs: Vec<usize> = (0..attendees.len()).filter(|&i| attendees[i].person == p && meetings[attendees[i].meeting].status == "held").collect();
        theirs.sort_by_key(|&i| meetings[attendees[i].meeting].starts_at);
        let n = theirs.len();
        for (j, &i) in theirs.iter().enumerate() {
            let a = &mut attendees[i];
            if j + 3 >= n {
                let (reason, note) = [(Some("other"), Some("未请假")), (Some("personal"), Some("家中有事")), (Some("other"), Some("联系不上"))][n - 1 - j];
                (a.attendance, a.reason, a.note) = ("absent", reason, note);
            } else if j + 4 == n {
                (a.attendance, a.reason, a.note) = ("present", None, None);
            }
        }
    }

    // Write: meetings (unarchived), attendees, then the archive marks (the guard refuses
    // attendee rows of an archived meeting), then notifications for the planned ones.
    let base: i64 = sql_query("SELECT coalesce(max(id), 0) AS n FROM meetings").get_result::<Base>(conn).await?.n;
    let ids: Vec<i64> = (1..=meetings.len() as i64).map(|i| base + i).collect();
    let col = |f: &dyn Fn(&Meeting) -> String| -> Vec<String> { meetings.iter().map(f).collect() };
    let org_ids: Vec<i64> = meetings.iter().map(|m| orgs[m.org].id).collect();
    let kind_codes = col(&|m| kinds[m.kind].code.clone());
    let topics = col(&|m| m.topic.clone());
    let starts: Vec<DateTime<Utc>> = meetings.iter().map(|m| m.starts_at).collect();
    let ends: Vec<DateTime<Utc>> = meetings.iter().map(|m| m.starts_at + Duration::minutes(90)).collect();
    let places_col = col(&|m| m.place.to_string());
    let hosts: Vec<Option<i64>> = meetings.iter().map(|m| m.host).collect();
    let recorders: Vec<Option<i64>> = meetings.iter().map(|m| m.recorder).collect();
    let statuses = col(&|m| m.status.to_string());
    let minutes: Vec<Option<String>> = meetings
        .iter()
        .map(|m| (m.status == "held").then(|| "会议由支部书记主持。与会党员围绕议题逐一发言，会议形成决议，会后抓好落实。".to_string()))
        .collect();
    let resolutions = col(&|m| {
        if m.status == "held" && kinds[m.kind].code == "branch_general_meeting" { "[\"同意会议议题所列事项\"]".to_string() } else { "[]".to_string() }
    });
    let study: Vec<i32> = meetings.iter().map(|m| kinds[m.kind].study_minutes).collect();
    sql_query(
        "INSERT INTO meetings (id, org_id, kind, topic, starts_at, ends_at, place, host_person_id, recorder_person_id, status, minutes, resolutions, study_minutes)
         SELECT id, org_id, kind, topic, starts_at, ends_at, place, host, recorder, status, minutes, resolutions::jsonb, study
           FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::bigint[], $9::bigint[],
                       $10::text[], $11::text[], $12::text[], $13::int[])
             AS t(id, org_id, kind, topic, starts_at, ends_at, place, host, recorder, status, minutes, resolutions, study)",
    )
    .bind::<Array<BigInt>, _>(&ids)
    .bind::<Array<BigInt>, _>(&org_ids)
    .bind::<Array<Text>, _>(&kind_codes)
    .bind::<Array<Text>, _>(&topics)
    .bind::<Array<Timestamptz>, _>(&starts)
    .bind::<Array<Timestamptz>, _>(&ends)
    .bind::<Array<Text>, _>(&places_col)
    .bind::<Array<Nullable<BigInt>>, _>(&hosts)
    .bind::<Array<Nullable<BigInt>>, _>(&recorders)
    .bind::<Array<Text>, _>(&statuses)
    .bind::<Array<Nullable<Text>>, _>(&minutes)
    .bind::<Array<Text>, _>(&resolutions)
    .bind::<Array<Int4>, _>(&study)
    .execute(conn)
    .await?;
    sql_query("SELECT setval(pg_get_serial_sequence('meetings', 'id'), greatest((SELECT max(id) FROM meetings), 1))").execute(conn).await?;

    let a_meeting: Vec<i64> = attendees.iter().map(|a| ids[a.meeting]).collect();
    let a_person: Vec<i64> = attendees.iter().map(|a| a.person).collect();
    let a_vote: Vec<bool> = attendees.iter().map(|a| a.has_vote).collect();
    let a_att: Vec<&str> = attendees.iter().map(|a| a.attendance).collect();
    let a_reason: Vec<Option<&str>> = attendees.iter().map(|a| a.reason).collect();
    let a_note: Vec<Option<&str>> = attendees.iter().map(|a| a.note).collect();
    let a_by: Vec<Option<&str>> = attendees.iter().map(|a| (a.attendance == "present").then_some("clerk")).collect();
    sql_query(
        "INSERT INTO meeting_attendees (meeting_id, person_id, has_vote, attendance, absence_reason, absence_note, checked_in_by)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bool[], $4::text[], $5::text[], $6::text[], $7::text[])",
    )
    .bind::<Array<BigInt>, _>(&a_meeting)
    .bind::<Array<BigInt>, _>(&a_person)
    .bind::<Array<Bool>, _>(&a_vote)
    .bind::<Array<Text>, _>(&a_att)
    .bind::<Array<Nullable<Text>>, _>(&a_reason)
    .bind::<Array<Nullable<Text>>, _>(&a_note)
    .bind::<Array<Nullable<Text>>, _>(&a_by)
    .execute(conn)
    .await?;

    let (arch_ids, arch_at): (Vec<i64>, Vec<DateTime<Utc>>) = meetings.iter().enumerate().filter_map(|(i, m)| m.archive_at.map(|t| (ids[i], t))).unzip();
    sql_query("UPDATE meetings m SET archived_at = t.at FROM unnest($1::bigint[], $2::timestamptz[]) AS t(id, at) WHERE m.id = t.id")
        .bind::<Array<BigInt>, _>(&arch_ids)
        .bind::<Array<Timestamptz>, _>(&arch_at)
        .execute(conn)
        .await?;

    let planned: Vec<i64> = meetings.iter().enumerate().filter(|(_, m)| m.status == "planned").map(|(i, _)| ids[i]).collect();
    sql_query(
        "INSERT INTO notifications (person_id, kind, title, body, link, entity, entity_id)
         SELECT a.person_id, 'meeting_planned', '会议通知：' || m.topic,
                to_char(m.starts_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') || ' ' || coalesce(m.place, ''),
                '/meetings/' || m.id, 'meeting', m.id
           FROM meetings m JOIN meeting_attendees a ON a.meeting_id = m.id
          WHERE m.id = ANY($1)",
    )
    .bind::<Array<BigInt>, _>(&planned)
    .execute(conn)
    .await?;

    Ok(Loaded { meetings: meetings.len(), held: meetings.iter().filter(|m| m.status == "held").count(), attendees: attendees.len(), officers: off_org.len() })
}
