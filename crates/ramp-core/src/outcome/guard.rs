//! Release-plan guards: "the metric on the active side is more than K times (or D points
//! over) the other side, with at least M users each" decides whether a plan pauses or rolls
//! back. The metric is a rate where higher is worse (errors per exposed user).
//!
//! A guard trips only when the whole 95 % interval lies past the threshold, not when the
//! estimate does: an estimate alone crosses a threshold by chance about half the time the true
//! value sits on it. And it trips only when that holds on two consecutive evaluations at
//! least [`GuardRule::confirm_after`] apart: a plan looks at its guard again and again as
//! data arrives, and every look is another chance for a 1-in-40 interval to land past the
//! threshold (repeated looks inflate false alarms); a breach that lasts across evaluations
//! some minutes apart, on more data, is much less likely to be noise. The evaluator is a pure
//! function: the previous evaluation's [`GuardState`] and `now` in, the new state out, so the
//! caller stores the state and no clock is read here.
//!
//! For a ratio threshold the interval is that of `ln(p_A / p_B)`, with the delta-method
//! standard error `sqrt((1 - p_A) / x_A + (1 - p_B) / x_B)` (the variance of `ln p` is about
//! `var(p) / p² = (1 - p) / (n p)`, and `n p = x`), plus `2 e²` per side for counts from
//! sketches; it trips when the interval's lower end exceeds `ln K`. The log makes the interval
//! symmetric and keeps it off zero, which a ratio of two noisy proportions is not. For a
//! points threshold the interval is that of the difference (see [`rate`](super::rate)); it
//! trips when its lower end exceeds `D / 100`.

use chrono::{DateTime, TimeDelta, Utc};

use super::counting::Counting;
use super::interval::{Interval, Z_95};
use super::rate::{compare_rates, RateComparison, RateMinimum, RateSide, Shortfall};

/// How far past the other side the active side must be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GuardThreshold {
    /// Active rate more than this many times the inactive rate (1.5 for "1.5x").
    Ratio(f64),
    /// Active rate more than this many percentage points over the inactive rate.
    PointsOver(f64),
}

/// A guard on one event's rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GuardRule {
    /// The threshold.
    pub threshold: GuardThreshold,
    /// Exposed users needed on each side before the guard looks (at least the rate
    /// comparison's own minimum of 100 applies).
    pub minimum_users: u64,
    /// How long after a first breach a second one confirms it.
    pub confirm_after: TimeDelta,
}

/// What the previous evaluation left behind (stored by the caller between evaluations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GuardState {
    /// When the current run of breaching evaluations began; None when the last evaluation did
    /// not breach.
    pub breaching_since: Option<DateTime<Utc>>,
}

/// What an evaluation found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GuardVerdict {
    /// Too little data to judge.
    NotEnoughData(Shortfall),
    /// The interval is not wholly past the threshold.
    Clear,
    /// Past the threshold, not yet confirmed.
    Breached {
        /// Since when.
        since: DateTime<Utc>,
    },
    /// Past the threshold on two evaluations at least `confirm_after` apart: act.
    Tripped {
        /// Since when.
        since: DateTime<Utc>,
    },
}

/// An evaluation: the verdict, the figures it rests on, and the state for the next one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GuardEvaluation {
    /// The verdict.
    pub verdict: GuardVerdict,
    /// The estimate compared with the threshold: the ratio p_A / p_B, or the difference in
    /// points (None without enough data).
    pub estimate: Option<f64>,
    /// Its 95 % interval, in the same terms.
    pub interval: Option<Interval>,
    /// What to pass to the next evaluation.
    pub state: GuardState,
}

/// Evaluates a guard at `now`, given the state the previous evaluation returned.
pub fn evaluate_guard(
    rule: &GuardRule,
    active: RateSide,
    inactive: RateSide,
    counting: Counting,
    previous: GuardState,
    now: DateTime<Utc>,
) -> GuardEvaluation {
    let minimum = RateMinimum {
        users: rule.minimum_users.max(RateMinimum::default().users),
        ..RateMinimum::default()
    };
    let rates = match compare_rates(active, inactive, minimum, counting) {
        RateComparison::Compared(rates) => rates,
        RateComparison::NotEnoughData(shortfall) => {
            return GuardEvaluation {
                verdict: GuardVerdict::NotEnoughData(shortfall),
                estimate: None,
                interval: None,
                state: GuardState::default(),
            }
        }
    };
    let (estimate, interval, breached) = match rule.threshold {
        GuardThreshold::PointsOver(points) => {
            let to_points = |share: f64| share * 100.0;
            let interval = Interval {
                low: to_points(rates.interval.low),
                high: to_points(rates.interval.high),
            };
            (to_points(rates.difference), interval, interval.low > points)
        }
        GuardThreshold::Ratio(ratio) => {
            // The minimum guarantees at least 10 users with the event a side, so both rates
            // are above zero and the logs finite.
            let error = counting.relative_error();
            let log_variance = |side: RateSide, rate: f64| {
                (1.0 - rate) / (rate * side.exposed_users as f64) + 2.0 * error * error
            };
            let log_ratio = rates.active_rate.ln() - rates.inactive_rate.ln();
            let standard_error = (log_variance(active, rates.active_rate)
                + log_variance(inactive, rates.inactive_rate))
            .sqrt();
            let log_interval = Interval::around(log_ratio, Z_95 * standard_error);
            let interval = Interval {
                low: log_interval.low.exp(),
                high: log_interval.high.exp(),
            };
            (log_ratio.exp(), interval, log_interval.low > ratio.ln())
        }
    };
    let (verdict, breaching_since) = match (breached, previous.breaching_since) {
        (false, _) => (GuardVerdict::Clear, None),
        (true, Some(since)) if now - since >= rule.confirm_after => {
            (GuardVerdict::Tripped { since }, Some(since))
        }
        (true, Some(since)) if since <= now => (GuardVerdict::Breached { since }, Some(since)),
        // A first breach, or a stored time after `now` (a clock set back): start again.
        (true, _) => (GuardVerdict::Breached { since: now }, Some(now)),
    };
    GuardEvaluation {
        verdict,
        estimate: Some(estimate),
        interval: Some(interval),
        state: GuardState { breaching_since },
    }
}
