//! 党员增减: the members of a subtree at the previous year end and at the report date, and who
//! was gained and lost between them, with a reason, from the dated `member_history` (docs/domain.md,
//! Party statistics: figures for a past date come from dated records).
//!
//! Counting rule (the same as `stats`): a member counts on date D in the subtree of org X when
//! their history row covering D (`valid_from <= D < valid_to`, `valid_to` exclusive) has an org in
//! the subtree and status `normal` (正常). A change dated D is thus in effect on D, so the period
//! is `(previous, as_of]`.
//!
//! Gained and lost (the rule, documented in docs/api.md): a member is *gained* when they did not
//! count at the previous date and count at `as_of`, *lost* when the reverse. Each member is
//! counted once per direction, so `previous + gained − lost = current` holds exactly; someone who
//! left and came back within the period is in neither. The reason is that of the member's last
//! change of the kind that matters:
//! - gained: the last change in the period that made them count — 发展党员 `admitted` (the
//!   membership starts in the period: no earlier history row, so `joined_at` is in the period),
//!   转入组织关系 `transferred_in` (the row before was in an org outside the subtree), 恢复党籍
//!   `restored` (the row before was in the subtree with a status other than normal, e.g. 停止党籍 →
//!   正常). Later moves inside the subtree or becoming a full member do not change it;
//! - lost: the last change in the period made while the membership was in the subtree — to an org
//!   outside it 转出组织关系 `transferred_out`, otherwise the status it set: 死亡 `deceased`, 出党
//!   `left` (出党/退党), 停止党籍 `suspended`. So a member suspended and then deceased is 死亡, and one
//!   transferred out who died elsewhere is 转出 (the death is the other organization's loss).
//!
//! Per unit (the report's rows: each direct child of the org with its whole subtree, and the org
//! itself for the members it holds, 本级): a gained member counts for the unit holding them at
//! `as_of`, a lost one for the unit holding them at the previous date, with the reason above. A
//! member counted on both dates in different units moved between them: 转出组织关系 for the unit
//! left and 转入组织关系 for the unit joined, so that `previous + gained − lost = current` holds
//! for every unit, and the total (the sum of the units) counts such a move in both columns
//! (they cancel out; [`Breakdown::internal`] says how many). For an org without child orgs there
//! is one unit and no such move: the rule above as it stands.
//!
//! Two set-based statements over the subtree's history, whatever its size and however many units;
//! the second looks only at the members with a history boundary inside the period.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Date, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::AppError;

/// Why a member was gained, in the order of the report's columns.
pub const GAINED: [(&str, &str); 4] = [("admitted", "发展党员"), ("transferred_in", "转入组织关系"), ("restored", "恢复党籍"), ("other", "其他")];
/// Why a member was lost, in the order of the report's columns.
pub const LOST: [(&str, &str); 5] = [("transferred_out", "转出组织关系"), ("deceased", "死亡"), ("left", "出党"), ("suspended", "停止党籍"), ("other", "其他")];

/// Members counted at a date, by category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Headcount {
    pub total: i64,
    pub full: i64,
    pub probationary: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub previous: Headcount,
    pub current: Headcount,
    /// Counts in the order of [`GAINED`].
    pub gained: Vec<i64>,
    /// Counts in the order of [`LOST`].
    pub lost: Vec<i64>,
}

impl Changes {
    /// No member on either date, no change.
    pub fn zero() -> Changes {
        Changes { gained: vec![0; GAINED.len()], lost: vec![0; LOST.len()], ..Changes::default() }
    }

    /// Adds another unit's changes, for a row folding several units.
    pub fn add(&mut self, o: &Changes) {
        for (t, v) in [(&mut self.previous, &o.previous), (&mut self.current, &o.current)] {
            t.total += v.total;
            t.full += v.full;
            t.probationary += v.probationary;
        }
        for (t, v) in self.gained.iter_mut().zip(&o.gained) {
            *t += v;
        }
        for (t, v) in self.lost.iter_mut().zip(&o.lost) {
            *t += v;
        }
    }

    /// Any member on either date, or any change.
    pub fn any(&self) -> bool {
        self.previous.total > 0 || self.current.total > 0 || self.gained_total() > 0 || self.lost_total() > 0
    }

