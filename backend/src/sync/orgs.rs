//! `PUT /sync/orgs`: organizations keyed by `external_id`, the parent given by
//! `parent_external_id` or `parent_code`. Items may name parents in the same batch (they are
//! applied parents first). An org is matched by `external_id`, else by `code` when that org has no
//! external id yet (it is adopted). Fields left out keep their stored values; on create `code`,
//! `name` and `kind` are required. `?mode=full` marks the orgs absent from the batch as dissolved
//! (today), only those that carry an external_id (the master-data system's) and lie within the
//! caller's manage scope.

use std::collections::{HashMap, HashSet};

use actix_web::{HttpRequest, HttpResponse, put, web};
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{Change, SyncReport, idempotency, item_errors};
use crate::AppState;
use crate::audit::{self, By};
use crate::auth::{Actor, Scope};
use crate::error::{AppError, AppResult, FieldError, Problem, deserialize_problem_at};
use crate::http::ApiQuery;
use crate::orgs::queries as oq;
use crate::orgs::types::{OrgFields, OrgKind, OrgRow, double_option};
use crate::schema::{org_closure, orgs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// Upsert the items only (the default).
    Upsert,
    /// Also mark the orgs absent from the batch as dissolved.
    Full,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgSyncQuery {
    /// Apply the valid items and list the rejected ones (default: a rejected item blocks the batch).
    pub partial: Option<bool>,
    /// `full`: orgs with an external_id, within your scope and absent from the batch, are marked dissolved today.
    #[param(inline)]
    pub mode: Option<SyncMode>,
}

/// One organization as the master-data system sends it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "external_id": "ORG-0101", "code": "D0101", "name": "机关第一党支部", "kind": "branch",
    "parent_external_id": "ORG-01", "founded_on": "2015-07-01", "term_start": "2024-06-01", "term_end": "2027-05-31"
}))]
pub struct SyncOrg {
    /// 外部编号 (required).
    pub external_id: String,
    /// Required on create.
    pub code: Option<String>,
    /// Required on create.
    pub name: Option<String>,
    /// Required on create.
    pub kind: Option<OrgKind>,
    /// The parent by external id (in the batch or stored); null: a top-level committee.
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub parent_external_id: Option<Option<String>>,
    /// The parent by code (in the batch or stored).
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub parent_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<NaiveDate>)]
    pub founded_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<NaiveDate>)]
    pub dissolved_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<NaiveDate>)]
    pub term_start: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<NaiveDate>)]
    pub term_end: Option<Option<NaiveDate>>,
}

/// A batch of organizations.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"items": [
    {"external_id": "ORG-01", "code": "D01", "name": "机关党委", "kind": "committee", "parent_external_id": null},
    {"external_id": "ORG-0101", "code": "D0101", "name": "机关第一党支部", "kind": "branch", "parent_external_id": "ORG-01", "founded_on": "2015-07-01"}
]}))]
pub struct OrgBatch {
    /// At most 5,000.
    pub items: Vec<SyncOrg>,
}

