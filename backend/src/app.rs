//! The application: the API under /api/v1, its OpenAPI document and Swagger UI, health checks,
//! and the SPA's static files.

use std::path::PathBuf;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Compress, Logger, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, get, web};
use diesel_async::RunQueryDsl;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::policy::{self, RoutePolicy};
use crate::error::{AppError, AppResult, Problem};
use crate::{AppState, auth, clock, code_lists, db, error, imports, jobs, ledger, meetings, members, notifications, orgs, reports, stats, sync};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "智慧党建平台 API",
        description = "Organizations, members, accounts and roles of the party-building platform.\n\n\
            Log in with `POST /api/v1/auth/login`, then send `Authorization: Bearer <access_token>` \
            (Swagger UI: Authorize). Each operation's security scopes name the role kinds that may call it; \
            `X-Acting-Grant: <grant id>` narrows a request to one of your grants (the SPA's role switcher). \
            Errors are RFC 9457 `application/problem+json` with a stable `code`, English and zh-CN text, and the fields at fault. \
            Every record carries `version` (and an ETag); writes send it back (If-Match or `version`) and get 412/409 when stale."
    ),
    tags(
        (name = "auth", description = "Log in, tokens, the current account"),
        (name = "orgs", description = "党组织: the organization tree"),
        (name = "members", description = "党员: the roster and member records"),
        (name = "code_lists", description = "代码表: ethnicity, education, degree, job category"),
        (name = "imports", description = "导入: members and orgs from spreadsheets (templates, dry run, commit, reports)"),
        (name = "jobs", description = "Background jobs (imports and other long work): status, progress, result"),
        (name = "sync", description = "Master-data sync for scripts: batches of orgs and members keyed by external_id"),
        (name = "stats", description = "统计分析: the structure of the membership of any subtree on any date"),
        (name = "reports", description = "党内统计报表: the annual and half-year statistical report (XLSX or JSON)"),
        (name = "meetings", description = "组织生活: 三会一课 and the other meetings, attendance, check-in, votes, attachments, compliance"),
        (name = "ledger", description = "支部工作台账: a branch's yearly work ledger (XLSX or PDF)"),
        (name = "notifications", description = "通知: in-platform notifications (the bell) and the outbox for other channels"),
        (name = "meta", description = "The institution's clock and time zone"),
        (name = "health", description = "Liveness and readiness"),
    ),
    // AttachmentCategory is only a query parameter's type, which utoipa does not collect by itself.
    components(schemas(Problem, error::FieldError, crate::meetings::attachments::AttachmentCategory)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("JWT".into());
        http.description = Some("The access_token from /api/v1/auth/login".into());
        components.add_security_scheme(policy::SECURITY_SCHEME, SecurityScheme::Http(http));
    }
}

/// Liveness: the process answers.
#[utoipa::path(tag = "health", security(()), responses((status = 200, description = "Alive", body = String, example = "ok")))]
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Readiness: the database answers.
#[utoipa::path(tag = "health", security(()), responses(
    (status = 200, description = "Ready", body = String, example = "ok"),
    (status = 503, description = "The database cannot be reached", body = Problem, content_type = "application/problem+json"),
))]
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    // Within a second whatever happens: a load balancer's probe must not queue behind an
    // exhausted pool (and a pool that stays exhausted is itself "not ready").
    let probe = async {
        let mut conn = db::conn(&state.pool).await?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await.map_err(|e| AppError::unavailable(e.to_string()))?;
        Ok::<_, AppError>(())
    };
    match tokio::time::timeout(std::time::Duration::from_secs(1), probe).await {
        Ok(result) => result?,
        Err(_) => return Err(AppError::unavailable("no database connection within 1 s")),
    }
    Ok(HttpResponse::Ok().content_type("text/plain").body("ok"))
}

