//! Slows password guessing and bounds what logins cost.
//!
//! - Per name: an attempt is counted *before* its password is checked, so at most
//!   `MAX_ATTEMPTS` passwords are ever checked for one name within `WINDOW`, however many
//!   requests arrive at once; further logins for that name are refused until the window has
//!   passed. A correct password forgets the name's attempts.
//! - In total: argon2 costs tens of milliseconds and about 19 MiB per check, so only a few run
//!   at once (`login_concurrency`); the others wait in a short line with a deadline, and past
//!   it (or when the line is full) the answer is 503 with `Retry-After`.
//!
//! Per server and in memory: a guesser spread over N servers gets N times the tries. Time is a
//! parameter (`now`), so tests need no clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::SemaphorePermit;

use crate::password_memory::CheckMemory;
use crate::waiting_line::WaitingLine;

/// Password checks allowed per username and window.
pub const MAX_ATTEMPTS: u32 = 10;

/// How long attempts are remembered.
pub const WINDOW: Duration = Duration::from_secs(5 * 60);

/// Names remembered at most; past that the oldest entry is forgotten (the total is bounded
/// anyway by how fast passwords can be checked).
const MAX_NAMES: usize = 100_000;

/// How long a login waits for its turn to check a password.
pub const QUEUE_DEADLINE: Duration = Duration::from_secs(5);

/// Logins waiting per concurrent check; more are refused at once.
const WAITING_PER_CHECK: usize = 16;

#[derive(Debug, Clone, Copy)]
struct Attempts {
    count: u32,
    first: Instant,
}

/// Why a login was refused before its password was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many attempts for this name lately; try again after this long.
    Throttled(Duration),
    /// Too many logins in progress on this server; try again shortly.
    Busy,
}

/// Recent attempts by username, and the line for password checks.
#[derive(Debug)]
pub struct LoginThrottle {
    attempts: Mutex<HashMap<String, Attempts>>,
    checks: WaitingLine,
    memory: Arc<CheckMemory>,
}

impl LoginThrottle {
    /// A throttle that runs at most `concurrency` password checks at once.
    pub fn new(concurrency: usize) -> Self {
        let concurrency = concurrency.max(1);
        Self {
            attempts: Mutex::default(),
            checks: WaitingLine::new(concurrency, WAITING_PER_CHECK),
            memory: Arc::new(CheckMemory::new(concurrency)),
        }
    }

    /// Counts an attempt for `username` at `now`, or refuses it when the name has had
    /// `MAX_ATTEMPTS` within the window.
    pub fn attempt(&self, username: &str, now: Instant) -> Result<(), Refusal> {
        let mut attempts = self
            .attempts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(entry) = attempts.get_mut(username) {
            let age = now.saturating_duration_since(entry.first);
            if age >= WINDOW {
                *entry = Attempts {
                    count: 1,
                    first: now,
                };
                return Ok(());
            }
            if entry.count >= MAX_ATTEMPTS {
                return Err(Refusal::Throttled(WINDOW - age));
            }
            entry.count += 1;
            return Ok(());
        }
        if attempts.len() >= MAX_NAMES {
            attempts.retain(|_, entry| now.saturating_duration_since(entry.first) < WINDOW);
        }
        if attempts.len() >= MAX_NAMES {
            let oldest = attempts
                .iter()
                .min_by_key(|(_, entry)| entry.first)
                .map(|(name, _)| name.clone());
            if let Some(oldest) = oldest {
                attempts.remove(&oldest);
            }
        }
        attempts.insert(
            username.to_owned(),
            Attempts {
                count: 1,
                first: now,
            },
        );
        Ok(())
    }

    /// Forgets the attempts of a name that just logged in.
    pub fn succeeded(&self, username: &str) {
        self.attempts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .remove(username);
    }

    /// Waits for a turn to check a password (at most `deadline`); `Busy` when the line is full
    /// or the deadline passes.
    pub async fn turn(&self, deadline: Duration) -> Result<SemaphorePermit<'_>, Refusal> {
        self.checks.turn(deadline).await.ok_or(Refusal::Busy)
    }

    /// The working memory of password checks, reused by each turn.
    pub fn memory(&self) -> Arc<CheckMemory> {
        Arc::clone(&self.memory)
    }

    /// Names with attempts remembered.
    pub fn remembered_names(&self) -> usize {
        self.attempts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_refused_after_too_many_attempts_and_others_are_not() {
        let throttle = LoginThrottle::new(2);
        let start = Instant::now();
        for _ in 0..MAX_ATTEMPTS {
            assert!(throttle.attempt("admin", start).is_ok());
        }
        let later = start + Duration::from_secs(60);
        let Err(Refusal::Throttled(wait)) = throttle.attempt("admin", later) else {
            panic!("the eleventh attempt must be refused");
        };
        assert_eq!(wait, WINDOW - Duration::from_secs(60));
        assert!(
            throttle.attempt("vera", later).is_ok(),
            "other names are unaffected"
        );
        assert!(
            throttle.attempt("admin", start + WINDOW).is_ok(),
            "the window has passed"
        );
        throttle.succeeded("admin");
        assert_eq!(throttle.remembered_names(), 1);
    }

    #[test]
    fn the_names_remembered_are_bounded() {
        let throttle = LoginThrottle::new(1);
        let start = Instant::now();
        for index in 0..MAX_NAMES + 10 {
            let now = start + Duration::from_millis(index as u64);
            assert!(throttle.attempt(&format!("user{index}"), now).is_ok());
        }
        assert_eq!(throttle.remembered_names(), MAX_NAMES);
    }

    #[tokio::test]
    async fn checks_wait_in_a_bounded_line() {
        let throttle = LoginThrottle::new(1);
        let held = throttle.turn(QUEUE_DEADLINE).await.unwrap();
        // The line is empty, so a short deadline passes while the one permit is held.
        assert_eq!(
            throttle.turn(Duration::from_millis(10)).await.err(),
            Some(Refusal::Busy)
        );
        drop(held);
        assert!(throttle.turn(Duration::from_millis(10)).await.is_ok());
    }
}
