//! Launchers: where a sweep's configurations run.
//!
//! A [`Launcher`] takes an expanded sweep ([`SweepPlan`]) and starts its pending points. The
//! sweep ([`super::sweep`]) does everything around it, the same whatever the launcher:
//! expanding the axes, deciding what is already done (config and data hashes), and summarising
//! ([`super::runner::summarize_sweep`]). Two launchers exist:
//!
//! - [`LocalLauncher`] runs the points on this machine, `--jobs N` at a time, and returns what
//!   became of each ([`Launch::Ran`]);
//! - [`SlurmLauncher`] writes the points and an `sbatch` script into a sweep directory and
//!   submits one Slurm job array ([`Launch::Submitted`]); each array task runs one point
//!   through the same runner and run store, and [`slurm::status`] gathers the states later.

use std::path::PathBuf;

use crate::experiment::sweep::SweepPlan;
use crate::{Error, Result};

mod local;
pub mod slurm;

pub use local::LocalLauncher;
pub use slurm::{SlurmLauncher, SlurmOptions, Submission};

/// What became of one configuration run here.
#[derive(Debug)]
pub enum Launched {
    /// It ran to the end; its run directory.
    Finished(PathBuf),
    /// It failed (the run store marks a run that had started FAILED).
    Failed(Error),
}

/// What a launcher did with a sweep's pending points.
#[derive(Debug)]
pub enum Launch {
    /// They ran here: each pending point's index in the plan and what became of it.
    Ran(Vec<(usize, Launched)>),
    /// They were handed to a batch system and run later.
    Submitted(Submission),
}

/// Starts the pending points of a sweep.
pub trait Launcher {
    /// Starts every pending point of `plan`. A failure of one point never stops the others; an
    /// error is returned only when nothing could be started (a submission refused, say).
    fn launch(&self, plan: &SweepPlan) -> Result<Launch>;
}
