//! `Client::is_active` against Unleash's evaluator, `unleash-yggdrasil`, on equivalent flags.
//!
//! Both hold 10,000 flags named `feature-0` .. `feature-9999` plus one `listed` flag:
//! - Ramp: each feature at 20 %; `listed` allows the 1,000 users `user-0` .. `user-999`.
//! - yggdrasil: each toggle enabled with one `flexibleRollout` strategy (rollout 20,
//!   stickiness `userId`, groupId the toggle's name); `listed` with one `userWithId` strategy
//!   listing the same 1,000 ids.
//!
//! Both also hold `listed-10k`, allowing (listing) the 10,000 users `user-0` .. `user-9999`.
//!
//! Checked: `feature-5000` for user `12345` (the percentage rule; the core's benchmark checks
//! the same), and `listed` for `user-500` (a hit in the user list). The `cycling` lines move
//! on every check, so no answer stays hot in a cache: the next of 1,024 users and of 1,024 of
//! the 10,000 flags for the percentage, and the next of 1,024 users of whom half are in
//! `listed-10k`'s list for the lists. Ramp's client is a real
//! `Client` (following an in-memory store, idle during the run), so the figure includes the
//! atomic snapshot load. Before the benchmarks, the allocations made by 1,000 checks of each
//! are counted (`allocation-counter` is this binary's global allocator) and printed.
//!
//! Counting checks (exposures) is on by default, checks and distinct users both, so the
//! `ramp is_active` lines count; `... users off` is a client built with `.count_users(false)`
//! (checks counted, users not), `... counting off` one with `.count_checks(false)`; the
//! differences are the costs of counting users and of counting checks. `core check` is the core's evaluation that
//! counting uses (the decision's reason and the feature's position), without the client.
//!
//! `cargo bench -p ramp-client --bench client`

// `criterion_group!` generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;

use chrono::DateTime;
use criterion::{criterion_group, criterion_main, Criterion};
use ramp_client::Client;
use ramp_core::{Context, Feature, FeatureName, Percentage, UserId};
use ramp_store::ImportedFeature;
use unleash_types::client_features::{ClientFeature, ClientFeatures, Strategy};
use unleash_yggdrasil::EngineState;

const FEATURES: usize = 10_000;
const PERCENTAGE: u32 = 20;
const LISTED_USERS: usize = 1_000;
/// The users of the long list, `listed-10k`.
const LONG_LIST_USERS: usize = 10_000;
/// How many users (and flags) the cycling benchmarks go round.
const CYCLE: usize = 1_024;

/// The ids the cycling list checks go round: even positions listed in `listed-10k`, odd ones not.
fn cycling_list_ids() -> Vec<String> {
    (0..CYCLE)
        .map(|index| {
            if index % 2 == 0 {
                format!("user-{}", (index * 9) % LONG_LIST_USERS)
            } else {
                format!("guest-{index}")
            }
        })
        .collect()
}

/// The flags the cycling percentage checks go round, spread over the 10,000.
fn cycling_flags() -> Vec<String> {
    (0..CYCLE)
        .map(|index| format!("feature-{}", (index * 7_919) % FEATURES))
        .collect()
}

/// A feature at 0 % allowing the users `user-0` .. `user-{count - 1}`.
fn listed_feature(name: &str, count: usize) -> ImportedFeature {
    let mut feature = Feature::new(FeatureName::new(name).expect("name"), DateTime::UNIX_EPOCH);
    feature.users = (0..count)
        .map(|index| UserId::new(format!("user-{index}")).expect("id"))
        .collect();
    ImportedFeature {
        name: feature.name.clone(),
        state: feature.state(),
    }
}

/// The client, and the core's compiled snapshot of the same data (the baseline: a check
/// without the client's snapshot load).
fn ramp_client(
    runtime: &tokio::runtime::Runtime,
    count_checks: bool,
    count_users: bool,
) -> (Client, ramp_core::CompiledSnapshot) {
    runtime.block_on(async {
        let store = ramp_rollout::open_store("memory://").await.expect("store");
        let mut features: Vec<ImportedFeature> = (0..FEATURES)
            .map(|index| {
                let mut feature = Feature::new(
                    FeatureName::new(format!("feature-{index}")).expect("name"),
                    DateTime::UNIX_EPOCH,
                );
                feature.percentage = Percentage::new(f64::from(PERCENTAGE)).expect("percentage");
                ImportedFeature {
                    name: feature.name.clone(),
                    state: feature.state(),
                }
            })
            .collect();
        features.push(listed_feature("listed", LISTED_USERS));
        features.push(listed_feature("listed-10k", LONG_LIST_USERS));
        store
            .import(&features, &[], &ramp_core::Attribution::new("bench"))
            .await
            .expect("import");
        let snapshot = store.snapshot().await.expect("snapshot");
        let compiled = ramp_core::CompiledSnapshot::compile(&snapshot);
        let client = Client::with_store(store)
            .count_checks(count_checks)
            .count_users(count_users)
            .connect()
            .await
            .expect("client");
        assert_eq!(
            client.feature_states(&Context::anonymous()).len(),
            FEATURES + 2
        );
        (client, compiled)
    })
}

