-- The key the institution's master-data system uses for a person or an org (外部编号). Imports
-- and the sync API match on it first, so running the same file or batch twice changes nothing.
ALTER TABLE people ADD COLUMN external_id text CHECK (length(external_id) BETWEEN 1 AND 64);
CREATE UNIQUE INDEX people_external_id_key ON people (external_id) WHERE external_id IS NOT NULL;
ALTER TABLE orgs ADD COLUMN external_id text CHECK (length(external_id) BETWEEN 1 AND 64);
CREATE UNIQUE INDEX orgs_external_id_key ON orgs (external_id) WHERE external_id IS NOT NULL;
