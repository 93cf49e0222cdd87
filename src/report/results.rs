//! A run's results: the metric rows, the predictions, and the tables and figures made from them.
//!
//! The runner writes `results.csv` and `predictions.csv` into the run directory and renders the
//! rest from them with [`render_run`], which `quakelab report RUN_DIR` calls again on an
//! existing run, so tables and figures can be redrawn without refitting anything.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::dataset::Split;
use crate::decode::QuantileLevels;
use crate::eval::{
    DieboldMariano, MetricIntervals, QuantileScores, RegressionMetrics, regression_metrics,
    skill_score,
};
use crate::period::Period;
use crate::report::figure::{self, IntervalPoint, ScatterPanel};
use crate::report::importance::{ImportanceRow, render_importances, write_importances};
use crate::report::review::{EvaluationSheet, REPORT_FILE, render_report};
use crate::report::table::{Cell, Table, number, optional_number};
use crate::track::{Metric, read_verified};
use crate::{Error, Result};

/// [`ResultRow::role`] of a model fitted on a modality.
pub const ROLE_MODEL: &str = "model";
/// [`ResultRow::role`] of a reference forecast that models must beat.
pub const ROLE_BASELINE: &str = "baseline";
/// [`ResultRow::role`] of a reference that is no competitor (oracle persistence, interpolation).
pub const ROLE_DIAGNOSTIC: &str = "diagnostic";
/// [`ResultRow::role`] of a model fitted on a control feature set.
pub const ROLE_CONTROL: &str = "control";
/// [`ResultRow::role`] of a row that was not fitted (its reason in [`ResultRow::status`]).
pub const ROLE_SKIPPED: &str = "skipped";

/// One split × feature set × decoder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResultRow {
    /// The split's kind (`random`, `chronological`, `blocked`).
    pub split: String,
    /// The split with its parameters, e.g. `blocked(k=5, fold=2, embargo=130d)`.
    pub split_description: String,
    /// The feature set: a modality (`gnss`, `seismicity`, `fusion`) or a control.
    pub features: String,
    /// The decoder's kind: the row's key in metric names, file names and comparisons.
    pub decoder: String,
    /// The decoder's name where people read it, when it says more than its kind (`PFN
    /// (quakelab-pfn-s)` for `pfn`); empty otherwise. See [`ResultRow::shown_decoder`].
    #[serde(default)]
    pub decoder_name: String,
    /// What the row is: `model`, `baseline` (a reference forecast a model must beat),
    /// `diagnostic` (a reference that is no competitor: oracle persistence, interpolation) or
    /// `control` (a model on a control feature set: day number, shifted labels, shuffled or
    /// null-scenario GNSS).
    #[serde(default)]
    pub role: String,
    /// Training rows with a label.
    pub n_train: usize,
    /// Test rows with a label.
    pub n_test: usize,
    /// R² on the training rows (none for references that are not fitted).
    pub train_r2: Option<f64>,
    /// MSE on the training rows.
    pub train_mse: Option<f64>,
    /// R² on the test rows.
    pub test_r2: f64,
    /// MSE on the test rows.
    pub test_mse: f64,
    /// MAE on the test rows.
    pub test_mae: f64,
    /// `1 − MSE / MSE(persistence)` on the test rows of the same split and feature set.
    pub skill_vs_persistence: Option<f64>,
    /// `1 − MSE / MSE(climatology)` on the test rows of the same split and feature set.
    pub skill_vs_climatology: Option<f64>,
    /// The pinball loss on the test rows, averaged over the quantile levels (decoders that
    /// give quantiles only).
    #[serde(default)]
    pub test_pinball: Option<f64>,
    /// The CRPS on the test rows, approximated from the quantiles (see
    /// [`crate::eval::quantile`]; decoders that give quantiles only).
    #[serde(default)]
    pub test_crps: Option<f64>,
    /// The moving-block bootstrap interval of the test R² (see [`crate::eval::uncertainty`]).
    #[serde(default)]
    pub test_r2_ci_low: Option<f64>,
    /// Upper end of the test R² interval.
    #[serde(default)]
    pub test_r2_ci_high: Option<f64>,
    /// Lower end of the test MSE interval.
    #[serde(default)]
    pub test_mse_ci_low: Option<f64>,
    /// Upper end of the test MSE interval.
    #[serde(default)]
    pub test_mse_ci_high: Option<f64>,
    /// Lower end of the test MAE interval.
    #[serde(default)]
    pub test_mae_ci_low: Option<f64>,
    /// Upper end of the test MAE interval.
    #[serde(default)]
    pub test_mae_ci_high: Option<f64>,
    /// The baseline with the lowest test MSE on the same split and feature set (the same
    /// test rows), which models are compared with.
    #[serde(default)]
    pub best_baseline: Option<String>,
    /// `1 − MSE / MSE(best baseline)`.
    #[serde(default)]
    pub skill_vs_best_baseline: Option<f64>,
    /// The Diebold–Mariano statistic of the squared-error differential against the best
    /// baseline (negative: the row's errors are smaller). Empty for baselines.
    #[serde(default)]
    pub dm_statistic: Option<f64>,
    /// Its two-sided p-value (HAC variance). Empty for baselines.
    #[serde(default)]
    pub dm_p_value: Option<f64>,
    /// How many seeds the decoder was fitted with (several for stochastic decoders; the row's
    /// other numbers are those of the first, the experiment's own seed).
    #[serde(default)]
    pub n_seeds: Option<usize>,
    /// The mean test R² over the seeds.
    #[serde(default)]
    pub test_r2_seed_mean: Option<f64>,
    /// The standard deviation (ddof = 1) of the test R² over the seeds.
    #[serde(default)]
    pub test_r2_seed_sd: Option<f64>,
    /// What encoded the row's GNSS features: `flatten`, `vit(mean, random init)`,
    /// `vit(mean, MODEL, sha256:…)`; empty for rows without GNSS features.
    #[serde(default)]
    pub encoder: String,
    /// Empty for a row that was fitted; `skipped: REASON` for one that was not (its metrics
    /// are NaN).
    #[serde(default)]
    pub status: String,
}

