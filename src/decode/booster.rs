//! What the gradient-boosting decoders (XGBoost, LightGBM, CatBoost) share: parameters in each
//! library's own names, where the libraries live, the input checks that let missing values
//! through, quantile predictions and the libraries' log lines.
//!
//! # Parameters
//!
//! Every key of a booster's `[decoder]` section other than `kind` is a [`LibraryParams`] entry,
//! handed to the library under its own name, so a user can paste from the library's
//! documentation:
//!
//! ```toml
//! [decoder]
//! kind = "xgboost"
//! max_depth = 4
//! eta = 0.1
//! num_boost_round = 150
//! ```
//!
//! A value is written as the library reads it ([`ParamValue::to_library_string`]). The few keys
//! quakelab consumes itself (the number of rounds, `early_stopping_rounds`) are documented by
//! each decoder.
//!
//! # Where the libraries live
//!
//! `tools/install-boosters.sh` installs the official wheels into the virtual environment
//! `.venv-boosters` of the checkout quakelab was built from (build.rs runs it when the venv is
//! missing). `QUAKELAB_BOOSTERS` names another venv. XGBoost and LightGBM are loaded from the
//! wheels' shared libraries; CatBoost runs in a worker process on the venv's Python.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use faer::MatRef;
use serde::{Deserialize, Serialize};

use super::{Prediction, PredictiveDistribution, QuantileLevels};
use crate::{Error, Result};

/// The environment variable naming the venv with the boosting libraries.
pub const BOOSTERS_ENV: &str = "QUAKELAB_BOOSTERS";

/// A library parameter's value, as written in TOML or given to `--set decoder.KEY=VALUE`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// `true` or `false`.
    Bool(bool),
    /// A whole number.
    Integer(i64),
    /// A number with a fraction or an exponent.
    Float(f64),
    /// Text, such as an objective's name.
    Text(String),
    /// A list, such as XGBoost's `quantile_alpha = [0.05, 0.5, 0.95]`.
    List(Vec<ParamValue>),
}

impl ParamValue {
    /// The value as the library reads it: `true`/`false`, decimal integers, floats in their
    /// shortest round-trip form (`0.1`, `1e-5`), text as it is, a list's items joined by commas.
    pub fn to_library_string(&self) -> String {
        match self {
            ParamValue::Bool(b) => b.to_string(),
            ParamValue::Integer(i) => i.to_string(),
            ParamValue::Float(f) => format!("{f:?}"),
            ParamValue::Text(t) => t.clone(),
            ParamValue::List(items) => items
                .iter()
                .map(ParamValue::to_library_string)
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    /// The value as a number, when it is one (an integer or a float).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ParamValue::Integer(i) => Some(*i as f64),
            ParamValue::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The value as a list of numbers: a number, a list of numbers, or text such as `0.1,0.5`
    /// or `[0.1, 0.5]`.
    pub fn as_f64_list(&self) -> Option<Vec<f64>> {
        match self {
            ParamValue::Integer(_) | ParamValue::Float(_) => self.as_f64().map(|v| vec![v]),
            ParamValue::List(items) => items.iter().map(ParamValue::as_f64).collect(),
            ParamValue::Text(text) => {
                let inner = text.trim().trim_start_matches('[').trim_end_matches(']');
                inner
                    .split(',')
                    .map(|item| item.trim().parse::<f64>().ok())
                    .collect()
            }
            ParamValue::Bool(_) => None,
        }
    }
}

/// Every key of a booster's `[decoder]` section but `kind`, in the library's own names, in key
/// order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LibraryParams(BTreeMap<String, ParamValue>);

impl LibraryParams {
    /// The value of `key`, when it is set.
    pub fn get(&self, key: &str) -> Option<&ParamValue> {
        self.0.get(key)
    }

    /// The first of `aliases` that is set, with its key.
    pub fn find(&self, aliases: &[&str]) -> Option<(&str, &ParamValue)> {
        aliases
            .iter()
            .find_map(|&alias| self.0.get_key_value(alias))
            .map(|(key, value)| (key.as_str(), value))
    }

    /// Every key and value, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParamValue)> {
        self.0.iter().map(|(key, value)| (key.as_str(), value))
    }

    /// The positive whole number under the first of `aliases` that is set, or `None` when none
    /// is. Anything else is an [`Error::Config`] on `decoder.KEY`.
    pub fn positive_integer(&self, aliases: &[&str]) -> Result<Option<u64>> {
        let Some((key, value)) = self.find(aliases) else {
            return Ok(None);
        };
        match value {
            ParamValue::Integer(n) if *n > 0 => Ok(Some(*n as u64)),
            other => Err(Error::config(
                format!("decoder.{key}"),
                format!(
                    "must be a whole number of at least 1, not `{}`",
                    other.to_library_string()
                ),
            )),
        }
    }

    /// Whether a sampling fraction under any of `aliases` is set below 1, or to something
    /// that is not a number (left for the library to read, and so counted as a draw): a
    /// fraction that makes the library draw rows or columns with its seed.
    pub fn fraction_below_one(&self, aliases: &[&str]) -> bool {
        aliases.iter().any(|&alias| {
            self.get(alias)
                .is_some_and(|value| value.as_f64().is_none_or(|f| f < 1.0))
        })
    }

    /// Whether any of `aliases` is set to something other than `default` (compared as the
    /// library reads it, without case).
    pub fn differs_from(&self, aliases: &[&str], default: &str) -> bool {
        aliases.iter().any(|&alias| {
            self.get(alias)
                .is_some_and(|value| !value.to_library_string().eq_ignore_ascii_case(default))
        })
    }

    /// The same parameters without `keys` (those quakelab consumes itself).
    pub fn without(&self, keys: &[&str]) -> LibraryParams {
        LibraryParams(
            self.0
                .iter()
                .filter(|(key, _)| !keys.contains(&key.as_str()))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
        )
    }

    /// Sets `key` to `value`.
    pub fn insert(&mut self, key: impl Into<String>, value: ParamValue) {
        self.0.insert(key.into(), value);
    }
}

/// The seed handed to a library: the derived 64-bit seed reduced modulo 2³¹, since the
/// libraries take 32-bit signed seeds.
pub fn library_seed(seed: u64) -> i64 {
    (seed % (1 << 31)) as i64
}

/// The venv with the boosting libraries: `QUAKELAB_BOOSTERS` when set, else `.venv-boosters` in
/// the checkout this quakelab was built from.
pub fn boosters_venv() -> PathBuf {
    match std::env::var_os(BOOSTERS_ENV).filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-boosters"),
    }
}

