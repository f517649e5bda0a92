CREATE OR REPLACE FUNCTION meetings_refuse_archived() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'meetings' THEN
        IF OLD.archived_at IS NOT NULL THEN
            RAISE EXCEPTION 'meeting % is archived', OLD.id USING ERRCODE = 'check_violation', CONSTRAINT = 'meeting_archived';
        END IF;
        -- OLD for a DELETE: a BEFORE trigger returning NULL would silently skip the row.
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF EXISTS (SELECT 1 FROM meetings m WHERE m.id = COALESCE(NEW.meeting_id, OLD.meeting_id) AND m.archived_at IS NOT NULL) THEN
        RAISE EXCEPTION 'meeting % is archived', COALESCE(NEW.meeting_id, OLD.meeting_id) USING ERRCODE = 'check_violation', CONSTRAINT = 'meeting_archived';
    END IF;
    RETURN COALESCE(NEW, OLD);
END $$;

CREATE OR REPLACE FUNCTION org_closure_on_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A cycle would make the closure infinite: refuse it here too, not only in the API.
    IF NEW.parent_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM org_closure WHERE ancestor_id = NEW.id AND descendant_id = NEW.parent_id
    ) THEN
        RAISE EXCEPTION 'org % cannot move under its own descendant %', NEW.id, NEW.parent_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'orgs_no_cycle';
    END IF;
    DELETE FROM org_closure c
     USING org_closure sub, org_closure sup
     WHERE sub.ancestor_id = NEW.id AND c.descendant_id = sub.descendant_id
       AND sup.descendant_id = NEW.id AND sup.ancestor_id <> NEW.id AND c.ancestor_id = sup.ancestor_id;
    IF NEW.parent_id IS NOT NULL THEN
        INSERT INTO org_closure (ancestor_id, descendant_id, depth)
        SELECT sup.ancestor_id, sub.descendant_id, sup.depth + sub.depth + 1
          FROM org_closure sup, org_closure sub
         WHERE sup.descendant_id = NEW.parent_id AND sub.ancestor_id = NEW.id;
    END IF;
    RETURN NEW;
END $$;
