//! Organizational life at scale (`dangjian gen --meetings-years N`): N years of meetings ending
//! today for every branch and party group of the generated tree, the branches' officers, and a few
//! per-org settings, so that the compliance analysis has a realistic load (docs/domain.md,
//! Organizational life).
//!
//! What is drawn:
//! - officers: every branch with a full member gets a secretary; a branch whose subtree holds 7 or
//!   more full members elects a committee of 3, 5 or 7 (支部工作条例 art. 17), taken from the
//!   branch's own members first. The generator's branches keep most members in their party groups,
//!   so the "full members in the org itself" default would see no committee: such branches get an
//!   explicit `org_life_settings.has_committee = true` row, which is what a clerk would set.
//! - rules: every fifth second-level committee (the 1st, 6th, …) asks 谈心谈话 each half year, every
//!   seventh (the 2nd, 9th, …) two 党课 a quarter (`org_meeting_rules` on the committee, inherited by its branches).
//! - meetings: every period of every owed kind (month, quarter, half year, year, as the kind's
//!   frequency and the rules say) that ends after today less N years, one meeting per owed one.
//!   Each org has a diligence (70% of them 0.95 to 1, 25% 0.8 to 0.95, 5% 0.5 to 0.8): a meeting is
//!   held with that chance, else missing (a fifth of the misses leave a cancelled record). A
//!   meeting drawn after today is `planned` when within 30 days (the period is still due), else
//!   not written yet. Held meetings older than 60 days are archived three times out of four.
//! - attendance: real branches record attendance on every meeting, which at a million members would
//!   be about 100 million rows over three years. The generator records it (attendee rows) for the
//!   meetings since an "attendance go-live" day chosen so that about `attendance_rows` rows result;
//!   older meetings stand as records entered from the paper ledger, without lists. Attendees are
//!   the kind's due list (the officers for a committee-only kind, else the members of the org and
//!   its groups who had joined by that day); 谈心谈话 (one-to-one talks) has none. Most members are
//!   absent about 7% of the time; 1.5% are chronic absentees (60%), so absence streaks exist.
//!
//! Everything is streamed with COPY inside the caller's transaction. The foreign keys and secondary
//! indexes of `meetings` and `meeting_attendees` are dropped for the load and re-created from
//! their own definitions before the commit (one join validates a key faster than millions of
//! per-row checks), and the trigger that guards archived records is disabled while the archived
//! meetings' attendee rows go in (they are written before anyone could see the archive).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{Datelike, Duration, Months, NaiveDate};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio_postgres::Client;

use super::{BoxError, Chunker, Kind, Line, PlanOrg, copy_stream, core_of, person_rng, scalar_i64};
use crate::members::types::Category;

/// What `gen` asks for: years of meetings (0 = none) and the attendance rows aimed at.
#[derive(Clone, Copy)]
pub struct MeetingSize {
    pub years: u32,
    pub attendance_rows: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Freq {
    Month,
    Quarter,
    HalfYear,
    Year,
}

impl Freq {
    fn parse(s: &str) -> Option<Freq> {
        match s {
            "month" => Some(Freq::Month),
            "quarter" => Some(Freq::Quarter),
            "half_year" => Some(Freq::HalfYear),
            "year" => Some(Freq::Year),
            _ => None,
        }
    }

