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

/// zlib's CRC-32, byte by byte from one table built at compile time. User ids are a few bytes
/// long: there `crc32fast` spends most of a check setting up its streaming state, while this
/// loop inlines into the evaluation (about 20 fewer instructions per check, counted with
/// callgrind). For long keys `crc32fast`'s SIMD path wins. Both compute the same function,
/// which a property test checks.
const SHORT_KEY_CRC: crc::Crc<u32, crc::Table<1>> =
    crc::Crc::<u32, crc::Table<1>>::new(&crc::CRC_32_ISO_HDLC);

/// Keys up to this length go through the compile-time tables.
const SHORT_KEY_BYTES: usize = 64;

/// The checksum the gem buckets by: zlib's CRC-32 of the key's UTF-8 bytes.
#[inline]
pub fn checksum(user_id: &str, feature_name: Option<&str>) -> u32 {
    let length = user_id.len() + feature_name.map_or(0, str::len);
    if length <= SHORT_KEY_BYTES {
        let mut digest = SHORT_KEY_CRC.digest();
        digest.update(user_id.as_bytes());
        if let Some(feature_name) = feature_name {
            digest.update(feature_name.as_bytes());
        }
        return digest.finalize();
    }
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(user_id.as_bytes());
    if let Some(feature_name) = feature_name {
        hasher.update(feature_name.as_bytes());
    }
    hasher.finalize()
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
