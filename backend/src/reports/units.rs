//! The units a report breaks down into (its rows below the total): the report's org itself for
//! the members it holds (本级) and each direct child org with its whole subtree, as the 年报's
//! tables list the units below the reporting org. A unit of an org of the subtree is the direct
//! child above it, its ancestor one level below the report's org in `org_closure`.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Bool, Date, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::tables::Part;
use crate::error::AppError;
use crate::orgs::types::OrgKind;

/// A direct child of the report's org.
#[derive(Debug, Clone, QueryableByName)]
pub struct Child {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    /// Founded on or before the date (or no founding date recorded) and not dissolved by then.
    #[diesel(sql_type = Bool)]
    pub existing: bool,
}

/// The direct children of `org_id`, by org code: all of them, since one dissolved since may still
/// have held members on the previous date.
pub async fn children(conn: &mut AsyncPgConnection, org_id: i64, as_of: NaiveDate) -> Result<Vec<Child>, AppError> {
    Ok(sql_query(
        "SELECT id, name, (founded_on IS NULL OR founded_on <= $2) AND (dissolved_on IS NULL OR dissolved_on > $2) AS existing
           FROM orgs WHERE parent_id = $1 ORDER BY code, name, id",
    )
    .bind::<BigInt, _>(org_id)
    .bind::<Date, _>(as_of)
    .load(conn)
    .await?)
}

#[derive(QueryableByName)]
struct KindRow {
    #[diesel(sql_type = BigInt)]
    unit_id: i64,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The orgs of each unit existing on `as_of` (the rule of `stats`' org counts), by kind in the
/// order of `stats`' buckets; the report's org counts in its own unit.
pub async fn orgs_by_unit(conn: &mut AsyncPgConnection, org_id: i64, as_of: NaiveDate) -> Result<HashMap<i64, Vec<Part>>, AppError> {
    let rows: Vec<KindRow> = sql_query(
        "SELECT coalesce(u.ancestor_id, c.ancestor_id) AS unit_id, o.kind, count(*) AS n
           FROM org_closure c
           JOIN orgs o ON o.id = c.descendant_id
           LEFT JOIN org_closure u ON u.descendant_id = c.descendant_id AND u.depth = c.depth - 1
          WHERE c.ancestor_id = $1 AND (o.founded_on IS NULL OR o.founded_on <= $2) AND (o.dissolved_on IS NULL OR o.dissolved_on > $2)
          GROUP BY 1, 2",
    )
    .bind::<BigInt, _>(org_id)
    .bind::<Date, _>(as_of)
    .load(conn)
    .await?;
    let mut out: HashMap<i64, Vec<Part>> = HashMap::new();
    for r in rows {
        out.entry(r.unit_id).or_default().push(Part { key: r.kind, label: String::new(), count: r.n });
    }
    let kinds = [OrgKind::Committee, OrgKind::GeneralBranch, OrgKind::Branch, OrgKind::Group];
    for parts in out.values_mut() {
        for p in parts.iter_mut() {
            if let Some(k) = kinds.iter().find(|k| k.as_str() == p.key) {
                p.label = k.zh().into();
            }
        }
    }
    Ok(out)
}
