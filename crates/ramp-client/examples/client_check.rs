//! Runs one million `Client::is_active` percentage checks on a 10,000-feature snapshot, for
//! instruction counts that do not depend on machine load (like ramp-core's
//! `percentage_check`, which checks the same feature for the same user without the client):
//!
//! ```sh
//! cargo build --release -p ramp-client --example client_check
//! perf stat -e instructions:u target/release/examples/client_check          # 1,000,000 checks
//! perf stat -e instructions:u target/release/examples/client_check 0        # setup only
//! ```
//! The difference divided by 1,000,000 is the cost of one check. A second argument `off`
//! switches counting off (`client_check 1000000 off`), to measure what counting costs.

use std::hint::black_box;

use chrono::DateTime;
use ramp_client::Client;
use ramp_core::{Attribution, Context, Feature, FeatureName, Percentage};
use ramp_store::ImportedFeature;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = ramp_rollout::open_store("memory://").await?;
    let mut features = Vec::new();
    for number in 0..10_000 {
        let mut feature = Feature::new(
            FeatureName::new(format!("feature-{number}"))?,
            DateTime::UNIX_EPOCH,
        );
        feature.percentage = Percentage::new(20.0)?;
        features.push(ImportedFeature {
            name: feature.name.clone(),
            state: feature.state(),
        });
    }
    store
        .import(&features, &[], &Attribution::new("example"))
        .await?;
    let counting = std::env::args().nth(2).as_deref() != Some("off");
    let client = Client::with_store(store)
        .count_checks(counting)
        .connect()
        .await?;
    let context = Context::user("12345");
    let checks: u32 = std::env::args()
        .nth(1)
        .and_then(|argument| argument.parse().ok())
        .unwrap_or(1_000_000);
    let mut active = 0u32;
    for _ in 0..checks {
        active += u32::from(client.is_active(black_box("feature-5000"), black_box(&context)));
    }
    println!("{active} of {checks} checks active");
    client.close().await;
    Ok(())
}
