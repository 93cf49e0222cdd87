//! Uncertainty of test metrics under serial dependence (pitfall P9): the autocorrelation of a
//! series, its integrated autocorrelation time and effective sample size, a moving-block
//! bootstrap of any statistic of the test rows, and the Diebold–Mariano test of two forecasts'
//! losses on the same rows.
//!
//! - ACF: `ρ_k = Σ_{t<n−k}(x_t − x̄)(x_{t+k} − x̄) / Σ_t (x_t − x̄)²` (the usual estimator, as
//!   `statsmodels.tsa.stattools.acf` with `fft=False`).
//! - Integrated autocorrelation time `τ = 1 + 2 Σ_{k=1}^{M} ρ_k` with Sokal's automatic window:
//!   M is the smallest lag with `M ≥ c·τ(M)`, `c = 5` ([`SOKAL_WINDOW_FACTOR`]), capped at `⌊n/2⌋`
//!   (then τ is τ(⌊n/2⌋)); τ is at least 1, so an anti-correlated series counts as independent
//!   rather than as more than n samples. For an AR(1) process τ = (1 + φ)/(1 − φ).
//! - Effective sample size `N_eff = n/τ`.
//! - Block length of the bootstrap `⌈c·τ⌉` with the same `c = 5` (at least 1, at most n). The
//!   bootstrap's variance of a mean is the autocovariance sum with Bartlett weights
//!   `1 − |k|/ℓ` up to lag ℓ (the block length), so ℓ must reach as far as the window that
//!   captures the autocorrelation; for an AR(1) series its relative bias is about `−τ/(2ℓ)`,
//!   −50 % at ℓ = τ and −10 % at ℓ = 5τ. On AR(1) series with φ = 0.8 and n = 400 (τ = 9) the
//!   95 % percentile interval of the mean covered the true mean in about 83 % of replications
//!   with ℓ = ⌈τ⌉ and about 91 % with ℓ = ⌈5τ⌉ (a simulation of 300 replications, Monte-Carlo
//!   standard error 0.02; the integration test `uncertainty` repeats it).
//! - The bootstrap refuses a block longer than half the rows: with fewer than two blocks every
//!   resample is nearly a rotation of the series, and a rotation leaves the mean, R², MSE and MAE
//!   unchanged, so the interval would shrink to the point estimate instead of widening.
//! - Moving-block bootstrap (Künsch 1989) with circular blocks (Politis & Romano 1992): each
//!   resample concatenates blocks of `block_length` consecutive rows, each starting at a row
//!   drawn uniformly from `0..n` and wrapping from the last row to the first, until it holds n
//!   rows (the last block is cut). Rows are in time order. Resample `i` draws from its own
//!   ChaCha8 stream (key from [`crate::rng::stream`]`(seed, "eval.bootstrap")`, stream number
//!   `i`), so the result is the same for any number of threads.
//! - Percentile interval at level `ℓ` from B resampled values sorted as `v_1 ≤ … ≤ v_B`:
//!   `low = v_j` with `j = ⌊(1 − ℓ)/2 · B⌋` and `high = v_k` with `k = ⌈(1 + ℓ)/2 · B⌉`, j raised
//!   to 1 and k lowered to B where they fall outside; a product within 10⁻⁹ of an integer is
//!   taken as that integer (so B = 1000, ℓ = 0.95 gives v_25 and v_975).
//! - Diebold & Mariano (1995): `d_t = L_model,t − L_reference,t`, `γ_j = (1/n) Σ_{t=j}^{n−1}
//!   (d_t − d̄)(d_{t−j} − d̄)`, the Newey–West variance `V̂ = γ_0 + 2 Σ_{j=1}^{lag} w_j γ_j` with
//!   Bartlett weights `w_j = 1 − j/(lag + 1)`, statistic `DM = d̄ / √(V̂/n)` and the two-sided
//!   p-value `2(1 − Φ(|DM|))` from the standard normal. This equals the HAC t-statistic of the
//!   mean of d from statsmodels' `OLS(d, 1).fit(cov_type="HAC", cov_kwds={"maxlags": lag,
//!   "use_correction": False})`. Bartlett weights keep V̂ ≥ 0 in exact arithmetic; should
//!   rounding give V̂ ≤ 0, γ_0 is used instead. A negative statistic means the model's loss is
//!   the lower.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::{Error, Result};

