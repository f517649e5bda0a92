-- Access tokens carry the account's token version and are checked against it on every request
-- (auth::token::check_live): disabling the account, changing its grants or its password bumps
-- the version, and every access token issued before stops working at once instead of living out
-- its 15 minutes. Triggers, so that every writer (API, `dangjian user`, SQL) bumps it.
ALTER TABLE accounts ADD COLUMN token_version integer NOT NULL DEFAULT 1;

CREATE FUNCTION accounts_bump_token_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.token_version := OLD.token_version + 1;
    RETURN NEW;
END
$$;
CREATE TRIGGER accounts_bump_token_version BEFORE UPDATE OF disabled, password_hash ON accounts
    FOR EACH ROW WHEN (OLD.disabled IS DISTINCT FROM NEW.disabled OR OLD.password_hash IS DISTINCT FROM NEW.password_hash)
    EXECUTE FUNCTION accounts_bump_token_version();

CREATE FUNCTION role_grants_bump_token_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts SET token_version = token_version + 1
    WHERE id IN (SELECT account_id FROM changed);
    RETURN NULL;
END
$$;
CREATE TRIGGER role_grants_bump_token_version_ins AFTER INSERT ON role_grants
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION role_grants_bump_token_version();
CREATE TRIGGER role_grants_bump_token_version_upd_new AFTER UPDATE ON role_grants
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION role_grants_bump_token_version();
CREATE TRIGGER role_grants_bump_token_version_upd_old AFTER UPDATE ON role_grants
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION role_grants_bump_token_version();
CREATE TRIGGER role_grants_bump_token_version_del AFTER DELETE ON role_grants
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION role_grants_bump_token_version();
