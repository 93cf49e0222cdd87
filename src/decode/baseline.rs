//! The reference forecasts every decoder is measured against (`spec/evaluation-pitfalls.md`,
//! P3): persistence, a moving average of the known label, climatology, and the oracle
//! persistence kept as a diagnostic.
//!
//! # What is known at the forecast time
//!
//! A label series L(d) depends on the events of days [d + first, d + last] (its *support*), so
//! L(d) is known only at the end of day d + last. A forecast for table row t is issued at the end
//! of day t, so the last label value it may use is L(t − last); the runner offers it as the
//! reference column [`KNOWN_LABEL_COLUMN`]. For a centred KDE label (last > 0) L(t) itself is
//! not known at t; the runner still offers it, as [`ORACLE_COLUMN`], for
//! [`OraclePersistenceSettings`], whose score measures how smooth the label is, not how well the
//! future can be forecast.
//!
//! Each baseline reads its column by name (see the module docs of [`crate::decode`]), so it
//! sees exactly the rows, split and horizon every other decoder sees, while no other decoder
//! sees that column. In `quakelab decode`, where every column but the target is a feature, the
//! table must hold a column of that name (or, for the persistence kinds, the column named by
//! `decoder.column`).

use faer::MatRef;
use serde::{Deserialize, Serialize};

use super::{
    DecoderRole, DecoderSettings, FitContext, Regressor, check_fit_input, check_predict_input,
    not_fitted,
};
use crate::{Error, Result};

/// The reference column holding L(t − last), the last label value actually known at the
/// forecast time t; [`PersistenceSettings`] reads it by default.
pub const KNOWN_LABEL_COLUMN: &str = "label_known";

/// The reference column holding L(t), the label of the forecast day itself, which a label with
/// look-ahead (a centred kernel) takes partly from events after t; only
/// [`OraclePersistenceSettings`] reads it by default.
pub const ORACLE_COLUMN: &str = "label_now";

/// The reference column holding the mean of the last `window_days` known label values,
/// L(t − last − k) for k = 0..window_days: `label_known_mean_<window_days>d`, which
/// [`MovingAverageSettings`] reads.
pub fn moving_average_column(window_days: usize) -> String {
    format!("{KNOWN_LABEL_COLUMN}_mean_{window_days}d")
}

/// Settings of the persistence forecast: y(t + h) = L(t − last), the last label value actually
/// known at the forecast time (for `counts_ahead` labels: the count of the window ending on
/// day t).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PersistenceSettings {
    /// The name of the column holding the label known at the forecast time (default
    /// [`KNOWN_LABEL_COLUMN`]).
    pub column: String,
}

impl Default for PersistenceSettings {
    fn default() -> Self {
        PersistenceSettings {
            column: KNOWN_LABEL_COLUMN.to_string(),
        }
    }
}

impl DecoderSettings for PersistenceSettings {
    fn check(&self) -> Result<()> {
        check_column_setting(&self.column, "the label known at the forecast time")
    }

    fn build(&self, feature_names: &[String]) -> Result<Box<dyn Regressor>> {
        ColumnReader::build("persistence", &self.column, "decoder.column", feature_names)
    }

    fn reference_columns(&self) -> Vec<String> {
        vec![self.column.clone()]
    }

    fn role(&self) -> DecoderRole {
        DecoderRole::Baseline
    }
}

/// Settings of the oracle persistence: y(t + h) = L(t), the label of the forecast day.
///
/// A diagnostic of the label's smoothness, never a competitor. With a centred kernel L(t) takes
/// about half its mass from events after t, so it is not known at the forecast time, and its
/// near-perfect score says only that L changes little from one day to the next. It is reported
/// apart from the models and the baselines, and no model is compared with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OraclePersistenceSettings {
    /// The name of the column holding the label of the forecast day (default
    /// [`ORACLE_COLUMN`]).
    pub column: String,
}

