//! The report a reviewer reads (`spec/evaluation-pitfalls.md` P1, P2, P3, P7, P9, P12).
//!
//! Every run writes two files besides its long `results.csv`:
//!
//! - `evaluation.json`, the run's model info sheet ([`EvaluationSheet`]): the timing (a true
//!   forecast, or the paper's nowcast), the label (kind, look-ahead flag, bandwidth, lag-1
//!   autocorrelation, integrated autocorrelation time, effective sample size), how the
//!   uncertainty was computed, and per split its embargo (with its derivation), horizon, the
//!   events the label was fitted on, and its rows;
//! - `report.md`, rendered from both by [`render_report`]: per split, one table of feature set ×
//!   decoder with R², MSE and MAE and their bootstrap intervals, the baselines and controls
//!   beside them, then a short summary in words ([`split_summary`]): which models beat the best
//!   baseline, by how much, with what significance, and whether the GNSS modality adds skill over
//!   the day-number control.
//!
//! Rows built from encoded GNSS features name their encoder (`fusion [vit(mean, random init)]`),
//! and skipped rows (an optional ViT without weights) are listed with their reason, in the
//! report and in the summary.
//!
//! `quakelab run` prints [`compact_summary`], not the long table.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::report::results::{ROLE_SKIPPED, ResultRow, interval};
use crate::report::table::{Cell, Table, number, optional_number};
use crate::track::read_verified;
use crate::{Error, Result};

/// The significance level the summary uses for "beats" (two-sided Diebold–Mariano p-value).
pub const SIGNIFICANCE: f64 = 0.05;

/// The name of the model info sheet in a run directory.
pub const SHEET_FILE: &str = "evaluation.json";

/// The name of the reviewer's report in a run directory.
pub const REPORT_FILE: &str = "report.md";

/// A run's model info sheet, written as `evaluation.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationSheet {
    /// `forecast` (every feature known at the forecast time) or `nowcast` (the paper's setting).
    pub timing: String,
    /// The label and its serial dependence.
    pub label: LabelSheet,
    /// How intervals and comparisons were computed.
    pub uncertainty: UncertaintySheet,
    /// The seeds every stochastic decoder was fitted with.
    pub seeds: usize,
    /// One entry per split, in the order evaluated.
    pub splits: Vec<SplitSheet>,
    /// Whether the GNSS modality adds skill over the day-number control, per split and
    /// scenario (planted precursor, and the null scenario where it was run).
    pub gnss_checks: Vec<GnssCheck>,
    /// Assumptions recorded instead of proofs (nowcast, look-ahead label, short embargo).
    pub flags: Vec<String>,
    /// Table days dropped, by reason.
    pub dropped_days: BTreeMap<String, usize>,
    /// The image encoder of the GNSS rows: its weights, the ViT's pixel scale, or why its rows
    /// were skipped (absent for runs without a ViT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<EncoderSheet>,
}

/// What encoded the GNSS images of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderSheet {
    /// What every GNSS row says it was built from, e.g. `vit(mean, random init)`.
    pub encoder: String,
    /// The weights' fingerprint: `sha256:<hex>` of the weights file, or `random:<seed>:<hash
    /// of the architecture>`.
    pub weights: String,
    /// Whether the weights are a random initialisation (an ablation, not the pretrained model).
    pub random_init: bool,
    /// Where the model ran.
    pub device: String,
    /// The pixel scale in mm: this |displacement| maps to ±1.
    pub scale_mm: Option<f64>,
    /// The percentile of |displacement| the scale is.
    pub scale_percentile: Option<f64>,
    /// The days the scale was fitted on: those that are training days in every split.
    pub scale_fit_days: Option<usize>,
    /// Whether the embeddings came from the stage cache.
    pub from_cache: Option<bool>,
    /// Why the rows that need the encoder were skipped, when they were.
    pub skipped: Option<String>,
}

