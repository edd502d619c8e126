//! Conformance checks for exposure counts: batches add up once, saturate, roll up into hours
//! and days, expire, and concurrent batches (with a compaction running) lose nothing.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use ramp_core::ReasonKind;

use crate::exposure::{
    time_from_seconds, ExposureBatch, ExposureBucket, ExposureRetention, ReasonCounts, Resolution,
    MAX_COUNT,
};
use crate::Store;

/// A fixed day far from today (tests never read the wall clock), at 00:00 UTC.
fn day_zero() -> DateTime<Utc> {
    time_from_seconds(20_000 * 86_400)
}

pub(super) fn at(minutes: i64) -> DateTime<Utc> {
    day_zero() + Duration::minutes(minutes)
}

pub(super) fn counts(pairs: &[(ReasonKind, u64)]) -> ReasonCounts {
    let mut counts = [0; ReasonKind::ALL.len()];
    for (kind, count) in pairs {
        counts[kind.index()] += count;
    }
    counts
}

pub(super) fn batch(id: &str, minute: i64, features: &[(&str, ReasonCounts)]) -> ExposureBatch {
    ExposureBatch {
        batch_id: id.to_owned(),
        application: "shop".to_owned(),
        instance: "web-1".to_owned(),
        minute: at(minute),
        received: at(minute) + Duration::seconds(30),
        counts: features
            .iter()
            .map(|(name, counts)| ((*name).to_owned(), *counts))
            .collect(),
        unnamed: 0,
        dropped: 0,
    }
}

pub(super) fn bucket(
    resolution: Resolution,
    start: DateTime<Utc>,
    counts: ReasonCounts,
) -> ExposureBucket {
    ExposureBucket {
        resolution,
        start,
        counts,
    }
}

/// Checks add up per minute, once per batch id (even when the retry comes in the same call),
/// and last seen follows the latest batch per feature and per instance.
pub async fn exposures_add_up_once_per_batch(store: Arc<dyn Store>) {
    let on = counts(&[(ReasonKind::Percentage, 3), (ReasonKind::Off, 2)]);
    let first = batch(
        "a:1",
        0,
        &[("chat", on), ("search", counts(&[(ReasonKind::User, 1)]))],
    );
    let mut second = batch("a:2", 0, &[("chat", counts(&[(ReasonKind::Off, 5)]))]);
    second.unnamed = 4;
    second.dropped = 6;
    let counted = store
        .record_exposures(&[first.clone(), second.clone(), first.clone()])
        .await
        .unwrap();
    assert_eq!(counted, [true, true, false]);
    assert_eq!(
        store.record_exposures(&[second]).await.unwrap(),
        [false],
        "a retried batch is not counted twice"
    );
    let mut other = batch(
        "b:1",
        1,
        &[("chat", counts(&[(ReasonKind::Percentage, 1)]))],
    );
    other.instance = "web-2".to_owned();
    assert_eq!(store.record_exposures(&[other]).await.unwrap(), [true]);

    let buckets = store.exposure_buckets("chat", at(0), at(2)).await.unwrap();
    assert_eq!(
        buckets,
        [
            bucket(
                Resolution::Minute,
                at(0),
                counts(&[(ReasonKind::Percentage, 3), (ReasonKind::Off, 7)])
            ),
            bucket(
                Resolution::Minute,
                at(1),
                counts(&[(ReasonKind::Percentage, 1)])
            ),
        ]
    );
    assert_eq!(
        store
            .exposure_buckets("chat", at(1), at(2))
            .await
            .unwrap()
            .len(),
        1,
        "from is inclusive"
    );
    assert!(store
        .exposure_buckets("chat", at(0), at(0))
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .exposure_buckets("nothing", at(0), at(9))
        .await
        .unwrap()
        .is_empty());

    let applications = store.exposure_applications("chat").await.unwrap();
    let seen: Vec<_> = applications
        .iter()
        .map(|seen| (seen.instance.as_str(), seen.last_seen))
        .collect();
    assert_eq!(
        seen,
        [
            ("web-2", at(1) + Duration::seconds(30)),
            ("web-1", at(0) + Duration::seconds(30))
        ]
    );
    assert_eq!(applications[0].application, "shop");
    let features = store.exposure_features().await.unwrap();
    let features: Vec<_> = features
        .iter()
        .map(|seen| (seen.feature.as_str(), seen.last_seen))
        .collect();
    assert_eq!(
        features,
        [
            ("chat", at(1) + Duration::seconds(30)),
            ("search", at(0) + Duration::seconds(30))
        ]
    );
    let totals = store.exposure_totals().await.unwrap();
    assert_eq!((totals.unnamed, totals.dropped), (4, 6));

    let activity = store
        .exposure_activity(at(0), at(2), Resolution::Minute)
        .await
        .unwrap();
    let totals: Vec<_> = activity
        .iter()
        .map(|activity| {
            (
                activity.feature.as_str(),
                activity.bins.len(),
                activity.total(),
            )
        })
        .collect();
    assert_eq!(
        totals,
        [("chat", 2, 11), ("search", 1, 1)],
        "by name, per minute"
    );
    let hourly = store
        .exposure_activity(at(0), at(2), Resolution::Hour)
        .await
        .unwrap();
    assert_eq!(
        hourly[0].bins.len(),
        1,
        "both minutes in the same hour's bin"
    );
    assert_eq!(hourly[0].bins[0].start, at(0));
    assert_eq!(
        hourly[0].counts(),
        counts(&[(ReasonKind::Percentage, 4), (ReasonKind::Off, 7)])
    );
    assert!(store
        .exposure_activity(at(2), at(3), Resolution::Hour)
        .await
        .unwrap()
        .is_empty());
}

