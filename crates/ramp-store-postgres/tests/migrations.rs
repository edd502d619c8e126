//! What only PostgreSQL can get wrong about its schema and credentials: a schema migrated
//! before credentials existed (version 1) gains the table when opened; one from before the
//! history indexes (version 3) gains them and keeps its history; one from before groups had
//! history (version 4) gains the subject column, and its events stay features'; times keep
//! microseconds (the rest is truncated, not rounded); and a row Ramp cannot read is `Corrupt`,
//! not skipped. The shared behaviour is in the conformance suite.

use chrono::{DateTime, Utc};
use ramp_core::{Attribution, Change, FeatureKind, FeatureName, GroupName, StoredGroup, Subject};
use ramp_store::{Credential, CredentialKind, HistoryQuery, Role, Store, StoreError};
use ramp_store_postgres::{schema_version, PostgresStore, MIGRATION_TABLE};

mod common;

/// Undoes `V5__group_history.sql` on a schema that has it (dropping the column drops
/// `history_by_subject` with it), leaving the history table as version 4 had it.
const UNDO_V5: &str = "ALTER TABLE history DROP COLUMN subject;
    CREATE INDEX history_by_feature ON history (feature, id DESC);";

/// Undoes `V6__exposures.sql`: every older version's schema lacks the exposure tables.
const UNDO_V6: &str = "DROP TABLE exposure_buckets, exposure_batches, exposure_applications,
    exposure_totals;";

// `V8__outside_percentage.sql` adds a column to a table that `UNDO_V6` drops, so undoing V6
// undoes V8 too.

/// Undoes `V10__lifecycle_settings.sql`'s table; its CHECK on `history.subject` goes with the
/// column when `UNDO_V5` drops it, so it must run first.
const UNDO_V10: &str = "DROP TABLE settings;";

/// Undoes `V12__migration_progress.sql`.
const UNDO_V12: &str = "DROP TABLE migration_progress;";

/// Undoes `V11__feature_kinds.sql`.
const UNDO_V11: &str = "ALTER TABLE features DROP COLUMN kind;";

/// Undoes `V7__user_sketches.sql`: every older version's schema lacks the sketch table.
const UNDO_V7: &str = "DROP TABLE exposure_user_sketches;";
/// Undoes `V9__code_references.sql`.
const UNDO_V9: &str = "DROP TABLE code_references, code_scans;";

fn token(name: &str) -> Credential {
    Credential {
        name: name.to_owned(),
        kind: CredentialKind::Token,
        role: Role::Reader,
        secret_hash: "hash".to_owned(),
        created_at: DateTime::<Utc>::from_timestamp(1_700_000_000, 123_456_999).unwrap(),
        created_by: "ana".to_owned(),
    }
}

#[tokio::test]
async fn a_version_1_schema_gains_credentials_and_group_versions_and_keeps_its_data() {
    let Some((store, guard)) = common::temporary_store().await else {
        return;
    };
    assert_eq!(schema_version(), 12);
    store
        .apply(
            &FeatureName::new("chat").unwrap(),
            &Change::Activate,
            None,
            &Attribution::new("ana"),
        )
        .await
        .unwrap();
    drop(store);
    // As a Ramp from before credentials and group versions left the schema.
    common::tamper(
        &guard.schema,
        &format!(
            r#"DROP TABLE credentials; ALTER TABLE groups DROP COLUMN version;
            DROP INDEX history_by_actor; DROP INDEX history_by_time; {UNDO_V12} {UNDO_V11} {UNDO_V10} {UNDO_V5} {UNDO_V6} {UNDO_V7} {UNDO_V9}
            INSERT INTO groups VALUES ('staff', '{{"name":"staff","members":["7"]}}');
            DELETE FROM {MIGRATION_TABLE} WHERE version IN (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);"#
        ),
    )
    .await;

    let store = PostgresStore::open_url(&common::url(&guard.schema))
        .await
        .unwrap();
    assert!(store.credentials().await.unwrap().is_empty());
    store.create_credential(&token("ci")).await.unwrap();
    let snapshot = store.snapshot().await.unwrap();
    assert_eq!((snapshot.version, snapshot.features.len()), (1, 1));
    let groups = store.groups().await.unwrap();
    assert_eq!(
        (
            groups.len(),
            groups[0].group.name.as_str(),
            groups[0].version
        ),
        (1, "staff", 1)
    );
    let rewritten = store
        .put_group(&groups[0].group, Some(1), &Attribution::new("ana"))
        .await
        .unwrap();
    assert_eq!(rewritten.version, 2, "the next store version");
    assert_eq!(rewritten.event, None, "the group is unchanged");
}

