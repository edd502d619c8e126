//! `UserRegisters`: the distinct users each feature of one snapshot answered, per answer, as
//! HyperLogLog registers (see `ramp_core::UserSketch`) that checks raise without a lock.
//!
//! A check with a user id hashes the id ([`ramp_core::user_hash`]) and raises one of the 1,024
//! registers of its (feature, answer) block with `fetch_max`, only when the register is
//! lower (after the first few thousand users of a feature it seldom is, so most checks only
//! read). The id itself is never kept. A block is allocated at the first check of its
//! (feature, answer) with a user, once per snapshot: that check, and only that one, pays for
//! 1 KiB of zeroed memory, and the blocks of one snapshot are bounded by `MAX_BLOCKS`.
//!
//! Draining swaps the raised registers back to zero into a `UserSketch` per block. A block's
//! `dirty` flag, set after a register is raised (release) and cleared before the drain reads
//! (acquire), lets the drain skip quiet blocks without losing a raise: a raise the drain
//! missed leaves the flag set for the next one.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::OnceLock;

use ramp_core::{register_of, CompiledSnapshot, UserSketch, SKETCH_REGISTERS};

/// The most (feature, answer) blocks one snapshot's table allocates: 4 MiB.
pub(crate) const MAX_BLOCKS: usize = 4_096;

/// One (feature, answer)'s registers.
#[derive(Debug)]
struct Block {
    dirty: AtomicBool,
    registers: Box<[AtomicU8]>,
}

impl Block {
    fn new() -> Self {
        Self {
            dirty: AtomicBool::new(false),
            registers: (0..SKETCH_REGISTERS).map(|_| AtomicU8::new(0)).collect(),
        }
    }
}

/// The blocks of one compiled snapshot, two per feature (inactive, active).
#[derive(Debug)]
pub(crate) struct UserRegisters {
    blocks: Box<[OnceLock<Block>]>,
    allocated: AtomicUsize,
}

impl UserRegisters {
    pub fn new(features: usize) -> Self {
        Self {
            blocks: (0..features * 2).map(|_| OnceLock::new()).collect(),
            allocated: AtomicUsize::new(0),
        }
    }

    /// Adds `user_id` to the users of the feature at `position` that got answer `active`.
    #[cfg(test)]
    pub fn record(&self, position: usize, active: bool, user_id: &str) {
        self.record_hash(position, active, ramp_core::user_hash(user_id));
    }

    /// Adds the user whose id has this [`ramp_core::user_hash`] (the check computed it once
    /// for the lists and the count).
    #[inline]
    pub fn record_hash(&self, position: usize, active: bool, user_hash: u64) {
        let Some(slot) = self.blocks.get(position * 2 + usize::from(active)) else {
            return;
        };
        let block = match slot.get() {
            Some(block) => block,
            None => match self.allocate(slot) {
                Some(block) => block,
                None => return,
            },
        };
        let (index, rank) = register_of(user_hash);
        let register = &block.registers[index];
        if register.load(Ordering::Relaxed) < rank {
            register.fetch_max(rank, Ordering::Relaxed);
            block.dirty.store(true, Ordering::Release);
        }
    }

    #[cold]
    #[inline(never)]
    fn allocate<'a>(&self, slot: &'a OnceLock<Block>) -> Option<&'a Block> {
        if self.allocated.fetch_add(1, Ordering::Relaxed) >= MAX_BLOCKS {
            self.allocated.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        let mut ours = false;
        let block = slot.get_or_init(|| {
            ours = true;
            Block::new()
        });
        if !ours {
            // Another thread's block won the slot; ours was never made.
            self.allocated.fetch_sub(1, Ordering::Relaxed);
        }
        Some(block)
    }

    /// Takes every raised register, as (feature, answer, sketch) per block that had any.
    pub fn drain(&self, compiled: &CompiledSnapshot, into: &mut Vec<(String, bool, UserSketch)>) {
        for (slot, block) in self.blocks.iter().enumerate() {
            let Some(block) = block.get() else { continue };
            if !block.dirty.swap(false, Ordering::Acquire) {
                continue;
            }
            let mut sketch = UserSketch::new();
            for (index, register) in block.registers.iter().enumerate() {
                if register.load(Ordering::Relaxed) != 0 {
                    sketch.raise(index, register.swap(0, Ordering::Relaxed));
                }
            }
            if let (false, Some(name)) = (sketch.is_empty(), compiled.feature_name(slot / 2)) {
                into.push((name.to_owned(), slot % 2 == 1, sketch));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use ramp_core::{Feature, FeatureName, Snapshot};

    fn compiled(names: &[&str]) -> CompiledSnapshot {
        let features = names
            .iter()
            .map(|name| Feature::new(FeatureName::new(*name).unwrap(), DateTime::UNIX_EPOCH))
            .collect();
        CompiledSnapshot::compile(&Snapshot {
            features,
            ..Snapshot::default()
        })
    }

    #[test]
    fn registers_drain_into_the_same_sketch_the_ids_make() {
        let snapshot = compiled(&["a", "b"]);
        let registers = UserRegisters::new(snapshot.len());
        let mut expected = UserSketch::new();
        for id in 0..5_000 {
            let id = id.to_string();
            registers.record(0, true, &id);
            registers.record(0, true, &id);
            expected.insert_user(&id);
        }
        registers.record(1, false, "only-one");
        let mut drained = Vec::new();
        registers.drain(&snapshot, &mut drained);
        drained.sort_by(|left, right| left.0.cmp(&right.0));
        assert_eq!(drained.len(), 2);
        assert_eq!(
            (drained[0].0.as_str(), drained[0].1, &drained[0].2),
            ("a", true, &expected)
        );
        assert_eq!((drained[1].0.as_str(), drained[1].1), ("b", false));
        assert_eq!(drained[1].2.estimate(), 1);
        let mut again = Vec::new();
        registers.drain(&snapshot, &mut again);
        assert!(again.is_empty(), "drained registers are back at zero");
    }

    #[test]
    fn threads_raising_at_once_lose_no_register() {
        let snapshot = compiled(&["a"]);
        let registers = UserRegisters::new(snapshot.len());
        let mut drained = Vec::new();
        std::thread::scope(|scope| {
            for thread in 0..8u64 {
                let registers = &registers;
                scope.spawn(move || {
                    for id in thread * 10_000..(thread + 1) * 10_000 {
                        registers.record(0, true, &id.to_string());
                    }
                });
            }
            // Drains while the threads raise: whatever each drain takes adds up.
            for _ in 0..20 {
                registers.drain(&snapshot, &mut drained);
            }
        });
        registers.drain(&snapshot, &mut drained);
        let mut merged = UserSketch::new();
        for (_, _, sketch) in &drained {
            merged.merge(sketch);
        }
        let mut expected = UserSketch::new();
        for id in 0..80_000u64 {
            expected.insert_user(&id.to_string());
        }
        assert_eq!(merged, expected);
    }

    #[test]
    fn blocks_past_the_bound_are_not_allocated() {
        let registers = UserRegisters::new(MAX_BLOCKS);
        for position in 0..MAX_BLOCKS {
            registers.record(position, true, "1");
        }
        registers.record(0, false, "1");
        registers.record(MAX_BLOCKS - 1, false, "2");
        assert_eq!(registers.allocated.load(Ordering::Relaxed), MAX_BLOCKS);
        let allocated = registers
            .blocks
            .iter()
            .filter(|block| block.get().is_some());
        assert_eq!(allocated.count(), MAX_BLOCKS);
        assert!(
            registers.blocks[0].get().is_none(),
            "(0, inactive) had no room"
        );
    }
}
