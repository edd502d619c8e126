//! Slows password guessing: after `MAX_FAILURES` wrong passwords for one username within
//! `WINDOW`, further logins for that name are refused until the window has passed. Per server
//! and in memory (a guesser spread over N servers gets N times the tries); argon2's cost
//! already makes each guess slow.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong passwords allowed per username and window.
pub const MAX_FAILURES: u32 = 10;

/// How long failures are remembered.
pub const WINDOW: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first: Instant,
}

/// Recent failed logins by username.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, Failures>>,
}

impl LoginThrottle {
    /// `Err(wait)` when `username` has failed too often lately.
    pub fn check(&self, username: &str) -> Result<(), Duration> {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let now = Instant::now();
        failures.retain(|_, entry| now.duration_since(entry.first) < WINDOW);
        match failures.get(username) {
            Some(entry) if entry.count >= MAX_FAILURES => {
                Err(WINDOW.saturating_sub(now.duration_since(entry.first)))
            }
            _ => Ok(()),
        }
    }

    /// Records a wrong password.
    pub fn failed(&self, username: &str) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        failures
            .entry(username.to_owned())
            .and_modify(|entry| entry.count += 1)
            .or_insert(Failures {
                count: 1,
                first: Instant::now(),
            });
    }

    /// Forgets the failures of a name that just logged in.
    pub fn succeeded(&self, username: &str) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        failures.remove(username);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_refused_after_too_many_failures_and_others_are_not() {
        let throttle = LoginThrottle::default();
        for _ in 0..MAX_FAILURES {
            assert!(throttle.check("admin").is_ok());
            throttle.failed("admin");
        }
        let wait = throttle.check("admin").unwrap_err();
        assert!(wait > Duration::from_secs(60) && wait <= WINDOW, "{wait:?}");
        assert!(throttle.check("vera").is_ok(), "other names are unaffected");
        throttle.succeeded("admin");
        assert!(throttle.check("admin").is_ok());
    }
}
