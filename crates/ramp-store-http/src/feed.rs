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

use futures::StreamExt;
use ramp_core::FeatureName;
use ramp_store::ChangeNotice;
use reqwest::header::{HeaderValue, ACCEPT};
use reqwest::Method;
use serde::Deserialize;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::api::Api;
use crate::error::Subject;
use crate::sse::{SseEvent, SseParser};

/// What a failed stream request is about, for its log line.
const STREAM: Subject<'static> = Subject {
    kind: "route",
    name: "/api/v1/stream",
};

/// Notices a slow subscriber may fall behind by before it is told it lagged.
const CAPACITY: usize = 1024;
/// The first wait before reconnecting; doubled after each failure up to `MAX_BACKOFF`.
const MIN_BACKOFF: Duration = Duration::from_millis(250);
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

/// Reads the stream until `stop`, reconnecting after every failure.
async fn follow(api: Api, sender: broadcast::Sender<ChangeNotice>, stop: CancellationToken) {
    let mut last_event_id: Option<String> = None;
    let mut backoff = MIN_BACKOFF;
    let mut failing = false;
    loop {
        let mut received = false;
        let outcome = tokio::select! {
            _ = stop.cancelled() => return,
            outcome = read(&api, &sender, &mut last_event_id, &mut received) => outcome,
        };
        if received {
            backoff = MIN_BACKOFF;
            failing = false;
        }
        if let Err(reason) = outcome {
            // Once per outage, not once per attempt.
            if !failing {
                tracing::warn!(server = %api.base(), %reason, "change stream interrupted; reconnecting");
            }
            failing = true;
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection: reads events until the stream ends (`Ok`) or fails (`Err`).
async fn read(
    api: &Api,
    sender: &broadcast::Sender<ChangeNotice>,
    last_event_id: &mut Option<String>,
    received: &mut bool,
) -> Result<(), String> {
    let mut request = api
        .streaming_request(Method::GET, api.url(&["stream"]))
        .header(ACCEPT, HeaderValue::from_static("text/event-stream"));
    if let Some(id) = last_event_id.as_deref() {
        request = request.header("Last-Event-ID", id);
    }
    let response = api
        .send(request)
        .await
        .map_err(|failure| failure.into_store_error(STREAM).to_string())?;
    let mut body = response.bytes_stream();
    let mut parser = SseParser::default();
    loop {
        let chunk = match tokio::time::timeout(IDLE, body.next()).await {
            Err(_) => return Err(format!("nothing received for {} s", IDLE.as_secs())),
            Ok(None) => return Ok(()),
            Ok(Some(Err(error))) => return Err(error.to_string()),
            Ok(Some(Ok(chunk))) => chunk,
        };
        for event in parser.push(&chunk) {
            *received = true;
            if event.id.is_some() {
                last_event_id.clone_from(&event.id);
            }
            for notice in notices(&event) {
                // No subscriber right now is fine: notices are not kept for later ones.
                let _ = sender.send(notice);
            }
        }
    }
}

#[derive(Deserialize)]
struct Named {
    name: FeatureName,
}

#[derive(Deserialize)]
struct Changed {
    version: u64,
    #[serde(default)]
    features: Vec<Named>,
    #[serde(default)]
    deleted: Vec<FeatureName>,
}

#[derive(Deserialize)]
struct Reload {
    version: u64,
}

/// The notices one event means. An event that cannot be read becomes "reload", so a
/// subscriber never misses a change because of it.
fn notices(event: &SseEvent) -> Vec<ChangeNotice> {
    let reload = |version| {
        vec![ChangeNotice {
            version,
            feature: None,
        }]
    };
    let id_version = event
        .id
        .as_deref()
        .and_then(|id| id.parse().ok())
        .unwrap_or(0);
    match event.event.as_str() {
        "changed" => match serde_json::from_str::<Changed>(&event.data) {
            Ok(changed) if !(changed.features.is_empty() && changed.deleted.is_empty()) => changed
                .features
                .into_iter()
                .map(|feature| feature.name)
                .chain(changed.deleted)
                .map(|name| ChangeNotice {
                    version: changed.version,
                    feature: Some(name),
                })
                .collect(),
            Ok(changed) => reload(changed.version),
            Err(_) => reload(id_version),
        },
        "reload" => reload(
            serde_json::from_str::<Reload>(&event.data)
                .map(|reload| reload.version)
                .unwrap_or(id_version),
        ),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, data: &str) -> SseEvent {
        SseEvent {
            id: Some("8".into()),
            event: name.into(),
            data: data.into(),
        }
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
            notices(&event("changed", data)),
            vec![notice(8, Some("a")), notice(8, Some("b"))]
        );
        assert_eq!(
            notices(&event("reload", r#"{"type":"reload","version":9}"#)),
            vec![notice(9, None)]
        );
        assert_eq!(notices(&event("changed", "garbage")), vec![notice(8, None)]);
        assert!(notices(&event("message", "{}")).is_empty());
    }
}
