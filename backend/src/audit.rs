//! The audit log: every write (and every bulk read of personal data) with who, when, from where,
//! and the record before and after. Callers pass API representations with personal data masked.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use crate::auth::Actor;
use crate::error::AppError;
use crate::schema::audit_log;

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
struct NewEntry<'a> {
    account_id: Option<i64>,
    ip: Option<&'a str>,
    action: &'a str,
    entity: &'a str,
    entity_id: Option<i64>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
}

/// Who did it: an API caller, or a command-line tool (no account).
#[derive(Debug, Clone, Copy)]
pub struct By<'a> {
    pub account_id: Option<i64>,
    pub ip: Option<&'a str>,
}

impl<'a> From<&'a Actor> for By<'a> {
    fn from(a: &'a Actor) -> Self {
        By { account_id: Some(a.account_id), ip: a.ip.as_deref() }
    }
}

impl By<'static> {
    pub const CLI: By<'static> = By { account_id: None, ip: Some("cli") };
}

pub async fn record<B: Serialize, A: Serialize>(
    conn: &mut AsyncPgConnection,
    by: By<'_>,
    action: &str,
    entity: &str,
    entity_id: Option<i64>,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<(), AppError> {
    diesel::insert_into(audit_log::table)
        .values(NewEntry {
            account_id: by.account_id,
            ip: by.ip,
            action,
            entity,
            entity_id,
            before: before.map(to_json),
            after: after.map(to_json),
        })
        .execute(conn)
        .await?;
    Ok(())
}

fn to_json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}
