//! Decoders: everything that maps a feature matrix to a predicted label sits behind
//! [`Regressor`], baselines included, so the runner treats them all the same. What a decoder
//! is for is its [`DecoderRole`]: a model, a baseline models must beat, or a diagnostic that
//! competes with nothing.
//!
//! A decoder is chosen and tuned by a [`DecoderConfig`], the `[decoder]` section of an
//! experiment file:
//!
//! ```toml
//! [decoder]
//! kind = "random_forest"
//! n_trees = 200
//! ```
//!
//! Every key but `kind` has a default, unknown keys are refused, and [`DecoderConfig::check`]
//! names the offending key (`decoder.alpha`, …) before any work starts. On the command line,
//! `--set decoder.KEY=VALUE` goes through [`DecoderConfig::apply_override`].
//!
//! # What a decoder is given
//!
//! `fit` gets the training features, the labels and a [`FitContext`]: the seed (derived from
//! the experiment seed, the split and the decoder), the thread budget, the [`Device`] and
//! optional validation rows. `predict` returns one value per row; `predict_distribution`
//! may return a [`PredictiveDistribution`] (mean, median, quantiles) instead, and by default
//! wraps `predict`, so a point-only decoder implements nothing more.
//!
//! # Features and reference columns
//!
//! The matrix a decoder sees holds the feature columns of the table and nothing else, unless
//! its settings name *reference columns* ([`DecoderSettings::reference_columns`]): named
//! columns a table offers besides its features. The runner offers
//!
//! - [`KNOWN_LABEL_COLUMN`] (`label_known`): L(t − last), the last label value actually known at
//!   the forecast time t (read by persistence);
//! - [`moving_average_column`]`(N)` (`label_known_mean_<N>d`): the mean of the last N known
//!   values (read by the moving average);
//! - [`ORACLE_COLUMN`] (`label_now`): L(t), which a centred label takes partly from events after
//!   t (read by the oracle persistence, a diagnostic).
//!
//! [`decoder_input`] appends the columns a decoder names, for that decoder only, after the
//! features. So persistence reads `label_known` by name while ridge or a forest never sees it:
//! the label would otherwise be a feature no model of the paper had, and every model's skill
//! against persistence would be measured against itself. The runner calls the same function for
//! every decoder, with no knowledge of which decoder reads what.
//!
//! # Adding a decoder
//!
//! A decoder is one file and one line here:
//!
//! 1. In `src/decode/NAME.rs`, a settings struct (serde, `#[serde(default, deny_unknown_fields)]`)
//!    that implements [`DecoderSettings`], and the model that implements [`Regressor`]. Start
//!    `fit` and `predict` with [`check_fit_input`], [`not_fitted`] and [`check_predict_input`],
//!    which every decoder shares.
//! 2. `mod NAME;` in this file, and one line `Variant("kind", NAME::Settings)` in the
//!    `decoders!` list. A decoder with heavy dependencies goes behind a cargo feature: put
//!    `#[cfg(feature = "NAME")]` on its `mod` line and on its entry (after its doc comment).
//!    A build without the feature leaves it out of [`DecoderConfig::KINDS`], lists it in
//!    [`DecoderConfig::NOT_COMPILED`], and an experiment or `decode --decoder` that names it
//!    gets an error saying which feature to enable and how.
//!
//! The conformance suite (`tests/it/decode.rs`) runs over [`DecoderConfig::KINDS`], so the new
//! decoder is tested with the others at once.

use std::path::PathBuf;

use faer::{Mat, MatRef};
use serde_json::Value;

use crate::{Error, Result};

mod baseline;
#[cfg(any(feature = "xgboost", feature = "lightgbm", feature = "catboost"))]
pub mod booster;
#[cfg(feature = "catboost")]
mod catboost;
mod context;
mod csv_table;
mod distribution;
mod forest;
#[cfg(feature = "lightgbm")]
mod lightgbm;
pub mod pfn;
mod ridge;
pub mod tabpfn;
#[cfg(feature = "xgboost")]
mod xgboost;

pub use baseline::{
    ClimatologySettings, KNOWN_LABEL_COLUMN, MovingAverageSettings, ORACLE_COLUMN,
    OraclePersistenceSettings, PersistenceSettings, moving_average_column,
};
#[cfg(feature = "catboost")]
pub use catboost::CatboostSettings;
pub use context::{Device, FitContext, ValidationRows};
pub use csv_table::{DecodeFiles, DecodeOptions, DecodeReport, decode_csv};
pub use distribution::{
    PointEstimate, Prediction, PredictiveDistribution, QuantileLevels, empirical_quantile,
};
pub use forest::RandomForestSettings;
#[cfg(feature = "lightgbm")]
pub use lightgbm::LightgbmSettings;
pub use pfn::decoder::PfnSettings;
pub use ridge::RidgeSettings;
pub use tabpfn::TabpfnSettings;
#[cfg(feature = "xgboost")]
pub use xgboost::XgboostSettings;

/// A regression model: fitted once on training rows, then asked for predictions.
///
/// Rows of `x` are samples (days), columns are features; `y` has one label per row. A decoder
/// keeps whatever it learned in `fit` and never looks at test labels.
pub trait Regressor: Send + Sync {
    /// A stable name used in tables, run ids and config keys (e.g. `random_forest`).
    fn name(&self) -> String;

