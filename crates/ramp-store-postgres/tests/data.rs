//! Stored data as PostgreSQL holds it: rows damaged behind the store's back are `Corrupt` for
//! their feature only (an event whose subject is neither a feature nor a group too), values
//! PostgreSQL cannot store are `Invalid` and change nothing, and history pages (a feature's, a
//! group's, everyone's) are read through indexes rather than by sorting the table.

use ramp_core::{Attribution, Change, GroupName, StoredGroup};
use ramp_store::{HistoryQuery, Store, StoreError};
use serde_json::json;

mod common;

use common::{add_users, ana, assert_corrupt, name};

#[tokio::test]
async fn a_damaged_row_is_corrupt_for_that_feature_only() {
    let Some((store, guard)) = common::temporary_store().await else {
        return;
    };
    for feature in ["good", "bad-users", "bad-stage", "bad-data"] {
        store
            .apply(&name(feature), &add_users(&["1"]), None, &ana())
            .await
            .unwrap();
    }
    common::tamper(
        &guard.schema,
        "UPDATE features SET users = '1,a|b' WHERE name = 'bad-users';
         UPDATE features SET stage = 'done' WHERE name = 'bad-stage';
         ALTER TABLE features DROP CONSTRAINT features_data_check;
         UPDATE features SET data = '[1]' WHERE name = 'bad-data';
         UPDATE history SET changes = '{\"not\": \"a list\"}' WHERE feature = 'good';",
    )
    .await;
    assert!(store.feature(&name("good")).await.unwrap().is_some());
    assert_corrupt(
        store.feature(&name("bad-users")).await.unwrap_err(),
        &["bad-users", "a|b"],
    );
    assert_corrupt(
        store.feature(&name("bad-stage")).await.unwrap_err(),
        &["bad-stage", "done"],
    );
    assert_corrupt(
        store.feature(&name("bad-data")).await.unwrap_err(),
        &["bad-data", "JSON object"],
    );
    assert_corrupt(store.snapshot().await.unwrap_err(), &["bad-"]);
    assert_corrupt(
        store.history(&HistoryQuery::default()).await.unwrap_err(),
        &["good"],
    );
    // A write to a damaged feature fails too, and changes nothing.
    assert_corrupt(
        store
            .apply(&name("bad-stage"), &Change::Activate, None, &ana())
            .await
            .unwrap_err(),
        &["bad-stage"],
    );
    assert!(
        store.feature(&name("good")).await.is_ok(),
        "the store still works"
    );
}

#[tokio::test]
async fn an_event_of_an_unknown_subject_is_corrupt() {
    let Some((store, guard)) = common::temporary_store().await else {
        return;
    };
    let applied = store
        .apply(&name("chat"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    let id = applied.event.unwrap().id;
    // As a later Ramp with a third kind of subject might leave it (without the CHECK).
    common::tamper(
        &guard.schema,
        "ALTER TABLE history DROP CONSTRAINT history_subject_check;
         UPDATE history SET subject = 'flag';",
    )
    .await;
    let words = [id.to_string(), "chat".into(), "flag".into()];
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    assert_corrupt(
        store.history(&HistoryQuery::default()).await.unwrap_err(),
        &words,
    );
    assert_corrupt(store.history_event(id).await.unwrap_err(), &words);
    // Not a feature's event, so not the feature's latest either.
    assert!(store
        .latest_events(&[name("chat")])
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn values_postgres_cannot_hold_are_invalid_and_change_nothing() {
    let Some((store, _guard)) = common::temporary_store().await else {
        return;
    };
    store
        .apply(&name("chat"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    let before = store.snapshot().await.unwrap();
    let nul_comment = Attribution {
        actor: "ana".into(),
        comment: Some("nul \0 byte".into()),
    };
    let error = store
        .apply(&name("chat"), &Change::Deactivate, None, &nul_comment)
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Invalid(_)), "{error:?}");
    let mut data = serde_json::Map::new();
    data.insert("note".into(), json!("nul \u{0} in JSON"));
    let error = store
        .apply(&name("chat"), &Change::SetData { data }, None, &ana())
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Invalid(_)), "{error:?}");
    assert_eq!(store.snapshot().await.unwrap(), before);
    assert_eq!(
        store.history(&HistoryQuery::default()).await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn history_pages_are_read_through_indexes() {
    let Some((store, guard)) = common::temporary_store().await else {
        return;
    };
    // One busy feature, one rare one and a rare group: a rare feature's or group's page must
    // not mean walking every event, nor sorting them. (The group is not named like a feature:
    // the planner would count its events as the feature's when estimating, which says nothing
    // about the indexes; the conformance suite checks that such groups are kept apart.)
    let source = ramp_store::MemoryStore::default();
    for step in 0..3_100 {
        let feature = if step % 31 == 0 { "rare" } else { "busy" };
        source
            .apply(
                &name(feature),
                &add_users(&[step.to_string().as_str()]),
                None,
                &ana(),
            )
            .await
            .unwrap();
        if step % 50 == 0 {
            let group = StoredGroup {
                name: GroupName::new("seldom").unwrap(),
                description: format!("step {step}"),
                members: vec![],
                rules: vec![],
            };
            source.put_group(&group, None, &ana()).await.unwrap();
        }
    }
    let mut events = source
        .history(&HistoryQuery {
            limit: 5_000,
            ..HistoryQuery::default()
        })
        .await
        .unwrap();
    events.reverse();
    assert_eq!(store.import_history(&events).await.unwrap(), 3_162);
    common::tamper(&guard.schema, "ANALYZE history").await;
    for (query, index) in [
        (
            "SELECT * FROM history WHERE subject = 'feature' AND feature = 'rare'
             ORDER BY id DESC LIMIT 50",
            "history_by_subject",
        ),
        (
            "SELECT * FROM history WHERE subject = 'feature' AND feature = 'rare' AND id < 2000
             ORDER BY id DESC LIMIT 50",
            "history_by_subject",
        ),
        (
            "SELECT * FROM history WHERE subject = 'group' AND feature = 'seldom'
             ORDER BY id DESC LIMIT 50",
            "history_by_subject",
        ),
        (
            "SELECT * FROM history WHERE subject = 'group' AND feature = 'seldom' AND id < 2000
             ORDER BY id DESC LIMIT 50",
            "history_by_subject",
        ),
        (
            "SELECT * FROM history WHERE subject = 'feature' AND feature = 'rare'
             ORDER BY id DESC LIMIT 1",
            "history_by_subject",
        ),
        (
            "SELECT * FROM history ORDER BY id DESC LIMIT 50",
            "history_pkey",
        ),
        (
            "SELECT * FROM history WHERE id < 2000 ORDER BY id DESC LIMIT 50",
            "history_pkey",
        ),
        (
            "SELECT * FROM history WHERE actor = 'bo' ORDER BY id DESC LIMIT 50",
            "history_by_actor",
        ),
        (
            "SELECT * FROM history WHERE actor = 'bo' AND id < 2000 ORDER BY id DESC LIMIT 50",
            "history_by_actor",
        ),
    ] {
        // Without sorts and bitmap scans the planner must find an index that yields rows in
        // order, or fall back to a disabled plan that says "Sort".
        let explain = format!(
            "SET enable_sort = off; SET enable_bitmapscan = off; SET enable_seqscan = off;
             EXPLAIN {query}"
        );
        let plan = common::query_batch(&guard.schema, &explain)
            .await
            .join("\n");
        assert!(
            plan.contains(&format!("using {index}")) && !plan.contains("Sort"),
            "{query}:\n{plan}"
        );
    }
}
