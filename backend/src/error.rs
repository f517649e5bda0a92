//! One error type for the whole API, answered as RFC 9457 `application/problem+json`.
//!
//! Every problem has a stable `code` that the SPA translates, an English `title`/`detail` and
//! their zh-CN twins, and for validation failures the list of fields at fault. Unexpected errors
//! are logged with their cause and answered with a generic 500 that reveals nothing internal.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

/// A field that failed validation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    /// The JSON name of the field (for nested input, a dotted path).
    #[schema(example = "id_number")]
    pub field: String,
    /// Stable machine-readable reason.
    #[schema(example = "id_number_checksum")]
    pub code: Cow<'static, str>,
    #[schema(example = "the citizen ID number's check digit is wrong")]
    pub message: String,
    #[schema(example = "公民身份号码校验位错误")]
    pub message_zh: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<Cow<'static, str>>, en: impl Into<String>, zh: impl Into<String>) -> Self {
        FieldError { field: field.into(), code: code.into(), message: en.into(), message_zh: zh.into() }
    }
}

/// The problem document (RFC 9457) every error answers with.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:dangjian:problem:validation_failed",
    "title": "Some fields are invalid",
    "title_zh": "部分字段填写有误",
    "status": 422,
    "code": "validation_failed",
    "detail": "id_number: the citizen ID number's check digit is wrong",
    "detail_zh": "id_number：公民身份号码校验位错误",
    "errors": [{"field": "id_number", "code": "id_number_checksum",
                "message": "the citizen ID number's check digit is wrong", "message_zh": "公民身份号码校验位错误"}]
}))]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub title_zh: String,
    pub status: u16,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail_zh: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub title_zh: &'static str,
    pub detail: Option<(String, String)>,
    pub fields: Vec<FieldError>,
    /// Seconds to wait before retrying (429, throttled logins).
    pub retry_after: Option<i64>,
    /// Logged, never sent.
    pub internal: Option<String>,
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.code)?;
        if let Some((en, _)) = &self.detail {
            write!(f, ": {en}")?;
        }
        if let Some(internal) = &self.internal {
            write!(f, " ({internal})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AppError {}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, title: &'static str, title_zh: &'static str) -> Self {
        AppError { status, code, title, title_zh, detail: None, fields: Vec::new(), retry_after: None, internal: None }
    }

    pub fn with_detail(mut self, en: impl Into<String>, zh: impl Into<String>) -> Self {
        self.detail = Some((en.into(), zh.into()));
        self
    }

    pub fn bad_request(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", "The request is malformed", "请求格式错误").with_detail(en, zh)
    }

    pub fn unauthorized(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, "Authentication required", "需要登录").with_detail(en, zh)
    }

    pub fn forbidden(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed", "无权操作").with_detail(en, zh)
    }

    pub fn out_of_scope() -> Self {
        Self::new(StatusCode::FORBIDDEN, "out_of_scope", "Outside your organization scope", "超出您的组织管理范围")
            .with_detail("this record belongs to an organization outside the scope of your role", "该记录属于您当前角色管理范围之外的组织")
    }

    pub fn not_found(entity_en: &str, entity_zh: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found", "未找到").with_detail(format!("no such {entity_en}"), format!("{entity_zh}不存在"))
    }

    pub fn conflict(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, "Conflict", "操作冲突").with_detail(en, zh)
    }

    /// The record changed since the client read it (optimistic concurrency).
    pub fn stale(with_if_match: bool) -> Self {
        let status = if with_if_match { StatusCode::PRECONDITION_FAILED } else { StatusCode::CONFLICT };
        Self::new(status, "stale_version", "The record was changed by someone else", "记录已被他人修改").with_detail(
            "someone else changed this record after you read it; reload it and apply your change again",
            "您读取之后，他人修改了这条记录；请重新加载后再修改",
        )
    }

    pub fn validation(fields: Vec<FieldError>) -> Self {
        let en = fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ");
        let zh = fields.iter().map(|f| format!("{}：{}", f.field, f.message_zh)).collect::<Vec<_>>().join("；");
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "Some fields are invalid", "部分字段填写有误").with_detail(en, zh);
        e.fields = fields;
        e
    }

    pub fn field(field: &str, code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, code, en, zh)])
    }

    pub fn internal(cause: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal server error", "服务器内部错误")
            .with_detail("the server failed; the error was logged", "服务器出错，已记录日志");
        e.internal = Some(cause.into());
        e
    }

    pub fn unavailable(cause: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Service unavailable", "服务暂不可用")
            .with_detail("the database cannot be reached; try again shortly", "数据库暂时无法连接，请稍后再试");
        e.internal = Some(cause.into());
        e
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: format!("urn:dangjian:problem:{}", self.code),
            title: self.title.to_string(),
            title_zh: self.title_zh.to_string(),
            status: self.status.as_u16(),
            code: self.code.to_string(),
            detail: self.detail.as_ref().map(|d| d.0.clone()),
            detail_zh: self.detail.as_ref().map(|d| d.1.clone()),
            errors: self.fields.clone(),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            log::error!("{self}");
        } else if let Some(internal) = &self.internal {
            log::debug!("{} {}: {internal}", self.status, self.code);
        }
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json")));
        // Also when a middleware answers the problem (app::security_headers does not see it).
        let mut security = header::HeaderMap::new();
        crate::app::add_security_headers(&mut security, true);
        for (name, value) in security {
            res.insert_header((name, value));
        }
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.max(1).to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        res.json(self.problem())
    }
}

