//! Criterion benchmarks of ramp-core's hot paths, and the targets (medians) they are held to.
//!
//! - `evaluate_10k_features/is_active_percentage`: `is_active` of one feature at 20 % (no users,
//!   no groups) among 10,000, looked up by name, for user "12345". Target ≤ 20 ns.
//! - `evaluate_10k_features/evaluate_percentage`: the same through `evaluate`, which returns the
//!   `Decision`. Target ≤ 20 ns.
//! - `evaluate_10k_features/is_active_unknown`: a name that is not in the snapshot (reference).
//! - `users_1m/{numeric,string,uuid}_{hit,miss}`: `is_active` of a feature listing 1,000,000
//!   users, for a listed and an unlisted id. Target ≤ 50 ns.
//! - `users_1m/numeric_{hit,miss}_varied`: the same, cycling through 4,096 different ids, so the
//!   lookup mostly misses the CPU caches (reference).
//! - `compile/10k_features`: `CompiledSnapshot::compile` of 10,000 features. Target ≤ 20 ms.
//! - `change_10k/compiled_{replace,insert,delete}`: `CompiledSnapshot::patched` with one feature
//!   of the 10,000 changed, added or deleted (what a `changed` event costs the server and the
//!   client instead of a whole compile); `change_10k/data_replace`: `Snapshot::patched`, the
//!   data side of the same change.
//!
//! The users-list features are at 0 %, so a hit answers `user` and a miss answers `off` without
//! computing a checksum: the figure is the name lookup plus the `UserSet` lookup.
//!
//! Memory per listed id (targets: ≤ 16 bytes per numeric id, ≤ 48 per string id) is printed by
//! `cargo run --release -p ramp-core --example user_set_memory`, and also once here, to stderr,
//! when the users-list snapshots are built.
//!
//! Run with `cargo bench -p ramp-core --bench evaluate`.
// `criterion_group!` generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use chrono::DateTime;
use criterion::{criterion_group, criterion_main, Criterion};
use ramp_core::{
    CodeGroups, CompiledSnapshot, Context, Feature, FeatureName, Percentage, Snapshot, UserId,
    UserSet,
};

/// Features in the large snapshot.
const FEATURE_COUNT: usize = 10_000;
/// Users listed on the users-list feature.
const USER_COUNT: u64 = 1_000_000;
/// Different user ids the "varied" benchmarks cycle through (a power of two).
const VARIED_PROBE_COUNT: usize = 4_096;

/// A feature at `percentage` %, listing `users`, with no exclusions and no groups.
fn feature(name: &str, percentage: f64, users: Vec<UserId>) -> Feature {
    let mut feature = Feature::new(
        FeatureName::new(name).expect("valid feature name"),
        DateTime::UNIX_EPOCH,
    );
    feature.percentage = Percentage::new(percentage).expect("valid percentage");
    feature.users = users;
    feature
}

/// A snapshot of `feature-0` .. `feature-{count - 1}`, each at 20 % with empty users and groups.
fn percentage_snapshot(count: usize) -> Snapshot {
    Snapshot {
        version: 1,
        features: (0..count)
            .map(|number| feature(&format!("feature-{number}"), 20.0, Vec::new()))
            .collect(),
        ..Snapshot::default()
    }
}

/// A snapshot with one feature, `listed`, at 0 % listing every id in `ids`.
fn users_snapshot(ids: &[String]) -> Snapshot {
    let users = ids
        .iter()
        .map(|id| UserId::new(id.as_str()).expect("valid user id"))
        .collect();
    Snapshot {
        version: 1,
        features: vec![feature("listed", 0.0, users)],
        ..Snapshot::default()
    }
}

/// Numeric ids "0" .. "999999".
fn numeric_id(number: u64) -> String {
    number.to_string()
}

/// Prefixed, zero-padded string ids such as "user-0000123456" (15 bytes).
fn prefixed_id(number: u64) -> String {
    format!("user-{number:010}")
}

/// A uuid-like id (8-4-4-4-12 lowercase hex digits, 36 bytes) derived from `number`.
fn uuid_like_id(number: u64) -> String {
    // Two rounds of a multiplicative mix give 128 scrambled bits.
    let high = number.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let low = (high ^ (high >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0xffff,
        low >> 48,
        low & 0xffff_ffff_ffff
    )
}

/// Prints a `UserSet`'s heap bytes per id, the same figure the `user_set_memory` example prints.
fn print_memory_per_id(label: &str, ids: &[String]) {
    let set = UserSet::new(ids.iter().map(String::as_str));
    let bytes_per_id = set.memory_bytes() as f64 / ids.len() as f64;
    eprintln!(
        "memory: {label}: {bytes_per_id:.2} bytes per id ({} bytes for {} ids)",
        set.memory_bytes(),
        ids.len()
    );
}

/// A deterministic spread of numbers below `bound` (a 64-bit linear congruential generator).
fn spread_numbers(count: usize, bound: u64) -> impl Iterator<Item = u64> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    (0..count).map(move |_| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % bound
    })
}

