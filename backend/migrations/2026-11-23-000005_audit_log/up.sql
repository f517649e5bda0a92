-- Every write, and every bulk read of personal data, is recorded (docs/domain.md, Confidentiality).
-- before/after hold the API representation with personal data masked, never plaintext.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    account_id  bigint REFERENCES accounts (id) ON DELETE SET NULL,
    ip          text,
    action      text NOT NULL,
    entity      text NOT NULL,
    entity_id   bigint,
    before      jsonb,
    after       jsonb
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id, at);
CREATE INDEX audit_log_account_idx ON audit_log (account_id, at);
