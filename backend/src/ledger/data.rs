//! What the ledger holds, loaded in one read-only snapshot: the org and its officers, the
//! meetings of the year with attendance, votes and addenda, the roster at the year end, and the
//! changes of membership during the year.
//!
//! Whose records (docs/api.md, 支部工作台账):
//! - meetings: those of the org itself and of its party groups (a 党小组会 is part of the
//!   branch's organizational life, docs/domain.md "Organizational life"), every status, in date order;
//! - members: the org's subtree (for a branch: the branch and its groups), counted from the dated
//!   `member_history` on the year's last day, or today while the year runs (docs/domain.md, Party
//!   statistics: figures for a date come from dated records);
//! - changes: each dated step of `member_history` during the year that crossed the subtree's
//!   border or changed a member's category or status, and the year's totals from
//!   [`crate::reports::changes`] (the rule of the statistical report).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};

use crate::clock::Clock;
use diesel::sql_types::{Array, BigInt, Bool, Date, Int4, Nullable, Text, Timestamptz};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::AppError;
use crate::meetings::rules;
use crate::orgs::types::OrgRow;
use crate::reports::changes::{self, Changes};

/// The ledger of one org and year.
#[derive(Debug, Clone)]
pub struct Ledger {
    pub org_id: i64,
    pub org_name: String,
    /// 党委 / 党总支 / 党支部 / 党小组.
    pub org_kind_zh: &'static str,
    pub year: i32,
    /// The day the roster and the counts are taken: 31 December, or today in the current year.
    pub as_of: NaiveDate,
    pub generated_by: String,
    pub generated_at: DateTime<FixedOffset>,
    /// Officers in office at some time during the year, secretary first.
    pub officers: Vec<Officer>,
    /// Members counted on `as_of` (status 正常), the org's subtree.
    pub full: i64,
    pub probationary: i64,
    /// Meetings held per kind and month; `required` when the org's rules are known.
    pub kinds: Vec<KindSummary>,
    pub meetings: Vec<Meeting>,
    pub members: Vec<RosterRow>,
    pub changes: Vec<ChangeRow>,
    /// The year's totals (上年底, 增加, 减少, 年底) by the statistical report's rule.
    pub totals: Changes,
}

/// The watermark's fixed part (docs/domain.md, Confidentiality).
pub const CONFIDENTIAL: &str = crate::reports::CONFIDENTIAL;

impl Ledger {
    /// "支部工作台账（2026年）" (党委工作台账, 总支工作台账, 党小组工作台账 for the other kinds).
    pub fn title(&self) -> String {
        let what = match self.org_kind_zh {
            "党委" => "党委",
            "党总支" => "总支",
            "党小组" => "党小组",
            _ => "支部",
        };
        format!("{what}工作台账（{}年）", self.year)
    }

    /// "张三 导出于 2026-11-30 10:00"
    pub fn exported_mark(&self) -> String {
        format!("{} 导出于 {}", self.generated_by, self.generated_at.format("%Y-%m-%d %H:%M"))
    }

    /// "内部资料 注意保密 · 张三 导出于 2026-11-30 10:00"
    pub fn watermark(&self) -> String {
        format!("{CONFIDENTIAL} · {}", self.exported_mark())
    }

    pub fn secretary(&self) -> Option<&Officer> {
        self.officers.iter().find(|o| o.post == "secretary" && o.current)
    }

    pub fn held_total(&self) -> i64 {
        self.kinds.iter().map(|k| k.held).sum()
    }
}

#[derive(Debug, Clone, QueryableByName)]
pub struct Officer {
    #[diesel(sql_type = Text)]
    pub name: String,
    /// secretary | deputy_secretary | committee_member
    #[diesel(sql_type = Text)]
    pub post: String,
    #[diesel(sql_type = Date)]
    pub since: NaiveDate,
    #[diesel(sql_type = Nullable<Date>)]
    pub until: Option<NaiveDate>,
    /// In office on `as_of`.
    #[diesel(sql_type = Bool)]
    pub current: bool,
}

