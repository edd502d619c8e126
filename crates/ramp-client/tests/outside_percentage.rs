//! The SDK counts `outside_percentage` apart from `percentage`, `off` and `not_found`: the
//! reason that grew the counter table (`ReasonKind::OF_FOUND`) lands in its own slot, and the
//! feature next to it in the table keeps its own counts.

mod common;

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use common::quick_policy;
use ramp_client::{Client, ReasonKind};
use ramp_core::{Context, Reason};
use ramp_rollout::Rollout;

fn fixed_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()
}

#[tokio::test]
async fn checks_outside_the_percentage_are_counted_apart() {
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let rollout = Rollout::new(store.clone(), "test");
    // The gem's bucketing: user 2 is within the first 20 %, user 1 is not.
    rollout.activate_percentage("a-split", 20.0).await.unwrap();
    rollout.activate_percentage("b-off", 0.0).await.unwrap();
    let client = Client::with_store(store)
        .refresh_policy(quick_policy())
        .application("shop")
        .instance("web-1")
        .exposure_clock(fixed_time)
        .connect()
        .await
        .unwrap();
    let (outside, inside) = (Context::user("1"), Context::user("2"));
    assert_eq!(
        client.explain("a-split", &outside).reason,
        Reason::OutsidePercentage
    );
    for _ in 0..2 {
        assert!(!client.is_active("a-split", &outside));
    }
    assert!(client.is_active("a-split", &inside));
    assert!(!client.is_active("b-off", &outside));
    assert!(!client.is_active("missing", &outside));

    let batch = client.exposure_counts();
    let mut tally = BTreeMap::new();
    for count in &batch.counts {
        assert_eq!(count.active, count.reason.is_active(), "{count:?}");
        *tally
            .entry((count.feature.as_str(), count.reason))
            .or_insert(0u64) += count.count;
    }
    assert_eq!(
        tally,
        BTreeMap::from([
            (("a-split", ReasonKind::OutsidePercentage), 3),
            (("a-split", ReasonKind::Percentage), 1),
            (("b-off", ReasonKind::Off), 1),
            (("missing", ReasonKind::NotFound), 1),
        ])
    );
    client.close().await;
}
