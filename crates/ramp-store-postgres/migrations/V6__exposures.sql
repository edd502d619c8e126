-- Exposure counts: how often applications checked each feature, per reason, in minute, hour
-- and day buckets (`src/exposures.rs` writes and compacts them). Applied once per schema by
-- refinery, like V1. Never edit this file once released: add V7__*.sql instead.

-- One row per feature, resolution and bucket start. `resolution` is the bucket's length in
-- seconds and `start` is seconds since the Unix epoch: integers, so that rolling a bucket into
-- a coarser one is arithmetic, and binning is the same floor division as in Rust. The counts
-- are one column per `ReasonKind`, in `ReasonKind::ALL` order, and never overflow: every sum
-- saturates at the largest bigint. Ingest rewrites the same rows every few seconds, and none
-- of the counts is indexed: the spare room in each page lets those updates stay on the page
-- (HOT), without new index entries.
CREATE TABLE exposure_buckets (
    feature text COLLATE "C" NOT NULL,
    resolution integer NOT NULL CHECK (resolution IN (60, 3600, 86400)),
    start bigint NOT NULL,
    off_count bigint NOT NULL CHECK (off_count >= 0),
    excluded_count bigint NOT NULL CHECK (excluded_count >= 0),
    everyone_count bigint NOT NULL CHECK (everyone_count >= 0),
    user_count bigint NOT NULL CHECK (user_count >= 0),
    group_count bigint NOT NULL CHECK (group_count >= 0),
    percentage_count bigint NOT NULL CHECK (percentage_count >= 0),
    not_found_count bigint NOT NULL CHECK (not_found_count >= 0),
    PRIMARY KEY (feature, resolution, start)
) WITH (fillfactor = 70);
-- Compaction takes the oldest buckets of one resolution; activity reads a window of starts.
CREATE INDEX exposure_buckets_by_start ON exposure_buckets (resolution, start);

-- The ids of batches already counted, so that a retried batch is not counted twice; forgotten
-- by compaction once older than the retention says.
CREATE TABLE exposure_batches (
    batch_id text PRIMARY KEY,
    received timestamptz NOT NULL
);
CREATE INDEX exposure_batches_by_received ON exposure_batches (received);

-- Which application instances reported each feature, and when last. A feature's own last seen
-- is the latest of its rows, so it goes when its last application is forgotten. Rewritten on
-- every batch, like the buckets: hence the spare room in its pages.
CREATE TABLE exposure_applications (
    feature text COLLATE "C" NOT NULL,
    application text COLLATE "C" NOT NULL,
    instance text COLLATE "C" NOT NULL,
    last_seen timestamptz NOT NULL,
    PRIMARY KEY (feature, application, instance)
) WITH (fillfactor = 70);
-- No index on last_seen: ingest moves it forward on every batch, and an index on it would make
-- each of those updates a new index entry instead of a HOT update. Compaction, which forgets
-- the instances not seen for longer than the retention, scans the table instead.

-- Checks reported without a feature name, and dropped by applications: one row, saturating.
CREATE TABLE exposure_totals (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    unnamed bigint NOT NULL CHECK (unnamed >= 0),
    dropped bigint NOT NULL CHECK (dropped >= 0)
);
INSERT INTO exposure_totals (unnamed, dropped) VALUES (0, 0);
ANALYZE exposure_totals;
