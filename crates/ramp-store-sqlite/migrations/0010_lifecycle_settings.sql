-- Lifecycle settings (WIP limits per stage): one JSON document with a version of its own, and
-- their changes in history under a third subject, 'settings' (the `feature` column then holds
-- the document's name, 'lifecycle'). Applied once, inside one transaction, by
-- rusqlite_migration (schema version 10). Never edit this file once released: add 0011_*.sql.

-- At most one row per document (today only 'lifecycle'); no row means the defaults, version 0.
-- The body is `ramp_core::LifecycleSettings` as JSON, whose fields all default, so settings
-- added later need no migration.
CREATE TABLE settings (
    name TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version > 0)
) STRICT;

-- SQLite cannot alter a CHECK constraint, so the history table is rebuilt with one that
-- admits 'settings' (the documented twelve-step way: copy, drop, rename, re-index). Ids are
-- copied as they are; the AUTOINCREMENT counter is carried over so ids are never reused.
CREATE TABLE history_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    feature TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    time TEXT NOT NULL,
    comment TEXT,
    changes TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT 'feature'
        CHECK (subject IN ('feature', 'group', 'settings'))
) STRICT;
INSERT INTO history_rebuilt (id, feature, action, actor, time, comment, changes, subject)
    SELECT id, feature, action, actor, time, comment, changes, subject FROM history;
-- sqlite_sequence has no key on name: give the new table a row if copying made none (an
-- empty history whose rows were all deleted), then raise it to the old counter.
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'history_rebuilt', seq FROM sqlite_sequence WHERE name = 'history'
        AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'history_rebuilt');
UPDATE sqlite_sequence
    SET seq = MAX(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'history'))
    WHERE name = 'history_rebuilt'
        AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'history');
DROP TABLE history;
ALTER TABLE history_rebuilt RENAME TO history;
CREATE INDEX history_by_subject ON history (feature, subject, id);
CREATE INDEX history_by_actor ON history (actor, id);
CREATE INDEX history_by_time ON history (time);
