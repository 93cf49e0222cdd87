//! Scores of quantile forecasts: the pinball (quantile) loss and the CRPS approximated from
//! the quantiles, and the `[evaluation]` section that chooses the levels and the bootstrap.
//!
//! With `y` the label and `q` the forecast quantile at level `τ`:
//!
//! - quantile score (pinball loss) `QS_τ(q, y) = (1{y < q} − τ)(q − y)`, never negative, zero
//!   when `q = y`;
//! - the CRPS of a forecast distribution F is `2 ∫₀¹ QS_τ(F⁻¹(τ), y) dτ` (Gneiting & Raftery
//!   2007, and Laio & Tamea 2007). From K quantiles at levels `τ_1 < … < τ_K` it is
//!   approximated by the Riemann sum `2 Σ_k w_k QS_{τ_k}(q_k, y)`, where `w_k` is the width of
//!   the cell of [0, 1] closest to `τ_k`: the cells' edges lie halfway between neighbouring
//!   levels, the first cell starts at 0 and the last ends at 1. For the evenly spaced levels
//!   `τ_k = (k − ½)/K` every `w_k` is `1/K`, which is the familiar `2/K Σ_k QS_{τ_k}`; for the
//!   default levels (0.05, 0.25, 0.5, 0.75, 0.95) the weights are 0.15, 0.225, 0.25, 0.225,
//!   0.15. The error of the sum is at most `2 · max_k w_k · TV`, with TV the total variation of
//!   `τ ↦ QS_τ(F⁻¹(τ), y)`, itself at most `2 E|X − y|` for X ~ F: few levels give a coarse
//!   CRPS, and its tails beyond the outermost levels are those of a distribution that stops
//!   there.

use serde::{Deserialize, Serialize};

use crate::decode::QuantileLevels;
use crate::eval::uncertainty::BootstrapSettings;
use crate::{Error, Result};

/// `[evaluation]`: what every decoder is asked for besides its point prediction, and how the
/// uncertainty of its test metrics is estimated.
///
/// ```toml
/// [evaluation]
/// quantiles = [0.05, 0.25, 0.5, 0.75, 0.95]   # the default; [] asks for none
/// bootstrap_resamples = 1000                  # the default; at least 100
/// confidence_level = 0.95                     # the default; strictly between 0.5 and 1
/// validation_fraction = 0.2                   # the default; in (0, 0.5)
/// ```
///
/// Decoders that can (the random forest) return these quantiles; the run stores them in
/// `predictions.csv` as `q<level>` columns, scores them (test pinball loss and CRPS in
/// `results.csv`) and draws the outermost levels as a band. Point-only decoders are unaffected.
/// Every test metric gets a moving-block bootstrap interval at `confidence_level` from
/// `bootstrap_resamples` resamples ([`crate::eval::uncertainty`]). A decoder that watches
/// validation rows ([`crate::decode::DecoderSettings::wants_validation`]: a booster with
/// `early_stopping_rounds`) is fitted on the first `1 − validation_fraction` of each training
/// set's days and watches the last `validation_fraction`, the held-out rows nearest the test
/// period; other decoders fit on the whole training set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvaluationSection {
    /// The quantile levels, strictly increasing, each strictly between 0 and 1.
    pub quantiles: QuantileLevels,
    /// The number of bootstrap resamples per interval (at least [`MIN_BOOTSTRAP_RESAMPLES`]).
    pub bootstrap_resamples: usize,
    /// The level of the bootstrap intervals, strictly between 0.5 and 1.
    pub confidence_level: f64,
    /// The share of each training set's last days held out as validation rows for decoders
    /// that ask for them, strictly between 0 and 0.5.
    pub validation_fraction: f64,
}

/// The fewest bootstrap resamples `evaluation.bootstrap_resamples` accepts: with fewer, the
/// outer order statistics of a 95 % interval rest on two or three resamples.
pub const MIN_BOOTSTRAP_RESAMPLES: usize = 100;

impl Default for EvaluationSection {
    /// The default quantile levels, 1000 resamples, 95 % intervals.
    fn default() -> Self {
        EvaluationSection {
            quantiles: QuantileLevels::default(),
            bootstrap_resamples: 1000,
            confidence_level: 0.95,
            validation_fraction: 0.2,
        }
    }
}

impl EvaluationSection {
    /// An [`Error::Config`] naming `evaluation.bootstrap_resamples` when it is below
    /// [`MIN_BOOTSTRAP_RESAMPLES`], `evaluation.confidence_level` when it is not strictly
    /// between 0.5 and 1, or `evaluation.validation_fraction` when it is not strictly between 0
    /// and 0.5. (The quantile levels are checked when they are read.)
    pub fn check(&self) -> Result<()> {
        crate::ensure_config!(
            self.bootstrap_resamples >= MIN_BOOTSTRAP_RESAMPLES,
            "evaluation.bootstrap_resamples",
            "must be at least {MIN_BOOTSTRAP_RESAMPLES}, got {}",
            self.bootstrap_resamples
        );
        crate::ensure_config!(
            self.confidence_level > 0.5 && self.confidence_level < 1.0,
            "evaluation.confidence_level",
            "must lie strictly between 0.5 and 1, got {}",
            self.confidence_level
        );
        crate::ensure_config!(
            self.validation_fraction > 0.0 && self.validation_fraction < 0.5,
            "evaluation.validation_fraction",
            "must lie strictly between 0 and 0.5, got {}",
            self.validation_fraction
        );
        Ok(())
    }

