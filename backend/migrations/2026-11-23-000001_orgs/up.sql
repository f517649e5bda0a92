-- Organizations (党组织): the tree committee > (general branch >) branch > group (docs/domain.md, Organizations).
CREATE TABLE orgs (
    id           bigserial PRIMARY KEY,
    code         text NOT NULL UNIQUE,
    name         text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('committee', 'general_branch', 'branch', 'group')),
    parent_id    bigint REFERENCES orgs (id),
    founded_on   date,
    dissolved_on date,
    term_start   date,
    term_end     date,
    version      integer NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id IS NULL OR parent_id <> id),
    CHECK (dissolved_on IS NULL OR founded_on IS NULL OR dissolved_on >= founded_on),
    CHECK (term_end IS NULL OR term_start IS NULL OR term_end > term_start),
    CHECK (length(code) BETWEEN 1 AND 64),
    CHECK (length(name) BETWEEN 1 AND 200)
);
CREATE INDEX orgs_parent_id_idx ON orgs (parent_id);
CREATE INDEX orgs_name_trgm_idx ON orgs USING gin (name gin_trgm_ops);

-- Closure table: one row per (ancestor, descendant) pair, depth 0 for the org itself.
-- Chosen over ltree / materialized path because a subtree is one index range scan on
-- (ancestor_id) whatever the depth, and it measured fastest (docs/architecture.md).
CREATE TABLE org_closure (
    ancestor_id   bigint  NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    descendant_id bigint  NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    depth         integer NOT NULL CHECK (depth >= 0),
    PRIMARY KEY (ancestor_id, descendant_id)
);
CREATE INDEX org_closure_descendant_idx ON org_closure (descendant_id, depth);

-- Triggers keep the closure right whoever writes orgs (API, import, COPY in `dangjian gen`).
CREATE FUNCTION org_closure_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO org_closure (ancestor_id, descendant_id, depth)
    SELECT ancestor_id, NEW.id, depth + 1 FROM org_closure WHERE descendant_id = NEW.parent_id
    UNION ALL SELECT NEW.id, NEW.id, 0;
    RETURN NEW;
END $$;
CREATE TRIGGER orgs_closure_insert AFTER INSERT ON orgs
    FOR EACH ROW EXECUTE FUNCTION org_closure_on_insert();

CREATE FUNCTION org_closure_on_move() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER orgs_closure_move AFTER UPDATE OF parent_id ON orgs
    FOR EACH ROW WHEN (OLD.parent_id IS DISTINCT FROM NEW.parent_id)
    EXECUTE FUNCTION org_closure_on_move();
