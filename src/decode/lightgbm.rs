//! LightGBM gradient-boosted trees (the paper's §3.3 comparison, Figs. 9–11) through the
//! official library: `lib_lightgbm.so` 4.7.0 from the `lightgbm` wheel, loaded at run time (see
//! [`super::booster`] for where it lives) and driven through its C API exactly as the Python
//! package's `lgb.train(params, lgb.Dataset(X, label=y), num_boost_round)` and
//! `booster.predict(X_test)` drive it. With the same parameters, one thread and a pinned seed,
//! the predictions equal the Python package's (the parity fixtures of
//! `tools/parity/ref_lightgbm.py`, bit for bit in practice; `deterministic = true` is not needed).
//!
//! # Parameters
//!
//! Every key of `[decoder]` but `kind` is one of LightGBM's own parameters, under its own name
//! or any of its aliases, and is handed to the library as it is:
//!
//! ```toml
//! [decoder]
//! kind = "lightgbm"
//! max_depth = 4
//! learning_rate = 0.1
//! num_iterations = 150
//! ```
//!
//! What quakelab reads itself, as `lgb.train` does:
//!
//! - the number of boosting rounds, `num_iterations` or any alias (`num_iteration`, `n_iter`,
//!   `num_tree`, `num_trees`, `num_round`, `num_rounds`, `nrounds`, `num_boost_round`,
//!   `n_estimators`, `max_iter`); 100 when none is set. It is passed on as `num_iterations`.
//! - `early_stopping_round` or an alias (`early_stopping_rounds`, `early_stopping`,
//!   `n_iter_no_change`), with `early_stopping_min_delta` (default 0) and `first_metric_only`
//!   (default false); see below.
//! - `objective` (or an alias) `= "quantile"` with `alpha`; see below.
//!
//! Defaults quakelab adds when the key (or any alias) is not set: `num_threads` = the fit
//! context's thread budget (aliases `num_thread`, `nthread`, `nthreads`, `n_jobs`), and `seed` =
//! the fit's seed reduced to 31 bits ([`booster::library_seed`]; aliases `random_seed`,
//! `random_state`). The decoder is stochastic (repeated over the experiment's seeds) unless the
//! seed is pinned, or no setting draws on it: LightGBM draws to bag rows (a
//! `bagging_fraction`, `pos_bagging_fraction` or `neg_bagging_fraction` below 1, under any
//! alias), to sample features (`feature_fraction` or `feature_fraction_bynode` below 1), for
//! `extra_trees`, for any `boosting` but `gbdt` (random forest, DART, GOSS), for
//! `data_sample_strategy = "goss"`, and to pick the rows its bin boundaries are built from when
//! the table has more than `bin_construct_sample_cnt` rows (200,000 by default; setting it
//! counts as drawing). quakelab's daily tables stay far below 200,000 rows (547 years), so with
//! none of the others set the fit is the same for every seed (checked against the library by a
//! test), and the runner fits it once instead of once per seed. Everything else keeps LightGBM's own defaults (objective `regression`, l2
//! metric, 31 leaves, learning rate 0.1, …).
//!
//! [`DecoderSettings::check`] checks the keys quakelab reads (types, ranges), that the library
//! is installed, and has the library parse the other keys: an unknown one is refused with
//! LightGBM's own `Unknown parameter: KEY` warning as an [`Error::Config`] on `decoder.KEY`,
//! and a value LightGBM cannot read is its own error. The same check runs again at `fit`.
//!
//! # Missing values
//!
//! A NaN feature (an empty or `NaN` cell in `quakelab decode`) is a missing value, handled as
//! LightGBM does by default (`use_missing = true`, `zero_as_missing = false`): each split
//! learns the side that missing values go to. An infinite feature is refused.
//!
//! # Early stopping
//!
//! With `early_stopping_round = N` (N > 0) the fit needs validation rows in its context (the
//! runner holds out the last training rows; `quakelab decode --valid FILE`), and refuses to
//! start without them. After each round the booster's metrics (the objective's default, l2 for
//! regression, or `metric`) are evaluated on the validation rows; training stops once a metric
//! has not improved by more than `early_stopping_min_delta` for N rounds, and the model keeps
//! the rounds up to the best one (the first best, on a tie), as `lgb.early_stopping` does. The
//! prediction and the importances then use the best iteration. `boosting = "dart"` with early
//! stopping is refused (`lgb.train` would ignore early stopping there).
//!
//! Without early stopping every round is trained, as `lgb.train` does: a round where LightGBM
//! finds no split adds no tree, and the next round (with other bagging draws) may.
//!
//! # Quantiles
//!
//! `objective = "quantile"` with `alpha = 0.9` (LightGBM's own parameter, 0.9 by default)
//! trains one booster at that level. `alpha = [0.1, 0.5, 0.9]` (a quakelab extension) trains
//! one booster per level, each with `alpha` set to its level, as the Python package would in a
//! loop. [`Regressor::predict_distribution`] goes through [`booster::quantile_prediction`]:
//! each row's quantiles are sorted (they never cross) and interpolated between the trained
//! levels; a level outside them is refused on `decoder.alpha`. [`Regressor::predict`] is the
//! median (at 0.5, or the trained level nearest to it).
//!
//! # Importances
//!
//! [`Regressor::feature_importance`] is LightGBM's `gain` importance (total gain of the splits
//! on each column, `booster.feature_importance("gain")`), in column order, of the iterations
//! kept; with several quantile levels, the sum over their boosters.
//!
//! # Logs and threads
//!
//! LightGBM's log lines (its info and warning lines) go to the tracing log
//! ([`booster::library_log`]), shown under `-v`, not to the terminal; `verbosity` (or
//! `verbose`) is passed on when set, and LightGBM's own default level is kept otherwise. Two things escape this, as they do in Python: the library
//! prints a fatal error to stderr itself before it returns it (quakelab then reports the same
//! text as an [`Error::External`]), and LightGBM keeps its log callback per thread, so a line
//! written from inside one of its OpenMP worker threads (none in an ordinary fit) goes to
//! stdout. A fitted model may predict from any thread (its booster sits behind a lock);
//! predictions use the fit's thread count.

