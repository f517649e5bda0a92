//! Access tokens (JWT, HS256, short-lived, carrying the grants) and refresh tokens (opaque,
//! stored hashed, rotated on every use).

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
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

impl Claims {
    pub fn account_id(&self) -> Result<i64, AppError> {
        self.sub.parse().map_err(|_| AppError::unauthorized("invalid_token", "the token is invalid", "登录凭证无效"))
    }
}

pub fn issue_access(secret: &[u8], account_id: i64, username: &str, person_id: Option<i64>, grants: Vec<Grant>, ttl_secs: i64) -> Result<String, AppError> {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: account_id.to_string(),
        usr: username.to_string(),
        pid: person_id,
        grants,
        iat: now,
        exp: now + ttl_secs,
        iss: ISSUER.into(),
    };
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret))
        .map_err(|e| AppError::internal(format!("signing a token: {e}")))
}

pub fn verify_access(secret: &[u8], token: &str) -> Result<Claims, AppError> {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&[ISSUER]);
    v.leeway = 5;
    decode::<Claims>(token, &DecodingKey::from_secret(secret), &v).map(|d| d.claims).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::ExpiredSignature => {
                AppError::unauthorized("token_expired", "the access token has expired; refresh it", "登录已过期，请刷新凭证")
            }
            _ => AppError::unauthorized("invalid_token", "the access token is invalid", "登录凭证无效"),
        }
    })
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
        let t = issue_access(b"0123456789abcdef0123", 9, "u", Some(3), grants.clone(), 60).unwrap();
        let c = verify_access(b"0123456789abcdef0123", &t).unwrap();
        assert_eq!(c.account_id().unwrap(), 9);
        assert_eq!(c.grants, grants);
        assert!(verify_access(b"another-secret-0000", &t).is_err());
        let expired = issue_access(b"0123456789abcdef0123", 9, "u", None, vec![], -60).unwrap();
        assert_eq!(verify_access(b"0123456789abcdef0123", &expired).unwrap_err().code, "token_expired");
    }
}
