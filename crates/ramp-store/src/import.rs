//! The logic of the two bulk writes, shared by every backend: `import` (replace each feature,
//! counting what was created, updated or left unchanged) and `import_history` (skip the events
//! the store already holds). Backends keep only their transaction or script around it: where
//! they read a stored feature, where they put a prepared write, how they look for an event.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use ramp_core::{Attribution, Change, Feature, FeatureName, GroupName, HistoryEvent, StoredGroup};

use crate::prepare::{action_name, prepare_change, prepare_group_write, PreparedWrite};
use crate::{ImportSummary, ImportedFeature, StoreError};

/// Where an import reads and writes features: a transaction, or a working copy committed
/// later. For each imported feature, `stored` is called, then `write` if it changed.
pub trait ImportTarget {
    /// The feature as the import sees it now: stored, or written earlier by this import (so a
    /// name imported twice sees its first import).
    fn stored(&mut self, name: &FeatureName) -> Result<Option<Feature>, StoreError>;

    /// Keeps a changed feature and the event recording it (id 0: the backend assigns it).
    fn write(&mut self, write: PreparedWrite) -> Result<(), StoreError>;
}

/// Replaces each feature with its imported state, in order, with the core's rules. The
/// summary's `groups` is left at 0 for the caller, which writes the groups itself.
pub fn import_features(
    features: &[ImportedFeature],
    attribution: &Attribution,
    now: DateTime<Utc>,
    target: &mut impl ImportTarget,
) -> Result<ImportSummary, StoreError> {
    let mut summary = ImportSummary::default();
    for imported in features {
        let existing = target.stored(&imported.name)?;
        let created = existing.is_none();
        let change = Change::Replace {
            state: imported.state.clone(),
        };
        match prepare_change(&imported.name, existing, &change, None, attribution, now)? {
            Some(write) => {
                if created {
                    summary.created += 1;
                } else {
                    summary.updated += 1;
                }
                target.write(write)?;
            }
            None => summary.unchanged += 1,
        }
    }
    Ok(summary)
}

/// The events recording an import's groups, in order, each with id 0 for the backend: every
/// group against the version `stored` reads, or the one imported earlier in the same list.
/// Groups imported unchanged record nothing. Checks each group and the attribution.
pub fn group_import_events(
    groups: &[StoredGroup],
    attribution: &Attribution,
    now: DateTime<Utc>,
    mut stored: impl FnMut(&GroupName) -> Result<Option<StoredGroup>, StoreError>,
) -> Result<Vec<HistoryEvent>, StoreError> {
    let mut imported: HashMap<&GroupName, &StoredGroup> = HashMap::new();
    let mut events = Vec::new();
    for group in groups {
        let existing = match imported.get(&group.name) {
            Some(earlier) => Some((*earlier).clone()),
            None => stored(&group.name)?,
        };
        events.extend(prepare_group_write(
            existing.as_ref(),
            group,
            attribution,
            now,
        )?);
        imported.insert(&group.name, group);
    }
    Ok(events)
}

/// Whether two events record the same change (ids differ between stores): same subject,
/// action, actor, and time to the microsecond (what every backend can store).
pub fn same_event(stored: &HistoryEvent, copied: &HistoryEvent) -> bool {
    stored.subject == copied.subject
        && stored.action == copied.action
        && stored.actor == copied.actor
        && stored.time.timestamp_micros() == copied.time.timestamp_micros()
}

/// The events of a copy that `import_history` adds, oldest first as given: those `is_stored`
/// does not find, without repeats within `events` (so copying twice, or a list holding one
/// event twice, adds each change once).
pub fn events_to_copy(
    events: &[HistoryEvent],
    mut is_stored: impl FnMut(&HistoryEvent) -> Result<bool, StoreError>,
) -> Result<Vec<&HistoryEvent>, StoreError> {
    let mut seen = HashSet::with_capacity(events.len());
    let mut added = Vec::new();
    for event in events {
        let key = (
            &event.subject,
            action_name(event.action),
            event.actor.as_str(),
            event.time.timestamp_micros(),
        );
        if seen.insert(key) && !is_stored(event)? {
            added.push(event);
        }
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ramp_core::Action;

    fn event(feature: &str, actor: &str, micros: i64) -> HistoryEvent {
        HistoryEvent {
            id: 0,
            subject: FeatureName::new(feature).unwrap().into(),
            action: Action::Updated,
            actor: actor.into(),
            time: DateTime::from_timestamp_micros(micros).unwrap(),
            comment: None,
            changes: Vec::new(),
        }
    }

    #[test]
    fn copies_skip_stored_events_and_repeats() {
        let stored = [event("chat", "ana", 1)];
        let copied = [
            event("chat", "ana", 1),
            event("chat", "bo", 1),
            event("chat", "bo", 1),
            event("search", "bo", 1),
        ];
        let added = events_to_copy(&copied, |event| {
            Ok(stored.iter().any(|other| same_event(other, event)))
        })
        .unwrap();
        assert_eq!(added, vec![&copied[1], &copied[3]]);
    }
}
