//! Background jobs: one PostgreSQL table (`jobs`) for every kind of work that outlives a request.
//!
//! Server processes keep no state, so the queue is the table: [`enqueue`] inserts a row, and each
//! `dangjian serve` process runs one [`Worker`] that claims the oldest queued job with
//! `FOR UPDATE SKIP LOCKED` (so however many processes there are, a job runs once), runs the
//! handler registered for its kind, and records the result or the error. A running job's
//! heartbeat is refreshed while it runs; a job whose heartbeat stops (the process died) is queued
//! again, up to [`MAX_ATTEMPTS`] times, so work survives a restart. The worker also sweeps the
//! uploaded import files (retention and encryption: crate::imports::files) at start and every
//! 10 minutes.
//!
//! A module adds a kind by registering a handler in [`Registry::standard`]:
//!
//! ```ignore
//! r.register("import", |ctx: JobContext, payload: serde_json::Value| async move {
//!     ctx.progress(0, 100).await?;
//!     Ok(serde_json::json!({"rows": 100}))
//! });
//! ```

pub mod routes;

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Jsonb, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::FutureExt;
use serde_json::{Value, json};

use crate::config::Config;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::schema::jobs;

pub use routes::routes;

/// A job that lost its process this many times is failed rather than queued again.
pub const MAX_ATTEMPTS: i32 = 3;

/// Queues a job and answers its id. Call it inside the caller's transaction, so the job exists
/// exactly when the caller's write commits.
pub async fn enqueue(conn: &mut AsyncPgConnection, kind: &str, payload: Value, created_by: Option<i64>) -> Result<i64, AppError> {
    Ok(diesel::insert_into(jobs::table)
        .values((jobs::kind.eq(kind), jobs::payload.eq(payload), jobs::created_by.eq(created_by)))
        .returning(jobs::id)
        .get_result(conn)
        .await?)
}

/// What a handler gets besides its payload: the pool, the configuration (data key), the job's
/// id and creator, and a way to report progress.
#[derive(Clone)]
pub struct JobContext {
    pub pool: DbPool,
    pub config: Arc<Config>,
    pub job_id: i64,
    pub created_by: Option<i64>,
    last_progress: Arc<Mutex<Option<Instant>>>,
}

/// Progress is written at most this often (the last step, done == total, always).
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

impl JobContext {
    /// Records `done` of `total` on the job (throttled; the final step is always written).
    pub async fn progress(&self, done: i64, total: i64) -> Result<(), AppError> {
        {
            let mut last = self.last_progress.lock().map_err(|_| AppError::internal("progress lock poisoned"))?;
            let now = Instant::now();
            if done < total && last.is_some_and(|t| now.duration_since(t) < PROGRESS_EVERY) {
                return Ok(());
            }
            *last = Some(now);
        }
        let mut conn = db::conn(&self.pool).await?;
        diesel::update(jobs::table.find(self.job_id).filter(jobs::status.eq("running")))
            .set((jobs::progress.eq(json!({"done": done, "total": total})), jobs::heartbeat_at.eq(diesel::dsl::now)))
            .execute(&mut conn)
            .await?;
        Ok(())
    }
}

pub type JobFuture = Pin<Box<dyn Future<Output = Result<Value, AppError>> + Send>>;
type Handler = Arc<dyn Fn(JobContext, Value) -> JobFuture + Send + Sync>;

/// The handlers by job kind.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Handler>,
}

impl Registry {
    pub fn new() -> Self {
        Registry::default()
    }

    /// The kinds a server process runs. Modules add theirs here.
    pub fn standard() -> Self {
        let mut r = Registry::new();
        r.register("noop", noop);
        r.register(crate::imports::job::KIND, crate::imports::job::run);
        r
    }

    pub fn register<F, Fut>(&mut self, kind: &str, handler: F) -> &mut Self
    where
        F: Fn(JobContext, Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, AppError>> + Send + 'static,
    {
        self.handlers.insert(kind.to_string(), Arc::new(move |ctx, payload| Box::pin(handler(ctx, payload))));
        self
    }

    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.handlers.keys().map(String::as_str)
    }
}

