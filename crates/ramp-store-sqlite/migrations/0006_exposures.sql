-- Exposure counts: how often applications checked each feature, per reason, in minute, hour
-- and day buckets; the batch ids already counted; which instances reported each feature; and
-- the checks reported without a name. None of it is part of the store version: recording or
-- compacting exposures never bumps `meta.version` or wakes watchers. Times are Unix seconds.
-- Applied once, inside one transaction, by rusqlite_migration (schema version 6). Never edit
-- this file once released: add 0007_*.sql.

-- One row per feature, bucket start and resolution (its length in seconds: 60, 3600 or
-- 86400); the counts are per ramp_core::ReasonKind, in ReasonKind::ALL order, and never exceed
-- i64::MAX. The key leads with the feature and start so that one feature's buckets over a
-- period are one ordered range. WITHOUT ROWID: the rows are small and always found by key, so
-- ingest updates one b-tree instead of a table and its key index.
CREATE TABLE exposure_buckets (
    feature TEXT NOT NULL,
    start INTEGER NOT NULL,
    resolution INTEGER NOT NULL,
    off_checks INTEGER NOT NULL,
    excluded_checks INTEGER NOT NULL,
    everyone_checks INTEGER NOT NULL,
    user_checks INTEGER NOT NULL,
    group_checks INTEGER NOT NULL,
    percentage_checks INTEGER NOT NULL,
    not_found_checks INTEGER NOT NULL,
    PRIMARY KEY (feature, start, resolution)
) STRICT, WITHOUT ROWID;
-- Compaction (one resolution before a cutoff) and every feature's activity over a period (the
-- three resolutions as three ranges). Ingest mostly updates counts, which this index lacks, so
-- it costs a write only when a minute's first batch creates its rows.
CREATE INDEX exposure_buckets_by_time ON exposure_buckets (resolution, start);

-- Batch ids counted, so that a retry is not counted again, until compaction forgets them.
CREATE TABLE exposure_batches (
    batch_id TEXT PRIMARY KEY NOT NULL,
    received INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX exposure_batches_by_received ON exposure_batches (received);

-- When each instance last reported each feature; a feature's last seen is its latest row.
-- No index on last_seen: every report moves it, so an index would double the cost of ingest
-- to speed up only compaction's expiry scan.
CREATE TABLE exposure_applications (
    feature TEXT NOT NULL,
    application TEXT NOT NULL,
    instance TEXT NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (feature, application, instance)
) STRICT, WITHOUT ROWID;

-- Checks reported without a name, and dropped: one row, there from the start.
CREATE TABLE exposure_totals (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    unnamed INTEGER NOT NULL,
    dropped INTEGER NOT NULL
) STRICT;
INSERT INTO exposure_totals (id, unnamed, dropped) VALUES (1, 0, 0);
