//! A rate limit in records per second, shared by the moves a pass runs concurrently.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Spaces moves `1 / rate` seconds apart; the first goes at once. Time is tokio's, so tests
/// may pause it.
pub(crate) struct Pace {
    interval: Option<Duration>,
    next: Mutex<Option<Instant>>,
}

impl Pace {
    /// `None`: no limit.
    pub fn new(records_per_second: Option<f64>) -> Self {
        let interval = records_per_second
            .filter(|rate| rate.is_finite() && *rate > 0.0)
            .map(|rate| Duration::from_secs_f64(1.0 / rate));
        Self {
            interval,
            next: Mutex::new(None),
        }
    }

    /// Waits for this move's turn.
    pub async fn wait(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let turn = {
            let mut next = self
                .next
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let now = Instant::now();
            let turn = next.map_or(now, |next| next.max(now));
            *next = Some(turn + interval);
            turn
        };
        tokio::time::sleep_until(turn).await;
    }
}
