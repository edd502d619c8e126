//! The small shared vocabulary of the outcome statistics: the two sides, an interval, and the
//! normal quantile every 95 % interval here uses.

/// The 0.975 quantile of the standard normal distribution: a 95 % two-sided interval is
/// the estimate ± `Z_95` standard errors.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// One side of a feature's split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Users for whom the feature answered active (the new version).
    Active,
    /// Users for whom it answered not active (the old version).
    Inactive,
}

/// A closed interval of plausible values for a difference (95 % unless said otherwise).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// The lower end.
    pub low: f64,
    /// The upper end.
    pub high: f64,
}

impl Interval {
    /// `estimate ± half_width`.
    pub fn around(estimate: f64, half_width: f64) -> Self {
        Self {
            low: estimate - half_width,
            high: estimate + half_width,
        }
    }

    /// Whether `value` lies within it (ends included).
    pub fn contains(&self, value: f64) -> bool {
        self.low <= value && value <= self.high
    }
}
