//! The priors a PFN is pretrained on: seeded, streaming generators of synthetic regression
//! tasks.
//!
//! A task is what the network sees in one forward pass ([`PriorTask`]): `n_rows` rows of
//! `n_features` features and a real target, the first `n_train` rows with their targets as
//! context, the rest as the rows to predict. Three priors make tasks:
//!
//! - [`MlpPrior`]: a random structural causal model, a randomly drawn MLP fed by random causes,
//!   with features and target read from its nodes (Hollmann et al. 2023, TabPFN v1, §4);
//! - [`GpPrior`]: a Gaussian process with a random kernel, length scales and noise;
//! - [`SeismicPrior`]: a smooth, autocorrelated daily series forecast `h` days ahead from
//!   lagged values and windowed means, like the daily tables quakelab builds.
//!
//! [`Prior`] mixes them by the weights of a [`PriorConfig`] (the `[pfn.prior]` section of a
//! file):
//!
//! ```toml
//! [pfn.prior]
//! rows = [32, 512]
//! features = [1, 10]
//! weights = { mlp = 2.0, gp = 1.0, seismic = 1.0 }
//! gp.length_scale = [0.2, 5.0]
//! ```
//!
//! # Streams
//!
//! Task `i` of seed `s` depends on `(s, i)` only: it is drawn from
//! `rng::stream(s, "pfn.prior.task.{i}")` ([`Prior::task`]). A batch of tasks of one shared
//! size ([`Prior::batch`]) draws its size from `rng::stream(s, "pfn.prior.batch.{b}")` and its
//! task `j` from `rng::stream(s, "pfn.prior.batch.{b}.task.{j}")`. So a resumed run draws the
//! same tasks, and tasks can be drawn in parallel and in any order.
//!
//! # Train and test rows
//!
//! The first `n_train` rows of a task are its context, the others its test rows; `n_train` is
//! uniform in `[⌈n/2⌉, n − 1]`, so every task has at least one test row and at least as many
//! training rows as test rows. The seismic prior's rows are consecutive days, so its test rows
//! are the days after its training rows.
//!
//! # Scale
//!
//! Nothing is standardised here: the model standardises its inputs and the loss its target.
//! Every value is finite, and each prior documents its scale (order one for the MLP and GP
//! priors and the continuous seismic series; counts of order `count_mean` for the count series).

mod gp;
mod mlp;
mod seismic;
pub mod show;

use std::path::Path;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use gp::{GpDraw, GpPrior, GpPriorConfig, KernelKind};
pub use mlp::{Activation, MlpPrior, MlpPriorConfig};
pub use seismic::{SeismicPrior, SeismicPriorConfig};

use crate::{Error, Result, rng};

/// The most rows a task may have while the GP prior is drawn: it factors an n × n covariance.
pub const GP_MAX_ROWS: usize = 1024;

/// Which prior made a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorKind {
    /// [`MlpPrior`], the structural causal model.
    Mlp,
    /// [`GpPrior`], the Gaussian process.
    Gp,
    /// [`SeismicPrior`], the daily autocorrelated series.
    Seismic,
}

impl PriorKind {
    /// Every kind, in the order of the mixture weights.
    pub const ALL: [PriorKind; 3] = [PriorKind::Mlp, PriorKind::Gp, PriorKind::Seismic];

    /// The kind as written in files and figures: `mlp`, `gp`, `seismic`.
    pub fn name(&self) -> &'static str {
        match self {
            PriorKind::Mlp => "mlp",
            PriorKind::Gp => "gp",
            PriorKind::Seismic => "seismic",
        }
    }
}

/// One synthetic regression task, in f32 as the network consumes it.
///
/// Rows are row-major in `x` (`n_rows × n_features`); the first `n_train` rows are the
/// training (context) rows, the rest the test rows. Built only by [`PriorTask::new`], which
/// checks the shapes, the split and that every value is finite.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorTask {
    x: Vec<f32>,
    y: Vec<f32>,
    n_rows: usize,
    n_features: usize,
    n_train: usize,
    kind: PriorKind,
}

