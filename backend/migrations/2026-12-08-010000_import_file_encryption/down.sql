-- Earlier versions read `content` as the file itself: an encrypted one is of no use to them (and
-- SQL has no key to decrypt it), so those files go; the imports keep their rows and reports.
DELETE FROM import_files WHERE encrypted;
ALTER TABLE imports DROP COLUMN file_deleted_at;
DROP INDEX import_files_clear;
ALTER TABLE import_files DROP COLUMN encrypted;
