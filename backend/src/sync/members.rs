//! `PUT /sync/members`: member records keyed by `external_id`, with the fields of the member API
//! (`MemberInput`) and the org given by `org_code` or `org_external_id`.
//!
//! An item is matched to a person by `external_id`, else by citizen ID number (a person already
//! entered by hand, without an external id, is adopted). On update, the fields an item leaves out
//! keep their stored values and `null` clears one, as in PATCH; the same rules as the member API
//! apply (docs/domain.md, Members), and writes stay within the caller's manage scope.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, put, web};
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{Change, SyncReport, idempotency};
use crate::AppState;
use crate::audit::By;
use crate::auth::{Actor, Scope};
use crate::crypto::DataKey;
use crate::error::{AppError, AppResult, FieldError, Problem, deserialize_problem_at};
use crate::http::ApiQuery;
use crate::members::bulk::{self, Matches, Writer};
use crate::members::id_number;
use crate::members::queries::{self as mq, MemberRow};
use crate::members::rules::MemberRecord;
use crate::members::types::{Category, Gender, MemberInput, Status};
use crate::orgs::types::OrgKind;
use crate::schema::{code_lists, org_closure, orgs};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberSyncQuery {
    /// Apply the valid items and list the rejected ones (default: a rejected item blocks the batch).
    pub partial: Option<bool>,
}

/// One member as the master-data system sends it (documentation of an item of `items`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "external_id": "HR-004211", "name": "张丽", "gender": "female", "id_number": "11010519491231002X",
    "ethnicity": "汉族", "education": "大学本科", "job_category": "专业技术人员", "phone": "13800138000",
    "category": "full", "org_code": "D01-01-01", "joined_at": "2012-06-20", "full_member_at": "2013-06-20"
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
    "external_id": "HR-004211", "name": "张丽", "gender": "female", "id_number": "11010519491231002X",
    "ethnicity": "汉族", "education": "大学本科", "category": "full", "org_code": "D01-01-01",
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
pub async fn sync_members(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    query: ApiQuery<MemberSyncQuery>,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let body = super::read_body(&req, payload).await?;
    let idem = idempotency::key_of(&req, &body)?;
    let items = super::parse_items(&body)?;
    let partial = query.partial.unwrap_or(false);
    let key = state.config.data_key.clone();
    let today = state.config.clock.today();
    let account_id = actor.account_id;
    super::run_batch(
        &state,
        account_id,
        idem,
        items,
        partial,
        Box::new(move |conn, items| Box::pin(async move { apply(conn, &key, &actor, items, partial, today).await })),
    )
    .await
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
            errors.push(FieldError::new(
                k,
                "unknown_field",
                format!("{k} is not part of a sync item (use org_code or org_external_id)"),
                format!("同步记录不含 {k}（请用 org_code 或 org_external_id）"),
            ));
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

/// The orgs a batch names, with what the checks need of them, and which of the orgs it touches
/// (the targets and the members' current orgs) lie in the manage scope.
struct OrgIndex {
    by_code: HashMap<String, i64>,
    by_external_id: HashMap<String, i64>,
    kinds: HashMap<i64, OrgKind>,
    /// None: every org.
    managed: Option<HashSet<i64>>,
}

impl OrgIndex {
    async fn load(conn: &mut AsyncPgConnection, scope: &Scope, refs: &[&OrgRef], current: impl Iterator<Item = i64>) -> Result<OrgIndex, AppError> {
        let codes: Vec<&str> = refs.iter().filter_map(|r| if let OrgRef::Code(c) = r { Some(c.as_str()) } else { None }).collect();
        let exts: Vec<&str> = refs.iter().filter_map(|r| if let OrgRef::ExternalId(e) = r { Some(e.as_str()) } else { None }).collect();
        let found: Vec<(i64, String, Option<String>, String)> = orgs::table
            .filter(orgs::code.eq_any(&codes).or(orgs::external_id.eq_any(&exts)))
            .select((orgs::id, orgs::code, orgs::external_id, orgs::kind))
            .load(conn)
            .await?;
        let mut index = OrgIndex { by_code: HashMap::new(), by_external_id: HashMap::new(), kinds: HashMap::new(), managed: None };
        for (id, code, ext, kind) in found {
            index.by_code.insert(code, id);
            if let Some(e) = ext {
                index.by_external_id.insert(e, id);
            }
            index.kinds.insert(id, OrgKind::parse(&kind).unwrap_or(OrgKind::Branch));
        }
        if !scope.all {
            let touched: Vec<i64> = index.kinds.keys().copied().chain(current).collect::<HashSet<_>>().into_iter().collect();
            let inside: Vec<i64> = org_closure::table
                .filter(org_closure::ancestor_id.eq_any(&scope.org_roots))
                .filter(org_closure::descendant_id.eq_any(&touched))
                .select(org_closure::descendant_id)
                .load(conn)
                .await?;
            index.managed = Some(inside.into_iter().collect());
        }
        Ok(index)
    }

    fn resolve(&self, org: &OrgRef) -> Result<i64, FieldError> {
        match org {
            OrgRef::Code(c) => {
                self.by_code.get(c).copied().ok_or_else(|| FieldError::new("org_code", "not_found", "no organization has this code", "没有此编码的党组织"))
            }
            OrgRef::ExternalId(e) => self
                .by_external_id
                .get(e)
                .copied()
                .ok_or_else(|| FieldError::new("org_external_id", "not_found", "no organization has this external id", "没有此外部编号的党组织")),
        }
    }

    fn manages(&self, org: i64) -> bool {
        self.managed.as_ref().is_none_or(|m| m.contains(&org))
    }

    /// A member's new org holds members and lies in the manage scope.
    fn check_target(&self, org: i64) -> Result<(), FieldError> {
        if !self.kinds.get(&org).is_some_and(|k| k.holds_members()) {
            return Err(FieldError::new(
                "org_code",
                "org_cannot_hold_members",
                "members belong to a branch or a party group",
                "党员组织关系须在党支部或党小组",
            ));
        }
        if !self.manages(org) {
            return Err(out_of_scope());
        }
        Ok(())
    }
}

fn out_of_scope() -> FieldError {
    FieldError::new("org_code", "out_of_scope", "this organization is outside your scope", "该党组织超出您的管理范围")
}

/// An item's planned write.
enum Planned {
    Create(Box<MemberRecord>),
    Update(Box<(MemberRow, MemberRecord)>),
    Unchanged,
}

/// What the items of a batch share while they are checked.
struct Checking<'a> {
    matches: &'a Matches,
    orgs: &'a OrgIndex,
    codes: &'a HashSet<(String, String)>,
    /// The stored records in plain text, by person.
    records: &'a HashMap<i64, MemberRecord>,
    /// Normalized ID number → the external id of the first item giving it.
    ids_in_batch: HashMap<String, String>,
    today: NaiveDate,
}

