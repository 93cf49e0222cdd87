//! The quantile transform to a uniform output (scikit-learn's `QuantileTransformer` with
//! `output_distribution="uniform"`, as the package's `AdaptiveQuantileTransformer` sets it up).
//!
//! Fit, per column: `n_quantiles = min(max(n // 5, 2), n)` reference levels `r = linspace(0, 1,
//! n_quantiles)` and the column's quantiles at them, `q = nanpercentile(column, 100 r)` (linear
//! interpolation between order statistics, missing values ignored), made non-decreasing by a
//! running maximum.
//!
//! Transform: a value `x` becomes `½ (interp(x, q, r) − interp(−x, −q reversed, −r reversed))`,
//! the average of the upper and the lower end of the run of repeated quantiles it falls on, with
//! NumPy's `interp` (which clamps outside `[q₀, q_last]`); then `x == q_last` gives 1 and
//! `x == q₀` gives 0 (in that order). Missing values stay missing.

use faer::{Mat, MatRef};

/// The largest number of quantiles the package allows (20 % of its subsample of 100,000 rows).
const MAX_QUANTILES: usize = 20_000;

/// A fitted uniform quantile transform.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantileTransform {
    references: Vec<f64>,
    /// Per column, the quantiles at the references.
    quantiles: Vec<Vec<f64>>,
}

impl QuantileTransform {
    /// Fits on the train rows `x`. A column with no value gets NaN quantiles and maps every
    /// value to NaN (the member pipeline refuses such a column before it gets here).
    pub fn fit(x: MatRef<'_, f64>) -> QuantileTransform {
        let n = x.nrows();
        let n_quantiles = (n / 5).max(2).min(n).clamp(1, MAX_QUANTILES);
        let references = linspace_unit(n_quantiles);
        let quantiles = (0..x.ncols())
            .map(|j| {
                let mut values: Vec<f64> =
                    (0..n).map(|i| x[(i, j)]).filter(|v| !v.is_nan()).collect();
                values.sort_by(f64::total_cmp);
                let mut running = f64::NEG_INFINITY;
                references
                    .iter()
                    .map(|&r| {
                        // NumPy's maximum.accumulate: a NaN propagates.
                        let p = percentile(&values, r * 100.0 / 100.0);
                        running = if p.is_nan() || running.is_nan() {
                            f64::NAN
                        } else {
                            running.max(p)
                        };
                        running
                    })
                    .collect()
            })
            .collect();
        QuantileTransform {
            references,
            quantiles,
        }
    }

    /// The number of reference levels.
    pub fn n_quantiles(&self) -> usize {
        self.references.len()
    }

    /// Maps each value to [0, 1]; missing values stay missing.
    pub fn transform(&self, x: MatRef<'_, f64>) -> Mat<f64> {
        let reversed_refs: Vec<f64> = self.references.iter().rev().map(|r| -r).collect();
        let reversed: Vec<Vec<f64>> = self
            .quantiles
            .iter()
            .map(|q| q.iter().rev().map(|v| -v).collect())
            .collect();
        Mat::from_fn(x.nrows(), x.ncols(), |i, j| {
            let v = x[(i, j)];
            if v.is_nan() {
                return v;
            }
            let q = &self.quantiles[j];
            let (first, last) = (q[0], q[q.len() - 1]);
            if first.is_nan() {
                f64::NAN
            } else if v == first {
                0.0
            } else if v == last {
                1.0
            } else {
                0.5 * (interp(v, q, &self.references) - interp(-v, &reversed[j], &reversed_refs))
            }
        })
    }
}

/// NumPy's `linspace(0, 1, n)`: `i * (1 / (n - 1))`, the last exactly 1.
fn linspace_unit(n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![0.0];
    }
    let step = 1.0 / (n - 1) as f64;
    (0..n)
        .map(|i| if i == n - 1 { 1.0 } else { i as f64 * step })
        .collect()
}

