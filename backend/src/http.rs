//! Request and response plumbing shared by the domain modules: JSON bodies that name the field
//! at fault, optimistic-concurrency headers, pagination.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, web};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{AppError, deserialize_problem_at};

/// Largest JSON body accepted; rosters arrive by upload, not in JSON.
const JSON_LIMIT: usize = 256 * 1024;

/// A JSON body deserialized with the path of the offending field kept, so that
/// `{"birth_date": "1990-13-01"}` answers a problem naming `birth_date`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json") || ct.contains("+json"));
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(AppError::new(
                    actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "Send JSON",
                    "请发送 JSON",
                )
                .with_detail("the body must be application/json", "请求体必须是 application/json")
                .into());
            }
            let bytes = bytes.await?;
            if bytes.len() > JSON_LIMIT {
                return Err(AppError::bad_request("the body is too large", "请求体过大").into());
            }
            let de = &mut serde_json::Deserializer::from_slice(&bytes);
            match serde_path_to_error::deserialize::<_, T>(de) {
                Ok(v) => Ok(ApiJson(v)),
                Err(e) => {
                    let path = e.path().to_string();
                    Err(deserialize_problem_at(&path, &e.inner().to_string()).into())
                }
            }
        })
    }
}

/// Query parameters deserialized with the name of the offending parameter kept, so that
/// `?gender=x` answers a problem naming `gender`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(req.query_string()));
        std::future::ready(match serde_path_to_error::deserialize::<_, T>(de) {
            Ok(v) => Ok(ApiQuery(v)),
            Err(e) => {
                let path = e.path().to_string();
                Err(deserialize_problem_at(&path, &e.inner().to_string()).into())
            }
        })
    }
}

impl<T> std::ops::Deref for ApiQuery<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

fn form_urlencoded_parse(q: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(q.as_bytes())
}

/// The version a client read, from `If-Match: "3"` (or `W/"3"`). `None` when absent.
pub fn if_match(req: &HttpRequest) -> Result<Option<i32>, AppError> {
    let Some(v) = req.headers().get(header::IF_MATCH) else { return Ok(None) };
    let text = v.to_str().unwrap_or_default().trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse::<i32>().map(Some).map_err(|_| {
        AppError::bad_request(
            format!("If-Match must be an ETag this API gave out, like \"3\"; got {text:?}"),
            "If-Match 必须是本接口返回的 ETag，例如 \"3\"",
        )
    })
}

/// The version a write is based on: `If-Match` wins over a `version` in the body; one is required
/// so that a stale edit can never silently overwrite a newer one.
pub fn expected_version(req: &HttpRequest, body_version: Option<i32>) -> Result<(i32, bool), AppError> {
    match (if_match(req)?, body_version) {
        (Some(v), _) => Ok((v, true)),
        (None, Some(v)) => Ok((v, false)),
        (None, None) => Err(AppError::new(
            actix_web::http::StatusCode::PRECONDITION_REQUIRED,
            "version_required",
            "State which version you are changing",
            "请说明所修改记录的版本",
        )
        .with_detail(
            "send If-Match with the ETag you read, or the record's `version` in the body",
            "请在 If-Match 头中带上读取时的 ETag，或在请求体中带上记录的 version",
        )),
    }
}

pub fn etag(version: i32) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// A JSON answer carrying the record's ETag.
pub fn with_etag<T: Serialize>(mut res: actix_web::HttpResponseBuilder, version: i32, body: &T) -> HttpResponse {
    res.insert_header((header::ETAG, etag(version)));
    res.json(body)
}

/// The client's address: the peer's, or what a trusted proxy forwarded (auth::client_addr).
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    crate::auth::client_addr::of(req)
}

#[derive(Debug, Clone, Copy, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-based page number.
    #[param(minimum = 1, example = 1)]
    pub page: Option<i64>,
    /// Rows per page, at most 200.
    #[param(minimum = 1, maximum = 200, example = 20)]
    pub page_size: Option<i64>,
}

impl PageParams {
    pub const MAX_SIZE: i64 = 200;

    pub fn resolve(page: Option<i64>, page_size: Option<i64>) -> Result<(i64, i64), AppError> {
        let page = page.unwrap_or(1);
        let size = page_size.unwrap_or(20);
        if page < 1 {
            return Err(AppError::field("page", "out_of_range", "page starts at 1", "页码从 1 开始"));
        }
        if !(1..=Self::MAX_SIZE).contains(&size) {
            return Err(AppError::field("page_size", "out_of_range", "page_size must be 1 to 200", "每页条数须在 1 到 200 之间"));
        }
        Ok((page, size))
    }
}

/// One page of a list, with the total for the pager.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    #[schema(example = 128)]
    pub total: i64,
    #[schema(example = 1)]
    pub page: i64,
    #[schema(example = 20)]
    pub page_size: i64,
}
