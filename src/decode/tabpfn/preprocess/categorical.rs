//! The package's categorical rule for numeric data, and the ordinal codes it gives such columns.
//!
//! With more than 100 train rows, a column with fewer than 4 distinct train values (a missing
//! value counting as one) is taken as categorical (2.2.1 `infer_categorical_features` with
//! `MIN_NUMBER_SAMPLES_FOR_CATEGORICAL_INFERENCE = 100`, `MIN_UNIQUE_FOR_NUMERICAL_FEATURES = 4`).
//! The package then replaces such a column by ordinal codes (its `OrdinalEncoder`: the distinct
//! train values in ascending order become 0, 1, …; a missing value stays missing; a test value
//! not seen in the train rows becomes −1) and, because its encoder is a `ColumnTransformer`,
//! moves the coded columns in front of the others.
//!
//! Two quirks of the package are kept on purpose, so that a member sees what the package's
//! member sees:
//! - the coded columns come first, the other columns after them, each group in input order;
//! - the positions handed on as "categorical" (to [`crate::decode::tabpfn::preprocess`]'s
//!   distribution step, which passes such columns through untransformed) are the positions
//!   found in the raw columns, although the columns have moved (2.2.1 passes
//!   `inferred_categorical_indices_` to its members unchanged). With categorical columns at raw
//!   positions 1 and 3 of four, positions 1 and 3 of the reordered matrix (the second coded
//!   column and the second numeric one) are the ones passed through.

use faer::{Mat, MatRef};

/// Fewer train rows than this (or equal) and no column is taken as categorical.
const MIN_ROWS_FOR_INFERENCE: usize = 100;
/// A column with fewer distinct train values than this is categorical.
const MIN_DISTINCT_FOR_NUMERIC: usize = 4;

/// The categorical columns found on the train rows and their levels.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoricalCodes {
    n_columns: usize,
    /// Raw positions of the categorical columns, ascending.
    positions: Vec<usize>,
    /// Per categorical column, its distinct non-missing train values, ascending.
    levels: Vec<Vec<f64>>,
}

impl CategoricalCodes {
    /// Finds the categorical columns of the train rows `x` (none with 100 rows or fewer).
    pub fn fit(x: MatRef<'_, f64>) -> CategoricalCodes {
        let mut positions = Vec::new();
        let mut levels = Vec::new();
        if x.nrows() > MIN_ROWS_FOR_INFERENCE {
            for j in 0..x.ncols() {
                let mut values: Vec<f64> = (0..x.nrows())
                    .map(|i| x[(i, j)])
                    .filter(|v| !v.is_nan())
                    .map(unsigned_zero)
                    .collect();
                let has_missing = values.len() < x.nrows();
                values.sort_by(f64::total_cmp);
                values.dedup_by(|a, b| a == b);
                if values.len() + usize::from(has_missing) < MIN_DISTINCT_FOR_NUMERIC {
                    positions.push(j);
                    levels.push(values);
                }
            }
        }
        CategoricalCodes {
            n_columns: x.ncols(),
            positions,
            levels,
        }
    }

    /// The raw positions of the categorical columns, ascending: the positions handed on as
    /// categorical (the package's quirk, see the module doc).
    pub fn positions(&self) -> &[usize] {
        &self.positions
    }

    /// The coded categorical columns first, then the other columns, each group in input order.
    pub fn transform(&self, x: MatRef<'_, f64>) -> Mat<f64> {
        let others: Vec<usize> = (0..self.n_columns)
            .filter(|j| !self.positions.contains(j))
            .collect();
        let n_coded = self.positions.len();
        Mat::from_fn(x.nrows(), self.n_columns, |i, c| {
            if c < n_coded {
                code(&self.levels[c], x[(i, self.positions[c])])
            } else {
                x[(i, others[c - n_coded])]
            }
        })
    }
}

/// The ordinal code of `v` among `levels` (ascending): its index, NaN for a missing value, −1
/// for a value not among the levels.
fn code(levels: &[f64], v: f64) -> f64 {
    if v.is_nan() {
        return f64::NAN;
    }
    let v = unsigned_zero(v);
    levels
        .binary_search_by(|l| l.total_cmp(&v))
        .map_or(-1.0, |k| k as f64)
}

/// −0 as +0, so that the two zeros are one level (they compare equal).
fn unsigned_zero(v: f64) -> f64 {
    if v == 0.0 { 0.0 } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::tabpfn::preprocess::fixture;

    #[test]
    fn codes_and_column_order_match_the_package() {
        let train = fixture::matrix("cat_train");
        let codes = CategoricalCodes::fit(train.as_ref());
        let inferred: Vec<usize> = fixture::scalars()["cat_inferred"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(codes.positions(), inferred.as_slice());
        assert_eq!(codes.positions(), &[1, 3]);
        let encoded = codes.transform(train.as_ref());
        fixture::assert_close(
            &encoded,
            &fixture::matrix("cat_encoded_train"),
            0.0,
            "train",
        );
        let test = codes.transform(fixture::matrix("cat_test").as_ref());
        fixture::assert_close(&test, &fixture::matrix("cat_encoded_test"), 0.0, "test");
    }

    #[test]
    fn with_a_hundred_rows_or_fewer_nothing_is_categorical() {
        let x = Mat::from_fn(100, 2, |i, j| ((i + j) % 2) as f64);
        assert!(CategoricalCodes::fit(x.as_ref()).positions().is_empty());
        let x = Mat::from_fn(101, 2, |i, j| ((i * (j + 1)) % 4) as f64);
        assert_eq!(CategoricalCodes::fit(x.as_ref()).positions(), &[1]);
    }
}
