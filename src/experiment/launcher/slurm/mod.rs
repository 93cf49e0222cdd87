//! The Slurm launcher: a sweep as one job array.
//!
//! `quakelab sweep FILE --launcher slurm` expands and resumes the sweep as a local sweep does
//! ([`crate::experiment::sweep::plan`]), then writes a sweep directory
//!
//! ```text
//! <results>/sweeps/<experiment>/<YYYYMMDDTHHMMSSZ>/
//!   sweep.json       the points (config and data hashes), task → point, the job id
//!   sweep.sbatch     the job array: task i runs configs/i.toml
//!   configs/i.toml   the effective configuration of the i-th pending point
//!   logs/            each task's output, JOBID_TASK.log
//! ```
//!
//! and submits the script with `sbatch --parsable` (unless `--dry-run`). Only the pending points
//! become tasks, so submitting the same sweep again runs only what is missing. Each task
//! ([`task::run_task`]) runs its configuration with the same runner and run store as a local
//! sweep; SIGUSR1 (sent `signal_seconds` before the time limit) and SIGTERM end its run as
//! FAILED. [`status`] joins the run store with `squeue` (and `sacct`, where accounting is on)
//! into one state per point, and writes the sweep's summary once every task is done.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use super::{Launch, Launcher};
use crate::experiment::sweep::{SweepPlan, SweepRecord};
use crate::track::store::{claim_run_dir, rfc3339};
use crate::{Error, Result};

mod options;
mod query;
mod script;
mod status;
mod task;

pub use options::SlurmOptions;
pub use query::{parse_task_states, task_states};
pub use script::{ScriptSpec, sbatch_script};
pub use status::{ConfigState, ConfigStatus, SweepStatus, TaskState, status, summarize_if_done};
pub use task::{TaskOutcome, run_task};

/// The sweep directory's record of its points and job.
pub const MANIFEST_FILE: &str = "sweep.json";
/// The generated `sbatch` script.
pub const SCRIPT_FILE: &str = "sweep.sbatch";
/// The configurations, `configs/<task>.toml`.
pub const CONFIGS_DIR: &str = "configs";
/// The tasks' output, `logs/<job>_<task>.log`.
pub const LOGS_DIR: &str = "logs";

/// What a sweep directory records (`sweep.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// When the directory was written.
    #[serde(with = "rfc3339")]
    pub created: jiff::Timestamp,
    /// Where the tasks start (absolute): the directory the sweep was planned in.
    pub workdir: PathBuf,
    /// Every point of the sweep, its experiment directory absolute.
    pub sweep: SweepRecord,
    /// The point each array task runs: task `i` runs point `tasks[i]` from `configs/i.toml`.
    pub tasks: Vec<usize>,
    /// The submitted job array, once submitted.
    pub job: Option<Job>,
}

/// A submitted job array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Slurm's job id.
    pub id: String,
    /// When it was submitted.
    #[serde(with = "rfc3339")]
    pub submitted: jiff::Timestamp,
}

impl Manifest {
    /// Reads `dir/sweep.json`.
    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::config(
                    "sweep",
                    format!(
                        "{} is not a Slurm sweep directory (it has no {MANIFEST_FILE})",
                        dir.display()
                    ),
                )
            } else {
                Error::io(&path, e)
            }
        })?;
        serde_json::from_str(&text)
            .map_err(|e| Error::parse(&path, e.line() as u64, "json", e.to_string()))
    }

    /// Writes `dir/sweep.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::config("sweep", format!("cannot write {MANIFEST_FILE}: {e}")))?;
        crate::io::write_atomic(&dir.join(MANIFEST_FILE), |w| {
            w.write_all(text.as_bytes())?;
            w.write_all(b"\n")
        })
    }
}

/// A sweep handed to Slurm (or only written, with `--dry-run`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The sweep directory.
    pub dir: PathBuf,
    /// Its `sbatch` script.
    pub script: PathBuf,
    /// How many array tasks (configurations).
    pub tasks: usize,
    /// The job id; `None` when only written.
    pub job_id: Option<String>,
}

/// Submits a sweep's pending points as one Slurm job array (see the module docs). The `sbatch`
/// options come from the first point's `[launcher.slurm]` (which no axis may vary).
#[derive(Debug, Clone)]
pub struct SlurmLauncher {
    quakelab: PathBuf,
    sweep_dir: Option<PathBuf>,
    dry_run: bool,
}

impl SlurmLauncher {
    /// Tasks run the quakelab binary at `quakelab` (a path every node can reach).
    pub fn new(quakelab: impl Into<PathBuf>) -> SlurmLauncher {
        SlurmLauncher {
            quakelab: quakelab.into(),
            sweep_dir: None,
            dry_run: false,
        }
    }

    /// Writes the sweep into `dir` (which must not exist or be empty) instead of
    /// `<results>/sweeps/<experiment>/<time>`.
    pub fn with_sweep_dir(self, dir: impl Into<PathBuf>) -> SlurmLauncher {
        SlurmLauncher {
            sweep_dir: Some(dir.into()),
            ..self
        }
    }

    /// Writes the sweep directory and stops before `sbatch`.
    pub fn dry_run(self, dry_run: bool) -> SlurmLauncher {
        SlurmLauncher { dry_run, ..self }
    }