fn utoipa_app<T>(app: App<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.into_utoipa_app().openapi(ApiDoc::openapi()).service(healthz).service(readyz).service(
        scope::scope("/api/v1")
            .configure(clock::routes)
            .configure(auth::routes::routes)
            .configure(orgs::routes)
            .configure(members::routes)
            .configure(code_lists::routes)
            .configure(imports::routes)
            .configure(jobs::routes)
            .configure(sync::routes)
            .configure(stats::routes)
            .configure(reports::routes)
            .configure(meetings::routes)
            .configure(ledger::routes)
            .configure(notifications::routes),
    )
}

/// The OpenAPI document, generated from the route declarations.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = utoipa_app(App::new()).split_for_parts();
    document_standard_responses(&mut doc);
    doc
}

/// The problems any operation of a given shape can answer, each a `components/responses` entry
/// (status, name, description) that operations refer to.
pub const STANDARD_RESPONSES: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "Malformed request: a path or query parameter, a header (`If-Match`, `X-Acting-Grant`) or the body does not parse, \
         or a path id is out of its bounds; `errors` names the parameter or field",
    ),
    ("401", "Unauthorized", "Not logged in, or the token expired"),
    ("403", "Forbidden", "Your role may not do this, or the record is outside your scope"),
    ("404", "NotFound", "No such record"),
    (
        "409",
        "Conflict",
        "Conflicts with the stored data: a duplicate (`duplicate`), a record still referenced (`referenced`), \
         a stale `version` in the body (`stale_version`), or a concurrent change (`retry`)",
    ),
    ("412", "PreconditionFailed", "`stale_version`: the record changed since the version sent in If-Match"),
    ("413", "PayloadTooLarge", "The body is larger than this operation takes"),
    ("415", "UnsupportedMediaType", "The body is not of the content type this operation takes"),
    ("422", "ValidationFailed", "Some fields or parameters are invalid, or out of their bounds (`errors` lists them all)"),
    ("428", "PreconditionRequired", "`version_required`: send If-Match with the ETag read (or the body's `version`)"),
];

