//! CatBoost regression through the official `catboost` Python package, run in a supervised
//! worker process (the paper's comparison decoder, §3.3).
//!
//! # Why a worker process
//!
//! CatBoost has no C training API: its C API (`libcatboostmodel`) only evaluates models, and
//! training is reached through the Python package (or the R package, or the CLI). quakelab
//! therefore trains with the package itself, in a small Python program of its own
//! (`src/decode/catboost/worker.py`, compiled into the binary) run on the boosters' venv
//! ([`booster::venv_python`]). A separate process rather than an embedded interpreter (pyo3):
//!
//! - no libpython is linked into quakelab, so the binary builds and runs without Python, and
//!   the venv can be reinstalled or swapped (`QUAKELAB_BOOSTERS`) without a rebuild;
//! - a crash inside CatBoost (an abort, a segfault, the out-of-memory killer) ends the worker,
//!   not quakelab: the fit fails with an error that quotes the worker's last output;
//! - CatBoost's own printing (from C++ or Python) cannot reach the terminal, and the GIL is no
//!   concern: parallel fits each run in their own worker.
//!
//! Workers are stateless; idle ones are kept in a pool for the life of the quakelab process, so
//! the cost of starting Python and importing CatBoost (about a second) is paid once per worker,
//! not per fit. A worker that exits or breaks the protocol is killed, waited on and never used
//! again; the next request starts a new one.
//!
//! # Protocol
//!
//! Messages run over the worker's stdin (requests) and stdout (replies). A *frame* is a
//! little-endian `u64` byte count and that many bytes. A message is a frame holding a JSON
//! header, then one frame per entry of the header's `blobs` list, each described by `name`,
//! `dtype` (`f64`: little-endian doubles in C order, read with `numpy.frombuffer`; `bytes`: as
//! is) and `shape`. Before anything else the worker duplicates its stdout for the protocol and
//! points file descriptor 1 at its stderr, so nothing CatBoost prints can corrupt a frame;
//! quakelab reads the worker's stderr on a thread and forwards each line to the log.
//!
//! - On start, the worker imports CatBoost and replies `{"ok": true, "op": "ready"}`, or
//!   `{"ok": false, ...}` when the import fails.
//! - `fit` (header: `params`, `early_stopping_rounds`; blobs `x` n × p, `y` n, optionally
//!   `valid_x`, `valid_y`) → blobs `model` (CatBoost's `cbm` bytes, from `save_model`) and
//!   `importance` (p), header `best_iteration`
//!   and `tree_count`.
//! - `predict` (blobs `model`, `x` m × p) → blob `prediction` (m, or m × k for
//!   `MultiQuantile`).
//! - A request that raises a Python exception gets `{"ok": false, "error_type", "message"}`;
//!   the worker goes on.
//!
//! # Parameters
//!
//! Every key of `[decoder]` but `kind` is a keyword argument of `catboost.CatBoostRegressor`
//! under CatBoost's own name (`iterations` — default 1000 —, `learning_rate`, `depth`,
//! `loss_function`, `l2_leaf_reg`, `bootstrap_type`, `subsample`, `rsm`, …), except
//! `early_stopping_rounds`, given to `fit`. quakelab adds:
//!
//! - `thread_count` = the fit context's thread budget, unless set;
//! - `random_seed` = the fit's seed reduced to 31 bits ([`booster::library_seed`]), unless
//!   `random_seed` or `random_state` is set; the decoder is stochastic (repeated over the
//!   experiment's seeds) unless one of them pins it;
//! - `allow_writing_files = false`, unless set, so no `catboost_info/` folder appears in the
//!   working directory.
//!
//! [`DecoderSettings::check`] validates `early_stopping_rounds`, a quantile `loss_function`'s
//! levels, that no number is NaN or infinite, and that the venv's Python exists. CatBoost
//! validates the other keys when the fit starts; an unknown key or a bad value is refused with
//! CatBoost's own message, as an error on `decoder.KEY` when the message names the key.
//!
//! # Data and missing values
//!
//! The matrices go to CatBoost as C-ordered float64 numpy arrays, exactly as
//! `CatBoostRegressor(...).fit(X, y)` and `.predict(X_test)` get them from Python, so the
//! predictions equal the package's. NaN features are missing values, handled by CatBoost's
//! `nan_mode` (default `Min`: a missing value counts as smaller than every present one, so it
//! always goes to the low side of a split, and a split that separates the missing values from
//! the rest is always among the candidates; `nan_mode = "Max"` or `"Forbidden"` pass through).
//! Infinite values are refused.
//!
//! # Early stopping
//!
//! With `early_stopping_rounds = N`, the fit context's validation rows are CatBoost's
//! `eval_set`, the fit stops after N rounds without improvement of the eval metric, and (with
//! CatBoost's default `use_best_model`) the model keeps the best iteration. Without validation
//! rows the fit is refused on `decoder.early_stopping_rounds`.
//!
//! # Quantiles
//!
//! With `loss_function = "Quantile:alpha=0.9"` (one level, default 0.5) or
//! `"MultiQuantile:alpha=0.05,0.5,0.95"` (one model, one output per level),
//! [`Regressor::predict_distribution`] goes through [`booster::quantile_prediction`]: the
//! outputs are sorted per row (no crossing) and interpolated at the requested levels, which
//! must lie within the trained ones. `predict` gives the median (the output interpolated at
//! 0.5, or the nearest trained level).
//!
//! # Importances and logs
//!
//! [`Regressor::feature_importance`] is CatBoost's default importance for a regression,
//! `PredictionValuesChange` (how much, on average, the prediction changes when a feature's
//! value changes; the values sum to 100), in column order. CatBoost's iteration log goes to
//! the `tracing` log ([`booster::library_log`], shown under `-v`); its own `verbose`, `logging_level` and
//! `metric_period` keys pass through.

