//! One state per configuration of a Slurm sweep, from the run store and Slurm together.
//!
//! The run store is the truth for what finished: a point is FINISHED when a finished run with
//! its config hash and data hashes exists, whoever ran it. Otherwise its array task's Slurm state
//! decides: PENDING, RUNNING, TIMEOUT, or FAILED (with the run's error, or the last `error:` line
//! of the task's log when it failed before its run started). A task stopped by SIGUSR1, which
//! the generated script asks Slurm to send before the time limit, is TIMEOUT too.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::{LOGS_DIR, Manifest, task_states};
use crate::Result;
use crate::experiment::runner::{self, config_hash_param};
use crate::experiment::sweep::PointRecord;
use crate::track::{RunStatus, StoredRun, list_run_records};

/// The state of one configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TaskState {
    /// Waiting for Slurm (or not submitted yet).
    Pending,
    /// Its task is running.
    Running,
    /// A finished run with its config and data hashes is in the run store.
    Finished,
    /// Its task ended without a finished run.
    Failed,
    /// Its task reached the time limit (or its warning signal).
    Timeout,
}

impl TaskState {
    /// The state in capitals, as printed.
    pub fn name(self) -> &'static str {
        match self {
            TaskState::Pending => "PENDING",
            TaskState::Running => "RUNNING",
            TaskState::Finished => "FINISHED",
            TaskState::Failed => "FAILED",
            TaskState::Timeout => "TIMEOUT",
        }
    }

    /// Whether the configuration will not change state any more.
    pub fn is_done(self) -> bool {
        !matches!(self, TaskState::Pending | TaskState::Running)
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// A state and what explains it (a run id, an error, Slurm's own state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigState {
    /// The state.
    pub state: TaskState,
    /// The run id, or why it failed.
    pub detail: String,
}

/// One configuration's state.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigStatus {
    /// The point.
    pub point: PointRecord,
    /// Its array task, when this submission runs it.
    pub task: Option<usize>,
    /// Its state.
    pub state: ConfigState,
}

/// Every configuration's state.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepStatus {
    /// The sweep directory.
    pub dir: PathBuf,
    /// The job id, once submitted.
    pub job_id: Option<String>,
    /// One per point, in product order.
    pub configs: Vec<ConfigStatus>,
}

impl SweepStatus {
    /// Whether no configuration is pending or running.
    pub fn is_done(&self) -> bool {
        self.configs.iter().all(|c| c.state.state.is_done())
    }

    /// How many configurations are in each state.
    pub fn counts(&self) -> BTreeMap<TaskState, usize> {
        let mut counts = BTreeMap::new();
        for c in &self.configs {
            *counts.entry(c.state.state).or_insert(0) += 1;
        }
        counts
    }

    /// The counts as `3 FINISHED, 1 FAILED`.
    pub fn counts_line(&self) -> String {
        let parts: Vec<String> = self
            .counts()
            .iter()
            .map(|(state, n)| format!("{n} {state}"))
            .collect();
        parts.join(", ")
    }
}

impl fmt::Display for SweepStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let job = self.job_id.as_deref().map_or_else(
            || "not submitted".to_string(),
            |id| format!("Slurm job {id}"),
        );
        writeln!(
            f,
            "sweep {} ({job}): {} configs, {}",
            self.dir.display(),
            self.configs.len(),
            self.counts_line()
        )?;
        let points: Vec<String> = self
            .configs
            .iter()
            .map(|c| {
                let text = c.point.describe();
                if text.is_empty() { "-".into() } else { text }
            })
            .collect();
        let width = points.iter().map(|p| p.chars().count()).max().unwrap_or(0);
        writeln!(
            f,
            "{:>6}  {:>4}  {:<8}  {:<width$}  run / reason",
            "config", "task", "state", "point"
        )?;
        for (c, point) in self.configs.iter().zip(&points) {
            let task = c.task.map_or_else(|| "-".to_string(), |t| t.to_string());
            writeln!(
                f,
                "{:>6}  {:>4}  {:<8}  {:<width$}  {}",
                c.point.index, task, c.state.state, point, c.state.detail
            )?;
        }
        Ok(())
    }
}

