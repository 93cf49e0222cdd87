//! Tracked runs: the local run store, always written, and an optional MLflow mirror.
//!
//! Every run writes a directory `results/<experiment>/<run-id>/` through [`LocalStore`] (the layout
//! is documented in [`store`]). When `tracking.mlflow_uri` is set, [`Run`] also mirrors each call to
//! a real MLflow tracking server through [`MlflowTracker`]. A server that is down or refuses a call
//! never fails the run: the run completes locally, the file `unsynced` in its directory says what
//! was missed, and [`sync`] pushes the whole run later. Nothing is lost.
//!
//! ```no_run
//! use quakelab::track::{Metric, Run, RunSpec, RunStatus, Tracker};
//! # fn main() -> quakelab::Result<()> {
//! let spec = RunSpec::new("japan-2011", "seed = 7\n", 7);
//! let mut run = Run::start("results".as_ref(), &spec, Some("http://127.0.0.1:5000"))?;
//! run.log_params(&[("decoder".to_string(), "ridge".to_string())])?;
//! run.log_metrics(&[Metric::new("rmse", 0.42, 0)])?;
//! run.write_artifact("predictions/test.csv", |w| w.write_all(b"day,predicted\n0,1.5\n"))?;
//! run.finish(RunStatus::Finished)?;
//! # Ok(())
//! # }
//! ```
//!
//! # Crashes
//!
//! A run that is dropped without [`Tracker::finish`] (an error returned early, a panic) is marked
//! FAILED by the drop guards of [`Run`] and [`LocalStore`]. A process killed outright (SIGKILL, power
//! loss) runs no destructor and leaves `run.json` saying RUNNING; [`read_run`] and [`list_runs`] then
//! report the run as FAILED once its process (recorded by host, pid and process start time) no
//! longer exists. The files are not rewritten for that: a crashed run's directory stays exactly as
//! the crash left it, and earlier runs are never touched.
//!
//! SIGINT, SIGTERM and SIGUSR1 (Slurm's warning before a time limit) are handled once
//! [`fail_runs_on_interrupt`] is called (the `run` and `sweep` commands do): every open run is
//! then ended as FAILED with the error `interrupted (SIGINT)` before the process exits with
//! code 130 (143 for SIGTERM, 138 for SIGUSR1). A run that
//! fails with an error records it through [`Run::fail`], so `run.json` says why.
//!
//! # Integrity
//!
//! `run.json` carries the SHA-256 of every other file the run wrote, and every read verifies
//! them: see [`store`]. A truncated `results.csv` or a corrupt `run.json` makes [`list_runs`]
//! pass over that run with a warning instead of failing the whole experiment directory.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::Result;

pub mod interrupt;
pub mod mlflow;
pub mod store;

pub use interrupt::fail_runs_on_interrupt;
pub use mlflow::{MlflowClient, MlflowTracker, SyncReport, sync};
pub use store::{
    LocalStore, MirrorRecord, RunListing, RunRecord, SkippedRun, StoredRun, list_run_records,
    list_runs, read_run, read_verified, record_rewritten, scan_runs,
};

/// Where a tracked run stands. The names on disk and on the wire are MLflow's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    /// Started and not yet finished (or killed without a trace; see the module docs).
    Running,
    /// Finished normally.
    Finished,
    /// Finished with an error, or crashed.
    Failed,
}

impl RunStatus {
    /// The status as MLflow spells it: `RUNNING`, `FINISHED` or `FAILED`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One value of a metric, at a step (an epoch, a fold, a sweep index; 0 when there is only one).
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// The metric's name, e.g. `rmse` or `test/skill_vs_persistence`.
    pub key: String,
    /// The value; NaN and infinities are kept (MLflow stores infinities as the largest double).
    pub value: f64,
    /// The step the value belongs to.
    pub step: i64,
}

impl Metric {
    /// A metric value at `step`.
    pub fn new(key: impl Into<String>, value: f64, step: i64) -> Self {
        Metric {
            key: key.into(),
            value,
            step,
        }
    }
}

/// A metric together with the time it was logged, as both the local store and MLflow keep it.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedMetric {
    /// The metric value.
    pub metric: Metric,
    /// When it was logged, in milliseconds since the Unix epoch (UTC).
    pub timestamp_ms: i64,
}

/// Stamps metrics with one common logging time, so that the local store and the mirror agree.
pub(crate) fn stamp(metrics: &[Metric]) -> Vec<TimedMetric> {
    let timestamp_ms = jiff::Timestamp::now().as_millisecond();
    metrics
        .iter()
        .map(|metric| TimedMetric {
            metric: metric.clone(),
            timestamp_ms,
        })
        .collect()
}

