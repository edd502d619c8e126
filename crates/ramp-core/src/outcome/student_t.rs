//! Quantiles of Student's t distribution, for Welch's interval of a difference of means.
//!
//! Up to [`EXPANSION_FROM_DEGREES`] the work is done by `statrs` (`StudentsT::inverse_cdf`:
//! the inverse regularized incomplete beta function, AS 64 / AS 109), a maintained crate whose
//! t quantile has been right on both tails since 0.16 (its issue 156). Its beta inversion loses
//! accuracy far out, though (0.18 gives t(0.975, 10^6) = 1.95985, below the normal 1.95996,
//! and 1.838 at 9·10^6), and Welch's degrees of freedom reach millions when both sides have
//! many events. From there on the quantile is the Cornish–Fisher expansion in 1/ν around the
//! normal quantile (Abramowitz & Stegun 26.7.5, four terms), whose first omitted term is below
//! 1e-10 at ν = 1,000. The tests hold both to printed tables and to a second, independent
//! method (bisection on a numerically integrated density). Welch's degrees of freedom are
//! rarely whole numbers, which is why a table will not do.
//!
//! statrs asserts (panics) on a probability outside 0..=1, so that is refused here first: the
//! core never panics on its input.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// From this many degrees of freedom on, the expansion replaces statrs.
const EXPANSION_FROM_DEGREES: f64 = 1000.0;

/// The `probability` quantile of Student's t with `degrees_of_freedom` (which need not be
/// whole; infinity gives the normal quantile). None for a probability outside (0, 1) or degrees
/// of freedom that are not positive.
pub fn t_quantile(probability: f64, degrees_of_freedom: f64) -> Option<f64> {
    let probability_valid = probability > 0.0 && probability < 1.0;
    if !probability_valid || degrees_of_freedom.is_nan() || degrees_of_freedom <= 0.0 {
        return None;
    }
    if degrees_of_freedom >= EXPANSION_FROM_DEGREES {
        return Some(cornish_fisher(probability, degrees_of_freedom));
    }
    let quantile = StudentsT::new(0.0, 1.0, degrees_of_freedom)
        .ok()?
        .inverse_cdf(probability);
    quantile.is_finite().then_some(quantile)
}

/// t(0.975, df): the multiplier of a 95 % two-sided interval. Degrees of freedom that are not
/// positive (no data to estimate a spread) give infinity, an interval that claims nothing.
pub fn t_quantile_95(degrees_of_freedom: f64) -> f64 {
    t_quantile(0.975, degrees_of_freedom).unwrap_or(f64::INFINITY)
}

/// `t ≈ z + g1(z)/ν + g2(z)/ν² + g3(z)/ν³ + g4(z)/ν⁴`, with z the normal quantile.
fn cornish_fisher(probability: f64, degrees_of_freedom: f64) -> f64 {
    let z = Normal::standard().inverse_cdf(probability);
    let z2 = z * z;
    let g1 = z * (z2 + 1.0) / 4.0;
    let g2 = z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0;
    let g3 = z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0;
    let g4 = z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) / 92160.0;
    let inverse = 1.0 / degrees_of_freedom;
    z + inverse * (g1 + inverse * (g2 + inverse * (g3 + inverse * g4)))
}
