-- Exposure counts: how often applications checked each feature, per reason, in minute, hour
-- and day buckets; the batch ids already counted; which instances reported each feature; and
-- the checks reported without a name. None of it is part of the store version: recording or
-- compacting exposures never bumps `meta.version` or wakes watchers. Times are Unix seconds.
-- Applied once, inside one transaction, by rusqlite_migration (schema version 6). Never edit
-- this file once released: add 0007_*.sql.

-- One row per resolution (a bucket's length in seconds: 60, 3600 or 86400), bucket start and
-- feature; the counts are per ramp_core::ReasonKind, in ReasonKind::ALL order, and never exceed
-- i64::MAX. The key leads with time, not the feature: every batch updates one minute of many
-- features, and this way those rows are neighbours on a few pages (written once each) instead
-- of one row on each of thousands of pages. Compaction and activity read ranges of this key.
-- WITHOUT ROWID: the rows are small and always found by key, so ingest updates one b-tree.
CREATE TABLE exposure_buckets (
    resolution INTEGER NOT NULL,
    start INTEGER NOT NULL,
    feature TEXT NOT NULL,
    off_checks INTEGER NOT NULL,
    excluded_checks INTEGER NOT NULL,
    everyone_checks INTEGER NOT NULL,
    user_checks INTEGER NOT NULL,
    group_checks INTEGER NOT NULL,
    percentage_checks INTEGER NOT NULL,
    not_found_checks INTEGER NOT NULL,
    PRIMARY KEY (resolution, start, feature)
) STRICT, WITHOUT ROWID;
-- One feature's buckets over a period. It holds no count, so adding to a bucket leaves it
-- alone: only a minute's first batch, creating that minute's rows, writes to it.
CREATE INDEX exposure_buckets_by_feature ON exposure_buckets (feature, start);

-- Batch ids counted, so that a retry is not counted again, until compaction forgets them.
CREATE TABLE exposure_batches (
    batch_id TEXT PRIMARY KEY NOT NULL,
    received INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX exposure_batches_by_received ON exposure_batches (received);

-- When each instance last reported each feature; a feature's last seen is its latest row.
-- Keyed by instance first, for the same reason as the buckets: a batch moves last_seen on
-- one instance's rows, which are then neighbours. No index at all: one by feature would get
-- an entry on a different page for each of a new instance's rows (its first report took six
-- times as long with one, at 10,000 features), while the reads it would speed up, one
-- feature's instances and every feature's last seen, are dashboard queries that can afford
-- to scan this table.
CREATE TABLE exposure_applications (
    application TEXT NOT NULL,
    instance TEXT NOT NULL,
    feature TEXT NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (application, instance, feature)
) STRICT, WITHOUT ROWID;

-- Checks reported without a name, and dropped: one row, there from the start.
CREATE TABLE exposure_totals (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    unnamed INTEGER NOT NULL,
    dropped INTEGER NOT NULL
) STRICT;
INSERT INTO exposure_totals (id, unnamed, dropped) VALUES (1, 0, 0);
