//! The application: the API under /api/v1, its OpenAPI document and Swagger UI, health checks,
//! and the SPA's static files.

use std::path::PathBuf;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Compress, Logger, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, get, web};
use diesel_async::RunQueryDsl;
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
    let mut conn = db::conn(&state.pool).await?;
    diesel::sql_query("SELECT 1").execute(&mut conn).await.map_err(|e| AppError::unavailable(e.to_string()))?;
    Ok(HttpResponse::Ok().content_type("text/plain").body("ok"))
}

fn utoipa_app<T>(app: App<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(healthz)
        .service(readyz)
        .service(scope::scope("/api/v1").configure(clock::routes).configure(auth::routes::routes).configure(orgs::routes).configure(members::routes).configure(code_lists::routes).configure(imports::routes).configure(jobs::routes).configure(sync::routes).configure(stats::routes).configure(reports::routes).configure(meetings::routes).configure(ledger::routes).configure(notifications::routes))
}

/// The OpenAPI document, generated from the route declarations.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = utoipa_app(App::new()).split_for_parts();
    document_auth_failures(&mut doc);
    doc
}

/// Every operation behind a login can answer 401 and 403 (the policy middleware does, before the
/// handler runs); say so on each, so clients and the generated types know.
fn document_auth_failures(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{Content, Ref, RefOr, Response};
    let problem = || {
        Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem"))))
    };
    for item in doc.paths.paths.values_mut() {
        for op in [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten() {
            let public = op.security.as_ref().is_none_or(|reqs| {
                serde_json::to_value(reqs).ok().and_then(|v| v.as_array().cloned()).is_some_and(|a| a.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty())))
            });
            if public {
                continue;
            }
            let responses = &mut op.responses.responses;
            responses.entry("401".into()).or_insert_with(|| {
                RefOr::T(Response::builder().description("Not logged in, or the token expired").content("application/problem+json", problem()).build())
            });
            responses.entry("403".into()).or_insert_with(|| {
                RefOr::T(Response::builder().description("Your role may not do this, or the record is outside your scope").content("application/problem+json", problem()).build())
            });
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
        .wrap(Compress::default())
        .wrap(Logger::new("%a \"%r\" %s %b %Dms").exclude("/healthz"))
        .service(web::redirect("/api/docs", "/api/docs/"))
        .default_service(web::to(move |req: HttpRequest| spa_or_404(req, static_dir.clone())))
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
            res.headers_mut().insert(
                actix_web::http::header::CACHE_CONTROL,
                actix_web::http::header::HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
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
