//! Times the PostgreSQL store on this machine: a snapshot of 10,000 features, reading one
//! feature with 1,000,000 users, one atomic write (median and p99), and 16 concurrent writers
//! (on 16 features, and all on one feature).
//!
//! Run with: `cargo run --release -p ramp-store-postgres --example bench`
//! It uses the schema `ramp_bench` of `postgres://postgres@127.0.0.1:5432/test` (or the URL in
//! `RAMP_BENCH_URL`), which it drops before and after.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ramp_core::{Attribution, Change, FeatureName, FeatureState, Percentage, UserId};
use ramp_store::{ImportedFeature, Store};
use ramp_store_postgres::{PostgresStore, PostgresUrl};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test?schema=ramp_bench";
const WRITES: usize = 500;
const WRITERS: usize = 16;
const WRITES_EACH: usize = 100;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main]
async fn main() -> Result<()> {
    let url = std::env::var("RAMP_BENCH_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let parsed = PostgresUrl::parse(&url)?;
    drop_schema(&parsed).await?;
    let store = Arc::new(PostgresStore::open(&parsed).await?);
    let outcome = run(&store).await;
    drop(store);
    drop_schema(&parsed).await?;
    outcome
}

async fn run(store: &Arc<PostgresStore>) -> Result<()> {
    let attribution = Attribution::new("benchmark");

    let features = (0..10_000)
        .map(|index| {
            let state = FeatureState {
                percentage: Percentage::new(f64::from(index % 101))?,
                users: vec![UserId::new(format!("{index}"))?],
                ..FeatureState::default()
            };
            Ok(ImportedFeature {
                name: FeatureName::new(format!("feature-{index:05}"))?,
                state,
            })
        })
        .collect::<std::result::Result<Vec<_>, ramp_core::CoreError>>()?;
    let started = Instant::now();
    store.import(&features, &[], &attribution).await?;
    println!("import 10,000 features: {:?}", started.elapsed());
    let (count, median) =
        repeat(5, || async { Ok(store.snapshot().await?.features.len()) }).await?;
    println!("snapshot of {count} features: median {median:?} (5 loads)");

    let big = FeatureName::new("big")?;
    let users = (0..1_000_000)
        .map(|id| UserId::new(format!("user-{id}")))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let started = Instant::now();
    store
        .apply(&big, &Change::AddUsers { users }, None, &attribution)
        .await?;
    println!(
        "add 1,000,000 users to a new feature: {:?}",
        started.elapsed()
    );
    let (count, median) = repeat(5, || async {
        Ok(store
            .feature(&big)
            .await?
            .map_or(0, |feature| feature.users.len()))
    })
    .await?;
    println!("read the feature with {count} users: median {median:?} (5 reads)");
    let started = Instant::now();
    let one_more = Change::AddUsers {
        users: vec![UserId::new("one-more")?],
    };
    store.apply(&big, &one_more, None, &attribution).await?;
    println!("add 1 user to it: {:?}", started.elapsed());

    let latency = FeatureName::new("latency")?;
    let mut times = Vec::with_capacity(WRITES);
    for write in 0..WRITES {
        let percentage = Percentage::new((write % 100) as f64 + 0.5)?;
        let started = Instant::now();
        store
            .apply(
                &latency,
                &Change::SetPercentage { percentage },
                None,
                &attribution,
            )
            .await?;
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "one write (set percentage), {WRITES} in a row: median {:?}, p99 {:?}",
        times[WRITES / 2],
        times[WRITES * 99 / 100]
    );

    for shared in [false, true] {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for writer in 0..WRITERS {
            let store = Arc::clone(store);
            let feature = if shared {
                FeatureName::new("contended")?
            } else {
                FeatureName::new(format!("writer-{writer}"))?
            };
            tasks.push(tokio::spawn(async move {
                let attribution = Attribution::new(format!("writer-{writer}"));
                for user in 0..WRITES_EACH {
                    let users = vec![UserId::new(format!("{writer}-{user}"))?];
                    store
                        .apply(&feature, &Change::AddUsers { users }, None, &attribution)
                        .await?;
                }
                Result::Ok(())
            }));
        }
        for task in tasks {
            task.await??;
        }
        let elapsed = started.elapsed();
        let total = WRITERS * WRITES_EACH;
        println!(
            "{WRITERS} writers x {WRITES_EACH} single-user adds, {}: {:.0} writes/s ({elapsed:?})",
            if shared {
                "all on one feature"
            } else {
                "each on its own feature"
            },
            total as f64 / elapsed.as_secs_f64()
        );
    }
    Ok(())
}

/// Runs `load` `times` times; its last result and the median duration.
async fn repeat<T, F, Fut>(times: usize, mut load: F) -> Result<(T, Duration)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut durations = Vec::with_capacity(times);
    let mut last = None;
    for _ in 0..times {
        let started = Instant::now();
        last = Some(load().await?);
        durations.push(started.elapsed());
    }
    durations.sort();
    Ok((last.ok_or("no run")?, durations[times / 2]))
}

async fn drop_schema(url: &PostgresUrl) -> Result<()> {
    let (client, connection) = url.config().connect(tokio_postgres::NoTls).await?;
    let driver = tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", url.schema()))
        .await?;
    drop(client);
    let _ = driver.await;
    Ok(())
}
