//! Organizations (党组织): the tree, its subtrees and paths, create, edit, move and delete.
//!
//! Scope (docs/domain.md, Roles): a branch worker reads its branch and groups, a committee
//! worker its subtree, political_dept everything; members read their own org. Workers manage
//! what lies below their org; the org itself is edited by the level above.

pub mod export;
pub mod queries;
pub mod types;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use self::types::{CreateOrg, MoveOrg, Org, OrgFields, OrgKind, OrgRow, PathItem, SubtreeOrg, UpdateOrg};
use crate::audit::{self, By};
use crate::auth::Actor;
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::http::{ApiJson, ApiQuery, Page, PageParams, expected_version, if_match, with_etag};
use crate::schema::orgs;
use crate::{AppState, db};

pub fn routes(cfg: &mut ServiceConfig) {
    // The export's fixed paths before /orgs/{id}, which would take them for an id.
    cfg.service(list_orgs)
        .service(export::export_orgs)
        .service(export::org_export_columns)
        .service(create_org)
        .service(get_org)
        .service(update_org)
        .service(delete_org)
        .service(org_subtree)
        .service(org_path)
        .service(move_org);
}

fn org_not_found() -> AppError {
    AppError::not_found("organization", "组织")
}

/// The org list's filters, shared by the list and its export (`/orgs/export.xlsx`, which
/// applies them within `org_id`'s subtree when given).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgListQuery {
    /// Only the children of this org (the list's lazy tree loading).
    #[param(example = 3)]
    pub parent_id: Option<i64>,
    /// Name or code contains this text, anywhere in your scope (the export: within org_id's
    /// subtree when given).
    #[param(example = "第一")]
    pub q: Option<String>,
    pub kind: Option<OrgKind>,
    /// Renewal due: orgs anywhere in your scope (not dissolved, not party groups; the export:
    /// within org_id's subtree when given) whose term ends on or before this date.
    #[param(example = "2027-02-28")]
    pub term_end_before: Option<NaiveDate>,
}

impl OrgListQuery {
    /// The export's filter: these, within `org_id`'s subtree when given; `q` trimmed (blank: none).
    pub fn into_export_filter(self, org_id: Option<i64>) -> queries::ExportFilter {
        queries::ExportFilter {
            org_id,
            parent_id: self.parent_id,
            q: self.q.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
            kind: self.kind.map(|k| k.as_str().to_string()),
            term_end_before: self.term_end_before,
        }
    }

    /// The list's filter for one page: the same values as the export's.
    fn into_filter(self, offset: i64, limit: i64) -> queries::ListFilter {
        let f = self.into_export_filter(None);
        queries::ListFilter { parent_id: f.parent_id, q: f.q, kind: f.kind, term_end_before: f.term_end_before, offset, limit }
    }
}

