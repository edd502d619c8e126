-- The `outside_percentage` reason (a user with an id outside a percentage between 0 and 100,
-- counted as `off` before): one more count column of exposure_buckets, read and written by name
-- (`exposures::count_column`). Existing buckets hold none of it, hence the default. Applied
-- once by rusqlite_migration (schema version 8). Never edit this file once released.
ALTER TABLE exposure_buckets ADD COLUMN outside_percentage_checks INTEGER NOT NULL DEFAULT 0;
