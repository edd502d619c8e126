//! `NameIndex`: finds a compiled feature by name in a few instructions.
//!
//! This is the first half of every check, so it is Ramp's own rather than a general hash map:
//! a fixed-seed two-word hash for the usual short names, 32 bits of that hash stored per slot
//! so names are compared only on a likely hit, and probes that never wrap around.

use std::sync::Arc;

/// Something the index can find by name.
pub(crate) trait Named {
    /// The name to index under.
    fn name(&self) -> &str;
}

/// The feature-name index: open addressing with linear probing over a power-of-two table of
/// `(tag, position)` slots, one quarter to one half full. The tag is the upper half of the
/// name's 64-bit hash, so a probe compares names only when 32 more bits of hash agree; the
/// names themselves live in the indexed items (`Named::name`).
///
/// Probes never wrap around: a run that would pass the end of the table continues into extra
/// slots after it, and the last slot is always empty. So a lookup is a plain forward scan
/// from the name's home slot to the first empty slot, with no masking or bounds check per step.
#[derive(Debug, Clone)]
pub(crate) struct NameIndex {
    /// `mask + 1` home slots, then overflow slots; the last one is empty. Shared, so a
    /// compiled snapshot patched without adding or removing a feature keeps it for free.
    slots: Arc<[Slot]>,
    /// The number of home slots minus one (a power of two minus one).
    mask: usize,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    tag: u32,
    /// A position in `features`, or `EMPTY`.
    position: u32,
}

const EMPTY: u32 = u32::MAX;
const EMPTY_SLOT: Slot = Slot {
    tag: 0,
    position: EMPTY,
};

impl Default for NameIndex {
    fn default() -> Self {
        Self {
            slots: Arc::new([EMPTY_SLOT, EMPTY_SLOT]),
            mask: 0,
        }
    }
}

impl NameIndex {
    /// An index of `features` by name. With duplicate names the last one wins, as it did with
    /// a `HashMap`.
    pub(crate) fn new<T: Named>(features: &[T]) -> Self {
        let home_slots = (2 * features.len()).max(1).next_power_of_two();
        let mask = home_slots - 1;
        // The home slots and one empty slot after them.
        let mut slots = vec![EMPTY_SLOT; home_slots + 1];
        for (position, feature) in features.iter().enumerate() {
            let hash = name_hash(feature.name().as_bytes());
            let tag = (hash >> 32) as u32;
            let mut slot = hash as usize & mask;
            loop {
                let current = slots[slot];
                if current.position == EMPTY
                    || (current.tag == tag
                        && features[current.position as usize].name() == feature.name())
                {
                    slots[slot] = Slot {
                        tag,
                        position: position as u32,
                    };
                    if slot == slots.len() - 1 {
                        // The run reached the last slot: keep an empty one after it.
                        slots.push(EMPTY_SLOT);
                    }
                    break;
                }
                slot += 1;
            }
        }
        Self {
            slots: slots.into(),
            mask,
        }
    }

    /// How many slots a lookup of `name` reads (tests and tuning).
    #[cfg(test)]
    fn probe_length<T: Named>(&self, features: &[T], name: &str) -> usize {
        let home = name_hash(name.as_bytes()) as usize & self.mask;
        let mut length = 1;
        for current in &self.slots[home..] {
            if current.position == EMPTY || features[current.position as usize].name() == name {
                break;
            }
            length += 1;
        }
        length
    }

    /// The feature named `name`.
    #[inline(always)]
    pub(crate) fn find<'a, T: Named>(&self, features: &'a [T], name: &str) -> Option<&'a T> {
        self.locate(features, name).map(|(_, feature)| feature)
    }

    /// The feature named `name`, with its position in `features`. Always inlined: it is most
    /// of every check, and as a call of its own it cost the check about 10 instructions.
    #[inline(always)]
    pub(crate) fn locate<'a, T: Named>(
        &self,
        features: &'a [T],
        name: &str,
    ) -> Option<(u32, &'a T)> {
        let hash = name_hash(name.as_bytes());
        let tag = (hash >> 32) as u32;
        for current in self.slots.get(hash as usize & self.mask..)? {
            if current.position == EMPTY {
                return None;
            }
            if current.tag == tag {
                if let Some(feature) = features.get(current.position as usize) {
                    if names_equal(feature.name().as_bytes(), name.as_bytes()) {
                        return Some((current.position, feature));
                    }
                }
            }
        }
        None
    }
}