mod worker;

use faer::MatRef;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use self::worker::{Blob, Raised};
use super::booster::{self, LibraryParams, ParamValue};
use super::{DecoderSettings, FitContext, Prediction, QuantileLevels, Regressor, not_fitted};
use crate::{Error, Result};

/// The decoder's name.
const NAME: &str = "catboost";

/// The keys of the objective, CatBoost's name first.
const LOSS_KEYS: &[&str] = &["loss_function", "objective"];

/// The keys of the seed.
const SEED_KEYS: &[&str] = &["random_seed", "random_state"];

/// The key quakelab consumes itself (given to `fit`).
const EARLY_STOPPING: &str = "early_stopping_rounds";

/// Settings of the CatBoost decoder (`kind = "catboost"`): `catboost.CatBoostRegressor`'s
/// keyword arguments in CatBoost's own names (see the module docs for the few quakelab sets
/// or consumes).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CatboostSettings {
    /// Every key but `kind`, passed to CatBoost as it is.
    #[serde(flatten)]
    pub params: LibraryParams,
}

/// A quantile objective's levels: the key that set them and the levels in output order.
#[derive(Debug, Clone, PartialEq)]
struct QuantileLoss {
    key: String,
    levels: Vec<f64>,
}

impl CatboostSettings {
    /// The quantile levels of a `Quantile` or `MultiQuantile` loss, `None` for any other.
    fn quantile_loss(&self) -> Result<Option<QuantileLoss>> {
        let Some((key, value)) = self.params.find(LOSS_KEYS) else {
            return Ok(None);
        };
        let text = value.to_library_string();
        let (name, options) = text.split_once(':').unwrap_or((text.as_str(), ""));
        let name = name.trim();
        if name != "Quantile" && name != "MultiQuantile" {
            return Ok(None);
        }
        let bad = |why: String| Error::config(format!("decoder.{key}"), why);
        let alpha = options
            .split(';')
            .filter_map(|option| option.split_once('='))
            .find(|(k, _)| k.trim() == "alpha")
            .map(|(_, v)| v.trim());
        let levels: Vec<f64> = match alpha {
            None if name == "Quantile" => vec![0.5],
            None => {
                return Err(bad(format!(
                    "`{text}` names no levels; write them as \
                     \"MultiQuantile:alpha=0.05,0.5,0.95\""
                )));
            }
            Some(list) => list
                .split(',')
                .map(|level| level.trim().parse::<f64>())
                .collect::<std::result::Result<_, _>>()
                .map_err(|_| bad(format!("`{text}`: the alpha levels are not numbers")))?,
        };
        if name == "Quantile" && levels.len() != 1 {
            return Err(bad(format!(
                "`{text}`: Quantile takes one alpha; use MultiQuantile for several"
            )));
        }
        if let Some(level) = levels.iter().find(|l| !(**l > 0.0 && **l < 1.0)) {
            return Err(bad(format!(
                "`{text}`: level {level} is not strictly between 0 and 1"
            )));
        }
        let mut sorted = levels.clone();
        sorted.sort_by(f64::total_cmp);
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return Err(bad(format!("`{text}`: a level is repeated")));
        }
        Ok(Some(QuantileLoss {
            key: key.to_string(),
            levels,
        }))
    }

    /// The keyword arguments given to `CatBoostRegressor`: the user's (less the keys quakelab
    /// consumes) plus the thread, seed and file defaults of the module docs.
    fn library_kwargs(&self, ctx: &FitContext<'_>) -> Result<Map<String, Value>> {
        let mut params = self.params.without(&[EARLY_STOPPING]);
        if params.get("thread_count").is_none() {
            params.insert("thread_count", ParamValue::Integer(ctx.threads() as i64));
        }
        if params.find(SEED_KEYS).is_none() {
            params.insert(
                "random_seed",
                ParamValue::Integer(booster::library_seed(ctx.seed())),
            );
        }
        if params.get("allow_writing_files").is_none() {
            params.insert("allow_writing_files", ParamValue::Bool(false));
        }
        params
            .iter()
            .map(|(key, value)| {
                serde_json::to_value(value)
                    .map(|v| (key.to_string(), v))
                    .map_err(|e| Error::config(format!("decoder.{key}"), e.to_string()))
            })
            .collect()
    }
}

