//! XGBoost (the paper's §3.3 comparison decoder, Figs. 9–11) through the official
//! `libxgboost.so` 3.x of the `xgboost-cpu` wheel, loaded at run time (see
//! [`super::booster`] for where it lives and how it is installed).
//!
//! A fit makes exactly the C calls that `xgb.train(params, xgb.DMatrix(X, label=y),
//! num_boost_round)` makes, in the same order, and a prediction those of
//! `booster.predict(xgb.DMatrix(X_test))`, so with one thread and a fixed seed the predictions
//! equal the Python package's (`tools/parity/ref_xgboost.py` makes the fixtures the tests compare
//! against, to 1e-6 relative; in practice they are bit-equal).
//!
//! # Parameters
//!
//! Every key of `[decoder]` but `kind` is handed to `XGBoosterSetParam` under its own name, so
//! XGBoost's parameter documentation applies as written:
//!
//! ```toml
//! [decoder]
//! kind = "xgboost"
//! max_depth = 4
//! eta = 0.1
//! num_boost_round = 150
//! ```
//!
//! Values are written as the Python package writes them (`str(value)`: `True`, `0.1`, a list
//! as `[0.1, 0.5, 0.9]`; an `eval_metric` list becomes one `eval_metric` per item). Two keys
//! are quakelab's own, as they are arguments of `xgb.train` rather than parameters:
//!
//! - `num_boost_round`: the number of rounds (default 10, as in `xgb.train`);
//! - `early_stopping_rounds`: stop when the validation metric has not improved for this many
//!   rounds (see below).
//!
//! `nthread` follows the fit context's thread budget and `seed` the experiment's seed
//! ([`booster::library_seed`] of the derived seed) unless they are set; with `seed` (or its
//! alias `random_state`) set, the decoder is not stochastic and the runner fits it once. It is
//! not stochastic either when no setting draws on the seed: XGBoost draws only to subsample rows
//! (`subsample` below 1) or columns (`colsample_bytree`, `colsample_bylevel`,
//! `colsample_bynode` below 1), for the DART booster's dropout, and for `gblinear`'s shuffled or
//! random coordinate order (any `booster` but `gbtree` counts as drawing). With none of them the
//! fit is the same for every seed (checked against the library by a test), so the runner fits
//! it once instead of once per seed.
//! `validate_parameters = 1` is set last, as the Python package does.
//!
//! [`DecoderSettings::check`] checks quakelab's own keys and that the library is installed;
//! XGBoost checks its own parameters when the fit starts. A key XGBoost does not use is
//! refused with its own warning, `Parameters: { "foo" } are not used.`, as an
//! [`Error::Config`] on `decoder.foo`; any other error of the library is an
//! [`Error::External`] with XGBoost's text. (With `verbosity = 0` XGBoost stays silent about
//! unused parameters, so they cannot be refused.)
//!
//! # Missing values
//!
//! NaN features are missing values (the CSV reader gives NaN for empty and `NaN` cells for this
//! decoder): XGBoost learns, at each split, which side the rows missing that feature go to (the
//! default direction that gained most in training), and sends missing test values that way.
//! Infinite values are refused.
//!
//! # Early stopping
//!
//! With `early_stopping_rounds` set, the fit context must carry validation rows (the runner
//! holds out the last training rows, `quakelab decode --valid FILE` reads them). After each
//! round the validation rows are scored with `XGBoosterEvalOneIter` and the last metric XGBoost
//! reports (the objective's default, `rmse` for `reg:squarederror`, or the last `eval_metric`),
//! as the `EarlyStopping` callback of `xgb.train` does: lower is better (higher for the
//! metrics Python maximizes, such as `auc`), the first best round is kept, and training stops
//! once `early_stopping_rounds` rounds pass without a strict improvement. Predictions then use
//! the trees up to the best round, as `booster.predict(d, iteration_range=(0,
//! booster.best_iteration + 1))` does in Python (`xgb.train` itself returns every round).
//!
//! # Quantiles
//!
//! `objective = "reg:quantileerror"` with `quantile_alpha` (one level or a list, increasing,
//! each in (0, 1)) trains one model with an output per level.
//! [`Regressor::predict_distribution`] interpolates the requested levels between the trained
//! ones ([`booster::quantile_prediction`]; asking for a level outside them is refused with
//! what to set), and [`Regressor::predict`] gives the median.
//!
//! # Feature importance
//!
//! [`Regressor::feature_importance`] is XGBoost's `total_gain` (`get_score(importance_type =
//! "total_gain")`): the loss reduction summed over every split on a column, in column order,
//! 0 for columns never split on. XGBoost names the columns `f0`, `f1`, … by position.
//!
//! # Logs and threads
//!
//! XGBoost's log lines go to the log ([`booster::library_log`], shown under `-v`), never
//! straight to the terminal; a `verbosity` key, when set, is passed through. The fitted booster sits behind a
//! mutex: a model can be shared between threads, and predictions from several threads take
//! turns.