impl PriorTask {
    /// A task from row-major features `x` (`n_rows × n_features`, `n_rows = y.len()`) and
    /// targets `y`, the first `n_train` rows for training. Refuses a shape that does not add
    /// up, a split without a training or a test row, and any non-finite value.
    pub fn new(
        x: Vec<f32>,
        y: Vec<f32>,
        n_features: usize,
        n_train: usize,
        kind: PriorKind,
    ) -> Result<Self> {
        let n_rows = y.len();
        if n_features == 0 || x.len() != n_rows * n_features {
            return Err(Error::Numerical(format!(
                "{} prior task: {} feature values for {n_rows} rows of {n_features} features",
                kind.name(),
                x.len()
            )));
        }
        if n_train == 0 || n_train >= n_rows {
            return Err(Error::Numerical(format!(
                "{} prior task: {n_train} training rows of {n_rows}; a task needs at least one \
                 training and one test row",
                kind.name()
            )));
        }
        if let Some(at) = x.iter().chain(&y).position(|v| !v.is_finite()) {
            return Err(Error::Numerical(format!(
                "{} prior task: value {at} (features first, then targets) is not finite",
                kind.name()
            )));
        }
        Ok(PriorTask {
            x,
            y,
            n_rows,
            n_features,
            n_train,
            kind,
        })
    }

    /// The features, row-major, `n_rows × n_features`.
    pub fn x(&self) -> &[f32] {
        &self.x
    }

    /// The targets, one per row.
    pub fn y(&self) -> &[f32] {
        &self.y
    }

    /// The number of rows, training and test.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// The number of features per row.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The number of training rows (the first rows); at least 1 and below `n_rows`.
    pub fn n_train(&self) -> usize {
        self.n_train
    }

    /// The number of test rows (the last rows), `n_rows − n_train`.
    pub fn n_test(&self) -> usize {
        self.n_rows - self.n_train
    }

    /// The prior that made the task.
    pub fn kind(&self) -> PriorKind {
        self.kind
    }

    /// The features of the training rows, row-major.
    pub fn x_train(&self) -> &[f32] {
        &self.x[..self.n_train * self.n_features]
    }

    /// The features of the test rows, row-major.
    pub fn x_test(&self) -> &[f32] {
        &self.x[self.n_train * self.n_features..]
    }

    /// The targets of the training rows.
    pub fn y_train(&self) -> &[f32] {
        &self.y[..self.n_train]
    }

    /// The targets of the test rows.
    pub fn y_test(&self) -> &[f32] {
        &self.y[self.n_train..]
    }

    /// The value of feature `feature` in row `row`.
    ///
    /// # Panics
    /// If `row` or `feature` is out of range.
    pub fn value(&self, row: usize, feature: usize) -> f32 {
        assert!(
            feature < self.n_features,
            "feature {feature} of {}",
            self.n_features
        );
        self.x[row * self.n_features + feature]
    }
}

/// A batch of tasks of one shared size, as the training loop consumes them.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorBatch {
    /// Rows per task.
    pub n_rows: usize,
    /// Features per task.
    pub n_features: usize,
    /// The tasks, each of `n_rows × n_features` (their `n_train` and kinds vary).
    pub tasks: Vec<PriorTask>,
}

/// The mixture weights of the priors (`[pfn.prior.weights]`): each non-negative, not all
/// zero; a prior is drawn with probability its weight over their sum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PriorWeights {
    /// The weight of [`MlpPrior`] (default 1).
    pub mlp: f64,
    /// The weight of [`GpPrior`] (default 1).
    pub gp: f64,
    /// The weight of [`SeismicPrior`] (default 1).
    pub seismic: f64,
}

impl Default for PriorWeights {
    fn default() -> Self {
        PriorWeights {
            mlp: 1.0,
            gp: 1.0,
            seismic: 1.0,
        }
    }
}

impl PriorWeights {
    fn of(&self, kind: PriorKind) -> f64 {
        match kind {
            PriorKind::Mlp => self.mlp,
            PriorKind::Gp => self.gp,
            PriorKind::Seismic => self.seismic,
        }
    }
}

/// The settings of the task priors, the `[pfn.prior]` section of a file. Every key has a
/// default; unknown keys are refused and [`PriorConfig::check`] names the offending key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PriorConfig {
    /// How often each prior is drawn.
    pub weights: PriorWeights,
    /// The range of rows per task, `[min, max]` inclusive (default `[32, 512]`); drawn
    /// uniformly. At least 2 (one training and one test row), and at most [`GP_MAX_ROWS`]
    /// while the GP prior has a weight.
    pub rows: [usize; 2],
    /// The range of features per task, `[min, max]` inclusive (default `[1, 10]`), drawn
    /// uniformly; at least 1.
    pub features: [usize; 2],
    /// The MLP (structural causal model) prior's settings.
    pub mlp: MlpPriorConfig,
    /// The Gaussian-process prior's settings.
    pub gp: GpPriorConfig,
    /// The seismicity-flavoured prior's settings.
    pub seismic: SeismicPriorConfig,
}

