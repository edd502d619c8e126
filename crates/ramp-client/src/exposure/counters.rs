//! `CounterTable`: how many checks each feature of one compiled snapshot answered, per reason.
//!
//! One table lives beside each compiled snapshot and is swapped with it, so a check finds its
//! counter by the feature's position (which the one name lookup of the check already gives):
//! `ReasonKind::OF_FOUND` relaxed `AtomicU64`s per feature, one `fetch_add` per check. No
//! lock, no allocation, no hashing beyond the check's own. Whether a check was active follows
//! from its reason, so (active, reason) is one slot.
//!
//! Names no feature has (typos, features not created yet) are counted too, in a fixed table of
//! the first `UNKNOWN_SLOTS` such names; later ones, and names too long to hold, only add to
//! `overflow`. That table is written without a lock or an allocation either: a slot's name is
//! stored in atomic words, claimed by one compare-and-swap and published by a release store.
//! Two threads meeting a new name at the same instant may claim two slots for it; draining
//! adds them up, so that costs a slot, never a count.
//!
//! Checks with a user id also add the user to the distinct users of the feature and answer
//! (`user_registers.rs`).
//!
//! This file must never block or allocate on the recording side: it is inside every check.

use std::sync::atomic::{AtomicU64, Ordering};

use ramp_core::{Check, CompiledSnapshot, ReasonKind, UserSketch};

use super::user_registers::UserRegisters;

/// How many distinct unknown names a table counts by name.
pub(crate) const UNKNOWN_SLOTS: usize = 64;
/// The longest unknown name counted by name, in bytes (a feature name's limit).
const NAME_WORDS: usize = 25;
const NAME_BYTES: usize = NAME_WORDS * 8;
/// A slot's state while its name is being written.
const WRITING: u64 = 1;
/// A slot's state once its name is readable: this bit plus the name's length.
const READY: u64 = 1 << 32;

/// The counters of one compiled snapshot.
#[derive(Debug)]
pub(crate) struct CounterTable {
    /// The snapshot whose positions index `slots` (a cheap clone: its parts are shared), so
    /// the table can name its features after the snapshot was replaced.
    compiled: CompiledSnapshot,
    /// `ReasonKind::OF_FOUND` counters per feature, in snapshot order.
    slots: Box<[AtomicU64]>,
    unknown: Box<[UnknownSlot]>,
    /// Checks of unknown names that no slot could take.
    overflow: AtomicU64,
    /// Distinct users per feature and answer; `None` when users are not counted.
    users: Option<UserRegisters>,
}

#[derive(Debug)]
struct UnknownSlot {
    /// 0 (empty), `WRITING`, or `READY | length`.
    state: AtomicU64,
    /// The name's bytes, little-endian, zero-padded.
    words: [AtomicU64; NAME_WORDS],
    count: AtomicU64,
}

impl UnknownSlot {
    fn new() -> Self {
        Self {
            state: AtomicU64::new(0),
            words: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
        }
    }

    /// Whether this slot holds `name` (its state read as `READY | length`).
    fn holds(&self, name: &[u8]) -> bool {
        name.chunks(8)
            .zip(&self.words)
            .all(|(chunk, word)| word.load(Ordering::Relaxed) == pack(chunk))
    }