mod ffi;

use std::sync::Mutex;

use faer::MatRef;
use serde::{Deserialize, Serialize};

use super::booster::{self, LibraryParams, ParamValue, quantile_prediction};
use super::{DecoderSettings, FitContext, Prediction, QuantileLevels, Regressor, not_fitted};
use crate::{Error, Result};
use ffi::{Booster, DMatrix, LogCapture, Outputs};

/// The decoder's kind and name.
const NAME: &str = "xgboost";
/// The number of rounds (an argument of `xgb.train`, consumed by quakelab).
const ROUNDS: &str = "num_boost_round";
/// The rounds without improvement before stopping (an argument of `xgb.train`).
const EARLY_STOPPING: &str = "early_stopping_rounds";
/// `xgb.train`'s default number of rounds.
const DEFAULT_ROUNDS: u64 = 10;
/// The thread count parameter.
const THREADS: &str = "nthread";
/// The seed parameter and its alias.
const SEEDS: [&str; 2] = ["seed", "random_state"];
/// The quantile objective and its levels.
const QUANTILE_OBJECTIVE: &str = "reg:quantileerror";
const LEVELS: &str = "quantile_alpha";
/// The name of the validation rows in XGBoost's evaluation lines.
const VALIDATION_NAME: &str = "valid";

/// Settings of the XGBoost decoder (`kind = "xgboost"`): XGBoost's own parameters under their
/// own names, plus `num_boost_round` and `early_stopping_rounds` (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct XgboostSettings {
    /// Every key but `kind`, in XGBoost's names.
    #[serde(flatten)]
    pub params: LibraryParams,
}

impl XgboostSettings {
    /// The number of boosting rounds (default 10).
    fn rounds(&self) -> Result<u64> {
        Ok(self
            .params
            .positive_integer(&[ROUNDS])?
            .unwrap_or(DEFAULT_ROUNDS))
    }

    /// The early-stopping patience, when set.
    fn early_stopping_rounds(&self) -> Result<Option<u64>> {
        self.params.positive_integer(&[EARLY_STOPPING])
    }

    /// The trained quantile levels of a `reg:quantileerror` model, `None` for other objectives.
    fn quantile_levels(&self) -> Result<Option<Vec<f64>>> {
        let quantile = matches!(
            self.params.get("objective"),
            Some(ParamValue::Text(objective)) if objective == QUANTILE_OBJECTIVE
        );
        if !quantile {
            return Ok(None);
        }
        let key = format!("decoder.{LEVELS}");
        let value = self.params.get(LEVELS).ok_or_else(|| {
            Error::config(
                &key,
                format!(
                    "objective {QUANTILE_OBJECTIVE} needs the quantile levels to train, e.g. \
                     {LEVELS} = [0.05, 0.5, 0.95]"
                ),
            )
        })?;
        let levels = value
            .as_f64_list()
            .filter(|l| !l.is_empty())
            .ok_or_else(|| {
                Error::config(
                    &key,
                    format!(
                        "must be a level or a list of levels, not `{}`",
                        value.to_library_string()
                    ),
                )
            })?;
        crate::ensure_config!(
            levels.iter().all(|&l| l > 0.0 && l < 1.0),
            &key,
            "every level must lie strictly between 0 and 1, got {levels:?}"
        );
        crate::ensure_config!(
            levels.windows(2).all(|w| w[0] < w[1]),
            &key,
            "list the levels in increasing order, each once, got {levels:?}"
        );
        Ok(Some(levels))
    }

