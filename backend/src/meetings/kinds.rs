//! Meeting kinds, per-org meeting rules and the officers who attend 支委会.
//!
//! docs/domain.md, Organizational life: the kinds (支部党员大会, 支部委员会, 党小组会, 党课, ...) are
//! configuration, so an institution can add its own (political_dept over the whole institution);
//! "frequencies differ between local rules: keep them as per-organization settings with these
//! defaults" — an org's rows in org_meeting_rules apply to its subtree, resolved by
//! [`super::rules::rules_for_subtree`]. docs/domain.md, Organizations: a branch with 7 or more full
//! members elects a committee (支部工作条例 (2018) art. 17); the setting org_life_settings.has_committee
//! overrides that count either way. The officers (secretary, deputy, committee members) are the
//! attendees of a 支委会 and owe 56 study hours (党员教育管理工作条例 (2019)).

use std::collections::HashSet;

use actix_web::{HttpRequest, HttpResponse, get, patch, post, put, web};
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::rules::{self, EffectiveRule, Frequency, HasCommittee};
use crate::audit::{self, By};
use crate::auth::Actor;
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::http::{ApiJson, expected_version, with_etag};
use crate::orgs::queries as org_queries;
use crate::orgs::types::OrgKind;
use crate::schema::{meeting_kinds, org_life_settings, org_meeting_rules, org_officers, people};
use crate::{AppState, db};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_kinds)
        .service(create_kind)
        .service(update_kind)
        .service(get_meeting_rules)
        .service(put_meeting_rules)
        .service(get_officers)
        .service(put_officers);
}

// ---------------------------------------------------------------------------------------------
// Kinds

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = meeting_kinds)]
struct KindRow {
    code: String,
    name: String,
    name_en: String,
    frequency: String,
    per_period: i32,
    org_kinds: Vec<String>,
    needs_committee: bool,
    committee_only: bool,
    may_vote: bool,
    study_minutes: i32,
    sort_order: i32,
    builtin: bool,
    version: i32,
}

/// A meeting kind: what it is called, how often an org owes it by default, who owes it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "code": "party_lecture", "name": "党课", "name_en": "Party lecture", "frequency": "quarter", "per_period": 1,
    "org_kinds": ["branch"], "needs_committee": false, "committee_only": false, "may_vote": false,
    "study_hours": 2.0, "sort_order": 40, "builtin": true, "version": 1
}))]
pub struct MeetingKind {
    pub code: String,
    pub name: String,
    pub name_en: String,
    /// The default frequency (docs/domain.md's "usual frequency"); orgs may set their own.
    pub frequency: Frequency,
    /// Meetings owed per period.
    pub per_period: i32,
    /// The org kinds that owe it: committee, general_branch, branch, group.
    pub org_kinds: Vec<String>,
    /// Only an org with a committee owes it (支委会).
    pub needs_committee: bool,
    /// The attendees are the officers, not the whole roster.
    pub committee_only: bool,
    /// May take votes (支部党员大会).
    pub may_vote: bool,
    /// Study time attending gives by default (党课), hours.
    pub study_hours: f64,
    pub sort_order: i32,
    /// One of docs/domain.md's kinds, shipped with the platform.
    pub builtin: bool,
    pub version: i32,
}

impl From<KindRow> for MeetingKind {
    fn from(r: KindRow) -> Self {
        MeetingKind {
            frequency: Frequency::parse(&r.frequency).unwrap_or(Frequency::None),
            code: r.code,
            name: r.name,
            name_en: r.name_en,
            per_period: r.per_period,
            org_kinds: r.org_kinds,
            needs_committee: r.needs_committee,
            committee_only: r.committee_only,
            may_vote: r.may_vote,
            study_hours: f64::from(r.study_minutes) / 60.0,
            sort_order: r.sort_order,
            builtin: r.builtin,
            version: r.version,
        }
    }
}

