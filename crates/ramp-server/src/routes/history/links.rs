//! What a history page adds to each event for people: whether a later undo took it back and
//! still stands (`undone_by`), and, for an undo or revert, which change it took back
//! (`undoes`), so the UI can say "undid alice's change of 29 Nov" and mark undone events
//! instead of showing event numbers.
//!
//! Finding undos means reading the events newer than the page: at most `SCAN_LIMIT` of them
//! (one feature's or group's, or all for the global history), so a page deep in a long history
//! costs a bounded read and may miss an undo made more than that many events later.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ramp_core::{Action, HistoryEvent};
use ramp_rollout::{undo_link, undone_by, RevertScope};
use ramp_store::{HistoryQuery, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// The most newer events read to find the undos of a page's events.
const SCAN_LIMIT: usize = 10_000;
/// Events read per store call while scanning.
const BATCH: usize = 500;

/// A history event as a page lists it: the stored event plus its links.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageEvent {
    /// The stored event (id, feature or group, action, actor, time, comment, changes).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub event: HistoryEvent,
    /// The later undo that took this event back and still stands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undone_by: Option<EventReference>,
    /// For an undo or revert: the event it took back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undoes: Option<UndoneEvent>,
    /// With `lists=summary`: the changes whose id lists were cut, with their real lengths.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cut_lists: Vec<super::summary::CutList>,
}

/// Another event, in short.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventReference {
    /// Its id.
    pub id: u64,
    /// Who made it.
    pub actor: String,
    /// When.
    #[schema(value_type = String)]
    pub time: DateTime<Utc>,
    /// `created`, `updated` or `deleted`.
    #[schema(value_type = String)]
    pub action: Action,
}

/// The event an undo or revert took back.
#[derive(Debug, Serialize, ToSchema)]
pub struct UndoneEvent {
    /// The event.
    #[serde(flatten)]
    pub event: EventReference,
    /// `only_this_event` (that change alone) or `to_before` (back to before it: later changes
    /// too).
    pub scope: &'static str,
}

impl From<&HistoryEvent> for EventReference {
    fn from(event: &HistoryEvent) -> Self {
        Self {
            id: event.id,
            actor: event.actor.clone(),
            time: event.time,
            action: event.action,
        }
    }
}

/// The page's events (newest first) with their links; `subject` is the page's feature or
/// group filter (the rest of its filters do not apply: an undo by anyone counts).
pub async fn annotate(
    state: &AppState,
    subject: &HistoryQuery,
    events: Vec<HistoryEvent>,
) -> Result<Vec<PageEvent>, StoreError> {
    let Some(oldest) = events.last().map(|event| event.id) else {
        return Ok(Vec::new());
    };
    let newer = newer_events(state, subject, oldest).await?;
    let undone = undone_by(&newer);
    let by_id: HashMap<u64, &HistoryEvent> = newer.iter().map(|event| (event.id, event)).collect();
    let mut annotated = Vec::with_capacity(events.len());
    for event in events {
        let undone_by = undone
            .get(&event.id)
            .and_then(|id| by_id.get(id))
            .map(|undo| EventReference::from(*undo));
        let undoes = match undo_link(&event) {
            Some(link) => {
                let target = match by_id.get(&link.event_id) {
                    Some(found) => Some(EventReference::from(*found)),
                    None => state
                        .store
                        .history_event(link.event_id)
                        .await?
                        .map(|found| EventReference::from(&found)),
                };
                target.map(|event| UndoneEvent {
                    event,
                    scope: match link.scope {
                        RevertScope::OnlyThisEvent => "only_this_event",
                        RevertScope::ToBefore => "to_before",
                    },
                })
            }
            None => None,
        };
        annotated.push(PageEvent {
            event,
            undone_by,
            undoes,
            cut_lists: Vec::new(),
        });
    }
    Ok(annotated)
}

/// The events from the newest down to `oldest` (inclusive), newest first, at most
/// `SCAN_LIMIT`.
async fn newer_events(
    state: &AppState,
    subject: &HistoryQuery,
    oldest: u64,
) -> Result<Vec<HistoryEvent>, StoreError> {
    let mut events = Vec::new();
    let mut before_id = None;
    while events.len() < SCAN_LIMIT {
        let read = state
            .store
            .history(&HistoryQuery {
                feature: subject.feature.clone(),
                group: subject.group.clone(),
                before_id,
                limit: BATCH,
                ..HistoryQuery::default()
            })
            .await?;
        let exhausted = read.len() < BATCH;
        for event in read {
            if event.id < oldest {
                return Ok(events);
            }
            before_id = Some(event.id);
            events.push(event);
        }
        if exhausted {
            break;
        }
    }
    Ok(events)
}
