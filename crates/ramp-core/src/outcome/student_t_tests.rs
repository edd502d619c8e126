//! The t quantile against printed tables and against a second method: bisection on a t CDF
//! integrated numerically here, with no gamma or beta function in common with statrs.

use super::student_t::{t_quantile, t_quantile_95};
use super::Z_95;

/// Simpson's rule for ∫₀^upper cos^(ν-1) θ dθ.
fn cosine_power_integral(upper: f64, degrees: f64) -> f64 {
    let steps = 20_000;
    let width = upper / steps as f64;
    let density = |theta: f64| theta.cos().max(0.0).powf(degrees - 1.0);
    let inner: f64 = (1..steps)
        .map(|step| {
            let weight = if step % 2 == 1 { 4.0 } else { 2.0 };
            weight * density(step as f64 * width)
        })
        .sum();
    (density(0.0) + inner + density(upper)) * width / 3.0
}

/// The t quantile by bisection on the CDF, for ν = 1, 2 or ν ≥ 3. With t = √ν tan θ the t
/// density becomes proportional to cos^(ν-1) θ on [0, π/2), so
/// F(x) = 1/2 + 1/2 · ∫₀^atan(x/√ν) cos^(ν-1) / ∫₀^(π/2) cos^(ν-1).
/// Simpson's rule is accurate to far below the tolerance while cos^(ν-1) is smooth enough at
/// π/2, which it is for those ν; Welch's df is never below 9 here (10 events a side).
fn bisected_quantile(probability: f64, degrees: f64) -> f64 {
    let whole = cosine_power_integral(std::f64::consts::FRAC_PI_2, degrees);
    let cdf =
        |x: f64| 0.5 + 0.5 * cosine_power_integral((x / degrees.sqrt()).atan(), degrees) / whole;
    let (mut low, mut high) = (0.0, 1000.0);
    for _ in 0..60 {
        let middle = (low + high) / 2.0;
        if cdf(middle) < probability {
            low = middle;
        } else {
            high = middle;
        }
    }
    (low + high) / 2.0
}

#[test]
fn printed_table_values() {
    for (degrees, table) in [
        (1.0, 12.706),
        (2.0, 4.303),
        (5.0, 2.571),
        (10.0, 2.228),
        (30.0, 2.042),
        (120.0, 1.980),
    ] {
        let quantile = t_quantile_95(degrees);
        assert!(
            (quantile - table).abs() < 5e-4,
            "df {degrees}: {quantile} vs {table}"
        );
    }
    let normal = t_quantile_95(f64::INFINITY);
    assert!((normal - Z_95).abs() < 1e-12, "{normal}");
    // Far out, t(0.975, ν) ≈ z + z (z² + 1) / (4ν): above the normal quantile, closing in on it.
    let first_term = normal * (normal * normal + 1.0) / 4.0;
    let mut previous = t_quantile_95(500.0);
    for degrees in [999.0, 1000.0, 1e4, 1e5, 1e6, 1e7, 1e9, 1e15] {
        let quantile = t_quantile_95(degrees);
        assert!(
            quantile < previous && quantile >= normal,
            "df {degrees}: {quantile}"
        );
        let expected = normal + first_term / degrees;
        assert!((quantile - expected).abs() < 3.0 / (degrees * degrees) + 1e-15);
        previous = quantile;
    }
}

#[test]
fn agrees_with_bisection_on_an_integrated_cdf() {
    for degrees in [
        1.0, 2.0, 3.5, 5.0, 7.3, 13.235, 30.0, 99.5, 1000.0, 12_345.6,
    ] {
        for probability in [0.6, 0.9, 0.975, 0.999] {
            let library = t_quantile(probability, degrees).unwrap();
            let second = bisected_quantile(probability, degrees);
            assert!(
                (library - second).abs() < 1e-6 * second,
                "df {degrees} p {probability}: {library} vs {second}"
            );
        }
    }
}

#[test]
fn lower_tail_is_the_mirror_of_the_upper() {
    for degrees in [1.0, 2.7, 30.0] {
        let upper = t_quantile(0.975, degrees).unwrap();
        let lower = t_quantile(0.025, degrees).unwrap();
        assert!(
            (upper + lower).abs() < 1e-9,
            "df {degrees}: {lower} {upper}"
        );
    }
}

#[test]
fn refuses_what_has_no_quantile_instead_of_panicking() {
    assert_eq!(t_quantile(0.0, 5.0), None);
    assert_eq!(t_quantile(1.0, 5.0), None);
    assert_eq!(t_quantile(1.5, 5.0), None);
    assert_eq!(t_quantile(f64::NAN, 5.0), None);
    assert_eq!(t_quantile(0.975, 0.0), None);
    assert_eq!(t_quantile(0.975, -1.0), None);
    assert_eq!(t_quantile(0.975, f64::NAN), None);
    assert_eq!(t_quantile_95(0.0), f64::INFINITY);
}