/// A new meeting kind (`builtin` and `version` are the server's).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "study_session", "name": "专题学习会", "name_en": "Study session", "frequency": "month", "per_period": 1,
    "org_kinds": ["branch"], "needs_committee": false, "committee_only": false, "may_vote": false, "study_hours": 1.5, "sort_order": 90
}))]
pub struct CreateKind {
    /// `^[a-z][a-z0-9_]{1,39}$`
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub frequency: Frequency,
    /// Default 1 (1-31).
    pub per_period: Option<i32>,
    /// Default `["branch"]`.
    pub org_kinds: Option<Vec<OrgKind>>,
    pub needs_committee: Option<bool>,
    pub committee_only: Option<bool>,
    pub may_vote: Option<bool>,
    /// Default 0 (0-24).
    pub study_hours: Option<f64>,
    /// Default 100.
    pub sort_order: Option<i32>,
}

/// Changes to a kind; send the version read (`version` or If-Match).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"frequency": "month", "version": 1}))]
pub struct UpdateKind {
    pub name: Option<String>,
    pub name_en: Option<String>,
    pub frequency: Option<Frequency>,
    pub per_period: Option<i32>,
    pub org_kinds: Option<Vec<OrgKind>>,
    pub needs_committee: Option<bool>,
    pub committee_only: Option<bool>,
    pub may_vote: Option<bool>,
    pub study_hours: Option<f64>,
    pub sort_order: Option<i32>,
    pub version: Option<i32>,
}

fn kind_not_found() -> AppError {
    AppError::not_found("meeting kind", "会议类型")
}

/// Kinds are the institution's configuration (docs/domain.md, Roles: political_dept does
/// configuration): only a political_dept grant over the whole institution changes them.
fn check_configure(actor: &Actor) -> Result<(), AppError> {
    if actor.manage_scope().all {
        Ok(())
    } else {
        Err(AppError::out_of_scope().with_detail(
            "meeting kinds are institution-wide configuration: only political_dept over the whole institution may change them",
            "会议类型是全单位的配置，只有全单位范围的政工部门可以修改",
        ))
    }
}

fn valid_code(code: &str) -> bool {
    let b = code.as_bytes();
    (2..=40).contains(&b.len()) && b[0].is_ascii_lowercase() && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

/// The checked values of a kind, shared by create and update.
struct KindValues {
    name: String,
    name_en: String,
    frequency: Frequency,
    per_period: i32,
    org_kinds: Vec<String>,
    needs_committee: bool,
    committee_only: bool,
    may_vote: bool,
    study_minutes: i32,
    sort_order: i32,
}

impl KindValues {
    fn check(&self, errors: &mut Vec<FieldError>) {
        if self.name.is_empty() || self.name.chars().count() > 50 {
            errors.push(FieldError::new("name", "required", "the name is required (at most 50 characters)", "请填写名称（不超过 50 字）"));
        }
        if self.name_en.is_empty() || self.name_en.chars().count() > 100 {
            errors.push(FieldError::new("name_en", "required", "the English name is required (at most 100 characters)", "请填写英文名称（不超过 100 字符）"));
        }
        if !(1..=31).contains(&self.per_period) {
            errors.push(FieldError::new("per_period", "out_of_range", "per_period must be 1 to 31", "每周期次数须在 1 到 31 之间"));
        }
        if self.org_kinds.is_empty() {
            errors.push(FieldError::new("org_kinds", "required", "name at least one org kind that owes it", "请至少选择一种应开展该会议的组织类型"));
        }
        if !(0..=1440).contains(&self.study_minutes) {
            errors.push(FieldError::new("study_hours", "out_of_range", "study_hours must be 0 to 24", "学时须在 0 到 24 之间"));
        }
        if !(0..=10_000).contains(&self.sort_order) {
            errors.push(FieldError::new("sort_order", "out_of_range", "sort_order must be 0 to 10000", "排序号须在 0 到 10000 之间"));
        }
    }
}

fn hours_to_minutes(h: f64) -> i32 {
    // Out-of-range values map outside 0..=1440 and are refused by the check.
    if h.is_finite() && (0.0..=24.0).contains(&h) { (h * 60.0).round() as i32 } else { -1 }
}

fn org_kind_strings(kinds: Vec<OrgKind>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in kinds {
        if !out.iter().any(|s| s == k.as_str()) {
            out.push(k.as_str().to_string());
        }
    }
    out
}

async fn load_kind(conn: &mut AsyncPgConnection, code: &str) -> Result<Option<MeetingKind>, AppError> {
    Ok(meeting_kinds::table.find(code).select(KindRow::as_select()).first(conn).await.optional()?.map(MeetingKind::from))
}

/// All meeting kinds, by sort order.
pub async fn all_kinds(conn: &mut AsyncPgConnection) -> Result<Vec<MeetingKind>, AppError> {
    let rows: Vec<KindRow> =
        meeting_kinds::table.select(KindRow::as_select()).order((meeting_kinds::sort_order.asc(), meeting_kinds::code.asc())).load(conn).await?;
    Ok(rows.into_iter().map(MeetingKind::from).collect())
}

/// The meeting kinds (docs/domain.md's eight and any the institution added), by sort order.
#[utoipa::path(
    tag = "meetings",
    security(("bearer" = ["member", "branch", "committee", "political_dept"])),
    responses((status = 200, description = "The kinds", body = Vec<MeetingKind>))
)]
#[get("/meeting-kinds")]
pub async fn list_kinds(state: web::Data<AppState>, _actor: Actor) -> AppResult<HttpResponse> {
    let mut conn = db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(all_kinds(&mut conn).await?))
}