impl Officer {
    pub fn post_zh(&self) -> &'static str {
        match self.post.as_str() {
            "secretary" => "书记",
            "deputy_secretary" => "副书记",
            _ => "委员",
        }
    }
}

#[derive(Debug, Clone)]
pub struct KindSummary {
    pub code: String,
    pub name: String,
    /// Held meetings in January … December.
    pub by_month: [i64; 12],
    pub held: i64,
    /// Meetings owed in the periods of the year begun by `as_of`, summed over the org and its
    /// groups (meetings::rules); None when the kind is owed by none of them.
    pub required: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Meeting {
    pub id: i64,
    /// The org holding it: the ledger's org or one of its groups.
    pub org_name: String,
    pub kind_name: String,
    pub topic: String,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: Option<DateTime<FixedOffset>>,
    pub place: Option<String>,
    pub host: Option<String>,
    pub recorder: Option<String>,
    /// planned | held | cancelled
    pub status: String,
    pub cancel_reason: Option<String>,
    pub minutes: Option<String>,
    pub resolutions: Vec<String>,
    pub present: Vec<String>,
    pub absent: Vec<Absence>,
    /// Due, attendance not recorded.
    pub pending: Vec<String>,
    pub votes: Vec<Vote>,
    pub archived_at: Option<DateTime<FixedOffset>>,
    pub addenda: Vec<Addendum>,
}

impl Meeting {
    pub fn due(&self) -> usize {
        self.present.len() + self.absent.len() + self.pending.len()
    }

    pub fn status_zh(&self) -> &'static str {
        match self.status.as_str() {
            "held" => "已召开",
            "cancelled" => "已取消",
            _ => "计划中",
        }
    }

    /// "2026-03-12 14:30–16:00"
    pub fn when(&self) -> String {
        let start = self.starts_at.format("%Y-%m-%d %H:%M").to_string();
        match self.ends_at {
            Some(e) if e.date_naive() == self.starts_at.date_naive() => {
                format!("{start}–{}", e.format("%H:%M"))
            }
            Some(e) => format!("{start} – {}", e.format("%Y-%m-%d %H:%M")),
            None => start,
        }
    }

    /// "李四（病假）、王五（事假：出差北京）"
    pub fn absent_text(&self) -> String {
        self.absent.iter().map(Absence::text).collect::<Vec<_>>().join("、")
    }

    /// One line per vote: "接收张三为预备党员：同意 5，反对 0，弃权 1（有表决权应到 8，实到 6）通过".
    pub fn votes_text(&self) -> Vec<String> {
        self.votes.iter().map(Vote::text).collect()
    }
}

#[derive(Debug, Clone)]
pub struct Absence {
    pub name: String,
    /// sick | personal | business | other
    pub reason: Option<String>,
    pub note: Option<String>,
}

/// 病假 / 事假 / 公差 / 其他 (docs/domain.md, Organizational life: who was absent and why).
pub fn reason_zh(reason: Option<&str>) -> &'static str {
    match reason {
        Some("sick") => "病假",
        Some("personal") => "事假",
        Some("business") => "公差",
        Some(_) => "其他",
        None => "未说明",
    }
}

impl Absence {
    pub fn text(&self) -> String {
        let reason = reason_zh(self.reason.as_deref());
        match self.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(note) => format!("{}（{reason}：{note}）", self.name),
            None => format!("{}（{reason}）", self.name),
        }
    }
}

#[derive(Debug, Clone, QueryableByName)]
pub struct Vote {
    #[diesel(sql_type = BigInt)]
    pub meeting_id: i64,
    #[diesel(sql_type = Text)]
    pub motion: String,
    #[diesel(sql_type = Int4)]
    pub voters_due: i32,
    #[diesel(sql_type = Int4)]
    pub voters_present: i32,
    #[diesel(sql_type = Int4)]
    pub yes: i32,
    #[diesel(sql_type = Int4)]
    pub no: i32,
    #[diesel(sql_type = Int4)]
    pub abstain: i32,
    #[diesel(sql_type = Bool)]
    pub quorum_met: bool,
    #[diesel(sql_type = Bool)]
    pub passed: bool,
}

