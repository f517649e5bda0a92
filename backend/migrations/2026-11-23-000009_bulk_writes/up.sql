-- Bulk writes (issue 4: 100,000 imported members in seconds). The member history was kept by a
-- row-level trigger, one plpgsql call and one INSERT per member; an import or a sync writes
-- thousands of memberships in one statement, so the history is now kept by statement-level
-- triggers over the statement's transition tables: one set-based INSERT per statement, with the
-- same rules as before (docs/domain.md, Party statistics: figures for a past date come from the dated
-- history). A new membership starts at joined_at; a change takes effect on
-- `dangjian.effective_on` (SET LOCAL) or today; several changes on one day collapse into the last.
DROP TRIGGER members_history ON members;
DROP FUNCTION member_history_track();

CREATE FUNCTION member_history_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    eff date := coalesce(nullif(current_setting('dangjian.effective_on', true), '')::date, current_date);
BEGIN
    INSERT INTO member_history (person_id, org_id, category, status, valid_from)
    SELECT n.person_id, n.org_id, n.category, n.status, least(n.joined_at, eff) FROM new_rows n;
    RETURN NULL;
END $$;

CREATE FUNCTION member_history_update() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER members_history_insert AFTER INSERT ON members
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION member_history_insert();
CREATE TRIGGER members_history_update AFTER UPDATE ON members
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION member_history_update();

-- The history's foreign key to members had no index of its own (only the partial one of open
-- rows), so deleting a membership scanned the whole history; reading one member's history for a
-- past date needs it too.
CREATE INDEX member_history_person_idx ON member_history (person_id, valid_from);

-- An import that runs as a background job (large files): the job that runs it. The import's row
-- exists from the upload on, so the list shows it while it runs.
ALTER TABLE imports ADD COLUMN job_id bigint REFERENCES jobs (id) ON DELETE SET NULL;