/// Add a meeting kind (political_dept over the whole institution).
#[utoipa::path(
    tag = "meetings",
    request_body = CreateKind,
    security(("bearer" = ["political_dept"])),
    responses(
        (status = 201, description = "Created", body = MeetingKind, headers(("ETag" = String))),
        (status = 403, description = "Not political_dept over the whole institution", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/meeting-kinds")]
pub async fn create_kind(state: web::Data<AppState>, actor: Actor, body: ApiJson<CreateKind>) -> AppResult<HttpResponse> {
    check_configure(&actor)?;
    let b = body.0;
    let code = b.code.trim().to_string();
    let v = KindValues {
        name: crate::text::clean(&b.name),
        name_en: crate::text::clean(&b.name_en),
        frequency: b.frequency,
        per_period: b.per_period.unwrap_or(1),
        org_kinds: org_kind_strings(b.org_kinds.unwrap_or_else(|| vec![OrgKind::Branch])),
        needs_committee: b.needs_committee.unwrap_or(false),
        committee_only: b.committee_only.unwrap_or(false),
        may_vote: b.may_vote.unwrap_or(false),
        study_minutes: hours_to_minutes(b.study_hours.unwrap_or(0.0)),
        sort_order: b.sort_order.unwrap_or(100),
    };
    let mut errors = Vec::new();
    if !valid_code(&code) {
        errors.push(FieldError::new(
            "code",
            "invalid_code",
            "use 2-40 lowercase letters, digits or '_', starting with a letter",
            "编码须为 2-40 位小写字母、数字或下划线，以字母开头",
        ));
    }
    v.check(&mut errors);
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let mut conn = db::conn(&state.pool).await?;
    let kind = conn
        .transaction::<_, AppError, _>(async move |conn| {
            if load_kind(conn, &code).await?.is_some() {
                let mut e = AppError::conflict("duplicate", "another meeting kind has this code", "该会议类型编码已存在");
                e.fields = vec![FieldError::new("code", "duplicate", "another meeting kind has this code", "该会议类型编码已存在")];
                return Err(e);
            }
            diesel::insert_into(meeting_kinds::table)
                .values((
                    meeting_kinds::code.eq(&code),
                    meeting_kinds::name.eq(&v.name),
                    meeting_kinds::name_en.eq(&v.name_en),
                    meeting_kinds::frequency.eq(v.frequency.as_str()),
                    meeting_kinds::per_period.eq(v.per_period),
                    meeting_kinds::org_kinds.eq(&v.org_kinds),
                    meeting_kinds::needs_committee.eq(v.needs_committee),
                    meeting_kinds::committee_only.eq(v.committee_only),
                    meeting_kinds::may_vote.eq(v.may_vote),
                    meeting_kinds::study_minutes.eq(v.study_minutes),
                    meeting_kinds::sort_order.eq(v.sort_order),
                    meeting_kinds::builtin.eq(false),
                ))
                .execute(conn)
                .await?;
            let kind = load_kind(conn, &code).await?.ok_or_else(kind_not_found)?;
            audit::record(conn, By::from(&actor), "create", "meeting_kind", None, None::<&()>, Some(&kind)).await?;
            Ok(kind)
        })
        .await?;
    Ok(with_etag(HttpResponse::Created(), kind.version, &kind))
}

/// Change a meeting kind (political_dept over the whole institution). Send the version read
/// (If-Match or `version`); a stale one answers 412/409.
#[utoipa::path(
    tag = "meetings",
    params(("code" = String, Path, description = "Kind code", example = "party_lecture"), ("If-Match" = Option<String>, Header, description = "The ETag read", example = "\"1\"")),
    request_body = UpdateKind,
    security(("bearer" = ["political_dept"])),
    responses(
        (status = 200, description = "Updated", body = MeetingKind, headers(("ETag" = String))),
        (status = 403, description = "Not political_dept over the whole institution", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such kind", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale `version`", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No version given", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/meeting-kinds/{code}")]
pub async fn update_kind(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    code: web::Path<String>,
    body: ApiJson<UpdateKind>,
) -> AppResult<HttpResponse> {
    check_configure(&actor)?;
    let code = code.into_inner();
    let b = body.0;
    let (expected, via_header) = expected_version(&req, b.version)?;
    let mut conn = db::conn(&state.pool).await?;
    let kind = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let row: KindRow =
                meeting_kinds::table.find(&code).select(KindRow::as_select()).for_update().first(conn).await.optional()?.ok_or_else(kind_not_found)?;
            if row.version != expected {
                return Err(AppError::stale(via_header));
            }
            let before = MeetingKind::from(row.clone());
            let v = KindValues {
                name: b.name.map_or(row.name, |s| crate::text::clean(&s)),
                name_en: b.name_en.map_or(row.name_en, |s| crate::text::clean(&s)),
                frequency: b.frequency.unwrap_or(before.frequency),
                per_period: b.per_period.unwrap_or(row.per_period),
                org_kinds: b.org_kinds.map_or(row.org_kinds, org_kind_strings),
                needs_committee: b.needs_committee.unwrap_or(row.needs_committee),
                committee_only: b.committee_only.unwrap_or(row.committee_only),
                may_vote: b.may_vote.unwrap_or(row.may_vote),
                study_minutes: b.study_hours.map_or(row.study_minutes, hours_to_minutes),
                sort_order: b.sort_order.unwrap_or(row.sort_order),
            };
            let mut errors = Vec::new();
            v.check(&mut errors);
            if !errors.is_empty() {
                return Err(AppError::validation(errors));
            }
            diesel::update(meeting_kinds::table.find(&code))
                .set((
                    meeting_kinds::name.eq(&v.name),
                    meeting_kinds::name_en.eq(&v.name_en),
                    meeting_kinds::frequency.eq(v.frequency.as_str()),
                    meeting_kinds::per_period.eq(v.per_period),
                    meeting_kinds::org_kinds.eq(&v.org_kinds),
                    meeting_kinds::needs_committee.eq(v.needs_committee),
                    meeting_kinds::committee_only.eq(v.committee_only),
                    meeting_kinds::may_vote.eq(v.may_vote),
                    meeting_kinds::study_minutes.eq(v.study_minutes),
                    meeting_kinds::sort_order.eq(v.sort_order),
                    meeting_kinds::version.eq(meeting_kinds::version + 1),
                    meeting_kinds::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            let after = load_kind(conn, &code).await?.ok_or_else(kind_not_found)?;
            audit::record(conn, By::from(&actor), "update", "meeting_kind", None, Some(&before), Some(&after)).await?;
            Ok(after)
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), kind.version, &kind))
}

// ---------------------------------------------------------------------------------------------
// Per-org meeting rules

/// The meeting rules in force for an org: whether it counts as having a committee, and the
/// effective frequency of each kind it owes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "org_id": 3,
    "has_committee": {"value": true, "source": "default", "setting": null, "full_members": 9},
    "rules": [{"kind": "branch_committee_meeting", "name": "支部委员会", "frequency": "month", "per_period": 1, "source": "kind", "from_org_id": null},
              {"kind": "party_lecture", "name": "党课", "frequency": "month", "per_period": 1, "source": "inherited", "from_org_id": 1}],
    "version": 2
}))]
pub struct MeetingRules {
    pub org_id: i64,
    pub has_committee: HasCommittee,
    pub rules: Vec<EffectiveRule>,
    /// The version of the org's own settings (0 before any were saved).
    pub version: i32,
}