    /// The bootstrap settings of this section for a series with block length `block_length`
    /// (see [`crate::eval::uncertainty::block_length`]) under experiment seed `seed`.
    pub fn bootstrap_settings(&self, block_length: usize, seed: u64) -> BootstrapSettings {
        BootstrapSettings {
            resamples: self.bootstrap_resamples,
            block_length,
            level: self.confidence_level,
            seed,
        }
    }
}

/// The quantile score (pinball loss) of quantile `q` at level `level` for the label `y`:
/// `(1{y < q} − level)(q − y)`.
pub fn quantile_score(level: f64, q: f64, y: f64) -> f64 {
    let below = if y < q { 1.0 } else { 0.0 };
    (below - level) * (q - y)
}

/// The weight of each level in the CRPS sum: the width of the cell of [0, 1] closest to it
/// (see the module docs). The weights add up to 1.
pub fn level_weights(levels: &[f64]) -> Vec<f64> {
    let k = levels.len();
    (0..k)
        .map(|i| {
            let lower = if i == 0 {
                0.0
            } else {
                0.5 * (levels[i - 1] + levels[i])
            };
            let upper = if i + 1 == k {
                1.0
            } else {
                0.5 * (levels[i] + levels[i + 1])
            };
            upper - lower
        })
        .collect()
}

/// The mean pinball loss and the mean CRPS (approximated from the quantiles) of a set of rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QuantileScores {
    /// The number of rows.
    pub n: usize,
    /// The quantile score averaged over the rows and the levels.
    pub pinball: f64,
    /// `2 Σ_k w_k QS_{τ_k}` averaged over the rows.
    pub crps: f64,
}