/// Counts at the largest value stay there instead of overflowing or failing.
pub async fn exposure_counts_saturate(store: Arc<dyn Store>) {
    let huge = counts(&[(ReasonKind::Everyone, MAX_COUNT - 1)]);
    for id in ["a:1", "a:2"] {
        let mut batch = batch(id, 0, &[("chat", huge)]);
        batch.unnamed = MAX_COUNT - 1;
        batch.dropped = MAX_COUNT;
        assert_eq!(store.record_exposures(&[batch]).await.unwrap(), [true]);
    }
    let buckets = store.exposure_buckets("chat", at(0), at(1)).await.unwrap();
    assert_eq!(buckets[0].counts[ReasonKind::Everyone.index()], MAX_COUNT);
    let totals = store.exposure_totals().await.unwrap();
    assert_eq!((totals.unnamed, totals.dropped), (MAX_COUNT, MAX_COUNT));
}

/// Minutes roll into hours after `minutes_for`, hours into days after `hours_for`, days and
/// applications go after `days_for`, batch ids are forgotten after `batch_ids_for`; the
/// totals over any period that holds whole buckets do not change.
pub async fn exposures_roll_up_and_expire(store: Arc<dyn Store>) {
    let one = |kind| counts(&[(kind, 1)]);
    // Day 0: 10:00, 10:59 and 11:30; day 1: 00:05.
    let batches = [
        batch("m:1", 600, &[("chat", one(ReasonKind::Percentage))]),
        batch("m:2", 659, &[("chat", one(ReasonKind::Off))]),
        batch("m:3", 690, &[("chat", one(ReasonKind::Percentage))]),
        batch("m:4", 1445, &[("chat", one(ReasonKind::User))]),
    ];
    store.record_exposures(&batches).await.unwrap();
    let retention = ExposureRetention {
        minutes_for: Duration::hours(2),
        hours_for: Duration::days(2),
        days_for: Duration::days(5),
        batch_ids_for: Duration::hours(3),
    };
    let everything = || store.exposure_buckets("chat", at(0), at(20 * 1440));

    // At 12:10 on day 0, 10:00 to 10:59 is older than two hours (the cutoff is 10:00, as
    // 12:10 - 2 h rounds down to it): nothing moves. At 13:00 the 10 o'clock hour goes.
    let compacted = store.compact_exposures(&retention, at(730)).await.unwrap();
    assert_eq!(compacted.minutes_rolled, 0);
    store.compact_exposures(&retention, at(780)).await.unwrap();
    assert_eq!(
        everything().await.unwrap(),
        [
            bucket(
                Resolution::Hour,
                at(600),
                counts(&[(ReasonKind::Percentage, 1), (ReasonKind::Off, 1)])
            ),
            bucket(Resolution::Minute, at(690), one(ReasonKind::Percentage)),
            bucket(Resolution::Minute, at(1445), one(ReasonKind::User)),
        ]
    );
    // A late batch for a minute already rolled is kept, and rolled into the same hour later.
    store
        .record_exposures(&[batch("m:5", 601, &[("chat", one(ReasonKind::Off))])])
        .await
        .unwrap();
    store.compact_exposures(&retention, at(781)).await.unwrap();
    let hour = everything().await.unwrap()[0].clone();
    assert_eq!(
        hour,
        bucket(
            Resolution::Hour,
            at(600),
            counts(&[(ReasonKind::Percentage, 1), (ReasonKind::Off, 2)])
        )
    );

    // Day 3, 01:00: day 0's hours and day 1's minutes are past their cutoffs (day 1's
    // 00:05 minute goes to its hour, and that hour is not yet two days old).
    let compacted = store
        .compact_exposures(&retention, at(3 * 1440 + 60))
        .await
        .unwrap();
    assert!(compacted.minutes_rolled >= 2, "{compacted:?}");
    assert!(compacted.hours_rolled >= 1, "{compacted:?}");
    assert_eq!(
        everything().await.unwrap(),
        [
            bucket(
                Resolution::Day,
                at(0),
                counts(&[(ReasonKind::Percentage, 2), (ReasonKind::Off, 2)])
            ),
            bucket(Resolution::Hour, at(1440), one(ReasonKind::User)),
        ]
    );
    let daily = store
        .exposure_activity(at(0), at(2 * 1440), Resolution::Day)
        .await
        .unwrap();
    let bins: Vec<_> = daily[0].bins.iter().map(|bin| bin.start).collect();
    assert_eq!(
        bins,
        [at(0), at(1440)],
        "a day bucket and an hour bucket, binned by day"
    );
    assert_eq!(daily[0].total(), 5, "rolling up loses no count");
    // Batch ids older than three hours are forgotten: the same id now counts again.
    assert_eq!(
        store
            .record_exposures(&[batch(
                "m:1",
                3 * 1440 + 61,
                &[("chat", one(ReasonKind::Off))]
            )])
            .await
            .unwrap(),
        [true]
    );

    // Day 6, 00:00: day 0 is past five days and goes; day 1's hour became a day and stays.
    let compacted = store
        .compact_exposures(&retention, at(6 * 1440))
        .await
        .unwrap();
    assert_eq!(compacted.days_deleted, 1, "{compacted:?}");
    let left = everything().await.unwrap();
    assert_eq!(
        left[0],
        bucket(Resolution::Day, at(1440), one(ReasonKind::User))
    );
    assert_eq!(left.len(), 2, "{left:?}");
    // Day 9: the application was last seen on day 3, more than five days ago; the feature's
    // last seen goes with it.
    let compacted = store
        .compact_exposures(&retention, at(9 * 1440))
        .await
        .unwrap();
    assert_eq!(compacted.applications_forgotten, 1);
    assert!(store
        .exposure_applications("chat")
        .await
        .unwrap()
        .is_empty());
    assert!(store.exposure_features().await.unwrap().is_empty());
}

