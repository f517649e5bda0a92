//! `GET /jobs/{id}`: a job's status, progress and result, for the one who started it.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Actor;
use crate::error::{AppError, AppResult, Problem};
use crate::schema::jobs;
use crate::{AppState, db};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_job);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobProgress {
    #[schema(example = 1200)]
    pub done: i64,
    #[schema(example = 5000)]
    pub total: i64,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

/// A background job (an import, for one): poll it until `status` is `succeeded` or `failed`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 42, "kind": "import", "status": "running", "progress": {"done": 1200, "total": 5000},
    "result": null, "error": null, "attempts": 1,
    "created_at": "2026-11-23T08:00:00Z", "started_at": "2026-11-23T08:00:01Z", "finished_at": null
}))]
pub struct Job {
    pub id: i64,
    /// What the job does (`import`, …).
    pub kind: String,
    pub status: JobStatus,
    /// Work done so far, when the job reports it.
    pub progress: Option<JobProgress>,
    /// The job's answer once it succeeded (an import's report, for one).
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// How many times a worker took it up (more than 1 after a server restarted mid-job).
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

type JobRow = (
    i64,
    String,
    String,
    Option<serde_json::Value>,
    Option<serde_json::Value>,
    Option<String>,
    i32,
    Option<i64>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

/// Loads a job as the API shows it, with its creator.
pub async fn load(conn: &mut diesel_async::AsyncPgConnection, id: i64) -> Result<Option<(Job, Option<i64>)>, AppError> {
    let row: Option<JobRow> = jobs::table
        .find(id)
        .select((
            jobs::id,
            jobs::kind,
            jobs::status,
            jobs::progress,
            jobs::result,
            jobs::error,
            jobs::attempts,
            jobs::created_by,
            jobs::created_at,
            jobs::started_at,
            jobs::finished_at,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|(id, kind, status, progress, result, error, attempts, created_by, created_at, started_at, finished_at)| {
        let status = match status.as_str() {
            "running" => JobStatus::Running,
            "succeeded" => JobStatus::Succeeded,
            "failed" => JobStatus::Failed,
            _ => JobStatus::Queued,
        };
        let progress = progress.and_then(|p| Some(JobProgress { done: p.get("done")?.as_i64()?, total: p.get("total")?.as_i64()? }));
        (Job { id, kind, status, progress, result, error, attempts, created_at, started_at, finished_at }, created_by)
    }))
}

/// A job you started (political_dept over the whole institution sees every job).
#[utoipa::path(
    tag = "jobs",
    params(("id" = i64, Path, description = "Job id", example = 42)),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The job", body = Job),
        (status = 403, description = "Someone else's job", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/jobs/{id}")]
pub async fn get_job(state: web::Data<AppState>, actor: Actor, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let mut conn = db::conn(&state.pool).await?;
    let (job, created_by) = load(&mut conn, id.into_inner()).await?.ok_or_else(|| AppError::not_found("job", "任务"))?;
    if created_by != Some(actor.account_id) && !actor.scope().all {
        return Err(AppError::out_of_scope());
    }
    Ok(HttpResponse::Ok().insert_header((actix_web::http::header::CACHE_CONTROL, "no-store")).json(job))
}
