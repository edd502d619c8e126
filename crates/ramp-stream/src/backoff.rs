//! `Backoff`: how long to wait before reconnecting after failures in a row.
//!
//! "Full jitter" exponential backoff: after `n` failures the wait is drawn uniformly from
//! `0..=min(max, min * 2^n)`. The randomness spreads the reconnects of many followers after a
//! server restart, so they do not all arrive in the same instant.

use std::time::Duration;

use rand::Rng;

/// The bounds of the wait between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Half the first wait's upper bound (the bound doubles with every failure from here).
    pub min: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Backoff {
    /// Waits between `min` and `max` (`max` is raised to `min` when below it).
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max: max.max(min),
        }
    }

    /// The wait before the next attempt after `failures` failures in a row (full jitter).
    pub fn wait(&self, failures: u32) -> Duration {
        let ceiling = self.ceiling(failures);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::thread_rng().gen_range(0..=millis))
    }

    /// The largest wait after `failures` failures: `min * 2^failures`, at most `max`.
    pub fn ceiling(&self, failures: u32) -> Duration {
        // 2^20 times even 1 ms is past any sensible maximum; capping the shift avoids overflow.
        let factor = 1u32 << failures.min(20);
        self.min
            .checked_mul(factor)
            .unwrap_or(self.max)
            .min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_grows_exponentially_up_to_the_maximum() {
        let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(30));
        assert_eq!(backoff.ceiling(1), Duration::from_millis(200));
        assert_eq!(backoff.ceiling(4), Duration::from_millis(1600));
        assert_eq!(backoff.ceiling(9), Duration::from_secs(30));
        assert_eq!(backoff.ceiling(u32::MAX), Duration::from_secs(30));
        let inverted = Backoff::new(Duration::from_secs(2), Duration::from_secs(1));
        assert_eq!(inverted.ceiling(3), Duration::from_secs(2));
    }

    #[test]
    fn waits_are_jittered_within_the_ceiling() {
        let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(30));
        let waits: Vec<Duration> = (0..200).map(|_| backoff.wait(5)).collect();
        assert!(waits
            .iter()
            .all(|wait| *wait <= Duration::from_millis(3200)));
        // Full jitter: the waits spread out rather than all being the ceiling.
        let distinct: std::collections::HashSet<_> = waits.iter().collect();
        assert!(distinct.len() > 50, "{distinct:?}");
    }
}
