//! Request and response plumbing shared by the domain modules: JSON bodies that name the field
//! at fault, optimistic-concurrency headers, pagination.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, web};
use futures_util::Stream;
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
        let is_json = is_json(req);
        let payload = timed_body(payload.take(), body_idle_timeout(req));
        Box::pin(async move {
            let mut payload = std::pin::pin!(payload);
            if !is_json {
                return Err(unsupported_media_type("the body must be application/json", "请求体必须是 application/json").into());
            }
            // Read here rather than through web::Bytes, whose own limit answers actix's plain text.
            let mut bytes = web::BytesMut::new();
            while let Some(chunk) = futures_util::StreamExt::next(&mut payload).await {
                let chunk = chunk.map_err(body_error)?;
                if bytes.len() + chunk.len() > JSON_LIMIT {
                    return Err(payload_too_large(
                        format!("JSON bodies up to {} KB are accepted", JSON_LIMIT / 1024),
                        format!("请求体不能超过 {} KB", JSON_LIMIT / 1024),
                    )
                    .into());
                }
                bytes.extend_from_slice(&chunk);
            }
            // Before the types: a date out of the years is a 422 whether or not chrono reads it.
            check_json_text(&bytes)?;
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

/// How long a request body may pause between two of its chunks when nothing is set
/// (DANGJIAN_BODY_IDLE_SECS).
pub const DEFAULT_BODY_IDLE: Duration = Duration::from_secs(20);

/// The configured pause allowed between two chunks of a body.
pub fn body_idle_timeout(req: &HttpRequest) -> Duration {
    req.app_data::<web::Data<crate::AppState>>().map_or(DEFAULT_BODY_IDLE, |s| s.config.body_idle_timeout)
}

/// A request body that fails (408, [`body_error`]) when the client pauses longer than `idle`
/// between two chunks. Every reader of a body goes through it, and reads the body before it
/// takes a database connection: a client that announces 1,000 bytes, sends 20 and waits then
/// holds a socket for at most `idle`, and never a pooled connection (34 of them froze every
/// endpoint that needs the database).
pub fn timed_body(payload: Payload, idle: Duration) -> impl Stream<Item = Result<web::Bytes, PayloadError>> + 'static {
    let body = futures_util::stream::unfold(Some(payload), move |state| async move {
        let mut payload = state?;
        match tokio::time::timeout(idle, futures_util::StreamExt::next(&mut payload)).await {
            Ok(Some(item)) => Some((item, Some(payload))),
            Ok(None) => None,
            // The error, then the end: nothing more is read from this client.
            Err(_) => Some((Err(PayloadError::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, "the body stopped arriving"))), None)),
        }
    });
    // Ended for good: actix-multipart polls again after the end, which `unfold` alone panics on.
    futures_util::StreamExt::fuse(body)
}

/// A body that could not be read: 408 when the client stopped sending ([`timed_body`]), else 400.
pub fn body_error(e: PayloadError) -> AppError {
    match e {
        PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            AppError::new(actix_web::http::StatusCode::REQUEST_TIMEOUT, "body_timeout", "The request body stopped arriving", "请求体传输中断")
                .with_detail("the client paused too long while sending the body; send it again", "客户端发送请求体时停顿过久，请重新发送")
        }
        PayloadError::Overflow => payload_too_large("the body is larger than this operation takes", "请求体过大"),
        e => AppError::bad_request(format!("reading the body: {e}"), "读取请求体失败"),
    }
}