/// What a run records: its parameters, metrics, artifacts and final status.
///
/// The runner talks to this seam only. [`LocalStore`] writes the run directory, [`MlflowTracker`]
/// talks to a server, and [`Run`] does both.
pub trait Tracker {
    /// Records parameters (name, value). A name logged again must keep its value, as in MLflow.
    fn log_params(&mut self, params: &[(String, String)]) -> Result<()>;
    /// Records metric values.
    fn log_metrics(&mut self, metrics: &[Metric]) -> Result<()>;
    /// Records the file `path` as the artifact `artifact_path`, a relative `/`-separated file path
    /// such as `predictions/test.csv`.
    fn log_artifact(&mut self, path: &Path, artifact_path: &str) -> Result<()>;
    /// Ends the run with `status` ([`RunStatus::Finished`] or [`RunStatus::Failed`]).
    fn finish(&mut self, status: RunStatus) -> Result<()>;
}

/// What a new run is: the experiment it belongs to, its resolved configuration and its inputs.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// The experiment's name; it names the directory `results/<experiment>/` and the MLflow
    /// experiment. One path component: no `/`, not `.` or `..`.
    pub experiment: String,
    /// The resolved configuration as TOML text, stored as `config.toml`. Its SHA-256 goes into the
    /// run id.
    pub resolved_config: String,
    /// The experiment seed.
    pub seed: u64,
    /// Hashes of the input data files, by name (e.g. `catalog` → its SHA-256).
    pub data_hashes: BTreeMap<String, String>,
}

impl RunSpec {
    /// A run of `experiment` with `resolved_config` and `seed`, and no data hashes yet.
    pub fn new(
        experiment: impl Into<String>,
        resolved_config: impl Into<String>,
        seed: u64,
    ) -> Self {
        RunSpec {
            experiment: experiment.into(),
            resolved_config: resolved_config.into(),
            seed,
            data_hashes: BTreeMap::new(),
        }
    }

    /// Adds the hash of one input data set.
    pub fn with_data_hash(mut self, name: impl Into<String>, hash: impl Into<String>) -> Self {
        self.data_hashes.insert(name.into(), hash.into());
        self
    }
}

/// A tracked run: always the local store, plus an MLflow mirror when a tracking URI is given.
///
/// The local store is the record. Its errors are returned; the mirror's never are. When an MLflow
/// call fails (server down, refused), the failure is written to the run's `unsynced` marker, the
/// mirror is dropped for the rest of the run, and the run goes on locally; [`sync`] pushes it
/// later. Dropping a `Run` before [`Tracker::finish`] finishes it as FAILED.
#[derive(Debug)]
pub struct Run {
    local: LocalStore,
    mirror: Option<MlflowTracker>,
    unsynced: bool,
}

impl Run {
    /// Starts a run of `spec` under `results_dir/<experiment>/`, mirrored to the MLflow server at
    /// `mlflow_uri` when one is given. A malformed URI is refused before anything is written; a
    /// server that cannot be reached only marks the run unsynced.
    pub fn start(results_dir: &Path, spec: &RunSpec, mlflow_uri: Option<&str>) -> Result<Self> {
        let client = mlflow_uri.map(MlflowClient::new).transpose()?;
        let mut run = Run {
            local: LocalStore::create(results_dir, spec)?,
            mirror: None,
            unsynced: false,
        };
        if let Some(client) = client {
            match run.open_mirror(client) {
                Ok(tracker) => run.mirror = Some(tracker),
                Err(err) => run.mirror_failed("starting the MLflow run", &err)?,
            }
        }
        Ok(run)
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        self.local.dir()
    }

    /// The environment record as last written.
    pub fn record(&self) -> &RunRecord {
        self.local.record()
    }

    /// Whether an MLflow call has failed during this run (the run then needs [`sync`]).
    pub fn is_unsynced(&self) -> bool {
        self.unsynced
    }

    /// Writes the artifact `artifact_path` (e.g. `predictions/test.csv`) atomically into the run
    /// directory with `write`, uploads it to the mirror, and returns its local path.
    pub fn write_artifact(
        &mut self,
        artifact_path: &str,
        write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<std::path::PathBuf> {
        let path = self.local.write_artifact(artifact_path, write)?;
        self.mirror(&format!("uploading {artifact_path}"), |t| {
            t.log_artifact(&path, artifact_path)
        })?;
        Ok(path)
    }

    fn open_mirror(&self, client: MlflowClient) -> Result<MlflowTracker> {
        let record = self.local.record();
        let mut tracker =
            MlflowTracker::start(client, &record.experiment, &record.run_id, record.started)?;
        store::write_mirror(
            self.local.dir(),
            &MirrorRecord {
                uri: tracker.client().uri().to_string(),
                experiment_id: tracker.run().experiment_id.clone(),
                run_id: tracker.run().run_id.clone(),
            },
        )?;
        tracker.set_tags(&mlflow::record_tags(record))?;
        tracker.upload_file(
            &self.local.dir().join(store::CONFIG_FILE),
            store::CONFIG_FILE,
        )?;
        Ok(tracker)
    }

    /// Runs `call` on the mirror, if there still is one; a failure marks the run unsynced.
    fn mirror(
        &mut self,
        what: &str,
        call: impl FnOnce(&mut MlflowTracker) -> Result<()>,
    ) -> Result<()> {
        match self.mirror.as_mut().map(call) {
            Some(Err(err)) => self.mirror_failed(what, &err),
            _ => Ok(()),
        }
    }

    fn mirror_failed(&mut self, what: &str, err: &crate::Error) -> Result<()> {
        tracing::warn!(
            run = %self.local.record().run_id,
            "MLflow mirror stopped ({what}): {err}; the run continues locally and needs `quakelab sync`"
        );
        self.mirror = None;
        self.unsynced = true;
        store::mark_unsynced(self.local.dir(), &format!("{what}: {err}"))
    }
}

impl Tracker for Run {
    fn log_params(&mut self, params: &[(String, String)]) -> Result<()> {
        self.local.log_params(params)?;
        self.mirror("logging params", |t| t.log_params(params))
    }

