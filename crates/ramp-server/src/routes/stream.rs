//! Keeping applications current: the snapshot an SDK evaluates from (with its version as ETag)
//! and the Server-Sent Events stream of every change after it.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use serde::Deserialize;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use utoipa::IntoParams;

use crate::error::ApiResult;
use crate::extract::{etag, none_match};
use crate::live::{Published, StreamEvent};
use crate::state::AppState;

/// Snapshot options.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SnapshotParams {
    /// Read the store now instead of answering from the server's live copy (which trails the
    /// store by the time a change notice takes, usually milliseconds).
    #[serde(default)]
    pub fresh: bool,
}

/// Everything an SDK needs to evaluate locally; `ETag` is the version, `If-None-Match` gets 304.
#[utoipa::path(get, path = "/api/v1/snapshot", tag = "sdk", params(SnapshotParams),
    responses((status = 200, body = serde_json::Value), (status = 304)))]
pub async fn snapshot(
    State(state): State<AppState>,
    Query(params): Query<SnapshotParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if params.fresh {
        let snapshot = state.store.snapshot().await?;
        let tag = etag(snapshot.version);
        return Ok(([(header::ETAG, tag)], axum::Json(snapshot)).into_response());
    }
    let loaded = state.live.current();
    let tag = etag(loaded.snapshot.version);
    if none_match(&headers, &tag) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response());
    }
    Ok((
        [
            (header::ETAG, tag),
            (
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            ),
        ],
        loaded.json(),
    )
        .into_response())
}

/// Where a subscriber resumes from.
#[derive(Debug, Deserialize, IntoParams)]
pub struct StreamParams {
    /// The version the subscriber has (like `Last-Event-ID`, for clients that cannot set it).
    pub since: Option<u64>,
}

fn to_event(published: &Published) -> Event {
    Event::default()
        .id(published.version().to_string())
        .event(published.event.name())
        .data(&published.json)
}

fn reload(version: u64) -> Event {
    to_event(&Published::new(StreamEvent::Reload { version }))
}

/// Server-Sent Events: `changed` (the new state of each feature that changed, and the names of
/// those deleted) and `reload` (fetch the snapshot again); each event's id is the version it brings the
/// subscriber to. A subscriber that reconnects with `Last-Event-ID` (or `?since=`) first gets
/// what it missed. Heartbeat comments keep idle connections open.
#[utoipa::path(get, path = "/api/v1/stream", tag = "sdk", params(StreamParams),
    responses((status = 200, content_type = "text/event-stream", body = String)))]
pub async fn stream(
    State(state): State<AppState>,
    Query(params): Query<StreamParams>,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribe before reading what was missed, so nothing falls between the two.
    let receiver = state.live.subscribe();
    let since = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .or(params.since);
    let current = state.live.current().snapshot.version;
    let mut initial = VecDeque::new();
    let mut last_sent = current;
    match since {
        // A new subscriber learns the current version first: if its snapshot is older, it
        // fetches the snapshot once.
        None => initial.push_back(reload(current)),
        Some(since) => match state.live.events_after(since) {
            Some(missed) => {
                last_sent = since;
                for event in missed {
                    last_sent = last_sent.max(event.version());
                    initial.push_back(to_event(&event));
                }
            }
            None => initial.push_back(reload(current)),
        },
    }
    let subscription = Subscription {
        initial,
        receiver,
        last_sent,
        state: state.clone(),
    };
    let events = futures::stream::unfold(subscription, next_event);
    Sse::new(events).keep_alive(
        KeepAlive::new()
            .interval(state.config.heartbeat())
            .text("heartbeat"),
    )
}

struct Subscription {
    initial: VecDeque<Event>,
    receiver: broadcast::Receiver<Arc<Published>>,
    last_sent: u64,
    state: AppState,
}

async fn next_event(
    mut subscription: Subscription,
) -> Option<(Result<Event, Infallible>, Subscription)> {
    if let Some(event) = subscription.initial.pop_front() {
        return Some((Ok(event), subscription));
    }
    loop {
        let received = tokio::select! {
            _ = subscription.state.shutdown.cancelled() => return None,
            received = subscription.receiver.recv() => received,
        };
        let event = match received {
            Ok(event) if event.version() <= subscription.last_sent => continue,
            Ok(event) => {
                subscription.last_sent = event.version();
                to_event(&event)
            }
            Err(RecvError::Lagged(_)) => {
                let version = subscription.state.live.current().snapshot.version;
                subscription.last_sent = version;
                reload(version)
            }
            Err(RecvError::Closed) => return None,
        };
        return Some((Ok(event), subscription));
    }
}
