//! A stored group's history: the changes between two versions of a group, and undoing them.
//!
//! A group's events are ordinary history events whose subject is the group: `description`
//! and `rules` are single values (the rules as their JSON array), `members` a list recorded as
//! the ids added and removed, as a feature's users are, so adding one member to a group of a
//! million writes one id.

use serde_json::Value;

use crate::field::{ListField, ValueField};
use crate::history::{undo_members, wrong_type};
use crate::{Action, CoreError, FieldChange, HistoryEvent, Rule, StoredGroup, Subject, UserId};

impl FieldChange {
    /// The fields that differ between two versions of a group (`None`: it does not exist, so
    /// creating or deleting a group records everything it holds).
    pub fn between_groups(
        before: Option<&StoredGroup>,
        after: Option<&StoredGroup>,
    ) -> Vec<FieldChange> {
        let empty: &[UserId] = &[];
        let description = |group: Option<&StoredGroup>| {
            group.map_or_else(String::new, |group| group.description.clone())
        };
        let mut changes = Vec::new();
        let (old, new) = (description(before), description(after));
        if old != new {
            changes.push(FieldChange::value(
                ValueField::Description,
                old.into(),
                new.into(),
            ));
        }
        changes.extend(FieldChange::members(
            ListField::Members,
            before.map_or(empty, |group| &group.members[..]),
            after.map_or(empty, |group| &group.members[..]),
        ));
        let no_rules: &[Rule] = &[];
        let (old, new) = (
            before.map_or(no_rules, |group| &group.rules[..]),
            after.map_or(no_rules, |group| &group.rules[..]),
        );
        if old != new {
            changes.push(FieldChange::value(
                ValueField::Rules,
                rules_json(old),
                rules_json(new),
            ));
        }
        changes
    }

    /// Puts this field of a group back as it was before the change.
    fn undo_on_group(&self, group: &mut StoredGroup) -> Result<(), CoreError> {
        match self {
            FieldChange::Value { field, before, .. } => match field {
                ValueField::Description => {
                    group.description = match before {
                        Value::Null => String::new(),
                        Value::String(text) => text.clone(),
                        _ => return Err(wrong_type(field, before, "a string")),
                    };
                }
                ValueField::Rules => {
                    group.rules = match before {
                        Value::Null => Vec::new(),
                        _ => serde_json::from_value::<Vec<Rule>>(before.clone())
                            .map_err(|_| wrong_type(field, before, "a list of rules"))?,
                    };
                }
                ValueField::Percentage
                | ValueField::Stage
                | ValueField::Data(_)
                | ValueField::WipLimit(_)
                | ValueField::Kind
                | ValueField::ExpectedLife(_)
                | ValueField::HealthWindow(_) => {
                    return Err(not_of_a_group(&field.name()));
                }
            },
            FieldChange::Members {
                field,
                added,
                removed,
            } => match field {
                ListField::Members => {
                    undo_members(&mut group.members, added, removed, UserId::new)?;
                }
                ListField::Users | ListField::ExcludedUsers | ListField::Groups => {
                    return Err(not_of_a_group(field.name()));
                }
            },
        }
        Ok(())
    }
}

fn rules_json(rules: &[Rule]) -> Value {
    // Rules hold strings and finite numbers only, which always encode.
    serde_json::to_value(rules).unwrap_or(Value::Null)
}

fn not_of_a_group(field: &str) -> CoreError {
    CoreError::InvalidHistoryValue {
        field: field.to_owned(),
        value: "a change".into(),
        expected: "a field of a stored group",
    }
}

impl HistoryEvent {
    /// Undoes this event on a group (`None`: the group does not exist). A feature's event is an
    /// error: its changes are not a group's.
    pub fn undo_group(&self, group: Option<StoredGroup>) -> Result<Option<StoredGroup>, CoreError> {
        let Subject::Group(name) = &self.subject else {
            return Err(CoreError::InvalidChange {
                reason: format!("event {} changed {}, not a group", self.id, self.subject),
            });
        };
        if self.action == Action::Created {
            return Ok(None);
        }
        let mut group = group.unwrap_or_else(|| StoredGroup {
            name: name.clone(),
            description: String::new(),
            members: Vec::new(),
            rules: Vec::new(),
        });
        for change in &self.changes {
            change.undo_on_group(&mut group)?;
        }
        Ok(Some(group))
    }
}

