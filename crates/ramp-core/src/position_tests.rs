//! Tests of checks by position (`CompiledSnapshot::position`, `check_at`, `layout`), which a
//! client's feature handle relies on, and of `check_hashed`, which shares the user id's hash
//! between the lists and the counting: both must answer exactly as a check by name does.

use proptest::prelude::*;

use crate::evaluation_tests::{code_groups, compile, feature};
use crate::{user_hash, Context, Feature, FeatureName, Percentage};

const NAMES: [&str; 5] = ["a-everyone", "b-listed", "c-percentage", "d-off", "e-texts"];

fn features() -> Vec<Feature> {
    vec![
        feature("a-everyone", 100.0, &[], &["8"], &[]),
        feature("b-listed", 0.0, &["7"], &[], &["admins", "staff"]),
        feature("c-percentage", 50.0, &[], &[], &[]),
        feature("d-off", 0.0, &[], &[], &[]),
        feature("e-texts", 30.0, &["ana", "9"], &["bo", "10"], &[]),
    ]
}

fn contexts() -> Vec<Context> {
    [
        "7", "8", "9", "10", "ana", "bo", "admin", "boss", "1", "2", "zoe",
    ]
    .into_iter()
    .map(Context::user)
    .chain([Context::anonymous()])
    .collect()
}

#[test]
fn a_check_at_a_position_answers_as_the_check_by_name() {
    let snapshot = compile(features(), false);
    let groups = code_groups();
    for name in NAMES {
        let position = snapshot.position(name).expect(name);
        assert_eq!(snapshot.feature_name(position), Some(name));
        for context in &contexts() {
            let by_name = snapshot.check(name, context, &groups);
            assert_eq!(snapshot.check_at(position, context, &groups, None), by_name);
            let hash = context.user_id().map(user_hash);
            assert_eq!(snapshot.check_at(position, context, &groups, hash), by_name);
            if let Some(hash) = hash {
                let hashed = snapshot.check_hashed(name, context, &groups, hash);
                assert_eq!(hashed, by_name, "{name} {context:?}");
            }
            let decision = snapshot.evaluate_at(position, context, &groups);
            assert_eq!(decision, snapshot.evaluate(name, context, &groups));
        }
    }
    assert_eq!(snapshot.position("missing"), None);
    let past_the_end = snapshot.len();
    let user = Context::user("7");
    assert_eq!(
        snapshot.check_at(past_the_end, &user, &groups, None),
        crate::Check::NOT_FOUND
    );
    assert!(!snapshot.evaluate_at(past_the_end, &user, &groups).active);
}

#[test]
fn the_layout_changes_exactly_when_positions_may_move() {
    let snapshot = compile(features(), false);
    assert_ne!(snapshot.layout(), 0);
    assert_ne!(compile(features(), false).layout(), snapshot.layout());

    let mut faster = feature("c-percentage", 80.0, &[], &[], &[]);
    faster.percentage = Percentage::new(80.0).unwrap();
    let changed = snapshot.patched(8, [&faster], []);
    assert_eq!(changed.layout(), snapshot.layout(), "a change in place");
    assert_eq!(
        changed.position("c-percentage"),
        snapshot.position("c-percentage")
    );

    let added = feature("b-new", 10.0, &[], &[], &[]);
    let grown = snapshot.patched(9, [&added], []);
    assert_ne!(grown.layout(), snapshot.layout(), "a feature came");
    assert_ne!(
        grown.position("c-percentage"),
        snapshot.position("c-percentage")
    );

    let gone = FeatureName::new("a-everyone").unwrap();
    let shrunk = snapshot.patched(10, [], [&gone]);
    assert_ne!(shrunk.layout(), snapshot.layout(), "a feature went");
    assert_eq!(crate::CompiledSnapshot::default().layout(), 0);
}

proptest! {
    /// Listed and excluded ids, numeric and text, hit and miss: the hash handed in changes
    /// nothing but who computes it.
    #[test]
    fn check_hashed_agrees_with_check(
        listed in proptest::collection::vec("[a-c0-9]{1,3}", 0..20),
        excluded in proptest::collection::vec("[a-c0-9]{1,3}", 0..5),
        probes in proptest::collection::vec("[a-c0-9]{1,3}", 1..20),
        percentage in 0.0f64..=100.0,
    ) {
        let listed: Vec<&str> = listed.iter().map(String::as_str).collect();
        let excluded: Vec<&str> = excluded.iter().map(String::as_str).collect();
        let snapshot = compile(vec![feature("f", percentage, &listed, &excluded, &[])], false);
        let groups = code_groups();
        for id in &probes {
            let context = Context::user(id.as_str());
            let by_name = snapshot.check("f", &context, &groups);
            prop_assert_eq!(snapshot.check_hashed("f", &context, &groups, user_hash(id)), by_name);
            prop_assert_eq!(snapshot.check_at(0, &context, &groups, Some(user_hash(id))), by_name);
        }
    }
}
