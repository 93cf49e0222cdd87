//! Unit-root and stationarity tests for the window study (paper Table 1): the augmented
//! Dickey–Fuller test ([`adf`]) and the KPSS test ([`kpss`]).
//!
//! Both follow the semantics of statsmodels (`adfuller(x, regression="c", autolag="AIC")` and
//! `kpss(x, regression="c", nlags="auto")`) so that quakelab's Table 1 can be compared with the
//! paper's, which was evidently computed with those defaults. The two tests ask opposite
//! questions: ADF's null is a unit root (reject, small p: stationary), KPSS's null is level
//! stationarity (reject, small p: not stationary).
//!
//! References:
//! - Dickey, D.A. & Fuller, W.A. (1979). Distribution of the estimators for autoregressive time
//!   series with a unit root. *JASA* 74, 427–431.
//! - Schwert, G.W. (1989). Tests for unit roots: a Monte Carlo investigation. *JBES* 7, 147–159.
//! - MacKinnon, J.G. (1994). Approximate asymptotic distribution functions for unit-root and
//!   cointegration tests. *JBES* 12, 167–176.
//! - MacKinnon, J.G. (2010). Critical values for cointegration tests. Queen's University
//!   Economics Working Paper 1227.
//! - Kwiatkowski, D., Phillips, P.C.B., Schmidt, P. & Shin, Y. (1992). Testing the null
//!   hypothesis of stationarity against the alternative of a unit root. *J. Econometrics* 54,
//!   159–178.
//! - Hobijn, B., Franses, P.H. & Ooms, M. (1998). Generalizations of the KPSS-test for
//!   stationarity. Econometric Institute Report 9802/A, Erasmus University Rotterdam
//!   (published 2004 in *Statistica Neerlandica* 58, 483–502).
//! - Newey, W.K. & West, K.D. (1994). Automatic lag selection in covariance matrix estimation.
//!   *Rev. Economic Studies* 61, 631–653.
//!
//! Neither test accepts missing values: the caller drops them (and says so in its output),
//! because silently skipping a NaN would join two non-adjacent days into one step.

use faer::linalg::solvers::SolveLstsq;
use faer::{Col, Mat};

use crate::{Error, Result};

/// MacKinnon (1994), Table 3, constant-only ("c") case, N = 1: above this statistic the
/// approximate p-value is 1.
const TAU_MAX: f64 = 2.74;
/// MacKinnon (1994), "c", N = 1: below this statistic the approximate p-value is 0.
const TAU_MIN: f64 = -18.83;
/// MacKinnon (1994), "c", N = 1: the switch point between the small-p and large-p surfaces.
const TAU_STAR: f64 = -1.61;
/// MacKinnon (1994), "c", N = 1, small-p surface: `p = Φ(γ0 + γ1 τ + γ2 τ²)`
/// (as used, i.e. unscaled: tables list γ2 multiplied by 100).
const TAU_SMALL_P: [f64; 3] = [2.1659, 1.4412, 3.8269e-2];
/// MacKinnon (1994), "c", N = 1, large-p surface: `p = Φ(γ0 + γ1 τ + γ2 τ² + γ3 τ³)`
/// (unscaled: tables list γ1 and γ2 multiplied by 10 and γ3 by 100).
const TAU_LARGE_P: [f64; 4] = [1.7339, 9.3202e-1, -1.2745e-1, -1.0368e-2];
/// MacKinnon (2010), Table 2, "c", N = 1: response-surface coefficients
/// `[β∞, β1, β2, β3]` of `c(T) = β∞ + β1/T + β2/T² + β3/T³` at the 1 %, 5 % and 10 % levels.
const TAU_CRITICAL_2010: [[f64; 4]; 3] = [
    [-3.43035, -6.5393, -16.786, -79.433],
    [-2.86154, -2.8903, -4.234, -40.040],
    [-2.56677, -1.5384, -2.809, 0.0],
];

/// The KPSS level-stationarity table of Kwiatkowski et al. (1992), Table 1 (η_μ), as
/// `(critical value, p-value)` pairs in increasing order of the critical value.
pub const KPSS_LEVEL_TABLE: [(f64, f64); 4] =
    [(0.347, 0.10), (0.463, 0.05), (0.574, 0.025), (0.739, 0.01)];

