//! Noticing changes made elsewhere: other Ramp processes announce theirs on the store's Pub/Sub
//! channel; Ruby applications announce nothing, so a poll compares digests of the payloads with
//! those last recorded.
//!
//! Two steps keep the poll cheap whatever the number of features:
//! - A sentinel connection WATCHes the registry, the store version and every feature key. Redis
//!   flags a client whose watched keys were modified (`d` in `CLIENT INFO`), so each poll is one
//!   O(1) command while nothing changes. (Keyspace notifications would be free too, but they are
//!   off by default, turning them on is a server-wide setting a shared Redis may not allow, and
//!   they are lost while disconnected; `DEBUG DIGEST-VALUE` is disabled by default since Redis
//!   7; `OBJECT` tells nothing about content.)
//! - Once flagged, the check script hashes, inside Redis, each registered payload (whole up to
//!   16 KiB; beyond, its length, first 4 KiB and last 12 KiB, which covers every edit the gem
//!   makes: a new percentage, appended or removed users, groups, data) and compares with the
//!   `ramp:digests` hash that Ramp's own writes keep current in the same transaction as the
//!   payload (payloads under 512 bytes are compared as they are, without hashing). Only two
//!   numbers cross the network; it costs Redis about 5 µs per feature, and runs only after
//!   something was written.
//!
//! The task runs only while someone subscribes, never outlives the store, and wakes at once
//! when the store drops its `closing` sender.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::StreamExt;
use ramp_core::FeatureName;
use redis::aio::{MultiplexedConnection, PubSubStream};
use serde::Deserialize;
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use crate::gem_format::ruby_split;
use crate::pool::CONNECT_TIMEOUT;
use crate::reads;
use crate::store::Shared;

/// How often changes that nobody announced (Ruby applications') are looked for.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// A notice as published on the channel.
#[derive(Debug, Deserialize)]
struct Published {
    version: u64,
    feature: Option<String>,
    origin: String,
}

/// Starts the watcher unless it runs already. Outside a tokio runtime there is nowhere to run
/// it: subscribers then get this process's notices only.
pub(crate) fn start(shared: &Arc<Shared>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::debug!("no tokio runtime: changes by other programs will not be noticed");
        return;
    };
    let mut watcher = shared
        .watcher
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if watcher.as_ref().is_some_and(|task| !task.is_finished()) {
        return;
    }
    let task = watch_changes(Arc::downgrade(shared), shared.closing.subscribe());
    *watcher = Some(runtime.spawn(task));
}

async fn watch_changes(store: Weak<Shared>, mut closing: watch::Receiver<()>) {
    let mut messages: Option<PubSubStream> = None;
    let mut sentinel = Sentinel::default();
    let mut failing = false;
    let mut ticks = tokio::time::interval(POLL_INTERVAL);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            // Nothing is ever sent: this fires when the store drops its sender.
            _ = closing.changed() => return,
            message = next_message(&mut messages) => {
                let Some(shared) = store.upgrade() else { return };
                match message {
                    Some(message) => forward(&shared, &message),
                    // The connection dropped: subscribe again at the next tick.
                    None => messages = None,
                }
            }
            _ = ticks.tick() => {
                let Some(shared) = store.upgrade() else { return };
                if stop_if_unwatched(&shared) {
                    return;
                }
                if messages.is_none() {
                    messages = subscribe(&shared).await;
                }
                if !sentinel.dirty(&shared).await {
                    continue;
                }
                match poll(&shared).await {
                    Ok(()) => failing = false,
                    Err(error) => {
                        // The watch was re-armed already: check again next time regardless.
                        sentinel.pending = true;
                        // Say so once per run of failures rather than twice a second.
                        if !failing {
                            tracing::warn!(%error, "cannot watch Redis for other programs' changes; retrying");
                        }
                        failing = true;
                    }
                }
            }
        }
    }
}

/// The sentinel connection and whether `CLIENT INFO` works on this server (Redis 6.2 and
/// later); without it every poll runs the check script.
#[derive(Default)]
struct Sentinel {
    connection: Option<MultiplexedConnection>,
    unsupported: bool,
    /// The last check failed after the watch was re-armed: run it again whatever the flag says.
    pending: bool,
}

