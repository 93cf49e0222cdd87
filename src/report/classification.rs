//! The second method's outputs (papers.md §B): the classification rows, the test-day
//! predictions and the training curves as CSV in the run directory, and what is rendered from
//! them alone (so `quakelab report` redraws a run without retraining): the comparison table,
//! the paper's Table 4 (classes), Table 5 (confusion matrix) and Table 6 (per-class precision
//! and recall), confusion-matrix heatmaps, training curves and `report.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::classify::EpochRecord;
use crate::eval::classification::{ClassificationIntervals, ConfusionMatrix};
use crate::experiment::config::AugmentOrder;
use crate::geomag::labels::{self, ClassRow, DayClasses, QuakeClass};
use crate::report::figure;
use crate::report::review::REPORT_FILE;
use crate::report::table::{Cell, Table, number, optional_number};
use crate::track::Metric;
use crate::{Error, Result};

/// The rows of every (scenario, split, order, model): `classification.csv`.
pub const ROWS_FILE: &str = "classification.csv";
/// The test-day predictions: `class_predictions.csv`.
pub const PREDICTIONS_FILE: &str = "class_predictions.csv";
/// The training curves: `curves.csv`.
pub const CURVES_FILE: &str = "curves.csv";
/// The class table (Table 4): `classes.csv`.
pub const CLASSES_FILE: &str = "classes.csv";

/// What produced a row's predictions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// VGG-12.
    Vgg12,
    /// The training days' most frequent class, every day.
    Majority,
    /// Draws from the training days' class frequencies.
    ClassPrior,
}

impl Model {
    /// The name in tables (`vgg12`, `majority`, `class_prior`).
    pub fn name(self) -> &'static str {
        match self {
            Model::Vgg12 => "vgg12",
            Model::Majority => "majority",
            Model::ClassPrior => "class_prior",
        }
    }
}

/// One (scenario, split, order, model) on its test days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationRow {
    /// `planted` or `null` (the same network without anomalies).
    pub scenario: String,
    /// `chronological`, `random`, ...
    pub split: String,
    /// `split_then_augment` or `augment_then_split`.
    pub order: String,
    /// What predicted.
    pub model: Model,
    /// Training images (augmented copies included).
    pub n_train: usize,
    /// Validation days (early stopping).
    pub n_validation: usize,
    /// Test images.
    pub n_test: usize,
    /// Accuracy.
    pub accuracy: f64,
    /// Its bootstrap interval.
    pub accuracy_low: f64,
    /// Its bootstrap interval.
    pub accuracy_high: f64,
    /// Macro-F1.
    pub macro_f1: f64,
    /// Its bootstrap interval.
    pub macro_f1_low: f64,
    /// Its bootstrap interval.
    pub macro_f1_high: f64,
    /// Balanced accuracy (the mean recall over the classes present).
    pub balanced_accuracy: f64,
    /// Its bootstrap interval.
    pub balanced_accuracy_low: f64,
    /// Its bootstrap interval.
    pub balanced_accuracy_high: f64,
    /// The epoch whose weights were kept (VGG-12 only).
    pub best_epoch: Option<usize>,
}