/// One prediction of one day.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionRow {
    /// The split's kind.
    pub split: String,
    /// The feature set.
    pub features: String,
    /// The decoder's kind.
    pub decoder: String,
    /// `train` or `test`.
    pub set: &'static str,
    /// The feature day t (the label is that of day t + h).
    pub day: usize,
    /// The label.
    pub truth: f64,
    /// The prediction (a distribution's mean).
    pub prediction: f64,
    /// The predictive median and the quantiles at the run's levels, when the decoder gave a
    /// distribution.
    pub distribution: Option<(f64, Vec<f64>)>,
}

impl ResultRow {
    /// Metrics of `predicted` (one per table row) against `labels` on the split's rows.
    pub fn new(
        split_name: &str,
        description: &str,
        (features, decoder, role): (&str, &str, &str),
        split: &Split,
        labels: &[f64],
        predicted: &[f64],
    ) -> Result<Self> {
        let train = metrics_on(split.train(), labels, predicted)?;
        let test = metrics_on(split.test(), labels, predicted)?;
        let mut row = ResultRow::test_only(
            split_name,
            description,
            (features, decoder, role),
            split,
            test,
        );
        row.n_train = train.n;
        row.train_r2 = Some(train.r2);
        row.train_mse = Some(train.mse);
        Ok(row)
    }

    /// A row with test metrics only (a reference that fits nothing, such as interpolation).
    pub fn test_only(
        split_name: &str,
        description: &str,
        (features, decoder, role): (&str, &str, &str),
        split: &Split,
        test: RegressionMetrics,
    ) -> Self {
        ResultRow {
            split: split_name.to_string(),
            split_description: description.to_string(),
            features: features.to_string(),
            decoder: decoder.to_string(),
            role: role.to_string(),
            n_train: split.train().len(),
            n_test: test.n,
            train_r2: None,
            train_mse: None,
            test_r2: test.r2,
            test_mse: test.mse,
            test_mae: test.mae,
            ..ResultRow::default()
        }
    }

    /// A row that was not fitted: the feature set needs an encoder that cannot run (an
    /// optional ViT without weights). Its metrics are NaN and it logs none.
    pub fn skipped(
        split_name: &str,
        description: &str,
        (features, decoder): (&str, &str),
        encoder: &str,
        reason: &str,
    ) -> Self {
        ResultRow {
            split: split_name.to_string(),
            split_description: description.to_string(),
            features: features.to_string(),
            decoder: decoder.to_string(),
            role: ROLE_SKIPPED.to_string(),
            test_r2: f64::NAN,
            test_mse: f64::NAN,
            test_mae: f64::NAN,
            encoder: encoder.to_string(),
            status: format!("skipped: {reason}"),
            ..ResultRow::default()
        }
    }

    /// The decoder as tables and summaries show it: [`ResultRow::decoder_name`], or the kind
    /// where that is empty.
    pub fn shown_decoder(&self) -> &str {
        if self.decoder_name.is_empty() {
            &self.decoder
        } else {
            &self.decoder_name
        }
    }