    /// Whether a setting makes XGBoost draw random numbers (see the module docs).
    fn draws_on_seed(&self) -> bool {
        self.params.fraction_below_one(&[
            "subsample",
            "colsample_bytree",
            "colsample_bylevel",
            "colsample_bynode",
        ]) || self.params.differs_from(&["booster"], "gbtree")
    }

    /// Whether `seed` or `random_state` pins the library's seed.
    fn seed_is_pinned(&self) -> bool {
        self.params.find(&SEEDS).is_some()
    }

    /// The `(name, value)` pairs handed to `XGBoosterSetParam`, in order: the user's keys but
    /// quakelab's own (in key order), `nthread` and `seed` from the context unless set, then
    /// `validate_parameters`.
    fn library_params(
        &self,
        levels: Option<&[f64]>,
        ctx: &FitContext<'_>,
    ) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (key, value) in self.params.without(&[ROUNDS, EARLY_STOPPING]).iter() {
            match (key, value, levels) {
                ("eval_metric", ParamValue::List(metrics), _) => out.extend(
                    metrics
                        .iter()
                        .map(|metric| (key.to_string(), python_str(metric))),
                ),
                (LEVELS, _, Some(levels)) => {
                    let items: Vec<ParamValue> =
                        levels.iter().map(|&l| ParamValue::Float(l)).collect();
                    let text = match items.as_slice() {
                        [one] => python_str(one),
                        _ => python_str(&ParamValue::List(items)),
                    };
                    out.push((key.to_string(), text));
                }
                _ => out.push((key.to_string(), python_str(value))),
            }
        }
        if self.params.get(THREADS).is_none() {
            out.push((THREADS.to_string(), ctx.threads().to_string()));
        }
        if !self.seed_is_pinned() {
            out.push((
                SEEDS[0].to_string(),
                booster::library_seed(ctx.seed()).to_string(),
            ));
        }
        out.push(("validate_parameters".to_string(), "1".to_string()));
        out
    }
}

/// A value as Python's `str()` writes it, which is what the Python package hands to
/// `XGBoosterSetParam`: `True`/`False`, numbers in their shortest round-trip form, text as it
/// is, and a list as `[a, b]` (text items quoted).
fn python_str(value: &ParamValue) -> String {
    match value {
        ParamValue::Bool(true) => "True".to_string(),
        ParamValue::Bool(false) => "False".to_string(),
        ParamValue::List(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|item| match item {
                    ParamValue::Text(text) => format!("'{text}'"),
                    other => python_str(other),
                })
                .collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_library_string(),
    }
}

impl DecoderSettings for XgboostSettings {
    fn check(&self) -> Result<()> {
        self.rounds()?;
        self.early_stopping_rounds()?;
        self.quantile_levels()?;
        ffi::library_path().map(|_| ())
    }

    fn external_files(&self) -> Result<Vec<std::path::PathBuf>> {
        Ok(vec![ffi::library_path()?])
    }

    fn build(&self, feature_names: &[String]) -> Result<Box<dyn Regressor>> {
        Ok(Box::new(Xgboost {
            settings: self.clone(),
            rounds: self.rounds()?,
            early_stopping_rounds: self.early_stopping_rounds()?,
            levels: self.quantile_levels()?,
            n_columns: feature_names.len(),
            fitted: None,
        }))
    }

    /// True unless `seed` (or `random_state`) pins XGBoost's seed, or no setting draws on it
    /// (see the module docs).
    fn is_stochastic(&self) -> bool {
        !self.seed_is_pinned() && self.draws_on_seed()
    }

    fn accepts_missing(&self) -> bool {
        true
    }

    fn wants_validation(&self) -> bool {
        self.params.get(EARLY_STOPPING).is_some()
    }
}

/// The fitted booster and what predictions need to know.
struct Fitted {
    booster: Mutex<Booster>,
    n_features: usize,
    /// `iteration_end` of every prediction: the best round + 1 after early stopping, else 0
    /// (every round).
    iteration_end: usize,
    /// The fit's thread budget, which also loads the prediction matrices.
    threads: usize,
}

