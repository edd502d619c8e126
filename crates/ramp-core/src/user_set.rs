//! `UserSet`: a compact, read-only set of user ids for evaluation.
//!
//! A feature may list a million users, and a check must stay in the tens of nanoseconds with
//! little memory. Ids that are canonical decimal integers (most real ids) are kept as 8-byte
//! keys, scrambled by a bijective mix so that no id needs to be stored beside its key. Other ids
//! are kept once in one byte buffer, each with one 8-byte entry: the top 32 bits of its hash,
//! then where its text starts. Both kinds of keys sit in cache-line buckets
//! (`user_set_buckets.rs`), so a lookup reads one cache line (two for a text id, counting its
//! text) and allocates nothing.
//!
//! A text id's hash is [`user_hash`], the one the exposure counting sketches distinct users
//! by, so a client that counts hashes each id once per check ([`Probe`]).

use std::cell::Cell;

use crate::user_set_buckets::KeyBuckets;
use crate::user_sketch::user_hash;

/// A read-only set of user ids.
#[derive(Debug, Clone, Default)]
pub struct UserSet {
    numbers: KeyBuckets,
    /// One entry per text id: its hash's top 32 bits (`TAG_MASK`), then the low 32 bits of the
    /// entry give where its text (length first, `text_at`) starts in `text_bytes`.
    texts: KeyBuckets,
    text_bytes: Vec<u8>,
}

/// One user id about to be looked up in one or more sets: parsed once, and hashed (only if a
/// text id meets a set with texts) at most once, or never if the caller already had the hash.
pub(crate) struct Probe<'a> {
    id: &'a str,
    number: Option<u64>,
    hash: &'a Cell<Option<u64>>,
}

impl<'a> Probe<'a> {
    /// `hash` holds the id's [`user_hash`] if known, and receives it once computed.
    #[inline(always)]
    pub(crate) fn new(id: &'a str, hash: &'a Cell<Option<u64>>) -> Self {
        Self {
            id,
            number: canonical_number(id),
            hash,
        }
    }

    #[inline(always)]
    fn text_hash(&self) -> u64 {
        match self.hash.get() {
            Some(hash) => hash,
            None => {
                let hash = user_hash(self.id);
                self.hash.set(Some(hash));
                hash
            }
        }
    }
}

/// A text's length byte saying that four bytes of length follow (ids of 255 bytes or more).
const LONG_TEXT: u8 = u8::MAX;

/// Appends a text with its length in front: one byte, or `LONG_TEXT` and four.
fn push_text(bytes: &mut Vec<u8>, text: &[u8]) {
    match u8::try_from(text.len()) {
        Ok(length) if length != LONG_TEXT => bytes.push(length),
        _ => {
            bytes.push(LONG_TEXT);
            bytes.extend_from_slice(&(text.len() as u32).to_le_bytes());
        }
    }
    bytes.extend_from_slice(text);
}

/// The part of a text entry that holds its hash; the rest is where its text starts.
const TAG_MASK: u64 = 0xffff_ffff_0000_0000;

/// A bijective mix (murmur3's finalizer): spreads sequential ids evenly over the key space, and
/// two ids share a key only if they are equal, so the key alone proves membership.
#[inline]
fn mix(mut value: u64) -> u64 {
    value ^= value >> 33;
    value = value.wrapping_mul(0xff51_afd7_ed55_8ccd);
    value ^= value >> 33;
    value = value.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    value ^= value >> 33;
    value
}

/// The id's value when it is written exactly as `u64::to_string` would write it.
#[inline]
fn canonical_number(id: &str) -> Option<u64> {
    let bytes = id.as_bytes();
    if bytes.is_empty() || bytes.len() > 20 || (bytes[0] == b'0' && bytes.len() > 1) {
        return None;
    }
    let mut value: u64 = 0;
    if bytes.len() < 20 {
        // Nineteen digits cannot overflow: plain arithmetic. A text id stops at its first
        // non-digit, usually the first byte.
        for byte in bytes {
            let digit = byte.wrapping_sub(b'0');
            if digit > 9 {
                return None;
            }
            value = value * 10 + u64::from(digit);
        }
        return Some(value);
    }
    for byte in bytes {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(digit))?;
    }
    Some(value)
}