impl EncoderSheet {
    /// The line the summary and the report show.
    pub fn line(&self) -> String {
        if let Some(reason) = &self.skipped {
            return format!("encoder: {} SKIPPED: {reason}", self.encoder);
        }
        let mut line = format!("encoder: {} on {}", self.encoder, self.device);
        if let (Some(mm), Some(p), Some(days)) =
            (self.scale_mm, self.scale_percentile, self.scale_fit_days)
        {
            line.push_str(&format!(
                ", pixel scale {mm:.4} mm (the {p}th percentile of |displacement| over the {days} \
                 training days common to every split)"
            ));
        }
        if self.random_init {
            line.push_str("; RANDOM INIT weights: an ablation, not the pretrained model");
        }
        line
    }
}

/// The label of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelSheet {
    /// `kde_centred`, `kde_causal` or `counts_ahead`.
    pub kind: String,
    /// Whether a label value depends on events after its own day (the centred KDE).
    pub look_ahead: bool,
    /// The kernel bandwidth of a fit on every event of the period, in days (each split lists
    /// the bandwidth of its own fit); none for counts.
    pub bandwidth_days: Option<f64>,
    /// Lag-1 autocorrelation of the daily label series.
    pub lag1_autocorrelation: f64,
    /// Integrated autocorrelation time in days (Sokal's automatic window).
    pub integrated_autocorrelation_time: f64,
    /// Effective sample size, days / integrated autocorrelation time.
    pub n_eff: f64,
    /// Days of the label series.
    pub n_days: usize,
    /// Days a label value depends on, relative to its own day: `[first, last]`.
    pub support_days: (i64, i64),
    /// The boundary correction of KDE labels.
    pub boundary: String,
    /// The label scaling (fitted on each split's training rows).
    pub scale: String,
    /// The magnitude cut of the labelled events.
    pub mc: f64,
}

/// How the uncertainty of every test metric was computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UncertaintySheet {
    /// Moving-block bootstrap resamples.
    pub bootstrap_resamples: usize,
    /// The block length in rows: `⌈5·τ⌉` with τ the label's integrated autocorrelation time
    /// ([`crate::eval::block_length`]).
    pub block_length: usize,
    /// The confidence level of the intervals.
    pub confidence_level: f64,
    /// The HAC lag of the Diebold–Mariano tests.
    pub dm_lag: usize,
}

/// One split of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitSheet {
    /// `random`, `chronological`, `blocked` or `rolling`.
    pub kind: String,
    /// The split with its settings.
    pub description: String,
    /// The embargo in days.
    pub embargo_days: usize,
    /// How the embargo was derived (feature window + label reach + horizon).
    pub embargo_derivation: String,
    /// Whether a configured embargo shorter than the derived one was allowed.
    pub short_embargo: bool,
    /// Days from the forecast day to the label day.
    pub horizon_days: usize,
    /// The bandwidth of this split's label fit, in days; none for counts.
    pub bandwidth_days: Option<f64>,
    /// The events the label was fitted on.
    pub label_fit_events: usize,
    /// Which events those are.
    pub label_fitted_on: String,
    /// Training rows.
    pub n_train: usize,
    /// Test rows.
    pub n_test: usize,
    /// Rows purged by the embargo.
    pub n_purged: usize,
    /// First and last training day.
    pub train_days: (String, String),
    /// First and last test day.
    pub test_days: (String, String),
    /// Why the split has no bootstrap intervals, when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_note: Option<String>,
}

/// Whether GNSS features alone beat the day-number control on the same test rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GnssCheck {
    /// The split's description.
    pub split: String,
    /// The experiment's GNSS (`planted`: a synthetic network with a precursor; `synthetic`:
    /// one without; `observed`: real stations), or `null` (the scenario without its precursor).
    pub scenario: String,
    /// The best GNSS-only row, `features + decoder`.
    pub gnss: String,
    /// Its test MSE.
    pub gnss_mse: f64,
    /// The best day-number control row.
    pub control: String,
    /// Its test MSE.
    pub control_mse: f64,
    /// Diebold–Mariano p-value of the squared-error differential.
    pub dm_p_value: f64,
    /// Lower MSE and `dm_p_value < SIGNIFICANCE`.
    pub adds_skill: bool,
}