/// Eight writers recording batches concurrently, over many features, while compactions roll
/// the same minutes into hours: the totals add up exactly.
pub async fn concurrent_exposure_batches_lose_nothing(store: Arc<dyn Store>) {
    let features: Vec<String> = (0..50).map(|index| format!("feature-{index}")).collect();
    let features = Arc::new(features);
    let mut writers = Vec::new();
    for writer in 0..8u64 {
        let store = Arc::clone(&store);
        let features = Arc::clone(&features);
        writers.push(tokio::spawn(async move {
            for round in 0..10u64 {
                let named: Vec<(&str, ReasonCounts)> = features
                    .iter()
                    .map(|name| (name.as_str(), counts(&[(ReasonKind::Group, writer + 1)])))
                    .collect();
                let id = format!("w{writer}:{round}");
                let mut batch = batch(&id, (round % 3) as i64, &named);
                batch.instance = format!("web-{writer}");
                // Every batch twice: the second is a retry.
                assert_eq!(
                    store.record_exposures(&[batch.clone()]).await.unwrap(),
                    [true]
                );
                assert_eq!(store.record_exposures(&[batch]).await.unwrap(), [false]);
            }
        }));
    }
    // Compactions as of 03:00 with minutes kept an hour: every minute written is rolled into
    // the 00:00 hour while the writers go on writing minutes.
    let compactor = {
        let store = Arc::clone(&store);
        let retention = ExposureRetention {
            minutes_for: Duration::hours(1),
            ..ExposureRetention::default()
        };
        tokio::spawn(async move {
            for _ in 0..10 {
                store.compact_exposures(&retention, at(180)).await.unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    for writer in writers {
        writer.await.unwrap();
    }
    compactor.await.unwrap();
    // Per feature: 8 writers x 10 rounds, writer w adding w + 1 each round: 10 x 36.
    for name in features.iter() {
        let buckets = store.exposure_buckets(name, at(0), at(3)).await.unwrap();
        let total: u64 = buckets
            .iter()
            .map(|bucket| bucket.counts[ReasonKind::Group.index()])
            .sum();
        assert_eq!(total, 360, "{name}: {buckets:?}");
    }
    assert_eq!(
        store
            .exposure_applications("feature-7")
            .await
            .unwrap()
            .len(),
        8
    );
    let activity = store
        .exposure_activity(at(0), at(3), Resolution::Day)
        .await
        .unwrap();
    assert_eq!(activity.len(), 50);
    assert!(activity.iter().all(|activity| activity.total() == 360));
    assert_eq!(activity[0].feature, "feature-0", "by name");
    assert_eq!(activity[1].feature, "feature-1");
}
