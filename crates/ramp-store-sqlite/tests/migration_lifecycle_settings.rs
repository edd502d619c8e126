//! A `ramp.db` of schema version 8 (before code references and lifecycle settings) keeps its history when opened:
//! migration 0010 rebuilds the history table to admit settings events, and must keep every
//! event, its id, and the id counter (ids are never reused, even past deleted rows).

use ramp_core::{Attribution, LifecycleSettings, Stage};
use ramp_store::{HistoryQuery, Store};
use ramp_store_sqlite::{migrate_to_version, SqliteStore, SCHEMA_VERSION};

#[tokio::test]
async fn a_version_8_file_keeps_its_history_and_ids_and_records_settings() {
    const { assert!(SCHEMA_VERSION >= 10) };
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let mut connection = rusqlite::Connection::open(&path).unwrap();
    migrate_to_version(&mut connection, 8).unwrap();
    // A feature's and a group's event, then a third row deleted: the counter is at 3.
    connection
        .execute_batch(
            r#"INSERT INTO history (feature, subject, action, actor, time, comment, changes)
                 VALUES ('chat', 'feature', 'created', 'ana', '2024-01-01T00:00:00.000000000Z',
                         NULL, '[]'),
                        ('staff', 'group', 'created', 'bo', '2024-01-02T00:00:00.000000000Z',
                         'why', '[]'),
                        ('gone', 'feature', 'created', 'cy', '2024-01-03T00:00:00.000000000Z',
                         NULL, '[]');
             DELETE FROM history WHERE id = 3;"#,
        )
        .unwrap();
    drop(connection);

    let store = SqliteStore::open(&path, false).unwrap();
    let everything = HistoryQuery {
        limit: 10,
        ..HistoryQuery::default()
    };
    let kept = store.history(&everything).await.unwrap();
    let summary: Vec<(u64, String, Option<String>)> = kept
        .iter()
        .map(|event| (event.id, event.subject.to_string(), event.comment.clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (2, "group staff".to_owned(), Some("why".to_owned())),
            (1, "feature chat".to_owned(), None),
        ]
    );

    let settings = LifecycleSettings {
        wip_limits: [(Stage::Beta, 2)].into_iter().collect(),
        ..LifecycleSettings::default()
    };
    let applied = store
        .put_lifecycle_settings(&settings, Some(0), &Attribution::new("ana"))
        .await
        .unwrap();
    assert_eq!(applied.event.unwrap().id, 4, "id 3 is never reused");
    let by_subject = HistoryQuery {
        feature: Some(ramp_core::FeatureName::new("chat").unwrap()),
        limit: 10,
        ..HistoryQuery::default()
    };
    assert_eq!(store.history(&by_subject).await.unwrap().len(), 1);
}