/// The factor `c` of Sokal's automatic window `M ≥ c·τ(M)`.
pub const SOKAL_WINDOW_FACTOR: f64 = 5.0;

/// The name of the random stream the bootstrap draws from (see [`crate::rng::stream`]).
pub const BOOTSTRAP_STREAM: &str = "eval.bootstrap";

/// A series checked for the ACF: at least 3 finite values, not all equal; kept centred.
struct Centred {
    deviations: Vec<f64>,
    sum_of_squares: f64,
}

impl Centred {
    fn new(x: &[f64]) -> Result<Centred> {
        let n = x.len();
        if n < 3 {
            return Err(Error::Numerical(format!(
                "autocorrelation needs at least 3 values, got {n}"
            )));
        }
        if let Some(t) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::Numerical(format!(
                "autocorrelation needs finite values, but value {t} is {}",
                x[t]
            )));
        }
        if x.iter().all(|&v| v == x[0]) {
            return Err(Error::Numerical(format!(
                "autocorrelation is undefined: all {n} values equal {}",
                x[0]
            )));
        }
        let mean = x.iter().sum::<f64>() / n as f64;
        let deviations: Vec<f64> = x.iter().map(|v| v - mean).collect();
        let sum_of_squares = deviations.iter().map(|d| d * d).sum();
        Ok(Centred {
            deviations,
            sum_of_squares,
        })
    }

    fn len(&self) -> usize {
        self.deviations.len()
    }

    /// ρ_k, for k < n.
    fn rho(&self, k: usize) -> f64 {
        let d = &self.deviations;
        d.iter().zip(&d[k..]).map(|(a, b)| a * b).sum::<f64>() / self.sum_of_squares
    }
}

/// ρ_0, …, ρ_max_lag of `x` (ρ_0 = 1). An [`Error::Numerical`] for fewer than 3 values, a value
/// that is not finite, a constant series, or `max_lag ≥ n`.
pub fn autocorrelation(x: &[f64], max_lag: usize) -> Result<Vec<f64>> {
    let centred = Centred::new(x)?;
    let n = centred.len();
    if max_lag >= n {
        return Err(Error::Numerical(format!(
            "autocorrelation up to lag {max_lag} needs more than {max_lag} values, got {n}"
        )));
    }
    Ok((0..=max_lag).map(|k| centred.rho(k)).collect())
}

/// The integrated autocorrelation time τ of `x` with Sokal's automatic window (module docs),
/// at least 1. Costs O(n·M). The same refusals as [`autocorrelation`].
pub fn integrated_autocorrelation_time(x: &[f64]) -> Result<f64> {
    let centred = Centred::new(x)?;
    let mut tau = 1.0;
    for m in 1..=centred.len() / 2 {
        tau += 2.0 * centred.rho(m);
        if m as f64 >= SOKAL_WINDOW_FACTOR * tau {
            break;
        }
    }
    Ok(tau.max(1.0))
}

/// `n/τ`: the number of independent values worth as much as the series for estimating its mean.
pub fn effective_sample_size(x: &[f64]) -> Result<f64> {
    Ok(x.len() as f64 / integrated_autocorrelation_time(x)?)
}

/// `⌈c·τ⌉` with `c` = [`SOKAL_WINDOW_FACTOR`], between 1 and n: the bootstrap block length for
/// `x` (module docs).
pub fn block_length(x: &[f64]) -> Result<usize> {
    let tau = integrated_autocorrelation_time(x)?;
    Ok(((SOKAL_WINDOW_FACTOR * tau).ceil() as usize).clamp(1, x.len()))
}

