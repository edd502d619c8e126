//! `Client::is_active` allocates nothing: the snapshot is read through an `ArcSwap` guard and
//! evaluated by the core's compiled snapshot. `allocation_counter` replaces the global
//! allocator in this test binary only and counts every allocation made inside `measure`.
//!
//! One exception, by design: counting distinct users allocates a 1 KiB register block at the
//! first check with a user of each feature and answer (once per snapshot). So the checks run
//! once to warm up, which must allocate exactly one block per such (feature, answer), and then
//! allocate nothing; a client that does not count users allocates nothing even the first time.

use chrono::DateTime;
use ramp_client::Client;
use ramp_core::{Context, Feature, FeatureName, GroupName, Percentage};
use ramp_store::ImportedFeature;

#[tokio::test]
async fn is_active_allocates_nothing() {
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let mut features = Vec::new();
    for index in 0..1_000 {
        let mut feature = Feature::new(
            FeatureName::new(format!("feature-{index}")).unwrap(),
            DateTime::UNIX_EPOCH,
        );
        feature.percentage = Percentage::new(20.0).unwrap();
        features.push(ImportedFeature {
            name: feature.name.clone(),
            state: feature.state(),
        });
    }
    let mut listed = Feature::new(FeatureName::new("listed").unwrap(), DateTime::UNIX_EPOCH);
    listed.users = vec![ramp_core::UserId::new("user-72").unwrap()];
    listed.groups = vec![GroupName::new("admins").unwrap()];
    features.push(ImportedFeature {
        name: listed.name.clone(),
        state: listed.state(),
    });
    let attribution = ramp_core::Attribution::new("test");
    store.import(&features, &[], &attribution).await.unwrap();
    let client = Client::with_store(store.clone()).connect().await.unwrap();
    let no_users = Client::with_store(store)
        .count_users(false)
        .connect()
        .await
        .unwrap();
    for client in [&client, &no_users] {
        client.define_group("admins", |context: &Context| {
            context.user_id() == Some("root")
        });
    }
    let contexts = [
        Context::anonymous(),
        Context::user("12345"),
        Context::user("user-72"),
        Context::user("root"),
    ];
    let features = ["feature-7", "feature-8", "feature-11", "listed", "missing"];
    // The first check on a thread caches the snapshot there (a reference count, no allocation).
    assert!(client.contains("feature-7") && no_users.contains("feature-7"));
    let mut active = 0;
    // Room made beforehand: pushing must not allocate inside `measure`.
    let mut blocks = Vec::with_capacity(contexts.len() * features.len());
    let first = allocation_counter::measure(|| {
        for context in &contexts {
            for feature in features {
                let answer = client.is_active(feature, context);
                if context.user_id.is_some() && feature != "missing" {
                    blocks.push((feature, answer));
                }
            }
        }
    });
    blocks.sort();
    blocks.dedup();
    assert_eq!(
        first.count_total,
        blocks.len() as u64,
        "the first checks allocated {} times, for {} user blocks",
        first.count_total,
        blocks.len()
    );
    for (label, client) in [("warmed up", &client), ("not counting users", &no_users)] {
        let info = allocation_counter::measure(|| {
            for context in &contexts {
                for feature in features {
                    active += usize::from(client.is_active(feature, context));
                }
            }
        });
        assert_eq!(
            info.count_total, 0,
            "is_active ({label}) allocated {} times",
            info.count_total
        );
    }
    assert!(active > 0);
    // The checks really took the paths they are meant to cover.
    let mut reasons = std::collections::BTreeSet::new();
    for context in &contexts {
        for feature in features {
            reasons.insert(client.explain(feature, context).reason.as_str());
        }
    }
    for reason in [
        "off",
        "percentage",
        "outside_percentage",
        "user",
        "group",
        "not_found",
    ] {
        assert!(
            reasons.contains(reason),
            "no check decided by {reason}: {reasons:?}"
        );
    }
    client.close().await;
    no_users.close().await;
}
