//! The package's "safe" standard scaler: scikit-learn's `StandardScaler` with every value that
//! enters or leaves it made finite (2.2.1 `_make_standard_scaler_safe`).
//!
//! Per column, fitted on the train rows: ±inf become missing and missing values the column's
//! train mean (a column with no value: 0, scikit-learn's `keep_empty_features`); then
//! `(x − mean) / scale` (the mean only when centring) with the population standard deviation as
//! scale, 1 for a column indistinguishable from a constant one (scikit-learn's
//! `_is_constant_feature`: `var <= n ε var + (n mean ε)²`); then again ±inf to missing and
//! missing to the mean of the scaled train column.

use faer::{Mat, MatRef};

/// A fitted safe standard scaler.
#[derive(Debug, Clone, PartialEq)]
pub struct SafeScaler {
    centre: bool,
    fill_before: Vec<f64>,
    mean: Vec<f64>,
    scale: Vec<f64>,
    fill_after: Vec<f64>,
}

impl SafeScaler {
    /// Fits on the train rows `x`; `centre` subtracts the mean (`with_mean`).
    pub fn fit(x: MatRef<'_, f64>, centre: bool) -> SafeScaler {
        let n = x.nrows();
        let fill_before: Vec<f64> = (0..x.ncols()).map(|j| finite_mean(x, j)).collect();
        let filled = fill(x, &fill_before);
        let mut mean = Vec::with_capacity(x.ncols());
        let mut scale = Vec::with_capacity(x.ncols());
        for j in 0..x.ncols() {
            let (m, var) = mean_and_variance(filled.as_ref(), j);
            let eps = f64::EPSILON;
            let n = n as f64;
            let constant = var <= n * eps * var + (n * m * eps).powi(2);
            mean.push(m);
            scale.push(if constant { 1.0 } else { var.sqrt() });
        }
        let mut scaler = SafeScaler {
            centre,
            fill_before,
            mean,
            scale,
            fill_after: Vec::new(),
        };
        let scaled = scaler.scale_filled(filled.as_ref());
        scaler.fill_after = (0..x.ncols())
            .map(|j| finite_mean(scaled.as_ref(), j))
            .collect();
        scaler
    }

    /// Scales `x` (as many columns as the train rows).
    pub fn transform(&self, x: MatRef<'_, f64>) -> Mat<f64> {
        let filled = fill(x, &self.fill_before);
        fill(
            self.scale_filled(filled.as_ref()).as_ref(),
            &self.fill_after,
        )
    }

    /// The inverse of the scaling of column `j` (the fills are not inverted, as in the package):
    /// `v · scale + mean` (the mean only when centring).
    pub fn inverse(&self, j: usize, v: f64) -> f64 {
        let v = v * self.scale[j];
        if self.centre { v + self.mean[j] } else { v }
    }

    fn scale_filled(&self, x: MatRef<'_, f64>) -> Mat<f64> {
        Mat::from_fn(x.nrows(), x.ncols(), |i, j| {
            let v = if self.centre {
                x[(i, j)] - self.mean[j]
            } else {
                x[(i, j)]
            };
            v / self.scale[j]
        })
    }
}

/// The mean of column `j`'s finite values (0 when there is none).
fn finite_mean(x: MatRef<'_, f64>, j: usize) -> f64 {
    let (sum, count) = (0..x.nrows())
        .map(|i| x[(i, j)])
        .filter(|v| v.is_finite())
        .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    if count == 0 { 0.0 } else { sum / count as f64 }
}

/// `x` with its non-finite values replaced by the column's `fills`.
fn fill(x: MatRef<'_, f64>, fills: &[f64]) -> Mat<f64> {
    Mat::from_fn(x.nrows(), x.ncols(), |i, j| {
        let v = x[(i, j)];
        if v.is_finite() { v } else { fills[j] }
    })
}

/// Column `j`'s mean and population variance, by scikit-learn's corrected two-pass formula
/// (`(Σd² − (Σd)² / n) / n` with `d = x − mean`).
fn mean_and_variance(x: MatRef<'_, f64>, j: usize) -> (f64, f64) {
    let n = x.nrows() as f64;
    let mean = (0..x.nrows()).map(|i| x[(i, j)]).sum::<f64>() / n;
    let (sum, sum_sq) = (0..x.nrows())
        .map(|i| x[(i, j)] - mean)
        .fold((0.0, 0.0), |(s, q), d| (s + d, q + d * d));
    (mean, (sum_sq - sum * sum / n) / n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_values_take_the_mean_and_a_constant_column_keeps_scale_one() {
        let nan = f64::NAN;
        // Column 0: 1, 3, missing -> filled with 2; mean 2, variance 2/3.
        // Column 1: constant 5 -> scale 1.
        let x = faer::mat![[1.0, 5.0], [3.0, 5.0], [nan, 5.0]];
        let centred = SafeScaler::fit(x.as_ref(), true);
        let out = centred.transform(x.as_ref());
        let sd = (2.0f64 / 3.0).sqrt();
        assert!((out[(0, 0)] + 1.0 / sd).abs() < 1e-15);
        assert!((out[(1, 0)] - 1.0 / sd).abs() < 1e-15);
        assert_eq!(out[(2, 0)], 0.0);
        assert_eq!(out[(0, 1)], 0.0);
        assert!((centred.inverse(0, 1.0) - (2.0 + sd)).abs() < 1e-15);
        let plain = SafeScaler::fit(x.as_ref(), false).transform(x.as_ref());
        assert!((plain[(2, 0)] - 2.0 / sd).abs() < 1e-15);
        assert_eq!(plain[(0, 1)], 5.0);
        // An infinite test value is missing, so it takes the train mean.
        let test = faer::mat![[f64::INFINITY, 5.0]];
        assert_eq!(centred.transform(test.as_ref())[(0, 0)], 0.0);
    }
}
