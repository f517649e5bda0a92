//! Org queries. Each takes the connection, so callers compose them inside one transaction.

use diesel::dsl::{exists, select};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::types::{Org, OrgRow, PathItem, SubtreeOrg};
use crate::auth::Scope;
use crate::error::AppError;
use crate::schema::{members, org_closure, orgs};

fn child_count() -> diesel::expression::SqlLiteral<diesel::sql_types::BigInt> {
    diesel::dsl::sql::<diesel::sql_types::BigInt>("(SELECT count(*) FROM orgs c WHERE c.parent_id = orgs.id)")
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<Org>, AppError> {
    Ok(orgs::table.find(id).select((OrgRow::as_select(), child_count())).first::<(OrgRow, i64)>(conn).await.optional()?.map(|(r, c)| Org::from_row(r, c)))
}

pub async fn get_row(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<OrgRow>, AppError> {
    Ok(orgs::table.find(id).select(OrgRow::as_select()).first(conn).await.optional()?)
}

/// Is `org` inside one of the subtrees of `roots`, at least `min_depth` below its root?
pub async fn within(conn: &mut AsyncPgConnection, roots: &[i64], org: i64, min_depth: i32) -> Result<bool, AppError> {
    if roots.is_empty() {
        return Ok(false);
    }
    Ok(select(exists(
        org_closure::table.filter(org_closure::ancestor_id.eq_any(roots)).filter(org_closure::descendant_id.eq(org)).filter(org_closure::depth.ge(min_depth)),
    ))
    .get_result(conn)
    .await?)
}

/// The org a member role may see: the member's own.
pub async fn member_org(conn: &mut AsyncPgConnection, person_id: Option<i64>) -> Result<Option<i64>, AppError> {
    let Some(pid) = person_id else { return Ok(None) };
    Ok(members::table.find(pid).select(members::org_id).first(conn).await.optional()?)
}

/// May the scope read this org?
pub async fn readable(conn: &mut AsyncPgConnection, scope: &Scope, org: i64) -> Result<bool, AppError> {
    if scope.all || within(conn, &scope.org_roots, org, 0).await? {
        return Ok(true);
    }
    Ok(member_org(conn, scope.person_id).await? == Some(org))
}

/// May the scope manage (write) this org? `strict`: the org must lie below a managed root, so a
/// worker edits what is under them, not their own org (the level above does that).
pub async fn manageable(conn: &mut AsyncPgConnection, scope: &Scope, org: i64, strict: bool) -> Result<bool, AppError> {
    Ok(scope.all || within(conn, &scope.org_roots, org, i32::from(strict)).await?)
}

pub struct ListFilter {
    pub parent_id: Option<i64>,
    pub q: Option<String>,
    pub kind: Option<String>,
    /// Renewal due: committees and branches (not dissolved) whose term ends on or before this date.
    pub term_end_before: Option<chrono::NaiveDate>,
    pub offset: i64,
    pub limit: i64,
}

/// Lists orgs: the children of a parent, or those matching `q`, or else the tops of the
/// caller's scope. The caller has already checked that the parent is readable.
pub async fn list(conn: &mut AsyncPgConnection, scope: &Scope, member_org: Option<i64>, f: &ListFilter) -> Result<(Vec<Org>, i64), AppError> {
    let build = || {
        let mut q = orgs::table.into_boxed();
        if let Some(parent) = f.parent_id {
            q = q.filter(orgs::parent_id.eq(parent));
        } else if f.q.is_none() && f.term_end_before.is_none() {
            // The tops of the scope: the roots it manages, or the whole tree's tops.
            q = if scope.all {
                q.filter(orgs::parent_id.is_null())
            } else {
                let mut ids = scope.org_roots.clone();
                ids.extend(member_org);
                q.filter(orgs::id.eq_any(ids))
            };
        }
        if (f.parent_id.is_some() || f.q.is_some() || f.term_end_before.is_some()) && !scope.all {
            {
                let managed = org_closure::table.filter(org_closure::ancestor_id.eq_any(scope.org_roots.clone())).select(org_closure::descendant_id);
                // -1 matches no org: a caller without a member org sees only managed ones.
                q = q.filter(orgs::id.eq_any(managed).or(orgs::id.eq(member_org.unwrap_or(-1))));
            }
        }
        if let Some(text) = &f.q {
            let pattern = format!("%{}%", crate::db::escape_like(text));
            q = q.filter(orgs::name.ilike(pattern.clone()).or(orgs::code.ilike(pattern)));
        }
        if let Some(d) = f.term_end_before {
            // docs/domain.md, Organizations: renewal (换届) is due when the term ends; party groups have no term.
            q = q.filter(orgs::term_end.le(d)).filter(orgs::dissolved_on.is_null()).filter(orgs::kind.ne("group"));
        }
        if let Some(kind) = &f.kind {
            q = q.filter(orgs::kind.eq(kind.clone()));
        }
        q
    };
    let total: i64 = build().count().get_result(conn).await?;
    let rows: Vec<(OrgRow, i64)> =
        build().select((OrgRow::as_select(), child_count())).order((orgs::code.asc(), orgs::id.asc())).offset(f.offset).limit(f.limit).load(conn).await?;
    Ok((rows.into_iter().map(|(r, c)| Org::from_row(r, c)).collect(), total))
}

pub async fn subtree(conn: &mut AsyncPgConnection, root: i64, max_depth: Option<i32>, offset: i64, limit: i64) -> Result<(Vec<SubtreeOrg>, i64), AppError> {
    let build = || {
        let mut q =
            org_closure::table.inner_join(orgs::table.on(orgs::id.eq(org_closure::descendant_id))).filter(org_closure::ancestor_id.eq(root)).into_boxed();
        if let Some(d) = max_depth {
            q = q.filter(org_closure::depth.le(d));
        }
        q
    };
    let total: i64 = build().count().get_result(conn).await?;
    let rows: Vec<(OrgRow, i64, i32)> = build()
        .select((OrgRow::as_select(), child_count(), org_closure::depth))
        .order((org_closure::depth.asc(), orgs::code.asc()))
        .offset(offset)
        .limit(limit)
        .load(conn)
        .await?;
    Ok((rows.into_iter().map(|(r, c, depth)| SubtreeOrg { org: Org::from_row(r, c), depth }).collect(), total))
}

pub async fn path(conn: &mut AsyncPgConnection, id: i64) -> Result<Vec<PathItem>, AppError> {
    let rows: Vec<(i64, String, String, String)> = org_closure::table
        .inner_join(orgs::table.on(orgs::id.eq(org_closure::ancestor_id)))
        .filter(org_closure::descendant_id.eq(id))
        .order(org_closure::depth.desc())
        .select((orgs::id, orgs::code, orgs::name, orgs::kind))
        .load(conn)
        .await?;
    Ok(rows.into_iter().filter_map(|(id, code, name, kind)| super::types::OrgKind::parse(&kind).map(|kind| PathItem { id, code, name, kind })).collect())
}

pub async fn has_children(conn: &mut AsyncPgConnection, id: i64) -> Result<bool, AppError> {
    Ok(select(exists(orgs::table.filter(orgs::parent_id.eq(id)))).get_result(conn).await?)
}

pub async fn child_kinds(conn: &mut AsyncPgConnection, id: i64) -> Result<Vec<String>, AppError> {
    Ok(orgs::table.filter(orgs::parent_id.eq(id)).select(orgs::kind).distinct().load(conn).await?)
}

pub async fn has_members(conn: &mut AsyncPgConnection, id: i64) -> Result<bool, AppError> {
    Ok(select(exists(members::table.filter(members::org_id.eq(id)))).get_result(conn).await?)
}

/// The orgs an export reads: the list's filters over the whole scope (or below `org_id`).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ExportFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term_end_before: Option<chrono::NaiveDate>,
}

/// An org row of the export: the org, its parent's name, and its own members with status 正常.
pub type ExportRow = (OrgRow, Option<String>, i64);

/// Up to `limit` orgs after the code `after`, in code order (codes are unique: a keyset). The
/// caller has checked `org_id` and `parent_id` against the scope.
pub async fn export_page(conn: &mut AsyncPgConnection, scope: &Scope, f: &ExportFilter, after: Option<&str>, limit: i64) -> Result<Vec<ExportRow>, AppError> {
    use diesel::sql_types::{BigInt, Nullable, Text};
    let mut q = orgs::table.into_boxed();
    if !scope.all {
        q = q.filter(orgs::id.eq_any(org_closure::table.filter(org_closure::ancestor_id.eq_any(scope.org_roots.clone())).select(org_closure::descendant_id)));
    }
    if let Some(root) = f.org_id {
        q = q.filter(orgs::id.eq_any(org_closure::table.filter(org_closure::ancestor_id.eq(root)).select(org_closure::descendant_id)));
    }
    if let Some(parent) = f.parent_id {
        q = q.filter(orgs::parent_id.eq(parent));
    }
    if let Some(text) = &f.q {
        let pattern = format!("%{}%", crate::db::escape_like(text));
        q = q.filter(orgs::name.ilike(pattern.clone()).or(orgs::code.ilike(pattern)));
    }
    if let Some(kind) = &f.kind {
        q = q.filter(orgs::kind.eq(kind.clone()));
    }
    if let Some(d) = f.term_end_before {
        // docs/domain.md, Organizations: renewal (换届) is due when the term ends; party groups have no term.
        q = q.filter(orgs::term_end.le(d)).filter(orgs::dissolved_on.is_null()).filter(orgs::kind.ne("group"));
    }
    if let Some(code) = after {
        q = q.filter(orgs::code.gt(code.to_string()));
    }
    let parent_name = diesel::dsl::sql::<Nullable<Text>>("(SELECT p.name FROM orgs p WHERE p.id = orgs.parent_id)");
    let members = diesel::dsl::sql::<BigInt>("(SELECT count(*) FROM members m WHERE m.org_id = orgs.id AND m.status = 'normal')");
    Ok(q.select((OrgRow::as_select(), parent_name, members)).order(orgs::code.asc()).limit(limit).load(conn).await?)
}
