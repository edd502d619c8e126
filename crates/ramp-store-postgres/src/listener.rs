//! Hearing of writes that other processes commit to the same schema: a background task holds a
//! dedicated connection that `LISTEN`s on the schema's channel, and turns each notification into
//! a `ChangeNotice` for subscribers.
//!
//! PostgreSQL delivers notifications only to sessions listening when the writer commits, so a
//! listener that was disconnected (a server restart, a network cut) may have missed some. After
//! every reconnection it therefore sends a notice without a feature name, which tells
//! subscribers to reload. It retries with exponential backoff, never gives up while the store
//! lives, and never outlives it: it holds a `Weak` to the store and wakes at once when the
//! store's `closing` sender drops.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::StreamExt;
use ramp_core::FeatureName;
use ramp_store::{ChangeNotice, StoreError};
use serde::Deserialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, Config, NoTls, Notification};

use crate::connection::{connect_deadline, store_version};
use crate::error::{database_error, sql, unavailable, TimedOut};
use crate::shared::{lock, Shared};

/// The first pause before reconnecting; it doubles after each failure.
const FIRST_RETRY: Duration = Duration::from_millis(100);

/// The longest pause between attempts: a restarted server is heard from within this long.
const LAST_RETRY: Duration = Duration::from_secs(2);

/// How often the listener checks that its connection still answers. A server that vanished
/// without closing the socket would otherwise leave it waiting forever for notifications.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// What each writer sends with `pg_notify` (see `writes.rs`).
#[derive(Debug, Deserialize)]
struct Payload {
    origin: String,
    version: u64,
    feature: Option<FeatureName>,
}

/// How a listening session ended.
enum Ended {
    /// The connection was lost: reconnect.
    Lost,
    /// The store is gone: stop.
    StoreDropped,
}

/// Starts the listener unless it runs already. Outside a tokio runtime there is nowhere to run
/// it: subscribers then hear of this store's own writes only.
pub(crate) fn start(shared: &Arc<Shared>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::debug!("no tokio runtime: writes by other processes will not be noticed");
        return;
    };
    let mut listener = lock(&shared.listener);
    if listener.as_ref().is_some_and(|task| !task.is_finished()) {
        return;
    }
    // A task ended by its runtime's shutdown may have left this set: the new one is not
    // listening yet.
    shared.listening.send_replace(false);
    *listener = Some(runtime.spawn(run(
        Arc::downgrade(shared),
        shared.closing.subscribe(),
        shared.listen_config.clone(),
        shared.channel.clone(),
    )));
}

async fn run(
    store: Weak<Shared>,
    mut closing: watch::Receiver<()>,
    config: Config,
    channel: String,
) {
    let mut backoff = FIRST_RETRY;
    let mut reconnecting = false;
    let mut failing = false;
    loop {
        let ended = tokio::select! {
            ended = session(&store, &config, &channel, reconnecting) => ended,
            // Nothing is ever sent: this fires when the store drops its sender.
            _ = closing.changed() => return,
        };
        match ended {
            Ok(Ended::StoreDropped) => return,
            Ok(Ended::Lost) => {
                tracing::warn!(
                    channel,
                    "lost the PostgreSQL connection that listens for changes; reconnecting"
                );
                reconnecting = true;
                failing = false;
                backoff = FIRST_RETRY;
            }
            Err(error) => {
                // Say so once per run of failures, not at every attempt.
                if !failing {
                    tracing::warn!(%error, channel, "cannot listen for changes in PostgreSQL; retrying");
                }
                failing = true;
                reconnecting = true;
            }
        }
        let Some(shared) = store.upgrade() else {
            return;
        };
        shared.listening.send_replace(false);
        drop(shared);
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = closing.changed() => return,
        }
        backoff = (backoff * 2).min(LAST_RETRY);
    }
}

/// Connects, listens, and relays notifications until the connection is lost.
async fn session(
    store: &Weak<Shared>,
    config: &Config,
    channel: &str,
    reconnecting: bool,
) -> Result<Ended, StoreError> {
    const CONNECTING: &str = "connecting to listen for changes";
    let (client, connection) =
        tokio::time::timeout(connect_deadline(config), config.connect(NoTls))
            .await
            .map_err(|_| unavailable(CONNECTING, TimedOut(connect_deadline(config))))?
            .map_err(|error| database_error(CONNECTING, error))?;
    let (sender, mut notifications) = mpsc::unbounded_channel();
    let _driver = AbortOnDrop(tokio::spawn(drive(connection, sender)));
    // The channel name needs no quoting: the schema is [a-z0-9_].
    client
        .batch_execute(&format!("LISTEN {channel}"))
        .await
        .map_err(sql("starting to listen for changes"))?;
    // Listening from here on; anything committed before is in the version read now.
    let version = store_version(&client).await?;
    {
        let Some(shared) = store.upgrade() else {
            return Ok(Ended::StoreDropped);
        };
        let before = shared.announced.fetch_max(version, Ordering::SeqCst);
        if reconnecting || version > before {
            // Notifications may have been missed while no one listened: reload.
            let _ = shared.notices.send(ChangeNotice {
                version,
                feature: None,
            });
        }
        shared.listening.send_replace(true);
    }
    let mut keepalive = tokio::time::interval(KEEPALIVE);
    keepalive.tick().await;
    loop {
        tokio::select! {
            notification = notifications.recv() => {
                // The driver ended: the connection is closed.
                let Some(notification) = notification else {
                    return Ok(Ended::Lost);
                };
                let Some(shared) = store.upgrade() else {
                    return Ok(Ended::StoreDropped);
                };
                relay(&shared, &notification);
            }
            _ = keepalive.tick() => {
                let answered = tokio::time::timeout(connect_deadline(config), client.simple_query("")).await;
                if !matches!(answered, Ok(Ok(_))) {
                    return Ok(Ended::Lost);
                }
            }
        }
    }
}

/// Polls the connection, forwarding notifications, until it closes. Unbounded, because the
/// receiving loop does nothing but hand each one to a broadcast channel; a bound would stall
/// the connection itself.
async fn drive(
    mut connection: tokio_postgres::Connection<
        tokio_postgres::Socket,
        tokio_postgres::tls::NoTlsStream,
    >,
    sender: mpsc::UnboundedSender<Notification>,
) {
    let mut messages = futures::stream::poll_fn(move |context| connection.poll_message(context));
    while let Some(message) = messages.next().await {
        match message {
            Ok(AsyncMessage::Notification(notification)) => {
                if sender.send(notification).is_err() {
                    return;
                }
            }
            // Server notices (warnings) are not changes.
            Ok(_) => {}
            Err(error) => {
                tracing::debug!(%error, "the listening connection ended");
                return;
            }
        }
    }
}

/// Turns one notification into a notice, unless this store sent it (and announced it already).
fn relay(shared: &Shared, notification: &Notification) {
    match serde_json::from_str::<Payload>(notification.payload()) {
        Ok(payload) if payload.origin == shared.origin => {}
        Ok(payload) => {
            shared
                .announced
                .fetch_max(payload.version, Ordering::SeqCst);
            let _ = shared.notices.send(ChangeNotice {
                version: payload.version,
                feature: payload.feature,
            });
        }
        Err(error) => {
            // Something changed, even if the payload is not Ramp's: subscribers should reload.
            tracing::warn!(%error, payload = %ramp_store::log_text(notification.payload()), "an unreadable change notification");
            let _ = shared.notices.send(ChangeNotice {
                version: shared.announced.load(Ordering::SeqCst),
                feature: None,
            });
        }
    }
}

/// Stops the connection's driver task when the session ends, however it ends.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