impl EvaluationSheet {
    /// Writes the sheet as pretty JSON (atomically).
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|e| {
            Error::Numerical(format!("{}: cannot encode the sheet: {e}", path.display()))
        })?;
        crate::io::write_atomic(path, |w| w.write_all(text.as_bytes()))
    }

    /// A run's sheet (verified against its `run.json`), or `None` for runs made before sheets
    /// existed.
    pub fn read(run_dir: &Path) -> Result<Option<EvaluationSheet>> {
        let path = run_dir.join(SHEET_FILE);
        if !path.is_file() {
            return Ok(None);
        }
        let bytes = read_verified(run_dir, SHEET_FILE)?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::parse(&path, e.line() as u64, "json", e.to_string()))
    }
}

/// The lines `quakelab run` prints: the timing and label, then per split its setup and summary.
pub fn compact_summary(sheet: &EvaluationSheet, results: &[ResultRow]) -> Vec<String> {
    let mut lines = vec![header_line(sheet), label_line(sheet)];
    lines.extend(sheet.encoder.as_ref().map(EncoderSheet::line));
    lines.extend(sheet.flags.iter().map(|f| format!("flag: {f}")));
    for split in &sheet.splits {
        lines.push(format!("{}: {}", split.description, split_setup(split)));
        lines.extend(
            split_summary(split, sheet, results)
                .into_iter()
                .map(|s| format!("  {s}")),
        );
    }
    lines
}

fn header_line(sheet: &EvaluationSheet) -> String {
    match sheet.timing.as_str() {
        "nowcast" => "timing: NOWCAST (the paper's setting: features may be known only after the \
                      forecast time; scores are not a forecast)"
            .to_string(),
        _ => "timing: forecast (every feature is known at the end of its forecast day)".to_string(),
    }
}

fn label_line(sheet: &EvaluationSheet) -> String {
    let l = &sheet.label;
    let bandwidth = l.bandwidth_days.map_or_else(String::new, |h| {
        format!(", bandwidth {h:.1} d (whole period)")
    });
    format!(
        "label: {} (look-ahead: {}){bandwidth}, lag-1 autocorrelation {:.4}, integrated \
         autocorrelation time {:.1} d, N_eff {:.1} of {} days",
        l.kind,
        if l.look_ahead { "YES" } else { "no" },
        l.lag1_autocorrelation,
        l.integrated_autocorrelation_time,
        l.n_eff,
        l.n_days
    )
}

fn split_setup(split: &SplitSheet) -> String {
    let bandwidth = split
        .bandwidth_days
        .map_or_else(String::new, |h| format!(", bandwidth {h:.1} d"));
    format!(
        "embargo {}{}, horizon {} d; label fitted on {} ({} events{bandwidth}); train {} rows \
         {}..{}, test {} rows {}..{}, {} purged",
        split.embargo_derivation,
        if split.short_embargo {
            " (SHORTER than derived, allowed by split.allow_short_embargo)"
        } else {
            ""
        },
        split.horizon_days,
        split.label_fitted_on,
        split.label_fit_events,
        split.n_train,
        split.train_days.0,
        split.train_days.1,
        split.n_test,
        split.test_days.0,
        split.test_days.1,
        split.n_purged
    )
}