    fn months(self) -> u32 {
        match self {
            Freq::Month => 1,
            Freq::Quarter => 3,
            Freq::HalfYear => 6,
            Freq::Year => 12,
        }
    }
}

/// A meeting kind as configured in `meeting_kinds`.
struct KindDef {
    code: String,
    name: String,
    freq: Option<Freq>,
    per_period: u32,
    org_kinds: Vec<String>,
    needs_committee: bool,
    committee_only: bool,
    study_minutes: i32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Held,
    Planned,
    Cancelled,
}

/// One drawn meeting of an org (the row's other fields follow from these and the meeting's id).
struct Drawn {
    kind: usize,
    /// Local date and minutes after midnight of the start.
    date: NaiveDate,
    start_min: u32,
    status: Status,
    /// Which occurrence in its period (per_period > 1), for the topic.
    nth: u32,
    /// The period's length in months.
    step: u32,
}

/// Everything the passes share, built once.
struct World {
    seed: u64,
    today: NaiveDate,
    /// Periods ending before this day are not generated.
    since: NaiveDate,
    org_base: i64,
    person_base: i64,
    meeting_base: i64,
    orgs: Arc<Vec<PlanOrg>>,
    /// Index of the org's first person (persons are numbered in plan order).
    person_start: Vec<u64>,
    /// Per person: full member, and the day number (CE) of joining.
    full: Vec<bool>,
    joined: Vec<i32>,
    groups_of: Vec<Vec<usize>>,
    /// Per org (branches only): the officers as person indexes, secretary first; and whether it
    /// counts as having a committee.
    officers: Vec<Vec<u64>>,
    has_committee: Vec<bool>,
    kinds: Vec<KindDef>,
    /// Per second-level committee index and kind index: (frequency, per period) overriding the kind's.
    rules: HashMap<(usize, usize), (Freq, u32)>,
}

/// The second-level committees (1, 6, 11, … and 2, 9, 16, …) that set their own rules.
const RULE_HALF_YEAR_TALKS: (u64, u64) = (5, 1);
const RULE_TWO_LECTURES: (u64, u64) = (7, 2);

impl World {
    /// Members of the org itself and, for a branch, of its groups: (first person, count) ranges.
    fn ranges(&self, oi: usize) -> Vec<(u64, u64)> {
        let mut out = vec![(self.person_start[oi], self.orgs[oi].members)];
        if self.orgs[oi].kind == Kind::Branch {
            for &g in &self.groups_of[oi] {
                out.push((self.person_start[g], self.orgs[g].members));
            }
        }
        out
    }

    fn subtree_members(&self, oi: usize) -> u64 {
        self.ranges(oi).iter().map(|r| r.1).sum()
    }

    /// The kinds an org owes with their effective (frequency, per period).
    fn owed(&self, oi: usize) -> Vec<(usize, Freq, u32)> {
        let o = &self.orgs[oi];
        let org_kind = o.kind.as_str();
        self.kinds
            .iter()
            .enumerate()
            .filter(|(_, k)| k.org_kinds.iter().any(|x| x == org_kind))
            .filter(|(_, k)| !k.needs_committee || self.has_committee[oi])
            .filter_map(|(ki, k)| {
                let (freq, per) = match self.rules.get(&(o.committee, ki)) {
                    Some(&(f, p)) => (Some(f), p),
                    None => (k.freq, k.per_period),
                };
                freq.map(|f| (ki, f, per))
            })
            .collect()
    }

    /// The meetings of one org, in time order per kind, drawn from the org's own generator so
    /// that every pass draws the same ones.
    fn meetings_of(&self, oi: usize) -> Vec<Drawn> {
        let mut rng = SmallRng::seed_from_u64(self.seed ^ 0x4D45_4554 ^ (oi as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93));
        let roll: f64 = rng.random();
        let diligence = if roll < 0.70 {
            rng.random_range(0.95..=1.0)
        } else if roll < 0.95 {
            rng.random_range(0.80..0.95)
        } else {
            rng.random_range(0.50..0.80)
        };
        // Students meet in the evening, retirees in the morning, others in the afternoon.
        let usual: i32 = match self.orgs[oi].profile {
            crate::demo::Profile::Undergraduate | crate::demo::Profile::Graduate => 19 * 60,
            crate::demo::Profile::Retired => 9 * 60,
            _ => 14 * 60 + 30,
        };
        let horizon = self.today + Duration::days(30);
        let mut out = Vec::new();
        for (ki, freq, per) in self.owed(oi) {
            let code = self.kinds[ki].code.as_str();
            let step = freq.months();
            // The first period ending on or after `since`.
            let mut start = period_start(self.since, step);
            while start <= self.today {
                let end = start.checked_add_months(Months::new(step)).map_or(start, |d| d - Duration::days(1));
                for nth in 0..per {
                    // The year's reviews gather at its end (组织生活会 and 民主评议 in Nov-Dec,
                    // mostly); other meetings anywhere in the period.
                    let from = if step == 12 && matches!(code, "org_life_meeting" | "democratic_appraisal") && rng.random_bool(0.8) {
                        NaiveDate::from_ymd_opt(start.year(), 11, 1).unwrap_or(start)
                    } else {
                        start
                    };
                    let span = (end - from).num_days().max(0);
                    let date = from + Duration::days(rng.random_range(0..=span));
                    let start_min = (usual + [0, 0, 0, 30, -60][rng.random_range(0..5usize)]) as u32;
                    let status = if date >= self.today {
                        if date > horizon {
                            continue;
                        }
                        Status::Planned
                    } else if rng.random_bool(diligence) {
                        Status::Held
                    } else if rng.random_bool(0.2) {
                        Status::Cancelled
                    } else {
                        continue;
                    };
                    out.push(Drawn { kind: ki, date, start_min, status, nth, step });
                }
                match start.checked_add_months(Months::new(step)) {
                    Some(next) => start = next,
                    None => break,
                }
            }
        }
        out
    }