/// Upsert a batch of organizations by external_id, in one transaction (see the `sync` tag).
///
/// Parents may be in the same batch. A rejected item blocks the batch (422, or 403 when outside
/// your scope; nothing written) unless `partial=true`. `mode=full` marks the orgs absent from the
/// batch as dissolved. Send `Idempotency-Key` so that a retry answers the first result.
#[utoipa::path(
    tag = "sync",
    params(OrgSyncQuery, ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry answer the first result (kept 24 h)", example = "orgs-2026-11-23")),
    request_body = OrgBatch,
    security(("bearer" = ["committee", "political_dept"])),
    responses(
        (status = 200, description = "Applied (or replayed for the Idempotency-Key)", body = SyncReport),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An item is outside your scope; nothing written", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over 5,000 items", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid items, each with its index and fields (nothing written); or the Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/sync/orgs")]
pub async fn sync_orgs(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    query: ApiQuery<OrgSyncQuery>,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let body = super::read_body(&req, payload).await?;
    let idem = idempotency::key_of(&req, &body)?;
    let items = super::parse_items(&body)?;
    let partial = query.partial.unwrap_or(false);
    let full = query.mode == Some(SyncMode::Full);
    if full && items.is_empty() {
        return Err(AppError::field(
            "items",
            "empty_full_batch",
            "mode=full with no items would dissolve every org: refused",
            "mode=full 且无记录会撤销全部组织，已拒绝",
        ));
    }
    let account_id = actor.account_id;
    let today = state.config.clock.today();
    super::run_batch(
        &state,
        account_id,
        idem,
        items,
        partial,
        Box::new(move |conn, items| {
            Box::pin(async move {
                let mut report = apply(conn, &actor, items).await?;
                if full && (report.rejected.is_empty() || partial) {
                    let present: Vec<String> = items.iter().filter_map(|i| super::text_field(i, "external_id")).collect();
                    report.dissolved = Some(dissolve_absent(conn, &actor, &present, today).await?);
                }
                Ok(report)
            })
        }),
    )
    .await
}

enum ParentRef {
    /// Not sent: keep (on create: top level).
    Keep,
    Top,
    ExternalId(String),
    Code(String),
}

fn parse_item(raw: &Value) -> Result<(SyncOrg, ParentRef), Vec<FieldError>> {
    let item: SyncOrg = serde_path_to_error::deserialize(raw).map_err(|e| deserialize_problem_at(&e.path().to_string(), &e.inner().to_string()).fields)?;
    let mut errors = Vec::new();
    if let Err(e) = super::external_id_of(raw) {
        errors.push(e);
    }
    let clean = |v: &Option<Option<String>>| v.as_ref().map(|o| o.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string));
    let parent = match (clean(&item.parent_external_id), clean(&item.parent_code)) {
        (None, None) => ParentRef::Keep,
        (Some(Some(e)), None) => ParentRef::ExternalId(e),
        (None, Some(Some(c))) => ParentRef::Code(c),
        (Some(None), None) | (None, Some(None)) | (Some(None), Some(None)) => ParentRef::Top,
        _ => {
            errors.push(FieldError::new(
                "parent_external_id",
                "ambiguous",
                "send parent_external_id or parent_code, not both",
                "parent_external_id 与 parent_code 只填其一",
            ));
            ParentRef::Keep
        }
    };
    if errors.is_empty() { Ok((SyncOrg { external_id: item.external_id.trim().to_string(), ..item }, parent)) } else { Err(errors) }
}

fn parent_field(p: &ParentRef) -> &'static str {
    match p {
        ParentRef::Code(_) => "parent_code",
        _ => "parent_external_id",
    }
}

