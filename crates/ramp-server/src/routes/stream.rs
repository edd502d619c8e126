//! Keeping applications current: the snapshot an SDK evaluates from (with its version as ETag)
//! and the Server-Sent Events stream of every change after it.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use crate::json_errors::ApiQuery;
use axum::extract::State;
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
use crate::live::Published;
use crate::state::AppState;
use ramp_stream::StreamEvent;

/// Snapshot options.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
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
    ApiQuery(params): ApiQuery<SnapshotParams>,
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
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// The version the subscriber has (like `Last-Event-ID`, for clients that cannot set it).
    pub since: Option<u64>,
}

fn to_event(published: &Published) -> Event {
    Event::default()
        .id(published.version().to_string())
        .event(published.name())
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
    ApiQuery(params): ApiQuery<StreamParams>,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribe before reading what was missed, so nothing falls between the two.
    let wake = state.live.subscribe();
    let since = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .or(params.since);
    let current = state.live.current().snapshot.version;
    let mut subscription = Subscription {
        first: None,
        pending: VecDeque::new(),
        wake,
        last_sent: current,
        state: state.clone(),
    };
    match since.and_then(|since| Some((since, state.live.events_after(since)?))) {
        Some((since, missed)) => {
            subscription.last_sent = since;
            subscription.pending = missed.into();
        }
        // A new subscriber learns the current version first: if its snapshot is older, it
        // fetches the snapshot once. So does one that missed more than is kept.
        None => subscription.first = Some(reload(current)),
    }
    let events = futures::stream::unfold(subscription, next_event);
    Sse::new(events).keep_alive(
        KeepAlive::new()
            .interval(state.config.heartbeat())
            .text("heartbeat"),
    )
}

struct Subscription {
    /// Sent before anything else.
    first: Option<Event>,
    /// Events read from the resume buffer and not sent yet (shared, not copied).
    pending: VecDeque<Arc<Published>>,
    wake: broadcast::Receiver<u64>,
    last_sent: u64,
    state: AppState,
}

async fn next_event(
    mut subscription: Subscription,
) -> Option<(Result<Event, Infallible>, Subscription)> {
    if let Some(event) = subscription.first.take() {
        return Some((Ok(event), subscription));
    }
    loop {
        while let Some(event) = subscription.pending.pop_front() {
            if event.version() > subscription.last_sent {
                subscription.last_sent = event.version();
                return Some((Ok(to_event(&event)), subscription));
            }
        }
        let woken = tokio::select! {
            _ = subscription.state.shutdown.cancelled() => return None,
            woken = subscription.wake.recv() => woken,
        };
        match woken {
            Ok(version) if version <= subscription.last_sent => continue,
            // Lagging only means several wake-ups were merged: the events are in the buffer.
            Ok(_) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return None,
        }
        match subscription.state.live.events_after(subscription.last_sent) {
            Some(missed) => subscription.pending = missed.into(),
            None => {
                // Fell further behind than the buffer keeps: start again from the snapshot.
                let version = subscription.state.live.current().snapshot.version;
                subscription.last_sent = version;
                return Some((Ok(reload(version)), subscription));
            }
        }
    }
}
