//! Regression metrics (paper §2: R² and MSE), MAE, skill scores, and the label's lag-1
//! autocorrelation, integrated autocorrelation time and effective sample size (pitfall P1).
//!
//! With labels `y`, predictions `ŷ` and `ȳ` the mean of `y`:
//!
//! - `MSE = Σ(y − ŷ)²/n`, `MAE = Σ|y − ŷ|/n`;
//! - `R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²` (scikit-learn's `r2_score`; undefined for constant y);
//! - skill score against a reference forecast: `SS = 1 − MSE/MSE_ref` (P3);
//! - lag-1 autocorrelation `ρ_1 = Σ_{t<n−1}(y_t − ȳ)(y_{t+1} − ȳ) / Σ_t (y_t − ȳ)²` (the usual ACF
//!   estimator), the integrated autocorrelation time τ and the effective sample size
//!   `N_eff = N/τ` ([`crate::eval::uncertainty`]). The AR(1) formula `N(1 − ρ_1)/(1 + ρ_1)`
//!   is not used: a smooth label has ρ_1 near 1 at lag 1 yet decorrelates over months, and
//!   the formula then gives well under one independent day.

use serde::Serialize;

use crate::eval::uncertainty::{autocorrelation, integrated_autocorrelation_time};
use crate::{Error, Result};

/// The metrics of one set of predictions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RegressionMetrics {
    /// The number of rows.
    pub n: usize,
    /// Coefficient of determination.
    pub r2: f64,
    /// Mean squared error.
    pub mse: f64,
    /// Mean absolute error.
    pub mae: f64,
}

/// R², MSE and MAE of `predicted` against `truth`.
pub fn regression_metrics(truth: &[f64], predicted: &[f64]) -> Result<RegressionMetrics> {
    Ok(RegressionMetrics {
        n: truth.len(),
        r2: r2(truth, predicted)?,
        mse: mse(truth, predicted)?,
        mae: mae(truth, predicted)?,
    })
}

/// Mean squared error.
pub fn mse(truth: &[f64], predicted: &[f64]) -> Result<f64> {
    check(truth, predicted)?;
    Ok(truth
        .iter()
        .zip(predicted)
        .map(|(y, p)| (y - p).powi(2))
        .sum::<f64>()
        / truth.len() as f64)
}

/// Mean absolute error.
pub fn mae(truth: &[f64], predicted: &[f64]) -> Result<f64> {
    check(truth, predicted)?;
    Ok(truth
        .iter()
        .zip(predicted)
        .map(|(y, p)| (y - p).abs())
        .sum::<f64>()
        / truth.len() as f64)
}

/// `1 − SSE/SST`; an error for constant `truth` (SST = 0).
pub fn r2(truth: &[f64], predicted: &[f64]) -> Result<f64> {
    check(truth, predicted)?;
    let mean = truth.iter().sum::<f64>() / truth.len() as f64;
    let sst: f64 = truth.iter().map(|y| (y - mean).powi(2)).sum();
    if sst <= 0.0 {
        return Err(Error::Numerical(
            "R² is undefined: the labels are constant".to_string(),
        ));
    }
    let sse: f64 = truth
        .iter()
        .zip(predicted)
        .map(|(y, p)| (y - p).powi(2))
        .sum();
    Ok(1.0 - sse / sst)
}

/// `1 − mse/mse_reference`; an error unless `mse_reference` is positive and finite.
pub fn skill_score(mse: f64, mse_reference: f64) -> Result<f64> {
    if !(mse_reference.is_finite() && mse_reference > 0.0 && mse.is_finite()) {
        return Err(Error::Numerical(format!(
            "skill score needs finite MSEs and a positive reference, got {mse} and {mse_reference}"
        )));
    }
    Ok(1.0 - mse / mse_reference)
}

/// The serial dependence of a label series, reported with every run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LabelDependence {
    /// The series length N.
    pub n: usize,
    /// Lag-1 autocorrelation ρ_1.
    pub lag1_autocorrelation: f64,
    /// The integrated autocorrelation time τ (Sokal's window, see
    /// [`crate::eval::uncertainty`]).
    pub integrated_autocorrelation_time: f64,
    /// `N/τ`.
    pub effective_sample_size: f64,
}

/// ρ_1, τ and N_eff of `labels`, taken in order (pass the daily label series, or the table's
/// labels, which skip dropped days). Needs at least 3 finite values that are not all equal.
pub fn label_dependence(labels: &[f64]) -> Result<LabelDependence> {
    let rho = autocorrelation(labels, 1)?;
    let tau = integrated_autocorrelation_time(labels)?;
    let n = labels.len();
    Ok(LabelDependence {
        n,
        lag1_autocorrelation: rho[1],
        integrated_autocorrelation_time: tau,
        effective_sample_size: n as f64 / tau,
    })
}

fn check(truth: &[f64], predicted: &[f64]) -> Result<()> {
    if truth.is_empty() || truth.len() != predicted.len() {
        return Err(Error::Numerical(format!(
            "metrics need equally long, non-empty series, got {} labels and {} predictions",
            truth.len(),
            predicted.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_match_hand_values() {
        // y = 1, 2, 3, 4; ŷ = 1, 3, 2, 4. Errors 0, −1, 1, 0: SSE 2, MSE 0.5, MAE 0.5.
        // ȳ = 2.5, SST = 2.25 + 0.25 + 0.25 + 2.25 = 5, R² = 1 − 2/5 = 0.6.
        let m = regression_metrics(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
        assert_eq!(m.n, 4);
        assert!((m.mse - 0.5).abs() < 1e-15);
        assert!((m.mae - 0.5).abs() < 1e-15);
        assert!((m.r2 - 0.6).abs() < 1e-15);
        // Against a reference with MSE 2: SS = 1 − 0.5/2 = 0.75.
        assert!((skill_score(m.mse, 2.0).unwrap() - 0.75).abs() < 1e-15);
    }

    #[test]
    fn degenerate_inputs_are_errors() {
        assert!(r2(&[1.0, 1.0], &[1.0, 2.0]).is_err());
        assert!(mse(&[], &[]).is_err());
        assert!(mae(&[1.0], &[1.0, 2.0]).is_err());
        assert!(skill_score(1.0, 0.0).is_err());
    }

    #[test]
    fn alternating_series_counts_as_independent() {
        // 1, −1, 1, −1: mean 0, Σy² = 4, Σ y_t y_{t+1} = −3, ρ_1 = −0.75. Sokal's window stops
        // at M = 1 (τ(1) = 1 − 1.5 = −0.5 ≤ M/5), and τ is raised to 1: N_eff = N = 4.
        let d = label_dependence(&[1.0, -1.0, 1.0, -1.0]).unwrap();
        assert!((d.lag1_autocorrelation + 0.75).abs() < 1e-15);
        assert_eq!(d.integrated_autocorrelation_time, 1.0);
        assert_eq!(d.effective_sample_size, 4.0);
    }
}
