//! Measures "who changed each feature last" for a list of 10,000 features, for BENCHMARKS.md:
//! the way the server's `GET /api/v1/features?with=last_change` read it before (one
//! `history(feature, limit 1)` per feature, 16 at a time) against `Store::latest_events` (one
//! call for the whole list), each the median of 7 runs, after checking both give the same
//! events.
//!
//! `cargo run --release -p ramp-rollout --example latest_events -- URL`, where URL names an
//! EMPTY store (it imports 10,000 features, one history event each): `sqlite:///tmp/l.db`,
//! `postgres://postgres@127.0.0.1:5432/test?schema=ramp_latest`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ramp_core::{Attribution, FeatureName, FeatureState, HistoryEvent, Percentage};
use ramp_store::{HistoryQuery, ImportedFeature, Store};
use tokio::sync::Semaphore;

const FEATURES: usize = 10_000;
/// How many per-feature reads the server had in flight at once.
const CONCURRENT_READS: usize = 16;
const RUNS: usize = 7;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let url = std::env::args()
        .nth(1)
        .expect("usage: latest_events URL (an empty store)");
    let store = ramp_rollout::open_store(&url)
        .await
        .expect("the store opens");
    let features: Vec<ImportedFeature> = (0..FEATURES)
        .map(|number| ImportedFeature {
            name: FeatureName::new(format!("feature-{number:05}")).unwrap(),
            state: FeatureState {
                percentage: Percentage::new((number % 101) as f64).unwrap(),
                ..FeatureState::default()
            },
        })
        .collect();
    store
        .import(&features, &[], &Attribution::new("bench"))
        .await
        .unwrap();
    let names: Vec<FeatureName> = features.into_iter().map(|feature| feature.name).collect();
    println!("store: {url}, {FEATURES} features with one event each");

    let one_by_one = per_feature(&store, &names).await;
    let together = store.latest_events(&names).await.unwrap();
    assert_eq!(one_by_one.len(), FEATURES);
    assert_eq!(together, one_by_one, "both ways find the same events");

    let before = median(&store, &names, |store, names| async move {
        per_feature(&store, &names).await.len()
    })
    .await;
    let after = median(&store, &names, |store, names| async move {
        store.latest_events(&names).await.unwrap().len()
    })
    .await;
    println!("one history read per feature, {CONCURRENT_READS} at a time: {before:.1?}");
    println!("latest_events, one call: {after:.1?}");
}

/// The server's former way: one newest-first page of one event per feature.
async fn per_feature(
    store: &Arc<dyn Store>,
    names: &[FeatureName],
) -> HashMap<FeatureName, HistoryEvent> {
    let permits = Arc::new(Semaphore::new(CONCURRENT_READS));
    let mut reads = tokio::task::JoinSet::new();
    for name in names {
        let (store, permits, name) = (Arc::clone(store), Arc::clone(&permits), name.clone());
        reads.spawn(async move {
            let _permit = permits.acquire_owned().await.unwrap();
            let query = HistoryQuery {
                feature: Some(name.clone()),
                limit: 1,
                ..HistoryQuery::default()
            };
            (name, store.history(&query).await.unwrap().pop())
        });
    }
    let mut latest = HashMap::new();
    while let Some(read) = reads.join_next().await {
        if let (name, Some(event)) = read.unwrap() {
            latest.insert(name, event);
        }
    }
    latest
}

/// The median duration of `RUNS` runs of `run`.
async fn median<F, Future>(store: &Arc<dyn Store>, names: &[FeatureName], run: F) -> Duration
where
    F: Fn(Arc<dyn Store>, Vec<FeatureName>) -> Future,
    Future: std::future::Future<Output = usize>,
{
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let found = run(Arc::clone(store), names.to_vec()).await;
        times.push(start.elapsed());
        assert_eq!(found, names.len());
    }
    times.sort();
    times[RUNS / 2]
}