impl ClassificationRow {
    /// A row from a confusion matrix and its intervals.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        scenario: &str,
        split: &str,
        order: AugmentOrder,
        model: Model,
        n_train: usize,
        n_validation: usize,
        confusion: &ConfusionMatrix,
        intervals: &ClassificationIntervals,
        best_epoch: Option<usize>,
    ) -> Self {
        ClassificationRow {
            scenario: scenario.to_string(),
            split: split.to_string(),
            order: order.name().to_string(),
            model,
            n_train,
            n_validation,
            n_test: confusion.total(),
            accuracy: confusion.accuracy(),
            accuracy_low: intervals.accuracy.low,
            accuracy_high: intervals.accuracy.high,
            macro_f1: confusion.macro_f1(),
            macro_f1_low: intervals.macro_f1.low,
            macro_f1_high: intervals.macro_f1.high,
            balanced_accuracy: confusion.balanced_accuracy(),
            balanced_accuracy_low: intervals.balanced_accuracy.low,
            balanced_accuracy_high: intervals.balanced_accuracy.high,
            best_epoch,
        }
    }

    /// The row's tag, `scenario/split/order`.
    pub fn tag(&self) -> String {
        format!("{}/{}/{}", self.scenario, self.split, self.order)
    }

    /// The row's metrics, keyed `METRIC/scenario/split/order/model`.
    pub fn metrics(&self) -> Vec<Metric> {
        let key = |m: &str| format!("{m}/{}/{}", self.tag(), self.model.name());
        vec![
            Metric::new(key("accuracy"), self.accuracy, 0),
            Metric::new(key("macro_f1"), self.macro_f1, 0),
            Metric::new(key("balanced_accuracy"), self.balanced_accuracy, 0),
        ]
    }
}

/// One test image's prediction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassPrediction {
    /// `planted` or `null`.
    pub scenario: String,
    /// The split.
    pub split: String,
    /// The augmentation order.
    pub order: String,
    /// What predicted (`vgg12`, `majority`, `class_prior`).
    pub model: String,
    /// The map's day, `YYYY-MM-DD`.
    pub day: String,
    /// The day's class.
    pub truth: usize,
    /// The predicted class.
    pub predicted: usize,
}

/// One epoch of one training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRow {
    /// `planted` or `null`.
    pub scenario: String,
    /// The split.
    pub split: String,
    /// The augmentation order.
    pub order: String,
    /// The epoch, from 1.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy.
    pub train_accuracy: f64,
    /// Validation loss.
    pub validation_loss: Option<f64>,
    /// Validation accuracy.
    pub validation_accuracy: Option<f64>,
}

impl EpochRow {
    /// The row of one epoch record.
    pub fn new(scenario: &str, split: &str, order: AugmentOrder, epoch: &EpochRecord) -> Self {
        EpochRow {
            scenario: scenario.to_string(),
            split: split.to_string(),
            order: order.name().to_string(),
            epoch: epoch.epoch,
            train_loss: epoch.train_loss,
            train_accuracy: epoch.train_accuracy,
            validation_loss: epoch.validation_loss,
            validation_accuracy: epoch.validation_accuracy,
        }
    }

    /// The epoch's metrics, keyed `METRIC/scenario/split/order`, at step `epoch`.
    pub fn metrics(&self) -> Vec<Metric> {
        let tag = format!("{}/{}/{}", self.scenario, self.split, self.order);
        let step = self.epoch as i64;
        let mut out = vec![
            Metric::new(format!("train_loss/{tag}"), self.train_loss, step),
            Metric::new(format!("train_accuracy/{tag}"), self.train_accuracy, step),
        ];
        out.extend(
            self.validation_loss
                .map(|v| Metric::new(format!("validation_loss/{tag}"), v, step)),
        );
        out.extend(
            self.validation_accuracy
                .map(|v| Metric::new(format!("validation_accuracy/{tag}"), v, step)),
        );
        out
    }
}

/// One row of the class table (the paper's Table 4), as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredClassRow {
    /// The class index, 0–4.
    pub class: usize,
    /// `none`, `north` or `south`.
    pub direction: String,
    /// `none`, `> 4` or `<= 4` (with the configured threshold).
    pub magnitude: String,
    /// Events of the class (none for class 0).
    pub events: Option<usize>,
    /// Map days of the class.
    pub maps: usize,
}

/// The stored form of the class table, magnitudes against `threshold`.
pub fn class_table_rows(rows: &[ClassRow], threshold: f64) -> Vec<StoredClassRow> {
    rows.iter()
        .map(|r| StoredClassRow {
            class: r.class.index(),
            direction: r.direction.map_or("none", |d| d.name()).to_string(),
            magnitude: match r.above_threshold {
                Some(true) => format!("> {threshold}"),
                Some(false) => format!("<= {threshold}"),
                None => "none".to_string(),
            },
            events: r.events,
            maps: r.maps,
        })
        .collect()
}