/// One of the org's own rules (it applies to its subtree unless a nearer org sets its own).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "party_lecture", "frequency": "month", "per_period": 1}))]
pub struct OwnRule {
    pub kind: String,
    pub frequency: Frequency,
    /// Default 1 (1-31).
    pub per_period: Option<i32>,
}

/// The org's own settings, replacing what it had: kinds not listed inherit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"has_committee": null, "rules": [{"kind": "party_lecture", "frequency": "month", "per_period": 1}], "version": 1}))]
pub struct PutMeetingRules {
    /// true/false overrides the count of full members (7 or more: a committee); null uses it.
    pub has_committee: Option<bool>,
    pub rules: Vec<OwnRule>,
    pub version: Option<i32>,
}

/// What the audit log records of a change: the org's own settings.
#[derive(Debug, Serialize)]
struct OwnSettings {
    has_committee: Option<bool>,
    rules: Vec<OwnRule>,
}

fn org_not_found() -> AppError {
    AppError::not_found("organization", "组织")
}

async fn settings_version(conn: &mut AsyncPgConnection, org_id: i64) -> Result<i32, AppError> {
    Ok(org_life_settings::table.find(org_id).select(org_life_settings::version).first(conn).await.optional()?.unwrap_or(0))
}

/// The effective rules of one org (resolved with its subtree by [`rules::rules_for_subtree`]).
pub async fn meeting_rules(conn: &mut AsyncPgConnection, org_id: i64) -> Result<MeetingRules, AppError> {
    let set = rules::rules_for_subtree(conn, org_id).await?;
    let org = set.get(org_id).ok_or_else(org_not_found)?;
    let version = settings_version(conn, org_id).await?;
    Ok(MeetingRules { org_id, has_committee: org.has_committee.clone(), rules: org.rules.clone(), version })
}

