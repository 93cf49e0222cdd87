//! The exact GELU, `x Φ(x) = x (1 + erf(x / √2)) / 2`, on the CPU in single precision, in
//! loops that vectorise.
//!
//! burn-flex evaluates `erf` one value at a time through the scalar library function, and the
//! MLP's hidden activations are the largest tensor of the forward pass: that call was the
//! biggest single cost of a prediction. Here the complementary error function comes from
//! Abramowitz & Stegun's formula 7.1.26, `erfc(z) ≈ (a₁t + a₂t² + a₃t³ + a₄t⁴ + a₅t⁵) e^{−z²}`
//! with `t = 1 / (1 + p z)` for `z ≥ 0`, whose absolute error is at most 1.5e-7; then
//! `GELU(x) = x (1 − erfc(z) / 2)` for `x ≥ 0` and `x erfc(z) / 2` for `x < 0`, `z = |x| / √2`.
//! The negative branch is a product, not `1 + erf(x / √2)`, so it keeps its relative
//! precision where the result is tiny.

use super::cpu_attention::exp;

/// Abramowitz & Stegun 7.1.26: `p` and `a₁ … a₅`.
const P: f32 = 0.327_591_1;
const A: [f32; 5] = [
    0.254_829_6,
    -0.284_496_74,
    1.421_413_7,
    -1.453_152_1,
    1.061_405_4,
];

/// Replaces every value of `values` by its GELU, eight lanes at a time where the processor
/// has AVX2 (the same operations per value either way, so the same results).
pub(crate) fn gelu_in_place(values: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the processor supports AVX2 and FMA, checked just above.
        return unsafe { gelu_avx2(values) };
    }
    gelu_slice(values);
}

/// [`gelu_slice`] compiled for AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn gelu_avx2(values: &mut [f32]) {
    gelu_slice(values);
}

#[inline(always)]
fn gelu_slice(values: &mut [f32]) {
    for v in values {
        *v = gelu(*v);
    }
}

/// The GELU of one value (module docs), without branches or library calls.
#[inline(always)]
fn gelu(x: f32) -> f32 {
    let z = x.abs() * std::f32::consts::FRAC_1_SQRT_2;
    let t = 1.0 / (1.0 + P * z);
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    let half_erfc = 0.5 * poly * exp(-z * z);
    let phi = if x >= 0.0 { 1.0 - half_erfc } else { half_erfc };
    x * phi
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The GELU in double precision from the C library's `erf` (through `libm`).
    fn reference(x: f64) -> f64 {
        0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2))
    }

    #[test]
    fn the_gelu_is_within_the_formula_s_error_of_the_double_precision_one() {
        // The formula's |erfc error| ≤ 1.5e-7 gives |GELU error| ≤ 0.75e-7 · |x|; single
        // precision adds about ten roundings of relative size 2⁻²⁴ to Φ (which is below 1),
        // at most 16 · 2⁻²⁴ · |x| together, and one more to the product.
        let xs: Vec<f32> = (-120_000..=120_000).map(|i| i as f32 * 1e-4).collect();
        let mut found = xs.clone();
        gelu_in_place(&mut found);
        for (&x, &g) in xs.iter().zip(&found) {
            let exact = reference(f64::from(x));
            let ulp = f64::from(f32::EPSILON) / 2.0;
            let bound = (0.75e-7 + 16.0 * ulp) * f64::from(x.abs()) + ulp * exact.abs();
            assert!(
                (f64::from(g) - exact).abs() <= bound,
                "GELU({x}) = {g}, exact {exact}"
            );
        }
    }

    #[test]
    fn tiny_negative_results_keep_their_relative_precision() {
        // GELU(−5) = −5 Φ(−5) = −1.4333e-6. The formula's own relative error in erfc at
        // z = 5/√2 is 1.6e-3 (evaluated in double precision); the product form keeps the result
        // to that, where 1 + erf(x/√2) in single precision would keep no digit at all.
        let mut v = [-5.0f32];
        gelu_in_place(&mut v);
        let exact = reference(-5.0);
        assert!(
            ((f64::from(v[0]) - exact) / exact).abs() < 2e-3,
            "{} vs {exact}",
            v[0]
        );
        let mut far = [20.0f32, -20.0, 0.0];
        gelu_in_place(&mut far);
        assert_eq!(far[0], 20.0);
        assert!(far[1] <= 0.0 && far[1] > -1e-37, "{}", far[1]);
        assert_eq!(far[2], 0.0);
    }
}