/// The scores of `quantiles` (one row per label, each with one value per level of `levels`)
/// against `truth`. An [`Error::Numerical`] for no rows, no levels, a row of the wrong length,
/// or a value that is not finite.
pub fn quantile_scores(
    truth: &[f64],
    levels: &QuantileLevels,
    quantiles: &[Vec<f64>],
) -> Result<QuantileScores> {
    let k = levels.len();
    if truth.is_empty() || k == 0 || truth.len() != quantiles.len() {
        return Err(Error::Numerical(format!(
            "quantile scores need at least one row and one level: {} labels, {} rows of \
             quantiles, {k} levels",
            truth.len(),
            quantiles.len()
        )));
    }
    let weights = level_weights(levels.levels());
    let (mut pinball, mut crps) = (0.0, 0.0);
    for (row, (&y, q)) in truth.iter().zip(quantiles).enumerate() {
        if q.len() != k {
            return Err(Error::Numerical(format!(
                "quantile scores: row {row} has {} quantiles for {k} levels",
                q.len()
            )));
        }
        if !y.is_finite() || q.iter().any(|v| !v.is_finite()) {
            return Err(Error::Numerical(format!(
                "quantile scores: row {row} has a value that is not a finite number \
                 (label {y}, quantiles {q:?})"
            )));
        }
        for ((&level, &value), &weight) in levels.levels().iter().zip(q).zip(&weights) {
            let score = quantile_score(level, value, y);
            pinball += score;
            crps += 2.0 * weight * score;
        }
    }
    let n = truth.len() as f64;
    Ok(QuantileScores {
        n: truth.len(),
        pinball: pinball / (n * k as f64),
        crps: crps / n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(values: &[f64]) -> QuantileLevels {
        QuantileLevels::new(values.to_vec()).unwrap()
    }

    #[test]
    fn quantile_score_by_hand() {
        // y below q: (1 − 0.1)(3 − 1) = 1.8; y above q: (0 − 0.1)(1 − 3) = 0.2; y = q: 0.
        assert!((quantile_score(0.1, 3.0, 1.0) - 1.8).abs() < 1e-15);
        assert!((quantile_score(0.1, 1.0, 3.0) - 0.2).abs() < 1e-15);
        assert_eq!(quantile_score(0.7, 2.0, 2.0), 0.0);
    }

    #[test]
    fn weights_of_the_default_levels() {
        // Edges 0, 0.15, 0.375, 0.625, 0.85, 1.
        let w = level_weights(QuantileLevels::default().levels());
        for (got, want) in w.iter().zip([0.15, 0.225, 0.25, 0.225, 0.15]) {
            assert!((got - want).abs() < 1e-15, "{w:?}");
        }
        // Evenly spaced midpoints get 1/K each.
        let even: Vec<f64> = (0..4).map(|k| (k as f64 + 0.5) / 4.0).collect();
        assert!(
            level_weights(&even)
                .iter()
                .all(|w| (w - 0.25).abs() < 1e-15)
        );
    }

    #[test]
    fn pinball_and_crps_by_hand() {
        // Levels 0.25, 0.75 (weights 0.5, 0.5), two rows.
        // Row 1: y = 2, q = (1, 4): QS = (0 − 0.25)(1 − 2) = 0.25 and (1 − 0.75)(4 − 2) = 0.5.
        // Row 2: y = 0, q = (1, 2): QS = (1 − 0.25)(1 − 0) = 0.75 and (1 − 0.75)(2 − 0) = 0.5.
        // Pinball: (0.25 + 0.5 + 0.75 + 0.5)/4 = 0.5. CRPS: row 1 2·0.5·0.75 = 0.75, row 2
        // 2·0.5·1.25 = 1.25; mean 1.
        let s = quantile_scores(
            &[2.0, 0.0],
            &levels(&[0.25, 0.75]),
            &[vec![1.0, 4.0], vec![1.0, 2.0]],
        )
        .unwrap();
        assert_eq!(s.n, 2);
        assert!((s.pinball - 0.5).abs() < 1e-15);
        assert!((s.crps - 1.0).abs() < 1e-15);
    }

    #[test]
    fn crps_of_a_point_mass_is_the_absolute_error() {
        // Every quantile of a point mass at x is x; with levels symmetric about ½ the sum is
        // exact: CRPS = |y − x|.
        for quantile_levels in [
            QuantileLevels::default(),
            levels(&[0.1, 0.3, 0.5, 0.7, 0.9]),
        ] {
            for (x, y) in [(1.0, 3.5), (3.5, 1.0), (-2.0, -2.0)] {
                let k = quantile_levels.len();
                let s = quantile_scores(&[y], &quantile_levels, &[vec![x; k]]).unwrap();
                assert!(
                    (s.crps - (y - x).abs()).abs() < 1e-12,
                    "{x} {y}: {}",
                    s.crps
                );
            }
        }
    }

    /// The standard normal density and distribution function, and its quantile function by
    /// bisection on the distribution function (libm's erfc, independent of the code tested).
    fn phi(z: f64) -> f64 {
        (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
    }

    fn big_phi(z: f64) -> f64 {
        0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
    }

    fn normal_quantile(p: f64) -> f64 {
        let (mut lo, mut hi) = (-40.0, 40.0);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if big_phi(mid) < p { lo = mid } else { hi = mid }
        }
        0.5 * (lo + hi)
    }

    #[test]
    fn crps_of_a_normal_matches_the_closed_form_within_the_derived_bound() {
        // CRPS(N(μ, σ²), y) = σ[z(2Φ(z) − 1) + 2φ(z) − 1/√π], z = (y − μ)/σ (Gneiting et al.
        // 2005). E|X − y| = σ[z(2Φ(z) − 1) + 2φ(z)]. With K evenly spaced midpoint levels the
        // sum's error is at most 2·(1/K)·TV ≤ 4 E|X − y| / K (module docs): the integrand is
        // τ(y − F⁻¹(τ)) left of F(y) and (1 − τ)(F⁻¹(τ) − y) right of it, products of a
        // monotone factor and a monotone one that vanish at the ends, whose variation is at
        // most 2∫|F⁻¹(τ) − y| dτ = 2 E|X − y|.
        let (mu, sigma) = (1.5, 2.0);
        for k in [20, 200] {
            let quantile_levels = levels(
                &(0..k)
                    .map(|i| (i as f64 + 0.5) / k as f64)
                    .collect::<Vec<_>>(),
            );
            let q: Vec<f64> = quantile_levels
                .levels()
                .iter()
                .map(|&p| mu + sigma * normal_quantile(p))
                .collect();
            for y in [-3.0, 0.0, 1.5, 2.2, 7.0] {
                let z = (y - mu) / sigma;
                let mean_abs = sigma * (z * (2.0 * big_phi(z) - 1.0) + 2.0 * phi(z));
                let exact = mean_abs - sigma / std::f64::consts::PI.sqrt();
                let bound = 4.0 * mean_abs / k as f64;
                let s = quantile_scores(&[y], &quantile_levels, std::slice::from_ref(&q)).unwrap();
                assert!(
                    (s.crps - exact).abs() <= bound,
                    "K = {k}, y = {y}: {} vs {exact} (bound {bound})",
                    s.crps
                );
            }
        }
    }

    #[test]
    fn bad_inputs_are_errors() {
        let two = levels(&[0.25, 0.75]);
        assert!(quantile_scores(&[], &two, &[]).is_err());
        assert!(quantile_scores(&[1.0], &levels(&[]), &[vec![]]).is_err());
        assert!(quantile_scores(&[1.0], &two, &[vec![1.0]]).is_err());
        assert!(quantile_scores(&[1.0], &two, &[vec![1.0, f64::NAN]]).is_err());
        assert!(quantile_scores(&[f64::NAN], &two, &[vec![1.0, 2.0]]).is_err());
    }
}
