//! `quakelab pfn eval`: a pretrained network against ridge, a random forest and XGBoost on the
//! same splits, task by task, with per-task ranks.
//!
//! # Tasks
//!
//! - **Held-out prior tasks**: task `i` is `Prior::task(seed, i)`, drawn from the stream
//!   `pfn.prior.task.{i}` of the seed. Pretraining draws only from the batch streams
//!   `pfn.prior.batch.{step}.task.{j}`, so no evaluation task was ever a training task, whatever
//!   the two seeds. Each task keeps its own train/test split.
//! - **Friedman #1–3** ([`super::suite`]), each as several tables from different seeds, with
//!   the noise levels of Breiman (1996): 1 for #1 (10 inputs), 125 for #2 and 0.1 for #3 (about
//!   3:1 signal to noise). The first [`TRAIN_FRACTION`] of the rows train, the rest test.
//! - **Tables from files**: any numeric CSV with a target column (the paper experiment's
//!   fusion table, say), split chronologically: the first [`TRAIN_FRACTION`] of the rows in file
//!   order train, the rest test.
//!
//! # Scores
//!
//! Each model is fitted on a task's training rows and scored on its test rows by the root mean
//! squared error and `R² = 1 − SSE / Σ(y − ȳ)²` (ȳ: the test mean). Within a task, models are
//! ranked by RMSE, 1 the best, ties sharing the mean of their ranks ([`ranks`]). The summary
//! gives, per task family and over all tasks, each model's mean rank, its wins (the smallest
//! RMSE of a task, ties counting for each tied model) and its mean R².

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use faer::Mat;

use super::prior::{Prior, PriorConfig};
use super::suite::Friedman;
use crate::decode::{DecoderConfig, FitContext};
use crate::{Error, Result, rng};

/// The models `quakelab pfn eval` compares by default.
pub const DEFAULT_MODELS: [&str; 4] = ["pfn", "ridge", "random_forest", "xgboost"];

/// What `quakelab pfn eval` evaluates.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// The network's checkpoint (`quakelab pfn pretrain`'s `NAME.safetensors`) for the model
    /// `pfn`; without it, the built-in quakelab-pfn-s.
    pub weights: Option<PathBuf>,
    /// The prior the held-out tasks come from (the pretraining file's `[pfn.prior]`).
    pub prior: PriorConfig,
    /// The seed of the held-out tasks, the Friedman tables and the fits.
    pub seed: u64,
    /// Held-out prior tasks.
    pub prior_tasks: usize,
    /// Tables of each Friedman function.
    pub friedman_tables: usize,
    /// Rows per Friedman table.
    pub friedman_rows: usize,
    /// CSV tables from files, with the target column `target`.
    pub tables: Vec<PathBuf>,
    /// The target column of `tables`.
    pub target: Option<String>,
    /// A 0/1 column of `tables` that marks the test rows (a run's feature tables have `test`);
    /// without it, tables split chronologically.
    pub test_column: Option<String>,
    /// Decoder kinds to compare; `pfn` is the network: the `pfn` decoder on `weights`, or on
    /// the built-in quakelab-pfn-s without them.
    pub models: Vec<String>,
}

/// The models of `options`: `pfn` named after its network (`PFN (quakelab-pfn-s)`), the others
/// by kind. A `weights` file that is not there is refused, naming `decoder.weights`.
pub fn eval_models(options: &EvalOptions) -> Result<Vec<EvalModel>> {
    options
        .models
        .iter()
        .map(|kind| {
            if kind == "pfn" {
                let mut decoder = DecoderConfig::from_kind("pfn")?;
                if let Some(weights) = &options.weights {
                    decoder.apply_override(&format!("decoder.weights={}", weights.display()))?;
                }
                decoder.check()?;
                Ok(EvalModel {
                    name: decoder.display_name(),
                    decoder,
                })
            } else {
                Ok(EvalModel {
                    name: kind.clone(),
                    decoder: DecoderConfig::from_kind(kind)?,
                })
            }
        })
        .collect()
}