async fn own_settings(conn: &mut AsyncPgConnection, org_id: i64) -> Result<OwnSettings, AppError> {
    let has_committee: Option<bool> = org_life_settings::table.find(org_id).select(org_life_settings::has_committee).first(conn).await.optional()?.flatten();
    let rows: Vec<(String, String, i32)> = org_meeting_rules::table
        .filter(org_meeting_rules::org_id.eq(org_id))
        .order(org_meeting_rules::kind)
        .select((org_meeting_rules::kind, org_meeting_rules::frequency, org_meeting_rules::per_period))
        .load(conn)
        .await?;
    let rules = rows
        .into_iter()
        .map(|(kind, f, per_period)| OwnRule { kind, frequency: Frequency::parse(&f).unwrap_or(Frequency::None), per_period: Some(per_period) })
        .collect();
    Ok(OwnSettings { has_committee, rules })
}

/// The meeting rules in force for an org: has_committee (its setting, else 7 or more full
/// members: 支部工作条例 art. 17) and, for each kind it owes, the effective frequency (its own
/// rule, else the nearest ancestor's, else the kind's default) with where it comes from.
#[utoipa::path(
    tag = "meetings",
    params(("id" = i64, Path, description = "Org id", example = 3)),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The rules", body = MeetingRules, headers(("ETag" = String))),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such org", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/orgs/{id}/meeting-rules")]
pub async fn get_meeting_rules(state: web::Data<AppState>, actor: Actor, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let mut conn = db::conn(&state.pool).await?;
    org_queries::get_row(&mut conn, id).await?.ok_or_else(org_not_found)?;
    if !org_queries::readable(&mut conn, &actor.scope(), id).await? {
        return Err(AppError::out_of_scope());
    }
    let rules = meeting_rules(&mut conn, id).await?;
    Ok(with_etag(HttpResponse::Ok(), rules.version, &rules))
}

