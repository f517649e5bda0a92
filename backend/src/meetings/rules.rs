//! Which meetings an org owes: the effective frequency of each kind (own rule, else the nearest
//! ancestor's, else the kind's default) and whether a branch counts as having a committee.
//!
//! docs/domain.md, Organizational life: "Frequencies differ between local rules: keep them as
//! per-organization settings with these defaults" (the defaults are the kinds' own frequency). A
//! rule on an org applies to its whole subtree, the nearest one winning, so a committee sets the
//! rule for its branches and a branch may still set its own.
//!
//! docs/domain.md, Organizations: a branch with 7 or more full members elects a committee (支部工作条例
//! (2018) art. 17); only such a branch owes 支委会. The org's setting (org_life_settings) overrides
//! the count either way (a branch of 8 whose election is still pending, a branch of 5 that keeps
//! one).
//!
//! [`rules_for_subtree`] resolves all of this for every org of a subtree in four set-based
//! statements and one pass in Rust (parents before children), whatever the subtree's size: the
//! compliance analysis asks for the 60,000 orgs of the largest installation at once.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::QueryableByName;
use diesel::sql_query;
use diesel::sql_types::{Array, BigInt, Bool, Date, Int4, Int8, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::AppError;

/// How often a kind is owed. `none`: no requirement (an ad-hoc kind, or switched off for a subtree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Month,
    Quarter,
    HalfYear,
    Year,
    None,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Month => "month",
            Frequency::Quarter => "quarter",
            Frequency::HalfYear => "half_year",
            Frequency::Year => "year",
            Frequency::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Frequency> {
        [Frequency::Month, Frequency::Quarter, Frequency::HalfYear, Frequency::Year, Frequency::None].into_iter().find(|f| f.as_str() == s)
    }

    /// Months per period (None for `none`).
    pub fn months(self) -> Option<u32> {
        match self {
            Frequency::Month => Some(1),
            Frequency::Quarter => Some(3),
            Frequency::HalfYear => Some(6),
            Frequency::Year => Some(12),
            Frequency::None => None,
        }
    }
}

/// Where an effective rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleSource {
    /// The kind's default frequency (docs/domain.md's table).
    Kind,
    /// The org's own row in org_meeting_rules.
    Own,
    /// The nearest ancestor's row (`from_org_id`).
    Inherited,
}

/// Where has_committee comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommitteeSource {
    /// org_life_settings.has_committee.
    Setting,
    /// 7 or more full members (支部工作条例 art. 17).
    Default,
}

/// Whether an org counts as having a committee, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"value": true, "source": "default", "setting": null, "full_members": 9}))]
pub struct HasCommittee {
    pub value: bool,
    pub source: CommitteeSource,
    /// The org's own setting, if any.
    pub setting: Option<bool>,
    /// Full members (status normal) held directly in the org.
    pub full_members: i64,
}

/// The number of full members from which a branch elects a committee (支部工作条例 (2018) art. 17).
pub const COMMITTEE_FULL_MEMBERS: i64 = 7;

/// One kind's effective rule for an org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"kind": "party_lecture", "name": "党课", "frequency": "month", "per_period": 1, "source": "inherited", "from_org_id": 2}))]
pub struct EffectiveRule {
    pub kind: String,
    pub name: String,
    pub frequency: Frequency,
    pub per_period: i32,
    pub source: RuleSource,
    /// The org whose row applies (own or ancestor); null for the kind's default.
    pub from_org_id: Option<i64>,
}

/// A meeting kind as the rules need it.
#[derive(Debug, Clone)]
pub struct KindInfo {
    pub code: String,
    pub name: String,
    pub frequency: Frequency,
    pub per_period: i32,
    pub org_kinds: Vec<String>,
    pub needs_committee: bool,
    pub sort_order: i32,
}

/// One org of the subtree with what it owes.
#[derive(Debug, Clone)]
pub struct OrgRules {
    pub org_id: i64,
    pub name: String,
    /// committee | general_branch | branch | group
    pub kind: String,
    pub parent_id: Option<i64>,
    /// Levels below the subtree's root (0 = the root).
    pub depth: i32,
    pub founded_on: Option<NaiveDate>,
    pub dissolved_on: Option<NaiveDate>,
    pub has_committee: HasCommittee,
    /// The kinds the org owes, in the kinds' sort order: its org kind is among the kind's
    /// org_kinds, and a needs_committee kind only with a committee. Includes kinds whose effective
    /// frequency is `none` (shown by the settings; [`OrgRules::owed`] leaves them out).
    pub rules: Vec<EffectiveRule>,
}

