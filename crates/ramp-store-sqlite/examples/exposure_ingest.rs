//! Times exposure ingest on this machine, in the scenario the server is sized for: 100
//! application instances each reporting the same 10,000 features every 10 seconds. Batches
//! are recorded one per call, then ten per call, then one per call again once every
//! (feature, instance) row exists, as a server in its steady state sees them, then the first
//! batches of the next minute (which create its buckets). Then it times the reads a dashboard
//! makes over that data.
//!
//! Run with: `cargo run --release -p ramp-store-sqlite --example exposure_ingest`

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use ramp_core::ReasonKind;
use ramp_store::exposure::{ExposureBatch, ReasonCounts, Resolution};
use ramp_store::Store;
use ramp_store_sqlite::SqliteStore;

const INSTANCES: usize = 100;
const FEATURES: usize = 10_000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let directory = tempfile::tempdir()?;
    let store = SqliteStore::open(directory.path().join("ramp.db"), false)?;
    let features: Vec<String> = (0..FEATURES)
        .map(|index| format!("feature-{index:05}"))
        .collect();
    let minute = Utc
        .timestamp_opt(1_800_000_000, 0)
        .single()
        .ok_or("no such time")?;
    // One report of every instance, 10 seconds after the previous report.
    let report = |round: i64| -> Vec<ExposureBatch> {
        let received = minute + Duration::seconds(10 * round);
        (0..INSTANCES)
            .map(|instance| {
                let mut counts: ReasonCounts = [0; ReasonKind::ALL.len()];
                counts[ReasonKind::Percentage.index()] = 3;
                counts[ReasonKind::Off.index()] = 1;
                ExposureBatch {
                    batch_id: format!("web-{instance}:{round}"),
                    application: "shop".to_owned(),
                    instance: format!("web-{instance}"),
                    minute: Resolution::Minute.start_of(received),
                    received,
                    counts: features.iter().map(|name| (name.clone(), counts)).collect(),
                    unnamed: 1,
                    dropped: 0,
                }
            })
            .collect()
    };

    for (round, per_call, what) in [
        (0, 1, "one batch per call, first report"),
        (1, 10, "ten batches per call"),
        (2, 1, "one batch per call, steady state"),
        (6, 1, "one batch per call, a new minute's first"),
    ] {
        let batches = report(round);
        let started = Instant::now();
        for call in batches.chunks(per_call) {
            store.record_exposures(call).await?;
        }
        let elapsed = started.elapsed();
        println!(
            "{INSTANCES} batches of {FEATURES} features, {what}: {elapsed:.2?}, {:.1} batches/s",
            INSTANCES as f64 / elapsed.as_secs_f64()
        );
    }
    let started = Instant::now();
    let seen = store.exposure_applications(&features[FEATURES / 2]).await?;
    println!(
        "read the {} instances of one feature: {:.2?}",
        seen.len(),
        started.elapsed()
    );
    let started = Instant::now();
    let seen = store.exposure_features().await?;
    println!(
        "read the last seen of all {} features: {:.2?}",
        seen.len(),
        started.elapsed()
    );
    let started = Instant::now();
    let activity = store
        .exposure_activity(minute, minute + Duration::hours(1), Resolution::Hour)
        .await?;
    println!(
        "read the hour's activity of all {} features: {:.2?}",
        activity.len(),
        started.elapsed()
    );
    let total: u64 = store
        .exposure_buckets(&features[0], minute, minute + Duration::minutes(1))
        .await?
        .iter()
        .map(|bucket| bucket.counts.iter().sum::<u64>())
        .sum();
    assert_eq!(total, 3 * INSTANCES as u64 * 4, "every batch counted once");
    assert_eq!(activity[0].total(), 4 * INSTANCES as u64 * 4);
    Ok(())
}
