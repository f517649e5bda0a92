//! Master-data sync for scripts: `PUT /sync/orgs` and `PUT /sync/members` take a batch (up to
//! [`MAX_ITEMS`]) of records keyed by `external_id` (外部编号) and upsert it in one transaction.
//!
//! - The answer lists the external ids created, updated and unchanged, and the items rejected
//!   (with their index and the fields at fault).
//! - A rejected item blocks the batch by default: 422 (or 403 when an item lies outside the
//!   caller's scope) listing every problem, and nothing is written. `?partial=true` applies the
//!   valid items and answers 200 with the rejected ones listed.
//! - `Idempotency-Key: <key>`: the first successful answer is stored for 24 hours with a hash of
//!   the request; a retry with the same key and body answers it again (`Idempotent-Replayed:
//!   true`) without applying anything, and the same key with another body is refused (422
//!   `idempotency_key_reused`). Refused batches are not stored: nothing was written, so a retry
//!   is checked afresh.
//! - Every write is audited with the action `sync`.

pub mod idempotency;
pub mod members;
pub mod orgs;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{AppError, AppResult, FieldError, deserialize_problem_at};
use crate::{AppState, db};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(orgs::sync_orgs).service(members::sync_members);
}

/// Items per batch.
pub const MAX_ITEMS: usize = 5_000;
/// Bytes per request body (5,000 member records are about 3 MB).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// What happened to a batch.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(example = json!({
    "created": ["HR-004211"], "updated": ["HR-004212"], "unchanged": ["HR-004213"],
    "rejected": [{"external_id": "HR-004214", "index": 3, "errors": [{"field": "id_number", "code": "id_number_checksum",
        "message": "the citizen ID number's check digit is wrong", "message_zh": "公民身份号码校验位错误"}]}]
}))]
pub struct SyncReport {
    /// External ids of the records created.
    pub created: Vec<String>,
    /// External ids of the records changed.
    pub updated: Vec<String>,
    /// External ids of the records already as sent.
    pub unchanged: Vec<String>,
    /// Items not applied, with the reasons (only with `partial=true` in a 200 answer).
    pub rejected: Vec<Rejected>,
    /// Orgs sync with `mode=full`: external ids of the orgs marked dissolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dissolved: Option<Vec<String>>,
}

/// An item that was not applied.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rejected {
    /// The item's external_id, when it had one.
    pub external_id: Option<String>,
    /// The item's position in `items`, from 0.
    pub index: usize,
    pub errors: Vec<FieldError>,
}

/// The outcome of one item that was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Unchanged,
}

impl SyncReport {
    pub fn push(&mut self, external_id: String, change: Change) {
        match change {
            Change::Created => self.created.push(external_id),
            Change::Updated => self.updated.push(external_id),
            Change::Unchanged => self.unchanged.push(external_id),
        }
    }

    pub fn reject(&mut self, index: usize, external_id: Option<String>, errors: Vec<FieldError>) {
        self.rejected.push(Rejected { external_id, index, errors });
    }
}

/// Why a transaction ended without committing.
pub enum TxError {
    App(AppError),
    /// Items were rejected and the batch is not partial: roll back, answer the report.
    Rejected(SyncReport),
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        TxError::App(e.into())
    }
}

impl From<AppError> for TxError {
    fn from(e: AppError) -> Self {
        TxError::App(e)
    }
}

/// A transaction's successful end: a fresh answer, or one replayed for an Idempotency-Key.
pub enum Outcome {
    Fresh(Value),
    Replay(u16, Value),
}

/// The field errors of an item's failure. Errors of the server (5xx) are not an item's fault:
/// they end the request. `scope_field` names the field that put the item out of scope.
pub fn item_errors(e: AppError, scope_field: &str) -> Result<Vec<FieldError>, AppError> {
    if e.status.is_server_error() {
        return Err(e);
    }
    if !e.fields.is_empty() {
        return Ok(e.fields);
    }
    let (en, zh) = e.detail.clone().unwrap_or_else(|| (e.title.to_string(), e.title_zh.to_string()));
    let field = if e.code == "out_of_scope" || e.code == "forbidden" { scope_field } else { "" };
    let code = if e.code == "forbidden" { "out_of_scope" } else { e.code };
    Ok(vec![FieldError::new(field, code, en, zh)])
}

/// Reads a JSON body of up to [`MAX_BODY`] bytes.
pub async fn read_body(req: &HttpRequest, payload: web::Payload) -> Result<web::Bytes, AppError> {
    let mb = MAX_BODY / 1024 / 1024;
    crate::http::read_json_body(req, payload, MAX_BODY, || too_large(format!("the body is over {mb} MB"), format!("请求体超过 {mb} MB"))).await
}

fn too_large(en: String, zh: String) -> AppError {
    AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "batch_too_large", "The batch is too large", "批次过大").with_detail(en, zh)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch {
    items: Vec<Value>,
}

