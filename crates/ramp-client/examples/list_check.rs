//! Runs allow-list checks for instruction and cache-miss counts that do not depend on machine
//! load (`valgrind --tool=callgrind --cache-sim=yes`), the same cases as `benches/lists.rs`:
//!
//! ```sh
//! cargo build --profile bench -p ramp-client --example list_check
//! valgrind --tool=callgrind --cache-sim=yes target/release/examples/list_check texts 10000 hit handle on 1000000
//! valgrind --tool=callgrind --cache-sim=yes target/release/examples/list_check texts 10000 hit handle on 0
//! ```
//! Arguments: `numbers|texts`, the list's size, `hit|miss`, `name|handle|core|set`, counting
//! `on|off`, and how many checks (the user changes on every check, the next of 1,024 spread
//! over the list). The difference of two runs divided by the checks is the cost of one check.
//! `core` checks the compiled snapshot by position without the client (`CompiledSnapshot::
//! check_at`, never counted) and `set` asks the feature's `UserSet` alone, so three runs split a
//! handle's check into the set probe, the rest of the core's decision and the client's part.

use std::hint::black_box;

use chrono::DateTime;
use ramp_client::Client;
use ramp_core::{
    Attribution, CodeGroups, CompiledSnapshot, Context, Feature, FeatureName, Snapshot, UserId,
    UserSet,
};
use ramp_store::ImportedFeature;

const CYCLE: usize = 1_024;

/// What one check goes through.
#[derive(Clone, Copy)]
enum Mode {
    /// `Client::is_active` by name.
    Name,
    /// A `FeatureHandle`.
    Handle,
    /// `CompiledSnapshot::check_at`, without the client.
    Core,
    /// The feature's `UserSet` alone.
    Set,
}

fn id(numeric: bool, index: usize, listed: bool) -> String {
    match (numeric, listed) {
        (true, true) => (index * 7).to_string(),
        (true, false) => (index * 7 + 1).to_string(),
        (false, true) => format!("user-{index}"),
        (false, false) => format!("user-{}", index + 10_000_000),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let argument = |index: usize, default: &str| -> String {
        arguments
            .get(index)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    };
    let numeric = argument(0, "texts") == "numbers";
    let size: usize = argument(1, "10000").parse()?;
    let hit = argument(2, "hit") == "hit";
    let mode = match argument(3, "handle").as_str() {
        "name" => Mode::Name,
        "handle" => Mode::Handle,
        "core" => Mode::Core,
        "set" => Mode::Set,
        other => return Err(format!("unknown mode {other:?}: name, handle, core or set").into()),
    };
    let counting = argument(4, "on") == "on";
    let checks: usize = argument(5, "1000000").parse()?;

    let store = ramp_rollout::open_store("memory://").await?;
    let mut feature = Feature::new(FeatureName::new("listed")?, DateTime::UNIX_EPOCH);
    feature.users = (0..size)
        .map(|index| UserId::new(id(numeric, index, true)))
        .collect::<Result<_, _>>()?;
    let compiled = CompiledSnapshot::compile(&Snapshot {
        features: vec![feature.clone()],
        ..Snapshot::default()
    });
    let set = UserSet::new(feature.users.iter().map(|user| user.as_str()));
    let code_groups = CodeGroups::default();
    let imported = ImportedFeature {
        name: feature.name.clone(),
        state: feature.state(),
    };
    store
        .import(&[imported], &[], &Attribution::new("example"))
        .await?;
    let client = Client::with_store(store)
        .count_checks(counting)
        .connect()
        .await?;
    let contexts: Vec<Context> = (0..CYCLE)
        .map(|index| Context::user(id(numeric, (index * 7_919) % size, hit)))
        .collect();
    let handle = client.feature("listed");
    let mut active = 0usize;
    for check in 0..checks {
        let context = black_box(&contexts[check & (CYCLE - 1)]);
        let answer = match mode {
            Mode::Name => client.is_active(black_box("listed"), context),
            Mode::Handle => black_box(&handle).is_active(context),
            Mode::Core => black_box(&compiled)
                .check_at(0, context, &code_groups, None)
                .is_active(),
            Mode::Set => black_box(&set).contains(context.user_id().unwrap_or_default()),
        };
        active += usize::from(answer);
    }
    println!("{active} of {checks} checks active");
    client.close().await;
    Ok(())
}
