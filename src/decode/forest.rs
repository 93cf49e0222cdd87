//! Random forest regression on smartcore's trees (the paper's comparison decoder, §3.3).
//!
//! smartcore 0.7 grows a forest's trees one after another on one thread. Each tree here is
//! therefore its own one-tree smartcore forest (a bootstrap sample and a CART tree), fitted in
//! parallel with rayon (within the fit context's thread budget) and averaged. Tree `i` draws
//! from its own seed, derived from the fit's seed and `i`, so the forest is the same whatever
//! the number of threads.
//!
//! # Quantiles
//!
//! [`Regressor::predict_distribution`] gives, per row, the empirical quantiles (type 7, see
//! [`empirical_quantile`]) and the median of the trees' predictions; the mean is the forest's
//! prediction. This is the spread of the trees, not Meinshausen's quantile regression forest
//! (which weighs the training labels of the leaves): a tree predicts its leaf's mean, so with
//! leaves of many rows the spread understates the labels' own scatter. With fully grown trees
//! (`min_samples_leaf = 1`) each tree predicts one training label and the two come close.
//!
//! # Size
//!
//! Before fitting, the forest's memory is bounded from above (trees × the most nodes a tree
//! can have × bytes per node, plus each thread's fitting work space) and a fit over
//! `max_memory_gib` is refused with the estimate, so `n_trees = 100000000` fails at once
//! instead of filling the memory for minutes. Fits show a progress bar on a terminal.

use faer::MatRef;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::ensemble::random_forest_regressor::{
    RandomForestRegressor, RandomForestRegressorParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::{
    DecoderSettings, FitContext, Prediction, PredictiveDistribution, QuantileLevels, Regressor,
    check_fit_input, check_predict_input, empirical_quantile, not_fitted,
};
use crate::{Error, Result};

/// Settings of the random forest (`kind = "random_forest"`): smartcore trees, fitted in parallel.
///
/// The defaults are scikit-learn's `RandomForestRegressor` defaults, except `n_trees` (100
/// there too) which is kept modest for quick runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RandomForestSettings {
    /// The number of trees (default 100).
    pub n_trees: usize,
    /// The deepest a tree may grow; unset (the default) grows each tree until its leaves are
    /// pure or too small to split.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_depth: Option<u16>,
    /// The fewest training rows in a leaf (default 1).
    pub min_samples_leaf: usize,
    /// The fewest training rows in a node that may be split (default 2).
    pub min_samples_split: usize,
    /// How many features, drawn at random, each split considers; unset (the default) means
    /// all of them, as scikit-learn does for regression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_features: Option<usize>,
    /// An explicit seed for the bootstrap samples and feature draws, overriding the fit
    /// context's. Unset (the default), the seed follows the experiment: the runner derives it
    /// from `experiment.seed`, the split and the decoder. Set it only to grow the very same
    /// forest under different experiment seeds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The most memory, in GiB, a fit may be estimated to need (default 8); a larger forest is
    /// refused before fitting, with the estimate. Raise it for a forest known to fit.
    pub max_memory_gib: f64,
}

impl Default for RandomForestSettings {
    fn default() -> Self {
        RandomForestSettings {
            n_trees: 100,
            max_depth: None,
            min_samples_leaf: 1,
            min_samples_split: 2,
            max_features: None,
            seed: None,
            max_memory_gib: 8.0,
        }
    }
}

impl DecoderSettings for RandomForestSettings {
    fn check(&self) -> Result<()> {
        crate::ensure_config!(self.n_trees >= 1, "decoder.n_trees", "must be at least 1");
        crate::ensure_config!(
            self.max_depth != Some(0),
            "decoder.max_depth",
            "must be at least 1 (or left unset for no limit)"
        );
        crate::ensure_config!(
            self.min_samples_leaf >= 1,
            "decoder.min_samples_leaf",
            "must be at least 1"
        );
        crate::ensure_config!(
            self.min_samples_split >= 2,
            "decoder.min_samples_split",
            "must be at least 2, got {}",
            self.min_samples_split
        );
        crate::ensure_config!(
            self.max_features != Some(0),
            "decoder.max_features",
            "must be at least 1 (or left unset for all features)"
        );
        crate::ensure_config!(
            self.max_memory_gib.is_finite() && self.max_memory_gib > 0.0,
            "decoder.max_memory_gib",
            "must be a positive number of GiB, got {}",
            self.max_memory_gib
        );
        Ok(())
    }