impl Default for PriorConfig {
    fn default() -> Self {
        PriorConfig {
            weights: PriorWeights::default(),
            rows: [32, 512],
            features: [1, 10],
            mlp: MlpPriorConfig::default(),
            gp: GpPriorConfig::default(),
            seismic: SeismicPriorConfig::default(),
        }
    }
}

impl PriorConfig {
    /// Reads the `[pfn.prior]` section of the TOML file `path` (other sections are left to
    /// their readers) and checks it. A file without that section is refused: it names no
    /// prior settings.
    pub fn load(path: &Path) -> Result<PriorConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let file: toml::Table = toml::from_str(&text)
            .map_err(|e| Error::config("pfn.prior", format!("{}: {e}", path.display())))?;
        let section = file
            .get("pfn")
            .and_then(|pfn| pfn.get("prior"))
            .ok_or_else(|| {
                Error::config(
                    "pfn.prior",
                    format!("{} has no [pfn.prior] section", path.display()),
                )
            })?;
        let config: PriorConfig = section
            .clone()
            .try_into()
            .map_err(|e| Error::config("pfn.prior", format!("{}: {e}", path.display())))?;
        config.check()?;
        Ok(config)
    }

    /// [`PriorConfig::load`] of `path`, or the default prior without one.
    pub fn load_or_default(path: Option<&Path>) -> Result<PriorConfig> {
        path.map_or_else(|| Ok(PriorConfig::default()), PriorConfig::load)
    }

    /// Refuses invalid settings, naming the key (`pfn.prior.rows`, `pfn.prior.gp.noise`, …).
    pub fn check(&self) -> Result<()> {
        for kind in PriorKind::ALL {
            let weight = self.weights.of(kind);
            if !(weight.is_finite() && weight >= 0.0) {
                return Err(Error::config(
                    format!("pfn.prior.weights.{}", kind.name()),
                    format!("{weight} is not a weight: weights are finite and non-negative"),
                ));
            }
        }
        if PriorKind::ALL.iter().all(|&k| self.weights.of(k) == 0.0) {
            return Err(Error::config(
                "pfn.prior.weights",
                "every weight is zero: at least one prior needs a positive weight",
            ));
        }
        let [rows_min, rows_max] = self.rows;
        if rows_min < 2 || rows_min > rows_max {
            return Err(Error::config(
                "pfn.prior.rows",
                format!(
                    "[{rows_min}, {rows_max}] is not a range of rows: min ≥ 2 (a training and \
                     a test row) and min ≤ max"
                ),
            ));
        }
        if self.weights.gp > 0.0 && rows_max > GP_MAX_ROWS {
            return Err(Error::config(
                "pfn.prior.rows",
                format!(
                    "{rows_max} rows is more than the GP prior's {GP_MAX_ROWS} (it factors an \
                     n × n covariance); lower the maximum or set pfn.prior.weights.gp = 0"
                ),
            ));
        }
        let [features_min, features_max] = self.features;
        if features_min < 1 || features_min > features_max {
            return Err(Error::config(
                "pfn.prior.features",
                format!(
                    "[{features_min}, {features_max}] is not a range of features: min ≥ 1 and \
                     min ≤ max"
                ),
            ));
        }
        self.mlp.check("pfn.prior.mlp")?;
        self.gp.check("pfn.prior.gp")?;
        self.seismic.check("pfn.prior.seismic")
    }
}

/// The mixture of the priors: draws tasks by the weights of a checked [`PriorConfig`].
#[derive(Debug, Clone)]
pub struct Prior {
    config: PriorConfig,
    mlp: MlpPrior,
    gp: GpPrior,
    seismic: SeismicPrior,
}

impl Prior {
    /// The mixture of `config`, checked first.
    pub fn new(config: PriorConfig) -> Result<Prior> {
        config.check()?;
        Ok(Prior {
            mlp: MlpPrior::new(config.mlp.clone()),
            gp: GpPrior::new(config.gp.clone()),
            seismic: SeismicPrior::new(config.seismic.clone()),
            config,
        })
    }

    /// The settings this mixture draws by.
    pub fn config(&self) -> &PriorConfig {
        &self.config
    }

    /// Task `index` of seed `seed`: its prior, then its rows and features (uniform in the
    /// configured ranges), then the task, all from `rng::stream(seed, "pfn.prior.task.{index}")`.
    pub fn task(&self, seed: u64, index: u64) -> Result<PriorTask> {
        let mut rng = task_stream(seed, index);
        let kind = self.draw_kind(&mut rng);
        let n_rows = rng.random_range(self.config.rows[0]..=self.config.rows[1]);
        let n_features = rng.random_range(self.config.features[0]..=self.config.features[1]);
        self.sample_kind(kind, n_rows, n_features, &mut rng)
    }

