-- History is filtered by actor and by time in the store's own query (`HistoryQuery`), so that a
-- page of matches never means reading the whole table. Applied once, inside one transaction, by
-- rusqlite_migration (schema version 4). Never edit this file once released: add 0005_*.sql.

-- One actor's events, newest first: walked backwards from `id < before`, stopping at the limit.
CREATE INDEX history_by_actor ON history (actor, id);
-- A time window: times are stored as fixed-width RFC 3339 text (nanoseconds, `Z`), which sorts
-- as the times do, so `time >= ? AND time < ?` is a range of this index.
CREATE INDEX history_by_time ON history (time);