/// List organizations: children of `parent_id`, or those matching `q` or `term_end_before` in your
/// whole scope, or else the tops of your scope.
#[utoipa::path(
    tag = "orgs",
    params(OrgListQuery, PageParams),
    security(("bearer" = ["member", "branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "A page of organizations", body = Page<Org>),
        (status = 403, description = "parent_id is outside your scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/orgs")]
pub async fn list_orgs(state: web::Data<AppState>, actor: Actor, query: ApiQuery<OrgListQuery>, paging: ApiQuery<PageParams>) -> AppResult<HttpResponse> {
    let query = query.0;
    let (page, size) = PageParams::resolve(paging.page, paging.page_size)?;
    let scope = actor.scope();
    let mut conn = db::conn(&state.pool).await?;
    if let Some(parent) = query.parent_id {
        if queries::get_row(&mut conn, parent).await?.is_none() {
            return Err(AppError::field("parent_id", "not_found", "no organization has this id", "该组织不存在"));
        }
        if !queries::readable(&mut conn, &scope, parent).await? {
            return Err(AppError::out_of_scope());
        }
    }
    let member_org = if actor.has_role(crate::auth::Role::Member) { queries::member_org(&mut conn, scope.person_id).await? } else { None };
    let filter = query.into_filter((page - 1) * size, size);
    let (items, total) = queries::list(&mut conn, &scope, member_org, &filter).await?;
    Ok(HttpResponse::Ok().json(Page { items, total, page, page_size: size }))
}

/// The field rules of an org record, shared by the API, imports and sync.
pub fn field_errors(
    code: &str,
    name: &str,
    founded: Option<NaiveDate>,
    dissolved: Option<NaiveDate>,
    term_start: Option<NaiveDate>,
    term_end: Option<NaiveDate>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if code.is_empty() || code.len() > 64 || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.') {
        errors.push(FieldError::new("code", "invalid_code", "use 1-64 letters, digits, '-', '_' or '.'", "编码须为 1-64 位字母、数字或 - _ ."));
    }
    if name.is_empty() || name.chars().count() > 200 {
        errors.push(FieldError::new("name", "required", "the name is required (at most 200 characters)", "请填写名称（不超过 200 字）"));
    }
    if let (Some(f), Some(d)) = (founded, dissolved)
        && d < f
    {
        errors.push(FieldError::new("dissolved_on", "before_founded", "cannot be dissolved before it was founded", "撤销日期不能早于成立日期"));
    }
    if let (Some(s), Some(e)) = (term_start, term_end)
        && e <= s
    {
        errors.push(FieldError::new("term_end", "before_term_start", "the term must end after it starts", "届期结束日期须晚于开始日期"));
    }
    errors
}

fn validate(
    code: &str,
    name: &str,
    founded: Option<NaiveDate>,
    dissolved: Option<NaiveDate>,
    term_start: Option<NaiveDate>,
    term_end: Option<NaiveDate>,
) -> Result<(), AppError> {
    let errors = field_errors(code, name, founded, dissolved, term_start, term_end);
    if errors.is_empty() { Ok(()) } else { Err(AppError::validation(errors)) }
}

fn kind_refused(kind: OrgKind, parent: Option<OrgKind>) -> AppError {
    let (en, zh) = match parent {
        None => (format!("a {} cannot be at the top of the tree; only a committee can", kind.as_str()), format!("{}不能作为顶级组织，只有党委可以", kind.zh())),
        Some(p) => (format!("a {} cannot be placed under a {}", kind.as_str(), p.as_str()), format!("{}不能设在{}之下", kind.zh(), p.zh())),
    };
    AppError::field("parent_id", "kind_not_allowed_here", en, zh)
}

/// Create an organization under a parent in your scope (a top-level committee needs political_dept over the whole institution).
#[utoipa::path(
    tag = "orgs",
    request_body = CreateOrg,
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 201, description = "Created", body = Org, headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "The parent is outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orgs")]
pub async fn create_org(state: web::Data<AppState>, actor: Actor, body: ApiJson<CreateOrg>) -> AppResult<HttpResponse> {
    let body = body.0;
    let code = body.code.trim().to_string();
    let name = crate::text::clean(&body.name);
    validate(&code, &name, body.founded_on, body.dissolved_on, body.term_start, body.term_end)?;
    let scope = actor.manage_scope();
    let mut conn = db::conn(&state.pool).await?;
    let org = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let parent_kind = match body.parent_id {
                Some(pid) => {
                    let parent = queries::get_row(conn, pid)
                        .await?
                        .ok_or_else(|| AppError::field("parent_id", "not_found", "no organization has this id", "上级组织不存在"))?;
                    if !queries::manageable(conn, &scope, pid, false).await? {
                        return Err(AppError::out_of_scope());
                    }
                    Some(parent.kind())
                }
                None if scope.all => None,
                None => {
                    return Err(AppError::forbidden(
                        "only political_dept over the whole institution may create a top-level organization",
                        "只有全单位范围的政工部门可以创建顶级组织",
                    ));
                }
            };
            if !body.kind.may_be_under(parent_kind) {
                return Err(kind_refused(body.kind, parent_kind));
            }
            let id: i64 = diesel::insert_into(orgs::table)
                .values((
                    OrgFields {
                        external_id: body.external_id.as_deref().map(str::trim).filter(|s| !s.is_empty()),
                        code: &code,
                        name: &name,
                        kind: body.kind.as_str(),
                        founded_on: body.founded_on,
                        dissolved_on: body.dissolved_on,
                        term_start: body.term_start,
                        term_end: body.term_end,
                    },
                    orgs::parent_id.eq(body.parent_id),
                ))
                .returning(orgs::id)
                .get_result(conn)
                .await?;
            let org = queries::get(conn, id).await?.ok_or_else(org_not_found)?;
            audit::record(conn, By::from(&actor), "create", "org", Some(id), None::<&()>, Some(&org)).await?;
            Ok(org)
        })
        .await?;
    let mut res = HttpResponse::Created();
    res.insert_header((actix_web::http::header::LOCATION, format!("/api/v1/orgs/{}", org.id)));
    Ok(with_etag(res, org.version, &org))
}

