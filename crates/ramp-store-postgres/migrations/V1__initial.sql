-- Ramp's first PostgreSQL schema. Applied once per schema, inside one transaction, by refinery,
-- which records it in `ramp_schema_history` beside these tables (the connection's search_path
-- is the store's schema, so every name below lands there). Never edit this file once
-- released: refinery checks its checksum, so add V2__*.sql instead.

-- The store version: one row, one counter that grows by one on every committed write. Writers
-- take this row's lock last (after the rows they change), which orders every commit, so
-- history ids also grow in commit order and a snapshot's version names exactly what it holds.
CREATE TABLE meta (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version bigint NOT NULL CHECK (version >= 0)
);
INSERT INTO meta (version) VALUES (0);
-- Statistics now, so that the planner knows from the start that this table has one row.
ANALYZE meta;

-- One row per feature. The user lists are single comma-joined text columns rather than one row
-- per user: a million-user list loads and saves as one value, and reading a feature never costs
-- a row per user. Ids can never contain ',' (ramp-core rejects them). Names sort with the "C"
-- collation, byte by byte, as Rust sorts strings, whatever the database's locale.
CREATE TABLE features (
    name text COLLATE "C" PRIMARY KEY,
    percentage double precision NOT NULL CHECK (percentage >= 0 AND percentage <= 100),
    users text NOT NULL,
    excluded_users text NOT NULL,
    groups text NOT NULL,
    data jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    stage text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version bigint NOT NULL CHECK (version > 0)
);

-- Stored groups, each as the JSON of ramp_core::StoredGroup.
CREATE TABLE groups (
    name text COLLATE "C" PRIMARY KEY,
    body jsonb NOT NULL
);

-- The audit trail. Ids come from a sequence and are never reused, which paging with
-- `before_id` relies on. The primary key's index, read backwards, serves the global
-- newest-first page (`ORDER BY id DESC LIMIT n`); a second `(id DESC)` index would only
-- duplicate it. `history_by_feature` serves one feature's page the same way.
CREATE TABLE history (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feature text NOT NULL,
    action text NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
    actor text NOT NULL,
    time timestamptz NOT NULL,
    comment text,
    changes jsonb NOT NULL          -- JSON array of ramp_core::FieldChange
);
CREATE INDEX history_by_feature ON history (feature, id DESC);

-- The long values (a million-id list is 12 MB; the event that added them holds them too) are
-- rewritten whole by every write: lz4 compresses them several times faster than PostgreSQL's
-- default pglz. Only where the server was built with lz4 (PostgreSQL 14 and later, usually).
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE features
            ALTER COLUMN users SET COMPRESSION lz4,
            ALTER COLUMN excluded_users SET COMPRESSION lz4;
        ALTER TABLE history ALTER COLUMN changes SET COMPRESSION lz4;
    END IF;
END
$$;
