//! Demo data: filled in next.
use diesel_async::AsyncPgConnection;

use crate::crypto::DataKey;
use crate::error::AppError;

pub const DEMO_PASSWORD: &str = "Demo-2026";

pub async fn load(_conn: &mut AsyncPgConnection, _key: &DataKey, _if_empty: bool) -> Result<Option<String>, AppError> {
    Err(AppError::internal("demo data not yet written"))
}

pub async fn logins(_conn: &mut AsyncPgConnection) -> Result<Vec<(String, String)>, AppError> {
    Ok(Vec::new())
}