/// One organization.
#[utoipa::path(
    tag = "orgs",
    params(("id" = i64, Path, description = "Org id", example = 12)),
    security(("bearer" = ["member", "branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The organization", body = Org, headers(("ETag" = String))),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such org", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/orgs/{id}")]
pub async fn get_org(state: web::Data<AppState>, actor: Actor, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let mut conn = db::conn(&state.pool).await?;
    let org = queries::get(&mut conn, id).await?.ok_or_else(org_not_found)?;
    if !queries::readable(&mut conn, &actor.scope(), id).await? {
        return Err(AppError::out_of_scope());
    }
    Ok(with_etag(HttpResponse::Ok(), org.version, &org))
}

/// Lock the row and check the version the client based its change on.
async fn lock_for_write(conn: &mut AsyncPgConnection, actor: &Actor, id: i64, expected: Option<(i32, bool)>) -> AppResult<OrgRow> {
    let row: OrgRow = orgs::table.find(id).select(OrgRow::as_select()).for_update().first(conn).await.optional()?.ok_or_else(org_not_found)?;
    if !queries::manageable(conn, &actor.manage_scope(), id, true).await? {
        return Err(AppError::out_of_scope());
    }
    if let Some((v, via_header)) = expected
        && v != row.version
    {
        return Err(AppError::stale(via_header));
    }
    Ok(row)
}