/// Replace an org's own meeting rules and committee setting (committee and political_dept; a
/// branch does not set its own requirements). Kinds not listed inherit from above. Send the
/// version read (`version`, 0 before any were saved, or If-Match).
#[utoipa::path(
    tag = "meetings",
    params(("id" = i64, Path, description = "Org id", example = 3), ("If-Match" = Option<String>, Header, description = "The ETag read", example = "\"1\"")),
    request_body = PutMeetingRules,
    security(("bearer" = ["committee", "political_dept"])),
    responses(
        (status = 200, description = "The rules now in force", body = MeetingRules, headers(("ETag" = String))),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such org", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale `version`", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown or repeated kind, per_period out of range", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No version given", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/orgs/{id}/meeting-rules")]
pub async fn put_meeting_rules(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<i64>,
    body: ApiJson<PutMeetingRules>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let b = body.0;
    let (expected, via_header) = expected_version(&req, b.version)?;
    let mut conn = db::conn(&state.pool).await?;
    let rules = conn
        .transaction::<_, AppError, _>(async move |conn| {
            org_queries::get_row(conn, id).await?.ok_or_else(org_not_found)?;
            super::access::check_manage(conn, &actor, id).await?;
            // The settings row is the lock (and the version) of the org's own rules; version 0
            // stands for "none saved yet".
            diesel::insert_into(org_life_settings::table)
                .values((org_life_settings::org_id.eq(id), org_life_settings::version.eq(0)))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            let current: i32 = org_life_settings::table.find(id).select(org_life_settings::version).for_update().first(conn).await?;
            if current != expected {
                return Err(AppError::stale(via_header));
            }
            let known: HashSet<String> = meeting_kinds::table.select(meeting_kinds::code).load::<String>(conn).await?.into_iter().collect();
            let mut errors = Vec::new();
            let mut seen = HashSet::new();
            for (i, r) in b.rules.iter().enumerate() {
                if !known.contains(&r.kind) {
                    errors.push(FieldError::new(format!("rules[{i}].kind"), "unknown_kind", format!("no meeting kind {:?}", r.kind), "没有这种会议类型"));
                } else if !seen.insert(r.kind.as_str()) {
                    errors.push(FieldError::new(format!("rules[{i}].kind"), "duplicate", "this kind is listed twice", "该会议类型重复"));
                }
                if !(1..=31).contains(&r.per_period.unwrap_or(1)) {
                    errors.push(FieldError::new(format!("rules[{i}].per_period"), "out_of_range", "per_period must be 1 to 31", "每周期次数须在 1 到 31 之间"));
                }
            }
            if !errors.is_empty() {
                return Err(AppError::validation(errors));
            }
            let before = own_settings(conn, id).await?;
            diesel::delete(org_meeting_rules::table.filter(org_meeting_rules::org_id.eq(id))).execute(conn).await?;
            for r in &b.rules {
                diesel::insert_into(org_meeting_rules::table)
                    .values((
                        org_meeting_rules::org_id.eq(id),
                        org_meeting_rules::kind.eq(&r.kind),
                        org_meeting_rules::frequency.eq(r.frequency.as_str()),
                        org_meeting_rules::per_period.eq(r.per_period.unwrap_or(1)),
                    ))
                    .execute(conn)
                    .await?;
            }
            diesel::update(org_life_settings::table.find(id))
                .set((
                    org_life_settings::has_committee.eq(b.has_committee),
                    org_life_settings::version.eq(org_life_settings::version + 1),
                    org_life_settings::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            let after = own_settings(conn, id).await?;
            audit::record(conn, By::from(&actor), "update", "meeting_rules", Some(id), Some(&before), Some(&after)).await?;
            meeting_rules(conn, id).await
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), rules.version, &rules))
}

// ---------------------------------------------------------------------------------------------
// Officers

/// An officer's post (支部工作条例 art. 17: a committee of 3-5, at most 7, with a secretary and
/// possibly a deputy; a branch without a committee has a secretary and maybe a deputy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfficerPost {
    Secretary,
    DeputySecretary,
    CommitteeMember,
}

impl OfficerPost {
    pub fn as_str(self) -> &'static str {
        match self {
            OfficerPost::Secretary => "secretary",
            OfficerPost::DeputySecretary => "deputy_secretary",
            OfficerPost::CommitteeMember => "committee_member",
        }
    }

    pub fn parse(s: &str) -> Option<OfficerPost> {
        [OfficerPost::Secretary, OfficerPost::DeputySecretary, OfficerPost::CommitteeMember].into_iter().find(|p| p.as_str() == s)
    }
}