/// NumPy's `quantile(sorted, level, method="linear")` of sorted non-missing values, with its
/// `_lerp` (`b − (b − a)(1 − t)` for `t ≥ ½`).
fn percentile(sorted: &[f64], level: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let virtual_index = (n - 1) as f64 * level;
    if virtual_index >= (n - 1) as f64 {
        return sorted[n - 1];
    }
    if virtual_index < 0.0 {
        return sorted[0];
    }
    let below = virtual_index.floor();
    let (a, b) = (sorted[below as usize], sorted[below as usize + 1]);
    let t = virtual_index - below;
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// NumPy's `interp(x, xp, fp)` for non-decreasing `xp`: the last `j` with `xp[j] <= x`, clamped
/// to `fp`'s ends outside, `fp[j]` on a knot, else the line through knots `j` and `j + 1`.
fn interp(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    let n = xp.len();
    if x < xp[0] {
        return fp[0];
    }
    if x > xp[n - 1] {
        return fp[n - 1];
    }
    let j = xp.partition_point(|&k| k <= x) - 1;
    if j == n - 1 || xp[j] == x {
        return fp[j];
    }
    let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    let y = slope * (x - xp[j]) + fp[j];
    if !y.is_nan() {
        return y;
    }
    let y = slope * (x - xp[j + 1]) + fp[j + 1];
    if y.is_nan() && fp[j] == fp[j + 1] {
        fp[j]
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::tabpfn::preprocess::fixture;

    #[test]
    fn train_and_test_values_match_scikit_learn() {
        let train = fixture::matrix("small_train");
        let kept = train.as_ref().subcols(0, 4);
        let transform = QuantileTransform::fit(kept);
        assert_eq!(transform.n_quantiles(), 6);
        fixture::assert_close(
            &transform.transform(kept),
            &fixture::matrix("small_quantile_train"),
            1e-12,
            "train",
        );
        let test = fixture::matrix("small_test");
        fixture::assert_close(
            &transform.transform(test.as_ref().subcols(0, 4)),
            &fixture::matrix("small_quantile_test"),
            1e-12,
            "test",
        );
    }

    #[test]
    fn ties_take_the_middle_of_their_run_and_the_ends_clip() {
        // Five rows: max(5 // 5, 2) = 2 references, 0 and 1, at the quantiles 0 and 2.
        let x = faer::mat![[0.0], [1.0], [1.0], [1.0], [2.0]];
        let transform = QuantileTransform::fit(x.as_ref());
        assert_eq!(transform.n_quantiles(), 2);
        let x = faer::mat![[0.0], [1.0], [2.0], [-3.0], [9.0], [f64::NAN]];
        let out = transform.transform(x.as_ref());
        // The line x / 2 between them, clipped outside.
        let want = [0.0, 0.5, 1.0, 0.0, 1.0];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(out[(i, 0)], *w);
        }
        assert!(out[(5, 0)].is_nan());
    }

    #[test]
    fn a_column_without_values_maps_everything_to_nan() {
        let nan = f64::NAN;
        let transform = QuantileTransform::fit(faer::mat![[nan, 1.0], [nan, 2.0]].as_ref());
        let out = transform.transform(faer::mat![[0.5, 1.5]].as_ref());
        assert!(out[(0, 0)].is_nan());
        assert_eq!(out[(0, 1)], 0.5);
    }

    #[test]
    fn a_run_of_repeated_quantiles_maps_to_its_middle() {
        assert_eq!(
            interp(
                1.0,
                &[0.0, 1.0, 1.0, 1.0, 2.0],
                &[0.0, 0.25, 0.5, 0.75, 1.0]
            ),
            0.75
        );
        assert_eq!(
            interp(
                -1.0,
                &[-2.0, -1.0, -1.0, -1.0, 0.0],
                &[-1.0, -0.75, -0.5, -0.25, 0.0]
            ),
            -0.25
        );
        // ½ (0.75 + 0.25) = ½: the middle of the run 0.25 … 0.75.
    }
}