/// A regressor whose part orthogonal to the previous columns is below this fraction of its
/// norm makes the design singular (statsmodels would fall back to a pseudo-inverse; a
/// near-exact collinearity here means the series is degenerate, e.g. exactly linear).
const COLLINEARITY_TOLERANCE: f64 = 1e-12;

/// MacKinnon (2010) critical values of the ADF statistic for the sample size of the final
/// regression: reject the unit root at a level when the statistic is below its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdfCriticalValues {
    /// Critical value at the 1 % level.
    pub one_percent: f64,
    /// Critical value at the 5 % level.
    pub five_percent: f64,
    /// Critical value at the 10 % level.
    pub ten_percent: f64,
}

/// The outcome of the augmented Dickey–Fuller test (constant, no trend; lag chosen by AIC).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdfResult {
    /// The τ statistic: the t-ratio of the lagged level's coefficient in the ADF regression.
    pub statistic: f64,
    /// MacKinnon's (1994) approximate asymptotic p-value of the statistic; small means the
    /// unit root is rejected (the series looks stationary).
    pub p_value: f64,
    /// The number of lagged differences in the chosen regression.
    pub used_lag: usize,
    /// The largest lag that was searched (Schwert's rule, capped by the sample size).
    pub max_lag: usize,
    /// The number of observations in the chosen regression (`n - 1 - used_lag`).
    pub nobs: usize,
    /// MacKinnon (2010) finite-sample critical values for `nobs`.
    pub critical_values: AdfCriticalValues,
    /// The AIC of the chosen lag in the lag search, fitted on the common sample of the search
    /// (statsmodels' `icbest`), not on the chosen lag's own larger sample.
    pub aic: f64,
}

/// Where the KPSS p-value hit the edge of its look-up table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PValueClip {
    /// The statistic is at or below the 10 % critical value: the reported p-value is 0.10 and
    /// the true one is at least that (statsmodels warns "the actual p-value is greater").
    AtLeast,
    /// The statistic is at or above the 1 % critical value: the reported p-value is 0.01 and
    /// the true one is at most that (statsmodels warns "the actual p-value is smaller").
    AtMost,
}

/// The outcome of the KPSS level-stationarity test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KpssResult {
    /// The η_μ statistic: `Σ S_t² / (n² σ̂²)` with `S_t` the partial sums of the demeaned series
    /// and `σ̂²` its Newey–West long-run variance.
    pub statistic: f64,
    /// The p-value, linearly interpolated in [`KPSS_LEVEL_TABLE`] and clipped to
    /// `[0.01, 0.10]`; small means level stationarity is rejected.
    pub p_value: f64,
    /// Whether `p_value` is a table edge rather than an interpolated value.
    pub clipped: Option<PValueClip>,
    /// The Bartlett-window truncation lag of the long-run variance (Hobijn et al. 1998 rule).
    pub lags: usize,
    /// The number of observations.
    pub nobs: usize,
}

