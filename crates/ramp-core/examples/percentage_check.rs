//! Runs one million percentage checks on a 10,000-feature snapshot, for instruction counts
//! that do not depend on machine load:
//! `valgrind --tool=callgrind target/release/examples/percentage_check` (divide by 1,000,000;
//! that includes building the snapshot). An optional argument sets the number of checks, so
//! the setup can be subtracted: the instructions of a run with `0` checks, taken from those of
//! the default run and divided by 1,000,000, are the cost of one check alone.
#![allow(missing_docs)]

use std::hint::black_box;

use chrono::DateTime;
use ramp_core::{
    CodeGroups, CompiledSnapshot, Context, Feature, FeatureName, Percentage, Snapshot,
};

fn main() -> Result<(), ramp_core::CoreError> {
    let mut features = Vec::new();
    for number in 0..10_000 {
        let mut feature = Feature::new(
            FeatureName::new(format!("feature-{number}"))?,
            DateTime::UNIX_EPOCH,
        );
        feature.percentage = Percentage::new(20.0)?;
        features.push(feature);
    }
    let snapshot = CompiledSnapshot::compile(&Snapshot {
        version: 1,
        features,
        ..Snapshot::default()
    });
    let context = Context::user("12345");
    let code_groups = CodeGroups::new();
    let checks: u32 = std::env::args()
        .nth(1)
        .and_then(|argument| argument.parse().ok())
        .unwrap_or(1_000_000);
    let mut active = 0u32;
    for _ in 0..checks {
        active += u32::from(snapshot.is_active(
            black_box("feature-5000"),
            black_box(&context),
            &code_groups,
        ));
    }
    println!("{active} of {checks} checks active");
    Ok(())
}
