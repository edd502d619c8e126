-- Feature kinds (release, experiment, operational, kill_switch, permission): one more column of
-- features, read and written by `rows.rs` (and `import.rs`'s column arrays). Every feature stored
-- before kinds existed was a release flag as far as anyone said, hence the default; the store
-- checks the names when it reads, as it does for the stage. Never edit this file once released:
-- add V12__*.sql instead.
ALTER TABLE features ADD COLUMN kind text NOT NULL DEFAULT 'release';