/// Table 4 of `classes`, magnitudes against `threshold`, as a table.
pub fn class_table(classes: &DayClasses, threshold: f64) -> Table {
    stored_class_table(&class_table_rows(&labels::class_table(classes), threshold))
}

/// The labelled events (the paper's Table 3): time, magnitude, position, distance from the
/// centre, direction and class.
pub fn events_table(classes: &DayClasses) -> Table {
    let mut table = Table::new([
        "time",
        "magnitude",
        "latitude",
        "longitude",
        "distance_km",
        "direction",
        "class",
    ]);
    for e in &classes.events {
        table.push(vec![
            Cell::Text(e.event.time.to_string()),
            number(e.event.magnitude, 3),
            number(e.event.latitude, 6),
            number(e.event.longitude, 6),
            number(e.distance_km, 4),
            Cell::Text(e.direction.name().to_string()),
            count(e.class.index()),
        ]);
    }
    table
}

/// Writes the rows, predictions, curves and class table as CSV into `run_dir`.
pub fn write_classification(
    run_dir: &Path,
    rows: &[ClassificationRow],
    predictions: &[ClassPrediction],
    curves: &[EpochRow],
    classes: &[StoredClassRow],
) -> Result<Vec<(String, PathBuf)>> {
    Ok(vec![
        write_records(run_dir, ROWS_FILE, rows)?,
        write_records(run_dir, PREDICTIONS_FILE, predictions)?,
        write_records(run_dir, CURVES_FILE, curves)?,
        write_records(run_dir, CLASSES_FILE, classes)?,
    ])
}

fn write_records<T: Serialize>(
    run_dir: &Path,
    name: &str,
    records: &[T],
) -> Result<(String, PathBuf)> {
    let path = run_dir.join(name);
    let mut writer = csv::Writer::from_writer(Vec::new());
    for record in records {
        writer
            .serialize(record)
            .map_err(|e| Error::Numerical(format!("writing {name}: {e}")))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Error::Numerical(format!("writing {name}: {e}")))?;
    crate::io::write_atomic(&path, |w| w.write_all(&bytes))?;
    Ok((name.to_string(), path))
}

fn read_records<T: for<'de> Deserialize<'de>>(run_dir: &Path, name: &str) -> Result<Vec<T>> {
    let path = run_dir.join(name);
    let mut reader = csv::Reader::from_path(&path).map_err(|e| match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(&path, io),
        other => Error::parse(&path, 0, "csv", format!("{other:?}")),
    })?;
    reader
        .deserialize()
        .enumerate()
        .map(|(i, record)| {
            record.map_err(|e| Error::parse(&path, i as u64 + 2, "record", e.to_string()))
        })
        .collect()
}

/// The stored rows of a classification run.
pub fn read_classification_rows(run_dir: &Path) -> Result<Vec<ClassificationRow>> {
    read_records(run_dir, ROWS_FILE)
}

/// Whether `run_dir` holds a classification run (its rows file).
pub fn is_classification_run(run_dir: &Path) -> bool {
    run_dir.join(ROWS_FILE).is_file()
}

