//! Rate comparisons against hand computation, a reference computation on generated users, a
//! Monte-Carlo check of the interval's coverage, and properties.

use proptest::prelude::*;

use super::test_random::TestRandom;
use super::{
    compare_rates, Counting, RateComparison, RateMinimum, RateSide, Shortfall, Side, Z_95,
};

fn side(exposed_users: u64, users_with_event: u64) -> RateSide {
    RateSide {
        exposed_users,
        users_with_event,
    }
}

fn compared(comparison: RateComparison) -> super::RateDifference {
    match comparison {
        RateComparison::Compared(difference) => difference,
        RateComparison::NotEnoughData(shortfall) => panic!("not enough data: {shortfall:?}"),
    }
}

#[test]
fn matches_a_hand_computation() {
    // 85 of 2,740 against 216 of 2,740; figures computed separately.
    let rates = compared(compare_rates(
        side(2740, 85),
        side(2740, 216),
        RateMinimum::default(),
        Counting::Exact,
    ));
    assert!((rates.active_rate - 0.031_021_897_810_218_98).abs() < 1e-15);
    assert!((rates.inactive_rate - 0.078_832_116_788_321_17).abs() < 1e-15);
    assert!((rates.difference - -0.047_810_218_978_102_18).abs() < 1e-15);
    assert!((rates.interval.low - -0.059_808_242_815_017_7).abs() < 1e-12);
    assert!((rates.interval.high - -0.035_812_195_141_186_67).abs() < 1e-12);
    assert!((rates.relative_change.unwrap() - -0.606_481_481_481_481_4).abs() < 1e-12);
}

#[test]
fn matches_a_reference_computation_on_generated_users() {
    // Each user's event drawn with a fixed seed; the reference works from the users themselves
    // (the variance of a 0/1 variable, mean of squares minus square of mean).
    let mut random = TestRandom::new(7);
    let users = |random: &mut TestRandom, count: usize, probability: f64| -> Vec<f64> {
        (0..count)
            .map(|_| {
                if random.unit() < probability {
                    1.0
                } else {
                    0.0
                }
            })
            .collect()
    };
    let active = users(&mut random, 5000, 0.12);
    let inactive = users(&mut random, 4000, 0.10);
    let reference = |values: &[f64]| {
        let count = values.len() as f64;
        let mean = values.iter().sum::<f64>() / count;
        let variance = values.iter().map(|value| value * value).sum::<f64>() / count - mean * mean;
        (mean, variance / count)
    };
    let (active_mean, active_variance) = reference(&active);
    let (inactive_mean, inactive_variance) = reference(&inactive);
    let half_width = Z_95 * (active_variance + inactive_variance).sqrt();
    let count = |values: &[f64]| values.iter().filter(|value| **value == 1.0).count() as u64;
    let rates = compared(compare_rates(
        side(5000, count(&active)),
        side(4000, count(&inactive)),
        RateMinimum::default(),
        Counting::Exact,
    ));
    assert!((rates.difference - (active_mean - inactive_mean)).abs() < 1e-12);
    assert!((rates.interval.low - (active_mean - inactive_mean - half_width)).abs() < 1e-12);
    assert!((rates.interval.high - (active_mean - inactive_mean + half_width)).abs() < 1e-12);
}

#[test]
fn the_interval_covers_the_true_difference_about_95_times_in_100() {
    let mut random = TestRandom::new(2026);
    let (true_active, true_inactive) = (0.08, 0.05);
    let trials = 2000;
    let covered = (0..trials)
        .filter(|_| {
            let active = random.successes(1500, true_active);
            let inactive = random.successes(1500, true_inactive);
            let rates = compared(compare_rates(
                side(1500, active),
                side(1500, inactive),
                RateMinimum::default(),
                Counting::Exact,
            ));
            rates.interval.contains(true_active - true_inactive)
        })
        .count();
    let coverage = covered as f64 / trials as f64;
    // The binomial spread of 2,000 trials is 0.5 points: ±2 points is four of them.
    assert!((0.93..=0.97).contains(&coverage), "coverage {coverage}");
}

