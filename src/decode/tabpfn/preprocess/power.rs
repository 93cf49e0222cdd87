//! The power pipeline (the package's `safepower`): a Yeo-Johnson transform per column with λ by
//! maximum likelihood (2.2.1 `SafePowerTransformer`, `standardize=False`), then the safe standard
//! scaler with centring.
//!
//! Yeo & Johnson (2000), eq. 2.1: for x ≥ 0, `((x + 1)^λ − 1) / λ` (λ ≠ 0) or `ln(x + 1)`;
//! for x < 0, `−((1 − x)^(2−λ) − 1) / (2 − λ)` (λ ≠ 2) or `−ln(1 − x)`, computed as the package
//! does with `expm1` and `log1p`. λ maximises the profile log-likelihood
//! `−n/2 ln σ²(λ) + (λ − 1) Σ sign(x) ln(1 + |x|)` over the column's non-missing train values
//! (SciPy's `_yeojohnson_llf`), by the bounded Brent search ([`super::brent::fminbound`],
//! `xtol = 1.48e-8`) over the bounds that keep the transform of up to 20 times the largest
//! |x| inside half of the float exponent range (SciPy PR 18852, which the package copies).
//! A column indistinguishable from a constant one (scikit-learn's test on the column's mean and
//! variance, a missing value making it never constant) keeps λ = 1, the identity. Missing values
//! stay missing through the transform (the scaler then fills them with the train mean).

use faer::{Mat, MatRef};

use super::brent::fminbound;
use super::scaler::SafeScaler;

/// The tolerance of the λ search (SciPy's `brent` default, which the package matches).
const LAMBDA_XTOL: f64 = 1.48e-8;

/// Yeo-Johnson transforms, one λ per column.
#[derive(Debug, Clone, PartialEq)]
pub struct YeoJohnson {
    lambdas: Vec<f64>,
}

impl YeoJohnson {
    /// Fits λ per column on the train rows `x` (every column must hold at least one value).
    pub fn fit(x: MatRef<'_, f64>) -> YeoJohnson {
        let n = x.nrows();
        let lambdas = (0..x.ncols())
            .map(|j| {
                let column: Vec<f64> = (0..n).map(|i| x[(i, j)]).collect();
                if looks_constant(&column) {
                    return 1.0;
                }
                let present: Vec<f64> = column.into_iter().filter(|v| !v.is_nan()).collect();
                optimal_lambda(&present)
            })
            .collect();
        YeoJohnson { lambdas }
    }

    /// The λ of each column.
    pub fn lambdas(&self) -> &[f64] {
        &self.lambdas
    }

    /// Transforms every column with its λ.
    pub fn transform(&self, x: MatRef<'_, f64>) -> Mat<f64> {
        Mat::from_fn(x.nrows(), x.ncols(), |i, j| {
            yeo_johnson(x[(i, j)], self.lambdas[j])
        })
    }
}

/// The power pipeline of the package's `safepower`: Yeo-Johnson, then the centring safe scaler.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerTransform {
    yeo_johnson: YeoJohnson,
    scaler: SafeScaler,
}

impl PowerTransform {
    /// Fits on the train rows `x` and returns them transformed.
    pub fn fit(x: MatRef<'_, f64>) -> (PowerTransform, Mat<f64>) {
        let yeo_johnson = YeoJohnson::fit(x);
        let powered = yeo_johnson.transform(x);
        let scaler = SafeScaler::fit(powered.as_ref(), true);
        let out = scaler.transform(powered.as_ref());
        (
            PowerTransform {
                yeo_johnson,
                scaler,
            },
            out,
        )
    }

    /// The λ of each column.
    pub fn lambdas(&self) -> &[f64] {
        self.yeo_johnson.lambdas()
    }

    /// Transforms rows `x` (as many columns as the train rows).
    pub fn transform(&self, x: MatRef<'_, f64>) -> Mat<f64> {
        self.scaler
            .transform(self.yeo_johnson.transform(x).as_ref())
    }

    /// The inverse of column `j`'s transform at `v` (the scaler's, then Yeo-Johnson's); NaN
    /// where `v` lies outside the transform's range.
    pub fn inverse(&self, j: usize, v: f64) -> f64 {
        yeo_johnson_inverse(self.scaler.inverse(j, v), self.yeo_johnson.lambdas[j])
    }
}

/// scikit-learn's `_is_constant_feature` on the whole column (NaN mean or variance: not
/// constant).
fn looks_constant(column: &[f64]) -> bool {
    let n = column.len() as f64;
    let mean = column.iter().sum::<f64>() / n;
    let var = column.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let eps = f64::EPSILON;
    var <= n * eps * var + (n * mean * eps).powi(2)
}