/// The tasks of `options`: the held-out prior tasks, the Friedman tables, then the files.
pub fn eval_tasks(options: &EvalOptions) -> Result<Vec<EvalTask>> {
    let target = match (&options.tables[..], options.target.as_deref()) {
        ([], _) => None,
        (_, Some(target)) => Some(target),
        (_, None) => {
            return Err(Error::config(
                "--target",
                "a table file needs --target, its target column",
            ));
        }
    };
    let prior = Prior::new(options.prior.clone())?;
    let mut tasks = prior_tasks(&prior, options.seed, options.prior_tasks)?;
    tasks.extend(friedman_tasks(
        options.seed,
        options.friedman_tables,
        options.friedman_rows,
    )?);
    if let Some(target) = target {
        for path in &options.tables {
            tasks.push(table_task(path, target, options.test_column.as_deref())?);
        }
    }
    Ok(tasks)
}

/// Runs the evaluation of `options` and writes `tasks.csv` ([`scores_csv`]) and `summary.csv`
/// ([`summary_csv`]) into `out` (made if missing); returns the summary.
pub fn run_eval(options: &EvalOptions, out: &Path, show_progress: bool) -> Result<Vec<SummaryRow>> {
    let models = eval_models(options)?;
    let tasks = eval_tasks(options)?;
    let scores = evaluate(&tasks, &models, options.seed, show_progress)?;
    let summary = summarize(&scores);
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    for (name, text) in [
        ("tasks.csv", scores_csv(&scores)),
        ("summary.csv", summary_csv(&summary)),
    ] {
        crate::io::write_atomic(&out.join(name), |w| w.write_all(text.as_bytes()))?;
    }
    Ok(summary)
}

/// The share of a Friedman table's or a file table's rows (the first ones) that train.
pub const TRAIN_FRACTION: f64 = 0.8;

/// One regression task: training and test rows with their targets.
#[derive(Debug, Clone)]
pub struct EvalTask {
    /// The task's name in tables (`prior-7`, `friedman2-s1`, the file's stem).
    pub name: String,
    /// Its family in the summary (`prior:mlp`, `prior:gp`, `prior:seismic`, `friedman`,
    /// `table`).
    pub family: String,
    /// Training features, `n_train × p`.
    pub x_train: Mat<f64>,
    /// Training targets.
    pub y_train: Vec<f64>,
    /// Test features, `n_test × p`.
    pub x_test: Mat<f64>,
    /// Test targets.
    pub y_test: Vec<f64>,
}

impl EvalTask {
    /// Splits row-major `x` (`y.len() × n_features`) after its first `n_train` rows.
    fn split(
        name: String,
        family: String,
        x: &[f64],
        y: &[f64],
        n_features: usize,
        n_train: usize,
    ) -> EvalTask {
        let rows = |range: std::ops::Range<usize>| {
            Mat::from_fn(range.len(), n_features, |i, j| {
                x[(range.start + i) * n_features + j]
            })
        };
        EvalTask {
            name,
            family,
            x_train: rows(0..n_train),
            y_train: y[..n_train].to_vec(),
            x_test: rows(n_train..y.len()),
            y_test: y[n_train..].to_vec(),
        }
    }
}

/// The rows of `n_rows` that train: [`TRAIN_FRACTION`] of them, at least one and leaving one.
fn n_train_of(n_rows: usize) -> usize {
    ((n_rows as f64 * TRAIN_FRACTION).round() as usize).clamp(1, n_rows - 1)
}

/// `count` held-out tasks of `prior` (module docs), task `i` drawn from seed `seed`.
pub fn prior_tasks(prior: &Prior, seed: u64, count: usize) -> Result<Vec<EvalTask>> {
    (0..count as u64)
        .map(|i| {
            let task = prior.task(seed, i)?;
            let x: Vec<f64> = task.x().iter().map(|&v| f64::from(v)).collect();
            let y: Vec<f64> = task.y().iter().map(|&v| f64::from(v)).collect();
            Ok(EvalTask::split(
                format!("prior-{i}"),
                format!("prior:{}", task.kind().name()),
                &x,
                &y,
                task.n_features(),
                task.n_train(),
            ))
        })
        .collect()
}