impl Default for OraclePersistenceSettings {
    fn default() -> Self {
        OraclePersistenceSettings {
            column: ORACLE_COLUMN.to_string(),
        }
    }
}

impl DecoderSettings for OraclePersistenceSettings {
    fn check(&self) -> Result<()> {
        check_column_setting(&self.column, "the label of the forecast day")
    }

    fn build(&self, feature_names: &[String]) -> Result<Box<dyn Regressor>> {
        ColumnReader::build(
            "oracle_persistence",
            &self.column,
            "decoder.column",
            feature_names,
        )
    }

    fn reference_columns(&self) -> Vec<String> {
        vec![self.column.clone()]
    }

    fn role(&self) -> DecoderRole {
        DecoderRole::Diagnostic
    }
}

/// Settings of the moving-average forecast: y(t + h) = the mean of the last `window_days` label
/// values known at the forecast time, read from the column
/// [`moving_average_column`]`(window_days)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MovingAverageSettings {
    /// How many known label values are averaged (at least 1; default 30). With 1 the forecast
    /// is persistence.
    pub window_days: usize,
}

impl Default for MovingAverageSettings {
    fn default() -> Self {
        MovingAverageSettings { window_days: 30 }
    }
}

impl DecoderSettings for MovingAverageSettings {
    fn check(&self) -> Result<()> {
        crate::ensure_config!(
            self.window_days >= 1,
            "decoder.window_days",
            "must be at least 1 (the number of known label values averaged), got {}",
            self.window_days
        );
        Ok(())
    }

    fn build(&self, feature_names: &[String]) -> Result<Box<dyn Regressor>> {
        ColumnReader::build(
            "moving_average",
            &moving_average_column(self.window_days),
            "decoder.window_days",
            feature_names,
        )
    }

    fn reference_columns(&self) -> Vec<String> {
        vec![moving_average_column(self.window_days)]
    }

    fn role(&self) -> DecoderRole {
        DecoderRole::Baseline
    }
}

/// Refuses an empty `decoder.column`, saying what the column must hold.
fn check_column_setting(column: &str, holds: &str) -> Result<()> {
    crate::ensure_config!(
        !column.trim().is_empty(),
        "decoder.column",
        "must name the column that holds {holds}"
    );
    Ok(())
}