    /// Fits the model on training features `x` (n × p) and labels `y` (n). Randomness comes
    /// from `ctx.seed()` only, parallel work stays within `ctx.threads()`, and validation rows,
    /// when given, are watched but never fitted on.
    fn fit(&mut self, x: MatRef<'_, f64>, y: &[f64], ctx: &FitContext<'_>) -> Result<()>;

    /// Predicts one label per row of `x` (m × p, the same p columns as in `fit`).
    fn predict(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>>;

    /// Predicts a distribution per row of `x`, with quantiles at `levels`, where the decoder
    /// can; by default (and for empty `levels`) the point prediction of [`Regressor::predict`].
    fn predict_distribution(
        &self,
        x: MatRef<'_, f64>,
        levels: &QuantileLevels,
    ) -> Result<Prediction> {
        let _ = levels;
        self.predict(x).map(Prediction::Point)
    }

    /// How much each column of the fit matrix contributed, in column order, where the decoder
    /// can say (the boosters: total gain); `None` by default. The runner writes it to
    /// `feature_importance.csv` and the report draws the top 20.
    fn feature_importance(&self) -> Option<Vec<f64>> {
        None
    }
}

/// What a decoder's results are for, which decides where the report puts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecoderRole {
    /// A model learned from the features, compared with the best baseline.
    Model,
    /// A reference forecast that uses only what is known at the forecast time (persistence,
    /// the moving average, climatology): the bar a model must clear.
    Baseline,
    /// A forecast that may use what is not known at the forecast time (the oracle
    /// persistence): it describes the label and competes with nothing.
    Diagnostic,
}

impl DecoderRole {
    /// The role as written in tables and `evaluation.json`: `model`, `baseline`, `diagnostic`.
    pub fn name(&self) -> &'static str {
        match self {
            DecoderRole::Model => "model",
            DecoderRole::Baseline => "baseline",
            DecoderRole::Diagnostic => "diagnostic",
        }
    }
}

/// What every decoder's settings provide: validation, and a fresh model built from them.
pub trait DecoderSettings: Send + Sync {
    /// Refuses invalid settings before any work starts, naming the offending key
    /// (`decoder.alpha`, …).
    fn check(&self) -> Result<()>;

    /// A new, unfitted model for a table whose columns are `feature_names`, in the order of
    /// the columns of the matrices later given to `fit` and `predict` (the features, then the
    /// reference columns this decoder asked for). A decoder that needs a reference column
    /// missing from `feature_names` refuses here, naming its setting.
    fn build(&self, feature_names: &[String]) -> Result<Box<dyn Regressor>>;

    /// The named columns besides the features that this decoder reads (persistence: the label
    /// known at the forecast time); none by default. See the module docs.
    fn reference_columns(&self) -> Vec<String> {
        Vec::new()
    }

    /// What the decoder's results are for; [`DecoderRole::Model`] by default.
    fn role(&self) -> DecoderRole {
        DecoderRole::Model
    }

    /// Whether the fit depends on its seed (then the runner repeats it over the experiment's
    /// seeds and reports the spread); false by default.
    fn is_stochastic(&self) -> bool {
        false
    }

    /// Whether the decoder takes NaN features as missing values (the boosters); false by
    /// default, and NaN is then refused. `quakelab decode` reads empty and `NaN` cells as NaN
    /// only for such a decoder.
    fn accepts_missing(&self) -> bool {
        false
    }

    /// Why the decoder cannot run here, when it is optional and something it needs is missing
    /// (an optional TabPFN without its weights file); `None` by default. The runner then
    /// records its rows as skipped, with this reason, instead of fitting it.
    fn unavailable(&self) -> Option<String> {
        None
    }

    /// The decoder's name where people read it (the tables of a run and its report), when it
    /// says more than its kind: `PFN (quakelab-pfn-s)`. `None` by default: the kind. Keys,
    /// file names and metric names keep the kind ([`Regressor::name`]).
    fn display_name(&self) -> Option<String> {
        None
    }

    /// Whether the decoder wants validation rows in its [`FitContext`] (a booster with
    /// `early_stopping_rounds`); false by default. The runner then holds out the last rows of
    /// each training set, and `quakelab decode --valid FILE` reads them from a file.
    fn wants_validation(&self) -> bool {
        false
    }

    /// Whether fits of this decoder may run side by side with others, one thread each; true
    /// by default. A decoder that needs the whole machine for one fit (TabPFN: gigabytes of
    /// activations, or the GPU) says false, and the runner fits it alone with the full thread
    /// budget.
    fn fits_side_by_side(&self) -> bool {
        true
    }

    /// The files outside quakelab's binary that this decoder's results depend on (a booster's
    /// shared library, a checkpoint's weights); none by default. The fit cache
    /// ([`crate::experiment::cache::fits`]) keys a fit by each file's path, size and
    /// modification time, so a reinstalled library or a replaced checkpoint is fitted again.
    /// An error when one cannot be found: the fit is then not cached, and reports the error
    /// itself.
    fn external_files(&self) -> Result<Vec<PathBuf>> {
        Ok(Vec::new())
    }
}