/// Friedman #1–3, `tables` of each of `n_rows` rows, table `k` drawn from seed `seed + k`, with
/// the noise levels of the module docs.
pub fn friedman_tasks(seed: u64, tables: usize, n_rows: usize) -> Result<Vec<EvalTask>> {
    crate::ensure_config!(
        n_rows >= 2,
        "pfn.eval.friedman_rows",
        "a table needs a training and a test row, got {n_rows} rows"
    );
    let mut tasks = Vec::new();
    for function in Friedman::ALL {
        let (n_features, noise) = match function {
            Friedman::One => (10, 1.0),
            Friedman::Two => (4, 125.0),
            Friedman::Three => (4, 0.1),
        };
        for k in 0..tables as u64 {
            let table = function.table(n_rows, n_features, noise, seed.wrapping_add(k))?;
            tasks.push(EvalTask::split(
                format!("{}-s{k}", function.name()),
                "friedman".into(),
                &table.x,
                &table.y,
                n_features,
                n_train_of(n_rows),
            ));
        }
    }
    Ok(tasks)
}

/// The table in the CSV file `path` (a header line, numeric cells) with target column
/// `target`, split chronologically (module docs), or by `test_column`: its rows with 1 test,
/// those with 0 train, and the column is not a feature. Refuses a file without those columns,
/// a test column with another value, and a split without a training or a test row.
pub fn table_task(path: &Path, target: &str, test_column: Option<&str>) -> Result<EvalTask> {
    let table = crate::decode::csv_table::read_table(path, target, false)?;
    let y = table.target.ok_or_else(|| {
        Error::parse(
            path,
            1,
            target,
            format!("no column named {target:?} (the --target of pfn eval)"),
        )
    })?;
    let marker = match test_column {
        None => None,
        Some(name) => Some(
            table
                .features
                .iter()
                .position(|f| f == name)
                .ok_or_else(|| {
                    Error::parse(
                        path,
                        1,
                        name,
                        format!("no column named {name:?} (the --test-column of pfn eval)"),
                    )
                })?,
        ),
    };
    let features: Vec<usize> = (0..table.x.ncols())
        .filter(|&j| Some(j) != marker)
        .collect();
    let (mut train, mut test) = (Vec::new(), Vec::new());
    match marker {
        None => {
            let n_train = if y.len() >= 2 {
                n_train_of(y.len())
            } else {
                y.len()
            };
            train.extend(0..n_train);
            test.extend(n_train..y.len());
        }
        Some(j) => {
            for i in 0..y.len() {
                let flag = table.x[(i, j)];
                if flag == 0.0 {
                    train.push(i);
                } else if flag == 1.0 {
                    test.push(i);
                } else {
                    return Err(Error::parse(
                        path,
                        (i + 2) as u64,
                        &table.features[j],
                        format!("{flag} is not 0 (a training row) or 1 (a test row)"),
                    ));
                }
            }
        }
    }
    if train.is_empty() || test.is_empty() {
        return Err(Error::parse(
            path,
            1,
            "",
            format!(
                "{} training and {} test rows: a table task needs at least one of each",
                train.len(),
                test.len()
            ),
        ));
    }
    let x: Vec<f64> = train
        .iter()
        .chain(&test)
        .flat_map(|&i| features.iter().map(move |&j| (i, j)))
        .map(|(i, j)| table.x[(i, j)])
        .collect();
    let y: Vec<f64> = train.iter().chain(&test).map(|&i| y[i]).collect();
    let name = path
        .file_stem()
        .map_or_else(|| "table".into(), |s| s.to_string_lossy().into_owned());
    Ok(EvalTask::split(
        name,
        "table".into(),
        &x,
        &y,
        features.len(),
        train.len(),
    ))
}

/// Ranks of `errors` (1 for the smallest), ties sharing the mean of the ranks they span.
/// A NaN error ranks after every number.
pub fn ranks(errors: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..errors.len()).collect();
    order.sort_by(|&a, &b| errors[a].total_cmp(&errors[b]));
    let key = |i: usize| {
        let e = errors[i];
        if e.is_nan() { f64::INFINITY } else { e }
    };
    let mut out = vec![0.0; errors.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && key(order[end]) == key(order[start]) {
            end += 1;
        }
        // Positions start..end hold ranks start+1..=end: their mean.
        let rank = (start + end + 1) as f64 / 2.0;
        for &i in &order[start..end] {
            out[i] = rank;
        }
        start = end;
    }
    out
}

/// A model to evaluate: its name in the tables and its decoder.
#[derive(Debug, Clone)]
pub struct EvalModel {
    /// The name in the tables (`PFN (quakelab-pfn-s)`, `ridge`, …).
    pub name: String,
    /// The decoder, with its settings.
    pub decoder: DecoderConfig,
}

