//! Sweeps: the cartesian product of axes, each point a resolved experiment with its hash.
//!
//! An axis is a dotted key and a list of values, from the file's `[sweep]` table
//!
//! ```toml
//! [sweep]
//! "features.seismicity.window_days" = [32, 64, 128, 192, 256]
//! labels.bandwidth = ["scott", 30, 90]     # a dotted key works too
//! ```
//!
//! or from the command line, `--axis features.seismicity.window_days=32,64,128` (values read
//! as in `--set`; `--axis region=["123,148,22,46","130,140,30,40"]` for values with commas).
//! A command-line axis replaces a file axis with the same key; the same key given twice on the
//! command line is refused (list every value in one `--axis`). A per-decoder key is an axis
//! like any other: `--axis decoders.random_forest.max_depth=4,8` (see
//! [`config`](super::config), per-decoder overrides).
//!
//! Points are ordered like nested loops: file axes (by key) then command-line axes (in order),
//! the last axis varying fastest. Each point's values form one layer between the file and the
//! `--set` overrides; an axis whose key `--set` or the environment also fixes is refused, since
//! it would make every point the same.
//!
//! # Resume
//!
//! Each point is resolved, its config hashed ([`config_hash`](super::config::config_hash)) and
//! its input data hashed ([`data_hash`](super::data_hash)). A point that resolves exactly like
//! an earlier one, on the same data, is [`RunStatus::Duplicate`]. Otherwise the run store
//! decides ([`plan`]): a finished run with the same config hash and the same data hashes makes
//! the point [`RunStatus::AlreadyDone`]; finished runs with that config hash but other data
//! (an edited catalog file) make it [`RunStatus::DataChanged`], and it runs again, which the
//! sweep's first line says ("2 configs re-run because their data changed").
//!
//! # Running
//!
//! [`run`] hands the plan to a [`Launcher`] (where the pending points run: see
//! [`launcher`](super::launcher), with the concurrency policy of `--jobs` and the Slurm job
//! array), then, once they ran here, writes the summary of every point. A batch launcher's
//! summary comes from the same [`SweepRecord`], once its tasks are done.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::experiment::config::{
    LayerStack, Layers, MethodName, ResolvedExperiment, Setting, describe, parse_value,
    split_assignment,
};
use crate::experiment::data_hash::{DataHasher, DataHashes};
use crate::experiment::launcher::{Launch, Launched, Launcher, Submission};
use crate::experiment::runner;
use crate::track::{StoredRun, list_run_records};
use crate::{Error, Result, ensure_config};

/// One sweep axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The dotted key (e.g. `features.seismicity.window_days`).
    pub key: String,
    /// The values, in order (at least one).
    pub values: Vec<toml::Value>,
    /// Where the axis was given: the file's path or `--axis`.
    pub origin: String,
}

impl Axis {
    /// An axis; fails on an empty key or value list, or a key in `[sweep]`, `[tracking]` or
    /// `[launcher]` (which the hash ignores, so every point would look the same).
    pub fn new(
        key: impl Into<String>,
        values: Vec<toml::Value>,
        origin: impl Into<String>,
    ) -> Result<Axis> {
        let key = key.into();
        ensure_config!(
            !key.is_empty() && key.split('.').all(|s| !s.trim().is_empty()),
            &key,
            "a sweep axis needs a dotted key (e.g. features.seismicity.window_days)"
        );
        let top = key.split('.').next().unwrap_or_default();
        ensure_config!(
            !["sweep", "tracking", "launcher"].contains(&top),
            &key,
            "`{top}` is not part of the config hash and cannot be swept"
        );
        ensure_config!(
            !values.is_empty(),
            &key,
            "a sweep axis needs at least one value"
        );
        Ok(Axis {
            key,
            values,
            origin: origin.into(),
        })
    }

    /// Parses `--axis KEY=V1,V2,...` (each value read as in `--set`) or `--axis KEY=[TOML array]`.
    pub fn parse(text: &str) -> Result<Axis> {
        let (key, values) = split_assignment(text, "--axis")?;
        let values = if values.starts_with('[') {
            match parse_value(values) {
                toml::Value::Array(items) => items,
                _ => {
                    return Err(Error::config(
                        key,
                        format!("`{values}` is not a TOML array"),
                    ));
                }
            }
        } else {
            let parts: Vec<&str> = values.split(',').map(str::trim).collect();
            ensure_config!(
                parts.iter().all(|p| !p.is_empty()),
                key,
                "empty value in `{values}`"
            );
            parts.into_iter().map(parse_value).collect()
        };
        Axis::new(key, values, "--axis")
    }
}

