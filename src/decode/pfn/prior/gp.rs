//! The Gaussian-process prior: y ~ GP(0, k) at random inputs, with a random kernel.
//!
//! A task draws:
//!
//! 1. its inputs, independent per row and feature: standard normal, or uniform on [−√3, √3]
//!    with probability `uniform_inputs` (both of unit variance);
//! 2. a kernel ([`GpDraw`]): a stationary kernel from `kernels` with per-feature length scales
//!    ℓ_d log-uniform in `length_scale` and an output scale σ_f log-uniform in `output_scale`,
//!    plus, with probability `linear`, a linear kernel σ_f² x·x′ / n_features; a noise
//!    standard deviation σ_n log-uniform in `noise`;
//! 3. the targets y = L z, z standard normal, L the Cholesky factor of K + (σ_n² + jitter) I
//!    over all rows (training and test), the jitter 10⁻⁸ (σ_f² + 1), raised a hundredfold on
//!    each of at most four failed factorisations.
//!
//! With r² = Σ_d ((x_d − x′_d)/ℓ_d)² the stationary kernels are (Rasmussen & Williams 2006,
//! eqs. 4.9 and 4.17): RBF σ_f² exp(−r²/2); Matérn 3/2 σ_f² (1 + √3 r) exp(−√3 r); Matérn 5/2
//! σ_f² (1 + √5 r + 5r²/3) exp(−√5 r).
//!
//! Scale: the inputs have unit variance, the targets the variance σ_f² (twice that with the
//! linear kernel, at most) plus σ_n².

use faer::{Mat, Side};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::{
    PriorKind, PriorTask, check_probability, check_range, draw_n_train, log_uniform, task_from_f64,
};
use crate::{Error, Result};

/// A stationary kernel of [`GpPrior`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelKind {
    /// The squared exponential, exp(−r²/2).
    Rbf,
    /// Matérn ν = 3/2, (1 + √3 r) exp(−√3 r).
    Matern32,
    /// Matérn ν = 5/2, (1 + √5 r + 5r²/3) exp(−√5 r).
    Matern52,
}

impl KernelKind {
    /// The kernel's correlation at scaled distance `r` (1 at r = 0).
    pub fn correlation(self, r: f64) -> f64 {
        match self {
            KernelKind::Rbf => (-0.5 * r * r).exp(),
            KernelKind::Matern32 => {
                let s = 3f64.sqrt() * r;
                (1.0 + s) * (-s).exp()
            }
            KernelKind::Matern52 => {
                let s = 5f64.sqrt() * r;
                (1.0 + s + s * s / 3.0) * (-s).exp()
            }
        }
    }
}

/// Settings of [`GpPrior`] (`[pfn.prior.gp]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GpPriorConfig {
    /// The stationary kernels a task draws from, uniformly (default all: rbf, matern32,
    /// matern52); not empty.
    pub kernels: Vec<KernelKind>,
    /// The probability that a linear kernel is added (default 0.2).
    pub linear: f64,
    /// Per-feature length scales, log-uniform in `[min, max]` (default `[0.2, 5.0]`;
    /// 0 < min ≤ max ≤ 1000).
    pub length_scale: [f64; 2],
    /// The output scale σ_f, log-uniform in `[min, max]` (default `[0.5, 2.0]`;
    /// 0 < min ≤ max ≤ 100).
    pub output_scale: [f64; 2],
    /// The noise standard deviation σ_n, log-uniform in `[min, max]` (default
    /// `[0.001, 0.3]`; 0 < min ≤ max ≤ 100).
    pub noise: [f64; 2],
    /// The probability that a task's inputs are uniform rather than normal (default 0.5).
    pub uniform_inputs: f64,
}

impl Default for GpPriorConfig {
    fn default() -> Self {
        GpPriorConfig {
            kernels: vec![KernelKind::Rbf, KernelKind::Matern32, KernelKind::Matern52],
            linear: 0.2,
            length_scale: [0.2, 5.0],
            output_scale: [0.5, 2.0],
            noise: [0.001, 0.3],
            uniform_inputs: 0.5,
        }
    }
}

