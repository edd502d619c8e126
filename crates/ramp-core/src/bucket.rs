//! The rollout gem's percentage bucketing (since gem 2.4.2), bit for bit.
//!
//! A user is in a feature's percentage when `crc32(key) < (u32::MAX as f64 / 100.0) * percentage`,
//! where the key is the user id, or the user id followed by the feature name when the store's
//! `randomize_percentage` setting is on. This rule must never change: Ruby and Rust applications
//! sharing one store must put every user in the same bucket, and raising a percentage must never
//! take the feature away from anyone.

/// The gem computes `(2**32 - 1) / 100.0` in floating point; keep the same operations in the
/// same order so every threshold is identical to Ruby's.
const MAX_CHECKSUM_PER_PERCENT: f64 = 4_294_967_295.0 / 100.0;

/// zlib's CRC-32 (reflected polynomial `0xEDB88320`) as eight slice-by-8 tables, built at
/// compile time. User ids are a few bytes long: there `crc32fast` spends most of a check setting
/// up its streaming state, while this loop inlines into the evaluation and takes eight bytes (or
/// four) per step. For long keys `crc32fast`'s SIMD path wins. Both compute the same function,
/// which a property test checks.
static CRC_TABLES: [[u32; 256]; 8] = crc_tables();

const fn crc_tables() -> [[u32; 256]; 8] {
    let mut tables = [[0u32; 256]; 8];
    let mut byte = 0;
    while byte < 256 {
        let mut crc = byte as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                0xEDB8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
            bit += 1;
        }
        tables[0][byte] = crc;
        byte += 1;
    }
    let mut table = 1;
    while table < 8 {
        let mut byte = 0;
        while byte < 256 {
            let previous = tables[table - 1][byte];
            tables[table][byte] = (previous >> 8) ^ tables[0][(previous & 0xff) as usize];
            byte += 1;
        }
        table += 1;
    }
    tables
}