/// The group as it was just before `events.last()`, given its current version and its events
/// from the newest back to (and including) that one.
pub fn group_before(
    current: Option<StoredGroup>,
    events_newest_first: &[HistoryEvent],
) -> Result<Option<StoredGroup>, CoreError> {
    events_newest_first
        .iter()
        .try_fold(current, |group, event| event.undo_group(group))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FeatureName, GroupName};
    use chrono::DateTime;
    use serde_json::json;

    fn group(description: &str, members: &[&str], rules: &[&str]) -> StoredGroup {
        StoredGroup {
            name: GroupName::new("beta").unwrap(),
            description: description.into(),
            members: members.iter().map(|id| UserId::new(*id).unwrap()).collect(),
            rules: rules.iter().map(|rule| rule.parse().unwrap()).collect(),
        }
    }

    fn event(id: u64, action: Action, changes: Vec<FieldChange>) -> HistoryEvent {
        HistoryEvent {
            id,
            subject: Subject::Group(GroupName::new("beta").unwrap()),
            action,
            actor: "ana".into(),
            time: DateTime::UNIX_EPOCH,
            comment: None,
            changes,
        }
    }

    #[test]
    fn undoing_each_edit_newest_first_gives_back_every_version() {
        let versions = [
            None,
            Some(group("testers", &["1", "2"], &[])),
            Some(group("testers", &["2", "3"], &["plan in [pro]"])),
            Some(group(
                "early testers",
                &["2", "3", "4"],
                &["plan in [pro]", "age >= 18"],
            )),
            None,
        ];
        let actions = [
            Action::Created,
            Action::Updated,
            Action::Updated,
            Action::Deleted,
        ];
        let events: Vec<HistoryEvent> = versions
            .windows(2)
            .zip(actions)
            .enumerate()
            .map(|(index, (pair, action))| {
                let changes = FieldChange::between_groups(pair[0].as_ref(), pair[1].as_ref());
                event(index as u64 + 1, action, changes)
            })
            .rev()
            .collect();
        // Membership comes back exactly; the order of members is not a group's content.
        let sorted = |group: Option<StoredGroup>| {
            group.map(|mut group| {
                group.members.sort();
                group
            })
        };
        for (undone, expected) in (1..=events.len()).zip(versions.iter().rev().skip(1)) {
            let before = group_before(None, &events[..undone]).unwrap();
            assert_eq!(
                sorted(before),
                sorted(expected.clone()),
                "{undone} events undone"
            );
        }
    }

    #[test]
    fn one_added_member_records_one_id_and_unchanged_fields_record_nothing() {
        let before = group("testers", &["1", "2"], &["plan in [pro]"]);
        let after = group("testers", &["1", "2", "3"], &["plan in [pro]"]);
        let changes = FieldChange::between_groups(Some(&before), Some(&after));
        assert_eq!(
            serde_json::to_value(&changes).unwrap(),
            json!([{"kind": "members", "field": "members", "added": ["3"], "removed": []}])
        );
    }

    #[test]
    fn a_group_event_reads_with_a_group_key_and_a_feature_event_as_before() {
        let group_event = event(7, Action::Updated, Vec::new());
        let json = serde_json::to_value(&group_event).unwrap();
        assert_eq!(json["group"], "beta");
        assert!(json.get("feature").is_none());
        let back: HistoryEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, group_event);
        let feature_event = HistoryEvent {
            subject: Subject::Feature(FeatureName::new("chat").unwrap()),
            ..group_event
        };
        let json = serde_json::to_value(&feature_event).unwrap();
        assert_eq!(json["feature"], "chat");
        assert!(json.get("group").is_none());
        assert_eq!(
            serde_json::from_value::<HistoryEvent>(json).unwrap(),
            feature_event
        );
    }

    #[test]
    fn an_event_undoes_only_its_own_kind_of_subject() {
        let group_event = event(3, Action::Updated, Vec::new());
        assert!(group_event.undo(None).is_err());
        let feature_event = HistoryEvent {
            subject: Subject::Feature(FeatureName::new("chat").unwrap()),
            ..group_event.clone()
        };
        assert!(feature_event.undo_group(None).is_err());
        let wrong_field = event(
            4,
            Action::Updated,
            vec![FieldChange::value(
                ValueField::Percentage,
                json!(1),
                json!(2),
            )],
        );
        assert!(wrong_field.undo_group(None).is_err());
        let wrong_rules = event(
            5,
            Action::Updated,
            vec![FieldChange::value(
                ValueField::Rules,
                json!("plan"),
                json!([]),
            )],
        );
        let error = wrong_rules.undo_group(None).unwrap_err().to_string();
        assert!(error.contains("rules"), "{error}");
    }
}