impl GpPriorConfig {
    /// Refuses invalid settings, naming the key under `prefix` (`pfn.prior.gp.noise`, …).
    pub fn check(&self, prefix: &str) -> Result<()> {
        if self.kernels.is_empty() {
            return Err(Error::config(
                format!("{prefix}.kernels"),
                "no kernel to draw from: name at least one of rbf, matern32, matern52",
            ));
        }
        check_probability(&format!("{prefix}.linear"), self.linear)?;
        check_range(
            &format!("{prefix}.length_scale"),
            self.length_scale,
            f64::MIN_POSITIVE,
            1000.0,
        )?;
        check_range(
            &format!("{prefix}.output_scale"),
            self.output_scale,
            f64::MIN_POSITIVE,
            100.0,
        )?;
        check_range(
            &format!("{prefix}.noise"),
            self.noise,
            f64::MIN_POSITIVE,
            100.0,
        )?;
        check_probability(&format!("{prefix}.uniform_inputs"), self.uniform_inputs)
    }
}

/// One task's kernel and noise, as drawn by [`GpPrior`].
#[derive(Debug, Clone, PartialEq)]
pub struct GpDraw {
    /// The stationary kernel.
    pub kernel: KernelKind,
    /// One length scale per feature.
    pub length_scales: Vec<f64>,
    /// The output scale σ_f.
    pub output_scale: f64,
    /// Whether the linear kernel σ_f² x·x′ / n_features is added.
    pub linear: bool,
    /// The noise standard deviation σ_n.
    pub noise: f64,
}

impl GpDraw {
    /// The noise-free kernel k(a, b) between two rows of `length_scales.len()` features.
    pub fn kernel_value(&self, a: &[f64], b: &[f64]) -> f64 {
        let r2: f64 = a
            .iter()
            .zip(b)
            .zip(&self.length_scales)
            .map(|((u, v), l)| ((u - v) / l).powi(2))
            .sum();
        let variance = self.output_scale * self.output_scale;
        let mut k = variance * self.kernel.correlation(r2.sqrt());
        if self.linear {
            let dot: f64 = a.iter().zip(b).map(|(u, v)| u * v).sum();
            k += variance * dot / self.length_scales.len() as f64;
        }
        k
    }

    /// Targets at the rows of `x` (row-major, `length_scales.len()` features each), one joint
    /// draw y = L z of N(0, K + σ_n² I); see the module docs for the jitter.
    pub fn sample_targets(&self, x: &[f64], rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
        let f = self.length_scales.len();
        let n = x.len() / f.max(1);
        let row = |i: usize| &x[i * f..(i + 1) * f];
        let base = Mat::from_fn(n, n, |i, j| {
            let k = self.kernel_value(row(i), row(j));
            if i == j {
                k + self.noise * self.noise
            } else {
                k
            }
        });
        let mut jitter = 1e-8 * (self.output_scale * self.output_scale + 1.0);
        let mut attempts = 0;
        let factor = loop {
            let mut covariance = base.clone();
            for i in 0..n {
                covariance[(i, i)] += jitter;
            }
            match covariance.llt(Side::Lower) {
                Ok(llt) => break llt,
                Err(e) if attempts == 4 => {
                    return Err(Error::Numerical(format!(
                        "GP prior: the {n} × {n} covariance is not positive definite with \
                         jitter {jitter:e} ({e:?})"
                    )));
                }
                Err(_) => {
                    jitter *= 100.0;
                    attempts += 1;
                }
            }
        };
        let l = factor.L();
        let z: Vec<f64> = (0..n).map(|_| rng.sample(StandardNormal)).collect();
        Ok((0..n)
            .map(|i| (0..=i).map(|j| l[(i, j)] * z[j]).sum())
            .collect())
    }
}

/// The Gaussian-process prior; see the module docs.
#[derive(Debug, Clone)]
pub struct GpPrior {
    config: GpPriorConfig,
}

impl GpPrior {
    /// The prior of (checked) `config`.
    pub fn new(config: GpPriorConfig) -> GpPrior {
        GpPrior { config }
    }

    /// A kernel and noise for a task of `n_features` features.
    pub fn draw(&self, n_features: usize, rng: &mut ChaCha8Rng) -> GpDraw {
        let c = &self.config;
        let kernel = c.kernels[rng.random_range(0..c.kernels.len())];
        let length_scales = (0..n_features)
            .map(|_| log_uniform(c.length_scale, rng))
            .collect();
        GpDraw {
            kernel,
            length_scales,
            output_scale: log_uniform(c.output_scale, rng),
            linear: rng.random::<f64>() < c.linear,
            noise: log_uniform(c.noise, rng),
        }
    }

