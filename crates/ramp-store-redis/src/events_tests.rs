//! Unit tests of the history member codec: Ramp's events round-trip exactly, the gem's read as
//! the core would have recorded them.

use super::*;
use ramp_core::{Change, FeatureState, Percentage, UserId};
use serde_json::json;

fn feature() -> Feature {
    Feature::new(FeatureName::new("chat").unwrap(), DateTime::UNIX_EPOCH)
}

fn event(action: Action, changes: Vec<FieldChange>) -> HistoryEvent {
    HistoryEvent {
        id: 1_700_000_000_000_001,
        subject: FeatureName::new("chat").unwrap().into(),
        action,
        actor: "ana".into(),
        time: DateTime::from_timestamp_micros(1_700_000_000_000_000).unwrap(),
        comment: Some("why".into()),
        changes,
    }
}

#[test]
fn ramp_events_round_trip_and_show_the_gem_whole_lists() {
    let mut before = feature();
    Change::AddUsers {
        users: vec![UserId::new("1").unwrap()],
    }
    .apply(&mut before, Utc::now())
    .unwrap();
    let mut after = before.clone();
    let changes = Change::AddUsers {
        users: vec![UserId::new("2").unwrap()],
    }
    .apply(&mut after, Utc::now())
    .unwrap();
    let recorded = event(Action::Updated, changes);
    let member = encode(
        &before.name,
        &recorded,
        &FullLists::of(Some(&before)),
        &FullLists::of(Some(&after)),
    );
    let parsed: Value = serde_json::from_str(&member).unwrap();
    assert_eq!(parsed["name"], "update");
    assert_eq!(parsed["data"]["before"]["users"], json!(["1"]));
    assert_eq!(parsed["data"]["after"]["users"], json!(["1", "2"]));
    assert_eq!(parsed["context"]["actor"], "ana");
    assert_eq!(parsed["created_at"], "2023-11-14 22:13:20 +0000");
    let keys: Vec<&String> = parsed.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["context", "created_at", "data", "feature", "name"]);
    let read = decode(member.as_bytes(), -(recorded.id as f64)).unwrap();
    assert_eq!(read, recorded);
}

#[test]
fn long_lists_stay_out_of_the_gem_view() {
    let mut big = feature();
    big.users = (0..=FULL_LIST_LIMIT)
        .map(|id| UserId::new(id.to_string()).unwrap())
        .collect();
    let changes = vec![FieldChange::Members {
        field: ramp_core::ListField::Users,
        added: vec!["x".into()],
        removed: vec![],
    }];
    let member = encode(
        &big.name,
        &event(Action::Updated, changes),
        &FullLists::of(Some(&big)),
        &FullLists::of(Some(&big)),
    );
    assert!(member.len() < 1000, "{} bytes", member.len());
}

#[test]
fn gem_events_become_core_changes() {
    // What gem 2.5.0 writes for activate_user(:chat, "2") on a feature at 20 % with user "1".
    let member = r#"{"feature":"chat","name":"update","data":{"before":{"users":["1"],"data.owner":null,"percentage":20},"after":{"users":["1","2"],"data.owner":"bo","percentage":100.0}},"context":{"actor":"rb"}}"#;
    let score = -1_700_000_000_654_321.0;
    let read = decode(member.as_bytes(), score).unwrap();
    assert_eq!(read.id, 1_700_000_000_654_321);
    assert_eq!(read.time.timestamp_micros(), 1_700_000_000_654_321);
    assert_eq!((read.action, read.actor.as_str()), (Action::Updated, "rb"));
    let shown: Vec<String> = read.changes.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "percentage from 20.0 to 100.0",
            "users +1 (2)",
            "data.owner from (none) to bo"
        ]
    );
    // Undoing it restores the gem's "before".
    let current = FeatureState {
        percentage: Percentage::ALL,
        users: vec![UserId::new("1").unwrap(), UserId::new("2").unwrap()],
        ..FeatureState::default()
    };
    let restored = read.undo(Some(current)).unwrap().unwrap();
    assert_eq!(restored.users, vec![UserId::new("1").unwrap()]);
    assert_eq!(restored.percentage.value(), 20.0);
}

#[test]
fn odd_members_are_skipped_or_tolerated() {
    assert!(decode(b"not json", -1.0).is_none());
    assert!(decode(br#"{"feature":"a b","name":"update","data":{}}"#, -1.0).is_none());
    assert!(decode(br#"{"feature":"chat","name":"update","data":{}}"#, 5.0).is_none());
    let anonymous = decode(br#"{"feature":"chat","name":"update","data":{}}"#, -3.0).unwrap();
    assert_eq!(anonymous.actor, UNKNOWN_ACTOR);
    assert!(anonymous.changes.is_empty());
}
