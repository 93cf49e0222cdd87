//! Dropping the columns that are constant over the train rows (the package's
//! `RemoveConstantFeaturesStep`).

use faer::{Mat, MatRef};

use crate::{Error, Result};

/// The columns kept: those not constant over the train rows.
///
/// A column is constant when every train value equals the first row's (`==`), so a column
/// holding a missing value (NaN, equal to nothing) is never constant, as in the package.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptColumns {
    kept: Vec<usize>,
}

impl KeptColumns {
    /// Finds the varying columns of the train rows `x`. Refuses (an [`Error::Numerical`]) when
    /// there is none: the model would have nothing to predict from.
    pub fn fit(x: MatRef<'_, f64>) -> Result<KeptColumns> {
        let kept: Vec<usize> = (0..x.ncols())
            .filter(|&j| (0..x.nrows()).any(|i| x[(i, j)] != x[(0, j)]))
            .collect();
        if kept.is_empty() {
            return Err(Error::Numerical(format!(
                "TabPFN: every one of the {} feature columns is constant over the {} train rows; \
                 there is nothing to predict from",
                x.ncols(),
                x.nrows()
            )));
        }
        Ok(KeptColumns { kept })
    }

    /// The positions (in the input) of the kept columns, ascending.
    pub fn kept(&self) -> &[usize] {
        &self.kept
    }

    /// The positions, among the kept columns, of those input columns in `positions` that are
    /// kept (the package's re-indexing of the categorical columns).
    pub fn remap(&self, positions: &[usize]) -> Vec<usize> {
        self.kept
            .iter()
            .enumerate()
            .filter(|(_, j)| positions.contains(j))
            .map(|(new, _)| new)
            .collect()
    }

    /// The kept columns of `x`, in order.
    pub fn transform(&self, x: MatRef<'_, f64>) -> Mat<f64> {
        Mat::from_fn(x.nrows(), self.kept.len(), |i, c| x[(i, self.kept[c])])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_columns_go_and_a_column_with_a_missing_value_stays() {
        let nan = f64::NAN;
        let x = faer::mat![
            [1.0, 2.0, nan, 4.0, nan],
            [1.0, 3.0, 5.0, 4.0, nan],
            [1.0, 2.0, 5.0, 4.0, nan],
        ];
        let kept = KeptColumns::fit(x.as_ref()).unwrap();
        assert_eq!(kept.kept(), &[1, 2, 4]);
        assert_eq!(kept.remap(&[0, 2, 3]), vec![1]);
        let out = kept.transform(x.as_ref());
        assert_eq!((out.nrows(), out.ncols()), (3, 3));
        assert_eq!(out[(1, 0)], 3.0);
        assert_eq!(out[(1, 1)], 5.0);
    }

    #[test]
    fn every_feature_constant_on_the_train_rows_is_refused() {
        let x = faer::mat![[1.0, 2.0], [1.0, 2.0]];
        let err = KeptColumns::fit(x.as_ref()).unwrap_err().to_string();
        assert!(
            err.contains("every one of the 2 feature columns is constant over the 2 train rows"),
            "{err}"
        );
    }
}
