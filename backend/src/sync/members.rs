//! `PUT /sync/members`: member records keyed by `external_id`, with the fields of the member API
//! (`MemberInput`) and the org given by `org_code` or `org_external_id`.
//!
//! An item is matched to a person by `external_id`, else by citizen ID number (a person already
//! entered by hand, without an external id, is adopted). On update, the fields an item leaves out
//! keep their stored values and `null` clears one, as in PATCH; the same rules as the member API
//! apply (DOMAIN.md, Members), and writes stay within the caller's manage scope.

use std::collections::HashSet;

use actix_web::{HttpRequest, HttpResponse, put, web};
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{Change, Outcome, SyncReport, TxError, idempotency, item_errors};
use crate::audit::{self, By};
use crate::auth::{Actor, Scope};
use crate::crypto::DataKey;
use crate::error::{AppError, AppResult, FieldError, Problem, deserialize_problem_at};
use crate::http::ApiQuery;
use crate::members::queries::{self as mq, Reveal};
use crate::members::rules::MemberRecord;
use crate::members::today;
use crate::members::types::{Category, Gender, MemberInput, Status};
use crate::orgs::queries as oq;
use crate::schema::{orgs, people};
use crate::{AppState, db};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberSyncQuery {
    /// Apply the valid items and list the rejected ones (default: a rejected item blocks the batch).
    pub partial: Option<bool>,
}

/// One member as the master-data system sends it (documentation of an item of `items`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "external_id": "HR-004211", "name": "张三", "gender": "male", "id_number": "11010519491231002X",
    "ethnicity": "汉族", "education": "大学本科", "job_category": "专业技术人员", "phone": "13800138000",
    "category": "full", "org_code": "D0101", "joined_at": "2012-06-20", "full_member_at": "2013-06-20"
}))]
pub struct SyncMember {
    /// 外部编号: the master-data system's key (required).
    pub external_id: String,
    /// The member's org by its code …
    pub org_code: Option<String>,
    /// … or by its external id (one of the two is required for a new member).
    pub org_external_id: Option<String>,
    pub name: Option<String>,
    pub gender: Option<Gender>,
    pub id_number: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub ethnicity: Option<String>,
    pub native_place: Option<String>,
    pub education: Option<String>,
    pub degree: Option<String>,
    pub job_category: Option<String>,
    pub post: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub work_started_on: Option<NaiveDate>,
    pub category: Option<Category>,
    pub joined_at: Option<NaiveDate>,
    pub full_member_at: Option<NaiveDate>,
    pub status: Option<Status>,
    pub is_flowing: Option<bool>,
    pub lost_contact: Option<bool>,
}

/// A batch of members.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"items": [{
    "external_id": "HR-004211", "name": "张三", "gender": "male", "id_number": "11010519491231002X",
    "ethnicity": "汉族", "education": "大学本科", "category": "full", "org_code": "D0101",
    "joined_at": "2012-06-20", "full_member_at": "2013-06-20"
}]}))]
pub struct MemberBatch {
    /// At most 5,000.
    pub items: Vec<SyncMember>,
}