impl Vote {
    pub fn text(&self) -> String {
        let outcome = match (self.quorum_met, self.passed) {
            (false, _) => "未达到法定人数",
            (true, true) => "通过",
            (true, false) => "未通过",
        };
        format!(
            "{}：同意 {}，反对 {}，弃权 {}（有表决权应到 {}，实到 {}）{}",
            self.motion, self.yes, self.no, self.abstain, self.voters_due, self.voters_present, outcome
        )
    }
}

#[derive(Debug, Clone)]
pub struct Addendum {
    pub created_at: DateTime<FixedOffset>,
    pub by: Option<String>,
    pub body: String,
}

impl Addendum {
    pub fn text(&self) -> String {
        let by = self.by.as_deref().map(|b| format!(" {b}")).unwrap_or_default();
        format!("{}{by}：{}", self.created_at.format("%Y-%m-%d"), self.body)
    }
}

/// A member on the roster (masked data only: no ID number, no phone).
#[derive(Debug, Clone, QueryableByName)]
pub struct RosterRow {
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub gender: String,
    #[diesel(sql_type = Text)]
    pub category: String,
    #[diesel(sql_type = Date)]
    pub joined_at: NaiveDate,
    #[diesel(sql_type = Nullable<Date>)]
    pub full_member_at: Option<NaiveDate>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub org_name: String,
}

impl RosterRow {
    pub fn gender_zh(&self) -> &'static str {
        if self.gender == "female" { "女" } else { "男" }
    }
    pub fn category_zh(&self) -> &'static str {
        category_zh(&self.category)
    }
    pub fn status_zh(&self) -> &'static str {
        status_zh(&self.status)
    }
}

pub fn category_zh(c: &str) -> &'static str {
    if c == "probationary" { "预备党员" } else { "正式党员" }
}

pub fn status_zh(s: &str) -> &'static str {
    match s {
        "suspended" => "停止党籍",
        "left" => "出党",
        "deceased" => "死亡",
        _ => "正常",
    }
}

/// One dated change of a membership.
#[derive(Debug, Clone)]
pub struct ChangeRow {
    pub on: NaiveDate,
    pub name: String,
    /// 发展党员 (入党) / 转入 / 转出 / 转为正式党员 / 停止党籍 / 恢复党籍 / 出党 / 死亡 / 组织内调整
    pub change: &'static str,
    /// From where / to where, or the category after.
    pub detail: String,
}

#[derive(QueryableByName)]
struct OrgId {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct MeetingRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    org_name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    kind_name: String,
    #[diesel(sql_type = Text)]
    topic: String,
    #[diesel(sql_type = Timestamptz)]
    starts_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    ends_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    place: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    host: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    recorder: Option<String>,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Text>)]
    cancel_reason: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    minutes: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    resolutions: serde_json::Value,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    archived_at: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct AttendeeRow {
    #[diesel(sql_type = BigInt)]
    meeting_id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    attendance: String,
    #[diesel(sql_type = Nullable<Text>)]
    absence_reason: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    absence_note: Option<String>,
}

#[derive(QueryableByName)]
struct AddendumRow {
    #[diesel(sql_type = BigInt)]
    meeting_id: i64,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    by: Option<String>,
    #[diesel(sql_type = Text)]
    body: String,
}

#[derive(QueryableByName)]
struct StepRow {
    #[diesel(sql_type = Date)]
    valid_from: NaiveDate,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    org_name: String,
    #[diesel(sql_type = Bool)]
    inside: bool,
    #[diesel(sql_type = Text)]
    category: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Bool>)]
    prev_inside: Option<bool>,
    #[diesel(sql_type = Nullable<Text>)]
    prev_org_name: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    prev_org_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    org_id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    prev_category: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    prev_status: Option<String>,
}