/// Renders the tables, figures and `report.md` of a classification run from its CSV files.
pub fn render_classification(run_dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let rows = read_classification_rows(run_dir)?;
    let predictions: Vec<ClassPrediction> = read_records(run_dir, PREDICTIONS_FILE)?;
    let curves: Vec<EpochRow> = read_records(run_dir, CURVES_FILE)?;
    let classes: Vec<StoredClassRow> = read_records(run_dir, CLASSES_FILE)?;
    let mut written = Vec::new();
    let write = |written: &mut Vec<(String, PathBuf)>, name: String, text: &str| -> Result<()> {
        let path = run_dir.join(&name);
        crate::io::write_atomic(&path, |w| w.write_all(text.as_bytes()))?;
        written.push((name, path));
        Ok(())
    };
    let comparison = comparison_table(&rows);
    write(
        &mut written,
        "tables/classification.md".into(),
        &comparison.to_markdown(),
    )?;
    write(
        &mut written,
        "tables/classification.tex".into(),
        &comparison.to_latex(),
    )?;
    write(
        &mut written,
        "tables/classification.csv".into(),
        &comparison.to_csv()?,
    )?;
    let class_table = stored_class_table(&classes);
    write(
        &mut written,
        "tables/classes.md".into(),
        &class_table.to_markdown(),
    )?;

    let mut report = String::from("# VGG-12 on geomagnetic-anomaly maps (papers.md §B)\n\n");
    for line in summary(&rows) {
        let _ = writeln!(report, "- {line}");
    }
    let _ = write!(
        report,
        "\n## Classes (Table 4)\n\n{}\n## Test metrics\n\nIntervals: moving-block bootstrap \
         over the test days (95 %).\n\n{}",
        class_table.to_markdown(),
        comparison.to_markdown()
    );
    for row in rows.iter().filter(|r| r.model == Model::Vgg12) {
        let tag = row.tag();
        let slug = tag.replace('/', "_");
        let (truth, predicted): (Vec<usize>, Vec<usize>) = predictions
            .iter()
            .filter(|p| {
                p.scenario == row.scenario
                    && p.split == row.split
                    && p.order == row.order
                    && p.model == Model::Vgg12.name()
            })
            .map(|p| (p.truth, p.predicted))
            .unzip();
        let confusion = ConfusionMatrix::new(QuakeClass::ALL.len(), &truth, &predicted)?;
        let matrix = confusion_table(&confusion);
        let per_class = per_class_table(&confusion);
        write(
            &mut written,
            format!("tables/confusion_{slug}.md"),
            &matrix.to_markdown(),
        )?;
        write(
            &mut written,
            format!("tables/per_class_{slug}.md"),
            &per_class.to_markdown(),
        )?;
        let heatmap = format!("figures/confusion_{slug}.png");
        let names: Vec<String> = QuakeClass::ALL
            .iter()
            .map(|c| c.index().to_string())
            .collect();
        figure::confusion_heatmap(
            &run_dir.join(&heatmap),
            &format!("VGG-12 confusion matrix ({tag})"),
            &names,
            confusion.counts(),
        )?;
        written.push((heatmap.clone(), run_dir.join(&heatmap)));
        let epochs: Vec<&EpochRow> = curves
            .iter()
            .filter(|e| e.scenario == row.scenario && e.split == row.split && e.order == row.order)
            .collect();
        let curve_file = format!("figures/curves_{slug}.png");
        figure::training_curves(
            &run_dir.join(&curve_file),
            &format!("VGG-12 training ({tag})"),
            &epochs
                .iter()
                .map(|e| figure::EpochPoint {
                    epoch: e.epoch as f64,
                    train_loss: e.train_loss,
                    train_accuracy: e.train_accuracy,
                    validation_loss: e.validation_loss,
                    validation_accuracy: e.validation_accuracy,
                })
                .collect::<Vec<_>>(),
        )?;
        written.push((curve_file.clone(), run_dir.join(&curve_file)));
        let _ = write!(
            report,
            "\n## VGG-12, {tag}\n\nConfusion matrix (Table 5; rows: true class, columns: \
             predicted):\n\n{}\nPer class (Table 6):\n\n{}\n![confusion]({heatmap})\n\
             ![training curves]({curve_file})\n",
            matrix.to_markdown(),
            per_class.to_markdown()
        );
    }
    write(&mut written, REPORT_FILE.to_string(), &report)?;
    Ok(written)
}

