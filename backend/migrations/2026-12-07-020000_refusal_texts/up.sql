-- A trigger that refuses a write says why in both languages, so that the one error mapping
-- (error.rs) turns it into a problem without knowing any feature: ERRCODE check_violation,
-- CONSTRAINT = the problem's code, the message in English, HINT in Chinese, and COLUMN when a
-- request field is at fault (then a 422 naming it; otherwise a 409). The two refusing triggers
-- are rewritten to that convention; their logic is unchanged.
CREATE OR REPLACE FUNCTION meetings_refuse_archived() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'meetings' THEN
        IF OLD.archived_at IS NOT NULL THEN
            RAISE EXCEPTION 'the meeting record is archived and read-only; add an addendum to correct it'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'meeting_archived', DETAIL = format('meeting %s', OLD.id),
                      HINT = '会议记录已归档，不能修改；如需更正请添加补充说明';
        END IF;
        -- OLD for a DELETE: a BEFORE trigger returning NULL would silently skip the row.
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF EXISTS (SELECT 1 FROM meetings m WHERE m.id = COALESCE(NEW.meeting_id, OLD.meeting_id) AND m.archived_at IS NOT NULL) THEN
        RAISE EXCEPTION 'the meeting record is archived and read-only; add an addendum to correct it'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'meeting_archived', DETAIL = format('meeting %s', COALESCE(NEW.meeting_id, OLD.meeting_id)),
                  HINT = '会议记录已归档，不能修改；如需更正请添加补充说明';
    END IF;
    RETURN COALESCE(NEW, OLD);
END $$;

CREATE OR REPLACE FUNCTION org_closure_on_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A cycle would make the closure infinite: refuse it here too, not only in the API.
    IF NEW.parent_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM org_closure WHERE ancestor_id = NEW.id AND descendant_id = NEW.parent_id
    ) THEN
        RAISE EXCEPTION 'an organization cannot move under itself or its own descendant'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'org_move_cycle', COLUMN = 'parent_id',
                  DETAIL = format('org %s under %s', NEW.id, NEW.parent_id), HINT = '组织不能移动到自身或其下级组织之下';
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
