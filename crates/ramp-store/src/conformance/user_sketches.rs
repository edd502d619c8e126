//! Conformance checks for distinct-user sketches: they merge register by register (once is
//! as good as twice), read back by feature and day, survive concurrent merges exactly, and are
//! forgotten by day.

use std::sync::Arc;

use chrono::NaiveDate;
use ramp_core::UserSketch;

use crate::daily_users::{day_from_number, DailyUsers};
use crate::Store;

/// A fixed day far from today (tests never read the wall clock), plus `offset` days.
fn day(offset: i64) -> NaiveDate {
    day_from_number(20_000 + offset)
}

/// Users `ids` as a sketch (ids as decimal text, as an application would hash them); for
/// backends' own tests too.
pub fn sketch_of_ids(ids: std::ops::Range<u64>) -> UserSketch {
    let mut sketch = UserSketch::new();
    for id in ids {
        sketch.insert_user(&id.to_string());
    }
    sketch
}

/// A feature's users on a day, for one answer; for backends' own tests too.
pub fn daily_users(feature: &str, day: NaiveDate, active: bool, sketch: UserSketch) -> DailyUsers {
    DailyUsers {
        feature: feature.to_owned(),
        day,
        active,
        sketch,
    }
}

fn sketch(ids: std::ops::Range<u64>) -> UserSketch {
    sketch_of_ids(ids)
}

fn daily(feature: &str, offset: i64, active: bool, sketch: UserSketch) -> DailyUsers {
    daily_users(feature, day(offset), active, sketch)
}

/// Sketches merge per (feature, day, answer), repeating a merge changes nothing, and reads
/// return exactly the merged registers for the days asked, inactive before active.
pub async fn user_sketches_merge_by_feature_day_and_answer(store: Arc<dyn Store>) {
    assert!(store
        .user_sketches("checkout", day(0), day(10))
        .await
        .unwrap()
        .is_empty());
    let first = [
        daily("checkout", 0, true, sketch(0..100)),
        daily("checkout", 0, false, sketch(1_000..1_010)),
        daily("checkout", 1, true, sketch(0..3_000)),
        daily("checkout-v2", 0, true, sketch(5..6)),
        // Two entries for one key in one call: both count.
        daily("checkout", 2, true, sketch(0..10)),
        daily("checkout", 2, true, sketch(10..20)),
    ];
    store.merge_user_sketches(&first).await.unwrap();
    // A retry, and more users for day 0.
    store.merge_user_sketches(&first).await.unwrap();
    store
        .merge_user_sketches(&[daily("checkout", 0, true, sketch(50..400))])
        .await
        .unwrap();
    store.merge_user_sketches(&[]).await.unwrap();

    let read = store
        .user_sketches("checkout", day(0), day(2))
        .await
        .unwrap();
    let expected = [
        daily("checkout", 0, false, sketch(1_000..1_010)),
        daily("checkout", 0, true, sketch(0..400)),
        daily("checkout", 1, true, sketch(0..3_000)),
        daily("checkout", 2, true, sketch(0..20)),
    ];
    assert_eq!(read, expected);
    assert!(
        read[2].sketch.non_zero_registers() * 3 >= ramp_core::SKETCH_REGISTERS,
        "a dense sketch round-trips too"
    );
    // Days are inclusive at both ends; other features stay apart.
    let one_day = store
        .user_sketches("checkout", day(1), day(1))
        .await
        .unwrap();
    assert_eq!(one_day, expected[2..3]);
    assert_eq!(
        store
            .user_sketches("checkout-v2", day(-5), day(5))
            .await
            .unwrap(),
        [daily("checkout-v2", 0, true, sketch(5..6))]
    );
    assert!(store
        .user_sketches("checkout", day(2), day(1))
        .await
        .unwrap()
        .is_empty());
}

/// Eight writers merging into the same sketches at once lose nothing: the stored registers
/// equal every sketch merged in one place.
pub async fn concurrent_user_sketch_merges_lose_nothing(store: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for writer in 0..8u64 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for round in 0..10u64 {
                let start = writer * 1_000 + round * 100;
                let batch = [
                    daily("search", 0, true, sketch(start..start + 100)),
                    daily("search", 0, false, sketch(start..start + 7)),
                ];
                store.merge_user_sketches(&batch).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let read = store.user_sketches("search", day(0), day(0)).await.unwrap();
    let mut inactive = UserSketch::new();
    for writer in 0..8u64 {
        for round in 0..10u64 {
            let start = writer * 1_000 + round * 100;
            inactive.merge(&sketch(start..start + 7));
        }
    }
    assert_eq!(
        read,
        [
            daily("search", 0, false, inactive),
            daily("search", 0, true, sketch(0..8_000)),
        ]
    );
}

/// Sketches of days before the cutoff are deleted, for every feature; later ones stay.
pub async fn old_user_sketches_are_forgotten(store: Arc<dyn Store>) {
    store
        .merge_user_sketches(&[
            daily("a", -3, true, sketch(0..5)),
            daily("a", -2, false, sketch(0..5)),
            daily("a", 0, true, sketch(0..5)),
            daily("b", -2, true, sketch(0..5)),
            daily("b", -1, true, sketch(0..5)),
        ])
        .await
        .unwrap();
    assert_eq!(store.forget_user_sketches(day(-1)).await.unwrap(), 3);
    assert_eq!(store.forget_user_sketches(day(-1)).await.unwrap(), 0);
    assert_eq!(
        store.user_sketches("a", day(-10), day(10)).await.unwrap(),
        [daily("a", 0, true, sketch(0..5))]
    );
    assert_eq!(
        store.user_sketches("b", day(-10), day(10)).await.unwrap(),
        [daily("b", -1, true, sketch(0..5))]
    );
}
