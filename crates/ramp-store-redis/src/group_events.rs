//! Stored groups' and the lifecycle settings' history events <-> the members of
//! `ramp:group-events` (the settings' events share the set, and its trimming to
//! `history_limit`, rather than adding a third set every read would merge).
//!
//! The gem has no groups of Ramp's kind, so these events have no gem format to follow and are
//! never written where the gem reads (it would list them as a feature's, or fail on their
//! keys). A member is Ramp's own event JSON (`"group": NAME`, action, actor, time, comment,
//! changes) without the id, which is minus the score as in the gem's sets: one source of truth
//! for the id, and the same paging by score.
//!
//! Pure functions: no I/O and no clock.

use ramp_core::HistoryEvent;
use serde_json::Value;

/// The member recording a group's `event`.
pub(crate) fn encode(event: &HistoryEvent) -> String {
    let mut value = serde_json::to_value(event).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut value {
        fields.remove("id");
    }
    value.to_string()
}

/// Reads a member and its score; `None` for anything that is not a group's event Ramp can show
/// (not JSON, a feature's event, a positive score), which readers skip like the gem sets'
/// unreadable members.
pub(crate) fn decode(member: &[u8], score: f64) -> Option<HistoryEvent> {
    if score > 0.0 || !score.is_finite() {
        return None;
    }
    let Value::Object(mut fields) = serde_json::from_slice::<Value>(member).ok()? else {
        return None;
    };
    fields.insert("id".into(), Value::from((-score) as u64));
    let event: HistoryEvent = serde_json::from_value(Value::Object(fields)).ok()?;
    // Ramp's own events: a group's or the settings'; never a feature's.
    event.feature().is_none().then_some(event)
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use ramp_core::{Action, FieldChange, GroupName, ListField, ValueField};
    use serde_json::json;

    use super::*;

    fn event() -> HistoryEvent {
        HistoryEvent {
            id: 1_700_000_000_000_007,
            subject: GroupName::new("beta").unwrap().into(),
            action: Action::Updated,
            actor: "ana".into(),
            time: DateTime::from_timestamp_micros(1_700_000_000_000_001).unwrap(),
            comment: Some("why".into()),
            changes: vec![
                FieldChange::value(ValueField::Description, json!("a"), json!("b")),
                FieldChange::Members {
                    field: ListField::Members,
                    added: vec!["1".into()],
                    removed: vec![],
                },
            ],
        }
    }

    #[test]
    fn events_round_trip_with_the_id_in_the_score() {
        let recorded = event();
        let member = encode(&recorded);
        let parsed: Value = serde_json::from_str(&member).unwrap();
        assert_eq!(parsed["group"], "beta");
        assert!(parsed.get("id").is_none() && parsed.get("feature").is_none());
        let read = decode(member.as_bytes(), -(recorded.id as f64)).unwrap();
        assert_eq!(read, recorded);
    }

    #[test]
    fn other_members_are_skipped() {
        assert!(decode(b"not json", -1.0).is_none());
        assert!(decode(encode(&event()).as_bytes(), 5.0).is_none());
        let mut feature = event();
        feature.subject = ramp_core::FeatureName::new("chat").unwrap().into();
        feature.changes.clear();
        assert!(decode(encode(&feature).as_bytes(), -1.0).is_none());
    }
}