/// The built-in kind "noop": reports `steps` progress steps (default 1), `sleep_ms` apart (at most
/// 10 s in all), and answers its payload. For checking a deployment's worker, and for tests.
async fn noop(ctx: JobContext, payload: Value) -> Result<Value, AppError> {
    let steps = payload.get("steps").and_then(Value::as_i64).unwrap_or(1).clamp(1, 100);
    let sleep_ms = payload.get("sleep_ms").and_then(Value::as_u64).unwrap_or(0).min(10_000 / steps as u64);
    for done in 1..=steps {
        tokio::time::sleep(Duration::from_millis(sleep_ms)).await;
        ctx.progress(done, steps).await?;
    }
    Ok(json!({"echo": payload}))
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Jsonb)]
    payload: Value,
    #[diesel(sql_type = Nullable<BigInt>)]
    created_by: Option<i64>,
}

/// Claims jobs and runs them, one at a time.
#[derive(Clone)]
pub struct Worker {
    pub pool: DbPool,
    pub config: Arc<Config>,
    pub registry: Arc<Registry>,
    /// Names the claiming process in `locked_by` (host, pid and a random suffix).
    pub id: String,
    /// How long to wait when the queue is empty.
    pub poll: Duration,
    /// How often a running job's heartbeat is refreshed.
    pub heartbeat: Duration,
    /// A running job whose heartbeat is older than this has lost its process.
    pub stale_after: Duration,
}

