-- Spreadsheet imports (issue 4): who ran which file, with what result. Dry runs are recorded too,
-- so their report (and the annotated workbook) can be fetched afterwards. The uploaded bytes live
-- in the database (servers keep no files of their own), apart from the list's rows.
CREATE TABLE imports (
    id bigserial PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('members', 'orgs')),
    file_name text NOT NULL,
    created_by bigint REFERENCES accounts (id) ON DELETE SET NULL,
    -- The importer's scope: the roots of their managing grants (empty with scope_all).
    scope_all boolean NOT NULL DEFAULT false,
    scope_roots bigint[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    dry_run boolean NOT NULL,
    committed boolean NOT NULL DEFAULT false,
    rows_read integer NOT NULL DEFAULT 0,
    created integer NOT NULL DEFAULT 0,
    updated integer NOT NULL DEFAULT 0,
    unchanged integer NOT NULL DEFAULT 0,
    invalid integer NOT NULL DEFAULT 0,
    report jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX imports_created_at ON imports (created_at DESC, id DESC);
CREATE INDEX imports_scope_roots ON imports USING gin (scope_roots);

CREATE TABLE import_files (
    import_id bigint PRIMARY KEY REFERENCES imports (id) ON DELETE CASCADE,
    content bytea NOT NULL
);
