//! A bounded line for scarce work (password checks, replays of history): a few run at once,
//! a few more wait for a turn up to a deadline, and the rest are turned away at once. A place
//! in the line is given back when its request is abandoned mid-wait (the client hung up), so
//! the line never fills with requests nobody waits for.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

/// Turns for one kind of work.
#[derive(Debug)]
pub struct WaitingLine {
    running: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
}

impl WaitingLine {
    /// A line that runs `at_once` (at least one) and lets `waiting_per_turn` wait for each.
    pub fn new(at_once: usize, waiting_per_turn: usize) -> Self {
        let at_once = at_once.max(1);
        Self {
            running: Semaphore::new(at_once),
            waiting: AtomicUsize::new(0),
            max_waiting: at_once * waiting_per_turn,
        }
    }

    /// A turn, held until dropped; `None` when the line is full or the turn does not come
    /// within `deadline`.
    pub async fn turn(&self, deadline: Duration) -> Option<SemaphorePermit<'_>> {
        if let Ok(permit) = self.running.try_acquire() {
            return Some(permit);
        }
        let _place = Place::take(&self.waiting, self.max_waiting)?;
        match tokio::time::timeout(deadline, self.running.acquire()).await {
            Ok(Ok(permit)) => Some(permit),
            _ => None,
        }
    }

    /// How many wait now.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
}

/// A place in the line, given back when dropped.
struct Place<'line>(&'line AtomicUsize);

impl<'line> Place<'line> {
    fn take(waiting: &'line AtomicUsize, max_waiting: usize) -> Option<Self> {
        if waiting.fetch_add(1, Ordering::SeqCst) >= max_waiting {
            waiting.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Self(waiting))
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(600);

    #[tokio::test]
    async fn past_the_running_and_the_waiting_the_rest_are_turned_away_at_once() {
        let line = WaitingLine::new(2, 4);
        let first = line.turn(LONG).await.unwrap();
        let _second = line.turn(LONG).await.unwrap();
        let mut waiting: Vec<_> = (0..8).map(|_| Box::pin(line.turn(LONG))).collect();
        for turn in &mut waiting {
            assert!(is_pending(turn.as_mut()));
        }
        assert_eq!(line.waiting(), 8);
        assert!(line.turn(LONG).await.is_none());
        // A turn given back goes to the first in line.
        drop(first);
        let handed_on = waiting.remove(0).await;
        assert!(handed_on.is_some());
        // Requests abandoned while waiting give their places back.
        drop(waiting);
        assert_eq!(line.waiting(), 0);
        // A wait that outlasts its deadline is turned away, and leaves the line.
        assert!(line.turn(Duration::from_millis(1)).await.is_none());
        assert_eq!(line.waiting(), 0);
        drop(handed_on);
        assert!(line.turn(LONG).await.is_some());
    }

    /// Polls a future once: whether it is still pending.
    fn is_pending<F: std::future::Future>(future: std::pin::Pin<&mut F>) -> bool {
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        future.poll(&mut context).is_pending()
    }
}
