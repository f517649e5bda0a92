//! The connection pool and the embedded migrations.

use diesel::migration::MigrationVersion;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::AppError;

pub type DbPool = Pool<AsyncPgConnection>;
pub type PooledConn = Object<AsyncPgConnection>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub fn pool(database_url: &str, max_size: usize) -> Result<DbPool, AppError> {
    // Fast recycling skips a `SELECT 1` round trip on every checkout; a broken connection is
    // still detected (diesel marks it) and replaced.
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, config);
    Pool::builder(manager)
        .max_size(max_size)
        .build()
        .map_err(|e| AppError::internal(format!("building the database pool: {e}")))
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
