-- Migration progress: the latest report of each (feature, migration), as a migrator sends it
-- (`ramp_core::MigrationProgress` as JSON, its time included). A new report replaces the row.
-- Deleting a feature deletes its reports (ON DELETE CASCADE; the connection turns foreign keys
-- on), and a report of a feature that does not exist cannot be stored. Not part of the store
-- version: reports never bump `meta.version` or wake watchers. Applied once by
-- rusqlite_migration (schema version 12). Never edit this file once released: add 0013_*.sql.
CREATE TABLE migration_progress (
    feature TEXT NOT NULL REFERENCES features (name) ON DELETE CASCADE,
    migration TEXT NOT NULL,
    report TEXT NOT NULL,
    PRIMARY KEY (feature, migration)
) STRICT;