/// Which standard problems an operation answers, by its shape:
///
/// - behind a login: 400 (a malformed `X-Acting-Grant`), 401, 403 (the policy middleware); and a
///   write (POST, PUT, PATCH, DELETE) 409, which the database's unique and foreign keys answer
///   through `AppError::from(diesel::result::Error)`;
/// - path parameters: 400 (not an integer, or out of bounds), and 404 when one names a record
///   (is not an enum);
/// - query parameters: 400 (does not parse), 422 (out of bounds: `page`, dates, ...);
/// - a JSON body: 400 (does not parse), 413, 415, 422; a multipart upload: 400, 413, 415, 422;
/// - `If-Match`: 400 (malformed), 412; and 428 when a version is required (If-Match required, or
///   else the body's optional `version`).
///
/// A status the handler declares keeps the handler's description; the others refer to
/// [`STANDARD_RESPONSES`]. Integer path parameters (record ids) are bounded 1..=i64::MAX, which
/// the policy middleware enforces.
fn document_standard_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{Schema, SchemaType, Type};
    use utoipa::openapi::{Content, Ref, RefOr, Response};
    let components = doc.components.get_or_insert_with(Default::default);
    for (_, name, description) in STANDARD_RESPONSES {
        let problem = Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem"))));
        components
            .responses
            .insert((*name).to_string(), RefOr::T(Response::builder().description(*description).content("application/problem+json", problem).build()));
    }
    let schemas = components.schemas.clone();
    let resolve = |schema: &RefOr<Schema>| -> Option<Schema> {
        match schema {
            RefOr::T(s) => Some(s.clone()),
            RefOr::Ref(r) => match schemas.get(r.ref_location.trim_start_matches("#/components/schemas/"))? {
                RefOr::T(s) => Some(s.clone()),
                RefOr::Ref(_) => None,
            },
        }
    };
    for item in doc.paths.paths.values_mut() {
        let ops = [(false, &mut item.get), (true, &mut item.post), (true, &mut item.put), (true, &mut item.patch), (true, &mut item.delete)];
        for (writes, op) in ops.into_iter().filter_map(|(w, op)| op.as_mut().map(|op| (w, op))) {
            let public = op.security.as_ref().is_none_or(|reqs| {
                serde_json::to_value(reqs)
                    .ok()
                    .and_then(|v| v.as_array().cloned())
                    .is_some_and(|a| a.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty())))
            });
            let mut statuses: Vec<&str> = Vec::new();
            if !public {
                statuses.extend(["400", "401", "403"]);
                if writes {
                    statuses.push("409");
                }
            }
            let mut if_match_required = None;
            for p in op.parameters.iter_mut().flatten() {
                // The declarations give parameters inline (a $ref would hide its shape here).
                let RefOr::T(p) = p else { continue };
                match p.parameter_in {
                    ParameterIn::Path => {
                        statuses.push("400");
                        let schema = p.schema.as_ref().and_then(&resolve);
                        let is_enum = matches!(&schema, Some(Schema::Object(o)) if o.enum_values.is_some());
                        if !is_enum {
                            statuses.push("404");
                        }
                        // Record ids: 1..=i64::MAX.
                        if let Some(RefOr::T(Schema::Object(o))) = p.schema.as_mut()
                            && o.schema_type == SchemaType::Type(Type::Integer)
                        {
                            o.minimum.get_or_insert(utoipa::Number::Int(1));
                            o.maximum.get_or_insert(utoipa::Number::Int(i64::MAX as isize));
                        }
                    }
                    ParameterIn::Query => statuses.extend(["400", "422"]),
                    ParameterIn::Header if p.name.eq_ignore_ascii_case("If-Match") => {
                        statuses.extend(["400", "412"]);
                        if_match_required = Some(matches!(p.required, utoipa::openapi::Required::True));
                    }
                    _ => {}
                }
            }
            let mut body_version_optional = false;
            if let Some(RefOr::T(body)) = &op.request_body {
                for (content_type, content) in &body.content {
                    if content_type == "application/json" || content_type == "multipart/form-data" {
                        statuses.extend(["400", "413", "415", "422"]);
                    }
                    if let RefOr::T(content) = content
                        && let Some(Schema::Object(o)) = content.schema.as_ref().and_then(&resolve)
                    {
                        body_version_optional |= o.properties.contains_key("version") && !o.required.iter().any(|r| r == "version");
                    }
                }
            }
            if if_match_required == Some(true) || (if_match_required == Some(false) && body_version_optional) {
                statuses.push("428");
            }
            let responses = &mut op.responses.responses;
            for status in statuses {
                let Some((_, name, _)) = STANDARD_RESPONSES.iter().find(|(s, _, _)| *s == status) else { continue };
                responses.entry(status.to_string()).or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
            }
        }
    }
}

pub fn openapi_json() -> Result<String, serde_json::Error> {
    openapi().to_pretty_json()
}

/// Built once per process and shared by every worker.
#[derive(Clone)]
pub struct Shared {
    pub state: web::Data<AppState>,
    pub policy: web::Data<RoutePolicy>,
    pub doc: utoipa::openapi::OpenApi,
}

impl Shared {
    pub fn new(state: AppState) -> Result<Self, String> {
        let doc = openapi();
        let policy = RoutePolicy::from_openapi(&doc)?;
        Ok(Shared { state: web::Data::new(state), policy: web::Data::new(policy), doc })
    }
}

