//! The route policy: which role kinds may call each operation, read from the OpenAPI document
//! that the handlers' own `#[utoipa::path(security(...))]` declarations produce. Routing, the
//! published spec and this check therefore come from one declaration and cannot drift.
//!
//! Declaring `security(("bearer" = ["branch", "committee"]))` admits those role kinds;
//! `security(())` marks a public operation. An operation with no declaration is refused (fail
//! closed), and `policy_covers_every_operation` in the tests keeps that from happening.

use std::collections::HashMap;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

use super::token::verify_access;
use super::{Actor, Role};
use crate::error::AppError;

pub const SECURITY_SCHEME: &str = "bearer";
/// Header by which the SPA's role switcher narrows a request to one of the account's grants.
pub const API_PREFIX: &str = "/api/v1/";
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";
pub const ACTING_GRANT_HEADER: &str = "X-Acting-Grant";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    Public,
    Roles(Vec<Role>),
}

/// An integer path parameter (a record id) and its documented bounds, checked before the
/// handler runs so that `/members/abc` or `/members/0` is a 400 naming the parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntPathParam {
    /// Its segment's index in the route pattern split at `/`.
    pub segment: usize,
    pub name: String,
    pub minimum: i64,
    pub maximum: i64,
}

#[derive(Debug, Clone)]
struct Rule {
    access: Access,
    int_params: Vec<IntPathParam>,
}

#[derive(Debug, Default)]
pub struct RoutePolicy {
    rules: HashMap<(String, String), Rule>,
}

impl RoutePolicy {
    /// Reads `paths.*.<method>.security` of the generated document.
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Result<Self, String> {
        let json = serde_json::to_value(doc).map_err(|e| e.to_string())?;
        let mut rules = HashMap::new();
        let paths = json.get("paths").and_then(|p| p.as_object()).cloned().unwrap_or_default();
        for (path, item) in paths {
            let Some(ops) = item.as_object() else { continue };
            for (method, op) in ops {
                if !matches!(method.as_str(), "get" | "post" | "put" | "patch" | "delete") {
                    continue;
                }
                let access = access_of(op).map_err(|e| format!("{} {path}: {e}", method.to_uppercase()))?;
                let int_params = int_path_params(&path, op);
                rules.insert((method.to_uppercase(), path.clone()), Rule { access, int_params });
            }
        }
        Ok(RoutePolicy { rules })
    }

    pub fn get(&self, method: &Method, pattern: &str) -> Option<&Access> {
        self.rule(method, pattern).map(|(_, r)| &r.access)
    }

    /// The operation's own path pattern (with its parameter names) and its integer path
    /// parameters with their bounds.
    pub fn path_params(&self, method: &Method, pattern: &str) -> Option<(&str, &[IntPathParam])> {
        self.rule(method, pattern).map(|(path, r)| (path, r.int_params.as_slice()))
    }

    fn rule(&self, method: &Method, pattern: &str) -> Option<(&str, &Rule)> {
        self.rules
            .get_key_value(&(method.as_str().to_string(), pattern.to_string()))
            .or_else(|| {
                // Two routes of one shape with other parameter names (`POST /imports/{kind}`,
                // `GET /imports/{id}`): actix names the first registered pattern matching the path,
                // whatever the method, so look for this method's operation of the same shape.
                let shape = shape_of(pattern);
                self.rules.iter().find(|((m, p), _)| m == method.as_str() && shape_of(p) == shape)
            })
            .map(|((_, path), r)| (path.as_str(), r))
    }

    pub fn operations(&self) -> impl Iterator<Item = (&(String, String), &Access)> {
        self.rules.iter().map(|(k, r)| (k, &r.access))
    }
}

/// The operation's integer path parameters and their `minimum`/`maximum` (default: any i64).
fn int_path_params(path: &str, op: &serde_json::Value) -> Vec<IntPathParam> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut out = Vec::new();
    for p in op.get("parameters").and_then(|p| p.as_array()).into_iter().flatten() {
        let schema = &p["schema"];
        if p["in"] != "path" || schema["type"] != "integer" {
            continue;
        }
        let Some(name) = p["name"].as_str() else { continue };
        let Some(segment) = segments.iter().position(|s| *s == format!("{{{name}}}")) else { continue };
        out.push(IntPathParam {
            segment,
            name: name.to_string(),
            minimum: schema["minimum"].as_i64().unwrap_or(i64::MIN),
            maximum: schema["maximum"].as_i64().unwrap_or(i64::MAX),
        });
    }
    out
}

