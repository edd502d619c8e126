//! What only SQLite can get wrong about filtered history: a file from before the history
//! indexes (schema version 3) gains them when opened and keeps its history. The filters
//! themselves are checked by the conformance suite, their query plans in `src/history.rs`.

use chrono::{DateTime, Utc};
use ramp_store::{HistoryQuery, Store};
use ramp_store_sqlite::{SqliteStore, SCHEMA_VERSION};

fn time(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

#[tokio::test]
async fn a_schema_version_3_file_gains_the_history_indexes_and_keeps_its_history() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let mut connection = rusqlite::Connection::open(&path).unwrap();
    rusqlite_migration::Migrations::new(vec![
        rusqlite_migration::M::up(include_str!("../migrations/0001_initial.sql")),
        rusqlite_migration::M::up(include_str!("../migrations/0002_credentials.sql")),
        rusqlite_migration::M::up(include_str!("../migrations/0003_group_versions.sql")),
    ])
    .to_latest(&mut connection)
    .unwrap();
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

    let connection = rusqlite::Connection::open(&path).unwrap();
    let user_version: usize = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(user_version, SCHEMA_VERSION);
    for index in ["history_by_actor", "history_by_time"] {
        let found: i64 = connection
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?1",
                [index],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(found, 1, "{index}");
    }
}
