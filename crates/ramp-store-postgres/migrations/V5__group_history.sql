-- Stored groups get history: an event's subject is a feature or a group. Applied once per
-- schema by refinery, like V1. Never edit this file once released: add V6__*.sql instead.

-- Which kind of thing the event changed. The `feature` column keeps holding the subject's name:
-- a feature's name when `subject` is 'feature', a group's when it is 'group' (renaming it would
-- break the servers still running the previous Ramp). A constant default is only catalog
-- metadata, so existing rows need no rewrite and read as features' events, which is what they
-- are; and servers of the previous Ramp, still running on this schema during an upgrade, keep
-- inserting rows without naming the column, which get 'feature' too (they record no group
-- events). Adding the CHECK scans the table once, under this migration's lock.
ALTER TABLE history
    ADD COLUMN subject text NOT NULL DEFAULT 'feature'
        CONSTRAINT history_subject_check CHECK (subject IN ('feature', 'group'));
COMMENT ON COLUMN history.feature IS
    'The name of the event''s subject: a feature, or a stored group when subject = ''group''';

-- One feature's or one group's page (`subject = $1 AND feature = $2 ORDER BY id DESC LIMIT n`)
-- walks this index backwards from its first match and stops at the limit; it also finds the
-- newest event of each feature for `latest_events`. It replaces `history_by_feature
-- (feature, id DESC)` rather than joining it: every write would maintain both. The cost is
-- that the previous Ramp's feature pages (`feature = $1` alone), while its servers still run,
-- are served by the primary key with a filter: slower for rare features (and a group named
-- like a feature shows its events there, as that version cannot tell them apart).
DROP INDEX history_by_feature;
CREATE INDEX history_by_subject ON history (subject, feature, id DESC);