const HASH_KEYS: [u64; 3] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
];

/// The 128-bit product of `a` and `b`, folded to 64 bits (foldhash's and wyhash's mixer).
#[inline(always)]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

#[inline(always)]
fn read_u64(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 8)
        .and_then(|word| word.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

#[inline(always)]
fn read_u32(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 4)
        .and_then(|word| word.try_into().ok())
        .map_or(0, |word| u64::from(u32::from_le_bytes(word)))
}

/// The first and last 8 (or 4) bytes of a key of up to 16 bytes, which together cover it.
#[inline(always)]
fn short_words(bytes: &[u8]) -> (u64, u64) {
    let length = bytes.len();
    if length >= 8 {
        (read_u64(bytes, 0), read_u64(bytes, length - 8))
    } else if length >= 4 {
        (read_u32(bytes, 0), read_u32(bytes, length - 4))
    } else if let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) {
        let middle = bytes.get(length / 2).copied().unwrap_or(0);
        (
            u64::from(first) << 16 | u64::from(middle) << 8 | u64::from(last),
            0,
        )
    } else {
        (0, 0)
    }
}

/// A fast, fixed-seed hash of a feature name for the index (not DoS-resistant, like the fixed
/// foldhash state it replaces; names come from the store). Names up to 16 bytes, the usual
/// case, cost two loads and one multiply.
#[inline]
fn name_hash(bytes: &[u8]) -> u64 {
    if bytes.len() <= 16 {
        return short_name_hash(short_words(bytes), bytes.len());
    }
    long_name_hash(bytes)
}

/// `name_hash` of a name of `length` (up to 16) bytes, from its `short_words`.
#[inline(always)]
fn short_name_hash((first, last): (u64, u64), length: usize) -> u64 {
    folded_multiply(first ^ HASH_KEYS[0], last ^ HASH_KEYS[1] ^ length as u64)
}

#[inline(never)]
fn long_name_hash(bytes: &[u8]) -> u64 {
    let length = bytes.len();
    let mut state = HASH_KEYS[2] ^ length as u64;
    let mut rest = bytes;
    while rest.len() > 16 {
        state = folded_multiply(read_u64(rest, 0) ^ HASH_KEYS[0], read_u64(rest, 8) ^ state);
        rest = rest.get(16..).unwrap_or_default();
    }
    // The last 16 bytes, overlapping what was already mixed when the length is not a multiple.
    folded_multiply(
        read_u64(bytes, length - 16) ^ HASH_KEYS[1] ^ state,
        read_u64(bytes, length - 8) ^ HASH_KEYS[2],
    )
}