/// Applies the items parents first, each in a savepoint.
pub async fn apply(conn: &mut AsyncPgConnection, actor: &Actor, items: &[Value]) -> Result<SyncReport, AppError> {
    let manage = actor.manage_scope();
    let mut report = SyncReport::default();
    let mut parsed: Vec<Option<(SyncOrg, ParentRef)>> = Vec::with_capacity(items.len());
    let mut by_ext: HashMap<String, usize> = HashMap::new();
    let mut by_code: HashMap<String, usize> = HashMap::new();
    for (index, raw) in items.iter().enumerate() {
        match parse_item(raw) {
            Ok((item, parent)) => {
                if by_ext.insert(item.external_id.clone(), index).is_some() {
                    report.reject(
                        index,
                        Some(item.external_id),
                        vec![FieldError::new(
                            "external_id",
                            "duplicate_in_batch",
                            "this external_id appears earlier in the batch",
                            "该外部编号在本批次中重复出现",
                        )],
                    );
                    parsed.push(None);
                    continue;
                }
                if let Some(code) = item.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                    by_code.entry(code.to_string()).or_insert(index);
                }
                parsed.push(Some((item, parent)));
            }
            Err(errors) => {
                report.reject(index, super::text_field(raw, "external_id"), errors);
                parsed.push(None);
            }
        }
    }
    // The parent of each item, when it is in the batch.
    let parent_in_batch: Vec<Option<usize>> = parsed
        .iter()
        .enumerate()
        .map(|(i, p)| match p.as_ref().map(|(_, parent)| parent) {
            Some(ParentRef::ExternalId(e)) => by_ext.get(e).copied().filter(|&j| j != i),
            Some(ParentRef::Code(c)) => by_code.get(c).copied().filter(|&j| j != i),
            _ => None,
        })
        .collect();
    // Parents first (depth-first); an item on a cycle is rejected.
    let mut order = Vec::with_capacity(items.len());
    let mut state = vec![0u8; items.len()]; // 0 new, 1 on the path, 2 placed
    let mut on_cycle = HashSet::new();
    for start in 0..items.len() {
        let mut path = Vec::new();
        let mut at = Some(start);
        while let Some(i) = at {
            match state[i] {
                2 => break,
                1 => {
                    let from = path.iter().position(|&p| p == i).unwrap_or(0);
                    on_cycle.extend(path[from..].iter().copied());
                    break;
                }
                _ => {
                    state[i] = 1;
                    path.push(i);
                    at = parent_in_batch[i];
                }
            }
        }
        for &i in path.iter().rev() {
            state[i] = 2;
            order.push(i);
        }
    }
    let mut applied: HashMap<usize, i64> = HashMap::new();
    for index in order {
        let Some((item, parent)) = parsed[index].take() else { continue };
        let ext = item.external_id.clone();
        let pfield = parent_field(&parent);
        if on_cycle.contains(&index) {
            report.reject(
                index,
                Some(ext),
                vec![FieldError::new(pfield, "parent_cycle", "the parents in the batch form a cycle", "本批次中的上级关系形成了环")],
            );
            continue;
        }
        let parent_id = match (&parent, parent_in_batch[index]) {
            (_, Some(j)) => match applied.get(&j) {
                Some(&id) => Some(Some(id)),
                None => {
                    report.reject(
                        index,
                        Some(ext),
                        vec![FieldError::new(pfield, "parent_rejected", "its parent in the batch was rejected", "其上级组织在本批次中未通过")],
                    );
                    continue;
                }
            },
            (ParentRef::Keep, None) => None,
            (ParentRef::Top, None) => Some(None),
            (ParentRef::ExternalId(e), None) => {
                Some(orgs::table.filter(orgs::external_id.eq(e)).select(orgs::id).first::<i64>(conn).await.optional()?.map(Some).unwrap_or(Some(-1)))
            }
            (ParentRef::Code(c), None) => {
                Some(orgs::table.filter(orgs::code.eq(c)).select(orgs::id).first::<i64>(conn).await.optional()?.map(Some).unwrap_or(Some(-1)))
            }
        };
        if parent_id == Some(Some(-1)) {
            report.reject(index, Some(ext), vec![FieldError::new(pfield, "not_found", "no organization has this parent reference", "找不到该上级组织")]);
            continue;
        }
        let result = conn.transaction::<_, AppError, _>(async |conn| apply_one(conn, actor, &manage, item, parent_id, pfield).await).await;
        match result {
            Ok((id, change)) => {
                applied.insert(index, id);
                report.push(ext, change);
            }
            Err(e) => report.reject(index, Some(ext), item_errors(e, pfield)?),
        }
    }
    report.rejected.sort_by_key(|r| r.index);
    Ok(report)
}

fn kind_refused(field: &str, kind: OrgKind, parent: Option<OrgKind>) -> AppError {
    let (en, zh) = match parent {
        None => (format!("a {} cannot be at the top of the tree; only a committee can", kind.as_str()), format!("{}不能作为顶级组织，只有党委可以", kind.zh())),
        Some(p) => (format!("a {} cannot be placed under a {}", kind.as_str(), p.as_str()), format!("{}不能设在{}之下", kind.zh(), p.zh())),
    };
    AppError::field(field, "kind_not_allowed_here", en, zh)
}

async fn code_free(conn: &mut AsyncPgConnection, code: &str, own: Option<i64>) -> Result<(), AppError> {
    let taken: Option<i64> = orgs::table.filter(orgs::code.eq(code)).filter(orgs::id.ne(own.unwrap_or(-1))).select(orgs::id).first(conn).await.optional()?;
    match taken {
        Some(_) => Err(AppError::field("code", "code_taken", "another organization has this code", "该编码已被其他组织使用")),
        None => Ok(()),
    }
}

/// May the scope place an org under `parent` (None: at the top)?
async fn may_place(conn: &mut AsyncPgConnection, manage: &Scope, parent: Option<i64>) -> Result<Option<OrgKind>, AppError> {
    match parent {
        None if manage.all => Ok(None),
        None => Err(AppError::forbidden(
            "only political_dept over the whole institution may keep a top-level organization",
            "只有全单位范围的政工部门可以维护顶级组织",
        )),
        Some(p) => {
            if !oq::manageable(conn, manage, p, false).await? {
                return Err(AppError::out_of_scope());
            }
            Ok(oq::get_row(conn, p).await?.map(|r| r.kind()))
        }
    }
}