    /// The prior task `index` of seed `seed` is drawn from (the first draw of its stream), without
    /// drawing the task.
    pub fn kind_of(&self, seed: u64, index: u64) -> PriorKind {
        self.draw_kind(&mut task_stream(seed, index))
    }

    /// Batch `batch` of seed `seed`: `count` tasks of one size, the size drawn uniformly in the
    /// configured ranges from `rng::stream(seed, "pfn.prior.batch.{batch}")`. The tasks are
    /// those of [`Prior::batch_of_size`].
    pub fn batch(&self, seed: u64, batch: u64, count: usize) -> Result<PriorBatch> {
        self.batch_within(seed, batch, count, self.config.features[1])
    }

    /// [`Prior::batch`] with at most `max_features` features (a curriculum's bound; at least
    /// the configured minimum): the size drawn uniformly from the configured rows and from
    /// the features in `[min, min(max, max_features)]`, from the same stream. With
    /// `max_features` at the configured maximum or above it is [`Prior::batch`].
    pub fn batch_within(
        &self,
        seed: u64,
        batch: u64,
        count: usize,
        max_features: usize,
    ) -> Result<PriorBatch> {
        let mut rng = rng::stream(seed, &format!("pfn.prior.batch.{batch}"));
        let [lo, hi] = self.config.features;
        let n_rows = rng.random_range(self.config.rows[0]..=self.config.rows[1]);
        let n_features = rng.random_range(lo..=hi.min(max_features).max(lo));
        self.batch_of_size(seed, batch, count, n_rows, n_features)
    }