/// The summary in words of one split: the best baseline, which models beat it (lower MSE with
/// a Diebold–Mariano p-value below [`SIGNIFICANCE`]), by how much, and the GNSS checks.
pub fn split_summary(
    split: &SplitSheet,
    sheet: &EvaluationSheet,
    results: &[ResultRow],
) -> Vec<String> {
    let rows: Vec<&ResultRow> = results
        .iter()
        .filter(|r| r.split_description == split.description)
        .collect();
    let mut lines = Vec::new();
    let baseline = rows
        .iter()
        .filter(|r| r.is_baseline() && r.test_mse.is_finite())
        .min_by(|a, b| a.test_mse.total_cmp(&b.test_mse));
    match baseline {
        Some(b) => lines.push(format!(
            "best baseline: {} (test MSE {}, R² {})",
            b.shown_decoder(),
            show(b.test_mse),
            show(b.test_r2)
        )),
        None => lines.push("no baseline was run, so no model can be judged".to_string()),
    }
    let models: Vec<&&ResultRow> = rows.iter().filter(|r| r.is_model()).collect();
    let beating: Vec<&&&ResultRow> = models
        .iter()
        .filter(|r| beats_baseline(r).unwrap_or(false))
        .collect();
    let lower_only = models
        .iter()
        .filter(|r| r.skill_vs_best_baseline.is_some_and(|s| s > 0.0))
        .count()
        - beating.len();
    if models.is_empty() {
        lines.push("no model was fitted on a modality".to_string());
    } else if beating.is_empty() {
        lines.push(format!(
            "no model beats the best baseline significantly at p < {SIGNIFICANCE} ({} of {} have \
             a lower test MSE)",
            lower_only,
            models.len()
        ));
    } else {
        let mut best: Vec<&&&ResultRow> = beating.clone();
        best.sort_by(|a, b| a.test_mse.total_cmp(&b.test_mse));
        let named: Vec<String> = best
            .iter()
            .take(3)
            .map(|r| {
                format!(
                    "{} ({}% lower MSE, DM p = {})",
                    r.name(),
                    show(100.0 * r.skill_vs_best_baseline.unwrap_or(f64::NAN)),
                    show(r.dm_p_value.unwrap_or(f64::NAN))
                )
            })
            .collect();
        lines.push(format!(
            "{} of {} models beat the best baseline at p < {SIGNIFICANCE}: {}",
            beating.len(),
            models.len(),
            named.join("; ")
        ));
    }
    if let Some(oracle) = rows
        .iter()
        .find(|r| r.decoder == "oracle_persistence" && r.test_r2.is_finite())
    {
        lines.push(format!(
            "oracle persistence (today's label, not known at the forecast time) scores R² {}: a \
             measure of the label's smoothness, not a competitor",
            show(oracle.test_r2)
        ));
    }
    let mut reasons: Vec<&str> = Vec::new();
    for row in rows.iter().filter(|r| r.is_skipped()) {
        if !reasons.contains(&row.status.as_str()) {
            reasons.push(&row.status);
        }
    }
    for reason in reasons {
        let skipped: Vec<&&ResultRow> = rows.iter().filter(|r| r.status == reason).collect();
        let (mut sets, mut decoders): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
        for row in &skipped {
            if !sets.contains(&row.features.as_str()) {
                sets.push(&row.features);
            }
            if !decoders.contains(&row.shown_decoder()) {
                decoders.push(row.shown_decoder());
            }
        }
        lines.push(format!(
            "{} rows SKIPPED (features {}; decoders {}): {}",
            skipped.len(),
            sets.join(", "),
            decoders.join(", "),
            reason.trim_start_matches("skipped: ")
        ));
    }
    for check in sheet
        .gnss_checks
        .iter()
        .filter(|c| c.split == split.description)
    {
        lines.push(format!(
            "{} GNSS: {} the day-number control ({} MSE {} vs {} MSE {}, DM p = {})",
            check.scenario,
            if check.adds_skill {
                "adds skill over"
            } else {
                "adds no significant skill over"
            },
            check.gnss,
            show(check.gnss_mse),
            check.control,
            show(check.control_mse),
            show(check.dm_p_value)
        ));
    }
    lines
}

/// Whether a row beats its best baseline: lower MSE and a significant DM test; `None` without
/// a comparison.
pub fn beats_baseline(row: &ResultRow) -> Option<bool> {
    let skill = row.skill_vs_best_baseline?;
    let p = row.dm_p_value?;
    Some(skill > 0.0 && p < SIGNIFICANCE)
}

fn show(value: f64) -> String {
    number(value, 3)
        .to_display()
        .map_or_else(|| "—".to_string(), |c| c.into_owned())
}