/// One model's score on one task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskScore {
    /// The task's name.
    pub task: String,
    /// The task's family.
    pub family: String,
    /// Training rows.
    pub n_train: usize,
    /// Test rows.
    pub n_test: usize,
    /// Features.
    pub n_features: usize,
    /// The model's name.
    pub model: String,
    /// Root mean squared error on the test rows.
    pub rmse: f64,
    /// `1 − SSE / Σ(y − ȳ)²` on the test rows (NaN when the test targets are constant).
    pub r2: f64,
    /// The model's rank on this task by RMSE ([`ranks`]).
    pub rank: f64,
    /// Whether its RMSE is the task's smallest (each of tied models is).
    pub best: bool,
}

/// RMSE and R² of `predicted` against `actual` (module docs).
pub fn rmse_r2(actual: &[f64], predicted: &[f64]) -> (f64, f64) {
    let n = actual.len() as f64;
    let sse: f64 = actual
        .iter()
        .zip(predicted)
        .map(|(a, p)| (a - p).powi(2))
        .sum();
    let mean = actual.iter().sum::<f64>() / n;
    let sst: f64 = actual.iter().map(|a| (a - mean).powi(2)).sum();
    let r2 = if sst > 0.0 { 1.0 - sse / sst } else { f64::NAN };
    ((sse / n).sqrt(), r2)
}

/// Fits every model on every task and scores it (module docs). Model `m` on task `t` fits with
/// the seed `rng::derive_seed(seed, "pfn.eval.{t}.{m}")`. A model that fails on a task fails
/// the evaluation, naming both.
pub fn evaluate(
    tasks: &[EvalTask],
    models: &[EvalModel],
    seed: u64,
    show_progress: bool,
) -> Result<Vec<TaskScore>> {
    let bar = show_progress.then(|| crate::progress::bar(tasks.len() as u64, "evaluating"));
    let mut scores = Vec::with_capacity(tasks.len() * models.len());
    for task in tasks {
        let names: Vec<String> = (0..task.x_train.ncols()).map(|j| format!("x{j}")).collect();
        let mut errors = Vec::with_capacity(models.len());
        let mut fits = Vec::with_capacity(models.len());
        for model in models {
            let context =
                |e: Error| Error::Numerical(format!("{} on task {}: {e}", model.name, task.name));
            let mut regressor = model.decoder.build(&names).map_err(context)?;
            let fit_seed =
                rng::derive_seed(seed, &format!("pfn.eval.{}.{}", task.name, model.name));
            let ctx = FitContext::new(fit_seed).without_progress();
            regressor
                .fit(task.x_train.as_ref(), &task.y_train, &ctx)
                .map_err(context)?;
            let predicted = regressor.predict(task.x_test.as_ref()).map_err(context)?;
            let (rmse, r2) = rmse_r2(&task.y_test, &predicted);
            errors.push(rmse);
            fits.push((rmse, r2));
        }
        let smallest = errors.iter().copied().fold(f64::INFINITY, f64::min);
        for ((model, (rmse, r2)), rank) in models.iter().zip(fits).zip(ranks(&errors)) {
            scores.push(TaskScore {
                task: task.name.clone(),
                family: task.family.clone(),
                n_train: task.y_train.len(),
                n_test: task.y_test.len(),
                n_features: task.x_train.ncols(),
                model: model.name.clone(),
                rmse,
                r2,
                rank,
                best: rmse == smallest,
            });
        }
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(scores)
}

/// A model's standing over a family of tasks (or over all of them: family `all`).
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// The family, or `all`.
    pub family: String,
    /// The model's name.
    pub model: String,
    /// Tasks in the family.
    pub tasks: usize,
    /// The mean of the model's per-task ranks.
    pub mean_rank: f64,
    /// Tasks on which the model's RMSE was the smallest (ties count for each tied model).
    pub wins: usize,
    /// The mean of its finite per-task R² values.
    pub mean_r2: f64,
}

