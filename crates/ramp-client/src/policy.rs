//! `RefreshPolicy`: how the client keeps its snapshot fresh, and how it backs off when it
//! cannot.
//!
//! Reconnection waits follow "full jitter" exponential backoff (`ramp_stream::Backoff`, shared
//! with the HTTP store): a failure count `n` gives a wait drawn uniformly from
//! `0..=min(max, min * 2^n)`. The randomness spreads the reconnects of many applications after
//! a server restart, so they do not all arrive in the same instant.

use std::time::Duration;

use ramp_stream::Backoff;

/// How the client follows the server (or store), and how it backs off when it cannot.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshPolicy {
    /// While the stream keeps failing, how often to poll the snapshot (with `If-None-Match`,
    /// so an unchanged snapshot costs a 304). In direct mode, how often to reload the snapshot
    /// even without change notices, in case one was lost.
    pub refresh_interval: Duration,
    /// The first reconnection wait's upper bound.
    pub backoff_min: Duration,
    /// The longest reconnection wait.
    pub backoff_max: Duration,
    /// After this many stream failures in a row, poll the snapshot every `refresh_interval`
    /// while retrying the stream at the backoff's (growing) pace.
    pub poll_after_failures: u32,
    /// How long a snapshot request may take, including the first one made when the client is
    /// built (after which it starts from the backup file).
    pub request_timeout: Duration,
    /// A stream that sends nothing, not even a heartbeat, for this long is taken as broken
    /// (a half-open connection). The server sends a heartbeat every 15 s by default.
    pub stream_idle_timeout: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            refresh_interval: Duration::from_secs(30),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(30),
            poll_after_failures: 3,
            request_timeout: Duration::from_secs(10),
            stream_idle_timeout: Duration::from_secs(45),
        }
    }
}

impl RefreshPolicy {
    /// Sets `refresh_interval`, builder style.
    pub fn with_refresh_interval(mut self, interval: Duration) -> Self {
        self.refresh_interval = interval;
        self
    }

    /// Sets the backoff bounds, builder style.
    pub fn with_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff_min = min;
        self.backoff_max = max.max(min);
        self
    }

    /// Sets `poll_after_failures`, builder style.
    pub fn with_poll_after_failures(mut self, failures: u32) -> Self {
        self.poll_after_failures = failures;
        self
    }

    /// Sets `request_timeout`, builder style.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets `stream_idle_timeout`, builder style.
    pub fn with_stream_idle_timeout(mut self, timeout: Duration) -> Self {
        self.stream_idle_timeout = timeout;
        self
    }

    /// The wait before the next attempt after `failures` failures in a row (full jitter).
    pub fn backoff(&self, failures: u32) -> Duration {
        self.reconnection().wait(failures)
    }

    /// The largest wait after `failures` failures: `min * 2^failures`, at most `max`.
    pub fn backoff_ceiling(&self, failures: u32) -> Duration {
        self.reconnection().ceiling(failures)
    }

    /// The backoff's bounds, as the stream's followers share them.
    fn reconnection(&self) -> Backoff {
        Backoff::new(self.backoff_min, self.backoff_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_up_to_the_maximum() {
        let policy = RefreshPolicy::default();
        assert_eq!(policy.backoff_ceiling(1), Duration::from_millis(200));
        assert_eq!(policy.backoff_ceiling(4), Duration::from_millis(1600));
        assert_eq!(policy.backoff_ceiling(9), Duration::from_secs(30));
        assert_eq!(policy.backoff_ceiling(u32::MAX), Duration::from_secs(30));
    }
}