/// One split's table in the paper's layout: the baselines (once: they do not depend on the
/// features), then each feature set × model decoder, then the controls, with R², MSE and MAE
/// and their intervals, the skill against the best baseline and its DM p-value.
pub fn split_table(rows: &[&ResultRow]) -> Table {
    let mut table = Table::new([
        "features",
        "decoder",
        "role",
        "R²",
        "R² CI",
        "MSE",
        "MSE CI",
        "MAE",
        "MAE CI",
        "skill vs best baseline",
        "DM p",
        "R² sd over seeds",
    ]);
    let line = |r: &ResultRow, features: Cell| -> Vec<Cell> {
        vec![
            features,
            r.shown_decoder().to_string().into(),
            r.role.clone().into(),
            number(r.test_r2, 4),
            interval(r.test_r2_ci_low, r.test_r2_ci_high),
            number(r.test_mse, 4),
            interval(r.test_mse_ci_low, r.test_mse_ci_high),
            number(r.test_mae, 4),
            interval(r.test_mae_ci_low, r.test_mae_ci_high),
            optional_number(r.skill_vs_best_baseline, 3),
            optional_number(r.dm_p_value, 3),
            optional_number(r.test_r2_seed_sd, 3),
        ]
    };
    let first_features = rows.first().map(|r| r.features.clone());
    let mut shown_references: Vec<&str> = Vec::new();
    let features = |r: &ResultRow| -> Cell {
        if r.encoder.is_empty() {
            r.features.clone().into()
        } else {
            format!("{} [{}]", r.features, r.encoder).into()
        }
    };
    for r in rows
        .iter()
        .filter(|r| !r.is_model() && r.role != "control" && r.role != ROLE_SKIPPED)
    {
        // Baselines and diagnostics see no features: the first feature set's row stands for all.
        let stands_for_all =
            Some(&r.features) == first_features.as_ref() || r.features == "label_only";
        if stands_for_all && !shown_references.contains(&r.decoder.as_str()) {
            shown_references.push(&r.decoder);
            table.push(line(r, "—".into()));
        }
    }
    for r in rows.iter().filter(|r| r.is_model()) {
        table.push(line(r, features(r)));
    }
    for r in rows.iter().filter(|r| r.role == "control") {
        table.push(line(r, features(r)));
    }
    for r in rows.iter().filter(|r| r.role == ROLE_SKIPPED) {
        table.push(line(r, features(r)));
    }
    table
}

