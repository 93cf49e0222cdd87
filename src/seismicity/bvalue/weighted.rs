//! b from weighted magnitudes, as SeismoStats' estimators take `weights`.
//!
//! Each magnitude carries a non-negative weight (e.g. a detection probability's inverse, or a
//! declustering probability). The sample mean of the estimators becomes the weighted mean
//! `x̄ = Σ w·x / Σ w` of the offsets from the reference (Mc, or dmc for differences); a
//! difference carries the weight of its later event (SeismoStats does the same for b-positive
//! and b-more-positive). The Shi & Bolt (1982) uncertainty becomes
//! `σ_b = 2.3·b²·sqrt(Σ w·(x − x̄)² / Σ w) / sqrt(Σ w − 1)`, which with unit weights is the
//! unweighted formula of [`super`].

use super::{Estimator, Missing, SHI_BOLT_FACTOR, ValidBValueParams, pairs};
use crate::Result;
use crate::catalog::at_or_above;

/// Magnitudes in time order with one finite, non-negative weight each: build one with
/// [`WeightedSample::new`], which checks them.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightedSample {
    magnitudes: Vec<f64>,
    weights: Vec<f64>,
}

impl WeightedSample {
    /// Pairs each magnitude with its weight. Refuses samples whose lengths differ, a magnitude
    /// that is not finite, and a weight that is negative or not finite (naming its index).
    pub fn new(magnitudes: Vec<f64>, weights: Vec<f64>) -> Result<Self> {
        if magnitudes.len() != weights.len() {
            return Err(crate::Error::Numerical(format!(
                "weighted b value: {} magnitudes but {} weights (one weight per magnitude)",
                magnitudes.len(),
                weights.len()
            )));
        }
        if let Some(i) = magnitudes.iter().position(|m| !m.is_finite()) {
            return Err(crate::Error::Numerical(format!(
                "weighted b value: magnitude {i} is {}, not a finite number",
                magnitudes[i]
            )));
        }
        if let Some(i) = weights.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(crate::Error::Numerical(format!(
                "weighted b value: weight {i} is {}; weights must be finite and non-negative",
                weights[i]
            )));
        }
        Ok(WeightedSample {
            magnitudes,
            weights,
        })
    }

    /// The magnitudes.
    pub fn magnitudes(&self) -> &[f64] {
        &self.magnitudes
    }

    /// The weights.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
}

/// A weighted b estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightedBValue {
    /// The b value.
    pub b: f64,
    /// The weighted Shi & Bolt standard error of b.
    pub b_std: f64,
    /// How many values entered b (magnitudes at or above Mc, or kept differences).
    pub n_b: usize,
    /// The sum of their weights.
    pub weight: f64,
}

/// b of a weighted sample by the estimator, bin width, dmc and difference estimate of `params`,
/// using the events at or above `mc` (the Mc choice and `min_events` of `params` are not used).
///
/// [`Missing::InvalidFit`] when fewer than two values enter, their weights sum to 1 or less (the
/// uncertainty divides by `sqrt(Σ w − 1)`), or b is not finite and positive.
pub fn weighted_b_value(
    sample: &WeightedSample,
    mc: f64,
    params: &ValidBValueParams,
) -> std::result::Result<WeightedBValue, Missing> {
    let bin_width = params.params().bin_width;
    let estimator = params.estimator();
    let (magnitudes, weights): (Vec<f64>, Vec<f64>) = sample
        .magnitudes
        .iter()
        .zip(&sample.weights)
        .filter(|&(&m, _)| at_or_above(m, mc))
        .map(|(&m, &w)| (m, w))
        .unzip();
    let values: Vec<(f64, f64)> = match estimator {
        Estimator::Magnitudes(_) => magnitudes
            .iter()
            .zip(&weights)
            .map(|(&m, &w)| (m - mc, w))
            .collect(),
        Estimator::Differences { pairing, dmc, .. } => pairs::pairs(&magnitudes, pairing, dmc)
            .into_iter()
            .map(|(i, j)| (magnitudes[j] - magnitudes[i] - dmc, weights[j]))
            .collect(),
    };
    let weight: f64 = values.iter().map(|&(_, w)| w).sum();
    if values.len() < 2 || weight <= 1.0 {
        return Err(Missing::InvalidFit);
    }
    let mean = values.iter().map(|&(x, w)| w * x).sum::<f64>() / weight;
    let b = estimator.mle().b(mean, bin_width);
    if !(b.is_finite() && b > 0.0) {
        return Err(Missing::InvalidFit);
    }
    let spread = values
        .iter()
        .map(|&(x, w)| w * (x - mean) * (x - mean))
        .sum::<f64>()
        / weight;
    Ok(WeightedBValue {
        b,
        b_std: SHI_BOLT_FACTOR * b * b * spread.sqrt() / (weight - 1.0).sqrt(),
        n_b: values.len(),
        weight,
    })
}
