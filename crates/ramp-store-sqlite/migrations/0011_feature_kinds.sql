-- Feature kinds (release, experiment, operational, kill_switch, permission): one more column of
-- features, read and written by `rows.rs`. Every feature stored before kinds existed was a
-- release flag as far as anyone said, hence the default. Applied once by rusqlite_migration
-- (schema version 11). Never edit this file once released: add 0012_*.sql.
ALTER TABLE features ADD COLUMN kind TEXT NOT NULL DEFAULT 'release';