/// Feeds `bytes` to a running (pre-inverted) CRC-32 state, slice-by-8 then slice-by-4 then
/// byte by byte.
#[inline(always)]
fn crc_update(mut crc: u32, mut bytes: &[u8]) -> u32 {
    let [t0, t1, t2, t3, t4, t5, t6, t7] = &CRC_TABLES;
    while let Some((chunk, rest)) = bytes.split_first_chunk::<8>() {
        let low = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) ^ crc;
        let high = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
        crc = t7[(low & 0xff) as usize]
            ^ t6[((low >> 8) & 0xff) as usize]
            ^ t5[((low >> 16) & 0xff) as usize]
            ^ t4[(low >> 24) as usize]
            ^ t3[(high & 0xff) as usize]
            ^ t2[((high >> 8) & 0xff) as usize]
            ^ t1[((high >> 16) & 0xff) as usize]
            ^ t0[(high >> 24) as usize];
        bytes = rest;
    }
    if let Some((chunk, rest)) = bytes.split_first_chunk::<4>() {
        let word = u32::from_le_bytes(*chunk) ^ crc;
        crc = t3[(word & 0xff) as usize]
            ^ t2[((word >> 8) & 0xff) as usize]
            ^ t1[((word >> 16) & 0xff) as usize]
            ^ t0[(word >> 24) as usize];
        bytes = rest;
    }
    for &byte in bytes {
        crc = t0[((crc ^ u32::from(byte)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// Keys up to this length go through the compile-time tables.
const SHORT_KEY_BYTES: usize = 64;

/// The checksum the gem buckets by: zlib's CRC-32 of the key's UTF-8 bytes.
#[inline(always)]
pub fn checksum(user_id: &str, feature_name: Option<&str>) -> u32 {
    let length = user_id.len() + feature_name.map_or(0, str::len);
    if length <= SHORT_KEY_BYTES {
        let mut crc = crc_update(!0, user_id.as_bytes());
        if let Some(feature_name) = feature_name {
            crc = crc_update(crc, feature_name.as_bytes());
        }
        return !crc;
    }
    long_checksum(user_id, feature_name)
}

#[inline(never)]
fn long_checksum(user_id: &str, feature_name: Option<&str>) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(user_id.as_bytes());
    if let Some(feature_name) = feature_name {
        hasher.update(feature_name.as_bytes());
    }
    hasher.finalize()
}

/// The integer form of the gem's threshold for `percentage`: for every checksum `c`,
/// `(c as u64) < percentage_threshold(p)` exactly when [`checksum_in_percentage`]`(c, p)`.
///
/// The gem compares `c as f64 < t` with `t = (4294967295.0 / 100.0) * p` in f64. A checksum is
/// an integer (exact in f64), and for an integer `c` and a real `t`, `c < t` holds exactly when
/// `c < ceil(t)`; `ceil` of an f64 below 2^53 is exact. So the threshold is `ceil(t)`, clamped
/// to `0` (nobody, also for NaN) and `2^32` (everybody). Computed once per feature when
/// compiling, it turns the per-check float multiply and compare into one integer compare; the
/// tests check the equivalence at the boundary of every percentage step of 0.001 and of random
/// percentages.
pub fn percentage_threshold(percentage: f64) -> u64 {
    let threshold = MAX_CHECKSUM_PER_PERCENT * percentage;
    if threshold.is_nan() || threshold <= 0.0 {
        0
    } else if threshold >= 4_294_967_296.0 {
        1 << 32
    } else {
        threshold.ceil() as u64
    }
}

/// Whether a checksum is below a threshold from [`percentage_threshold`].
#[inline]
pub fn checksum_below(checksum: u32, threshold: u64) -> bool {
    u64::from(checksum) < threshold
}

/// Whether a checksum falls below the threshold for `percentage` (0 to 100).
#[inline]
pub fn checksum_in_percentage(checksum: u32, percentage: f64) -> bool {
    (checksum as f64) < MAX_CHECKSUM_PER_PERCENT * percentage
}

/// Whether `user_id` is in `percentage` % of users for `feature_name`.
#[inline]
pub fn in_percentage(user_id: &str, feature_name: &str, percentage: f64, randomize: bool) -> bool {
    let feature_name = randomize.then_some(feature_name);
    checksum_in_percentage(checksum(user_id, feature_name), percentage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn checksums_match_the_reference_vectors() {
        assert_eq!(checksum("1", None), 2_212_294_583);
        assert_eq!(checksum("2", None), 450_215_437);
        assert_eq!(checksum("6", None), 498_629_140);
        assert_eq!(checksum("user-72", None), 1_445_718_960);
        assert_eq!(checksum("", None), 0);
    }

    #[test]
    fn twenty_percent_of_the_first_hundred_ids_are_exactly_the_gems() {
        let expected = [
            2, 6, 23, 27, 33, 37, 42, 52, 56, 62, 66, 72, 76, 81, 85, 89, 91, 95, 99, 100,
        ];
        let inside: Vec<u32> = (1..=100)
            .filter(|id| in_percentage(&id.to_string(), "chat", 20.0, false))
            .collect();
        assert_eq!(inside, expected);
    }

    #[test]
    fn randomized_buckets_match_the_reference_vectors() {
        assert!(in_percentage("1", "chat", 20.0, true));
        assert!(!in_percentage("1", "beta", 20.0, true));
        assert!(!in_percentage("5", "chat", 20.0, true));
        assert!(in_percentage("5", "beta", 20.0, true));
    }

    #[test]
    fn the_tables_compute_zlib_crc32_for_every_length_and_split() {
        let data: Vec<u8> = (0..200u32).map(|n| (n * 37 + 11) as u8).collect();
        for length in 0..=data.len() {
            let expected = crc32fast::hash(&data[..length]);
            assert_eq!(
                !crc_update(!0, &data[..length]),
                expected,
                "length {length}"
            );
            for split in 0..=length {
                let crc = crc_update(crc_update(!0, &data[..split]), &data[split..length]);
                assert_eq!(!crc, expected, "length {length}, split {split}");
            }
        }
    }

    /// Both forms must agree on every checksum. Each is monotone in the checksum (true below a
    /// cut, false from it on), so agreeing just below and at the integer cut `k` means they agree
    /// on all 2^32 checksums; `k = 0` and `k = 2^32` are checked at the ends.
    fn assert_threshold_matches_the_float_rule(percentage: f64) {
        let threshold = percentage_threshold(percentage);
        assert!(threshold <= 1 << 32);
        let probes = [
            0,
            u32::MAX,
            threshold.saturating_sub(2).min(u64::from(u32::MAX)) as u32,
            threshold.saturating_sub(1).min(u64::from(u32::MAX)) as u32,
            threshold.min(u64::from(u32::MAX)) as u32,
            (threshold + 1).min(u64::from(u32::MAX)) as u32,
        ];
        for checksum in probes {
            assert_eq!(
                checksum_below(checksum, threshold),
                checksum_in_percentage(checksum, percentage),
                "percentage {percentage:?}, checksum {checksum}, threshold {threshold}"
            );
        }
    }

    #[test]
    fn the_integer_threshold_is_the_float_rule_for_every_step_of_a_thousandth() {
        for thousandths in 0..=100_000u32 {
            assert_threshold_matches_the_float_rule(f64::from(thousandths) / 1000.0);
        }
        for percentage in [
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            5e-324,
            1e-9,
            0.1,
            12.5,
            20.0,
            33.333_333_333_333_336,
            99.999_999_999,
            100.0,
            100.0 - f64::EPSILON * 64.0,
        ] {
            assert_threshold_matches_the_float_rule(percentage);
        }
        assert_eq!(percentage_threshold(0.0), 0);
        assert_eq!(percentage_threshold(100.0), 1 << 32);
    }

    /// Every one of the 2^32 checksums, for a few percentages (about a minute in release):
    /// `cargo test --release -p ramp-core -- --ignored every_checksum`.
    #[test]
    #[ignore]
    fn every_checksum_agrees_with_the_float_rule() {
        for percentage in [0.1, 12.5, 20.0, 50.0, 99.9, 100.0] {
            // Opaque values, so the optimizer cannot fold both sides into one comparison.
            let percentage = std::hint::black_box(percentage);
            let threshold = std::hint::black_box(percentage_threshold(percentage));
            for checksum in 0..=u32::MAX {
                assert_eq!(
                    checksum_below(checksum, threshold),
                    checksum_in_percentage(checksum, percentage),
                    "percentage {percentage}, checksum {checksum}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn the_integer_threshold_is_the_float_rule(percentage in 0.0f64..=100.0) {
            assert_threshold_matches_the_float_rule(percentage);
        }

        #[test]
        fn the_integer_threshold_is_the_float_rule_for_any_f64(bits in any::<u64>()) {
            assert_threshold_matches_the_float_rule(f64::from_bits(bits));
        }
    }

    proptest! {
        #[test]
        fn short_and_long_paths_compute_the_same_crc(
            user in "\\PC{0,100}",
            feature in proptest::option::of("[a-z:._-]{0,60}"),
        ) {
            let mut reference = crc32fast::Hasher::new();
            reference.update(user.as_bytes());
            if let Some(feature) = &feature {
                reference.update(feature.as_bytes());
            }
            prop_assert_eq!(checksum(&user, feature.as_deref()), reference.finalize());
        }
    }

    #[test]
    fn everyone_is_in_at_one_hundred_and_nobody_at_zero() {
        assert!(checksum_in_percentage(u32::MAX, 100.0));
        assert!(!checksum_in_percentage(0, 0.0));
    }

    #[test]
    fn about_the_right_share_is_in() {
        for percentage in [0.1, 1.0, 12.5, 20.0, 50.0, 99.0] {
            let inside = (1..=100_000)
                .filter(|id| in_percentage(&id.to_string(), "f", percentage, false))
                .count();
            let share = inside as f64 / 1_000.0;
            assert!(
                (share - percentage).abs() <= 0.5,
                "{percentage} % let in {share} %"
            );
        }
    }

    proptest! {
        #[test]
        fn raising_the_percentage_never_takes_the_feature_away(
            user in "[a-zA-Z0-9@._-]{1,40}",
            feature in "[a-z]{1,12}",
            low in 0.0f64..=100.0,
            extra in 0.0f64..=100.0,
            randomize in any::<bool>(),
        ) {
            let high = (low + extra).min(100.0);
            if in_percentage(&user, &feature, low, randomize) {
                prop_assert!(in_percentage(&user, &feature, high, randomize));
            }
        }
    }

    proptest! {
        // Each case evaluates 100,000 ids; a few dozen random percentages are plenty.
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn the_share_that_is_in_tracks_the_percentage(percentage in 0.0f64..=100.0) {
            let inside = (1..=100_000)
                .filter(|id| in_percentage(&id.to_string(), "f", percentage, false))
                .count();
            let share = inside as f64 / 1_000.0;
            prop_assert!((share - percentage).abs() <= 0.5, "{} % let in {} %", percentage, share);
        }
    }
}