mod ffi;

use std::sync::Mutex;

use faer::MatRef;
use serde::{Deserialize, Serialize};

use super::booster::{self, LibraryParams, ParamValue};
use super::{
    DecoderSettings, FitContext, Prediction, QuantileLevels, Regressor, check_columns, not_fitted,
};
use crate::{Error, Result};

const NAME: &str = "lightgbm";

/// The number of rounds and its aliases, in LightGBM's order of preference.
const ROUNDS: &[&str] = &[
    "num_iterations",
    "n_iter",
    "nrounds",
    "max_iter",
    "num_tree",
    "num_round",
    "num_trees",
    "num_rounds",
    "n_estimators",
    "num_iteration",
    "num_boost_round",
];
/// `lgb.train`'s default number of rounds.
const DEFAULT_ROUNDS: u64 = 100;
const EARLY_STOPPING: &[&str] = &[
    "early_stopping_round",
    "early_stopping",
    "n_iter_no_change",
    "early_stopping_rounds",
];
const THREADS: &[&str] = &["num_threads", "n_jobs", "nthread", "nthreads", "num_thread"];
const SEED: &[&str] = &["seed", "random_seed", "random_state"];
const OBJECTIVE: &[&str] = &["objective", "app", "loss", "application", "objective_type"];
const BOOSTING: &[&str] = &["boosting", "boost", "boosting_type"];
/// The row-bagging fractions, under every alias.
const BAGGING_FRACTIONS: &[&str] = &[
    "bagging_fraction",
    "sub_row",
    "subsample",
    "bagging",
    "pos_bagging_fraction",
    "pos_sub_row",
    "pos_subsample",
    "pos_bagging",
    "neg_bagging_fraction",
    "neg_sub_row",
    "neg_subsample",
    "neg_bagging",
];
/// The feature-sampling fractions, under every alias.
const FEATURE_FRACTIONS: &[&str] = &[
    "feature_fraction",
    "sub_feature",
    "colsample_bytree",
    "feature_fraction_bynode",
    "sub_feature_bynode",
    "colsample_bynode",
];
const EXTRA_TREES: &[&str] = &["extra_trees", "extra_tree"];
const DATA_SAMPLE_STRATEGY: &[&str] = &["data_sample_strategy"];
/// The rows sampled for the bin boundaries, `bin_construct_sample_cnt`, and its alias.
const BIN_SAMPLE: &[&str] = &["bin_construct_sample_cnt", "subsample_for_bin"];
/// LightGBM's default `alpha`.
const DEFAULT_ALPHA: f64 = 0.9;