/// The XGBoost decoder.
struct Xgboost {
    settings: XgboostSettings,
    rounds: u64,
    early_stopping_rounds: Option<u64>,
    levels: Option<Vec<f64>>,
    /// The column count given to `build`.
    n_columns: usize,
    fitted: Option<Fitted>,
}

/// `xgb.train`'s `EarlyStopping` callback: the first best score and its round, and the rounds
/// since.
struct EarlyStopping {
    patience: u64,
    maximize: Option<bool>,
    best: Option<(f64, usize)>,
    since_best: u64,
}

impl EarlyStopping {
    fn new(patience: u64) -> Self {
        EarlyStopping {
            patience,
            maximize: None,
            best: None,
            since_best: 0,
        }
    }

    /// Records round `round`'s `score` of `metric`; true when training should stop.
    fn record(&mut self, round: usize, metric: &str, score: f64) -> bool {
        let maximize = *self
            .maximize
            .get_or_insert_with(|| metric_is_maximized(metric));
        match self.best {
            None => self.best = Some((score, round)),
            Some((best, _)) => {
                let improved = if maximize { score > best } else { best > score };
                if improved {
                    self.best = Some((score, round));
                    self.since_best = 0;
                } else {
                    self.since_best += 1;
                }
            }
        }
        self.since_best >= self.patience
    }

    fn best_round(&self) -> Option<usize> {
        self.best.map(|(_, round)| round)
    }
}

/// Whether the Python package's early stopping maximizes `metric` (its rule when `maximize`
/// is not given).
fn metric_is_maximized(metric: &str) -> bool {
    const MAXIMIZED: [&str; 10] = [
        "auc", "aucpr", "pre", "pre@", "map", "ndcg", "auc@", "aucpr@", "map@", "ndcg@",
    ];
    metric != "mape" && MAXIMIZED.iter().any(|m| metric.starts_with(m))
}

/// The last metric of an evaluation line `[3]\tvalid-rmse:0.41`: (`rmse`, 0.41).
fn last_metric(line: &str) -> Result<(String, f64)> {
    let unreadable = || Error::External {
        service: NAME.to_string(),
        message: format!("cannot read the evaluation line `{line}`"),
    };
    let item = line
        .split_whitespace()
        .skip(1)
        .last()
        .ok_or_else(unreadable)?;
    let (name, value) = item.split_once(':').ok_or_else(unreadable)?;
    let metric = name.split_once('-').map_or(name, |(_, metric)| metric);
    let value = value.parse::<f64>().map_err(|_| unreadable())?;
    Ok((metric.to_string(), value))
}

/// XGBoost's warning about parameters it did not use, as an [`Error::Config`] on the first of
/// them, carrying the library's own words.
fn refuse_unused_parameters(lines: &[String]) -> Result<()> {
    const START: &str = "Parameters: {";
    const END: &str = "are not used.";
    for line in lines {
        let Some(start) = line.find(START) else {
            continue;
        };
        let Some(end) = line[start..].find(END) else {
            continue;
        };
        let message = &line[start..start + end + END.len()];
        let names: Vec<&str> = message[START.len()..]
            .split('"')
            .skip(1)
            .step_by(2)
            .collect();
        let key = names.first().copied().unwrap_or("?");
        return Err(Error::config(
            format!("decoder.{key}"),
            format!(
                "XGBoost: {message} Every key under [decoder] but `kind`, `{ROUNDS}` and \
                 `{EARLY_STOPPING}` goes to XGBoost under its own name: check the spelling \
                 against XGBoost's parameter list"
            ),
        ));
    }
    Ok(())
}

impl Xgboost {
    fn fitted(&self) -> Result<&Fitted> {
        self.fitted.as_ref().ok_or_else(|| not_fitted(NAME))
    }