#[tokio::test]
async fn created_at_keeps_microseconds_truncated() {
    let Some((store, _guard)) = common::temporary_store().await else {
        return;
    };
    store.create_credential(&token("ci")).await.unwrap();
    let stored = store.credentials().await.unwrap().remove(0);
    assert_eq!(
        stored.created_at,
        DateTime::<Utc>::from_timestamp(1_700_000_000, 123_456_000).unwrap()
    );
}

#[tokio::test]
async fn an_unreadable_credential_row_is_corrupt() {
    let Some((store, guard)) = common::temporary_store().await else {
        return;
    };
    store.create_credential(&token("ci")).await.unwrap();
    common::tamper(&guard.schema, "UPDATE credentials SET role = 'owner'").await;
    let error = store.credentials().await.unwrap_err();
    let StoreError::Corrupt { detail, .. } = &error else {
        panic!("expected Corrupt, got {error:?}");
    };
    assert!(
        detail.contains("\"ci\"") && detail.contains("owner"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_version_3_schema_gains_the_history_indexes_and_keeps_its_history() {
    let Some((store, guard)) = common::temporary_store().await else {
        return;
    };
    assert_eq!(schema_version(), 12);
    let chat = FeatureName::new("chat").unwrap();
    for actor in ["ana", "bo", "ana"] {
        store
            .apply(&chat, &Change::Activate, None, &Attribution::new(actor))
            .await
            .unwrap();
        store
            .apply(&chat, &Change::Deactivate, None, &Attribution::new(actor))
            .await
            .unwrap();
    }
    let before = store.history(&HistoryQuery::default()).await.unwrap();
    drop(store);
    // As a Ramp from before the history filters left the schema.
    common::tamper(
        &guard.schema,
        &format!(
            "DROP INDEX history_by_actor; DROP INDEX history_by_time; {UNDO_V12} {UNDO_V11} {UNDO_V10} {UNDO_V5} {UNDO_V6} {UNDO_V7} {UNDO_V9}
             DELETE FROM {MIGRATION_TABLE} WHERE version IN (4, 5, 6, 7, 8, 9, 10, 11, 12);"
        ),
    )
    .await;

    let store = PostgresStore::open_url(&common::url(&guard.schema))
        .await
        .unwrap();
    assert_eq!(
        store.history(&HistoryQuery::default()).await.unwrap(),
        before
    );
    let by_bo = store
        .history(&HistoryQuery {
            actor: Some("bo".into()),
            until: Some(before[0].time),
            ..HistoryQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(by_bo, before[2..4].to_vec());
    let indexes = common::query(
        &guard.schema,
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema()
         AND indexname IN ('history_by_actor', 'history_by_time') ORDER BY indexname",
    )
    .await;
    let names: Vec<String> = indexes.iter().map(|row| row.get(0)).collect();
    assert_eq!(names, ["history_by_actor", "history_by_time"]);
}

#[tokio::test]
async fn a_version_4_schema_gains_subjects_and_its_events_stay_features() {
    let Some((store, guard)) = common::temporary_store().await else {
        return;
    };
    assert_eq!(schema_version(), 12);
    let chat = FeatureName::new("chat").unwrap();
    let ana = Attribution::new("ana");
    store
        .apply(&chat, &Change::Activate, None, &ana)
        .await
        .unwrap();
    store.delete(&chat, None, &ana).await.unwrap();
    let before = store.history(&HistoryQuery::default()).await.unwrap();
    drop(store);
    // As a Ramp from before group history left the schema.
    common::tamper(
        &guard.schema,
        &format!("{UNDO_V12} {UNDO_V11} {UNDO_V10} {UNDO_V5} {UNDO_V6} {UNDO_V7} {UNDO_V9} DELETE FROM {MIGRATION_TABLE} WHERE version IN (5, 6, 7, 8, 9, 10, 11, 12);"),
    )
    .await;

    let store = PostgresStore::open_url(&common::url(&guard.schema))
        .await
        .unwrap();
    let after = store.history(&HistoryQuery::default()).await.unwrap();
    assert_eq!(after, before);
    assert!(after
        .iter()
        .all(|event| event.subject == Subject::Feature(chat.clone())));
    let by_feature = store
        .history(&HistoryQuery {
            feature: Some(chat.clone()),
            ..HistoryQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(by_feature, before);
    let chat_group = HistoryQuery {
        group: Some(GroupName::new("chat").unwrap()),
        ..HistoryQuery::default()
    };
    assert!(store.history(&chat_group).await.unwrap().is_empty());
    // A server of the previous Ramp, still running, records a feature's event without naming
    // the column: the default makes it the feature's.
    common::tamper(
        &guard.schema,
        "INSERT INTO history (feature, action, actor, time, changes)
         VALUES ('chat', 'created', 'old-server', now(), '[]')",
    )
    .await;
    let latest = store
        .latest_events(std::slice::from_ref(&chat))
        .await
        .unwrap();
    assert_eq!(latest[&chat].actor, "old-server");
    // Groups are recorded from now on, apart from the feature of the same name.
    let group = StoredGroup {
        name: GroupName::new("chat").unwrap(),
        description: "testers".into(),
        members: vec![],
        rules: vec![],
    };
    let created = store.put_group(&group, Some(0), &ana).await.unwrap();
    assert_eq!(
        store.history(&chat_group).await.unwrap(),
        vec![created.event.unwrap()]
    );
    let indexes = common::query(
        &guard.schema,
        "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()
         AND tablename = 'history' ORDER BY indexname",
    )
    .await;
    let definitions: Vec<String> = indexes.iter().map(|row| row.get(0)).collect();
    assert!(
        definitions
            .iter()
            .any(|index| index.contains("history_by_subject")
                && index.contains("(subject, feature, id DESC)")),
        "{definitions:?}"
    );
    assert!(
        !definitions
            .iter()
            .any(|index| index.contains("history_by_feature")),
        "{definitions:?}"
    );
}

/// A schema of version 10 (before kinds) gains the `kind` column: its features read back as
/// release flags, a kind set afterwards sticks, and a kind this build does not know is
/// `Corrupt` rather than read as a release flag.
#[tokio::test]
async fn a_version_10_schema_reads_its_features_as_release_flags() {
    let Some((store, guard)) = common::temporary_store().await else {
        return;
    };
    let chat = FeatureName::new("chat").unwrap();
    let ana = Attribution::new("ana");
    store
        .apply(&chat, &Change::Activate, None, &ana)
        .await
        .unwrap();
    drop(store);
    common::tamper(
        &guard.schema,
        &format!("{UNDO_V12} {UNDO_V11} DELETE FROM {MIGRATION_TABLE} WHERE version IN (11, 12);"),
    )
    .await;

    let store = PostgresStore::open_url(&common::url(&guard.schema))
        .await
        .unwrap();
    let feature = store.feature(&chat).await.unwrap().unwrap();
    assert_eq!((feature.kind, feature.version), (FeatureKind::Release, 1));
    let applied = store
        .apply(
            &chat,
            &Change::SetKind {
                kind: FeatureKind::Permission,
            },
            None,
            &ana,
        )
        .await
        .unwrap();
    assert_eq!(applied.feature.kind, FeatureKind::Permission);
    let feature = store.feature(&chat).await.unwrap().unwrap();
    assert_eq!(feature.kind, FeatureKind::Permission);

    common::tamper(&guard.schema, "UPDATE features SET kind = 'flag'").await;
    let error = store.feature(&chat).await.unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    assert!(
        error.to_string().contains("unknown kind \"flag\""),
        "{error}"
    );
}
