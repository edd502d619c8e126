//! Distinct users' sketches as only PostgreSQL can get them wrong: two stores (two servers) on
//! one schema merging into the same rows at once lose nothing, rows hold day numbers, days
//! before 1970 read back as themselves, and a damaged row is `Corrupt` for its feature only. The
//! shared behaviour is in the conformance suite.

use std::sync::Arc;

use chrono::NaiveDate;
use ramp_core::UserSketch;
use ramp_store::conformance::{daily_users, sketch_of_ids as sketch};
use ramp_store::daily_users::{day_from_number, day_number, DailyUsers};
use ramp_store::Store;
use ramp_store_postgres::PostgresStore;

mod common;

use common::assert_corrupt;

/// A fixed day (tests never read the wall clock), plus `offset` days.
fn day(offset: i64) -> NaiveDate {
    day_from_number(20_000 + offset)
}

fn daily(feature: &str, day: NaiveDate, active: bool, sketch: UserSketch) -> DailyUsers {
    daily_users(feature, day, active, sketch)
}

const FEATURES: [&str; 3] = ["search", "checkout", "chat"];

/// What writer `writer` merges in round `round`: every feature, three days and both answers,
/// in an order that differs between writers (so that unsorted, they would deadlock).
fn batch(writer: u64, round: u64) -> Vec<DailyUsers> {
    let mut batch = Vec::new();
    for (index, feature) in FEATURES.iter().enumerate() {
        for offset in 0..3 {
            for active in [false, true] {
                let start = writer * 10_000 + round * 100 + offset as u64 * 7 + index as u64;
                batch.push(daily(
                    feature,
                    day(offset),
                    active,
                    sketch(start..start + 40),
                ));
            }
        }
    }
    if writer % 2 == 1 {
        batch.reverse();
    }
    let rotation = (writer as usize * 5) % batch.len();
    batch.rotate_left(rotation);
    batch
}

#[tokio::test]
async fn two_stores_on_one_schema_merging_at_once_lose_nothing() {
    let Some((first, guard)) = common::temporary_store().await else {
        return;
    };
    let second = PostgresStore::open_url(&common::url(&guard.schema))
        .await
        .unwrap();
    let stores: [Arc<dyn Store>; 2] = [Arc::new(first), Arc::new(second)];
    let mut tasks = Vec::new();
    for writer in 0..8u64 {
        let store = Arc::clone(&stores[writer as usize % 2]);
        tasks.push(tokio::spawn(async move {
            for round in 0..8u64 {
                store
                    .merge_user_sketches(&batch(writer, round))
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let mut expected = std::collections::BTreeMap::new();
    for writer in 0..8u64 {
        for round in 0..8u64 {
            for entry in batch(writer, round) {
                expected
                    .entry((entry.feature.clone(), entry.day, entry.active))
                    .or_insert_with(UserSketch::new)
                    .merge(&entry.sketch);
            }
        }
    }
    for feature in FEATURES {
        let wanted: Vec<DailyUsers> = expected
            .iter()
            .filter(|((name, _, _), _)| name == feature)
            .map(|((name, day, active), sketch)| daily(name, *day, *active, sketch.clone()))
            .collect();
        assert_eq!(wanted.len(), 6);
        for store in &stores {
            assert_eq!(
                store.user_sketches(feature, day(-1), day(3)).await.unwrap(),
                wanted,
                "{feature}"
            );
        }
    }
    // A retried batch changes nothing.
    stores[1].merge_user_sketches(&batch(3, 3)).await.unwrap();
    let search = stores[0]
        .user_sketches("search", day(0), day(2))
        .await
        .unwrap();
    assert!(search
        .iter()
        .all(|read| expected[&(read.feature.clone(), read.day, read.active)] == read.sketch));
}

#[tokio::test]
async fn rows_hold_day_numbers_and_days_before_1970_read_back() {
    let Some((store, guard)) = common::temporary_store().await else {
        return;
    };
    let old = NaiveDate::from_ymd_opt(1969, 12, 31).unwrap();
    store
        .merge_user_sketches(&[
            daily("chat", old, true, sketch(0..3)),
            daily("chat", day(0), false, UserSketch::new()),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.user_sketches("chat", old, day(0)).await.unwrap(),
        [
            daily("chat", old, true, sketch(0..3)),
            daily("chat", day(0), false, UserSketch::new()),
        ]
    );
    let rows = common::query(
        &guard.schema,
        "SELECT day FROM exposure_user_sketches ORDER BY day",
    )
    .await;
    let days: Vec<i32> = rows.iter().map(|row| row.get(0)).collect();
    assert_eq!(days, [-1, 20_000]);
    assert_eq!(i64::from(days[1]), day_number(day(0)));
    assert_eq!(store.forget_user_sketches(day(0)).await.unwrap(), 1);
}

#[tokio::test]
async fn a_damaged_sketch_is_corrupt_for_its_feature_only() {
    let Some((store, guard)) = common::temporary_store().await else {
        return;
    };
    let sketches = [
        daily("good", day(0), true, sketch(0..10)),
        daily("bad-bytes", day(0), true, sketch(0..10)),
    ];
    store.merge_user_sketches(&sketches).await.unwrap();
    common::tamper(
        &guard.schema,
        r"UPDATE exposure_user_sketches SET sketch = '\x07' WHERE feature = 'bad-bytes'",
    )
    .await;

    let error = store
        .user_sketches("bad-bytes", day(0), day(0))
        .await
        .unwrap_err();
    assert_corrupt(error, &["bad-bytes", "sketch"]);
    // Merging into the damaged row is refused too, and the whole call changes nothing.
    let error = store
        .merge_user_sketches(&[
            daily("good", day(0), true, sketch(0..20)),
            daily("bad-bytes", day(0), true, sketch(0..20)),
        ])
        .await
        .unwrap_err();
    assert_corrupt(error, &["bad-bytes"]);
    assert_eq!(
        store.user_sketches("good", day(0), day(0)).await.unwrap(),
        [daily("good", day(0), true, sketch(0..10))]
    );
    // The other features, and the other answer of the same day, are untouched.
    store
        .merge_user_sketches(&[daily("bad-bytes", day(0), false, sketch(0..5))])
        .await
        .unwrap();
    store
        .merge_user_sketches(&[daily("good", day(0), true, sketch(0..20))])
        .await
        .unwrap();
    assert_eq!(
        store.user_sketches("good", day(0), day(0)).await.unwrap(),
        [daily("good", day(0), true, sketch(0..20))]
    );
    // Forgetting needs no sketch read: it deletes damaged rows like any other.
    assert_eq!(store.forget_user_sketches(day(1)).await.unwrap(), 3);
}
