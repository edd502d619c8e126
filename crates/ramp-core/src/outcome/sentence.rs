//! The sentences a product owner reads on a feature's page: "forms saved with errors: 3.1 %
//! with the new form, 7.9 % without (difference -4.8 points, 95 % CI -6.0 to -3.6)".
//!
//! Figures are rounded to one decimal; a figure that rounds to zero is written `0.0`, never
//! `-0.0`. Differences carry their sign. The relative change follows when there is one; when
//! the inactive side has no events it cannot exist, and the sentence says why instead of
//! printing an infinite percentage. Without enough data the sentence says which side lacks
//! what, rather than giving figures an approximation does not support.

use super::interval::Side;
use super::mean::MeanComparison;
use super::rate::{RateComparison, Shortfall};

/// How the two sides are named in sentences ("with the new form", "without").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SideLabels<'a> {
    /// The active side.
    pub active: &'a str,
    /// The inactive side.
    pub inactive: &'a str,
}

impl SideLabels<'_> {
    fn of(&self, side: Side) -> &str {
        match side {
            Side::Active => self.active,
            Side::Inactive => self.inactive,
        }
    }
}

/// One decimal, no negative zero.
fn figure(value: f64) -> String {
    let text = format!("{value:.1}");
    if text == "-0.0" {
        "0.0".into()
    } else {
        text
    }
}

/// One decimal with its sign (`+1.2`, `-4.8`, `0.0`).
fn signed(value: f64) -> String {
    let text = figure(value);
    if text.starts_with('-') || text == "0.0" {
        text
    } else {
        format!("+{text}")
    }
}

fn not_enough(event: &str, labels: &SideLabels<'_>, shortfall: &Shortfall) -> String {
    format!(
        "{event}: not enough data yet ({}: {} {} of the {} needed)",
        labels.of(shortfall.side),
        shortfall.have,
        shortfall.what,
        shortfall.need
    )
}

/// The sentence for a rate comparison of `event` ("forms saved with errors").
pub fn describe_rates(event: &str, labels: &SideLabels<'_>, comparison: &RateComparison) -> String {
    let rates = match comparison {
        RateComparison::NotEnoughData(shortfall) => return not_enough(event, labels, shortfall),
        RateComparison::Compared(rates) => rates,
    };
    let points = |share: f64| share * 100.0;
    let relative = match rates.relative_change {
        Some(change) => format!("relative change {} %", signed(points(change))),
        None => format!("no relative change: 0 % {}", labels.inactive),
    };
    format!(
        "{event}: {} % {}, {} % {} (difference {} points, 95 % CI {} to {}; {relative})",
        figure(points(rates.active_rate)),
        labels.active,
        figure(points(rates.inactive_rate)),
        labels.inactive,
        signed(points(rates.difference)),
        signed(points(rates.interval.low)),
        signed(points(rates.interval.high)),
    )
}

/// The sentence for a comparison of mean values of `event` ("time to complete, seconds").
pub fn describe_means(event: &str, labels: &SideLabels<'_>, comparison: &MeanComparison) -> String {
    let means = match comparison {
        MeanComparison::NotEnoughData(shortfall) => return not_enough(event, labels, shortfall),
        MeanComparison::Compared(means) => means,
    };
    format!(
        "{event}: mean {} {}, {} {} (difference {}, 95 % CI {} to {})",
        figure(means.active_mean),
        labels.active,
        figure(means.inactive_mean),
        labels.inactive,
        signed(means.difference),
        signed(means.interval.low),
        signed(means.interval.high),
    )
}