fn local(clock: &Clock, t: DateTime<Utc>) -> DateTime<FixedOffset> {
    clock.local(t).fixed_offset()
}

/// The first day of a month of the year (month 1..=12).
fn month_start(year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default()
}

/// Meetings owed in the year's periods that have begun by `as_of` and in which the org existed
/// (founded before the period ended, not dissolved before it began).
fn owed(rule: &rules::EffectiveRule, org: &rules::OrgRules, year: i32, as_of: NaiveDate) -> i64 {
    let Some(months) = rule.frequency.months() else {
        return 0;
    };
    let mut n = 0;
    let mut m = 1;
    while m <= 12 {
        let start = month_start(year, m);
        let end =
            if m + months > 12 { NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(start) } else { month_start(year, m + months).pred_opt().unwrap_or(start) };
        let exists = org.founded_on.is_none_or(|f| f <= end) && org.dissolved_on.is_none_or(|d| d > start);
        if start <= as_of && exists {
            n += i64::from(rule.per_period);
        }
        m += months;
    }
    n
}

const MEETINGS_SQL: &str = "
SELECT m.id, o.name AS org_name, m.kind, k.name AS kind_name, m.topic, m.starts_at, m.ends_at, m.place,
       h.name AS host, r.name AS recorder, m.status, m.cancel_reason, m.minutes, m.resolutions, m.archived_at
  FROM meetings m
  JOIN orgs o ON o.id = m.org_id
  JOIN meeting_kinds k ON k.code = m.kind
  LEFT JOIN people h ON h.id = m.host_person_id
  LEFT JOIN people r ON r.id = m.recorder_person_id
 WHERE m.org_id = ANY($1) AND m.starts_at >= $2 AND m.starts_at < $3
 ORDER BY m.starts_at, m.id";

const ATTENDEES_SQL: &str = "
SELECT a.meeting_id, p.name, a.attendance, a.absence_reason, a.absence_note
  FROM meeting_attendees a JOIN people p ON p.id = a.person_id
 WHERE a.meeting_id = ANY($1)
 ORDER BY a.meeting_id, p.name_pinyin, p.id";

const VOTES_SQL: &str = "
SELECT meeting_id, motion, voters_due, voters_present, yes, no, abstain, quorum_met, passed
  FROM meeting_votes WHERE meeting_id = ANY($1) ORDER BY meeting_id, created_at, id";

const ADDENDA_SQL: &str = "
SELECT d.meeting_id, d.created_at, coalesce(p.name, a.username) AS by, d.body
  FROM meeting_addenda d LEFT JOIN accounts a ON a.id = d.created_by LEFT JOIN people p ON p.id = a.person_id
 WHERE d.meeting_id = ANY($1) ORDER BY d.meeting_id, d.created_at, d.id";

/// Officers whose term overlaps the year ($2 = 1 January, $3 = as_of), secretary first.
const OFFICERS_SQL: &str = "
SELECT p.name, f.post, f.since, f.until, (f.since <= $3 AND (f.until IS NULL OR f.until >= $3)) AS current
  FROM org_officers f JOIN people p ON p.id = f.person_id
 WHERE f.org_id = $1 AND f.since <= $3 AND (f.until IS NULL OR f.until >= $2)
 ORDER BY (f.until IS NULL OR f.until >= $3) DESC,
          CASE f.post WHEN 'secretary' THEN 0 WHEN 'deputy_secretary' THEN 1 ELSE 2 END, f.since, p.name_pinyin";