/// `a == b`, with the usual short names compared by two word loads each instead of a call to
/// `memcmp`.
#[inline(always)]
fn names_equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() <= 16 {
        return short_words(a) == short_words(b);
    }
    a == b
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use proptest::prelude::*;

    struct Item(Box<str>);

    impl Named for Item {
        fn name(&self) -> &str {
            &self.0
        }
    }

    fn names_index(names: &[String]) -> (Vec<Item>, NameIndex) {
        let features: Vec<Item> = names
            .iter()
            .map(|name| Item(name.as_str().into()))
            .collect();
        let index = NameIndex::new(&features);
        (features, index)
    }

    #[test]
    fn the_index_finds_every_name_and_nothing_else() {
        let names: Vec<String> = (0..10_000).map(|n| format!("feature-{n}")).collect();
        let (features, index) = names_index(&names);
        for (position, name) in names.iter().enumerate() {
            let found = index.find(&features, name).map(|feature| &*feature.0);
            assert_eq!(found, Some(name.as_str()), "position {position}");
        }
        for missing in [
            "",
            "f",
            "feature-",
            "feature-10000",
            "feature-5000 ",
            "Feature-1",
        ] {
            assert!(index.find(&features, missing).is_none(), "{missing}");
        }
        let (empty_features, empty) = names_index(&[]);
        assert!(empty.find(&empty_features, "feature-1").is_none());
        assert!(NameIndex::default().find::<Item>(&[], "").is_none());
    }

    #[test]
    fn lookups_of_typical_names_read_few_slots() {
        let names: Vec<String> = (0..10_000).map(|n| format!("feature-{n}")).collect();
        let (features, index) = names_index(&names);
        let hits: usize = names
            .iter()
            .map(|name| index.probe_length(&features, name))
            .sum();
        let misses: usize = (10_000..20_000)
            .map(|n| index.probe_length(&features, &format!("feature-{n}")))
            .sum();
        let (hit_mean, miss_mean) = (hits as f64 / 10_000.0, misses as f64 / 10_000.0);
        eprintln!(
            "{} slots for 10,000 names: {hit_mean:.2} slots per hit, {miss_mean:.2} per miss, \
             feature-5000 {}",
            index.slots.len(),
            index.probe_length(&features, "feature-5000")
        );
        assert!(hit_mean < 2.0 && miss_mean < 4.0, "{hit_mean} {miss_mean}");
    }

    #[test]
    fn runs_past_the_last_home_slot_continue_into_overflow_slots() {
        // Three names whose home is the last of the 8 home slots of a 3-name index.
        let names: Vec<String> = (0..)
            .map(|n| format!("name-{n}"))
            .filter(|name| name_hash(name.as_bytes()) & 7 == 7)
            .take(3)
            .collect();
        let (features, index) = names_index(&names);
        assert_eq!(index.mask, 7);
        assert_eq!(
            index.slots.len(),
            8 + 3,
            "two overflow slots and the empty last one"
        );
        assert_eq!(index.slots[index.slots.len() - 1].position, EMPTY);
        for name in &names {
            let found = index.find(&features, name).map(|feature| &*feature.0);
            assert_eq!(found, Some(name.as_str()));
        }
        assert!(index.find(&features, "absent").is_none());
        for count in 0..300 {
            let names: Vec<String> = (0..count).map(|n| format!("f{n}")).collect();
            let (features, index) = names_index(&names);
            assert_eq!(index.slots[index.slots.len() - 1].position, EMPTY);
            for name in &names {
                let found = index.find(&features, name).map(|feature| &*feature.0);
                assert_eq!(found, Some(name.as_str()), "{count} names");
            }
            assert!(index.find(&features, "absent").is_none());
        }
    }

    #[test]
    fn the_last_of_duplicate_names_wins() {
        let names = ["a", "b", "a"].map(String::from);
        let (features, index) = names_index(&names);
        let found = index
            .find(&features, "a")
            .map(|feature| feature as *const _);
        assert_eq!(found, Some(&features[2] as *const _));
    }

    #[test]
    fn names_equal_is_byte_equality_at_every_length() {
        let base: Vec<u8> = (0..40u8).map(|n| b'a' + n % 26).collect();
        for length in 0..=base.len() {
            let a = &base[..length];
            assert!(names_equal(a, a));
            for flip in 0..length {
                let mut b = a.to_vec();
                b[flip] ^= 1;
                assert!(!names_equal(a, &b), "length {length}, byte {flip}");
            }
            if length > 0 {
                assert!(!names_equal(a, &base[..length - 1]));
            }
        }
    }

    proptest! {
        #[test]
        fn the_index_agrees_with_a_hash_map(
            names in proptest::collection::vec("\\PC{0,40}", 0..60),
            probes in proptest::collection::vec("\\PC{0,40}", 0..20),
        ) {
            let (features, index) = names_index(&names);
            let reference: HashMap<&str, usize> = names
                .iter()
                .enumerate()
                .map(|(position, name)| (name.as_str(), position))
                .collect();
            for name in names.iter().chain(&probes) {
                let found = index
                    .find(&features, name)
                    .map(|feature| feature as *const Item);
                let expected = reference
                    .get(name.as_str())
                    .map(|position| &features[*position] as *const Item);
                prop_assert_eq!(found, expected);
            }
        }

        #[test]
        fn names_equal_agrees_with_slice_equality(
            a in proptest::collection::vec(any::<u8>(), 0..40),
            b in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            prop_assert_eq!(names_equal(&a, &b), a == b);
            prop_assert!(names_equal(&a, &a.clone()));
        }
    }
}
