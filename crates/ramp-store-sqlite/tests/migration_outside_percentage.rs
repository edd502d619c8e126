//! A `ramp.db` of schema version 7 (before the `outside_percentage` reason) keeps its exposure
//! counts when opened and gains the column: old buckets read 0 for the new reason, and new
//! batches count it apart from `off`.

use chrono::{DateTime, Utc};
use ramp_core::ReasonKind;
use ramp_store::exposure::{ExposureBatch, Resolution};
use ramp_store::Store;
use ramp_store_sqlite::{migrate_to_version, SqliteStore, SCHEMA_VERSION};

async fn read(store: &SqliteStore) -> Vec<ramp_store::exposure::ExposureBucket> {
    store
        .exposure_buckets("chat", minute(1_728_000_000), minute(1_728_000_060))
        .await
        .unwrap()
}

fn minute(seconds: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(seconds, 0).unwrap()
}

#[tokio::test]
async fn a_version_7_file_keeps_its_counts_and_gains_the_column() {
    const { assert!(SCHEMA_VERSION >= 8) };
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let mut connection = rusqlite::Connection::open(&path).unwrap();
    migrate_to_version(&mut connection, 7).unwrap();
    // off 2, percentage 5, not_found 1, in the column order of migration 0006.
    connection
        .execute(
            "INSERT INTO exposure_buckets VALUES (60, 1728000000, 'chat', 2, 0, 0, 0, 0, 5, 1)",
            [],
        )
        .unwrap();
    drop(connection);

    let store = SqliteStore::open(&path, false).unwrap();
    let buckets = read(&store).await;
    assert_eq!(buckets.len(), 1);
    assert_eq!(buckets[0].resolution, Resolution::Minute);
    let mut expected = [0; ReasonKind::ALL.len()];
    expected[ReasonKind::Off.index()] = 2;
    expected[ReasonKind::Percentage.index()] = 5;
    expected[ReasonKind::NotFound.index()] = 1;
    assert_eq!(buckets[0].counts, expected);

    let mut counts = [0; ReasonKind::ALL.len()];
    counts[ReasonKind::OutsidePercentage.index()] = 3;
    let batch = ExposureBatch {
        batch_id: "web-1:1".to_owned(),
        application: "shop".to_owned(),
        instance: "web-1".to_owned(),
        minute: minute(1_728_000_000),
        received: minute(1_728_000_030),
        counts: vec![("chat".to_owned(), counts)],
        unnamed: 0,
        dropped: 0,
    };
    assert_eq!(store.record_exposures(&[batch]).await.unwrap(), [true]);
    expected[ReasonKind::OutsidePercentage.index()] = 3;
    assert_eq!(read(&store).await[0].counts, expected);
}