impl DecoderSettings for CatboostSettings {
    fn check(&self) -> Result<()> {
        self.params.positive_integer(&[EARLY_STOPPING])?;
        for (key, value) in self.params.iter() {
            crate::ensure_config!(
                finite(value),
                format!("decoder.{key}"),
                "`{}` is not a finite number",
                value.to_library_string()
            );
        }
        self.quantile_loss()?;
        booster::venv_python(NAME)?;
        Ok(())
    }

    /// The package's compiled core, which does the training.
    fn external_files(&self) -> Result<Vec<std::path::PathBuf>> {
        Ok(vec![booster::library_file(NAME, "catboost/_catboost.so")?])
    }

    fn build(&self, _feature_names: &[String]) -> Result<Box<dyn Regressor>> {
        Ok(Box::new(Catboost {
            quantiles: self.quantile_loss()?,
            settings: self.clone(),
            fitted: None,
        }))
    }

    /// True unless `random_seed` (or `random_state`) pins the model.
    fn is_stochastic(&self) -> bool {
        self.params.find(SEED_KEYS).is_none()
    }

    fn accepts_missing(&self) -> bool {
        true
    }

    fn wants_validation(&self) -> bool {
        self.params.get(EARLY_STOPPING).is_some()
    }
}

/// Whether every number in `value` is finite (JSON, and so the worker, has no NaN).
fn finite(value: &ParamValue) -> bool {
    match value {
        ParamValue::Float(f) => f.is_finite(),
        ParamValue::List(items) => items.iter().all(finite),
        _ => true,
    }
}

/// A fitted model: CatBoost's own bytes and what the fit reported.
struct Fitted {
    model: Vec<u8>,
    n_features: usize,
    importance: Vec<f64>,
}

/// The CatBoost decoder.
struct Catboost {
    settings: CatboostSettings,
    quantiles: Option<QuantileLoss>,
    fitted: Option<Fitted>,
}

impl Catboost {
    /// A Python exception as quakelab's error: on `decoder.KEY` when CatBoost's message
    /// names one of the user's keys (quoted, as CatBoost and Python quote them), else as
    /// CatBoost's error.
    fn refused(&self, raised: Raised) -> Error {
        let Raised {
            error_type,
            message,
        } = raised;
        let named = self.settings.params.iter().map(|(key, _)| key).find(|key| {
            message.contains(&format!("'{key}'")) || message.contains(&format!("\"{key}\""))
        });
        match named {
            Some(key) => Error::config(
                format!("decoder.{key}"),
                format!("CatBoost refused it: {error_type}: {message}"),
            ),
            None => Error::External {
                service: NAME.into(),
                message: format!("{error_type}: {message}"),
            },
        }
    }

