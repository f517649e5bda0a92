ALTER TABLE imports DROP COLUMN job_id;
DROP INDEX member_history_person_idx;

DROP TRIGGER members_history_update ON members;
DROP TRIGGER members_history_insert ON members;
DROP FUNCTION member_history_update();
DROP FUNCTION member_history_insert();

CREATE FUNCTION member_history_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    eff date := coalesce(nullif(current_setting('dangjian.effective_on', true), '')::date, current_date);
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO member_history (person_id, org_id, category, status, valid_from)
        VALUES (NEW.person_id, NEW.org_id, NEW.category, NEW.status, least(NEW.joined_at, eff));
        RETURN NEW;
    END IF;
    IF (OLD.org_id, OLD.category, OLD.status) IS NOT DISTINCT FROM (NEW.org_id, NEW.category, NEW.status) THEN
        RETURN NEW;
    END IF;
    -- Several changes on one day collapse into the last one.
    DELETE FROM member_history WHERE person_id = NEW.person_id AND valid_to IS NULL AND valid_from >= eff;
    UPDATE member_history SET valid_to = eff WHERE person_id = NEW.person_id AND valid_to IS NULL;
    INSERT INTO member_history (person_id, org_id, category, status, valid_from)
    VALUES (NEW.person_id, NEW.org_id, NEW.category, NEW.status, eff);
    RETURN NEW;
END $$;
CREATE TRIGGER members_history AFTER INSERT OR UPDATE OF org_id, category, status ON members
    FOR EACH ROW EXECUTE FUNCTION member_history_track();