fn yggdrasil_engine() -> EngineState {
    let strategy = |name: &str, parameters: &[(&str, String)]| Strategy {
        name: name.into(),
        sort_order: None,
        segments: None,
        constraints: None,
        parameters: Some(
            parameters
                .iter()
                .map(|(key, value)| ((*key).to_owned(), value.clone()))
                .collect(),
        ),
        variants: None,
    };
    let mut features: Vec<ClientFeature> = (0..FEATURES)
        .map(|index| {
            let name = format!("feature-{index}");
            let rollout = strategy(
                "flexibleRollout",
                &[
                    ("rollout", PERCENTAGE.to_string()),
                    ("stickiness", "userId".into()),
                    ("groupId", name.clone()),
                ],
            );
            ClientFeature {
                name,
                enabled: true,
                strategies: Some(vec![rollout]),
                ..ClientFeature::default()
            }
        })
        .collect();
    let ids: Vec<String> = (0..LISTED_USERS)
        .map(|index| format!("user-{index}"))
        .collect();
    features.push(ClientFeature {
        name: "listed".into(),
        enabled: true,
        strategies: Some(vec![strategy("userWithId", &[("userIds", ids.join(","))])]),
        ..ClientFeature::default()
    });
    let long_ids: Vec<String> = (0..LONG_LIST_USERS)
        .map(|index| format!("user-{index}"))
        .collect();
    features.push(ClientFeature {
        name: "listed-10k".into(),
        enabled: true,
        strategies: Some(vec![strategy(
            "userWithId",
            &[("userIds", long_ids.join(","))],
        )]),
        ..ClientFeature::default()
    });
    let engine = EngineState::default();
    let warnings = engine.apply_client_features(ClientFeatures {
        version: 2,
        features,
        segments: None,
        query: None,
        meta: None,
    });
    assert!(
        warnings.as_ref().is_none_or(|warnings| warnings.is_empty()),
        "{warnings:?}"
    );
    engine
}

fn unleash_context(user: &str) -> unleash_yggdrasil::Context {
    unleash_yggdrasil::Context {
        user_id: Some(user.into()),
        session_id: None,
        environment: None,
        app_name: None,
        current_time: None,
        remote_address: None,
        properties: None,
    }
}

/// Allocations made by 1,000 calls of `check`.
fn allocations(mut check: impl FnMut() -> bool) -> u64 {
    let mut active = 0;
    let info = allocation_counter::measure(|| {
        for _ in 0..1_000 {
            active += usize::from(check());
        }
    });
    black_box(active);
    info.count_total
}

