//! History and `revert`: putting a feature back as it was just before a given event, or
//! undoing just that event's own changes.
//!
//! The state before an event is found by undoing, newest first, every event of that feature
//! down to and including it; undoing one event applies only its inverse to the current state
//! (values it set go back to what they were, members it added go, members it removed come
//! back), so later changes to other fields stay. Either result is written as one new change (so
//! a revert is itself recorded and can be reverted). The write names the version it started
//! from, so a change made meanwhile is never overwritten: the revert fails with a conflict
//! instead. Undoing one event that a later undo already took back is refused
//! ([`RolloutError::AlreadyUndone`]): it would change nothing and read as if it had.

use ramp_core::history::state_before;
use ramp_core::{Attribution, Change, FeatureName, HistoryEvent, Subject};
use ramp_store::{HistoryQuery, StoreError};

use crate::undone::{link_comment, undone_by};
use crate::{Rollout, RolloutError};

/// What a revert did.
#[derive(Debug, Clone, PartialEq)]
pub enum Reverted {
    /// The feature was given its earlier state; the new event records it.
    Restored(Option<HistoryEvent>),
    /// The event created the feature, so reverting it deleted the feature.
    Deleted(HistoryEvent),
}

/// How much a revert undoes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RevertScope {
    /// Back to the state just before the event: every later change is undone too.
    #[default]
    ToBefore,
    /// Only the event's own changes; later changes stay.
    OnlyThisEvent,
}

impl Rollout {
    /// History, newest first (one feature's or all), paged by `before_id`.
    pub async fn history(
        &self,
        feature: Option<&str>,
        before_id: Option<u64>,
        limit: usize,
    ) -> Result<Vec<HistoryEvent>, RolloutError> {
        let feature = feature.map(FeatureName::new).transpose()?;
        Ok(self
            .store
            .history(&HistoryQuery {
                feature,
                before_id,
                limit,
                ..HistoryQuery::default()
            })
            .await?)
    }

    /// One stored group's history, newest first, paged by `before_id`.
    pub async fn group_history(
        &self,
        group: &str,
        before_id: Option<u64>,
        limit: usize,
    ) -> Result<Vec<HistoryEvent>, RolloutError> {
        let group = ramp_core::GroupName::new(group)?;
        Ok(self
            .store
            .history(&HistoryQuery {
                group: Some(group),
                before_id,
                limit,
                ..HistoryQuery::default()
            })
            .await?)
    }

    /// Restores `feature` to its state just before event `event_id`.
    pub async fn revert(&self, feature: &str, event_id: u64) -> Result<Reverted, RolloutError> {
        self.revert_with(feature, event_id, RevertScope::ToBefore, None)
            .await
    }

    /// Reverts event `event_id` of `feature` as `scope` says. With `expected_version`, the
    /// revert is refused (a conflict) unless the feature is still at that version: the caller
    /// decided on what it saw.
    pub async fn revert_with(
        &self,
        feature: &str,
        event_id: u64,
        scope: RevertScope,
        expected_version: Option<u64>,
    ) -> Result<Reverted, RolloutError> {
        let name = FeatureName::new(feature)?;
        let event = self
            .subjects_event(&Subject::Feature(name.clone()), event_id)
            .await?;
        let current = self.store.feature(&name).await?;
        let version = current.as_ref().map_or(0, |feature| feature.version);
        if let Some(expected) = expected_version.filter(|expected| *expected != version) {
            return Err(StoreError::Conflict {
                feature: name.to_string(),
                expected,
                actual: version,
            }
            .into());
        }
        let current = current.map(|feature| feature.state());
        let subject = Subject::Feature(name.clone());
        let target = match scope {
            RevertScope::ToBefore => {
                state_before(current, &self.events_since(&subject, event_id).await?)?
            }
            RevertScope::OnlyThisEvent => {
                let since = self.events_since(&subject, event_id).await?;
                if let Some(by) = undone_by(&since).get(&event_id) {
                    return Err(RolloutError::AlreadyUndone {
                        event_id,
                        undone_by: *by,
                    });
                }
                event.undo(current)?
            }
        };
        let attribution = self.revert_attribution(scope, event_id);
        match target {
            Some(state) => {
                let applied = self
                    .store
                    .apply(
                        &name,
                        &Change::Replace { state },
                        Some(version),
                        &attribution,
                    )
                    .await?;
                Ok(Reverted::Restored(applied.event))
            }
            None if version == 0 => Ok(Reverted::Restored(None)),
            None => Ok(Reverted::Deleted(
                self.store
                    .delete(&name, Some(version), &attribution)
                    .await?,
            )),
        }
    }

    /// Event `event_id`, which must be `subject`'s.
    pub(crate) async fn subjects_event(
        &self,
        subject: &Subject,
        event_id: u64,
    ) -> Result<HistoryEvent, RolloutError> {
        let event = self
            .store
            .history_event(event_id)
            .await?
            .ok_or(StoreError::NotFound {
                kind: "history event",
                name: event_id.to_string(),
            })?;
        if &event.subject != subject {
            let named = |subject: &Subject| format!("{} {:?}", subject.kind(), subject.name());
            return Err(RolloutError::EventOfAnotherSubject {
                event_id,
                requested: named(subject),
                actual: named(&event.subject),
            });
        }
        Ok(event)
    }

    /// Who a revert is recorded as. The link to the event goes first, whatever the person
    /// wrote, so that history can tell which events a revert took back.
    pub(crate) fn revert_attribution(&self, scope: RevertScope, event_id: u64) -> Attribution {
        Attribution {
            actor: self.attribution.actor.clone(),
            comment: Some(link_comment(
                scope,
                event_id,
                self.attribution.comment.as_deref(),
            )),
        }
    }

    /// The subject's events from the newest down to `event_id`, inclusive.
    pub(crate) async fn events_since(
        &self,
        subject: &Subject,
        event_id: u64,
    ) -> Result<Vec<HistoryEvent>, RolloutError> {
        const PAGE: usize = 500;
        let mut events = Vec::new();
        let mut before_id = None;
        loop {
            let query = HistoryQuery {
                feature: subject.feature().cloned(),
                group: subject.group().cloned(),
                before_id,
                limit: PAGE,
                ..HistoryQuery::default()
            };
            let page = self.store.history(&query).await?;
            let full = page.len() == PAGE;
            for event in page {
                if event.id < event_id {
                    return Ok(events);
                }
                before_id = Some(event.id);
                events.push(event);
            }
            if !full {
                return Ok(events);
            }
        }
    }
}