    /// Whether the row was skipped rather than fitted.
    pub fn is_skipped(&self) -> bool {
        self.role == ROLE_SKIPPED
    }

    /// The row's name in summaries: `features + decoder`, with the encoder of its GNSS
    /// features in brackets (`fusion [vit(mean, random init)] + ridge`).
    pub fn name(&self) -> String {
        if self.encoder.is_empty() {
            format!("{} + {}", self.features, self.shown_decoder())
        } else {
            format!(
                "{} [{}] + {}",
                self.features,
                self.encoder,
                self.shown_decoder()
            )
        }
    }

    /// Whether the row is a baseline, a reference forecast that models must beat.
    pub fn is_baseline(&self) -> bool {
        self.role == ROLE_BASELINE
    }

    /// Whether the row is a model on a modality (not a baseline, diagnostic or control).
    pub fn is_model(&self) -> bool {
        self.role == ROLE_MODEL
    }

    /// Sets the bootstrap intervals of the test metrics.
    pub fn set_intervals(&mut self, intervals: &MetricIntervals) {
        self.test_r2_ci_low = Some(intervals.r2.low);
        self.test_r2_ci_high = Some(intervals.r2.high);
        self.test_mse_ci_low = Some(intervals.mse.low);
        self.test_mse_ci_high = Some(intervals.mse.high);
        self.test_mae_ci_low = Some(intervals.mae.low);
        self.test_mae_ci_high = Some(intervals.mae.high);
    }

