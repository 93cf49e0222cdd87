//! `[launcher]`: where a sweep's configurations run, as written. Not part of the config hash:
//! the same configuration gives the same numbers on a laptop and on a cluster.
//!
//! ```toml
//! [launcher.slurm]
//! partition = "short"
//! account = "geodesy"
//! time = "00:30:00"          # per task: Slurm's formats (MM, HH:MM:SS, D-HH:MM, ...)
//! cpus_per_task = 4
//! mem = "8G"
//! gres = "gpu:1"             # one GPU per task, for `device = "cuda"`
//! max_parallel = 8           # at most 8 tasks at once (`--array=0-N%8`)
//! directives = ["--qos=normal", "--constraint=avx2"]
//! setup = """
//! module load gcc
//! export QUAKELAB_REAL_DATA=/shared/data
//! """
//! ```
//!
//! The checked form is [`crate::experiment::launcher::SlurmOptions`].

use serde::{Deserialize, Serialize};

/// `[launcher]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LauncherSection {
    /// `[launcher.slurm]`: the job array `quakelab sweep --launcher slurm` submits.
    pub slurm: SlurmSection,
}

/// `[launcher.slurm]`: the `sbatch` options of a sweep's job array. Empty text and absent
/// numbers leave the cluster's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlurmSection {
    /// `--partition`.
    pub partition: String,
    /// `--account`.
    pub account: String,
    /// `--time`, each task's time limit.
    pub time: String,
    /// `--cpus-per-task`; a task's own parallel work uses this many threads.
    pub cpus_per_task: Option<u32>,
    /// `--mem`, memory per task (`4000`, `4G`, `512M`).
    pub mem: String,
    /// `--gres` (`gpu:1`).
    pub gres: String,
    /// At most this many tasks at once: the `%K` of `--array=0-(N-1)%K`.
    pub max_parallel: Option<u32>,
    /// Further `sbatch` options, one per `#SBATCH` line (`--qos=long`).
    pub directives: Vec<String>,
    /// Shell lines each task runs before quakelab (modules, environment).
    pub setup: String,
    /// Slurm sends SIGUSR1 this many seconds before the time limit, and the task records its
    /// run as FAILED; 0 sends none (the run is still marked FAILED on the SIGTERM at the limit).
    pub signal_seconds: u32,
    /// `--job-name`; empty for `quakelab-<experiment>`.
    pub job_name: String,
}

impl Default for SlurmSection {
    fn default() -> Self {
        SlurmSection {
            partition: String::new(),
            account: String::new(),
            time: String::new(),
            cpus_per_task: None,
            mem: String::new(),
            gres: String::new(),
            max_parallel: None,
            directives: Vec::new(),
            setup: String::new(),
            signal_seconds: 60,
            job_name: String::new(),
        }
    }
}
