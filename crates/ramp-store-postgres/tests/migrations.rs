//! What only PostgreSQL can get wrong about its schema and credentials: a schema migrated
//! before credentials existed (version 1) gains the table when opened; one from before the
//! history indexes (version 3) gains them and keeps its history; times keep microseconds (the
//! rest is truncated, not rounded); and a row Ramp cannot read is `Corrupt`, not skipped. The
//! shared behaviour is in the conformance suite.

use chrono::{DateTime, Utc};
use ramp_core::{Attribution, Change, FeatureName};
use ramp_store::{Credential, CredentialKind, HistoryQuery, Role, Store, StoreError};
use ramp_store_postgres::{schema_version, PostgresStore, MIGRATION_TABLE};

mod common;

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
    assert_eq!(schema_version(), 4);
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
            DROP INDEX history_by_actor; DROP INDEX history_by_time;
            INSERT INTO groups VALUES ('staff', '{{"name":"staff","members":["7"]}}');
            DELETE FROM {MIGRATION_TABLE} WHERE version IN (2, 3, 4);"#
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
    let rewritten = store.put_group(&groups[0].group, Some(1)).await.unwrap();
    assert_eq!(rewritten, 2, "the next store version");
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
    assert_eq!(schema_version(), 4);
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
            "DROP INDEX history_by_actor; DROP INDEX history_by_time;
             DELETE FROM {MIGRATION_TABLE} WHERE version = 4;"
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