/// The summary of `scores` per family (in order of first appearance) and over `all` tasks, the
/// models in order of first appearance.
pub fn summarize(scores: &[TaskScore]) -> Vec<SummaryRow> {
    let mut families: Vec<&str> = Vec::new();
    let mut models: Vec<&str> = Vec::new();
    for s in scores {
        if !families.contains(&s.family.as_str()) {
            families.push(&s.family);
        }
        if !models.contains(&s.model.as_str()) {
            models.push(&s.model);
        }
    }
    let mut rows = Vec::new();
    for family in families.into_iter().map(Some).chain([None]) {
        for &model in &models {
            let picked: Vec<&TaskScore> = scores
                .iter()
                .filter(|s| s.model == model && family.is_none_or(|f| s.family == f))
                .collect();
            let r2: Vec<f64> = picked
                .iter()
                .map(|s| s.r2)
                .filter(|r| r.is_finite())
                .collect();
            rows.push(SummaryRow {
                family: family.unwrap_or("all").to_string(),
                model: model.to_string(),
                tasks: picked.len(),
                mean_rank: picked.iter().map(|s| s.rank).sum::<f64>() / picked.len() as f64,
                wins: picked.iter().filter(|s| s.best).count(),
                mean_r2: r2.iter().sum::<f64>() / r2.len() as f64,
            });
        }
    }
    rows
}

/// The scores as CSV: `task,family,n_train,n_test,n_features,model,rmse,r2,rank`.
pub fn scores_csv(scores: &[TaskScore]) -> String {
    let mut out = String::from("task,family,n_train,n_test,n_features,model,rmse,r2,rank\n");
    for s in scores {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            s.task, s.family, s.n_train, s.n_test, s.n_features, s.model, s.rmse, s.r2, s.rank
        );
    }
    out
}

/// The summary as CSV: `family,model,tasks,mean_rank,wins,mean_r2`.
pub fn summary_csv(rows: &[SummaryRow]) -> String {
    let mut out = String::from("family,model,tasks,mean_rank,wins,mean_r2\n");
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}",
            r.family, r.model, r.tasks, r.mean_rank, r.wins, r.mean_r2
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_the_mean_of_their_ranks_and_nan_comes_last() {
        // Sorted: 1.0 (rank 1), 2.0 twice (ranks 2 and 3: 2.5 each), 5.0 (4), NaN (5).
        assert_eq!(
            ranks(&[2.0, f64::NAN, 1.0, 5.0, 2.0]),
            vec![2.5, 5.0, 1.0, 4.0, 2.5]
        );
        assert_eq!(ranks(&[3.0, 3.0, 3.0]), vec![2.0, 2.0, 2.0]);
    }

    #[test]
    fn rmse_and_r2_by_hand() {
        // Errors 1, −1, 0, 2: SSE 6, RMSE √1.5; test mean 2.5, Σ(y − ȳ)² = 5, R² = 1 − 6/5.
        let (rmse, r2) = rmse_r2(&[1.0, 2.0, 3.0, 4.0], &[0.0, 3.0, 3.0, 2.0]);
        assert!((rmse - 1.5f64.sqrt()).abs() < 1e-15);
        assert!((r2 - (1.0 - 6.0 / 5.0)).abs() < 1e-15);
    }

    #[test]
    fn summary_counts_wins_and_means_per_family_and_overall() {
        let score = |task: &str, family: &str, model: &str, rank: f64, r2: f64| TaskScore {
            best: rank < 2.0,
            task: task.into(),
            family: family.into(),
            n_train: 8,
            n_test: 2,
            n_features: 1,
            model: model.into(),
            rmse: rank,
            r2,
            rank,
        };
        let scores = [
            score("a", "f", "m1", 1.0, 0.9),
            score("a", "f", "m2", 2.0, 0.5),
            score("b", "g", "m1", 1.5, 0.2),
            score("b", "g", "m2", 1.5, f64::NAN),
        ];
        let rows = summarize(&scores);
        let get = |family: &str, model: &str| {
            rows.iter()
                .find(|r| r.family == family && r.model == model)
                .unwrap()
                .clone()
        };
        let all_m1 = get("all", "m1");
        // m1 wins a outright and ties b with m2.
        assert_eq!((all_m1.tasks, all_m1.wins), (2, 2));
        assert!((all_m1.mean_rank - 1.25).abs() < 1e-15);
        assert!((all_m1.mean_r2 - 0.55).abs() < 1e-15);
        // m2's NaN R² (constant test targets) is left out of its mean.
        assert_eq!(get("all", "m2").mean_r2, 0.5);
        assert_eq!(get("g", "m2").wins, 1);
        assert_eq!(get("f", "m2").wins, 0);
        assert_eq!(rows.len(), 6);
    }
}