    pub fn gained_total(&self) -> i64 {
        self.gained.iter().sum()
    }
    pub fn lost_total(&self) -> i64 {
        self.lost.iter().sum()
    }
}

/// The changes of the whole subtree and of each unit (see the module comment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Breakdown {
    /// The sum of the units.
    pub total: Changes,
    /// By unit: a direct child of the org, or the org itself (本级); only the units with a
    /// member counted on either date.
    pub units: BTreeMap<i64, Changes>,
    /// Members who moved between units (counted in both dates, in different units).
    pub internal: i64,
}

#[derive(QueryableByName)]
struct CountsRow {
    #[diesel(sql_type = BigInt)]
    unit_id: i64,
    #[diesel(sql_type = BigInt)]
    prev_total: i64,
    #[diesel(sql_type = BigInt)]
    prev_full: i64,
    #[diesel(sql_type = BigInt)]
    cur_total: i64,
    #[diesel(sql_type = BigInt)]
    cur_full: i64,
}

#[derive(QueryableByName)]
struct ReasonRow {
    #[diesel(sql_type = BigInt)]
    unit_id: i64,
    #[diesel(sql_type = Text)]
    direction: String,
    #[diesel(sql_type = Text)]
    reason: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The orgs of $1's subtree, each with its unit: the direct child of $1 above it (its ancestor
/// one level below $1), or $1 itself.
const SUB: &str = "sub AS MATERIALIZED (
    SELECT c.descendant_id AS org_id, coalesce(u.ancestor_id, c.ancestor_id) AS unit_id
      FROM org_closure c LEFT JOIN org_closure u ON u.descendant_id = c.descendant_id AND u.depth = c.depth - 1
     WHERE c.ancestor_id = $1)";

const COUNTS: &str = "
SELECT sub.unit_id,
       count(*) FILTER (WHERE h.valid_from <= $2 AND (h.valid_to IS NULL OR h.valid_to > $2)) AS prev_total,
       count(*) FILTER (WHERE h.valid_from <= $2 AND (h.valid_to IS NULL OR h.valid_to > $2) AND h.category = 'full') AS prev_full,
       count(*) FILTER (WHERE h.valid_to IS NULL OR h.valid_to > $3) AS cur_total,
       count(*) FILTER (WHERE (h.valid_to IS NULL OR h.valid_to > $3) AND h.category = 'full') AS cur_full
  FROM member_history h JOIN sub ON sub.org_id = h.org_id
 WHERE h.status = 'normal' AND h.valid_from <= $3 AND (h.valid_to IS NULL OR h.valid_to > $2)
 GROUP BY sub.unit_id";

const REASONS: &str = "
touched AS MATERIALIZED (
    SELECT DISTINCT h.person_id FROM member_history h JOIN sub ON sub.org_id = h.org_id
     WHERE (h.valid_from > $2 AND h.valid_from <= $3) OR (h.valid_to > $2 AND h.valid_to <= $3)
),
hist AS (
    SELECT h.person_id, h.valid_from, h.valid_to, h.status, s.unit_id, s.org_id IS NOT NULL AS inside,
           (s.org_id IS NOT NULL AND h.status = 'normal') AS counted
      FROM member_history h JOIN touched t ON t.person_id = h.person_id LEFT JOIN sub s ON s.org_id = h.org_id
     WHERE h.valid_from <= $3
),
steps AS (
    SELECT person_id, valid_from, status, inside, counted,
           lag(counted) OVER w AS was_counted, lag(inside) OVER w AS was_inside, lag(status) OVER w AS was_status
      FROM hist WINDOW w AS (PARTITION BY person_id ORDER BY valid_from, valid_to NULLS LAST)
),
moved AS (
    SELECT person_id,
           bool_or(counted AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2)) AS before,
           bool_or(counted AND (valid_to IS NULL OR valid_to > $3)) AS after,
           max(unit_id) FILTER (WHERE counted AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2)) AS prev_unit,
           max(unit_id) FILTER (WHERE counted AND (valid_to IS NULL OR valid_to > $3)) AS cur_unit
      FROM hist GROUP BY person_id
),
last_step AS (
    SELECT DISTINCT ON (s.person_id) s.person_id, m.after AS gained, s.status, s.inside, s.was_inside, s.was_status,
           CASE WHEN m.after THEN m.cur_unit ELSE m.prev_unit END AS unit_id
      FROM steps s JOIN moved m ON m.person_id = s.person_id AND m.before <> m.after
     WHERE s.valid_from > $2
       AND CASE WHEN m.after THEN s.counted AND NOT coalesce(s.was_counted, false) ELSE coalesce(s.was_inside, false) END
     ORDER BY s.person_id, s.valid_from DESC
)
SELECT unit_id, CASE WHEN gained THEN 'gained' ELSE 'lost' END AS direction,
       CASE WHEN gained THEN
            CASE WHEN was_inside IS NULL THEN 'admitted'
                 WHEN NOT was_inside THEN 'transferred_in'
                 WHEN was_status <> 'normal' THEN 'restored'
                 ELSE 'other' END
       ELSE CASE WHEN NOT inside THEN 'transferred_out'
                 WHEN status IN ('deceased', 'left', 'suspended') THEN status
                 ELSE 'other' END
       END AS reason,
       count(*) AS n
  FROM last_step GROUP BY 1, 2, 3
