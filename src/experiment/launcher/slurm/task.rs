//! One array task: `quakelab sweep task DIR [TASK]`, which the generated script runs.

use std::path::Path;

use super::{CONFIGS_DIR, Manifest};
use crate::experiment::config::{self, Layers};
use crate::experiment::runner::{self, RunOutcome};
use crate::track::list_run_records;
use crate::{Error, Result};

/// What one task did.
#[derive(Debug)]
pub enum TaskOutcome {
    /// It ran its configuration.
    Ran(RunOutcome),
    /// A finished run of its configuration on the same data was already there (a task run
    /// twice); its run id.
    AlreadyFinished(String),
}

/// Runs array task `task` of the sweep directory `dir`: resolves `configs/<task>.toml` alone (no
/// environment layer: the file is the whole configuration), checks that it still hashes as when
/// it was planned, and runs it with [`runner::run`]. Within Slurm, the run's own parallel work
/// uses `SLURM_CPUS_PER_TASK` threads unless `RAYON_NUM_THREADS` says otherwise. Once every
/// configuration of the sweep has finished, it writes the sweep's summary.
pub fn run_task(dir: &Path, task: usize) -> Result<TaskOutcome> {
    let manifest = Manifest::read(dir)?;
    let point_index = *manifest.tasks.get(task).ok_or_else(|| {
        Error::config(
            "SLURM_ARRAY_TASK_ID",
            format!(
                "task {task} is not in {} ({} tasks)",
                dir.display(),
                manifest.tasks.len()
            ),
        )
    })?;
    let point = &manifest.sweep.points[point_index];
    let file = dir.join(CONFIGS_DIR).join(format!("{task}.toml"));
    let experiment = config::resolve(&Layers::new(&file))?;
    if experiment.config_hash() != point.config_hash {
        return Err(Error::config(
            "sweep",
            format!(
                "{} no longer resolves as planned (config hash {} instead of {}); was it edited \
                 or is this another quakelab version? Run the sweep again to plan it anew",
                file.display(),
                &experiment.config_hash()[..12],
                &point.config_hash[..12]
            ),
        ));
    }
    let runs = list_run_records(&manifest.sweep.experiment_dir)?;
    if let Some(run) = runner::finished_run_of(&runs, point) {
        return Ok(TaskOutcome::AlreadyFinished(run.record.run_id.clone()));
    }
    let threads = std::env::var("SLURM_CPUS_PER_TASK")
        .ok()
        .filter(|_| std::env::var_os("RAYON_NUM_THREADS").is_none())
        .and_then(|n| n.trim().parse::<usize>().ok())
        .filter(|n| *n > 0);
    let outcome = match threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map_err(|e| Error::External {
                service: "launcher".into(),
                message: format!("cannot start a pool of {n} threads: {e}"),
            })?
            .install(|| runner::run(&experiment))?,
        None => runner::run(&experiment)?,
    };
    // The last task to finish writes the summary; with a failure among them, `sweep status`
    // writes it once every task is done.
    let runs = list_run_records(&manifest.sweep.experiment_dir)?;
    if manifest
        .sweep
        .points
        .iter()
        .all(|p| runner::finished_run_of(&runs, p).is_some())
    {
        runner::summarize_sweep(&manifest.sweep)?;
    }
    Ok(TaskOutcome::Ran(outcome))
}