    /// A task of `n_rows` rows (2 ≤ n_rows ≤ [`super::GP_MAX_ROWS`]) and `n_features`
    /// features (≥ 1) drawn from `rng`.
    pub fn sample(
        &self,
        n_rows: usize,
        n_features: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<PriorTask> {
        let n_train = draw_n_train(n_rows, rng);
        let uniform_inputs = rng.random::<f64>() < self.config.uniform_inputs;
        let x: Vec<f64> = (0..n_rows * n_features)
            .map(|_| {
                if uniform_inputs {
                    (rng.random::<f64>() * 2.0 - 1.0) * 3f64.sqrt()
                } else {
                    rng.sample(StandardNormal)
                }
            })
            .collect();
        let draw = self.draw(n_features, rng);
        let y = draw.sample_targets(&x, rng)?;
        task_from_f64(&x, &y, n_features, n_train, PriorKind::Gp)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    /// Matérn 5/2 written out (Rasmussen & Williams eq. 4.17), independently of the code.
    fn matern52(variance: f64, r: f64) -> f64 {
        variance * (1.0 + 5f64.sqrt() * r + 5.0 * r * r / 3.0) * (-(5f64.sqrt()) * r).exp()
    }

    /// The empirical second moments of y at two fixed inputs over `draws` joint draws, against
    /// their closed form. With mean zero, the estimate of E[y_a y_b] over M draws has the
    /// standard deviation √((σ_aa σ_bb + σ_ab²)/M) (Isserlis); each is allowed 4 of them.
    fn assert_moments(draw: &GpDraw, a: [f64; 2], b: [f64; 2], expected: [f64; 3]) {
        let [s_aa, s_bb, s_ab] = expected;
        let x = [a[0], a[1], b[0], b[1]];
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        let draws = 20_000;
        let (mut aa, mut bb, mut ab) = (0.0, 0.0, 0.0);
        for _ in 0..draws {
            let y = draw.sample_targets(&x, &mut rng).unwrap();
            aa += y[0] * y[0];
            bb += y[1] * y[1];
            ab += y[0] * y[1];
        }
        let m = f64::from(draws);
        for (found, want, sd) in [
            (aa / m, s_aa, (2.0 * s_aa * s_aa / m).sqrt()),
            (bb / m, s_bb, (2.0 * s_bb * s_bb / m).sqrt()),
            (ab / m, s_ab, ((s_aa * s_bb + s_ab * s_ab) / m).sqrt()),
        ] {
            assert!(
                (found - want).abs() < 4.0 * sd,
                "{found} against {want} (sd {sd})"
            );
        }
    }

    #[test]
    fn the_empirical_covariance_matches_the_kernel() {
        // The prior with its kernel, length scales and output scale fixed draws exactly them.
        let prior = GpPrior::new(GpPriorConfig {
            kernels: vec![KernelKind::Matern52],
            linear: 0.0,
            length_scale: [0.8, 0.8],
            output_scale: [1.5, 1.5],
            noise: [0.2, 0.2],
            uniform_inputs: 0.5,
        });
        let draw = prior.draw(2, &mut ChaCha8Rng::seed_from_u64(3));
        assert_eq!(
            draw,
            GpDraw {
                kernel: KernelKind::Matern52,
                length_scales: vec![0.8, 0.8],
                output_scale: 1.5,
                linear: false,
                noise: 0.2,
            }
        );
        let (a, b) = ([0.2, -0.4], [0.9, 0.1]);
        // r = |a − b| / 0.8 = √(0.49 + 0.25) / 0.8.
        let r = (0.74f64).sqrt() / 0.8;
        let variance = 2.25 + 0.04;
        assert_moments(&draw, a, b, [variance, variance, matern52(2.25, r)]);
    }

    #[test]
    fn the_linear_kernel_adds_the_scaled_inner_product() {
        let draw = GpDraw {
            kernel: KernelKind::Rbf,
            length_scales: vec![0.5, 2.0],
            output_scale: 0.8,
            linear: true,
            noise: 0.1,
        };
        let (a, b) = ([1.0, -0.5], [0.6, 0.5]);
        let rbf = |u: [f64; 2], v: [f64; 2]| {
            let r2 = ((u[0] - v[0]) / 0.5).powi(2) + ((u[1] - v[1]) / 2.0).powi(2);
            0.64 * (-r2 / 2.0).exp()
        };
        let linear = |u: [f64; 2], v: [f64; 2]| 0.64 * (u[0] * v[0] + u[1] * v[1]) / 2.0;
        let k = |u, v| rbf(u, v) + linear(u, v);
        assert_moments(&draw, a, b, [k(a, a) + 0.01, k(b, b) + 0.01, k(a, b)]);
    }
}