/// Unique and foreign-key violations are the client's doing (a duplicate code, a missing parent);
/// they map to 409/422 naming the constraint's field. Everything else is a server fault.
impl From<DieselError> for AppError {
    fn from(e: DieselError) -> Self {
        match &e {
            DieselError::NotFound => AppError::not_found("record", "记录"),
            DieselError::DatabaseError(kind, info) => {
                let constraint = info.constraint_name().unwrap_or_default();
                match kind {
                    DatabaseErrorKind::UniqueViolation => unique_violation(constraint),
                    DatabaseErrorKind::ForeignKeyViolation => AppError::conflict(
                        "referenced",
                        format!("the record is referenced by or refers to another record ({constraint})"),
                        format!("该记录与其他记录存在引用关系（{constraint}）"),
                    ),
                    // A trigger's refusal in the schema's convention (migration
                    // 2026-12-07-020000_refusal_texts): the constraint is the problem's code, the
                    // message English, the hint Chinese, the column the field at fault if any.
                    DatabaseErrorKind::CheckViolation if info.hint().is_some() => {
                        let (code, en, zh) = (intern(constraint), info.message().to_string(), info.hint().unwrap_or_default().to_string());
                        match info.column_name() {
                            Some(column) => AppError::field(column, code, en, zh),
                            None => AppError::conflict(code, en, zh),
                        }
                    }
                    DatabaseErrorKind::CheckViolation => AppError::conflict(
                        "constraint_violated",
                        format!("the change breaks a rule of the data ({constraint})"),
                        format!("该修改违反数据规则（{constraint}）"),
                    ),
                    DatabaseErrorKind::SerializationFailure => AppError::conflict("retry", "a concurrent change interfered; try again", "并发修改冲突，请重试"),
                    _ => AppError::internal(e.to_string()),
                }
            }
            _ => AppError::internal(e.to_string()),
        }
    }
}

/// A constraint's name as a problem code. The names come from the schema, a small fixed set, so
/// each is leaked once and kept; the set never grows past the schema's.
fn intern(name: &str) -> &'static str {
    static NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let Ok(mut names) = NAMES.lock() else { return "constraint_violated" };
    if let Some(known) = names.iter().find(|n| **n == name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.push(leaked);
    leaked
}