/// The batch's items, each still as JSON (so a bad item is reported with its index, not as a
/// malformed body); more than [`MAX_ITEMS`] answers 413.
pub fn parse_items(body: &[u8]) -> Result<Vec<Value>, AppError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let batch: Batch = serde_path_to_error::deserialize(de).map_err(|e| deserialize_problem_at(&e.path().to_string(), &e.inner().to_string()))?;
    crate::http::check_json_text(body)?;
    if batch.items.len() > MAX_ITEMS {
        return Err(too_large(
            format!("{} items: send at most {MAX_ITEMS} per batch", batch.items.len()),
            format!("共 {} 条：每批最多 {MAX_ITEMS} 条", batch.items.len()),
        ));
    }
    Ok(batch.items)
}

/// What a sync does with a batch inside the request's transaction.
pub type Apply = dyn for<'c> FnOnce(&'c mut AsyncPgConnection, &'c [Value]) -> BoxFuture<'c, Result<SyncReport, AppError>> + Send;

/// The shape every sync request shares, in one transaction: an `Idempotency-Key` already
/// answered is replayed; else `apply` runs, a rejected item rolls the batch back unless
/// `partial`, and the fresh answer is stored under the key.
pub async fn run_batch(
    state: &AppState,
    account_id: i64,
    idem: Option<idempotency::Key>,
    items: Vec<Value>,
    partial: bool,
    apply: Box<Apply>,
) -> AppResult<HttpResponse> {
    let total = items.len();
    let mut conn = db::conn(&state.pool).await?;
    let out = conn
        .transaction::<_, TxError, _>(async move |conn| {
            if let Some(k) = &idem
                && let Some(stored) = idempotency::lookup(conn, account_id, k).await?
            {
                return Ok(stored);
            }
            let report = apply(conn, &items).await?;
            if !report.rejected.is_empty() && !partial {
                return Err(TxError::Rejected(report));
            }
            let body = serde_json::to_value(&report).map_err(|e| AppError::internal(e.to_string()))?;
            if let Some(k) = &idem {
                idempotency::store(conn, account_id, k, 200, &body).await?;
            }
            Ok(Outcome::Fresh(body))
        })
        .await;
    respond(out, total)
}

/// The answer of a sync transaction.
fn respond(out: Result<Outcome, TxError>, total: usize) -> Result<HttpResponse, AppError> {
    match out {
        Ok(Outcome::Fresh(body)) => Ok(HttpResponse::Ok().json(body)),
        Ok(Outcome::Replay(status, body)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            Ok(HttpResponse::build(status).insert_header(("Idempotent-Replayed", HeaderValue::from_static("true"))).json(body))
        }
        Err(TxError::App(e)) => Err(e),
        Err(TxError::Rejected(report)) => Ok(rejected_response(&report, total)),
    }
}

/// 422 (or 403 when an item is outside the caller's scope): every problem, by item, and nothing
/// written. The problem document carries `rejected` as in the 200 answer, and `errors` with each
/// field as `items[i].field`.
fn rejected_response(report: &SyncReport, total: usize) -> HttpResponse {
    let out_of_scope = report.rejected.iter().any(|r| r.errors.iter().any(|e| e.code == "out_of_scope"));
    let n = report.rejected.len();
    let base = if out_of_scope {
        AppError::out_of_scope().with_detail(
            format!("{n} of {total} items are invalid or outside your scope; nothing was written"),
            format!("{total} 条中有 {n} 条有误或超出管理范围，未写入任何数据"),
        )
    } else {
        AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "batch_rejected", "Some items are invalid; nothing was written", "部分记录有误，未写入任何数据")
            .with_detail(
                format!("{n} of {total} items are invalid; nothing was written (fix them, or send ?partial=true to apply the valid ones)"),
                format!("{total} 条中有 {n} 条有误，未写入任何数据（请修正，或使用 ?partial=true 只写入正确的记录）"),
            )
    };
    let mut problem = base.problem();
    problem.errors = report
        .rejected
        .iter()
        .flat_map(|r| {
            r.errors.iter().map(move |e| {
                let field = if e.field.is_empty() { format!("items[{}]", r.index) } else { format!("items[{}].{}", r.index, e.field) };
                FieldError { field, ..e.clone() }
            })
        })
        .collect();
    let mut body = serde_json::to_value(&problem).unwrap_or(Value::Null);
    if let Some(obj) = body.as_object_mut() {
        obj.insert("rejected".into(), serde_json::to_value(&report.rejected).unwrap_or(Value::Null));
    }
    HttpResponse::build(base.status).insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"))).body(body.to_string())
}

/// A trimmed, non-empty string field of an item.
pub fn text_field(item: &Value, name: &str) -> Option<String> {
    item.get(name).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// The item's external_id: required, 1-64 characters.
pub fn external_id_of(item: &Value) -> Result<String, FieldError> {
    match item.get("external_id") {
        Some(Value::String(s)) if !s.trim().is_empty() && s.trim().chars().count() <= 64 => Ok(s.trim().to_string()),
        Some(Value::String(s)) if !s.trim().is_empty() => Err(FieldError::new("external_id", "too_long", "at most 64 characters", "不超过 64 个字符")),
        _ => Err(FieldError::new("external_id", "required", "every item needs its external_id (a text)", "每条记录都须有外部编号 external_id（文本）")),
    }
}
