//! Decoders: everything that maps a feature matrix to a predicted label sits behind
//! [`Regressor`], baselines included, so the runner treats them all the same.
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
//! # Adding a decoder
//!
//! A decoder is one file and one line here:
//!
//! 1. In `src/decode/NAME.rs`, a settings struct (serde, `#[serde(default, deny_unknown_fields)]`)
//!    that implements [`DecoderSettings`], and the model that implements [`Regressor`]. Start
//!    `fit` and `predict` with [`check_fit_input`], [`not_fitted`] and [`check_predict_input`],
//!    which every decoder shares.
//! 2. `mod NAME;` in this file, and one line `Variant("kind", NAME::Settings)` in the
//!    `decoders!` list.
//!
//! The conformance suite (`tests/it/decode.rs`) runs over [`DecoderConfig::KINDS`], so the new
//! decoder is tested with the others at once.

use faer::MatRef;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Result};

mod baseline;
mod csv_table;
mod forest;
mod ridge;

pub use baseline::{ClimatologySettings, PERSISTENCE_COLUMN, PersistenceSettings};
pub use csv_table::{DecodeReport, decode_csv};
pub use forest::RandomForestSettings;
pub use ridge::RidgeSettings;

/// A regression model: fitted once on training rows, then asked for predictions.
///
/// Rows of `x` are samples (days), columns are features; `y` has one label per row. A decoder
/// keeps whatever it learned in `fit` and never looks at test labels.
pub trait Regressor: Send + Sync {
    /// A stable name used in tables, run ids and config keys (e.g. `random_forest`).
    fn name(&self) -> String;

    /// Fits the model on training features `x` (n × p) and labels `y` (n).
    fn fit(&mut self, x: MatRef<'_, f64>, y: &[f64]) -> Result<()>;

    /// Predicts one label per row of `x` (m × p, the same p columns as in `fit`).
    fn predict(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>>;
}

/// What every decoder's settings provide: validation, and a fresh model built from them.
pub trait DecoderSettings {
    /// Refuses invalid settings before any work starts, naming the offending key
    /// (`decoder.alpha`, …).
    fn check(&self) -> Result<()>;

    /// A new, unfitted model for a table whose feature columns are `feature_names`, in the
    /// order of the columns of the matrices later given to `fit` and `predict`.
    fn build(&self, feature_names: &[String]) -> Result<Box<dyn Regressor>>;
}

/// Declares [`DecoderConfig`] from one line per decoder, `Variant("kind", Settings)`, so that
/// the enum, its serde tags, [`DecoderConfig::KINDS`] and the dispatch to the settings can
/// never disagree.
macro_rules! decoders {
    ($($(#[$doc:meta])* $variant:ident($kind:literal, $settings:ty),)+) => {
        /// The `[decoder]` section: which decoder, and its settings.
        ///
        /// Internally tagged by `kind`; the other keys are the chosen decoder's settings.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "kind")]
        pub enum DecoderConfig {
            $(
                $(#[$doc])*
                #[serde(rename = $kind)]
                $variant($settings),
            )+
        }

        impl DecoderConfig {
            /// The `kind` of every decoder, in declaration order.
            pub const KINDS: &'static [&'static str] = &[$($kind),+];

            /// This decoder's `kind`, which is also its [`Regressor::name`].
            pub fn kind(&self) -> &'static str {
                match self {
                    $(DecoderConfig::$variant(_) => $kind,)+
                }
            }

            /// The chosen decoder's settings.
            pub fn settings(&self) -> &dyn DecoderSettings {
                match self {
                    $(DecoderConfig::$variant(settings) => settings,)+
                }
            }
        }
    };
}

decoders! {
    /// Predicts the label known at the forecast time: y(t + h) = y(t), read from a feature column.
    Persistence("persistence", PersistenceSettings),
    /// Predicts the training mean of the label.
    Climatology("climatology", ClimatologySettings),
    /// Ridge regression, closed form, with an unpenalised intercept.
    Ridge("ridge", RidgeSettings),
    /// smartcore's random forest, its trees fitted in parallel.
    RandomForest("random_forest", RandomForestSettings),
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

    /// A new, unfitted model for a table with these feature columns (in matrix column order).
    /// The settings are checked first.
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
/// `expected_columns` columns (where the decoder knows its feature names), and only finite
/// values. The error names the decoder and the first offending row and column (0-based).
pub fn check_fit_input(
    decoder: &str,
    x: MatRef<'_, f64>,
    y: &[f64],
    expected_columns: Option<usize>,
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
            let config = DecoderConfig::from_kind(kind).unwrap();
            assert_eq!(config.kind(), kind);
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
    fn toml_section_takes_defaults_and_refuses_unknown_keys() {
        #[derive(Deserialize, Serialize)]
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
            (50, Some(7), u64::MAX)
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

    #[test]
    fn input_checks_refuse_bad_shapes_and_values() {
        let x = faer::Mat::from_fn(3, 2, |i, j| (i + j) as f64);
        check_fit_input("d", x.as_ref(), &[1.0, 2.0, 3.0], Some(2)).unwrap();
        assert!(check_fit_input("d", x.as_ref(), &[1.0, 2.0], None).is_err());
        assert!(check_fit_input("d", x.as_ref(), &[1.0, 2.0, 3.0], Some(3)).is_err());
        assert!(check_fit_input("d", x.as_ref(), &[1.0, f64::NAN, 3.0], None).is_err());
        let empty = faer::Mat::<f64>::zeros(0, 2);
        assert!(check_fit_input("d", empty.as_ref(), &[], None).is_err());
        let mut bad = x.clone();
        bad[(2, 1)] = f64::INFINITY;
        assert!(check_fit_input("d", bad.as_ref(), &[1.0, 2.0, 3.0], None).is_err());
        assert!(check_predict_input("d", x.as_ref(), 3).is_err());
        assert!(check_predict_input("d", bad.as_ref(), 2).is_err());
        check_predict_input("d", x.as_ref(), 2).unwrap();
    }
}
