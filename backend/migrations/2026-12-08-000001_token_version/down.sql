DROP TRIGGER role_grants_bump_token_version_del ON role_grants;
DROP TRIGGER role_grants_bump_token_version_upd_old ON role_grants;
DROP TRIGGER role_grants_bump_token_version_upd_new ON role_grants;
DROP TRIGGER role_grants_bump_token_version_ins ON role_grants;
DROP FUNCTION role_grants_bump_token_version();
DROP TRIGGER accounts_bump_token_version ON accounts;
DROP FUNCTION accounts_bump_token_version();
ALTER TABLE accounts DROP COLUMN token_version;
