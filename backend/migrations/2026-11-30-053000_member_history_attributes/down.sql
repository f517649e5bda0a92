DROP TRIGGER people_history_attributes ON people;
DROP FUNCTION member_history_person_attributes();
DROP TRIGGER members_history_dates ON members;
DROP FUNCTION member_history_member_dates();

CREATE OR REPLACE FUNCTION member_history_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    eff date := coalesce(nullif(current_setting('dangjian.effective_on', true), '')::date, current_date);
BEGIN
    INSERT INTO member_history (person_id, org_id, category, status, valid_from)
    SELECT n.person_id, n.org_id, n.category, n.status, least(n.joined_at, eff) FROM new_rows n;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION member_history_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    eff date := coalesce(nullif(current_setting('dangjian.effective_on', true), '')::date, current_date);
BEGIN
    -- Most updates (a phone number, a version bump) change no org, category or status.
    PERFORM 1 FROM new_rows n JOIN old_rows o ON o.person_id = n.person_id
    WHERE (o.org_id, o.category, o.status) IS DISTINCT FROM (n.org_id, n.category, n.status) LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    DELETE FROM member_history h USING new_rows n, old_rows o
    WHERE o.person_id = n.person_id AND (o.org_id, o.category, o.status) IS DISTINCT FROM (n.org_id, n.category, n.status)
      AND h.person_id = n.person_id AND h.valid_to IS NULL AND h.valid_from >= eff;
    UPDATE member_history h SET valid_to = eff FROM new_rows n, old_rows o
    WHERE o.person_id = n.person_id AND (o.org_id, o.category, o.status) IS DISTINCT FROM (n.org_id, n.category, n.status)
      AND h.person_id = n.person_id AND h.valid_to IS NULL;
    INSERT INTO member_history (person_id, org_id, category, status, valid_from)
    SELECT n.person_id, n.org_id, n.category, n.status, eff FROM new_rows n JOIN old_rows o ON o.person_id = n.person_id
    WHERE (o.org_id, o.category, o.status) IS DISTINCT FROM (n.org_id, n.category, n.status);
    RETURN NULL;
END $$;

ALTER TABLE member_history
    DROP COLUMN gender,
    DROP COLUMN birth_date,
    DROP COLUMN ethnicity,
    DROP COLUMN education,
    DROP COLUMN job_category,
    DROP COLUMN joined_at,
    DROP COLUMN full_member_at;
