-- Stored groups have history too: an event's subject is a feature or a group. The `feature`
-- column holds the subject's name (the feature's, or the group's when subject = 'group'): a
-- new column with a default, rather than a rebuilt table, so every existing event reads as a
-- feature's and a server of the previous release still works on this file. Applied once,
-- inside one transaction, by rusqlite_migration (schema version 5). Never edit this file once
-- released: add 0006_*.sql.
ALTER TABLE history ADD COLUMN subject TEXT NOT NULL DEFAULT 'feature'
    CHECK (subject IN ('feature', 'group'));

-- One feature's or group's events, newest first, and the newest of each (`MAX(id)`): the
-- name and subject are an equality prefix, so both are one range of this index.
DROP INDEX history_by_feature;
CREATE INDEX history_by_subject ON history (feature, subject, id);