    /// Sets the spread of the test R² over the seeds a stochastic decoder was fitted with.
    pub fn set_seed_spread(&mut self, test_r2: &[f64]) {
        let n = test_r2.len();
        self.n_seeds = Some(n);
        if n == 0 {
            return;
        }
        let mean = test_r2.iter().sum::<f64>() / n as f64;
        self.test_r2_seed_mean = Some(mean);
        self.test_r2_seed_sd = (n > 1).then(|| {
            (test_r2.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        });
    }

    /// Sets the comparison with the best baseline of the same test rows.
    pub fn set_comparison(&mut self, baseline: &ResultRow, dm: Option<&DieboldMariano>) {
        self.best_baseline = Some(baseline.decoder.clone());
        self.skill_vs_best_baseline = skill_score(self.test_mse, baseline.test_mse).ok();
        self.dm_statistic = dm.map(|d| d.statistic);
        self.dm_p_value = dm.map(|d| d.p_value);
    }

    /// Sets the test pinball loss and CRPS of a decoder that gave quantiles.
    pub fn set_quantile_scores(&mut self, scores: QuantileScores) {
        self.test_pinball = Some(scores.pinball);
        self.test_crps = Some(scores.crps);
    }

    /// Sets the skill scores from the persistence and climatology test MSEs of the same split
    /// and feature set (where those references were run).
    pub fn fill_skill(&mut self, reference_mse: &[Option<f64>; 2]) {
        let skill = |r: Option<f64>| r.and_then(|r| skill_score(self.test_mse, r).ok());
        self.skill_vs_persistence = skill(reference_mse[0]);
        self.skill_vs_climatology = skill(reference_mse[1]);
    }

    /// The row as tracked metrics, keyed `test_r2/<split>/<features>/<decoder>` and so on.
    pub fn metrics(&self) -> Vec<Metric> {
        if self.is_skipped() {
            return Vec::new();
        }
        let key = |m: &str| format!("{m}/{}/{}/{}", self.split, self.features, self.decoder);
        let mut out = vec![
            Metric::new(key("test_r2"), self.test_r2, 0),
            Metric::new(key("test_mse"), self.test_mse, 0),
            Metric::new(key("test_mae"), self.test_mae, 0),
        ];
        out.extend(self.train_r2.map(|v| Metric::new(key("train_r2"), v, 0)));
        out.extend(self.train_mse.map(|v| Metric::new(key("train_mse"), v, 0)));
        out.extend(
            self.skill_vs_persistence
                .map(|v| Metric::new(key("skill_vs_persistence"), v, 0)),
        );
        out.extend(
            self.test_pinball
                .map(|v| Metric::new(key("test_pinball"), v, 0)),
        );
        out.extend(self.test_crps.map(|v| Metric::new(key("test_crps"), v, 0)));
        for (name, value) in [
            ("test_r2_ci_low", self.test_r2_ci_low),
            ("test_r2_ci_high", self.test_r2_ci_high),
            ("test_mse_ci_low", self.test_mse_ci_low),
            ("test_mse_ci_high", self.test_mse_ci_high),
            ("skill_vs_best_baseline", self.skill_vs_best_baseline),
            ("dm_p_value", self.dm_p_value),
            ("test_r2_seed_sd", self.test_r2_seed_sd),
        ] {
            out.extend(value.map(|v| Metric::new(key(name), v, 0)));
        }
        out
    }
}

fn metrics_on(rows: &[usize], labels: &[f64], predicted: &[f64]) -> Result<RegressionMetrics> {
    let (truth, pred): (Vec<f64>, Vec<f64>) = rows
        .iter()
        .filter(|&&r| labels[r].is_finite())
        .map(|&r| (labels[r], predicted[r]))
        .unzip();
    regression_metrics(&truth, &pred)
}

/// The long comparison table: one row per result, with the bootstrap intervals, the
/// comparison with the best baseline of the same test rows (skill and Diebold–Mariano p-value)
/// and the seed spread. The test pinball loss and CRPS columns appear when some decoder gave
/// quantiles. The per-split tables a reviewer reads are in [`crate::report::review`].
pub fn comparison_table(results: &[ResultRow]) -> Table {
    let quantiles = results.iter().any(|r| r.test_pinball.is_some());
    let encoders = results.iter().any(|r| !r.encoder.is_empty());
    let skipped = results.iter().any(ResultRow::is_skipped);
    let mut headers = vec!["split", "features"];
    if encoders {
        headers.push("encoder");
    }
    headers.extend([
        "decoder",
        "role",
        "n_train",
        "n_test",
        "train_r2",
        "test_r2",
        "test_r2_ci",
        "test_mse",
        "test_mse_ci",
        "test_mae",
        "best_baseline",
        "skill_vs_best_baseline",
        "dm_p_value",
        "test_r2_seed_sd",
    ]);
    if quantiles {
        headers.extend(["test_pinball", "test_crps"]);
    }
    if skipped {
        headers.push("status");
    }
    let mut table = Table::new(headers);
    for r in results {
        let mut row = vec![
            r.split_description.clone().into(),
            r.features.clone().into(),
        ];
        if encoders {
            row.push(r.encoder.clone().into());
        }
        row.extend([
            r.shown_decoder().to_string().into(),
            r.role.clone().into(),
            r.n_train.to_string().into(),
            r.n_test.to_string().into(),
            optional_number(r.train_r2, 4),
            number(r.test_r2, 4),
            interval(r.test_r2_ci_low, r.test_r2_ci_high),
            number(r.test_mse, 4),
            interval(r.test_mse_ci_low, r.test_mse_ci_high),
            number(r.test_mae, 4),
            r.best_baseline.clone().map_or(Cell::Missing, Cell::from),
            optional_number(r.skill_vs_best_baseline, 4),
            optional_number(r.dm_p_value, 3),
            optional_number(r.test_r2_seed_sd, 3),
        ]);
        if quantiles {
            row.push(optional_number(r.test_pinball, 4));
            row.push(optional_number(r.test_crps, 4));
        }
        if skipped {
            row.push(r.status.clone().into());
        }
        table.push(row);
    }
    table
}

/// `[low, high]` rounded for reading, or missing.
pub fn interval(low: Option<f64>, high: Option<f64>) -> Cell {
    match (low, high) {
        (Some(low), Some(high)) => {
            let show = |v: f64| {
                number(v, 3)
                    .to_display()
                    .map_or_else(|| "—".to_string(), |c| c.into_owned())
            };
            format!("[{}, {}]", show(low), show(high)).into()
        }
        _ => Cell::Missing,
    }
}

/// Writes `results.csv`, `predictions.csv` (streamed, and the rows dropped before rendering),
/// `feature_importance.csv` (when some decoder reported importances, see
/// [`crate::report::importance`]) and everything [`render_run`] makes into `run_dir`; returns
/// each file's artifact path (relative, `/`-separated) and its location.
///
/// `predictions.csv` has the columns `split,features,decoder,set,day,truth,prediction`, and,
/// when some decoder gave a distribution, `median` and one `q<level>` column per quantile
/// level (`q0.05`, …), empty on the rows of point-only decoders.
pub fn write_results(
    run_dir: &Path,
    period: &Period,
    results: &[ResultRow],
    predictions: Vec<PredictionRow>,
    importances: &[ImportanceRow],
    levels: &QuantileLevels,
) -> Result<Vec<(String, PathBuf)>> {
    let mut written = Vec::new();
    let results_path = run_dir.join("results.csv");
    write_csv(&results_path, results)?;
    written.push(("results.csv".to_string(), results_path));
    let predictions_path = run_dir.join("predictions.csv");
    write_predictions(&predictions_path, &predictions, levels)?;
    // Rendering reads the file back: the rows in memory are not needed any more.
    drop(predictions);
    written.push(("predictions.csv".to_string(), predictions_path));
    written.extend(write_importances(run_dir, importances)?);
    written.extend(render_run(run_dir, period)?);
    Ok(written)
}

/// Renders a run's tables (`tables/results.{md,tex,csv}`) and figures (`figures/*.png`) from
/// its `results.csv` and `predictions.csv`. For each split, the figures show the feature set
/// and model decoder (not a reference) with the best test R²: predicted against true for train
/// and test, the test residuals with a fitted normal, and labels and predictions over time.
/// Where decoders gave quantiles, `figures/intervals_<split>.png` shows the best of those with
/// the band between its outermost quantile levels. Where decoders reported feature
/// importances, `figures/importance_<decoder>.png` shows their top 20.
pub fn render_run(run_dir: &Path, period: &Period) -> Result<Vec<(String, PathBuf)>> {
    let results = read_results(run_dir)?;
    let (levels, predictions) = read_predictions(run_dir)?;
    let mut written = Vec::new();
    let table = comparison_table(&results);
    for (ext, text) in [
        ("md", table.to_markdown()),
        ("tex", table.to_latex()),
        ("csv", table.to_csv()?),
    ] {
        let name = format!("tables/results.{ext}");
        let path = run_dir.join(&name);
        crate::io::write_atomic(&path, |w| w.write_all(text.as_bytes()))?;
        written.push((name, path));
    }
    let mut splits: Vec<&str> = results.iter().map(|r| r.split.as_str()).collect();
    splits.dedup();
    for split in splits {
        let Some(best) = results
            .iter()
            .filter(|r| r.split == split && r.is_model() && r.test_r2.is_finite())
            .max_by(|a, b| a.test_r2.total_cmp(&b.test_r2))
        else {
            continue;
        };
        let rows: Vec<&StoredPrediction> = predictions
            .iter()
            .filter(|p| p.is_of(split, best))
            .collect();
        let side = |set: &str| -> (Vec<f64>, Vec<f64>) {
            rows.iter()
                .filter(|p| &*p.set == set)
                .map(|p| (p.truth, p.prediction))
                .unzip()
        };
        let (train_truth, train_pred) = side("train");
        let (test_truth, test_pred) = side("test");
        let title = format!(
            "{} + {} ({split} split)",
            best.features,
            best.shown_decoder()
        );
        let scatter = format!("figures/predicted_vs_true_{split}.png");
        figure::predicted_vs_true(
            &run_dir.join(&scatter),
            &title,
            &[
                ScatterPanel {
                    label: "train",
                    truth: &train_truth,
                    predicted: &train_pred,
                    r2: best.train_r2.unwrap_or(f64::NAN),
                },
                ScatterPanel {
                    label: "test",
                    truth: &test_truth,
                    predicted: &test_pred,
                    r2: best.test_r2,
                },
            ],
        )?;
        written.push((scatter.clone(), run_dir.join(&scatter)));
        let residuals: Vec<f64> = test_pred
            .iter()
            .zip(&test_truth)
            .map(|(p, t)| p - t)
            .collect();
        let histogram = format!("figures/residuals_{split}.png");
        figure::residual_histogram(
            &run_dir.join(&histogram),
            &format!("test residuals: {title}"),
            &residuals,
        )?;
        written.push((histogram.clone(), run_dir.join(&histogram)));
        let labels: Vec<(usize, f64)> = {
            let mut all: Vec<(usize, f64)> = rows.iter().map(|p| (p.day, p.truth)).collect();
            all.sort_by_key(|(d, _)| *d);
            all
        };
        let test_days: Vec<usize> = rows
            .iter()
            .filter(|p| &*p.set == "test")
            .map(|p| p.day)
            .collect();
        let predicted: Vec<(usize, f64)> = rows.iter().map(|p| (p.day, p.prediction)).collect();
        let timeline = format!("figures/timeline_{split}.png");
        figure::labels_over_time(
            &run_dir.join(&timeline),
            period,
            &format!("labels and predictions: {title}"),
            &labels,
            &predicted,
            &test_days,
        )?;
        written.push((timeline.clone(), run_dir.join(&timeline)));
    }
    written.extend(render_intervals(
        run_dir,
        period,
        &results,
        &levels,
        &predictions,
    )?);
    if let Some(sheet) = EvaluationSheet::read(run_dir)? {
        let experiment = run_dir
            .parent()
            .and_then(Path::file_name)
            .map_or_else(|| "run".to_string(), |n| n.to_string_lossy().into_owned());
        let text = render_report(&experiment, &sheet, &results);
        let path = run_dir.join(REPORT_FILE);
        crate::io::write_atomic(&path, |w| w.write_all(text.as_bytes()))?;
        written.push((REPORT_FILE.to_string(), path));
    }
    written.extend(render_importances(run_dir)?);
    Ok(written)
}

/// For each split, `figures/intervals_<split>.png`: the feature set and decoder with quantiles
/// and the best test R², its band between the outermost levels over time. Nothing without at
/// least two levels.
fn render_intervals(
    run_dir: &Path,
    period: &Period,
    results: &[ResultRow],
    levels: &[f64],
    predictions: &[StoredPrediction],
) -> Result<Vec<(String, PathBuf)>> {
    let (Some(&lowest), Some(&highest)) = (levels.first(), levels.last()) else {
        return Ok(Vec::new());
    };
    if levels.len() < 2 {
        return Ok(Vec::new());
    }
    let distributions: HashSet<(&str, &str, &str)> = predictions
        .iter()
        .filter(|p| p.distribution.is_some())
        .map(|p| (&*p.split, &*p.features, &*p.decoder))
        .collect();
    let with_quantiles = |r: &ResultRow| {
        distributions.contains(&(r.split.as_str(), r.features.as_str(), r.decoder.as_str()))
    };
    let mut written = Vec::new();
    let mut splits: Vec<&str> = results.iter().map(|r| r.split.as_str()).collect();
    splits.dedup();
    for split in splits {
        let Some(best) = results
            .iter()
            .filter(|r| r.split == split && r.is_model() && r.test_r2.is_finite())
            .filter(|r| with_quantiles(r))
            .max_by(|a, b| a.test_r2.total_cmp(&b.test_r2))
        else {
            continue;
        };
        let mut points: Vec<IntervalPoint> = predictions
            .iter()
            .filter(|p| p.is_of(split, best))
            .filter_map(|p| {
                let (_, quantiles) = p.distribution.as_ref()?;
                Some(IntervalPoint {
                    day: p.day,
                    truth: p.truth,
                    prediction: p.prediction,
                    lower: *quantiles.first()?,
                    upper: *quantiles.last()?,
                })
            })
            .collect();
        points.sort_by_key(|p| p.day);
        let test_days: Vec<usize> = predictions
            .iter()
            .filter(|p| p.is_of(split, best) && &*p.set == "test")
            .map(|p| p.day)
            .collect();
        let name = format!("figures/intervals_{split}.png");
        figure::prediction_intervals(
            &run_dir.join(&name),
            period,
            &format!(
                "{} + {} ({split} split): {} to {} quantile band",
                best.features,
                best.shown_decoder(),
                lowest,
                highest
            ),
            &format!("q{lowest} to q{highest}"),
            &points,
            &test_days,
        )?;
        written.push((name.clone(), run_dir.join(&name)));
    }
    Ok(written)
}

/// A run's `results.csv`, verified against the checksum in its `run.json` when it has one.
pub fn read_results(run_dir: &Path) -> Result<Vec<ResultRow>> {
    read_csv(run_dir, "results.csv")
}

/// A prediction row as read back from `predictions.csv`.
#[derive(Debug, Clone, PartialEq)]
struct StoredPrediction {
    split: Rc<str>,
    features: Rc<str>,
    decoder: Rc<str>,
    set: Rc<str>,
    day: usize,
    truth: f64,
    prediction: f64,
    /// The median and the quantiles, where the row has them.
    distribution: Option<(f64, Vec<f64>)>,
}

impl StoredPrediction {
    /// Whether the row is a prediction of `result`'s feature set and decoder on `split`.
    fn is_of(&self, split: &str, result: &ResultRow) -> bool {
        *self.split == *split
            && *self.features == *result.features
            && *self.decoder == *result.decoder
    }
}

/// The fixed columns of `predictions.csv`, in order.
const PREDICTION_COLUMNS: [&str; 7] = [
    "split",
    "features",
    "decoder",
    "set",
    "day",
    "truth",
    "prediction",
];

/// Writes `predictions.csv` (see [`write_results`]); numbers in shortest round-trip form.
fn write_predictions(
    path: &Path,
    predictions: &[PredictionRow],
    levels: &QuantileLevels,
) -> Result<()> {
    if let Some(p) = predictions.iter().find(|p| {
        p.distribution
            .as_ref()
            .is_some_and(|(_, quantiles)| quantiles.len() != levels.len())
    }) {
        let given = p.distribution.as_ref().map_or(0, |(_, q)| q.len());
        return Err(Error::Numerical(format!(
            "{}: {given} quantiles for {} levels ({} / {} / {}, day {})",
            path.display(),
            levels.len(),
            p.split,
            p.features,
            p.decoder,
            p.day
        )));
    }
    let any_distribution = predictions.iter().any(|p| p.distribution.is_some());
    let mut header: Vec<String> = PREDICTION_COLUMNS.map(String::from).to_vec();
    if any_distribution {
        header.push("median".into());
        header.extend(
            levels
                .levels()
                .iter()
                .map(|&l| QuantileLevels::column_name(l)),
        );
    }
    // Streamed into the file field by field: a paper run has over a million rows (140 MB of
    // CSV), and one number buffer serves them all.
    crate::io::write_atomic(path, |w| {
        let mut writer = csv::Writer::from_writer(w);
        writer.write_record(&header)?;
        let mut number = String::new();
        let mut write_number = |writer: &mut csv::Writer<_>, value: &dyn std::fmt::Display| {
            use std::fmt::Write as _;
            number.clear();
            write!(number, "{value}").expect("formatting into a String cannot fail");
            writer.write_field(&number)
        };
        for p in predictions {
            writer.write_field(&p.split)?;
            writer.write_field(&p.features)?;
            writer.write_field(&p.decoder)?;
            writer.write_field(p.set)?;
            write_number(&mut writer, &p.day)?;
            write_number(&mut writer, &p.truth)?;
            write_number(&mut writer, &p.prediction)?;
            match &p.distribution {
                Some((median, quantiles)) => {
                    write_number(&mut writer, median)?;
                    for q in quantiles {
                        write_number(&mut writer, q)?;
                    }
                }
                None if any_distribution => {
                    for _ in 0..=levels.len() {
                        writer.write_field("")?;
                    }
                }
                None => {}
            }
            writer.write_record(None::<&[u8]>)?;
        }
        writer.flush()
    })
}

/// Reads a run's `predictions.csv` (through [`read_verified`]): its quantile levels (from the
/// `q<level>` columns) and its rows.
fn read_predictions(run_dir: &Path) -> Result<(Vec<f64>, Vec<StoredPrediction>)> {
    let bytes = read_verified(run_dir, "predictions.csv")?;
    parse_predictions(&run_dir.join("predictions.csv"), &bytes)
}

/// Parses the bytes of a `predictions.csv` read from `path` (named in errors).
fn parse_predictions(path: &Path, bytes: &[u8]) -> Result<(Vec<f64>, Vec<StoredPrediction>)> {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| Error::parse(path, 1, "header", e.to_string()))?
        .clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::parse(path, 1, name, "column missing from the header"))
    };
    let fixed: Vec<usize> = PREDICTION_COLUMNS
        .iter()
        .map(|name| column(name))
        .collect::<Result<_>>()?;
    let median = header.iter().position(|h| h == "median");
    let mut levels = Vec::new();
    let mut quantile_columns = Vec::new();
    for (j, name) in header.iter().enumerate() {
        if let Some(level) = name.strip_prefix('q') {
            let level: f64 = level.parse().map_err(|_| {
                Error::parse(
                    path,
                    1,
                    name,
                    "a quantile column is named q<level>, e.g. q0.05",
                )
            })?;
            levels.push(level);
            quantile_columns.push(j);
        }
    }
    let mut rows = Vec::new();
    // Rows come in runs of one split, feature set, decoder and set: each run's names are
    // stored once and shared.
    let mut names: [Rc<str>; 4] = Default::default();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let record = record.map_err(|e| Error::parse(path, line, "row", e.to_string()))?;
        let cell = |j: usize| record.get(j).unwrap_or_default();
        let number = |j: usize| -> Result<f64> {
            cell(j).parse().map_err(|_| {
                Error::parse(
                    path,
                    line,
                    &header[j],
                    format!("`{}` is not a number", cell(j)),
                )
            })
        };
        let distribution = match median {
            Some(m) if !cell(m).is_empty() => Some((
                number(m)?,
                quantile_columns
                    .iter()
                    .map(|&j| number(j))
                    .collect::<Result<Vec<f64>>>()?,
            )),
            _ => None,
        };
        let day = cell(fixed[4]).parse().map_err(|_| {
            Error::parse(
                path,
                line,
                "day",
                format!("`{}` is not a day index", cell(fixed[4])),
            )
        })?;
        for (name, &j) in names.iter_mut().zip(&fixed) {
            if **name != *cell(j) {
                *name = Rc::from(cell(j));
            }
        }
        let [split, features, decoder, set] = names.clone();
        rows.push(StoredPrediction {
            split,
            features,
            decoder,
            set,
            day,
            truth: number(fixed[5])?,
            prediction: number(fixed[6])?,
            distribution,
        });
    }
    Ok((levels, rows))
}