/// `report.md`: the sheet's header, then per split its setup, its table and its summary.
pub fn render_report(experiment: &str, sheet: &EvaluationSheet, results: &[ResultRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {experiment}: evaluation report\n");
    let _ = writeln!(out, "- {}", header_line(sheet));
    let _ = writeln!(out, "- {}", label_line(sheet));
    let u = &sheet.uncertainty;
    let _ = writeln!(
        out,
        "- uncertainty: moving-block bootstrap, {} resamples, blocks of {} rows (5 × the label's \
         integrated autocorrelation time), {}% percentile intervals; Diebold–Mariano tests on \
         squared errors with a HAC variance (Bartlett, lag {}) against the best baseline of the \
         same test rows; stochastic decoders fitted with {} seeds",
        u.bootstrap_resamples,
        u.block_length,
        100.0 * u.confidence_level,
        u.dm_lag,
        sheet.seeds
    );
    if let Some(encoder) = &sheet.encoder {
        let _ = writeln!(out, "- {}", encoder.line());
    }
    for flag in &sheet.flags {
        let _ = writeln!(out, "- flag: {flag}");
    }
    if !sheet.dropped_days.is_empty() {
        let dropped: Vec<String> = sheet
            .dropped_days
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(out, "- days dropped from the table: {}", dropped.join(", "));
    }
    for split in &sheet.splits {
        let _ = writeln!(out, "\n## {}\n", split.description);
        let _ = writeln!(out, "{}\n", split_setup(split));
        if let Some(note) = &split.interval_note {
            let _ = writeln!(out, "{note}.\n");
        }
        let rows: Vec<&ResultRow> = results
            .iter()
            .filter(|r| r.split_description == split.description)
            .collect();
        out.push_str(&split_table(&rows).to_markdown());
        out.push('\n');
        for line in split_summary(split, sheet, results) {
            let _ = writeln!(out, "- {line}");
        }
    }
    let _ = writeln!(
        out,
        "\nThe full table, with every feature set and baseline, is `tables/results.csv`."
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::results::{ROLE_BASELINE, ROLE_CONTROL, ROLE_MODEL};

    fn row(features: &str, decoder: &str, role: &str, mse: f64) -> ResultRow {
        let mut r: ResultRow = serde_json::from_value(serde_json::json!({
            "split": "chronological",
            "split_description": "chronological(train=0.7, embargo=10d)",
            "features": features,
            "decoder": decoder,
            "role": role,
            "n_train": 10,
            "n_test": 5,
            "train_r2": null,
            "train_mse": null,
            "test_r2": 1.0 - mse,
            "test_mse": mse,
            "test_mae": mse,
            "skill_vs_persistence": null,
            "skill_vs_climatology": null,
        }))
        .unwrap();
        r.role = role.to_string();
        r
    }

    fn sheet() -> EvaluationSheet {
        EvaluationSheet {
            timing: "forecast".into(),
            label: LabelSheet {
                kind: "kde_causal".into(),
                look_ahead: false,
                bandwidth_days: Some(30.0),
                lag1_autocorrelation: 0.9,
                integrated_autocorrelation_time: 19.0,
                n_eff: 10.0,
                n_days: 190,
                support_days: (-90, 0),
                boundary: "renormalise".into(),
                scale: "none".into(),
                mc: 3.0,
            },
            uncertainty: UncertaintySheet {
                bootstrap_resamples: 1000,
                block_length: 19,
                confidence_level: 0.95,
                dm_lag: 18,
            },
            seeds: 5,
            splits: vec![SplitSheet {
                kind: "chronological".into(),
                description: "chronological(train=0.7, embargo=10d)".into(),
                embargo_days: 10,
                embargo_derivation: "10 d".into(),
                short_embargo: false,
                horizon_days: 1,
                bandwidth_days: Some(30.0),
                label_fit_events: 100,
                label_fitted_on: "the events before 2010-01-01".into(),
                n_train: 10,
                n_test: 5,
                n_purged: 2,
                train_days: ("2009-01-01".into(), "2009-01-10".into()),
                test_days: ("2009-01-13".into(), "2009-01-17".into()),
                interval_note: None,
            }],
            gnss_checks: Vec::new(),
            flags: Vec::new(),
            dropped_days: BTreeMap::new(),
            encoder: None,
        }
    }

    #[test]
    fn the_summary_names_the_models_that_beat_the_best_baseline_significantly() {
        let sheet = sheet();
        let mut baseline = row("fusion", "moving_average", ROLE_BASELINE, 2.0);
        baseline.best_baseline = Some("moving_average".into());
        let worse = row("fusion", "climatology", ROLE_BASELINE, 4.0);
        let mut strong = row("fusion", "ridge", ROLE_MODEL, 1.0);
        // MSE 1 against 2: skill 1 − 1/2 = 0.5, significant.
        strong.skill_vs_best_baseline = Some(0.5);
        strong.dm_p_value = Some(0.01);
        let mut weak = row("gnss", "ridge", ROLE_MODEL, 1.5);
        // Lower MSE, but p = 0.2: not a win.
        weak.skill_vs_best_baseline = Some(0.25);
        weak.dm_p_value = Some(0.2);
        let control = row("control_day_number", "ridge", ROLE_CONTROL, 0.5);
        let results = vec![baseline, worse, strong, weak, control];
        let lines = split_summary(&sheet.splits[0], &sheet, &results);
        assert_eq!(
            lines[0],
            "best baseline: moving_average (test MSE 2.00, R² -1.00)"
        );
        assert!(
            lines[1].starts_with(
                "1 of 2 models beat the best baseline at p < 0.05: fusion + ridge (50.0% lower MSE"
            ),
            "{}",
            lines[1]
        );
        let report = render_report("paper", &sheet, &results);
        // The baselines once, both models, the control.
        assert_eq!(report.matches("| moving_average").count(), 1);
        assert!(report.contains("| control_day_number"));
        assert!(report.contains("look-ahead: no"));
    }

    #[test]
    fn without_a_significant_win_the_summary_says_so() {
        let sheet = sheet();
        let mut weak = row("gnss", "ridge", ROLE_MODEL, 1.5);
        weak.skill_vs_best_baseline = Some(0.25);
        weak.dm_p_value = Some(0.2);
        let results = vec![row("gnss", "persistence", ROLE_BASELINE, 2.0), weak];
        let lines = split_summary(&sheet.splits[0], &sheet, &results);
        assert_eq!(
            lines[1],
            "no model beats the best baseline significantly at p < 0.05 (1 of 1 have a lower \
             test MSE)"
        );
    }
}
