//! Direct mode: following a store (SQLite file, Redis, PostgreSQL) without a server.
//!
//! The task reloads the snapshot on each of the store's change notices. A burst of notices
//! (a script making many changes) costs one reload, not one per notice: the notices waiting
//! after the first are drained before reloading, and a notice at or below the loaded version
//! is ignored. A reload every `refresh_interval` covers notices the backend lost; a store that
//! fails is retried with a jittered backoff while checks go on answering from memory.

use std::sync::Arc;

use ramp_store::{ChangeNotice, Store};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::time::{sleep_until, timeout, Instant};
use tokio_util::sync::CancellationToken;

use crate::server_sync::load_backup_file;
use crate::state::{Shared, Source};
use crate::{ClientError, RefreshPolicy};

/// Which store to follow.
pub(crate) enum StoreOrigin {
    /// Opened (and reopened until it works) from a URL.
    Url(String),
    /// Given open by the application.
    Store(Arc<dyn Store>),
}

/// The background task's state.
pub(crate) struct StoreSync {
    shared: Arc<Shared>,
    origin: StoreOrigin,
    policy: RefreshPolicy,
    notices: Option<broadcast::Receiver<ChangeNotice>>,
    failures: u32,
}

impl StoreSync {
    pub fn new(shared: Arc<Shared>, origin: StoreOrigin, policy: RefreshPolicy) -> Self {
        Self {
            shared,
            origin,
            policy,
            notices: None,
            failures: 0,
        }
    }

    /// The first load, while the client is being built: the store's snapshot, else the
    /// backup file's, else nothing.
    pub async fn start(&mut self) {
        if let Err(error) = self.reload().await {
            self.shared.sync.failed();
            self.failures = 1;
            tracing::warn!(error = %error, "Ramp store unreachable at start");
            load_backup_file(&self.shared);
        } else {
            self.shared.sync.connected();
        }
    }

    /// The store, opened and subscribed to on first use.
    async fn store(&mut self) -> Result<Arc<dyn Store>, ClientError> {
        let store = match &self.origin {
            StoreOrigin::Store(store) => store.clone(),
            StoreOrigin::Url(url) => {
                let store = ramp_rollout::open_store(url).await?;
                self.origin = StoreOrigin::Store(store.clone());
                store
            }
        };
        if self.notices.is_none() {
            // Subscribed before the snapshot is read, so no change falls between the two.
            self.notices = Some(store.subscribe());
        }
        Ok(store)
    }

    async fn reload(&mut self) -> Result<(), ClientError> {
        let store = self.store().await?;
        let snapshot = timeout(self.policy.request_timeout, store.snapshot())
            .await
            .map_err(|_| ClientError::StreamEnded {
                url: store.backend().to_owned(),
                reason: "the store did not answer in time".into(),
            })??;
        self.shared.replace(snapshot, Source::Store);
        Ok(())
    }

    /// Follows the store until `shutdown` is cancelled.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut next_reload = if self.failures == 0 {
            Instant::now() + self.policy.refresh_interval
        } else {
            Instant::now() + self.policy.backoff(self.failures)
        };
        loop {
            let received = {
                let notices = &mut self.notices;
                let notice = async {
                    match notices.as_mut() {
                        Some(notices) => notices.recv().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = sleep_until(next_reload) => None,
                    received = notice => Some(received),
                }
            };
            match received {
                Some(Ok(notice)) if self.already_loaded(notice.version) => continue,
                Some(Err(RecvError::Closed)) => self.notices = None,
                // A change, lost notices, or the periodic reload.
                Some(Ok(_)) | Some(Err(RecvError::Lagged(_))) | None => {}
            }
            self.drain_notices();
            match self.reload().await {
                Ok(()) => {
                    self.shared.sync.connected();
                    self.failures = 0;
                    next_reload = Instant::now() + self.policy.refresh_interval;
                }
                Err(error) => {
                    self.shared.sync.failed();
                    self.failures = self.failures.saturating_add(1);
                    tracing::warn!(error = %error, "could not reload from the Ramp store; answering from the last snapshot");
                    next_reload = Instant::now() + self.policy.backoff(self.failures);
                }
            }
        }
    }

    /// Whether the snapshot loaded from the store already includes this version.
    fn already_loaded(&self, version: u64) -> bool {
        let current = self.shared.current.load();
        current.source == Source::Store && version <= current.snapshot.version
    }

    /// Drops the notices already waiting: the reload about to happen covers them all.
    fn drain_notices(&mut self) {
        let Some(notices) = self.notices.as_mut() else {
            return;
        };
        loop {
            match notices.try_recv() {
                Ok(_) | Err(TryRecvError::Lagged(_)) => continue,
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Closed) => {
                    self.notices = None;
                    return;
                }
            }
        }
    }
}