/// The augmented Dickey–Fuller test (Dickey & Fuller 1979) of a unit root against a stationary
/// alternative, with a constant and no trend, as statsmodels'
/// `adfuller(x, regression="c", autolag="AIC")` computes it.
///
/// The regression is `Δx_t = α + ρ x_{t-1} + Σ_{i=1}^{p} γ_i Δx_{t-i} + e_t` and the statistic
/// is the t-ratio of `ρ`. The lag `p` is chosen by AIC among `0..=max_lag`, where
/// `max_lag = min(⌈12 (n/100)^{1/4}⌉, ⌊n/2⌋ − 2)` (Schwert 1989, capped so that the regression
/// keeps degrees of freedom). Every candidate lag is fitted on the same sample (the last
/// `n − 1 − max_lag` differences) so that their AICs compare; the chosen lag is then refitted on
/// its own full sample of `n − 1 − p` differences, which gives the statistic. The AIC is
/// `−2 log L + 2k` with the Gaussian log-likelihood and `k` the number of regressors, constant
/// included; ties go to the smaller lag.
///
/// The p-value is MacKinnon's (1994) response-surface approximation and the critical values
/// are MacKinnon's (2010) finite-sample ones.
///
/// # Errors
///
/// [`Error::Numerical`] when the series has fewer than 4 values, contains a non-finite value,
/// is constant, or makes a regression singular (e.g. an exactly linear series).
pub fn adf(series: &[f64]) -> Result<AdfResult> {
    check_finite("ADF", series)?;
    let n = series.len();
    if n < 4 {
        return Err(Error::Numerical(format!(
            "ADF test: the series has {n} values; at least 4 are needed for a regression with a \
             constant"
        )));
    }
    check_not_constant("ADF", series)?;

    let max_lag = schwert_max_lag(n).min(n / 2 - 2);
    let diffs: Vec<f64> = series.windows(2).map(|w| w[1] - w[0]).collect();

    // Lag search on the common sample; strict `<` keeps the smaller lag on ties.
    let common_nobs = diffs.len() - max_lag;
    let mut used_lag = 0;
    let mut aic = adf_regression(series, &diffs, 0, common_nobs)?.aic();
    for lag in 1..=max_lag {
        let candidate = adf_regression(series, &diffs, lag, common_nobs)?.aic();
        if candidate < aic {
            used_lag = lag;
            aic = candidate;
        }
    }

    let nobs = diffs.len() - used_lag;
    // The lagged level is the design's last column (see `adf_regression`).
    let statistic = adf_regression(series, &diffs, used_lag, nobs)?.last_t_ratio();
    if !statistic.is_finite() {
        return Err(Error::Numerical(format!(
            "ADF test: the statistic is not finite ({statistic}); the series is degenerate"
        )));
    }

    Ok(AdfResult {
        statistic,
        p_value: mackinnon_p_value(statistic),
        used_lag,
        max_lag,
        nobs,
        critical_values: mackinnon_critical_values(nobs),
        aic,
    })
}

/// The KPSS test (Kwiatkowski et al. 1992) of level stationarity against a unit root, as
/// statsmodels' `kpss(x, regression="c", nlags="auto")` computes it.
///
/// With `e_t = x_t − x̄` and `S_t = Σ_{s≤t} e_s`, the statistic is `η_μ = Σ S_t² / (n² σ̂²)`
/// (Kwiatkowski et al. 1992, eq. 11), where `σ̂²` is the Newey–West long-run variance
/// `(1/n) [Σ e_t² + 2 Σ_{i=1}^{l} (1 − i/(l+1)) Σ_t e_t e_{t−i}]` with Bartlett weights
/// (their eq. 10). The truncation lag `l` is data-dependent (Hobijn et al. 1998, after
/// Newey & West 1994): with `m = ⌊n^{2/9}⌋` and autocovariance sums
/// `s⁰ = γ̂_0 + 2 Σ_{i=1}^{m} γ̂_i`, `s¹ = 2 Σ_{i=1}^{m} i γ̂_i` (`γ̂_i = (1/n) Σ e_t e_{t−i}`),
/// `l = ⌊1.1447 ((s¹/s⁰)²)^{1/3} n^{1/3}⌋`, capped at `n − 1`.
///
/// The p-value is interpolated linearly in [`KPSS_LEVEL_TABLE`] and clipped to
/// `[0.01, 0.10]`; [`KpssResult::clipped`] says when it was.
///
/// # Errors
///
/// [`Error::Numerical`] when the series has fewer than 3 values, contains a non-finite value,
/// is constant, or when the bandwidth or the long-run variance comes out degenerate.
pub fn kpss(series: &[f64]) -> Result<KpssResult> {
    check_finite("KPSS", series)?;
    let n = series.len();
    if n < 3 {
        return Err(Error::Numerical(format!(
            "KPSS test: the series has {n} values; at least 3 are needed"
        )));
    }
    check_not_constant("KPSS", series)?;

    let mean = series.iter().sum::<f64>() / n as f64;
    let resid: Vec<f64> = series.iter().map(|x| x - mean).collect();

    let lags = hobijn_bandwidth(&resid)?.min(n - 1);

    // Kwiatkowski et al. (1992), eq. (11): partial sums of the residuals.
    let mut partial_sum = 0.0;
    let mut sum_sq_partial = 0.0;
    for e in &resid {
        partial_sum += e;
        sum_sq_partial += partial_sum * partial_sum;
    }
    let eta = sum_sq_partial / (n as f64 * n as f64);

    let long_run_variance = newey_west_variance(&resid, lags);
    if !(long_run_variance > 0.0 && long_run_variance.is_finite()) {
        return Err(Error::Numerical(format!(
            "KPSS test: the long-run variance is {long_run_variance}; the series is degenerate"
        )));
    }
    let statistic = eta / long_run_variance;
    let (p_value, clipped) = kpss_p_value(statistic);

    Ok(KpssResult {
        statistic,
        p_value,
        clipped,
        lags,
        nobs: n,
    })
}

