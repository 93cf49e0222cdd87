//! `quakelab pfn prior show`: a look at the tasks a prior draws, as a table and a figure.
//!
//! [`show`] draws one batch of tasks of one shared size ([`Prior::batch`], batch 0 of the
//! seed), the size drawn from the configured ranges unless given, and writes
//!
//! - `tasks.csv`: one line per task and row, columns `task, kind, row, split, x0 … x{F−1}, y`
//!   (`split` is `train` or `test`);
//! - `prior_tasks.png`: one panel per task, y against its first feature, the training rows in
//!   blue and the test rows in orange, the prior's kind in the title.

use std::path::{Path, PathBuf};

use super::{Prior, PriorBatch, PriorConfig, PriorKind};
use crate::report::figure::{self, SplitScatterPanel};
use crate::{Error, Result};

/// What [`show`] draws.
#[derive(Debug, Clone, PartialEq)]
pub struct ShowOptions {
    /// The seed of the task stream.
    pub seed: u64,
    /// How many tasks (≥ 1).
    pub tasks: usize,
    /// Rows per task; drawn from `pfn.prior.rows` when `None`.
    pub rows: Option<usize>,
    /// Features per task; drawn from `pfn.prior.features` when `None`.
    pub features: Option<usize>,
}

/// What [`show`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ShowReport {
    /// The tasks' shared rows.
    pub n_rows: usize,
    /// The tasks' shared features.
    pub n_features: usize,
    /// How many tasks each prior made, in the order of [`PriorKind::ALL`].
    pub counts: Vec<(PriorKind, usize)>,
    /// The table of the tasks' rows.
    pub csv: PathBuf,
    /// The figure.
    pub figure: PathBuf,
}

impl std::fmt::Display for ShowReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let counts: Vec<String> = self
            .counts
            .iter()
            .map(|(kind, n)| format!("{n} {}", kind.name()))
            .collect();
        write!(
            f,
            "wrote {} and {} ({} tasks of {} rows × {} features: {})",
            self.csv.display(),
            self.figure.display(),
            self.counts.iter().map(|(_, n)| n).sum::<usize>(),
            self.n_rows,
            self.n_features,
            counts.join(", ")
        )
    }
}

/// Draws the tasks of `options` from the priors of `config` and writes `out/tasks.csv` and
/// `out/prior_tasks.png` (see the module docs). `rows` and `features`, when given, replace
/// the configured ranges and are checked like them (`pfn.prior.rows`, `pfn.prior.features`);
/// no task is refused (`tasks`).
pub fn show(mut config: PriorConfig, options: &ShowOptions, out: &Path) -> Result<ShowReport> {
    if options.tasks == 0 {
        return Err(Error::config("tasks", "0 tasks: show at least one"));
    }
    if let Some(rows) = options.rows {
        config.rows = [rows, rows];
    }
    if let Some(features) = options.features {
        config.features = [features, features];
    }
    let prior = Prior::new(config)?;
    let batch = prior.batch(options.seed, 0, options.tasks)?;
    let csv = out.join("tasks.csv");
    let figure_path = out.join("prior_tasks.png");
    write_tasks(&csv, &batch)?;
    let panels: Vec<SplitScatterPanel> = batch
        .tasks
        .iter()
        .enumerate()
        .map(|(i, task)| {
            let point = |r: usize| (f64::from(task.value(r, 0)), f64::from(task.y()[r]));
            SplitScatterPanel {
                title: format!("task {i}: {}", task.kind().name()),
                train: (0..task.n_train()).map(point).collect(),
                test: (task.n_train()..task.n_rows()).map(point).collect(),
            }
        })
        .collect();
    figure::split_scatter_grid(
        &figure_path,
        &format!(
            "prior tasks (seed {}, {} rows × {} features)",
            options.seed, batch.n_rows, batch.n_features
        ),
        "x0",
        "y",
        &panels,
    )?;
    let counts = PriorKind::ALL
        .iter()
        .map(|&kind| {
            (
                kind,
                batch.tasks.iter().filter(|t| t.kind() == kind).count(),
            )
        })
        .collect();
    Ok(ShowReport {
        n_rows: batch.n_rows,
        n_features: batch.n_features,
        counts,
        csv,
        figure: figure_path,
    })
}

fn write_tasks(path: &Path, batch: &PriorBatch) -> Result<()> {
    let mut header = vec![
        "task".to_string(),
        "kind".into(),
        "row".into(),
        "split".into(),
    ];
    header.extend((0..batch.n_features).map(|j| format!("x{j}")));
    header.push("y".into());
    crate::io::write_atomic(path, |w| {
        let mut writer = csv::Writer::from_writer(w);
        writer.write_record(&header)?;
        for (i, task) in batch.tasks.iter().enumerate() {
            for r in 0..task.n_rows() {
                let split = if r < task.n_train() { "train" } else { "test" };
                let mut record = vec![
                    i.to_string(),
                    task.kind().name().to_string(),
                    r.to_string(),
                    split.to_string(),
                ];
                record.extend((0..task.n_features()).map(|j| task.value(r, j).to_string()));
                record.push(task.y()[r].to_string());
                writer.write_record(&record)?;
            }
        }
        writer.flush()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn showing_no_task_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let options = ShowOptions {
            seed: 0,
            tasks: 0,
            rows: None,
            features: None,
        };
        let error = show(PriorConfig::default(), &options, dir.path()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "setting `tasks`: 0 tasks: show at least one"
        );
        assert!(!dir.path().join("tasks.csv").exists());
    }

    #[test]
    fn a_fixed_size_is_checked_like_the_configured_range() {
        let dir = tempfile::tempdir().unwrap();
        let options = ShowOptions {
            seed: 0,
            tasks: 2,
            rows: Some(1),
            features: None,
        };
        let error = show(PriorConfig::default(), &options, dir.path()).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("setting `pfn.prior.rows`: [1, 1]"),
            "{error}"
        );
    }
}
