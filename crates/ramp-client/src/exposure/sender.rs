//! The background task that sends exposure counts: every interval it drains the counters and
//! posts the pending batches to `POST /api/v1/exposures`, oldest first; on shutdown (`close`,
//! or the last client dropped) it drains and posts once more within a short deadline.
//!
//! It never touches a check: checks only increment counters, and this task is the only one
//! that waits on the network. A connection error, a timeout, 408, 429 or a 5xx keeps the
//! batch for the next round (the same id); any other answer but 2xx drops it, counted.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::time::{interval_at, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::pending::Pending;
use crate::http::Http;
use crate::state::Shared;
use crate::ClientError;

/// Sends one client's exposure counts.
pub(crate) struct Sender {
    shared: Arc<Shared>,
    http: Http,
    pending: Pending,
}

impl Sender {
    pub fn new(shared: Arc<Shared>, http: Http) -> Self {
        let pending = Pending::new(shared.exposures.settings.pending_entries);
        Self {
            shared,
            http,
            pending,
        }
    }

    /// Runs until `shutdown`, then flushes once within the close deadline.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let settings = &self.shared.exposures.settings;
        let (every, deadline) = (settings.interval, settings.close_deadline);
        let mut ticks = interval_at(Instant::now() + every, every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticks.tick() => self.flush().await,
                () = self.shared.exposures.flush_now.notified() => self.flush().await,
            }
        }
        if tokio::time::timeout(deadline, self.flush()).await.is_err() {
            tracing::warn!(
                batches = self.pending.len(),
                "Ramp could not send its last exposure counts before closing"
            );
        }
    }

    /// Drains the counters into the pending batches and sends them, oldest first, until one
    /// fails.
    async fn flush(&mut self) {
        let exposures = &self.shared.exposures;
        let batch = exposures.drain(&self.shared.current.load());
        self.pending.push(batch, exposures);
        while let Some(batch) = self.pending.next(exposures) {
            match self.http.post_exposures(batch).await {
                Ok(()) => {
                    self.pending.sent();
                    exposures
                        .status
                        .sent_batches
                        .fetch_add(1, Ordering::Relaxed);
                }
                Err(error) if retryable(&error) => {
                    tracing::debug!(error = %error, "Ramp will send its exposure counts later");
                    break;
                }
                Err(error) => {
                    tracing::warn!(error = %error, "the Ramp server refused exposure counts");
                    self.pending.refused();
                }
            }
        }
        let status = &exposures.status;
        let pending = &self.pending;
        status
            .pending_batches
            .store(pending.len() as u64, Ordering::Relaxed);
        status
            .pending_entries
            .store(pending.entries() as u64, Ordering::Relaxed);
        status
            .dropped
            .store(pending.dropped_total(), Ordering::Relaxed);
        status.rounds.fetch_add(1, Ordering::Release);
    }
}

/// Whether the server may take the same batch later.
fn retryable(error: &ClientError) -> bool {
    match error {
        ClientError::Status { status, .. } => matches!(status, 408 | 429 | 500..=599),
        _ => true,
    }
}
