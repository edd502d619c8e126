//! Measures any store through the `Store` trait, for BENCHMARKS.md:
//! snapshot load of 10,000 features, load of one feature with 1,000,000 users, one atomic write
//! (median and p99), and 16 concurrent writers (writes per second).
//!
//! `cargo run --release -p ramp-rollout --example store_bench -- URL`, where URL names an EMPTY
//! store (it writes 10,001 features): `sqlite:///tmp/bench.db`, `redis://127.0.0.1:6379/15`,
//! `postgres://postgres@127.0.0.1:5432/test?schema=ramp_bench`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use ramp_core::{Attribution, Change, FeatureName, FeatureState, Percentage, UserId};
use ramp_store::{ImportedFeature, Store};

const FEATURES: usize = 10_000;
const LISTED_USERS: usize = 1_000_000;
const SINGLE_WRITES: usize = 300;
const WRITERS: usize = 16;
const WRITES_EACH: usize = 50;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let url = std::env::args()
        .nth(1)
        .expect("usage: store_bench URL (an empty store)");
    let store = ramp_rollout::open_store(&url)
        .await
        .expect("the store opens");
    let ana = Attribution::new("bench");
    println!("store: {url}");

    let features: Vec<ImportedFeature> = (0..FEATURES)
        .map(|number| ImportedFeature {
            name: FeatureName::new(format!("feature-{number}")).unwrap(),
            state: FeatureState {
                percentage: Percentage::new(20.0).unwrap(),
                ..FeatureState::default()
            },
        })
        .collect();
    let started = Instant::now();
    store.import(&features, &[], &ana).await.unwrap();
    println!("import of {FEATURES} features: {:?}", started.elapsed());
    let loads = time_many(5, || async { store.snapshot().await.unwrap() }).await;
    println!(
        "snapshot load, {FEATURES} features: median {:?}",
        median(&loads)
    );

    let big = FeatureName::new("big").unwrap();
    let users: Vec<UserId> = (0..LISTED_USERS)
        .map(|id| UserId::new(id.to_string()).unwrap())
        .collect();
    let started = Instant::now();
    store
        .apply(&big, &Change::AddUsers { users }, None, &ana)
        .await
        .unwrap();
    println!(
        "add {LISTED_USERS} users in one change: {:?}",
        started.elapsed()
    );
    let loads = time_many(5, || async { store.feature(&big).await.unwrap().unwrap() }).await;
    println!(
        "load one feature with {LISTED_USERS} users: median {:?}",
        median(&loads)
    );
    store.delete(&big, None, &ana).await.unwrap();

    // The rollout gem's own figure on a local Redis: 13 ms per activate_user at 25,000 users.
    let crowd = FeatureName::new("crowd").unwrap();
    let users: Vec<UserId> = (0..25_000)
        .map(|id| UserId::new(format!("member-{id}")).unwrap())
        .collect();
    store
        .apply(&crowd, &Change::AddUsers { users }, None, &ana)
        .await
        .unwrap();
    let mut next = 0;
    let adds = time_many(50, || {
        next += 1;
        let user = UserId::new(format!("late-{next}")).unwrap();
        let (store, crowd, ana) = (Arc::clone(&store), crowd.clone(), ana.clone());
        async move {
            store
                .apply(&crowd, &Change::AddUsers { users: vec![user] }, None, &ana)
                .await
                .unwrap()
        }
    })
    .await;
    println!(
        "add one user to a 25,000-user feature: median {:?}",
        median(&adds)
    );
    store.delete(&crowd, None, &ana).await.unwrap();

    let target = FeatureName::new("feature-0").unwrap();
    let mut latencies = Vec::with_capacity(SINGLE_WRITES);
    for step in 0..SINGLE_WRITES {
        let percentage = Percentage::new((step % 100) as f64 + 0.5).unwrap();
        let started = Instant::now();
        store
            .apply(&target, &Change::SetPercentage { percentage }, None, &ana)
            .await
            .unwrap();
        latencies.push(started.elapsed());
    }
    latencies.sort();
    println!(
        "one atomic write ({SINGLE_WRITES} writes): median {:?}, p99 {:?}",
        median(&latencies),
        latencies[latencies.len() * 99 / 100]
    );

    let contended = FeatureName::new("contended").unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let store: Arc<dyn Store> = Arc::clone(&store);
        let contended = contended.clone();
        tasks.push(tokio::spawn(async move {
            for write in 0..WRITES_EACH {
                let user = UserId::new(format!("{writer}-{write}")).unwrap();
                store
                    .apply(
                        &contended,
                        &Change::AddUsers { users: vec![user] },
                        None,
                        &Attribution::new("bench"),
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed();
    let kept = store
        .feature(&contended)
        .await
        .unwrap()
        .unwrap()
        .users
        .len();
    println!(
        "{WRITERS} concurrent writers on one feature: {:.0} writes/s ({} writes in {elapsed:?}, {kept} users kept)",
        (WRITERS * WRITES_EACH) as f64 / elapsed.as_secs_f64(),
        WRITERS * WRITES_EACH
    );
    assert_eq!(kept, WRITERS * WRITES_EACH, "no write may be lost");
}

async fn time_many<F, Fut, T>(runs: usize, mut action: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        std::hint::black_box(action().await);
        times.push(started.elapsed());
    }
    times.sort();
    times
}

fn median(sorted: &[Duration]) -> Duration {
    sorted[sorted.len() / 2]
}
