//! Members (党员): the roster with search, the member record, and its edits.
//!
//! Scope (docs/domain.md, Roles): branch workers their branch and its groups, committee workers
//! their subtree, political_dept all, members only themselves. Personal data (docs/domain.md,
//! Confidentiality) is masked in lists; a detail read shows the phone to the member and to the
//! org-managing roles over the member, and the citizen ID number to the member and to committee
//! and political_dept roles; each such read of someone else's data is audited.

pub mod bulk;
pub mod export;
pub mod id_number;
pub mod pinyin;
pub mod queries;
pub mod rules;
pub mod types;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::NaiveDate;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use self::queries::Reveal;
use self::rules::MemberRecord;
use self::types::{Category, EthnicGroup, Gender, Member, MemberInput, MissingField, Status};
use crate::audit::{self, By};
use crate::auth::{Actor, Role, Scope};
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::http::{ApiJson, ApiQuery, Page, PageParams, expected_version, if_match, with_etag};
use crate::orgs::queries as orgs_q;
use crate::{AppState, db};

pub fn routes(cfg: &mut ServiceConfig) {
    // The export's fixed paths before /members/{id}, which would take them for an id.
    cfg.service(list_members)
        .service(export::export_members)
        .service(export::member_export_columns)
        .service(create_member)
        .service(get_member)
        .service(update_member)
        .service(delete_member);
}

fn member_not_found() -> AppError {
    AppError::not_found("member", "党员")
}

/// The roster's filters, shared by the list and its export (`/members/export.xlsx`). Every
/// parameter narrows the list; the statistics' drill-down links (`Bucket.filter`) use only these.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberListQuery {
    /// Members of this org and its whole subtree.
    #[param(example = 3)]
    pub org_id: Option<i64>,
    /// Part of the name (张), or pinyin initials / pinyin prefix (zs, zhangs).
    #[param(example = "zs")]
    pub q: Option<String>,
    pub category: Option<Category>,
    pub status: Option<Status>,
    pub gender: Option<Gender>,
    /// Admitted on or after this date.
    #[param(example = "2010-01-01")]
    pub joined_from: Option<NaiveDate>,
    /// Admitted on or before this date.
    #[param(example = "2020-12-31")]
    pub joined_to: Option<NaiveDate>,
    /// 民族, by its name in the code list.
    #[param(example = "汉族")]
    pub ethnicity: Option<String>,
    /// `han`: 汉族; `minority`: any other recorded ethnicity (a member without one is in neither).
    #[param(inline)]
    pub ethnic_group: Option<EthnicGroup>,
    /// 学历, by its name in the code list.
    #[param(example = "大学本科")]
    pub education: Option<String>,
    /// 工作岗位 (job category), by its name in the code list.
    #[param(example = "专业技术人员")]
    pub job_category: Option<String>,
    /// Born on or after this date.
    #[param(example = "1986-01-01")]
    pub born_from: Option<NaiveDate>,
    /// Born on or before this date.
    #[param(example = "1995-12-31")]
    pub born_to: Option<NaiveDate>,
    /// Made full members (转正) on or after this date.
    #[param(example = "2016-01-01")]
    pub full_from: Option<NaiveDate>,
    /// Made full members on or before this date (party standing from then on).
    #[param(example = "2016-12-31")]
    pub full_to: Option<NaiveDate>,
    /// Members whose record lacks this field (data completeness).
    #[param(inline)]
    pub missing: Option<MissingField>,
}

