//! The uploaded files of imports (`import_files`, issue 14): stored encrypted with the data key,
//! kept [`Config::import_file_days`](crate::config::Config) days, then deleted.
//!
//! * [`store`] encrypts the whole upload as one AES-256-GCM message (`DataKey::encrypt_bytes`,
//!   the format of the personal-data columns; a file is at most 20 MB) and marks the row
//!   `encrypted`.
//! * [`load`] decrypts it (a row stored in clear before encryption came is read as it is).
//! * [`sweep`], run by every server's job worker when it starts and every [`SWEEP_EVERY`], under a
//!   transaction-scoped advisory lock so that one process sweeps at a time: deletes the files of
//!   imports older than the retention (not those whose job has yet to run), noting
//!   `imports.file_deleted_at` (the import's row and report stay), then encrypts the rows left in
//!   clear by earlier versions (SQL has no key, so the migration could not), one at a time.

use std::time::Duration;

use actix_web::http::StatusCode;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::crypto::DataKey;
use crate::error::AppError;
use crate::schema::import_files;

/// How often a server's job worker sweeps (besides once when it starts).
pub const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);
/// The most clear rows one sweep encrypts (each is read and written on its own).
const ENCRYPT_PER_SWEEP: usize = 20;
/// The advisory lock key of the sweep ("dj-imfil").
const SWEEP_LOCK: i64 = 0x646a_2d69_6d66_696c;

/// Stores an import's upload, encrypted.
pub async fn store(conn: &mut AsyncPgConnection, key: &DataKey, import_id: i64, bytes: &[u8]) -> Result<(), AppError> {
    let sealed = key.encrypt_bytes(bytes).map_err(|e| AppError::internal(format!("encrypting the upload: {e}")))?;
    diesel::insert_into(import_files::table)
        .values((import_files::import_id.eq(import_id), import_files::content.eq(sealed), import_files::encrypted.eq(true)))
        .execute(conn)
        .await?;
    Ok(())
}

/// An import's upload, decrypted; None when there is none (the sweep deleted it).
pub async fn load(conn: &mut AsyncPgConnection, key: &DataKey, import_id: i64) -> Result<Option<Vec<u8>>, AppError> {
    let row: Option<(Vec<u8>, bool)> =
        import_files::table.find(import_id).select((import_files::content, import_files::encrypted)).first(conn).await.optional()?;
    match row {
        None => Ok(None),
        Some((content, false)) => Ok(Some(content)),
        Some((sealed, true)) => {
            key.decrypt_bytes(&sealed).map(Some).map_err(|e| AppError::internal(format!("decrypting the upload of import {import_id}: {e}")))
        }
    }
}

/// The answer for an import whose file the sweep deleted.
pub fn deleted(days: u32) -> AppError {
    AppError::new(StatusCode::GONE, "import_file_deleted", "The uploaded file was deleted", "上传的文件已删除").with_detail(
        format!("uploaded files are kept {days} days (DANGJIAN_IMPORT_FILE_DAYS); the import's report is still there"),
        format!("上传的文件只保留 {days} 天，已删除；导入报告仍可查看"),
    )
}

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Files deleted for their age.
    pub deleted: usize,
    /// Rows stored in clear, now encrypted.
    pub encrypted: usize,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

#[derive(QueryableByName)]
struct Clear {
    #[diesel(sql_type = BigInt)]
    import_id: i64,
    #[diesel(sql_type = diesel::sql_types::Bytea)]
    content: Vec<u8>,
}

/// Deletes the files older than `days` and encrypts rows left in clear (see the module's docs).
/// Another process sweeping at the same moment makes this one do nothing.
pub async fn sweep(conn: &mut AsyncPgConnection, key: &DataKey, days: u32) -> Result<Swept, AppError> {
    let key = key.clone();
    conn.transaction::<_, AppError, _>(async move |conn| {
        let l: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked").bind::<BigInt, _>(SWEEP_LOCK).get_result(conn).await?;
        if !l.locked {
            return Ok(Swept::default());
        }
        let deleted = diesel::sql_query(
            "WITH gone AS (
                 DELETE FROM import_files f USING imports i
                  WHERE f.import_id = i.id AND i.created_at < now() - make_interval(days => $1)
                    AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = i.job_id AND j.status IN ('queued', 'running'))
                  RETURNING f.import_id)
             UPDATE imports SET file_deleted_at = now() WHERE id IN (SELECT import_id FROM gone)",
        )
        .bind::<Integer, _>(i32::try_from(days).unwrap_or(i32::MAX))
        .execute(conn)
        .await?;
        let mut encrypted = 0;
        while encrypted < ENCRYPT_PER_SWEEP {
            let Some(row) = diesel::sql_query("SELECT import_id, content FROM import_files WHERE NOT encrypted ORDER BY import_id LIMIT 1 FOR UPDATE")
                .get_result::<Clear>(conn)
                .await
                .optional()?
            else {
                break;
            };
            let sealed = key.encrypt_bytes(&row.content).map_err(|e| AppError::internal(format!("encrypting the upload of import {}: {e}", row.import_id)))?;
            diesel::update(import_files::table.find(row.import_id))
                .set((import_files::content.eq(sealed), import_files::encrypted.eq(true)))
                .execute(conn)
                .await?;
            encrypted += 1;
        }
        if deleted > 0 || encrypted > 0 {
            log::info!("import files: {deleted} deleted after {days} days, {encrypted} stored in clear now encrypted");
        }
        Ok(Swept { deleted, encrypted })
    })
    .await
}
