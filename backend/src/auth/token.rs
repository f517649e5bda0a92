//! Access tokens (JWT, HS256, short-lived, carrying the grants) and refresh tokens (opaque,
//! stored hashed, rotated on every use).
//!
//! An access token also names its login (`fam`, the refresh-token family) and the account's token
//! version (`ver`); [`check_live`] holds every request's token to both, so that a logout, a
//! disabled account, a changed grant or password take effect on the next request.

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Grant;
use crate::error::AppError;

const ISSUER: &str = "dangjian";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Account id.
    pub sub: String,
    pub usr: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pid: Option<i64>,
    pub grants: Vec<Grant>,
    /// The account's token version when the token was issued (accounts.token_version).
    #[serde(default)]
    pub ver: i32,
    /// The login (refresh-token family) the token belongs to.
    #[serde(default)]
    pub fam: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

impl Claims {
    pub fn account_id(&self) -> Result<i64, AppError> {
        self.sub.parse().map_err(|_| AppError::unauthorized("invalid_token", "the token is invalid", "登录凭证无效"))
    }
}

/// The account an access token is for, as issued.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub account_id: i64,
    pub username: &'a str,
    pub person_id: Option<i64>,
    pub grants: Vec<Grant>,
    pub token_version: i32,
    pub family: &'a str,
}

pub fn issue_access(secret: &[u8], subject: Subject<'_>, ttl_secs: i64) -> Result<String, AppError> {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: subject.account_id.to_string(),
        usr: subject.username.to_string(),
        pid: subject.person_id,
        grants: subject.grants,
        ver: subject.token_version,
        fam: subject.family.to_string(),
        iat: now,
        exp: now + ttl_secs,
        iss: ISSUER.into(),
    };
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret)).map_err(|e| AppError::internal(format!("signing a token: {e}")))
}

pub fn verify_access(secret: &[u8], token: &str) -> Result<Claims, AppError> {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&[ISSUER]);
    v.leeway = 5;
    decode::<Claims>(token, &DecodingKey::from_secret(secret), &v).map(|d| d.claims).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::ExpiredSignature => AppError::unauthorized("token_expired", "the access token has expired; refresh it", "登录已过期，请刷新凭证"),
            _ => AppError::unauthorized("invalid_token", "the access token is invalid", "登录凭证无效"),
        }
    })
}

#[derive(diesel::QueryableByName)]
struct Live {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    live: bool,
}

/// The token's account is enabled and still at the token's version, and its login has not been
/// ended (logout, a reused refresh token, a password change): one primary-key read of `accounts`
/// and one index probe of `refresh_tokens (family)`. Otherwise 401 `token_revoked`.
pub async fn check_live(conn: &mut diesel_async::AsyncPgConnection, claims: &Claims) -> Result<(), AppError> {
    use diesel::sql_types::{BigInt, Integer, Text};
    use diesel_async::RunQueryDsl;
    let live: Option<Live> = diesel::sql_query(
        "SELECT (a.token_version = $2 AND NOT a.disabled
                 AND EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family = $3 AND r.account_id = a.id AND r.revoked_at IS NULL)) AS live
         FROM accounts a WHERE a.id = $1",
    )
    .bind::<BigInt, _>(claims.account_id()?)
    .bind::<Integer, _>(claims.ver)
    .bind::<Text, _>(&claims.fam)
    .get_result(conn)
    .await
    .map(Some)
    .or_else(|e| if e == diesel::result::Error::NotFound { Ok(None) } else { Err(e) })?;
    if live.is_some_and(|l| l.live) {
        Ok(())
    } else {
        Err(AppError::unauthorized(
            "token_revoked",
            "this session has ended (logged out, or the account, its roles or its password changed); refresh or log in again",
            "登录状态已失效（已退出，或账号、角色、密码已变更），请重新登录",
        ))
    }
}

/// [`check_live`] for a request, on a connection of the application's pool (returned before the
/// handler takes its own).
pub async fn check_request(req: &actix_web::HttpRequest, claims: &Claims) -> Result<(), AppError> {
    let state = req.app_data::<actix_web::web::Data<crate::AppState>>().ok_or_else(|| AppError::internal("app state missing"))?;
    let mut conn = crate::db::conn(&state.pool).await?;
    check_live(&mut conn, claims).await
}

/// A new opaque refresh token and the hash to store.
pub fn new_refresh() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = refresh_hash(&token);
    (token, hash)
}

pub fn refresh_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub fn new_family() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::auth::Role;

    #[test]
    fn roundtrip_and_tamper() {
        let grants = vec![Grant { id: 1, role: Role::Branch, org_id: Some(5) }];
        let subject = |grants| Subject { account_id: 9, username: "u", person_id: Some(3), grants, token_version: 4, family: "f1" };
        let t = issue_access(b"0123456789abcdef0123", subject(grants.clone()), 60).unwrap();
        let c = verify_access(b"0123456789abcdef0123", &t).unwrap();
        assert_eq!(c.account_id().unwrap(), 9);
        assert_eq!(c.grants, grants);
        assert_eq!((c.ver, c.fam.as_str()), (4, "f1"));
        assert!(verify_access(b"another-secret-0000", &t).is_err());
        let expired = issue_access(b"0123456789abcdef0123", subject(vec![]), -60).unwrap();
        assert_eq!(verify_access(b"0123456789abcdef0123", &expired).unwrap_err().code, "token_expired");
    }
}
