//! Long id lists in a history page, cut short for people: a feature created with 100,000 users
//! records every id, which would make one page of the UI's history megabytes. With
//! `lists=summary` each list of user ids (users, excluded users, a stored group's members)
//! longer than `SHOWN_IDS` keeps its first ids, and the event's `cut_lists` says how long the
//! lists really were; `GET /api/v1/history/{id}` still gives the event whole. Without the
//! parameter (the CLI, `ramp-store-http`, replays) events are never cut.

use ramp_core::{FieldChange, HistoryEvent, ListField};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How many ids of a long list a summarised event keeps.
pub const SHOWN_IDS: usize = 10;

/// `lists=full` (the default) or `lists=summary`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListDetail {
    /// Every id of every list, as stored.
    #[default]
    Full,
    /// Lists longer than ten ids cut to their first ten, with their lengths in `cut_lists`.
    Summary,
}

/// A list change that was cut: which one, and how many ids it really held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CutList {
    /// The index of the change in `changes`.
    pub change: usize,
    /// How many ids were added in all.
    pub added_count: usize,
    /// How many ids were removed in all.
    pub removed_count: usize,
}

/// Cuts the event's long id lists to `SHOWN_IDS` and says which were cut (empty: none).
pub fn summarise(event: &mut HistoryEvent) -> Vec<CutList> {
    let mut cut = Vec::new();
    for (index, change) in event.changes.iter_mut().enumerate() {
        let FieldChange::Members {
            field,
            added,
            removed,
        } = change
        else {
            continue;
        };
        // Group names are few and the sentence names each one.
        if *field == ListField::Groups || (added.len() <= SHOWN_IDS && removed.len() <= SHOWN_IDS) {
            continue;
        }
        cut.push(CutList {
            change: index,
            added_count: added.len(),
            removed_count: removed.len(),
        });
        added.truncate(SHOWN_IDS);
        removed.truncate(SHOWN_IDS);
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use ramp_core::{Action, FeatureName, Subject};

    fn event_with(changes: Vec<FieldChange>) -> HistoryEvent {
        HistoryEvent {
            id: 7,
            subject: Subject::Feature(FeatureName::new("big").unwrap()),
            action: Action::Created,
            actor: "ana".to_owned(),
            time: Utc::now(),
            comment: None,
            changes,
        }
    }

    fn ids(count: usize) -> Vec<String> {
        (0..count).map(|number| format!("user-{number}")).collect()
    }

    #[test]
    fn long_user_lists_keep_ten_ids_and_their_counts() {
        let mut event = event_with(vec![
            FieldChange::Members {
                field: ListField::Groups,
                added: ids(20),
                removed: vec![],
            },
            FieldChange::Members {
                field: ListField::Users,
                added: ids(100_000),
                removed: ids(3),
            },
        ]);
        let cut = summarise(&mut event);
        assert_eq!(
            cut,
            vec![CutList {
                change: 1,
                added_count: 100_000,
                removed_count: 3
            }]
        );
        let FieldChange::Members { added, removed, .. } = &event.changes[1] else {
            panic!("a members change");
        };
        assert_eq!(added, &ids(SHOWN_IDS));
        assert_eq!(removed, &ids(3));
        let FieldChange::Members { added: groups, .. } = &event.changes[0] else {
            panic!("a members change");
        };
        assert_eq!(groups.len(), 20, "group names are never cut");
    }

    #[test]
    fn short_lists_are_left_whole() {
        let mut event = event_with(vec![FieldChange::Members {
            field: ListField::Members,
            added: ids(SHOWN_IDS),
            removed: vec![],
        }]);
        assert!(summarise(&mut event).is_empty());
        assert_eq!(event.changes.len(), 1);
    }
}
