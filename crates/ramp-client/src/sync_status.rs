//! How the background task is doing with what it follows (the server, or the store in direct
//! mode): whether it is connected, and how many attempts to reach it have failed. For an
//! application's health check ("answering from a snapshot the server no longer confirms"),
//! and for tests that must know the task tried again rather than wait and hope.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What [`crate::Client::sync_status`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncStatus {
    /// Following changes now: the server's stream is open (server mode), or the last read of
    /// the store succeeded (direct mode).
    pub connected: bool,
    /// Attempts to reach the server or store that failed since the client started (stream
    /// connections, snapshot fetches and polls, store reads).
    pub failed_attempts: u64,
}

/// The counters behind [`SyncStatus`], written by the background task.
#[derive(Debug, Default)]
pub(crate) struct SyncCounters {
    connected: AtomicBool,
    failed_attempts: AtomicU64,
}

impl SyncCounters {
    /// The task reached what it follows.
    pub fn connected(&self) {
        self.connected.store(true, Ordering::Release);
    }

    /// An attempt failed; the task is no longer connected.
    pub fn failed(&self) {
        self.connected.store(false, Ordering::Release);
        self.failed_attempts.fetch_add(1, Ordering::AcqRel);
    }

    /// A consistent-enough reading for reports.
    pub fn status(&self) -> SyncStatus {
        SyncStatus {
            connected: self.connected.load(Ordering::Acquire),
            failed_attempts: self.failed_attempts.load(Ordering::Acquire),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_counted_and_end_the_connection() {
        let counters = SyncCounters::default();
        assert_eq!(counters.status(), SyncStatus::default());
        counters.connected();
        assert!(counters.status().connected);
        counters.failed();
        counters.failed();
        assert_eq!(
            counters.status(),
            SyncStatus {
                connected: false,
                failed_attempts: 2
            }
        );
        counters.connected();
        assert_eq!(
            counters.status().failed_attempts,
            2,
            "kept after reconnecting"
        );
    }
}