/// Whether a point needs running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Not run yet.
    Pending,
    /// A run with this config hash finished, but on other data (or before data hashes were
    /// recorded): it runs again.
    DataChanged,
    /// A run with this config hash and these data hashes already finished.
    AlreadyDone,
    /// Resolves like the earlier point with this index.
    Duplicate {
        /// The earlier point's index.
        of: usize,
    },
}

impl RunStatus {
    /// Whether the point needs running ([`RunStatus::Pending`] or [`RunStatus::DataChanged`]).
    pub fn needs_running(self) -> bool {
        matches!(self, RunStatus::Pending | RunStatus::DataChanged)
    }
}

/// What the run store holds for a point's config hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Past {
    /// No finished run.
    NotRun,
    /// A finished run with the same data hashes.
    Finished,
    /// Finished runs, all with other data hashes.
    FinishedWithOtherData,
}

/// One point of a sweep.
#[derive(Debug, Clone)]
pub struct SweepRun {
    /// The point's position in the product (0-based).
    pub index: usize,
    /// The axis values of this point, `(key, value)` in axis order.
    pub point: Vec<(String, toml::Value)>,
    /// The resolved experiment.
    pub experiment: ResolvedExperiment,
    /// The hashes of its input data ([`data_hash`](super::data_hash)).
    pub data_hashes: DataHashes,
    /// Whether it needs running.
    pub status: RunStatus,
}

impl SweepRun {
    /// The point as `key=value, key=value` (empty without axes).
    pub fn describe(&self) -> String {
        describe_point(&self.point)
    }

    /// The point as recorded for later.
    pub fn record(&self) -> PointRecord {
        PointRecord {
            index: self.index,
            point: self.point.clone(),
            config_hash: self.experiment.config_hash().to_string(),
            data_hashes: self.data_hashes.clone(),
        }
    }
}

fn describe_point(point: &[(String, toml::Value)]) -> String {
    let parts: Vec<String> = point.iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.join(", ")
}

/// An expanded sweep: at least one point.
#[derive(Debug, Clone)]
pub struct SweepPlan {
    /// The axes, in product order (the last varies fastest).
    pub axes: Vec<Axis>,
    /// Every point, in product order.
    pub runs: Vec<SweepRun>,
}

impl SweepPlan {
    /// The points that need running.
    pub fn pending(&self) -> impl Iterator<Item = &SweepRun> {
        self.runs.iter().filter(|r| r.status.needs_running())
    }

    /// How many points are in each state.
    pub fn counts(&self) -> SweepCounts {
        let count =
            |f: &dyn Fn(RunStatus) -> bool| self.runs.iter().filter(|r| f(r.status)).count();
        SweepCounts {
            configs: self.runs.len(),
            to_run: count(&|s| s.needs_running()),
            already_finished: count(&|s| s == RunStatus::AlreadyDone),
            duplicates: count(&|s| matches!(s, RunStatus::Duplicate { .. })),
            data_changed: count(&|s| s == RunStatus::DataChanged),
        }
    }

    /// The sweep as recorded for later. Its experiment directory, where the runs are found and
    /// the summary is written, is the first point's (`<results>/<name>`), which is every
    /// point's unless the name itself is swept.
    pub fn record(&self) -> SweepRecord {
        let first = &self.runs[0].experiment;
        SweepRecord {
            method: first.effective().method,
            experiment_dir: runner::experiment_dir(first),
            axes: self.axes.iter().map(|a| a.key.clone()).collect(),
            points: self.runs.iter().map(SweepRun::record).collect(),
        }
    }
}

/// How many points of a plan are in each state; its `Display` is the line a sweep prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepCounts {
    /// Every point.
    pub configs: usize,
    /// Points that run (new ones and those whose data changed).
    pub to_run: usize,
    /// Points whose run finished on the same data.
    pub already_finished: usize,
    /// Points that resolve like an earlier one.
    pub duplicates: usize,
    /// Points that run again because their data changed.
    pub data_changed: usize,
}

