//! Argon2id password hashes, computed off the async threads (each takes tens of milliseconds).

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::error::AppError;

/// Verified against when the username is unknown, so that the answer takes as long as for a
/// known one and timing does not reveal which usernames exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3FQgEgFVrJTcGk3rrMtGuZs4IzwNGA3CZa+0u7U2PBY";

pub fn hash_blocking(password: &str) -> Result<String, AppError> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| AppError::internal(format!("hashing a password: {e}")))
}

pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

/// True when the password matches; an unparsable stored hash counts as no match.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
        let ok = Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok();
        known && ok
    })
    .await
    .map_err(AppError::from)
}

/// Minimal password rules; institutions' own rules can tighten them.
pub fn check_strength(password: &str) -> Result<(), AppError> {
    let long_enough = password.chars().count() >= 8;
    let kinds = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .into_iter()
    .filter(|k| *k)
    .count();
    if long_enough && kinds >= 2 {
        Ok(())
    } else {
        Err(AppError::field(
            "password",
            "weak_password",
            "use at least 8 characters mixing at least two of: lower case, upper case, digits, symbols",
            "密码至少 8 位，并包含小写字母、大写字母、数字、符号中的至少两类",
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let h = hash("Secret-123".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("Secret-123".into(), Some(h.clone())).await.unwrap());
        assert!(!verify("secret-123".into(), Some(h)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
    }

    /// An unknown username costs a full hash check, like a known one (the dummy hash parses and
    /// has the parameters of the hashes we store).
    #[tokio::test]
    async fn the_dummy_hash_costs_what_a_real_one_does() {
        let real = hash("Secret-123".into()).await.unwrap();
        let params = |h: &str| argon2::PasswordHash::new(h).map(|p| p.params.to_string()).unwrap();
        assert_eq!(params(DUMMY_HASH), params(&real));
        let time = async |stored: Option<String>| {
            let start = std::time::Instant::now();
            for _ in 0..3 {
                assert!(!verify("Wrong-1234".into(), stored.clone()).await.unwrap());
            }
            start.elapsed().as_secs_f64()
        };
        let (known, unknown) = (time(Some(real)).await, time(None).await);
        assert!((0.5..2.0).contains(&(known / unknown)), "known {known} s, unknown {unknown} s");
    }

    #[test]
    fn strength() {
        assert!(check_strength("short1").is_err());
        assert!(check_strength("alllowercase").is_err());
        assert!(check_strength("lower1234").is_ok());
    }
}
