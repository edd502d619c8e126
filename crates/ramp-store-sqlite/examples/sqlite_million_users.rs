//! Times the SQLite store's heavy paths on this machine: adding 1,000,000 user ids to an empty
//! feature in one change, reading that feature back, adding one more id to it, importing
//! 10,000 features, and loading a snapshot of them.
//!
//! Run with: `cargo run --release -p ramp-store-sqlite --example sqlite_million_users`

use std::time::Instant;

use ramp_core::{Attribution, Change, FeatureName, FeatureState, Percentage, UserId};
use ramp_store::{ImportedFeature, Store};
use ramp_store_sqlite::SqliteStore;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let directory = tempfile::tempdir()?;
    let store = SqliteStore::open(directory.path().join("ramp.db"), false)?;
    let attribution = Attribution::new("benchmark");
    let big = FeatureName::new("big")?;

    let users = (0..1_000_000)
        .map(|id| UserId::new(format!("user-{id}")))
        .collect::<Result<Vec<_>, _>>()?;
    let change = Change::AddUsers { users };
    let started = Instant::now();
    store.apply(&big, &change, None, &attribution).await?;
    println!(
        "add 1,000,000 ids to an empty feature: {:?}",
        started.elapsed()
    );

    let started = Instant::now();
    let feature = store.feature(&big).await?.ok_or("the feature is missing")?;
    println!(
        "read the feature back ({} ids): {:?}",
        feature.users.len(),
        started.elapsed()
    );

    let started = Instant::now();
    let one_more = Change::AddUsers {
        users: vec![UserId::new("one-more")?],
    };
    store.apply(&big, &one_more, None, &attribution).await?;
    println!(
        "add 1 id to the 1,000,000-id feature: {:?}",
        started.elapsed()
    );

    let features: Vec<ImportedFeature> = (0..10_000)
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
        .collect::<Result<_, ramp_core::CoreError>>()?;
    let started = Instant::now();
    store.import(&features, &[], &attribution).await?;
    println!("import 10,000 features: {:?}", started.elapsed());

    let started = Instant::now();
    let snapshot = store.snapshot().await?;
    println!(
        "snapshot of {} features (one has 1,000,001 ids): {:?}",
        snapshot.features.len(),
        started.elapsed()
    );
    Ok(())
}
