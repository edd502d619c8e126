//! `OutcomeTotals`: what a time bucket keeps of one event for one feature (per side: how many
//! events, the sum of their values and the sum of their squares), built so that any number of
//! buckets add up to exactly the same totals in any order.
//!
//! Floating-point sums depend on the order of the additions, so a week read from hourly
//! buckets would differ from the same week read from days. Values are therefore kept as
//! integers of a fixed unit, [`VALUE_UNITS`] per 1 (millionths: milliseconds, cents and
//! counts are exact), sums in `i128` and sums of squares in `u128`; integer addition is exact,
//! associative and commutative, so merging is too. A value is rounded to the unit once, when it
//! is recorded. Values are bounded by [`MAX_OUTCOME_VALUE`], which leaves room in the sums for
//! more than 10^8 events at the bound (far more at ordinary values); a merge that would overflow
//! is refused, never wrapped or saturated.
//!
//! Distinct users are not here: the same user in two buckets is one user, so they come from
//! merged sketches ([`UserSketch`](crate::UserSketch)), which are not additive counts.

use crate::CoreError;

/// Units per 1 that values are kept in (millionths).
pub const VALUE_UNITS: i64 = 1_000_000;

/// The largest magnitude of a value (a billion: 11 days in milliseconds).
pub const MAX_OUTCOME_VALUE: f64 = 1e9;

/// A value attached to an event, validated: finite, within ±[`MAX_OUTCOME_VALUE`], rounded to
/// millionths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OutcomeValue(i64);

impl OutcomeValue {
    /// Validates a value.
    pub fn new(value: f64) -> Result<Self, CoreError> {
        if !value.is_finite() || value.abs() > MAX_OUTCOME_VALUE {
            return Err(CoreError::InvalidOutcome {
                field: "value",
                reason: format!("{value} is not a finite number within ±{MAX_OUTCOME_VALUE}"),
            });
        }
        // Within ±1e15 after scaling, so the conversion is exact and cannot saturate.
        Ok(Self((value * VALUE_UNITS as f64).round() as i64))
    }

    /// A value given in units (millionths) already.
    pub fn from_units(units: i64) -> Result<Self, CoreError> {
        Self::new(units as f64 / VALUE_UNITS as f64).map(|_| Self(units))
    }

    /// The value in units (millionths).
    pub fn units(self) -> i64 {
        self.0
    }

    /// The value.
    pub fn value(self) -> f64 {
        self.0 as f64 / VALUE_UNITS as f64
    }
}

/// Events of one kind on one side: how many, and the sums a mean and a variance need.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct EventTotals {
    /// How many events.
    pub events: u64,
    /// The sum of their values, in units (millionths).
    pub sum: i128,
    /// The sum of their values' squares, in units squared.
    pub sum_of_squares: u128,
}

impl EventTotals {
    /// Adds one event.
    pub fn record(&mut self, value: OutcomeValue) -> Result<(), CoreError> {
        let units = i128::from(value.units());
        self.merge(&EventTotals {
            events: 1,
            sum: units,
            sum_of_squares: units.unsigned_abs() * units.unsigned_abs(),
        })
    }

    /// Adds another bucket's totals; on overflow, changes nothing and says so.
    pub fn merge(&mut self, other: &EventTotals) -> Result<(), CoreError> {
        let events = self.events.checked_add(other.events);
        let sum = self.sum.checked_add(other.sum);
        let sum_of_squares = self.sum_of_squares.checked_add(other.sum_of_squares);
        match (events, sum, sum_of_squares) {
            (Some(events), Some(sum), Some(sum_of_squares)) => {
                *self = EventTotals {
                    events,
                    sum,
                    sum_of_squares,
                };
                Ok(())
            }
            _ => Err(CoreError::InvalidOutcome {
                field: "totals",
                reason: "the sums would overflow".into(),
            }),
        }
    }

    /// The mean value per event (None without events).
    pub fn mean(&self) -> Option<f64> {
        (self.events > 0).then(|| self.sum as f64 / self.events as f64 / VALUE_UNITS as f64)
    }

    /// The sample variance of the values (divided by events - 1; None below 2 events).
    ///
    /// `events · Σx² - (Σx)²` is computed exactly in integers when it fits in 128 bits, so
    /// values close to their mean (times of about 1,000 ms that differ by a few) lose nothing
    /// to cancellation; past that it falls back to floating point.
    pub fn sample_variance(&self) -> Option<f64> {
        if self.events < 2 {
            return None;
        }
        let events = u128::from(self.events);
        let exact = events
            .checked_mul(self.sum_of_squares)
            .zip(self.sum.unsigned_abs().checked_mul(self.sum.unsigned_abs()))
            .map(|(scaled, square)| scaled.saturating_sub(square) as f64);
        let scaled_spread = exact.unwrap_or_else(|| {
            let sum = self.sum as f64;
            (events as f64 * self.sum_of_squares as f64 - sum * sum).max(0.0)
        });
        let units_squared = (VALUE_UNITS as f64) * (VALUE_UNITS as f64);
        Some(scaled_spread / (events as f64 * (events - 1) as f64) / units_squared)
    }
}

/// One event's totals for one feature in one bucket, per side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct OutcomeTotals {
    /// Events of users for whom the feature answered active.
    pub active: EventTotals,
    /// Events of users for whom it answered not active.
    pub inactive: EventTotals,
}

impl OutcomeTotals {
    /// Adds another bucket's totals; on overflow, changes nothing and says so.
    pub fn merge(&mut self, other: &OutcomeTotals) -> Result<(), CoreError> {
        let mut merged = *self;
        merged.active.merge(&other.active)?;
        merged.inactive.merge(&other.inactive)?;
        *self = merged;
        Ok(())
    }

    /// Adds one event on the side the feature answered.
    pub fn record(&mut self, active: bool, value: OutcomeValue) -> Result<(), CoreError> {
        if active {
            self.active.record(value)
        } else {
            self.inactive.record(value)
        }
    }
}
