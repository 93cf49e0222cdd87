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
//! A command-line axis replaces a file axis with the same key.
//!
//! Points are ordered like nested loops: file axes (by key) then command-line axes (in order),
//! the last axis varying fastest. Each point's values form one layer between the file and the
//! `--set` overrides; an axis whose key `--set` or the environment also fixes is refused, since
//! it would make every point the same.
//!
//! # Resume
//!
//! Each point is resolved and hashed ([`config_hash`](super::config::config_hash)). A point
//! whose hash the caller reports done (`already_done`, e.g. a finished run in the run store) is
//! [`RunStatus::AlreadyDone`], and a point that resolves exactly like an earlier one is
//! [`RunStatus::Duplicate`]; only [`RunStatus::Pending`] points need running.

use crate::experiment::config::{
    Layer, LayerStack, Layers, ResolvedExperiment, describe, parse_value, split_assignment,
};
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
    /// An axis; fails on an empty key or value list, or a key in `[sweep]` or `[tracking]`
    /// (which the hash ignores, so every point would look the same).
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
            top != "sweep" && top != "tracking",
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
    /// Not done yet.
    Pending,
    /// A run with this hash already finished.
    AlreadyDone,
    /// Resolves like the earlier point with this index.
    Duplicate {
        /// The earlier point's index.
        of: usize,
    },
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
    /// Whether it needs running.
    pub status: RunStatus,
}

/// An expanded sweep.
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
        self.runs.iter().filter(|r| r.status == RunStatus::Pending)
    }
}

/// Expands the sweep of `layers` (its `[sweep]` table) and `axes` (from `--axis`) into the
/// cartesian product, each point resolved; `already_done(hash)` marks the finished ones.
/// Without any axis the plan has the one point of the base config.
pub fn expand(
    layers: &Layers,
    axes: &[Axis],
    mut already_done: impl FnMut(&str) -> bool,
) -> Result<SweepPlan> {
    let stack = LayerStack::build(layers)?;
    let (file, figment) = stack.extract(&[])?;
    let mut all = file_axes(&file.sweep, &figment)?;
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
                Layer::assignment(
                    "sweep",
                    key,
                    value.clone(),
                    format!("sweep axis {key} ({})", axis.origin),
                )
            })
            .collect::<Result<Vec<Layer>>>()?;
        let experiment = stack.resolve(&extra)?;
        let hash = experiment.config_hash();
        let status = match runs.iter().find(|r| r.experiment.config_hash() == hash) {
            Some(earlier) => RunStatus::Duplicate { of: earlier.index },
            None if already_done(hash) => RunStatus::AlreadyDone,
            None => RunStatus::Pending,
        };
        runs.push(SweepRun {
            index,
            point,
            experiment,
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
