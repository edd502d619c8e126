//! The names of groups that applications define in code, as they report them, so the web UI
//! can offer them. Anyone with a reader token may report, so what is kept is bounded: names per
//! report and per reporter (a token or account name), names in total, and a name not reported
//! again within [`EXPIRY`] is forgotten (SDKs report on every connection and every hour).
//! Time is a parameter, so tests need no clock.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// Names one report may carry, and one reporter may have at once.
pub const MAX_NAMES_PER_REPORTER: usize = 1000;

/// A name not reported again for this long is forgotten.
pub const EXPIRY: Duration = Duration::from_secs(24 * 60 * 60);

/// Why a report was refused; nothing of it was kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TooMany {
    /// The reporter would have more than [`MAX_NAMES_PER_REPORTER`] names.
    #[error("one client may report at most {MAX_NAMES_PER_REPORTER} code-group names")]
    ForReporter,
    /// All reporters together would have more than the server keeps.
    #[error("the server keeps at most {0} code-group names; it has no room for more")]
    InTotal(usize),
}

/// Reported names, by reporter, with when each was last reported.
#[derive(Debug)]
pub struct CodeGroupRegistry {
    by_reporter: HashMap<String, HashMap<String, Instant>>,
    limit: usize,
}

impl CodeGroupRegistry {
    /// A registry that keeps at most `limit` names in all.
    pub fn new(limit: usize) -> Self {
        Self {
            by_reporter: HashMap::new(),
            limit,
        }
    }

    /// Records that `reporter` defines `names` at `now`: all of them, or none when a limit
    /// would be passed.
    pub fn report(
        &mut self,
        reporter: &str,
        names: &[String],
        now: Instant,
    ) -> Result<(), TooMany> {
        self.forget_expired(now);
        let known = self.by_reporter.get(reporter);
        let new_for_reporter: BTreeSet<&String> = names
            .iter()
            .filter(|name| known.is_none_or(|known| !known.contains_key(*name)))
            .collect();
        let reporter_total = known.map_or(0, HashMap::len) + new_for_reporter.len();
        if reporter_total > MAX_NAMES_PER_REPORTER {
            return Err(TooMany::ForReporter);
        }
        let everyone = self.names();
        let new_in_total = new_for_reporter
            .iter()
            .filter(|name| !everyone.contains(name.as_str()))
            .count();
        if everyone.len() + new_in_total > self.limit {
            return Err(TooMany::InTotal(self.limit));
        }
        let kept = self.by_reporter.entry(reporter.to_owned()).or_default();
        for name in names {
            kept.insert(name.clone(), now);
        }
        Ok(())
    }

    /// Every name some reporter still has, sorted.
    pub fn names(&self) -> BTreeSet<&str> {
        self.by_reporter
            .values()
            .flat_map(|names| names.keys().map(String::as_str))
            .collect()
    }

    /// Forgets names not reported within [`EXPIRY`] of `now`.
    pub fn forget_expired(&mut self, now: Instant) {
        for names in self.by_reporter.values_mut() {
            names.retain(|_, seen| now.saturating_duration_since(*seen) < EXPIRY);
        }
        self.by_reporter.retain(|_, names| !names.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|index| format!("group{index}")).collect()
    }

    #[test]
    fn a_reporter_is_capped_and_a_refused_report_keeps_nothing() {
        let mut registry = CodeGroupRegistry::new(100_000);
        let now = Instant::now();
        registry
            .report("app", &names(0..MAX_NAMES_PER_REPORTER), now)
            .unwrap();
        // Reporting the same names again is fine; one more is not.
        registry
            .report("app", &names(0..MAX_NAMES_PER_REPORTER), now)
            .unwrap();
        let over = names(MAX_NAMES_PER_REPORTER..MAX_NAMES_PER_REPORTER + 1);
        assert_eq!(
            registry.report("app", &over, now),
            Err(TooMany::ForReporter)
        );
        assert_eq!(registry.names().len(), MAX_NAMES_PER_REPORTER);
        // Another reporter has its own allowance.
        registry.report("other", &over, now).unwrap();
        assert_eq!(registry.names().len(), MAX_NAMES_PER_REPORTER + 1);
    }

    #[test]
    fn the_total_is_capped_but_shared_names_count_once() {
        let mut registry = CodeGroupRegistry::new(10);
        let now = Instant::now();
        registry.report("a", &names(0..8), now).unwrap();
        registry.report("b", &names(0..8), now).unwrap();
        assert_eq!(
            registry.report("c", &names(5..13), now),
            Err(TooMany::InTotal(10))
        );
        registry.report("c", &names(5..10), now).unwrap();
        assert_eq!(registry.names().len(), 10);
    }

    #[test]
    fn names_not_reported_again_expire() {
        let mut registry = CodeGroupRegistry::new(10);
        let start = Instant::now();
        registry.report("a", &names(0..2), start).unwrap();
        registry
            .report("b", &names(1..3), start + EXPIRY / 2)
            .unwrap();
        registry.forget_expired(start + EXPIRY);
        let left: Vec<&str> = registry.names().into_iter().collect();
        assert_eq!(left, ["group1", "group2"]);
        registry.forget_expired(start + EXPIRY * 2);
        assert!(registry.names().is_empty());
    }
}