    /// The raw outputs for the rows of `x`: one per row, or one per row and quantile level.
    fn outputs(&self, x: MatRef<'_, f64>) -> Result<Outputs> {
        let fitted = self.fitted()?;
        super::check_missing_predict_input(NAME, x, fitted.n_features)?;
        let xgb = ffi::library()?;
        xgb.enter(true)?;
        let matrix = DMatrix::dense(xgb, x, fitted.threads)?;
        let booster = fitted
            .booster
            .lock()
            .map_err(|_| Error::Numerical(format!("{NAME}: a prediction panicked earlier")))?;
        let outputs = booster.predict(&matrix, x.nrows(), fitted.iteration_end)?;
        let expected = self.levels.as_ref().map_or(1, Vec::len);
        if x.nrows() > 0 && outputs.width != expected {
            return Err(Error::External {
                service: NAME.to_string(),
                message: format!(
                    "{} outputs per row where {expected} were expected",
                    outputs.width
                ),
            });
        }
        Ok(outputs)
    }

    /// A quantile model's prediction at `requested` levels.
    fn quantiles(
        &self,
        trained: &[f64],
        outputs: &Outputs,
        requested: &QuantileLevels,
    ) -> Result<Prediction> {
        let per_level: Vec<Vec<f64>> = (0..trained.len())
            .map(|k| {
                outputs
                    .values
                    .iter()
                    .skip(k)
                    .step_by(outputs.width.max(1))
                    .map(|&v| f64::from(v))
                    .collect()
            })
            .collect();
        quantile_prediction(NAME, LEVELS, trained, &per_level, requested)
    }
}

impl Regressor for Xgboost {
    fn name(&self) -> String {
        NAME.to_string()
    }

    fn fit(&mut self, x: MatRef<'_, f64>, y: &[f64], ctx: &FitContext<'_>) -> Result<()> {
        self.fitted = None;
        super::check_missing_fit_input(NAME, x, y, 2, ctx)?;
        super::check_columns(NAME, x.ncols(), self.n_columns)?;
        let validation = match (self.early_stopping_rounds, ctx.validation()) {
            (Some(patience), Some(rows)) => Some((patience, rows)),
            (Some(_), None) => {
                return Err(Error::config(
                    format!("decoder.{EARLY_STOPPING}"),
                    "early stopping watches validation rows, and this fit has none: the \
                     runner holds them out of the training rows when the decoder asks for \
                     them, and `quakelab decode` reads them from `--valid FILE`; or remove \
                     the key",
                ));
            }
            (None, _) => None,
        };
        let xgb = ffi::library()?;
        xgb.enter(self.settings.params.get("verbosity").is_some())?;
        let threads = ctx.threads();
        let train = DMatrix::dense(xgb, x, threads)?;
        train.set_labels(y)?;
        let valid = match validation {
            Some((_, rows)) => {
                let matrix = DMatrix::dense(xgb, rows.x(), threads)?;
                matrix.set_labels(rows.y())?;
                Some(matrix)
            }
            None => None,
        };
        let mut cache = vec![&train];
        cache.extend(valid.as_ref());
        let capture = LogCapture::start();
        let booster = Booster::new(xgb, &cache)?;
        for (name, value) in self.settings.library_params(self.levels.as_deref(), ctx) {
            booster.set_param(&name, &value)?;
        }
        let mut stopping = validation.map(|(patience, _)| EarlyStopping::new(patience));
        for round in 0..self.rounds as usize {
            booster.update(round, &train)?;
            refuse_unused_parameters(&capture.take())?;
            if let (Some(stopping), Some(valid)) = (stopping.as_mut(), valid.as_ref()) {
                let line = booster.evaluate(round, valid, VALIDATION_NAME)?;
                let (metric, score) = last_metric(&line)?;
                if stopping.record(round, &metric, score) {
                    break;
                }
            }
        }
        booster.reset()?;
        drop(capture);
        let iteration_end = stopping
            .as_ref()
            .and_then(EarlyStopping::best_round)
            .map_or(0, |round| round + 1);
        self.fitted = Some(Fitted {
            booster: Mutex::new(booster),
            n_features: x.ncols(),
            iteration_end,
            threads,
        });
        Ok(())
    }

    fn predict(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        let outputs = self.outputs(x)?;
        match &self.levels {
            None => Ok(outputs.values.iter().map(|&v| f64::from(v)).collect()),
            Some(trained) => self
                .quantiles(
                    trained,
                    &outputs,
                    &QuantileLevels::new(Vec::new()).map_err(Error::Numerical)?,
                )
                .map(|p| p.point().to_vec()),
        }
    }

