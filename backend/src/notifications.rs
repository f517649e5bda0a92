//! In-platform notifications and the outbox a sender for other channels drains.
//!
//! A notification is written in the transaction of what it announces ([`notify`]), so a planned
//! meeting and its notices commit together or not at all. The SPA's bell reads them at once
//! (`GET /notifications`); a sender for SMS or mail (to come) claims unsent rows with
//! [`claim_unsent`] (`FOR UPDATE SKIP LOCKED`, so any number of senders on any number of
//! processes never take the same row) and marks them with [`mark_sent`] in the same transaction.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Actor;
use crate::error::{AppError, AppResult, Problem};
use crate::http::{ApiQuery, Page, PageParams};
use crate::schema::notifications;
use crate::{AppState, db};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_notifications).service(unread_count).service(mark_read);
}

/// A notification as the person it is for sees it.
#[derive(Debug, Clone, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = notifications)]
#[schema(example = json!({"id": 41, "kind": "meeting_planned", "title": "会议通知：党课", "body": "学习贯彻党的二十届四中全会精神；2026-12-10 14:30；三楼会议室",
    "link": "/meetings/12", "created_at": "2026-12-01T02:00:00Z", "read_at": null}))]
pub struct Notification {
    pub id: i64,
    /// meeting_planned | meeting_changed | meeting_cancelled | ...
    pub kind: String,
    pub title: String,
    pub body: String,
    /// The SPA route to open.
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// A row of the outbox, as a sender claims it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct OutboxItem {
    pub id: i64,
    pub person_id: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub channel: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
}

/// What a notification announces, for [`notify`].
#[derive(Debug, Clone, Copy)]
pub struct Notice<'a> {
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub link: Option<&'a str>,
    pub entity: Option<&'a str>,
    pub entity_id: Option<i64>,
}

/// Writes one notification per person (duplicates once), in the caller's transaction.
pub async fn notify(conn: &mut AsyncPgConnection, person_ids: &[i64], n: Notice<'_>) -> Result<usize, AppError> {
    let mut ids = person_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(0);
    }
    // The people as one bound array, not a VALUES row each: a branch of 12,000 members would
    // otherwise pass PostgreSQL's 65,535 parameters of one statement.
    use diesel::sql_types::{Array, BigInt, Nullable, Text};
    Ok(diesel::sql_query(
        "INSERT INTO notifications (person_id, kind, title, body, link, entity, entity_id) \
         SELECT p, $2, $3, $4, $5, $6, $7 FROM unnest($1::bigint[]) AS p",
    )
    .bind::<Array<BigInt>, _>(&ids)
    .bind::<Text, _>(n.kind)
    .bind::<Text, _>(n.title)
    .bind::<Text, _>(n.body)
    .bind::<Nullable<Text>, _>(n.link)
    .bind::<Nullable<Text>, _>(n.entity)
    .bind::<Nullable<BigInt>, _>(n.entity_id)
    .execute(conn)
    .await?)
}

/// Claims up to `limit` unsent notifications, oldest first, for a sender: the rows stay locked
/// (`FOR UPDATE SKIP LOCKED`) until the caller's transaction ends, so concurrent senders skip
/// them instead of sending them twice. Each claim counts as an attempt. Call inside a
/// transaction, send, then [`mark_sent`] the ones delivered before committing.
pub async fn claim_unsent(conn: &mut AsyncPgConnection, limit: i64) -> Result<Vec<OutboxItem>, AppError> {
    let ids: Vec<i64> = notifications::table
        .filter(notifications::sent_at.is_null())
        .order(notifications::id.asc())
        .limit(limit)
        .select(notifications::id)
        .for_update()
        .skip_locked()
        .load(conn)
        .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut items: Vec<OutboxItem> = diesel::update(notifications::table.filter(notifications::id.eq_any(&ids)))
        .set(notifications::attempts.eq(notifications::attempts + 1))
        .returning(OutboxItem::as_returning())
        .get_results(conn)
        .await?;
    items.sort_by_key(|i| i.id);
    Ok(items)
}