fn text_filter(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn range_check(from: Option<NaiveDate>, to: Option<NaiveDate>, field: &'static str, code: &'static str, en: &str, zh: &str) -> Vec<FieldError> {
    match (from, to) {
        (Some(a), Some(b)) if a > b => vec![FieldError::new(field, code, en, zh)],
        _ => Vec::new(),
    }
}

impl MemberListQuery {
    /// The checked filter: each date range in order (the problem names its `_to` end).
    pub fn into_filter(self) -> AppResult<queries::ListFilter> {
        let mut errors =
            range_check(self.joined_from, self.joined_to, "joined_to", "before_joined_from", "joined_to is before joined_from", "入党日期区间的结束早于开始");
        errors.extend(range_check(self.born_from, self.born_to, "born_to", "before_born_from", "born_to is before born_from", "出生日期区间的结束早于开始"));
        errors.extend(range_check(self.full_from, self.full_to, "full_to", "before_full_from", "full_to is before full_from", "转正日期区间的结束早于开始"));
        if !errors.is_empty() {
            return Err(AppError::validation(errors));
        }
        Ok(queries::ListFilter {
            org_id: self.org_id,
            q: text_filter(self.q),
            category: self.category,
            status: self.status,
            gender: self.gender,
            joined_from: self.joined_from,
            joined_to: self.joined_to,
            ethnicity: text_filter(self.ethnicity),
            ethnic_group: self.ethnic_group,
            education: text_filter(self.education),
            job_category: text_filter(self.job_category),
            born_from: self.born_from,
            born_to: self.born_to,
            full_from: self.full_from,
            full_to: self.full_to,
            missing: self.missing,
        })
    }
}

/// Search members in your scope. Personal data is masked in the list.
#[utoipa::path(
    tag = "members",
    params(MemberListQuery, PageParams),
    security(("bearer" = ["member", "branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "A page of members", body = Page<Member>),
        (status = 403, description = "org_id is outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/members")]
pub async fn list_members(state: web::Data<AppState>, actor: Actor, query: ApiQuery<MemberListQuery>, paging: ApiQuery<PageParams>) -> AppResult<HttpResponse> {
    let today = state.config.clock.today();
    let (page, size) = PageParams::resolve(paging.page, paging.page_size)?;
    let filter = query.0.into_filter()?;
    let scope = actor.scope();
    let mut conn = db::conn(&state.pool).await?;
    let (items, total) = queries::list(&mut conn, &state.config.data_key, &scope, &filter, (page - 1) * size, size, today).await?;
    Ok(HttpResponse::Ok().json(Page { items, total, page, page_size: size }))
}

/// Is the member's org inside the subtree of one of the actor's grants of these roles?
async fn covered_by(conn: &mut AsyncPgConnection, actor: &Actor, roles: &[Role], org_id: i64) -> AppResult<bool> {
    let mut roots = Vec::new();
    for g in actor.grants.iter().filter(|g| roles.contains(&g.role)) {
        match g.org_id {
            None if g.role == Role::PoliticalDept => return Ok(true),
            Some(o) => roots.push(o),
            None => {}
        }
    }
    orgs_q::within(conn, &roots, org_id, 0).await
}

async fn reveal_for(conn: &mut AsyncPgConnection, actor: &Actor, person_id: i64, org_id: i64) -> AppResult<Reveal> {
    let own = actor.person_id == Some(person_id) && actor.has_role(Role::Member);
    Ok(Reveal {
        id_number: own || covered_by(conn, actor, &[Role::Committee, Role::PoliticalDept], org_id).await?,
        phone: own || covered_by(conn, actor, &[Role::Branch, Role::Committee, Role::PoliticalDept], org_id).await?,
    })
}

async fn check_target_org(conn: &mut AsyncPgConnection, scope: &Scope, org_id: i64) -> AppResult<()> {
    let org = orgs_q::get_row(conn, org_id).await?.ok_or_else(|| AppError::field("org_id", "not_found", "no organization has this id", "所选组织不存在"))?;
    if !org.kind().holds_members() {
        return Err(AppError::field("org_id", "org_cannot_hold_members", "members belong to a branch or a party group", "党员组织关系须在党支部或党小组"));
    }
    if !orgs_q::manageable(conn, scope, org_id, false).await? {
        return Err(AppError::out_of_scope());
    }
    Ok(())
}

/// Add a member to a branch (or party group) in your scope.
#[utoipa::path(
    tag = "members",
    request_body = MemberInput,
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 201, description = "Created", body = Member, headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "The org is outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The citizen ID number is already registered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/members")]
pub async fn create_member(state: web::Data<AppState>, actor: Actor, body: ApiJson<MemberInput>) -> AppResult<HttpResponse> {
    let today = state.config.clock.today();
    let mut rec = MemberRecord::from_create(body.0)?;
    let key = state.config.data_key.clone();
    let mut conn = db::conn(&state.pool).await?;
    let member = conn
        .transaction::<_, AppError, _>(async move |conn| {
            rec.validate(conn, today).await?;
            check_target_org(conn, &actor.manage_scope(), rec.org_id).await?;
            let id = queries::insert(conn, &key, &rec).await?;
            let row = queries::get_row(conn, id).await?.ok_or_else(member_not_found)?;
            let masked = row.into_member(&key, Reveal::default(), today);
            audit::record(conn, By::from(&actor), "create", "member", Some(id), None::<&()>, Some(&masked)).await?;
            let row = queries::get_row(conn, id).await?.ok_or_else(member_not_found)?;
            let reveal = reveal_for(conn, &actor, id, row.org_id).await?;
            Ok(row.into_member(&key, reveal, today))
        })
        .await?;
    let mut res = HttpResponse::Created();
    res.insert_header((actix_web::http::header::LOCATION, format!("/api/v1/members/{}", member.id)));
    Ok(with_etag(res, member.version, &member))
}

/// Loads a member the actor may see, or answers 404/403.
async fn visible_row(conn: &mut AsyncPgConnection, actor: &Actor, id: i64) -> AppResult<queries::MemberRow> {
    let row = queries::get_row(conn, id).await?.ok_or_else(member_not_found)?;
    let scope = actor.scope();
    let own = scope.person_id == Some(id);
    if !(own || scope.all || orgs_q::within(conn, &scope.org_roots, row.org_id, 0).await?) {
        return Err(AppError::out_of_scope());
    }
    Ok(row)
}

/// One member. Unmasked personal data is shown to the roles that may see it, and audited.
#[utoipa::path(
    tag = "members",
    params(("id" = i64, Path, description = "Member (person) id", example = 101)),
    security(("bearer" = ["member", "branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The member", body = Member, headers(("ETag" = String))),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/members/{id}")]
pub async fn get_member(state: web::Data<AppState>, actor: Actor, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let today = state.config.clock.today();
    let id = id.into_inner();
    let mut conn = db::conn(&state.pool).await?;
    let row = visible_row(&mut conn, &actor, id).await?;
    let reveal = reveal_for(&mut conn, &actor, id, row.org_id).await?;
    if reveal != Reveal::default() && actor.person_id != Some(id) {
        let fields: Vec<&str> = [("id_number", reveal.id_number && row.id_number_enc.is_some()), ("phone", reveal.phone && row.phone_enc.is_some())]
            .into_iter()
            .filter_map(|(f, shown)| shown.then_some(f))
            .collect();
        if !fields.is_empty() {
            audit::record(&mut conn, By::from(&actor), "read_personal", "member", Some(id), None::<&()>, Some(&serde_json::json!({ "fields": fields })))
                .await?;
        }
    }
    let member = row.into_member(&state.config.data_key, reveal, today);
    Ok(with_etag(HttpResponse::Ok(), member.version, &member))
}

/// Edit a member. Send only the fields to change (null clears one) and the version read
/// (If-Match or `version`): a stale edit answers 412/409 and changes nothing. A member may
/// change their own phone number only.
#[utoipa::path(
    tag = "members",
    params(("id" = i64, Path, description = "Member (person) id", example = 101), ("If-Match" = Option<String>, Header, description = "The ETag read", example = "\"3\"")),
    request_body(content = MemberInput, example = json!({"phone": "13912345678", "version": 1})),
    security(("bearer" = ["member", "branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "Updated", body = Member, headers(("ETag" = String))),
        (status = 403, description = "Outside your scope, or a field you may not change", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale `version`, or a duplicate citizen ID number", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No version given", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/members/{id}")]
pub async fn update_member(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<i64>,
    body: ApiJson<MemberInput>,
) -> AppResult<HttpResponse> {
    let today = state.config.clock.today();
    let id = id.into_inner();
    let input = body.0;
    let (expected, via_header) = expected_version(&req, input.version)?;
    let key = state.config.data_key.clone();
    let mut conn = db::conn(&state.pool).await?;
    let member = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let (version, org_id) = queries::lock(conn, id).await?.ok_or_else(member_not_found)?;
            let manage = actor.manage_scope();
            let manages = manage.all || orgs_q::within(conn, &manage.org_roots, org_id, 0).await?;
            if !manages {
                let own = actor.person_id == Some(id) && actor.has_role(Role::Member);
                if !own {
                    return Err(AppError::out_of_scope());
                }
                if !only_phone(&input) {
                    return Err(AppError::forbidden(
                        "members may change only their own phone number; ask the branch for other changes",
                        "党员本人只能修改自己的手机号，其他信息请联系支部修改",
                    ));
                }
            }
            if version != expected {
                return Err(AppError::stale(via_header));
            }
            let row = queries::get_row(conn, id).await?.ok_or_else(member_not_found)?;
            let before = queries::get_row(conn, id).await?.ok_or_else(member_not_found)?.into_member(&key, Reveal::default(), today);
            let mut rec = queries::record_of(&row, &key)?;
            rec.apply(input);
            rec.validate(conn, today).await?;
            if rec.org_id != org_id {
                check_target_org(conn, &manage, rec.org_id).await?;
            }
            queries::update(conn, &key, id, &rec).await?;
            let after = queries::get_row(conn, id).await?.ok_or_else(member_not_found)?;
            let masked = queries::get_row(conn, id).await?.ok_or_else(member_not_found)?.into_member(&key, Reveal::default(), today);
            audit::record(conn, By::from(&actor), "update", "member", Some(id), Some(&before), Some(&masked)).await?;
            let reveal = reveal_for(conn, &actor, id, after.org_id).await?;
            Ok(after.into_member(&key, reveal, today))
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), member.version, &member))
}

fn only_phone(i: &MemberInput) -> bool {
    i.external_id.is_none()
        && i.name.is_none()
        && i.gender.is_none()
        && i.id_number.is_none()
        && i.birth_date.is_none()
        && i.ethnicity.is_none()
        && i.native_place.is_none()
        && i.education.is_none()
        && i.degree.is_none()
        && i.job_category.is_none()
        && i.post.is_none()
        && i.title.is_none()
        && i.work_started_on.is_none()
        && i.category.is_none()
        && i.org_id.is_none()
        && i.joined_at.is_none()
        && i.full_member_at.is_none()
        && i.status.is_none()
        && i.is_flowing.is_none()
        && i.lost_contact.is_none()
}

/// Delete a member record entered by mistake (with its history). A member who left, died or
/// transferred out is not deleted: set `status` instead, so that past statistics stay right.
#[utoipa::path(
    tag = "members",
    params(("id" = i64, Path, description = "Member (person) id", example = 101), ("If-Match" = Option<String>, Header, description = "The ETag read (optional)", example = "\"3\"")),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/members/{id}")]
pub async fn delete_member(state: web::Data<AppState>, actor: Actor, req: HttpRequest, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let today = state.config.clock.today();
    let id = id.into_inner();
    let expected = if_match(&req)?;
    let key = state.config.data_key.clone();
    let mut conn = db::conn(&state.pool).await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let (version, org_id) = queries::lock(conn, id).await?.ok_or_else(member_not_found)?;
        let manage = actor.manage_scope();
        if !(manage.all || orgs_q::within(conn, &manage.org_roots, org_id, 0).await?) {
            return Err(AppError::out_of_scope());
        }
        if expected.is_some_and(|v| v != version) {
            return Err(AppError::stale(true));
        }
        let before = queries::get_row(conn, id).await?.ok_or_else(member_not_found)?.into_member(&key, Reveal::default(), today);
        queries::delete(conn, id).await?;
        audit::record(conn, By::from(&actor), "delete", "member", Some(id), Some(&before), None::<&()>).await?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
