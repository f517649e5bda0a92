//! Setting passwords through the API: `POST /me/password` (the account's holder, with the current
//! password) and `POST /accounts/{id}/password` (an administrator's reset). Both apply the
//! password policy (password::check_strength), end every session of the account (its refresh
//! tokens are revoked, and the password change bumps its token version, so its access tokens stop
//! at the next request — the caller's own included: they log in again with the new password) and
//! are audited without the password.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{Actor, password, throttle};
use crate::accounts::{self, Account};
use crate::audit::{self, By};
use crate::error::{AppError, AppResult, Problem};
use crate::http::{ApiJson, client_ip};
use crate::schema::{accounts as a, people, refresh_tokens};
use crate::{AppState, db};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "Demo-2026", "new_password": "Autumn-Maple-Ledger-47"}))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// At least 12 characters, not guessable (docs/api.md, Authentication).
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"new_password": "Autumn-Maple-Ledger-47"}))]
pub struct ResetPasswordRequest {
    /// At least 12 characters, not guessable (docs/api.md, Authentication).
    pub new_password: String,
}

/// The policy with the account's own words (username, the person's name) as context.
async fn check_new(conn: &mut AsyncPgConnection, account: &Account, new_password: &str) -> Result<(), AppError> {
    let name: Option<String> = match account.person_id {
        Some(pid) => people::table.find(pid).select(people::name).first(conn).await.optional()?,
        None => None,
    };
    password::check_strength("new_password", new_password, &[&account.username, name.as_deref().unwrap_or_default()])
}

/// Stores the new hash (the trigger bumps the token version) and revokes every refresh token of
/// the account, with the audit entry, in one transaction.
async fn set_password(conn: &mut AsyncPgConnection, by: By<'_>, action: &'static str, account_id: i64, new_password: String) -> Result<(), AppError> {
    let hash = password::hash(new_password).await?;
    let ip = by.ip.map(str::to_string);
    let by_account = by.account_id;
    conn.transaction::<_, AppError, _>(async move |conn| {
        diesel::update(a::table.find(account_id)).set((a::password_hash.eq(&hash), a::updated_at.eq(Utc::now()))).execute(conn).await?;
        let ended = diesel::update(refresh_tokens::table.filter(refresh_tokens::account_id.eq(account_id)).filter(refresh_tokens::revoked_at.is_null()))
            .set(refresh_tokens::revoked_at.eq(Utc::now()))
            .execute(conn)
            .await?;
        let after = serde_json::json!({"sessions_ended": ended});
        audit::record(conn, By { account_id: by_account, ip: ip.as_deref() }, action, "account", Some(account_id), None::<&()>, Some(&after)).await
    })
    .await
}

