//! Files (meeting photos, scanned sign-in sheets) behind one interface, so that the server keeps
//! nothing of its own: in PostgreSQL (`stored_files`, the default) or in a directory shared by all
//! processes. See `crate::config`.
//!
//! Keys are generated here ([`Storage::new_key`]: random hex), never taken from a client's file
//! name, so a name like `../../etc/passwd` can never become a path; the directory backend also
//! refuses any key that is not of that shape before it touches the disk.

use std::path::PathBuf;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rand::RngCore;

use crate::error::AppError;
use crate::schema::stored_files;

/// Where file contents live (`DANGJIAN_STORAGE`: `postgres`, or `dir:/path`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// The `stored_files` table: written in the caller's transaction, backed up with the database.
    Postgres,
    /// One file per key under this directory (shared by all processes, e.g. an NFS mount).
    Dir(PathBuf),
}

impl Storage {
    /// Parses the setting: `postgres` or `dir:/absolute/path`.
    pub fn parse(s: &str) -> Result<Storage, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("postgres") {
            return Ok(Storage::Postgres);
        }
        match s.strip_prefix("dir:") {
            Some(p) if !p.trim().is_empty() => Ok(Storage::Dir(PathBuf::from(p.trim()))),
            _ => Err(format!("{s:?}: use `postgres` or `dir:/path/to/files`")),
        }
    }

    /// A fresh key: 32 random hex digits.
    pub fn new_key() -> String {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        hex::encode(bytes)
    }

    /// Stores `bytes` under `key`. With PostgreSQL, part of the caller's transaction; with a
    /// directory, written at once (to a temporary name, then renamed, so a reader never sees half
    /// a file) — the caller removes it again if its transaction fails.
    pub async fn put(&self, conn: &mut AsyncPgConnection, key: &str, bytes: &[u8]) -> Result<(), AppError> {
        match self {
            Storage::Postgres => {
                diesel::insert_into(stored_files::table).values((stored_files::key.eq(key), stored_files::content.eq(bytes))).execute(conn).await?;
                Ok(())
            }
            Storage::Dir(_) => {
                let path = self.path_of(key)?;
                let bytes = bytes.to_vec();
                tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    let tmp = path.with_extension("part");
                    std::fs::write(&tmp, &bytes)?;
                    std::fs::rename(&tmp, &path)
                })
                .await?
                .map_err(|e| AppError::internal(format!("storing a file: {e}")))
            }
        }
    }

    /// The bytes stored under `key`, or `None`.
    pub async fn get(&self, conn: &mut AsyncPgConnection, key: &str) -> Result<Option<Vec<u8>>, AppError> {
        match self {
            Storage::Postgres => Ok(stored_files::table.find(key).select(stored_files::content).first(conn).await.optional()?),
            Storage::Dir(_) => {
                let path = self.path_of(key)?;
                tokio::task::spawn_blocking(move || match std::fs::read(&path) {
                    Ok(b) => Ok(Some(b)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(AppError::internal(format!("reading a stored file: {e}"))),
                })
                .await?
            }
        }
    }

    /// Removes what is stored under `key` (nothing there is not an error). With PostgreSQL, part
    /// of the caller's transaction; with a directory, call it after the transaction committed.
    pub async fn delete(&self, conn: &mut AsyncPgConnection, key: &str) -> Result<(), AppError> {
        match self {
            Storage::Postgres => {
                diesel::delete(stored_files::table.find(key)).execute(conn).await?;
                Ok(())
            }
            Storage::Dir(_) => {
                let path = self.path_of(key)?;
                tokio::task::spawn_blocking(move || match std::fs::remove_file(&path) {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(AppError::internal(format!("removing a stored file: {e}"))),
                })
                .await?
            }
        }
    }

    /// Whether writes take part in the database transaction (so a rollback undoes them).
    pub fn is_transactional(&self) -> bool {
        matches!(self, Storage::Postgres)
    }

    /// `dir/ab/abcdef…` for a key of [`Storage::new_key`]'s shape (the first two digits spread
    /// the files over 256 subdirectories); any other key is refused.
    fn path_of(&self, key: &str) -> Result<PathBuf, AppError> {
        let Storage::Dir(dir) = self else {
            return Err(AppError::internal("path_of on the postgres storage"));
        };
        if key.len() != 32 || !key.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(AppError::internal(format!("refusing a storage key that is not 32 hex digits: {key:?}")));
        }
        Ok(dir.join(&key[..2]).join(key))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_setting() {
        assert_eq!(Storage::parse("postgres").unwrap(), Storage::Postgres);
        assert_eq!(Storage::parse("dir:/var/lib/dangjian/files").unwrap(), Storage::Dir(PathBuf::from("/var/lib/dangjian/files")));
        assert!(Storage::parse("s3://bucket").is_err());
        assert!(Storage::parse("dir:").is_err());
    }

    #[test]
    fn keys_are_hex_and_paths_stay_inside_the_directory() {
        let s = Storage::Dir(PathBuf::from("/files"));
        let key = Storage::new_key();
        assert_eq!(s.path_of(&key).unwrap(), PathBuf::from("/files").join(&key[..2]).join(&key));
        for bad in ["../../etc/passwd", "", "ABCDEF0123456789abcdef0123456789", "0123456789abcdef0123456789abcde/"] {
            assert!(s.path_of(bad).is_err(), "{bad}");
        }
    }
}
