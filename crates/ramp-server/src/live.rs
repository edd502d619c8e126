//! The live snapshot: what the server evaluates from (OFREP, checks) and what it sends SDKs.
//!
//! One task follows the store's change notices. A notice naming a feature re-reads just that
//! feature and patches the snapshot; anything else (stored groups, writes seen from outside,
//! a lagging subscription) reloads the whole snapshot. Each step is published to stream
//! subscribers as a [`StreamEvent`], and the last events are kept so a subscriber that
//! reconnects with `Last-Event-ID` gets what it missed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use axum::body::Bytes;
use ramp_core::{CompiledSnapshot, Snapshot};
use ramp_store::{ChangeNotice, Store, StoreError};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

mod events;

use events::Recent;
pub use events::{Published, StreamEvent};

/// A full reload this often even without notices, in case one was lost.
const SAFETY_RELOAD: Duration = Duration::from_secs(60);

/// How soon to try again after the store failed.
const RETRY: Duration = Duration::from_secs(2);

/// One snapshot, compiled, with when it was loaded.
#[derive(Debug)]
pub struct Loaded {
    /// The data, as SDKs receive it.
    pub snapshot: Snapshot,
    /// The same, ready to evaluate.
    pub compiled: CompiledSnapshot,
    /// When it was read from the store.
    pub loaded_at: SystemTime,
    /// The snapshot as JSON, made on first request and shared by every SDK that asks.
    json: OnceLock<Bytes>,
    /// Every user id the snapshot mentions, made on first request (for the web UI's coverage).
    known_users: OnceLock<Vec<String>>,
}

impl Loaded {
    /// Every distinct user id on any feature's lists or in any stored group: the users the
    /// store knows of, for "this percentage reaches about N of them".
    pub fn known_users(&self) -> &[String] {
        self.known_users.get_or_init(|| {
            let mut ids = std::collections::HashSet::new();
            for feature in &self.snapshot.features {
                ids.extend(feature.users.iter().map(|id| id.as_str()));
                ids.extend(feature.excluded_users.iter().map(|id| id.as_str()));
            }
            for group in &self.snapshot.groups {
                ids.extend(group.members.iter().map(|id| id.as_str()));
            }
            ids.into_iter().map(str::to_owned).collect()
        })
    }

    fn new(snapshot: Snapshot) -> Self {
        Self {
            compiled: CompiledSnapshot::compile(&snapshot),
            snapshot,
            loaded_at: SystemTime::now(),
            json: OnceLock::new(),
            known_users: OnceLock::new(),
        }
    }

    /// The snapshot as JSON.
    pub fn json(&self) -> Bytes {
        self.json
            .get_or_init(|| {
                // Serializing plain data to memory does not fail.
                Bytes::from(serde_json::to_vec(&self.snapshot).unwrap_or_default())
            })
            .clone()
    }
}

/// The current snapshot and the event feed, shared by every request.
pub struct Live {
    current: ArcSwap<Loaded>,
    /// Wakes stream subscribers with the newest version; they read the events themselves from
    /// `recent`, so the channel holds no event and only `recent` costs memory.
    wake: broadcast::Sender<u64>,
    recent: Mutex<Recent>,
    ready: AtomicBool,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Live")
            .field("version", &self.current.load().snapshot.version)
            .finish()
    }
}

impl Live {
    /// Loads the first snapshot. At most `resume_bytes` of recent events are kept for
    /// subscribers that reconnect.
    pub async fn load(store: &dyn Store, resume_bytes: usize) -> Result<Self, StoreError> {
        let snapshot = store.snapshot().await?;
        let snapshot_version = snapshot.version;
        let (wake, _) = broadcast::channel(16);
        Ok(Self {
            current: ArcSwap::from_pointee(Loaded::new(snapshot)),
            wake,
            recent: Mutex::new(Recent::new(snapshot_version, resume_bytes)),
            ready: AtomicBool::new(true),
        })
    }

    /// The snapshot now.
    pub fn current(&self) -> Arc<Loaded> {
        self.current.load_full()
    }

    /// Whether the last attempt to follow the store succeeded.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// A receiver that wakes on every event from now on (with its version); the events
    /// themselves come from [`Live::events_after`]. Lagging is harmless: read them all then.
    pub fn subscribe(&self) -> broadcast::Receiver<u64> {
        self.wake.subscribe()
    }

    /// How many stream subscribers are connected.
    pub fn subscriber_count(&self) -> usize {
        self.wake.receiver_count()
    }

    /// The bytes the kept events take.
    pub fn resume_buffer_bytes(&self) -> usize {
        self.recent
            .lock()
            .unwrap_or_else(|error| error.into_inner())
            .bytes()
    }

    /// The events after `version`, if every one of them is still kept; `None` when some were
    /// dropped (the subscriber must reload).
    pub fn events_after(&self, version: u64) -> Option<Vec<Arc<Published>>> {
        self.recent
            .lock()
            .unwrap_or_else(|error| error.into_inner())
            .after(version)
    }

    fn publish(&self, loaded: Loaded, event: StreamEvent) {
        self.current.store(Arc::new(loaded));
        let event = Arc::new(Published::new(event));
        let version = event.version();
        self.recent
            .lock()
            .unwrap_or_else(|error| error.into_inner())
            .push(event);
        // No subscribers is not an error.
        let _ = self.wake.send(version);
    }

    async fn reload(&self, store: &dyn Store) -> Result<(), StoreError> {
        let snapshot = store.snapshot().await?;
        let current = self.current.load_full();
        if snapshot.version == current.snapshot.version {
            // Same version: a notice we already applied, or a safety reload with nothing new.
            return Ok(());
        }
        let event = StreamEvent::between(&current.snapshot, &snapshot);
        self.publish(Loaded::new(snapshot), event);
        Ok(())
    }

    async fn apply_notice(
        &self,
        store: &dyn Store,
        notice: ChangeNotice,
    ) -> Result<(), StoreError> {
        let current = self.current.load_full();
        if notice.version <= current.snapshot.version {
            return Ok(());
        }
        let Some(name) = notice.feature else {
            return self.reload(store).await;
        };
        let feature = store.feature(&name).await?;
        let mut snapshot = current.snapshot.clone();
        let position = snapshot
            .features
            .binary_search_by(|existing| existing.name.cmp(&name));
        match (position, &feature) {
            (Ok(index), Some(feature)) => snapshot.features[index] = feature.clone(),
            (Ok(index), None) => {
                snapshot.features.remove(index);
            }
            (Err(index), Some(feature)) => snapshot.features.insert(index, feature.clone()),
            (Err(_), None) => {}
        }
        snapshot.version = notice.version;
        let (features, deleted) = match feature {
            Some(feature) => (vec![feature], Vec::new()),
            None => (Vec::new(), vec![name]),
        };
        self.publish(
            Loaded::new(snapshot),
            StreamEvent::Changed {
                version: notice.version,
                features,
                deleted,
            },
        );
        Ok(())
    }

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

    fn settle(&self, result: Result<(), StoreError>, metrics: &Metrics) {
        match result {
            Ok(()) => self.ready.store(true, Ordering::Relaxed),
            Err(error) => {
                tracing::warn!(%error, "could not refresh the snapshot; serving the last one");
                metrics.store_error();
                self.ready.store(false, Ordering::Relaxed);
            }
        }
    }
}
