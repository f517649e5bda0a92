//! The statistics endpoints: scope checks and parameters; the counting is in [`super::queries`].

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use super::queries;
use super::types::{OrgStats, Structure, Trend};
use crate::AppState;
use crate::auth::Actor;
use crate::error::{AppError, AppResult, Problem};
use crate::http::ApiQuery;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StructureQuery {
    /// The org whose subtree is counted (default: your single scope root).
    #[param(example = 3)]
    pub org_id: Option<i64>,
    /// The date counted (default today; not after today).
    #[param(example = "2025-12-31")]
    pub as_of: Option<NaiveDate>,
}

/// The structure of the membership of an org's subtree on a date: dimensions, orgs, alerts, pipeline.
#[utoipa::path(
    tag = "stats",
    params(StructureQuery),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The figures of the subtree on the date", body = Structure),
        (status = 400, description = "A malformed parameter (named in the problem)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "org_id is outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such org_id, or as_of after today (named in the problem)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/structure")]
pub async fn stats_structure(state: web::Data<AppState>, actor: Actor, query: ApiQuery<StructureQuery>) -> AppResult<HttpResponse> {
    let today = state.config.clock.today();
    let as_of = queries::as_of_or_today(query.as_of, today)?;
    let (mut conn, org) = queries::target(&state.pool, &actor, query.org_id).await?;
    let structure = queries::structure(&mut conn, org.id, as_of, today).await?;
    Ok(HttpResponse::Ok().json(structure))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendQuery {
    /// The org whose subtree is counted (default: your single scope root).
    #[param(example = 3)]
    pub org_id: Option<i64>,
    /// How many past year ends (1-50, default 10).
    #[param(example = 10, minimum = 1, maximum = 50)]
    pub years: Option<i32>,
}

/// Members, full and probationary, at each year end of the last `years` years and today.
#[utoipa::path(
    tag = "stats",
    params(TrendQuery),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "One point per year end, then today", body = Trend),
        (status = 400, description = "A malformed parameter (named in the problem)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "org_id is outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such org_id, or years outside 1-50", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/trend")]
pub async fn stats_trend(state: web::Data<AppState>, actor: Actor, query: ApiQuery<TrendQuery>) -> AppResult<HttpResponse> {
    let years = query.years.unwrap_or(10);
    if !(1..=50).contains(&years) {
        return Err(AppError::field("years", "out_of_range", "years must be between 1 and 50", "年数须在 1 到 50 之间"));
    }
    let (mut conn, org) = queries::target(&state.pool, &actor, query.org_id).await?;
    Ok(HttpResponse::Ok().json(queries::trend(&mut conn, org.id, years, state.config.clock.today()).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgsQuery {
    /// The root of the tree (default: your single scope root).
    #[param(example = 3)]
    pub org_id: Option<i64>,
    /// The date counted (default today; not after today).
    #[param(example = "2025-12-31")]
    pub as_of: Option<NaiveDate>,
    /// Levels below org_id (0-10, default 2).
    #[param(example = 2, minimum = 0, maximum = 10)]
    pub depth: Option<i32>,
}

/// The orgs of a subtree down to `depth` levels, each with the members of its own subtree (for a treemap).
#[utoipa::path(
    tag = "stats",
    params(OrgsQuery),
    security(("bearer" = ["branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "The orgs, by depth then code", body = OrgStats),
        (status = 400, description = "A malformed parameter (named in the problem)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "org_id is outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such org_id, as_of after today, or depth outside 0-10", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/orgs")]
pub async fn stats_orgs(state: web::Data<AppState>, actor: Actor, query: ApiQuery<OrgsQuery>) -> AppResult<HttpResponse> {
    let as_of = queries::as_of_or_today(query.as_of, state.config.clock.today())?;
    let depth = query.depth.unwrap_or(2);
    if !(0..=10).contains(&depth) {
        return Err(AppError::field("depth", "out_of_range", "depth must be between 0 and 10", "层级深度须在 0 到 10 之间"));
    }
    let (mut conn, org) = queries::target(&state.pool, &actor, query.org_id).await?;
    Ok(HttpResponse::Ok().json(queries::org_stats(&mut conn, org.id, as_of, depth).await?))
}
