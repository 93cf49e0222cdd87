//! Image encoders and the transforms fitted on training rows only (paper §2, pitfall P8).
//!
//! An [`ImageEncoder`] turns the images of chosen days into a feature matrix (rows = days).
//! Until the ViT lands, [`flatten::FlattenEncoder`] is the GNSS encoder: each image's pixels as
//! one row, reduced by [`pca::Pca`]. [`pca::Pca`] and [`standardize::Standardizer`] take the
//! rows they are fitted on explicitly, so a fit on anything but the training rows is visible at
//! the call site, and each records how many rows it was fitted on.

pub mod flatten;
pub mod pca;
pub mod standardize;

use faer::{Mat, MatRef};

use crate::gnss::stack::ImageStack;
use crate::{Error, Result};

pub use flatten::FlattenEncoder;
pub use pca::Pca;
pub use standardize::Standardizer;

/// Maps daily images to features.
pub trait ImageEncoder: Send + Sync {
    /// A stable name used in tables and config keys (e.g. `flatten`).
    fn name(&self) -> String;

    /// One row of features per entry of `days` (day indices into `stack`), in that order.
    fn encode(&self, stack: &ImageStack, days: &[usize]) -> Result<Mat<f64>>;
}

/// The rows `rows` of `x`, in that order.
pub fn select_rows(x: MatRef<'_, f64>, rows: &[usize]) -> Result<Mat<f64>> {
    if let Some(&r) = rows.iter().find(|&&r| r >= x.nrows()) {
        return Err(Error::Numerical(format!(
            "row {r} out of range for a matrix of {} rows",
            x.nrows()
        )));
    }
    Ok(Mat::from_fn(rows.len(), x.ncols(), |i, j| x[(rows[i], j)]))
}

/// Fails unless every value of `x` is finite; `what` names the matrix in the error.
pub(crate) fn ensure_finite(x: MatRef<'_, f64>, what: &str) -> Result<()> {
    for j in 0..x.ncols() {
        for i in 0..x.nrows() {
            if !x[(i, j)].is_finite() {
                return Err(Error::Numerical(format!(
                    "{what}: value at row {i}, column {j} is {} (missing values are dropped \
                     from the table, never filled)",
                    x[(i, j)]
                )));
            }
        }
    }
    Ok(())
}
