//! Request bodies must keep arriving: one that pauses longer than the idle timeout, or is not
//! complete by the deadline, ends with an error, so a client that announces a megabyte and
//! sends a few bytes cannot hold a connection and a task for minutes.
//!
//! Every reader of a request body (`ApiJson`, the user-list stream, import) reads it through
//! [`timed`]. Only the body is timed, never the handler: a handler reads its whole body before
//! it writes, so a timeout can never cut a write to the store short and leave its outcome
//! unknown.

use std::time::Duration;

use axum::body::Body;
use axum::extract::FromRef;
use futures::StreamExt;
use tokio::time::{timeout_at, Instant};

use crate::state::AppState;

/// How long a body may take.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeouts {
    /// The longest pause between two pieces of a body.
    pub idle: Duration,
    /// The longest a whole body may take.
    pub total: Duration,
}

/// The error a body read ends with when it came too slowly.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTooSlow;

/// `body`, timed: reading it fails with [`BodyTooSlow`] once it pauses longer than the idle
/// timeout or is not complete by the deadline (counted from now).
pub fn timed(body: Body, timeouts: BodyTimeouts) -> Body {
    let deadline = Instant::now() + timeouts.total;
    let pieces = body.into_data_stream();
    Body::from_stream(futures::stream::unfold(
        Some(pieces),
        move |pieces| async move {
            let mut pieces = pieces?;
            let due = deadline.min(Instant::now() + timeouts.idle);
            match timeout_at(due, pieces.next()).await {
                Ok(Some(piece)) => Some((piece, Some(pieces))),
                Ok(None) => None,
                // The error ends the body; nothing is read after it.
                Err(_) => Some((Err(axum::Error::new(BodyTooSlow)), None)),
            }
        },
    ))
}

impl FromRef<AppState> for BodyTimeouts {
    fn from_ref(state: &AppState) -> Self {
        BodyTimeouts {
            idle: state.config.body_timeout(),
            total: state.config.body_deadline(),
        }
    }
}

/// Whether `error` (or what caused it) is a body that came too slowly.
pub fn is_too_slow(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<BodyTooSlow>() {
            return true;
        }
        current = error.source();
    }
    false
}
