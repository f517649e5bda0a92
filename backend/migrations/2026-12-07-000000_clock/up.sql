-- The institution's date in the database (crate::clock). Each pooled connection sets its TimeZone
-- to the institution's and, when the clock was started at another instant (DANGJIAN_NOW: tests
-- and demonstrations on any date), `dangjian.clock_offset`; `current_date` alone would follow
-- the server's zone and the system clock, and the history triggers would date a change made on a
-- Beijing morning as the day before.
CREATE FUNCTION dangjian_today() RETURNS date LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (now() + coalesce(nullif(current_setting('dangjian.clock_offset', true), '')::interval, interval '0'))::date
$$;

-- The history triggers' default effective date (when no writer set dangjian.effective_on), in
-- the four functions that read it: their bodies are otherwise unchanged, so they are rewritten
-- from the catalogue rather than copied here (down.sql reverses the same substitution).
DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['member_history_track', 'member_history_insert', 'member_history_update', 'member_history_person_attributes'] LOOP
        IF to_regproc(f) IS NOT NULL THEN
            EXECUTE replace(pg_get_functiondef(to_regproc(f)), 'current_date', 'dangjian_today()');
        END IF;
    END LOOP;
END
$$;

ALTER TABLE org_officers ALTER COLUMN since SET DEFAULT dangjian_today();