    /// The model's raw outputs for the rows of `x`: one series per output (one, or one per
    /// quantile level of `MultiQuantile`).
    fn outputs(&self, x: MatRef<'_, f64>) -> Result<Vec<Vec<f64>>> {
        let Some(fitted) = &self.fitted else {
            return Err(not_fitted(NAME));
        };
        super::check_missing_predict_input(NAME, x, fitted.n_features)?;
        let values = booster::row_major(x);
        let blobs = [
            Blob::Bytes {
                name: "model",
                bytes: &fitted.model,
            },
            Blob::F64 {
                name: "x",
                shape: vec![x.nrows(), x.ncols()],
                values: &values,
            },
        ];
        let reply = worker::request(&json!({"op": "predict"}), &blobs)?
            .map_err(|raised| self.refused(raised))?;
        let (shape, values) = reply.f64s("prediction")?;
        let outputs = match shape[..] {
            [n] if n == x.nrows() => 1,
            [n, k] if n == x.nrows() && k > 0 => k,
            _ => {
                return Err(Error::External {
                    service: NAME.into(),
                    message: format!(
                        "predicted an array of shape {shape:?} for {} rows",
                        x.nrows()
                    ),
                });
            }
        };
        Ok((0..outputs)
            .map(|k| values.iter().skip(k).step_by(outputs).copied().collect())
            .collect())
    }

    /// The quantile prediction at `levels` of a quantile model's `outputs`.
    fn quantile_prediction(
        &self,
        loss: &QuantileLoss,
        outputs: Vec<Vec<f64>>,
        levels: &QuantileLevels,
    ) -> Result<Prediction> {
        if outputs.len() != loss.levels.len() {
            return Err(Error::External {
                service: NAME.into(),
                message: format!(
                    "{} outputs for the {} levels of decoder.{}",
                    outputs.len(),
                    loss.levels.len(),
                    loss.key
                ),
            });
        }
        let mut pairs: Vec<(f64, Vec<f64>)> = loss.levels.iter().copied().zip(outputs).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (trained, per_level): (Vec<f64>, Vec<Vec<f64>>) = pairs.into_iter().unzip();
        booster::quantile_prediction(NAME, &loss.key, &trained, &per_level, levels)
    }
}

impl Regressor for Catboost {
    fn name(&self) -> String {
        NAME.to_string()
    }

    fn fit(&mut self, x: MatRef<'_, f64>, y: &[f64], ctx: &FitContext<'_>) -> Result<()> {
        super::check_missing_fit_input(NAME, x, y, 2, ctx)?;
        let early_stopping = self.settings.params.positive_integer(&[EARLY_STOPPING])?;
        let validation = match (early_stopping, ctx.validation()) {
            (Some(_), None) => {
                return Err(Error::config(
                    format!("decoder.{EARLY_STOPPING}"),
                    "early stopping needs validation rows, and this fit has none (an \
                     experiment holds out the last training rows when the key is set; \
                     `quakelab decode` takes them from --valid FILE)",
                ));
            }
            (Some(_), Some(rows)) => Some((booster::row_major(rows.x()), rows.y())),
            (None, _) => None,
        };
        let header = json!({
            "op": "fit",
            "params": self.settings.library_kwargs(ctx)?,
            "early_stopping_rounds": early_stopping,
        });
        let values = booster::row_major(x);
        let mut blobs = vec![
            Blob::F64 {
                name: "x",
                shape: vec![x.nrows(), x.ncols()],
                values: &values,
            },
            Blob::F64 {
                name: "y",
                shape: vec![y.len()],
                values: y,
            },
        ];
        if let Some((valid_x, valid_y)) = &validation {
            blobs.push(Blob::F64 {
                name: "valid_x",
                shape: vec![valid_y.len(), x.ncols()],
                values: valid_x,
            });
            blobs.push(Blob::F64 {
                name: "valid_y",
                shape: vec![valid_y.len()],
                values: valid_y,
            });
        }
        let reply = worker::request(&header, &blobs)?.map_err(|raised| self.refused(raised))?;
        let (_, importance) = reply.f64s("importance")?;
        if importance.len() != x.ncols() {
            return Err(Error::External {
                service: NAME.into(),
                message: format!(
                    "{} feature importances for {} columns",
                    importance.len(),
                    x.ncols()
                ),
            });
        }
        let trees = reply
            .header("tree_count")
            .and_then(Value::as_u64)
            .map_or_else(|| "an unreported number of".to_string(), |n| n.to_string());
        match reply.header("best_iteration").and_then(Value::as_u64) {
            Some(best) => booster::library_log(
                NAME,
                &format!("kept {trees} trees, the best iteration on the validation rows: {best}"),
            ),
            None => booster::library_log(NAME, &format!("fitted {trees} trees")),
        }
        self.fitted = Some(Fitted {
            model: reply.bytes("model")?.to_vec(),
            n_features: x.ncols(),
            importance,
        });
        Ok(())
    }

