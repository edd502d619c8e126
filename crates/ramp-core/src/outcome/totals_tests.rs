//! Totals add up exactly, whatever the order or grouping of the buckets.

use proptest::prelude::*;

use super::test_random::TestRandom;
use super::{EventTotals, OutcomeTotals, OutcomeValue, MAX_OUTCOME_VALUE};
use crate::CoreError;

/// 1,000 buckets of a few events each, with values of mixed sizes and signs, the kind whose
/// floating-point sums depend on the order of addition.
fn buckets(random: &mut TestRandom) -> Vec<OutcomeTotals> {
    (0..1000)
        .map(|_| {
            let mut bucket = OutcomeTotals::default();
            for _ in 0..random.below(8) {
                let magnitude = 10f64.powi(random.below(12) as i32 - 3);
                let value = (random.unit() - 0.3) * magnitude;
                let active = random.below(2) == 0;
                bucket
                    .record(active, OutcomeValue::new(value).unwrap())
                    .unwrap();
            }
            bucket
        })
        .collect()
}

fn in_order(buckets: &[OutcomeTotals]) -> OutcomeTotals {
    let mut total = OutcomeTotals::default();
    for bucket in buckets {
        total.merge(bucket).unwrap();
    }
    total
}

/// Pairs merged, then pairs of pairs...: another grouping of the same additions.
fn as_a_tree(buckets: &[OutcomeTotals]) -> OutcomeTotals {
    match buckets {
        [] => OutcomeTotals::default(),
        [one] => *one,
        _ => {
            let (left, right) = buckets.split_at(buckets.len() / 2);
            let mut total = as_a_tree(left);
            total.merge(&as_a_tree(right)).unwrap();
            total
        }
    }
}

#[test]
fn a_thousand_buckets_add_up_the_same_in_any_order() {
    let mut random = TestRandom::new(15);
    let mut buckets = buckets(&mut random);
    let expected = in_order(&buckets);
    assert!(expected.active.events > 1000 && expected.inactive.events > 1000);
    assert_eq!(as_a_tree(&buckets), expected);
    for _ in 0..20 {
        // Fisher–Yates with the seeded generator.
        for index in (1..buckets.len()).rev() {
            buckets.swap(index, random.below(index as u64 + 1) as usize);
        }
        assert_eq!(in_order(&buckets), expected);
        assert_eq!(as_a_tree(&buckets), expected);
    }
}

#[test]
fn values_are_kept_in_millionths() {
    let mut totals = EventTotals::default();
    for value in [0.1, 0.2, 1250.0, -3.0000004] {
        totals.record(OutcomeValue::new(value).unwrap()).unwrap();
    }
    assert_eq!(totals.events, 4);
    assert_eq!(totals.sum, 100_000 + 200_000 + 1_250_000_000 - 3_000_000);
    assert_eq!(
        totals.sum_of_squares,
        100_000u128.pow(2) + 200_000u128.pow(2) + 1_250_000_000u128.pow(2) + 3_000_000u128.pow(2)
    );
    assert_eq!(OutcomeValue::new(0.1).unwrap().value(), 0.1);
    assert_eq!(OutcomeValue::from_units(1_500_000).unwrap().value(), 1.5);
    assert_eq!(OutcomeValue::from_units(-7).unwrap().units(), -7);
    assert!(OutcomeValue::from_units(i64::MAX).is_err());
}

#[test]
fn mean_and_variance_match_a_two_pass_computation() {
    let values = [1001.0, 1003.0, 1002.0, 1000.0, 1004.0, 1002.5];
    let mut totals = EventTotals::default();
    for value in values {
        totals.record(OutcomeValue::new(value).unwrap()).unwrap();
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let variance = values
        .iter()
        .map(|value| (value - mean).powi(2))
        .sum::<f64>()
        / (values.len() - 1) as f64;
    assert!((totals.mean().unwrap() - mean).abs() < 1e-12);
    assert!((totals.sample_variance().unwrap() - variance).abs() < 1e-12);
    assert_eq!(EventTotals::default().mean(), None);
    let mut one = EventTotals::default();
    one.record(OutcomeValue::new(5.0).unwrap()).unwrap();
    assert_eq!(one.sample_variance(), None);
}

#[test]
fn refuses_values_out_of_bounds_and_overflowing_merges() {
    for bad in [
        f64::NAN,
        f64::INFINITY,
        -f64::INFINITY,
        MAX_OUTCOME_VALUE * 1.01,
    ] {
        assert!(matches!(
            OutcomeValue::new(bad),
            Err(CoreError::InvalidOutcome { field: "value", .. })
        ));
    }
    assert!(OutcomeValue::new(-MAX_OUTCOME_VALUE).is_ok());
    let mut nearly_full = EventTotals {
        events: 1,
        sum: i128::MAX - 5,
        sum_of_squares: 0,
    };
    let before = nearly_full;
    let one = EventTotals {
        events: 1,
        sum: 10,
        sum_of_squares: 100,
    };
    assert!(nearly_full.merge(&one).is_err());
    assert_eq!(nearly_full, before, "a refused merge changes nothing");
}

fn totals_strategy() -> impl Strategy<Value = OutcomeTotals> {
    let value = -MAX_OUTCOME_VALUE..MAX_OUTCOME_VALUE;
    (prop::collection::vec((any::<bool>(), value), 0..6)).prop_map(|events| {
        let mut totals = OutcomeTotals::default();
        for (active, value) in events {
            totals
                .record(active, OutcomeValue::new(value).unwrap())
                .unwrap();
        }
        totals
    })
}

proptest! {
    #[test]
    fn merging_is_associative_and_commutative(
        first in totals_strategy(),
        second in totals_strategy(),
        third in totals_strategy(),
    ) {
        let mut left = first;
        left.merge(&second).unwrap();
        left.merge(&third).unwrap();
        let mut right_tail = second;
        right_tail.merge(&third).unwrap();
        let mut right = first;
        right.merge(&right_tail).unwrap();
        prop_assert_eq!(left, right);
        let mut swapped = second;
        swapped.merge(&first).unwrap();
        let mut forward = first;
        forward.merge(&second).unwrap();
        prop_assert_eq!(swapped, forward);
    }
}
