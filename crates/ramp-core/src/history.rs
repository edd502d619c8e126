//! History: what each change did (who, when, the fields before and after), and how to compute a
//! feature's state before a given event, which is what `revert` restores. Stored groups have
//! history too (`group_history.rs`): the same events, with a group as their subject.
//!
//! Lists (users, exclusions, groups) are recorded as the members added and removed rather than
//! whole before/after copies: a feature with a million users must not write megabytes of history
//! for one added id. Undoing the events newest-first still restores the exact membership.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::field::{ListField, ValueField};
use crate::{CoreError, FeatureName, FeatureState, GroupName, Percentage, Subject, UserId};

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
    /// The feature (or group) did not exist before.
    Created,
    /// An existing feature (or group) changed.
    Updated,
    /// The feature (or group) was deleted; the changes hold everything it had.
    Deleted,
}

/// One recorded change to one feature or stored group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// Unique within a store, growing with time.
    pub id: u64,
    /// The feature or group that changed: `"feature": NAME` or `"group": NAME` in JSON.
    #[serde(flatten)]
    pub subject: Subject,
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
        /// The field.
        field: ValueField,
        /// Its value before.
        before: Value,
        /// Its value after.
        after: Value,
    },
    /// Members added to and removed from a list (`users`, `excluded_users`, `groups`).
    Members {
        /// The field.
        field: ListField,
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
                ValueField::Percentage,
                before.percentage.value().into(),
                after.percentage.value().into(),
            ));
        }
        changes.extend(FieldChange::members(
            ListField::Users,
            &before.users,
            &after.users,
        ));
        changes.extend(FieldChange::members(
            ListField::ExcludedUsers,
            &before.excluded_users,
            &after.excluded_users,
        ));
        changes.extend(FieldChange::members(
            ListField::Groups,
            &before.groups,
            &after.groups,
        ));
        let keys: std::collections::BTreeSet<&String> =
            before.data.keys().chain(after.data.keys()).collect();
        for key in keys {
            let old = before.data.get(key).cloned().unwrap_or(Value::Null);
            let new = after.data.get(key).cloned().unwrap_or(Value::Null);
            if old != new {
                changes.push(FieldChange::value(ValueField::Data(key.clone()), old, new));
            }
        }
        if before.stage != after.stage {
            changes.push(FieldChange::value(
                ValueField::Stage,
                before.stage.as_str().into(),
                after.stage.as_str().into(),
            ));
        }
        if before.kind != after.kind {
            changes.push(FieldChange::value(
                ValueField::Kind,
                before.kind.as_str().into(),
                after.kind.as_str().into(),
            ));
        }
        changes
    }

    /// The field's name as history records it (`percentage`, `data.color`, `users`).
    pub fn field(&self) -> Cow<'_, str> {
        match self {
            FieldChange::Value { field, .. } => field.name(),
            FieldChange::Members { field, .. } => Cow::Borrowed(field.name()),
        }
    }

    /// Puts this field back as it was before the change. A recorded value of the wrong type
    /// is an error naming the field and the value: guessing a default would "restore" a state
    /// the feature never had.
    fn undo(&self, state: &mut FeatureState) -> Result<(), CoreError> {
        match self {
            FieldChange::Value { field, before, .. } => match field {
                ValueField::Percentage => {
                    let value = before
                        .as_f64()
                        .ok_or_else(|| wrong_type(field, before, "a number"))?;
                    state.percentage = Percentage::new(value)?;
                }
                ValueField::Stage => {
                    let stage = before
                        .as_str()
                        .ok_or_else(|| wrong_type(field, before, "a stage name"))?;
                    state.stage = stage.parse()?;
                }
                ValueField::Kind => {
                    let kind = before
                        .as_str()
                        .ok_or_else(|| wrong_type(field, before, "a kind name"))?;
                    state.kind = kind.parse()?;
                }
                ValueField::Data(key) => {
                    if before.is_null() {
                        state.data.remove(key);
                    } else {
                        state.data.insert(key.clone(), before.clone());
                    }
                }
                ValueField::Description
                | ValueField::Rules
                | ValueField::WipLimit(_)
                | ValueField::ExpectedLife(_)
                | ValueField::HealthWindow(_) => {
                    return Err(not_of_a_feature(&field.name()));
                }
            },
            FieldChange::Members {
                field,
                added,
                removed,
            } => match field {
                ListField::Users => undo_members(&mut state.users, added, removed, UserId::new)?,
                ListField::ExcludedUsers => {
                    undo_members(&mut state.excluded_users, added, removed, UserId::new)?
                }
                ListField::Groups => {
                    undo_members(&mut state.groups, added, removed, GroupName::new)?
                }
                ListField::Members => return Err(not_of_a_feature(field.name())),
            },
        }
        Ok(())
    }
}

/// The error for a group's field in a feature's event.
fn not_of_a_feature(field: &str) -> CoreError {
    CoreError::InvalidHistoryValue {
        field: field.to_owned(),
        value: "a change".into(),
        expected: "a field of a feature",
    }
}

/// The error for a recorded value undo cannot use.
pub(crate) fn wrong_type(field: &ValueField, value: &Value, expected: &'static str) -> CoreError {
    const SHOWN: usize = 100;
    let mut shown = value.to_string();
    if shown.chars().count() > SHOWN {
        shown = shown.chars().take(SHOWN).collect::<String>() + "…";
    }
    CoreError::InvalidHistoryValue {
        field: field.to_string(),
        value: shown,
        expected,
    }
}

impl FieldChange {
    /// A single value's change.
    pub fn value(field: ValueField, before: Value, after: Value) -> FieldChange {
        FieldChange::Value {
            field,
            before,
            after,
        }
    }

    /// The members added and removed between two lists; `None` when membership is the same.
    pub fn members<T: AsRef<str> + PartialEq>(
        field: ListField,
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
        (!added.is_empty() || !removed.is_empty()).then_some(FieldChange::Members {
            field,
            added,
            removed,
        })
    }
}

pub(crate) fn undo_members<T: AsRef<str>>(
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
    /// The feature this event changed; `None` for a group's event.
    pub fn feature(&self) -> Option<&FeatureName> {
        self.subject.feature()
    }

    /// The stored group this event changed; `None` for a feature's event.
    pub fn group(&self) -> Option<&GroupName> {
        self.subject.group()
    }

    /// Undoes this event on a feature's state (`None`: the feature does not exist). A group's
    /// or the settings' event is an error: its changes are not a feature's.
    pub fn undo(&self, state: Option<FeatureState>) -> Result<Option<FeatureState>, CoreError> {
        if !matches!(self.subject, Subject::Feature(_)) {
            return Err(CoreError::InvalidChange {
                reason: format!("event {} changed {}, not a feature", self.id, self.subject),
            });
        }
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
#[path = "history_tests.rs"]
mod tests;
