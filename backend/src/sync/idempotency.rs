//! `Idempotency-Key`: the first successful answer to a keyed request is kept for 24 hours, so a
//! script that retries after a timeout gets that answer again instead of a second application.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Outcome;
use crate::error::AppError;
use crate::schema::idempotency_keys as k;

pub const HEADER: &str = "Idempotency-Key";
/// Hours a stored answer is kept.
pub const KEEP_HOURS: i32 = 24;

fn cutoff() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() - chrono::Duration::hours(i64::from(KEEP_HOURS))
}

/// A request's key and the hash of what it asks (method, path, query and body).
pub struct Key {
    pub key: String,
    pub hash: Vec<u8>,
}

/// The request's Idempotency-Key, if it sent one.
pub fn key_of(req: &HttpRequest, body: &[u8]) -> Result<Option<Key>, AppError> {
    let Some(v) = req.headers().get(HEADER) else { return Ok(None) };
    let key = v.to_str().unwrap_or_default().trim().to_string();
    if key.is_empty() || key.len() > 255 {
        return Err(AppError::bad_request(
            "Idempotency-Key must be 1-255 visible ASCII characters (a UUID, say)",
            "Idempotency-Key 须为 1-255 个可见 ASCII 字符（例如 UUID）",
        ));
    }
    let mut h = Sha256::new();
    for part in [req.method().as_str().as_bytes(), req.path().as_bytes(), req.query_string().as_bytes(), body] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    Ok(Some(Key { key, hash: h.finalize().to_vec() }))
}

/// Inside the request's transaction: waits for any concurrent request with the same key (a
/// transaction-scoped advisory lock), then answers the stored result, if any. The same key with
/// another request is refused.
pub async fn lookup(conn: &mut AsyncPgConnection, account_id: i64, key: &Key) -> Result<Option<Outcome>, AppError> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7261))")
        .bind::<Text, _>(format!("idempotency:{account_id}:{}", key.key))
        .execute(conn)
        .await?;
    let stored: Option<(Vec<u8>, i32, Value)> = k::table
        .filter(k::account_id.eq(account_id))
        .filter(k::key.eq(&key.key))
        .filter(k::created_at.gt(cutoff()))
        .select((k::request_hash, k::status, k::body))
        .first(conn)
        .await
        .optional()?;
    match stored {
        None => Ok(None),
        Some((hash, status, body)) if hash == key.hash => Ok(Some(Outcome::Replay(u16::try_from(status).unwrap_or(200), body))),
        Some(_) => Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "The Idempotency-Key was used for another request",
            "该 Idempotency-Key 已用于另一个请求",
        )
        .with_detail(
            "this Idempotency-Key was used in the last 24 hours with a different request; use a new key for a new batch",
            "24 小时内该 Idempotency-Key 已用于内容不同的请求；新的批次请使用新的 key",
        )),
    }
}

/// Stores the answer under the key (replacing an expired one), and drops expired keys.
pub async fn store(conn: &mut AsyncPgConnection, account_id: i64, key: &Key, status: u16, body: &Value) -> Result<(), AppError> {
    diesel::delete(k::table.filter(k::created_at.lt(cutoff()))).execute(conn).await?;
    diesel::insert_into(k::table)
        .values((k::account_id.eq(account_id), k::key.eq(&key.key), k::request_hash.eq(&key.hash), k::status.eq(i32::from(status)), k::body.eq(body)))
        .on_conflict((k::account_id, k::key))
        .do_update()
        .set((k::request_hash.eq(&key.hash), k::status.eq(i32::from(status)), k::body.eq(body), k::created_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await?;
    Ok(())
}