/// Every row with its intervals.
fn comparison_table(rows: &[ClassificationRow]) -> Table {
    let mut table = Table::new([
        "scenario",
        "split",
        "order",
        "model",
        "n_train",
        "n_test",
        "accuracy",
        "accuracy_low",
        "accuracy_high",
        "macro_f1",
        "macro_f1_low",
        "macro_f1_high",
        "balanced_accuracy",
        "balanced_accuracy_low",
        "balanced_accuracy_high",
        "best_epoch",
    ]);
    for r in rows {
        table.push(vec![
            Cell::Text(r.scenario.clone()),
            Cell::Text(r.split.clone()),
            Cell::Text(r.order.clone()),
            Cell::Text(r.model.name().to_string()),
            count(r.n_train),
            count(r.n_test),
            number(r.accuracy, 3),
            number(r.accuracy_low, 3),
            number(r.accuracy_high, 3),
            number(r.macro_f1, 3),
            number(r.macro_f1_low, 3),
            number(r.macro_f1_high, 3),
            number(r.balanced_accuracy, 3),
            number(r.balanced_accuracy_low, 3),
            number(r.balanced_accuracy_high, 3),
            r.best_epoch.map_or(Cell::Missing, count),
        ]);
    }
    table
}

/// A count, shown as the integer it is.
fn count(n: usize) -> Cell {
    Cell::Text(n.to_string())
}

/// Table 4: class, direction, magnitude, events, maps.
fn stored_class_table(rows: &[StoredClassRow]) -> Table {
    let mut table = Table::new(["class", "direction", "magnitude", "events", "maps"]);
    for r in rows {
        table.push(vec![
            count(r.class),
            Cell::Text(r.direction.clone()),
            Cell::Text(r.magnitude.clone()),
            r.events.map_or(Cell::Missing, count),
            count(r.maps),
        ]);
    }
    table
}

/// Table 5: true classes in rows, predicted classes in columns.
fn confusion_table(confusion: &ConfusionMatrix) -> Table {
    let k = confusion.n_classes();
    let mut headers = vec!["true \\ predicted".to_string()];
    headers.extend((0..k).map(|c| c.to_string()));
    let mut table = Table::new(headers);
    for t in 0..k {
        let mut row = vec![Cell::Text(t.to_string())];
        row.extend((0..k).map(|p| count(confusion.count(t, p))));
        table.push(row);
    }
    table
}

/// Table 6: per class precision and recall (missing where undefined), with the support.
fn per_class_table(confusion: &ConfusionMatrix) -> Table {
    let mut table = Table::new(["class", "precision", "recall", "support"]);
    for c in 0..confusion.n_classes() {
        table.push(vec![
            Cell::Text(c.to_string()),
            optional_number(confusion.precision(c), 3),
            optional_number(confusion.recall(c), 3),
            count(confusion.true_total(c)),
        ]);
    }
    table
}

/// The run in words: each VGG-12 row against the better baseline, by macro-F1.
pub fn summary(rows: &[ClassificationRow]) -> Vec<String> {
    let mut lines = Vec::new();
    for vgg in rows.iter().filter(|r| r.model == Model::Vgg12) {
        let best_baseline = rows
            .iter()
            .filter(|r| r.model != Model::Vgg12 && r.tag() == vgg.tag())
            .max_by(|a, b| a.macro_f1.total_cmp(&b.macro_f1));
        let verdict = match best_baseline {
            Some(b) if vgg.macro_f1_low > b.macro_f1 => format!(
                "beats the best baseline ({} {:.3}) beyond its interval",
                b.model.name(),
                b.macro_f1
            ),
            Some(b) => format!(
                "does not clearly beat the best baseline ({} {:.3})",
                b.model.name(),
                b.macro_f1
            ),
            None => "has no baseline".to_string(),
        };
        lines.push(format!(
            "VGG-12 ({}): accuracy {:.3} [{:.3}, {:.3}], macro-F1 {:.3} [{:.3}, {:.3}], \
             balanced accuracy {:.3} on {} test maps; {verdict}",
            vgg.tag(),
            vgg.accuracy,
            vgg.accuracy_low,
            vgg.accuracy_high,
            vgg.macro_f1,
            vgg.macro_f1_low,
            vgg.macro_f1_high,
            vgg.balanced_accuracy,
            vgg.n_test
        ));
    }
    lines
}
