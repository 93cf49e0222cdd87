//! Experiment files and sweeps.
//!
//! - [`config`]: the schema of an experiment file ([`config::ExperimentFile`]), its layering
//!   (defaults < file < `--set` < `QUAKELAB_*` environment) with the source of every value, and
//!   its resolution into the checked [`config::ResolvedExperiment`] the runner sees.
//! - [`sweep`]: the cartesian product of sweep axes, each point resolved and hashed, with the
//!   points already done skipped so that an interrupted sweep resumes.

pub mod config;
pub mod runner;
pub mod sweep;

pub use config::{ExperimentFile, Layers, ResolvedExperiment, resolve, show};
pub use sweep::{Axis, RunStatus, SweepPlan, SweepRun, expand};
