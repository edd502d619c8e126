//! Allow-list checks at the scale issue 17 asks about: lists of 10,000 and 1,000,000 ids,
//! numeric ids (`"12345"`) and text ids (`"user-12345"`), hits and misses, with the user
//! changing on every check (the next of 1,024, spread over the list, so no answer stays hot).
//!
//! Each case is checked two ways, by name (`Client::is_active`) and through a handle
//! (`Client::feature`, which skips the name lookup), and by two clients: one counting checks
//! and distinct users (the default), one with counting off. The snapshot also holds 10,000
//! percentage features, so the name lookup is the one of a real-sized snapshot.
//!
//! `cargo bench -p ramp-client --bench lists`

// `criterion_group!` generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;

use chrono::DateTime;
use criterion::{criterion_group, criterion_main, Criterion};
use ramp_client::Client;
use ramp_core::{Attribution, Context, Feature, FeatureName, Percentage, UserId};
use ramp_store::ImportedFeature;

/// How many users each benchmark goes round.
const CYCLE: usize = 1_024;
const SIZES: [(&str, usize); 2] = [("10k", 10_000), ("1m", 1_000_000)];

/// The `index`-th listed id: numbers are spread (every seventh), so the next one is a miss.
fn listed_id(numeric: bool, index: usize) -> String {
    if numeric {
        (index * 7).to_string()
    } else {
        format!("user-{index}")
    }
}

/// An id of the same shape that is not listed.
fn unlisted_id(numeric: bool, index: usize) -> String {
    if numeric {
        (index * 7 + 1).to_string()
    } else {
        format!("user-{}", index + 10_000_000)
    }
}

fn list_name(numeric: bool, size: &str) -> String {
    format!("{}-{size}", if numeric { "numbers" } else { "texts" })
}

fn imported(feature: Feature) -> ImportedFeature {
    ImportedFeature {
        name: feature.name.clone(),
        state: feature.state(),
    }
}

fn client(runtime: &tokio::runtime::Runtime, counting: bool) -> Client {
    runtime.block_on(async {
        let store = ramp_rollout::open_store("memory://").await.expect("store");
        let mut features: Vec<ImportedFeature> = (0..10_000)
            .map(|index| {
                let name = FeatureName::new(format!("feature-{index}")).expect("name");
                let mut feature = Feature::new(name, DateTime::UNIX_EPOCH);
                feature.percentage = Percentage::new(20.0).expect("percentage");
                imported(feature)
            })
            .collect();
        for numeric in [true, false] {
            for (size_name, size) in SIZES {
                let name = FeatureName::new(list_name(numeric, size_name)).expect("name");
                let mut feature = Feature::new(name, DateTime::UNIX_EPOCH);
                feature.users = (0..size)
                    .map(|index| UserId::new(listed_id(numeric, index)).expect("id"))
                    .collect();
                features.push(imported(feature));
            }
        }
        store
            .import(&features, &[], &Attribution::new("bench"))
            .await
            .expect("import");
        Client::with_store(store)
            .count_checks(counting)
            .connect()
            .await
            .expect("client")
    })
}

/// The users a benchmark goes round: spread over the whole list.
fn contexts(numeric: bool, size: usize, hit: bool) -> Vec<Context> {
    (0..CYCLE)
        .map(|index| {
            let spread = (index * 7_919) % size;
            Context::user(if hit {
                listed_id(numeric, spread)
            } else {
                unlisted_id(numeric, spread)
            })
        })
        .collect()
}

fn lists(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let clients = [
        ("counted", client(&runtime, true)),
        ("uncounted", client(&runtime, false)),
    ];
    let mut group = criterion.benchmark_group("lists");
    for numeric in [true, false] {
        for (size_name, size) in SIZES {
            let name = list_name(numeric, size_name);
            for hit in [true, false] {
                let contexts = contexts(numeric, size, hit);
                for (counting, client) in &clients {
                    let handle = client.feature(&name);
                    let answers = contexts
                        .iter()
                        .filter(|context| client.is_active(&name, context))
                        .count();
                    assert_eq!(answers, if hit { CYCLE } else { 0 }, "{name}");
                    let outcome = if hit { "hit" } else { "miss" };
                    let mut position = 0;
                    group.bench_function(format!("{name} {outcome} by name, {counting}"), |b| {
                        b.iter(|| {
                            position = (position + 1) & (CYCLE - 1);
                            client.is_active(black_box(&name), black_box(&contexts[position]))
                        })
                    });
                    group.bench_function(format!("{name} {outcome} handle, {counting}"), |b| {
                        b.iter(|| {
                            position = (position + 1) & (CYCLE - 1);
                            black_box(&handle).is_active(black_box(&contexts[position]))
                        })
                    });
                }
            }
        }
    }
    group.finish();
    for (_, client) in clients {
        runtime.block_on(client.close());
    }
}

criterion_group!(benches, lists);
criterion_main!(benches);
