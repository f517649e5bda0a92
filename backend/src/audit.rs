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
        .values(NewEntry { account_id: by.account_id, ip: by.ip, action, entity, entity_id, before: before.map(to_json), after: after.map(to_json) })
        .execute(conn)
        .await?;
    Ok(())
}

fn to_json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// One entry of a bulk write: (entity id, before, after), the records as JSON text (a
/// `serde_json::Value` of a member takes several times the memory of its text).
pub type Entry = (i64, Option<String>, String);

/// Records many entries of one action on one entity kind (an import, a sync batch) in one
/// statement per few thousand entries, the JSON bound as arrays to an `unnest`.
pub async fn record_many(conn: &mut AsyncPgConnection, by: By<'_>, action: &str, entity: &str, entries: &[Entry]) -> Result<(), AppError> {
    use diesel::sql_types::{Array, BigInt, Nullable, Text};
    for chunk in entries.chunks(5_000) {
        let ids: Vec<i64> = chunk.iter().map(|e| e.0).collect();
        let before: Vec<Option<&str>> = chunk.iter().map(|e| e.1.as_deref()).collect();
        let after: Vec<&str> = chunk.iter().map(|e| e.2.as_str()).collect();
        diesel::sql_query(
            "INSERT INTO audit_log (account_id, ip, action, entity, entity_id, before, after) \
             SELECT $1, $2, $3, $4, u.id, u.before::jsonb, u.after::jsonb FROM unnest($5::bigint[], $6::text[], $7::text[]) AS u(id, before, after)",
        )
        .bind::<Nullable<BigInt>, _>(by.account_id)
        .bind::<Nullable<Text>, _>(by.ip)
        .bind::<Text, _>(action)
        .bind::<Text, _>(entity)
        .bind::<Array<BigInt>, _>(&ids)
        .bind::<Array<Nullable<Text>>, _>(&before)
        .bind::<Array<Text>, _>(&after)
        .execute(conn)
        .await?;
    }
    Ok(())
}