/// A decoder's input: the `features` (columns named `feature_names`), then each column of
/// `references` (named `reference_names`) that the decoder asks for in its
/// [`DecoderSettings::reference_columns`] and that is not a feature already, in the order
/// asked. A name found in neither is left for [`DecoderSettings::build`] to refuse.
///
/// Returns the column names and the matrix, rows as in `features`.
pub fn decoder_input(
    settings: &dyn DecoderSettings,
    feature_names: &[String],
    features: MatRef<'_, f64>,
    reference_names: &[String],
    references: MatRef<'_, f64>,
) -> Result<(Vec<String>, Mat<f64>)> {
    if features.ncols() != feature_names.len()
        || references.ncols() != reference_names.len()
        || references.nrows() != features.nrows()
    {
        return Err(Error::Numerical(format!(
            "decoder input: {} × {} features named by {} names, {} × {} reference columns \
             named by {} names",
            features.nrows(),
            features.ncols(),
            feature_names.len(),
            references.nrows(),
            references.ncols(),
            reference_names.len()
        )));
    }
    let mut names = feature_names.to_vec();
    let mut extra = Vec::new();
    for wanted in settings.reference_columns() {
        if names.contains(&wanted) {
            continue;
        }
        if let Some(j) = reference_names.iter().position(|name| *name == wanted) {
            names.push(wanted);
            extra.push(j);
        }
    }
    let p = features.ncols();
    let x = Mat::from_fn(features.nrows(), p + extra.len(), |i, j| {
        if j < p {
            features[(i, j)]
        } else {
            references[(i, extra[j - p])]
        }
    });
    Ok((names, x))
}

/// One entry of the decoder table: its kind, the cargo feature it needs (empty for none) and
/// whether this build has it.
type RegistryEntry = (&'static str, &'static str, bool);