/// How to resample: the number of resamples, the block length, the interval's level and the
/// seed of the random stream.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BootstrapSettings {
    /// The number of resamples B (at least 1).
    pub resamples: usize,
    /// Consecutive rows per block, from 1 to half the rows (see [`block_length`]).
    pub block_length: usize,
    /// The interval's confidence level, strictly between 0 and 1 (0.95).
    pub level: f64,
    /// The experiment seed; the stream is [`BOOTSTRAP_STREAM`].
    pub seed: u64,
}

impl BootstrapSettings {
    fn check(&self, n: usize) -> Result<()> {
        if self.resamples == 0 {
            return Err(Error::Numerical(
                "the bootstrap needs at least 1 resample, got 0".to_string(),
            ));
        }
        if self.block_length == 0 {
            return Err(Error::Numerical(
                "the bootstrap block length must be at least 1, got 0".to_string(),
            ));
        }
        if 2 * self.block_length > n {
            return Err(Error::Numerical(format!(
                "a bootstrap interval needs at least two blocks: block length {} is more than \
                 half of the {n} rows (the series has too few independent stretches for an \
                 interval)",
                self.block_length
            )));
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(Error::Numerical(format!(
                "the bootstrap interval's level must lie strictly between 0 and 1, got {}",
                self.level
            )));
        }
        Ok(())
    }
}

/// A confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// The lower end.
    pub low: f64,
    /// The upper end.
    pub high: f64,
}

/// Bootstrap intervals of the regression metrics of one set of predictions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MetricIntervals {
    /// R², over the resamples whose labels are not constant.
    pub r2: Interval,
    /// Mean squared error.
    pub mse: Interval,
    /// Mean absolute error.
    pub mae: Interval,
    /// Resamples left out of the R² interval because all their labels are equal (R² undefined).
    pub r2_constant_resamples: usize,
}

/// Moving-block bootstrap intervals of R², MSE and MAE of `predicted` against `truth` (rows in
/// time order), each metric recomputed on each resample, R² with the resample's own mean.
/// An [`Error::Numerical`] for series of different lengths, a value that is not finite, settings
/// out of range (a block longer than half the rows included), or when more than half of the
/// resamples have constant labels.
pub fn bootstrap_metrics(
    truth: &[f64],
    predicted: &[f64],
    settings: &BootstrapSettings,
) -> Result<MetricIntervals> {
    let n = truth.len();
    if predicted.len() != n {
        return Err(Error::Numerical(format!(
            "bootstrapped metrics need one prediction per label, got {n} labels and {} \
             predictions",
            predicted.len()
        )));
    }
    if let Some(t) = (0..n).find(|&t| !(truth[t].is_finite() && predicted[t].is_finite())) {
        return Err(Error::Numerical(format!(
            "bootstrapped metrics need finite values, but row {t} has label {} and prediction {}",
            truth[t], predicted[t]
        )));
    }
    let values = resample_map(n, settings, |rows| metrics_of(truth, predicted, rows))?;
    let r2: Vec<f64> = values.iter().filter_map(|v| v.0).collect();
    let constant = values.len() - r2.len();
    if 2 * constant > values.len() {
        return Err(Error::Numerical(format!(
            "R² is undefined on {constant} of {} bootstrap resamples (their labels are constant); \
             the series is too short or too flat for block length {}",
            values.len(),
            settings.block_length
        )));
    }
    let mse: Vec<f64> = values.iter().map(|v| v.1).collect();
    let mae: Vec<f64> = values.iter().map(|v| v.2).collect();
    Ok(MetricIntervals {
        r2: percentile_interval(r2, settings.level),
        mse: percentile_interval(mse, settings.level),
        mae: percentile_interval(mae, settings.level),
        r2_constant_resamples: constant,
    })
}

