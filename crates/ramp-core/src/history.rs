//! History: what each change did (who, when, the fields before and after), and how to compute a
//! feature's state before a given event, which is what `revert` restores.
//!
//! Lists (users, exclusions, groups) are recorded as the members added and removed rather than
//! whole before/after copies: a feature with a million users must not write megabytes of history
//! for one added id. Undoing the events newest-first still restores the exact membership.

use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{CoreError, FeatureName, FeatureState, GroupName, Percentage, UserId};

/// Who made a change and why; the store adds the time.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Attribution {
    /// The person or token that made the change.
    pub actor: String,
    /// An optional note ("rolling back: errors in checkout").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Attribution {
    /// An attribution to `actor` without a comment.
    pub fn new(actor: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            comment: None,
        }
    }
}

/// What kind of change an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The feature did not exist before.
    Created,
    /// An existing feature changed.
    Updated,
    /// The feature was deleted; the changes hold everything it had.
    Deleted,
}

/// One recorded change to one feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// Unique within a store, growing with time.
    pub id: u64,
    /// The feature that changed.
    pub feature: FeatureName,
    /// Created, updated or deleted.
    pub action: Action,
    /// Who made the change.
    pub actor: String,
    /// When it was made.
    pub time: DateTime<Utc>,
    /// Why, if they said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Only the fields that changed.
    pub changes: Vec<FieldChange>,
}

/// One field's change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FieldChange {
    /// A single value (`percentage`, `stage`, `data.KEY`); `null` means absent.
    Value {
        /// The field's name.
        field: String,
        /// Its value before.
        before: Value,
        /// Its value after.
        after: Value,
    },
    /// Members added to and removed from a list (`users`, `excluded_users`, `groups`).
    Members {
        /// The field's name.
        field: String,
        /// Members that were added.
        added: Vec<String>,
        /// Members that were removed.
        removed: Vec<String>,
    },
}

impl FieldChange {
    /// The fields that differ between two states.
    pub fn between(before: &FeatureState, after: &FeatureState) -> Vec<FieldChange> {
        let mut changes = Vec::new();
        if before.percentage != after.percentage {
            changes.push(FieldChange::value(
                "percentage",
                before.percentage.value().into(),
                after.percentage.value().into(),
            ));
        }
        changes.extend(FieldChange::members("users", &before.users, &after.users));
        changes.extend(FieldChange::members(
            "excluded_users",
            &before.excluded_users,
            &after.excluded_users,
        ));
        changes.extend(FieldChange::members(
            "groups",
            &before.groups,
            &after.groups,
        ));
        let keys: std::collections::BTreeSet<&String> =
            before.data.keys().chain(after.data.keys()).collect();
        for key in keys {
            let old = before.data.get(key).cloned().unwrap_or(Value::Null);
            let new = after.data.get(key).cloned().unwrap_or(Value::Null);
            if old != new {
                changes.push(FieldChange::value(&format!("data.{key}"), old, new));
            }
        }
        if before.stage != after.stage {
            changes.push(FieldChange::value(
                "stage",
                before.stage.as_str().into(),
                after.stage.as_str().into(),
            ));
        }
        changes
    }

    /// The field's name.
    pub fn field(&self) -> &str {
        match self {
            FieldChange::Value { field, .. } | FieldChange::Members { field, .. } => field,
        }
    }

    /// Puts this field back as it was before the change.
    fn undo(&self, state: &mut FeatureState) -> Result<(), CoreError> {
        let unknown = || CoreError::InvalidChange {
            reason: format!("history names an unknown field {:?}", self.field()),
        };
        match self {
            FieldChange::Value { field, before, .. } => match field.as_str() {
                "percentage" => {
                    let value = before.as_f64().unwrap_or(0.0);
                    state.percentage = Percentage::new(value)?;
                }
                "stage" => state.stage = before.as_str().unwrap_or("development").parse()?,
                _ => {
                    let key = field.strip_prefix("data.").ok_or_else(unknown)?;
                    if before.is_null() {
                        state.data.remove(key);
                    } else {
                        state.data.insert(key.to_owned(), before.clone());
                    }
                }
            },
            FieldChange::Members {
                field,
                added,
                removed,
            } => match field.as_str() {
                "users" => undo_members(&mut state.users, added, removed, UserId::new)?,
                "excluded_users" => {
                    undo_members(&mut state.excluded_users, added, removed, UserId::new)?
                }
                "groups" => undo_members(&mut state.groups, added, removed, GroupName::new)?,
                _ => return Err(unknown()),
            },
        }
        Ok(())
    }
}

