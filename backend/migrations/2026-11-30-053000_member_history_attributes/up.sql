-- The attributes the party statistics group by, copied onto the history rows of the person
-- (issue 5: the structure of 1,000,000 members in under a second). Counting the structure joined
-- the history to members and people: two hash joins of a million rows each, most of the time of
-- the request; with these columns a statistic reads org_closure and member_history alone.
-- Two kinds (issue 5: a figure for a past date comes out the same when asked again later):
-- - education and job category change over a member's life (a degree earned, a new post): they
--   are historized like a move; a change closes the open row at the effective date and opens one
--   with the new values, so past rows keep the values of their time.
-- - gender, birth date, ethnicity and the membership's dates are facts: a change is a correction,
--   written to every row of the person (docs/domain.md, Party statistics: a corrected birth date
--   corrects past figures too).
-- The open row thus always equals people/members. Triggers keep it so for every writer (API,
-- import, sync, SQL), set-based over the statement's transition tables like the history itself
-- (migration 2026-11-23-000009): a bulk write of 100,000 rows costs one join per statement, not a
-- call per row.
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

-- A person's attributes changed. An import or a sync rewrites every column of the people it
-- touches, mostly with the same values: only the people whose grouped attributes differ reach the
-- history, and only the rows whose values differ are written.
-- Facts (gender, birth date, ethnicity): a correction, every row of the person.
-- Education and job category: dated like a move (000009: effective on `dangjian.effective_on` or
-- today; an open row that starts on or after that date is updated in place, so several changes on
-- one day collapse into the last); otherwise the open row is closed there and a new open row with
-- the same org, category and status and the new values starts there.
CREATE FUNCTION member_history_person_attributes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    eff date := coalesce(nullif(current_setting('dangjian.effective_on', true), '')::date, current_date);
    changed bigint;
BEGIN
    -- Counted, not `PERFORM ... LIMIT 1` (see member_history_update).
    SELECT count(*) INTO changed FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (o.gender, o.birth_date, o.ethnicity) IS DISTINCT FROM (n.gender, n.birth_date, n.ethnicity);
    IF changed > 0 THEN
        UPDATE member_history h
           SET gender = n.gender, birth_date = n.birth_date, ethnicity = n.ethnicity
          FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE (o.gender, o.birth_date, o.ethnicity) IS DISTINCT FROM (n.gender, n.birth_date, n.ethnicity)
           AND h.person_id = n.id
           AND (h.gender, h.birth_date, h.ethnicity) IS DISTINCT FROM (n.gender, n.birth_date, n.ethnicity);
    END IF;

    SELECT count(*) INTO changed FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (o.education, o.job_category) IS DISTINCT FROM (n.education, n.job_category);
    IF changed = 0 THEN
        RETURN NULL;
    END IF;
    -- Same day (or an open row that starts later): in place.
    UPDATE member_history h
       SET education = n.education, job_category = n.job_category
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE (o.education, o.job_category) IS DISTINCT FROM (n.education, n.job_category)
       AND h.person_id = n.id AND h.valid_to IS NULL AND h.valid_from >= eff
       AND (h.education, h.job_category) IS DISTINCT FROM (n.education, n.job_category);
    -- Otherwise close the open row and continue it with the new values. The insert consumes the
    -- closed rows, so the unique open row per person (member_history_open_idx) is closed first.
    WITH closed AS (
        UPDATE member_history h SET valid_to = eff
          FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE (o.education, o.job_category) IS DISTINCT FROM (n.education, n.job_category)
           AND h.person_id = n.id AND h.valid_to IS NULL AND h.valid_from < eff
           AND (h.education, h.job_category) IS DISTINCT FROM (n.education, n.job_category)
        RETURNING h.person_id, h.org_id, h.category, h.status, h.gender, h.birth_date, h.ethnicity,
                  h.joined_at, h.full_member_at, n.education, n.job_category
    )
    INSERT INTO member_history (person_id, org_id, category, status, valid_from,
                                gender, birth_date, ethnicity, education, job_category, joined_at, full_member_at)
    SELECT c.person_id, c.org_id, c.category, c.status, eff,
           c.gender, c.birth_date, c.ethnicity, c.education, c.job_category, c.joined_at, c.full_member_at
      FROM closed c;
    RETURN NULL;
END $$;
CREATE TRIGGER people_history_attributes AFTER UPDATE ON people
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION member_history_person_attributes();
