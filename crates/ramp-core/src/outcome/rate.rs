//! Comparing rates: the share of exposed users who had an event (a conversion, a form saved
//! with errors) on the active side against the inactive side.
//!
//! With `x` users with the event among `n` exposed users on each side (A active, B not):
//! `p = x / n`, difference `d = p_A - p_B`, unpooled standard error
//! `se = sqrt(p_A (1 - p_A) / n_A + p_B (1 - p_B) / n_B)`, 95 % interval `d ± 1.959964 se`,
//! relative change `d / p_B`.
//!
//! The interval rests on the normal approximation to the binomial, which fails with few users
//! or few events (an interval around 0 / 40 would claim certainty). Below [`RateMinimum`]
//! (by default 100 users and 10 users with, and 10 without, the event on each side) the answer
//! is [`RateComparison::NotEnoughData`], naming the side and the count that fell short.
//!
//! Counts estimated by sketches ([`Counting::Estimated`], relative error `e`) add to each
//! side's variance `2 e² p²`: `p = x / n` with `x` and `n` from independent sketches has a
//! relative error of about `sqrt(2) e` (first-order error propagation).

use super::counting::Counting;
use super::interval::{Interval, Side, Z_95};

/// One side's users: how many were exposed, how many of them had the event.
///
/// Whole numbers, though both usually come from sketches: [`UserSketch::estimate`] rounds once,
/// and a fraction of a user says nothing next to an estimate's error of a few percent, which
/// [`Counting`] accounts for instead.
///
/// [`UserSketch::estimate`]: crate::UserSketch::estimate
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateSide {
    /// Distinct users the feature answered this way.
    pub exposed_users: u64,
    /// Distinct users among them with at least one such event. An estimate above
    /// `exposed_users` (two sketches can disagree) is taken as `exposed_users`.
    pub users_with_event: u64,
}

impl RateSide {
    /// Users with the event, never more than the users exposed.
    fn with_event(self) -> u64 {
        self.users_with_event.min(self.exposed_users)
    }

    fn rate(self) -> f64 {
        self.with_event() as f64 / self.exposed_users as f64
    }
}

/// The least data on each side for which a rate interval is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateMinimum {
    /// Exposed users.
    pub users: u64,
    /// Users with the event, and users without it (the normal approximation needs both).
    pub events: u64,
}

impl Default for RateMinimum {
    fn default() -> Self {
        Self {
            users: 100,
            events: 10,
        }
    }
}

/// What fell short of the minimum, on which side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shortfall {
    /// The side that fell short (the active side first when both did).
    pub side: Side,
    /// What was counted: `"users"`, `"users with the event"`, `"users without the event"` (rates)
    /// or `"events"` (means).
    pub what: &'static str,
    /// How many there are.
    pub have: u64,
    /// How many are needed.
    pub need: u64,
}

/// Two rates compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateDifference {
    /// p_A: the share of active-side users with the event.
    pub active_rate: f64,
    /// p_B: the share of inactive-side users with the event.
    pub inactive_rate: f64,
    /// p_A - p_B.
    pub difference: f64,
    /// The unpooled standard error of the difference (plus the counting error, if any).
    pub standard_error: f64,
    /// The 95 % interval of the difference.
    pub interval: Interval,
    /// (p_A - p_B) / p_B. None when p_B is 0: no change relative to nothing can be stated (any
    /// event on the active side would be an infinite increase).
    pub relative_change: Option<f64>,
}

/// The outcome of comparing rates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RateComparison {
    /// Too few users or events for an interval to mean anything.
    NotEnoughData(Shortfall),
    /// The comparison.
    Compared(RateDifference),
}

/// The first count below the minimum, active side first.
fn shortfall(active: RateSide, inactive: RateSide, minimum: RateMinimum) -> Option<Shortfall> {
    [(Side::Active, active), (Side::Inactive, inactive)]
        .into_iter()
        .find_map(|(side, counts)| {
            let with = counts.with_event();
            let without = counts.exposed_users - with;
            [
                ("users", counts.exposed_users, minimum.users.max(1)),
                ("users with the event", with, minimum.events),
                ("users without the event", without, minimum.events),
            ]
            .into_iter()
            .find(|(_, have, need)| have < need)
            .map(|(what, have, need)| Shortfall {
                side,
                what,
                have,
                need,
            })
        })
}

/// Compares the rate of an event between the sides.
pub fn compare_rates(
    active: RateSide,
    inactive: RateSide,
    minimum: RateMinimum,
    counting: Counting,
) -> RateComparison {
    if let Some(shortfall) = shortfall(active, inactive, minimum) {
        return RateComparison::NotEnoughData(shortfall);
    }
    let error = counting.relative_error();
    let variance = |side: RateSide| {
        let rate = side.rate();
        rate * (1.0 - rate) / side.exposed_users as f64 + 2.0 * error * error * rate * rate
    };
    let active_rate = active.rate();
    let inactive_rate = inactive.rate();
    let difference = active_rate - inactive_rate;
    let standard_error = (variance(active) + variance(inactive)).sqrt();
    RateComparison::Compared(RateDifference {
        active_rate,
        inactive_rate,
        difference,
        standard_error,
        interval: Interval::around(difference, Z_95 * standard_error),
        relative_change: (inactive_rate > 0.0).then(|| difference / inactive_rate),
    })
}
