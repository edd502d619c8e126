//! What only a file-backed store can get wrong about its schema and credentials: credentials
//! surviving a reopen, being added to a file made before credentials existed (schema version
//! 1), two stores (as two processes would) creating one credential at once, and a file from
//! before the history indexes and groups' history (version 3) gaining them and keeping its
//! history as features' events. The shared
//! behaviour is in the conformance suite; the filters' query plans in `src/history.rs`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ramp_core::{Attribution, Change, FeatureKind, FeatureName, GroupName, Stage, StoredGroup};
use ramp_store::{Credential, CredentialKind, HistoryQuery, Role, Store, StoreError};
use ramp_store_sqlite::{migrate_to_version, SqliteStore, SCHEMA_VERSION};

fn token(name: &str, hash: &str) -> Credential {
    Credential {
        name: name.to_owned(),
        kind: CredentialKind::Token,
        role: Role::Admin,
        secret_hash: hash.to_owned(),
        // Nanoseconds: this file keeps them all.
        created_at: DateTime::<Utc>::from_timestamp(1_700_000_000, 123_456_789).unwrap(),
        created_by: "ana".to_owned(),
    }
}

#[tokio::test]
async fn credentials_survive_close_and_reopen() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let store = SqliteStore::open(&path, false).unwrap();
    let created = token("ci", "hash");
    store.create_credential(&created).await.unwrap();
    drop(store);
    let reopened = SqliteStore::open(&path, false).unwrap();
    assert_eq!(reopened.credentials().await.unwrap(), vec![created]);
}

/// A `ramp.db` written before credentials and group versions existed gains the table and the
/// column when opened, and keeps its features, groups (at version 1) and version.
#[tokio::test]
async fn a_schema_version_1_file_is_migrated() {
    assert_eq!(SCHEMA_VERSION, 12);
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let mut connection = rusqlite::Connection::open(&path).unwrap();
    migrate_to_version(&mut connection, 1).unwrap();
    connection
        .execute_batch(
            r#"INSERT INTO features VALUES ('chat', 100.0, '', '', '', '{}', 'development',
                 '2024-01-01T00:00:00.000000000Z', '2024-01-01T00:00:00.000000000Z', 1);
             INSERT INTO groups VALUES ('staff',
                 '{"name":"staff","description":"","members":["7"],"rules":[]}');
             UPDATE meta SET value = 2 WHERE key = 'version';"#,
        )
        .unwrap();
    drop(connection);

    let store = SqliteStore::open(&path, false).unwrap();
    assert!(store.credentials().await.unwrap().is_empty());
    store.create_credential(&token("ci", "hash")).await.unwrap();
    let snapshot = store.snapshot().await.unwrap();
    assert_eq!((snapshot.version, snapshot.features.len()), (2, 1));
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
    assert_eq!(rewritten.version, 3, "the next store version");
    let user_version: usize = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(user_version, SCHEMA_VERSION);
}