/// Settings of the LightGBM decoder (`kind = "lightgbm"`): LightGBM's own parameters, under
/// their own names (see the module docs for the few quakelab reads).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LightgbmSettings {
    /// Every key but `kind`, handed to LightGBM as written.
    #[serde(flatten)]
    pub params: LibraryParams,
}

/// Early stopping as `lgb.early_stopping` does it.
#[derive(Debug, Clone, PartialEq)]
struct EarlyStopping {
    /// The key the user set it under.
    key: String,
    rounds: usize,
    min_delta: f64,
    first_metric_only: bool,
}

/// The settings resolved as `lgb.train` resolves them.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    rounds: u64,
    early_stopping: Option<EarlyStopping>,
    /// The quantile levels, increasing, for the quantile objective; `None` otherwise.
    levels: Option<Vec<f64>>,
    /// The parameters handed to LightGBM, aliases of the keys quakelab reads resolved to their
    /// main names; without the thread and seed defaults.
    params: LibraryParams,
}

impl LightgbmSettings {
    fn plan(&self) -> Result<Plan> {
        let p = &self.params;
        let rounds = p.positive_integer(ROUNDS)?.unwrap_or(DEFAULT_ROUNDS);
        let mut params = p.without(ROUNDS).without(EARLY_STOPPING);
        params.insert("num_iterations", ParamValue::Integer(rounds as i64));

        let mut early_stopping = None;
        if let Some((key, value)) = p.find(EARLY_STOPPING) {
            let ParamValue::Integer(n) = value else {
                return Err(Error::config(
                    format!("decoder.{key}"),
                    format!(
                        "must be a whole number of rounds (0 or less turns early stopping off), \
                         not `{}`",
                        value.to_library_string()
                    ),
                ));
            };
            params.insert("early_stopping_round", value.clone());
            if *n > 0 {
                early_stopping = Some(EarlyStopping {
                    key: key.to_string(),
                    rounds: *n as usize,
                    min_delta: early_stopping_min_delta(p)?,
                    first_metric_only: first_metric_only(p)?,
                });
            }
        }
        if let (Some(stopping), Some((key, ParamValue::Text(boosting)))) =
            (&early_stopping, p.find(BOOSTING))
        {
            crate::ensure_config!(
                boosting != "dart",
                format!("decoder.{}", stopping.key),
                "LightGBM's early stopping is not available with {key} = \"dart\" (lgb.train \
                 ignores it there); remove one of the two"
            );
        }

        let mut levels = None;
        if let Some((_, objective)) = p.find(OBJECTIVE) {
            let objective = objective.clone();
            params = params.without(OBJECTIVE);
            if objective.to_library_string().to_lowercase() == "quantile" {
                levels = Some(quantile_levels(p)?);
            }
            params.insert("objective", objective);
        }
        if levels.is_none() && matches!(p.get("alpha"), Some(ParamValue::List(_))) {
            return Err(Error::config(
                "decoder.alpha",
                "a list of levels is for objective = \"quantile\" only (one booster per level)",
            ));
        }
        Ok(Plan {
            rounds,
            early_stopping,
            levels,
            params,
        })
    }
}

