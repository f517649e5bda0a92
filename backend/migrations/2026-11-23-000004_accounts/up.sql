-- Login accounts, linked to a person when the user is one (the admin need not be).
CREATE TABLE accounts (
    id               bigserial PRIMARY KEY,
    username         text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.@-]{2,64}$'),
    password_hash    text NOT NULL,
    person_id        bigint UNIQUE REFERENCES people (id) ON DELETE SET NULL,
    disabled         boolean NOT NULL DEFAULT false,
    -- Failed logins are throttled and then locked in the database, not in a process,
    -- so that every instance behind the load balancer enforces the same limit.
    failed_logins    integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    locked_until     timestamptz,
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Role grants (docs/domain.md, Roles): any number per account. political_dept with no org
-- covers the whole institution (and may create top-level orgs).
CREATE TABLE role_grants (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('masses', 'member', 'branch', 'committee', 'political_dept')),
    org_id      bigint REFERENCES orgs (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (org_id IS NOT NULL OR role IN ('political_dept', 'masses'))
);
CREATE UNIQUE INDEX role_grants_unique_idx ON role_grants (account_id, role, coalesce(org_id, 0));

-- Refresh tokens rotate on every use; a token presented twice revokes its whole family,
-- since one of the two presenters must have stolen it.
CREATE TABLE refresh_tokens (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    family      text NOT NULL,
    token_hash  bytea NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family);

-- Small key/value settings of the installation (e.g. whether demo data was loaded).
CREATE TABLE settings (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
