-- API credentials (tokens, web-UI logins), shared by every server process using this schema.
-- Applied once per schema by refinery, like V1 (the search_path is the store's schema). Never
-- edit this file once released: refinery checks its checksum, so add V3__*.sql instead.

-- One row per credential, unique per kind and name; the primary key is what makes two
-- concurrent creates of one name end with exactly one row. Not part of the store version:
-- credential writes leave `meta` alone and notify nobody (servers re-read credentials
-- periodically). "C" collation, as for feature names: listing sorts byte by byte, as Rust does.
-- No CHECK on kind and role: the store refuses values it does not know when it reads them, and
-- a later Ramp adding a role then needs no migration. `secret_hash` is opaque (the server
-- hashes).
CREATE TABLE credentials (
    kind text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    role text NOT NULL,
    secret_hash text NOT NULL,
    created_at timestamptz NOT NULL,
    created_by text NOT NULL,
    PRIMARY KEY (kind, name)
);
