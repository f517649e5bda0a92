//! The connection pool and the embedded migrations.

use diesel::migration::MigrationVersion;
use diesel_async::AsyncPgConnection;
use diesel_async::SimpleAsyncConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use futures_util::FutureExt;

use std::time::Duration;

use crate::clock::Clock;
use crate::error::AppError;

pub type DbPool = Pool<AsyncPgConnection>;
pub type PooledConn = Object<AsyncPgConnection>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The pool: `max_size` connections, each with the institution's session settings; a request
/// waits at most `wait` for one, then is answered 503 with Retry-After (error.rs), so that an
/// exhausted pool sheds load instead of queueing every request behind it.
pub fn pool(database_url: &str, max_size: usize, wait: Duration, clock: Clock) -> Result<DbPool, AppError> {
    // Fast recycling skips a `SELECT 1` round trip on every checkout; a broken connection is
    // still detected (diesel marks it) and replaced.
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |url| connect(url.to_string(), clock).boxed());
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, config);
    Pool::builder(manager)
        .max_size(max_size)
        .wait_timeout(Some(wait))
        .create_timeout(Some(wait))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| AppError::internal(format!("building the database pool: {e}")))
}

/// The session settings that make the database read dates as the institution does: its time
/// zone (so `current_date`, `now()::date` and date_trunc are the institution's), and the clock's
/// offset, which `dangjian_today()` adds (migration 2026-12-07-000000_clock). Set once per
/// connection: neither changes while the process runs.
pub fn session_sql(clock: &Clock) -> String {
    // A chrono-tz name is [A-Za-z0-9/_+-] only, so quoting it is enough.
    format!("SET TIME ZONE '{}'; SET dangjian.clock_offset = '{} seconds'", clock.time_zone().name(), clock.offset_secs())
}

/// One connection with the institution's session settings (the pool's, and the CLI's).
pub async fn connect(database_url: String, clock: Clock) -> diesel::ConnectionResult<AsyncPgConnection> {
    let mut conn = <AsyncPgConnection as diesel_async::AsyncConnection>::establish(&database_url).await?;
    conn.batch_execute(&session_sql(&clock)).await.map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

/// A text as a literal inside a LIKE pattern (its `\`, `%` and `_` escaped).
pub fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

pub async fn conn(pool: &DbPool) -> Result<PooledConn, AppError> {
    pool.get().await.map_err(AppError::from)
}

pub type MigrationError = Box<dyn std::error::Error + Send + Sync>;

/// Runs pending migrations. The harness is synchronous, so it runs through the async connection
/// wrapper on a blocking thread (diesel-async's own harness panics under actix's runtime).
pub async fn run_migrations(database_url: &str) -> Result<Vec<String>, MigrationError> {
    let url = database_url.to_string();
    tokio::task::spawn_blocking(move || -> Result<Vec<String>, MigrationError> {
        use diesel::Connection;
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)?;
        let applied: Vec<MigrationVersion> = conn.run_pending_migrations(MIGRATIONS)?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
    .await?
}

/// Reverts every migration (used by the migration round-trip test).
pub async fn revert_all(database_url: &str) -> Result<usize, MigrationError> {
    let url = database_url.to_string();
    tokio::task::spawn_blocking(move || -> Result<usize, MigrationError> {
        use diesel::Connection;
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)?;
        Ok(conn.revert_all_migrations(MIGRATIONS)?.len())
    })
    .await?
}
