//! Login throttling (docs/api.md, Authentication), in PostgreSQL so that every server process
//! enforces the same limits and none keeps state of its own.
//!
//! Every attempt is *reserved* before its password is checked, by one `INSERT … ON CONFLICT DO
//! UPDATE … WHERE <not waiting, not locked> RETURNING` per key: the row lock orders concurrent
//! attempts, each sees the ones before it, and an attempt that finds a wait or a lock is refused
//! without a password check. The reservation counts the attempt as a failure; a success clears it.
//! A burst of parallel requests therefore gets no more password checks than sequential ones.
//!
//! Two keys:
//! - the username as typed, whether an account has it or not: an unknown username is counted,
//!   slowed and locked exactly as a known one, so the answers do not tell which exist. Three
//!   failures are answered at once, then each waits twice as long (2 s … 30 s); the tenth locks
//!   for 15 minutes. Failures are forgotten an hour after the last one, and by a login.
//! - the client's address (auth::client_addr): twenty failures, whatever the usernames, then
//!   each waits twice as long (2 s … 5 min), forgotten an hour after the last attempt. Password
//!   spraying (one guess at each of many accounts) is slowed by this key, and so is locking
//!   other people's accounts: after its twenty, an address gets a handful of attempts every
//!   quarter of an hour, fewer than the ten a lock takes.
//!
//! An account's lock and waits do not apply at an address it has logged in from in the last 90
//! days (`account_login_addrs`): someone guessing from elsewhere does not lock the owner out of
//! their usual desk. There only the address's own limit applies.

use actix_web::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::AppError;

/// Failures of a username answered at once; after these each waits twice as long (capped).
pub const USER_FREE: i32 = 3;
const USER_MAX_WAIT_SECS: i32 = 30;
/// Failures of a username that lock it, and for how long.
pub const LOCK_AFTER: i32 = 10;
pub const LOCK_MINUTES: i32 = 15;
/// Failures from one address answered at once, and the longest wait after them.
pub const ADDR_FREE: i32 = 20;
const ADDR_MAX_WAIT_SECS: i32 = 300;
/// Counts are forgotten this long after the last attempt.
const FORGET_SECS: i32 = 3600;
/// An address an account logged in from stays its owner's this long.
const KNOWN_ADDR_DAYS: i32 = 90;
/// Longest username stored as a key (a longer one is no account's).
const MAX_KEY_CHARS: usize = 64;
/// The key of requests without a peer address (actix's test requests).
const NO_ADDR: &str = "-";

/// A reserved attempt: the password may now be checked once.
#[derive(Debug)]
pub struct Attempt {
    username: String,
    addr: Option<String>,
    /// The address is one the account logged in from: its lock and waits do not apply.
    owner_addr: bool,
    /// The username's failures, this attempt included.
    failures: i32,
}

#[derive(QueryableByName)]
struct Reserved {
    #[diesel(sql_type = Integer)]
    failures: i32,
}

#[derive(QueryableByName)]
struct Waits {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    next_attempt_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    locked_until: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    flag: bool,
}

fn key(username: &str) -> String {
    username.chars().take(MAX_KEY_CHARS).collect()
}

/// 429 `login_throttled`, waiting until `next` (or a second).
fn throttled(next: Option<DateTime<Utc>>) -> AppError {
    let mut e = AppError::new(StatusCode::TOO_MANY_REQUESTS, "login_throttled", "Too many attempts", "尝试过于频繁")
        .with_detail("wait a moment before trying again", "请稍候再试");
    e.retry_after = Some(next.map_or(1, |n| (n - Utc::now()).num_seconds().max(0) + 1));
    e
}

/// 423 `account_locked` until `until`.
fn locked(until: DateTime<Utc>) -> AppError {
    let mut e = AppError::new(StatusCode::LOCKED, "account_locked", "Account locked", "账号已锁定").with_detail(
        format!("too many failed logins; the account is locked until {}", until.format("%H:%M UTC")),
        format!("登录失败次数过多，账号已锁定，请于 {} 后再试", (until + Duration::hours(8)).format("%H:%M")),
    );
    e.retry_after = Some((until - Utc::now()).num_seconds().max(1));
    e
}