/// How many entries of the table are (or are not) compiled in.
const fn count_compiled(entries: &[RegistryEntry], compiled: bool) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < entries.len() {
        if entries[i].2 == compiled {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The kinds of the compiled-in entries, in table order (`N` of them).
const fn compiled_kinds<const N: usize>(entries: &[RegistryEntry]) -> [&'static str; N] {
    let mut out = [""; N];
    let (mut i, mut j) = (0, 0);
    while i < entries.len() {
        if entries[i].2 {
            out[j] = entries[i].0;
            j += 1;
        }
        i += 1;
    }
    out
}

/// The kind and feature of the entries left out of this build, in table order (`N` of them).
const fn missing_kinds<const N: usize>(
    entries: &[RegistryEntry],
) -> [(&'static str, &'static str); N] {
    let mut out = [("", ""); N];
    let (mut i, mut j) = (0, 0);
    while i < entries.len() {
        if !entries[i].2 {
            out[j] = (entries[i].0, entries[i].1);
            j += 1;
        }
        i += 1;
    }
    out
}

/// Whether an entry with this (optional) cargo feature is compiled in.
macro_rules! compiled {
    () => {
        true
    };
    ($feature:literal) => {
        cfg!(feature = $feature)
    };
}

/// An entry's cargo feature, or `""`.
macro_rules! feature_of {
    () => {
        ""
    };
    ($feature:literal) => {
        $feature
    };
}

/// Declares [`DecoderConfig`] from one line per decoder, `Variant("kind", Settings)`, so that
/// the enum, its serde tags, [`DecoderConfig::KINDS`], [`DecoderConfig::NOT_COMPILED`] and the
/// dispatch to the settings can never disagree. An entry may carry
/// `#[cfg(feature = "NAME")]` after its doc comment.
macro_rules! decoders {
    ($(
        $(#[doc = $doc:literal])*
        $(#[cfg(feature = $feature:literal)])?
        $variant:ident($kind:literal, $settings:ty),
    )+) => {
        /// The `[decoder]` section: which decoder, and its settings.
        ///
        /// Internally tagged by `kind`; the other keys are the chosen decoder's settings. A
        /// `kind` that names a decoder left out of this build is refused with the cargo
        /// feature that brings it in.
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(tag = "kind", remote = "Self")]
        pub enum DecoderConfig {
            $(
                $(#[doc = $doc])*
                $(#[cfg(feature = $feature)])?
                #[serde(rename = $kind)]
                $variant($settings),
            )+
        }

        impl DecoderConfig {
            /// The `kind` of every decoder compiled into this build, in declaration order.
            pub const KINDS: &'static [&'static str] = {
                const ENTRIES: &[(&str, &str, bool)] =
                    &[$(($kind, feature_of!($($feature)?), compiled!($($feature)?))),+];
                const N: usize = $crate::decode::count_compiled(ENTRIES, true);
                const KINDS: [&str; N] = $crate::decode::compiled_kinds(ENTRIES);
                &KINDS
            };

            /// The decoders that exist but were left out of this build, as `(kind, cargo
            /// feature)`, in declaration order.
            pub const NOT_COMPILED: &'static [(&'static str, &'static str)] = {
                const ENTRIES: &[(&str, &str, bool)] =
                    &[$(($kind, feature_of!($($feature)?), compiled!($($feature)?))),+];
                const N: usize = $crate::decode::count_compiled(ENTRIES, false);
                const MISSING: [(&str, &str); N] = $crate::decode::missing_kinds(ENTRIES);
                &MISSING
            };

            /// This decoder's `kind`, which is also its [`Regressor::name`].
            pub fn kind(&self) -> &'static str {
                match self {
                    $(
                        $(#[cfg(feature = $feature)])?
                        DecoderConfig::$variant(_) => $kind,
                    )+
                }
            }

            /// The chosen decoder's settings.
            pub fn settings(&self) -> &dyn $crate::decode::DecoderSettings {
                match self {
                    $(
                        $(#[cfg(feature = $feature)])?
                        DecoderConfig::$variant(settings) => settings,
                    )+
                }
            }

            /// Why `kind` cannot be used, when it names a decoder left out of this build: the
            /// cargo feature to enable, and how.
            pub fn not_compiled_message(kind: &str) -> Option<String> {
                Self::NOT_COMPILED
                    .iter()
                    .find(|(missing, _)| *missing == kind)
                    .map(|(_, feature)| {
                        format!(
                            "decoder `{kind}` is not compiled into this build: it needs the \
                             cargo feature `{feature}` (cargo build --release --features \
                             {feature}); this build has {}",
                            Self::KINDS.join(", ")
                        )
                    })
            }
        }

        impl ::serde::Serialize for DecoderConfig {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                DecoderConfig::serialize(self, serializer)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for DecoderConfig {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                use ::serde::de::Error as _;
                let table = <::serde_json::Value as ::serde::Deserialize>::deserialize(
                    deserializer,
                )?;
                if let Some(message) = table
                    .get("kind")
                    .and_then(::serde_json::Value::as_str)
                    .and_then(DecoderConfig::not_compiled_message)
                {
                    return Err(D::Error::custom(message));
                }
                DecoderConfig::deserialize(table).map_err(D::Error::custom)
            }
        }
    };
}

decoders! {
    /// Predicts the last label value known at the forecast time: y(t + h) = L(t − last), read
    /// from a named reference column.
    Persistence("persistence", PersistenceSettings),
    /// Predicts the mean of the last `window_days` label values known at the forecast time.
    MovingAverage("moving_average", MovingAverageSettings),
    /// Predicts the training mean of the label.
    Climatology("climatology", ClimatologySettings),
    /// Predicts L(t), the label of the forecast day: a diagnostic of the label's smoothness,
    /// never a competitor.
    OraclePersistence("oracle_persistence", OraclePersistenceSettings),
    /// Ridge regression, closed form, with an unpenalised intercept.
    Ridge("ridge", RidgeSettings),
    /// smartcore's random forest, its trees fitted in parallel.
    RandomForest("random_forest", RandomForestSettings),
    /// XGBoost through its official library, at parity with the Python package.
    #[cfg(feature = "xgboost")]
    Xgboost("xgboost", XgboostSettings),
    /// LightGBM's gradient-boosted trees, through the official library and its own parameters.
    #[cfg(feature = "lightgbm")]
    Lightgbm("lightgbm", LightgbmSettings),
    /// CatBoost, the official Python package in a supervised worker process.
    #[cfg(feature = "catboost")]
    Catboost("catboost", CatboostSettings),
    /// TabPFN v2, the paper's in-context regressor, native in burn, with its predictive
    /// distribution.
    Tabpfn("tabpfn", TabpfnSettings),
    /// quakelab's own prior-fitted network, in context like TabPFN: the shipped
    /// `quakelab-pfn-s` built into the binary, or a checkpoint `quakelab pfn pretrain` wrote.
    Pfn("pfn", PfnSettings),
}

impl DecoderConfig {
    /// The decoder called `kind` with all its settings at their defaults.
    ///
    /// An unknown `kind` is an [`Error::Config`] on `decoder.kind` that lists the known ones.
    pub fn from_kind(kind: &str) -> Result<Self> {
        let mut table = serde_json::Map::new();
        table.insert("kind".into(), Value::String(kind.into()));
        serde_json::from_value(Value::Object(table))
            .map_err(|e| Error::config("decoder.kind", e.to_string()))
    }

    /// Refuses invalid settings, naming the offending key (`decoder.n_trees`, …).
    pub fn check(&self) -> Result<()> {
        self.settings().check()
    }

    /// What this decoder's results are for ([`DecoderSettings::role`]).
    pub fn role(&self) -> DecoderRole {
        self.settings().role()
    }

    /// Whether this decoder's fit depends on its seed ([`DecoderSettings::is_stochastic`]).
    pub fn is_stochastic(&self) -> bool {
        self.settings().is_stochastic()
    }

    /// The decoder's name in tables people read ([`DecoderSettings::display_name`]), its kind
    /// by default.
    pub fn display_name(&self) -> String {
        self.settings()
            .display_name()
            .unwrap_or_else(|| self.kind().to_string())
    }

    /// Why this decoder's rows are skipped, when it is optional and cannot run here
    /// ([`DecoderSettings::unavailable`]).
    pub fn unavailable(&self) -> Option<String> {
        self.settings().unavailable()
    }

    /// A new, unfitted model for a table with these columns (in matrix column order: the
    /// features, then the reference columns from [`decoder_input`]). The settings are checked
    /// first.
    pub fn build(&self, feature_names: &[String]) -> Result<Box<dyn Regressor>> {
        self.check()?;
        self.settings().build(feature_names)
    }

    /// Applies one `decoder.KEY=VALUE` assignment, as given to `--set`.
    ///
    /// - `decoder.kind=NAME` switches to decoder `NAME` with its default settings.
    /// - Any other key sets that setting of the current decoder. The value is read as the
    ///   setting's type: a number, `true`/`false`, `none` (or `null`) for an optional setting
    ///   left unset, and otherwise text. Text that looks like a number (a column called `2024`)
    ///   is still accepted where the setting is text.
    ///
    /// An unknown key, or a value of the wrong type, is an [`Error::Config`] naming the key.
    /// Ranges are left to [`DecoderConfig::check`].
    pub fn apply_override(&mut self, assignment: &str) -> Result<()> {
        let (key, value) = assignment.split_once('=').ok_or_else(|| {
            Error::config(
                assignment.trim(),
                "expected `decoder.KEY=VALUE` (no `=` found)",
            )
        })?;
        let (key, value) = (key.trim(), value.trim());
        let field = key.strip_prefix("decoder.").ok_or_else(|| {
            Error::config(key, "decoder settings are written `decoder.KEY=VALUE`")
        })?;
        if field == "kind" {
            *self = Self::from_kind(value)?;
            return Ok(());
        }
        let Value::Object(current) =
            serde_json::to_value(&*self).map_err(|e| Error::config(key, e.to_string()))?
        else {
            return Err(Error::config(
                key,
                "the decoder settings are not a table of keys",
            ));
        };
        let mut first_error = None;
        for candidate in override_candidates(value) {
            let mut table = current.clone();
            table.insert(field.to_string(), candidate);
            match serde_json::from_value(Value::Object(table)) {
                Ok(config) => {
                    *self = config;
                    return Ok(());
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        let message = first_error.map_or_else(|| "invalid value".to_string(), |e| e.to_string());
        Err(Error::config(key, format!("`{value}`: {message}")))
    }
}

/// The readings of an override's text, most specific first: a JSON scalar (number, boolean,
/// null) where the text is one, then the text itself.
fn override_candidates(value: &str) -> Vec<Value> {
    let scalar = match value {
        "none" | "null" => Some(Value::Null),
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        _ => value
            .parse::<u64>()
            .map(Value::from)
            .or_else(|_| value.parse::<i64>().map(Value::from))
            .ok()
            .or_else(|| {
                value
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
            }),
    };
    scalar
        .into_iter()
        .chain(std::iter::once(Value::String(value.to_string())))
        .collect()
}

/// The checks every decoder's `fit` starts with: at least one row, one label per row,
/// `expected_columns` columns (where the decoder knows its feature names), only finite
/// values, and validation rows (if `ctx` has any) with the training columns. The error names
/// the decoder and the first offending row and column (0-based).
pub fn check_fit_input(
    decoder: &str,
    x: MatRef<'_, f64>,
    y: &[f64],
    expected_columns: Option<usize>,
    ctx: &FitContext<'_>,
) -> Result<()> {
    if x.nrows() == 0 {
        return Err(Error::Numerical(format!(
            "{decoder}: cannot fit on zero training rows"
        )));
    }
    if x.nrows() != y.len() {
        return Err(Error::Numerical(format!(
            "{decoder}: {} training rows but {} labels",
            x.nrows(),
            y.len()
        )));
    }
    if let Some(expected) = expected_columns {
        check_columns(decoder, x.ncols(), expected)?;
    }
    if let Some(row) = y.iter().position(|v| !v.is_finite()) {
        return Err(Error::Numerical(format!(
            "{decoder}: training label {row} is {}, not a finite number",
            y[row]
        )));
    }
    if let Some(validation) = ctx.validation() {
        check_columns(decoder, validation.x().ncols(), x.ncols())?;
    }
    check_finite(decoder, "training", x)
}

/// The checks every decoder's `predict` starts with, once it knows it was fitted: the column
/// count seen by `fit`, and only finite values.
pub fn check_predict_input(decoder: &str, x: MatRef<'_, f64>, fitted_columns: usize) -> Result<()> {
    check_columns(decoder, x.ncols(), fitted_columns)?;
    check_finite(decoder, "prediction", x)
}

/// The error of a decoder asked to predict before it was fitted.
pub fn not_fitted(decoder: &str) -> Error {
    Error::Numerical(format!("{decoder}: `predict` called before `fit`"))
}

/// The checks the `fit` of a decoder that takes missing values starts with (the boosters,
/// TabPFN): at least `min_rows` rows, one finite label per row, at least one column, no
/// infinite feature (NaN is a missing value, which each decoder handles its own way), and
/// validation rows with the training columns. The error names the decoder and the first
/// offending row and column.
pub fn check_missing_fit_input(
    decoder: &str,
    x: MatRef<'_, f64>,
    y: &[f64],
    min_rows: usize,
    ctx: &FitContext<'_>,
) -> Result<()> {
    if x.nrows() < min_rows.max(1) {
        return Err(Error::Numerical(format!(
            "{decoder}: cannot fit on {} training row{}; it needs at least {}",
            x.nrows(),
            if x.nrows() == 1 { "" } else { "s" },
            min_rows.max(1)
        )));
    }
    if x.nrows() != y.len() {
        return Err(Error::Numerical(format!(
            "{decoder}: {} training rows but {} labels",
            x.nrows(),
            y.len()
        )));
    }
    if x.ncols() == 0 {
        return Err(Error::Numerical(format!(
            "{decoder}: cannot fit on zero feature columns"
        )));
    }
    if let Some(row) = y.iter().position(|v| !v.is_finite()) {
        return Err(Error::Numerical(format!(
            "{decoder}: training label {row} is {}, not a finite number",
            y[row]
        )));
    }
    if let Some(validation) = ctx.validation() {
        check_columns(decoder, validation.x().ncols(), x.ncols())?;
    }
    check_no_infinity(decoder, "training", x)
}

/// The checks the `predict` of a decoder that takes missing values starts with: the column
/// count seen by `fit`, and no infinite feature (NaN is a missing value).
pub fn check_missing_predict_input(
    decoder: &str,
    x: MatRef<'_, f64>,
    fitted_columns: usize,
) -> Result<()> {
    check_columns(decoder, x.ncols(), fitted_columns)?;
    check_no_infinity(decoder, "prediction", x)
}

fn check_no_infinity(decoder: &str, what: &str, x: MatRef<'_, f64>) -> Result<()> {
    for col in 0..x.ncols() {
        for row in 0..x.nrows() {
            let v = x[(row, col)];
            if v.is_infinite() {
                return Err(Error::Numerical(format!(
                    "{decoder}: {what} feature at row {row}, column {col} is {v}; a missing \
                     value is NaN (or an empty CSV cell), an infinite one is refused"
                )));
            }
        }
    }
    Ok(())
}

fn check_columns(decoder: &str, found: usize, expected: usize) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(Error::Numerical(format!(
            "{decoder}: expected {expected} feature columns, got {found}"
        )))
    }
}

fn check_finite(decoder: &str, what: &str, x: MatRef<'_, f64>) -> Result<()> {
    for col in 0..x.ncols() {
        for row in 0..x.nrows() {
            let v = x[(row, col)];
            if !v.is_finite() {
                return Err(Error::Numerical(format!(
                    "{decoder}: {what} feature at row {row}, column {col} is {v}, \
                     not a finite number"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_key(result: Result<impl std::fmt::Debug>) -> String {
        match result {
            Err(Error::Config { key, .. }) => key,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn every_kind_has_defaults_and_round_trips_its_tag() {
        for &kind in DecoderConfig::KINDS {
            let mut config = DecoderConfig::from_kind(kind).unwrap();
            assert_eq!(config.kind(), kind);
            if kind == "tabpfn" {
                // Its default weights are the model store's, which a test machine may lack.
                config.apply_override("decoder.optional=true").unwrap();
            }
            config.check().unwrap();
            let json = serde_json::to_value(&config).unwrap();
            assert_eq!(json["kind"], kind);
        }
        assert_eq!(
            config_key(DecoderConfig::from_kind("xgboost_typo")),
            "decoder.kind"
        );
    }

    #[test]
    fn every_kind_has_its_role_and_only_the_seeded_learners_are_stochastic() {
        let mut expected = vec![
            ("persistence", DecoderRole::Baseline, false),
            ("moving_average", DecoderRole::Baseline, false),
            ("climatology", DecoderRole::Baseline, false),
            ("oracle_persistence", DecoderRole::Diagnostic, false),
            ("ridge", DecoderRole::Model, false),
            ("random_forest", DecoderRole::Model, true),
        ];
        // The boosters, in registry order. With their defaults XGBoost and LightGBM draw
        // nothing (no subsampling); CatBoost's random strength and Bayesian bootstrap draw.
        for (compiled, kind, stochastic) in [
            (cfg!(feature = "xgboost"), "xgboost", false),
            (cfg!(feature = "lightgbm"), "lightgbm", false),
            (cfg!(feature = "catboost"), "catboost", true),
        ] {
            if compiled {
                expected.push((kind, DecoderRole::Model, stochastic));
            }
        }
        // TabPFN: its members' column shuffles and fingerprints are seeded.
        expected.push(("tabpfn", DecoderRole::Model, true));
        // The PFN: the same draws, and each member's context subsample.
        expected.push(("pfn", DecoderRole::Model, true));
        let kinds: Vec<&str> = expected.iter().map(|(kind, _, _)| *kind).collect();
        assert_eq!(DecoderConfig::KINDS, kinds);
        for (kind, role, stochastic) in expected {
            let config = DecoderConfig::from_kind(kind).unwrap();
            assert_eq!(config.role(), role, "{kind}");
            assert_eq!(config.is_stochastic(), stochastic, "{kind}");
        }
        let mut pinned = DecoderConfig::from_kind("random_forest").unwrap();
        pinned.apply_override("decoder.seed=7").unwrap();
        assert!(!pinned.is_stochastic(), "a pinned forest ignores the seed");
        let mut tabpfn = DecoderConfig::from_kind("tabpfn").unwrap();
        tabpfn.apply_override("decoder.feature_shift=none").unwrap();
        assert!(tabpfn.is_stochastic(), "the fingerprint's salt is seeded");
        tabpfn
            .apply_override("decoder.fingerprint_feature=false")
            .unwrap();
        assert!(
            !tabpfn.is_stochastic(),
            "without shuffle and fingerprint nothing is drawn"
        );
        let mut pfn = DecoderConfig::from_kind("pfn").unwrap();
        for setting in [
            "decoder.feature_shift=none",
            "decoder.fingerprint_feature=false",
        ] {
            pfn.apply_override(setting).unwrap();
        }
        assert!(pfn.is_stochastic(), "its contexts are seeded subsamples");
        pfn.apply_override("decoder.max_context_rows=none").unwrap();
        assert!(
            !pfn.is_stochastic(),
            "with every row in context nothing is drawn"
        );
        let names = [
            DecoderRole::Model,
            DecoderRole::Baseline,
            DecoderRole::Diagnostic,
        ]
        .map(|role| (role.name(), serde_json::to_value(role).unwrap()));
        assert_eq!(
            names,
            [
                ("model", "model".into()),
                ("baseline", "baseline".into()),
                ("diagnostic", "diagnostic".into())
            ]
        );
    }

    #[test]
    fn toml_section_takes_defaults_and_refuses_unknown_keys() {
        #[derive(serde::Deserialize, serde::Serialize)]
        struct File {
            decoder: DecoderConfig,
        }
        let file: File =
            toml::from_str("[decoder]\nkind = \"random_forest\"\nn_trees = 200\n").unwrap();
        let DecoderConfig::RandomForest(forest) = &file.decoder else {
            panic!("wrong kind: {:?}", file.decoder);
        };
        assert_eq!(forest.n_trees, 200);
        assert_eq!(
            forest.min_samples_leaf,
            RandomForestSettings::default().min_samples_leaf
        );
        let text = toml::to_string(&file).unwrap();
        let back: File = toml::from_str(&text).unwrap();
        assert_eq!(back.decoder, file.decoder);

        let ridge: File = toml::from_str("[decoder]\nkind = \"ridge\"\nalpha = 2.5\n").unwrap();
        assert_eq!(
            ridge.decoder,
            DecoderConfig::Ridge(RidgeSettings { alpha: 2.5 })
        );
        let climatology: File = toml::from_str("[decoder]\nkind = \"climatology\"\n").unwrap();
        assert_eq!(climatology.decoder.kind(), "climatology");

        let typo = toml::from_str::<File>("[decoder]\nkind = \"ridge\"\nalpah = 2.5\n");
        let message = typo.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("alpah"), "{message}");
        assert!(toml::from_str::<File>("[decoder]\nkind = \"climatology\"\nalpha = 1\n").is_err());
    }

    #[test]
    fn overrides_are_typed_and_name_their_key() {
        let mut config = DecoderConfig::from_kind("random_forest").unwrap();
        config.apply_override("decoder.n_trees=50").unwrap();
        config.apply_override(" decoder.max_depth = 7 ").unwrap();
        config
            .apply_override("decoder.seed=18446744073709551615")
            .unwrap();
        let DecoderConfig::RandomForest(forest) = &config else {
            panic!("wrong kind: {config:?}");
        };
        assert_eq!(
            (forest.n_trees, forest.max_depth, forest.seed),
            (50, Some(7), Some(u64::MAX))
        );
        config.apply_override("decoder.max_depth=none").unwrap();
        let DecoderConfig::RandomForest(forest) = &config else {
            panic!("wrong kind: {config:?}");
        };
        assert_eq!(forest.max_depth, None);

        assert_eq!(
            config_key(config.apply_override("decoder.n_trees=2.5")),
            "decoder.n_trees"
        );
        assert_eq!(
            config_key(config.apply_override("decoder.n_tress=5")),
            "decoder.n_tress"
        );
        assert_eq!(
            config_key(config.apply_override("decoder.alpha=1")),
            "decoder.alpha"
        );
        assert_eq!(config_key(config.apply_override("n_trees=5")), "n_trees");
        assert_eq!(
            config_key(config.apply_override("decoder.n_trees")),
            "decoder.n_trees"
        );

        config.apply_override("decoder.kind=ridge").unwrap();
        assert_eq!(config, DecoderConfig::from_kind("ridge").unwrap());
        config.apply_override("decoder.alpha=3").unwrap();
        assert_eq!(config, DecoderConfig::Ridge(RidgeSettings { alpha: 3.0 }));
        assert_eq!(
            config_key(config.apply_override("decoder.alpha=abc")),
            "decoder.alpha"
        );

        let mut persistence = DecoderConfig::from_kind("persistence").unwrap();
        persistence.apply_override("decoder.column=2024").unwrap();
        assert_eq!(
            persistence,
            DecoderConfig::Persistence(PersistenceSettings {
                column: "2024".into()
            })
        );
        let mut average = DecoderConfig::from_kind("moving_average").unwrap();
        assert_eq!(
            average,
            DecoderConfig::MovingAverage(MovingAverageSettings { window_days: 30 })
        );
        average.apply_override("decoder.window_days=7").unwrap();
        assert_eq!(
            average,
            DecoderConfig::MovingAverage(MovingAverageSettings { window_days: 7 })
        );
        assert_eq!(
            config_key(average.apply_override("decoder.window_days=-1")),
            "decoder.window_days"
        );
    }

    #[test]
    fn check_names_the_offending_key() {
        let cases = [
            ("ridge", "decoder.alpha=-1", "decoder.alpha"),
            ("random_forest", "decoder.n_trees=0", "decoder.n_trees"),
            ("random_forest", "decoder.max_depth=0", "decoder.max_depth"),
            (
                "random_forest",
                "decoder.min_samples_leaf=0",
                "decoder.min_samples_leaf",
            ),
            (
                "random_forest",
                "decoder.min_samples_split=1",
                "decoder.min_samples_split",
            ),
            (
                "random_forest",
                "decoder.max_features=0",
                "decoder.max_features",
            ),
            ("persistence", "decoder.column=", "decoder.column"),
            ("oracle_persistence", "decoder.column=", "decoder.column"),
            (
                "moving_average",
                "decoder.window_days=0",
                "decoder.window_days",
            ),
            ("tabpfn", "decoder.n_estimators=0", "decoder.n_estimators"),
            (
                "tabpfn",
                "decoder.softmax_temperature=0",
                "decoder.softmax_temperature",
            ),
            ("tabpfn", "decoder.weights=no/such.ckpt", "decoder.weights"),
            ("pfn", "decoder.n_estimators=0", "decoder.n_estimators"),
            (
                "pfn",
                "decoder.max_context_rows=0",
                "decoder.max_context_rows",
            ),
        ];
        for (kind, assignment, key) in cases {
            let mut config = DecoderConfig::from_kind(kind).unwrap();
            config.apply_override(assignment).unwrap();
            assert_eq!(config_key(config.check()), key, "{assignment}");
            assert_eq!(
                config_key(config.build(&[]).map(|_| ())),
                key,
                "{assignment}"
            );
        }
    }

    /// A registry with an entry behind a cargo feature that no build enables, to test the
    /// mechanism without a real optional decoder.
    #[allow(unexpected_cfgs)]
    mod gated {
        use crate::decode::{ClimatologySettings, RidgeSettings};

        decoders! {
            /// Always compiled.
            Climatology("climatology", ClimatologySettings),
            /// Never compiled.
            #[cfg(feature = "quakelab-test-never-enabled")]
            Absent("absent", RidgeSettings),
            /// Always compiled, after the gated entry.
            Ridge("ridge", RidgeSettings),
        }
    }

    #[test]
    fn a_decoder_behind_a_missing_feature_is_named_with_the_feature() {
        use gated::DecoderConfig as Gated;
        assert_eq!(Gated::KINDS, ["climatology", "ridge"]);
        assert_eq!(
            Gated::NOT_COMPILED,
            [("absent", "quakelab-test-never-enabled")]
        );
        let expected = "decoder `absent` is not compiled into this build: it needs the cargo \
                        feature `quakelab-test-never-enabled` (cargo build --release --features \
                        quakelab-test-never-enabled); this build has climatology, ridge";
        assert_eq!(
            Gated::not_compiled_message("absent").as_deref(),
            Some(expected)
        );
        assert_eq!(Gated::not_compiled_message("ridge"), None);
        // Through serde, as an experiment file or `decode --decoder` reads it.
        let table = serde_json::json!({ "kind": "absent", "alpha": 1.0 });
        let message = serde_json::from_value::<Gated>(table)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(message, expected);
        let toml_message = toml::from_str::<Gated>("kind = \"absent\"\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(toml_message.contains(expected), "{toml_message}");
        // A compiled entry still reads and writes as before.
        let ridge: Gated = toml::from_str("kind = \"ridge\"\nalpha = 2.0\n").unwrap();
        assert_eq!(ridge, Gated::Ridge(RidgeSettings { alpha: 2.0 }));
        assert_eq!(ridge.kind(), "ridge");
        ridge.settings().check().unwrap();
        assert_eq!(
            serde_json::to_value(&ridge).unwrap(),
            serde_json::json!({ "kind": "ridge", "alpha": 2.0 })
        );
        // An unknown kind is still an unknown variant, not a missing feature.
        let typo = serde_json::from_value::<Gated>(serde_json::json!({ "kind": "absnt" }));
        assert!(
            typo.err()
                .is_some_and(|e| e.to_string().contains("unknown variant"))
        );
    }

    #[test]
    fn this_build_compiles_every_decoder_it_declares() {
        assert!(DecoderConfig::NOT_COMPILED.is_empty());
        assert_eq!(DecoderConfig::not_compiled_message("ridge"), None);
    }

    #[test]
    fn one_row_and_infinite_features_are_refused_but_nan_is_missing() {
        let ctx = FitContext::new(0);
        let one = faer::Mat::from_fn(1, 2, |_, _| 1.0);
        let message = check_missing_fit_input("xgboost", one.as_ref(), &[1.0], 2, &ctx)
            .unwrap_err()
            .to_string();
        assert!(message.contains("1 training row;"), "{message}");
        let mut x = faer::Mat::from_fn(3, 2, |i, j| (i + j) as f64);
        x[(1, 0)] = f64::NAN;
        check_missing_fit_input("xgboost", x.as_ref(), &[1.0, 2.0, 3.0], 2, &ctx).unwrap();
        check_missing_predict_input("xgboost", x.as_ref(), 2).unwrap();
        x[(2, 1)] = f64::NEG_INFINITY;
        assert!(check_missing_fit_input("xgboost", x.as_ref(), &[1.0, 2.0, 3.0], 2, &ctx).is_err());
        assert!(check_missing_predict_input("xgboost", x.as_ref(), 2).is_err());
    }

    #[test]
    fn input_checks_refuse_bad_shapes_and_values() {
        let x = faer::Mat::from_fn(3, 2, |i, j| (i + j) as f64);
        let ctx = FitContext::new(0);
        check_fit_input("d", x.as_ref(), &[1.0, 2.0, 3.0], Some(2), &ctx).unwrap();
        assert!(check_fit_input("d", x.as_ref(), &[1.0, 2.0], None, &ctx).is_err());
        assert!(check_fit_input("d", x.as_ref(), &[1.0, 2.0, 3.0], Some(3), &ctx).is_err());
        assert!(check_fit_input("d", x.as_ref(), &[1.0, f64::NAN, 3.0], None, &ctx).is_err());
        let empty = faer::Mat::<f64>::zeros(0, 2);
        assert!(check_fit_input("d", empty.as_ref(), &[], None, &ctx).is_err());
        let mut bad = x.clone();
        bad[(2, 1)] = f64::INFINITY;
        assert!(check_fit_input("d", bad.as_ref(), &[1.0, 2.0, 3.0], None, &ctx).is_err());
        let narrow = faer::Mat::from_fn(1, 1, |_, _| 0.0);
        let with_narrow = ctx.with_validation(narrow.as_ref(), &[0.0]).unwrap();
        assert!(check_fit_input("d", x.as_ref(), &[1.0, 2.0, 3.0], None, &with_narrow).is_err());
        assert!(check_predict_input("d", x.as_ref(), 3).is_err());
        assert!(check_predict_input("d", bad.as_ref(), 2).is_err());
        check_predict_input("d", x.as_ref(), 2).unwrap();
    }
}
