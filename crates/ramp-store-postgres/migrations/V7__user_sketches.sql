-- Distinct users: per feature, UTC day and answer, one HyperLogLog sketch that applications'
-- and servers' sketches are merged into (`src/exposures/users.rs` merges, reads and forgets
-- them). Applied once per schema by refinery, like V6. Never edit this file once released: add
-- V8__*.sql instead.

-- `day` is days since 1970-01-01 (`ramp_store::daily_users::day_number`): an integer, like the
-- exposure buckets' starts, and every date chrono has fits. `sketch` is
-- `UserSketch::encode`'s bytes (1 to 1025 bytes, so rows stay inline, short of TOAST), merged
-- register by register in Rust: SQL cannot take the maximum of the compact form. Merges
-- rewrite the same rows all day, and the sketch is not indexed: the spare room in each page
-- lets those updates stay on the page (HOT), without new index entries.
CREATE TABLE exposure_user_sketches (
    feature text COLLATE "C" NOT NULL,
    day integer NOT NULL,
    active boolean NOT NULL,
    sketch bytea NOT NULL,
    PRIMARY KEY (feature, day, active)
) WITH (fillfactor = 70);
-- Forgetting deletes the oldest days of every feature, which the primary key cannot find.
CREATE INDEX exposure_user_sketches_by_day ON exposure_user_sketches (day);
