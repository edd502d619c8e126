-- Distinct users: per feature, UTC day and answer, the HyperLogLog sketch applications' and
-- servers' sketches are merged into (ramp_core::UserSketch::encode's bytes). Like the other
-- exposure tables, none of it is part of the store version: merging or forgetting sketches
-- never bumps `meta.version` or wakes watchers. Applied once, inside one transaction, by
-- rusqlite_migration (schema version 7). Never edit this file once released: add 0008_*.sql.

-- `day` is days since 1970-01-01 (ramp_store::daily_users::day_number); `active` is 0 or 1.
-- The key leads with the day, as the buckets' leads with time: a merge brings today's sketch
-- of many features, whose key entries are then neighbours at the end of the key, and
-- forgetting old days deletes one range of it.
-- A rowid table, unlike the other exposure tables: a dense sketch is 1,025 bytes, more than
-- an index b-tree cell (which is what a WITHOUT ROWID row is) holds on a 4 KiB page, so each
-- such row would spill onto an overflow page of its own. Measured with 100,000 dense rows:
-- 3.3 times the pages and 3 times the insert time of this layout.
CREATE TABLE exposure_user_sketches (
    day INTEGER NOT NULL,
    feature TEXT NOT NULL,
    active INTEGER NOT NULL CHECK (active IN (0, 1)),
    sketch BLOB NOT NULL,
    PRIMARY KEY (day, feature, active)
) STRICT;
-- One feature's days, in the order reads return them (day, then inactive before active). It
-- holds no sketch, so merging into an existing sketch leaves it alone: only a day's first
-- sketch of a feature and answer writes to it.
CREATE INDEX exposure_user_sketches_by_feature ON exposure_user_sketches (feature, day, active);
