//! Exposure counts on a real Redis: every key is under `{prefix}ramp:exposures:` (never where
//! the gem looks), names with `:` and digits read back exactly, and a batch of 20,000 features
//! (more than Lua can unpack at once) with counts above `i64::MAX` is recorded whole and
//! saturated. The shared behaviour is in the conformance suite.

mod common;

use chrono::Duration;
use ramp_store::exposure::{time_from_seconds, ExposureBatch, ExposureRetention, MAX_COUNT};
use ramp_store::Store;
use redis::AsyncCommands;

fn batch(id: &str, application: &str, instance: &str, names: &[String]) -> ExposureBatch {
    let minute = time_from_seconds(20_000 * 86_400);
    ExposureBatch {
        batch_id: id.to_owned(),
        application: application.to_owned(),
        instance: instance.to_owned(),
        minute,
        received: minute + Duration::seconds(5),
        counts: names
            .iter()
            .map(|name| (name.clone(), [0, 0, u64::MAX, 0, 0, 0, 1, 1]))
            .collect(),
        unnamed: u64::MAX,
        dropped: 1,
    }
}

#[tokio::test]
async fn exposures_live_under_their_own_keys() {
    if !common::redis_available("exposure keys") {
        return;
    }
    let (store, _guard) = common::store("").await;
    let prefix = store.url().prefix.clone();
    let names = [
        "a:b".to_owned(),
        "12:34".to_owned(),
        "feature:chat".to_owned(),
    ];
    let first = batch("1", "4:ab", "x\u{e9}:7", &names);
    let second = batch("2", "4:a", "bx\u{e9}:7", &names[..1]);
    assert_eq!(
        store.record_exposures(&[first, second]).await.unwrap(),
        [true, true]
    );

    let mut redis = common::raw(0).await;
    let keys: Vec<String> = redis.keys(format!("{prefix}*")).await.unwrap();
    assert!(
        keys.iter()
            .all(|key| key.starts_with(&format!("{prefix}ramp:exposures:"))),
        "{keys:?}"
    );
    let seen: Vec<_> = store
        .exposure_applications("a:b")
        .await
        .unwrap()
        .into_iter()
        .map(|seen| (seen.application, seen.instance))
        .collect();
    assert_eq!(
        seen,
        [
            ("4:a".to_owned(), "bx\u{e9}:7".to_owned()),
            ("4:ab".to_owned(), "x\u{e9}:7".to_owned())
        ],
        "ties by application, and neither name is cut at a ':'"
    );
    let features: Vec<_> = store
        .exposure_features()
        .await
        .unwrap()
        .into_iter()
        .map(|seen| seen.feature)
        .collect();
    assert_eq!(features, ["12:34", "a:b", "feature:chat"]);
}

#[tokio::test]
async fn a_batch_of_twenty_thousand_features_is_recorded_whole() {
    if !common::redis_available("a large exposure batch") {
        return;
    }
    let (store, _guard) = common::store("").await;
    let names: Vec<String> = (0..20_000).map(|index| format!("f{index}")).collect();
    let big = batch("big", "shop", "web-1", &names);
    assert_eq!(store.record_exposures(&[big]).await.unwrap(), [true]);
    let from = time_from_seconds(20_000 * 86_400);
    let activity = store
        .exposure_activity(
            from,
            from + Duration::days(1),
            ramp_store::exposure::Resolution::Day,
        )
        .await
        .unwrap();
    assert_eq!(activity.len(), names.len());
    assert!(activity
        .iter()
        .all(|activity| activity.counts() == [0, 0, MAX_COUNT, 0, 0, 0, 1, 1]));
    assert_eq!(store.exposure_features().await.unwrap().len(), names.len());
    let totals = store.exposure_totals().await.unwrap();
    assert_eq!((totals.unnamed, totals.dropped), (MAX_COUNT, 1));

    // Long after: every bucket rolls up and then goes, and so does every trace of the batch.
    let compacted = store
        .compact_exposures(&ExposureRetention::default(), from + Duration::days(500))
        .await
        .unwrap();
    assert_eq!(compacted.minutes_rolled, names.len() as u64);
    assert_eq!(compacted.hours_rolled, names.len() as u64);
    assert_eq!(compacted.days_deleted, names.len() as u64);
    assert_eq!(compacted.batch_ids_forgotten, 1);
    assert_eq!(compacted.applications_forgotten, names.len() as u64);
    assert!(store.exposure_features().await.unwrap().is_empty());
    let prefix = store.url().prefix.clone();
    let mut redis = common::raw(0).await;
    let keys: Vec<String> = redis.keys(format!("{prefix}*")).await.unwrap();
    assert_eq!(
        keys,
        [format!("{prefix}ramp:exposures:totals")],
        "only the totals stay"
    );
}

#[tokio::test]
async fn merged_batches_count_only_the_new_ones() {
    if !common::redis_available("merged exposure batches") {
        return;
    }
    let (store, _guard) = common::store("").await;
    let names: Vec<String> = ["chat", "search", "beta"].map(String::from).to_vec();
    let old = batch("old", "shop", "web-1", &names);
    assert_eq!(
        store
            .record_exposures(std::slice::from_ref(&old))
            .await
            .unwrap(),
        [true]
    );
    // A known batch among new ones of other features, instances and minutes.
    let mut later = batch("later", "shop", "web-2", &names[1..]);
    later.minute += Duration::minutes(1);
    later.received += Duration::minutes(1);
    let other = batch("other", "shop", "web-3", &names[2..]);
    assert_eq!(
        store
            .record_exposures(&[later.clone(), old, other, later])
            .await
            .unwrap(),
        [true, false, true, false]
    );
    let from = time_from_seconds(20_000 * 86_400);
    let counts = |name: &'static str| {
        let store = &store;
        async move {
            store
                .exposure_buckets(name, from, from + Duration::minutes(5))
                .await
                .unwrap()
                .into_iter()
                .map(|bucket| bucket.counts[6])
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(counts("chat").await, [1]);
    assert_eq!(counts("search").await, [1, 1]);
    assert_eq!(counts("beta").await, [2, 1]);
    let instances: Vec<_> = store
        .exposure_applications("beta")
        .await
        .unwrap()
        .into_iter()
        .map(|seen| seen.instance)
        .collect();
    assert_eq!(instances, ["web-2", "web-1", "web-3"]);
    let totals = store.exposure_totals().await.unwrap();
    assert_eq!((totals.unnamed, totals.dropped), (MAX_COUNT, 3));
}
