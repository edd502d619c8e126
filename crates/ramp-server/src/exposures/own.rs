//! `OwnCounts`: the server's own evaluations (OFREP, `check`, `states`), counted like an
//! application's, so that applications in other languages show up in the counts too.
//!
//! A lock per request is cheap beside the request itself; names are bounded (past the bound a
//! check is counted without a name).

use std::collections::HashMap;
use std::sync::Mutex;

use ramp_core::ReasonKind;
use ramp_store::exposure::ReasonCounts;

/// Counts since the last flush.
#[derive(Debug, Default)]
pub struct Taken {
    /// Per name as asked, checks per reason.
    pub counts: Vec<(String, ReasonCounts)>,
    /// Checks past the bound on names.
    pub unnamed: u64,
}

/// The server's pending counts.
#[derive(Debug)]
pub struct OwnCounts {
    max_names: usize,
    pending: Mutex<Pending>,
}

#[derive(Debug, Default)]
struct Pending {
    counts: HashMap<String, ReasonCounts>,
    unnamed: u64,
}

impl OwnCounts {
    /// Nothing counted; at most `max_names` names held between flushes.
    pub fn new(max_names: usize) -> Self {
        Self {
            max_names,
            pending: Mutex::default(),
        }
    }

    /// Counts one request's evaluations.
    pub fn count<'a>(&self, evaluations: impl IntoIterator<Item = (&'a str, ReasonKind)>) {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|error| error.into_inner());
        for (name, reason) in evaluations {
            pending.add(name, reason, 1, self.max_names);
        }
    }

    /// Takes what was counted, leaving nothing.
    pub fn take(&self) -> Taken {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|error| error.into_inner());
        let pending = std::mem::take(&mut *pending);
        Taken {
            counts: pending.counts.into_iter().collect(),
            unnamed: pending.unnamed,
        }
    }

    /// Puts back what a failed flush took, to be sent with the next one.
    pub fn put_back(&self, taken: Taken) {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|error| error.into_inner());
        pending.unnamed = pending.unnamed.saturating_add(taken.unnamed);
        for (name, counts) in taken.counts {
            for (reason, count) in ReasonKind::ALL.into_iter().zip(counts) {
                if count > 0 {
                    pending.add(&name, reason, count, self.max_names);
                }
            }
        }
    }
}

impl Pending {
    fn add(&mut self, name: &str, reason: ReasonKind, count: u64, max_names: usize) {
        if !self.counts.contains_key(name) && self.counts.len() >= max_names {
            self.unnamed = self.unnamed.saturating_add(count);
            return;
        }
        let counts = match self.counts.get_mut(name) {
            Some(counts) => counts,
            None => self.counts.entry(name.to_owned()).or_insert([0; 7]),
        };
        counts[reason.index()] = counts[reason.index()].saturating_add(count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_are_taken_once_and_can_be_put_back() {
        let own = OwnCounts::new(2);
        own.count([("chat", ReasonKind::Off), ("chat", ReasonKind::Off)]);
        own.count([
            ("search", ReasonKind::User),
            ("third", ReasonKind::NotFound),
        ]);
        let taken = own.take();
        let mut counts = taken.counts.clone();
        counts.sort();
        assert_eq!(counts.len(), 2);
        assert_eq!(counts[0].1[ReasonKind::Off.index()], 2);
        assert_eq!(taken.unnamed, 1, "a third name is past the bound");
        assert!(own.take().counts.is_empty());
        own.put_back(taken);
        let again = own.take();
        assert_eq!(again.counts.len(), 2);
        assert_eq!(again.unnamed, 1);
    }
}
