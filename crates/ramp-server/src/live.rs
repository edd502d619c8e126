//! The live snapshot: what the server evaluates from (OFREP, checks) and what it sends SDKs,
//! swapped atomically on every change, with the feed of change events stream subscribers read.
//!
//! Three parts: `live/loaded.rs` is one snapshot with its compiled form; `live/follow.rs` is the
//! task that follows the store's change notices and patches or reloads the snapshot;
//! `live/event_log.rs` keeps the last events for subscribers that reconnect. This file ties them
//! together: each change swaps the snapshot, logs the event and wakes the subscribers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use ramp_store::{Store, StoreError};
use ramp_stream::StreamEvent;
use tokio::sync::broadcast;

mod event_log;
mod follow;
mod loaded;

pub use event_log::Published;
use event_log::Recent;
pub use loaded::Loaded;

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

    /// Makes `loaded` current and tells subscribers.
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

    fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }
}