    fn predict_distribution(
        &self,
        x: MatRef<'_, f64>,
        levels: &QuantileLevels,
    ) -> Result<Prediction> {
        match &self.levels {
            None => self.predict(x).map(Prediction::Point),
            Some(trained) => {
                let outputs = self.outputs(x)?;
                self.quantiles(trained, &outputs, levels)
            }
        }
    }

    fn feature_importance(&self) -> Option<Vec<f64>> {
        let fitted = self.fitted.as_ref()?;
        match total_gain(fitted) {
            Ok(gains) => Some(gains),
            Err(e) => {
                tracing::warn!("{NAME}: no feature importance: {e}");
                None
            }
        }
    }
}

/// XGBoost's `total_gain` per column, in column order (0 for a column never split on).
fn total_gain(fitted: &Fitted) -> Result<Vec<f64>> {
    let xgb = ffi::library()?;
    xgb.enter(true)?;
    let booster = fitted
        .booster
        .lock()
        .map_err(|_| Error::Numerical(format!("{NAME}: a prediction panicked earlier")))?;
    let mut gains = vec![0.0; fitted.n_features];
    for (name, scores) in booster.feature_scores("total_gain")? {
        let column = name
            .strip_prefix('f')
            .and_then(|index| index.parse::<usize>().ok())
            .filter(|&column| column < fitted.n_features)
            .ok_or_else(|| Error::External {
                service: NAME.to_string(),
                message: format!(
                    "a feature score for `{name}`, not one of f0 to f{}",
                    fitted.n_features.saturating_sub(1)
                ),
            })?;
        gains[column] += scores.iter().map(|&s| f64::from(s)).sum::<f64>();
    }
    Ok(gains)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml_text: &str) -> XgboostSettings {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn values_are_written_as_python_writes_them() {
        let cases = [
            (ParamValue::Bool(true), "True"),
            (ParamValue::Bool(false), "False"),
            (ParamValue::Integer(4), "4"),
            (ParamValue::Float(0.1), "0.1"),
            (
                ParamValue::Text("reg:squarederror".into()),
                "reg:squarederror",
            ),
            (
                ParamValue::List(vec![ParamValue::Float(0.1), ParamValue::Float(0.9)]),
                "[0.1, 0.9]",
            ),
            (
                ParamValue::List(vec![
                    ParamValue::List(vec![ParamValue::Integer(0), ParamValue::Integer(1)]),
                    ParamValue::List(vec![ParamValue::Integer(2)]),
                ]),
                "[[0, 1], [2]]",
            ),
            (
                ParamValue::List(vec![ParamValue::Text("f0".into())]),
                "['f0']",
            ),
        ];
        for (value, text) in cases {
            assert_eq!(python_str(&value), text, "{value:?}");
        }
    }

    #[test]
    fn threads_and_seed_follow_the_context_unless_set() {
        let ctx =
            FitContext::new((1 << 31) + 7).with_threads(std::num::NonZeroUsize::new(3).unwrap());
        let plain = settings("max_depth = 4\nnum_boost_round = 20\n");
        assert_eq!(
            plain.library_params(None, &ctx),
            [
                ("max_depth", "4"),
                ("nthread", "3"),
                ("seed", "7"),
                ("validate_parameters", "1")
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        assert!(!plain.is_stochastic(), "nothing draws on the seed");
        for draws in [
            "subsample = 0.8\n",
            "colsample_bynode = 0.5\n",
            "colsample_bytree = \"half\"\n",
            "booster = \"dart\"\n",
        ] {
            assert!(settings(draws).is_stochastic(), "{draws}");
        }
        for keeps in [
            "subsample = 1\n",
            "colsample_bylevel = 1.0\n",
            "booster = \"gbtree\"\n",
        ] {
            assert!(!settings(keeps).is_stochastic(), "{keeps}");
        }
        let pinned = settings("nthread = 1\nrandom_state = 5\neval_metric = [\"rmse\", \"mae\"]\n");
        assert_eq!(
            pinned.library_params(None, &ctx),
            [
                ("eval_metric", "rmse"),
                ("eval_metric", "mae"),
                ("nthread", "1"),
                ("random_state", "5"),
                ("validate_parameters", "1")
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        assert!(!pinned.is_stochastic());
    }

    #[test]
    fn quantile_levels_are_read_in_any_spelling_and_checked() {
        let text = settings("objective = \"reg:quantileerror\"\nquantile_alpha = \"0.1,0.5\"\n");
        assert_eq!(text.quantile_levels().unwrap(), Some(vec![0.1, 0.5]));
        let params = text.library_params(Some(&[0.1, 0.5]), &FitContext::new(0));
        assert!(params.contains(&("quantile_alpha".to_string(), "[0.1, 0.5]".to_string())));
        let one = settings("objective = \"reg:quantileerror\"\nquantile_alpha = 0.9\n");
        assert_eq!(one.quantile_levels().unwrap(), Some(vec![0.9]));
        assert_eq!(
            settings("quantile_alpha = 0.9\n")
                .quantile_levels()
                .unwrap(),
            None
        );
        for bad in ["[0.5, 0.1]", "[0.0, 0.5]", "\"low\"", "[]"] {
            let s = settings(&format!(
                "objective = \"reg:quantileerror\"\nquantile_alpha = {bad}\n"
            ));
            match s.quantile_levels() {
                Err(Error::Config { key, .. }) => assert_eq!(key, "decoder.quantile_alpha"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        match settings("objective = \"reg:quantileerror\"\n").quantile_levels() {
            Err(Error::Config { key, .. }) => assert_eq!(key, "decoder.quantile_alpha"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rounds_default_to_ten_and_must_be_positive() {
        assert_eq!(settings("").rounds().unwrap(), 10);
        assert_eq!(settings("num_boost_round = 3\n").rounds().unwrap(), 3);
        for bad in ["0", "-1", "2.5", "\"ten\""] {
            let s = settings(&format!("num_boost_round = {bad}\n"));
            assert!(matches!(s.rounds(), Err(Error::Config { .. })), "{bad}");
        }
        assert!(!settings("").wants_validation());
        assert!(settings("early_stopping_rounds = 5\n").wants_validation());
    }

    #[test]
    fn evaluation_lines_give_their_last_metric() {
        assert_eq!(
            last_metric("[2]\tvalid-rmse:0.50145252324348721").unwrap(),
            ("rmse".to_string(), 0.501_452_523_243_487_2)
        );
        assert_eq!(
            last_metric("[0]\tvalid-rmse:1.5\tvalid-mae:0.25").unwrap(),
            ("mae".to_string(), 0.25)
        );
        assert!(last_metric("[0]").is_err());
    }

    #[test]
    fn early_stopping_keeps_the_first_best_round() {
        // Lower is better: 3.0 at round 1 is the best; the tie at round 2 is no improvement;
        // two more rounds without one stop at round 3 with patience 2.
        let mut stopping = EarlyStopping::new(2);
        assert!(!stopping.record(0, "rmse", 4.0));
        assert!(!stopping.record(1, "rmse", 3.0));
        assert!(!stopping.record(2, "rmse", 3.0));
        assert!(stopping.record(3, "rmse", 3.5));
        assert_eq!(stopping.best_round(), Some(1));
        // Higher is better for auc, as in the Python package.
        let mut auc = EarlyStopping::new(1);
        assert!(!auc.record(0, "auc", 0.6));
        assert!(!auc.record(1, "auc", 0.7));
        assert!(auc.record(2, "auc", 0.65));
        assert_eq!(auc.best_round(), Some(1));
        assert!(!metric_is_maximized("mape"));
        assert!(metric_is_maximized("ndcg@5"));
    }

    #[test]
    fn the_unused_parameters_warning_names_its_keys() {
        let lines = [
            "[23:00:00] WARNING: src/learner.cc:782: \nParameters: { \"foo\", \"bar\" } are not used.\n".to_string(),
        ];
        match refuse_unused_parameters(&lines) {
            Err(Error::Config { key, message }) => {
                assert_eq!(key, "decoder.foo");
                assert!(
                    message.starts_with(r#"XGBoost: Parameters: { "foo", "bar" } are not used."#),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(refuse_unused_parameters(&["[0] INFO: fine".to_string()]).is_ok());
    }
}
