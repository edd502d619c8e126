//! A compiled snapshot evaluates without allocating, whatever rule decides: this is what keeps a
//! check in nanoseconds. `allocation_counter` replaces the global allocator in this test binary
//! only and counts every allocation made inside `measure`.

use chrono::DateTime;
use ramp_core::{
    CodeGroups, CompiledSnapshot, Context, Feature, FeatureName, GroupName, Percentage, Snapshot,
    StoredGroup, UserId,
};

fn snapshot() -> CompiledSnapshot {
    let mut features = Vec::new();
    for index in 0..1_000 {
        let mut feature = Feature::new(
            FeatureName::new(format!("feature-{index}")).unwrap(),
            DateTime::UNIX_EPOCH,
        );
        feature.percentage = Percentage::new(20.0).unwrap();
        features.push(feature);
    }
    let mut listed = Feature::new(FeatureName::new("listed").unwrap(), DateTime::UNIX_EPOCH);
    listed.users = (0..10_000)
        .map(|id| UserId::new(id.to_string()).unwrap())
        .chain([UserId::new("user-72").unwrap()])
        .collect();
    listed.excluded_users = vec![UserId::new("banned").unwrap()];
    listed.groups = ["staff", "admins", "all"]
        .into_iter()
        .map(|group| GroupName::new(group).unwrap())
        .collect();
    features.push(listed);
    let staff = StoredGroup {
        name: GroupName::new("staff").unwrap(),
        description: String::new(),
        members: vec![],
        rules: vec![
            "plan in [pro, team]".parse().unwrap(),
            "age >= 18".parse().unwrap(),
            "email ends_with @corp.com".parse().unwrap(),
        ],
    };
    CompiledSnapshot::compile(&Snapshot {
        version: 1,
        randomize_percentage: true,
        features,
        groups: vec![staff],
    })
}

#[test]
fn evaluation_allocates_nothing() {
    let snapshot = snapshot();
    let mut code_groups = CodeGroups::new();
    code_groups.define("admins", |context: &Context| {
        context.user_id() == Some("root")
    });
    let contexts = [
        Context::anonymous(),
        Context::user("12345"),
        Context::user("9999"),
        Context::user("user-72"),
        Context::user("banned"),
        Context::user("root"),
        Context::user("x")
            .with_attribute("plan", "pro")
            .with_attribute("age", 30)
            .with_attribute("email", "x@corp.com"),
    ];
    let mut reasons = Vec::with_capacity(64);
    let info = allocation_counter::measure(|| {
        for context in &contexts {
            for feature in ["feature-7", "listed", "missing"] {
                let decision = snapshot.evaluate(feature, context, &code_groups);
                reasons.push(decision.reason.as_str());
            }
        }
    });
    assert_eq!(
        info.count_total, 0,
        "evaluation allocated {} times",
        info.count_total
    );
    // The checks really took the paths they are meant to cover.
    for reason in [
        "off",
        "percentage",
        "user",
        "excluded",
        "group",
        "not_found",
    ] {
        assert!(
            reasons.contains(&reason),
            "no check decided by {reason}: {reasons:?}"
        );
    }
}