impl Sentinel {
    /// Whether a watched key may have changed since the last call; re-arms the watch when so.
    /// Any doubt (no connection yet, an error) counts as a change.
    async fn dirty(&mut self, shared: &Shared) -> bool {
        if !self.unsupported && !std::mem::take(&mut self.pending) {
            if let Some(connection) = self.connection.as_mut() {
                match redis::cmd("CLIENT")
                    .arg("INFO")
                    .query_async::<String>(connection)
                    .await
                {
                    Ok(info) if !flags(&info).contains('d') => return false,
                    Ok(_) => {}
                    Err(error)
                        if error.kind()
                            == redis::ErrorKind::Server(redis::ServerErrorKind::ResponseError) =>
                    {
                        tracing::debug!(%error, "CLIENT INFO is not supported: checking on every poll");
                        self.unsupported = true;
                    }
                    Err(_) => self.connection = None,
                }
            }
        }
        if !self.unsupported {
            if let Err(error) = self.arm(shared).await {
                tracing::debug!(%error, "cannot watch the feature keys; checking on every poll until then");
                self.connection = None;
            }
        }
        true
    }

    /// WATCHes the registry and version first, then every feature the registry names, so that
    /// a change made while arming still flags the connection.
    async fn arm(&mut self, shared: &Shared) -> Result<(), redis::RedisError> {
        if self.connection.is_none() {
            self.connection = shared.pool.dedicated().await.ok();
        }
        let Some(connection) = self.connection.as_mut() else {
            return Ok(());
        };
        let keys = &shared.keys;
        let mut start = redis::pipe();
        start
            .cmd("UNWATCH")
            .ignore()
            .cmd("WATCH")
            .arg(keys.registry())
            .arg(keys.version())
            .ignore()
            .get(keys.registry());
        let (registry,): (Option<Vec<u8>>,) = start.query_async(connection).await?;
        let registry =
            String::from_utf8_lossy(registry.as_deref().unwrap_or_default()).into_owned();
        let names: Vec<&str> = ruby_split(&registry)
            .into_iter()
            .filter(|name| !name.is_empty())
            .collect();
        for chunk in names.chunks(1000) {
            let features: Vec<String> = chunk.iter().map(|name| keys.feature(name)).collect();
            redis::cmd("WATCH")
                .arg(features)
                .query_async::<()>(connection)
                .await?;
        }
        Ok(())
    }
}

/// The `flags=` field of a `CLIENT INFO` line.
fn flags(info: &str) -> &str {
    info.split_whitespace()
        .find_map(|field| field.strip_prefix("flags="))
        .unwrap_or("")
}

/// The next Pub/Sub message, or never when not subscribed.
async fn next_message(messages: &mut Option<PubSubStream>) -> Option<redis::Msg> {
    match messages.as_mut() {
        Some(stream) => stream.next().await,
        None => std::future::pending().await,
    }
}

async fn subscribe(shared: &Shared) -> Option<PubSubStream> {
    let connecting = async {
        let mut pubsub = shared.pool.client().get_async_pubsub().await?;
        pubsub.subscribe(shared.keys.channel()).await?;
        Ok::<_, redis::RedisError>(pubsub.into_on_message())
    };
    match tokio::time::timeout(CONNECT_TIMEOUT * 2, connecting).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(error)) => {
            tracing::debug!(%error, "cannot subscribe to Ramp's change channel yet");
            None
        }
        Err(_) => None,
    }
}

/// Passes on another Ramp process's notice (ours reached our subscribers directly).
fn forward(shared: &Shared, message: &redis::Msg) {
    let Ok(published) = serde_json::from_slice::<Published>(message.get_payload_bytes()) else {
        return;
    };
    if published.origin == shared.origin {
        return;
    }
    let feature = published
        .feature
        .and_then(|name| FeatureName::new(name).ok());
    shared.announce(published.version, feature);
}

/// Ends the watcher when the last subscriber has gone. Checked under the `watcher` lock, which
/// `start` also takes after subscribing, so a new subscriber either is counted here or starts
/// a new watcher.
fn stop_if_unwatched(shared: &Shared) -> bool {
    let mut watcher = shared
        .watcher
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if shared.notices.receiver_count() == 0 {
        *watcher = None;
        return true;
    }
    false
}

/// Looks for changes nobody announced, and for versions another process announced while our
/// subscription was down. Holds the gate alone so that no local write is between its commit
/// and its own notice.
async fn poll(shared: &Shared) -> Result<(), ramp_store::StoreError> {
    let _gate = shared.gate.write().await;
    let (version, changed) = reads::check(shared).await?;
    if changed > 0 || version > shared.announced() {
        shared.announce(version, None);
    }
    Ok(())
}