/// Change your own password.
///
/// Needs the current password (a wrong one counts against the login throttle, as at login). Every
/// session of the account ends, this one included: log in again with the new password.
#[utoipa::path(
    tag = "auth",
    request_body = ChangePasswordRequest,
    security(("bearer" = ["masses", "member", "branch", "committee", "political_dept"])),
    responses(
        (status = 204, description = "Changed; every session of the account has ended"),
        (status = 422, description = "Wrong current password (`current_password`: `wrong_password`), or the new one is refused (`new_password`: `password_too_short`, `password_too_long`, `weak_password`, `same_password`)", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:dangjian:problem:validation_failed", "title": "Some fields are invalid", "title_zh": "部分字段填写有误", "status": 422, "code": "validation_failed",
                "detail": "new_password: this password is too easy to guess", "detail_zh": "new_password：密码太容易被猜出",
                "errors": [{"field": "new_password", "code": "weak_password", "message": "this password is too easy to guess", "message_zh": "密码太容易被猜出"}]})),
        (status = 423, description = "Too many wrong passwords: the account is locked for a while", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts: wait Retry-After seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/password")]
pub async fn change_password(state: web::Data<AppState>, req: HttpRequest, actor: Actor, body: ApiJson<ChangePasswordRequest>) -> AppResult<HttpResponse> {
    let ChangePasswordRequest { current_password, new_password } = body.0;
    let mut conn = db::conn(&state.pool).await?;
    let account = accounts::by_id(&mut conn, actor.account_id)
        .await?
        .ok_or_else(|| AppError::unauthorized("token_revoked", "this account no longer exists", "账号已不存在"))?;
    check_new(&mut conn, &account, &new_password).await?;
    if new_password == current_password {
        return Err(AppError::field("new_password", "same_password", "the new password is the current one", "新密码不能与当前密码相同"));
    }
    let ip = client_ip(&req);
    let attempt = throttle::reserve(&mut conn, &account.username, ip.as_deref()).await?;
    if !password::verify(current_password, Some(account.password_hash.clone())).await? {
        audit::record(&mut conn, By::from(&actor), "password_change_failed", "account", Some(account.id), None::<&()>, None::<&()>).await?;
        let e = attempt.failed(&mut conn).await?;
        return Err(if e.status == actix_web::http::StatusCode::UNAUTHORIZED {
            AppError::field("current_password", "wrong_password", "the current password is wrong", "当前密码不正确")
        } else {
            e
        });
    }
    attempt.succeeded(&mut conn, account.id).await?;
    set_password(&mut conn, By::from(&actor), "password_change", account.id, new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(QueryableByName)]
struct GrantsInside {
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    inside: i64,
}

/// Reset another account's password (政工部门).
///
/// political_dept over the whole institution resets any account; over an org, the accounts whose
/// every grant lies below that org (as it manages what lies below it, not the org itself).
/// Every session of the account ends. Your own password is changed with `POST /me/password`.
#[utoipa::path(
    tag = "auth",
    params(("id" = i64, Path, description = "Account id", example = 5)),
    request_body = ResetPasswordRequest,
    security(("bearer" = ["political_dept"])),
    responses(
        (status = 204, description = "Reset; every session of the account has ended"),
        (status = 403, description = "The account is outside your scope (`out_of_scope`), or it is your own (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The new password is refused (`new_password`: `password_too_short`, `password_too_long`, `weak_password`)", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:dangjian:problem:validation_failed", "title": "Some fields are invalid", "title_zh": "部分字段填写有误", "status": 422, "code": "validation_failed",
                "detail": "new_password: use at least 12 characters", "detail_zh": "new_password：密码至少 12 位",
                "errors": [{"field": "new_password", "code": "password_too_short", "message": "use at least 12 characters", "message_zh": "密码至少 12 位"}]})),
    )
)]
#[post("/accounts/{id}/password")]
pub async fn reset_password(state: web::Data<AppState>, actor: Actor, id: web::Path<i64>, body: ApiJson<ResetPasswordRequest>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let new_password = body.0.new_password;
    if id == actor.account_id {
        return Err(AppError::forbidden("change your own password with POST /me/password", "请通过“修改密码”更改自己的密码"));
    }
    let mut conn = db::conn(&state.pool).await?;
    let account = accounts::by_id(&mut conn, id).await?.ok_or_else(|| AppError::not_found("account", "账号"))?;
    let scope = actor.manage_scope();
    if !scope.all {
        let grants: GrantsInside = diesel::sql_query(
            "SELECT count(*) AS total,
                    count(*) FILTER (WHERE EXISTS (SELECT 1 FROM org_closure c
                                                   WHERE c.ancestor_id = ANY($2) AND c.descendant_id = g.org_id AND c.depth >= 1)) AS inside
             FROM role_grants g WHERE g.account_id = $1",
        )
        .bind::<BigInt, _>(id)
        .bind::<Array<BigInt>, _>(&scope.org_roots)
        .get_result(&mut conn)
        .await?;
        if grants.total == 0 || grants.inside < grants.total {
            return Err(AppError::out_of_scope());
        }
    }
    check_new(&mut conn, &account, &new_password).await?;
    set_password(&mut conn, By::from(&actor), "password_reset", id, new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}