/// Edit an organization below your own org. Send the version read (If-Match or `version`); a stale one answers 412/409.
#[utoipa::path(
    tag = "orgs",
    params(("id" = i64, Path, description = "Org id", example = 3), ("If-Match" = Option<String>, Header, description = "The ETag read", example = "\"1\"")),
    request_body = UpdateOrg,
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "Updated", body = Org, headers(("ETag" = String))),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such org", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale `version`, or the code is taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No version given", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/orgs/{id}")]
pub async fn update_org(state: web::Data<AppState>, actor: Actor, req: HttpRequest, id: web::Path<i64>, body: ApiJson<UpdateOrg>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.0;
    let expected = expected_version(&req, body.version)?;
    let mut conn = db::conn(&state.pool).await?;
    let org = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let row = lock_for_write(conn, &actor, id, Some(expected)).await?;
            let before = queries::get(conn, id).await?.ok_or_else(org_not_found)?;
            let code = body.code.map(|c| c.trim().to_string()).unwrap_or_else(|| row.code.clone());
            let name = body.name.map(|c| crate::text::clean(&c)).unwrap_or_else(|| row.name.clone());
            let external_id = match body.external_id {
                Some(v) => v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
                None => row.external_id.clone(),
            };
            let founded = body.founded_on.unwrap_or(row.founded_on);
            let dissolved = body.dissolved_on.unwrap_or(row.dissolved_on);
            let term_start = body.term_start.unwrap_or(row.term_start);
            let term_end = body.term_end.unwrap_or(row.term_end);
            validate(&code, &name, founded, dissolved, term_start, term_end)?;
            let kind = body.kind.unwrap_or(row.kind());
            if kind != row.kind() {
                let parent_kind = match row.parent_id {
                    Some(p) => queries::get_row(conn, p).await?.map(|p| p.kind()),
                    None => None,
                };
                if !kind.may_be_under(parent_kind) {
                    return Err(AppError::field(
                        "kind",
                        "kind_not_allowed_here",
                        format!("a {} cannot sit where this org is", kind.as_str()),
                        format!("此位置不能设{}", kind.zh()),
                    ));
                }
                for child in queries::child_kinds(conn, id).await? {
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
                if !kind.holds_members() && queries::has_members(conn, id).await? {
                    return Err(AppError::field(
                        "kind",
                        "kind_conflicts_with_members",
                        "members belong to it; only a branch or group holds members",
                        "该组织有党员，只有党支部或党小组可以直接管理党员",
                    ));
                }
            }
            diesel::update(orgs::table.find(id))
                .set((
                    OrgFields {
                        external_id: external_id.as_deref(),
                        code: &code,
                        name: &name,
                        kind: kind.as_str(),
                        founded_on: founded,
                        dissolved_on: dissolved,
                        term_start,
                        term_end,
                    },
                    orgs::version.eq(orgs::version + 1),
                    orgs::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            let after = queries::get(conn, id).await?.ok_or_else(org_not_found)?;
            audit::record(conn, By::from(&actor), "update", "org", Some(id), Some(&before), Some(&after)).await?;
            Ok(after)
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), org.version, &org))
}

/// Delete an organization entered by mistake. One with sub-organizations or members is refused
/// (409): dissolve it (`dissolved_on`) instead, or move them first.
#[utoipa::path(
    tag = "orgs",
    params(("id" = i64, Path, description = "Org id", example = 12), ("If-Match" = Option<String>, Header, description = "The ETag read (optional)", example = "\"4\"")),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such org", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It has children or members", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/orgs/{id}")]
pub async fn delete_org(state: web::Data<AppState>, actor: Actor, req: HttpRequest, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let expected = if_match(&req)?.map(|v| (v, true));
    let mut conn = db::conn(&state.pool).await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        lock_for_write(conn, &actor, id, expected).await?;
        let before = queries::get(conn, id).await?.ok_or_else(org_not_found)?;
        if queries::has_children(conn, id).await? {
            return Err(AppError::conflict(
                "org_has_children",
                "it has sub-organizations: move or delete them first",
                "该组织有下级组织，请先移走或删除下级组织",
            ));
        }
        if queries::has_members(conn, id).await? {
            return Err(AppError::conflict(
                "org_has_members",
                "members belong to it: transfer them first, or record its dissolution instead",
                "该组织有党员，请先转出党员，或登记撤销日期",
            ));
        }
        diesel::delete(orgs::table.find(id)).execute(conn).await?;
        audit::record(conn, By::from(&actor), "delete", "org", Some(id), Some(&before), None::<&()>).await?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubtreeQuery {
    /// Levels below the org to include (0 = the org alone).
    #[param(example = 2)]
    pub max_depth: Option<i32>,
    /// 1-based page number, at most 100000.
    #[param(minimum = 1, maximum = 100_000, example = 1)]
    pub page: Option<i64>,
    /// Rows per page, at most 200.
    #[param(minimum = 1, maximum = 200, example = 20)]
    pub page_size: Option<i64>,
}

/// The org and everything below it, level by level.
#[utoipa::path(
    tag = "orgs",
    params(("id" = i64, Path, description = "Org id", example = 3), SubtreeQuery),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "A page of the subtree", body = Page<SubtreeOrg>),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such org", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/orgs/{id}/subtree")]
