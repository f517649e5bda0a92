-- The attributes the party statistics group by, copied onto every history row of the person
-- (issue 5: the structure of 1,000,000 members in under a second). Counting the structure joined
-- the history to members and people: two hash joins of a million rows each, most of the time of
-- the request; with these columns a statistic reads org_closure and member_history alone.
-- They are NOT historized: like people/members, each holds the person's CURRENT value on every
-- row, old ones included (DOMAIN.md, Party statistics: a corrected birth date corrects past
-- figures too). Triggers keep them equal to people/members for every writer (API, import, sync,
-- SQL), set-based over the statement's transition tables like the history itself (migration
-- 2026-11-23-000009): a bulk write of 100,000 rows costs one join per statement, not a call per row.
ALTER TABLE member_history
    ADD COLUMN gender         text,
    ADD COLUMN birth_date     date,
    ADD COLUMN ethnicity      text,
    ADD COLUMN education      text,
    ADD COLUMN job_category   text,
    ADD COLUMN joined_at      date,
    ADD COLUMN full_member_at date;

UPDATE member_history h
   SET gender = p.gender, birth_date = p.birth_date, ethnicity = p.ethnicity, education = p.education,
       job_category = p.job_category, joined_at = m.joined_at, full_member_at = m.full_member_at
  FROM members m JOIN people p ON p.id = m.person_id
 WHERE m.person_id = h.person_id;

-- Every history row belongs to a membership, which belongs to a person with a gender.
ALTER TABLE member_history ALTER COLUMN gender SET NOT NULL, ALTER COLUMN joined_at SET NOT NULL;

-- The backfill leaves a dead version of every row (1,000,000 members: 128 MB of rows in a 194 MB
-- table, which every statistic scans). Neither VACUUM FULL nor CLUSTER can compact it here: the
-- first cannot run in the migration's transaction, the second keeps the versions this
-- transaction deleted. On a large installation run `VACUUM (FULL, ANALYZE) member_history` after
-- migrating (5 s for a million rows; it locks the table meanwhile). The new columns' statistics:
ANALYZE member_history;

-- As in 000009, with the person's and the membership's attributes on the new rows.
CREATE OR REPLACE FUNCTION member_history_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    eff date := coalesce(nullif(current_setting('dangjian.effective_on', true), '')::date, current_date);
BEGIN
    INSERT INTO member_history (person_id, org_id, category, status, valid_from,
                                gender, birth_date, ethnicity, education, job_category, joined_at, full_member_at)
    SELECT n.person_id, n.org_id, n.category, n.status, least(n.joined_at, eff),
           p.gender, p.birth_date, p.ethnicity, p.education, p.job_category, n.joined_at, n.full_member_at
      FROM new_rows n JOIN people p ON p.id = n.person_id;
    RETURN NULL;
END $$;

-- The checks whether anything relevant changed count instead of stopping at the first change
-- (`PERFORM ... LIMIT 1`, as 000009 had it): with LIMIT the planner takes a fast-start nested
-- loop over the two transition tables, quadratic when nothing changed (on 1,000,000 members:
-- 20,000 memberships updated without a change of org 44 s, 100,000 people not done after 10
-- minutes); a count joins them by hash (100,000 people or memberships: 1-5 s with the update).
CREATE OR REPLACE FUNCTION member_history_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    eff date := coalesce(nullif(current_setting('dangjian.effective_on', true), '')::date, current_date);
    changed bigint;
BEGIN
    -- Most updates (a phone number, a version bump) change no org, category or status.
    SELECT count(*) INTO changed FROM new_rows n JOIN old_rows o ON o.person_id = n.person_id
    WHERE (o.org_id, o.category, o.status) IS DISTINCT FROM (n.org_id, n.category, n.status);
    IF changed = 0 THEN
        RETURN NULL;
    END IF;
    DELETE FROM member_history h USING new_rows n, old_rows o
    WHERE o.person_id = n.person_id AND (o.org_id, o.category, o.status) IS DISTINCT FROM (n.org_id, n.category, n.status)
      AND h.person_id = n.person_id AND h.valid_to IS NULL AND h.valid_from >= eff;
    UPDATE member_history h SET valid_to = eff FROM new_rows n, old_rows o
    WHERE o.person_id = n.person_id AND (o.org_id, o.category, o.status) IS DISTINCT FROM (n.org_id, n.category, n.status)
      AND h.person_id = n.person_id AND h.valid_to IS NULL;
    INSERT INTO member_history (person_id, org_id, category, status, valid_from,
                                gender, birth_date, ethnicity, education, job_category, joined_at, full_member_at)
    SELECT n.person_id, n.org_id, n.category, n.status, eff,
           p.gender, p.birth_date, p.ethnicity, p.education, p.job_category, n.joined_at, n.full_member_at
      FROM new_rows n JOIN old_rows o ON o.person_id = n.person_id JOIN people p ON p.id = n.person_id
     WHERE (o.org_id, o.category, o.status) IS DISTINCT FROM (n.org_id, n.category, n.status);
    RETURN NULL;
END $$;

-- A membership's dates changed (a corrected admission date, full membership): every history row
-- of the person. Fires before members_history_update (same event, triggers fire by name), whose
-- new rows take the new dates from new_rows anyway.
CREATE FUNCTION member_history_member_dates() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed bigint;
BEGIN
    SELECT count(*) INTO changed FROM new_rows n JOIN old_rows o ON o.person_id = n.person_id
    WHERE (o.joined_at, o.full_member_at) IS DISTINCT FROM (n.joined_at, n.full_member_at);
    IF changed = 0 THEN
        RETURN NULL;
    END IF;
    UPDATE member_history h SET joined_at = n.joined_at, full_member_at = n.full_member_at
      FROM new_rows n JOIN old_rows o ON o.person_id = n.person_id
     WHERE (o.joined_at, o.full_member_at) IS DISTINCT FROM (n.joined_at, n.full_member_at)
       AND h.person_id = n.person_id
       AND (h.joined_at, h.full_member_at) IS DISTINCT FROM (n.joined_at, n.full_member_at);
    RETURN NULL;
END $$;
CREATE TRIGGER members_history_dates AFTER UPDATE ON members
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION member_history_member_dates();

-- A person's attributes changed: every history row of the person. An import or a sync rewrites
-- every column of the people it touches, mostly with the same values: only the people whose
-- grouped attributes differ reach the history.
CREATE FUNCTION member_history_person_attributes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed bigint;
BEGIN
    SELECT count(*) INTO changed FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (o.gender, o.birth_date, o.ethnicity, o.education, o.job_category)
          IS DISTINCT FROM (n.gender, n.birth_date, n.ethnicity, n.education, n.job_category);
    IF changed = 0 THEN
        RETURN NULL;
    END IF;
    UPDATE member_history h
       SET gender = n.gender, birth_date = n.birth_date, ethnicity = n.ethnicity, education = n.education, job_category = n.job_category
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE (o.gender, o.birth_date, o.ethnicity, o.education, o.job_category)
           IS DISTINCT FROM (n.gender, n.birth_date, n.ethnicity, n.education, n.job_category)
       AND h.person_id = n.id
       AND (h.gender, h.birth_date, h.ethnicity, h.education, h.job_category)
           IS DISTINCT FROM (n.gender, n.birth_date, n.ethnicity, n.education, n.job_category);
    RETURN NULL;
END $$;
CREATE TRIGGER people_history_attributes AFTER UPDATE ON people
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION member_history_person_attributes();