impl Checking<'_> {
    /// One item, under the member API's rules (docs/domain.md, Members) and within the manage scope.
    fn check(&mut self, ext: &str, org: Option<OrgRef>, mut input: MemberInput) -> Result<Planned, Vec<FieldError>> {
        if let Some(o) = &org {
            input.org_id = Some(self.orgs.resolve(o).map_err(|e| vec![e])?);
        }
        let person = match self.matches.by_external_id(ext) {
            Some(id) => Some(id),
            // A person entered by hand, without an external id, is adopted.
            None => match input.id_number.clone().flatten().map(|n| id_number::normalize(&n)).and_then(|n| self.matches.by_id_number(&n)) {
                Some((id, None)) => Some(id),
                Some((_, Some(_))) => {
                    return Err(vec![FieldError::new(
                        "id_number",
                        "id_number_taken",
                        "a person with another external_id has this citizen ID number",
                        "该公民身份号码已登记在另一外部编号的人员名下",
                    )]);
                }
                None => None,
            },
        };
        let stored =
            match person {
                Some(id) => {
                    // Both or neither: the records are the stored rows decrypted.
                    let (row, rec) =
                        self.matches.stored.get(&id).zip(self.records.get(&id)).ok_or_else(|| {
                            vec![FieldError::new("external_id", "not_a_member", "this person has no membership record", "该人员没有党员记录")]
                        })?;
                    if !self.orgs.manages(row.org_id) {
                        return Err(vec![out_of_scope()]);
                    }
                    Some((row, rec.clone()))
                }
                None => None,
            };
        let mut rec = match &stored {
            Some((_, rec)) => {
                let mut rec = rec.clone();
                rec.apply(input);
                rec
            }
            None if input.org_id.is_none() => {
                return Err(vec![FieldError::new(
                    "org_code",
                    "required",
                    "a new member needs org_code or org_external_id",
                    "新党员须填写 org_code 或 org_external_id",
                )]);
            }
            None => MemberRecord::from_create(input).map_err(|e| e.fields)?,
        };
        let mut errors = rec.check(self.today);
        errors.extend(rec.code_list_errors(self.codes));
        if !errors.is_empty() {
            return Err(errors);
        }
        if stored.as_ref().is_none_or(|(row, _)| row.org_id != rec.org_id) {
            self.orgs.check_target(rec.org_id).map_err(|e| vec![e])?;
        }
        // The citizen ID number is nobody else's: not a stored person's, nor another item's.
        if let Some(n) = rec.id_number.as_deref().map(id_number::normalize) {
            let own = stored.as_ref().map(|(row, _)| row.id);
            let taken = |what| {
                vec![FieldError::new("id_number", "id_number_taken", format!("{what} has this citizen ID number"), "该公民身份号码已登记在其他人员名下")]
            };
            if self.matches.by_id_number(&n).is_some_and(|(id, _)| Some(id) != own) {
                return Err(taken("another person"));
            }
            match self.ids_in_batch.get(&n) {
                Some(first) if first != ext => return Err(taken("an earlier item of the batch")),
                _ => {
                    self.ids_in_batch.insert(n, ext.to_string());
                }
            }
        }
        Ok(match stored {
            Some((_, before)) if same(&rec, &before) => Planned::Unchanged,
            Some((row, _)) => Planned::Update(Box::new((row.clone(), rec))),
            None => Planned::Create(Box::new(rec)),
        })
    }
}

