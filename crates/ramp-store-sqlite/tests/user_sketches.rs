//! What only the file-backed store can get wrong about distinct-user sketches: two stores (as
//! two processes would) merging into one file, sketches surviving a reopen without touching
//! the store version, and damaged rows read as `Corrupt`. The shared contract is checked by
//! the conformance suite.

use std::sync::Arc;

use chrono::NaiveDate;
use ramp_core::UserSketch;
use ramp_store::conformance::{daily_users, sketch_of_ids as sketch};
use ramp_store::daily_users::{day_from_number, DailyUsers};
use ramp_store::{Store, StoreError};
use ramp_store_sqlite::SqliteStore;

/// A fixed day (tests never read the wall clock), plus `offset` days.
fn day(offset: i64) -> NaiveDate {
    day_from_number(20_000 + offset)
}

fn daily(feature: &str, offset: i64, active: bool, sketch: UserSketch) -> DailyUsers {
    daily_users(feature, day(offset), active, sketch)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_lose_no_register() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let stores: Vec<Arc<SqliteStore>> = (0..2)
        .map(|_| Arc::new(SqliteStore::open(&path, false).unwrap()))
        .collect();
    let mut tasks = Vec::new();
    for writer in 0..8u64 {
        let store = Arc::clone(&stores[writer as usize % 2]);
        tasks.push(tokio::spawn(async move {
            for round in 0..10u64 {
                let start = writer * 1_000 + round * 100;
                // Many features per call, as a server's flush brings them.
                let batch: Vec<DailyUsers> = (0..20)
                    .map(|feature| {
                        daily(
                            &format!("feature-{feature}"),
                            0,
                            true,
                            sketch(start..start + 100),
                        )
                    })
                    .collect();
                store.merge_user_sketches(&batch).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let everyone = sketch(0..8_000);
    for store in &stores {
        for feature in ["feature-0", "feature-19"] {
            let read = store.user_sketches(feature, day(0), day(0)).await.unwrap();
            assert_eq!(read, [daily(feature, 0, true, everyone.clone())]);
            assert_eq!(read[0].sketch.registers(), everyone.registers());
        }
    }
}

#[tokio::test]
async fn sketches_survive_a_reopen_and_leave_the_store_version_alone() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let store = SqliteStore::open(&path, false).unwrap();
    let mut notices = store.subscribe();
    let before_1970 = DailyUsers {
        day: NaiveDate::from_ymd_opt(1969, 7, 20).unwrap(),
        ..daily("moon", 0, false, sketch(0..3))
    };
    store
        .merge_user_sketches(&[daily("chat", 0, true, sketch(0..50)), before_1970.clone()])
        .await
        .unwrap();
    drop(store);

    let store = SqliteStore::open(&path, false).unwrap();
    store
        .merge_user_sketches(&[daily("chat", 0, true, sketch(25..75))])
        .await
        .unwrap();
    assert_eq!(
        store.user_sketches("chat", day(0), day(0)).await.unwrap(),
        [daily("chat", 0, true, sketch(0..75))]
    );
    let moon = before_1970.day;
    assert_eq!(
        store.user_sketches("moon", moon, moon).await.unwrap(),
        [before_1970],
        "a day before 1970 reads back as itself"
    );
    assert_eq!(store.snapshot().await.unwrap().version, 0);
    assert!(
        notices.try_recv().is_err(),
        "sketches are no feature change"
    );
}

#[tokio::test]
async fn damaged_sketches_are_corrupt_and_never_merged_into() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let store = SqliteStore::open(&path, false).unwrap();
    store
        .merge_user_sketches(&[
            daily("garbled", 0, true, sketch(0..10)),
            daily("garbled", 1, true, sketch(0..10)),
            daily("healthy", 0, true, sketch(0..10)),
        ])
        .await
        .unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "UPDATE exposure_user_sketches SET sketch = X'03FFFF'
             WHERE feature = 'garbled' AND day = 20000;
             UPDATE exposure_user_sketches SET sketch = X'02000000'
             WHERE feature = 'garbled' AND day = 20001;",
        )
        .unwrap();
    for offset in [0, 1] {
        let error = store
            .user_sketches("garbled", day(offset), day(offset))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, StoreError::Corrupt { detail, .. } if detail.contains("garbled") && detail.contains(&day(offset).to_string())),
            "{error:?}"
        );
    }
    // A merge touching the damaged row fails as a whole: the healthy sketch of the same call
    // is not raised either.
    let error = store
        .merge_user_sketches(&[
            daily("healthy", 0, true, sketch(0..500)),
            daily("garbled", 0, true, sketch(0..500)),
        ])
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    assert_eq!(
        store
            .user_sketches("healthy", day(0), day(0))
            .await
            .unwrap(),
        [daily("healthy", 0, true, sketch(0..10))]
    );
    let raw: Vec<u8> = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT sketch FROM exposure_user_sketches WHERE feature = 'garbled' AND day = 20000",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(raw, [0x03, 0xFF, 0xFF], "the damaged row is left as it was");
    // Forgetting still deletes damaged rows: it never reads them.
    assert_eq!(store.forget_user_sketches(day(2)).await.unwrap(), 3);
}