impl OrgRules {
    /// The rules that require meetings (frequency not `none`).
    pub fn owed(&self) -> impl Iterator<Item = &EffectiveRule> {
        self.rules.iter().filter(|r| r.frequency != Frequency::None)
    }
}

/// The rules of every org of a subtree.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub root: i64,
    /// All meeting kinds, in sort order.
    pub kinds: Vec<KindInfo>,
    /// The subtree's orgs, parents before children (by depth, then id).
    pub orgs: Vec<OrgRules>,
    index: HashMap<i64, usize>,
}

impl RuleSet {
    pub fn get(&self, org_id: i64) -> Option<&OrgRules> {
        self.index.get(&org_id).map(|&i| &self.orgs[i])
    }

    pub fn kind(&self, code: &str) -> Option<&KindInfo> {
        self.kinds.iter().find(|k| k.code == code)
    }

    /// The position of the kind in the sort order (for ordering rows by kind).
    pub fn kind_rank(&self, code: &str) -> usize {
        self.kinds.iter().position(|k| k.code == code).unwrap_or(usize::MAX)
    }
}

#[derive(QueryableByName)]
struct KindRow {
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    frequency: String,
    #[diesel(sql_type = Int4)]
    per_period: i32,
    #[diesel(sql_type = Array<Text>)]
    org_kinds: Vec<String>,
    #[diesel(sql_type = Bool)]
    needs_committee: bool,
    #[diesel(sql_type = Int4)]
    sort_order: i32,
}

#[derive(QueryableByName)]
struct OrgRow {
    #[diesel(sql_type = Int8)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<Int8>)]
    parent_id: Option<i64>,
    #[diesel(sql_type = Int4)]
    depth: i32,
    #[diesel(sql_type = Nullable<Date>)]
    founded_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    dissolved_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Bool>)]
    has_committee: Option<bool>,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = Int8)]
    org_id: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct RuleRow {
    #[diesel(sql_type = Int8)]
    org_id: i64,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    frequency: String,
    #[diesel(sql_type = Int4)]
    per_period: i32,
    /// 0 for the subtree's own rows, else how far above the root the row's org is (1 = its parent).
    #[diesel(sql_type = Int4)]
    up: i32,
}

/// All meeting kinds, in sort order.
pub async fn load_kinds(conn: &mut AsyncPgConnection) -> Result<Vec<KindInfo>, AppError> {
    let rows: Vec<KindRow> =
        sql_query("SELECT code, name, frequency, per_period, org_kinds, needs_committee, sort_order FROM meeting_kinds ORDER BY sort_order, code")
            .load(conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|k| KindInfo {
            frequency: Frequency::parse(&k.frequency).unwrap_or(Frequency::None),
            code: k.code,
            name: k.name,
            per_period: k.per_period,
            org_kinds: k.org_kinds,
            needs_committee: k.needs_committee,
            sort_order: k.sort_order,
        })
        .collect())
}

/// The subtree's orgs with their own committee setting.
const ORGS_SQL: &str = "
    SELECT o.id, o.name, o.kind, o.parent_id, c.depth, o.founded_on, o.dissolved_on, s.has_committee
      FROM org_closure c
      JOIN orgs o ON o.id = c.descendant_id
      LEFT JOIN org_life_settings s ON s.org_id = o.id
     WHERE c.ancestor_id = $1
     ORDER BY c.depth, o.id";

/// Full members with status normal of each org of the subtree, a party group's counted with its
/// branch too (docs/domain.md, Organizations: a branch with 7 or more full members elects a committee;
/// the members of its party groups are the branch's members, as `stats::reminders` counts them for
/// the 3-member minimum). Today's roster: whether a branch has a committee is a present fact, and
/// its setting covers the past.
const FULL_MEMBERS_SQL: &str = "
    SELECT x.org_id, count(*) AS n
      FROM org_closure c
      JOIN members m ON m.org_id = c.descendant_id
      JOIN orgs o ON o.id = m.org_id
     CROSS JOIN LATERAL (VALUES (o.id), (CASE WHEN o.kind = 'group' THEN o.parent_id END)) AS x(org_id)
     WHERE c.ancestor_id = $1 AND m.category = 'full' AND m.status = 'normal' AND x.org_id IS NOT NULL
     GROUP BY x.org_id";

