//! Configuration from the environment, with development defaults that need no setup.

use std::path::{Path, PathBuf};

use base64::Engine;
use rand::RngCore;

use crate::clock::Clock;
use crate::crypto::DataKey;

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: String,
    pub jwt_secret: Vec<u8>,
    pub data_key: DataKey,
    pub static_dir: PathBuf,
    pub admin_password: Option<String>,
    /// Database connections per process (DATABASE_POOL_SIZE).
    pub pool_size: usize,
    /// Seconds an access token lives; short because grants are carried inside it.
    pub access_ttl_secs: i64,
    pub refresh_ttl_days: i64,
    /// Where attachments are kept (DANGJIAN_STORAGE: `postgres`, the default, or `dir:/path`).
    pub storage: crate::storage::Storage,
    /// Largest meeting attachment accepted, in bytes (DANGJIAN_ATTACHMENT_MAX_BYTES, 10 MiB).
    pub attachment_max_bytes: usize,
    /// The institution's clock and time zone (DANGJIAN_TIME_ZONE, DANGJIAN_NOW): crate::clock.
    pub clock: Clock,
    /// Proxies whose X-Forwarded-For / Forwarded is believed (DANGJIAN_TRUSTED_PROXIES, addresses
    /// or CIDRs); from anyone else the peer address is the client's (auth::client_addr).
    pub trusted_proxies: Vec<crate::auth::client_addr::Net>,
    /// The longest pause allowed between two chunks of a request body (DANGJIAN_BODY_IDLE_SECS,
    /// 20 s): crate::http::timed_body.
    pub body_idle_timeout: std::time::Duration,
    /// How long a request waits for a pooled database connection before it is answered 503 with
    /// Retry-After (DATABASE_POOL_TIMEOUT_SECS, 5 s): crate::db::pool.
    pub pool_timeout: std::time::Duration,
    /// How many days an uploaded import file is kept before the job worker's sweep deletes it
    /// (DANGJIAN_IMPORT_FILE_DAYS, 30): crate::imports::files.
    pub import_file_days: u32,
}

/// A whole number of seconds, 1 or more, from the variable.
fn seconds(name: &'static str, default: std::time::Duration) -> Result<std::time::Duration, ConfigError> {
    match env(name) {
        Some(v) => v.parse::<u64>().ok().filter(|n| *n > 0).map(std::time::Duration::from_secs).ok_or(ConfigError::Invalid(name, v)),
        None => Ok(default),
    }
}

/// How long a request waits for a pooled connection unless DATABASE_POOL_TIMEOUT_SECS says.
pub const DEFAULT_POOL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// 10 MiB: a phone photo or a scanned sign-in sheet.
pub const DEFAULT_ATTACHMENT_MAX_BYTES: usize = 10 * 1024 * 1024;

/// Uploaded import files are kept this many days by default.
pub const DEFAULT_IMPORT_FILE_DAYS: u32 = 30;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("DATABASE_URL is not set (make run sets it, or starts a private cluster)")]
    MissingDatabaseUrl,
    #[error("{0} is invalid: {1}")]
    Invalid(&'static str, String),
    #[error("{0}")]
    Clock(String),
    #[error("cannot keep a generated secret in {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

pub fn data_dir() -> PathBuf {
    env("DANGJIAN_DATA_DIR").map_or_else(|| PathBuf::from(".data"), PathBuf::from)
}

/// In development a secret is generated once and kept under the data dir, so tokens survive a
/// restart and several local processes agree; production sets the variable instead.
fn kept_secret(dir: &Path, file: &str) -> Result<String, ConfigError> {
    let path = dir.join(file);
    let io = |source| ConfigError::Io { path: path.display().to_string(), source };
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_string();
        if !existing.is_empty() {
            return Ok(existing);
        }
    }
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = base64::engine::general_purpose::STANDARD.encode(bytes);
    std::fs::write(&path, &secret).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    log::warn!("generated {} (set the environment variable in production)", path.display());
    Ok(secret)
}

