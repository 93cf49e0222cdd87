//! The column shuffle of an ensemble member (the package's `ShuffleFeaturesStep` with
//! `FEATURE_SHIFT_METHOD = "shuffle"`): the transformer is not invariant to the order of the
//! columns, so each member sees them in its own order.

use faer::{Mat, MatRef};
use rand::Rng;
use rand::seq::SliceRandom;

/// A fixed order of the columns: output column `c` is input column `order[c]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnShuffle {
    order: Vec<usize>,
}

impl ColumnShuffle {
    /// The columns in their own order.
    pub fn identity(n_columns: usize) -> ColumnShuffle {
        ColumnShuffle {
            order: (0..n_columns).collect(),
        }
    }

    /// A uniformly random permutation of `n_columns` columns drawn from `rng`.
    pub fn random(n_columns: usize, rng: &mut impl Rng) -> ColumnShuffle {
        let mut order: Vec<usize> = (0..n_columns).collect();
        order.shuffle(rng);
        ColumnShuffle { order }
    }

    /// The input column of each output column.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// The columns of `x` in this order (`x` must have as many columns as the order).
    pub fn apply(&self, x: MatRef<'_, f64>) -> Mat<f64> {
        Mat::from_fn(x.nrows(), self.order.len(), |i, c| x[(i, self.order[c])])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_random_order_is_a_permutation_that_the_seed_fixes() {
        let a = ColumnShuffle::random(12, &mut crate::rng::stream(3, "t"));
        let b = ColumnShuffle::random(12, &mut crate::rng::stream(3, "t"));
        let c = ColumnShuffle::random(12, &mut crate::rng::stream(4, "t"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut sorted = a.order().to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..12).collect::<Vec<_>>());
        assert_ne!(a.order(), ColumnShuffle::identity(12).order());
    }

    #[test]
    fn applying_an_order_moves_whole_columns() {
        let x = faer::mat![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let shuffle = ColumnShuffle {
            order: vec![2, 0, 1],
        };
        let out = shuffle.apply(x.as_ref());
        assert_eq!(out, faer::mat![[3.0, 1.0, 2.0], [6.0, 4.0, 5.0]]);
    }
}