    fn name(&self, length: usize) -> String {
        let mut bytes: Vec<u8> = self
            .words
            .iter()
            .flat_map(|word| word.load(Ordering::Relaxed).to_le_bytes())
            .collect();
        bytes.truncate(length);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Up to eight bytes as one little-endian word, zero-padded.
fn pack(chunk: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word[..chunk.len()].copy_from_slice(chunk);
    u64::from_le_bytes(word)
}

/// What draining a table found: per feature and reason, and per unknown name.
#[derive(Debug, Default)]
pub(crate) struct Drained {
    pub counts: Vec<(String, ReasonKind, u64)>,
    pub overflow: u64,
    /// Per feature and answer, the users checked.
    pub users: Vec<(String, bool, UserSketch)>,
}

impl CounterTable {
    pub fn new(compiled: &CompiledSnapshot, count_users: bool) -> Self {
        Self {
            compiled: compiled.clone(),
            slots: (0..compiled.len() * ReasonKind::OF_FOUND)
                .map(|_| AtomicU64::new(0))
                .collect(),
            unknown: (0..UNKNOWN_SLOTS).map(|_| UnknownSlot::new()).collect(),
            overflow: AtomicU64::new(0),
            users: count_users.then(|| UserRegisters::new(compiled.len())),
        }
    }

    /// Whether distinct users are counted too: then the caller hashes the user id
    /// ([`ramp_core::user_hash`]) once and hands the hash to both the check and `record`.
    #[inline(always)]
    pub fn counts_users(&self) -> bool {
        self.users.is_some()
    }

    /// Counts one check of `feature` (the name the application asked for); `user_hash` is the
    /// user id's [`ramp_core::user_hash`] when users are counted and the check had a user.
    #[inline(always)]
    pub fn record(&self, check: Check, feature: &str, user_hash: Option<u64>) {
        match check.position() {
            Some(position) => {
                let slot = position * ReasonKind::OF_FOUND + check.reason().index();
                if let Some(counter) = self.slots.get(slot) {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                if let (Some(users), Some(hash)) = (&self.users, user_hash) {
                    users.record_hash(position, check.is_active(), hash);
                }
            }
            None => self.record_unknown(feature),
        }
    }

    #[cold]
    #[inline(never)]
    fn record_unknown(&self, feature: &str) {
        let name = feature.as_bytes();
        if name.is_empty() || name.len() > NAME_BYTES {
            self.overflow.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let ready = READY | name.len() as u64;
        let home = fnv1a(name) as usize % UNKNOWN_SLOTS;
        for step in 0..UNKNOWN_SLOTS {
            let slot = &self.unknown[(home + step) % UNKNOWN_SLOTS];
            let mut state = slot.state.load(Ordering::Acquire);
            if state == 0 {
                match slot
                    .state
                    .compare_exchange(0, WRITING, Ordering::Acquire, Ordering::Acquire)
                {
                    Ok(_) => {
                        for (chunk, word) in name.chunks(8).zip(&slot.words) {
                            word.store(pack(chunk), Ordering::Relaxed);
                        }
                        slot.count.fetch_add(1, Ordering::Relaxed);
                        slot.state.store(ready, Ordering::Release);
                        return;
                    }
                    Err(now) => state = now,
                }
            }
            // A slot being written by another thread is passed over rather than waited for.
            if state == ready && slot.holds(name) {
                slot.count.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        self.overflow.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes every non-zero count (each counter swapped to zero, so a check counted during
    /// the drain lands in this drain or the next, never in neither).
    pub fn drain(&self, into: &mut Drained) {
        for (slot, counter) in self.slots.iter().enumerate() {
            // A plain load first: most counters are zero, and a swap would write the line.
            if counter.load(Ordering::Relaxed) == 0 {
                continue;
            }
            let count = counter.swap(0, Ordering::Relaxed);
            let position = slot / ReasonKind::OF_FOUND;
            let reason = ReasonKind::ALL[slot % ReasonKind::OF_FOUND];
            if let (true, Some(name)) = (count > 0, self.compiled.feature_name(position)) {
                into.counts.push((name.to_owned(), reason, count));
            }
        }
        for slot in self.unknown.iter() {
            let state = slot.state.load(Ordering::Acquire);
            if state & READY == 0 || slot.count.load(Ordering::Relaxed) == 0 {
                continue;
            }
            let count = slot.count.swap(0, Ordering::Relaxed);
            let length = (state & !READY) as usize;
            into.counts
                .push((slot.name(length), ReasonKind::NotFound, count));
        }
        into.overflow += self.overflow.swap(0, Ordering::Relaxed);
        if let Some(users) = &self.users {
            users.drain(&self.compiled, &mut into.users);
        }
    }
}

/// FNV-1a: spreads unknown names over the slots (only unknown names pay for it).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use ramp_core::{CodeGroups, Context, Feature, FeatureName, Percentage, Snapshot};

    fn compiled(names: &[&str]) -> CompiledSnapshot {
        let features = names
            .iter()
            .map(|name| {
                let mut feature =
                    Feature::new(FeatureName::new(*name).unwrap(), DateTime::UNIX_EPOCH);
                feature.percentage = Percentage::new(100.0).unwrap();
                feature
            })
            .collect();
        CompiledSnapshot::compile(&Snapshot {
            features,
            ..Snapshot::default()
        })
    }

    fn check(table: &CounterTable, compiled: &CompiledSnapshot, name: &str) {
        let context = Context::user("1");
        table.record(
            compiled.check(name, &context, &CodeGroups::new()),
            name,
            Some(ramp_core::user_hash("1")),
        );
    }

    #[test]
    fn counts_features_and_unknown_names_then_drains_to_zero() {
        let snapshot = compiled(&["a", "b"]);
        let table = CounterTable::new(&snapshot, true);
        for name in [
            "a",
            "a",
            "b",
            "typo",
            "typo",
            "a-much-longer-name-of-more-than-eight",
        ] {
            check(&table, &snapshot, name);
        }
        check(&table, &snapshot, &"x".repeat(NAME_BYTES + 1));
        let mut drained = Drained::default();
        table.drain(&mut drained);
        drained.counts.sort();
        assert_eq!(
            drained.counts,
            [
                ("a".to_owned(), ReasonKind::Everyone, 2),
                (
                    "a-much-longer-name-of-more-than-eight".to_owned(),
                    ReasonKind::NotFound,
                    1
                ),
                ("b".to_owned(), ReasonKind::Everyone, 1),
                ("typo".to_owned(), ReasonKind::NotFound, 2),
            ]
        );
        assert_eq!(drained.overflow, 1);
        let mut again = Drained::default();
        table.drain(&mut again);
        assert!(again.counts.is_empty() && again.overflow == 0);
    }

    #[test]
    fn unknown_names_past_the_table_overflow() {
        let snapshot = compiled(&[]);
        let table = CounterTable::new(&snapshot, true);
        for index in 0..UNKNOWN_SLOTS + 10 {
            check(&table, &snapshot, &format!("missing-{index}"));
        }
        check(&table, &snapshot, "missing-0");
        let mut drained = Drained::default();
        table.drain(&mut drained);
        assert_eq!(drained.counts.len(), UNKNOWN_SLOTS);
        assert_eq!(drained.overflow, 10);
        let total: u64 = drained.counts.iter().map(|(_, _, count)| count).sum();
        assert_eq!(total, UNKNOWN_SLOTS as u64 + 1);
    }
}
