//! Launchers: where a sweep's configurations run.
//!
//! A [`Launcher`] takes a list of resolved configurations and runs each as one tracked run. The
//! sweep ([`super::sweep`]) does everything around it, the same whatever the launcher: expanding
//! the axes, deciding what is already done (config and data hashes), and summarising. Today
//! there is one launcher, [`LocalLauncher`], which runs the configurations on this machine; a
//! batch launcher (a Slurm job array, say) would implement the same trait, submitting the
//! configurations instead of running them, and report them as submitted.

use std::path::PathBuf;

use crate::Error;
use crate::experiment::config::ResolvedExperiment;

mod local;

pub use local::LocalLauncher;

/// What became of one configuration.
#[derive(Debug)]
pub enum Launched {
    /// It ran to the end; its run directory.
    Finished(PathBuf),
    /// It failed (the run store marks a run that had started FAILED).
    Failed(Error),
}

/// Runs a list of resolved configurations, each as one tracked run.
pub trait Launcher {
    /// Runs every configuration and returns what became of each, in the order given. A
    /// failure of one never stops the others.
    fn launch(&self, experiments: &[&ResolvedExperiment]) -> Vec<Launched>;
}
