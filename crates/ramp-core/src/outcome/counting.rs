//! `Counting`: whether the user counts that go into a comparison are exact or estimated.
//!
//! Exposed users and users with an event come from HyperLogLog sketches
//! ([`UserSketch`](crate::UserSketch)), whose estimates are off by a relative standard error
//! `e` (about 3.2 % at the core's precision of 10). That error does not shrink as users
//! arrive, while the sampling error does: at 100,000 users a side, a 5 % rate has a sampling
//! standard error of 0.07 points but a sketch error of about 0.2 points. Ignoring it would make
//! intervals too narrow and the sample-ratio check fire on every large feature, so the
//! comparisons take it as an input and add its variance (each function says how).

use crate::UserSketch;

/// How the user counts of a comparison were obtained.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Counting {
    /// Counted exactly (tests, or a store that keeps exact counts).
    Exact,
    /// Estimated, each count with this relative standard error (0.032 for 3.2 %).
    Estimated {
        /// The relative standard error of one count.
        relative_error: f64,
    },
}

impl Counting {
    /// Counts estimated by the core's own sketches.
    pub fn sketched() -> Self {
        Counting::Estimated {
            relative_error: UserSketch::standard_error(),
        }
    }

    /// The relative standard error of one count: 0 when exact, and 0 for a negative or NaN
    /// error, which no estimate has.
    pub fn relative_error(self) -> f64 {
        match self {
            Counting::Exact => 0.0,
            Counting::Estimated { relative_error } if relative_error > 0.0 => relative_error,
            Counting::Estimated { .. } => 0.0,
        }
    }
}
