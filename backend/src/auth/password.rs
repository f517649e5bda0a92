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

/// The shortest password accepted when one is set (through the API or `dangjian user create`).
pub const MIN_LENGTH: usize = 12;
/// The longest (the estimator's work grows with the length).
pub const MAX_LENGTH: usize = 128;
/// zxcvbn's score a password must reach: 3 is "safely unguessable" (about 10^10 guesses).
const MIN_SCORE: u8 = 3;
/// Words of this platform an attacker would try first, beside the account's own.
const PLATFORM_WORDS: [&str; 6] = ["dangjian", "zhihuidangjian", "dangyuan", "dangwei", "zhibu", "demo"];

/// The password policy, applied when a password is set (not to stored ones: the demo's and the
/// tests' fixtures are written directly). At least [`MIN_LENGTH`] characters, and not guessable
/// by zxcvbn (dictionaries of common passwords, names and words, keyboard patterns, dates,
/// repeats and sequences, l33t) with `context` — the username, the person's name and its pinyin
/// — and the platform's words as extra dictionary words. The error names `field`.
pub fn check_strength(field: &str, password: &str, context: &[&str]) -> Result<(), AppError> {
    if password.chars().count() < MIN_LENGTH {
        return Err(AppError::field(field, "password_too_short", format!("use at least {MIN_LENGTH} characters"), format!("密码至少 {MIN_LENGTH} 位")));
    }
    if password.chars().count() > MAX_LENGTH {
        return Err(AppError::field(field, "password_too_long", format!("use at most {MAX_LENGTH} characters"), format!("密码最多 {MAX_LENGTH} 位")));
    }
    let mut inputs: Vec<String> = Vec::new();
    for c in context.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        inputs.push(c.to_lowercase());
        if !c.is_ascii() {
            let (initials, full) = crate::members::pinyin::name_keys(c);
            inputs.extend([initials, full].into_iter().filter(|k| k.len() >= 2));
        }
    }
    inputs.extend(PLATFORM_WORDS.iter().map(|w| w.to_string()));
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if u8::from(estimate.score()) >= MIN_SCORE {
        return Ok(());
    }
    let warning = estimate.feedback().and_then(|f| f.warning()).map(|w| format!(" ({w})")).unwrap_or_default();
    Err(AppError::field(
        field,
        "weak_password",
        format!(
            "this password is too easy to guess{warning}: avoid common passwords, names, words, dates and keyboard patterns; several unrelated words make a strong one"
        ),
        "密码太容易被猜出：请勿使用常见密码、姓名或用户名、单词、日期、键盘顺序；可用几个不相关的词组合",
    ))
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
        let code = |pw: &str, ctx: &[&str]| check_strength("password", pw, ctx).err().map(|e| e.fields[0].code.to_string());
        // The probe's passwords, and other short ones.
        assert_eq!(code("password1", &[]).as_deref(), Some("password_too_short"));
        assert_eq!(code("aaaaaaa1", &[]).as_deref(), Some("password_too_short"));
        assert_eq!(code("Demo-2026", &[]).as_deref(), Some("password_too_short"));
        // Long enough but common, patterned, or made of the account's own name.
        for weak in ["password1234", "aaaaaaaaaaaa1", "qwertyuiop123", "1234567890abc", "Password2026!", "Dangjian@2026"] {
            assert_eq!(code(weak, &[]).as_deref(), Some("weak_password"), "{weak}");
        }
        assert_eq!(code("zhangsan19850312", &["zhangsan_b1", "张三"]).as_deref(), Some("weak_password"));
        assert_eq!(code("zhibu01zhibu01!", &["zhibu01"]).as_deref(), Some("weak_password"));
        // Unrelated words, or random characters, pass.
        for strong in ["Autumn-Maple-Ledger-47", "correct horse battery staple", "u8#Kq2!vXp9w"] {
            assert_eq!(code(strong, &["zhangsan", "张三"]), None, "{strong}");
        }
    }
}
