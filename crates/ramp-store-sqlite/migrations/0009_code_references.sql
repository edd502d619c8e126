-- Code references: each repository's latest scan (`ramp scan --upload`). A new scan of a
-- repository deletes its rows and inserts the new ones in one transaction, so readers see one
-- scan whole. Not part of the store version: uploads never bump `meta.version` or wake
-- watchers. The position in `MIGRATIONS` is the schema version. Never edit this file once
-- released.
CREATE TABLE code_scans (
    repository TEXT PRIMARY KEY,
    commit_id TEXT NOT NULL,
    -- Milliseconds since the Unix epoch.
    scanned_at INTEGER NOT NULL
) STRICT;

CREATE TABLE code_references (
    repository TEXT NOT NULL REFERENCES code_scans (repository) ON DELETE CASCADE,
    feature TEXT NOT NULL,
    file TEXT NOT NULL,
    line INTEGER NOT NULL,
    context TEXT NOT NULL
) STRICT;
-- A feature page reads one feature's references across repositories.
CREATE INDEX code_references_by_feature ON code_references (feature, repository, file, line);
-- Replacing a scan deletes one repository's rows.
CREATE INDEX code_references_by_repository ON code_references (repository);