/// `early_stopping_min_delta`: a number of at least 0, 0 when unset.
fn early_stopping_min_delta(p: &LibraryParams) -> Result<f64> {
    match p.get("early_stopping_min_delta") {
        None => Ok(0.0),
        Some(value) => match value.as_f64() {
            Some(delta) if delta >= 0.0 && delta.is_finite() => Ok(delta),
            _ => Err(Error::config(
                "decoder.early_stopping_min_delta",
                format!(
                    "must be a number of at least 0, not `{}`",
                    value.to_library_string()
                ),
            )),
        },
    }
}

/// `first_metric_only`: true or false, false when unset.
fn first_metric_only(p: &LibraryParams) -> Result<bool> {
    match p.get("first_metric_only") {
        None => Ok(false),
        Some(ParamValue::Bool(b)) => Ok(*b),
        Some(other) => Err(Error::config(
            "decoder.first_metric_only",
            format!("must be true or false, not `{}`", other.to_library_string()),
        )),
    }
}

/// The quantile objective's levels: `alpha` (one number or a list), increasing, each in (0, 1);
/// LightGBM's 0.9 when unset.
fn quantile_levels(p: &LibraryParams) -> Result<Vec<f64>> {
    let Some(alpha) = p.get("alpha") else {
        return Ok(vec![DEFAULT_ALPHA]);
    };
    let mut levels = alpha.as_f64_list().ok_or_else(|| {
        Error::config(
            "decoder.alpha",
            format!(
                "must be a quantile level or a list of them (alpha = [0.1, 0.5, 0.9]), not `{}`",
                alpha.to_library_string()
            ),
        )
    })?;
    crate::ensure_config!(
        !levels.is_empty(),
        "decoder.alpha",
        "lists no quantile level"
    );
    if let Some(bad) = levels.iter().find(|&&l| !(l > 0.0 && l < 1.0)) {
        return Err(Error::config(
            "decoder.alpha",
            format!("quantile level {bad} is not strictly between 0 and 1"),
        ));
    }
    levels.sort_by(f64::total_cmp);
    if let Some(pair) = levels.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::config(
            "decoder.alpha",
            format!("quantile level {} is listed twice", pair[0]),
        ));
    }
    Ok(levels)
}