/// Writes `rows` as a CSV file with a header (atomically).
pub(crate) fn write_csv<T: Serialize>(path: &Path, rows: &[T]) -> Result<()> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.serialize(row).map_err(|e| {
            Error::Numerical(format!("{}: CSV encoding failed: {e}", path.display()))
        })?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Error::Numerical(format!("{}: CSV encoding failed: {e}", path.display())))?;
    crate::io::write_atomic(path, |w| w.write_all(&bytes))
}

/// The rows of the run file `name`, read through [`read_verified`].
pub(crate) fn read_csv<T: for<'de> Deserialize<'de>>(run_dir: &Path, name: &str) -> Result<Vec<T>> {
    let path = run_dir.join(name);
    let bytes = read_verified(run_dir, name)?;
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| row.map_err(|e| Error::parse(&path, i as u64 + 2, "row", e.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(split: &str, features: &str, decoder: &str, test_r2: f64) -> ResultRow {
        ResultRow {
            split: split.into(),
            split_description: split.into(),
            features: features.into(),
            decoder: decoder.into(),
            role: ROLE_MODEL.into(),
            n_train: 7,
            n_test: 3,
            train_r2: Some(0.9),
            train_mse: Some(0.1),
            test_r2,
            test_mse: 0.2,
            test_mae: 0.3,
            ..ResultRow::default()
        }
    }

    fn prediction(
        decoder: &str,
        day: usize,
        distribution: Option<(f64, Vec<f64>)>,
    ) -> PredictionRow {
        PredictionRow {
            split: "random".into(),
            features: "fusion".into(),
            decoder: decoder.into(),
            set: "test",
            day,
            truth: 0.1 + day as f64,
            prediction: 1.0 / 3.0,
            distribution,
        }
    }

    #[test]
    fn predictions_round_trip_with_quantile_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("predictions.csv");
        let levels = QuantileLevels::new(vec![0.05, 0.95]).unwrap();
        let rows = [
            prediction("ridge", 3, None),
            prediction("random_forest", 4, Some((0.25, vec![-1e-300, 2.5e10]))),
        ];
        write_predictions(&path, &rows, &levels).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("split,features,decoder,set,day,truth,prediction,median,q0.05,q0.95")
        );
        // Point-only rows leave the distribution cells empty; numbers round-trip in full.
        assert_eq!(
            lines.next(),
            Some("random,fusion,ridge,test,3,3.1,0.3333333333333333,,,")
        );
        let (read_levels, read) = parse_predictions(&path, &std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(read_levels, [0.05, 0.95]);
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].distribution, None);
        assert_eq!(read[1].distribution, Some((0.25, vec![-1e-300, 2.5e10])));
        assert_eq!((read[1].day, read[1].prediction), (4, 1.0 / 3.0));
        // A row whose quantiles do not match the levels is refused.
        let bad = [prediction("random_forest", 1, Some((0.0, vec![1.0])))];
        assert!(write_predictions(&path, &bad, &levels).is_err());
        // Without any distribution, no extra columns.
        write_predictions(&path, &rows[..1], &levels).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("split,features,decoder,set,day,truth,prediction\n"));
    }

    #[test]
    fn the_seed_spread_is_the_sample_standard_deviation() {
        let mut r = row("rolling", "fusion", "random_forest", 0.2);
        // Mean 0.2; deviations ±0.1, so sd = sqrt(0.02 / 1).
        r.set_seed_spread(&[0.1, 0.3]);
        assert_eq!(r.n_seeds, Some(2));
        assert!((r.test_r2_seed_mean.unwrap() - 0.2).abs() < 1e-15);
        assert!((r.test_r2_seed_sd.unwrap() - 0.02f64.sqrt()).abs() < 1e-15);
        r.set_seed_spread(&[0.4]);
        assert_eq!((r.n_seeds, r.test_r2_seed_sd), (Some(1), None));
    }

    #[test]
    fn skill_uses_the_reference_mse() {
        let mut r = row("random", "fusion", "ridge", 0.9);
        // MSE 0.2 against persistence 0.4 and climatology 0.8: skills 0.5 and 0.75.
        r.fill_skill(&[Some(0.4), Some(0.8)]);
        assert_eq!(r.skill_vs_persistence, Some(0.5));
        assert_eq!(r.skill_vs_climatology, Some(0.75));
    }
}