fn compare(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (client, compiled) = ramp_client(&runtime, true, true);
    let (users_off, _) = ramp_client(&runtime, true, false);
    let (uncounted, _) = ramp_client(&runtime, false, false);
    let no_groups = ramp_core::CodeGroups::new();
    let engine = yggdrasil_engine();
    let (ramp_user, ramp_listed) = (Context::user("12345"), Context::user("user-500"));
    let (unleash_user, unleash_listed) = (unleash_context("12345"), unleash_context("user-500"));

    // The same answers, or the comparison means nothing. (The bucketing differs: the gem's
    // CRC-32 against Unleash's murmur3, so which users are in 20 % differs; both do one hash.)
    assert!(client.is_active("listed", &ramp_listed));
    assert!(engine.is_enabled("listed", &unleash_listed, &None));
    assert!(!client.is_active("listed", &ramp_user));
    assert!(!engine.is_enabled("listed", &unleash_user, &None));

    // The first check with a user of each feature and answer allocates its register block
    // (once per snapshot): warm up, so what is counted below is the steady state.
    client.is_active("feature-5000", &ramp_user);
    println!(
        "allocations per 1,000 checks: ramp percentage {}, ramp users {}, yggdrasil flexibleRollout {}, yggdrasil userWithId {}",
        allocations(|| client.is_active(black_box("feature-5000"), black_box(&ramp_user))),
        allocations(|| client.is_active(black_box("listed"), black_box(&ramp_listed))),
        allocations(|| engine.is_enabled(black_box("feature-5000"), black_box(&unleash_user), &None)),
        allocations(|| engine.is_enabled(black_box("listed"), black_box(&unleash_listed), &None)),
    );

    let mut group = criterion.benchmark_group("client");
    group.bench_function("ramp is_active percentage, 10k features", |bencher| {
        bencher.iter(|| client.is_active(black_box("feature-5000"), black_box(&ramp_user)))
    });
    group.bench_function(
        "ramp is_active percentage, 10k features, users off",
        |bencher| {
            bencher.iter(|| users_off.is_active(black_box("feature-5000"), black_box(&ramp_user)))
        },
    );
    group.bench_function(
        "ramp is_active percentage, 10k features, counting off",
        |bencher| {
            bencher.iter(|| uncounted.is_active(black_box("feature-5000"), black_box(&ramp_user)))
        },
    );
    group.bench_function("core check percentage (reason and position)", |bencher| {
        bencher
            .iter(|| compiled.check(black_box("feature-5000"), black_box(&ramp_user), &no_groups))
    });
    group.bench_function("core is_active percentage (baseline)", |bencher| {
        bencher.iter(|| {
            compiled.is_active(black_box("feature-5000"), black_box(&ramp_user), &no_groups)
        })
    });
    group.bench_function(
        "yggdrasil is_enabled flexibleRollout, 10k toggles",
        |bencher| {
            bencher.iter(|| {
                engine.is_enabled(black_box("feature-5000"), black_box(&unleash_user), &None)
            })
        },
    );
    group.bench_function("ramp is_active users list (1,000), hit", |bencher| {
        bencher.iter(|| client.is_active(black_box("listed"), black_box(&ramp_listed)))
    });
    group.bench_function("yggdrasil is_enabled userWithId (1,000), hit", |bencher| {
        bencher.iter(|| engine.is_enabled(black_box("listed"), black_box(&unleash_listed), &None))
    });
    let flags = cycling_flags();
    let numbered: Vec<String> = (0..CYCLE).map(|index| index.to_string()).collect();
    let (ramp_numbered, unleash_numbered): (Vec<Context>, Vec<_>) = numbered
        .iter()
        .map(|id| (Context::user(id.as_str()), unleash_context(id)))
        .unzip();
    let list_ids = cycling_list_ids();
    let (ramp_list_users, unleash_list_users): (Vec<Context>, Vec<_>) = list_ids
        .iter()
        .map(|id| (Context::user(id.as_str()), unleash_context(id)))
        .unzip();
    let hits = ramp_list_users
        .iter()
        .filter(|context| client.is_active("listed-10k", context))
        .count();
    assert_eq!(hits, CYCLE / 2, "half the cycling users are listed");
    let unleash_hits = unleash_list_users
        .iter()
        .filter(|context| engine.is_enabled("listed-10k", context, &None))
        .count();
    assert_eq!(unleash_hits, CYCLE / 2);
    let mut next = 0usize;
    group.bench_function(
        "ramp is_active percentage, cycling 1,024 users and flags",
        |bencher| {
            bencher.iter(|| {
                next = (next + 1) % CYCLE;
                client.is_active(black_box(&flags[next]), black_box(&ramp_numbered[next]))
            })
        },
    );
    group.bench_function(
        "yggdrasil is_enabled flexibleRollout, cycling 1,024 users and toggles",
        |bencher| {
            bencher.iter(|| {
                next = (next + 1) % CYCLE;
                engine.is_enabled(
                    black_box(&flags[next]),
                    black_box(&unleash_numbered[next]),
                    &None,
                )
            })
        },
    );
    group.bench_function(
        "ramp is_active users list (10,000), cycling 1,024 users, half listed",
        |bencher| {
            bencher.iter(|| {
                next = (next + 1) % CYCLE;
                client.is_active(black_box("listed-10k"), black_box(&ramp_list_users[next]))
            })
        },
    );
    group.bench_function(
        "yggdrasil is_enabled userWithId (10,000), cycling 1,024 users, half listed",
        |bencher| {
            bencher.iter(|| {
                next = (next + 1) % CYCLE;
                engine.is_enabled(
                    black_box("listed-10k"),
                    black_box(&unleash_list_users[next]),
                    &None,
                )
            })
        },
    );
    group.finish();
    runtime.block_on(client.close());
    runtime.block_on(uncounted.close());
    runtime.block_on(users_off.close());
}

criterion_group!(benches, compare);
criterion_main!(benches);
