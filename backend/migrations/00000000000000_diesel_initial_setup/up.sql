-- Trigram indexes serve name search (a substring of a Chinese name) on large rosters.
-- pg_trgm is a trusted extension since PostgreSQL 13, so the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
