//! `UserSketch`: how many distinct users a feature answered, estimated without keeping an id.
//!
//! A HyperLogLog sketch: each user id is hashed ([`user_hash`]), the hash picks one of
//! [`SKETCH_REGISTERS`] registers and the register keeps the largest "rank" (one more than
//! the hash's trailing zero bits) it has seen. Only registers leave an application, never ids,
//! and registers cannot be turned back into ids. Two sketches merge by taking each register's
//! maximum, so applications, servers and days combine in any order, and merging the same
//! sketch twice changes nothing (a retried batch is harmless).
//!
//! The register rule and the estimate are those of the `hyperloglockless` crate, which does
//! the estimating (its `HyperLogLog::from_parts`); a test holds our registers to its own. At
//! [`SKETCH_PRECISION`] 10 the standard error is about 3.2 %, for 1 KiB per sketch.
//!
//! Every application must hash the same way for sketches to merge, so the hash is a fixed,
//! specified one: XXH3-64 with the seed below, of the id's UTF-8 bytes.

use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::BuildHasherDefault;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::CoreError;

/// log2 of the number of registers.
pub const SKETCH_PRECISION: u8 = 10;
/// Registers per sketch (one byte each).
pub const SKETCH_REGISTERS: usize = 1 << SKETCH_PRECISION;
/// The largest rank a register can hold: 1 + the 64 trailing zeros of a zero hash.
const MAX_RANK: u8 = 65;
/// Fixed so every application and server hashes an id alike ("ramp" in ASCII).
const HASH_SEED: u64 = 0x7261_6d70;

/// The first byte of an encoded sketch: every register follows.
const DENSE: u8 = 1;
/// The first byte of an encoded sketch: (index as two bytes big-endian, rank) triples follow,
/// indexes increasing, for non-zero registers only.
const SPARSE: u8 = 2;

/// The hash a user id is sketched by.
#[inline]
pub fn user_hash(user_id: &str) -> u64 {
    xxh3_64_with_seed(user_id.as_bytes(), HASH_SEED)
}

/// The register a hash falls in and the rank it offers there (`hyperloglockless`'s rule).
#[inline(always)]
pub fn register_of(hash: u64) -> (usize, u8) {
    let index = (hash >> (64 - u32::from(SKETCH_PRECISION))) as usize;
    (index, 1 + hash.trailing_zeros() as u8)
}

/// A HyperLogLog sketch of user ids.
#[derive(Clone, PartialEq, Eq)]
pub struct UserSketch {
    registers: Box<[u8]>,
}

impl Default for UserSketch {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for UserSketch {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("UserSketch")
            .field("non_zero_registers", &self.non_zero_registers())
            .field("estimate", &self.estimate())
            .finish()
    }
}

impl UserSketch {
    /// A sketch that has seen no one.
    pub fn new() -> Self {
        Self {
            registers: vec![0; SKETCH_REGISTERS].into_boxed_slice(),
        }
    }

    /// Adds a user id.
    pub fn insert_user(&mut self, user_id: &str) {
        self.insert_hash(user_hash(user_id));
    }

    /// Adds a [`user_hash`].
    pub fn insert_hash(&mut self, hash: u64) {
        let (index, rank) = register_of(hash);
        self.raise(index, rank);
    }

    /// Raises one register to `rank` if it is lower (what merging does register by register).
    /// Indexes past the sketch and ranks above the largest possible are ignored.
    pub fn raise(&mut self, index: usize, rank: u8) {
        if rank <= MAX_RANK {
            if let Some(register) = self.registers.get_mut(index) {
                *register = (*register).max(rank);
            }
        }
    }

    /// Adds everyone `other` has seen.
    pub fn merge(&mut self, other: &UserSketch) {
        for (register, other) in self.registers.iter_mut().zip(other.registers.iter()) {
            *register = (*register).max(*other);
        }
    }

    /// Whether it has seen no one.
    pub fn is_empty(&self) -> bool {
        self.registers.iter().all(|register| *register == 0)
    }

    /// How many registers hold a rank.
    pub fn non_zero_registers(&self) -> usize {
        self.registers
            .iter()
            .filter(|register| **register != 0)
            .count()
    }

