-- History is filtered by actor and by time in the store's own query (`HistoryQuery`), so that a
-- page of matches never means reading the whole table. Applied once per schema by refinery,
-- like V1. Never edit this file once released: add V5__*.sql instead.

-- One actor's events, newest first: walked backwards from `id < before`, stopping at the limit.
CREATE INDEX history_by_actor ON history (actor, id DESC);
-- A time window (`time >= since AND time < until`) as a range of this index.
CREATE INDEX history_by_time ON history (time);
