//! Change notices from the server's event stream (`/api/v1/stream`): one background task,
//! started by the first `subscribe`, reads the stream and turns each `changed` event into one
//! `ChangeNotice` per feature changed or deleted, and each `reload` into a notice naming no
//! feature. It reconnects with `Last-Event-ID` (the server then replays what was missed, or
//! says `reload`), backing off while the server is away, and stops when the store is dropped.
//!
//! The first event of every fresh subscription is a `reload` naming the current version. It
//! is passed on: a change made between `subscribe()` and the connection would otherwise go
//! unheard, and "reload" is always a safe thing to tell a subscriber.

use std::sync::Mutex;
use std::time::Duration;

use ramp_store::ChangeNotice;
use ramp_stream::{Backoff, Follower, NamedFeature, StreamEvent};
use reqwest::Method;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::api::Api;

/// Notices a slow subscriber may fall behind by before it is told it lagged.
const CAPACITY: usize = 1024;
/// The reconnection waits: up to 250 ms after the first failure, the bound doubling after each
/// one up to `MAX_BACKOFF` (jittered, see `ramp_stream::Backoff`).
const MIN_BACKOFF: Duration = Duration::from_millis(125);
const MAX_BACKOFF: Duration = Duration::from_secs(15);
/// The server sends a heartbeat every 15 s by default: a connection silent for this long is
/// dead (a half-open TCP connection never reports an error by itself).
const IDLE: Duration = Duration::from_secs(60);

/// The channel subscribers receive from, and the task that feeds it.
#[derive(Debug)]
pub(crate) struct Feed {
    sender: broadcast::Sender<ChangeNotice>,
    /// Whether the task runs. A mutex rather than a `Once`: without a tokio runtime at the
    /// first `subscribe`, the task is not started, and a later call may start it.
    started: Mutex<bool>,
    /// Cancelled when the store is dropped, which ends the task.
    stop: CancellationToken,
}

impl Feed {
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
            started: Mutex::new(false),
            stop: CancellationToken::new(),
        }
    }

    /// A receiver of every notice from now on; starts the task on first use.
    pub fn subscribe(&self, api: &Api) -> broadcast::Receiver<ChangeNotice> {
        let receiver = self.sender.subscribe();
        let mut started = self
            .started
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !*started {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(follow(api.clone(), self.sender.clone(), self.stop.clone()));
                *started = true;
            }
        }
        receiver
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Reads the stream until `stop`, reconnecting after every failure. Only the names of changed
/// features are read from each event (a notice carries no more), never their user lists.
async fn follow(api: Api, sender: broadcast::Sender<ChangeNotice>, stop: CancellationToken) {
    let url = api.url(&["stream"]);
    let server = api.base().clone();
    let mut stream: Follower<NamedFeature> = Follower::new(
        move || api.streaming_request(Method::GET, url.clone()),
        IDLE,
    );
    let backoff = Backoff::new(MIN_BACKOFF, MAX_BACKOFF);
    let mut failures = 0u32;
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => return,
            event = stream.next() => event,
        };
        match event {
            Ok(event) => {
                failures = 0;
                for notice in notices(event) {
                    // No subscriber right now is fine: notices are not kept for later ones.
                    let _ = sender.send(notice);
                }
            }
            Err(reason) => {
                failures = failures.saturating_add(1);
                // Once per outage, not once per attempt.
                if failures == 1 {
                    tracing::warn!(%server, %reason, "change stream interrupted; reconnecting");
                }
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(backoff.wait(failures)) => {}
                }
            }
        }
    }
}

/// The notices one event means: one per feature changed or deleted; "reload" for a `reload`
/// event, and for a `changed` event naming no feature (an event the stream could not read is
/// already a `reload`), so a subscriber never misses a change.
fn notices(event: StreamEvent<NamedFeature>) -> Vec<ChangeNotice> {
    match event {
        StreamEvent::Changed {
            version,
            features,
            deleted,
        } if !(features.is_empty() && deleted.is_empty()) => features
            .into_iter()
            .map(|feature| feature.name)
            .chain(deleted)
            .map(|name| ChangeNotice {
                version,
                feature: Some(name),
            })
            .collect(),
        event => vec![ChangeNotice {
            version: event.version(),
            feature: None,
        }],
    }
}

#[cfg(test)]
mod tests {
    use ramp_core::FeatureName;
    use ramp_stream::SseEvent;

    use super::*;

    fn event(name: &str, data: &str) -> StreamEvent<NamedFeature> {
        StreamEvent::decode(&SseEvent {
            id: Some("8".into()),
            event: name.into(),
            data: data.into(),
        })
        .unwrap()
    }

    fn notice(version: u64, feature: Option<&str>) -> ChangeNotice {
        ChangeNotice {
            version,
            feature: feature.map(|name| FeatureName::new(name).unwrap()),
        }
    }

    #[test]
    fn each_changed_or_deleted_feature_is_one_notice() {
        let data = r#"{"type":"changed","version":8,"features":[{"name":"a","percentage":5}],"deleted":["b"]}"#;
        assert_eq!(
            notices(event("changed", data)),
            vec![notice(8, Some("a")), notice(8, Some("b"))]
        );
        assert_eq!(
            notices(event("reload", r#"{"type":"reload","version":9}"#)),
            vec![notice(9, None)]
        );
        assert_eq!(
            notices(event("changed", r#"{"type":"changed","version":9}"#)),
            vec![notice(9, None)]
        );
        assert_eq!(notices(event("changed", "garbage")), vec![notice(8, None)]);
    }
}
