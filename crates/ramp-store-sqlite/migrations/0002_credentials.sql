-- API credentials (tokens, web-UI logins), shared by every server process using this file.
-- Applied once, inside one transaction, by rusqlite_migration (schema version 2). Never edit
-- this file once released: add 0003_*.sql instead.

-- One row per credential, unique per kind and name. Not part of the store version: creating
-- or deleting a credential leaves `meta.version` alone, so it is no feature change, and
-- watchers polling the version do not wake for it. `secret_hash` is opaque (the server hashes);
-- `created_at` is RFC 3339 in UTC with nanoseconds, like every time in this file.
CREATE TABLE credentials (
    kind TEXT NOT NULL,             -- token or password
    name TEXT NOT NULL,
    role TEXT NOT NULL,             -- admin or reader
    secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (kind, name)
) STRICT;
