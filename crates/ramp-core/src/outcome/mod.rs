//! Outcome statistics: comparing what happened to users on the two sides of a feature (active
//! and not active), for the outcomes an application tracks (an error, a conversion, a form
//! saved with errors, a time to complete).
//!
//! Pure arithmetic, as the rest of the core: no I/O, no clock (a guard is given `now`), no
//! randomness. Stores keep [`OutcomeTotals`] per feature, side and time bucket and distinct
//! users as sketches; the server adds them up and asks this module for:
//! - [`compare_rates`]: the share of exposed users with the event on each side, the difference
//!   with its 95 % interval and the relative change ([`rate`]);
//! - [`compare_means`]: the mean value per event on each side, Welch's interval ([`mean`]);
//! - [`check_sample_ratio`]: whether the random split has the size the percentage says
//!   ([`sample_ratio`]);
//! - [`evaluate_guard`]: whether a release plan's guard trips ([`guard`]);
//! - [`describe_rates`] and [`describe_means`]: the sentences product owners read ([`sentence`]).
//!
//! Each file states the formulas it uses, and why.
//!
//! ```
//! use ramp_core::outcome::{compare_rates, describe_rates, Counting, RateMinimum, RateSide, SideLabels};
//!
//! let new_form = RateSide { exposed_users: 2740, users_with_event: 85 };
//! let old_form = RateSide { exposed_users: 2740, users_with_event: 216 };
//! let comparison = compare_rates(new_form, old_form, RateMinimum::default(), Counting::Exact);
//! let labels = SideLabels { active: "with the new form", inactive: "without" };
//! assert_eq!(
//!     describe_rates("forms saved with errors", &labels, &comparison),
//!     "forms saved with errors: 3.1 % with the new form, 7.9 % without \
//!      (difference -4.8 points, 95 % CI -6.0 to -3.6; relative change -60.6 %)",
//! );
//! ```

mod counting;
pub mod guard;
mod interval;
pub mod mean;
pub mod rate;
pub mod sample_ratio;
pub mod sentence;
mod student_t;
mod totals;

pub use counting::Counting;
pub use guard::{
    evaluate_guard, GuardEvaluation, GuardRule, GuardState, GuardThreshold, GuardVerdict,
};
pub use interval::{Interval, Side, Z_95};
pub use mean::{compare_means, MeanComparison, MeanDifference, MIN_EVENTS_FOR_MEAN};
pub use rate::{compare_rates, RateComparison, RateDifference, RateMinimum, RateSide, Shortfall};
pub use sample_ratio::{check_sample_ratio, RandomSplit, SampleRatio, SAMPLE_RATIO_CRITICAL};
pub use sentence::{describe_means, describe_rates, SideLabels};
pub use student_t::{t_quantile, t_quantile_95};
pub use totals::{EventTotals, OutcomeTotals, OutcomeValue, MAX_OUTCOME_VALUE, VALUE_UNITS};

#[cfg(test)]
mod guard_tests;
#[cfg(test)]
mod mean_tests;
#[cfg(test)]
mod rate_tests;
#[cfg(test)]
mod sample_ratio_tests;
#[cfg(test)]
mod sentence_tests;
#[cfg(test)]
mod student_t_tests;
#[cfg(test)]
mod test_random;
#[cfg(test)]
mod totals_tests;