/// A route pattern with its parameter names blanked: `/a/{id}/b` → `/a/{}/b`.
fn shape_of(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut in_param = false;
    for c in pattern.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            c => out.push(c),
        }
    }
    out
}

fn access_of(op: &serde_json::Value) -> Result<Access, String> {
    let Some(reqs) = op.get("security").and_then(|s| s.as_array()) else {
        return Err("declares no security: add security((\"bearer\" = [roles])) or security(())".into());
    };
    let mut roles = Vec::new();
    for req in reqs {
        let Some(map) = req.as_object() else { continue };
        if map.is_empty() {
            return Ok(Access::Public);
        }
        for scope in map.get(SECURITY_SCHEME).and_then(|s| s.as_array()).into_iter().flatten() {
            let name = scope.as_str().unwrap_or_default();
            roles.push(Role::parse(name).ok_or_else(|| format!("unknown role {name:?} in security scopes"))?);
        }
    }
    if roles.is_empty() {
        return Err("security names no role".into());
    }
    Ok(Access::Roles(roles))
}

/// The middleware: authenticates, checks the role kind, and leaves the [`Actor`] for the handler.
pub async fn enforce(req: ServiceRequest, next: Next<impl MessageBody>) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // Only the versioned API is under the policy; the spec document it publishes is public.
    if !req.path().starts_with(API_PREFIX) || req.path() == OPENAPI_PATH {
        return next.call(req).await;
    }
    let Some(pattern) = req.match_pattern() else {
        return next.call(req).await; // unknown route: the default service answers 404
    };
    let policy = req.app_data::<web::Data<RoutePolicy>>().ok_or_else(|| AppError::internal("route policy missing from app data"))?;
    let access = match policy.get(req.method(), &pattern) {
        Some(a) => a.clone(),
        // A path with other methods only: let routing answer 405/404.
        None if req.method() == Method::OPTIONS || req.method() == Method::HEAD => return next.call(req).await,
        None => {
            if policy.operations().any(|((_, p), _)| *p == pattern) {
                return next.call(req).await;
            }
            return Err(AppError::internal(format!("no policy for {} {pattern}", req.method())).into());
        }
    };
    let (op_path, int_params) = policy.path_params(req.method(), &pattern).map(|(p, i)| (p.to_string(), i.to_vec())).unwrap_or_default();
    let Access::Roles(allowed) = access else {
        crate::http::check_path_params(&op_path, req.path(), &int_params)?;
        return next.call(req).await;
    };
    let secret = req.app_data::<web::Data<crate::AppState>>().map(|s| s.config.jwt_secret.clone()).ok_or_else(|| AppError::internal("app state missing"))?;
    let token = bearer(&req)?;
    let claims = verify_access(&secret, &token)?;
    // Logout, disabling, grant and password changes take effect now, not when the token expires.
    super::token::check_request(req.request(), &claims).await?;
    let mut grants = claims.grants.clone();
    if let Some(acting) = req.headers().get(ACTING_GRANT_HEADER) {
        let id: i64 = acting
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| AppError::bad_request(format!("{ACTING_GRANT_HEADER} must be a grant id"), format!("{ACTING_GRANT_HEADER} 须为角色授权编号")))?;
        grants.retain(|g| g.id == id);
        if grants.is_empty() {
            return Err(AppError::forbidden("you hold no grant with that id", "您没有该角色授权").into());
        }
    }
    grants.retain(|g| allowed.contains(&g.role));
    if grants.is_empty() {
        let names = allowed.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ");
        let mut e = AppError::forbidden(format!("this action needs one of the roles: {names}"), format!("此操作需要以下角色之一：{names}"));
        e.code = "role_not_allowed";
        return Err(e.into());
    }
    let actor =
        Actor { account_id: claims.account_id()?, username: claims.usr.clone(), person_id: claims.pid, grants, ip: super::client_addr::of(req.request()) };
    req.extensions_mut().insert(actor);
    // After authentication: a caller who may not call the operation learns nothing from it.
    crate::http::check_path_params(&op_path, req.path(), &int_params)?;
    next.call(req).await
}

fn bearer(req: &ServiceRequest) -> Result<String, AppError> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| AppError::unauthorized("unauthenticated", "log in first: send Authorization: Bearer <access_token>", "请先登录"))?;
    header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).ok_or_else(|| {
        AppError::unauthorized("unauthenticated", "the Authorization header must be `Bearer <access_token>`", "Authorization 头格式应为 Bearer <token>")
    })
}
