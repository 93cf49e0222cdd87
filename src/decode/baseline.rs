//! The reference forecasts every decoder is measured against (`spec/evaluation-pitfalls.md`,
//! P3): persistence and climatology.

use faer::MatRef;
use serde::{Deserialize, Serialize};

use super::{
    DecoderSettings, FitContext, Regressor, check_fit_input, check_predict_input, not_fitted,
};
use crate::{Error, Result};

/// The reference column that holds the label known at the forecast time, as the experiment
/// runner names it; persistence reads this column unless told otherwise.
pub const PERSISTENCE_COLUMN: &str = "label_now";

/// Settings of the persistence forecast: y(t + h) = the last label known at t.
///
/// The label known at t is a named column that persistence asks for as a reference column
/// (see the module docs of [`crate::decode`]), so it sees exactly the rows, split and horizon
/// every other decoder sees, while no other decoder sees that column. In `quakelab decode`,
/// where every column but the target is a feature, it may name any feature column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PersistenceSettings {
    /// The name of the column holding the label known at the forecast time (default
    /// [`PERSISTENCE_COLUMN`]).
    pub column: String,
}

impl Default for PersistenceSettings {
    fn default() -> Self {
        PersistenceSettings {
            column: PERSISTENCE_COLUMN.to_string(),
        }
    }
}

impl DecoderSettings for PersistenceSettings {
    fn check(&self) -> Result<()> {
        crate::ensure_config!(
            !self.column.trim().is_empty(),
            "decoder.column",
            "must name the feature column that holds the label known at the forecast time"
        );
        Ok(())
    }

    fn build(&self, feature_names: &[String]) -> Result<Box<dyn Regressor>> {
        let column = feature_names
            .iter()
            .position(|name| *name == self.column)
            .ok_or_else(|| {
                Error::config(
                    "decoder.column",
                    format!(
                        "no column named `{}`; the decoder's columns are {}",
                        self.column,
                        list_names(feature_names)
                    ),
                )
            })?;
        Ok(Box::new(Persistence {
            column,
            n_features: feature_names.len(),
            fitted: false,
        }))
    }

    fn reference_columns(&self) -> Vec<String> {
        vec![self.column.clone()]
    }
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

/// Persistence: predicts the value of one feature column, the label known at t.
struct Persistence {
    column: usize,
    n_features: usize,
    fitted: bool,
}

impl Regressor for Persistence {
    fn name(&self) -> String {
        "persistence".to_string()
    }

    fn fit(&mut self, x: MatRef<'_, f64>, y: &[f64], ctx: &FitContext<'_>) -> Result<()> {
        check_fit_input("persistence", x, y, Some(self.n_features), ctx)?;
        self.fitted = true;
        Ok(())
    }

    fn predict(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        if !self.fitted {
            return Err(not_fitted("persistence"));
        }
        check_predict_input("persistence", x, self.n_features)?;
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

    #[test]
    fn persistence_reads_its_column_by_name() {
        let settings = PersistenceSettings::default();
        let mut model = settings.build(&names(&["b", "label_now", "a"])).unwrap();
        let x = mat![[1.0, 10.0, 2.0], [3.0, 20.0, 4.0]];
        model
            .fit(x.as_ref(), &[11.0, 21.0], &FitContext::new(0))
            .unwrap();
        let test = mat![[0.0, 0.25, 9.0], [0.0, -1.5, 9.0], [7.0, 8.0, 9.0]];
        assert_eq!(model.predict(test.as_ref()).unwrap(), vec![0.25, -1.5, 8.0]);
        assert_eq!(model.name(), "persistence");

        let custom = PersistenceSettings { column: "a".into() };
        let mut model = custom.build(&names(&["b", "label_now", "a"])).unwrap();
        model
            .fit(x.as_ref(), &[11.0, 21.0], &FitContext::new(0))
            .unwrap();
        assert_eq!(model.predict(test.as_ref()).unwrap(), vec![9.0, 9.0, 9.0]);
    }

    #[test]
    fn persistence_without_its_column_names_the_key() {
        let error = PersistenceSettings::default()
            .build(&names(&["b", "a"]))
            .err();
        match error {
            Some(Error::Config { key, message }) => {
                assert_eq!(key, "decoder.column");
                assert!(message.contains("`b`, `a`"), "{message}");
            }
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn long_name_lists_are_cut() {
        let many: Vec<String> = (0..12).map(|i| format!("f{i}")).collect();
        let listed = list_names(&many);
        assert!(listed.ends_with("`f9` and 2 more"), "{listed}");
        assert_eq!(list_names(&[]), "none");
    }
}