/// The state of every configuration of the sweep directory `dir`.
pub fn status(dir: &Path) -> Result<SweepStatus> {
    let manifest = Manifest::read(dir)?;
    let runs = list_run_records(&manifest.sweep.experiment_dir)?;
    let slurm = match &manifest.job {
        Some(job) => task_states(&job.id)?,
        None => BTreeMap::new(),
    };
    let task_of_point: BTreeMap<usize, usize> = manifest
        .tasks
        .iter()
        .enumerate()
        .map(|(task, point)| (*point, task))
        .collect();
    let configs = manifest
        .sweep
        .points
        .iter()
        .map(|point| {
            // A point resolving like a point that has a task (a duplicate) shares its state.
            let task = task_of_point.get(&point.index).copied().or_else(|| {
                manifest.tasks.iter().position(|i| {
                    let other = &manifest.sweep.points[*i];
                    other.config_hash == point.config_hash && other.data_hashes == point.data_hashes
                })
            });
            let state = config_state(&manifest, dir, point, task, &slurm, &runs);
            ConfigStatus {
                point: point.clone(),
                task: task_of_point.get(&point.index).copied(),
                state,
            }
        })
        .collect();
    Ok(SweepStatus {
        dir: dir.to_path_buf(),
        job_id: manifest.job.map(|j| j.id),
        configs,
    })
}

/// Writes the sweep's summary ([`runner::summarize_sweep`]) once no configuration is pending
/// or running and at least one finished; returns its path then.
pub fn summarize_if_done(dir: &Path, status: &SweepStatus) -> Result<Option<PathBuf>> {
    let finished = status
        .configs
        .iter()
        .any(|c| c.state.state == TaskState::Finished);
    if !status.is_done() || !finished {
        return Ok(None);
    }
    let manifest = Manifest::read(dir)?;
    runner::summarize_sweep(&manifest.sweep).map(Some)
}