impl fmt::Display for SweepCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sweep: {} configs, {} to run, {} already finished",
            self.configs, self.to_run, self.already_finished
        )?;
        if self.duplicates > 0 {
            write!(f, ", {} same as another point", self.duplicates)?;
        }
        if self.data_changed > 0 {
            write!(
                f,
                "; {} configs re-run because their data changed",
                self.data_changed
            )?;
        }
        Ok(())
    }
}

/// Expands the sweep and marks what the run store already holds: a point is done when a
/// finished run under its experiment directory has its config hash and its data hashes.
pub fn plan(layers: &Layers, axes: &[Axis]) -> Result<SweepPlan> {
    let mut records: HashMap<PathBuf, Vec<StoredRun>> = HashMap::new();
    expand(layers, axes, |experiment, data| {
        let dir = runner::experiment_dir(experiment);
        let runs = match records.entry(dir) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                let runs = list_run_records(entry.key())?;
                entry.insert(runs)
            }
        };
        let earlier = runner::finished_data_hashes(runs, experiment.config_hash());
        Ok(if earlier.is_empty() {
            Past::NotRun
        } else if earlier.contains(data) {
            Past::Finished
        } else {
            Past::FinishedWithOtherData
        })
    })
}

/// What a sweep did.
#[derive(Debug)]
pub struct SweepOutcome {
    /// The points run here, with their run directories.
    pub finished: Vec<(usize, PathBuf)>,
    /// The points that failed here, with their errors.
    pub failures: Vec<(usize, Error)>,
    /// The summary table (`sweep_summary.md`), written once the points ran here.
    pub summary: Option<PathBuf>,
    /// The batch submission, when the launcher handed the points to a batch system (the
    /// summary is then written once its tasks are done; see [`launcher::slurm::status`]).
    ///
    /// [`launcher::slurm::status`]: crate::experiment::launcher::slurm::status
    pub submission: Option<Submission>,
}

/// Starts the plan's pending points with `launcher`. When they ran here, writes the summary of
/// every point ([`runner::summarize_sweep`]); a failed point does not stop the others.
pub fn run(plan: &SweepPlan, launcher: &dyn Launcher) -> Result<SweepOutcome> {
    let mut outcome = SweepOutcome {
        finished: Vec::new(),
        failures: Vec::new(),
        summary: None,
        submission: None,
    };
    match launcher.launch(plan)? {
        Launch::Ran(launched) => {
            for (index, launched) in launched {
                match launched {
                    Launched::Finished(dir) => outcome.finished.push((index, dir)),
                    Launched::Failed(error) => outcome.failures.push((index, error)),
                }
            }
            outcome.summary = Some(runner::summarize_sweep(&plan.record())?);
        }
        Launch::Submitted(submission) => outcome.submission = Some(submission),
    }
    Ok(outcome)
}

/// One point of a sweep as recorded for later: what its summary and its status need, without
/// resolving it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointRecord {
    /// The point's position in the product (0-based).
    pub index: usize,
    /// The axis values of this point, `(key, value)` in axis order.
    pub point: Vec<(String, toml::Value)>,
    /// The config hash of its resolved experiment.
    pub config_hash: String,
    /// The hashes of its input data.
    pub data_hashes: DataHashes,
}

impl PointRecord {
    /// The point as `key=value, key=value` (empty without axes).
    pub fn describe(&self) -> String {
        describe_point(&self.point)
    }
}

/// A sweep as recorded for later ([`SweepPlan::record`]): the summary's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRecord {
    /// The method of its points.
    pub method: MethodName,
    /// Where its runs are stored and its summary is written (`<results>/<name>`).
    pub experiment_dir: PathBuf,
    /// The axes' keys, in product order.
    pub axes: Vec<String>,
    /// Every point, in product order.
    pub points: Vec<PointRecord>,
}

