//! Daily user sketches on a real Redis: one hash per feature under `{prefix}ramp:exposures:users:`
//! plus an index of features by earliest day (never where the gem looks), names with `:` read back
//! whole, stored values are `UserSketch::encode`'s bytes, damaged values and fields read as
//! `Corrupt`, and forgetting removes fields, empty hashes and index entries. The shared behaviour
//! is in the conformance suite.

mod common;

use chrono::NaiveDate;
use ramp_core::UserSketch;
use ramp_store::conformance::{daily_users, sketch_of_ids as sketch};
use ramp_store::daily_users::{day_from_number, DailyUsers};
use ramp_store::{Store, StoreError};
use redis::AsyncCommands;

fn day(number: i64) -> NaiveDate {
    day_from_number(number)
}

fn daily(feature: &str, number: i64, active: bool, sketch: UserSketch) -> DailyUsers {
    daily_users(feature, day(number), active, sketch)
}

#[tokio::test]
async fn sketches_live_in_one_hash_per_feature_beside_an_index() {
    if !common::redis_available("user sketch keys") {
        return;
    }
    let (store, _guard) = common::store("").await;
    let prefix = store.url().prefix.clone();
    let names = ["a:b", "feature:chat", "20000:1"];
    let mut batch = Vec::new();
    for name in names {
        batch.push(daily(name, 20_000, true, sketch(0..10)));
        batch.push(daily(name, 20_001, false, sketch(0..3_000)));
    }
    store.merge_user_sketches(&batch).await.unwrap();

    let mut redis = common::raw(0).await;
    let mut keys: Vec<String> = redis.keys(format!("{prefix}*")).await.unwrap();
    keys.sort();
    let mut expected = vec![format!("{prefix}ramp:exposures:user-features")];
    expected.extend(
        names
            .iter()
            .map(|name| format!("{prefix}ramp:exposures:users:{name}")),
    );
    expected.sort();
    assert_eq!(keys, expected);
    assert!(keys
        .iter()
        .all(|key| !key.starts_with(&format!("{prefix}feature:"))));

    let hash: std::collections::BTreeMap<String, Vec<u8>> = redis
        .hgetall(format!("{prefix}ramp:exposures:users:feature:chat"))
        .await
        .unwrap();
    let fields: Vec<&str> = hash.keys().map(String::as_str).collect();
    assert_eq!(fields, ["20000:1", "20001:0"]);
    // The compact encoding, sparse for a quiet day and dense for a busy one.
    assert_eq!(hash["20000:1"], sketch(0..10).encode());
    assert_eq!(hash["20000:1"][0], 2);
    assert_eq!(hash["20001:0"], sketch(0..3_000).encode());
    assert_eq!(hash["20001:0"][0], 1);
    let index: Vec<(String, f64)> = redis
        .zrange_withscores(format!("{prefix}ramp:exposures:user-features"), 0, -1)
        .await
        .unwrap();
    let mut sorted = names;
    sorted.sort_unstable();
    assert_eq!(
        index,
        sorted
            .iter()
            .map(|name| (name.to_string(), 20_000.0))
            .collect::<Vec<_>>()
    );

    for name in names {
        let read = store
            .user_sketches(name, day(19_000), day(21_000))
            .await
            .unwrap();
        assert_eq!(
            read,
            [
                daily(name, 20_000, true, sketch(0..10)),
                daily(name, 20_001, false, sketch(0..3_000)),
            ]
        );
    }

    // A merge that raises registers from sparse to dense is written in the shorter form again,
    // and an earlier day lowers the index score.
    store
        .merge_user_sketches(&[
            daily("a:b", 20_000, true, sketch(0..5_000)),
            daily("a:b", 19_990, true, sketch(0..1)),
        ])
        .await
        .unwrap();
    let stored: Vec<u8> = redis
        .hget(format!("{prefix}ramp:exposures:users:a:b"), "20000:1")
        .await
        .unwrap();
    assert_eq!(stored, sketch(0..5_000).encode());
    let score: f64 = redis
        .zscore(format!("{prefix}ramp:exposures:user-features"), "a:b")
        .await
        .unwrap();
    assert_eq!(score, 19_990.0);
}