/// Checks every item of the batch, then (unless an item was rejected and the batch is not
/// partial) writes the valid ones in set-based statements with their audit entries: a few
/// queries per batch, not per item (`members::bulk`).
pub async fn apply(
    conn: &mut AsyncPgConnection,
    key: &DataKey,
    actor: &Actor,
    items: &[Value],
    partial: bool,
    today: NaiveDate,
) -> Result<SyncReport, AppError> {
    let manage = actor.manage_scope();
    let mut report = SyncReport::default();
    let mut parsed = Vec::with_capacity(items.len());
    let mut seen = HashSet::new();
    for (index, raw) in items.iter().enumerate() {
        match parse_item(raw) {
            Err(errors) => report.reject(index, super::text_field(raw, "external_id"), errors),
            Ok((ext, ..)) if !seen.insert(ext.clone()) => {
                report.reject(
                    index,
                    Some(ext),
                    vec![FieldError::new("external_id", "duplicate_in_batch", "this external_id appears earlier in the batch", "该外部编号在本批次中重复出现")],
                );
            }
            Ok(item) => parsed.push((index, item)),
        }
    }
    bulk::serialize_bulk_writers(conn).await?;
    let exts: Vec<String> = parsed.iter().map(|(_, (ext, ..))| ext.clone()).collect();
    let ids: Vec<String> = parsed.iter().filter_map(|(_, (_, _, input))| input.id_number.clone().flatten()).map(|n| id_number::normalize(&n)).collect();
    let matches = Matches::find(conn, key, &exts, &ids, true).await?;
    let refs: Vec<&OrgRef> = parsed.iter().filter_map(|(_, (_, org, _))| org.as_ref()).collect();
    let orgs = OrgIndex::load(conn, &manage, &refs, matches.stored.values().map(|r| r.org_id)).await?;
    let codes: HashSet<(String, String)> =
        code_lists::table.select((code_lists::list, code_lists::name)).load::<(String, String)>(conn).await?.into_iter().collect();
    // Decrypted before checking: a record that cannot be read is the server's fault, not an item's.
    let records: HashMap<i64, MemberRecord> = matches.stored.iter().map(|(id, row)| Ok((*id, mq::record_of(row, key)?))).collect::<Result<_, AppError>>()?;
    let mut checking = Checking { matches: &matches, orgs: &orgs, codes: &codes, records: &records, ids_in_batch: HashMap::new(), today };
    let (mut creates, mut updates) = (Vec::new(), Vec::new());
    for (index, (ext, org, input)) in parsed {
        match checking.check(&ext, org, input) {
            Ok(Planned::Create(rec)) => creates.push((ext, *rec)),
            Ok(Planned::Update(update)) => updates.push((ext, *update)),
            Ok(Planned::Unchanged) => report.push(ext, Change::Unchanged),
            Err(errors) => report.reject(index, Some(ext), errors),
        }
    }
    report.rejected.sort_by_key(|r| r.index);
    if !report.rejected.is_empty() && !partial {
        // The batch is refused whole: nothing to write.
        return Ok(report);
    }
    let org_ids: Vec<i64> =
        creates.iter().map(|(_, r)| r.org_id).chain(updates.iter().map(|(_, (_, r))| r.org_id)).collect::<HashSet<_>>().into_iter().collect();
    let writer = Arc::new(Writer::new(key.clone(), None, bulk::org_names(conn, &org_ids).await?, today));
    let new_ids = mq::next_person_ids(conn, creates.len()).await?;
    let mut to_create = Vec::with_capacity(creates.len());
    for ((ext, rec), id) in creates.into_iter().zip(new_ids) {
        report.push(ext, Change::Created);
        to_create.push((id, rec));
    }
    let mut to_update = Vec::with_capacity(updates.len());
    for (ext, update) in updates {
        report.push(ext, Change::Updated);
        to_update.push(update);
    }
    let sealed = writer.seal_blocking(to_create, to_update).await?;
    bulk::write(conn, By::from(actor), "sync", &sealed).await?;
    Ok(report)
}

fn same(a: &MemberRecord, b: &MemberRecord) -> bool {
    macro_rules! eq {
        ($($f:ident),*) => { true $(&& a.$f == b.$f)* };
    }
    eq!(
        external_id,
        name,
        gender,
        id_number,
        birth_date,
        ethnicity,
        native_place,
        education,
        degree,
        job_category,
        post,
        title,
        phone,
        work_started_on,
        category,
        org_id,
        joined_at,
        full_member_at,
        status,
        is_flowing,
        lost_contact
    )
}