/// Two stores on one file, as a server and the CLI would be: each create is decided by the
/// file, not by either store's lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_create_once() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let stores: Vec<Arc<SqliteStore>> = (0..2)
        .map(|_| Arc::new(SqliteStore::open(&path, false).unwrap()))
        .collect();
    let mut tasks = Vec::new();
    for attempt in 0..8 {
        let store = Arc::clone(&stores[attempt % 2]);
        tasks.push(tokio::spawn(async move {
            store
                .create_credential(&token("shared", &format!("hash-{attempt}")))
                .await
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => created += 1,
            Err(error) => assert!(matches!(error, StoreError::Conflict { .. }), "{error:?}"),
        }
    }
    assert_eq!(created, 1);
    for store in &stores {
        assert_eq!(store.credentials().await.unwrap().len(), 1);
    }
    // The other store sees the feature change but was never told of the credential.
    stores[0]
        .apply(
            &FeatureName::new("chat").unwrap(),
            &Change::Activate,
            None,
            &Attribution::new("ana"),
        )
        .await
        .unwrap();
    assert_eq!(stores[1].snapshot().await.unwrap().version, 1);
}

fn time(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

#[tokio::test]
async fn a_schema_version_3_file_gains_the_history_indexes_and_subjects_and_keeps_its_history() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let mut connection = rusqlite::Connection::open(&path).unwrap();
    migrate_to_version(&mut connection, 3).unwrap();
    connection
        .execute_batch(
            r#"INSERT INTO history (feature, action, actor, time, comment, changes) VALUES
                 ('chat', 'created', 'ana', '2024-01-01T00:00:00.000000000Z', NULL,
                  '[{"kind":"value","field":"percentage","before":0.0,"after":100.0}]'),
                 ('chat', 'updated', 'bo', '2024-01-02T00:00:00.000000000Z', 'why',
                  '[{"kind":"value","field":"data.color","before":null,"after":"red"}]'),
                 ('search', 'created', 'ana', '2024-01-03T00:00:00.000000000Z', NULL,
                  '[{"kind":"members","field":"users","added":["7"],"removed":[]}]');"#,
        )
        .unwrap();
    drop(connection);

    let store = SqliteStore::open(&path, false).unwrap();
    let all = store.history(&HistoryQuery::default()).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[1].changes[0].field(), "data.color");
    let by_ana = store
        .history(&HistoryQuery {
            actor: Some("ana".into()),
            since: Some(time("2024-01-01T00:00:00Z")),
            until: Some(time("2024-01-03T00:00:00Z")),
            ..HistoryQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(by_ana, vec![all[2].clone()]);
    assert!(all.iter().all(|event| event.feature().is_some()));
    // A group named like a feature gets events of its own, which the feature's never shows.
    let chat_group = StoredGroup {
        name: GroupName::new("chat").unwrap(),
        description: "a group".into(),
        members: Vec::new(),
        rules: Vec::new(),
    };
    let recorded = store
        .put_group(&chat_group, None, &Attribution::new("cy"))
        .await
        .unwrap()
        .event
        .unwrap();
    let chat = store
        .history(&HistoryQuery {
            feature: Some(FeatureName::new("chat").unwrap()),
            ..HistoryQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(chat, vec![all[1].clone(), all[2].clone()]);
    let group = store
        .history(&HistoryQuery {
            group: Some(chat_group.name.clone()),
            ..HistoryQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(group, vec![recorded]);

    let connection = rusqlite::Connection::open(&path).unwrap();
    let user_version: usize = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(user_version, SCHEMA_VERSION);
    for (index, expected) in [
        ("history_by_actor", 1),
        ("history_by_time", 1),
        ("history_by_subject", 1),
        ("history_by_feature", 0),
    ] {
        let found: i64 = connection
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?1",
                [index],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(found, expected, "{index}");
    }
}

/// A file of schema version 10 (before kinds) gains the `kind` column: its features read back
/// as release flags, a kind set afterwards sticks, and a row holding a kind this build does
/// not know is refused as `Corrupt` rather than read as a release flag.
#[tokio::test]
async fn a_schema_version_10_file_reads_its_features_as_release_flags() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let mut connection = rusqlite::Connection::open(&path).unwrap();
    migrate_to_version(&mut connection, 10).unwrap();
    connection
        .execute_batch(
            r#"INSERT INTO features VALUES ('chat', 100.0, '', '', '', '{}', 'beta',
                 '2024-01-01T00:00:00.000000000Z', '2024-01-01T00:00:00.000000000Z', 1);
             UPDATE meta SET value = 1 WHERE key = 'version';"#,
        )
        .unwrap();
    drop(connection);

    let store = SqliteStore::open(&path, false).unwrap();
    let chat = FeatureName::new("chat").unwrap();
    let feature = store.feature(&chat).await.unwrap().unwrap();
    assert_eq!(
        (feature.kind, feature.stage, feature.version),
        (FeatureKind::Release, Stage::Beta, 1)
    );
    store
        .apply(
            &chat,
            &Change::SetKind {
                kind: FeatureKind::KillSwitch,
            },
            None,
            &Attribution::new("ana"),
        )
        .await
        .unwrap();
    drop(store);
    let reopened = SqliteStore::open(&path, false).unwrap();
    let feature = reopened.feature(&chat).await.unwrap().unwrap();
    assert_eq!(feature.kind, FeatureKind::KillSwitch);

    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE features SET kind = 'flag' WHERE name = 'chat'", [])
        .unwrap();
    let error = reopened.feature(&chat).await.unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    assert!(
        error.to_string().contains("unknown kind \"flag\""),
        "{error}"
    );
}