fn check_finite(test: &str, series: &[f64]) -> Result<()> {
    match series.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(Error::Numerical(format!(
            "{test} test: value {i} of the series is {}; drop missing values before testing",
            series[i]
        ))),
        None => Ok(()),
    }
}

fn check_not_constant(test: &str, series: &[f64]) -> Result<()> {
    if series.iter().all(|x| *x == series[0]) {
        return Err(Error::Numerical(format!(
            "{test} test: the series is constant"
        )));
    }
    Ok(())
}

/// Schwert's (1989) maximum lag `⌈12 (n/100)^{1/4}⌉`.
fn schwert_max_lag(n: usize) -> usize {
    (12.0 * (n as f64 / 100.0).powf(0.25)).ceil() as usize
}

/// An ordinary least-squares fit by Householder QR.
struct OlsFit {
    coefficients: Col<f64>,
    /// The diagonal of `R` in `X = QR`.
    r_diagonal: Vec<f64>,
    ssr: f64,
    nobs: usize,
}

impl OlsFit {
    /// The Gaussian-likelihood AIC, `−2 log L + 2k` with
    /// `log L = −(n/2)(log 2π + log(SSR/n) + 1)`.
    fn aic(&self) -> f64 {
        let n = self.nobs as f64;
        let k = self.coefficients.nrows() as f64;
        n * ((2.0 * std::f64::consts::PI).ln() + (self.ssr / n).ln() + 1.0) + 2.0 * k
    }

    /// The t-ratio of the design's last coefficient. With `X = QR`, `(XᵀX)⁻¹ = R⁻¹R⁻ᵀ`, whose
    /// last diagonal entry is `1/R_kk²`, so the standard error is `σ̂ / |R_kk|`.
    fn last_t_ratio(&self) -> f64 {
        let k = self.r_diagonal.len();
        let sigma = (self.ssr / (self.nobs - k) as f64).sqrt();
        self.coefficients[k - 1] * self.r_diagonal[k - 1].abs() / sigma
    }
}

/// Fits the ADF regression with `lag` lagged differences on the last `nobs` differences.
///
/// Columns are `[1, Δx_{t−1}, …, Δx_{t−lag}, x_{t−1}]`: the lagged level goes last so that its
/// standard error comes straight from the last diagonal entry of `R`.
fn adf_regression(series: &[f64], diffs: &[f64], lag: usize, nobs: usize) -> Result<OlsFit> {
    let start = diffs.len() - nobs;
    let k = lag + 2;
    if nobs <= k {
        return Err(Error::Numerical(format!(
            "ADF test: {nobs} observations cannot fit a regression with {k} coefficients"
        )));
    }
    // Row r is the difference Δx at index t = start + r, i.e. x[t+1] − x[t]; its lagged
    // level is x[t] and its i-th lagged difference is diffs[t − i].
    let design = Mat::from_fn(nobs, k, |r, c| {
        let t = start + r;
        match c {
            0 => 1.0,
            c if c == k - 1 => series[t],
            i => diffs[t - i],
        }
    });
    let target = Col::from_fn(nobs, |r| diffs[start + r]);
    ols(&design, &target)
}