fn unique_violation(constraint: &str) -> AppError {
    let (field, en, zh) = match constraint {
        "people_external_id_key" => ("external_id", "another person already has this external id", "该外部编号已被其他人员使用"),
        "orgs_external_id_key" => ("external_id", "another organization already has this external id", "该外部编号已被其他组织使用"),
        "orgs_code_key" => ("code", "another organization already uses this code", "组织编码已被其他组织使用"),
        "people_id_number_hash_key" => ("id_number", "another person already has this citizen ID number", "该公民身份号码已登记给其他人"),
        "accounts_username_key" => ("username", "this username is taken", "该用户名已被使用"),
        "accounts_person_id_key" => ("person_id", "this person already has an account", "此人已有账号"),
        "members_pkey" => ("person_id", "this person is already a member", "此人已是党员"),
        _ => ("", "the record duplicates an existing one", "与已有记录重复"),
    };
    let mut e = AppError::conflict("duplicate", en, zh);
    if !field.is_empty() {
        e.fields = vec![FieldError::new(field, "duplicate", en, zh)];
    }
    e
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for AppError {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        // Every connection busy for the whole wait (db::pool): the client may try again in a
        // moment, as Retry-After says.
        let mut problem = AppError::unavailable(e.to_string());
        problem.retry_after = Some(1);
        problem
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::internal(format!("blocking task failed: {e}"))
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Turns actix's extractor failures (bad JSON, bad query string, bad path) into problems that
/// name the field serde complained about.
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let e = match &err {
        J::Deserialize(de) => deserialize_problem(&de.to_string()),
        J::ContentType => AppError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Send JSON", "请发送 JSON")
            .with_detail("the body must be application/json", "请求体必须是 application/json"),
        J::OverflowKnownLength { .. } | J::Overflow { .. } => {
            AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "Request too large", "请求体过大")
        }
        other => AppError::bad_request(other.to_string(), "请求体无法解析"),
    };
    e.into()
}

pub fn query_error(err: actix_web::error::QueryPayloadError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    deserialize_problem(&err.to_string()).into()
}

/// A path segment that does not deserialize (integer ids are already checked against their
/// documented bounds by the route policy; this catches any other typed segment): 400 naming it.
pub fn path_error(err: actix_web::error::PathError, req: &actix_web::HttpRequest) -> actix_web::Error {
    let msg = err.to_string();
    // serde's message quotes the value ("can not parse \"abc\" to a i64"): name its segment.
    let field = req.match_info().iter().find(|(_, v)| msg.contains(&format!("\"{v}\""))).map_or("path", |(k, _)| k).to_string();
    let mut e = AppError::validation(vec![FieldError::new(field, "invalid_format", format!("bad path parameter: {msg}"), "路径参数格式错误")]);
    e.status = StatusCode::BAD_REQUEST;
    e.into()
}

/// serde's messages name the field ("unknown field `foo`", "invalid type ... for field `bar`",
/// "missing field `baz`"); surface that name so the SPA can put the message beside the field.
fn deserialize_problem(msg: &str) -> AppError {
    deserialize_problem_at("", msg)
}

/// A body or query that does not deserialize: 400, naming the field at fault.
pub fn deserialize_problem_at(field: &str, msg: &str) -> AppError {
    let at = if field.is_empty() || field == "." { "" } else { field };
    // For a missing or unknown field the path stops at the enclosing object; the name is in the message.
    let named = if msg.starts_with("missing field") || msg.starts_with("unknown field") { msg.split('`').nth(1) } else { None };
    let joined = match (at, named) {
        ("", Some(n)) => n.to_string(),
        // serde_path_to_error already ends the path of an unknown field with its name.
        (a, Some(n)) if a == n || a.ends_with(&format!(".{n}")) => a.to_string(),
        (a, Some(n)) => format!("{a}.{n}"),
        ("", None) => "body".to_string(),
        (a, None) => a.to_string(),
    };
    let field = joined.as_str();
    let (code, zh) = if msg.starts_with("missing field") {
        ("required", "必填")
    } else if msg.starts_with("unknown field") {
        ("unknown_field", "不认识的字段")
    } else {
        ("invalid_format", "格式不正确")
    };
    let mut e = AppError::validation(vec![FieldError::new(field, code, msg.to_string(), zh)]);
    e.status = StatusCode::BAD_REQUEST;
    e
}
