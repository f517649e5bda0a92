-- Login throttling, in the database so that every server process enforces the same limits
-- (auth/throttle.rs). By username, whether an account has it or not: the answers must not tell
-- which usernames exist, so an unknown name is throttled and locked exactly like a known one.
CREATE TABLE login_throttle_users (
    username         text PRIMARY KEY,
    failures         integer NOT NULL,
    next_attempt_at  timestamptz,
    locked_until     timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_throttle_users_updated_idx ON login_throttle_users (updated_at);

-- By client address: password spraying (one guess at each of many accounts) never reaches an
-- account's limit, but every guess counts against the address it comes from.
CREATE TABLE login_throttle_addrs (
    addr             text PRIMARY KEY,
    failures         integer NOT NULL,
    next_attempt_at  timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_throttle_addrs_updated_idx ON login_throttle_addrs (updated_at);

-- Addresses an account logged in from. Its lock does not apply there: someone guessing from
-- elsewhere does not lock the owner out of their usual desk (the address's own limit still does).
CREATE TABLE account_login_addrs (
    account_id     bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    addr           text NOT NULL,
    last_login_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, addr)
);

-- The per-account counters move to login_throttle_users (a lock in force is carried over);
-- accounts.failed_logins, next_attempt_at and locked_until are no longer read or written.
INSERT INTO login_throttle_users (username, failures, next_attempt_at, locked_until)
SELECT username, failed_logins, next_attempt_at, locked_until FROM accounts
WHERE failed_logins > 0 OR locked_until > now();
