//! Tests of `history.rs`: the recorded fields, undo (and its refusals), and how changes read.

use super::*;
use crate::{Change, Feature, Stage};
use serde_json::json;

fn event(id: u64, action: Action, changes: Vec<FieldChange>) -> HistoryEvent {
    HistoryEvent {
        id,
        subject: Subject::Feature(FeatureName::new("chat").unwrap()),
        action,
        actor: "ana".into(),
        time: Utc::now(),
        comment: None,
        changes,
    }
}

#[test]
fn only_changed_fields_are_recorded() {
    let before = FeatureState::default();
    let mut after = before.clone();
    after.percentage = Percentage::new(25.0).unwrap();
    after.users = vec![UserId::new("1").unwrap()];
    let changes = FieldChange::between(&before, &after);
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0].to_string(), "percentage from 0.0 to 25.0");
    assert_eq!(changes[1].to_string(), "users +1 (1)");
}

#[test]
fn undoing_events_newest_first_restores_an_earlier_state() {
    let mut feature = Feature::new(FeatureName::new("chat").unwrap(), Utc::now());
    let steps = [
        Change::AddUsers {
            users: vec![UserId::new("1").unwrap(), UserId::new("2").unwrap()],
        },
        Change::SetPercentage {
            percentage: Percentage::new(10.0).unwrap(),
        },
        Change::SetUsers {
            users: vec![UserId::new("2").unwrap(), UserId::new("3").unwrap()],
        },
        Change::SetStage { stage: Stage::Beta },
        Change::SetKind {
            kind: crate::FeatureKind::Operational,
        },
    ];
    let mut states = vec![feature.state()];
    let mut events = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        let changes = step.apply(&mut feature, Utc::now()).unwrap();
        events.push(event(index as u64 + 1, Action::Updated, changes));
        states.push(feature.state());
    }
    events.reverse();
    for target in 0..steps.len() {
        let undone = &events[..steps.len() - target];
        let restored = state_before(Some(feature.state()), undone)
            .unwrap()
            .unwrap();
        let mut expected = states[target].clone();
        let mut actual = restored.clone();
        expected.users.sort();
        actual.users.sort();
        assert_eq!(actual, expected, "state before step {target}");
    }
}

#[test]
fn undoing_a_creation_removes_the_feature_and_a_deletion_brings_it_back() {
    let mut state = FeatureState::default();
    state.groups.push(GroupName::new("beta").unwrap());
    let created = event(
        1,
        Action::Created,
        FieldChange::between(&FeatureState::default(), &state),
    );
    assert_eq!(created.undo(Some(state.clone())).unwrap(), None);
    let deleted = event(
        2,
        Action::Deleted,
        FieldChange::between(&state, &FeatureState::default()),
    );
    assert_eq!(deleted.undo(None).unwrap(), Some(state));
}

#[test]
fn recorded_json_is_what_history_always_held() {
    let changes = vec![
        FieldChange::value(ValueField::Percentage, json!(10.0), json!(25.0)),
        FieldChange::value(ValueField::Data("color".into()), Value::Null, json!("red")),
        FieldChange::Members {
            field: ListField::ExcludedUsers,
            added: vec!["7".into()],
            removed: vec![],
        },
    ];
    let stored = r#"[{"kind":"value","field":"percentage","before":10.0,"after":25.0},{"kind":"value","field":"data.color","before":null,"after":"red"},{"kind":"members","field":"excluded_users","added":["7"],"removed":[]}]"#;
    assert_eq!(serde_json::to_string(&changes).unwrap(), stored);
    assert_eq!(
        serde_json::from_str::<Vec<FieldChange>>(stored).unwrap(),
        changes
    );
    assert_eq!(changes[1].field(), "data.color");
    let unknown = r#"[{"kind":"value","field":"colour","before":1,"after":2}]"#;
    assert!(serde_json::from_str::<Vec<FieldChange>>(unknown).is_err());
    let list_as_value = r#"[{"kind":"value","field":"users","before":1,"after":2}]"#;
    assert!(serde_json::from_str::<Vec<FieldChange>>(list_as_value).is_err());
}

#[test]
fn undo_refuses_a_value_of_the_wrong_type_naming_field_and_value() {
    let cases = [
        (
            ValueField::Percentage,
            json!("ten"),
            "percentage",
            "\"ten\"",
            "a number",
        ),
        (
            ValueField::Percentage,
            Value::Null,
            "percentage",
            "null",
            "a number",
        ),
        (ValueField::Stage, json!(3), "stage", "3", "a stage name"),
        (
            ValueField::Stage,
            Value::Null,
            "stage",
            "null",
            "a stage name",
        ),
    ];
    for (field, before, name, shown, expected) in cases {
        let change = FieldChange::value(field, before, json!(1));
        let error = event(1, Action::Updated, vec![change])
            .undo(Some(FeatureState::default()))
            .unwrap_err();
        assert_eq!(
            error,
            CoreError::InvalidHistoryValue {
                field: name.into(),
                value: shown.into(),
                expected,
            }
        );
        assert!(error.to_string().contains(name), "{error}");
    }
    let out_of_range = FieldChange::value(ValueField::Percentage, json!(250), json!(1));
    assert!(matches!(
        event(1, Action::Updated, vec![out_of_range]).undo(None),
        Err(CoreError::InvalidPercentage { .. })
    ));
}

#[test]
fn the_everyone_action_is_one_change_of_percentage_and_stage() {
    let now = chrono::DateTime::UNIX_EPOCH;
    let mut feature = Feature::new(FeatureName::new("chat").unwrap(), now);
    Change::SetStage { stage: Stage::Beta }
        .apply(&mut feature, now)
        .unwrap();
    let version = feature.version;
    let changes = Change::OpenToEveryone.apply(&mut feature, now).unwrap();
    assert_eq!(
        changes.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "percentage from 0.0 to 100.0",
            "stage from beta to everyone"
        ]
    );
    assert_eq!(feature.version, version + 1, "one version, one event");
    assert_eq!(feature.stage_mismatch(), None);
    // Again: nothing to change, nothing recorded.
    assert!(Change::OpenToEveryone
        .apply(&mut feature, now)
        .unwrap()
        .is_empty());
    // A graduated feature is past everyone: only its percentage moves.
    Change::SetStage {
        stage: Stage::Graduated,
    }
    .apply(&mut feature, now)
    .unwrap();
    Change::SetPercentage {
        percentage: Percentage::new(50.0).unwrap(),
    }
    .apply(&mut feature, now)
    .unwrap();
    let changes = Change::OpenToEveryone.apply(&mut feature, now).unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(feature.stage, Stage::Graduated);
    // The gem's `activate` keeps the stage.
    let mut gem = Feature::new(FeatureName::new("gem").unwrap(), now);
    Change::Activate.apply(&mut gem, now).unwrap();
    assert_eq!(gem.stage, Stage::Development);
}
