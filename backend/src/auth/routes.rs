//! /auth/login, /auth/refresh, /auth/logout and /me.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::token::{Subject, issue_access, new_family, new_refresh, refresh_hash};
use super::{Actor, password, throttle};
use crate::accounts::{self, Account, GrantView};
use crate::audit::{self, By};
use crate::error::{AppError, AppResult, Problem};
use crate::http::{ApiJson, client_ip};
use crate::schema::{people, refresh_tokens};
use crate::{AppState, db};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(login).service(refresh).service(logout).service(me).service(super::passwords::change_password).service(super::passwords::reset_password);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "zhibu01", "password": "Demo-2026"}))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9...", "refresh_token": "q3Jt0v...", "token_type": "Bearer", "expires_in": 900}))]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "q3Jt0v..."}))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Log in with a username and password.
///
/// Repeated failures are slowed (429 with Retry-After) and, after ten, lock the username for
/// fifteen minutes (423), whether an account has it or not; each client address is slowed after
/// twenty failures, whatever the usernames. docs/api.md, Authentication.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    security(()),
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 401, description = "Wrong username or password", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Account disabled (answered only to the right password)", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "Username locked after repeated failures", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts (for this username or from this address): wait Retry-After seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(state: web::Data<AppState>, req: HttpRequest, body: ApiJson<LoginRequest>) -> AppResult<HttpResponse> {
    let body = body.0;
    let username = body.username.trim();
    let ip = client_ip(&req);
    let mut conn = db::conn(&state.pool).await?;
    // Reserved before the password is checked: parallel attempts cannot all pass the same check.
    let attempt = throttle::reserve(&mut conn, username, ip.as_deref()).await?;
    let account = accounts::by_username(&mut conn, username).await?;
    let ok = password::verify(body.password, account.as_ref().map(|a| a.password_hash.clone())).await?;
    let by = By { account_id: account.as_ref().map(|a| a.id), ip: ip.as_deref() };
    let Some(account) = account.filter(|_| ok) else {
        // Unknown usernames are audited too (password spraying shows in the log), so that both
        // cases do the same work.
        let after = serde_json::json!({"username": username.chars().take(64).collect::<String>()});
        audit::record(&mut conn, by, "login_failed", "account", by.account_id, None::<&()>, Some(&after)).await?;
        return Err(attempt.failed(&mut conn).await?);
    };
    attempt.succeeded(&mut conn, account.id).await?;
    if account.disabled {
        return Err(AppError::new(StatusCode::FORBIDDEN, "account_disabled", "Account disabled", "账号已停用")
            .with_detail("this account is disabled; ask your administrator", "该账号已停用，请联系管理员"));
    }
    let tokens = issue_pair(&state, &mut conn, &account, new_family()).await?;
    audit::record(&mut conn, by, "login", "account", Some(account.id), None::<&()>, None::<&()>).await?;
    Ok(HttpResponse::Ok().json(tokens))
}

async fn issue_pair(state: &AppState, conn: &mut AsyncPgConnection, account: &Account, family: String) -> AppResult<TokenResponse> {
    let grants = accounts::grants(conn, account.id).await?;
    let subject = Subject {
        account_id: account.id,
        username: &account.username,
        person_id: account.person_id,
        grants,
        token_version: account.token_version,
        family: &family,
    };
    let access = issue_access(&state.config.jwt_secret, subject, state.config.access_ttl_secs)?;
    let (refresh_token, hash) = new_refresh();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::account_id.eq(account.id),
            refresh_tokens::family.eq(&family),
            refresh_tokens::token_hash.eq(hash),
            refresh_tokens::expires_at.eq(Utc::now() + Duration::days(state.config.refresh_ttl_days)),
        ))
        .execute(conn)
        .await?;
    Ok(TokenResponse { access_token: access, refresh_token, token_type: "Bearer", expires_in: state.config.access_ttl_secs })
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
struct StoredRefresh {
    id: i64,
    account_id: i64,
    family: String,
    expires_at: chrono::DateTime<Utc>,
    used_at: Option<chrono::DateTime<Utc>>,
    revoked_at: Option<chrono::DateTime<Utc>>,
}

fn refresh_invalid() -> AppError {
    AppError::unauthorized("invalid_refresh_token", "the session has ended; log in again", "会话已结束，请重新登录")
}

