//! Welch's interval against a hand computation, a reference computation on generated values, a
//! Monte-Carlo check of its coverage with unequal spreads, and properties.

use proptest::prelude::*;

use super::mean::MIN_EVENTS_FOR_MEAN;
use super::test_random::TestRandom;
use super::{
    compare_means, t_quantile_95, EventTotals, MeanComparison, MeanDifference, OutcomeValue, Side,
};

fn totals(values: &[f64]) -> EventTotals {
    let mut totals = EventTotals::default();
    for value in values {
        totals.record(OutcomeValue::new(*value).unwrap()).unwrap();
    }
    totals
}

fn compared(comparison: MeanComparison) -> MeanDifference {
    match comparison {
        MeanComparison::Compared(difference) => difference,
        MeanComparison::NotEnoughData(shortfall) => panic!("not enough data: {shortfall:?}"),
    }
}

#[test]
fn matches_a_hand_computation() {
    // 1..=10 against 2, 4, ..., 20: means 5.5 and 11, variances 55/6 and 110/3,
    // se² = 55/60 + 110/30 = 4.58333, df = se⁴ / ((55/60)² / 9 + (110/30)² / 9) = 225/17.
    let active: Vec<f64> = (1..=10).map(f64::from).collect();
    let inactive: Vec<f64> = (1..=10).map(|value| f64::from(value) * 2.0).collect();
    let means = compared(compare_means(
        &totals(&active),
        &totals(&inactive),
        MIN_EVENTS_FOR_MEAN,
    ));
    assert!((means.difference - -5.5).abs() < 1e-12);
    assert!((means.standard_error - 2.140_872_096_444_188).abs() < 1e-12);
    assert!((means.degrees_of_freedom - 225.0 / 17.0).abs() < 1e-12);
    // t(0.975, 13.24) lies between the table's 2.160 (df 13) and 2.145 (df 14).
    let multiplier = (means.interval.high - means.difference) / means.standard_error;
    assert!((2.145..2.160).contains(&multiplier), "{multiplier}");
    assert!((multiplier - t_quantile_95(225.0 / 17.0)).abs() < 1e-12);
}

#[test]
fn matches_a_reference_computation_on_generated_values() {
    let mut random = TestRandom::new(99);
    let active: Vec<f64> = (0..400)
        .map(|_| (40.0 + 9.0 * random.normal()).max(0.0))
        .collect();
    let inactive: Vec<f64> = (0..250)
        .map(|_| (44.0 + 15.0 * random.normal()).max(0.0))
        .collect();
    // Rounded to the millionths the totals keep, so both sides see the same numbers.
    let round = |values: &[f64]| -> Vec<f64> {
        values
            .iter()
            .map(|value| OutcomeValue::new(*value).unwrap().value())
            .collect()
    };
    let (active, inactive) = (round(&active), round(&inactive));
    let two_pass = |values: &[f64]| {
        let count = values.len() as f64;
        let mean = values.iter().sum::<f64>() / count;
        let variance = values
            .iter()
            .map(|value| (value - mean).powi(2))
            .sum::<f64>()
            / (count - 1.0);
        (mean, variance / count, count)
    };
    let (active_mean, active_share, active_count) = two_pass(&active);
    let (inactive_mean, inactive_share, inactive_count) = two_pass(&inactive);
    let variance = active_share + inactive_share;
    let degrees = variance.powi(2)
        / (active_share.powi(2) / (active_count - 1.0)
            + inactive_share.powi(2) / (inactive_count - 1.0));
    let means = compared(compare_means(
        &totals(&active),
        &totals(&inactive),
        MIN_EVENTS_FOR_MEAN,
    ));
    assert!((means.difference - (active_mean - inactive_mean)).abs() < 1e-9);
    assert!((means.standard_error - variance.sqrt()).abs() < 1e-9);
    assert!((means.degrees_of_freedom - degrees).abs() < 1e-6);
}

#[test]
fn welch_covers_the_true_difference_with_unequal_spreads_and_sizes() {
    // 12 events with a wide spread against 60 with a narrow one: the case where a pooled
    // variance or a normal quantile would under-cover.
    let mut random = TestRandom::new(31);
    let trials = 4000;
    let covered = (0..trials)
        .filter(|_| {
            let active: Vec<f64> = (0..12).map(|_| 100.0 + 20.0 * random.normal()).collect();
            let inactive: Vec<f64> = (0..60).map(|_| 95.0 + 4.0 * random.normal()).collect();
            let means = compared(compare_means(&totals(&active), &totals(&inactive), 10));
            means.interval.contains(5.0)
        })
        .count();
    let coverage = covered as f64 / trials as f64;
    // The binomial spread of 4,000 trials is 0.35 points: ±1.5 points is four of them.
    assert!((0.935..=0.965).contains(&coverage), "coverage {coverage}");
}

#[test]
fn says_not_enough_data_below_the_minimum() {
    let nine: Vec<f64> = (0..9).map(f64::from).collect();
    let ten: Vec<f64> = (0..10).map(f64::from).collect();
    let comparison = compare_means(&totals(&ten), &totals(&nine), MIN_EVENTS_FOR_MEAN);
    assert!(matches!(
        comparison,
        MeanComparison::NotEnoughData(shortfall) if shortfall.side == Side::Inactive && shortfall.have == 9
    ));
    // A minimum below 2 is raised to 2: a spread needs two values.
    let one = compare_means(&totals(&[1.0]), &totals(&ten), 0);
    assert!(matches!(one, MeanComparison::NotEnoughData(shortfall) if shortfall.need == 2));
}

#[test]
fn sides_without_spread_give_a_zero_width_interval() {
    let fives = totals(&[5.0; 10]);
    let sevens = totals(&[7.0; 12]);
    let means = compared(compare_means(&fives, &sevens, MIN_EVENTS_FOR_MEAN));
    assert_eq!(means.difference, -2.0);
    assert_eq!(means.interval.low, -2.0);
    assert_eq!(means.interval.high, -2.0);
    assert_eq!(means.degrees_of_freedom, 20.0);
}

proptest! {
    #[test]
    fn the_interval_contains_the_difference_and_swapping_negates_it(
        active in prop::collection::vec(-1e6f64..1e6, 10..40),
        inactive in prop::collection::vec(-1e6f64..1e6, 10..40),
    ) {
        let (active, inactive) = (totals(&active), totals(&inactive));
        let forward = compared(compare_means(&active, &inactive, MIN_EVENTS_FOR_MEAN));
        let backward = compared(compare_means(&inactive, &active, MIN_EVENTS_FOR_MEAN));
        prop_assert!(forward.interval.contains(forward.difference));
        prop_assert!(forward.degrees_of_freedom >= 9.0 - 1e-9);
        prop_assert_eq!(forward.difference, -backward.difference);
        prop_assert!((forward.interval.low + backward.interval.high).abs() < 1e-6);
    }
}
