//! The part of a write that is the same in every backend: check the expected version, apply the
//! change with the core's rules, and describe the history event. Backends wrap it in their own
//! transaction and assign the event's id. The bulk writes' shared steps are in `import.rs`.

use chrono::{DateTime, Utc};
use ramp_core::{
    Action, Attribution, Change, Feature, FeatureName, FeatureState, FieldChange, GroupName,
    HistoryEvent, StoredGroup, Subject,
};

use crate::StoreError;

/// A write ready to persist.
#[derive(Debug, Clone)]
pub struct PreparedWrite {
    /// The feature to store.
    pub feature: Feature,
    /// The event to record, with id 0 for the backend to fill in.
    pub event: HistoryEvent,
}

/// Checks `expected_version` against what is stored.
pub fn check_version(
    name: &FeatureName,
    existing: Option<&Feature>,
    expected_version: Option<u64>,
) -> Result<(), StoreError> {
    let actual = existing.map_or(0, |feature| feature.version);
    match expected_version {
        Some(expected) if expected != actual => Err(StoreError::Conflict {
            feature: name.to_string(),
            expected,
            actual,
        }),
        _ => Ok(()),
    }
}

/// Checks a stored-group write's `expected_version` against the group's version now (`actual`,
/// 0 when there is no such group).
pub fn check_group_version(
    name: &GroupName,
    actual: u64,
    expected_version: Option<u64>,
) -> Result<(), StoreError> {
    match expected_version {
        Some(expected) if expected != actual => {
            Err(StoreError::group_conflict(name.as_str(), expected, actual))
        }
        _ => Ok(()),
    }
}

/// Applies `change` to the stored feature (or a new one). `None` means the change changed
/// nothing and there is nothing to write.
pub fn prepare_change(
    name: &FeatureName,
    existing: Option<Feature>,
    change: &Change,
    expected_version: Option<u64>,
    attribution: &Attribution,
    now: DateTime<Utc>,
) -> Result<Option<PreparedWrite>, StoreError> {
    check_version(name, existing.as_ref(), expected_version)?;
    attribution.validate()?;
    let created = existing.is_none();
    let mut feature = existing.unwrap_or_else(|| Feature::new(name.clone(), now));
    let changes = change.apply(&mut feature, now)?;
    if changes.is_empty() && !created {
        return Ok(None);
    }
    if created && changes.is_empty() {
        // Like the gem, touching a missing feature saves it; it still gets a first version.
        feature.version += 1;
    }
    let action = if created {
        Action::Created
    } else {
        Action::Updated
    };
    let event = event(name.clone().into(), action, changes, attribution, now);
    Ok(Some(PreparedWrite { feature, event }))
}

/// The event recording a deletion: every field goes back to its empty value.
pub fn deletion_event(
    feature: &Feature,
    attribution: &Attribution,
    now: DateTime<Utc>,
) -> HistoryEvent {
    let changes = FieldChange::between(&feature.state(), &FeatureState::default());
    event(
        feature.name.clone().into(),
        Action::Deleted,
        changes,
        attribution,
        now,
    )
}

/// Checks a stored group's write (the group and who makes it) and describes its event, with id
/// 0 for the backend to fill in: `None` when the group already holds exactly this (the write
/// still happens and gets a version, but there is nothing to record).
pub fn prepare_group_write(
    existing: Option<&StoredGroup>,
    group: &StoredGroup,
    attribution: &Attribution,
    now: DateTime<Utc>,
) -> Result<Option<HistoryEvent>, StoreError> {
    group.validate()?;
    attribution.validate()?;
    let changes = FieldChange::between_groups(existing, Some(group));
    let action = match existing {
        None => Action::Created,
        Some(_) if changes.is_empty() => return Ok(None),
        Some(_) => Action::Updated,
    };
    Ok(Some(event(
        group.name.clone().into(),
        action,
        changes,
        attribution,
        now,
    )))
}

/// The event recording a stored group's deletion: everything it held, so undo can bring it
/// back. Checks the attribution.
pub fn group_deletion_event(
    group: &StoredGroup,
    attribution: &Attribution,
    now: DateTime<Utc>,
) -> Result<HistoryEvent, StoreError> {
    attribution.validate()?;
    let changes = FieldChange::between_groups(Some(group), None);
    Ok(event(
        group.name.clone().into(),
        Action::Deleted,
        changes,
        attribution,
        now,
    ))
}

fn event(
    subject: Subject,
    action: Action,
    changes: Vec<FieldChange>,
    attribution: &Attribution,
    now: DateTime<Utc>,
) -> HistoryEvent {
    HistoryEvent {
        id: 0,
        subject,
        action,
        actor: attribution.actor.clone(),
        time: now,
        comment: attribution.comment.clone(),
        changes,
    }
}

/// How an action is spelled where a store keeps it as text (SQL `action` columns): the same
/// words as its JSON.
pub fn action_name(action: Action) -> &'static str {
    match action {
        Action::Created => "created",
        Action::Updated => "updated",
        Action::Deleted => "deleted",
    }
}

/// The action a stored word names; the error says which word it was.
pub fn parse_action(text: &str) -> Result<Action, String> {
    [Action::Created, Action::Updated, Action::Deleted]
        .into_iter()
        .find(|action| action_name(*action) == text)
        .ok_or_else(|| format!("unknown action {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_the_json_names() {
        for action in [Action::Created, Action::Updated, Action::Deleted] {
            let json = serde_json::to_string(&action).unwrap();
            assert_eq!(json, format!("\"{}\"", action_name(action)));
            assert_eq!(parse_action(action_name(action)), Ok(action));
        }
        assert!(parse_action("renamed").unwrap_err().contains("renamed"));
    }
}