/// The subtree's members on $2 whose membership is held (正常 or 停止党籍; 出党 and 死亡 are
/// no longer on the roster: they are among the changes).
const ROSTER_SQL: &str = "
SELECT p.name, h.gender, h.category, h.joined_at, h.full_member_at, h.status, o.name AS org_name
  FROM org_closure c
  JOIN member_history h ON h.org_id = c.descendant_id
  JOIN people p ON p.id = h.person_id
  JOIN orgs o ON o.id = h.org_id
 WHERE c.ancestor_id = $1 AND h.valid_from <= $2 AND (h.valid_to IS NULL OR h.valid_to > $2)
   AND h.status IN ('normal', 'suspended')
 ORDER BY c.depth, o.code, o.name, p.name_pinyin, p.id";

/// Every history step in ($2, $3] of the members who were in the subtree before or after it.
const STEPS_SQL: &str = "
WITH sub AS MATERIALIZED (SELECT descendant_id AS org_id FROM org_closure WHERE ancestor_id = $1),
touched AS MATERIALIZED (
    SELECT DISTINCT h.person_id FROM member_history h JOIN sub ON sub.org_id = h.org_id
     WHERE (h.valid_from > $2 AND h.valid_from <= $3) OR (h.valid_to > $2 AND h.valid_to <= $3)
),
steps AS (
    SELECT h.person_id, h.valid_from, h.org_id, h.category, h.status, s.org_id IS NOT NULL AS inside,
           lag(s.org_id IS NOT NULL) OVER w AS prev_inside, lag(h.org_id) OVER w AS prev_org_id,
           lag(h.category) OVER w AS prev_category, lag(h.status) OVER w AS prev_status
      FROM member_history h JOIN touched t ON t.person_id = h.person_id LEFT JOIN sub s ON s.org_id = h.org_id
    WINDOW w AS (PARTITION BY h.person_id ORDER BY h.valid_from, h.valid_to NULLS LAST)
)
SELECT st.valid_from, p.name, o.name AS org_name, st.inside, st.category, st.status, st.prev_inside,
       po.name AS prev_org_name, st.prev_org_id, st.org_id, st.prev_category, st.prev_status
  FROM steps st JOIN people p ON p.id = st.person_id JOIN orgs o ON o.id = st.org_id
  LEFT JOIN orgs po ON po.id = st.prev_org_id
 WHERE st.valid_from > $2 AND st.valid_from <= $3 AND (st.inside OR coalesce(st.prev_inside, false))
 ORDER BY st.valid_from, p.name_pinyin, st.person_id";

/// The changes one history step stands for (see the module comment).
fn classify(s: StepRow) -> Vec<ChangeRow> {
    let row = |change: &'static str, detail: String| ChangeRow { on: s.valid_from, name: s.name.clone(), change, detail };
    let mut out = Vec::new();
    match s.prev_inside {
        // The first row of the membership: admitted (its date is the joining date).
        None => out.push(row("发展党员（入党）", format!("{}，{}", s.org_name, category_zh(&s.category)))),
        Some(false) => out.push(row("转入", format!("自 {}", s.prev_org_name.clone().unwrap_or_default()))),
        Some(true) if !s.inside => out.push(row("转出", format!("转至 {}", s.org_name))),
        Some(true) => {
            if s.prev_org_id != Some(s.org_id) {
                out.push(row("组织内调整", format!("{} → {}", s.prev_org_name.clone().unwrap_or_default(), s.org_name)));
            }
        }
    }
    // A category or status change inside the subtree (after a transfer in, the row before was
    // another org's: its category and status are not this org's change).
    if s.prev_inside == Some(true) && s.inside {
        if s.prev_category.as_deref() == Some("probationary") && s.category == "full" {
            out.push(row("转为正式党员", String::new()));
        }
        if s.prev_status.as_deref() != Some(s.status.as_str()) {
            let change = match s.status.as_str() {
                "normal" => "恢复党籍",
                "suspended" => "停止党籍",
                "left" => "出党",
                "deceased" => "死亡",
                _ => "状态变更",
            };
            out.push(row(change, format!("{} → {}", status_zh(s.prev_status.as_deref().unwrap_or("")), status_zh(&s.status))));
        }
    }
    out
}