/// The file `relative` (such as `xgboost/lib/libxgboost.so`) inside the venv's site-packages.
///
/// An [`Error::External`] that names the missing file and says how to install the libraries
/// when it is not there.
pub fn library_file(decoder: &str, relative: &str) -> Result<PathBuf> {
    let venv = boosters_venv();
    let lib = venv.join("lib");
    let site_packages = std::fs::read_dir(&lib).ok().and_then(|entries| {
        entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| {
                path.file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with("python"))
            })
            .map(|path| path.join("site-packages"))
            .find(|path| path.join(relative).is_file())
    });
    match site_packages {
        Some(dir) => Ok(dir.join(relative)),
        None => Err(missing_library(
            decoder,
            &lib.join("python3.*").join("site-packages").join(relative),
        )),
    }
}

/// The venv's Python interpreter, or the [`library_file`] error when it is missing.
pub fn venv_python(decoder: &str) -> Result<PathBuf> {
    let python = boosters_venv().join("bin").join("python");
    if python.is_file() {
        Ok(python)
    } else {
        Err(missing_library(decoder, &python))
    }
}

fn missing_library(decoder: &str, path: &Path) -> Error {
    Error::External {
        service: decoder.to_string(),
        message: format!(
            "the {decoder} library is not installed: {} is missing. Install the boosting \
             libraries with `tools/install-boosters.sh` (it needs PyPI; `cargo build` runs it \
             when the venv is missing), or set {BOOSTERS_ENV} to a venv that has them",
            path.display()
        ),
    }
}

/// `x` as row-major values (C order, the layout of a default numpy array, which the libraries
/// read). The copy goes tile by tile, 32 × 32 values at a time, so that a column-major matrix
/// (faer's layout) is read and written within the cache instead of with a cache miss per value.
pub fn row_major(x: MatRef<'_, f64>) -> Vec<f64> {
    const TILE: usize = 32;
    let (n, p) = (x.nrows(), x.ncols());
    let mut values = vec![0.0; n * p];
    for i0 in (0..n).step_by(TILE) {
        let rows = i0..(i0 + TILE).min(n);
        for j0 in (0..p).step_by(TILE) {
            for j in j0..(j0 + TILE).min(p) {
                for i in rows.clone() {
                    values[i * p + j] = x[(i, j)];
                }
            }
        }
    }
    values
}

