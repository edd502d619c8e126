//! Table-driven tests of the evaluation rules: the gem's semantics plus exclusions.

use chrono::DateTime;

use crate::{
    CodeGroups, CompiledSnapshot, Context, Feature, FeatureName, GroupName, Percentage, Snapshot,
    StoredGroup, UserId,
};

pub(crate) fn feature(
    name: &str,
    percentage: f64,
    users: &[&str],
    excluded: &[&str],
    groups: &[&str],
) -> Feature {
    let mut feature = Feature::new(FeatureName::new(name).unwrap(), DateTime::UNIX_EPOCH);
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
    feature
}

pub(crate) fn compile(features: Vec<Feature>, randomize: bool) -> CompiledSnapshot {
    let staff = StoredGroup {
        name: GroupName::new("staff").unwrap(),
        description: "Employees".into(),
        members: vec![UserId::new("boss").unwrap()],
        rules: vec!["email ends_with @corp.com".parse().unwrap()],
    };
    CompiledSnapshot::compile(&Snapshot {
        version: 7,
        randomize_percentage: randomize,
        features,
        groups: vec![staff],
    })
}

pub(crate) fn code_groups() -> CodeGroups {
    let mut groups = CodeGroups::new();
    groups.define("admins", |context: &Context| {
        context.user_id() == Some("admin")
    });
    groups
}

#[test]
fn the_rule_matrix() {
    let snapshot = compile(
        vec![
            feature("everyone", 100.0, &[], &[], &[]),
            feature("everyone-but", 100.0, &[], &["8"], &[]),
            feature("listed", 0.0, &["7", "user-72"], &["user-72"], &[]),
            feature("twenty", 20.0, &[], &[], &[]),
            feature("grouped", 0.0, &[], &[], &["staff", "admins", "undefined"]),
            feature("all-group", 0.0, &[], &[], &["all"]),
            feature("off", 0.0, &[], &[], &[]),
        ],
        false,
    );
    let code_groups = code_groups();
    let cases: &[(&str, Context, bool, &str)] = &[
        ("everyone", Context::anonymous(), true, "everyone"),
        ("everyone", Context::user("1"), true, "everyone"),
        ("everyone-but", Context::user("8"), false, "excluded"),
        ("everyone-but", Context::anonymous(), true, "everyone"),
        ("listed", Context::user("7"), true, "user"),
        ("listed", Context::user("8"), false, "off"),
        ("listed", Context::user("user-72"), false, "excluded"),
        ("listed", Context::anonymous(), false, "off"),
        ("twenty", Context::user("2"), true, "percentage"),
        ("twenty", Context::user("1"), false, "outside_percentage"),
        ("twenty", Context::anonymous(), false, "off"),
        ("grouped", Context::user("boss"), true, "group"),
        (
            "grouped",
            Context::user("x").with_attribute("email", "x@corp.com"),
            true,
            "group",
        ),
        ("grouped", Context::user("admin"), true, "group"),
        ("grouped", Context::user("nobody"), false, "off"),
        ("all-group", Context::user("anyone"), true, "group"),
        ("all-group", Context::anonymous(), false, "off"),
        ("off", Context::user("1"), false, "off"),
        ("missing", Context::user("1"), false, "not_found"),
    ];
    for (name, context, active, reason) in cases {
        let decision = snapshot.evaluate(name, context, &code_groups);
        assert_eq!(
            (decision.active, decision.reason.as_str()),
            (*active, *reason),
            "{name} for {context:?}"
        );
    }
}

#[test]
fn group_reason_names_the_group() {
    let snapshot = compile(
        vec![feature("grouped", 0.0, &[], &[], &["staff", "admins"])],
        false,
    );
    let decision = snapshot.evaluate("grouped", &Context::user("admin"), &code_groups());
    assert_eq!(decision.reason.group(), Some("admins"));
}

#[test]
fn randomize_buckets_by_user_and_feature() {
    let snapshot = compile(
        vec![
            feature("chat", 20.0, &[], &[], &[]),
            feature("beta", 20.0, &[], &[], &[]),
        ],
        true,
    );
    let none = CodeGroups::new();
    assert!(snapshot.is_active("chat", &Context::user("1"), &none));
    assert!(!snapshot.is_active("beta", &Context::user("1"), &none));
    assert!(!snapshot.is_active("chat", &Context::user("5"), &none));
    assert!(snapshot.is_active("beta", &Context::user("5"), &none));
}

#[test]
fn evaluate_all_covers_every_feature_in_order() {
    let snapshot = compile(
        vec![
            feature("a", 100.0, &[], &[], &[]),
            feature("b", 0.0, &[], &[], &[]),
        ],
        false,
    );
    let none = CodeGroups::new();
    let context = Context::user("1");
    let states: Vec<(&str, bool)> = snapshot
        .evaluate_all(&context, &none)
        .map(|(name, decision)| (name, decision.active))
        .collect();
    assert_eq!(states, vec![("a", true), ("b", false)]);
    assert_eq!(snapshot.version(), 7);
}

#[test]
fn a_damaged_feature_is_off_for_everyone() {
    let mut damaged = feature("damaged", 100.0, &["1"], &[], &["all"]);
    damaged.damaged = Some("percentage field is not a number".into());
    let snapshot = compile(vec![damaged, feature("fine", 100.0, &[], &[], &[])], false);
    let none = CodeGroups::new();
    for context in [Context::anonymous(), Context::user("1"), Context::user("2")] {
        assert_eq!(
            snapshot
                .evaluate("damaged", &context, &none)
                .reason
                .as_str(),
            "off"
        );
        assert!(snapshot.is_active("fine", &context, &none));
    }
    assert!(snapshot.contains("damaged"));
}

#[test]
fn check_agrees_with_evaluate_and_names_the_position() {
    let snapshot = compile(
        vec![
            feature("a-everyone", 100.0, &[], &["8"], &[]),
            feature("b-listed", 0.0, &["7"], &[], &["admins", "staff"]),
            feature("c-percentage", 50.0, &[], &[], &[]),
            feature("d-off", 0.0, &[], &[], &[]),
        ],
        false,
    );
    let groups = code_groups();
    let contexts = [
        Context::anonymous(),
        Context::user("7"),
        Context::user("8"),
        Context::user("admin"),
        Context::user("boss"),
        Context::user("1"),
        Context::user("2"),
    ];
    for context in &contexts {
        for name in ["a-everyone", "b-listed", "c-percentage", "d-off", "missing"] {
            let check = snapshot.check(name, context, &groups);
            let decision = snapshot.evaluate(name, context, &groups);
            assert_eq!(check.reason(), decision.reason.kind(), "{name} {context:?}");
            assert_eq!(check.is_active(), decision.active);
            let named = check
                .position()
                .and_then(|position| snapshot.feature_name(position));
            assert_eq!(named, (name != "missing").then_some(name));
        }
    }
}