pub async fn org_subtree(state: web::Data<AppState>, actor: Actor, id: web::Path<i64>, query: ApiQuery<SubtreeQuery>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (page, size) = PageParams::resolve(query.page, query.page_size)?;
    let mut conn = db::conn(&state.pool).await?;
    queries::get_row(&mut conn, id).await?.ok_or_else(org_not_found)?;
    if !queries::readable(&mut conn, &actor.scope(), id).await? {
        return Err(AppError::out_of_scope());
    }
    let (items, total) = queries::subtree(&mut conn, id, query.max_depth, (page - 1) * size, size).await?;
    Ok(HttpResponse::Ok().json(Page { items, total, page, page_size: size }))
}

/// The path from the top of the tree down to the org (for breadcrumbs).
#[utoipa::path(
    tag = "orgs",
    params(("id" = i64, Path, description = "Org id", example = 12)),
    security(("bearer" = ["member", "branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "Top first, the org last", body = Vec<PathItem>),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such org", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/orgs/{id}/path")]
pub async fn org_path(state: web::Data<AppState>, actor: Actor, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let mut conn = db::conn(&state.pool).await?;
    queries::get_row(&mut conn, id).await?.ok_or_else(org_not_found)?;
    if !queries::readable(&mut conn, &actor.scope(), id).await? {
        return Err(AppError::out_of_scope());
    }
    Ok(HttpResponse::Ok().json(queries::path(&mut conn, id).await?))
}

/// Move an org (with its subtree and members) under another parent in your scope. Moving under
/// itself or its own descendant, or under a parent of the wrong kind, is refused with the reason.
#[utoipa::path(
    tag = "orgs",
    params(("id" = i64, Path, description = "Org id", example = 12), ("If-Match" = Option<String>, Header, description = "The ETag read", example = "\"4\"")),
    request_body = MoveOrg,
    security(("bearer" = ["committee", "political_dept"])),
    responses(
        (status = 200, description = "Moved", body = Org, headers(("ETag" = String))),
        (status = 403, description = "The org or the new parent is outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such org", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A cycle, or a parent of the wrong kind", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orgs/{id}/move")]
pub async fn move_org(state: web::Data<AppState>, actor: Actor, req: HttpRequest, id: web::Path<i64>, body: ApiJson<MoveOrg>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.0;
    let expected = expected_version(&req, body.version)?;
    let mut conn = db::conn(&state.pool).await?;
    let org = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let row = lock_for_write(conn, &actor, id, Some(expected)).await?;
            let before = queries::get(conn, id).await?.ok_or_else(org_not_found)?;
            let parent = queries::get_row(conn, body.parent_id)
                .await?
                .ok_or_else(|| AppError::field("parent_id", "not_found", "no organization has this id", "目标上级组织不存在"))?;
            if !queries::manageable(conn, &actor.manage_scope(), parent.id, false).await? {
                return Err(AppError::out_of_scope());
            }
            if parent.id == id || queries::within(conn, &[id], parent.id, 0).await? {
                return Err(AppError::field(
                    "parent_id",
                    "org_move_cycle",
                    "an organization cannot move under itself or its own descendant",
                    "组织不能移动到自身或其下级组织之下",
                ));
            }
            if !row.kind().may_be_under(Some(parent.kind())) {
                return Err(kind_refused(row.kind(), Some(parent.kind())));
            }
            diesel::update(orgs::table.find(id))
                .set((orgs::parent_id.eq(parent.id), orgs::version.eq(orgs::version + 1), orgs::updated_at.eq(diesel::dsl::now)))
                .execute(conn)
                .await?;
            let after = queries::get(conn, id).await?.ok_or_else(org_not_found)?;
            audit::record(conn, By::from(&actor), "move", "org", Some(id), Some(&before), Some(&after)).await?;
            Ok(after)
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), org.version, &org))
}