/// Marks notifications as sent on their channel.
pub async fn mark_sent(conn: &mut AsyncPgConnection, ids: &[i64]) -> Result<usize, AppError> {
    Ok(diesel::update(notifications::table.filter(notifications::id.eq_any(ids))).set(notifications::sent_at.eq(diesel::dsl::now)).execute(conn).await?)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only unread ones (true) or only read ones (false).
    #[param(example = true)]
    pub unread: Option<bool>,
}

/// Your own notifications, newest first. An account without a person record has none.
#[utoipa::path(
    tag = "notifications",
    params(NotificationQuery, PageParams),
    security(("bearer" = ["member", "branch", "committee", "political_dept"])),
    responses(
        (status = 200, description = "A page of your notifications", body = Page<Notification>),
        (status = 422, description = "Invalid paging", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/notifications")]
pub async fn list_notifications(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<NotificationQuery>,
    paging: ApiQuery<PageParams>,
) -> AppResult<HttpResponse> {
    let (page, size) = PageParams::resolve(paging.page, paging.page_size)?;
    let Some(person) = actor.person_id else {
        return Ok(HttpResponse::Ok().json(Page::<Notification> { items: Vec::new(), total: 0, page, page_size: size }));
    };
    let unread = query.unread;
    let build = || {
        let mut q = notifications::table.filter(notifications::person_id.eq(person)).into_boxed();
        match unread {
            Some(true) => q = q.filter(notifications::read_at.is_null()),
            Some(false) => q = q.filter(notifications::read_at.is_not_null()),
            None => {}
        }
        q
    };
    let mut conn = db::conn(&state.pool).await?;
    let total: i64 = build().count().get_result(&mut conn).await?;
    let items: Vec<Notification> = build()
        .order((notifications::created_at.desc(), notifications::id.desc()))
        .offset((page - 1) * size)
        .limit(size)
        .select(Notification::as_select())
        .load(&mut conn)
        .await?;
    Ok(HttpResponse::Ok().json(Page { items, total, page, page_size: size }))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"count": 3}))]
pub struct UnreadCount {
    pub count: i64,
}

/// How many of your notifications are unread (the bell's badge).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = ["member", "branch", "committee", "political_dept"])),
    responses((status = 200, description = "The unread count", body = UnreadCount))
)]
#[get("/notifications/unread-count")]
pub async fn unread_count(state: web::Data<AppState>, actor: Actor) -> AppResult<HttpResponse> {
    let Some(person) = actor.person_id else { return Ok(HttpResponse::Ok().json(UnreadCount { count: 0 })) };
    let mut conn = db::conn(&state.pool).await?;
    let count: i64 =
        notifications::table.filter(notifications::person_id.eq(person)).filter(notifications::read_at.is_null()).count().get_result(&mut conn).await?;
    Ok(HttpResponse::Ok().json(UnreadCount { count }))
}

/// Mark one of your notifications read (again: no change). Someone else's answers 404, as if it
/// did not exist.
#[utoipa::path(
    tag = "notifications",
    params(("id" = i64, Path, description = "Notification id", example = 41)),
    security(("bearer" = ["member", "branch", "committee", "political_dept"])),
    responses(
        (status = 204, description = "Marked read"),
        (status = 404, description = "No such notification of yours", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/notifications/{id}/read")]
pub async fn mark_read(state: web::Data<AppState>, actor: Actor, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let not_found = || AppError::not_found("notification", "通知");
    let person = actor.person_id.ok_or_else(not_found)?;
    let mut conn = db::conn(&state.pool).await?;
    let found: Option<i64> = diesel::update(notifications::table.filter(notifications::id.eq(id)).filter(notifications::person_id.eq(person)))
        .set(notifications::read_at.eq(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>>("COALESCE(read_at, now())")))
        .returning(notifications::id)
        .get_result(&mut conn)
        .await
        .optional()?;
    found.ok_or_else(not_found)?;
    Ok(HttpResponse::NoContent().finish())
}