    /// Claims the sweep directory (absolute).
    fn claim_dir(&self, workdir: &Path, plan: &SweepPlan) -> Result<PathBuf> {
        match &self.sweep_dir {
            Some(dir) => {
                let dir = workdir.join(dir);
                let empty = match std::fs::read_dir(&dir) {
                    Ok(mut entries) => entries.next().is_none(),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
                    Err(e) => return Err(Error::io(&dir, e)),
                };
                if !empty {
                    return Err(Error::config(
                        "--sweep-dir",
                        format!("{} exists and is not empty", dir.display()),
                    ));
                }
                std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
                Ok(dir)
            }
            None => {
                let first = &plan.runs[0].experiment;
                let parent = workdir
                    .join(&first.tracking().results_dir)
                    .join("sweeps")
                    .join(first.name());
                let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ");
                Ok(claim_run_dir(&parent, &stamp.to_string())?.1)
            }
        }
    }
}

impl Launcher for SlurmLauncher {
    fn launch(&self, plan: &SweepPlan) -> Result<Launch> {
        let pending: Vec<_> = plan.pending().collect();
        if pending.is_empty() {
            return Ok(Launch::Ran(Vec::new()));
        }
        let first = &plan.runs[0].experiment;
        let options = SlurmOptions::check(&first.effective().launcher.slurm)?;
        let workdir = std::env::current_dir().map_err(|e| Error::io(".", e))?;
        let quakelab = workdir.join(&self.quakelab);
        let dir = self.claim_dir(&workdir, plan)?;
        let configs = dir.join(CONFIGS_DIR);
        for sub in [&configs, &dir.join(LOGS_DIR)] {
            std::fs::create_dir_all(sub).map_err(|e| Error::io(sub, e))?;
        }
        for (task, point) in pending.iter().enumerate() {
            let text = toml::to_string(point.experiment.effective()).map_err(|e| {
                Error::config("experiment", format!("cannot write the config: {e}"))
            })?;
            crate::io::write_atomic(&configs.join(format!("{task}.toml")), |w| {
                w.write_all(text.as_bytes())
            })?;
        }
        let mut sweep = plan.record();
        sweep.experiment_dir = workdir.join(&sweep.experiment_dir);
        let manifest = Manifest {
            created: jiff::Timestamp::now(),
            workdir: workdir.clone(),
            sweep,
            tasks: pending.iter().map(|p| p.index).collect(),
            job: None,
        };
        manifest.write(&dir)?;
        let script = dir.join(SCRIPT_FILE);
        let text = sbatch_script(&ScriptSpec {
            options: &options,
            tasks: pending.len(),
            experiment: first.name(),
            sweep_dir: &dir,
            workdir: &workdir,
            quakelab: &quakelab,
        });
        crate::io::write_atomic(&script, |w| w.write_all(text.as_bytes()))?;
        if self.dry_run {
            return Ok(Launch::Submitted(Submission {
                dir,
                script,
                tasks: pending.len(),
                job_id: None,
            }));
        }
        submit(&dir).map(Launch::Submitted)
    }
}

/// Submits the sweep directory's script (as written, or as edited after `--dry-run`) with
/// `sbatch --parsable`, and records the job id in `sweep.json`. A directory already submitted
/// is refused: run the sweep again to submit what is missing.
pub fn submit(dir: &Path) -> Result<Submission> {
    let mut manifest = Manifest::read(dir)?;
    if let Some(job) = &manifest.job {
        return Err(Error::config(
            "sweep",
            format!(
                "{} was submitted already, as job {}; to run what is missing, run the sweep \
                 again (finished configurations are skipped)",
                dir.display(),
                job.id
            ),
        ));
    }
    let script = dir.join(SCRIPT_FILE);
    let out = slurm_command("sbatch", &["--parsable", &script.display().to_string()])?;
    let id = out.split(';').next().unwrap_or_default().trim().to_string();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::External {
            service: "slurm".into(),
            message: format!("sbatch --parsable printed `{}`, not a job id", out.trim()),
        });
    }
    manifest.job = Some(Job {
        id: id.clone(),
        submitted: jiff::Timestamp::now(),
    });
    manifest.write(dir)?;
    Ok(Submission {
        dir: dir.to_path_buf(),
        script,
        tasks: manifest.tasks.len(),
        job_id: Some(id),
    })
}

/// Cancels the sweep's job array (`scancel`); returns the job id. Its running tasks get
/// SIGTERM and record their runs as FAILED.
pub fn cancel(dir: &Path) -> Result<String> {
    let manifest = Manifest::read(dir)?;
    let job = manifest.job.ok_or_else(|| {
        Error::config(
            "sweep",
            format!(
                "{} was never submitted (a --dry-run): nothing to cancel",
                dir.display()
            ),
        )
    })?;
    slurm_command("scancel", &[&job.id])?;
    Ok(job.id)
}

/// Runs a Slurm command and returns its standard output; a command that is missing or fails
/// is an error quoting its standard error.
pub(crate) fn slurm_command(program: &str, args: &[&str]) -> Result<String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| Error::External {
            service: "slurm".into(),
            message: format!(
                "cannot run `{program}`: {e}; is Slurm installed here? \
                 (tools/slurm-single-node.sh starts a one-node cluster)"
            ),
        })?;
    if !output.status.success() {
        return Err(Error::External {
            service: "slurm".into(),
            message: format!(
                "`{program} {}` failed ({}): {}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
