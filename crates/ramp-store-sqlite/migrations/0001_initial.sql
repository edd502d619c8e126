-- Ramp's first schema. Applied once, inside one transaction, by rusqlite_migration, which then
-- records schema version 1 in `PRAGMA user_version`. Never edit this file once released: add
-- 0002_*.sql instead, or every existing database would disagree with new ones.

-- Marks the file as Ramp's, so that opening someone else's database is refused rather than
-- written into. 0x52414D50 is "RAMP" in ASCII.
PRAGMA application_id = 1380011344;

-- Store-wide counters. `version` grows by one on every committed write: it is the snapshot
-- version, and what other processes poll to notice changes.
CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
) STRICT;
INSERT INTO meta (key, value) VALUES ('version', 0);

-- One row per feature. The user lists are single comma-joined TEXT columns rather than one row
-- per user: a million-user list loads and saves as one value, and reading a feature never costs
-- a row per user. Ids can never contain ',' (ramp-core rejects them).
CREATE TABLE features (
    name TEXT PRIMARY KEY NOT NULL,
    percentage REAL NOT NULL,
    users TEXT NOT NULL,
    excluded_users TEXT NOT NULL,
    groups TEXT NOT NULL,
    data TEXT NOT NULL,             -- a JSON object
    stage TEXT NOT NULL,
    created_at TEXT NOT NULL,       -- RFC 3339, UTC, nanoseconds: sorts as text
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL
) STRICT;

-- Stored groups, each as the JSON of ramp_core::StoredGroup.
CREATE TABLE groups (
    name TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL
) STRICT;

-- The audit trail, oldest first by id. AUTOINCREMENT so that ids are never reused, even if
-- someone prunes old rows: paging with `before_id` relies on ids only growing.
CREATE TABLE history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    feature TEXT NOT NULL,
    action TEXT NOT NULL,           -- created, updated or deleted
    actor TEXT NOT NULL,
    time TEXT NOT NULL,
    comment TEXT,
    changes TEXT NOT NULL           -- JSON array of ramp_core::FieldChange
) STRICT;
CREATE INDEX history_by_feature ON history (feature, id);