impl UserSet {
    /// Builds a set from ids (duplicates are harmless).
    pub fn new<'a>(ids: impl IntoIterator<Item = &'a str>) -> Self {
        let mut numbers = Vec::new();
        let mut texts: Vec<(u64, &str)> = Vec::new();
        for id in ids {
            match canonical_number(id) {
                Some(number) => numbers.push(mix(number)),
                None => texts.push((user_hash(id) & TAG_MASK, id)),
            }
        }
        texts.sort_unstable();
        texts.dedup();
        let mut entries = Vec::with_capacity(texts.len());
        let mut text_bytes = Vec::with_capacity(texts.iter().map(|(_, text)| text.len() + 1).sum());
        for (tag, text) in &texts {
            // An entry is 32 bits of hash and 32 of offset: a set holds less than 4 GiB of ids
            // (a million ids of the longest allowed kind are a quarter of that).
            entries.push(tag | (text_bytes.len() as u64 & !TAG_MASK));
            push_text(&mut text_bytes, text.as_bytes());
        }
        text_bytes.shrink_to_fit();
        Self {
            numbers: KeyBuckets::build(numbers),
            texts: KeyBuckets::build(entries),
            text_bytes,
        }
    }

    /// Whether the set holds `id`.
    #[inline]
    pub fn contains(&self, id: &str) -> bool {
        self.contains_probe(&Probe::new(id, &Cell::new(None)))
    }

    /// Whether the set holds the probe's id.
    #[inline]
    pub(crate) fn contains_probe(&self, probe: &Probe<'_>) -> bool {
        if let Some(number) = probe.number {
            return self.numbers.contains(mix(number));
        }
        if self.texts.len() == 0 {
            return false;
        }
        let id = probe.id.as_bytes();
        let tag = probe.text_hash() & TAG_MASK;
        // Different texts can share a tag; compare each.
        let mut found = false;
        self.texts.scan(tag, |entry| {
            found = entry & TAG_MASK == tag && self.text_at(entry) == id;
            found
        });
        found
    }

    /// The text an entry points at.
    #[inline]
    fn text_at(&self, entry: u64) -> &[u8] {
        let start = (entry & !TAG_MASK) as usize;
        let bytes = &self.text_bytes[start..];
        match bytes[0] {
            LONG_TEXT => {
                let length = u32::from_le_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
                &bytes[5..5 + length as usize]
            }
            length => &bytes[1..1 + usize::from(length)],
        }
    }

    /// How many ids the set holds.
    pub fn len(&self) -> usize {
        self.numbers.len() + self.texts.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes held, for the memory figures in BENCHMARKS.md.
    pub fn memory_bytes(&self) -> usize {
        self.numbers.memory_bytes() + self.texts.memory_bytes() + self.text_bytes.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_numbers_and_texts_and_nothing_else() {
        let set = UserSet::new([
            "1",
            "42",
            "user-72",
            "007",
            "",
            "18446744073709551615",
            "18446744073709551616",
        ]);
        for present in [
            "1",
            "42",
            "user-72",
            "007",
            "",
            "18446744073709551615",
            "18446744073709551616",
        ] {
            assert!(set.contains(present), "{present:?} missing");
        }
        for absent in ["2", "7", "07", "user-7", "user-720", "+1", "1 ", "4 2"] {
            assert!(!set.contains(absent), "{absent:?} found");
        }
        assert_eq!(set.len(), 7);
    }

    #[test]
    fn texts_whose_hashes_share_their_top_bits_are_told_apart() {
        // Among 300,000 ids, some two share their hash's top 32 bits (the birthday bound).
        let mut seen = std::collections::HashMap::new();
        let (first, second) = (0..300_000)
            .map(|number| format!("id-{number}"))
            .find_map(|id| {
                let tag = user_hash(&id) & TAG_MASK;
                seen.insert(tag, id.clone()).map(|earlier| (earlier, id))
            })
            .expect("a shared tag among 300,000 ids");
        let set = UserSet::new([first.as_str(), second.as_str(), "other"]);
        assert!(set.contains(&first) && set.contains(&second) && set.contains("other"));
        let only_first = UserSet::new([first.as_str(), "other"]);
        assert!(only_first.contains(&first));
        assert!(
            !only_first.contains(&second),
            "{second:?} found via {first:?}"
        );
    }

    #[test]
    fn long_texts_keep_their_whole_length() {
        let ids: Vec<String> = [0, 1, 254, 255, 256, 300, 70_000]
            .iter()
            .map(|length| "x".repeat(*length))
            .collect();
        let set = UserSet::new(ids.iter().map(String::as_str));
        for id in &ids {
            assert!(set.contains(id), "{} bytes", id.len());
            assert!(
                !set.contains(&format!("{id}y")),
                "{} bytes and one",
                id.len()
            );
        }
        assert!(!set.contains(&"x".repeat(2)));
        assert_eq!(set.len(), ids.len());
    }

    #[test]
    fn empty_set_contains_nothing() {
        let set = UserSet::new(std::iter::empty());
        assert!(set.is_empty());
        assert!(!set.contains("1"));
        assert!(!set.contains("a"));
    }

    #[test]
    fn a_million_numeric_ids_stay_under_sixteen_bytes_each() {
        let ids: Vec<String> = (0..1_000_000u64).map(|id| id.to_string()).collect();
        let set = UserSet::new(ids.iter().map(String::as_str));
        assert!(set.contains("999999"));
        assert!(!set.contains("1000000"));
        let per_id = set.memory_bytes() as f64 / 1_000_000.0;
        assert!(per_id <= 16.0, "{per_id} bytes per id");
    }

    proptest! {
        #[test]
        fn agrees_with_a_hash_set(
            members in proptest::collection::vec("[0-9]{1,4}|[a-z0-9-]{1,8}", 0..200),
            probes in proptest::collection::vec("[0-9]{1,4}|[a-z0-9-]{1,8}", 0..50),
        ) {
            let set = UserSet::new(members.iter().map(String::as_str));
            let reference: std::collections::HashSet<&str> = members.iter().map(String::as_str).collect();
            for probe in probes.iter().chain(members.iter()) {
                prop_assert_eq!(set.contains(probe), reference.contains(probe.as_str()), "{}", probe);
            }
        }
    }
}