/// A quantile model's prediction at the `requested` levels, from its outputs at the `trained`
/// levels (strictly increasing; `per_level[k][row]` is the output at `trained[k]`).
///
/// Each row's outputs are sorted first, so quantiles never cross (the rearrangement of
/// Chernozhukov, Fernández-Val & Galichon, 2010). A requested level between two trained ones is
/// interpolated linearly; one outside `[trained[0], trained[last]]` is an [`Error::Config`] on
/// `decoder.<level_key>` saying which levels to train. The mean and the median are both the
/// median: interpolated at 0.5, or the nearest trained level when 0.5 lies outside them. With
/// no requested level, the median alone, as a [`Prediction::Point`].
pub fn quantile_prediction(
    decoder: &str,
    level_key: &str,
    trained: &[f64],
    per_level: &[Vec<f64>],
    requested: &QuantileLevels,
) -> Result<Prediction> {
    let n = per_level.first().map_or(0, Vec::len);
    if trained.is_empty()
        || trained.len() != per_level.len()
        || per_level.iter().any(|p| p.len() != n)
        || trained.windows(2).any(|w| w[0] >= w[1])
    {
        return Err(Error::Numerical(format!(
            "{decoder}: {} quantile levels ({trained:?}) for {} output series",
            trained.len(),
            per_level.len()
        )));
    }
    let (low, high) = (trained[0], trained[trained.len() - 1]);
    if let Some(&outside) = requested
        .levels()
        .iter()
        .find(|&&l| l < low - 1e-12 || l > high + 1e-12)
    {
        return Err(Error::config(
            format!("decoder.{level_key}"),
            format!(
                "{decoder} was trained at quantile levels {trained:?}, but quantile {outside} \
                 is asked for; train levels from {} to {} (or ask for fewer quantiles)",
                requested.levels()[0],
                requested.levels()[requested.len() - 1]
            ),
        ));
    }
    let mut quantiles = vec![Vec::with_capacity(n); requested.len()];
    let mut median = Vec::with_capacity(n);
    let mut sorted = vec![0.0; trained.len()];
    for row in 0..n {
        for (slot, series) in sorted.iter_mut().zip(per_level) {
            *slot = series[row];
        }
        sorted.sort_by(f64::total_cmp);
        for (k, &level) in requested.levels().iter().enumerate() {
            quantiles[k].push(interpolate(trained, &sorted, level));
        }
        median.push(interpolate(trained, &sorted, 0.5f64.clamp(low, high)));
    }
    if requested.is_empty() {
        return Ok(Prediction::Point(median));
    }
    Ok(Prediction::Distribution(PredictiveDistribution::new(
        median.clone(),
        median,
        requested.clone(),
        quantiles,
    )?))
}

/// The value at `level` of the piecewise-linear curve through (`levels[k]`, `values[k]`),
/// `level` within the levels (clamped to them otherwise).
fn interpolate(levels: &[f64], values: &[f64], level: f64) -> f64 {
    let last = levels.len() - 1;
    if level <= levels[0] {
        return values[0];
    }
    if level >= levels[last] {
        return values[last];
    }
    let upper = levels.partition_point(|&l| l < level);
    let lower = upper - 1;
    let t = (level - levels[lower]) / (levels[upper] - levels[lower]);
    values[lower] + t * (values[upper] - values[lower])
}

