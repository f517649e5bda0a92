-- A person (群众 or 党员) and, for members, the membership. Personal data (citizen ID number,
-- phone) is stored encrypted (docs/domain.md, Confidentiality): *_enc holds AES-GCM ciphertext,
-- *_hash a keyed blind index for uniqueness and lookups, *_masked what lists may show.
CREATE TABLE people (
    id               bigserial PRIMARY KEY,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    name_initials    text NOT NULL,
    name_pinyin      text NOT NULL,
    gender           text NOT NULL CHECK (gender IN ('male', 'female')),
    id_number_enc    bytea,
    id_number_hash   bytea UNIQUE,
    id_number_masked text,
    birth_date       date,
    ethnicity        text,
    native_place     text,
    education        text,
    degree           text,
    job_category     text,
    post             text,
    title            text,
    phone_enc        bytea,
    phone_masked     text,
    work_started_on  date,
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((id_number_enc IS NULL) = (id_number_hash IS NULL))
);
CREATE INDEX people_name_trgm_idx ON people USING gin (name gin_trgm_ops);
CREATE INDEX people_name_initials_idx ON people (name_initials text_pattern_ops);
CREATE INDEX people_name_pinyin_idx ON people (name_pinyin text_pattern_ops);

-- One membership per person; the row shares the person's id, so members and people join 1:1.
CREATE TABLE members (
    person_id       bigint PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    org_id          bigint NOT NULL REFERENCES orgs (id),
    category        text NOT NULL CHECK (category IN ('full', 'probationary')),
    joined_at       date NOT NULL,
    full_member_at  date,
    status          text NOT NULL DEFAULT 'normal'
                    CHECK (status IN ('normal', 'suspended', 'left', 'deceased')),
    is_flowing      boolean NOT NULL DEFAULT false,
    lost_contact    boolean NOT NULL DEFAULT false,
    version         integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- 党龄 counts from full membership, which follows admission by the probation (1 or 2 years).
    CHECK (full_member_at IS NULL OR full_member_at >= joined_at),
    CHECK (category = 'probationary' OR full_member_at IS NOT NULL)
);
CREATE INDEX members_org_idx ON members (org_id, person_id);

-- Dated history of where a member belonged and in which category and status, so that
-- statistics for a past date are computed from records, not today's state (docs/domain.md, Party statistics).
-- valid_to is exclusive; the open row has valid_to NULL.
CREATE TABLE member_history (
    id          bigserial PRIMARY KEY,
    person_id   bigint NOT NULL REFERENCES members (person_id) ON DELETE CASCADE,
    org_id      bigint NOT NULL REFERENCES orgs (id),
    category    text NOT NULL,
    status      text NOT NULL,
    valid_from  date NOT NULL,
    valid_to    date,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE UNIQUE INDEX member_history_open_idx ON member_history (person_id) WHERE valid_to IS NULL;
CREATE INDEX member_history_org_idx ON member_history (org_id, valid_from);

-- Kept by trigger so that every writer (API, import, sync, SQL) records history.
-- A new membership starts at joined_at; a change takes effect today unless the writer sets
-- `SET LOCAL dangjian.effective_on = 'YYYY-MM-DD'` (e.g. a transfer received on a given date).
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