fn ols(design: &Mat<f64>, target: &Col<f64>) -> Result<OlsFit> {
    let qr = design.qr();
    let r = qr.thin_R();
    let k = design.ncols();
    let r_diagonal: Vec<f64> = (0..k).map(|j| r[(j, j)]).collect();
    for (j, r_jj) in r_diagonal.iter().enumerate() {
        let column_norm = design.col(j).norm_l2();
        if r_jj.abs() <= COLLINEARITY_TOLERANCE * column_norm {
            return Err(Error::Numerical(format!(
                "ADF test: regressor {j} of {k} is collinear with the others; the series is \
                 degenerate (e.g. exactly linear or periodic)"
            )));
        }
    }
    let coefficients = qr.solve_lstsq(target);
    // The residuals are formed explicitly rather than from the tail of Qᵀy, which keeps SSR
    // accurate when the fit is close.
    let fitted = design * &coefficients;
    let ssr = (target - &fitted).squared_norm_l2();
    if !(ssr > 0.0 && ssr.is_finite()) {
        return Err(Error::Numerical(format!(
            "ADF test: the regression's residual sum of squares is {ssr}; the series is degenerate"
        )));
    }
    Ok(OlsFit {
        coefficients,
        r_diagonal,
        ssr,
        nobs: design.nrows(),
    })
}

/// The standard normal distribution function.
fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// Evaluates `c[0] + c[1] x + c[2] x² + …` by Horner's rule.
fn polynomial(coefficients: &[f64], x: f64) -> f64 {
    coefficients.iter().rev().fold(0.0, |acc, c| acc * x + c)
}

/// MacKinnon's (1994) approximate asymptotic p-value of the ADF τ statistic ("c", N = 1).
fn mackinnon_p_value(tau: f64) -> f64 {
    if tau > TAU_MAX {
        1.0
    } else if tau < TAU_MIN {
        0.0
    } else if tau <= TAU_STAR {
        normal_cdf(polynomial(&TAU_SMALL_P, tau))
    } else {
        normal_cdf(polynomial(&TAU_LARGE_P, tau))
    }
}

/// MacKinnon's (2010) critical values for a regression on `nobs` observations.
fn mackinnon_critical_values(nobs: usize) -> AdfCriticalValues {
    let inv = 1.0 / nobs as f64;
    let [one, five, ten] = TAU_CRITICAL_2010.map(|c| polynomial(&c, inv));
    AdfCriticalValues {
        one_percent: one,
        five_percent: five,
        ten_percent: ten,
    }
}

/// The sample autocovariance sum `Σ_t e_t e_{t−i}` (not yet divided by n).
fn lagged_product(resid: &[f64], i: usize) -> f64 {
    resid[i..].iter().zip(resid).map(|(a, b)| a * b).sum()
}

/// The Hobijn et al. (1998) data-dependent Bartlett bandwidth, as statsmodels implements it.
fn hobijn_bandwidth(resid: &[f64]) -> Result<usize> {
    let n = resid.len() as f64;
    let cov_lags = n.powf(2.0 / 9.0) as usize;
    let mut s0 = lagged_product(resid, 0) / n;
    let mut s1 = 0.0;
    // n^{2/9} < n for n ≥ 2, so every lag leaves a non-empty product.
    for i in 1..=cov_lags {
        let gamma2 = lagged_product(resid, i) / (n / 2.0);
        s0 += gamma2;
        s1 += i as f64 * gamma2;
    }
    let ratio = s1 / s0;
    let bandwidth = 1.1447 * (ratio * ratio).powf(1.0 / 3.0) * n.powf(1.0 / 3.0);
    if !bandwidth.is_finite() {
        return Err(Error::Numerical(format!(
            "KPSS test: the automatic bandwidth is not finite (s0 = {s0}, s1 = {s1}); the series \
             is degenerate"
        )));
    }
    // Truncation toward zero, as Python's int().
    Ok(bandwidth as usize)
}

/// The Newey–West long-run variance with Bartlett weights `1 − i/(lags+1)` (eq. 10 of
/// Kwiatkowski et al. 1992).
fn newey_west_variance(resid: &[f64], lags: usize) -> f64 {
    let n = resid.len() as f64;
    let mut s = lagged_product(resid, 0);
    for i in 1..=lags {
        let weight = 1.0 - i as f64 / (lags as f64 + 1.0);
        s += 2.0 * weight * lagged_product(resid, i);
    }
    s / n
}

