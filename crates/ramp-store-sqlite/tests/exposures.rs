//! What only the file-backed store can get wrong about exposure counts: two stores (as two
//! processes would) recording into one file, counts surviving a reopen without touching the
//! store version, and damaged rows read as `Corrupt`. The shared contract is checked by the
//! conformance suite.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use ramp_core::ReasonKind;
use ramp_store::exposure::{ExposureBatch, ExposureRetention, Resolution};
use ramp_store::{Store, StoreError};
use ramp_store_sqlite::SqliteStore;

fn minute() -> DateTime<Utc> {
    Utc.timestamp_opt(20_000 * 86_400, 0).unwrap()
}

fn batch(id: &str, features: usize) -> ExposureBatch {
    let mut counts = [0; ramp_core::ReasonKind::ALL.len()];
    counts[ReasonKind::User.index()] = 2;
    ExposureBatch {
        batch_id: id.to_owned(),
        application: "shop".to_owned(),
        instance: format!("web-{id}"),
        minute: minute(),
        received: minute() + Duration::seconds(5),
        counts: (0..features)
            .map(|index| (format!("feature-{index}"), counts))
            .collect(),
        unnamed: 1,
        dropped: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_count_each_batch_once() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let stores: Vec<Arc<SqliteStore>> = (0..2)
        .map(|_| Arc::new(SqliteStore::open(&path, false).unwrap()))
        .collect();
    let mut tasks = Vec::new();
    for attempt in 0..16 {
        let store = Arc::clone(&stores[attempt % 2]);
        // Each batch goes to both stores: exactly one of them counts it.
        let batch = batch(&format!("b{}", attempt / 2), 200);
        tasks.push(tokio::spawn(async move {
            store.record_exposures(&[batch]).await.unwrap()[0]
        }));
    }
    let mut counted = 0;
    for task in tasks {
        counted += usize::from(task.await.unwrap());
    }
    assert_eq!(counted, 8);
    for store in &stores {
        let buckets = store
            .exposure_buckets("feature-199", minute(), minute() + Duration::minutes(1))
            .await
            .unwrap();
        assert_eq!(buckets[0].counts[ReasonKind::User.index()], 16);
        assert_eq!(store.exposure_totals().await.unwrap().unnamed, 8);
        assert_eq!(
            store
                .exposure_applications("feature-0")
                .await
                .unwrap()
                .len(),
            8
        );
    }
}

#[tokio::test]
async fn counts_survive_a_reopen_and_leave_the_store_version_alone() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let store = SqliteStore::open(&path, false).unwrap();
    let mut notices = store.subscribe();
    store.record_exposures(&[batch("a", 3)]).await.unwrap();
    drop(store);

    let store = SqliteStore::open(&path, false).unwrap();
    assert_eq!(
        store.record_exposures(&[batch("a", 3)]).await.unwrap(),
        [false],
        "the batch id was kept"
    );
    let retention = ExposureRetention::default();
    let later = minute() + Duration::days(3);
    let compacted = store.compact_exposures(&retention, later).await.unwrap();
    assert_eq!(
        (compacted.minutes_rolled, compacted.batch_ids_forgotten),
        (3, 1)
    );
    assert_eq!(store.snapshot().await.unwrap().version, 0);
    assert!(
        notices.try_recv().is_err(),
        "exposures are no feature change"
    );
    let activity = store
        .exposure_activity(minute(), later, Resolution::Day)
        .await
        .unwrap();
    assert_eq!(activity.len(), 3);
    assert_eq!(activity[0].total(), 2);
}

#[tokio::test]
async fn damaged_exposure_rows_are_corrupt() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let store = SqliteStore::open(&path, false).unwrap();
    store.record_exposures(&[batch("a", 2)]).await.unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "UPDATE exposure_buckets SET resolution = 7 WHERE feature = 'feature-0';
             UPDATE exposure_buckets SET user_checks = -1 WHERE feature = 'feature-1';
             DELETE FROM exposure_totals;",
        )
        .unwrap();
    let to = minute() + Duration::minutes(1);
    for (feature, word) in [("feature-0", "resolution 7"), ("feature-1", "user_checks")] {
        let error = store
            .exposure_buckets(feature, minute(), to)
            .await
            .unwrap_err();
        assert!(
            matches!(&error, StoreError::Corrupt { detail, .. } if detail.contains(word) && detail.contains(feature)),
            "{error:?}"
        );
    }
    assert!(matches!(
        store.exposure_totals().await.unwrap_err(),
        StoreError::Corrupt { .. }
    ));
    assert!(matches!(
        store.record_exposures(&[batch("b", 1)]).await.unwrap_err(),
        StoreError::Corrupt { .. }
    ));
    let claimed: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM exposure_batches WHERE batch_id = 'b'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(
        claimed, 0,
        "the failed call was rolled back, batch id and all"
    );
}