    /// How many attendee rows a meeting gets (before the joining dates are applied).
    fn due_count(&self, oi: usize, m: &Drawn) -> u64 {
        let k = &self.kinds[m.kind];
        if m.status == Status::Cancelled || k.code == "heart_to_heart_talk" {
            0
        } else if k.committee_only {
            self.officers[oi].len() as u64
        } else {
            self.subtree_members(oi)
        }
    }
}

/// The first day of the period of `step` months (aligned on the year) holding `d`.
fn period_start(d: NaiveDate, step: u32) -> NaiveDate {
    let m0 = (d.month0() / step) * step;
    NaiveDate::from_ymd_opt(d.year(), m0 + 1, 1).unwrap_or(d)
}

fn period_label(d: NaiveDate, step: u32) -> String {
    match step {
        1 => format!("{}年{}月", d.year(), d.month()),
        3 => format!("{}年第{}季度", d.year(), d.month0() / 3 + 1),
        6 => format!("{}年{}半年", d.year(), if d.month0() < 6 { "上" } else { "下" }),
        _ => format!("{}年度", d.year()),
    }
}

const THEMES: &[&str] = &[
    "重温入党誓词",
    "学习习近平新时代中国特色社会主义思想",
    "走访慰问困难党员",
    "志愿服务进社区",
    "参观红色教育基地",
    "学习贯彻党的二十大精神",
    "党史学习教育",
    "廉洁文化主题教育",
    "学习新修订的党纪处分条例",
    "为群众办实事",
];
const LECTURES: &[&str] = &[
    "书记讲党课：坚定理想信念",
    "党课：弘扬伟大建党精神",
    "党课：全面从严治党永远在路上",
    "党课：做合格党员",
    "党课：以学铸魂、以学增智",
    "党课：发扬斗争精神",
];
const GENERAL: &[&str] = &["通报支部工作并收缴党费", "讨论接收预备党员", "讨论预备党员转正", "审议支部工作计划", "推荐入党积极分子", "学习传达上级会议精神"];
const PLACES: &[&str] = &["党员活动室", "第一会议室", "党建活动中心", "线上（视频会议）", "支部书记办公室"];

fn topic(k: &KindDef, m: &Drawn, salt: u64) -> String {
    let label = period_label(m.date, m.step);
    let pick = |list: &[&'static str]| list[(salt as usize).wrapping_add(m.nth as usize) % list.len()];
    match k.code.as_str() {
        "branch_committee_meeting" => format!("{label}支委会：研究部署支部工作"),
        "branch_general_meeting" => format!("{label}党员大会：{}", pick(GENERAL)),
        "party_lecture" => format!("{label}{}", pick(LECTURES)),
        "theme_party_day" => format!("{label}主题党日：{}", pick(THEMES)),
        "org_life_meeting" => format!("{label}组织生活会"),
        "democratic_appraisal" => format!("{label}民主评议党员"),
        "heart_to_heart_talk" => format!("{label}谈心谈话"),
        "group_meeting" => format!("{label}党小组学习会"),
        _ => format!("{label}{}", k.name),
    }
}

fn push_ts(buf: &mut Vec<u8>, date: NaiveDate, minutes: u32) {
    let _ = write!(Line(buf), "{date} {:02}:{:02}:00+08", minutes / 60, minutes % 60);
}

fn mix(seed: u64, n: u64) -> u64 {
    // splitmix64: a cheap, well-spread hash for per-row draws that must not depend on order.
    let mut z = seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn day_number(d: NaiveDate) -> i32 {
    d.num_days_from_ce()
}

/// Counts of what was written, for the summary line.
pub struct MeetingCounts {
    pub meetings: u64,
    pub held: u64,
    pub attendees: u64,
    pub officers: u64,
    pub settings: u64,
    pub rules: u64,
    pub go_live: NaiveDate,
    pub seconds: f64,
}

/// Generates the meetings part inside the caller's open transaction (orgs, people and members of
/// the plan are already written with ids `org_base + 1 + index` and `person_base + 1 + index`).
pub(super) async fn generate(
    tx: &Client,
    orgs: Arc<Vec<PlanOrg>>,
    seed: u64,
    today: NaiveDate,
    org_base: i64,
    person_base: i64,
    size: MeetingSize,
) -> Result<MeetingCounts, BoxError> {
    let started = Instant::now();
    let kinds: Vec<KindDef> = tx
        .query(
            "SELECT code, name, frequency, per_period, org_kinds, needs_committee, committee_only, study_minutes FROM meeting_kinds ORDER BY sort_order, code",
            &[],
        )
        .await?
        .iter()
        .map(|r| KindDef {
            code: r.get(0),
            name: r.get(1),
            freq: Freq::parse(r.get::<_, &str>(2)),
            per_period: r.get::<_, i32>(3).max(1) as u32,
            org_kinds: r.get(4),
            needs_committee: r.get(5),
            committee_only: r.get(6),
            study_minutes: r.get(7),
        })
        .collect();

    // Persons: where each org's start, who is a full member and since when (redrawn from the
    // same per-person generators as the people and members passes).
    let t = Instant::now();
    let world = {
        let orgs = orgs.clone();
        tokio::task::spawn_blocking(move || build_world(orgs, kinds, seed, today, org_base, person_base, size.years)).await??
    };
    eprintln!("  meetings plan of {} orgs in {:.1} s", world.orgs.len(), t.elapsed().as_secs_f64());
    let meeting_base = scalar_i64(tx, "SELECT coalesce(max(id), 0) FROM meetings").await?;
    let world = Arc::new(World { meeting_base, ..world });

    // Settings and rules: small, plain inserts.
    let mut settings = 0u64;
    let mut rules = 0u64;
    {
        let mut ids = Vec::new();
        for (oi, o) in world.orgs.iter().enumerate() {
            if o.kind != Kind::Branch {
                continue;
            }
            let own_full = (0..o.members).filter(|p| world.full[(world.person_start[oi] + p) as usize]).count();
            // The default (7 full members in the org itself) would say otherwise: a clerk's setting.
            if (own_full >= 7) != world.has_committee[oi] {
                ids.push((world.org_base + 1 + oi as i64, world.has_committee[oi]));
            }
        }
        for chunk in ids.chunks(5000) {
            let org_ids: Vec<i64> = chunk.iter().map(|c| c.0).collect();
            let flags: Vec<bool> = chunk.iter().map(|c| c.1).collect();
            settings +=
                tx.execute("INSERT INTO org_life_settings (org_id, has_committee) SELECT * FROM unnest($1::bigint[], $2::bool[])", &[&org_ids, &flags]).await?;
        }
        let mut rule_rows: Vec<(i64, String, &str, i32)> = Vec::new();
        for (&(committee, ki), &(freq, per)) in &world.rules {
            let f = match freq {
                Freq::Month => "month",
                Freq::Quarter => "quarter",
                Freq::HalfYear => "half_year",
                Freq::Year => "year",
            };
            rule_rows.push((world.org_base + 1 + committee as i64, world.kinds[ki].code.clone(), f, per as i32));
        }
        rule_rows.sort();
        for (org, kind, f, per) in &rule_rows {
            rules += tx.execute("INSERT INTO org_meeting_rules (org_id, kind, frequency, per_period) VALUES ($1, $2, $3, $4)", &[org, kind, f, per]).await?;
        }
    }

    // Officers by COPY: the branch's term start as their `since`.
    let w = world.clone();
    let n_officers: u64 = world.officers.iter().map(|o| o.len() as u64).sum();
    let officers = copy_stream(tx, "COPY org_officers (org_id, person_id, post, since) FROM STDIN", "officers", n_officers, move |send| {
        let mut out = Chunker::new(send);
        for (oi, list) in w.officers.iter().enumerate() {
            let since = w.orgs[oi].term.map_or(w.today - Duration::days(400), |t| t.0.min(w.today));
            for (j, &p) in list.iter().enumerate() {
                let post = match j {
                    0 => "secretary",
                    1 if list.len() >= 5 => "deputy_secretary",
                    _ => "committee_member",
                };
                let _ = writeln!(Line(&mut out.buf), "{}\t{}\t{post}\t{since}", w.org_base + 1 + oi as i64, w.person_base + 1 + p as i64);
                if !out.row_done() {
                    return Ok(());
                }
            }
        }
        out.finish()
    })
    .await?;

    // Foreign keys and secondary indexes off for the load; the archive guard off for the attendees.
    let fks: Vec<(String, String, String)> = tx
        .query(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
              WHERE contype = 'f' AND conrelid IN ('meetings'::regclass, 'meeting_attendees'::regclass) ORDER BY 1, 2",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    for (table, name, _) in &fks {
        tx.batch_execute(&format!("ALTER TABLE {table} DROP CONSTRAINT \"{}\"", name.replace('"', "\"\""))).await?;
    }
    let indexes: Vec<(String, String)> = tx
        .query(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i
              WHERE i.schemaname = current_schema() AND i.tablename IN ('meetings', 'meeting_attendees')
                AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.connamespace = to_regnamespace(current_schema()))",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    for (name, _) in &indexes {
        tx.batch_execute(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\""))).await?;
    }
    tx.batch_execute("ALTER TABLE meeting_attendees DISABLE TRIGGER meeting_attendees_archived").await?;

