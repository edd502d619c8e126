//! `RefreshPolicy`: how the client keeps its snapshot fresh, and how it backs off when it
//! cannot.
//!
//! Reconnection waits follow "full jitter" exponential backoff (`ramp_stream::Backoff`, shared
//! with the HTTP store): a failure count `n` gives a wait drawn uniformly from
//! `0..=min(max, min * 2^n)`. The randomness spreads the reconnects of many applications after
//! a server restart, so they do not all arrive in the same instant.
//!
//! While the server cannot be reached at all (connections refused: it is restarting or being
//! deployed), the waits stay short (`quick_retry_max`) for up to `quick_retry_for`, so
//! applications catch up within a second of its return. Refused connections cost a server
//! that is not listening nothing, and the jitter still spreads the returning clients over that
//! second. A server that answers but fails (503, timeouts) gets the full backoff, so clients
//! never hammer a server that is up but struggling; when it says how long to wait
//! (`Retry-After`), that comes first and the backoff's jitter is added to it, so the clients
//! that failed together do not come back together.

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
    /// While connections to the server are refused, the longest wait between attempts.
    pub quick_retry_max: Duration,
    /// How long, from the first refused connection, retries stay that quick; after this, the
    /// usual backoff up to `backoff_max` (a server gone for good, or a wrong address).
    pub quick_retry_for: Duration,
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
            quick_retry_max: Duration::from_millis(800),
            quick_retry_for: Duration::from_secs(60),
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

    /// Sets the quick retries while the server refuses connections, builder style
    /// (`for_how_long` zero switches them off).
    pub fn with_quick_retry(mut self, max: Duration, for_how_long: Duration) -> Self {
        self.quick_retry_max = max;
        self.quick_retry_for = for_how_long;
        self
    }

    /// The wait before the next attempt after `failures` failures in a row (full jitter).
    pub fn backoff(&self, failures: u32) -> Duration {
        self.reconnection().wait(failures)
    }

    /// The wait before the next attempt after `failures` failures in a row, when connections
    /// have been refused for `refused_for` (`None`: the last failure was not a refusal).
    pub fn retry_wait(&self, failures: u32, refused_for: Option<Duration>) -> Duration {
        self.retry_backoff(refused_for).wait(failures)
    }

    /// `retry_wait` after a server that answered with a failure and asked for `retry_after`
    /// (capped at `backoff_max`): that long first, then the jittered wait.
    pub fn retry_wait_after(&self, failures: u32, retry_after: Option<Duration>) -> Duration {
        let asked = retry_after.map_or(Duration::ZERO, |asked| asked.min(self.backoff_max));
        asked + self.retry_wait(failures, None)
    }

    /// The largest wait `retry_wait` can give.
    pub fn retry_ceiling(&self, failures: u32, refused_for: Option<Duration>) -> Duration {
        self.retry_backoff(refused_for).ceiling(failures)
    }

    /// Whether retries are quick after connections were refused for `refused_for`.
    pub fn retries_quickly(&self, refused_for: Option<Duration>) -> bool {
        refused_for.is_some_and(|refused_for| refused_for < self.quick_retry_for)
    }

    fn retry_backoff(&self, refused_for: Option<Duration>) -> Backoff {
        if self.retries_quickly(refused_for) {
            Backoff::new(self.backoff_min, self.quick_retry_max.min(self.backoff_max))
        } else {
            self.reconnection()
        }
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

    #[test]
    fn refused_connections_are_retried_quickly_for_a_minute_then_backed_off() {
        let policy = RefreshPolicy::default();
        let second = Duration::from_secs(1);
        for failures in 1..100 {
            // A restart: at most 800 ms between attempts, whatever the count.
            let ceiling = policy.retry_ceiling(failures, Some(59 * second));
            assert!(
                ceiling <= Duration::from_millis(800),
                "{failures}: {ceiling:?}"
            );
            assert!(policy.retry_wait(failures, Some(second)) <= Duration::from_millis(800));
        }
        // The first waits grow as before, then stop growing at the quick maximum.
        assert_eq!(
            policy.retry_ceiling(1, Some(second)),
            Duration::from_millis(200)
        );
        assert_eq!(
            policy.retry_ceiling(9, Some(second)),
            Duration::from_millis(800)
        );
        // Refused for a minute: the usual backoff.
        assert_eq!(policy.retry_ceiling(9, Some(60 * second)), 30 * second);
        // A server that answers with errors is never retried quickly.
        assert_eq!(policy.retry_ceiling(9, None), 30 * second);
        // A server that asks for a pause gets it, plus the jitter; a silly ask is capped.
        for failures in 1..10 {
            let wait = policy.retry_wait_after(failures, Some(second));
            assert!(wait >= second && wait <= second + policy.backoff_ceiling(failures));
        }
        let capped = policy.retry_wait_after(1, Some(3600 * second));
        assert!(capped >= 30 * second && capped <= 30 * second + policy.backoff_ceiling(1));
        // Switched off.
        let off = policy.with_quick_retry(Duration::from_millis(800), Duration::ZERO);
        assert_eq!(off.retry_ceiling(9, Some(Duration::ZERO)), 30 * second);
    }
}