/// The `file` field of a multipart form: its name as sent (NULs removed; only a label) and its
/// bytes, refused with `too_large` past `max` bytes while it streams in, and with 408 when the
/// client stops sending ([`timed_body`]). 415 when the body is not multipart, 422 without a
/// `file` field.
pub async fn read_form_file(
    req: &HttpRequest,
    payload: web::Payload,
    max: usize,
    too_large: impl Fn() -> AppError,
) -> Result<(Option<String>, Vec<u8>), AppError> {
    use futures_util::TryStreamExt;
    require_multipart(req)?;
    let form_error = |e: actix_multipart::MultipartError| match e {
        actix_multipart::MultipartError::Payload(e) => body_error(e),
        _ => AppError::bad_request("send the file as multipart/form-data, field `file`", "请以 multipart/form-data 上传文件（字段名 file）"),
    };
    let body = timed_body(payload.into_inner(), body_idle_timeout(req));
    let mut form = actix_multipart::Multipart::new(req.headers(), body);
    while let Some(mut field) = form.try_next().await.map_err(form_error)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.content_disposition().and_then(|cd| cd.get_filename()).map(|n| n.replace('\0', ""));
        let mut bytes = Vec::new();
        while let Some(chunk) = field.try_next().await.map_err(form_error)? {
            if bytes.len() + chunk.len() > max {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok((name, bytes));
    }
    Err(AppError::field("file", "required", "send the file in the form field `file`", "请选择要上传的文件"))
}

/// A JSON body of at most `max` bytes, read with the body's idle timeout (415 when it is not
/// JSON, `too_large` past `max`): for handlers that parse the body themselves.
pub async fn read_json_body(req: &HttpRequest, payload: web::Payload, max: usize, too_large: impl Fn() -> AppError) -> Result<web::Bytes, AppError> {
    if !is_json(req) {
        return Err(unsupported_media_type("the body must be application/json", "请求体必须是 application/json"));
    }
    let mut body = std::pin::pin!(timed_body(payload.into_inner(), body_idle_timeout(req)));
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = futures_util::StreamExt::next(&mut body).await {
        let chunk = chunk.map_err(body_error)?;
        if bytes.len() + chunk.len() > max {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes.freeze())
}

/// Text may not hold NUL characters (`\u0000`): PostgreSQL stores none, in text or jsonb. A 400
/// naming the first field (or key) that has one, like any other value that does not parse.
pub fn reject_nul_in_json(bytes: &[u8]) -> Result<(), AppError> {
    // Only an escape can put a NUL in JSON text (a raw one is refused by the parser).
    if !bytes.windows(5).any(|w| w == b"u0000") {
        return Ok(());
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(value) => reject_nul_in_value(&value, ""),
        Err(_) => Ok(()),
    }
}

/// As [`reject_nul_in_json`], over a parsed value; `at` is the path of `value` (empty at the top).
pub fn reject_nul_in_value(value: &serde_json::Value, at: &str) -> Result<(), AppError> {
    use serde_json::Value;
    let join = |k: &str| if at.is_empty() { k.to_string() } else { format!("{at}.{k}") };
    match value {
        Value::String(s) if s.contains('\0') => Err(nul_problem(if at.is_empty() { "body" } else { at })),
        Value::Array(items) => items.iter().enumerate().try_for_each(|(i, v)| reject_nul_in_value(v, &format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            if k.contains('\0') {
                return Err(nul_problem(&join(&k.replace('\0', ""))));
            }
            reject_nul_in_value(v, &join(k))
        }),
        _ => Ok(()),
    }
}

/// The text values of a JSON body that every operation refuses: NUL characters (400,
/// [`reject_nul_in_json`]) and dates outside the years [`DATE_YEARS`] (422, [`date_out_of_range`]),
/// each naming the first field that has one.
pub fn check_json_text(bytes: &[u8]) -> Result<(), AppError> {
    reject_nul_in_json(bytes)?;
    if !may_hold_odd_year(bytes) {
        return Ok(());
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(value) => reject_dates_out_of_range(&value, ""),
        Err(_) => Ok(()),
    }
}

/// The years a date of the platform may have: no birth, joining, meeting or report lies outside
/// them, and a date far outside them (`-262143-01-01`, `+262142-12-31`) is more than PostgreSQL or
/// the date arithmetic of the statistics take.
pub const DATE_YEARS: std::ops::RangeInclusive<i64> = 1000..=9999;

/// Whether `s` is a date or a date-time (`YYYY-MM-DD`, then optionally `T` or a space and a time),
/// as chrono parses them, whose year lies outside [`DATE_YEARS`] (a sign, or other than four
/// digits, or a leading zero).
pub fn date_out_of_range(s: &str) -> bool {
    let b = s.as_bytes();
    let (negative, rest) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return false;
    }
    let tail = &rest[digits..];
    let two = |t: &[u8]| -> Option<u32> {
        match t {
            [a, b, ..] if a.is_ascii_digit() && b.is_ascii_digit() => Some(u32::from(a - b'0') * 10 + u32::from(b - b'0')),
            _ => None,
        }
    };
    let is_date = tail.first() == Some(&b'-')
        && two(&tail[1..]).is_some_and(|m| (1..=12).contains(&m))
        && tail.get(3) == Some(&b'-')
        && two(tail.get(4..).unwrap_or_default()).is_some_and(|d| (1..=31).contains(&d))
        && match tail.get(6) {
            None => true,
            Some(b'T' | b't' | b' ') => tail.get(7).is_some_and(u8::is_ascii_digit),
            Some(_) => false,
        };
    if !is_date {
        return false;
    }
    let year = std::str::from_utf8(&rest[..digits]).ok().and_then(|y| y.parse::<i64>().ok());
    negative || digits != 4 || !year.is_some_and(|y| DATE_YEARS.contains(&y))
}

/// Whether a JSON text may hold a date outside [`DATE_YEARS`]: some string starts with a sign,
/// or with a run of digits other than four (or with a zero) followed by `-`. Most bodies hold
/// none, and skip the second parse.
fn may_hold_odd_year(bytes: &[u8]) -> bool {
    bytes.iter().enumerate().filter(|(_, c)| **c == b'"').any(|(i, _)| {
        let rest = &bytes[i + 1..];
        match rest.first() {
            Some(b'-' | b'+') => true,
            Some(b'0') => true,
            _ => {
                let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
                digits > 0 && digits != 4 && rest.get(digits) == Some(&b'-')
            }
        }
    })
}

/// As [`check_json_text`] for dates, over a parsed value; `at` is the path of `value`.
pub fn reject_dates_out_of_range(value: &serde_json::Value, at: &str) -> Result<(), AppError> {
    use serde_json::Value;
    match value {
        Value::String(s) if date_out_of_range(s) => Err(date_problem(if at.is_empty() { "body" } else { at })),
        Value::Array(items) => items.iter().enumerate().try_for_each(|(i, v)| reject_dates_out_of_range(v, &format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| reject_dates_out_of_range(v, &if at.is_empty() { k.to_string() } else { format!("{at}.{k}") })),
        _ => Ok(()),
    }
}

/// 422 naming the field or parameter whose date lies outside [`DATE_YEARS`].
pub fn date_problem(field: &str) -> AppError {
    AppError::field(
        field,
        "out_of_range",
        format!("dates must lie in the years {} to {}", DATE_YEARS.start(), DATE_YEARS.end()),
        format!("日期的年份须在 {} 到 {} 之间", DATE_YEARS.start(), DATE_YEARS.end()),
    )
}

fn nul_problem(field: &str) -> AppError {
    deserialize_problem_at(field, "text may not contain NUL characters (\\u0000)")
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.starts_with("application/json") || ct.contains("+json"))
}

/// 415: the body is not of the type the operation takes.
pub fn unsupported_media_type(en: &str, zh: &str) -> AppError {
    AppError::new(actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Unsupported content type", "请求体类型不受支持")
        .with_detail(en, zh)
}

/// 413: the body is larger than the operation takes.
pub fn payload_too_large(en: impl Into<String>, zh: impl Into<String>) -> AppError {
    AppError::new(actix_web::http::StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "Request too large", "请求体过大").with_detail(en, zh)
}

/// An upload's form must be `multipart/form-data` (415 otherwise), before anything is read.
pub fn require_multipart(req: &HttpRequest) -> Result<(), AppError> {
    let ok = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    if ok {
        Ok(())
    } else {
        Err(unsupported_media_type("send the file as multipart/form-data, field `file`", "请以 multipart/form-data 上传文件（字段名 file）"))
    }
}

/// Query parameters deserialized with the name of the offending parameter kept, so that
/// `?gender=x` answers a problem naming `gender`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // A NUL in a parameter (`%00`) would reach PostgreSQL, which stores none: 400 naming it.
        if let Some((name, _)) = form_urlencoded_parse(req.query_string()).find(|(k, v)| k.contains('\0') || v.contains('\0')) {
            return std::future::ready(Err(nul_problem(&name.replace('\0', "")).into()));
        }
        // A date outside DATE_YEARS (`as_of=-262143-01-01`): 422 naming the parameter, whether
        // or not chrono reads it.
        if let Some((name, _)) = form_urlencoded_parse(req.query_string()).find(|(_, v)| date_out_of_range(v)) {
            return std::future::ready(Err(date_problem(&name).into()));
        }
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
        AppError::bad_request(format!("If-Match must be an ETag this API gave out, like \"3\"; got {text:?}"), "If-Match 必须是本接口返回的 ETag，例如 \"3\"")
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
    /// 1-based page number, at most 100000.
    #[param(minimum = 1, maximum = 100_000, example = 1)]
    pub page: Option<i64>,
    /// Rows per page, at most 200.
    #[param(minimum = 1, maximum = 200, example = 20)]
    pub page_size: Option<i64>,
}

impl PageParams {
    pub const MAX_SIZE: i64 = 200;
    /// The last page anyone may ask for: (page - 1) × page_size stays far inside i64 (and
    /// PostgreSQL's OFFSET) for every page size of the API, and no list is that long.
    pub const MAX_PAGE: i64 = 100_000;

    /// The page and page size of a list (page size 20 by default, at most [`Self::MAX_SIZE`]);
    /// out of bounds: 422 naming `page` or `page_size`.
    pub fn resolve(page: Option<i64>, page_size: Option<i64>) -> Result<(i64, i64), AppError> {
        Self::resolve_sized(page, page_size, 20, Self::MAX_SIZE)
    }

    /// As [`Self::resolve`], with a list's own default and largest page size.
    pub fn resolve_sized(page: Option<i64>, page_size: Option<i64>, default_size: i64, max_size: i64) -> Result<(i64, i64), AppError> {
        let page = page.unwrap_or(1);
        let size = page_size.unwrap_or(default_size);
        if !(1..=Self::MAX_PAGE).contains(&page) {
            return Err(AppError::field(
                "page",
                "out_of_range",
                format!("page must be 1 to {}", Self::MAX_PAGE),
                format!("页码须在 1 到 {} 之间", Self::MAX_PAGE),
            ));
        }
        if !(1..=max_size).contains(&size) {
            return Err(AppError::field(
                "page_size",
                "out_of_range",
                format!("page_size must be 1 to {max_size}"),
                format!("每页条数须在 1 到 {max_size} 之间"),
            ));
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

/// Checks the integer path parameters (record ids) of a request against their documented bounds
/// (see `auth::policy`, which reads them from the OpenAPI document): a segment that is not an
/// integer, or lies outside them, is a 400 naming the parameter, before any handler runs.
pub fn check_path_params(pattern: &str, path: &str, params: &[crate::auth::policy::IntPathParam]) -> Result<(), AppError> {
    let segments: Vec<&str> = path.split('/').collect();
    // Text parameters (`{code}`): no NUL, which PostgreSQL stores none of.
    for (i, seg) in pattern.split('/').enumerate() {
        if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
            && segments.get(i).is_some_and(|raw| percent_decode(raw).contains('\0'))
        {
            return Err(problem_at(name, "invalid_format", "text may not contain NUL characters".into(), "不能包含 NUL 字符".into()));
        }
    }
    for p in params {
        let raw = segments.get(p.segment).copied().unwrap_or_default();
        let text = percent_decode(raw);
        let problem = |code: &'static str, en: String, zh: String| problem_at(&p.name, code, en, zh);
        match text.parse::<i64>() {
            Ok(v) if (p.minimum..=p.maximum).contains(&v) => {}
            Ok(_) => {
                return Err(problem(
                    "out_of_range",
                    format!("{} must be {} to {}", p.name, p.minimum, p.maximum),
                    format!("{} 须在 {} 到 {} 之间", p.name, p.minimum, p.maximum),
                ));
            }
            Err(_) => {
                return Err(problem(
                    "invalid_format",
                    format!("{} must be an integer from {} to {}; got {text:?}", p.name, p.minimum, p.maximum),
                    format!("{} 须为 {} 到 {} 之间的整数", p.name, p.minimum, p.maximum),
                ));
            }
        }
    }
    Ok(())
}

/// A 400 naming a path parameter.
fn problem_at(name: &str, code: &'static str, en: String, zh: String) -> AppError {
    let mut e = AppError::validation(vec![crate::error::FieldError::new(name, code, en, zh)]);
    e.status = actix_web::http::StatusCode::BAD_REQUEST;
    e
}

/// `%xx` escapes of a path segment decoded (as actix decodes them for the handlers).
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A header value for a download named in Chinese (RFC 6266 / 5987). Control and format
/// characters (bidi overrides and isolates, zero-width characters) are left out of the name: a
/// U+202E would show the name's end first (`报告\u{202E}xslx.exe`).
pub fn attachment(file_name: &str, ascii_fallback: &str) -> String {
    let file_name = crate::text::without_format(file_name);
    let encoded: String =
        file_name.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    format!("attachment; filename=\"{ascii_fallback}\"; filename*=UTF-8''{encoded}")
}

/// The content type of an XLSX workbook (exports, reports, the ledger, import templates).
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