    /// The registers, in order.
    pub fn registers(&self) -> &[u8] {
        &self.registers
    }

    /// The estimated number of distinct users (0 for an empty sketch).
    pub fn estimate(&self) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let zeros = self.registers.iter().filter(|rank| **rank == 0).count();
        let sum: f64 = self
            .registers
            .iter()
            .map(|rank| 2f64.powi(-i32::from(*rank)))
            .sum();
        let sketch = hyperloglockless::HyperLogLog::from_parts(
            self.registers.clone(),
            BuildHasherDefault::<DefaultHasher>::default(),
            zeros,
            sum,
        );
        // Rounded, not truncated as the crate's `count` does: one user estimates 0.99.
        sketch.raw_count().round() as u64
    }

    /// The sketch's relative standard error (about 0.032).
    pub fn standard_error() -> f64 {
        hyperloglockless::error_for_precision(SKETCH_PRECISION)
    }

    /// The compact form stores keep and batches carry: every register, or only the non-zero
    /// ones with their indexes, whichever is shorter.
    pub fn encode(&self) -> Vec<u8> {
        let non_zero = self.non_zero_registers();
        if non_zero * 3 < SKETCH_REGISTERS {
            let mut bytes = Vec::with_capacity(1 + non_zero * 3);
            bytes.push(SPARSE);
            for (index, rank) in self.registers.iter().enumerate() {
                if *rank != 0 {
                    bytes.extend_from_slice(&(index as u16).to_be_bytes());
                    bytes.push(*rank);
                }
            }
            bytes
        } else {
            let mut bytes = Vec::with_capacity(1 + SKETCH_REGISTERS);
            bytes.push(DENSE);
            bytes.extend_from_slice(&self.registers);
            bytes
        }
    }

    /// Reads what [`encode`](Self::encode) wrote, refusing anything else.
    pub fn decode(bytes: &[u8]) -> Result<Self, CoreError> {
        let invalid = |reason| CoreError::InvalidSketch { reason };
        let (&format, body) = bytes.split_first().ok_or(invalid("it is empty"))?;
        let mut sketch = Self::new();
        match format {
            DENSE => {
                if body.len() != SKETCH_REGISTERS {
                    return Err(invalid("a dense sketch holds exactly 1024 registers"));
                }
                if body.iter().any(|rank| *rank > MAX_RANK) {
                    return Err(invalid("a register holds a rank above 65"));
                }
                sketch.registers.copy_from_slice(body);
            }
            SPARSE => {
                if body.len() % 3 != 0 || body.len() > SKETCH_REGISTERS * 3 {
                    return Err(invalid("a sparse sketch is a list of 3-byte registers"));
                }
                let mut next = 0usize;
                for triple in body.chunks_exact(3) {
                    let index = usize::from(u16::from_be_bytes([triple[0], triple[1]]));
                    let rank = triple[2];
                    if index < next || index >= SKETCH_REGISTERS {
                        return Err(invalid("sparse registers out of order or out of range"));
                    }
                    if rank == 0 || rank > MAX_RANK {
                        return Err(invalid("a register holds a rank of 0 or above 65"));
                    }
                    sketch.registers[index] = rank;
                    next = index + 1;
                }
            }
            _ => return Err(invalid("unknown format (the first byte is 1 or 2)")),
        }
        Ok(sketch)
    }

    /// [`encode`](Self::encode) in hexadecimal (how JSON carries a sketch).
    pub fn to_hex(&self) -> String {
        hex::encode(self.encode())
    }

    /// Reads [`to_hex`](Self::to_hex)'s form.
    pub fn from_hex(text: &str) -> Result<Self, CoreError> {
        if text.len() > 2 * (1 + SKETCH_REGISTERS * 3) {
            return Err(CoreError::InvalidSketch {
                reason: "longer than any sketch",
            });
        }
        let bytes = hex::decode(text).map_err(|_| CoreError::InvalidSketch {
            reason: "not hexadecimal",
        })?;
        Self::decode(&bytes)
    }
}

