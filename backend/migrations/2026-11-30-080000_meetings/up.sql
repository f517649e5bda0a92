-- Organizational life (docs/domain.md, Organizational life: 三会一课 and more; 支部工作条例 (2018) art. 14-16).
--
-- meeting_kinds: the kinds are data, so an institution can add its own; each carries its default
--   frequency (docs/domain.md's "usual frequency" column), the org kinds that owe it, whether only an org
--   with a committee owes it, and whether attending counts as study hours (党员教育管理工作条例 (2019)).
-- org_meeting_rules: per-organization overrides of a kind's frequency; a rule on an org applies to its
--   whole subtree, the nearest one winning (a committee sets the rule for its branches, a branch may
--   set its own).
-- org_life_settings: whether a branch counts as having a committee; NULL = docs/domain.md's default
--   (7 or more full members elect one, 支部工作条例 art. 17).
-- org_officers: secretaries, deputies and committee members (they attend 支委会 and owe 56 study hours).
CREATE TABLE meeting_kinds (
    code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
    name text NOT NULL,
    name_en text NOT NULL,
    -- month | quarter | half_year | year | none (no requirement, e.g. an ad-hoc kind)
    frequency text NOT NULL CHECK (frequency IN ('month', 'quarter', 'half_year', 'year', 'none')),
    -- meetings of this kind owed per period
    per_period int NOT NULL DEFAULT 1 CHECK (per_period BETWEEN 1 AND 31),
    -- the org kinds that owe it (branch, group, general_branch, committee)
    org_kinds text[] NOT NULL DEFAULT '{branch}',
    -- only orgs with a committee owe it (支委会)
    needs_committee bool NOT NULL DEFAULT false,
    -- attendees are the committee (officers), not the whole roster
    committee_only bool NOT NULL DEFAULT false,
    -- may take votes (支部党员大会: admissions, full membership, elections)
    may_vote bool NOT NULL DEFAULT false,
    -- attending counts as study time (党课), in minutes (exact; the API shows hours); a meeting's own
    -- study time defaults to this
    study_minutes int NOT NULL DEFAULT 0 CHECK (study_minutes BETWEEN 0 AND 1440),
    sort_order int NOT NULL DEFAULT 100,
    builtin bool NOT NULL DEFAULT false,
    version int NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO meeting_kinds (code, name, name_en, frequency, org_kinds, needs_committee, committee_only, may_vote, study_minutes, sort_order, builtin) VALUES
    ('branch_general_meeting',  '支部党员大会', 'Branch general meeting',        'quarter', '{branch}', false, false, true,  0, 10, true),
    ('branch_committee_meeting','支部委员会',   'Branch committee meeting',      'month',   '{branch}', true,  true,  false, 0, 20, true),
    ('group_meeting',           '党小组会',     'Party group meeting',           'month',   '{group}',  false, false, false, 0, 30, true),
    ('party_lecture',           '党课',         'Party lecture',                 'quarter', '{branch}', false, false, false, 120, 40, true),
    ('theme_party_day',         '主题党日',     'Theme party day',               'month',   '{branch}', false, false, false, 0, 50, true),
    ('org_life_meeting',        '组织生活会',   'Organizational life meeting',   'year',    '{branch}', false, false, false, 0, 60, true),
    ('democratic_appraisal',    '民主评议党员', 'Democratic appraisal of members','year',   '{branch}', false, false, false, 0, 70, true),
    ('heart_to_heart_talk',     '谈心谈话',     'Heart-to-heart talks',          'year',    '{branch}', false, false, false, 0, 80, true);

CREATE TABLE org_meeting_rules (
    org_id bigint NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    kind text NOT NULL REFERENCES meeting_kinds(code) ON UPDATE CASCADE ON DELETE CASCADE,
    frequency text NOT NULL CHECK (frequency IN ('month', 'quarter', 'half_year', 'year', 'none')),
    per_period int NOT NULL DEFAULT 1 CHECK (per_period BETWEEN 1 AND 31),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, kind)
);

CREATE TABLE org_life_settings (
    org_id bigint PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    has_committee bool,
    version int NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE org_officers (
    id bigserial PRIMARY KEY,
    org_id bigint NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    person_id bigint NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    -- secretary | deputy_secretary | committee_member
    post text NOT NULL CHECK (post IN ('secretary', 'deputy_secretary', 'committee_member')),
    since date NOT NULL DEFAULT current_date,
    until date,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (until IS NULL OR until >= since)
);
CREATE INDEX org_officers_org ON org_officers (org_id) WHERE until IS NULL;
CREATE INDEX org_officers_person ON org_officers (person_id);
-- one current secretary per org
CREATE UNIQUE INDEX org_officers_one_secretary ON org_officers (org_id) WHERE post = 'secretary' AND until IS NULL;

-- A meeting record. Corrections are edits until archived_at is set; after that the row is frozen
-- (a trigger refuses updates other than those the archive itself allows) and corrections are
-- meeting_addenda.
CREATE TABLE meetings (
    id bigserial PRIMARY KEY,
    org_id bigint NOT NULL REFERENCES orgs(id),
    kind text NOT NULL REFERENCES meeting_kinds(code) ON UPDATE CASCADE,
    topic text NOT NULL CHECK (length(topic) BETWEEN 1 AND 200),
    starts_at timestamptz NOT NULL,
    ends_at timestamptz,
    place text,
    host_person_id bigint REFERENCES people(id),
    recorder_person_id bigint REFERENCES people(id),
    -- planned | held | cancelled
    status text NOT NULL CHECK (status IN ('planned', 'held', 'cancelled')),
    cancel_reason text,
    minutes text,
    -- the resolutions, one per line item
    resolutions jsonb NOT NULL DEFAULT '[]',
    -- study time this meeting gives each member present (党员教育管理工作条例: 32 h a year, 56 for
    -- secretaries and committee members), in minutes
    study_minutes int NOT NULL DEFAULT 0 CHECK (study_minutes BETWEEN 0 AND 1440),
    archived_at timestamptz,
    archived_by bigint REFERENCES accounts(id),
    created_by bigint REFERENCES accounts(id),
    version int NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at IS NULL OR ends_at >= starts_at)
);
-- compliance: held meetings of an org and kind in a period
CREATE INDEX meetings_org_kind_time ON meetings (org_id, kind, starts_at) WHERE status = 'held';
CREATE INDEX meetings_org_time ON meetings (org_id, starts_at);
CREATE INDEX meetings_time ON meetings (starts_at) WHERE status = 'held';

-- Who was due, who came. has_vote is fixed when the meeting is planned (full members of the org on
-- that day; probationary members have no vote: 中国共产党章程 art. 7).
CREATE TABLE meeting_attendees (
    meeting_id bigint NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    person_id bigint NOT NULL REFERENCES people(id),
    has_vote bool NOT NULL DEFAULT true,
    -- pending (not recorded yet) | present | absent
    attendance text NOT NULL DEFAULT 'pending' CHECK (attendance IN ('pending', 'present', 'absent')),
    -- 病假 sick | 事假 personal | 公差 business | 其他 other
    absence_reason text CHECK (absence_reason IN ('sick', 'personal', 'business', 'other')),
    absence_note text,
    -- qr (the member scanned the host's code) | clerk (recorded by a worker)
    checked_in_by text CHECK (checked_in_by IN ('qr', 'clerk')),
    checked_in_at timestamptz,
    PRIMARY KEY (meeting_id, person_id),
    CHECK (attendance = 'absent' OR absence_reason IS NULL)
);
CREATE INDEX meeting_attendees_person ON meeting_attendees (person_id, meeting_id);

-- Votes of a meeting (支部党员大会): the motion, the counts, and the outcome as computed from
-- docs/domain.md's rules at the time (quorum: more than half of those with a vote present; passes with
-- more than half of those with a vote due to attend). The rule applied is stored with the result.
CREATE TABLE meeting_votes (
    id bigserial PRIMARY KEY,
    meeting_id bigint NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    motion text NOT NULL CHECK (length(motion) BETWEEN 1 AND 500),
    -- admission | full_membership | election | other
    subject text NOT NULL DEFAULT 'other' CHECK (subject IN ('admission', 'full_membership', 'election', 'other')),
    subject_person_id bigint REFERENCES people(id),
    voters_due int NOT NULL,
    voters_present int NOT NULL,
    yes int NOT NULL CHECK (yes >= 0),
    no int NOT NULL CHECK (no >= 0),
    abstain int NOT NULL CHECK (abstain >= 0),
    quorum_met bool NOT NULL,
    passed bool NOT NULL,
    rule jsonb NOT NULL,
    created_by bigint REFERENCES accounts(id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meeting_votes_meeting ON meeting_votes (meeting_id);

-- Files behind one storage interface (storage.rs): this table is the PostgreSQL backend; the disk
-- backend keeps the bytes under a directory and only the metadata here.
CREATE TABLE stored_files (
    key text PRIMARY KEY,
    content bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE meeting_attachments (
    id bigserial PRIMARY KEY,
    meeting_id bigint NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    -- photo | sign_in_sheet | document
    category text NOT NULL CHECK (category IN ('photo', 'sign_in_sheet', 'document')),
    file_name text NOT NULL,
    content_type text NOT NULL,
    size_bytes bigint NOT NULL CHECK (size_bytes > 0),
    sha256 bytea NOT NULL,
    storage_key text NOT NULL,
    uploaded_by bigint REFERENCES accounts(id),
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    -- added after archiving, as part of an addendum
    addendum_id bigint
);
CREATE INDEX meeting_attachments_meeting ON meeting_attachments (meeting_id);

-- A correction of an archived record: the record stays as archived; the addendum says what is
-- corrected and why.
CREATE TABLE meeting_addenda (
    id bigserial PRIMARY KEY,
    meeting_id bigint NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    -- optional structured corrections, e.g. {"attendance": [{"person_id": 1, "attendance": "present"}]}
    changes jsonb,
    created_by bigint REFERENCES accounts(id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meeting_addenda_meeting ON meeting_addenda (meeting_id);
ALTER TABLE meeting_attachments ADD CONSTRAINT meeting_attachments_addendum FOREIGN KEY (addendum_id) REFERENCES meeting_addenda(id);

-- The notification outbox: written in the transaction of what it announces; shown in the platform
-- (the bell) at once; a sender for other channels (SMS, mail) claims unsent rows with
-- FOR UPDATE SKIP LOCKED and sets sent_at.
CREATE TABLE notifications (
    id bigserial PRIMARY KEY,
    person_id bigint NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    -- meeting_planned | meeting_changed | meeting_cancelled | ...
    kind text NOT NULL,
    title text NOT NULL,
    body text NOT NULL DEFAULT '',
    -- the SPA route to open, e.g. /meetings/12
    link text,
    entity text,
    entity_id bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz,
    -- the outbox: channels still to send on, and when a sender sent it
    channel text NOT NULL DEFAULT 'platform',
    sent_at timestamptz,
    attempts int NOT NULL DEFAULT 0
);
CREATE INDEX notifications_person ON notifications (person_id, created_at DESC);
CREATE INDEX notifications_unsent ON notifications (id) WHERE sent_at IS NULL;

-- An archived meeting is read-only, whoever writes (the API checks first and answers 409
-- meeting_archived; this guards SQL and future code). Only the archive step itself may set
-- archived_at, and nothing may clear it.
CREATE FUNCTION meetings_refuse_archived() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER meetings_archived BEFORE UPDATE OR DELETE ON meetings
    FOR EACH ROW EXECUTE FUNCTION meetings_refuse_archived();
CREATE TRIGGER meeting_attendees_archived BEFORE INSERT OR UPDATE OR DELETE ON meeting_attendees
    FOR EACH ROW EXECUTE FUNCTION meetings_refuse_archived();
CREATE TRIGGER meeting_votes_archived BEFORE INSERT OR UPDATE OR DELETE ON meeting_votes
    FOR EACH ROW EXECUTE FUNCTION meetings_refuse_archived();
