//! `OwnCounts`: the server's own evaluations (OFREP, `check`, `states`), counted like an
//! application's, so that applications in other languages show up in the counts too.
//!
//! A lock per request is cheap beside the request itself; names are bounded (past the bound a
//! check is counted without a name). A check with a user id (OFREP's `targetingKey`) also adds
//! the user to that feature's and answer's sketch of distinct users, up to `MAX_SKETCHES`
//! sketches (1 KiB each) between flushes.

use std::collections::HashMap;
use std::sync::Mutex;

use ramp_core::{ReasonKind, UserSketch};
use ramp_store::exposure::ReasonCounts;

/// The most (feature, answer) user sketches held between flushes.
pub const MAX_SKETCHES: usize = 2_000;

/// Counts since the last flush.
#[derive(Debug, Default)]
pub struct Taken {
    /// Per name as asked, checks per reason.
    pub counts: Vec<(String, ReasonCounts)>,
    /// Checks past the bound on names.
    pub unnamed: u64,
    /// Per (name, answer), the users checked.
    pub users: Vec<((String, bool), UserSketch)>,
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
    /// Per name, the users answered inactive and active (looked up by `&str`: a request
    /// evaluating every feature allocates nothing for names already held).
    users: HashMap<String, [Option<UserSketch>; 2]>,
    /// Sketches held in `users`.
    sketches: usize,
}

impl OwnCounts {
    /// Nothing counted; at most `max_names` names held between flushes.
    pub fn new(max_names: usize) -> Self {
        Self {
            max_names,
            pending: Mutex::default(),
        }
    }

    /// Counts one request's evaluations, for `user` if the context had one.
    pub fn count<'a>(
        &self,
        evaluations: impl IntoIterator<Item = (&'a str, ReasonKind)>,
        user: Option<&str>,
    ) {
        let hash = user.map(ramp_core::user_hash);
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|error| error.into_inner());
        for (name, reason) in evaluations {
            pending.add(name, reason, 1, self.max_names);
            if let Some(hash) = hash {
                pending.add_user(name, reason.is_active(), hash);
            }
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
            users: pending
                .users
                .into_iter()
                .flat_map(|(name, sketches)| {
                    let [inactive, active] = sketches;
                    [(false, inactive), (true, active)]
                        .into_iter()
                        .filter_map(move |(answer, sketch)| Some(((name.clone(), answer), sketch?)))
                })
                .collect(),
        }
    }

    /// Puts back what a failed flush took, to be sent with the next one.
    pub fn put_back(&self, taken: Taken) {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|error| error.into_inner());
        pending.unnamed = pending.unnamed.saturating_add(taken.unnamed);
        for ((name, active), sketch) in &taken.users {
            pending.add_users(name, *active, sketch);
        }
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
    /// The sketch for (name, answer), made if the bound allows.
    fn sketch(&mut self, name: &str, active: bool) -> Option<&mut UserSketch> {
        let room = self.sketches < MAX_SKETCHES;
        if !self.users.contains_key(name) {
            if !room {
                return None;
            }
            self.users.insert(name.to_owned(), Default::default());
        }
        let slot = self.users.get_mut(name)?;
        let sketch = &mut slot[usize::from(active)];
        if sketch.is_none() && room {
            self.sketches += 1;
            *sketch = Some(UserSketch::new());
        }
        sketch.as_mut()
    }

    fn add_user(&mut self, name: &str, active: bool, hash: u64) {
        if let Some(sketch) = self.sketch(name, active) {
            sketch.insert_hash(hash);
        }
    }

    fn add_users(&mut self, name: &str, active: bool, users: &UserSketch) {
        if let Some(sketch) = self.sketch(name, active) {
            sketch.merge(users);
        }
    }

    fn add(&mut self, name: &str, reason: ReasonKind, count: u64, max_names: usize) {
        if !self.counts.contains_key(name) && self.counts.len() >= max_names {
            self.unnamed = self.unnamed.saturating_add(count);
            return;
        }
        let counts = match self.counts.get_mut(name) {
            Some(counts) => counts,
            None => self
                .counts
                .entry(name.to_owned())
                .or_insert([0; ramp_core::ReasonKind::ALL.len()]),
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
        own.count(
            [("chat", ReasonKind::Off), ("chat", ReasonKind::Off)],
            Some("u1"),
        );
        own.count(
            [
                ("search", ReasonKind::User),
                ("third", ReasonKind::NotFound),
            ],
            None,
        );
        own.count([("chat", ReasonKind::Off)], Some("u2"));
        let taken = own.take();
        let mut counts = taken.counts.clone();
        counts.sort();
        assert_eq!(counts.len(), 2);
        assert_eq!(counts[0].1[ReasonKind::Off.index()], 3);
        assert_eq!(taken.users.len(), 1, "only checks with a user add users");
        assert_eq!(taken.users[0].0, ("chat".to_owned(), false));
        assert_eq!(taken.users[0].1.estimate(), 2);
        assert_eq!(taken.unnamed, 1, "a third name is past the bound");
        assert!(own.take().counts.is_empty());
        own.put_back(taken);
        let again = own.take();
        assert_eq!(again.counts.len(), 2);
        assert_eq!(again.unnamed, 1);
        assert_eq!(again.users.len(), 1);
    }
}