    // Pass 1: the meetings, and how many attendee rows each day's meetings would have.
    let histogram = Arc::new(Mutex::new((HashMap::<i32, u64>::new(), 0u64)));
    let (w, hist) = (world.clone(), histogram.clone());
    let meetings = copy_stream(
        tx,
        "COPY meetings (id, org_id, kind, topic, starts_at, ends_at, place, host_person_id, recorder_person_id, status, cancel_reason, minutes, resolutions, study_minutes, archived_at) FROM STDIN",
        "meetings",
        0,
        move |send| {
            let mut out = Chunker::new(send);
            let mut id = w.meeting_base;
            let mut by_day: HashMap<i32, u64> = HashMap::new();
            let mut held = 0u64;
            for oi in 0..w.orgs.len() {
                if !matches!(w.orgs[oi].kind, Kind::Branch | Kind::Group) {
                    continue;
                }
                let branch = if w.orgs[oi].kind == Kind::Group { w.orgs[oi].parent.unwrap_or(oi) } else { oi };
                let officers = &w.officers[branch];
                // Host: the secretary (a group's leader: its first member); recorder: the next officer.
                let host = if w.orgs[oi].kind == Kind::Group && w.orgs[oi].members > 0 { Some(w.person_start[oi]) } else { officers.first().copied() };
                let recorder = officers.get(1).copied().or(host);
                for m in w.meetings_of(oi) {
                    id += 1;
                    let k = &w.kinds[m.kind];
                    let salt = mix(w.seed, id as u64);
                    *by_day.entry(day_number(m.date)).or_default() += w.due_count(oi, &m);
                    let _ = write!(Line(&mut out.buf), "{id}\t{}\t{}\t{}\t", w.org_base + 1 + oi as i64, k.code, topic(k, &m, salt));
                    push_ts(&mut out.buf, m.date, m.start_min);
                    out.buf.push(b'\t');
                    push_ts(&mut out.buf, m.date, m.start_min + 90);
                    let place = PLACES[(salt >> 8) as usize % PLACES.len()];
                    let person = |p: Option<u64>| p.map_or("\\N".to_string(), |p| (w.person_base + 1 + p as i64).to_string());
                    let _ = write!(Line(&mut out.buf), "\t{place}\t{}\t{}\t", person(host), person(recorder));
                    let (status, reason, minutes) = match m.status {
                        Status::Held => ("held", "\\N", format!("会议由{}主持，按议程进行，形成会议记录。", if host.is_some() { "支部书记" } else { "组织委员" })),
                        Status::Planned => ("planned", "\\N", "\\N".to_string()),
                        Status::Cancelled => ("cancelled", "工作冲突，另行安排", "\\N".to_string()),
                    };
                    let resolutions = if m.status == Status::Held && k.code == "branch_general_meeting" { "[\"同意会议议题所列事项\"]" } else { "[]" };
                    let study = if m.status == Status::Cancelled { 0 } else { k.study_minutes };
                    let _ = write!(Line(&mut out.buf), "{status}\t{reason}\t{minutes}\t{resolutions}\t{study}\t");
                    // Held records older than 60 days: archived three times out of four, 10 to 40
                    // days after the meeting.
                    if m.status == Status::Held && m.date < w.today - Duration::days(60) && !salt.is_multiple_of(4) {
                        push_ts(&mut out.buf, m.date + Duration::days(10 + (salt >> 16) as i64 % 31), 17 * 60);
                    } else {
                        out.buf.extend_from_slice(b"\\N");
                    }
                    out.buf.push(b'\n');
                    if m.status == Status::Held {
                        held += 1;
                    }
                    if !out.row_done() {
                        return Ok(());
                    }
                }
            }
            if let Ok(mut h) = hist.lock() {
                *h = (by_day, held);
            }
            out.finish()
        },
    )
    .await?;
    tx.batch_execute("SELECT setval(pg_get_serial_sequence('meetings', 'id'), greatest((SELECT max(id) FROM meetings), 1))").await?;