/// The rule rows that can apply in the subtree: those of its orgs and of the root's ancestors,
/// the latter with their distance above the root (`up`, 1 = the parent).
const RULES_SQL: &str = "
    SELECT r.org_id, r.kind, r.frequency, r.per_period, 0 AS up
      FROM org_closure c JOIN org_meeting_rules r ON r.org_id = c.descendant_id
     WHERE c.ancestor_id = $1
    UNION ALL
    SELECT r.org_id, r.kind, r.frequency, r.per_period, c.depth AS up
      FROM org_closure c JOIN org_meeting_rules r ON r.org_id = c.ancestor_id
     WHERE c.descendant_id = $1 AND c.depth > 0";

/// For every org in `root`'s subtree: kind, dates, has_committee and the effective rule of each
/// kind it owes. Four statements (kinds, orgs, full members, rule rows), then one pass over the
/// orgs, parents first, each inheriting its parent's nearest rule per kind.
///
/// An unknown root gives an empty set (callers check the org first).
pub async fn rules_for_subtree(conn: &mut AsyncPgConnection, root: i64) -> Result<RuleSet, AppError> {
    let kinds = load_kinds(conn).await?;
    let orgs: Vec<OrgRow> = sql_query(ORGS_SQL).bind::<Int8, _>(root).load(conn).await?;
    let counts: Vec<CountRow> = sql_query(FULL_MEMBERS_SQL).bind::<Int8, _>(root).load(conn).await?;
    let rule_rows: Vec<RuleRow> = sql_query(RULES_SQL).bind::<Int8, _>(root).load(conn).await?;
    Ok(resolve(root, kinds, orgs, counts, rule_rows))
}

/// A resolved rule row: (frequency, per_period, org it belongs to).
type Found = (Frequency, i32, i64);

