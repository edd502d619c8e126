//! What only PostgreSQL can get wrong about filtered history: a schema from before the history
//! indexes (version 3) gains them when opened and keeps its history. The filters themselves
//! are checked by the conformance suite.

use ramp_core::{Attribution, Change, FeatureName};
use ramp_store::{HistoryQuery, Store};
use ramp_store_postgres::{schema_version, PostgresStore, MIGRATION_TABLE};

mod common;

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
