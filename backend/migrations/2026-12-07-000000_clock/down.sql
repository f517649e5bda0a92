ALTER TABLE org_officers ALTER COLUMN since SET DEFAULT current_date;

DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['member_history_track', 'member_history_insert', 'member_history_update', 'member_history_person_attributes'] LOOP
        IF to_regproc(f) IS NOT NULL THEN
            EXECUTE replace(pg_get_functiondef(to_regproc(f)), 'dangjian_today()', 'current_date');
        END IF;
    END LOOP;
END
$$;

DROP FUNCTION dangjian_today();
