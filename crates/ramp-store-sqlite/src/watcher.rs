//! Noticing writes that other processes commit to the same file (the CLI changing a flag under
//! a running server): a background task polls the store version with its own connection and
//! sends a notice when it grew beyond the last one announced.
//!
//! SQLite has no cross-process notification, so polling it is; reading one row of `meta` every
//! 200 ms costs microseconds. The task runs only while someone subscribes and never outlives the
//! store: it holds a `Weak` to it and wakes at once when the store's `closing` sender drops.

use std::sync::{Arc, Weak};
use std::time::Duration;

use ramp_store::{ChangeNotice, StoreError};
use rusqlite::Connection;
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use crate::connection::{open_reader, store_version};
use crate::store::{lock, Shared};

/// How often other processes' writes are looked for.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// The watcher's reads wait at most this long for a lock: a busy file just means "look again
/// at the next tick", and local writers wait for the watcher while it holds `announced`.
const READ_BUSY_TIMEOUT: Duration = Duration::from_millis(100);

/// Starts the watcher unless it runs already. Outside a tokio runtime there is nowhere to run
/// it: subscribers then get this process's notices only.
pub(crate) fn start(shared: &Arc<Shared>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::debug!("no tokio runtime: writes by other processes will not be noticed");
        return;
    };
    let mut watcher = lock(&shared.watcher);
    if watcher.as_ref().is_some_and(|task| !task.is_finished()) {
        return;
    }
    *watcher = Some(runtime.spawn(watch(Arc::downgrade(shared), shared.closing.subscribe())));
}

async fn watch(store: Weak<Shared>, mut closing: watch::Receiver<()>) {
    let mut reader: Option<Connection> = None;
    let mut failing = false;
    let mut ticks = tokio::time::interval(POLL_INTERVAL);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            // Nothing is ever sent: this fires when the store drops its sender.
            _ = closing.changed() => return,
        }
        let Some(shared) = store.upgrade() else {
            return;
        };
        if stop_if_unwatched(&shared) {
            return;
        }
        let polled = tokio::task::spawn_blocking(move || {
            let outcome = poll(&shared, &mut reader);
            (reader, outcome)
        })
        .await;
        let Ok((returned, outcome)) = polled else {
            // The runtime is shutting down (or the poll panicked): there is no one left to tell.
            return;
        };
        reader = returned;
        match outcome {
            Ok(()) => failing = false,
            Err(error) => {
                // Reopen next time, and say so once per run of failures rather than 5 times a second.
                reader = None;
                if !failing {
                    tracing::warn!(%error, "cannot watch the SQLite store for other processes' writes; retrying");
                }
                failing = true;
            }
        }
    }
}

/// Ends the watcher when the last subscriber has gone. Checked under the `watcher` lock, which
/// `start` also takes after subscribing, so a new subscriber either is counted here or starts
/// a new watcher.
fn stop_if_unwatched(shared: &Shared) -> bool {
    let mut watcher = lock(&shared.watcher);
    if shared.notices.receiver_count() == 0 {
        *watcher = None;
        return true;
    }
    false
}

/// Reads the version and announces it if it grew. Holds `announced` throughout, so that a
/// local write's commit and its own notice happen either wholly before or wholly after.
fn poll(shared: &Shared, reader: &mut Option<Connection>) -> Result<(), StoreError> {
    let connection = match reader {
        Some(connection) => connection,
        None => reader.insert(open_reader(&shared.path, READ_BUSY_TIMEOUT)?),
    };
    let mut announced = lock(&shared.announced);
    let version = store_version(connection)?;
    if version > *announced {
        *announced = version;
        let _ = shared.notices.send(ChangeNotice {
            version,
            feature: None,
        });
    }
    Ok(())
}