impl Worker {
    pub fn new(pool: DbPool, config: Config, registry: Registry) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
        Worker {
            pool,
            config: Arc::new(config),
            registry: Arc::new(registry),
            id: format!("{host}:{}:{:08x}", std::process::id(), rand::random::<u32>()),
            poll: Duration::from_millis(500),
            heartbeat: Duration::from_secs(10),
            stale_after: Duration::from_secs(60),
        }
    }

    /// Runs forever: re-queues abandoned jobs now and then, claims and runs queued ones, and waits
    /// `poll` when there are none. Database errors are logged and retried.
    pub async fn run(self) {
        log::info!("job worker {} started (kinds: {})", self.id, self.registry.kinds().collect::<Vec<_>>().join(", "));
        let mut last_sweep: Option<Instant> = None;
        let mut last_files_sweep: Option<Instant> = None;
        loop {
            if last_sweep.is_none_or(|t| t.elapsed() >= self.heartbeat) {
                if let Err(e) = self.requeue_stale().await {
                    log::warn!("job worker: re-queueing stale jobs: {e}");
                }
                last_sweep = Some(Instant::now());
            }
            if last_files_sweep.is_none_or(|t| t.elapsed() >= crate::imports::files::SWEEP_EVERY) {
                if let Err(e) = self.sweep_import_files().await {
                    log::warn!("job worker: sweeping import files: {e}");
                }
                last_files_sweep = Some(Instant::now());
            }
            match self.run_once().await {
                Ok(Some(_)) => {}
                Ok(None) => tokio::time::sleep(self.poll).await,
                Err(e) => {
                    // The database is down or refusing: say so, and wait longer than a poll.
                    log::warn!("job worker: {e}");
                    tokio::time::sleep(self.poll.max(Duration::from_secs(5))).await;
                }
            }
        }
    }

    /// Runs queued jobs until none is left; answers how many ran (for tests and tools).
    pub async fn drain(&self) -> Result<usize, AppError> {
        let mut n = 0;
        while self.run_once().await?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    /// Uploaded import files: those past the retention deleted, those stored in clear encrypted
    /// (crate::imports::files::sweep; one process at a time). Run when the worker starts and every
    /// 10 minutes.
    pub async fn sweep_import_files(&self) -> Result<crate::imports::files::Swept, AppError> {
        let mut conn = db::conn(&self.pool).await?;
        crate::imports::files::sweep(&mut conn, &self.config.data_key, self.config.import_file_days).await
    }

    /// Running jobs whose process stopped beating: queued again, or failed after
    /// [`MAX_ATTEMPTS`]. Answers how many were queued again.
    pub async fn requeue_stale(&self) -> Result<usize, AppError> {
        let mut conn = db::conn(&self.pool).await?;
        let secs = i32::try_from(self.stale_after.as_secs()).unwrap_or(i32::MAX);
        diesel::sql_query(
            "UPDATE jobs SET status = 'failed', finished_at = now(), locked_by = NULL,
                    error = 'abandoned: the process running it stopped ' || attempts || ' times'
              WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1) AND attempts >= $2",
        )
        .bind::<Integer, _>(secs)
        .bind::<Integer, _>(MAX_ATTEMPTS)
        .execute(&mut conn)
        .await?;
        let n = diesel::sql_query(
            "UPDATE jobs SET status = 'queued', locked_by = NULL, started_at = NULL, heartbeat_at = NULL
              WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1)",
        )
        .bind::<Integer, _>(secs)
        .execute(&mut conn)
        .await?;
        if n > 0 {
            log::warn!("job worker {}: {n} job(s) lost their process and were queued again", self.id);
        }
        Ok(n)
    }

    /// Claims the oldest queued job, if any, runs it to the end and answers its id.
    pub async fn run_once(&self) -> Result<Option<i64>, AppError> {
        let claimed: Option<Claimed> = {
            let mut conn = db::conn(&self.pool).await?;
            diesel::sql_query(
                "UPDATE jobs SET status = 'running', started_at = now(), heartbeat_at = now(),
                        attempts = attempts + 1, locked_by = $1, progress = NULL
                  WHERE id = (SELECT id FROM jobs WHERE status = 'queued' ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
                  RETURNING id, kind, payload, created_by",
            )
            .bind::<Text, _>(&self.id)
            .get_result(&mut conn)
            .await
            .optional()?
        };
        let Some(job) = claimed else { return Ok(None) };
        let id = job.id;
        let outcome = match self.registry.handlers.get(&job.kind).cloned() {
            None => Err(format!("no handler for job kind {:?} in this server", job.kind)),
            Some(handler) => {
                let ctx = JobContext {
                    pool: self.pool.clone(),
                    config: self.config.clone(),
                    job_id: id,
                    created_by: job.created_by,
                    last_progress: Arc::new(Mutex::new(None)),
                };
                let work = AssertUnwindSafe(handler(ctx, job.payload)).catch_unwind();
                tokio::pin!(work);
                let mut beat = tokio::time::interval(self.heartbeat);
                beat.tick().await;
                loop {
                    tokio::select! {
                        r = &mut work => break match r {
                            Ok(Ok(v)) => Ok(v),
                            Ok(Err(e)) => Err(describe(&e)),
                            Err(_) => Err("the job's handler panicked".to_string()),
                        },
                        _ = beat.tick() => {
                            if let Err(e) = self.beat(id).await {
                                log::warn!("job {id}: heartbeat: {e}");
                            }
                        }
                    }
                }
            }
        };
        let mut conn = db::conn(&self.pool).await?;
        let q = diesel::update(jobs::table.find(id).filter(jobs::status.eq("running")).filter(jobs::locked_by.eq(&self.id)));
        let written = match outcome {
            Ok(result) => {
                q.set((jobs::status.eq("succeeded"), jobs::result.eq(result), jobs::finished_at.eq(diesel::dsl::now), jobs::locked_by.eq(None::<String>)))
                    .execute(&mut conn)
                    .await?
            }
            Err(error) => {
                log::warn!("job {id} ({}) failed: {error}", job.kind);
                q.set((jobs::status.eq("failed"), jobs::error.eq(error), jobs::finished_at.eq(diesel::dsl::now), jobs::locked_by.eq(None::<String>)))
                    .execute(&mut conn)
                    .await?
            }
        };
        if written == 0 {
            log::warn!("job {id}: finished, but another worker had taken it over (its heartbeat went stale)");
        }
        Ok(Some(id))
    }

    async fn beat(&self, id: i64) -> Result<(), AppError> {
        let mut conn = db::conn(&self.pool).await?;
        diesel::update(jobs::table.find(id).filter(jobs::locked_by.eq(&self.id))).set(jobs::heartbeat_at.eq(diesel::dsl::now)).execute(&mut conn).await?;
        Ok(())
    }
}

/// The error text stored on a failed job, for the SPA to show as it is: the problem's detail in
/// Chinese and English (or its code) and its fields.
fn describe(e: &AppError) -> String {
    let mut s = match &e.detail {
        Some((en, zh)) => format!("{zh}（{en}）"),
        None => e.code.to_string(),
    };
    if let Some(internal) = &e.internal {
        log::error!("job failed: {internal}");
    }
    if e.detail.is_none() && !e.fields.is_empty() {
        s.push_str(": ");
        s.push_str(&e.fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "));
    }
    s
}
