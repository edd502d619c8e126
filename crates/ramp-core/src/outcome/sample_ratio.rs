//! Sample ratio mismatch: is the random split of users between the sides the size the
//! rollout percentage says? A mismatch means the comparison is biased (users dropped from one
//! side by a crash, a redirect, a bot filter) and its figures should not be trusted.
//!
//! With `q` the percentage as a share, `n_A` and `n_B` the users placed by the percentage on
//! each side and `N = n_A + n_B`: `χ² = (n_A - qN)² / (qN) + (n_B - (1 - q)N)² / ((1 - q)N)`,
//! one degree of freedom, and a mismatch when `χ² >` [`SAMPLE_RATIO_CRITICAL`] (p < 0.001).
//!
//! Only users the percentage decided count: a user on the allow list, in a group, or excluded
//! is on a side by name, not by chance, and counting them would make the check fire on any
//! feature with a list. [`RandomSplit`] holds only the two percentage counts, and is built from
//! counts per [`ReasonKind`] by taking exactly those two reasons, so no caller can pass the
//! side totals by mistake. At 0 % or 100 % there is no split and no check (and no division by
//! zero).
//!
//! The χ² above is `z²` with `z = (n_A - qN) / sqrt(N q (1 - q))`. Counts estimated by sketches
//! (relative error `e`) add `e² ((1 - q)² n_A² + q² n_B²)` to the variance of `n_A - qN =
//! (1 - q) n_A - q n_B`; without it, a sketch's 3 % error would flag every feature with more
//! than a few thousand users. With exact counts it is the textbook statistic.

use super::counting::Counting;
use crate::{Percentage, ReasonKind};

/// χ² with one degree of freedom at p = 0.001.
pub const SAMPLE_RATIO_CRITICAL: f64 = 10.83;

/// The least users expected on each side for the χ² approximation to hold.
const MIN_EXPECTED_USERS: f64 = 5.0;

/// Users placed on a side by the percentage alone: the random split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RandomSplit {
    /// Users whose bucket fell within the percentage ([`ReasonKind::Percentage`]).
    pub within_percentage: u64,
    /// Users whose bucket fell outside it ([`ReasonKind::OutsidePercentage`]).
    pub outside_percentage: u64,
}

impl RandomSplit {
    /// The random split out of users counted per reason (indexed by [`ReasonKind::index`]);
    /// every other reason is left out.
    pub fn from_reasons(users: &[u64; ReasonKind::ALL.len()]) -> Self {
        Self {
            within_percentage: users[ReasonKind::Percentage.index()],
            outside_percentage: users[ReasonKind::OutsidePercentage.index()],
        }
    }
}

/// The result of the check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleRatio {
    /// The percentage is 0 or 100: nobody is split, nothing to check.
    NoSplit,
    /// Fewer than 5 users expected on a side.
    NotEnoughData,
    /// The check was made.
    Checked {
        /// The share of split users the percentage expects on the active side (q).
        expected_active_share: f64,
        /// The share observed.
        observed_active_share: f64,
        /// The χ² statistic (1 degree of freedom).
        chi_square: f64,
        /// Whether χ² exceeds [`SAMPLE_RATIO_CRITICAL`].
        mismatch: bool,
    },
}

/// Checks the random split against the percentage.
pub fn check_sample_ratio(
    split: RandomSplit,
    percentage: Percentage,
    counting: Counting,
) -> SampleRatio {
    let share = percentage.value() / 100.0;
    if share <= 0.0 || share >= 1.0 {
        return SampleRatio::NoSplit;
    }
    let active = split.within_percentage as f64;
    let inactive = split.outside_percentage as f64;
    let total = active + inactive;
    if total * share < MIN_EXPECTED_USERS || total * (1.0 - share) < MIN_EXPECTED_USERS {
        return SampleRatio::NotEnoughData;
    }
    let error = counting.relative_error();
    let deviation = active - share * total;
    let sampling_variance = total * share * (1.0 - share);
    let counting_variance = error
        * error
        * ((1.0 - share).powi(2) * active * active + share * share * inactive * inactive);
    let chi_square = deviation * deviation / (sampling_variance + counting_variance);
    SampleRatio::Checked {
        expected_active_share: share,
        observed_active_share: active / total,
        chi_square,
        mismatch: chi_square > SAMPLE_RATIO_CRITICAL,
    }
}