/// A current officer of an org.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": 4, "org_id": 3, "person_id": 101, "name": "张三", "post": "secretary", "since": "2025-01-10", "until": null}))]
pub struct Officer {
    pub id: i64,
    pub org_id: i64,
    pub person_id: i64,
    pub name: String,
    pub post: OfficerPost,
    pub since: NaiveDate,
    pub until: Option<NaiveDate>,
}

/// One officer of the new set.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficerInput {
    pub person_id: i64,
    pub post: OfficerPost,
    /// Default today.
    pub since: Option<NaiveDate>,
}

/// The org's officers from now on (replaces the current set).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"officers": [{"person_id": 1, "post": "secretary"}, {"person_id": 2, "post": "committee_member", "since": "2026-01-05"}], "read_ids": [1, 2, 3]}))]
pub struct PutOfficers {
    pub officers: Vec<OfficerInput>,
    /// The `id`s of the officers as you read them (GET): when someone changed the set since, the
    /// replacement is refused with 409 `stale_version` instead of silently undoing their change.
    /// Leave it out only where no one else edits the set (a first setup script).
    #[schema(example = json!([31, 32]))]
    pub read_ids: Option<Vec<i64>>,
}

/// An officer's row with the person's name.
#[derive(Queryable)]
struct OfficerRow {
    id: i64,
    org_id: i64,
    person_id: i64,
    name: String,
    post: String,
    since: NaiveDate,
    until: Option<NaiveDate>,
}

/// The current officers of an org (secretary first).
pub async fn current_officers(conn: &mut AsyncPgConnection, org_id: i64) -> Result<Vec<Officer>, AppError> {
    let rows: Vec<OfficerRow> = org_officers::table
        .inner_join(people::table.on(people::id.eq(org_officers::person_id)))
        .filter(org_officers::org_id.eq(org_id))
        .filter(org_officers::until.is_null())
        .select((org_officers::id, org_officers::org_id, org_officers::person_id, people::name, org_officers::post, org_officers::since, org_officers::until))
        .load(conn)
        .await?;
    let mut out: Vec<Officer> = rows
        .into_iter()
        .filter_map(|r| {
            Some(Officer {
                id: r.id,
                org_id: r.org_id,
                person_id: r.person_id,
                name: r.name,
                post: OfficerPost::parse(&r.post)?,
                since: r.since,
                until: r.until,
            })
        })
        .collect();
    out.sort_by_key(|o| (o.post as u8, o.id));
    Ok(out)
}

/// The officers of an org now in post (until null).
#[utoipa::path(
    tag = "meetings",
    params(("id" = i64, Path, description = "Org id", example = 3)),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The officers", body = Vec<Officer>),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such org", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/orgs/{id}/officers")]
pub async fn get_officers(state: web::Data<AppState>, actor: Actor, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let mut conn = db::conn(&state.pool).await?;
    org_queries::get_row(&mut conn, id).await?.ok_or_else(org_not_found)?;
    if !org_queries::readable(&mut conn, &actor.scope(), id).await? {
        return Err(AppError::out_of_scope());
    }
    Ok(HttpResponse::Ok().json(current_officers(&mut conn, id).await?))
}

/// Of `person_ids`, those who are members (not left, not deceased) of the org itself or of its
/// party groups.
async fn members_of(conn: &mut AsyncPgConnection, org_id: i64, person_ids: &[i64]) -> Result<HashSet<i64>, AppError> {
    use diesel::sql_types::{Array, BigInt};
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        person_id: i64,
    }
    let rows: Vec<Id> = diesel::sql_query(
        "SELECT m.person_id FROM members m
           JOIN org_closure c ON c.descendant_id = m.org_id
           JOIN orgs o ON o.id = m.org_id
          WHERE c.ancestor_id = $1 AND (c.depth = 0 OR o.kind = 'group')
            AND m.status NOT IN ('left', 'deceased') AND m.person_id = ANY($2)",
    )
    .bind::<BigInt, _>(org_id)
    .bind::<Array<BigInt>, _>(person_ids)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.person_id).collect())
}

