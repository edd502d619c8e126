-- Lifecycle settings (WIP limits per stage): one JSON document with a version of its own, and
-- their changes in history under a third subject, 'settings' (the `feature` column then holds
-- the document's name, 'lifecycle'). Applied once per schema by refinery. Never edit this file
-- once released: add V11__*.sql instead.

-- One row per document (today only 'lifecycle'). Version 0 is a row a first writer inserted to
-- lock it and that holds the defaults, exactly like no row at all. The body is
-- `ramp_core::LifecycleSettings` as JSON, whose fields all default, so settings added later
-- need no migration.
CREATE TABLE settings (
    name text PRIMARY KEY,
    body jsonb NOT NULL,
    version bigint NOT NULL CHECK (version >= 0)
);

-- Admit the new subject. Replacing the CHECK scans the table once, under this migration's lock.
ALTER TABLE history
    DROP CONSTRAINT history_subject_check,
    ADD CONSTRAINT history_subject_check CHECK (subject IN ('feature', 'group', 'settings'));