fn resolve(root: i64, kinds: Vec<KindInfo>, orgs: Vec<OrgRow>, counts: Vec<CountRow>, rule_rows: Vec<RuleRow>) -> RuleSet {
    let kind_ix: HashMap<&str, usize> = kinds.iter().enumerate().map(|(i, k)| (k.code.as_str(), i)).collect();
    let nk = kinds.len();
    let full: HashMap<i64, i64> = counts.into_iter().map(|c| (c.org_id, c.n)).collect();

    // Own rows of the subtree's orgs, and the root's inheritance from above (nearest ancestor).
    let mut own: HashMap<(i64, usize), Found> = HashMap::new();
    let mut above: Vec<Option<(Found, i32)>> = vec![None; nk];
    for r in &rule_rows {
        let (Some(&k), Some(f)) = (kind_ix.get(r.kind.as_str()), Frequency::parse(&r.frequency)) else { continue };
        let found = (f, r.per_period, r.org_id);
        if r.up == 0 {
            own.insert((r.org_id, k), found);
        } else if above[k].is_none_or(|(_, up)| r.up < up) {
            above[k] = Some((found, r.up));
        }
    }
    let above: Vec<Option<Found>> = above.into_iter().map(|a| a.map(|(f, _)| f)).collect();

    // nearest[i * nk + k]: the rule row org i sees for kind k (its own, else its parent's nearest).
    let mut index: HashMap<i64, usize> = HashMap::with_capacity(orgs.len());
    let mut nearest: Vec<Option<Found>> = Vec::with_capacity(orgs.len() * nk);
    let mut out = Vec::with_capacity(orgs.len());
    for (i, o) in orgs.into_iter().enumerate() {
        let parent = o.parent_id.and_then(|p| index.get(&p).copied()).filter(|_| o.id != root);
        for k in 0..nk {
            let inherited = match parent {
                Some(p) => nearest[p * nk + k],
                None => above[k],
            };
            nearest.push(own.get(&(o.id, k)).copied().or(inherited));
        }
        index.insert(o.id, i);

        let full_members = full.get(&o.id).copied().unwrap_or(0);
        let has_committee = HasCommittee {
            value: o.has_committee.unwrap_or(full_members >= COMMITTEE_FULL_MEMBERS),
            source: if o.has_committee.is_some() { CommitteeSource::Setting } else { CommitteeSource::Default },
            setting: o.has_committee,
            full_members,
        };
        let rules = kinds
            .iter()
            .enumerate()
            .filter(|(_, kind)| kind.org_kinds.contains(&o.kind) && (!kind.needs_committee || has_committee.value))
            .map(|(k, kind)| {
                let (frequency, per_period, source, from_org_id) = match nearest[i * nk + k] {
                    Some((f, n, from)) if from == o.id => (f, n, RuleSource::Own, Some(from)),
                    Some((f, n, from)) => (f, n, RuleSource::Inherited, Some(from)),
                    None => (kind.frequency, kind.per_period, RuleSource::Kind, None),
                };
                EffectiveRule { kind: kind.code.clone(), name: kind.name.clone(), frequency, per_period, source, from_org_id }
            })
            .collect();
        out.push(OrgRules {
            org_id: o.id,
            name: o.name,
            kind: o.kind,
            parent_id: o.parent_id,
            depth: o.depth,
            founded_on: o.founded_on,
            dissolved_on: o.dissolved_on,
            has_committee,
            rules,
        });
    }
    RuleSet { root, kinds, orgs: out, index }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn kind(code: &str, f: Frequency, org_kinds: &[&str], needs_committee: bool) -> KindInfo {
        KindInfo {
            code: code.into(),
            name: code.into(),
            frequency: f,
            per_period: 1,
            org_kinds: org_kinds.iter().map(|s| s.to_string()).collect(),
            needs_committee,
            sort_order: 0,
        }
    }

    fn org(id: i64, kind: &str, parent: Option<i64>, depth: i32, has_committee: Option<bool>) -> OrgRow {
        OrgRow { id, name: format!("o{id}"), kind: kind.into(), parent_id: parent, depth, founded_on: None, dissolved_on: None, has_committee }
    }

    fn rule(org_id: i64, kind: &str, f: &str, up: i32) -> RuleRow {
        RuleRow { org_id, kind: kind.into(), frequency: f.into(), per_period: 1, up }
    }

    #[test]
    fn nearest_rule_wins_and_committee_follows_members_or_setting() {
        let kinds = vec![
            kind("committee_meeting", Frequency::Month, &["branch"], true),
            kind("lecture", Frequency::Quarter, &["branch"], false),
            kind("group_meeting", Frequency::Month, &["group"], false),
        ];
        // root 2 (under 1, which sets lecture yearly) > 3 (sets lecture monthly) > branch 4, 5 > group 6
        let orgs = vec![
            org(2, "committee", Some(1), 0, None),
            org(3, "general_branch", Some(2), 1, None),
            org(4, "branch", Some(3), 2, None),
            org(5, "branch", Some(3), 2, Some(false)),
            org(7, "branch", Some(2), 1, None),
            org(6, "group", Some(4), 3, None),
        ];
        let counts = vec![CountRow { org_id: 4, n: 7 }, CountRow { org_id: 5, n: 9 }, CountRow { org_id: 7, n: 6 }];
        let rules = vec![rule(1, "lecture", "year", 1), rule(3, "lecture", "month", 0), rule(4, "lecture", "none", 0)];
        let set = resolve(2, kinds, orgs, counts, rules);

        let b4 = set.get(4).unwrap();
        // 7 full members: a committee (支部工作条例 art. 17)
        assert!(b4.has_committee.value);
        assert_eq!(b4.rules.len(), 2);
        assert_eq!(b4.rules[1].source, RuleSource::Own);
        assert_eq!(b4.owed().count(), 1, "lecture switched off by its own rule");
        let b5 = set.get(5).unwrap();
        // 9 full members, but the setting says no committee
        assert!(!b5.has_committee.value);
        assert_eq!(b5.has_committee.source, CommitteeSource::Setting);
        assert_eq!(b5.rules.len(), 1);
        assert_eq!((b5.rules[0].frequency, b5.rules[0].source, b5.rules[0].from_org_id), (Frequency::Month, RuleSource::Inherited, Some(3)));
        let b7 = set.get(7).unwrap();
        // 6 full members: no committee; lecture from the root's parent
        assert!(!b7.has_committee.value);
        assert_eq!((b7.rules[0].frequency, b7.rules[0].from_org_id), (Frequency::Year, Some(1)));
        let g6 = set.get(6).unwrap();
        assert_eq!(g6.rules.len(), 1);
        assert_eq!((g6.rules[0].kind.as_str(), g6.rules[0].source), ("group_meeting", RuleSource::Kind));
        assert!(set.get(3).unwrap().rules.is_empty());
    }
}
