//! The `outside_percentage` reason on every combination of rules: it is given only to a user
//! with an id whom nothing let in while the feature reaches a share of users (above 0 %, below
//! 100 %); a feature that reaches nobody by percentage stays `off`, even when it lists users or
//! groups the user is not in.

use chrono::DateTime;

use crate::{
    CodeGroups, CompiledSnapshot, Context, Feature, FeatureName, GroupName, Percentage, Reason,
    ReasonKind, Snapshot, UserId,
};

/// User "1" is outside 20 % (and inside 30 %) with the gem's bucketing, as
/// `evaluation_tests::the_rule_matrix` pins.
const OUTSIDE_TWENTY: &str = "1";

fn feature(percentage: f64, listed: bool, excluded: bool, grouped: bool) -> Feature {
    let name = format!("f-{percentage}-{listed}-{excluded}-{grouped}");
    let mut feature = Feature::new(FeatureName::new(name).unwrap(), DateTime::UNIX_EPOCH);
    feature.percentage = Percentage::new(percentage).unwrap();
    // The lists and the group never hold the user checked unless the case says so, so the
    // rules stay compiled (`decide_with_rules`) in every case that has them.
    feature.users = vec![UserId::new("someone-else").unwrap()];
    if listed {
        feature.users.push(UserId::new(OUTSIDE_TWENTY).unwrap());
    }
    if excluded {
        feature.excluded_users = vec![UserId::new(OUTSIDE_TWENTY).unwrap()];
    }
    if grouped {
        feature.groups = vec![GroupName::new("members").unwrap()];
    }
    feature
}

/// The expected reason, written from the rules' order rather than from the code.
fn expected(
    percentage: f64,
    listed: bool,
    excluded: bool,
    grouped: bool,
    user: bool,
) -> &'static str {
    if !user {
        return if percentage == 100.0 {
            "everyone"
        } else {
            "off"
        };
    }
    if excluded {
        "excluded"
    } else if percentage == 100.0 {
        "everyone"
    } else if listed {
        "user"
    } else if grouped {
        "group"
    } else if percentage > 0.0 {
        "outside_percentage"
    } else {
        "off"
    }
}

#[test]
fn every_combination_of_rules() {
    let mut features = Vec::new();
    let mut cases = Vec::new();
    for percentage in [0.0, 20.0, 100.0] {
        for listed in [false, true] {
            for excluded in [false, true] {
                for grouped in [false, true] {
                    let feature = feature(percentage, listed, excluded, grouped);
                    for user in [false, true] {
                        cases.push((
                            feature.name.to_string(),
                            user,
                            expected(percentage, listed, excluded, grouped, user),
                        ));
                    }
                    features.push(feature);
                }
            }
        }
    }
    features.sort_by(|a, b| a.name.cmp(&b.name));
    let snapshot = CompiledSnapshot::compile(&Snapshot {
        version: 1,
        randomize_percentage: false,
        features,
        groups: Vec::new(),
    });
    let mut groups = CodeGroups::new();
    // Only the grouped features consult the group, so it can hold the user outright.
    groups.define("members", |context: &Context| {
        context.user_id() == Some(OUTSIDE_TWENTY)
    });
    let mut outside = 0;
    for (name, user, reason) in cases {
        let context = if user {
            Context::user(OUTSIDE_TWENTY)
        } else {
            Context::anonymous()
        };
        let decision = snapshot.evaluate(&name, &context, &groups);
        assert_eq!(decision.reason.as_str(), reason, "{name}, user: {user}");
        let check = snapshot.check(&name, &context, &groups);
        assert_eq!(check.reason().as_str(), reason, "{name}, user: {user}");
        assert_eq!(check.is_active(), decision.active, "{name}, user: {user}");
        assert_eq!(
            snapshot.is_active(&name, &context, &groups),
            decision.active,
            "{name}, user: {user}"
        );
        if reason == "outside_percentage" {
            assert!(!decision.active);
            outside += 1;
        }
    }
    // 20 %, neither listed nor excluded nor grouped (with "someone-else" listed).
    assert_eq!(outside, 1, "the matrix reaches the new reason");
}

#[test]
fn a_plain_percentage_says_outside_and_within() {
    let mut feature = Feature::new(FeatureName::new("twenty").unwrap(), DateTime::UNIX_EPOCH);
    feature.percentage = Percentage::new(20.0).unwrap();
    let snapshot = CompiledSnapshot::compile(&Snapshot {
        version: 1,
        randomize_percentage: false,
        features: vec![feature],
        groups: Vec::new(),
    });
    let none = CodeGroups::new();
    let outside = snapshot.evaluate("twenty", &Context::user(OUTSIDE_TWENTY), &none);
    assert_eq!(outside.reason, Reason::OutsidePercentage);
    assert!(!outside.active);
    assert_eq!(
        snapshot
            .check("twenty", &Context::user(OUTSIDE_TWENTY), &none)
            .reason(),
        ReasonKind::OutsidePercentage
    );
    let within = snapshot.evaluate("twenty", &Context::user("2"), &none);
    assert_eq!(within.reason, Reason::Percentage);
    let anonymous = snapshot.evaluate("twenty", &Context::anonymous(), &none);
    assert_eq!(anonymous.reason, Reason::Off);
}

#[test]
fn the_smallest_percentage_is_a_share_not_nobody() {
    let mut feature = Feature::new(FeatureName::new("tiny").unwrap(), DateTime::UNIX_EPOCH);
    feature.percentage = Percentage::new(0.1).unwrap();
    let snapshot = CompiledSnapshot::compile(&Snapshot {
        version: 1,
        randomize_percentage: true,
        features: vec![feature],
        groups: Vec::new(),
    });
    let decision = snapshot.evaluate("tiny", &Context::user(OUTSIDE_TWENTY), &CodeGroups::new());
    assert_eq!(decision.reason, Reason::OutsidePercentage);
}