/// `parent`: None keep, Some(None) top level, Some(Some(id)) under that org.
async fn apply_one(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    manage: &Scope,
    item: SyncOrg,
    parent: Option<Option<i64>>,
    pfield: &str,
) -> Result<(i64, Change), AppError> {
    let code_in = item.code.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
    let existing: Option<OrgRow> =
        orgs::table.filter(orgs::external_id.eq(&item.external_id)).select(OrgRow::as_select()).for_update().first(conn).await.optional()?;
    let existing = match (existing, &code_in) {
        (Some(row), _) => Some(row),
        (None, Some(code)) => {
            let by_code: Option<OrgRow> = orgs::table.filter(orgs::code.eq(code)).select(OrgRow::as_select()).for_update().first(conn).await.optional()?;
            match by_code {
                Some(row) if row.external_id.is_none() => Some(row),
                Some(_) => {
                    return Err(AppError::field(
                        "code",
                        "code_taken",
                        "an organization with another external_id has this code",
                        "该编码已被另一外部编号的组织使用",
                    ));
                }
                None => None,
            }
        }
        (None, None) => None,
    };
    match existing {
        None => {
            let mut missing = Vec::new();
            for (f, present) in [("code", code_in.is_some()), ("name", item.name.is_some()), ("kind", item.kind.is_some())] {
                if !present {
                    missing.push(FieldError::new(f, "required", "required for a new organization", "新组织必填"));
                }
            }
            let (Some(code), Some(name), Some(kind)) = (code_in, item.name.map(|n| n.trim().to_string()), item.kind) else {
                return Err(AppError::validation(missing));
            };
            let flat = |v: Option<Option<NaiveDate>>| v.flatten();
            let (founded, dissolved, term_start, term_end) = (flat(item.founded_on), flat(item.dissolved_on), flat(item.term_start), flat(item.term_end));
            let errors = crate::orgs::field_errors(&code, &name, founded, dissolved, term_start, term_end);
            if !errors.is_empty() {
                return Err(AppError::validation(errors));
            }
            let parent = parent.flatten();
            let parent_kind = may_place(conn, manage, parent).await?;
            if !kind.may_be_under(parent_kind) {
                return Err(kind_refused(pfield, kind, parent_kind));
            }
            code_free(conn, &code, None).await?;
            let id: i64 = diesel::insert_into(orgs::table)
                .values((
                    OrgFields {
                        external_id: Some(&item.external_id),
                        code: &code,
                        name: &name,
                        kind: kind.as_str(),
                        founded_on: founded,
                        dissolved_on: dissolved,
                        term_start,
                        term_end,
                    },
                    orgs::parent_id.eq(parent),
                ))
                .returning(orgs::id)
                .get_result(conn)
                .await?;
            let after = oq::get(conn, id).await?;
            audit::record(conn, By::from(actor), "sync", "org", Some(id), None::<&()>, after.as_ref()).await?;
            Ok((id, Change::Created))
        }
        Some(row) => {
            let id = row.id;
            if !oq::manageable(conn, manage, id, true).await? {
                return Err(AppError::out_of_scope());
            }
            let code = code_in.unwrap_or_else(|| row.code.clone());
            let name = item.name.map(|n| n.trim().to_string()).unwrap_or_else(|| row.name.clone());
            let kind = item.kind.unwrap_or(row.kind());
            let founded = item.founded_on.unwrap_or(row.founded_on);
            let dissolved = item.dissolved_on.unwrap_or(row.dissolved_on);
            let term_start = item.term_start.unwrap_or(row.term_start);
            let term_end = item.term_end.unwrap_or(row.term_end);
            let parent_id = parent.unwrap_or(row.parent_id);
            let errors = crate::orgs::field_errors(&code, &name, founded, dissolved, term_start, term_end);
            if !errors.is_empty() {
                return Err(AppError::validation(errors));
            }
            let unchanged = code == row.code
                && name == row.name
                && kind == row.kind()
                && founded == row.founded_on
                && dissolved == row.dissolved_on
                && term_start == row.term_start
                && term_end == row.term_end
                && parent_id == row.parent_id
                && row.external_id.as_deref() == Some(item.external_id.as_str());
            if unchanged {
                return Ok((id, Change::Unchanged));
            }
            if code != row.code {
                code_free(conn, &code, Some(id)).await?;
            }
            if parent_id != row.parent_id || kind != row.kind() {
                let parent_kind = if parent_id != row.parent_id {
                    if let Some(p) = parent_id
                        && (p == id || oq::within(conn, &[id], p, 0).await?)
                    {
                        return Err(AppError::field(
                            pfield,
                            "org_move_cycle",
                            "an organization cannot move under itself or its own descendant",
                            "组织不能移动到自身或其下级组织之下",
                        ));
                    }
                    may_place(conn, manage, parent_id).await?
                } else {
                    match parent_id {
                        Some(p) => oq::get_row(conn, p).await?.map(|r| r.kind()),
                        None => None,
                    }
                };
                if !kind.may_be_under(parent_kind) {
                    return Err(kind_refused(if parent_id != row.parent_id { pfield } else { "kind" }, kind, parent_kind));
                }
            }
            if kind != row.kind() {
                for child in oq::child_kinds(conn, id).await? {
                    if let Some(ck) = OrgKind::parse(&child)
                        && !ck.may_be_under(Some(kind))
                    {
                        return Err(AppError::field(
                            "kind",
                            "kind_conflicts_with_children",
                            format!("its {} children cannot be under a {}", ck.as_str(), kind.as_str()),
                            format!("其下级{}不能隶属于{}", ck.zh(), kind.zh()),
                        ));
                    }
                }
                if !kind.holds_members() && oq::has_members(conn, id).await? {
                    return Err(AppError::field(
                        "kind",
                        "kind_conflicts_with_members",
                        "members belong to it; only a branch or group holds members",
                        "该组织有党员，只有党支部或党小组可以直接管理党员",
                    ));
                }
            }
            let before = oq::get(conn, id).await?;
            diesel::update(orgs::table.find(id))
                .set((
                    OrgFields {
                        external_id: Some(&item.external_id),
                        code: &code,
                        name: &name,
                        kind: kind.as_str(),
                        founded_on: founded,
                        dissolved_on: dissolved,
                        term_start,
                        term_end,
                    },
                    orgs::parent_id.eq(parent_id),
                    orgs::version.eq(orgs::version + 1),
                    orgs::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            let after = oq::get(conn, id).await?;
            audit::record(conn, By::from(actor), "sync", "org", Some(id), before.as_ref(), after.as_ref()).await?;
            Ok((id, Change::Updated))
        }
    }
}

/// mode=full: orgs with an external_id, not dissolved, absent from the batch and strictly below
/// a root the caller manages (or any, for political_dept over everything) are dissolved today.
async fn dissolve_absent(conn: &mut AsyncPgConnection, actor: &Actor, present: &[String], today: chrono::NaiveDate) -> Result<Vec<String>, AppError> {
    let manage = actor.manage_scope();
    let mut q = orgs::table
        .filter(orgs::external_id.is_not_null())
        .filter(orgs::dissolved_on.is_null())
        .filter(diesel::dsl::not(orgs::external_id.eq_any(present.to_vec())))
        .select((orgs::id, orgs::external_id))
        .order(orgs::id)
        .into_boxed();
    if !manage.all {
        q = q.filter(
            orgs::id.eq_any(
                org_closure::table
                    .filter(org_closure::ancestor_id.eq_any(manage.org_roots.clone()))
                    .filter(org_closure::depth.ge(1))
                    .select(org_closure::descendant_id),
            ),
        );
    }
    let targets: Vec<(i64, Option<String>)> = q.load(conn).await?;
    let mut dissolved = Vec::new();
    for (id, ext) in targets {
        let before = oq::get(conn, id).await?;
        diesel::update(orgs::table.find(id))
            .set((orgs::dissolved_on.eq(today), orgs::version.eq(orgs::version + 1), orgs::updated_at.eq(diesel::dsl::now)))
            .execute(conn)
            .await?;
        let after = oq::get(conn, id).await?;
        audit::record(conn, By::from(actor), "sync", "org", Some(id), before.as_ref(), after.as_ref()).await?;
        dissolved.extend(ext);
    }
    Ok(dissolved)
}