#[tokio::test]
async fn damaged_sketches_are_corrupt_and_stay_unchanged() {
    if !common::redis_available("damaged user sketches") {
        return;
    }
    let (store, _guard) = common::store("").await;
    let prefix = store.url().prefix.clone();
    let key = format!("{prefix}ramp:exposures:users:chat");
    store
        .merge_user_sketches(&[daily("chat", 20_000, true, sketch(0..10))])
        .await
        .unwrap();
    let mut redis = common::raw(0).await;
    let damaged: [&[u8]; 5] = [
        b"",
        b"\x03junk",
        &[1, 0, 0],
        &[2, 0, 5, 66],
        &[2, 0, 9, 1, 0, 5, 1],
    ];
    for value in damaged {
        let () = redis.hset(&key, "20000:1", value).await.unwrap();
        let read = store.user_sketches("chat", day(20_000), day(20_000)).await;
        assert!(
            matches!(read, Err(StoreError::Corrupt { .. })),
            "{value:?}: {read:?}"
        );
        // A merge refuses too, writing nothing (the other entry included).
        let merged = store
            .merge_user_sketches(&[
                daily("chat", 20_000, true, sketch(0..10)),
                daily("chat", 20_001, true, sketch(0..10)),
            ])
            .await;
        assert!(
            matches!(merged, Err(StoreError::Corrupt { .. })),
            "{value:?}: {merged:?}"
        );
        let stored: Vec<u8> = redis.hget(&key, "20000:1").await.unwrap();
        assert_eq!(stored, value);
        let other: bool = redis.hexists(&key, "20001:1").await.unwrap();
        assert!(!other);
    }

    // A field that is not DAY:ANSWER, seen by a long read.
    let () = redis.hdel(&key, "20000:1").await.unwrap();
    let () = redis.hset(&key, "someday:1", b"\x02").await.unwrap();
    let read = store.user_sketches("chat", day(0), day(30_000)).await;
    assert!(matches!(read, Err(StoreError::Corrupt { .. })), "{read:?}");

    // A key of another type.
    let () = redis.del(&key).await.unwrap();
    let () = redis.set(&key, "text").await.unwrap();
    let read = store.user_sketches("chat", day(20_000), day(20_000)).await;
    assert!(matches!(read, Err(StoreError::Corrupt { .. })), "{read:?}");
    let merged = store
        .merge_user_sketches(&[daily("chat", 20_000, true, sketch(0..10))])
        .await;
    assert!(
        matches!(merged, Err(StoreError::Corrupt { .. })),
        "{merged:?}"
    );
}

#[tokio::test]
async fn forgetting_removes_fields_hashes_and_index_entries() {
    if !common::redis_available("forgetting user sketches") {
        return;
    }
    let (store, _guard) = common::store("").await;
    let prefix = store.url().prefix.clone();
    let index = format!("{prefix}ramp:exposures:user-features");
    // More features than one forgetting round takes.
    let mut batch: Vec<DailyUsers> = (0..150)
        .map(|feature| daily(&format!("old:{feature}"), 19_990, true, sketch(0..3)))
        .collect();
    batch.push(daily("kept", 19_990, false, sketch(0..3)));
    batch.push(daily("kept", 19_995, true, sketch(0..3)));
    batch.push(daily("kept", 20_000, true, sketch(0..3)));
    batch.push(daily("new", 20_000, true, sketch(0..3)));
    store.merge_user_sketches(&batch).await.unwrap();

    assert_eq!(store.forget_user_sketches(day(19_995)).await.unwrap(), 151);
    let mut redis = common::raw(0).await;
    let mut keys: Vec<String> = redis.keys(format!("{prefix}*")).await.unwrap();
    keys.sort();
    assert_eq!(
        keys,
        [
            index.clone(),
            format!("{prefix}ramp:exposures:users:kept"),
            format!("{prefix}ramp:exposures:users:new"),
        ]
    );
    let fields: Vec<String> = redis
        .hkeys(format!("{prefix}ramp:exposures:users:kept"))
        .await
        .unwrap();
    let mut fields = fields;
    fields.sort();
    assert_eq!(fields, ["19995:1", "20000:1"]);
    let entries: Vec<(String, f64)> = redis.zrange_withscores(&index, 0, -1).await.unwrap();
    assert_eq!(
        entries,
        [("kept".to_owned(), 19_995.0), ("new".to_owned(), 20_000.0)]
    );

    assert_eq!(store.forget_user_sketches(day(19_995)).await.unwrap(), 0);
    assert_eq!(store.forget_user_sketches(day(30_000)).await.unwrap(), 3);
    let keys: Vec<String> = redis.keys(format!("{prefix}*")).await.unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}

#[tokio::test]
async fn a_large_merge_is_written_whole() {
    if !common::redis_available("a large user sketch merge") {
        return;
    }
    let (store, _guard) = common::store("").await;
    // More entries than one pipelined request carries.
    let batch: Vec<DailyUsers> = (0..1_500)
        .map(|feature| {
            daily(
                &format!("f{feature}"),
                20_000,
                feature % 2 == 0,
                sketch(0..50),
            )
        })
        .collect();
    store.merge_user_sketches(&batch).await.unwrap();
    for feature in [0, 777, 1_023, 1_024, 1_499] {
        let read = store
            .user_sketches(&format!("f{feature}"), day(20_000), day(20_000))
            .await
            .unwrap();
        assert_eq!(read, [batch[feature].clone()]);
    }
    assert_eq!(
        store.forget_user_sketches(day(20_001)).await.unwrap(),
        1_500
    );
}