/// One point's state (see the module docs).
fn config_state(
    manifest: &Manifest,
    dir: &Path,
    point: &PointRecord,
    task: Option<usize>,
    slurm: &BTreeMap<usize, String>,
    runs: &[StoredRun],
) -> ConfigState {
    let state = |state, detail: String| ConfigState { state, detail };
    if let Some(run) = runner::finished_run_of(runs, point) {
        return state(TaskState::Finished, run.record.run_id.clone());
    }
    let Some(task) = task else {
        return state(
            TaskState::Failed,
            "finished before this submission, but its run is no longer in the run store".into(),
        );
    };
    let Some(job) = &manifest.job else {
        return state(
            TaskState::Pending,
            format!("not submitted: quakelab sweep submit {}", dir.display()),
        );
    };
    // This submission's latest run of the point.
    let latest = runs.iter().rev().find(|r| {
        config_hash_param(r).as_deref() == Some(point.config_hash.as_str())
            && r.record.started >= job.submitted
    });
    let log = dir.join(LOGS_DIR).join(format!("{}_{task}.log", job.id));
    let failure = |slurm_state: Option<&str>| -> ConfigState {
        match latest {
            Some(run) if run.status == RunStatus::Failed => {
                let error = run.record.error.clone().unwrap_or_default();
                let timed_out = slurm_state == Some("TIMEOUT") || error.contains("(SIGUSR1)");
                state(
                    if timed_out {
                        TaskState::Timeout
                    } else {
                        TaskState::Failed
                    },
                    format!("{}: {}", run.record.run_id, first_line(&error)),
                )
            }
            _ => {
                let why = last_error_line(&log).unwrap_or_else(|| "no run recorded".into());
                let slurm_says = slurm_state.map_or_else(
                    || "Slurm no longer knows the task".to_string(),
                    |s| format!("Slurm: {s}"),
                );
                state(
                    if slurm_state == Some("TIMEOUT") || why.contains("(SIGUSR1)") {
                        TaskState::Timeout
                    } else {
                        TaskState::Failed
                    },
                    if log.is_file() {
                        format!("{slurm_says}; {why} (log: {})", log.display())
                    } else {
                        format!("{slurm_says}; {why}")
                    },
                )
            }
        }
    };
    match slurm.get(&task).map(String::as_str) {
        Some(
            "PENDING" | "REQUEUED" | "REQUEUE_HOLD" | "REQUEUE_FED" | "CONFIGURING" | "RESIZING"
            | "SUSPENDED",
        ) => state(TaskState::Pending, String::new()),
        Some("RUNNING" | "COMPLETING" | "STAGE_OUT" | "SIGNALING") => state(
            TaskState::Running,
            latest
                .filter(|r| r.status == RunStatus::Running)
                .map(|r| r.record.run_id.clone())
                .unwrap_or_default(),
        ),
        Some("COMPLETED") => match latest {
            Some(run) if run.status == RunStatus::Failed => failure(Some("COMPLETED")),
            _ => state(
                TaskState::Failed,
                "the task completed without a finished run on these data (did the input data \
                 change after submission?)"
                    .into(),
            ),
        },
        Some(other) => failure(Some(other)),
        None => match latest {
            Some(run) if run.status == RunStatus::Running => {
                state(TaskState::Running, run.record.run_id.clone())
            }
            _ => failure(None),
        },
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// The last `error: ...` line of a task's log, which quakelab prints before exiting 1.
fn last_error_line(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .map(|l| l.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::config::MethodName;
    use crate::experiment::launcher::slurm::Job;
    use crate::experiment::sweep::SweepRecord;
    use crate::track::{Run, RunSpec, Tracker};

    struct Fixture {
        tmp: tempfile::TempDir,
        manifest: Manifest,
    }

    fn point(hash: &str) -> PointRecord {
        PointRecord {
            index: 0,
            point: vec![("seed".into(), toml::Value::Integer(1))],
            config_hash: hash.into(),
            data_hashes: [("catalog".to_string(), "c1".to_string())].into(),
        }
    }

    /// A sweep of one point submitted as job 7 at `submitted`.
    fn fixture(submitted: jiff::Timestamp) -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let manifest = Manifest {
            created: submitted,
            workdir: tmp.path().to_path_buf(),
            sweep: SweepRecord {
                method: MethodName::GeovitPfn,
                experiment_dir: tmp.path().join("results").join("e"),
                axes: vec!["seed".into()],
                points: vec![point("h1")],
            },
            tasks: vec![0],
            job: Some(Job {
                id: "7".into(),
                submitted,
            }),
        };
        Fixture { tmp, manifest }
    }

    impl Fixture {
        /// Records a run of config hash `hash` on catalog hash `catalog`, ended by `end`.
        fn run(&self, hash: &str, catalog: &str, end: impl FnOnce(&mut Run)) {
            let spec = RunSpec::new("e", format!("seed = 1 # {hash}\n"), 1)
                .with_data_hash("catalog", catalog);
            let mut run = Run::start(&self.tmp.path().join("results"), &spec, None).unwrap();
            run.log_params(&[("config_hash".into(), hash.into())])
                .unwrap();
            end(&mut run);
            // A run left open would be failed on drop; keep RUNNING ones open on disk.
            std::mem::forget(run);
        }

        fn state(&self, slurm: Option<&str>) -> ConfigState {
            let runs = list_run_records(&self.manifest.sweep.experiment_dir).unwrap();
            let slurm: BTreeMap<usize, String> =
                slurm.map(|s| (0, s.to_string())).into_iter().collect();
            config_state(
                &self.manifest,
                self.tmp.path(),
                &self.manifest.sweep.points[0],
                Some(0),
                &slurm,
                &runs,
            )
        }

        fn log(&self, text: &str) {
            let logs = self.tmp.path().join(LOGS_DIR);
            std::fs::create_dir_all(&logs).unwrap();
            std::fs::write(logs.join("7_0.log"), text).unwrap();
        }
    }

    fn an_hour_ago() -> jiff::Timestamp {
        jiff::Timestamp::now() - jiff::SignedDuration::from_secs(3600)
    }

    #[test]
    fn the_run_store_decides_finished_whatever_slurm_says() {
        let f = fixture(an_hour_ago());
        f.run("h1", "c1", |r| r.finish(RunStatus::Finished).unwrap());
        for slurm in [Some("RUNNING"), Some("COMPLETED"), None] {
            assert_eq!(f.state(slurm).state, TaskState::Finished, "{slurm:?}");
        }
    }

    #[test]
    fn a_finished_run_on_other_data_is_not_this_point() {
        let f = fixture(an_hour_ago());
        f.run("h1", "other", |r| r.finish(RunStatus::Finished).unwrap());
        let state = f.state(Some("COMPLETED"));
        assert_eq!(state.state, TaskState::Failed);
        assert!(state.detail.contains("without a finished run"), "{state:?}");
    }

    #[test]
    fn slurms_queue_states_map_to_pending_and_running() {
        let f = fixture(an_hour_ago());
        assert_eq!(f.state(Some("PENDING")).state, TaskState::Pending);
        assert_eq!(f.state(Some("CONFIGURING")).state, TaskState::Pending);
        f.run("h1", "c1", |_| {});
        let running = f.state(Some("RUNNING"));
        assert_eq!(running.state, TaskState::Running);
        assert!(!running.detail.is_empty(), "names the run: {running:?}");
    }

    #[test]
    fn the_time_limit_warning_and_slurms_timeout_are_timeout() {
        let f = fixture(an_hour_ago());
        f.run("h1", "c1", |r| r.fail("interrupted (SIGUSR1)").unwrap());
        let state = f.state(Some("FAILED"));
        assert_eq!(state.state, TaskState::Timeout);
        assert!(
            state.detail.ends_with(": interrupted (SIGUSR1)"),
            "{state:?}"
        );

        // Killed at the limit before its run started: Slurm's word and the log.
        let g = fixture(an_hour_ago());
        let state = g.state(Some("TIMEOUT"));
        assert_eq!(state.state, TaskState::Timeout);
        assert!(state.detail.starts_with("Slurm: TIMEOUT; no run recorded"));
        g.log("loading\nerror: interrupted (SIGUSR1)\n");
        assert_eq!(g.state(Some("FAILED")).state, TaskState::Timeout);
    }

    #[test]
    fn a_failure_before_the_run_quotes_the_tasks_log() {
        let f = fixture(an_hour_ago());
        f.log("WARN something\nerror: bad.csv:3: field `mag`: `x` is not a number\n");
        let state = f.state(Some("FAILED"));
        assert_eq!(state.state, TaskState::Failed);
        assert!(
            state
                .detail
                .starts_with("Slurm: FAILED; bad.csv:3: field `mag`: `x` is not a number"),
            "{state:?}"
        );
        let cancelled = f.state(Some("CANCELLED"));
        assert_eq!(cancelled.state, TaskState::Failed);
        assert!(cancelled.detail.starts_with("Slurm: CANCELLED"));
    }

    #[test]
    fn runs_from_before_the_submission_are_not_its_tasks() {
        // Submitted an hour from now: the failed run recorded now predates it.
        let f = fixture(jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3600));
        f.run("h1", "c1", |r| r.fail("interrupted (SIGUSR1)").unwrap());
        let state = f.state(Some("FAILED"));
        assert_eq!(state.state, TaskState::Failed);
        assert!(state.detail.starts_with("Slurm: FAILED"), "{state:?}");
    }

    #[test]
    fn an_unsubmitted_sweep_is_pending_and_says_how_to_submit() {
        let mut f = fixture(an_hour_ago());
        f.manifest.job = None;
        let state = f.state(None);
        assert_eq!(state.state, TaskState::Pending);
        assert!(
            state
                .detail
                .starts_with("not submitted: quakelab sweep submit ")
        );
    }
}