fn evaluate_10k_features(criterion: &mut Criterion) {
    let snapshot = CompiledSnapshot::compile(&percentage_snapshot(FEATURE_COUNT));
    let context = Context::user("12345");
    let code_groups = CodeGroups::new();
    let decision = snapshot.evaluate("feature-5000", &context, &code_groups);
    eprintln!(
        "feature-5000 for user 12345: active {}, reason {}",
        decision.active, decision.reason
    );

    let mut group = criterion.benchmark_group("evaluate_10k_features");
    group.bench_function("is_active_percentage", |bencher| {
        bencher.iter(|| {
            snapshot.is_active(
                black_box("feature-5000"),
                black_box(&context),
                black_box(&code_groups),
            )
        })
    });
    group.bench_function("evaluate_percentage", |bencher| {
        bencher.iter(|| {
            snapshot.evaluate(
                black_box("feature-5000"),
                black_box(&context),
                black_box(&code_groups),
            )
        })
    });
    group.bench_function("is_active_unknown", |bencher| {
        bencher.iter(|| {
            snapshot.is_active(
                black_box("no-such-feature"),
                black_box(&context),
                black_box(&code_groups),
            )
        })
    });
    group.finish();
}

/// Benchmarks a hit and a miss on a feature listing `USER_COUNT` ids made by `make_id`.
fn bench_users_list(
    criterion: &mut Criterion,
    kind: &str,
    make_id: fn(u64) -> String,
    varied: bool,
) {
    let ids: Vec<String> = (0..USER_COUNT).map(make_id).collect();
    print_memory_per_id(kind, &ids);
    let snapshot = CompiledSnapshot::compile(&users_snapshot(&ids));
    drop(ids);
    let code_groups = CodeGroups::new();
    let hit = Context::user(make_id(123_456));
    let miss = Context::user(make_id(USER_COUNT + 234_567));
    assert!(snapshot.is_active("listed", &hit, &code_groups));
    assert!(!snapshot.is_active("listed", &miss, &code_groups));

    let mut group = criterion.benchmark_group("users_1m");
    for (outcome, context) in [("hit", &hit), ("miss", &miss)] {
        group.bench_function(format!("{kind}_{outcome}"), |bencher| {
            bencher.iter(|| {
                snapshot.is_active(
                    black_box("listed"),
                    black_box(context),
                    black_box(&code_groups),
                )
            })
        });
    }
    if varied {
        // Different ids each time, so the lookup reads cache lines that were not just read.
        let hits: Vec<Context> = spread_numbers(VARIED_PROBE_COUNT, USER_COUNT)
            .map(|number| Context::user(make_id(number)))
            .collect();
        let misses: Vec<Context> = spread_numbers(VARIED_PROBE_COUNT, USER_COUNT)
            .map(|number| Context::user(make_id(USER_COUNT + number)))
            .collect();
        for (outcome, contexts) in [("hit", &hits), ("miss", &misses)] {
            group.bench_function(format!("{kind}_{outcome}_varied"), |bencher| {
                let mut position = 0;
                bencher.iter(|| {
                    position = (position + 1) & (VARIED_PROBE_COUNT - 1);
                    snapshot.is_active(
                        black_box("listed"),
                        black_box(&contexts[position]),
                        black_box(&code_groups),
                    )
                })
            });
        }
    }
    group.finish();
}

fn users_1m(criterion: &mut Criterion) {
    bench_users_list(criterion, "numeric", numeric_id, true);
    bench_users_list(criterion, "string", prefixed_id, false);
    bench_users_list(criterion, "uuid", uuid_like_id, false);
}

fn compile(criterion: &mut Criterion) {
    let snapshot = percentage_snapshot(FEATURE_COUNT);
    let mut group = criterion.benchmark_group("compile");
    group.sample_size(20);
    group.bench_function("10k_features", |bencher| {
        // The compiled snapshot is dropped outside the timed region.
        bencher.iter_with_large_drop(|| CompiledSnapshot::compile(black_box(&snapshot)))
    });
    group.finish();
}

/// One feature's change at 10,000 features, as the server and the client apply a `changed`
/// event: the compiled snapshot patched, and the data patched.
fn change_10k(criterion: &mut Criterion) {
    let snapshot = percentage_snapshot(FEATURE_COUNT);
    let compiled = CompiledSnapshot::compile(&snapshot);
    let changed = feature("feature-5000", 30.0, Vec::new());
    let added = feature("feature-5000a", 30.0, Vec::new());
    let deleted = FeatureName::new("feature-5000").expect("valid feature name");
    let mut group = criterion.benchmark_group("change_10k");
    group.sample_size(50);
    group.bench_function("compiled_replace", |bencher| {
        bencher.iter_with_large_drop(|| compiled.patched(2, [black_box(&changed)], []))
    });
    group.bench_function("compiled_insert", |bencher| {
        bencher.iter_with_large_drop(|| compiled.patched(2, [black_box(&added)], []))
    });
    group.bench_function("compiled_delete", |bencher| {
        bencher.iter_with_large_drop(|| compiled.patched(2, [], [black_box(&deleted)]))
    });
    group.bench_function("data_replace", |bencher| {
        bencher.iter_with_large_drop(|| snapshot.patched(2, [black_box(changed.clone())], []))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Two cores: short runs keep the whole bench to a couple of minutes.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = evaluate_10k_features, users_1m, compile, change_10k
}
criterion_main!(benches);