    // The go-live day: the latest day from which the due lists add up to the rows aimed at.
    let (by_day, held) = histogram.lock().map(|mut h| std::mem::take(&mut *h)).map_err(|_| "histogram lock poisoned")?;
    let mut days: Vec<(i32, u64)> = by_day.into_iter().collect();
    days.sort_unstable_by_key(|d| std::cmp::Reverse(d.0));
    let mut go_live = day_number(world.since);
    let mut sum = 0u64;
    for (day, n) in days {
        sum += n;
        go_live = day;
        if sum >= size.attendance_rows {
            break;
        }
    }
    let go_live_date = NaiveDate::from_num_days_from_ce_opt(go_live).unwrap_or(world.since);
    eprintln!("  meetings attendance lists from {go_live_date} (about {sum} rows)");

    // Pass 2: the attendee rows of the meetings since go-live.
    let w = world.clone();
    let attendees = copy_stream(
        tx,
        "COPY meeting_attendees (meeting_id, person_id, has_vote, attendance, absence_reason, checked_in_by, checked_in_at) FROM STDIN",
        "attendees",
        sum,
        move |send| {
            let mut out = Chunker::new(send);
            let mut id = w.meeting_base;
            for oi in 0..w.orgs.len() {
                if !matches!(w.orgs[oi].kind, Kind::Branch | Kind::Group) {
                    continue;
                }
                let ranges = w.ranges(oi);
                for m in w.meetings_of(oi) {
                    id += 1;
                    let day = day_number(m.date);
                    if day < go_live || w.due_count(oi, &m) == 0 {
                        continue;
                    }
                    let due: Vec<u64> = if w.kinds[m.kind].committee_only {
                        w.officers[oi].clone()
                    } else {
                        ranges.iter().flat_map(|&(s, n)| s..s + n).filter(|&p| w.joined[p as usize] <= day).collect()
                    };
                    let recent = m.date > w.today - Duration::days(180);
                    for p in due {
                        let pid = w.person_base + 1 + p as i64;
                        let has_vote = if w.full[p as usize] { 't' } else { 'f' };
                        let r = mix(w.seed ^ id as u64, p);
                        let _ = write!(Line(&mut out.buf), "{id}\t{pid}\t{has_vote}\t");
                        if m.status == Status::Planned {
                            out.buf.extend_from_slice(b"pending\t\\N\t\\N\t\\N\n");
                        } else {
                            // 1.5% chronic absentees (absent 60% of the time), the others 7%.
                            let chronic = mix(w.seed, p) % 1000 < 15;
                            let u = (r % 10_000) as f64 / 10_000.0;
                            if u < if chronic { 0.6 } else { 0.07 } {
                                let reason = ["sick", "sick", "sick", "personal", "personal", "personal", "business", "business", "business", "other"]
                                    [(r >> 20) as usize % 10];
                                let _ = writeln!(Line(&mut out.buf), "absent\t{reason}\t\\N\t\\N");
                            } else if recent && (r >> 24) % 10 < 4 {
                                out.buf.extend_from_slice(b"present\t\\N\tqr\t");
                                push_ts(&mut out.buf, m.date, m.start_min.saturating_sub(10) + ((r >> 32) % 20) as u32);
                                out.buf.push(b'\n');
                            } else {
                                out.buf.extend_from_slice(b"present\t\\N\tclerk\t\\N\n");
                            }
                        }
                        if !out.row_done() {
                            return Ok(());
                        }
                    }
                }
            }
            out.finish()
        },
    )
    .await?;
    tx.batch_execute("ALTER TABLE meeting_attendees ENABLE TRIGGER meeting_attendees_archived").await?;

