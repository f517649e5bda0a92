DROP INDEX orgs_external_id_key;
ALTER TABLE orgs DROP COLUMN external_id;
DROP INDEX people_external_id_key;
ALTER TABLE people DROP COLUMN external_id;