UNION ALL
SELECT prev_unit, 'lost', 'moved_out', count(*) FROM moved WHERE before AND after AND prev_unit <> cur_unit GROUP BY 1
UNION ALL
SELECT cur_unit, 'gained', 'moved_in', count(*) FROM moved WHERE before AND after AND prev_unit <> cur_unit GROUP BY 1";

/// The headcounts at `previous` and `as_of` (`previous < as_of`) and the gains and losses between
/// them, in the subtree of `org_id`, by unit (see the module comment).
pub async fn compute(conn: &mut AsyncPgConnection, org_id: i64, previous: NaiveDate, as_of: NaiveDate) -> Result<Breakdown, AppError> {
    let counts: Vec<CountsRow> =
        sql_query(format!("WITH {SUB} {COUNTS}")).bind::<BigInt, _>(org_id).bind::<Date, _>(previous).bind::<Date, _>(as_of).load(conn).await?;
    let rows: Vec<ReasonRow> =
        sql_query(format!("WITH {SUB}, {REASONS}")).bind::<BigInt, _>(org_id).bind::<Date, _>(previous).bind::<Date, _>(as_of).load(conn).await?;
    let empty = Changes::zero;
    let mut units: BTreeMap<i64, Changes> = BTreeMap::new();
    for c in counts {
        let u = units.entry(c.unit_id).or_insert_with(empty);
        u.previous = Headcount { total: c.prev_total, full: c.prev_full, probationary: c.prev_total - c.prev_full };
        u.current = Headcount { total: c.cur_total, full: c.cur_full, probationary: c.cur_total - c.cur_full };
    }
    let mut internal = 0;
    for r in rows {
        let gained = r.direction == "gained";
        // A move between units is a transfer for each of the two (see the module comment).
        let reason = match r.reason.as_str() {
            "moved_in" => {
                internal += r.n;
                "transferred_in"
            }
            "moved_out" => "transferred_out",
            other => other,
        };
        let u = units.entry(r.unit_id).or_insert_with(empty);
        let (list, counts): (&[(&str, &str)], &mut Vec<i64>) = if gained { (&GAINED, &mut u.gained) } else { (&LOST, &mut u.lost) };
        let i = list.iter().position(|(k, _)| *k == reason).unwrap_or(list.len() - 1);
        counts[i] += r.n;
    }
    let mut total = empty();
    for u in units.values() {
        total.add(u);
    }
    // Holds by construction unless the history has overlapping rows for one member (a person
    // counted twice on one date); a report whose tables disagree must not go out.
    for (unit, c) in std::iter::once((&org_id, &total)).chain(units.iter()) {
        if c.previous.total + c.gained_total() - c.lost_total() != c.current.total {
            return Err(AppError::internal(format!(
                "party statistics of org {org_id} (unit {unit}): {} + {} - {} != {} between {previous} and {as_of} (overlapping member_history rows?)",
                c.previous.total,
                c.gained_total(),
                c.lost_total(),
                c.current.total
            )));
        }
    }
    Ok(Breakdown { total, units, internal })
}