    /// The median for a quantile objective, else the model's one output.
    fn predict(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        let no_levels = QuantileLevels::new(Vec::new()).map_err(Error::Numerical)?;
        Ok(self.predict_distribution(x, &no_levels)?.point().to_vec())
    }

    fn predict_distribution(
        &self,
        x: MatRef<'_, f64>,
        levels: &QuantileLevels,
    ) -> Result<Prediction> {
        let mut outputs = self.outputs(x)?;
        match &self.quantiles {
            Some(loss) => self.quantile_prediction(loss, outputs, levels),
            None if outputs.len() == 1 => Ok(Prediction::Point(outputs.swap_remove(0))),
            None => Err(Error::External {
                service: NAME.into(),
                message: format!(
                    "the model has {} outputs; quakelab reads one, or one per level of a \
                     Quantile or MultiQuantile loss_function",
                    outputs.len()
                ),
            }),
        }
    }

    fn feature_importance(&self) -> Option<Vec<f64>> {
        self.fitted.as_ref().map(|f| f.importance.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn quantile_losses_give_their_levels_and_bad_ones_name_the_key() {
        let settings = |loss: &str| {
            let mut params = LibraryParams::default();
            params.insert("loss_function", ParamValue::Text(loss.into()));
            CatboostSettings { params }
        };
        let levels = |loss: &str| settings(loss).quantile_loss().unwrap().map(|q| q.levels);
        assert_eq!(levels("RMSE"), None);
        assert_eq!(levels("Quantile"), Some(vec![0.5]));
        assert_eq!(levels("Quantile:alpha=0.9"), Some(vec![0.9]));
        assert_eq!(
            levels("MultiQuantile:alpha=0.9,0.1, 0.5"),
            Some(vec![0.9, 0.1, 0.5])
        );
        for bad in [
            "MultiQuantile",
            "Quantile:alpha=0.1,0.9",
            "Quantile:alpha=1.5",
            "MultiQuantile:alpha=0.5,0.5",
            "MultiQuantile:alpha=0.1,x",
        ] {
            match settings(bad).quantile_loss() {
                Err(Error::Config { key, .. }) => assert_eq!(key, "decoder.loss_function"),
                other => panic!("{bad}: expected a config error, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_worker_that_dies_mid_request_is_an_error_with_its_last_output() {
        let worker = worker::Worker::spawn().unwrap();
        let pid = worker.pid();
        let (n, p) = (2000, 8);
        let x: Vec<f64> = (0..n * p).map(|i| ((i * 7919) % 1000) as f64).collect();
        let y: Vec<f64> = (0..n).map(|i| (i % 17) as f64).collect();
        // A fit far longer than the test, logging every iteration, killed after a second.
        let header = json!({
            "op": "fit",
            "params": {"iterations": 10_000_000, "thread_count": 1, "verbose": 1,
                       "allow_writing_files": false},
            "early_stopping_rounds": null,
        });
        let blobs = [
            Blob::F64 {
                name: "x",
                shape: vec![n, p],
                values: &x,
            },
            Blob::F64 {
                name: "y",
                shape: vec![n],
                values: &y,
            },
        ];
        let killer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(1));
            std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()
        });
        let result = worker::request_on(worker, &header, &blobs).map(|_| ());
        assert!(killer.join().unwrap().unwrap().success());
        match result {
            Err(Error::External { service, message }) => {
                assert_eq!(service, "catboost");
                assert!(message.contains("stopped answering"), "{message}");
                assert!(message.contains("learn:"), "{message}");
            }
            other => panic!("expected an external error, got {other:?}"),
        }
        // Waited on, not left as a zombie, and not back in the pool.
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }
}