pub fn invalid_credentials() -> AppError {
    AppError::unauthorized("invalid_credentials", "wrong username or password", "用户名或密码错误")
}

/// Reserves one password check for `username` from `addr`, or answers why not (429, 423).
pub async fn reserve(conn: &mut AsyncPgConnection, username: &str, addr: Option<&str>) -> Result<Attempt, AppError> {
    let username = key(username);
    let addr_key = addr.unwrap_or(NO_ADDR);
    let by_addr: Option<Reserved> = diesel::sql_query(
        "INSERT INTO login_throttle_addrs AS t (addr, failures) VALUES ($1, 1)
         ON CONFLICT (addr) DO UPDATE SET
            failures = CASE WHEN t.updated_at < now() - make_interval(secs => $4) THEN 1 ELSE t.failures + 1 END,
            next_attempt_at = CASE WHEN t.updated_at < now() - make_interval(secs => $4) OR t.failures + 1 <= $2 THEN NULL
                              ELSE now() + make_interval(secs => least($3, power(2, t.failures + 1 - $2))::double precision) END,
            updated_at = now()
         WHERE t.next_attempt_at IS NULL OR t.next_attempt_at <= now()
         RETURNING failures",
    )
    .bind::<Text, _>(addr_key)
    .bind::<Integer, _>(ADDR_FREE)
    .bind::<Integer, _>(ADDR_MAX_WAIT_SECS)
    .bind::<Integer, _>(FORGET_SECS)
    .get_result(conn)
    .await
    .optional()?;
    if by_addr.is_none() {
        let next: Option<DateTime<Utc>> = crate::schema::login_throttle_addrs::table
            .find(addr_key)
            .select(crate::schema::login_throttle_addrs::next_attempt_at)
            .first(conn)
            .await
            .optional()?
            .flatten();
        return Err(throttled(next));
    }
    let owner_addr = match addr {
        Some(addr) => {
            diesel::sql_query(
                "SELECT EXISTS (SELECT 1 FROM account_login_addrs k JOIN accounts a ON a.id = k.account_id
                                WHERE a.username = $1 AND k.addr = $2 AND k.last_login_at > now() - make_interval(days => $3)) AS flag",
            )
            .bind::<Text, _>(&username)
            .bind::<Text, _>(addr)
            .bind::<Integer, _>(KNOWN_ADDR_DAYS)
            .get_result::<Flag>(conn)
            .await?
            .flag
        }
        None => false,
    };
    // `fresh`: the lock has passed, or the last failure is long ago; the count starts again.
    let fresh = "(t.locked_until <= now() OR (t.locked_until IS NULL AND t.updated_at < now() - make_interval(secs => $7)))";
    let n = format!("(CASE WHEN {fresh} THEN 1 ELSE t.failures + 1 END)");
    let sql = format!(
        "INSERT INTO login_throttle_users AS t (username, failures) VALUES ($1, 1)
         ON CONFLICT (username) DO UPDATE SET
            failures = {n},
            locked_until = CASE WHEN {fresh} THEN NULL
                                WHEN t.locked_until > now() THEN t.locked_until
                                WHEN {n} >= $4 THEN now() + make_interval(mins => $5)
                                ELSE NULL END,
            next_attempt_at = CASE WHEN {n} <= $3 THEN NULL
                                   ELSE now() + make_interval(secs => least($6, power(2, {n} - $3))::double precision) END,
            updated_at = now()
         WHERE $2 OR ((t.locked_until IS NULL OR t.locked_until <= now()) AND (t.next_attempt_at IS NULL OR t.next_attempt_at <= now()))
         RETURNING failures"
    );
    let by_user: Option<Reserved> = diesel::sql_query(sql)
        .bind::<Text, _>(&username)
        .bind::<Bool, _>(owner_addr)
        .bind::<Integer, _>(USER_FREE)
        .bind::<Integer, _>(LOCK_AFTER)
        .bind::<Integer, _>(LOCK_MINUTES)
        .bind::<Integer, _>(USER_MAX_WAIT_SECS)
        .bind::<Integer, _>(FORGET_SECS)
        .get_result(conn)
        .await
        .optional()?;
    let Some(Reserved { failures }) = by_user else {
        let waits: Option<Waits> = diesel::sql_query("SELECT next_attempt_at, locked_until FROM login_throttle_users WHERE username = $1")
            .bind::<Text, _>(&username)
            .get_result(conn)
            .await
            .optional()?;
        return Err(match waits {
            Some(Waits { locked_until: Some(until), .. }) if until > Utc::now() => locked(until),
            Some(Waits { next_attempt_at, .. }) => throttled(next_attempt_at),
            None => throttled(None),
        });
    };
    Ok(Attempt { username, addr: addr.map(str::to_string), owner_addr, failures })
}

