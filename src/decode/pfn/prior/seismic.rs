//! The seismicity-flavoured prior: a smooth, autocorrelated daily series, forecast `h` days
//! ahead from what is known on the day, like quakelab's daily tables (`dataset::table`).
//!
//! A task draws:
//!
//! 1. a latent AR(1) series z_t = φ z_{t−1} + √(1 − φ²) ε_t, z_0 and ε_t standard normal, so
//!    that z is stationary with unit variance and lag-k autocorrelation φᵏ; φ uniform in `ar`;
//! 2. the daily series s_t: z_t itself, or, with probability `counts`, daily event counts
//!    s_t ~ Poisson(μ exp(0.7 z_t − 0.245)), a log-normal intensity of mean μ (μ log-uniform in
//!    `count_mean`; 0.245 = 0.7²/2);
//! 3. a horizon h uniform in `horizon`; row r is day t = P + r (P = the longest lag or
//!    window, so every row has its past), and its target is y_r = s_{t+h}. Rows are
//!    consecutive days, the test rows after the training rows.
//!
//! The features of row r: column 0 is s_t, the value on the day (so y_r = x_{r+h,0}); each
//! further column is, with probability `noise_columns`, standard normal noise, else with equal
//! odds a lag s_{t−ℓ} (ℓ uniform in 1..=`max_lag`) or a windowed mean of s over the w days up
//! to t (w uniform in `window`).
//!
//! Scale: the continuous series has unit variance; the counts have mean μ ≤ `count_mean[1]`.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};
use serde::{Deserialize, Serialize};

use super::{
    PriorKind, PriorTask, check_count_range, check_probability, check_range, draw_n_train,
    log_uniform, task_from_f64, uniform,
};
use crate::{Error, Result};

/// The standard deviation of the log-intensity of the count series.
const LOG_RATE_SD: f64 = 0.7;

/// Settings of [`SeismicPrior`] (`[pfn.prior.seismic]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeismicPriorConfig {
    /// The AR(1) coefficient φ, uniform in `[min, max]` (default `[0.8, 0.99]`; within
    /// [0, 0.999]).
    pub ar: [f64; 2],
    /// The forecast horizon h in days, uniform in `[min, max]` (default `[1, 30]`; min ≥ 1).
    pub horizon: [usize; 2],
    /// The longest lag ℓ of a lag column, in days (default 30; ≥ 1).
    pub max_lag: usize,
    /// The length w of a windowed-mean column in days, uniform in `[min, max]` (default
    /// `[3, 90]`; min ≥ 2).
    pub window: [usize; 2],
    /// The probability that a column after the first is pure noise (default 0.2).
    pub noise_columns: f64,
    /// The probability that the series is daily counts rather than the latent series (default
    /// 0.5).
    pub counts: f64,
    /// The mean daily count μ of a count series, log-uniform in `[min, max]` (default
    /// `[0.5, 20.0]`; 0 < min ≤ max ≤ 1000).
    pub count_mean: [f64; 2],
}

impl Default for SeismicPriorConfig {
    fn default() -> Self {
        SeismicPriorConfig {
            ar: [0.8, 0.99],
            horizon: [1, 30],
            max_lag: 30,
            window: [3, 90],
            noise_columns: 0.2,
            counts: 0.5,
            count_mean: [0.5, 20.0],
        }
    }
}

impl SeismicPriorConfig {
    /// Refuses invalid settings, naming the key under `prefix` (`pfn.prior.seismic.ar`, …).
    pub fn check(&self, prefix: &str) -> Result<()> {
        check_range(&format!("{prefix}.ar"), self.ar, 0.0, 0.999)?;
        check_count_range(&format!("{prefix}.horizon"), self.horizon, 1)?;
        if self.max_lag == 0 {
            return Err(Error::config(
                format!("{prefix}.max_lag"),
                "0 is not a lag: the longest lag is at least 1 day",
            ));
        }
        check_count_range(&format!("{prefix}.window"), self.window, 2)?;
        check_probability(&format!("{prefix}.noise_columns"), self.noise_columns)?;
        check_probability(&format!("{prefix}.counts"), self.counts)?;
        check_range(
            &format!("{prefix}.count_mean"),
            self.count_mean,
            f64::MIN_POSITIVE,
            1000.0,
        )
    }
}

/// The seismicity-flavoured prior; see the module docs.
#[derive(Debug, Clone)]
pub struct SeismicPrior {
    config: SeismicPriorConfig,
}

impl SeismicPrior {
    /// The prior of (checked) `config`.
    pub fn new(config: SeismicPriorConfig) -> SeismicPrior {
        SeismicPrior { config }
    }

