//! Comparing means: the mean value per event (a time to complete a form) on the active side
//! against the inactive side, with Welch's t interval.
//!
//! With `m`, `s²` and `n` the mean, sample variance and number of events of each side:
//! `d = m_A - m_B`, `v = s² / n` per side, `se = sqrt(v_A + v_B)`, and the interval is
//! `d ± t(0.975, df) se` with the Welch–Satterthwaite degrees of freedom
//! `df = (v_A + v_B)² / (v_A² / (n_A - 1) + v_B² / (n_B - 1))`. Welch's interval does not
//! assume equal spreads on the two sides, which a new version of a form need not have.
//!
//! Below `minimum_events` a side (at least 2, to have a spread) the answer is
//! [`MeanComparison::NotEnoughData`]. When neither side varies at all, `se` is 0 and so is the
//! interval's width; the degrees of freedom are then taken as `n_A + n_B - 2`, which does not
//! matter for a zero-width interval but keeps them finite.

use super::interval::{Interval, Side};
use super::rate::Shortfall;
use super::student_t::t_quantile_95;
use super::totals::EventTotals;

/// The least events a side for a mean interval, by default.
pub const MIN_EVENTS_FOR_MEAN: u64 = 10;

/// Two means compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanDifference {
    /// The active side's mean value per event.
    pub active_mean: f64,
    /// The inactive side's mean value per event.
    pub inactive_mean: f64,
    /// Active minus inactive.
    pub difference: f64,
    /// The standard error of the difference.
    pub standard_error: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub degrees_of_freedom: f64,
    /// The 95 % interval of the difference.
    pub interval: Interval,
}

/// The outcome of comparing means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MeanComparison {
    /// Too few events on a side.
    NotEnoughData(Shortfall),
    /// The comparison.
    Compared(MeanDifference),
}

/// What Welch's interval needs of one side.
struct SideSummary {
    mean: f64,
    /// s² / n: the variance of the side's mean.
    variance_of_mean: f64,
    events: f64,
}

fn summarize(side: Side, totals: &EventTotals, need: u64) -> Result<SideSummary, Shortfall> {
    match (totals.mean(), totals.sample_variance()) {
        (Some(mean), Some(variance)) if totals.events >= need => Ok(SideSummary {
            mean,
            variance_of_mean: variance / totals.events as f64,
            events: totals.events as f64,
        }),
        _ => Err(Shortfall {
            side,
            what: "events",
            have: totals.events,
            need,
        }),
    }
}

/// Compares the mean value per event between the sides.
pub fn compare_means(
    active: &EventTotals,
    inactive: &EventTotals,
    minimum_events: u64,
) -> MeanComparison {
    let need = minimum_events.max(2);
    let (active, inactive) = match (
        summarize(Side::Active, active, need),
        summarize(Side::Inactive, inactive, need),
    ) {
        (Ok(active), Ok(inactive)) => (active, inactive),
        (Err(shortfall), _) | (_, Err(shortfall)) => {
            return MeanComparison::NotEnoughData(shortfall)
        }
    };
    let variance = active.variance_of_mean + inactive.variance_of_mean;
    let standard_error = variance.sqrt();
    let degrees_of_freedom = if variance > 0.0 {
        variance * variance
            / (active.variance_of_mean.powi(2) / (active.events - 1.0)
                + inactive.variance_of_mean.powi(2) / (inactive.events - 1.0))
    } else {
        active.events + inactive.events - 2.0
    };
    let difference = active.mean - inactive.mean;
    let half_width = if standard_error > 0.0 {
        t_quantile_95(degrees_of_freedom) * standard_error
    } else {
        0.0
    };
    MeanComparison::Compared(MeanDifference {
        active_mean: active.mean,
        inactive_mean: inactive.mean,
        difference,
        standard_error,
        degrees_of_freedom,
        interval: Interval::around(difference, half_width),
    })
}