#[test]
fn sketched_counts_widen_the_interval() {
    let exact = compared(compare_rates(
        side(100_000, 5000),
        side(100_000, 4000),
        RateMinimum::default(),
        Counting::Exact,
    ));
    let sketched = compared(compare_rates(
        side(100_000, 5000),
        side(100_000, 4000),
        RateMinimum::default(),
        Counting::Estimated {
            relative_error: 0.032,
        },
    ));
    let expected = (exact.standard_error.powi(2)
        + 2.0 * 0.032f64.powi(2) * (0.05f64.powi(2) + 0.04f64.powi(2)))
    .sqrt();
    assert!((sketched.standard_error - expected).abs() < 1e-15);
    assert!(sketched.standard_error > 2.0 * exact.standard_error);
    assert_eq!(sketched.difference, exact.difference);
}

#[test]
fn says_not_enough_data_and_what_is_missing() {
    let minimum = RateMinimum::default();
    let cases = [
        (side(99, 20), side(500, 50), Side::Active, "users", 99, 100),
        (
            side(500, 50),
            side(500, 9),
            Side::Inactive,
            "users with the event",
            9,
            10,
        ),
        (
            side(500, 495),
            side(500, 50),
            Side::Active,
            "users without the event",
            5,
            10,
        ),
        (side(0, 0), side(0, 0), Side::Active, "users", 0, 100),
    ];
    for (active, inactive, side, what, have, need) in cases {
        assert_eq!(
            compare_rates(active, inactive, minimum, Counting::Exact),
            RateComparison::NotEnoughData(Shortfall {
                side,
                what,
                have,
                need
            })
        );
    }
}

#[test]
fn no_relative_change_when_the_inactive_side_has_no_events() {
    let minimum = RateMinimum {
        users: 100,
        events: 0,
    };
    let rates = compared(compare_rates(
        side(1000, 30),
        side(1000, 0),
        minimum,
        Counting::Exact,
    ));
    assert_eq!(rates.relative_change, None);
    assert!((rates.difference - 0.03).abs() < 1e-15);
    // Even with no users on a side the minimum of one user keeps the division away from zero.
    let empty = compare_rates(
        side(1000, 30),
        side(0, 0),
        RateMinimum {
            users: 0,
            events: 0,
        },
        Counting::Exact,
    );
    assert!(matches!(
        empty,
        RateComparison::NotEnoughData(Shortfall {
            have: 0,
            need: 1,
            ..
        })
    ));
}

#[test]
fn more_users_with_the_event_than_users_count_as_all_users() {
    let rates = compared(compare_rates(
        side(1000, 1020),
        side(1000, 500),
        RateMinimum {
            users: 100,
            events: 0,
        },
        Counting::sketched(),
    ));
    assert_eq!(rates.active_rate, 1.0);
}

proptest! {
    #[test]
    fn the_interval_contains_the_difference_and_swapping_negates_it(
        active_users in 100u64..1_000_000,
        inactive_users in 100u64..1_000_000,
        active_share in 0.0f64..=1.0,
        inactive_share in 0.0f64..=1.0,
        error in prop_oneof![Just(0.0), 0.0f64..0.1],
    ) {
        let active = side(active_users, (active_users as f64 * active_share) as u64);
        let inactive = side(inactive_users, (inactive_users as f64 * inactive_share) as u64);
        let counting = Counting::Estimated { relative_error: error };
        let minimum = RateMinimum { users: 100, events: 0 };
        let forward = compared(compare_rates(active, inactive, minimum, counting));
        let backward = compared(compare_rates(inactive, active, minimum, counting));
        prop_assert!(forward.interval.contains(forward.difference));
        prop_assert!(forward.standard_error >= 0.0);
        prop_assert_eq!(forward.difference, -backward.difference);
        prop_assert!((forward.interval.low + backward.interval.high).abs() < 1e-12);
        prop_assert!((forward.interval.high + backward.interval.low).abs() < 1e-12);
    }
}
