//! Experiment files and sweeps.
//!
//! - [`config`]: the schema of an experiment file ([`config::ExperimentFile`]), its layering
//!   (defaults < file < `--set` < `QUAKELAB_*` environment) with the source of every value, and
//!   its resolution into the checked [`config::ResolvedExperiment`] the runner sees.
//!   Per-decoder overrides (`--set decoders.random_forest.max_depth=6`) apply after the
//!   decoder groups are read.
//! - [`data_hash`]: the hashes of an experiment's input data, recorded with each run.
//! - [`embeddings`]: the ViT stage: the pixel scale fitted on the training days common to
//!   every split, and the embeddings through the stage cache.
//! - [`sweep`]: the cartesian product of sweep axes, each point resolved and hashed, with the
//!   points already done (same config and data hashes) skipped so that an interrupted sweep
//!   resumes.
//! - [`launcher`]: where a sweep's configurations run ([`launcher::LocalLauncher`]: `--jobs N`
//!   at once, each in its own pool of `max(1, cores / N)` threads; [`launcher::SlurmLauncher`]:
//!   one Slurm job array, followed by [`launcher::slurm::status`]).
//! - [`runner`]: one resolved experiment as one tracked run.
//! - [`vgg12`]: the second method's run (papers.md §B): maps, classes, VGG-12 per split and
//!   augmentation order, planted and null, with baselines.
//! - [`evaluate`]: a run's evaluation: labels fitted per split, the derived embargo, every
//!   feature set × decoder over its seeds, bootstrap intervals and Diebold–Mariano comparisons.
//!   The fits of a split run side by side, one thread each (`fit`).
//! - [`cache`]: what a run derives, stored under `results/cache`: each fit's predictions
//!   ([`cache::fits`]) and each split's PCA reduction of the GNSS features ([`cache::pca`]),
//!   keyed by everything they depend on, so that a repeated fit or reduction is read back.
//! - [`timing`]: where a run's time went, per stage and per decoder (`timings.csv`).

pub mod cache;
pub mod config;
pub mod data_hash;
pub mod embeddings;
pub mod evaluate;
mod fit;
pub mod launcher;
pub mod runner;
pub mod sweep;
pub mod timing;
pub mod vgg12;

pub use config::{ExperimentFile, Layers, ResolvedExperiment, resolve, show};
pub use sweep::{Axis, RunStatus, SweepPlan, SweepRun, expand, plan};