/// The percentile interval of `statistic` over moving-block resamples of the rows `0..n`: the
/// statistic gets each resample's row indices (n of them, in resampled order). An
/// [`Error::Numerical`] for settings out of range (a block longer than half the rows included)
/// or a statistic that is not finite on some resample.
pub fn bootstrap_interval(
    n: usize,
    settings: &BootstrapSettings,
    statistic: impl Fn(&[usize]) -> f64 + Sync,
) -> Result<Interval> {
    let values = resample_map(n, settings, statistic)?;
    let bad = values.iter().filter(|v| !v.is_finite()).count();
    if bad > 0 {
        return Err(Error::Numerical(format!(
            "the bootstrapped statistic is not a finite number on {bad} of {} resamples",
            values.len()
        )));
    }
    Ok(percentile_interval(values, settings.level))
}

/// `f` of every resample's row indices, in resample order. One index buffer per worker.
fn resample_map<T: Send>(
    n: usize,
    settings: &BootstrapSettings,
    f: impl Fn(&[usize]) -> T + Sync,
) -> Result<Vec<T>> {
    settings.check(n)?;
    let base = crate::rng::stream(settings.seed, BOOTSTRAP_STREAM);
    let block = settings.block_length;
    Ok((0..settings.resamples)
        .into_par_iter()
        .map_init(
            || vec![0usize; n],
            |rows, i| {
                let mut rng: ChaCha8Rng = base.clone();
                rng.set_stream(i as u64);
                for chunk in rows.chunks_mut(block) {
                    let start = rng.random_range(0..n);
                    for (offset, row) in chunk.iter_mut().enumerate() {
                        *row = (start + offset) % n;
                    }
                }
                f(rows)
            },
        )
        .collect())
}

/// (R² or None for constant labels, MSE, MAE) of the rows `rows`.
fn metrics_of(truth: &[f64], predicted: &[f64], rows: &[usize]) -> (Option<f64>, f64, f64) {
    let n = rows.len() as f64;
    let first = truth[rows[0]];
    let (mut sum, mut sse, mut sae, mut constant) = (0.0, 0.0, 0.0, true);
    for &r in rows {
        let (y, e) = (truth[r], truth[r] - predicted[r]);
        sum += y;
        sse += e * e;
        sae += e.abs();
        constant &= y == first;
    }
    let r2 = (!constant).then(|| {
        let mean = sum / n;
        let sst: f64 = rows.iter().map(|&r| (truth[r] - mean).powi(2)).sum();
        1.0 - sse / sst
    });
    (r2, sse / n, sae / n)
}

/// The percentile interval of finite `values` (module docs); `values` must not be empty.
fn percentile_interval(mut values: Vec<f64>, level: f64) -> Interval {
    values.sort_by(f64::total_cmp);
    let b = values.len();
    let rank = |p: f64, round: fn(f64) -> f64| {
        let x = p * b as f64;
        let nearest = x.round();
        let r = if (x - nearest).abs() < 1e-9 {
            nearest
        } else {
            round(x)
        };
        (r as usize).clamp(1, b)
    };
    Interval {
        low: values[rank((1.0 - level) / 2.0, f64::floor) - 1],
        high: values[rank((1.0 + level) / 2.0, f64::ceil) - 1],
    }
}

/// The Diebold–Mariano comparison of a model's losses with a reference's on the same rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DieboldMariano {
    /// `d̄ / √(V̂/n)`; negative when the model's mean loss is the lower.
    pub statistic: f64,
    /// Two-sided p-value from the standard normal.
    pub p_value: f64,
    /// `d̄`, the mean of `loss_model − loss_reference`.
    pub mean_differential: f64,
    /// The Newey–West truncation lag.
    pub lag: usize,
}

