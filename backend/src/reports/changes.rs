//! 党员增减: the members of a subtree at the previous year end and at the report date, and who
//! was gained and lost between them, with a reason, from the dated `member_history` (DOMAIN.md,
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
//! Two set-based statements over the subtree's history, whatever its size; the second looks only
//! at the members with a history boundary inside the period.

use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Date, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::AppError;

/// Why a member was gained, in the order of the report's columns.
pub const GAINED: [(&str, &str); 4] = [("admitted", "发展党员"), ("transferred_in", "转入组织关系"), ("restored", "恢复党籍"), ("other", "其他")];
/// Why a member was lost, in the order of the report's columns.
pub const LOST: [(&str, &str); 5] =
    [("transferred_out", "转出组织关系"), ("deceased", "死亡"), ("left", "出党"), ("suspended", "停止党籍"), ("other", "其他")];

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
    pub fn gained_total(&self) -> i64 {
        self.gained.iter().sum()
    }
    pub fn lost_total(&self) -> i64 {
        self.lost.iter().sum()
    }
}

#[derive(QueryableByName)]
struct CountsRow {
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
    #[diesel(sql_type = Text)]
    direction: String,
    #[diesel(sql_type = Text)]
    reason: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

const COUNTS: &str = "
WITH sub AS MATERIALIZED (SELECT descendant_id AS org_id FROM org_closure WHERE ancestor_id = $1)
SELECT count(*) FILTER (WHERE h.valid_from <= $2 AND (h.valid_to IS NULL OR h.valid_to > $2)) AS prev_total,
       count(*) FILTER (WHERE h.valid_from <= $2 AND (h.valid_to IS NULL OR h.valid_to > $2) AND h.category = 'full') AS prev_full,
       count(*) FILTER (WHERE h.valid_to IS NULL OR h.valid_to > $3) AS cur_total,
       count(*) FILTER (WHERE (h.valid_to IS NULL OR h.valid_to > $3) AND h.category = 'full') AS cur_full
  FROM member_history h JOIN sub ON sub.org_id = h.org_id
 WHERE h.status = 'normal' AND h.valid_from <= $3 AND (h.valid_to IS NULL OR h.valid_to > $2)";

const REASONS: &str = "
WITH sub AS MATERIALIZED (SELECT descendant_id AS org_id FROM org_closure WHERE ancestor_id = $1),
touched AS MATERIALIZED (
    SELECT DISTINCT h.person_id FROM member_history h JOIN sub ON sub.org_id = h.org_id
     WHERE (h.valid_from > $2 AND h.valid_from <= $3) OR (h.valid_to > $2 AND h.valid_to <= $3)
),
hist AS (
    SELECT h.person_id, h.valid_from, h.valid_to, h.status, s.org_id IS NOT NULL AS inside,
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
           bool_or(counted AND (valid_to IS NULL OR valid_to > $3)) AS after
      FROM hist GROUP BY person_id
),
last_step AS (
    SELECT DISTINCT ON (s.person_id) s.person_id, m.after AS gained, s.status, s.inside, s.was_inside, s.was_status
      FROM steps s JOIN moved m ON m.person_id = s.person_id AND m.before <> m.after
     WHERE s.valid_from > $2
       AND CASE WHEN m.after THEN s.counted AND NOT coalesce(s.was_counted, false) ELSE coalesce(s.was_inside, false) END
     ORDER BY s.person_id, s.valid_from DESC
)
SELECT CASE WHEN gained THEN 'gained' ELSE 'lost' END AS direction,
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
  FROM last_step GROUP BY 1, 2";

/// The headcounts at `previous` and `as_of` (`previous < as_of`) and the gains and losses between
/// them, in the subtree of `org_id`.
pub async fn compute(conn: &mut AsyncPgConnection, org_id: i64, previous: NaiveDate, as_of: NaiveDate) -> Result<Changes, AppError> {
    let c: CountsRow = sql_query(COUNTS).bind::<BigInt, _>(org_id).bind::<Date, _>(previous).bind::<Date, _>(as_of).get_result(conn).await?;
    let rows: Vec<ReasonRow> = sql_query(REASONS).bind::<BigInt, _>(org_id).bind::<Date, _>(previous).bind::<Date, _>(as_of).load(conn).await?;
    let mut gained = vec![0; GAINED.len()];
    let mut lost = vec![0; LOST.len()];
    for r in rows {
        let (list, counts): (&[(&str, &str)], &mut Vec<i64>) = if r.direction == "gained" { (&GAINED, &mut gained) } else { (&LOST, &mut lost) };
        let i = list.iter().position(|(k, _)| *k == r.reason).unwrap_or(list.len() - 1);
        counts[i] += r.n;
    }
    let changes = Changes {
        previous: Headcount { total: c.prev_total, full: c.prev_full, probationary: c.prev_total - c.prev_full },
        current: Headcount { total: c.cur_total, full: c.cur_full, probationary: c.cur_total - c.cur_full },
        gained,
        lost,
    };
    // Holds by construction unless the history has overlapping rows for one member (a person
    // counted twice on one date); a report whose tables disagree must not go out.
    if changes.previous.total + changes.gained_total() - changes.lost_total() != changes.current.total {
        return Err(AppError::internal(format!(
            "party statistics of org {org_id}: {} + {} - {} != {} between {previous} and {as_of} (overlapping member_history rows?)",
            changes.previous.total,
            changes.gained_total(),
            changes.lost_total(),
            changes.current.total
        )));
    }
    Ok(changes)
}