    fn log_metrics(&mut self, metrics: &[Metric]) -> Result<()> {
        let stamped = stamp(metrics);
        self.local.record_metrics(&stamped)?;
        self.mirror("logging metrics", |t| t.log_timed_metrics(&stamped))
    }

    fn log_artifact(&mut self, path: &Path, artifact_path: &str) -> Result<()> {
        self.local.log_artifact(path, artifact_path)?;
        self.mirror(&format!("uploading {artifact_path}"), |t| {
            t.log_artifact(path, artifact_path)
        })
    }

    fn finish(&mut self, status: RunStatus) -> Result<()> {
        self.local.finish(status)?;
        self.finish_mirror(status)
    }
}

impl Run {
    /// Ends the run as FAILED with `message` (the error that stopped it) recorded in `run.json`
    /// ([`RunRecord::error`]) and mirrored like [`Tracker::finish`].
    pub fn fail(&mut self, message: &str) -> Result<()> {
        self.local.fail(message)?;
        self.finish_mirror(RunStatus::Failed)
    }

    /// Sends the final `run.json` and status to the mirror, once the local store has ended.
    fn finish_mirror(&mut self, status: RunStatus) -> Result<()> {
        let ended = self
            .local
            .record()
            .ended
            .unwrap_or(self.local.record().started);
        let record_path = self.local.dir().join(store::RUN_FILE);
        self.mirror("uploading run.json", |t| {
            t.upload_file(&record_path, store::RUN_FILE)
        })?;
        self.mirror("finishing the MLflow run", |t| t.finish_at(status, ended))
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if !self.local.is_finished()
            && let Err(err) = self.fail(store::DROPPED_ERROR)
        {
            tracing::error!(run = %self.local.record().run_id, "could not finish the run as FAILED: {err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_server_leaves_a_complete_unsynced_local_run() {
        let tmp = tempfile::tempdir().unwrap();
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let uri = format!("http://127.0.0.1:{port}");
        let spec = RunSpec::new("exp", "seed = 1\n", 1);
        let mut run = Run::start(tmp.path(), &spec, Some(&uri)).unwrap();
        assert!(run.is_unsynced());
        run.log_params(&[("a".to_string(), "1".to_string())])
            .unwrap();
        run.log_metrics(&[Metric::new("rmse", 0.5, 0)]).unwrap();
        run.write_artifact("tables/t.csv", |w| w.write_all(b"x\n1\n"))
            .unwrap();
        run.finish(RunStatus::Finished).unwrap();
        let stored = read_run(run.dir()).unwrap();
        assert_eq!(stored.status, RunStatus::Finished);
        assert_eq!(stored.params, [("a".to_string(), "1".to_string())]);
        assert_eq!(stored.metrics.len(), 1);
        assert_eq!(stored.artifacts, ["tables/t.csv"]);
        assert_eq!(stored.mirror, None);
        let reason = stored.unsynced.unwrap();
        assert!(
            reason.starts_with("starting the MLflow run: mlflow: "),
            "{reason}"
        );
        assert_eq!(
            reason.lines().count(),
            1,
            "the mirror is tried once, then dropped"
        );
        // Still unreachable: sync fails and keeps the marker.
        assert!(sync(run.dir(), &uri).is_err());
        assert!(read_run(run.dir()).unwrap().unsynced.is_some());
    }

    #[test]
    fn malformed_uri_is_refused_before_anything_is_written() {
        let tmp = tempfile::tempdir().unwrap();
        let spec = RunSpec::new("exp", "", 1);
        let err = Run::start(tmp.path(), &spec, Some("localhost:5000")).unwrap_err();
        assert!(err.to_string().contains("tracking.mlflow_uri"), "{err}");
        assert!(!tmp.path().join("exp").exists());
    }

    #[test]
    fn dropped_run_is_failed() {
        let tmp = tempfile::tempdir().unwrap();
        let run = Run::start(tmp.path(), &RunSpec::new("exp", "", 1), None).unwrap();
        let dir = run.dir().to_path_buf();
        drop(run);
        assert_eq!(read_run(&dir).unwrap().record.status, RunStatus::Failed);
    }
}
