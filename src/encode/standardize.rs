//! Column standardisation fitted on training rows only (pitfall P8).

use faer::{Mat, MatRef};

use crate::encode::{ensure_finite, select_rows};
use crate::{Error, Result};

/// Per-column `(x − mean)/std`, with the mean and the population std (ddof = 0) of the fit rows,
/// as scikit-learn's `StandardScaler`. A constant column keeps a scale of 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    mean: Vec<f64>,
    scale: Vec<f64>,
    n_fit_rows: usize,
}

impl Standardizer {
    /// Fits on the rows `rows` of `x` (pass the training rows). Refuses an empty row set
    /// (`dataset.split`) and non-finite values.
    pub fn fit(x: MatRef<'_, f64>, rows: &[usize]) -> Result<Standardizer> {
        crate::ensure_config!(
            !rows.is_empty(),
            "dataset.split",
            "the standardizer needs at least one training row"
        );
        let fit = select_rows(x, rows)?;
        ensure_finite(fit.as_ref(), "standardizer input")?;
        let n = rows.len() as f64;
        let mean: Vec<f64> = (0..fit.ncols())
            .map(|j| (0..fit.nrows()).map(|i| fit[(i, j)]).sum::<f64>() / n)
            .collect();
        let scale = (0..fit.ncols())
            .map(|j| {
                let var = (0..fit.nrows())
                    .map(|i| (fit[(i, j)] - mean[j]).powi(2))
                    .sum::<f64>()
                    / n;
                if var > 0.0 { var.sqrt() } else { 1.0 }
            })
            .collect();
        Ok(Standardizer {
            mean,
            scale,
            n_fit_rows: rows.len(),
        })
    }

    /// `(x − mean)/scale` for every row of `x` (same columns as the fit).
    pub fn transform(&self, x: MatRef<'_, f64>) -> Result<Mat<f64>> {
        if x.ncols() != self.mean.len() {
            return Err(Error::Numerical(format!(
                "standardizer: fitted on {} columns, asked to transform {}",
                self.mean.len(),
                x.ncols()
            )));
        }
        Ok(Mat::from_fn(x.nrows(), x.ncols(), |i, j| {
            (x[(i, j)] - self.mean[j]) / self.scale[j]
        }))
    }

    /// The column means of the fit rows.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The column scales (population std of the fit rows, 1 for a constant column).
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// The number of rows it was fitted on.
    pub fn fitted_on_rows(&self) -> usize {
        self.n_fit_rows
    }
}
