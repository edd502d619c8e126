//! Answers as of a past time: "was user 42 in `new-form` on 3 Nov at 10:00, and why".
//!
//! The store keeps only the current snapshot, but its history is complete, so the handle reads
//! the snapshot and every event made since the time and lets the core undo them
//! ([`ramp_core::snapshot_at`]); evaluation is deterministic, so the past snapshot gives the
//! past answer. An event made exactly at the time counts as already happened.
//!
//! The snapshot and the history are two reads, so a write landing between them could pair a
//! snapshot with events it does not reflect (undoing a change the snapshot never had). Every
//! write that records an event bumps the store version in the same atomic step, so the handle
//! reads the snapshot, then the history, then the snapshot's version again, and starts over
//! when the version moved. Comparing versions, not the newest event id, because a store's ids
//! need not commit in order (PostgreSQL sequences do not), while its version does.

use chrono::{DateTime, Utc};
use ramp_core::{CompiledSnapshot, Context, Decision, FeatureName, HistoryEvent, Snapshot};
use ramp_store::HistoryQuery;

use crate::{Rollout, RolloutError};

/// The most events one answer replays: beyond it the answer would read too much history to be
/// an interactive question (ask about a later time, or export and replay offline).
pub const MAX_REPLAYED_EVENTS: usize = 100_000;

/// History is read in pages this long (the server's API allows at most 1000 per page).
const PAGE: usize = 1000;

/// How many times to start over when the store changes between the reads.
const ATTEMPTS: usize = 5;

impl Rollout {
    /// Every feature and stored group as they were at `at` (see the module's documentation).
    /// A time before any history gives the store before its first recorded change; a time in
    /// the future gives the current snapshot.
    ///
    /// Fails with [`RolloutError::HistoryTooLong`] when more than [`MAX_REPLAYED_EVENTS`]
    /// events were made after `at`, and [`RolloutError::StoreKeptChanging`] when the store
    /// changed during every attempt to read it.
    pub async fn snapshot_at(&self, at: DateTime<Utc>) -> Result<Snapshot, RolloutError> {
        for _ in 0..ATTEMPTS {
            let current = self.store.snapshot().await?;
            let events = self.events_after(at).await?;
            let again = self.store.snapshot().await?;
            if again.version == current.version {
                return Ok(ramp_core::snapshot_at(&current, &events, at)?);
            }
        }
        Err(RolloutError::StoreKeptChanging { attempts: ATTEMPTS })
    }

    /// Whether the feature was active for the context at `at`, and why. A feature that did not
    /// exist then is off with the reason `not_found`. Code groups are evaluated with today's
    /// definitions: their code has no history.
    pub async fn check_at(
        &self,
        feature: &str,
        context: &Context,
        at: DateTime<Utc>,
    ) -> Result<Decision, RolloutError> {
        let name = FeatureName::new(feature)?;
        let snapshot = CompiledSnapshot::compile(&self.snapshot_at(at).await?);
        Ok(snapshot.evaluate(name.as_str(), context, &self.code_groups()))
    }

    /// Every feature that existed at `at`, with its decision for the context then, sorted by
    /// name.
    pub async fn feature_states_at(
        &self,
        context: &Context,
        at: DateTime<Utc>,
    ) -> Result<Vec<(FeatureName, Decision)>, RolloutError> {
        let snapshot = self.snapshot_at(at).await?;
        Ok(self.states_in(snapshot, context))
    }

    /// Every event (of any feature or group) made after `at`, newest first.
    async fn events_after(&self, at: DateTime<Utc>) -> Result<Vec<HistoryEvent>, RolloutError> {
        let mut events = Vec::new();
        let mut before_id = None;
        loop {
            // `since` is inclusive and a store may keep coarser times than it was given, so
            // ask for a superset and keep only what is strictly later.
            let query = HistoryQuery {
                since: Some(at),
                before_id,
                limit: PAGE,
                ..HistoryQuery::default()
            };
            let page = self.store.history(&query).await?;
            let full = page.len() == PAGE;
            before_id = page.last().map(|event| event.id);
            events.extend(page.into_iter().filter(|event| event.time > at));
            if events.len() > MAX_REPLAYED_EVENTS {
                return Err(RolloutError::HistoryTooLong {
                    at,
                    limit: MAX_REPLAYED_EVENTS,
                });
            }
            if !full {
                return Ok(events);
            }
        }
    }
}
