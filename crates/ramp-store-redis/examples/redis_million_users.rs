//! What large data costs on the Redis store: writing and reading one feature with 1,000,000
//! users (one string in the gem's format, ~12 MB), adding one more user to it, and loading a
//! snapshot of 10,000 features.
//!
//! ```text
//! cargo run --release -p ramp-store-redis --example redis_million_users [-- redis://127.0.0.1:6379/0]
//! ```
//!
//! Everything is written under a fresh `ramp-bench-…:` prefix, deleted at the end.

use std::time::{Duration, Instant};

use ramp_core::{Attribution, Change, FeatureName, FeatureState, Percentage, UserId};
use ramp_store::{ImportedFeature, Store};
use ramp_store_redis::RedisStore;

const USERS: usize = 1_000_000;
const FEATURES: usize = 10_000;
const RUNS: usize = 5;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379/0".into());
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let prefix = format!("ramp-bench-{}:", stamp.as_nanos());
    let separator = if server.contains('?') { '&' } else { '?' };
    let store = RedisStore::open_url(&format!("{server}{separator}prefix={prefix}")).await?;
    let outcome = measure(&store).await;
    clean(&server, &prefix)?;
    outcome
}

async fn measure(store: &RedisStore) -> Result<(), Box<dyn std::error::Error>> {
    let ana = Attribution::new("bench");
    let big = FeatureName::new("big")?;
    let ids = (0..USERS)
        .map(|id| UserId::new(format!("user-{id}")))
        .collect::<Result<Vec<_>, _>>()?;

    let started = Instant::now();
    store
        .apply(&big, &Change::AddUsers { users: ids }, None, &ana)
        .await?;
    println!(
        "write a feature with {USERS} users:      {:>8.1} ms",
        ms(started.elapsed())
    );

    let mut reads = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let feature = store.feature(&big).await?.ok_or("the feature is missing")?;
        reads.push(started.elapsed());
        assert_eq!(feature.users.len(), USERS);
    }
    println!(
        "read it (median of {RUNS}):                {:>8.1} ms",
        ms(median(&mut reads))
    );

    let mut adds = Vec::new();
    for run in 0..RUNS {
        let one = vec![UserId::new(format!("new-{run}"))?];
        let started = Instant::now();
        store
            .apply(&big, &Change::AddUsers { users: one }, None, &ana)
            .await?;
        adds.push(started.elapsed());
    }
    println!(
        "add one user to it (median of {RUNS}):     {:>8.1} ms",
        ms(median(&mut adds))
    );

    let imported: Vec<ImportedFeature> = (0..FEATURES)
        .map(|index| {
            Ok(ImportedFeature {
                name: FeatureName::new(format!("feature-{index:05}"))?,
                state: FeatureState {
                    percentage: Percentage::new((index % 101) as f64)?,
                    users: vec![UserId::new(format!("user-{index}"))?],
                    ..FeatureState::default()
                },
            })
        })
        .collect::<Result<_, ramp_core::CoreError>>()?;
    let started = Instant::now();
    store.import(&imported, &[], &ana).await?;
    println!(
        "import {FEATURES} features in one step:    {:>8.1} ms",
        ms(started.elapsed())
    );
    store.delete(&big, None, &ana).await?;

    let mut snapshots = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let snapshot = store.snapshot().await?;
        snapshots.push(started.elapsed());
        assert_eq!(snapshot.features.len(), FEATURES);
    }
    println!(
        "snapshot of {FEATURES} features (median of {RUNS}): {:>5.1} ms",
        ms(median(&mut snapshots))
    );
    let started = Instant::now();
    let changed = store.check_for_outside_changes().await?;
    println!(
        "one watcher poll over {FEATURES} features:  {:>8.1} ms ({changed} changed)",
        ms(started.elapsed())
    );
    Ok(())
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Deletes the benchmark's keys (and only them).
fn clean(server: &str, prefix: &str) -> redis::RedisResult<()> {
    let server = server.split('?').next().unwrap_or(server);
    let mut connection = redis::Client::open(server)?.get_connection()?;
    let keys: Vec<String> =
        redis::Commands::scan_match::<_, String>(&mut connection, format!("{prefix}*"))?
            .collect::<Result<_, _>>()?;
    for chunk in keys.chunks(1000) {
        redis::cmd("DEL").arg(chunk).query::<()>(&mut connection)?;
    }
    Ok(())
}
