-- Code references: each repository's latest scan (`ramp scan --upload`), replaced whole in one
-- transaction by `src/code_references.rs`. Not part of the store version. Never edit this file
-- once released.
CREATE TABLE code_scans (
    repository text COLLATE "C" PRIMARY KEY,
    commit_id text NOT NULL,
    -- Milliseconds since the Unix epoch, like the exposure tables' times.
    scanned_at bigint NOT NULL
);

CREATE TABLE code_references (
    repository text COLLATE "C" NOT NULL REFERENCES code_scans (repository) ON DELETE CASCADE,
    feature text COLLATE "C" NOT NULL,
    file text COLLATE "C" NOT NULL,
    line integer NOT NULL,
    context text NOT NULL
);
-- A feature page reads one feature's references across repositories, in this order.
CREATE INDEX code_references_by_feature ON code_references (feature, repository, file, line);
-- Replacing a scan deletes one repository's rows.
CREATE INDEX code_references_by_repository ON code_references (repository);