    let t_idx = Instant::now();
    for (_, def) in &indexes {
        tx.batch_execute(def).await?;
    }
    for (table, name, def) in &fks {
        tx.batch_execute(&format!("ALTER TABLE {table} ADD CONSTRAINT \"{}\" {def}", name.replace('"', "\"\""))).await?;
    }
    eprintln!("  meetings {} indexes and {} foreign keys restored in {:.1} s", indexes.len(), fks.len(), t_idx.elapsed().as_secs_f64());

    Ok(MeetingCounts { meetings, held, attendees, officers, settings, rules, go_live: go_live_date, seconds: started.elapsed().as_secs_f64() })
}

fn build_world(
    orgs: Arc<Vec<PlanOrg>>,
    kinds: Vec<KindDef>,
    seed: u64,
    today: NaiveDate,
    org_base: i64,
    person_base: i64,
    years: u32,
) -> Result<World, BoxError> {
    let n_people: u64 = orgs.iter().map(|o| o.members).sum();
    let mut person_start = Vec::with_capacity(orgs.len());
    let mut full = Vec::with_capacity(n_people as usize);
    let mut joined = Vec::with_capacity(n_people as usize);
    let mut i = 0u64;
    for o in orgs.iter() {
        person_start.push(i);
        for _ in 0..o.members {
            let mut rng = person_rng(seed, i);
            let (core, _, _) = core_of(&mut rng, o, today);
            full.push(core.category == Category::Full);
            joined.push(day_number(core.joined_at));
            i += 1;
        }
    }
    let mut groups_of: Vec<Vec<usize>> = vec![Vec::new(); orgs.len()];
    for (gi, o) in orgs.iter().enumerate() {
        if let (Kind::Group, Some(p)) = (o.kind, o.parent) {
            groups_of[p].push(gi);
        }
    }
    let mut officers = vec![Vec::new(); orgs.len()];
    let mut has_committee = vec![false; orgs.len()];
    for (oi, o) in orgs.iter().enumerate() {
        if o.kind != Kind::Branch {
            continue;
        }
        // Full members, the branch's own first (its committee sits in the branch itself).
        let mut candidates: Vec<u64> = (0..o.members).map(|p| person_start[oi] + p).collect();
        for &g in &groups_of[oi] {
            candidates.extend((0..orgs[g].members).map(|p| person_start[g] + p));
        }
        candidates.retain(|&p| full[p as usize]);
        let n_full = candidates.len();
        has_committee[oi] = n_full >= 7;
        let size = match n_full {
            0 => 0,
            1..=6 => 1,
            7..=39 => 3,
            40..=119 => 5,
            _ => 7,
        };
        candidates.truncate(size);
        officers[oi] = candidates;
    }
    let mut rules = HashMap::new();
    let talks = kinds.iter().position(|k| k.code == "heart_to_heart_talk");
    let lectures = kinds.iter().position(|k| k.code == "party_lecture");
    for (oi, o) in orgs.iter().enumerate() {
        if o.kind != Kind::Committee || o.parent != Some(0) {
            continue;
        }
        let k = oi as u64;
        if let Some(t) = talks.filter(|_| k % RULE_HALF_YEAR_TALKS.0 == RULE_HALF_YEAR_TALKS.1) {
            rules.insert((oi, t), (Freq::HalfYear, 1));
        }
        if let Some(l) = lectures.filter(|_| k % RULE_TWO_LECTURES.0 == RULE_TWO_LECTURES.1) {
            rules.insert((oi, l), (Freq::Quarter, 2));
        }
    }
    let since = today.checked_sub_months(Months::new(12 * years)).unwrap_or(today) + Duration::days(1);
    Ok(World { seed, today, since, org_base, person_base, meeting_base: 0, orgs, person_start, full, joined, groups_of, officers, has_committee, kinds, rules })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn periods_align_on_the_year() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(period_start(d, 1), NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
        assert_eq!(period_start(d, 3), NaiveDate::from_ymd_opt(2026, 10, 1).unwrap());
        assert_eq!(period_start(d, 6), NaiveDate::from_ymd_opt(2026, 7, 1).unwrap());
        assert_eq!(period_start(d, 12), NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        assert_eq!(period_label(d, 3), "2026年第4季度");
    }
}