/// The names as `a`, `b`, … for an error message; a long list is cut after ten.
fn list_names(names: &[String]) -> String {
    const SHOWN: usize = 10;
    if names.is_empty() {
        return "none".to_string();
    }
    let shown: Vec<String> = names.iter().take(SHOWN).map(|n| format!("`{n}`")).collect();
    let more = names.len().saturating_sub(SHOWN);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// A baseline that predicts the value of one named column: persistence, oracle persistence and
/// the moving average differ only in the column they read.
struct ColumnReader {
    /// The decoder's kind, which is its [`Regressor::name`].
    name: &'static str,
    column: usize,
    n_features: usize,
    fitted: bool,
}

impl ColumnReader {
    /// The reader of column `wanted` among `feature_names`; a missing column is an
    /// [`Error::Config`] on `key`, the setting that chose it.
    fn build(
        name: &'static str,
        wanted: &str,
        key: &str,
        feature_names: &[String],
    ) -> Result<Box<dyn Regressor>> {
        let column = feature_names
            .iter()
            .position(|n| n == wanted)
            .ok_or_else(|| {
                Error::config(
                    key,
                    format!(
                        "{name} reads a column named `{wanted}`, which is missing; the \
                         decoder's columns are {}",
                        list_names(feature_names)
                    ),
                )
            })?;
        Ok(Box::new(ColumnReader {
            name,
            column,
            n_features: feature_names.len(),
            fitted: false,
        }))
    }
}

impl Regressor for ColumnReader {
    fn name(&self) -> String {
        self.name.to_string()
    }

    fn fit(&mut self, x: MatRef<'_, f64>, y: &[f64], ctx: &FitContext<'_>) -> Result<()> {
        check_fit_input(self.name, x, y, Some(self.n_features), ctx)?;
        self.fitted = true;
        Ok(())
    }

    fn predict(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        if !self.fitted {
            return Err(not_fitted(self.name));
        }
        check_predict_input(self.name, x, self.n_features)?;
        Ok((0..x.nrows()).map(|row| x[(row, self.column)]).collect())
    }
}

/// Settings of the climatology forecast (it has none): the training mean of the label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClimatologySettings {}

impl DecoderSettings for ClimatologySettings {
    fn check(&self) -> Result<()> {
        Ok(())
    }

    fn build(&self, _feature_names: &[String]) -> Result<Box<dyn Regressor>> {
        Ok(Box::new(Climatology { fitted: None }))
    }

    fn role(&self) -> DecoderRole {
        DecoderRole::Baseline
    }
}

/// Climatology: the mean training label, whatever the features.
struct Climatology {
    /// The column count and the mean label seen by `fit`.
    fitted: Option<(usize, f64)>,
}

impl Regressor for Climatology {
    fn name(&self) -> String {
        "climatology".to_string()
    }

    fn fit(&mut self, x: MatRef<'_, f64>, y: &[f64], ctx: &FitContext<'_>) -> Result<()> {
        check_fit_input("climatology", x, y, None, ctx)?;
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        self.fitted = Some((x.ncols(), mean));
        Ok(())
    }

    fn predict(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        let Some((n_features, mean)) = self.fitted else {
            return Err(not_fitted("climatology"));
        };
        check_predict_input("climatology", x, n_features)?;
        Ok(vec![mean; x.nrows()])
    }
}

#[cfg(test)]
mod tests {
    use faer::mat;

    use super::*;

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    /// The predictions of `settings` fitted on `x` (any labels) and asked about `test`.
    fn predictions(
        settings: &dyn DecoderSettings,
        columns: &[&str],
        x: MatRef<'_, f64>,
        test: MatRef<'_, f64>,
    ) -> (String, Vec<f64>) {
        let mut model = settings.build(&names(columns)).unwrap();
        let labels: Vec<f64> = (0..x.nrows()).map(|i| i as f64).collect();
        model.fit(x, &labels, &FitContext::new(0)).unwrap();
        (model.name(), model.predict(test).unwrap())
    }

    #[test]
    fn climatology_predicts_the_training_mean() {
        let x = mat![[0.0], [5.0], [9.0], [1.0]];
        let mut model = ClimatologySettings {}.build(&names(&["a"])).unwrap();
        model
            .fit(x.as_ref(), &[1.0, 2.0, 3.0, 6.0], &FitContext::new(0))
            .unwrap();
        // (1 + 2 + 3 + 6) / 4 = 3, for any feature values.
        let test = mat![[100.0], [-7.0]];
        assert_eq!(model.predict(test.as_ref()).unwrap(), vec![3.0, 3.0]);
        assert_eq!(model.name(), "climatology");
    }

    /// Columns as the runner offers them: a feature, the oracle L(t), the known L(t − last) and
    /// the mean of the last 2 known values; each baseline must return its own column.
    const OFFERED: [&str; 4] = ["b", "label_now", "label_known", "label_known_mean_2d"];

    #[test]
    fn each_baseline_reads_its_own_column_by_name() {
        let x = mat![[1.0, 10.0, 20.0, 30.0], [3.0, 11.0, 21.0, 31.0]];
        let test = mat![
            [0.0, 0.25, 4.0, -2.0],
            [0.0, -1.5, 5.0, -3.0],
            [7.0, 8.0, 6.0, -4.0]
        ];
        let persistence = predictions(
            &PersistenceSettings::default(),
            &OFFERED,
            x.as_ref(),
            test.as_ref(),
        );
        assert_eq!(persistence, ("persistence".into(), vec![4.0, 5.0, 6.0]));
        let oracle = predictions(
            &OraclePersistenceSettings::default(),
            &OFFERED,
            x.as_ref(),
            test.as_ref(),
        );
        assert_eq!(oracle, ("oracle_persistence".into(), vec![0.25, -1.5, 8.0]));
        let average = predictions(
            &MovingAverageSettings { window_days: 2 },
            &OFFERED,
            x.as_ref(),
            test.as_ref(),
        );
        assert_eq!(average, ("moving_average".into(), vec![-2.0, -3.0, -4.0]));

        // A column named by the setting instead of the default.
        let custom = PersistenceSettings { column: "b".into() };
        let (_, read) = predictions(&custom, &OFFERED, x.as_ref(), test.as_ref());
        assert_eq!(read, vec![0.0, 0.0, 7.0]);
    }

    #[test]
    fn persistence_and_oracle_persistence_read_different_columns() {
        assert_eq!(
            PersistenceSettings::default().reference_columns(),
            ["label_known"]
        );
        assert_eq!(
            OraclePersistenceSettings::default().reference_columns(),
            ["label_now"]
        );
        assert_eq!(
            MovingAverageSettings::default().reference_columns(),
            ["label_known_mean_30d"]
        );
        assert_eq!(moving_average_column(7), "label_known_mean_7d");
    }

    #[test]
    fn baselines_and_the_diagnostic_have_their_roles() {
        assert_eq!(PersistenceSettings::default().role(), DecoderRole::Baseline);
        assert_eq!(
            MovingAverageSettings::default().role(),
            DecoderRole::Baseline
        );
        assert_eq!(ClimatologySettings {}.role(), DecoderRole::Baseline);
        assert_eq!(
            OraclePersistenceSettings::default().role(),
            DecoderRole::Diagnostic
        );
        for settings in [
            &PersistenceSettings::default() as &dyn DecoderSettings,
            &OraclePersistenceSettings::default(),
            &MovingAverageSettings::default(),
            &ClimatologySettings {},
        ] {
            assert!(!settings.is_stochastic());
        }
    }

    /// The key and message of a config error.
    fn config_error<T>(result: Result<T>) -> (String, String) {
        match result {
            Err(Error::Config { key, message }) => (key, message),
            Err(other) => panic!("expected a config error, got {other:?}"),
            Ok(_) => panic!("expected a config error, got a value"),
        }
    }

    #[test]
    fn a_missing_reference_column_is_refused_naming_the_setting() {
        let columns = names(&["b", "a"]);
        let (key, message) = config_error(PersistenceSettings::default().build(&columns));
        assert_eq!(key, "decoder.column");
        assert!(message.contains("`label_known`"), "{message}");
        assert!(message.contains("`b`, `a`"), "{message}");
        let (key, message) = config_error(OraclePersistenceSettings::default().build(&columns));
        assert_eq!(key, "decoder.column");
        assert!(message.contains("`label_now`"), "{message}");
        let (key, message) = config_error(MovingAverageSettings::default().build(&columns));
        assert_eq!(key, "decoder.window_days");
        assert!(message.contains("`label_known_mean_30d`"), "{message}");
    }

    #[test]
    fn moving_average_window_days_0_is_refused() {
        let (key, message) = config_error(MovingAverageSettings { window_days: 0 }.check());
        assert_eq!(key, "decoder.window_days");
        assert!(message.contains("at least 1"), "{message}");
        MovingAverageSettings { window_days: 1 }.check().unwrap();
    }

    #[test]
    fn long_name_lists_are_cut() {
        let many: Vec<String> = (0..12).map(|i| format!("f{i}")).collect();
        let listed = list_names(&many);
        assert!(listed.ends_with("`f9` and 2 more"), "{listed}");
        assert_eq!(list_names(&[]), "none");
    }
}
