//! The state a `PostgresStore`'s operations and its listener task share: the connection pool,
//! the schema, and the change notices this store announces.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use deadpool_postgres::{Object, Pool};
use ramp_core::FeatureName;
use ramp_store::{ChangeNotice, StoreError};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio_postgres::Config;

use crate::connection::pooled;

/// What a store's operations and its listener share.
pub(crate) struct Shared {
    pub(crate) pool: Pool,
    pub(crate) schema: String,
    pub(crate) randomize_percentage: bool,
    /// `ramp_changes_<schema>`: every commit to the schema notifies this channel.
    pub(crate) channel: String,
    /// A random id in every notification this store sends, so that its listener can skip its
    /// own (their notices went out at commit, with less delay).
    pub(crate) origin: String,
    /// A broadcast channel because any number of subscribers (server streams) want every
    /// notice, and a slow one should miss notices rather than hold up writers.
    pub(crate) notices: broadcast::Sender<ChangeNotice>,
    /// The highest store version a notice was sent for; the listener compares it with the
    /// version it finds after connecting, to tell whether it missed writes.
    pub(crate) announced: AtomicU64,
    /// The settings of the listener's dedicated connection.
    pub(crate) listen_config: Config,
    /// The listener task, if one was started. A handle rather than a flag: a task whose runtime
    /// shut down is finished, and the next subscriber (in another runtime) starts a new one.
    pub(crate) listener: Mutex<Option<JoinHandle<()>>>,
    /// Never sent on: dropping it with the store wakes the listener at once to stop.
    pub(crate) closing: watch::Sender<()>,
    /// Whether the listener's `LISTEN` is in force right now.
    pub(crate) listening: watch::Sender<bool>,
    /// Held by this store's exposure ingest (`exposures::record`) for its whole transaction.
    pub(crate) ingest: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Shared")
            .field("schema", &self.schema)
            .field("randomize_percentage", &self.randomize_percentage)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// Locks a mutex whatever a panicking holder left: the guarded handle is always consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// A connection from the pool.
    pub(crate) async fn client(&self) -> Result<Object, StoreError> {
        pooled(&self.pool).await
    }

    /// Tells subscribers about a write this store committed, which brought the store to
    /// `version`.
    pub(crate) fn announce(&self, version: u64, feature: Option<FeatureName>) {
        self.announced.fetch_max(version, Ordering::SeqCst);
        // No subscriber is not an error.
        let _ = self.notices.send(ChangeNotice { version, feature });
    }
}