/// The KPSS p-value by linear interpolation in [`KPSS_LEVEL_TABLE`], clipped to its ends.
fn kpss_p_value(statistic: f64) -> (f64, Option<PValueClip>) {
    let (first_crit, first_p) = KPSS_LEVEL_TABLE[0];
    let (last_crit, last_p) = KPSS_LEVEL_TABLE[KPSS_LEVEL_TABLE.len() - 1];
    if statistic <= first_crit {
        return (first_p, Some(PValueClip::AtLeast));
    }
    if statistic >= last_crit {
        return (last_p, Some(PValueClip::AtMost));
    }
    let p = KPSS_LEVEL_TABLE
        .windows(2)
        .find(|w| statistic <= w[1].0)
        .map_or(last_p, |w| {
            let ((c0, p0), (c1, p1)) = (w[0], w[1]);
            p0 + (statistic - c0) * (p1 - p0) / (c1 - c0)
        });
    (p, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: f64, expected: f64, tol: f64) {
        assert!(
            (actual - expected).abs() <= tol,
            "{actual} differs from {expected} by more than {tol}"
        );
    }

    #[test]
    fn adf_on_four_values_matches_the_hand_regression() {
        // x = [0, 1, 3, 2]: max_lag = min(6, 4/2 − 2) = 0, so the regression is
        // Δx = α + ρ x_{t−1} on y = [1, 2, −1], x = [0, 1, 3]. By hand: Sxx = 14/3,
        // Sxy = −11/3, ρ = −11/14, SSR = 25/14 on 1 degree of freedom, se(ρ) = √75/14,
        // τ = −11/√75.
        let result = adf(&[0.0, 1.0, 3.0, 2.0]).unwrap();
        assert_close(result.statistic, -11.0 / 75f64.sqrt(), 1e-12);
        assert_eq!(result.used_lag, 0);
        assert_eq!(result.max_lag, 0);
        assert_eq!(result.nobs, 3);
        let aic = 3.0 * ((2.0 * std::f64::consts::PI).ln() + (25.0f64 / 42.0).ln() + 1.0) + 4.0;
        assert_close(result.aic, aic, 1e-12);
        // statsmodels prints P-value: 0.64271 for this series.
        assert_close(result.p_value, 0.64271, 1e-5);
    }

    #[test]
    fn mackinnon_p_value_is_one_and_zero_beyond_the_surface() {
        assert_eq!(mackinnon_p_value(2.75), 1.0);
        assert_eq!(mackinnon_p_value(-18.84), 0.0);
    }

    #[test]
    fn mackinnon_p_value_small_p_surface_by_hand() {
        // τ = −2: 2.1659 − 2·1.4412 + 4·0.038269 = −0.563424, Φ(−0.563424) = 0.286573.
        assert_close(mackinnon_p_value(-2.0), 0.286_573_1, 1e-6);
    }

    #[test]
    fn mackinnon_surfaces_meet_at_tau_star() {
        // The two published surfaces are fitted separately; at τ* they agree to ~1e-3.
        let below = mackinnon_p_value(TAU_STAR);
        let above = mackinnon_p_value(TAU_STAR + 1e-12);
        assert_close(below, above, 1e-3);
    }

    #[test]
    fn mackinnon_critical_values_by_hand() {
        // β∞ + β1/100 + β2/100² + β3/100³ from MacKinnon (2010), Table 2, "c", N = 1.
        let cv = mackinnon_critical_values(100);
        assert_close(
            cv.one_percent,
            -3.43035 - 0.065393 - 0.0016786 - 0.000079433,
            1e-12,
        );
        assert_close(
            cv.five_percent,
            -2.86154 - 0.028903 - 0.0004234 - 0.00004004,
            1e-12,
        );
        assert_close(cv.ten_percent, -2.56677 - 0.015384 - 0.0002809, 1e-12);
    }

    #[test]
    fn kpss_of_an_alternating_series_by_hand() {
        // x = [0, 1, 0, 1]: e = ±1/2, Σe² = 1, Σ e_t e_{t−1} = −3/4, Σ e_t e_{t−2} = 1/2,
        // Σ e_t e_{t−3} = −1/4. Bandwidth: m = ⌊4^{2/9}⌋ = 1, s⁰ = 1/4 − 3/8 = −1/8,
        // s¹ = −3/8, l = ⌊1.1447 (9 · 4)^{1/3}⌋ = ⌊3.78⌋ = 3. Long-run variance:
        // (1 + 2(−3/4·3/4 + 1/2·1/2 − 1/4·1/4)) / 4 = 1/16. Partial sums [−1/2, 0, −1/2, 0]
        // give η = (1/2)/16, so the statistic is 1/2 and
        // p = 0.05 + (0.5 − 0.463)(0.025 − 0.05)/(0.574 − 0.463) = 0.041667.
        let result = kpss(&[0.0, 1.0, 0.0, 1.0]).unwrap();
        assert_eq!(result.lags, 3);
        assert_close(result.statistic, 0.5, 1e-12);
        assert_close(result.p_value, 0.05 - 0.037 * 0.025 / 0.111, 1e-12);
        assert_eq!(result.clipped, None);
        assert_eq!(result.nobs, 4);
    }

    #[test]
    fn kpss_of_a_short_ramp_by_hand() {
        // x = [1, 2, 3]: e = [−1, 0, 1], the lag-1 product is 0, so the bandwidth is 0;
        // σ̂² = 2/3, partial sums [−1, −1, 0] give η = 2/9, statistic 1/3 < 0.347.
        let result = kpss(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(result.lags, 0);
        assert_close(result.statistic, 1.0 / 3.0, 1e-12);
        assert_eq!(result.p_value, 0.10);
        assert_eq!(result.clipped, Some(PValueClip::AtLeast));
    }

    #[test]
    fn kpss_table_interpolates_linearly() {
        // Midpoints of two table intervals: (0.347 + 0.463)/2 → (0.10 + 0.05)/2 and
        // (0.574 + 0.739)/2 → (0.025 + 0.01)/2.
        let (p, clip) = kpss_p_value(0.405);
        assert_close(p, 0.075, 1e-12);
        assert_eq!(clip, None);
        let (p, clip) = kpss_p_value(0.6565);
        assert_close(p, 0.0175, 1e-12);
        assert_eq!(clip, None);
        // On a knot the table's own p-value comes back.
        assert_close(kpss_p_value(0.463).0, 0.05, 1e-12);
    }

    #[test]
    fn kpss_table_clips_at_both_ends() {
        assert_eq!(kpss_p_value(0.1), (0.10, Some(PValueClip::AtLeast)));
        assert_eq!(kpss_p_value(0.347), (0.10, Some(PValueClip::AtLeast)));
        assert_eq!(kpss_p_value(0.739), (0.01, Some(PValueClip::AtMost)));
        assert_eq!(kpss_p_value(5.0), (0.01, Some(PValueClip::AtMost)));
    }

    #[test]
    fn missing_values_are_refused() {
        let series = [1.0, 2.0, f64::NAN, 0.5, 1.5, 2.5];
        for err in [adf(&series).unwrap_err(), kpss(&series).unwrap_err()] {
            assert!(
                matches!(err, Error::Numerical(ref m) if m.contains("value 2")),
                "{err}"
            );
        }
    }

    #[test]
    fn short_and_constant_series_are_refused() {
        assert!(matches!(adf(&[1.0, 2.0, 0.0]), Err(Error::Numerical(_))));
        assert!(matches!(kpss(&[1.0, 2.0]), Err(Error::Numerical(_))));
        let constant = [3.0; 50];
        assert!(matches!(adf(&constant), Err(Error::Numerical(m)) if m.contains("constant")));
        assert!(matches!(kpss(&constant), Err(Error::Numerical(m)) if m.contains("constant")));
    }

    #[test]
    fn an_exactly_linear_series_is_refused_by_adf() {
        // Every difference is 1: the lagged differences duplicate the constant.
        let line: Vec<f64> = (0..40).map(f64::from).collect();
        assert!(matches!(adf(&line), Err(Error::Numerical(_))));
    }

    #[test]
    fn schwert_rule_at_the_fixture_lengths() {
        // ⌈12 (n/100)^{1/4}⌉: 0.6^{1/4} = 0.8801 → 11; 5^{1/4} = 1.4953 → 18;
        // 15^{1/4} = 1.9680 → 24; 16^{1/4} = 2 exactly → 24.
        assert_eq!(schwert_max_lag(60), 11);
        assert_eq!(schwert_max_lag(500), 18);
        assert_eq!(schwert_max_lag(1500), 24);
        assert_eq!(schwert_max_lag(1600), 24);
    }
}
