//! The store as it was at a past time: the current snapshot with every later event undone.
//!
//! Evaluation is deterministic and history is complete (every change of a feature and every
//! edit of a stored group is an event), so "was user 42 in `new-form` on 3 Nov at 10:00, and
//! why" is answered by rebuilding the snapshot of that instant and evaluating it. Features are
//! undone as [`state_before`](crate::history::state_before) undoes them and groups as
//! [`group_before`](crate::group_before) does: a feature created after the time is absent, one
//! deleted after it comes back, and a group's members and rules are the ones it had then.
//!
//! An event made exactly at the time counts as already happened: the snapshot "at T" includes
//! it. A change stamped 10:00:00 is in effect at 10:00:00, the way a write's answer (which
//! carries the event's time) is already true when it is returned, so asking at the time a
//! write returned gives that write's result.
//!
//! This module never reads the store: the caller passes the current snapshot and the events,
//! and must read them consistently (see `Rollout::snapshot_at`).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::{CoreError, Feature, FeatureName, HistoryEvent, Snapshot, StoredGroup, Subject};

/// The snapshot as it was at `at`, from the current one and the events made after `at`,
/// newest first (in the order of their ids, the order the store applied them).
///
/// Events of any subject may be mixed; events made at or before `at` are ignored, so the
/// caller may pass a superset (a `since` query is inclusive). What history does not record is
/// kept from the current snapshot: the store version, the `randomize_percentage` setting, and
/// a feature's times, version and damage note; a feature that comes back from a deletion gets
/// `at` as its times and version 0. Evaluation reads none of these.
///
/// Fails, naming the field, when an event records a value that cannot be undone.
pub fn snapshot_at(
    current: &Snapshot,
    events_newest_first: &[HistoryEvent],
    at: DateTime<Utc>,
) -> Result<Snapshot, CoreError> {
    // Each subject's events, still newest first; subjects are independent of each other.
    let mut features: BTreeMap<&FeatureName, Vec<&HistoryEvent>> = BTreeMap::new();
    let mut groups: BTreeMap<&str, Vec<&HistoryEvent>> = BTreeMap::new();
    for event in events_newest_first.iter().filter(|event| event.time > at) {
        match &event.subject {
            Subject::Feature(name) => features.entry(name).or_default().push(event),
            Subject::Group(name) => groups.entry(name.as_str()).or_default().push(event),
            // Settings decide nothing about who gets a feature.
            Subject::Settings(_) => {}
        }
    }

    let mut restored = Vec::new();
    let mut deleted = Vec::new();
    for (name, events) in features {
        let now = current
            .features
            .binary_search_by(|feature| feature.name.as_str().cmp(name.as_str()))
            .ok()
            .map(|index| &current.features[index]);
        let past = events
            .iter()
            .try_fold(now.map(Feature::state), |state, event| event.undo(state))?;
        match (now, past) {
            (Some(_), None) => deleted.push(name),
            (Some(feature), Some(state)) => {
                let mut feature = feature.clone();
                feature.set_state(state);
                restored.push(feature);
            }
            (None, Some(state)) => restored.push(Feature::from_state(name.clone(), state, at)),
            (None, None) => {}
        }
    }
    let mut past = current.patched(current.version, restored, deleted);
    if !groups.is_empty() {
        past.groups = groups_at(&current.groups, groups)?;
    }
    Ok(past)
}

/// The stored groups with the given groups' events undone, sorted by name.
fn groups_at(
    current: &[StoredGroup],
    events: BTreeMap<&str, Vec<&HistoryEvent>>,
) -> Result<Vec<StoredGroup>, CoreError> {
    let mut by_name: HashMap<&str, Option<StoredGroup>> = current
        .iter()
        .map(|group| (group.name.as_str(), Some(group.clone())))
        .collect();
    for (name, events) in events {
        let now = by_name.remove(name).flatten();
        let past = events
            .iter()
            .try_fold(now, |group, event| event.undo_group(group))?;
        by_name.insert(name, past);
    }
    let mut groups: Vec<StoredGroup> = by_name.into_values().flatten().collect();
    groups.sort_by(|left, right| left.name.as_str().cmp(right.name.as_str()));
    Ok(groups)
}

#[cfg(test)]
#[path = "as_of_tests.rs"]
mod tests;