    fn build(&self, feature_names: &[String]) -> Result<Box<dyn Regressor>> {
        if let Some(max_features) = self.max_features {
            crate::ensure_config!(
                max_features <= feature_names.len(),
                "decoder.max_features",
                "is {max_features}, but the table has only {} feature columns",
                feature_names.len()
            );
        }
        Ok(Box::new(RandomForest {
            settings: self.clone(),
            fitted: None,
        }))
    }

    /// True unless `seed` pins the forest: only then does the fit ignore the context's seed.
    fn is_stochastic(&self) -> bool {
        self.seed.is_none()
    }
}

/// Bytes of one smartcore tree node on a 64-bit target: an `f64` output, a `usize` feature
/// index, two `Option<f64>` and two `Option<usize>` (16 bytes each).
const NODE_BYTES: f64 = 80.0;

/// Bytes of one tree besides its nodes: the one-tree smartcore forest around it, its
/// parameters and vectors' headers (an upper bound).
const TREE_BYTES: f64 = 512.0;

/// Bytes per training row and feature of one tree being fitted: smartcore sorts every feature
/// column once per tree, keeping the order (`usize`) and the sorted values (`f64`).
const FIT_BYTES_PER_CELL: f64 = 16.0;

const GIB: f64 = (1u64 << 30) as f64;

/// An upper bound on the memory of a forest fitted on `n_rows` × `n_features` with
/// `threads` threads.
#[derive(Debug, Clone, Copy, PartialEq)]
struct SizeEstimate {
    /// The most nodes one tree can have.
    nodes_per_tree: f64,
    /// The fitted trees, in bytes.
    forest_bytes: f64,
    /// The work space of the trees being fitted at once, in bytes.
    fit_bytes: f64,
}

impl SizeEstimate {
    fn new(
        settings: &RandomForestSettings,
        n_rows: usize,
        n_features: usize,
        threads: usize,
    ) -> Self {
        // A binary tree with L leaves has 2L − 1 nodes. Each leaf holds at least
        // min_samples_leaf of the n bootstrap rows, and a tree of depth d has at most 2^d
        // leaves.
        let by_rows = (n_rows / settings.min_samples_leaf).max(1) as f64;
        let by_depth = settings
            .max_depth
            .map_or(f64::INFINITY, |d| 2f64.powi(i32::from(d)));
        let nodes_per_tree = 2.0 * by_rows.min(by_depth) - 1.0;
        let trees = settings.n_trees as f64;
        let in_flight = threads.min(settings.n_trees).max(1) as f64;
        SizeEstimate {
            nodes_per_tree,
            forest_bytes: trees * (TREE_BYTES + nodes_per_tree * NODE_BYTES),
            fit_bytes: in_flight * n_rows as f64 * n_features as f64 * FIT_BYTES_PER_CELL,
        }
    }

    /// Refuses an estimate above `settings.max_memory_gib`, with the numbers.
    fn check(&self, settings: &RandomForestSettings, n_rows: usize, threads: usize) -> Result<()> {
        let total_gib = (self.forest_bytes + self.fit_bytes) / GIB;
        crate::ensure_config!(
            total_gib.total_cmp(&settings.max_memory_gib).is_le(),
            "decoder.n_trees",
            "the forest would need up to {total_gib:.3e} GiB ({} trees × up to {} nodes of {} \
             bytes for {n_rows} training rows = {:.3e} GiB, plus {:.3e} GiB of fitting work \
             space on {threads} threads), more than decoder.max_memory_gib = {}; lower \
             decoder.n_trees, set decoder.max_depth or a larger decoder.min_samples_leaf, or \
             raise decoder.max_memory_gib",
            settings.n_trees,
            self.nodes_per_tree,
            NODE_BYTES,
            self.forest_bytes / GIB,
            self.fit_bytes / GIB,
            settings.max_memory_gib
        );
        Ok(())
    }
}

type Tree = RandomForestRegressor<f64, f64, DenseMatrix<f64>, Vec<f64>>;

/// The trees and the column count seen by `fit`.
struct Fitted {
    trees: Vec<Tree>,
    n_features: usize,
}

/// A random forest whose trees are fitted in parallel.
struct RandomForest {
    settings: RandomForestSettings,
    fitted: Option<Fitted>,
}

