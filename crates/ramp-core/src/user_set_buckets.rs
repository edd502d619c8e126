//! `KeyBuckets`: the 64-bit keys of a `UserSet`, in cache-line buckets, so that a lookup reads
//! one cache line (rarely two) whatever the set's size.
//!
//! A sorted array with a prefix table needs two dependent reads per lookup (the table, then
//! the keys), and with users changing on every check both miss the first-level cache. Here a
//! key's home bucket comes from its top 32 bits by a multiply (no table), a bucket is eight
//! keys in one 64-byte line, and a bucket that is not full ends the search. About six keys
//! per bucket keeps memory near 11 bytes a key.

/// Marks a free place. A key equal to it is remembered apart (`holds_marker`).
const FREE: u64 = u64::MAX;
/// Keys per bucket: one 64-byte cache line.
const PER_BUCKET: usize = 8;
/// Keys per home bucket when building: full enough to stay small, free enough that few
/// lookups go on to the next bucket.
const LOAD: usize = 6;

#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct Bucket([u64; PER_BUCKET]);

const EMPTY_BUCKET: Bucket = Bucket([FREE; PER_BUCKET]);

/// A read-only set of 64-bit keys whose top bits are evenly spread (mixed or hashed).
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyBuckets {
    /// `homes` home buckets, then overflow ones; the last bucket is never full, so a search
    /// always stops inside the vector.
    buckets: Vec<Bucket>,
    homes: u64,
    holds_marker: bool,
    len: usize,
}

impl KeyBuckets {
    /// Builds the set; `keys` need not be sorted or unique.
    pub(crate) fn build(mut keys: Vec<u64>) -> Self {
        keys.sort_unstable();
        keys.dedup();
        let len = keys.len();
        if keys.is_empty() {
            return Self::default();
        }
        let homes = len.div_ceil(LOAD) as u64;
        let mut buckets = vec![EMPTY_BUCKET; homes as usize + 1];
        let mut holds_marker = false;
        // Sorted keys arrive in home order, so each lands in its home or just after.
        let mut next = 0usize;
        for key in keys {
            if key == FREE {
                holds_marker = true;
                continue;
            }
            let mut bucket = next.max(home(key, homes));
            loop {
                if bucket == buckets.len() {
                    buckets.push(EMPTY_BUCKET);
                }
                if let Some(place) = buckets[bucket].0.iter_mut().find(|place| **place == FREE) {
                    *place = key;
                    break;
                }
                bucket += 1;
            }
            // Keys after this one have a home at or after this key's: a full bucket before
            // `bucket` stays full, so the search for the next free place may start here.
            next = bucket;
        }
        if buckets
            .last()
            .is_some_and(|last| last.0[PER_BUCKET - 1] != FREE)
        {
            buckets.push(EMPTY_BUCKET);
        }
        buckets.shrink_to_fit();
        Self {
            buckets,
            homes,
            holds_marker,
            len,
        }
    }

    /// Whether `key` is in the set.
    #[inline]
    pub(crate) fn contains(&self, key: u64) -> bool {
        if key == FREE {
            return self.holds_marker;
        }
        if self.buckets.is_empty() {
            return false;
        }
        let mut bucket = home(key, self.homes);
        loop {
            let keys = &self.buckets[bucket].0;
            // All eight compared without a branch each (the compiler does them side by side).
            if keys
                .iter()
                .fold(false, |found, &stored| found | (stored == key))
            {
                return true;
            }
            if keys[PER_BUCKET - 1] == FREE {
                return false;
            }
            bucket += 1;
        }
    }

    /// Calls `matches` with every stored key whose top 32 bits are `key`'s (and perhaps a few
    /// others from the same buckets), until it returns true.
    #[inline]
    pub(crate) fn scan(&self, key: u64, mut matches: impl FnMut(u64) -> bool) {
        if self.buckets.is_empty() {
            return;
        }
        let mut bucket = home(key, self.homes);
        loop {
            let keys = &self.buckets[bucket].0;
            for &stored in keys {
                if stored != FREE && stored >> 32 == key >> 32 && matches(stored) {
                    return;
                }
            }
            if keys[PER_BUCKET - 1] == FREE {
                return;
            }
            bucket += 1;
        }
    }

    /// How many keys the set holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Heap bytes held.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<Bucket>()
    }
}

/// The home bucket of `key` among `homes`: its top 32 bits scaled to the bucket count, so
/// sorted keys have non-decreasing homes.
#[inline(always)]
fn home(key: u64, homes: u64) -> usize {
    (((key >> 32) * homes) >> 32) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_free_marker_and_crowded_homes_are_still_found() {
        // Forty keys with one home: five buckets' worth spill over, and the marker itself.
        let crowded: Vec<u64> = (0..40)
            .map(|low| (7 << 32) | low)
            .chain([FREE, 0])
            .collect();
        let set = KeyBuckets::build(crowded.clone());
        assert_eq!(set.len(), crowded.len());
        for key in &crowded {
            assert!(set.contains(*key), "{key:#x}");
        }
        assert!(!set.contains((7 << 32) | 40));
        assert!(!set.contains(1));
        assert!(!KeyBuckets::build(vec![1]).contains(FREE));
        assert!(!KeyBuckets::default().contains(5));
    }

    proptest! {
        #[test]
        fn agrees_with_a_hash_set(
            keys in proptest::collection::vec(any::<u64>(), 0..300),
            narrow in proptest::collection::vec(0u64..64, 0..100),
            probes in proptest::collection::vec(any::<u64>(), 0..50),
        ) {
            // Narrow keys share their top bits: long runs over several buckets.
            let keys: Vec<u64> = keys.into_iter().chain(narrow.iter().map(|low| (3 << 32) | low)).collect();
            let set = KeyBuckets::build(keys.clone());
            let reference: std::collections::HashSet<u64> = keys.iter().copied().collect();
            prop_assert_eq!(set.len(), reference.len());
            let misses: Vec<u64> = narrow.iter().map(|low| (3 << 32) | (low + 64)).collect();
            for probe in probes.iter().chain(&keys).chain(&misses) {
                prop_assert_eq!(set.contains(*probe), reference.contains(probe), "{:#x}", probe);
            }
        }
    }
}