/// The Diebold–Mariano test of `loss_model` against `loss_reference` (row by row, in time
/// order) with a Newey–West variance truncated at `lag` (module docs). Identical loss series give
/// statistic 0 and p-value 1. An [`Error::Numerical`] for series of different lengths or fewer
/// than 2 rows, a value that is not finite, `lag ≥ n`, or a loss differential that is the same
/// non-zero number on every row (its variance is zero and the statistic infinite).
pub fn diebold_mariano(
    loss_model: &[f64],
    loss_reference: &[f64],
    lag: usize,
) -> Result<DieboldMariano> {
    let n = loss_model.len();
    if n < 2 || loss_reference.len() != n {
        return Err(Error::Numerical(format!(
            "the Diebold–Mariano test needs two loss series of the same length, at least 2, got \
             {n} and {}",
            loss_reference.len()
        )));
    }
    if let Some(t) = (0..n).find(|&t| !(loss_model[t].is_finite() && loss_reference[t].is_finite()))
    {
        return Err(Error::Numerical(format!(
            "the Diebold–Mariano test needs finite losses, but row {t} has {} and {}",
            loss_model[t], loss_reference[t]
        )));
    }
    if lag >= n {
        return Err(Error::Numerical(format!(
            "the Diebold–Mariano lag must be below the number of rows {n}, got {lag}"
        )));
    }
    let d: Vec<f64> = loss_model
        .iter()
        .zip(loss_reference)
        .map(|(m, r)| m - r)
        .collect();
    if d.iter().all(|&v| v == d[0]) {
        if d[0] == 0.0 {
            return Ok(DieboldMariano {
                statistic: 0.0,
                p_value: 1.0,
                mean_differential: 0.0,
                lag,
            });
        }
        return Err(Error::Numerical(format!(
            "the Diebold–Mariano test is undefined: the loss differential is {} on every one of \
             the {n} rows, so its variance is zero",
            d[0]
        )));
    }
    let mean = d.iter().sum::<f64>() / n as f64;
    let dev: Vec<f64> = d.iter().map(|v| v - mean).collect();
    let gamma = |j: usize| dev.iter().zip(&dev[j..]).map(|(a, b)| a * b).sum::<f64>() / n as f64;
    let gamma0 = gamma(0);
    let hac = gamma0
        + 2.0
            * (1..=lag)
                .map(|j| (1.0 - j as f64 / (lag as f64 + 1.0)) * gamma(j))
                .sum::<f64>();
    let variance = if hac > 0.0 { hac } else { gamma0 };
    let statistic = mean / (variance / n as f64).sqrt();
    Ok(DieboldMariano {
        statistic,
        p_value: libm::erfc(statistic.abs() / std::f64::consts::SQRT_2),
        mean_differential: mean,
        lag,
    })
}