/// Exchange a refresh token for a new pair (the old one stops working).
///
/// A refresh token used twice revokes every token of its login, since one of the two users
/// must have stolen it.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    security(()),
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 401, description = "Unknown, expired, revoked or reused refresh token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(state: web::Data<AppState>, body: ApiJson<RefreshRequest>) -> AppResult<HttpResponse> {
    let hash = refresh_hash(body.0.refresh_token.trim());
    let mut conn = db::conn(&state.pool).await?;
    let state2 = state.clone();
    let result = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let row: Option<StoredRefresh> = refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(&hash))
                .select(StoredRefresh::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?;
            let Some(StoredRefresh { id, account_id, family, expires_at, used_at, revoked_at }) = row else {
                return Ok(Err(refresh_invalid()));
            };
            if revoked_at.is_some() || expires_at <= Utc::now() {
                return Ok(Err(refresh_invalid()));
            }
            if used_at.is_some() {
                revoke_family(conn, &family).await?;
                audit::record(conn, By { account_id: Some(account_id), ip: None }, "refresh_reused", "account", Some(account_id), None::<&()>, None::<&()>)
                    .await?;
                return Ok(Err(AppError::unauthorized(
                    "refresh_reused",
                    "this session was used from somewhere else and has been ended for safety; log in again",
                    "检测到会话凭证被重复使用，已为安全起见结束会话，请重新登录",
                )));
            }
            diesel::update(refresh_tokens::table.find(id)).set(refresh_tokens::used_at.eq(Utc::now())).execute(conn).await?;
            let Some(account) = accounts::by_id(conn, account_id).await?.filter(|a| !a.disabled) else {
                revoke_family(conn, &family).await?;
                return Ok(Err(refresh_invalid()));
            };
            Ok(Ok(issue_pair(&state2, conn, &account, family).await?))
        })
        .await?;
    // Revocations above must commit even though the answer is an error.
    Ok(HttpResponse::Ok().json(result?))
}

async fn revoke_family(conn: &mut AsyncPgConnection, family: &str) -> Result<(), AppError> {
    diesel::update(refresh_tokens::table.filter(refresh_tokens::family.eq(family)).filter(refresh_tokens::revoked_at.is_null()))
        .set(refresh_tokens::revoked_at.eq(Utc::now()))
        .execute(conn)
        .await?;
    Ok(())
}

/// End the session of a refresh token (all tokens issued from the same login).
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    security(()),
    responses((status = 204, description = "Logged out (also when the token was already invalid)"))
)]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, body: ApiJson<RefreshRequest>) -> AppResult<HttpResponse> {
    let hash = refresh_hash(body.0.refresh_token.trim());
    let mut conn = db::conn(&state.pool).await?;
    let family: Option<String> =
        refresh_tokens::table.filter(refresh_tokens::token_hash.eq(hash)).select(refresh_tokens::family).first(&mut conn).await.optional()?;
    if let Some(family) = family {
        revoke_family(&mut conn, &family).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeAccount {
    #[schema(example = 3)]
    pub id: i64,
    #[schema(example = "zhibu01")]
    pub username: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MePerson {
    #[schema(example = 101)]
    pub id: i64,
    #[schema(example = "张三")]
    pub name: String,
    /// The member's org when the person is a member.
    #[schema(example = 12)]
    pub member_org_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub account: MeAccount,
    pub person: Option<MePerson>,
    /// Every grant of the account (not only those the current role switch admits).
    pub grants: Vec<GrantView>,
}

/// The logged-in account, its person and all its role grants.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = ["masses", "member", "branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The caller", body = MeResponse),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, actor: Actor) -> AppResult<HttpResponse> {
    let mut conn = db::conn(&state.pool).await?;
    let grants = accounts::grant_views(&mut conn, actor.account_id).await?;
    let person = match actor.person_id {
        Some(pid) => people::table
            .left_join(crate::schema::members::table)
            .filter(people::id.eq(pid))
            .select((people::id, people::name, crate::schema::members::org_id.nullable()))
            .first::<(i64, String, Option<i64>)>(&mut conn)
            .await
            .optional()?
            .map(|(id, name, member_org_id)| MePerson { id, name, member_org_id }),
        None => None,
    };
    Ok(HttpResponse::Ok().json(MeResponse { account: MeAccount { id: actor.account_id, username: actor.username }, person, grants }))
}
