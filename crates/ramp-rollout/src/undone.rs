//! Which history events a later undo or revert took back.
//!
//! A revert records its link to the event it took back in its comment (`undo of event 12`, or
//! `revert of event 12`, followed by `: ` and the person's own comment if they gave one), so
//! every store keeps the link without a schema of its own. Reading the links newest first
//! tells, for each event, whether it is still in effect: an undo that was itself undone no
//! longer counts, so its event is in effect again.

use std::collections::HashMap;

use ramp_core::{HistoryEvent, Subject};

use crate::RevertScope;

/// A revert's link to the event it took back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UndoLink {
    /// `OnlyThisEvent` took back that event alone; `ToBefore` also every later one up to the
    /// revert.
    pub scope: RevertScope,
    /// The event taken back.
    pub event_id: u64,
}

const UNDO_PREFIX: &str = "undo of event ";
const REVERT_PREFIX: &str = "revert of event ";

/// The comment a revert is recorded with: the link, then the person's own words if any.
pub(crate) fn link_comment(scope: RevertScope, event_id: u64, comment: Option<&str>) -> String {
    let prefix = match scope {
        RevertScope::ToBefore => REVERT_PREFIX,
        RevertScope::OnlyThisEvent => UNDO_PREFIX,
    };
    match comment {
        Some(comment) => format!("{prefix}{event_id}: {comment}"),
        None => format!("{prefix}{event_id}"),
    }
}

/// The event this one took back, if it is a revert.
pub fn undo_link(event: &HistoryEvent) -> Option<UndoLink> {
    let comment = event.comment.as_deref()?;
    let (scope, rest) = if let Some(rest) = comment.strip_prefix(UNDO_PREFIX) {
        (RevertScope::OnlyThisEvent, rest)
    } else {
        (RevertScope::ToBefore, comment.strip_prefix(REVERT_PREFIX)?)
    };
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (number, after) = rest.split_at(digits);
    if !(after.is_empty() || after.starts_with(": ")) {
        return None;
    }
    let event_id = number.parse().ok()?;
    // A revert always comes after what it takes back; anything else is a person's comment
    // that happens to read like a link.
    (event_id < event.id).then_some(UndoLink { scope, event_id })
}

/// The person's own words in a revert's comment, without the link (`None` if only the link).
pub fn own_comment(event: &HistoryEvent) -> Option<&str> {
    let comment = event.comment.as_deref()?;
    if undo_link(event).is_none() {
        return Some(comment);
    }
    comment.split_once(": ").map(|(_, own)| own)
}

/// For events given newest first (one feature's or group's, or several), which of them a later
/// revert in the same list took back and is still in effect: event id → the revert's id.
/// An event older than every revert that could take it back must be in the list with them.
pub fn undone_by(events_newest_first: &[HistoryEvent]) -> HashMap<u64, u64> {
    let mut undone = HashMap::new();
    // `ToBefore` reverts seen so far: (feature or group, first event taken back, the revert's
    // id).
    let mut ranges: Vec<(&Subject, u64, u64)> = Vec::new();
    for event in events_newest_first {
        let range = ranges.iter().find(|(subject, from, by)| {
            *subject == &event.subject && *from <= event.id && event.id < *by
        });
        if let Some((_, _, by)) = range {
            // An undo already seen took it back directly; otherwise the range did.
            undone.entry(event.id).or_insert(*by);
        }
        if undone.contains_key(&event.id) {
            // Taken back itself: what it undid is in effect again.
            continue;
        }
        match undo_link(event) {
            Some(UndoLink {
                scope: RevertScope::OnlyThisEvent,
                event_id,
            }) => {
                undone.entry(event_id).or_insert(event.id);
            }
            Some(UndoLink {
                scope: RevertScope::ToBefore,
                event_id,
            }) => ranges.push((&event.subject, event_id, event.id)),
            None => {}
        }
    }
    undone
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use ramp_core::history::Action;
    use ramp_core::FeatureName;

    fn event(id: u64, feature: &str, comment: Option<String>) -> HistoryEvent {
        HistoryEvent {
            id,
            subject: FeatureName::new(feature).unwrap().into(),
            action: Action::Updated,
            actor: "ana".into(),
            time: Utc::now(),
            comment,
            changes: Vec::new(),
        }
    }

    fn undo(id: u64, of: u64) -> HistoryEvent {
        event(
            id,
            "chat",
            Some(link_comment(RevertScope::OnlyThisEvent, of, None)),
        )
    }

    #[test]
    fn links_are_read_back_with_or_without_a_comment() {
        let plain = undo(5, 3);
        assert_eq!(
            undo_link(&plain),
            Some(UndoLink {
                scope: RevertScope::OnlyThisEvent,
                event_id: 3
            })
        );
        assert_eq!(own_comment(&plain), None);
        let said = event(
            6,
            "chat",
            Some(link_comment(RevertScope::ToBefore, 2, Some("errors"))),
        );
        assert_eq!(undo_link(&said).map(|link| link.event_id), Some(2));
        assert_eq!(own_comment(&said), Some("errors"));
        for comment in [
            "undo of event 3x",
            "undo of event ",
            "undo of event 9",
            "redo",
        ] {
            let other = event(7, "chat", Some(comment.into()));
            assert_eq!(undo_link(&other), None, "{comment}");
            assert_eq!(own_comment(&other), Some(comment));
        }
    }

    #[test]
    fn an_undone_undo_puts_its_event_back_in_effect() {
        // 1, 2 changes; 3 undoes 1; 4 undoes 3 (so 1 counts again); 5 undoes 2.
        let events = vec![
            undo(5, 2),
            undo(4, 3),
            undo(3, 1),
            event(2, "chat", None),
            event(1, "chat", None),
        ];
        let undone = undone_by(&events);
        assert_eq!(undone.get(&2), Some(&5));
        assert_eq!(undone.get(&3), Some(&4));
        assert_eq!(undone.get(&1), None);
        assert_eq!(undone.len(), 2);
    }

    #[test]
    fn a_revert_to_before_takes_back_every_later_event_of_its_feature() {
        let revert = event(
            6,
            "chat",
            Some(link_comment(RevertScope::ToBefore, 3, None)),
        );
        let events = vec![
            revert,
            event(5, "other", None),
            event(4, "chat", None),
            undo(3, 1),
            event(2, "chat", None),
            event(1, "chat", None),
        ];
        let undone = undone_by(&events);
        assert_eq!(undone.get(&4), Some(&6));
        assert_eq!(undone.get(&3), Some(&6));
        assert_eq!(undone.get(&5), None, "another feature's event");
        assert_eq!(undone.get(&1), None, "its undo was reverted");
        assert_eq!(undone.get(&2), None);
    }
}
