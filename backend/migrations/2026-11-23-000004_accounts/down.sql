DROP TABLE settings;
DROP TABLE refresh_tokens;
DROP TABLE role_grants;
DROP TABLE accounts;
