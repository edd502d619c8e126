//! `Migration::watch`: a pass now, then a pass after each change of the feature, until
//! stopped.

use std::sync::Arc;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::driver::Migration;
use super::ledger::Ledger;
use super::source::RecordSource;
use crate::ClientError;

impl<Source: RecordSource, L: Ledger> Migration<Source, L> {
    /// Runs a pass, then another each time the feature (or the stored groups) change, until
    /// `stop` is cancelled. A pass that failed, or left failures, is retried after the retry
    /// interval if nothing changes sooner. Cancelling mid-pass abandons the move under way;
    /// a transactional ledger rolls it back, so the next start resumes exactly.
    ///
    /// Returns an error only for a setting that cannot work (a bad name or batch size).
    pub async fn watch(&mut self, stop: CancellationToken) -> Result<(), ClientError> {
        self.check_settings()?;
        let changed = Arc::new(Notify::new());
        // A change during a pass leaves a permit, so the next pass starts right after it. The
        // callback cannot be removed from the client, so it holds the notifier weakly and
        // does nothing once this watch has ended.
        let weak = Arc::downgrade(&changed);
        let feature = self.feature.clone();
        self.client.on_change(move |event| {
            if event.groups_changed || event.features.contains(&feature) {
                if let Some(changed) = weak.upgrade() {
                    changed.notify_one();
                }
            }
        });
        loop {
            let outcome = tokio::select! {
                () = stop.cancelled() => return Ok(()),
                outcome = self.run_pass() => outcome,
            };
            let retry = match outcome {
                Ok(report) if report.failures == 0 => None,
                Ok(report) => {
                    tracing::warn!(migration = %self.name, failures = report.failures, "ramp: migration pass left failures");
                    Some(self.retry_interval)
                }
                Err(error) => {
                    tracing::warn!(migration = %self.name, %error, "ramp: migration pass failed");
                    Some(self.retry_interval)
                }
            };
            let retry_sleep = async {
                match retry {
                    Some(interval) => tokio::time::sleep(interval).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = stop.cancelled() => return Ok(()),
                () = changed.notified() => {}
                () = retry_sleep => {}
            }
        }
    }
}
