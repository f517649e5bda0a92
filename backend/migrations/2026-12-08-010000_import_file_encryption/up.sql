-- Uploaded import files (issue 14): stored encrypted with the data key (AES-256-GCM, the format
-- of crypto.rs), and kept DANGJIAN_IMPORT_FILE_DAYS (30) days. SQL has no key, so rows stored
-- before this migration stay in clear with encrypted = false until the job worker's sweep
-- (imports::retention) encrypts them, a few at a time, when a server starts and every 10 minutes.
ALTER TABLE import_files ADD COLUMN encrypted boolean NOT NULL DEFAULT false;
CREATE INDEX import_files_clear ON import_files (import_id) WHERE NOT encrypted;
-- When the sweep deleted the file (the import's row and report stay).
ALTER TABLE imports ADD COLUMN file_deleted_at timestamptz;