    /// A task of `n_rows` consecutive days (≥ 2) and `n_features` features (≥ 1) drawn from
    /// `rng`.
    pub fn sample(
        &self,
        n_rows: usize,
        n_features: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<PriorTask> {
        let c = &self.config;
        let n_train = draw_n_train(n_rows, rng);
        let phi = uniform(c.ar, rng);
        let horizon = rng.random_range(c.horizon[0]..=c.horizon[1]);
        let past = c.max_lag.max(c.window[1] - 1);
        let length = past + n_rows + horizon;

        let innovation = (1.0 - phi * phi).sqrt();
        let mut latent = Vec::with_capacity(length);
        let mut z: f64 = rng.sample(StandardNormal);
        latent.push(z);
        for _ in 1..length {
            z = phi * z + innovation * rng.sample::<f64, _>(StandardNormal);
            latent.push(z);
        }
        let series: Vec<f64> = if rng.random::<f64>() < c.counts {
            let mean = log_uniform(c.count_mean, rng);
            let shift = LOG_RATE_SD * LOG_RATE_SD / 2.0;
            latent
                .iter()
                .map(|&z| {
                    let rate = mean * (LOG_RATE_SD * z - shift).exp();
                    Poisson::new(rate)
                        .map(|p| p.sample(rng))
                        .map_err(|e| Error::Numerical(format!("seismic prior: rate {rate}: {e}")))
                })
                .collect::<Result<_>>()?
        } else {
            latent
        };

        let columns: Vec<Column> = (0..n_features)
            .map(|j| {
                if j == 0 {
                    Column::Lag(0)
                } else if rng.random::<f64>() < c.noise_columns {
                    Column::Noise
                } else if rng.random::<bool>() {
                    Column::Lag(rng.random_range(1..=c.max_lag))
                } else {
                    Column::Mean(rng.random_range(c.window[0]..=c.window[1]))
                }
            })
            .collect();
        let mut x = Vec::with_capacity(n_rows * n_features);
        for r in 0..n_rows {
            let t = past + r;
            for column in &columns {
                x.push(match *column {
                    Column::Lag(lag) => series[t - lag],
                    Column::Mean(w) => series[t + 1 - w..=t].iter().sum::<f64>() / w as f64,
                    Column::Noise => rng.sample(StandardNormal),
                });
            }
        }
        let y: Vec<f64> = (0..n_rows).map(|r| series[past + r + horizon]).collect();
        task_from_f64(&x, &y, n_features, n_train, PriorKind::Seismic)
    }
}

/// What a feature column of the seismic prior holds.
enum Column {
    /// s_{t−ℓ}.
    Lag(usize),
    /// The mean of s over the w days up to t.
    Mean(usize),
    /// Standard normal noise.
    Noise,
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn column(task: &PriorTask, j: usize) -> Vec<f32> {
        (0..task.n_rows()).map(|r| task.value(r, j)).collect()
    }

    #[test]
    fn the_target_is_the_day_value_shifted_by_the_horizon_and_autocorrelated() {
        let phi = 0.9;
        let prior = SeismicPrior::new(SeismicPriorConfig {
            ar: [phi, phi],
            horizon: [5, 5],
            counts: 0.0,
            ..SeismicPriorConfig::default()
        });
        let n = 1000;
        let tasks = 20;
        let mut mean_r1 = 0.0;
        for seed in 0..tasks {
            let task = prior
                .sample(n, 2, &mut ChaCha8Rng::seed_from_u64(seed))
                .unwrap();
            let day = column(&task, 0);
            for r in 0..n - 5 {
                assert_eq!(day[r + 5].to_bits(), task.y()[r].to_bits(), "row {r}");
            }
            let y: Vec<f64> = task.y().iter().map(|&v| f64::from(v)).collect();
            let mean = y.iter().sum::<f64>() / n as f64;
            let lagged: f64 = y.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum();
            let total: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
            mean_r1 += lagged / total / tasks as f64;
        }
        // The lag-1 autocorrelation of a stationary AR(1) is φ. Its sample estimate over n
        // days has a bias of about −(1 + 4φ)/n ≈ −0.0046 and a standard deviation of about
        // √((1 − φ²)/n) ≈ 0.0138 (Bartlett), 0.0031 for the mean of 20 tasks; allowed: the
        // bias plus 4 of those.
        let tolerance = (1.0 + 4.0 * phi) / n as f64
            + 4.0 * ((1.0 - phi * phi) / n as f64).sqrt() / (tasks as f64).sqrt();
        assert!((mean_r1 - phi).abs() < tolerance, "{mean_r1}");
    }

    #[test]
    fn each_column_is_a_lag_or_a_windowed_mean_of_the_day_value() {
        let prior = SeismicPrior::new(SeismicPriorConfig {
            max_lag: 10,
            window: [3, 8],
            noise_columns: 0.0,
            ..SeismicPriorConfig::default()
        });
        let (mut lags, mut means) = (0, 0);
        for seed in 0..10 {
            let task = prior
                .sample(200, 6, &mut ChaCha8Rng::seed_from_u64(seed))
                .unwrap();
            let day = column(&task, 0);
            for j in 1..6 {
                let values = column(&task, j);
                let is_lag = (1..=10).any(|lag| {
                    (0..200 - lag).all(|r| values[r + lag].to_bits() == day[r].to_bits())
                });
                let is_mean = (3..=8).any(|w| {
                    (w - 1..200).all(|r| {
                        let mean = day[r + 1 - w..=r]
                            .iter()
                            .map(|&v| f64::from(v))
                            .sum::<f64>()
                            / w as f64;
                        (f64::from(values[r]) - mean).abs() < 1e-4 * (1.0 + mean.abs())
                    })
                });
                assert!(is_lag || is_mean, "seed {seed}, column {j}");
                lags += usize::from(is_lag);
                means += usize::from(is_mean);
            }
        }
        assert!(lags > 0 && means > 0, "{lags} lags, {means} means");
    }

    #[test]
    fn a_count_series_holds_non_negative_whole_counts() {
        let prior = SeismicPrior::new(SeismicPriorConfig {
            counts: 1.0,
            horizon: [3, 3],
            ..SeismicPriorConfig::default()
        });
        let task = prior
            .sample(300, 1, &mut ChaCha8Rng::seed_from_u64(1))
            .unwrap();
        assert!(task.y().iter().all(|&v| v >= 0.0 && v.fract() == 0.0));
        assert!(task.y().iter().any(|&v| v > 0.0));
        assert_eq!(task.value(3, 0), task.y()[0]);
    }
}
