//! A patched compiled snapshot answers exactly as one compiled from scratch, and a snapshot
//! diff patched onto the older snapshot gives the newer one: property tests over random
//! snapshots and changes, drawn from small pools of names so that changes often hit existing
//! features, users and groups.

use std::collections::BTreeMap;

use chrono::DateTime;
use proptest::prelude::*;
use ramp_core::{
    CodeGroups, CompiledSnapshot, Context, Feature, FeatureName, GroupName, Percentage, Snapshot,
    SnapshotDiff, StoredGroup, UserId,
};

const NAMES: &[&str] = &["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
const USERS: &[&str] = &["1", "2", "3", "42", "user-a", "user-b"];
const GROUPS: &[&str] = &["all", "staff", "beta", "admins", "nowhere"];

fn name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(NAMES)
}

fn subset(pool: &'static [&'static str]) -> impl Strategy<Value = Vec<&'static str>> {
    prop::sample::subsequence(pool, 0..=pool.len().min(3))
}

/// A feature's state: percentage, users, excluded users, groups, damaged, version.
fn feature(name: &'static str) -> impl Strategy<Value = Feature> {
    (
        prop_oneof![Just(0.0), Just(100.0), Just(20.0), (0.0f64..=100.0)],
        subset(USERS),
        subset(USERS),
        subset(GROUPS),
        prop::bool::weighted(0.1),
        0u64..4,
    )
        .prop_map(
            move |(percentage, users, excluded, groups, damaged, version)| {
                let mut feature =
                    Feature::new(FeatureName::new(name).unwrap(), DateTime::UNIX_EPOCH);
                feature.percentage = Percentage::new(percentage).unwrap();
                feature.users = users.iter().map(|id| UserId::new(*id).unwrap()).collect();
                feature.excluded_users = excluded
                    .iter()
                    .map(|id| UserId::new(*id).unwrap())
                    .collect();
                feature.groups = groups
                    .iter()
                    .map(|group| GroupName::new(*group).unwrap())
                    .collect();
                feature.damaged = damaged.then(|| "unreadable".to_owned());
                feature.version = version;
                feature
            },
        )
}

fn features(count: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Feature>> {
    prop::collection::vec(name().prop_flat_map(feature), count)
}

/// Stored groups: `staff` (a member and a rule) and, sometimes, `beta`.
fn stored_groups() -> impl Strategy<Value = Vec<StoredGroup>> {
    (prop::bool::ANY, prop::bool::ANY).prop_map(|(staff, beta)| {
        let mut groups = Vec::new();
        if beta {
            groups.push(StoredGroup {
                name: GroupName::new("beta").unwrap(),
                description: String::new(),
                members: vec![UserId::new("3").unwrap()],
                rules: Vec::new(),
            });
        }
        if staff {
            groups.push(StoredGroup {
                name: GroupName::new("staff").unwrap(),
                description: String::new(),
                members: vec![UserId::new("1").unwrap()],
                rules: vec!["email ends_with @corp.com".parse().unwrap()],
            });
        }
        groups
    })
}

fn snapshot() -> impl Strategy<Value = Snapshot> {
    (0u64..100, prop::bool::ANY, features(0..8), stored_groups()).prop_map(
        |(version, randomize_percentage, features, groups)| {
            // Sorted and unique by name, as stores return them.
            let by_name: BTreeMap<FeatureName, Feature> = features
                .into_iter()
                .map(|feature| (feature.name.clone(), feature))
                .collect();
            Snapshot {
                version,
                randomize_percentage,
                features: by_name.into_values().collect(),
                groups,
            }
        },
    )
}

fn contexts() -> Vec<Context> {
    let mut contexts = vec![
        Context::anonymous(),
        Context::user("someone-else"),
        Context::user("7").with_attribute("email", "seven@corp.com"),
    ];
    contexts.extend(USERS.iter().map(|user| Context::user(*user)));
    contexts
}

fn code_groups() -> CodeGroups {
    let mut groups = CodeGroups::new();
    groups.define("admins", |context: &Context| context.user_id() == Some("2"));
    groups
}

/// Fails unless the two answer every check alike (and list the same features).
fn assert_same_answers(patched: &CompiledSnapshot, compiled: &CompiledSnapshot) {
    assert_eq!(patched.version(), compiled.version());
    assert_eq!(patched.len(), compiled.len());
    assert!(patched.feature_names().eq(compiled.feature_names()));
    let code_groups = code_groups();
    for context in contexts() {
        for name in NAMES.iter().chain(&["unknown"]) {
            assert_eq!(
                patched.evaluate(name, &context, &code_groups),
                compiled.evaluate(name, &context, &code_groups),
                "{name} for {context:?}"
            );
            assert_eq!(
                patched.is_active(name, &context, &code_groups),
                compiled.is_active(name, &context, &code_groups)
            );
        }
        assert!(patched
            .evaluate_all(&context, &code_groups)
            .eq(compiled.evaluate_all(&context, &code_groups)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_patch_compiles_to_the_same_answers_as_compiling_the_patched_snapshot(
        old in snapshot(),
        changed in features(0..5),
        deleted in prop::collection::vec(name(), 0..4),
    ) {
        let deleted: Vec<FeatureName> =
            deleted.into_iter().map(|name| FeatureName::new(name).unwrap()).collect();
        let version = old.version + 1;
        let patched_data = old.patched(version, changed.clone(), &deleted);
        let patched = CompiledSnapshot::compile(&old).patched(version, &changed, &deleted);
        assert_same_answers(&patched, &CompiledSnapshot::compile(&patched_data));
        // Patching in place gives the same data.
        let mut in_place = old.clone();
        in_place.patch(version, changed, &deleted);
        prop_assert_eq!(in_place, patched_data);
    }

    #[test]
    fn a_diff_patched_onto_the_old_snapshot_gives_the_new_one(
        old in snapshot(),
        new in snapshot(),
    ) {
        let diff = SnapshotDiff::between(&old, &new);
        let updated = CompiledSnapshot::compile(&old).updated(&diff, &new);
        assert_same_answers(&updated, &CompiledSnapshot::compile(&new));
        let patched = old.patched(new.version, diff.changed.iter().copied().cloned(), diff.deleted.iter().copied());
        if diff.groups_changed {
            prop_assert!(old.groups != new.groups || old.randomize_percentage != new.randomize_percentage);
        } else {
            prop_assert_eq!(&patched, &new);
        }
        // Features of the two snapshots: every name the diff names differs, every other is equal.
        let names = diff.feature_names();
        for name in NAMES {
            let before = old.features.iter().find(|feature| feature.name.as_str() == *name);
            let after = new.features.iter().find(|feature| feature.name.as_str() == *name);
            prop_assert_eq!(names.iter().any(|named| named.as_str() == *name), before != after);
        }
    }
}
