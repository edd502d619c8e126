//! Following the store: the one task that keeps the live snapshot current.
//!
//! A notice naming a feature at the next version re-reads just that feature and patches the
//! snapshot; anything else (stored groups, writes seen from outside, a lagging subscription, a
//! notice that overtook an earlier one) reloads the whole snapshot and publishes what differs.
//! A full reload also runs now and then in case a notice was lost, and soon after a failure;
//! while the store fails, the last snapshot goes on being served.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ramp_core::SnapshotDiff;
use ramp_store::{ChangeNotice, Store, StoreError};
use ramp_stream::StreamEvent;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::{Live, Loaded};
use crate::metrics::Metrics;

/// A full reload this often even without notices, in case one was lost.
const SAFETY_RELOAD: Duration = Duration::from_secs(60);

/// How soon to try again after the store failed.
const RETRY: Duration = Duration::from_secs(2);

impl Live {
    /// Follows the store until `shutdown` is cancelled.
    pub async fn follow(
        self: Arc<Self>,
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
    ) {
        let mut notices = store.subscribe();
        // A change between the first load and the subscription would otherwise be missed.
        self.settle(self.reload(store.as_ref()).await, &metrics);
        let mut last_full_reload = Instant::now();
        let mut tick = tokio::time::interval(RETRY);
        loop {
            let result = tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {
                    // Retry soon after a failure; otherwise reload now and then in case a
                    // notice was lost.
                    if self.is_ready() && last_full_reload.elapsed() < SAFETY_RELOAD {
                        continue;
                    }
                    last_full_reload = Instant::now();
                    self.reload(store.as_ref()).await
                }
                notice = notices.recv() => match notice {
                    Ok(notice) => self.apply_notice(store.as_ref(), notice).await,
                    Err(RecvError::Lagged(_)) => self.reload(store.as_ref()).await,
                    Err(RecvError::Closed) => return,
                },
            };
            self.settle(result, &metrics);
            metrics.set_snapshot(&self.current());
        }
    }

    async fn reload(&self, store: &dyn Store) -> Result<(), StoreError> {
        let snapshot = store.snapshot().await?;
        let current = self.current();
        if snapshot.version == current.snapshot.version {
            // Same version: a notice we already applied, or a safety reload with nothing new.
            return Ok(());
        }
        let diff = SnapshotDiff::between(&current.snapshot, &snapshot);
        let event = StreamEvent::from_diff(&diff);
        let compiled = current.compiled.updated(&diff, &snapshot);
        self.publish(Loaded::with_compiled(snapshot, compiled), event);
        Ok(())
    }

    async fn apply_notice(
        &self,
        store: &dyn Store,
        notice: ChangeNotice,
    ) -> Result<(), StoreError> {
        let current = self.current();
        if notice.version <= current.snapshot.version {
            return Ok(());
        }
        let Some(name) = notice.feature else {
            return self.reload(store).await;
        };
        if notice.version != current.snapshot.version + 1 {
            // A version in between is not heard of yet (two writers announced in another order
            // than they committed): a patch would claim a version whose change it lacks, and
            // the late notice would then be skipped. Every change grows the store's version by
            // one, so a snapshot patched only from the next version holds every change up to
            // its own, which readers of the live snapshot rely on (`fresh_snapshot.rs`).
            return self.reload(store).await;
        }
        let (features, deleted) = match store.feature(&name).await? {
            Some(feature) => (vec![feature], Vec::new()),
            None => (Vec::new(), vec![name]),
        };
        let loaded = current.patched(notice.version, &features, &deleted);
        self.publish(
            loaded,
            StreamEvent::Changed {
                version: notice.version,
                features,
                deleted,
            },
        );
        Ok(())
    }

    fn settle(&self, result: Result<(), StoreError>, metrics: &Metrics) {
        match result {
            Ok(()) => self.set_ready(true),
            Err(error) => {
                tracing::warn!(%error, "could not refresh the snapshot; serving the last one");
                metrics.store_error();
                self.set_ready(false);
            }
        }
    }
}