impl Serialize for UserSketch {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for UserSketch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sketch_of(ids: impl Iterator<Item = u64>) -> UserSketch {
        let mut sketch = UserSketch::new();
        for id in ids {
            sketch.insert_user(&id.to_string());
        }
        sketch
    }

    #[test]
    fn the_estimate_of_100_000_ids_is_within_three_standard_errors() {
        let sketch = sketch_of(0..100_000);
        let estimate = sketch.estimate() as f64;
        let bound = 3.0 * UserSketch::standard_error();
        let error = (estimate - 100_000.0).abs() / 100_000.0;
        assert!(
            error < bound,
            "estimate {estimate}, error {error} > {bound}"
        );
        // Repeating ids changes nothing.
        let mut again = sketch.clone();
        for id in 0..100_000u64 {
            again.insert_user(&id.to_string());
        }
        assert_eq!(again, sketch);
    }

    #[test]
    fn small_counts_are_nearly_exact() {
        for count in [1u64, 2, 10, 100] {
            let estimate = sketch_of(0..count).estimate();
            assert!(
                estimate.abs_diff(count) <= count / 20 + 1,
                "{count} -> {estimate}"
            );
        }
        assert_eq!(UserSketch::new().estimate(), 0);
    }

    #[test]
    fn merged_halves_equal_the_whole_and_overlaps_count_once() {
        let whole = sketch_of(0..50_000);
        let mut merged = sketch_of(0..30_000);
        merged.merge(&sketch_of(20_000..50_000));
        assert_eq!(merged, whole);
        let mut twice = merged.clone();
        twice.merge(&whole);
        assert_eq!(twice, whole, "merging is idempotent");
    }

    #[test]
    fn registers_follow_the_crate_rule() {
        // hyperloglockless's own sketch, fed the same hashes, holds the same registers: the
        // estimate we ask of it reads registers the way it writes them.
        let mut theirs = hyperloglockless::HyperLogLog::with_hasher(
            SKETCH_PRECISION,
            BuildHasherDefault::<DefaultHasher>::default(),
        );
        let mut ours = UserSketch::new();
        for id in 0..5_000u64 {
            let hash = user_hash(&id.to_string());
            theirs.insert_hash(hash);
            ours.insert_hash(hash);
        }
        assert_eq!(theirs.iter().collect::<Vec<_>>(), ours.registers());
        assert_eq!(theirs.raw_count().round() as u64, ours.estimate());
        // The hash is fixed (sketches from every application merge): XXH3 of the bytes.
        assert_eq!(user_hash("42"), xxh3_64_with_seed(b"42", 0x7261_6d70));
    }

    #[test]
    fn encoding_round_trips_sparse_and_dense() {
        for sketch in [UserSketch::new(), sketch_of(0..10), sketch_of(0..20_000)] {
            let bytes = sketch.encode();
            let expected_format = if sketch.non_zero_registers() * 3 < SKETCH_REGISTERS {
                SPARSE
            } else {
                DENSE
            };
            assert_eq!(bytes[0], expected_format);
            assert_eq!(UserSketch::decode(&bytes).unwrap(), sketch);
            let json = serde_json::to_string(&sketch).unwrap();
            assert_eq!(serde_json::from_str::<UserSketch>(&json).unwrap(), sketch);
        }
    }

    #[test]
    fn malformed_sketches_are_refused() {
        let refused = [
            vec![],
            vec![3],
            vec![DENSE, 1, 2],
            [vec![DENSE], vec![66; SKETCH_REGISTERS]].concat(),
            vec![SPARSE, 0, 1],
            vec![SPARSE, 0, 5, 1, 0, 4, 1],
            vec![SPARSE, 4, 0, 1],
            vec![SPARSE, 0, 1, 0],
            vec![SPARSE, 0, 1, 66],
        ];
        for bytes in refused {
            assert!(
                matches!(
                    UserSketch::decode(&bytes),
                    Err(CoreError::InvalidSketch { .. })
                ),
                "{bytes:?}"
            );
        }
        assert!(UserSketch::from_hex("zz").is_err());
        assert!(UserSketch::from_hex(&"0".repeat(10_000)).is_err());
    }
}
