//! The product owner's sentences, word for word.

use super::{
    compare_means, compare_rates, describe_means, describe_rates, Counting, EventTotals,
    MeanComparison, OutcomeValue, RateComparison, RateMinimum, RateSide, Shortfall, Side,
    SideLabels,
};

const FORM: SideLabels<'static> = SideLabels {
    active: "with the new form",
    inactive: "without",
};

fn side(exposed_users: u64, users_with_event: u64) -> RateSide {
    RateSide {
        exposed_users,
        users_with_event,
    }
}

#[test]
fn the_issue_example() {
    // 85 and 216 of 2,740 users each: 3.10 % and 7.88 %, interval -5.98 to -3.58 points.
    let comparison = compare_rates(
        side(2740, 85),
        side(2740, 216),
        RateMinimum::default(),
        Counting::Exact,
    );
    assert_eq!(
        describe_rates("forms saved with errors", &FORM, &comparison),
        "forms saved with errors: 3.1 % with the new form, 7.9 % without \
         (difference -4.8 points, 95 % CI -6.0 to -3.6; relative change -60.6 %)"
    );
}

#[test]
fn an_increase_carries_its_sign() {
    let comparison = compare_rates(
        side(2740, 216),
        side(2740, 85),
        RateMinimum::default(),
        Counting::Exact,
    );
    assert_eq!(
        describe_rates("forms saved with errors", &FORM, &comparison),
        "forms saved with errors: 7.9 % with the new form, 3.1 % without \
         (difference +4.8 points, 95 % CI +3.6 to +6.0; relative change +154.1 %)"
    );
}

#[test]
fn no_relative_change_when_nothing_happened_without() {
    let minimum = RateMinimum {
        users: 100,
        events: 0,
    };
    let comparison = compare_rates(side(1000, 30), side(1000, 0), minimum, Counting::Exact);
    let sentence = describe_rates("conversions", &FORM, &comparison);
    assert!(
        sentence.ends_with("; no relative change: 0 % without)"),
        "{sentence}"
    );
    assert!(sentence.starts_with(
        "conversions: 3.0 % with the new form, 0.0 % without (difference +3.0 points"
    ));
}

#[test]
fn not_enough_data_says_what_is_missing() {
    let comparison = RateComparison::NotEnoughData(Shortfall {
        side: Side::Inactive,
        what: "users",
        have: 40,
        need: 100,
    });
    assert_eq!(
        describe_rates("forms saved with errors", &FORM, &comparison),
        "forms saved with errors: not enough data yet (without: 40 users of the 100 needed)"
    );
}

#[test]
fn means_read_the_same_way() {
    let totals = |values: &[f64]| {
        let mut totals = EventTotals::default();
        for value in values {
            totals.record(OutcomeValue::new(*value).unwrap()).unwrap();
        }
        totals
    };
    let active: Vec<f64> = (1..=10).map(f64::from).collect();
    let inactive: Vec<f64> = (1..=10).map(|value| f64::from(value) * 2.0).collect();
    let comparison = compare_means(&totals(&active), &totals(&inactive), 10);
    let sentence = describe_means("time to complete, seconds", &FORM, &comparison);
    assert!(
        sentence.starts_with(
            "time to complete, seconds: mean 5.5 with the new form, 11.0 without (difference -5.5, 95 % CI -10.1 to -0.9)"
        ),
        "{sentence}"
    );
    let short = compare_means(&totals(&active[..3]), &totals(&inactive), 10);
    assert!(matches!(short, MeanComparison::NotEnoughData(_)));
    assert_eq!(
        describe_means("time to complete, seconds", &FORM, &short),
        "time to complete, seconds: not enough data yet (with the new form: 3 events of the 10 needed)"
    );
}

#[test]
fn a_difference_that_rounds_to_zero_is_not_negative() {
    let comparison = compare_rates(
        side(100_000, 5000),
        side(100_000, 5001),
        RateMinimum::default(),
        Counting::Exact,
    );
    let sentence = describe_rates("errors", &FORM, &comparison);
    assert!(sentence.contains("(difference 0.0 points"), "{sentence}");
}
