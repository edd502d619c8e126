-- Migration progress: the latest report of each (feature, migration), as a migrator sends it
-- (`ramp_core::MigrationProgress` as JSON text, its time included), replaced by
-- `src/migration_progress.rs`. Deleting a feature deletes its reports (ON DELETE CASCADE), and a
-- report of a feature that does not exist cannot be stored. Not part of the store version.
-- Never edit this file once released: add V13__*.sql instead.
CREATE TABLE migration_progress (
    feature text COLLATE "C" NOT NULL REFERENCES features (name) ON DELETE CASCADE,
    migration text COLLATE "C" NOT NULL,
    report text NOT NULL,
    PRIMARY KEY (feature, migration)
);
