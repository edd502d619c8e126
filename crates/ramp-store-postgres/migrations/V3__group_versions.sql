-- Stored groups get a version, so that conditional writes are checked inside the write's
-- transaction, under the group row's lock, rather than by the caller. Applied once per schema
-- by refinery, like V1. Never edit this file once released: add V4__*.sql instead.

-- The store version (`meta.version`) of the write that last wrote the group: it grows with
-- every write of the group and is never reused after a deletion. Groups written before this
-- migration start at 1, below any version a later write gives them.
ALTER TABLE groups ADD COLUMN version bigint NOT NULL DEFAULT 1 CHECK (version > 0);
