//! The SVD features of the quantile pipeline (the package's global `svd` transformer: the safe
//! standard scaler without centring, then scikit-learn's `TruncatedSVD`).
//!
//! scikit-learn computes the `k` leading right singular vectors with ARPACK (an iterative
//! solver, from a random start vector); here they come from an exact dense SVD (faer), which is
//! the same up to the solver's tolerance, with the same sign rule (`svd_flip` with
//! `u_based_decision=False`: the entry of largest magnitude of each component is made positive,
//! the first such entry on a tie). The features of a row are its scaled values times the
//! components (scikit-learn's fit output `U Σ` is that, up to round-off).

use faer::{Mat, MatRef};

use super::scaler::SafeScaler;
use crate::{Error, Result};

/// The number of SVD features for `n_rows` train rows and `n_features` columns (before the
/// original columns are appended): `max(1, min(n_rows // 10 + 1, n_features // 2))`.
pub fn n_components(n_rows: usize, n_features: usize) -> usize {
    (n_rows / 10 + 1).min(n_features / 2).max(1)
}

/// A fitted scaler and the leading right singular vectors of the scaled train rows.
#[derive(Debug, Clone, PartialEq)]
pub struct SvdFeatures {
    scaler: SafeScaler,
    /// p x k, one component per column.
    components: Mat<f64>,
}

impl SvdFeatures {
    /// Fits `k` components on the train rows `x` (k ≤ both dimensions) and returns the train
    /// rows' features (n x k).
    pub fn fit(x: MatRef<'_, f64>, k: usize) -> Result<(SvdFeatures, Mat<f64>)> {
        let scaler = SafeScaler::fit(x, false);
        let scaled = scaler.transform(x);
        let svd = scaled.thin_svd().map_err(|e| {
            Error::Numerical(format!("TabPFN preprocessing: the SVD failed: {e:?}"))
        })?;
        let v = svd.V();
        let mut components = Mat::from_fn(x.ncols(), k, |i, c| v[(i, c)]);
        flip_signs(&mut components);
        let features = scaled.as_ref() * components.as_ref();
        Ok((SvdFeatures { scaler, components }, features))
    }

    /// The number of features.
    pub fn n_components(&self) -> usize {
        self.components.ncols()
    }

    /// The features of rows `x` (as many columns as the train rows).
    pub fn transform(&self, x: MatRef<'_, f64>) -> Mat<f64> {
        self.scaler.transform(x).as_ref() * self.components.as_ref()
    }
}

/// Makes the entry of largest magnitude of every component positive (the first on a tie).
fn flip_signs(components: &mut Mat<f64>) {
    for c in 0..components.ncols() {
        let mut largest = 0.0f64;
        for i in 0..components.nrows() {
            if components[(i, c)].abs() > largest.abs() {
                largest = components[(i, c)];
            }
        }
        if largest < 0.0 {
            for i in 0..components.nrows() {
                components[(i, c)] = -components[(i, c)];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_component_count_follows_the_package() {
        assert_eq!(n_components(30, 4), 2);
        assert_eq!(n_components(30, 100), 4);
        assert_eq!(n_components(5, 3), 1);
        assert_eq!(n_components(200, 1), 1);
    }

    #[test]
    fn the_largest_entry_of_each_component_turns_positive_the_first_on_a_tie() {
        let mut components = faer::mat![[0.6, -0.5, 0.7], [-0.8, 0.5, -0.7]];
        flip_signs(&mut components);
        assert_eq!(components, faer::mat![[-0.6, 0.5, 0.7], [0.8, -0.5, -0.7]]);
    }
}