/// Forwards one line of a library's own log output to `tracing` at info level, so that it
/// reaches the terminal only under `quakelab -v` (or `RUST_LOG`).
pub fn library_log(decoder: &str, line: &str) {
    let line = line.trim_end();
    if !line.is_empty() {
        tracing::info!(target: "quakelab::decode::booster", "{decoder}: {line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_as_the_libraries_read_them() {
        let cases = [
            (ParamValue::Bool(true), "true"),
            (ParamValue::Integer(150), "150"),
            (ParamValue::Float(0.1), "0.1"),
            (ParamValue::Float(1e-5), "1e-5"),
            (ParamValue::Float(2.0), "2.0"),
            (
                ParamValue::Text("reg:squarederror".into()),
                "reg:squarederror",
            ),
            (
                ParamValue::List(vec![ParamValue::Float(0.05), ParamValue::Float(0.5)]),
                "0.05,0.5",
            ),
        ];
        for (value, text) in cases {
            assert_eq!(value.to_library_string(), text);
            // Each parses back to the same number or word, as the libraries parse it.
            if let Some(v) = value.as_f64() {
                assert_eq!(text.parse::<f64>().unwrap(), v);
            }
        }
        assert_eq!(
            ParamValue::Text("[0.1, 0.9]".into()).as_f64_list(),
            Some(vec![0.1, 0.9])
        );
        assert_eq!(ParamValue::Text("median".into()).as_f64_list(), None);
        assert_eq!(ParamValue::Integer(1).as_f64_list(), Some(vec![1.0]));
    }

    #[test]
    fn params_read_from_toml_keep_their_types() {
        let params: LibraryParams =
            toml::from_str("eta = 0.1\nmax_depth = 4\nobjective = \"reg:squarederror\"\n").unwrap();
        assert_eq!(params.get("eta"), Some(&ParamValue::Float(0.1)));
        assert_eq!(params.get("max_depth"), Some(&ParamValue::Integer(4)));
        assert_eq!(
            params.find(&["n_estimators", "max_depth"]),
            Some(("max_depth", &ParamValue::Integer(4)))
        );
        assert_eq!(params.positive_integer(&["max_depth"]).unwrap(), Some(4));
        assert_eq!(params.positive_integer(&["num_boost_round"]).unwrap(), None);
        let err = params.positive_integer(&["eta"]).unwrap_err();
        assert!(matches!(err, Error::Config { ref key, .. } if key == "decoder.eta"));
        let rest = params.without(&["eta"]);
        assert_eq!(
            rest.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            ["max_depth", "objective"]
        );
    }

    #[test]
    fn row_major_lists_each_row_in_turn() {
        // 37 × 70 crosses the 32-value tiles in both directions.
        let x = faer::Mat::from_fn(37, 70, |i, j| (i * 1000 + j) as f64);
        let values = row_major(x.as_ref());
        assert_eq!(values.len(), 37 * 70);
        for (k, v) in values.iter().enumerate() {
            assert_eq!(*v, ((k / 70) * 1000 + k % 70) as f64, "value {k}");
        }
        assert!(row_major(faer::Mat::<f64>::zeros(0, 3).as_ref()).is_empty());
    }

    #[test]
    fn seeds_fit_in_32_signed_bits() {
        assert_eq!(library_seed(11), 11);
        assert_eq!(library_seed((1 << 31) + 5), 5);
        assert_eq!(library_seed(u64::MAX), (1 << 31) - 1);
    }

    #[test]
    fn quantiles_are_rearranged_and_interpolated_by_hand() {
        let trained = [0.1, 0.5, 0.9];
        // Row 0 crosses (0.9 below 0.5): sorted to 1, 2, 4.
        let outputs = vec![vec![1.0, 10.0], vec![4.0, 20.0], vec![2.0, 30.0]];
        let requested = QuantileLevels::new(vec![0.1, 0.3, 0.7, 0.9]).unwrap();
        let prediction = quantile_prediction("x", "alpha", &trained, &outputs, &requested).unwrap();
        let d = prediction.distribution().unwrap();
        // Row 0: 0.3 is halfway from 1 to 2 → 1.5; 0.7 halfway from 2 to 4 → 3.
        assert_eq!(d.row_quantiles(0), [1.0, 1.5, 3.0, 4.0]);
        assert_eq!(d.row_quantiles(1), [10.0, 15.0, 25.0, 30.0]);
        assert_eq!(d.median(), [2.0, 20.0]);
        assert_eq!(d.mean(), [2.0, 20.0]);
        let outside = QuantileLevels::new(vec![0.05, 0.5]).unwrap();
        let err = quantile_prediction("x", "alpha", &trained, &outputs, &outside).unwrap_err();
        assert!(matches!(err, Error::Config { ref key, .. } if key == "decoder.alpha"));
        let point = quantile_prediction(
            "x",
            "alpha",
            &[0.9],
            &[vec![7.0]],
            &QuantileLevels::new(vec![]).unwrap(),
        )
        .unwrap();
        assert_eq!(point, Prediction::Point(vec![7.0]));
    }

    #[test]
    fn a_missing_library_names_the_file_and_the_installer() {
        let message = missing_library("xgboost", Path::new("venv/lib/libxgboost.so")).to_string();
        assert!(message.contains("venv/lib/libxgboost.so"), "{message}");
        assert!(message.contains("tools/install-boosters.sh"), "{message}");
        assert!(message.contains(BOOSTERS_ENV), "{message}");
    }
}