impl Config {
    pub fn database_url() -> Result<String, ConfigError> {
        env("DATABASE_URL").ok_or(ConfigError::MissingDatabaseUrl)
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let dir = data_dir();
        let jwt_secret = match env("JWT_SECRET") {
            Some(s) => s,
            None => kept_secret(&dir, "jwt_secret")?,
        };
        if jwt_secret.len() < 16 {
            return Err(ConfigError::Invalid("JWT_SECRET", "use at least 16 characters".into()));
        }
        let key_text = match env("DANGJIAN_DATA_KEY") {
            Some(s) => s,
            None => kept_secret(&dir, "data_key")?,
        };
        let data_key = DataKey::from_base64(&key_text).map_err(|e| ConfigError::Invalid("DANGJIAN_DATA_KEY", format!("{e} (32 bytes in base64)")))?;
        Ok(Config {
            database_url: Self::database_url()?,
            bind: env("BIND").unwrap_or_else(|| "127.0.0.1:8080".into()),
            jwt_secret: jwt_secret.into_bytes(),
            data_key,
            static_dir: env("DANGJIAN_STATIC_DIR").map_or_else(|| PathBuf::from("frontend/dist"), PathBuf::from),
            admin_password: env("DANGJIAN_ADMIN_PASSWORD"),
            pool_size: match env("DATABASE_POOL_SIZE") {
                Some(v) => v.parse().ok().filter(|n| *n > 0).ok_or(ConfigError::Invalid("DATABASE_POOL_SIZE", v))?,
                None => 32,
            },
            access_ttl_secs: 15 * 60,
            refresh_ttl_days: 30,
            storage: match env("DANGJIAN_STORAGE") {
                Some(v) => crate::storage::Storage::parse(&v).map_err(|e| ConfigError::Invalid("DANGJIAN_STORAGE", e))?,
                None => crate::storage::Storage::Postgres,
            },
            attachment_max_bytes: match env("DANGJIAN_ATTACHMENT_MAX_BYTES") {
                Some(v) => v.parse().ok().filter(|n| *n > 0).ok_or(ConfigError::Invalid("DANGJIAN_ATTACHMENT_MAX_BYTES", v))?,
                None => DEFAULT_ATTACHMENT_MAX_BYTES,
            },
            clock: Clock::from_env().map_err(ConfigError::Clock)?,
            trusted_proxies: match env("DANGJIAN_TRUSTED_PROXIES") {
                Some(v) => crate::auth::client_addr::Net::parse_list(&v).map_err(|e| ConfigError::Invalid("DANGJIAN_TRUSTED_PROXIES", e))?,
                None => Vec::new(),
            },
            body_idle_timeout: seconds("DANGJIAN_BODY_IDLE_SECS", crate::http::DEFAULT_BODY_IDLE)?,
            pool_timeout: seconds("DATABASE_POOL_TIMEOUT_SECS", DEFAULT_POOL_TIMEOUT)?,
            import_file_days: match env("DANGJIAN_IMPORT_FILE_DAYS") {
                Some(v) => v.parse().ok().filter(|n| *n > 0).ok_or(ConfigError::Invalid("DANGJIAN_IMPORT_FILE_DAYS", v))?,
                None => DEFAULT_IMPORT_FILE_DAYS,
            },
        })
    }

    /// A configuration for tests and tools that bring their own database and keys. The clock still
    /// comes from the environment, so that `make test-dates` runs the tests on other dates.
    pub fn for_database(database_url: String, data_key: DataKey, jwt_secret: &[u8]) -> Result<Self, ConfigError> {
        Ok(Config {
            database_url,
            bind: "127.0.0.1:0".into(),
            jwt_secret: jwt_secret.to_vec(),
            data_key,
            static_dir: PathBuf::from("frontend/dist"),
            admin_password: None,
            pool_size: 8,
            access_ttl_secs: 15 * 60,
            refresh_ttl_days: 30,
            storage: crate::storage::Storage::Postgres,
            attachment_max_bytes: DEFAULT_ATTACHMENT_MAX_BYTES,
            clock: Clock::from_env().map_err(ConfigError::Clock)?,
            trusted_proxies: Vec::new(),
            body_idle_timeout: crate::http::DEFAULT_BODY_IDLE,
            pool_timeout: DEFAULT_POOL_TIMEOUT,
            import_file_days: DEFAULT_IMPORT_FILE_DAYS,
        })
    }
}
