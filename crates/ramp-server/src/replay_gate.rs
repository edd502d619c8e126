//! Bounds the requests that replay history: answers as of a past time and stamp resolutions.
//! One replay may hold up to `ramp_rollout::MAX_REPLAYED_EVENTS` events (tens of megabytes)
//! and read history page by page for a while, so a burst of them, even from a reader token,
//! could exhaust memory and the store's connections. A few run at once, a few more wait
//! briefly for a turn, and the rest are answered 503 at once (with `Retry-After`).

use std::time::Duration;

use axum::http::StatusCode;
use tokio::sync::SemaphorePermit;

use crate::error::ApiError;
use crate::waiting_line::WaitingLine;

/// How many replays may wait for each one running.
const WAITING_PER_REPLAY: usize = 4;

/// The longest a replay waits for its turn.
const LONGEST_WAIT: Duration = Duration::from_secs(5);

/// Turns to replay history.
#[derive(Debug)]
pub struct ReplayGate(WaitingLine);

impl ReplayGate {
    /// A gate that lets `at_once` replays run together (at least one).
    pub fn new(at_once: usize) -> Self {
        Self(WaitingLine::new(at_once, WAITING_PER_REPLAY))
    }

    /// A turn to replay, held until dropped; 503 `too_many_replays` when the line is full or
    /// the turn does not come soon.
    pub async fn turn(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        self.0.turn(LONGEST_WAIT).await.ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too_many_replays",
                "too many answers about the past are being worked out; try again in a moment",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_gate_answers_503_naming_the_problem() {
        let gate = ReplayGate::new(1);
        let _running = gate.turn().await.unwrap();
        let _waiting: Vec<_> = (0..WAITING_PER_REPLAY)
            .map(|_| {
                let mut turn = Box::pin(gate.turn());
                let mut context = std::task::Context::from_waker(std::task::Waker::noop());
                assert!(std::future::Future::poll(turn.as_mut(), &mut context).is_pending());
                turn
            })
            .collect();
        let refused = gate.turn().await.unwrap_err();
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(refused.body.error, "too_many_replays");
    }
}
