//! `Percentage`: a finite number from 0 to 100, decimals allowed (0.1 % is a real setting).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// A rollout percentage, always finite and within 0..=100.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Percentage(f64);

impl Percentage {
    /// Nobody (by percentage).
    pub const ZERO: Percentage = Percentage(0.0);
    /// Everyone, including callers with no user id.
    pub const ALL: Percentage = Percentage(100.0);

    /// Checks that `value` is finite and within 0..=100.
    pub fn new(value: f64) -> Result<Self, CoreError> {
        if value.is_finite() && (0.0..=100.0).contains(&value) {
            // -0.0 would print as "-0"; store the plain zero.
            Ok(Self(if value == 0.0 { 0.0 } else { value }))
        } else {
            Err(CoreError::InvalidPercentage {
                given: value.to_string(),
            })
        }
    }

    /// Parses a percentage typed by a person (`12.5`, `12.5%`, `100`).
    pub fn parse(text: &str) -> Result<Self, CoreError> {
        let trimmed = text.trim();
        let number = trimmed.strip_suffix('%').unwrap_or(trimmed).trim();
        number
            .parse::<f64>()
            .map_err(|_| CoreError::InvalidPercentage {
                given: text.to_owned(),
            })
            .and_then(Self::new)
    }

    /// The value, 0 to 100.
    pub fn value(self) -> f64 {
        self.0
    }

    /// Whether this is exactly 100, the only value that makes a feature active without a user.
    pub fn is_everyone(self) -> bool {
        self.0 == 100.0
    }
}

impl TryFrom<f64> for Percentage {
    type Error = CoreError;
    fn try_from(value: f64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Percentage> for f64 {
    fn from(value: Percentage) -> f64 {
        value.0
    }
}

impl fmt::Display for Percentage {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_range_with_decimals() {
        for value in [0.0, 0.1, 12.5, 99.999, 100.0] {
            assert_eq!(Percentage::new(value).unwrap().value(), value);
        }
    }

    #[test]
    fn rejects_out_of_range_and_non_finite() {
        for value in [
            -0.1,
            100.0001,
            101.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert!(Percentage::new(value).is_err(), "{value}");
        }
    }

    #[test]
    fn parses_what_people_type() {
        assert_eq!(Percentage::parse("12.5%").unwrap().value(), 12.5);
        assert_eq!(Percentage::parse(" 30 ").unwrap().value(), 30.0);
        assert!(Percentage::parse("NaN").is_err());
        assert!(Percentage::parse("ten").is_err());
        assert!(Percentage::parse("101").is_err());
    }

    #[test]
    fn negative_zero_is_plain_zero() {
        assert_eq!(Percentage::new(-0.0).unwrap().to_string(), "0");
    }
}