/// Upsert a batch of members by external_id, in one transaction (see the `sync` tag).
///
/// A rejected item blocks the batch (422, or 403 when outside your scope; nothing written)
/// unless `partial=true`. Send `Idempotency-Key` so that a retry answers the first result.
#[utoipa::path(
    tag = "sync",
    params(MemberSyncQuery, ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry answer the first result (kept 24 h)", example = "members-2026-11-23-batch-1")),
    request_body = MemberBatch,
    security(("bearer" = ["committee", "political_dept"])),
    responses(
        (status = 200, description = "Applied (or replayed for the Idempotency-Key)", body = SyncReport),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An item is outside your scope; nothing written", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over 5,000 items", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid items, each with its index and fields (nothing written); or the Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/sync/members")]
pub async fn sync_members(state: web::Data<AppState>, actor: Actor, req: HttpRequest, query: ApiQuery<MemberSyncQuery>, payload: web::Payload) -> AppResult<HttpResponse> {
    let body = super::read_body(&req, payload).await?;
    let idem = idempotency::key_of(&req, &body)?;
    let items = super::parse_items(&body)?;
    let total = items.len();
    let partial = query.partial.unwrap_or(false);
    let key = state.config.data_key.clone();
    let mut conn = db::conn(&state.pool).await?;
    let out = conn
        .transaction::<_, TxError, _>(async move |conn| {
            if let Some(k) = &idem
                && let Some(stored) = idempotency::lookup(conn, actor.account_id, k).await?
            {
                return Ok(stored);
            }
            let report = apply(conn, &key, &actor, &items).await?;
            if !report.rejected.is_empty() && !partial {
                return Err(TxError::Rejected(report));
            }
            let body = serde_json::to_value(&report).map_err(|e| AppError::internal(e.to_string()))?;
            if let Some(k) = &idem {
                idempotency::store(conn, actor.account_id, k, 200, &body).await?;
            }
            Ok(Outcome::Fresh(body))
        })
        .await;
    super::respond(out, total)
}

enum OrgRef {
    Code(String),
    ExternalId(String),
}

/// An item split into its key, its org reference and the member fields.
fn parse_item(raw: &Value) -> Result<(String, Option<OrgRef>, MemberInput), Vec<FieldError>> {
    let Some(obj) = raw.as_object() else {
        return Err(vec![FieldError::new("", "not_an_object", "each item must be a JSON object", "每条记录须为 JSON 对象")]);
    };
    let mut errors = Vec::new();
    let ext = super::external_id_of(raw).map_err(|e| errors.push(e)).ok();
    let org = match (super::text_field(raw, "org_code"), super::text_field(raw, "org_external_id")) {
        (Some(c), None) => Some(OrgRef::Code(c)),
        (None, Some(e)) => Some(OrgRef::ExternalId(e)),
        (None, None) => None,
        (Some(_), Some(_)) => {
            errors.push(FieldError::new("org_code", "ambiguous", "send org_code or org_external_id, not both", "org_code 与 org_external_id 只填其一"));
            None
        }
    };
    let mut rest = obj.clone();
    for k in ["external_id", "org_code", "org_external_id"] {
        rest.remove(k);
    }
    for k in ["org_id", "version"] {
        if rest.remove(k).is_some() {
            errors.push(FieldError::new(k, "unknown_field", format!("{k} is not part of a sync item (use org_code or org_external_id)"), format!("同步记录不含 {k}（请用 org_code 或 org_external_id）")));
        }
    }
    let input = match serde_path_to_error::deserialize::<_, MemberInput>(Value::Object(rest)) {
        Ok(i) => Some(i),
        Err(e) => {
            errors.extend(deserialize_problem_at(&e.path().to_string(), &e.inner().to_string()).fields);
            None
        }
    };
    match (ext, input) {
        (Some(ext), Some(mut input)) if errors.is_empty() => {
            input.external_id = Some(Some(ext.clone()));
            Ok((ext, org, input))
        }
        _ => Err(errors),
    }
}

/// Applies every item, each in a savepoint, and reports what happened to each.
pub async fn apply(conn: &mut AsyncPgConnection, key: &DataKey, actor: &Actor, items: &[Value]) -> Result<SyncReport, AppError> {
    let manage = actor.manage_scope();
    let today = today();
    let mut report = SyncReport::default();
    let mut seen = HashSet::new();
    for (index, raw) in items.iter().enumerate() {
        let (ext, org, input) = match parse_item(raw) {
            Ok(parsed) => parsed,
            Err(errors) => {
                report.reject(index, super::text_field(raw, "external_id"), errors);
                continue;
            }
        };
        if !seen.insert(ext.clone()) {
            report.reject(index, Some(ext), vec![FieldError::new("external_id", "duplicate_in_batch", "this external_id appears earlier in the batch", "该外部编号在本批次中重复出现")]);
            continue;
        }
        let result = conn.transaction::<_, AppError, _>(async |conn| apply_one(conn, key, actor, &manage, &ext, org, input, today).await).await;
        match result {
            Ok(change) => report.push(ext, change),
            Err(e) => report.reject(index, Some(ext), item_errors(e, "org_code")?),
        }
    }
    Ok(report)
}

async fn resolve_org(conn: &mut AsyncPgConnection, org: &OrgRef) -> Result<i64, AppError> {
    let (field, found) = match org {
        OrgRef::Code(c) => ("org_code", orgs::table.filter(orgs::code.eq(c)).select(orgs::id).first::<i64>(conn).await.optional()?),
        OrgRef::ExternalId(e) => ("org_external_id", orgs::table.filter(orgs::external_id.eq(e)).select(orgs::id).first::<i64>(conn).await.optional()?),
    };
    found.ok_or_else(|| AppError::field(field, "not_found", "no organization has this code", "没有此编码的党组织"))
}

/// The org may hold members and lies in the manage scope.
async fn check_target_org(conn: &mut AsyncPgConnection, scope: &Scope, org_id: i64) -> Result<(), AppError> {
    let org = oq::get_row(conn, org_id).await?.ok_or_else(|| AppError::field("org_code", "not_found", "no such organization", "党组织不存在"))?;
    if !org.kind().holds_members() {
        return Err(AppError::field("org_code", "org_cannot_hold_members", "members belong to a branch or a party group", "党员组织关系须在党支部或党小组"));
    }
    if !oq::manageable(conn, scope, org_id, false).await? {
        return Err(AppError::out_of_scope());
    }
    Ok(())
}

/// The citizen ID number is nobody else's.
async fn check_id_free(conn: &mut AsyncPgConnection, key: &DataKey, id_number: Option<&str>, own: Option<i64>) -> Result<(), AppError> {
    let Some(n) = id_number else { return Ok(()) };
    let other: Option<i64> = people::table
        .filter(people::id_number_hash.eq(key.blind_index(mq::ID_NUMBER_INDEX, n)))
        .filter(people::id.ne(own.unwrap_or(-1)))
        .select(people::id)
        .first(conn)
        .await
        .optional()?;
    match other {
        Some(_) => Err(AppError::field("id_number", "id_number_taken", "another person has this citizen ID number", "该公民身份号码已登记在其他人员名下")),
        None => Ok(()),
    }
}

/// The person an item means: by external_id, else by ID number when that person has none.
async fn find_person(conn: &mut AsyncPgConnection, key: &DataKey, ext: &str, id_number: Option<&str>) -> Result<Option<i64>, AppError> {
    if let Some(id) = people::table.filter(people::external_id.eq(ext)).select(people::id).first::<i64>(conn).await.optional()? {
        return Ok(Some(id));
    }
    let Some(n) = id_number else { return Ok(None) };
    let normalized = n.trim().to_uppercase();
    let found: Option<(i64, Option<String>)> = people::table
        .filter(people::id_number_hash.eq(key.blind_index(mq::ID_NUMBER_INDEX, &normalized)))
        .select((people::id, people::external_id))
        .first(conn)
        .await
        .optional()?;
    match found {
        Some((id, None)) => Ok(Some(id)),
        Some((_, Some(_))) => Err(AppError::field("id_number", "id_number_taken", "a person with another external_id has this citizen ID number", "该公民身份号码已登记在另一外部编号的人员名下")),
        None => Ok(None),
    }
}

fn same(a: &MemberRecord, b: &MemberRecord) -> bool {
    macro_rules! eq {
        ($($f:ident),*) => { true $(&& a.$f == b.$f)* };
    }
    eq!(
        external_id, name, gender, id_number, birth_date, ethnicity, native_place, education, degree, job_category, post, title, phone, work_started_on,
        category, org_id, joined_at, full_member_at, status, is_flowing, lost_contact
    )
}

#[allow(clippy::too_many_arguments)]
async fn apply_one(
    conn: &mut AsyncPgConnection,
    key: &DataKey,
    actor: &Actor,
    manage: &Scope,
    ext: &str,
    org: Option<OrgRef>,
    mut input: MemberInput,
    today: NaiveDate,
) -> Result<Change, AppError> {
    if let Some(o) = &org {
        input.org_id = Some(resolve_org(conn, o).await?);
    }
    let id_number = input.id_number.clone().flatten();
    match find_person(conn, key, ext, id_number.as_deref()).await? {
        Some(id) => {
            let (_, current_org) = mq::lock(conn, id)
                .await?
                .ok_or_else(|| AppError::field("external_id", "not_a_member", "this person has no membership record", "该人员没有党员记录"))?;
            if !(manage.all || oq::within(conn, &manage.org_roots, current_org, 0).await?) {
                return Err(AppError::out_of_scope());
            }
            let row = mq::get_row(conn, id).await?.ok_or_else(|| AppError::not_found("member", "党员"))?;
            let stored = mq::record_of(&row, key)?;
            let before = row.into_member(key, Reveal::default(), today);
            let mut rec = stored.clone();
            rec.apply(input);
            rec.validate(conn, today).await?;
            if rec.org_id != current_org {
                check_target_org(conn, manage, rec.org_id).await?;
            }
            check_id_free(conn, key, rec.id_number.as_deref(), Some(id)).await?;
            if same(&rec, &stored) {
                return Ok(Change::Unchanged);
            }
            mq::update(conn, key, id, &rec).await?;
            let after = mq::get_row(conn, id).await?.ok_or_else(|| AppError::not_found("member", "党员"))?.into_member(key, Reveal::default(), today);
            audit::record(conn, By::from(actor), "sync", "member", Some(id), Some(&before), Some(&after)).await?;
            Ok(Change::Updated)
        }
        None => {
            if input.org_id.is_none() {
                return Err(AppError::field("org_code", "required", "a new member needs org_code or org_external_id", "新党员须填写 org_code 或 org_external_id"));
            }
            let mut rec = MemberRecord::from_create(input)?;
            rec.validate(conn, today).await?;
            check_target_org(conn, manage, rec.org_id).await?;
            check_id_free(conn, key, rec.id_number.as_deref(), None).await?;
            let id = mq::insert(conn, key, &rec).await?;
            let after = mq::get_row(conn, id).await?.ok_or_else(|| AppError::not_found("member", "党员"))?.into_member(key, Reveal::default(), today);
            audit::record(conn, By::from(actor), "sync", "member", Some(id), None::<&()>, Some(&after)).await?;
            Ok(Change::Created)
        }
    }
}
