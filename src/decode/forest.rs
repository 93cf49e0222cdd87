//! Random forest regression on smartcore's trees (the paper's comparison decoder, §3.3).
//!
//! smartcore 0.7 grows a forest's trees one after another on one thread. Each tree here is
//! therefore its own one-tree smartcore forest (a bootstrap sample and a CART tree), fitted in
//! parallel with rayon and averaged. Tree `i` draws from its own seed, derived from
//! `seed` and `i`, so the forest is the same whatever the number of threads.

use faer::MatRef;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::ensemble::random_forest_regressor::{
    RandomForestRegressor, RandomForestRegressorParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::{DecoderSettings, Regressor, check_fit_input, check_predict_input, not_fitted};
use crate::{Error, Result};

/// Settings of the random forest (`kind = "random_forest"`): smartcore trees, fitted in parallel.
///
/// The defaults are scikit-learn's `RandomForestRegressor` defaults, except `n_trees` (100
/// there too) which is kept modest for quick runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The seed of the bootstrap samples and feature draws (default 0).
    pub seed: u64,
}

impl Default for RandomForestSettings {
    fn default() -> Self {
        RandomForestSettings {
            n_trees: 100,
            max_depth: None,
            min_samples_leaf: 1,
            min_samples_split: 2,
            max_features: None,
            seed: 0,
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

impl Regressor for RandomForest {
    fn name(&self) -> String {
        "random_forest".to_string()
    }

    fn fit(&mut self, x: MatRef<'_, f64>, y: &[f64]) -> Result<()> {
        check_fit_input("random_forest", x, y, None)?;
        let n_features = x.ncols();
        let settings = &self.settings;
        let max_features = settings.max_features.unwrap_or(n_features);
        crate::ensure_config!(
            max_features <= n_features,
            "decoder.max_features",
            "is {max_features}, but the training matrix has only {n_features} columns"
        );
        let x_dense = dense(x)?;
        let y = y.to_vec();
        let trees = (0..settings.n_trees)
            .into_par_iter()
            .map(|tree| {
                let parameters = RandomForestRegressorParameters {
                    max_depth: settings.max_depth,
                    min_samples_leaf: settings.min_samples_leaf,
                    min_samples_split: settings.min_samples_split,
                    n_trees: 1,
                    m: Some(max_features),
                    keep_samples: false,
                    seed: tree_seed(settings.seed, tree),
                };
                RandomForestRegressor::fit(&x_dense, &y, parameters)
                    .map_err(|e| Error::Numerical(format!("random_forest: tree {tree}: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        self.fitted = Some(Fitted { trees, n_features });
        Ok(())
    }

    fn predict(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        let Some(fitted) = &self.fitted else {
            return Err(not_fitted("random_forest"));
        };
        check_predict_input("random_forest", x, fitted.n_features)?;
        if x.nrows() == 0 {
            return Ok(Vec::new());
        }
        let x_dense = dense(x)?;
        let per_tree = fitted
            .trees
            .par_iter()
            .map(|tree| {
                tree.predict(&x_dense)
                    .map_err(|e| Error::Numerical(format!("random_forest: {e}")))
            })
            .collect::<Result<Vec<Vec<f64>>>>()?;
        // Summed in tree order, so the mean does not depend on the thread schedule.
        let mut mean = vec![0.0; x.nrows()];
        for predictions in &per_tree {
            for (m, p) in mean.iter_mut().zip(predictions) {
                *m += p;
            }
        }
        let n_trees = per_tree.len() as f64;
        Ok(mean.into_iter().map(|m| m / n_trees).collect())
    }
}

#[cfg(test)]
mod tests {
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

    fn fit(settings: &RandomForestSettings, x: &Mat<f64>, y: &[f64]) -> Box<dyn Regressor> {
        let mut model = settings.build(&names(x.ncols())).unwrap();
        model.fit(x.as_ref(), y).unwrap();
        model
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
    fn same_seed_same_forest_whatever_the_thread_count() {
        let (x, y) = table(150, 3);
        let (x_test, _) = table(40, 4);
        let settings = RandomForestSettings {
            n_trees: 12,
            max_features: Some(2),
            seed: 7,
            ..RandomForestSettings::default()
        };
        let predict_on = |threads: usize, settings: &RandomForestSettings| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| fit(settings, &x, &y).predict(x_test.as_ref()).unwrap())
        };
        let one = predict_on(1, &settings);
        assert_eq!(one, predict_on(3, &settings));
        let other_seed = RandomForestSettings {
            seed: 8,
            ..settings.clone()
        };
        assert_ne!(one, predict_on(1, &other_seed));
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
}