    /// `count` tasks of `n_rows × n_features`, task `j` (its prior, split and values) drawn
    /// from `rng::stream(seed, "pfn.prior.batch.{batch}.task.{j}")`, in parallel. Refuses
    /// fewer than 2 rows, no features, and more than [`GP_MAX_ROWS`] rows while the GP prior
    /// has a weight.
    pub fn batch_of_size(
        &self,
        seed: u64,
        batch: u64,
        count: usize,
        n_rows: usize,
        n_features: usize,
    ) -> Result<PriorBatch> {
        if n_rows < 2 {
            return Err(Error::config(
                "pfn.prior.rows",
                format!("{n_rows} rows: a task needs a training and a test row"),
            ));
        }
        if n_features == 0 {
            return Err(Error::config(
                "pfn.prior.features",
                "a task needs a feature",
            ));
        }
        if self.config.weights.gp > 0.0 && n_rows > GP_MAX_ROWS {
            return Err(Error::config(
                "pfn.prior.rows",
                format!("{n_rows} rows is more than the GP prior's {GP_MAX_ROWS}"),
            ));
        }
        let tasks = (0..count)
            .into_par_iter()
            .map(|j| {
                let mut rng = rng::stream(seed, &format!("pfn.prior.batch.{batch}.task.{j}"));
                let kind = self.draw_kind(&mut rng);
                self.sample_kind(kind, n_rows, n_features, &mut rng)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(PriorBatch {
            n_rows,
            n_features,
            tasks,
        })
    }

    fn draw_kind(&self, rng: &mut ChaCha8Rng) -> PriorKind {
        let weights = &self.config.weights;
        let total: f64 = PriorKind::ALL.iter().map(|&k| weights.of(k)).sum();
        let mut u = rng.random::<f64>() * total;
        let mut last = PriorKind::Mlp;
        for kind in PriorKind::ALL {
            let weight = weights.of(kind);
            if weight == 0.0 {
                continue;
            }
            if u < weight {
                return kind;
            }
            u -= weight;
            last = kind;
        }
        // Rounding left u at the top of the range: the last prior with a weight.
        last
    }

    fn sample_kind(
        &self,
        kind: PriorKind,
        n_rows: usize,
        n_features: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<PriorTask> {
        match kind {
            PriorKind::Mlp => self.mlp.sample(n_rows, n_features, rng),
            PriorKind::Gp => self.gp.sample(n_rows, n_features, rng),
            PriorKind::Seismic => self.seismic.sample(n_rows, n_features, rng),
        }
    }
}

fn task_stream(seed: u64, index: u64) -> ChaCha8Rng {
    rng::stream(seed, &format!("pfn.prior.task.{index}"))
}

/// The number of training rows of an `n_rows` task: uniform in `[⌈n/2⌉, n − 1]`.
pub(crate) fn draw_n_train(n_rows: usize, rng: &mut impl Rng) -> usize {
    rng.random_range(n_rows.div_ceil(2)..=n_rows - 1)
}

/// A value drawn log-uniformly in `[lo, hi]` (`0 < lo ≤ hi`).
pub(crate) fn log_uniform(range: [f64; 2], rng: &mut impl Rng) -> f64 {
    let [lo, hi] = range;
    if lo == hi {
        return lo;
    }
    (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp()
}

/// A value drawn uniformly in `[lo, hi]`.
pub(crate) fn uniform(range: [f64; 2], rng: &mut impl Rng) -> f64 {
    range[0] + rng.random::<f64>() * (range[1] - range[0])
}

/// Refuses a range `[lo, hi]` that is not finite, has `lo > hi`, or leaves `[min, max]`.
pub(crate) fn check_range(key: &str, range: [f64; 2], min: f64, max: f64) -> Result<()> {
    let [lo, hi] = range;
    if lo.is_finite() && hi.is_finite() && min <= lo && lo <= hi && hi <= max {
        Ok(())
    } else {
        Err(Error::config(
            key,
            format!("[{lo}, {hi}] is not a range within [{min}, {max}] with min ≤ max"),
        ))
    }
}

/// Refuses an integer range with `lo > hi` or `lo < min`.
pub(crate) fn check_count_range(key: &str, range: [usize; 2], min: usize) -> Result<()> {
    let [lo, hi] = range;
    if min <= lo && lo <= hi {
        Ok(())
    } else {
        Err(Error::config(
            key,
            format!("[{lo}, {hi}] is not a range with {min} ≤ min ≤ max"),
        ))
    }
}

/// Refuses a probability outside `[0, 1]`.
pub(crate) fn check_probability(key: &str, p: f64) -> Result<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(Error::config(
            key,
            format!("{p} is not a probability in [0, 1]"),
        ))
    }
}

/// A task from f64 rows (row-major) and targets, cast to f32.
pub(crate) fn task_from_f64(
    x: &[f64],
    y: &[f64],
    n_features: usize,
    n_train: usize,
    kind: PriorKind,
) -> Result<PriorTask> {
    PriorTask::new(
        x.iter().map(|&v| v as f32).collect(),
        y.iter().map(|&v| v as f32).collect(),
        n_features,
        n_train,
        kind,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_key<T>(result: Result<T>) -> String {
        match result {
            Err(Error::Config { key, .. }) => key,
            Err(other) => panic!("not a config error: {other}"),
            Ok(_) => panic!("accepted"),
        }
    }

    /// A mixture that draws only `kind`, over `rows` and `features`.
    fn only(kind: PriorKind, rows: [usize; 2], features: [usize; 2]) -> Prior {
        let weights = PriorWeights {
            mlp: f64::from(u8::from(kind == PriorKind::Mlp)),
            gp: f64::from(u8::from(kind == PriorKind::Gp)),
            seismic: f64::from(u8::from(kind == PriorKind::Seismic)),
        };
        Prior::new(PriorConfig {
            weights,
            rows,
            features,
            ..PriorConfig::default()
        })
        .unwrap()
    }

    fn assert_shape(task: &PriorTask, n_rows: usize, n_features: usize) {
        assert_eq!((task.n_rows(), task.n_features()), (n_rows, n_features));
        assert_eq!(task.x().len(), n_rows * n_features);
        assert_eq!(task.y().len(), n_rows);
        assert!(
            (n_rows.div_ceil(2)..n_rows).contains(&task.n_train()),
            "{} of {n_rows}",
            task.n_train()
        );
        assert_eq!(task.n_train() + task.n_test(), n_rows);
        assert_eq!(task.x_train().len() + task.x_test().len(), task.x().len());
        assert_eq!(task.y_train().len(), task.n_train());
        assert!(task.x().iter().chain(task.y()).all(|v| v.is_finite()));
    }

    #[test]
    fn every_prior_gives_the_declared_shapes_and_finite_values() {
        // The extremes of the default ranges and beyond: 2 rows (one train, one test), the
        // GP's largest 1024, one feature and many.
        let sizes = [
            (2, 1),
            (3, 1),
            (2, 10),
            (32, 10),
            (512, 1),
            (1024, 3),
            (64, 40),
        ];
        for kind in PriorKind::ALL {
            for (n_rows, n_features) in sizes {
                let prior = only(kind, [n_rows, n_rows], [n_features, n_features]);
                for seed in 0..4 {
                    let task = prior.task(seed, 7).unwrap();
                    assert_eq!(task.kind(), kind);
                    assert_shape(&task, n_rows, n_features);
                }
                let batch = prior.batch(11, 0, 3).unwrap();
                assert_eq!((batch.n_rows, batch.n_features), (n_rows, n_features));
                for task in &batch.tasks {
                    assert_shape(task, n_rows, n_features);
                }
            }
        }
    }

    #[test]
    fn sizes_are_drawn_within_the_configured_ranges() {
        let prior = Prior::new(PriorConfig {
            rows: [10, 20],
            features: [2, 4],
            ..PriorConfig::default()
        })
        .unwrap();
        let mut rows_seen = std::collections::BTreeSet::new();
        for i in 0..200 {
            let task = prior.task(3, i).unwrap();
            assert!((10..=20).contains(&task.n_rows()));
            assert!((2..=4).contains(&task.n_features()));
            rows_seen.insert(task.n_rows());
            assert_shape(&task, task.n_rows(), task.n_features());
        }
        // 200 uniform draws over 11 values miss one with probability below 11·(10/11)^200 < 1e-7.
        assert_eq!(rows_seen.len(), 11);
    }

    #[test]
    fn a_bounded_batch_keeps_its_features_within_the_bound_and_is_the_batch_at_the_maximum() {
        let prior = Prior::new(PriorConfig {
            rows: [10, 20],
            features: [2, 6],
            ..PriorConfig::default()
        })
        .unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for batch in 0..60 {
            let bounded = prior.batch_within(5, batch, 2, 3).unwrap();
            assert!(
                (2..=3).contains(&bounded.n_features),
                "{}",
                bounded.n_features
            );
            seen.insert(bounded.n_features);
            // A bound below the minimum draws the minimum.
            assert_eq!(prior.batch_within(5, batch, 2, 1).unwrap().n_features, 2);
            // At the maximum and above, exactly Prior::batch: the same size and values.
            let full = prior.batch(5, batch, 2).unwrap();
            for max in [6, 50] {
                let same = prior.batch_within(5, batch, 2, max).unwrap();
                assert_eq!(
                    (same.n_rows, same.n_features),
                    (full.n_rows, full.n_features)
                );
                assert_eq!(bits(&same.tasks[1]), bits(&full.tasks[1]));
            }
        }
        // 60 uniform draws of two values miss one with probability 2^-59.
        assert_eq!(seen.len(), 2);
    }

    fn bits(task: &PriorTask) -> (Vec<u32>, Vec<u32>, usize, PriorKind) {
        (
            task.x().iter().map(|v| v.to_bits()).collect(),
            task.y().iter().map(|v| v.to_bits()).collect(),
            task.n_train(),
            task.kind(),
        )
    }

    #[test]
    fn a_task_depends_on_its_seed_and_index_only() {
        let prior = Prior::new(PriorConfig {
            rows: [8, 64],
            ..PriorConfig::default()
        })
        .unwrap();
        let forward: Vec<_> = (0..24).map(|i| bits(&prior.task(42, i).unwrap())).collect();
        let mut backward: Vec<_> = (0..24)
            .rev()
            .map(|i| bits(&prior.task(42, i).unwrap()))
            .collect();
        backward.reverse();
        let parallel: Vec<_> = (0..24u64)
            .into_par_iter()
            .map(|i| bits(&prior.task(42, i).unwrap()))
            .collect();
        assert_eq!(forward, backward);
        assert_eq!(forward, parallel);
        for i in 1..24 {
            assert_ne!(forward[0], forward[i], "tasks 0 and {i}");
        }
        assert_ne!(
            forward[0],
            bits(&prior.task(43, 0).unwrap()),
            "seeds 42 and 43"
        );
        // Each kind at least once among the 24, so every prior was checked above.
        for kind in PriorKind::ALL {
            assert!(forward.iter().any(|t| t.3 == kind), "{kind:?}");
        }

        let batch = prior.batch(42, 5, 6).unwrap();
        assert_eq!(batch, prior.batch(42, 5, 6).unwrap());
        assert_ne!(batch, prior.batch(42, 6, 6).unwrap());
        let same_size = prior
            .batch_of_size(42, 5, 3, batch.n_rows, batch.n_features)
            .unwrap();
        assert_eq!(same_size.tasks[..], batch.tasks[..3]);
    }

    #[test]
    fn the_mixture_draws_each_prior_by_its_weight() {
        let prior = Prior::new(PriorConfig {
            weights: PriorWeights {
                mlp: 1.0,
                gp: 0.0,
                seismic: 3.0,
            },
            rows: [4, 16],
            ..PriorConfig::default()
        })
        .unwrap();
        let n = 4000;
        let kinds: Vec<PriorKind> = (0..n).map(|i| prior.kind_of(9, i)).collect();
        assert!(
            !kinds.contains(&PriorKind::Gp),
            "a prior of weight 0 is never drawn"
        );
        let mlp = kinds.iter().filter(|&&k| k == PriorKind::Mlp).count();
        // Binomial(4000, 1/4): sd √(4000 · 1/4 · 3/4) ≈ 27.4 tasks; allow 4 sd (≈ 110), which a
        // correct mixture exceeds with probability 6e-5.
        let sd = (n as f64 * 0.25 * 0.75).sqrt();
        assert!(
            (mlp as f64 - n as f64 / 4.0).abs() < 4.0 * sd,
            "{mlp} mlp tasks of {n}"
        );
        for i in 0..30 {
            assert_eq!(prior.task(9, i).unwrap().kind(), kinds[i as usize]);
        }
        let batch = prior.batch(9, 0, 40).unwrap();
        assert!(batch.tasks.iter().all(|t| t.kind() != PriorKind::Gp));
    }

    /// One regression test per refusal of [`PriorConfig::check`]: the test named after the
    /// case sets one bad value and expects its key.
    macro_rules! refused {
        ($($name:ident: |$c:ident| $set:expr => $key:literal;)*) => {$(
            #[test]
            fn $name() {
                let mut $c = PriorConfig::default();
                $set;
                assert_eq!(config_key($c.check()), $key);
                assert_eq!(config_key(Prior::new($c)), $key);
            }
        )*};
    }

    refused! {
        a_negative_prior_weight_is_refused: |c| c.weights.gp = -1.0 => "pfn.prior.weights.gp";
        a_non_finite_prior_weight_is_refused: |c| c.weights.mlp = f64::NAN => "pfn.prior.weights.mlp";
        all_prior_weights_zero_is_refused: |c| c.weights = PriorWeights { mlp: 0.0, gp: 0.0, seismic: 0.0 } => "pfn.prior.weights";
        fewer_than_two_rows_is_refused: |c| c.rows = [1, 10] => "pfn.prior.rows";
        a_reversed_range_of_rows_is_refused: |c| c.rows = [20, 10] => "pfn.prior.rows";
        more_rows_than_the_gp_prior_factors_is_refused: |c| c.rows = [32, 1025] => "pfn.prior.rows";
        no_feature_is_refused: |c| c.features = [0, 3] => "pfn.prior.features";
        a_reversed_range_of_features_is_refused: |c| c.features = [4, 3] => "pfn.prior.features";
        an_mlp_without_hidden_layers_is_refused: |c| c.mlp.depth = [0, 3] => "pfn.prior.mlp.depth";
        an_mlp_without_nodes_is_refused: |c| c.mlp.width = [0, 3] => "pfn.prior.mlp.width";
        an_mlp_without_activations_is_refused: |c| c.mlp.activations.clear() => "pfn.prior.mlp.activations";
        a_zero_mlp_noise_is_refused: |c| c.mlp.noise = [0.0, 0.1] => "pfn.prior.mlp.noise";
        an_edge_dropout_of_one_is_refused: |c| c.mlp.edge_dropout = [0.0, 1.0] => "pfn.prior.mlp.edge_dropout";
        a_uniform_cause_share_above_one_is_refused: |c| c.mlp.uniform_causes = 1.5 => "pfn.prior.mlp.uniform_causes";
        a_gp_without_kernels_is_refused: |c| c.gp.kernels.clear() => "pfn.prior.gp.kernels";
        a_negative_linear_kernel_share_is_refused: |c| c.gp.linear = -0.1 => "pfn.prior.gp.linear";
        a_zero_length_scale_is_refused: |c| c.gp.length_scale = [0.0, 1.0] => "pfn.prior.gp.length_scale";
        a_reversed_output_scale_is_refused: |c| c.gp.output_scale = [2.0, 1.0] => "pfn.prior.gp.output_scale";
        an_infinite_gp_noise_is_refused: |c| c.gp.noise = [0.1, f64::INFINITY] => "pfn.prior.gp.noise";
        a_uniform_input_share_above_one_is_refused: |c| c.gp.uniform_inputs = 2.0 => "pfn.prior.gp.uniform_inputs";
        a_unit_root_ar_coefficient_is_refused: |c| c.seismic.ar = [0.5, 1.0] => "pfn.prior.seismic.ar";
        a_zero_horizon_is_refused: |c| c.seismic.horizon = [0, 5] => "pfn.prior.seismic.horizon";
        a_zero_longest_lag_is_refused: |c| c.seismic.max_lag = 0 => "pfn.prior.seismic.max_lag";
        a_one_day_window_is_refused: |c| c.seismic.window = [1, 5] => "pfn.prior.seismic.window";
        a_noise_column_share_above_one_is_refused: |c| c.seismic.noise_columns = 1.1 => "pfn.prior.seismic.noise_columns";
        a_negative_count_share_is_refused: |c| c.seismic.counts = -0.5 => "pfn.prior.seismic.counts";
        a_zero_mean_count_is_refused: |c| c.seismic.count_mean = [0.0, 5.0] => "pfn.prior.seismic.count_mean";
    }

    #[test]
    fn many_rows_pass_without_the_gp_prior() {
        let config = PriorConfig {
            weights: PriorWeights {
                gp: 0.0,
                ..PriorWeights::default()
            },
            rows: [2000, 2000],
            ..PriorConfig::default()
        };
        let prior = Prior::new(config).unwrap();
        assert_eq!(prior.task(1, 0).unwrap().n_rows(), 2000);
    }

    #[test]
    fn a_batch_of_fewer_than_two_rows_is_refused() {
        let prior = Prior::new(PriorConfig::default()).unwrap();
        assert_eq!(
            config_key(prior.batch_of_size(0, 0, 2, 1, 3)),
            "pfn.prior.rows"
        );
    }

    #[test]
    fn a_batch_without_features_is_refused() {
        let prior = Prior::new(PriorConfig::default()).unwrap();
        assert_eq!(
            config_key(prior.batch_of_size(0, 0, 2, 10, 0)),
            "pfn.prior.features"
        );
    }

    #[test]
    fn a_batch_larger_than_the_gp_prior_factors_is_refused() {
        let prior = Prior::new(PriorConfig::default()).unwrap();
        assert_eq!(
            config_key(prior.batch_of_size(0, 0, 2, 1025, 2)),
            "pfn.prior.rows"
        );
    }

    #[test]
    fn a_task_whose_shape_does_not_add_up_is_refused() {
        let result = PriorTask::new(vec![0.0; 5], vec![0.0; 3], 2, 2, PriorKind::Mlp);
        let message = result.unwrap_err().to_string();
        assert_eq!(
            message,
            "mlp prior task: 5 feature values for 3 rows of 2 features"
        );
    }

    #[test]
    fn a_task_without_a_test_row_is_refused() {
        let result = PriorTask::new(vec![0.0; 6], vec![0.0; 3], 2, 3, PriorKind::Gp);
        assert!(
            result
                .unwrap_err()
                .to_string()
                .contains("3 training rows of 3")
        );
    }

    #[test]
    fn a_task_with_a_non_finite_value_is_refused() {
        let result = PriorTask::new(
            vec![0.0, 1.0],
            vec![0.0, f32::NAN],
            1,
            1,
            PriorKind::Seismic,
        );
        assert!(result.unwrap_err().to_string().contains("value 3 "));
    }

    #[test]
    fn a_prior_file_is_read_from_its_section_with_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pfn.toml");
        std::fs::write(
            &path,
            "[pfn.model]\nlayers = 4\n\n[pfn.prior]\nrows = [16, 64]\ngp.kernels = [\"rbf\"]\n\
             weights = { seismic = 0.0 }\n",
        )
        .unwrap();
        let config = PriorConfig::load(&path).unwrap();
        assert_eq!(config.rows, [16, 64]);
        assert_eq!(config.gp.kernels, [KernelKind::Rbf]);
        assert_eq!(config.gp.noise, GpPriorConfig::default().noise);
        assert_eq!(
            config.weights,
            PriorWeights {
                mlp: 1.0,
                gp: 1.0,
                seismic: 0.0
            }
        );
        assert_eq!(config.features, PriorConfig::default().features);
    }

    #[test]
    fn an_unknown_prior_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pfn.toml");
        std::fs::write(&path, "[pfn.prior]\nrowz = [16, 64]\n").unwrap();
        let error = PriorConfig::load(&path).unwrap_err().to_string();
        assert!(error.starts_with("setting `pfn.prior`: "), "{error}");
        assert!(error.contains("rowz"), "{error}");
    }

    #[test]
    fn a_prior_file_without_its_section_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pfn.toml");
        std::fs::write(&path, "[pfn.train]\nsteps = 3\n").unwrap();
        assert_eq!(config_key(PriorConfig::load(&path)), "pfn.prior");
    }

    #[test]
    fn a_bad_value_in_a_prior_file_names_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pfn.toml");
        std::fs::write(&path, "[pfn.prior]\nseismic.max_lag = 0\n").unwrap();
        assert_eq!(
            config_key(PriorConfig::load(&path)),
            "pfn.prior.seismic.max_lag"
        );
    }
}
