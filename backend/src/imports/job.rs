//! Large imports as background jobs (job kind `import`).
//!
//! The upload stores the file and the import's row and queues the job in one transaction, and
//! answers 202 `{job_id, import_id}` at once; whichever server process claims the job reads the
//! file back from PostgreSQL (decrypting it: `files::load`) and runs [`run_import`] on it as the uploader (their account and the
//! scope they had when they uploaded), reporting progress on the job. The job's result is the
//! import's report, which is also kept on the import's row as for any import.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::{ImportKind, ImportOptions, Importer, run_import, store_upload};
use crate::auth::Scope;
use crate::crypto::DataKey;
use crate::db;
use crate::error::AppError;
use crate::jobs::{self, JobContext};
use crate::schema::imports;

pub const KIND: &str = "import";

/// The answer to an upload that runs as a job.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"job_id": 42, "import_id": 12}))]
pub struct ImportQueued {
    /// Poll `GET /api/v1/jobs/{job_id}`: its `result` is the import's report.
    pub job_id: i64,
    /// The import's record (`GET /api/v1/imports/{import_id}` once the job has finished).
    pub import_id: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    import_id: i64,
    skip_invalid: bool,
    ip: Option<String>,
}

/// Stores the upload and queues its job, in one transaction.
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    key: &DataKey,
    by: &Importer,
    kind: ImportKind,
    file_name: &str,
    bytes: &[u8],
    options: ImportOptions,
) -> Result<ImportQueued, AppError> {
    conn.transaction::<_, AppError, _>(async move |conn| {
        let import_id = store_upload(conn, key, by, kind, file_name, bytes, options.dry_run).await?;
        let payload = serde_json::to_value(Payload { import_id, skip_invalid: options.skip_invalid, ip: by.ip.clone() })
            .map_err(|e| AppError::internal(format!("job payload: {e}")))?;
        let job_id = jobs::enqueue(conn, KIND, payload, Some(by.account_id)).await?;
        diesel::update(imports::table.find(import_id)).set(imports::job_id.eq(job_id)).execute(conn).await?;
        Ok(ImportQueued { job_id, import_id })
    })
    .await
}

/// The job handler: runs the stored upload, reporting progress on the job.
pub async fn run(ctx: JobContext, payload: Value) -> Result<Value, AppError> {
    let p: Payload = serde_json::from_value(payload).map_err(|e| AppError::internal(format!("import job payload: {e}")))?;
    let mut conn = db::conn(&ctx.pool).await?;
    type Stored = (String, String, Option<i64>, bool, Vec<i64>, bool, bool);
    let (kind, file_name, created_by, scope_all, scope_roots, dry_run, committed): Stored = imports::table
        .find(p.import_id)
        .select((imports::kind, imports::file_name, imports::created_by, imports::scope_all, imports::scope_roots, imports::dry_run, imports::committed))
        .first(&mut conn)
        .await?;
    if committed {
        // A worker that died after the commit and before marking the job done: the job is
        // taken up again, and must not import twice.
        let report: Value = imports::table.find(p.import_id).select(imports::report).first(&mut conn).await?;
        return Ok(report);
    }
    let account_id = created_by.ok_or_else(|| AppError::internal("the import's account was deleted"))?;
    let kind = ImportKind::parse(&kind).ok_or_else(|| AppError::internal(format!("stored import kind {kind:?}")))?;
    // Decrypted here; gone only if the job waited past the retention (the sweep spares queued jobs).
    let bytes = super::files::load(&mut conn, &ctx.config.data_key, p.import_id).await?.ok_or_else(|| super::files::deleted(ctx.config.import_file_days))?;
    let importer = Importer { account_id, ip: p.ip, scope: Scope { all: scope_all, org_roots: scope_roots, person_id: None }, today: ctx.config.clock.today() };
    let options = ImportOptions { dry_run, skip_invalid: p.skip_invalid };

    // run_import reports progress through a plain callback; the latest figure is forwarded to
    // the job's row by a task of its own (JobContext::progress throttles the writes).
    let (tx, mut rx) = tokio::sync::watch::channel((0usize, 0usize));
    let forward = {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let (done, total) = *rx.borrow_and_update();
                if let Err(e) = ctx.progress(done as i64, total as i64).await {
                    log::warn!("job {}: recording progress: {e}", ctx.job_id);
                }
            }
        })
    };
    let result = run_import(&mut conn, &ctx.config.data_key, &importer, kind, &file_name, &bytes, options, Some(p.import_id), &mut |done, total| {
        let _ = tx.send((done, total));
    })
    .await;
    drop(tx);
    let _ = forward.await;
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            // The import's row keeps its report, which now says why nothing was imported.
            if !e.status.is_server_error()
                && let Err(write) = super::record_failure(&mut conn, p.import_id, &e).await
            {
                log::warn!("import {}: recording the failure: {write}", p.import_id);
            }
            return Err(e);
        }
    };
    serde_json::to_value(report).map_err(|e| AppError::internal(format!("import report: {e}")))
}