impl Attempt {
    /// The answer to a wrong password (or an unknown username: the same), with the attempts
    /// left before the lock once there are five or fewer, or the lock this failure set.
    pub async fn failed(self, conn: &mut AsyncPgConnection) -> Result<AppError, AppError> {
        // Now and then, forget what is long past (keys of unknown usernames accumulate).
        if rand::random::<u8>() == 0 {
            diesel::sql_query(
                "DELETE FROM login_throttle_users WHERE updated_at < now() - interval '1 day' AND (locked_until IS NULL OR locked_until < now())",
            )
            .execute(conn)
            .await?;
            diesel::sql_query("DELETE FROM login_throttle_addrs WHERE updated_at < now() - interval '1 day'").execute(conn).await?;
        }
        if self.owner_addr {
            return Ok(invalid_credentials());
        }
        let left = LOCK_AFTER - self.failures;
        Ok(if left <= 0 {
            let mut e = AppError::new(StatusCode::LOCKED, "account_locked", "Account locked", "账号已锁定").with_detail(
                format!("too many failed logins; the account is locked for {LOCK_MINUTES} minutes"),
                format!("登录失败次数过多，账号已锁定 {LOCK_MINUTES} 分钟"),
            );
            e.retry_after = Some(i64::from(LOCK_MINUTES) * 60);
            e
        } else if left <= 5 {
            invalid_credentials().with_detail(
                format!("wrong username or password; {left} attempts left before the account locks"),
                format!("用户名或密码错误，再失败 {left} 次账号将被锁定"),
            )
        } else {
            invalid_credentials()
        })
    }

    /// The password was right: clears the username's failures and takes this attempt off the
    /// address's, and remembers the address as the account's. Refuses (423) if the username was
    /// locked meanwhile, unless the address is the account's own.
    pub async fn succeeded(self, conn: &mut AsyncPgConnection, account_id: i64) -> Result<(), AppError> {
        let still_locked: Waits = diesel::sql_query(
            "WITH cleared AS (DELETE FROM login_throttle_users WHERE username = $1 AND ($2 OR locked_until IS NULL OR locked_until <= now()) RETURNING 1)
             SELECT NULL::timestamptz AS next_attempt_at,
                    (SELECT locked_until FROM login_throttle_users WHERE username = $1 AND NOT $2 AND locked_until > now()) AS locked_until",
        )
        .bind::<Text, _>(&self.username)
        .bind::<Bool, _>(self.owner_addr)
        .get_result(conn)
        .await?;
        if let Some(until) = still_locked.locked_until {
            return Err(locked(until));
        }
        diesel::sql_query(
            "UPDATE login_throttle_addrs SET failures = greatest(failures - 1, 0),
                    next_attempt_at = CASE WHEN failures - 1 <= $2 THEN NULL ELSE next_attempt_at END
             WHERE addr = $1",
        )
        .bind::<Text, _>(self.addr.as_deref().unwrap_or(NO_ADDR))
        .bind::<Integer, _>(ADDR_FREE)
        .execute(conn)
        .await?;
        if let Some(addr) = &self.addr {
            diesel::sql_query(
                "INSERT INTO account_login_addrs (account_id, addr) VALUES ($1, $2)
                 ON CONFLICT (account_id, addr) DO UPDATE SET last_login_at = now()",
            )
            .bind::<BigInt, _>(account_id)
            .bind::<Text, _>(addr)
            .execute(conn)
            .await?;
        }
        Ok(())
    }
}