impl FieldChange {
    /// A single value's change.
    pub fn value(field: &str, before: Value, after: Value) -> FieldChange {
        FieldChange::Value {
            field: field.to_owned(),
            before,
            after,
        }
    }

    /// The members added and removed between two lists; `None` when membership is the same.
    pub fn members<T: AsRef<str> + PartialEq>(
        field: &str,
        before: &[T],
        after: &[T],
    ) -> Option<FieldChange> {
        if before == after {
            return None;
        }
        let (added, removed) = if after.starts_with(before) {
            // Users appended: no hashing, even on a million-user list.
            (
                after[before.len()..]
                    .iter()
                    .map(|item| item.as_ref().to_owned())
                    .collect(),
                Vec::new(),
            )
        } else {
            let old: HashSet<&str> = before.iter().map(AsRef::as_ref).collect();
            let new: HashSet<&str> = after.iter().map(AsRef::as_ref).collect();
            let added: Vec<String> = after
                .iter()
                .map(AsRef::as_ref)
                .filter(|item| !old.contains(item))
                .map(str::to_owned)
                .collect();
            let removed: Vec<String> = before
                .iter()
                .map(AsRef::as_ref)
                .filter(|item| !new.contains(item))
                .map(str::to_owned)
                .collect();
            (added, removed)
        };
        (!added.is_empty() || !removed.is_empty()).then(|| FieldChange::Members {
            field: field.to_owned(),
            added,
            removed,
        })
    }
}

fn undo_members<T: AsRef<str>>(
    list: &mut Vec<T>,
    added: &[String],
    removed: &[String],
    parse: impl Fn(String) -> Result<T, CoreError>,
) -> Result<(), CoreError> {
    let added: HashSet<&str> = added.iter().map(String::as_str).collect();
    list.retain(|item| !added.contains(item.as_ref()));
    let present: HashSet<String> = list.iter().map(|item| item.as_ref().to_owned()).collect();
    for member in removed {
        if !present.contains(member) {
            list.push(parse(member.clone())?);
        }
    }
    Ok(())
}

impl HistoryEvent {
    /// Undoes this event on a feature's state (`None`: the feature does not exist).
    pub fn undo(&self, state: Option<FeatureState>) -> Result<Option<FeatureState>, CoreError> {
        if self.action == Action::Created {
            return Ok(None);
        }
        let mut state = state.unwrap_or_default();
        for change in &self.changes {
            change.undo(&mut state)?;
        }
        Ok(Some(state))
    }
}

/// The state a feature had just before `events.last()`, given its current state and its events
/// from the newest back to (and including) that one.
pub fn state_before(
    current: Option<FeatureState>,
    events_newest_first: &[HistoryEvent],
) -> Result<Option<FeatureState>, CoreError> {
    events_newest_first
        .iter()
        .try_fold(current, |state, event| event.undo(state))
}

impl fmt::Display for FieldChange {
    /// Reads as a sentence fragment: `percentage from 10 to 25`, `users +2 -1 (3, 4; 1)`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldChange::Value {
                field,
                before,
                after,
            } => {
                write!(
                    formatter,
                    "{field} from {} to {}",
                    show(before),
                    show(after)
                )
            }
            FieldChange::Members {
                field,
                added,
                removed,
            } => {
                write!(formatter, "{field}")?;
                if !added.is_empty() {
                    write!(formatter, " +{} ({})", added.len(), preview(added))?;
                }
                if !removed.is_empty() {
                    write!(formatter, " -{} ({})", removed.len(), preview(removed))?;
                }
                Ok(())
            }
        }
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::Null => "(none)".into(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn preview(items: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        text.push_str(", …");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Change, Feature, Stage};

    fn event(id: u64, action: Action, changes: Vec<FieldChange>) -> HistoryEvent {
        HistoryEvent {
            id,
            feature: FeatureName::new("chat").unwrap(),
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
}