/// The whole application, as each server worker (and each test) builds it.
pub fn build(
    shared: Shared,
) -> App<impl ServiceFactory<ServiceRequest, Config = (), Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error, InitError = ()>> {
    let static_dir = shared.state.config.static_dir.clone();
    // Swagger UI serves the document at /api/v1/openapi.json: it is registered before the
    // /api/v1 scope, which would otherwise claim that path.
    let (app, _) = utoipa_app(
        App::new()
            .service(SwaggerUi::new("/api/docs/{_:.*}").url(policy::OPENAPI_PATH, shared.doc.clone()))
            .app_data(shared.state.clone())
            .app_data(shared.policy.clone())
            .app_data(web::QueryConfig::default().error_handler(error::query_error))
            .app_data(web::PathConfig::default().error_handler(error::path_error))
            .app_data(web::JsonConfig::default().error_handler(error::json_error)),
    )
    .split_for_parts();
    app.wrap(from_fn(policy::enforce))
        .wrap(from_fn(security_headers))
        .wrap(Compress::default())
        .wrap(Logger::new("%a \"%r\" %s %b %Dms").exclude("/healthz"))
        .service(web::redirect("/api/docs", "/api/docs/"))
        .default_service(web::to(move |req: HttpRequest| spa_or_404(req, static_dir.clone())))
}

/// The Content-Security-Policy of the SPA and of every API answer: only the platform's own
/// origin. Scripts only from files of the origin (the Vite build has no inline script); styles
/// also inline (`'unsafe-inline'`), because Element Plus and Vue set `style` attributes (the
/// dialogs', popovers' and table columns' positions and widths) that a stricter policy breaks, and
/// a style cannot run code. Images also `data:` (Element Plus's icons, the built CSS) and `blob:`
/// (attachment thumbnails fetched with the token). Nothing may frame the app (clickjacking), and
/// no plugin, `<base>` or foreign form target.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
    form-action 'self'; frame-ancestors 'none'";

/// The headers every answer carries ([`CONTENT_SECURITY_POLICY`], `nosniff`, no referrer, no
/// framing), and `Cache-Control: no-store` on the API's (personal data, tokens, downloads) and
/// the health checks' unless the handler chose its own (each says no-store, but for the code
/// lists: `private, max-age=300`, the same lists for everyone and nothing personal). A problem
/// that a middleware answers (the route policy's 401 and 403) leaves the chain as an error, which
/// this middleware never sees (cloning the request to answer it here would break routing):
/// `AppError::error_response` adds the same headers ([`add_security_headers`]).
async fn security_headers(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = req.path();
    let no_store = path.starts_with("/api/") || path == "/healthz" || path == "/readyz";
    let mut res = next.call(req).await?;
    add_security_headers(res.headers_mut(), no_store);
    Ok(res)
}

/// See [`security_headers`].
pub fn add_security_headers(h: &mut actix_web::http::header::HeaderMap, no_store: bool) {
    use actix_web::http::header::{self, HeaderValue};
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if no_store && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// Unknown API paths answer a problem; anything else is the SPA (history-mode routing: every
/// client-side route gets index.html), or, before the SPA is built, a pointer to the API docs.
async fn spa_or_404(req: HttpRequest, static_dir: PathBuf) -> actix_web::Result<HttpResponse> {
    let path = req.path();
    if path.starts_with("/api/") {
        return Err(AppError::not_found("API endpoint", "接口").into());
    }
    let relative = path.trim_start_matches('/');
    let safe = !relative.split('/').any(|seg| seg == ".." || seg.starts_with('.'));
    let candidate = static_dir.join(relative);
    if safe && !relative.is_empty() && candidate.is_file() {
        let file = actix_files::NamedFile::open_async(&candidate).await?;
        let mut res = file.into_response(&req);
        // Vite puts a content hash in every asset name, so they never change.
        if relative.starts_with("assets/") {
            res.headers_mut()
                .insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("public, max-age=31536000, immutable"));
        }
        return Ok(res);
    }
    let index = static_dir.join("index.html");
    if index.is_file() {
        let file = actix_files::NamedFile::open_async(&index).await?;
        let mut res = file.into_response(&req);
        res.headers_mut().insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-cache"));
        return Ok(res);
    }
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(
        "<!doctype html><meta charset=utf-8><title>智慧党建平台</title>\
         <p>智慧党建平台 API is running. The web app is not built yet (frontend/dist is missing).</p>\
         <p><a href=\"/api/docs/\">API documentation (Swagger UI)</a></p>",
    ))
}