/// Tree `tree`'s seed: the forest's seed and the tree's index mixed by SplitMix64, so that
/// nearby seeds or indices give unrelated streams.
fn tree_seed(seed: u64, tree: usize) -> u64 {
    let mut z = seed.wrapping_add(
        (tree as u64)
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `x` as smartcore's dense matrix (both store columns contiguously).
fn dense(x: MatRef<'_, f64>) -> Result<DenseMatrix<f64>> {
    let values: Vec<f64> = (0..x.ncols())
        .flat_map(|j| x.col(j).iter().copied())
        .collect();
    DenseMatrix::new(x.nrows(), x.ncols(), values, true)
        .map_err(|e| Error::Numerical(format!("random_forest: {e}")))
}

impl RandomForest {
    /// Every tree's predictions for the rows of `x`, in tree order (`[tree][row]`).
    fn tree_predictions(&self, x: MatRef<'_, f64>) -> Result<Vec<Vec<f64>>> {
        let Some(fitted) = &self.fitted else {
            return Err(not_fitted("random_forest"));
        };
        check_predict_input("random_forest", x, fitted.n_features)?;
        if x.nrows() == 0 {
            return Ok(vec![Vec::new(); fitted.trees.len()]);
        }
        let x_dense = dense(x)?;
        fitted
            .trees
            .par_iter()
            .map(|tree| {
                tree.predict(&x_dense)
                    .map_err(|e| Error::Numerical(format!("random_forest: {e}")))
            })
            .collect()
    }
}

/// The mean over trees of each row, summed in tree order so that it does not depend on the
/// thread schedule.
fn tree_mean(per_tree: &[Vec<f64>], n_rows: usize) -> Vec<f64> {
    let mut mean = vec![0.0; n_rows];
    for predictions in per_tree {
        for (m, p) in mean.iter_mut().zip(predictions) {
            *m += p;
        }
    }
    let n_trees = per_tree.len() as f64;
    mean.into_iter().map(|m| m / n_trees).collect()
}

impl Regressor for RandomForest {
    fn name(&self) -> String {
        "random_forest".to_string()
    }

    fn fit(&mut self, x: MatRef<'_, f64>, y: &[f64], ctx: &FitContext<'_>) -> Result<()> {
        check_fit_input("random_forest", x, y, None, ctx)?;
        let (n_rows, n_features) = (x.nrows(), x.ncols());
        let settings = &self.settings;
        let max_features = settings.max_features.unwrap_or(n_features);
        crate::ensure_config!(
            max_features <= n_features,
            "decoder.max_features",
            "is {max_features}, but the training matrix has only {n_features} columns"
        );
        SizeEstimate::new(settings, n_rows, n_features, ctx.threads()).check(
            settings,
            n_rows,
            ctx.threads(),
        )?;
        let seed = settings.seed.unwrap_or(ctx.seed());
        let x_dense = dense(x)?;
        let y = y.to_vec();
        let bar = if ctx.shows_progress() {
            crate::progress::bar(settings.n_trees as u64, "random forest")
        } else {
            indicatif::ProgressBar::hidden()
        };
        let trees = ctx.install(|| {
            (0..settings.n_trees)
                .into_par_iter()
                .map(|tree| {
                    let parameters = RandomForestRegressorParameters {
                        max_depth: settings.max_depth,
                        min_samples_leaf: settings.min_samples_leaf,
                        min_samples_split: settings.min_samples_split,
                        n_trees: 1,
                        m: Some(max_features),
                        keep_samples: false,
                        seed: tree_seed(seed, tree),
                    };
                    let fitted = RandomForestRegressor::fit(&x_dense, &y, parameters)
                        .map_err(|e| Error::Numerical(format!("random_forest: tree {tree}: {e}")));
                    bar.inc(1);
                    fitted
                })
                .collect::<Result<Vec<_>>>()
        });
        bar.finish_and_clear();
        let trees = trees??;
        self.fitted = Some(Fitted { trees, n_features });
        Ok(())
    }

    fn predict(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        let per_tree = self.tree_predictions(x)?;
        Ok(tree_mean(&per_tree, x.nrows()))
    }

    fn predict_distribution(
        &self,
        x: MatRef<'_, f64>,
        levels: &QuantileLevels,
    ) -> Result<Prediction> {
        let per_tree = self.tree_predictions(x)?;
        let n_rows = x.nrows();
        let mean = tree_mean(&per_tree, n_rows);
        if levels.is_empty() {
            return Ok(Prediction::Point(mean));
        }
        let mut median = Vec::with_capacity(n_rows);
        let mut quantiles = vec![Vec::with_capacity(n_rows); levels.len()];
        let mut sorted = Vec::with_capacity(per_tree.len());
        for row in 0..n_rows {
            sorted.clear();
            sorted.extend(per_tree.iter().map(|predictions| predictions[row]));
            sorted.sort_by(f64::total_cmp);
            median.push(empirical_quantile(&sorted, 0.5));
            for (series, &level) in quantiles.iter_mut().zip(levels.levels()) {
                series.push(empirical_quantile(&sorted, level));
            }
        }
        PredictiveDistribution::new(mean, median, levels.clone(), quantiles)
            .map(Prediction::Distribution)
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;

    use faer::Mat;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// y = 3·x0 + 2·[x1 > 0.5]: a slope plus a step, no noise.
    fn target(x0: f64, x1: f64) -> f64 {
        3.0 * x0 + if x1 > 0.5 { 2.0 } else { 0.0 }
    }

    fn table(n: usize, seed: u64) -> (Mat<f64>, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = Mat::from_fn(n, 3, |_, _| rng.random::<f64>());
        let y = (0..n).map(|i| target(x[(i, 0)], x[(i, 1)])).collect();
        (x, y)
    }

    fn mse(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(p, q)| (p - q).powi(2)).sum::<f64>() / a.len() as f64
    }

    fn names(p: usize) -> Vec<String> {
        (0..p).map(|j| format!("x{j}")).collect()
    }

    fn fit_with(
        settings: &RandomForestSettings,
        x: &Mat<f64>,
        y: &[f64],
        ctx: &FitContext<'_>,
    ) -> Box<dyn Regressor> {
        let mut model = settings.build(&names(x.ncols())).unwrap();
        model.fit(x.as_ref(), y, ctx).unwrap();
        model
    }

    fn fit(settings: &RandomForestSettings, x: &Mat<f64>, y: &[f64]) -> Box<dyn Regressor> {
        fit_with(settings, x, y, &FitContext::new(0))
    }

    #[test]
    fn fits_a_slope_and_a_step_and_beats_climatology() {
        let (x, y) = table(400, 1);
        let (x_test, y_test) = table(200, 2);
        let settings = RandomForestSettings {
            n_trees: 50,
            ..RandomForestSettings::default()
        };
        let model = fit(&settings, &x, &y);

        // x0 and x1 are independent uniforms, so var(y) = 9·(1/12) + 4·(1/4) = 1.75. Fully
        // grown trees reproduce the training points they saw, so the training error is a small
        // fraction of it.
        let train_mse = mse(&model.predict(x.as_ref()).unwrap(), &y);
        assert!(train_mse < 0.02 * 1.75, "training MSE {train_mse}");

        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let climatology_mse = mse(&vec![mean; y_test.len()], &y_test);
        let forest_mse = mse(&model.predict(x_test.as_ref()).unwrap(), &y_test);
        assert!(
            forest_mse < 0.1 * climatology_mse,
            "forest {forest_mse} vs climatology {climatology_mse}"
        );
    }

    #[test]
    fn seed_follows_the_context_and_is_the_same_for_any_thread_count() {
        let (x, y) = table(150, 3);
        let (x_test, _) = table(40, 4);
        let settings = RandomForestSettings {
            n_trees: 12,
            max_features: Some(2),
            ..RandomForestSettings::default()
        };
        let predict_on = |threads: usize, seed: u64, settings: &RandomForestSettings| {
            let ctx = FitContext::new(seed).with_threads(NonZeroUsize::new(threads).unwrap());
            fit_with(settings, &x, &y, &ctx)
                .predict(x_test.as_ref())
                .unwrap()
        };
        let one = predict_on(1, 7, &settings);
        assert_eq!(one, predict_on(3, 7, &settings));
        assert_ne!(one, predict_on(1, 8, &settings));
        // An explicit seed overrides the context's.
        let fixed = RandomForestSettings {
            seed: Some(7),
            ..settings.clone()
        };
        assert_eq!(predict_on(1, 8, &fixed), predict_on(2, 9, &fixed));
        assert_eq!(predict_on(1, 8, &fixed), one);
    }

    #[test]
    fn settings_that_do_not_fit_the_table_are_refused() {
        let settings = RandomForestSettings {
            max_features: Some(4),
            ..RandomForestSettings::default()
        };
        match settings.build(&names(3)).err() {
            Some(Error::Config { key, .. }) => assert_eq!(key, "decoder.max_features"),
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn tree_seeds_differ_between_trees_and_forests() {
        let seeds: std::collections::HashSet<u64> = (0..2)
            .flat_map(|seed| (0..100).map(move |tree| tree_seed(seed, tree)))
            .collect();
        assert_eq!(seeds.len(), 200);
    }

    #[test]
    fn size_bound_by_hand() {
        let settings = RandomForestSettings {
            n_trees: 10,
            ..RandomForestSettings::default()
        };
        // 100 rows, leaves of one row: at most 100 leaves, 199 nodes per tree; 10 trees of
        // 512 + 199·80 bytes; 4 trees in flight, each 100·3·16 bytes of work space.
        let size = SizeEstimate::new(&settings, 100, 3, 4);
        assert_eq!(size.nodes_per_tree, 199.0);
        assert_eq!(size.forest_bytes, 10.0 * (512.0 + 199.0 * 80.0));
        assert_eq!(size.fit_bytes, 4.0 * 100.0 * 3.0 * 16.0);
        // Depth 3 allows 8 leaves (15 nodes); leaves of 40 rows allow 2 (3 nodes).
        let shallow = RandomForestSettings {
            max_depth: Some(3),
            ..settings.clone()
        };
        assert_eq!(SizeEstimate::new(&shallow, 100, 3, 4).nodes_per_tree, 15.0);
        let wide_leaves = RandomForestSettings {
            min_samples_leaf: 40,
            ..shallow
        };
        assert_eq!(
            SizeEstimate::new(&wide_leaves, 100, 3, 4).nodes_per_tree,
            3.0
        );
        // More threads than trees: only the trees are in flight.
        assert_eq!(
            SizeEstimate::new(&settings, 100, 3, 64).fit_bytes,
            10.0 * 4800.0
        );
    }

    #[test]
    fn distribution_mean_is_the_prediction_and_quantiles_are_ordered() {
        let (x, y) = table(120, 5);
        let (x_test, _) = table(30, 6);
        let model = fit(
            &RandomForestSettings {
                n_trees: 25,
                ..RandomForestSettings::default()
            },
            &x,
            &y,
        );
        let levels = QuantileLevels::default();
        let prediction = model
            .predict_distribution(x_test.as_ref(), &levels)
            .unwrap();
        let point = model.predict(x_test.as_ref()).unwrap();
        assert_eq!(prediction.point(), point);
        let d = prediction.distribution().unwrap();
        for row in 0..x_test.nrows() {
            let q = d.row_quantiles(row);
            assert!(q.windows(2).all(|w| w[0] <= w[1]), "row {row}: {q:?}");
            // The 0.5 level is the median.
            assert_eq!(q[2], d.median()[row]);
        }
        let none = model
            .predict_distribution(x_test.as_ref(), &QuantileLevels::new(vec![]).unwrap())
            .unwrap();
        assert_eq!(none, Prediction::Point(point));
    }

    #[test]
    fn quantiles_of_two_valued_trees_by_hand() {
        // Two rows, x = 0 and 1, y = 0 and 10. A bootstrap sample of both rows grows a stump
        // that predicts 0 at x = 0; a sample of row 0 twice predicts 0 everywhere, of row 1
        // twice 10 everywhere. So at x = 0 each tree predicts 0 or 10, and with k trees at 0
        // (k = T·(1 − mean/10), read off the mean) the sorted predictions are k zeros and
        // T − k tens: the type-7 quantile at level τ is 0 for h = (T − 1)τ ≤ k − 1, 10 for
        // h ≥ k, and 10·(h − (k − 1)) in between.
        let x = Mat::from_fn(2, 1, |i, _| i as f64);
        let n_trees = 40;
        let model = fit(
            &RandomForestSettings {
                n_trees,
                ..RandomForestSettings::default()
            },
            &x,
            &[0.0, 10.0],
        );
        let levels = QuantileLevels::new(vec![0.05, 0.3, 0.5, 0.8, 0.95]).unwrap();
        let at_zero = Mat::from_fn(1, 1, |_, _| 0.0);
        let prediction = model
            .predict_distribution(at_zero.as_ref(), &levels)
            .unwrap();
        let mean = prediction.point()[0];
        let k = (n_trees as f64 * (1.0 - mean / 10.0)).round();
        assert!(
            (n_trees as f64 * (1.0 - mean / 10.0) - k).abs() < 1e-9,
            "mean {mean}"
        );
        assert!(k > 0.0 && k < n_trees as f64, "k = {k}: all trees alike");
        let by_hand = |level: f64| {
            let h = (n_trees as f64 - 1.0) * level;
            if h <= k - 1.0 {
                0.0
            } else if h >= k {
                10.0
            } else {
                10.0 * (h - (k - 1.0))
            }
        };
        let d = prediction.distribution().unwrap();
        for (k_level, &level) in levels.levels().iter().enumerate() {
            let got = d.quantile(k_level)[0];
            assert!(
                (got - by_hand(level)).abs() < 1e-9,
                "{level}: {got} vs {}",
                by_hand(level)
            );
        }
        assert!((d.median()[0] - by_hand(0.5)).abs() < 1e-9);
    }
}