/// Expands the sweep of `layers` (its `[sweep]` table) and `axes` (from `--axis`) into the
/// cartesian product, each point resolved and its data hashed; `past(experiment, data hashes)`
/// says what the run store holds for it. Without any axis the plan has the one point of the
/// base config.
pub fn expand(
    layers: &Layers,
    axes: &[Axis],
    mut past: impl FnMut(&ResolvedExperiment, &DataHashes) -> Result<Past>,
) -> Result<SweepPlan> {
    let stack = LayerStack::build(layers)?;
    let (file, figment) = stack.extract(&[])?;
    let mut all = file_axes(&file.sweep, &figment)?;
    for (i, axis) in axes.iter().enumerate() {
        ensure_config!(
            axes[..i].iter().all(|a| a.key != axis.key),
            &axis.key,
            "given twice as a sweep axis ({}); list every value once, e.g. `--axis {}=V1,V2,V3`",
            axis.origin,
            axis.key
        );
    }
    for axis in axes {
        all.retain(|a| a.key != axis.key);
        all.push(axis.clone());
    }
    for (i, axis) in all.iter().enumerate() {
        if let Some(fixed) = stack.fixed_keys().iter().find(|k| overlaps(k, &axis.key)) {
            return Err(Error::config(
                &axis.key,
                format!(
                    "swept ({}) and also fixed by `{fixed}` (--set or environment)",
                    axis.origin
                ),
            ));
        }
        if let Some(other) = all[..i].iter().find(|a| overlaps(&a.key, &axis.key)) {
            return Err(Error::config(
                &axis.key,
                format!("overlaps the sweep axis `{}`", other.key),
            ));
        }
    }
    let total = all
        .iter()
        .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
        .ok_or_else(|| Error::config("sweep", "the product of the axes is too large"))?;
    let mut hasher = DataHasher::default();
    let mut runs: Vec<SweepRun> = Vec::with_capacity(total);
    for index in 0..total {
        let mut rest = index;
        let mut point = vec![(String::new(), toml::Value::Boolean(false)); all.len()];
        for (slot, axis) in point.iter_mut().zip(&all).rev() {
            let n = axis.values.len();
            *slot = (axis.key.clone(), axis.values[rest % n].clone());
            rest /= n;
        }
        let extra = point
            .iter()
            .zip(&all)
            .map(|((key, value), axis)| {
                Setting::assignment(
                    "sweep",
                    key,
                    value.clone(),
                    format!("sweep axis {key} ({})", axis.origin),
                )
            })
            .collect::<Result<Vec<Setting>>>()?;
        let experiment = stack.resolve(&extra)?;
        let data_hashes = hasher.hashes(&experiment)?;
        let hash = experiment.config_hash();
        let status = match runs
            .iter()
            .find(|r| r.experiment.config_hash() == hash && r.data_hashes == data_hashes)
        {
            Some(earlier) => RunStatus::Duplicate { of: earlier.index },
            None => match past(&experiment, &data_hashes)? {
                Past::NotRun => RunStatus::Pending,
                Past::Finished => RunStatus::AlreadyDone,
                Past::FinishedWithOtherData => RunStatus::DataChanged,
            },
        };
        runs.push(SweepRun {
            index,
            point,
            experiment,
            data_hashes,
            status,
        });
    }
    Ok(SweepPlan { axes: all, runs })
}

/// Whether one dotted key is the other or contains it.
fn overlaps(a: &str, b: &str) -> bool {
    let within = |long: &str, short: &str| {
        long == short || (long.starts_with(short) && long[short.len()..].starts_with('.'))
    };
    within(a, b) || within(b, a)
}

/// The axes of a `[sweep]` table: nested tables are read as dotted keys, every leaf must be a
/// list. The origin of each is the layer that set it.
fn file_axes(
    table: &std::collections::BTreeMap<String, toml::Value>,
    figment: &figment::Figment,
) -> Result<Vec<Axis>> {
    let mut leaves = Vec::new();
    for (key, value) in table {
        flatten(key.clone(), key, value, &mut leaves);
    }
    let origin_of = |top: &str| {
        figment
            .find_value("sweep")
            .ok()
            .and_then(|v| v.into_dict())
            .and_then(|mut d| d.remove(top))
            .and_then(|v| figment.get_metadata(v.tag()))
            .map_or_else(|| "[sweep]".to_string(), describe)
    };
    leaves
        .into_iter()
        .map(|(key, value, top)| match value {
            toml::Value::Array(items) => Axis::new(key, items.clone(), origin_of(&top)),
            other => Err(Error::config(
                format!("sweep.{key}"),
                format!("a sweep axis is a list of values, got `{other}`"),
            )),
        })
        .collect()
}

/// The leaves of nested tables as `(dotted key, value, top-level key)`.
fn flatten<'a>(
    key: String,
    top: &str,
    value: &'a toml::Value,
    out: &mut Vec<(String, &'a toml::Value, String)>,
) {
    match value {
        toml::Value::Table(table) => {
            for (k, v) in table {
                flatten(format!("{key}.{k}"), top, v, out);
            }
        }
        other => out.push((key, other, top.to_string())),
    }
}