/// SciPy's `_yeojohnson_normmax`: λ maximising the log-likelihood of the non-missing values
/// `x` (finite, at least one) over the data-dependent bounds.
fn optimal_lambda(x: &[f64]) -> f64 {
    if x.iter().all(|&v| v == 0.0) {
        return 1.0;
    }
    let max_abs = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let log1p_max_x = (20.0 * max_abs).ln_1p();
    let log_eps = f64::EPSILON.ln();
    let log_tiny = (f64::MIN_POSITIVE.ln() - log_eps) / 2.0;
    let log_max = (f64::MAX.ln() + log_eps) / 2.0;
    let (mut lower, mut upper) = (log_tiny / log1p_max_x, log_max / log1p_max_x);
    if x.iter().all(|&v| v < 0.0) {
        (lower, upper) = (2.0 - upper, 2.0 - lower);
    } else if x.iter().any(|&v| v < 0.0) {
        (lower, upper) = ((2.0 - upper).max(lower), (2.0 - lower).min(upper));
    }
    let signed_logs: Vec<f64> = x.iter().map(|&v| sign(v) * v.abs().ln_1p()).collect();
    let log_term = pairwise_sum(&signed_logs);
    let n = x.len() as f64;
    let negative_log_likelihood = |lambda: f64| {
        let transformed: Vec<f64> = x.iter().map(|&v| yeo_johnson(v, lambda)).collect();
        let mean = pairwise_sum(&transformed) / n;
        let squares: Vec<f64> = transformed
            .iter()
            .map(|t| (t - mean) * (t - mean))
            .collect();
        let var = pairwise_sum(&squares) / n;
        if var < f64::MIN_POSITIVE {
            return f64::INFINITY;
        }
        let mut llf = -n / 2.0 * var.ln();
        llf += (lambda - 1.0) * log_term;
        if llf.is_infinite() {
            f64::INFINITY
        } else {
            -llf
        }
    };
    fminbound(negative_log_likelihood, lower, upper, LAMBDA_XTOL)
}

/// NumPy's `sign`: −1, 0 or 1.
fn sign(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// NumPy's pairwise summation of a contiguous float64 array (`np.sum`), so that the
/// likelihood, and with it Brent's path, is the package's to the last bit as far as possible.
fn pairwise_sum(v: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = v.len();
    if n < 8 {
        v.iter().fold(0.0, |s, x| s + x)
    } else if n <= BLOCK {
        let mut r = [v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]];
        let whole = n - n % 8;
        let mut i = 8;
        while i < whole {
            for (k, acc) in r.iter_mut().enumerate() {
                *acc += v[i + k];
            }
            i += 8;
        }
        let mut sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for x in &v[whole..] {
            sum += x;
        }
        sum
    } else {
        let mut half = n / 2;
        half -= half % 8;
        pairwise_sum(&v[..half]) + pairwise_sum(&v[half..])
    }
}

/// The Yeo-Johnson transform of `x` with parameter `lambda` (NaN stays NaN).
pub fn yeo_johnson(x: f64, lambda: f64) -> f64 {
    let eps = f64::EPSILON;
    if x >= 0.0 {
        if lambda.abs() < eps {
            x.ln_1p()
        } else {
            (lambda * x.ln_1p()).exp_m1() / lambda
        }
    } else if (lambda - 2.0).abs() > eps {
        -((2.0 - lambda) * (-x).ln_1p()).exp_m1() / (2.0 - lambda)
    } else {
        -(-x).ln_1p()
    }
}

/// The inverse Yeo-Johnson transform (the package's overflow-safe form); NaN outside the
/// transform's range (e.g. `v λ + 1 < 0` for v ≥ 0).
pub fn yeo_johnson_inverse(v: f64, lambda: f64) -> f64 {
    let eps = f64::EPSILON;
    if v >= 0.0 {
        if lambda.abs() < eps {
            v.exp_m1()
        } else {
            ((v * lambda + 1.0).ln() / lambda).exp_m1()
        }
    } else if (lambda - 2.0).abs() > eps {
        -((-(2.0 - lambda) * v + 1.0).ln() / (2.0 - lambda)).exp_m1()
    } else {
        -(-v).exp_m1()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yeo_johnson_matches_its_closed_form_and_inverts() {
        // λ = 0.5, x = 3: ((4)^0.5 − 1) / 0.5 = 2. λ = 0.5, x = −3: −((4)^1.5 − 1) / 1.5 = −14/3.
        assert!((yeo_johnson(3.0, 0.5) - 2.0).abs() < 1e-15);
        assert!((yeo_johnson(-3.0, 0.5) + 14.0 / 3.0).abs() < 1e-14);
        assert!((yeo_johnson(3.0, 0.0) - 4.0f64.ln()).abs() < 1e-15);
        assert!((yeo_johnson(-3.0, 2.0) + 4.0f64.ln()).abs() < 1e-15);
        for &lambda in &[-1.5, 0.0, 0.7, 2.0, 3.1] {
            for &x in &[-4.0, -0.2, 0.0, 0.3, 5.0] {
                let back = yeo_johnson_inverse(yeo_johnson(x, lambda), lambda);
                assert!((back - x).abs() < 1e-12, "λ {lambda}, x {x}: {back}");
            }
        }
        assert!(yeo_johnson(f64::NAN, 0.5).is_nan());
        // λ = −0.5 maps x ≥ 0 into [0, 2): v = 3 is outside the range (3 λ + 1 < 0).
        assert!(yeo_johnson_inverse(3.0, -0.5).is_nan());
    }

    #[test]
    fn pairwise_summation_adds_up() {
        for n in [0usize, 5, 8, 30, 128, 129, 300, 1000] {
            let v: Vec<f64> = (0..n).map(|i| i as f64).collect();
            assert_eq!(pairwise_sum(&v), (n * n.saturating_sub(1) / 2) as f64);
        }
    }

    #[test]
    fn a_constant_column_keeps_lambda_one() {
        let x = faer::mat![[2.0, 1.0], [2.0, 4.0], [2.0, 9.0]];
        assert_eq!(YeoJohnson::fit(x.as_ref()).lambdas()[0], 1.0);
    }
}