/// Loads the ledger (read-only, one snapshot so the sheets agree).
pub async fn load(conn: &mut AsyncPgConnection, org: &OrgRow, year: i32, clock: Clock, generated_by: String) -> Result<Ledger, AppError> {
    let today = clock.today();
    let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| AppError::internal(format!("year {year}")))?;
    let last = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(first);
    let as_of = last.min(today);
    let previous = first.pred_opt().unwrap_or(first);
    let org_id = org.id;
    let generated_at = clock.local_now().fixed_offset();
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(async |conn| {
            let groups: Vec<OrgId> =
                sql_query("SELECT id FROM orgs WHERE parent_id = $1 AND kind = 'group' ORDER BY code, name, id").bind::<BigInt, _>(org_id).load(conn).await?;
            let mut holders = vec![org_id];
            holders.extend(groups.iter().map(|g| g.id));

            let rows: Vec<MeetingRow> = sql_query(MEETINGS_SQL)
                .bind::<Array<BigInt>, _>(&holders)
                .bind::<Timestamptz, _>(clock.midnight(first))
                .bind::<Timestamptz, _>(clock.midnight(NaiveDate::from_ymd_opt(year + 1, 1, 1).unwrap_or(last)))
                .load(conn)
                .await?;
            let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
            let attendees: Vec<AttendeeRow> = sql_query(ATTENDEES_SQL).bind::<Array<BigInt>, _>(&ids).load(conn).await?;
            let votes: Vec<Vote> = sql_query(VOTES_SQL).bind::<Array<BigInt>, _>(&ids).load(conn).await?;
            let addenda: Vec<AddendumRow> = sql_query(ADDENDA_SQL).bind::<Array<BigInt>, _>(&ids).load(conn).await?;

            let mut meetings: Vec<Meeting> = Vec::with_capacity(rows.len());
            let mut index: HashMap<i64, usize> = HashMap::new();
            let mut held: HashMap<String, (String, [i64; 12])> = HashMap::new();
            for r in rows {
                let starts_at = local(&clock, r.starts_at);
                if r.status == "held" {
                    let e = held.entry(r.kind.clone()).or_insert_with(|| (r.kind_name.clone(), [0; 12]));
                    if let Some(slot) = e.1.get_mut(starts_at.month0() as usize) {
                        *slot += 1;
                    }
                }
                index.insert(r.id, meetings.len());
                meetings.push(Meeting {
                    id: r.id,
                    org_name: r.org_name,
                    kind_name: r.kind_name,
                    topic: r.topic,
                    starts_at,
                    ends_at: r.ends_at.map(|t| local(&clock, t)),
                    place: r.place,
                    host: r.host,
                    recorder: r.recorder,
                    status: r.status,
                    cancel_reason: r.cancel_reason,
                    minutes: r.minutes,
                    resolutions: r.resolutions.as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default(),
                    present: Vec::new(),
                    absent: Vec::new(),
                    pending: Vec::new(),
                    votes: Vec::new(),
                    archived_at: r.archived_at.map(|t| local(&clock, t)),
                    addenda: Vec::new(),
                });
            }
            for a in attendees {
                let Some(m) = index.get(&a.meeting_id).and_then(|&i| meetings.get_mut(i)) else { continue };
                match a.attendance.as_str() {
                    "present" => m.present.push(a.name),
                    "absent" => m.absent.push(Absence { name: a.name, reason: a.absence_reason, note: a.absence_note }),
                    _ => m.pending.push(a.name),
                }
            }
            for v in votes {
                if let Some(m) = index.get(&v.meeting_id).and_then(|&i| meetings.get_mut(i)) {
                    m.votes.push(v);
                }
            }
            for d in addenda {
                if let Some(m) = index.get(&d.meeting_id).and_then(|&i| meetings.get_mut(i)) {
                    m.addenda.push(Addendum { created_at: local(&clock, d.created_at), by: d.by, body: d.body });
                }
            }

            // Held vs required per kind: the kinds the org or its groups owe, in the kinds'
            // order, then any other kind held.
            let set = rules::rules_for_subtree(conn, org_id).await?;
            let mut required: HashMap<String, i64> = HashMap::new();
            for o in set.orgs.iter().filter(|o| holders.contains(&o.org_id)) {
                for r in o.owed() {
                    *required.entry(r.kind.clone()).or_default() += owed(r, o, year, as_of);
                }
            }
            let mut kinds = Vec::new();
            for k in &set.kinds {
                let counts = held.remove(&k.code);
                let req = required.get(&k.code).copied();
                if counts.is_none() && req.is_none() {
                    continue;
                }
                let by_month = counts.map(|c| c.1).unwrap_or([0; 12]);
                kinds.push(KindSummary { code: k.code.clone(), name: k.name.clone(), by_month, held: by_month.iter().sum(), required: req });
            }
            let mut rest: Vec<_> = held.into_iter().collect();
            rest.sort();
            for (code, (name, by_month)) in rest {
                kinds.push(KindSummary { code, name, by_month, held: by_month.iter().sum(), required: None });
            }

            let officers: Vec<Officer> = sql_query(OFFICERS_SQL).bind::<BigInt, _>(org_id).bind::<Date, _>(first).bind::<Date, _>(as_of).load(conn).await?;
            let members: Vec<RosterRow> = sql_query(ROSTER_SQL).bind::<BigInt, _>(org_id).bind::<Date, _>(as_of).load(conn).await?;
            let steps: Vec<StepRow> = sql_query(STEPS_SQL).bind::<BigInt, _>(org_id).bind::<Date, _>(previous).bind::<Date, _>(as_of).load(conn).await?;
            let totals = changes::compute(conn, org_id, previous, as_of).await?.total;
            let normal = members.iter().filter(|m| m.status == "normal");
            let full = normal.clone().filter(|m| m.category == "full").count() as i64;
            let probationary = normal.filter(|m| m.category == "probationary").count() as i64;
            Ok::<_, AppError>(Ledger {
                org_id,
                org_name: org.name.clone(),
                org_kind_zh: org.kind().zh(),
                year,
                as_of,
                generated_by: generated_by.clone(),
                generated_at,
                officers,
                full,
                probationary,
                kinds,
                meetings,
                members,
                changes: steps.into_iter().flat_map(classify).collect(),
                totals,
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(freq: rules::Frequency, per: i32) -> rules::EffectiveRule {
        rules::EffectiveRule { kind: "k".into(), name: "k".into(), frequency: freq, per_period: per, source: rules::RuleSource::Kind, from_org_id: None }
    }

    #[test]
    fn owed_counts_the_periods_begun() {
        let rs = |founded: Option<&str>| rules::OrgRules {
            org_id: 1,
            name: "x".into(),
            kind: "branch".into(),
            parent_id: None,
            depth: 0,
            founded_on: founded.map(|f| NaiveDate::parse_from_str(f, "%Y-%m-%d").unwrap_or_default()),
            dissolved_on: None,
            has_committee: rules::HasCommittee { value: true, source: rules::CommitteeSource::Default, setting: None, full_members: 7 },
            rules: vec![],
        };
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default();
        assert_eq!(owed(&rule(rules::Frequency::Month, 1), &rs(None), 2025, d("2025-12-31")), 12);
        assert_eq!(owed(&rule(rules::Frequency::Quarter, 1), &rs(None), 2026, d("2026-11-30")), 4);
        assert_eq!(owed(&rule(rules::Frequency::Month, 1), &rs(None), 2026, d("2026-03-01")), 3);
        assert_eq!(owed(&rule(rules::Frequency::Year, 2), &rs(None), 2026, d("2026-01-01")), 2);
        assert_eq!(owed(&rule(rules::Frequency::Month, 1), &rs(Some("2026-07-15")), 2026, d("2026-12-31")), 6);
        assert_eq!(owed(&rule(rules::Frequency::None, 1), &rs(None), 2026, d("2026-12-31")), 0);
    }
}