/// Replace the org's officers: those no longer listed leave office today, those listed with the
/// same post stay as they are, new ones start on `since` (default today). Each must be a member
/// of the org or its party groups; at most one secretary.
#[utoipa::path(
    tag = "meetings",
    params(("id" = i64, Path, description = "Org id", example = 3)),
    request_body = PutOfficers,
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The officers now in post", body = Vec<Officer>),
        (status = 403, description = "Outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such org", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The officers changed since you read them (`read_ids`): stale_version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a member of the org, listed twice, or two secretaries", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/orgs/{id}/officers")]
pub async fn put_officers(state: web::Data<AppState>, actor: Actor, id: web::Path<i64>, body: ApiJson<PutOfficers>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let PutOfficers { officers: list, read_ids } = body.0;
    let today = state.config.clock.today();
    let mut conn = db::conn(&state.pool).await?;
    let officers = conn
        .transaction::<_, AppError, _>(async move |conn| {
            // The org row is the lock: two replacements of the same set run one after the other.
            crate::schema::orgs::table.find(id).select(crate::schema::orgs::id).for_update().first::<i64>(conn).await.optional()?.ok_or_else(org_not_found)?;
            super::access::check_manage(conn, &actor, id).await?;
            let ids: Vec<i64> = list.iter().map(|o| o.person_id).collect();
            let members = members_of(conn, id, &ids).await?;
            let mut errors = Vec::new();
            let mut seen = HashSet::new();
            let mut secretaries = 0;
            for (i, o) in list.iter().enumerate() {
                if !members.contains(&o.person_id) {
                    errors.push(FieldError::new(
                        format!("officers[{i}].person_id"),
                        "not_a_member",
                        "not a member of this organization or its party groups",
                        "此人不是本组织（或其党小组）的党员",
                    ));
                } else if !seen.insert(o.person_id) {
                    errors.push(FieldError::new(format!("officers[{i}].person_id"), "duplicate", "this person is listed twice", "此人重复出现"));
                }
                if o.post == OfficerPost::Secretary {
                    secretaries += 1;
                    if secretaries > 1 {
                        errors.push(FieldError::new(
                            format!("officers[{i}].post"),
                            "one_secretary",
                            "an organization has one secretary",
                            "一个组织只能有一名书记",
                        ));
                    }
                }
                if o.since.is_some_and(|s| s > today) {
                    errors.push(FieldError::new(format!("officers[{i}].since"), "in_future", "since cannot be in the future", "任职日期不能晚于今天"));
                }
            }
            if !errors.is_empty() {
                return Err(AppError::validation(errors));
            }
            let before = current_officers(conn, id).await?;
            if let Some(mut read) = read_ids {
                let mut now: Vec<i64> = before.iter().map(|o| o.id).collect();
                read.sort_unstable();
                now.sort_unstable();
                if read != now {
                    return Err(AppError::stale(false));
                }
            }
            // Those no longer listed (or listed with another post) leave office today.
            for old in &before {
                if !list.iter().any(|o| o.person_id == old.person_id && o.post == old.post) {
                    diesel::update(org_officers::table.find(old.id)).set(org_officers::until.eq(today.max(old.since))).execute(conn).await?;
                }
            }
            for o in &list {
                if !before.iter().any(|old| old.person_id == o.person_id && old.post == o.post) {
                    diesel::insert_into(org_officers::table)
                        .values((
                            org_officers::org_id.eq(id),
                            org_officers::person_id.eq(o.person_id),
                            org_officers::post.eq(o.post.as_str()),
                            org_officers::since.eq(o.since.unwrap_or(today)),
                        ))
                        .execute(conn)
                        .await?;
                }
            }
            let after = current_officers(conn, id).await?;
            audit::record(conn, By::from(&actor), "update", "org_officers", Some(id), Some(&before), Some(&after)).await?;
            Ok(after)
        })
        .await?;
    Ok(HttpResponse::Ok().json(officers))
}
