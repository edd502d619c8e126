-- The `outside_percentage` reason (a user with an id outside a percentage between 0 and 100,
-- counted as `off` before): one more count column. Existing buckets hold none of it, hence the
-- default. Never edit this file once released: add V9__*.sql instead.
ALTER TABLE exposure_buckets
    ADD COLUMN outside_percentage_count bigint NOT NULL DEFAULT 0
    CHECK (outside_percentage_count >= 0);