/// LightGBM's parameter string: `key=value` pairs separated by spaces, as the Python package
/// writes it.
fn parameter_string(params: &LibraryParams) -> String {
    params
        .iter()
        .map(|(key, value)| format!("{key}={}", value.to_library_string()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Has LightGBM parse `params`, and refuses the first key it does not know, with its own
/// warning.
fn refuse_unknown_parameters(params: &LibraryParams) -> Result<()> {
    let lines = ffi::check_parameters(&parameter_string(params))?;
    for line in &lines {
        // `Unknown parameter: KEY` (an unknown key) or `Unknown parameter KEY=A=B` (a pair
        // LightGBM cannot split).
        let Some((_, rest)) = line.split_once("Unknown parameter") else {
            continue;
        };
        let rest = rest.trim_start_matches(':').trim();
        let key = rest.split('=').next().unwrap_or(rest);
        return Err(Error::config(
            format!("decoder.{key}"),
            format!(
                "LightGBM does not know this parameter: `{line}` (the keys of a lightgbm \
                 decoder are LightGBM's own parameters and aliases)"
            ),
        ));
    }
    Ok(())
}

impl Plan {
    /// The parameters of each booster: `params` itself, or with a list of quantile levels,
    /// one copy per level with `alpha` set to it.
    fn per_booster(&self, params: &LibraryParams) -> Vec<LibraryParams> {
        match (&self.levels, params.get("alpha")) {
            (Some(levels), Some(ParamValue::List(_) | ParamValue::Text(_))) => levels
                .iter()
                .map(|&level| {
                    let mut at_level = params.clone();
                    at_level.insert("alpha", ParamValue::Float(level));
                    at_level
                })
                .collect(),
            _ => vec![params.clone()],
        }
    }
}

impl LightgbmSettings {
    /// Whether a setting makes LightGBM draw random numbers (see the module docs).
    fn draws_on_seed(&self) -> bool {
        let p = &self.params;
        p.fraction_below_one(BAGGING_FRACTIONS)
            || p.fraction_below_one(FEATURE_FRACTIONS)
            || p.differs_from(EXTRA_TREES, "false")
            || p.differs_from(BOOSTING, "gbdt") && p.differs_from(BOOSTING, "gbrt")
            || p.differs_from(DATA_SAMPLE_STRATEGY, "bagging")
            || p.find(BIN_SAMPLE).is_some()
    }
}

impl DecoderSettings for LightgbmSettings {
    fn check(&self) -> Result<()> {
        let plan = self.plan()?;
        ffi::ensure_loaded()?;
        plan.per_booster(&plan.params)
            .iter()
            .try_for_each(refuse_unknown_parameters)
    }

    fn external_files(&self) -> Result<Vec<std::path::PathBuf>> {
        Ok(vec![booster::library_file(NAME, ffi::LIBRARY)?])
    }

    fn build(&self, feature_names: &[String]) -> Result<Box<dyn Regressor>> {
        self.check()?;
        Ok(Box::new(Lightgbm {
            settings: self.clone(),
            columns: feature_names.len(),
            fitted: None,
        }))
    }

    /// True unless `seed` (or an alias) pins the library's seed, or no setting draws on it
    /// (see the module docs).
    fn is_stochastic(&self) -> bool {
        self.params.find(SEED).is_none() && self.draws_on_seed()
    }

    fn accepts_missing(&self) -> bool {
        true
    }

    fn wants_validation(&self) -> bool {
        self.plan().is_ok_and(|plan| plan.early_stopping.is_some())
    }
}

/// The LightGBM decoder: one booster, or one per quantile level.
struct Lightgbm {
    settings: LightgbmSettings,
    columns: usize,
    fitted: Option<Fitted>,
}

struct Fitted {
    /// One model, or one per level of `levels`.
    models: Vec<Model>,
    levels: Option<Vec<f64>>,
    threads: usize,
}

/// A trained booster, read back from its model text as `lgb.train` returns it.
struct Model {
    booster: Mutex<ffi::Booster>,
    /// The iterations predictions use: the best one with early stopping, else 0 (all).
    iterations: i32,
    importance: Vec<f64>,
}

impl Model {
    fn predict(&self, rows: &[f64], n: usize, p: usize, threads: usize) -> Result<Vec<f64>> {
        let booster = self.booster.lock().map_err(|_| {
            Error::Numerical(format!(
                "{NAME}: a prediction panicked while holding the model"
            ))
        })?;
        booster.predict(rows, n, p, self.iterations, threads)
    }
}

/// Labels as the Python package stores them: f32.
fn labels(y: &[f64]) -> Vec<f32> {
    y.iter().map(|&v| v as f32).collect()
}

/// The training rows, and the validation rows when early stopping watches them.
struct Data<'a> {
    rows: Vec<f64>,
    labels: Vec<f32>,
    n: usize,
    p: usize,
    validation: Option<(Vec<f64>, Vec<f32>, usize)>,
    stopping: Option<&'a EarlyStopping>,
}

/// Trains one booster on `data` with `params` for `rounds` rounds, as `lgb.train` does.
fn train(data: &Data<'_>, params: &str, rounds: u64) -> Result<Model> {
    let train = ffi::Dataset::from_rows(&data.rows, data.n, data.p, &data.labels, params, None)?;
    let valid = match &data.validation {
        Some((rows, labels, m)) => Some(ffi::Dataset::from_rows(
            rows,
            *m,
            data.p,
            labels,
            params,
            Some(&train),
        )?),
        None => None,
    };
    let mut booster = ffi::Booster::new(&train, params)?;
    let mut stopper = match (data.stopping, &valid) {
        (Some(stopping), Some(valid)) => {
            booster.add_validation(valid)?;
            Some(Stopper::new(stopping, booster.eval_names()?)?)
        }
        _ => None,
    };
    let mut best_iteration = 0;
    for round in 0..rounds as usize {
        booster.update_one_iter()?;
        if let Some(stopper) = stopper.as_mut() {
            let scores = booster.eval(1, stopper.names.len())?;
            if let Some(best) = stopper.step(round, rounds as usize - 1, &scores) {
                best_iteration = i32::try_from(best + 1).map_err(|_| {
                    Error::Numerical(format!("{NAME}: best iteration {best} is out of range"))
                })?;
                break;
            }
        }
    }
    let booster = booster.reloaded(best_iteration)?;
    drop(valid);
    drop(train);
    let importance = booster.gain_importance(best_iteration, data.p)?;
    Ok(Model {
        booster: Mutex::new(booster),
        iterations: best_iteration,
        importance,
    })
}

/// `lgb.early_stopping`'s state: per metric, the best score and the round it was reached.
struct Stopper<'a> {
    settings: &'a EarlyStopping,
    names: Vec<String>,
    /// Per metric, whether higher is better (the names LightGBM's Python package treats so).
    maximize: Vec<bool>,
    best: Vec<(f64, usize)>,
}

impl<'a> Stopper<'a> {
    fn new(settings: &'a EarlyStopping, names: Vec<String>) -> Result<Self> {
        crate::ensure_config!(
            !names.is_empty(),
            format!("decoder.{}", settings.key),
            "early stopping needs an evaluation metric, and the booster has none (metric = \
             \"none\"?)"
        );
        let maximize = names
            .iter()
            .map(|name| {
                ["auc", "ndcg@", "map@", "average_precision"]
                    .iter()
                    .any(|prefix| name.starts_with(prefix))
            })
            .collect();
        Ok(Stopper {
            settings,
            names,
            maximize,
            best: Vec::new(),
        })
    }

    /// Takes the metrics' `scores` after round `round` (0-based; `last` is the final one) and
    /// returns the best round when training stops here.
    fn step(&mut self, round: usize, last: usize, scores: &[f64]) -> Option<usize> {
        let first_time = self.best.is_empty();
        if first_time {
            self.best = scores.iter().map(|&s| (s, round)).collect();
        }
        let delta = self.settings.min_delta;
        for (i, &score) in scores.iter().enumerate().take(self.best.len()) {
            let (best, _) = self.best[i];
            let improved = if self.maximize[i] {
                score > best + delta
            } else {
                score < best - delta
            };
            if !first_time && improved {
                self.best[i] = (score, round);
            }
            if self.settings.first_metric_only && self.names[i] != self.names[0] {
                continue;
            }
            let best_round = self.best[i].1;
            if round - best_round >= self.settings.rounds || round == last {
                return Some(best_round);
            }
        }
        None
    }
}

impl Lightgbm {
    fn fitted(&self) -> Result<&Fitted> {
        self.fitted.as_ref().ok_or_else(|| not_fitted(NAME))
    }

    /// Each model's outputs for `x`, in the order of the levels.
    fn outputs(&self, x: MatRef<'_, f64>) -> Result<Vec<Vec<f64>>> {
        let fitted = self.fitted()?;
        super::check_missing_predict_input(NAME, x, self.columns)?;
        let rows = booster::row_major(x);
        fitted
            .models
            .iter()
            .map(|model| model.predict(&rows, x.nrows(), x.ncols(), fitted.threads))
            .collect()
    }
}

impl Regressor for Lightgbm {
    fn name(&self) -> String {
        NAME.to_string()
    }

    fn fit(&mut self, x: MatRef<'_, f64>, y: &[f64], ctx: &FitContext<'_>) -> Result<()> {
        super::check_missing_fit_input(NAME, x, y, 2, ctx)?;
        check_columns(NAME, x.ncols(), self.columns)?;
        let plan = self.settings.plan()?;
        let validation = match (&plan.early_stopping, ctx.validation()) {
            (None, _) => None,
            (Some(stopping), None) => {
                return Err(Error::config(
                    format!("decoder.{}", stopping.key),
                    format!(
                        "early stopping watches validation rows, and this fit has none: an \
                         experiment holds out the last training rows when {} is set, and \
                         `quakelab decode` takes them with --valid FILE",
                        stopping.key
                    ),
                ));
            }
            (Some(_), Some(rows)) => Some((
                booster::row_major(rows.x()),
                labels(rows.y()),
                rows.x().nrows(),
            )),
        };
        let mut params = plan.params.clone();
        if params.find(THREADS).is_none() {
            params.insert("num_threads", ParamValue::Integer(ctx.threads() as i64));
        }
        if params.find(SEED).is_none() {
            params.insert(
                "seed",
                ParamValue::Integer(booster::library_seed(ctx.seed())),
            );
        }
        let threads = match params.find(THREADS) {
            Some((_, ParamValue::Integer(n))) if *n > 0 => *n as usize,
            _ => ctx.threads(),
        };
        let data = Data {
            rows: booster::row_major(x),
            labels: labels(y),
            n: x.nrows(),
            p: x.ncols(),
            validation,
            stopping: plan.early_stopping.as_ref(),
        };
        let mut models = Vec::new();
        for params in &plan.per_booster(&params) {
            refuse_unknown_parameters(params)?;
            models.push(train(&data, &parameter_string(params), plan.rounds)?);
        }
        self.fitted = Some(Fitted {
            models,
            levels: plan.levels,
            threads,
        });
        Ok(())
    }

    fn predict(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        let mut outputs = self.outputs(x)?;
        match &self.fitted()?.levels {
            None => Ok(outputs.pop().unwrap_or_default()),
            Some(levels) => {
                let none = QuantileLevels::new(Vec::new()).map_err(Error::Numerical)?;
                let median = booster::quantile_prediction(NAME, "alpha", levels, &outputs, &none)?;
                Ok(median.point().to_vec())
            }
        }
    }

    fn predict_distribution(
        &self,
        x: MatRef<'_, f64>,
        levels: &QuantileLevels,
    ) -> Result<Prediction> {
        let outputs = self.outputs(x)?;
        match &self.fitted()?.levels {
            None => Ok(Prediction::Point(
                outputs.into_iter().next().unwrap_or_default(),
            )),
            Some(trained) => booster::quantile_prediction(NAME, "alpha", trained, &outputs, levels),
        }
    }

    fn feature_importance(&self) -> Option<Vec<f64>> {
        let fitted = self.fitted.as_ref()?;
        let mut total = vec![0.0; self.columns];
        for model in &fitted.models {
            for (sum, gain) in total.iter_mut().zip(&model.importance) {
                *sum += gain;
            }
        }
        Some(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml_text: &str) -> LightgbmSettings {
        toml::from_str(toml_text).unwrap()
    }

    fn key_of(result: Result<impl std::fmt::Debug>) -> String {
        match result {
            Err(Error::Config { key, .. }) => key,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn only_settings_that_draw_make_the_fit_depend_on_its_seed() {
        assert!(!settings("").is_stochastic());
        assert!(!settings("num_leaves = 7\nboosting = \"gbrt\"\n").is_stochastic());
        // A fraction of 1 samples everything.
        assert!(!settings("subsample = 1\ncolsample_bytree = 1.0\n").is_stochastic());
        for draws in [
            "bagging_fraction = 0.8\nbagging_freq = 1\n",
            // Counted even without bagging_freq (which turns bagging on), to be safe.
            "sub_row = 0.5\n",
            "neg_bagging_fraction = 0.5\n",
            "colsample_bytree = 0.9\n",
            "feature_fraction_bynode = 0.5\n",
            "extra_trees = true\n",
            "boosting = \"dart\"\n",
            "boosting_type = \"rf\"\n",
            "data_sample_strategy = \"goss\"\n",
            "bin_construct_sample_cnt = 1000\n",
        ] {
            assert!(settings(draws).is_stochastic(), "{draws}");
            let pinned = settings(&format!("{draws}random_state = 3\n"));
            assert!(!pinned.is_stochastic(), "{draws} with a pinned seed");
        }
    }

    #[test]
    fn aliases_resolve_to_the_names_lgb_train_passes() {
        let plan = settings("n_estimators = 7\nearly_stopping_rounds = 3\nloss = \"huber\"\n")
            .plan()
            .unwrap();
        assert_eq!(plan.rounds, 7);
        assert_eq!(plan.early_stopping.as_ref().map(|s| s.rounds), Some(3));
        assert_eq!(
            parameter_string(&plan.params),
            "early_stopping_round=3 num_iterations=7 objective=huber"
        );
        let default = settings("").plan().unwrap();
        assert_eq!((default.rounds, default.early_stopping), (100, None));
        assert_eq!(parameter_string(&default.params), "num_iterations=100");
        let off = settings("early_stopping_round = 0\n").plan().unwrap();
        assert_eq!(off.early_stopping, None);
    }

    #[test]
    fn quantile_levels_come_from_alpha() {
        let one = settings("objective = \"quantile\"\nalpha = 0.25\n");
        assert_eq!(one.plan().unwrap().levels, Some(vec![0.25]));
        let default = settings("objective = \"quantile\"\n");
        assert_eq!(default.plan().unwrap().levels, Some(vec![0.9]));
        let list = settings("objective = \"quantile\"\nalpha = [0.9, 0.1, 0.5]\n");
        assert_eq!(list.plan().unwrap().levels, Some(vec![0.1, 0.5, 0.9]));
        let regression = settings("alpha = 0.5\n");
        assert_eq!(regression.plan().unwrap().levels, None);
        for bad in [
            "objective = \"quantile\"\nalpha = [0.1, 0.1]\n",
            "objective = \"quantile\"\nalpha = 1.5\n",
            "objective = \"quantile\"\nalpha = \"low\"\n",
            "alpha = [0.1, 0.9]\n",
        ] {
            assert_eq!(key_of(settings(bad).plan()), "decoder.alpha", "{bad}");
        }
    }

    #[test]
    fn keys_quakelab_reads_are_checked() {
        let cases = [
            ("num_iterations = 0\n", "decoder.num_iterations"),
            ("num_trees = 1.5\n", "decoder.num_trees"),
            ("early_stopping = \"yes\"\n", "decoder.early_stopping"),
            (
                "early_stopping_round = 5\nearly_stopping_min_delta = -1\n",
                "decoder.early_stopping_min_delta",
            ),
            (
                "early_stopping_round = 5\nfirst_metric_only = 1\n",
                "decoder.first_metric_only",
            ),
            (
                "early_stopping_round = 5\nboosting = \"dart\"\n",
                "decoder.early_stopping_round",
            ),
        ];
        for (text, key) in cases {
            assert_eq!(key_of(settings(text).plan()), key, "{text}");
        }
    }

    #[test]
    fn the_stopper_keeps_the_first_best_round() {
        let settings = EarlyStopping {
            key: "early_stopping_round".into(),
            rounds: 2,
            min_delta: 0.0,
            first_metric_only: false,
        };
        let mut stopper = Stopper::new(&settings, vec!["l2".into()]).unwrap();
        // Best at round 1 (0.5); round 2 ties it, round 3 is worse: stop after round 3.
        let scores = [1.0, 0.5, 0.5, 0.7, 0.1];
        let stops: Vec<Option<usize>> = scores
            .iter()
            .enumerate()
            .map(|(round, &s)| stopper.step(round, 9, &[s]))
            .take(4)
            .collect();
        assert_eq!(stops, [None, None, None, Some(1)]);
        // Never stalled: the last round returns the best one.
        let mut stopper = Stopper::new(&settings, vec!["auc".into()]).unwrap();
        let rising = [0.1, 0.2, 0.3];
        let last: Vec<Option<usize>> = rising
            .iter()
            .enumerate()
            .map(|(round, &s)| stopper.step(round, 2, &[s]))
            .collect();
        assert_eq!(last, [None, None, Some(2)]);
    }
}
