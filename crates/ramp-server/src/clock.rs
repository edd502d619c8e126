//! The server's clock: where every decision that depends on time (a session's age, the sweep
//! of expired sessions, the login throttle's window, code-group expiry, the time credentials
//! are stamped with) reads the time, so tests can move it instead of waiting for it.
//!
//! Timers that only bound how long the server waits for a peer (header and body timeouts,
//! retry pauses) keep using tokio's clock: they decide nothing a test needs to move.

use std::fmt::Debug;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// A source of the current time.
pub trait Clock: Debug + Send + Sync + 'static {
    /// The wall-clock time, for what is stored or compared with stored times.
    fn now(&self) -> DateTime<Utc>;
    /// A monotonic instant, for in-memory windows that must not jump with the wall clock.
    fn instant(&self) -> Instant;
}

/// The real time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn instant(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that stands still until told to move: both readings advance together, by exactly
/// what [`ManualClock::advance`] says.
#[derive(Debug)]
pub struct ManualClock {
    start: DateTime<Utc>,
    start_instant: Instant,
    elapsed: Mutex<Duration>,
}

impl ManualClock {
    /// A clock reading `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            start,
            start_instant: Instant::now(),
            elapsed: Mutex::new(Duration::ZERO),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        *self
            .elapsed
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) += by;
    }

    fn elapsed(&self) -> Duration {
        *self
            .elapsed
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = chrono::Duration::from_std(self.elapsed()).unwrap_or(chrono::Duration::MAX);
        self.start + elapsed
    }

    fn instant(&self) -> Instant {
        self.start_instant + self.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced_and_both_readings_agree() {
        let start = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = ManualClock::new(start);
        let first = clock.instant();
        assert_eq!(clock.now(), start);
        assert_eq!(clock.instant(), first, "it stands still");
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now(), start + chrono::Duration::seconds(90));
        assert_eq!(clock.instant() - first, Duration::from_secs(90));
    }
}