/// The Newey–West rule of thumb for the truncation lag, `⌊4 (n/100)^{2/9}⌋`.
pub fn newey_west_lag(n: usize) -> usize {
    (4.0 * (n as f64 / 100.0).powf(2.0 / 9.0)).floor() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(resamples: usize, block_length: usize) -> BootstrapSettings {
        BootstrapSettings {
            resamples,
            block_length,
            level: 0.95,
            seed: 11,
        }
    }

    #[test]
    fn acf_and_tau_by_hand() {
        // x = 1, 2, 3, 4, 5: deviations −2, −1, 0, 1, 2, Σ = 10. Lag 1: 2 + 0 + 0 + 2 = 4,
        // ρ_1 = 0.4; lag 2: 0 − 1 + 0 = −1, ρ_2 = −0.1.
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let rho = autocorrelation(&x, 2).unwrap();
        for (got, want) in rho.iter().zip([1.0, 0.4, -0.1]) {
            assert!((got - want).abs() < 1e-15, "{rho:?}");
        }
        // Window: τ(1) = 1.8 > 1/5, τ(2) = 1.6 > 2/5, capped at M = ⌊5/2⌋ = 2: τ = 1.6.
        let tau = integrated_autocorrelation_time(&x).unwrap();
        assert!((tau - 1.6).abs() < 1e-15);
        assert!((effective_sample_size(&x).unwrap() - 5.0 / 1.6).abs() < 1e-14);
        // ⌈5 · 1.6⌉ = 8, cut to the 5 values.
        assert_eq!(block_length(&x).unwrap(), 5);
    }

    #[test]
    fn percentile_ranks_follow_the_stated_rule() {
        let values = |b: usize| (1..=b).rev().map(|v| v as f64).collect::<Vec<_>>();
        // B = 1000, 95 %: ⌊25⌋ and ⌈975⌉.
        assert_eq!(
            percentile_interval(values(1000), 0.95),
            Interval {
                low: 25.0,
                high: 975.0
            }
        );
        // B = 10, 90 %: ⌊0.5⌋ = 0 raised to 1, ⌈9.5⌉ = 10.
        assert_eq!(
            percentile_interval(values(10), 0.9),
            Interval {
                low: 1.0,
                high: 10.0
            }
        );
        // B = 30, 80 %: ⌊3⌋ = 3, ⌈27⌉ = 27.
        assert_eq!(
            percentile_interval(values(30), 0.8),
            Interval {
                low: 3.0,
                high: 27.0
            }
        );
    }

    #[test]
    fn resamples_are_circular_blocks_of_consecutive_rows() {
        let (n, block) = (10, 3);
        let seen = std::sync::Mutex::new(Vec::new());
        bootstrap_interval(n, &settings(50, block), |rows| {
            seen.lock().unwrap().push(rows.to_vec());
            0.0
        })
        .unwrap();
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), 50);
        for rows in &seen {
            assert_eq!(rows.len(), n);
            for chunk in rows.chunks(block) {
                for pair in chunk.windows(2) {
                    assert_eq!(pair[1], (pair[0] + 1) % n, "{rows:?}");
                }
            }
        }
        // Some block wraps from row 9 to row 0, and not every resample is the same.
        assert!(seen.iter().any(|r| r.windows(2).any(|p| p == [9, 0])));
        assert!(seen.iter().any(|r| r != &seen[0]));
    }

    #[test]
    fn the_interval_does_not_depend_on_the_thread_count() {
        let truth: Vec<f64> = (0..200).map(|t| (t as f64 * 0.1).sin()).collect();
        let predicted: Vec<f64> = truth.iter().map(|y| 0.8 * y + 0.05).collect();
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| bootstrap_metrics(&truth, &predicted, &settings(300, 7)).unwrap())
        };
        let one = run(1);
        assert_eq!(one, run(4));
        let mut other_seed = settings(300, 7);
        other_seed.seed = 12;
        assert_ne!(
            one,
            bootstrap_metrics(&truth, &predicted, &other_seed).unwrap()
        );
    }

    #[test]
    fn exact_and_shifted_predictions_have_point_intervals() {
        // ŷ = y: every resample has MSE = MAE = 0 and R² = 1. ŷ = y + 0.5: MSE 0.25, MAE 0.5.
        let truth: Vec<f64> = (0..40).map(|t| ((t * 7) % 11) as f64).collect();
        let exact = bootstrap_metrics(&truth, &truth, &settings(200, 4)).unwrap();
        assert_eq!(
            exact.mse,
            Interval {
                low: 0.0,
                high: 0.0
            }
        );
        assert_eq!(
            exact.mae,
            Interval {
                low: 0.0,
                high: 0.0
            }
        );
        assert_eq!(
            exact.r2,
            Interval {
                low: 1.0,
                high: 1.0
            }
        );
        let shifted: Vec<f64> = truth.iter().map(|y| y + 0.5).collect();
        let m = bootstrap_metrics(&truth, &shifted, &settings(200, 4)).unwrap();
        assert_eq!(
            m.mse,
            Interval {
                low: 0.25,
                high: 0.25
            }
        );
        assert_eq!(
            m.mae,
            Interval {
                low: 0.5,
                high: 0.5
            }
        );
        assert_eq!(m.r2_constant_resamples, 0);
    }

    #[test]
    fn the_metric_intervals_are_those_of_the_same_resamples() {
        // The MSE interval equals the one bootstrap_interval gives for an MSE written here, on
        // the same seed, and the true MSE lies inside.
        let truth: Vec<f64> = (0..120)
            .map(|t| (t as f64 * 0.2).cos() + 0.01 * t as f64)
            .collect();
        let predicted: Vec<f64> = truth.iter().map(|y| y * 0.9).collect();
        let s = settings(400, 6);
        let m = bootstrap_metrics(&truth, &predicted, &s).unwrap();
        let mse = bootstrap_interval(truth.len(), &s, |rows| {
            rows.iter()
                .map(|&r| (truth[r] - predicted[r]).powi(2))
                .sum::<f64>()
                / rows.len() as f64
        })
        .unwrap();
        assert_eq!(m.mse, mse);
        let full = crate::eval::mse(&truth, &predicted).unwrap();
        assert!(mse.low < full && full < mse.high, "{mse:?} {full}");
    }

    #[test]
    fn hand_worked_diebold_mariano() {
        // Losses (2, 5, 1, 6) and (1, 2, 1, 2): d = (1, 3, 0, 4), d̄ = 2, deviations
        // (−1, 1, −2, 2). γ_0 = (1 + 1 + 4 + 4)/4 = 2.5; γ_1 = (−1 − 2 − 4)/4 = −1.75.
        // Lag 1: w_1 = ½, V̂ = 2.5 − 1.75 = 0.75, DM = 2/√(0.75/4) = 8/√3 = 4.618802153517007,
        // p = 2(1 − Φ(8/√3)) = 3.859616436928437e-06 (scipy.stats.norm.sf).
        // Lag 0: V̂ = 2.5, DM = 2/√(2.5/4) = 2.5298221281347035, p = 0.011412036386001651.
        let (model, reference) = ([2.0, 5.0, 1.0, 6.0], [1.0, 2.0, 1.0, 2.0]);
        let dm = diebold_mariano(&model, &reference, 1).unwrap();
        assert_eq!(dm.lag, 1);
        assert!((dm.mean_differential - 2.0).abs() < 1e-15);
        assert!((dm.statistic - 4.618802153517007).abs() < 1e-12);
        assert!((dm.p_value - 3.859616436928437e-06).abs() < 1e-17);
        let dm0 = diebold_mariano(&model, &reference, 0).unwrap();
        assert!((dm0.statistic - 2.5298221281347035).abs() < 1e-12);
        assert!((dm0.p_value - 0.011412036386001651).abs() < 1e-14);
        // Swapping the roles flips the sign only.
        let swapped = diebold_mariano(&reference, &model, 1).unwrap();
        assert!((swapped.statistic + dm.statistic).abs() < 1e-12);
        assert!((swapped.p_value - dm.p_value).abs() < 1e-18);
    }

    #[test]
    fn identical_losses_give_statistic_zero_and_p_one() {
        let loss = [0.3, 1.2, 0.7];
        let dm = diebold_mariano(&loss, &loss, 1).unwrap();
        assert_eq!((dm.statistic, dm.p_value), (0.0, 1.0));
    }

    #[test]
    fn newey_west_lag_by_hand() {
        // ⌊4 (n/100)^{2/9}⌋: n = 100 → 4; n = 1000 → ⌊4 · 1.668⌋ = 6; n = 10 → ⌊4 · 0.599⌋ = 2.
        assert_eq!(newey_west_lag(100), 4);
        assert_eq!(newey_west_lag(1000), 6);
        assert_eq!(newey_west_lag(10), 2);
    }

    #[test]
    fn a_series_shorter_than_three_values_is_refused() {
        let e = autocorrelation(&[1.0, 2.0], 1).unwrap_err().to_string();
        assert!(e.contains("at least 3 values, got 2"), "{e}");
    }

    #[test]
    fn a_series_with_a_value_that_is_not_finite_is_refused() {
        let e = integrated_autocorrelation_time(&[1.0, f64::NAN, 2.0, 3.0])
            .unwrap_err()
            .to_string();
        assert!(e.contains("value 1 is NaN"), "{e}");
    }

    #[test]
    fn a_constant_series_is_refused() {
        let e = block_length(&[0.1; 5]).unwrap_err().to_string();
        assert!(e.contains("all 5 values equal 0.1"), "{e}");
    }

    #[test]
    fn an_autocorrelation_lag_beyond_the_series_is_refused() {
        let e = autocorrelation(&[1.0, 2.0, 4.0], 3)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("up to lag 3 needs more than 3 values, got 3"),
            "{e}"
        );
    }

    #[test]
    fn a_bootstrap_without_resamples_is_refused() {
        let e = bootstrap_interval(10, &settings(0, 2), |_| 0.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least 1 resample, got 0"), "{e}");
    }

    #[test]
    fn a_bootstrap_block_length_of_zero_is_refused() {
        let e = bootstrap_interval(10, &settings(10, 0), |_| 0.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("block length must be at least 1, got 0"), "{e}");
    }

    #[test]
    fn a_bootstrap_block_longer_than_half_the_rows_is_refused() {
        assert!(bootstrap_interval(10, &settings(10, 5), |_| 0.0).is_ok());
        let e = bootstrap_interval(10, &settings(10, 6), |_| 0.0)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("block length 6 is more than half of the 10 rows"),
            "{e}"
        );
    }

    #[test]
    fn a_bootstrap_level_outside_zero_and_one_is_refused() {
        let mut s = settings(10, 2);
        s.level = 1.0;
        let e = bootstrap_interval(10, &s, |_| 0.0).unwrap_err().to_string();
        assert!(e.contains("strictly between 0 and 1, got 1"), "{e}");
    }

    #[test]
    fn bootstrapped_metrics_of_unequal_lengths_are_refused() {
        let e = bootstrap_metrics(&[1.0, 2.0, 3.0], &[1.0, 2.0], &settings(10, 1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("got 3 labels and 2 predictions"), "{e}");
    }

    #[test]
    fn bootstrapped_metrics_of_a_value_that_is_not_finite_are_refused() {
        let e = bootstrap_metrics(
            &[1.0, 2.0, 3.0, 4.0],
            &[1.0, 2.0, f64::INFINITY, 4.0],
            &settings(10, 1),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("row 2 has label 3 and prediction inf"), "{e}");
    }

    #[test]
    fn bootstrapped_r2_on_mostly_constant_resamples_is_refused() {
        // Constant labels: every resample is constant, R² is undefined on all of them.
        let truth = [2.0; 20];
        let e = bootstrap_metrics(&truth, &[1.0; 20], &settings(50, 2))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("R² is undefined on 50 of 50 bootstrap resamples"),
            "{e}"
        );
    }

    #[test]
    fn a_bootstrapped_statistic_that_is_not_finite_is_refused() {
        let e = bootstrap_interval(10, &settings(20, 2), |rows| {
            if rows[0] == 0 { f64::NAN } else { 1.0 }
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("not a finite number on"), "{e}");
    }

    #[test]
    fn loss_series_of_unequal_lengths_are_refused() {
        let e = diebold_mariano(&[1.0, 2.0, 3.0], &[1.0, 2.0], 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("same length, at least 2, got 3 and 2"), "{e}");
    }

    #[test]
    fn a_loss_that_is_not_finite_is_refused() {
        let e = diebold_mariano(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, 3.0], 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 1 has NaN and 2"), "{e}");
    }

    #[test]
    fn a_diebold_mariano_lag_beyond_the_rows_is_refused() {
        let e = diebold_mariano(&[1.0, 2.0, 3.0], &[2.0, 2.0, 2.0], 3)
            .unwrap_err()
            .to_string();
        assert!(e.contains("below the number of rows 3, got 3"), "{e}");
    }

    #[test]
    fn a_constant_nonzero_loss_differential_is_refused() {
        let e = diebold_mariano(&[1.5, 2.5, 3.5], &[1.0, 2.0, 3.0], 1)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("the loss differential is 0.5 on every one of the 3 rows"),
            "{e}"
        );
    }
}
