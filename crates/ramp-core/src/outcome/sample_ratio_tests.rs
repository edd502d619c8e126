//! The sample-ratio check against hand-computed χ² values, its edges and its symmetry.

use proptest::prelude::*;

use super::{check_sample_ratio, Counting, RandomSplit, SampleRatio};
use crate::{Percentage, ReasonKind};

fn split(within_percentage: u64, outside_percentage: u64) -> RandomSplit {
    RandomSplit {
        within_percentage,
        outside_percentage,
    }
}

fn percent(value: f64) -> Percentage {
    Percentage::new(value).unwrap()
}

fn chi_square(result: SampleRatio) -> (f64, bool) {
    match result {
        SampleRatio::Checked {
            chi_square,
            mismatch,
            ..
        } => (chi_square, mismatch),
        other => panic!("not checked: {other:?}"),
    }
}

#[test]
fn matches_hand_computed_chi_squares() {
    // 550 / 450 at 50 %: 50² / 500 + 50² / 500 = 10, under 10.83.
    let (value, mismatch) = chi_square(check_sample_ratio(
        split(550, 450),
        percent(50.0),
        Counting::Exact,
    ));
    assert!((value - 10.0).abs() < 1e-12);
    assert!(!mismatch);
    // 553 / 447: 2 · 53² / 500 = 11.236, over.
    let (value, mismatch) = chi_square(check_sample_ratio(
        split(553, 447),
        percent(50.0),
        Counting::Exact,
    ));
    assert!((value - 11.236).abs() < 1e-12);
    assert!(mismatch);
    // 150 / 850 at 20 %: 50² / 200 + 50² / 800 = 15.625.
    let (value, mismatch) = chi_square(check_sample_ratio(
        split(150, 850),
        percent(20.0),
        Counting::Exact,
    ));
    assert!((value - 15.625).abs() < 1e-12);
    assert!(mismatch);
}

#[test]
fn no_check_without_a_split_or_with_too_few_users() {
    for everyone_or_no_one in [0.0, 100.0] {
        assert_eq!(
            check_sample_ratio(split(500, 0), percent(everyone_or_no_one), Counting::Exact),
            SampleRatio::NoSplit
        );
    }
    assert_eq!(
        check_sample_ratio(split(0, 0), percent(50.0), Counting::Exact),
        SampleRatio::NotEnoughData
    );
    // 1 % of 400 expects 4 users on the active side: too few for χ².
    assert_eq!(
        check_sample_ratio(split(4, 396), percent(1.0), Counting::Exact),
        SampleRatio::NotEnoughData
    );
}

#[test]
fn only_users_the_percentage_placed_are_counted() {
    let mut users = [0u64; ReasonKind::ALL.len()];
    users[ReasonKind::Percentage.index()] = 500;
    users[ReasonKind::OutsidePercentage.index()] = 500;
    // An allow list and a group of 2,000 users on the active side, excluded users on the other.
    users[ReasonKind::User.index()] = 1200;
    users[ReasonKind::Group.index()] = 800;
    users[ReasonKind::Excluded.index()] = 40;
    let random = RandomSplit::from_reasons(&users);
    assert_eq!(random, split(500, 500));
    let (value, mismatch) = chi_square(check_sample_ratio(random, percent(50.0), Counting::Exact));
    assert_eq!(value, 0.0);
    assert!(!mismatch);
}

#[test]
fn sketch_error_is_not_taken_for_a_mismatch() {
    // 101,000 / 99,000 at 50 %: χ² = 20 if counted exactly, but a 3.2 % sketch error on each
    // count is ±3,200 users, so the same figures from sketches are no evidence at all.
    let counts = split(101_000, 99_000);
    let (exact, exact_mismatch) =
        chi_square(check_sample_ratio(counts, percent(50.0), Counting::Exact));
    assert!((exact - 20.0).abs() < 1e-9);
    assert!(exact_mismatch);
    let sketched = Counting::Estimated {
        relative_error: 0.032,
    };
    let (value, mismatch) = chi_square(check_sample_ratio(counts, percent(50.0), sketched));
    let counting_variance = 0.032f64.powi(2) * 0.25 * (101_000f64.powi(2) + 99_000f64.powi(2));
    assert!((value - 1000f64.powi(2) / (50_000.0 + counting_variance)).abs() < 1e-12);
    assert!(!mismatch);
    // A gross loss still shows: a quarter of the active side missing. (A tenth does not: with
    // sketches of 3.2 %, only losses of about a sixth or more can be told from counting error.)
    let (_, lost) = chi_square(check_sample_ratio(
        split(75_000, 100_000),
        percent(50.0),
        sketched,
    ));
    assert!(lost);
    let (_, tenth) = chi_square(check_sample_ratio(
        split(90_000, 100_000),
        percent(50.0),
        sketched,
    ));
    assert!(!tenth);
}

proptest! {
    #[test]
    fn swapping_sides_and_the_percentage_gives_the_same_statistic(
        within in 0u64..1_000_000,
        outside in 0u64..1_000_000,
        share in 1u32..100,
        error in prop_oneof![Just(0.0), 0.0f64..0.1],
    ) {
        let counting = Counting::Estimated { relative_error: error };
        let forward = check_sample_ratio(split(within, outside), percent(f64::from(share)), counting);
        let backward = check_sample_ratio(split(outside, within), percent(f64::from(100 - share)), counting);
        match (forward, backward) {
            (SampleRatio::Checked { chi_square: forward, .. }, SampleRatio::Checked { chi_square: backward, .. }) => {
                prop_assert!((forward - backward).abs() <= 1e-9 * forward.max(1.0));
                prop_assert!(forward >= 0.0);
            }
            (forward, backward) => prop_assert_eq!(forward, backward),
        }
    }
}
