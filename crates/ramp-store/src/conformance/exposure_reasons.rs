//! Conformance check that every reason is counted in its own place: each `ReasonKind` gets a
//! different count, and the same counts come back per minute, rolled into an hour, and summed
//! into activity. It catches a store whose columns or stored numbers lag behind `ReasonKind`
//! (as when `outside_percentage` came after the stores' first schema).

use std::sync::Arc;

use chrono::Duration;
use ramp_core::ReasonKind;

use super::exposures::{at, batch, bucket, counts};
use crate::exposure::{ExposureRetention, Resolution};
use crate::Store;

/// Each reason's count differs from every other's, so a swap of two shows.
pub async fn every_reason_is_counted_apart(store: Arc<dyn Store>) {
    let pairs: Vec<(ReasonKind, u64)> = ReasonKind::ALL
        .into_iter()
        .zip(1u64..)
        .map(|(kind, position)| (kind, position * 10))
        .collect();
    let all = counts(&pairs);
    let half = counts(&[(ReasonKind::OutsidePercentage, 5)]);
    store
        .record_exposures(&[
            batch("r:1", 600, &[("chat", all)]),
            batch("r:2", 601, &[("chat", half)]),
        ])
        .await
        .unwrap();
    let minutes = store
        .exposure_buckets("chat", at(0), at(1440))
        .await
        .unwrap();
    assert_eq!(
        minutes,
        [
            bucket(Resolution::Minute, at(600), all),
            bucket(Resolution::Minute, at(601), half),
        ]
    );
    let retention = ExposureRetention {
        minutes_for: Duration::hours(1),
        hours_for: Duration::days(2),
        days_for: Duration::days(5),
        batch_ids_for: Duration::hours(3),
    };
    store.compact_exposures(&retention, at(780)).await.unwrap();
    let mut summed = all;
    summed[ReasonKind::OutsidePercentage.index()] += 5;
    assert_eq!(
        store
            .exposure_buckets("chat", at(0), at(1440))
            .await
            .unwrap(),
        [bucket(Resolution::Hour, at(600), summed)]
    );
    let activity = store
        .exposure_activity(at(0), at(1440), Resolution::Day)
        .await
        .unwrap();
    assert_eq!(activity[0].bins[0].counts, summed);
}
