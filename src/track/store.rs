//! The local run store: one directory per run, `results/<experiment>/<run-id>/`.
//!
//! | file | what it holds |
//! |---|---|
//! | `run.json` | the environment record ([`RunRecord`]): status, quakelab version and git commit, config and data hashes, seed, host, pid, start and end (UTC), a failed run's error, and the SHA-256 of every other file |
//! | `config.toml` | the resolved configuration, exactly as given in [`RunSpec::resolved_config`] |
//! | `params.json` | the parameters, in logging order: `[{"key": .., "value": ..}, ..]` |
//! | `metrics.csv` | every metric value: `key,value,step,timestamp_ms` |
//! | `artifacts.json` | the artifact paths logged, in logging order |
//! | `predictions/`, `figures/`, `tables/`, ... | the artifacts themselves, at their artifact paths |
//! | `mlflow.json` | where the run is mirrored ([`MirrorRecord`]), once an MLflow run exists for it |
//! | `unsynced` | present when the MLflow mirror missed something; one line per failure |
//!
//! Run ids are `YYYYMMDDTHHMMSSZ-<first 8 hex of the config's SHA-256>` (UTC start time), with
//! `-002`, `-003`, ... appended when that directory is already taken; they sort by start time.
//! Every file is written whole through [`write_atomic`] (temporary file, then rename), so a crash
//! leaves each file either old or new, and a run only ever writes inside its own directory.
//!
//! # Verified reads
//!
//! `run.json` carries the SHA-256 of the run's files ([`RunRecord::sha256`]): each artifact's when
//! it is logged, and those of `config.toml`, `params.json`, `metrics.csv` and `artifacts.json` when
//! the run ends. `mlflow.json` and `unsynced` are left out: they record the MLflow mirror, which
//! `sync` updates after the run. [`read_run`] and [`read_verified`] refuse a file that no longer
//! matches (truncated, edited, replaced) with [`Error::Integrity`]; [`scan_runs`] and
//! [`list_runs`] pass over such runs, and runs whose `run.json` does not parse, and say which and
//! why, so one damaged run never hides the others.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Metric, RunSpec, RunStatus, TimedMetric, Tracker, stamp};
use crate::io::write_atomic;
use crate::{Error, Result};

/// The environment record of one run (`run.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run id, which is also the directory name.
    pub run_id: String,
    /// The experiment the run belongs to.
    pub experiment: String,
    /// The status as last written. A run killed outright still says RUNNING here; see
    /// [`StoredRun::status`] for the status that accounts for that.
    pub status: RunStatus,
    /// The quakelab version that made the run.
    pub quakelab_version: String,
    /// `git rev-parse HEAD` in the working directory when the run started, or `unknown`.
    pub git_commit: String,
    /// SHA-256 of `config.toml`, in hex.
    pub config_sha256: String,
    /// The experiment seed.
    pub seed: u64,
    /// Hashes of the input data, by name, as the caller gave them.
    pub data_hashes: BTreeMap<String, String>,
    /// The host the run ran on.
    pub host: String,
    /// The id of the process that ran it.
    pub pid: u32,
    /// That process's start time (Linux: clock ticks after boot), which tells a reused pid apart.
    pub process_start: Option<u64>,
    /// When the run started (RFC 3339 in UTC on disk).
    #[serde(with = "rfc3339")]
    pub started: jiff::Timestamp,
    /// When the run ended (RFC 3339 in UTC on disk); absent while running or after a hard kill.
    #[serde(with = "rfc3339_option")]
    pub ended: Option<jiff::Timestamp>,
    /// Why a FAILED run failed: the error the run returned, or `interrupted (SIGINT)`. Absent for
    /// a run that finished or is still running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// SHA-256 (hex) of the run's files by path relative to the run directory: each artifact's,
    /// recorded when it was logged, and the store's own files but `run.json`, `mlflow.json` and
    /// `unsynced`, recorded when the run ended. Empty in runs written before checksums existed.
    #[serde(default)]
    pub sha256: BTreeMap<String, String>,
}

/// Where a run is mirrored on an MLflow server (`mlflow.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorRecord {
    /// The tracking server's URI.
    pub uri: String,
    /// The MLflow experiment id.
    pub experiment_id: String,
    /// The MLflow run id.
    pub run_id: String,
}

/// A run read back from its directory, its files verified against [`RunRecord::sha256`].
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRun {
    /// The run directory.
    pub dir: PathBuf,
    /// The environment record as written.
    pub record: RunRecord,
    /// The effective status: the record's, except that a RUNNING run whose process is gone
    /// (same host, pid no longer alive or reused) is FAILED.
    pub status: RunStatus,
    /// The contents of the `unsynced` marker when the MLflow mirror missed something.
    pub unsynced: Option<String>,
    /// The MLflow run this run is (or was being) mirrored to.
    pub mirror: Option<MirrorRecord>,
    /// The parameters, in logging order.
    pub params: Vec<(String, String)>,
    /// The metric values, in logging order.
    pub metrics: Vec<TimedMetric>,
    /// The artifact paths, relative to the run directory, in logging order.
    pub artifacts: Vec<String>,
}

pub(crate) const RUN_FILE: &str = "run.json";
pub(crate) const CONFIG_FILE: &str = "config.toml";
const PARAMS_FILE: &str = "params.json";
const METRICS_FILE: &str = "metrics.csv";
const ARTIFACTS_FILE: &str = "artifacts.json";
const MIRROR_FILE: &str = "mlflow.json";
const UNSYNCED_FILE: &str = "unsynced";
const STORE_FILES: [&str; 7] = [
    RUN_FILE,
    CONFIG_FILE,
    PARAMS_FILE,
    METRICS_FILE,
    ARTIFACTS_FILE,
    MIRROR_FILE,
    UNSYNCED_FILE,
];
/// The store's files whose SHA-256 goes into the record when the run ends.
const HASHED_STORE_FILES: [&str; 4] = [CONFIG_FILE, PARAMS_FILE, METRICS_FILE, ARTIFACTS_FILE];
/// What a run dropped before it finished records as its error.
pub(crate) const DROPPED_ERROR: &str =
    "the run ended without finishing (a panic, or an error that was not recorded)";

/// The runs open in this process, by directory, each with its record as last written.
///
/// Every write into an open run's directory holds this lock. [`fail_open_runs`] takes it, ends
/// every open run as FAILED and hands the lock back to a caller that exits the process without
/// releasing it: it sees each file whole, and nothing is written after it.
static OPEN_RUNS: Mutex<BTreeMap<PathBuf, RunRecord>> = Mutex::new(BTreeMap::new());

/// The lock on [`OPEN_RUNS`].
pub(crate) type OpenRuns = MutexGuard<'static, BTreeMap<PathBuf, RunRecord>>;

fn open_runs() -> OpenRuns {
    // A panic while the lock was held leaves the map as consistent as the files: keep going.
    OPEN_RUNS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How many directories one second and one config may claim before giving up.
const MAX_RUN_ID_SUFFIX: u32 = 999;

#[derive(Serialize, Deserialize)]
struct KeyValue {
    key: String,
    value: String,
}

#[derive(Serialize, Deserialize)]
struct MetricRow {
    key: String,
    value: f64,
    step: i64,
    timestamp_ms: i64,
}

/// Writes one run directory. Dropping it before [`Tracker::finish`] marks the run FAILED.
#[derive(Debug)]
pub struct LocalStore {
    dir: PathBuf,
    record: RunRecord,
    params: Vec<(String, String)>,
    metrics: Vec<TimedMetric>,
    artifacts: Vec<String>,
    finished: bool,
}

impl LocalStore {
    /// Starts a run of `spec` under `results_dir/<experiment>/`, writing its environment record
    /// (status RUNNING), `config.toml` and empty parameter, metric and artifact lists.
    pub fn create(results_dir: &Path, spec: &RunSpec) -> Result<Self> {
        check_experiment_name(&spec.experiment)?;
        let config_sha256 = hex(&Sha256::digest(spec.resolved_config.as_bytes()));
        let started = jiff::Timestamp::now();
        let base = format!(
            "{}-{}",
            started.strftime("%Y%m%dT%H%M%SZ"),
            &config_sha256[..8]
        );
        let (run_id, dir) = claim_run_dir(&results_dir.join(&spec.experiment), &base)?;
        let pid = std::process::id();
        let record = RunRecord {
            run_id,
            experiment: spec.experiment.clone(),
            status: RunStatus::Running,
            quakelab_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: git_commit(),
            config_sha256,
            seed: spec.seed,
            data_hashes: spec.data_hashes.clone(),
            host: host_name(),
            pid,
            process_start: process_stat(pid).map(|stat| stat.start),
            started,
            ended: None,
            error: None,
            sha256: BTreeMap::new(),
        };
        // From here on the drop guard owns the directory: a failure below marks the run FAILED.
        let store = LocalStore {
            dir,
            record,
            params: Vec::new(),
            metrics: Vec::new(),
            artifacts: Vec::new(),
            finished: false,
        };
        // Declared after `store`, so released before its drop guard runs on an early return.
        let mut open = open_runs();
        store.write_record(&mut open)?;
        write_atomic(&store.dir.join(CONFIG_FILE), |w| {
            w.write_all(spec.resolved_config.as_bytes())
        })?;
        store.write_params()?;
        store.write_metrics()?;
        store.write_artifacts()?;
        drop(open);
        Ok(store)
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The environment record as last written.
    pub fn record(&self) -> &RunRecord {
        &self.record
    }

    /// Writes the artifact `artifact_path` (e.g. `predictions/test.csv`) atomically with `write`,
    /// records it with its SHA-256, and returns its path in the run directory. `write` runs under
    /// the lock every write into an open run holds, so it must not log into another run.
    pub fn write_artifact(
        &mut self,
        artifact_path: &str,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<PathBuf> {
        self.ensure_running()?;
        let dest = artifact_destination(&self.dir, artifact_path)?;
        let mut open = open_runs();
        write_atomic(&dest, write)?;
        self.register_artifact(&mut open, artifact_path, &dest)?;
        Ok(dest)
    }

    /// Ends the run as FAILED with `message` as its error (see [`RunRecord::error`]).
    pub fn fail(&mut self, message: &str) -> Result<()> {
        self.ensure_running()?;
        self.end(RunStatus::Failed, Some(message.to_string()))
    }

    /// Whether [`Tracker::finish`] has completed.
    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    /// Records metrics that already carry their logging time.
    pub(crate) fn record_metrics(&mut self, metrics: &[TimedMetric]) -> Result<()> {
        self.ensure_running()?;
        self.metrics.extend_from_slice(metrics);
        let _open = open_runs();
        self.write_metrics()
    }

    fn ensure_running(&self) -> Result<()> {
        if self.finished {
            return Err(Error::config(
                "track.run",
                format!("run {} has already finished", self.record.run_id),
            ));
        }
        Ok(())
    }

    /// Records the artifact written at `dest` with its SHA-256.
    fn register_artifact(
        &mut self,
        open: &mut OpenRuns,
        artifact_path: &str,
        dest: &Path,
    ) -> Result<()> {
        if !self.artifacts.iter().any(|a| a == artifact_path) {
            self.artifacts.push(artifact_path.to_string());
            self.write_artifacts()?;
        }
        self.record
            .sha256
            .insert(artifact_path.to_string(), file_sha256(dest)?);
        self.write_record(open)
    }

    /// Writes `run.json` and keeps the open-run registry's copy of the record in step.
    fn write_record(&self, open: &mut OpenRuns) -> Result<()> {
        open.insert(self.dir.clone(), self.record.clone());
        write_json(&self.dir.join(RUN_FILE), &self.record)
    }

    fn write_params(&self) -> Result<()> {
        let rows: Vec<KeyValue> = self
            .params
            .iter()
            .map(|(key, value)| KeyValue {
                key: key.clone(),
                value: value.clone(),
            })
            .collect();
        write_json(&self.dir.join(PARAMS_FILE), &rows)
    }

    fn write_metrics(&self) -> Result<()> {
        write_atomic(&self.dir.join(METRICS_FILE), |w| {
            let mut out = csv::WriterBuilder::new().has_headers(false).from_writer(w);
            // The header is written by hand, so that a file without rows has one too.
            out.write_record(["key", "value", "step", "timestamp_ms"])?;
            for m in &self.metrics {
                out.serialize(MetricRow {
                    key: m.metric.key.clone(),
                    value: m.metric.value,
                    step: m.metric.step,
                    timestamp_ms: m.timestamp_ms,
                })?;
            }
            out.flush()
        })
    }

    fn write_artifacts(&self) -> Result<()> {
        write_json(&self.dir.join(ARTIFACTS_FILE), &self.artifacts)
    }

    /// Ends the run: status, end time, error and the store files' checksums into `run.json`.
    fn end(&mut self, status: RunStatus, error: Option<String>) -> Result<()> {
        let mut open = open_runs();
        self.record.status = status;
        self.record.ended = Some(jiff::Timestamp::now());
        self.record.error = error;
        hash_store_files(&self.dir, &mut self.record)?;
        self.write_record(&mut open)?;
        open.remove(&self.dir);
        self.finished = true;
        Ok(())
    }
}

impl Tracker for LocalStore {
    fn log_params(&mut self, params: &[(String, String)]) -> Result<()> {
        self.ensure_running()?;
        let mut added = false;
        for (key, value) in params {
            match self.params.iter().find(|(k, _)| k == key) {
                Some((_, old)) if old == value => {}
                Some((_, old)) => {
                    return Err(Error::config(
                        format!("params.{key}"),
                        format!("already logged as `{old}`, cannot change it to `{value}`"),
                    ));
                }
                None => {
                    self.params.push((key.clone(), value.clone()));
                    added = true;
                }
            }
        }
        if added {
            let _open = open_runs();
            self.write_params()?;
        }
        Ok(())
    }

    fn log_metrics(&mut self, metrics: &[Metric]) -> Result<()> {
        self.record_metrics(&stamp(metrics))
    }

    fn log_artifact(&mut self, path: &Path, artifact_path: &str) -> Result<()> {
        self.ensure_running()?;
        let dest = artifact_destination(&self.dir, artifact_path)?;
        let source = path.canonicalize().map_err(|e| Error::io(path, e))?;
        let mut open = open_runs();
        // A file the caller already wrote at its place in the run directory is only recorded.
        if dest.canonicalize().ok().as_deref() != Some(source.as_path()) {
            let mut file = File::open(&source).map_err(|e| Error::io(path, e))?;
            write_atomic(&dest, |w| std::io::copy(&mut file, w).map(drop))?;
        }
        self.register_artifact(&mut open, artifact_path, &dest)
    }

    fn finish(&mut self, status: RunStatus) -> Result<()> {
        self.ensure_running()?;
        if status == RunStatus::Running {
            return Err(Error::config(
                "track.status",
                "a run finishes as FINISHED or FAILED, not RUNNING",
            ));
        }
        self.end(status, None)
    }
}

impl Drop for LocalStore {
    fn drop(&mut self) {
        if !self.finished
            && let Err(err) = self.end(RunStatus::Failed, Some(DROPPED_ERROR.to_string()))
        {
            tracing::error!(run = %self.record.run_id, "could not mark the run FAILED: {err}");
            // Not left for the interruption handler, which would give it the wrong error.
            open_runs().remove(&self.dir);
        }
    }
}

/// Ends every run open in this process as FAILED with `reason` as its error and the current
/// time as its end, and returns the runs so ended with the lock on the open runs. The caller
/// exits the process while holding that lock, so nothing is written into those runs after them.
///
/// A run mirrored to MLflow is also marked unsynced: its server copy was left RUNNING, and
/// `quakelab sync` replaces it.
pub(crate) fn fail_open_runs(reason: &str) -> (OpenRuns, Vec<PathBuf>) {
    let mut open = open_runs();
    let failed = fail_runs(&mut open, reason, |_| true);
    (open, failed)
}

/// Ends the open runs whose directory `select` accepts as FAILED with `reason`; returns them.
fn fail_runs(
    open: &mut BTreeMap<PathBuf, RunRecord>,
    reason: &str,
    select: impl Fn(&Path) -> bool,
) -> Vec<PathBuf> {
    let ended = jiff::Timestamp::now();
    let mut failed = Vec::new();
    for (dir, record) in open.iter_mut().filter(|(dir, _)| select(dir)) {
        record.status = RunStatus::Failed;
        record.ended = Some(ended);
        record.error = Some(reason.to_string());
        let written = hash_store_files(dir, record)
            .and_then(|()| write_json(&dir.join(RUN_FILE), record))
            .and_then(|()| {
                if dir.join(MIRROR_FILE).exists() {
                    mark_unsynced(dir, &format!("{reason} before its MLflow run was finished"))
                } else {
                    Ok(())
                }
            });
        match written {
            Ok(()) => failed.push(dir.clone()),
            Err(err) => {
                tracing::error!(run = %record.run_id, "could not mark the run FAILED: {err}");
            }
        }
    }
    failed
}

/// Reads a run directory back, with its effective status (see [`StoredRun::status`]), after
/// checking every file against the SHA-256 in its record: a file that no longer matches is an
/// [`Error::Integrity`] naming it, a missing one an [`Error::Io`].
pub fn read_run(run_dir: &Path) -> Result<StoredRun> {
    read_run_checking(run_dir, |_| true)
}

/// [`read_run`], checking only the recorded files for which `check` (given the artifact
/// path) is true.
fn read_run_checking(run_dir: &Path, check: impl Fn(&str) -> bool) -> Result<StoredRun> {
    let record: RunRecord = read_json(&run_dir.join(RUN_FILE))?;
    for (relative, expected) in record.sha256.iter().filter(|(r, _)| check(r)) {
        verify(&stored_path(run_dir, relative)?, expected, &file_sha256)?;
    }
    let status = effective_status(&record);
    let params: Vec<KeyValue> = read_json_or_default(&run_dir.join(PARAMS_FILE))?;
    let artifacts: Vec<String> = read_json_or_default(&run_dir.join(ARTIFACTS_FILE))?;
    let mirror_path = run_dir.join(MIRROR_FILE);
    let mirror = if mirror_path.exists() {
        Some(read_json(&mirror_path)?)
    } else {
        None
    };
    Ok(StoredRun {
        dir: run_dir.to_path_buf(),
        status,
        unsynced: read_unsynced(run_dir)?,
        mirror,
        params: params.into_iter().map(|kv| (kv.key, kv.value)).collect(),
        metrics: read_metrics(&run_dir.join(METRICS_FILE))?,
        artifacts,
        record,
    })
}

/// The runs of one experiment directory: those that read back and verify, and those passed over.
#[derive(Debug, Default)]
pub struct RunListing {
    /// The runs that read back and verified, sorted by run id, which is by start time.
    pub runs: Vec<StoredRun>,
    /// The run directories (with a `run.json`) that could not be read or failed to verify,
    /// sorted by directory.
    pub skipped: Vec<SkippedRun>,
}

/// A run directory passed over by [`scan_runs`].
#[derive(Debug)]
pub struct SkippedRun {
    /// The run directory.
    pub dir: PathBuf,
    /// Why: the file that does not parse or verify, and how.
    pub error: Error,
}

impl std::fmt::Display for SkippedRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "skipped run {}: {}", self.dir.display(), self.error)
    }
}

/// Reads every run of one experiment (`results/<experiment>/`) with [`read_run`]. A run that
/// cannot be read or fails to verify is passed over and listed in [`RunListing::skipped`], so one
/// damaged run does not stop the others. Subdirectories without a `run.json` are not runs and are
/// passed over silently; a directory that does not exist has no runs.
pub fn scan_runs(experiment_dir: &Path) -> Result<RunListing> {
    scan_runs_with(experiment_dir, read_run)
}

/// The runs of one experiment as their records say, sorted by run id, each file left unchecked
/// against its checksum until it is read ([`read_verified`]; [`read_run`] checks a whole run).
/// For what needs the records alone, such as finding a sweep point's runs, where hashing every
/// earlier run's predictions would take seconds per run. A run whose record does not read is
/// logged as a warning and passed over, as [`list_runs`] does.
pub fn list_run_records(experiment_dir: &Path) -> Result<Vec<StoredRun>> {
    let listing = scan_runs_with(experiment_dir, |dir| read_run_checking(dir, |_| false))?;
    Ok(warn_skipped(experiment_dir, listing))
}

/// [`scan_runs`], each run read by `read`.
fn scan_runs_with(
    experiment_dir: &Path,
    read: impl Fn(&Path) -> Result<StoredRun>,
) -> Result<RunListing> {
    let entries = match std::fs::read_dir(experiment_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(RunListing::default()),
        Err(e) => return Err(Error::io(experiment_dir, e)),
    };
    let mut listing = RunListing::default();
    for entry in entries {
        let dir = entry.map_err(|e| Error::io(experiment_dir, e))?.path();
        if dir.join(RUN_FILE).is_file() {
            match read(&dir) {
                Ok(run) => listing.runs.push(run),
                Err(error) => listing.skipped.push(SkippedRun { dir, error }),
            }
        }
    }
    listing
        .runs
        .sort_by(|a, b| a.record.run_id.cmp(&b.record.run_id));
    listing.skipped.sort_by(|a, b| a.dir.cmp(&b.dir));
    Ok(listing)
}

/// The runs of one experiment that read back and verify, as [`scan_runs`] finds them, sorted by
/// run id; each run passed over is logged as a warning naming it and the file at fault, followed
/// by how many were skipped.
pub fn list_runs(experiment_dir: &Path) -> Result<Vec<StoredRun>> {
    let listing = scan_runs(experiment_dir)?;
    Ok(warn_skipped(experiment_dir, listing))
}

/// The listing's runs, after a warning for each run it passed over and their count.
fn warn_skipped(experiment_dir: &Path, listing: RunListing) -> Vec<StoredRun> {
    for skipped in &listing.skipped {
        tracing::warn!("{skipped}");
    }
    if !listing.skipped.is_empty() {
        tracing::warn!(
            "{} of {} runs in {} skipped: they could not be read or failed to verify",
            listing.skipped.len(),
            listing.skipped.len() + listing.runs.len(),
            experiment_dir.display()
        );
    }
    listing.runs
}

/// The contents of `relative` (a `/`-separated path) in a run directory, checked against the
/// SHA-256 its `run.json` records for it. A file the record has no checksum for (not logged yet,
/// or a run from before checksums) is returned as read; a directory without `run.json` is not a
/// run and its files are returned as read.
pub fn read_verified(run_dir: &Path, relative: &str) -> Result<Vec<u8>> {
    let path = stored_path(run_dir, relative)?;
    let record_path = run_dir.join(RUN_FILE);
    let expected = if record_path.is_file() {
        read_json::<RunRecord>(&record_path)?
            .sha256
            .remove(relative)
    } else {
        None
    };
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    if let Some(expected) = expected {
        verify(&path, &expected, &|_: &Path| {
            Ok(hex(&Sha256::digest(&bytes)))
        })?;
    }
    Ok(bytes)
}

/// Records files rewritten in a finished run, such as tables and figures rendered again by
/// `quakelab report`: each `(artifact path, file)` is added to the artifacts if new, and its
/// SHA-256 replaces the one in `run.json`. Every other recorded file must still match its
/// SHA-256; the rewritten ones are new by design (a newer quakelab may draw a figure
/// differently). A run still running is refused.
pub fn record_rewritten(run_dir: &Path, files: &[(String, PathBuf)]) -> Result<()> {
    let run = read_run_checking(run_dir, |relative| {
        !files.iter().any(|(rewritten, _)| rewritten == relative)
    })?;
    if run.status == RunStatus::Running {
        return Err(Error::config(
            "track.run",
            format!(
                "run {} is still running; its files are rewritten only once it has ended",
                run.record.run_id
            ),
        ));
    }
    let mut record = run.record;
    let mut artifacts = run.artifacts;
    for (artifact_path, path) in files {
        let dest = artifact_destination(run_dir, artifact_path)?;
        if dest != *path {
            return Err(bad_artifact_path(
                artifact_path,
                &format!("is not where {} lies", path.display()),
            ));
        }
        record
            .sha256
            .insert(artifact_path.clone(), file_sha256(&dest)?);
        if !artifacts.contains(artifact_path) {
            artifacts.push(artifact_path.clone());
        }
    }
    let artifacts_path = run_dir.join(ARTIFACTS_FILE);
    write_json(&artifacts_path, &artifacts)?;
    record
        .sha256
        .insert(ARTIFACTS_FILE.to_string(), file_sha256(&artifacts_path)?);
    write_json(&run_dir.join(RUN_FILE), &record)
}

/// Checks that the SHA-256 of `path` (computed by `actual`) is `expected`.
fn verify(path: &Path, expected: &str, actual: &dyn Fn(&Path) -> Result<String>) -> Result<()> {
    let found = actual(path)?;
    if found != expected {
        return Err(Error::Integrity {
            path: path.to_path_buf(),
            message: format!(
                "SHA-256 {} differs from {} recorded in {RUN_FILE}: the file was truncated or \
                 changed after the run wrote it",
                short(&found),
                short(expected)
            ),
        });
    }
    Ok(())
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// Where a file named in a run record lies; refused unless it stays inside the run directory.
fn stored_path(run_dir: &Path, relative: &str) -> Result<PathBuf> {
    check_artifact_path(relative)?;
    Ok(relative
        .split('/')
        .fold(run_dir.to_path_buf(), |dir, part| dir.join(part)))
}

/// Puts the SHA-256 of the store's own files that exist into `record`.
fn hash_store_files(dir: &Path, record: &mut RunRecord) -> Result<()> {
    for name in HASHED_STORE_FILES {
        let path = dir.join(name);
        if path.is_file() {
            record.sha256.insert(name.to_string(), file_sha256(&path)?);
        }
    }
    Ok(())
}

/// The SHA-256 of a file's contents, in hex.
fn file_sha256(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| Error::io(path, e))?;
    Ok(hex(&hasher.finalize()))
}

/// Adds a line to the run's `unsynced` marker, creating it if needed.
pub(crate) fn mark_unsynced(run_dir: &Path, reason: &str) -> Result<()> {
    let mut text = read_unsynced(run_dir)?.unwrap_or_default();
    text.push_str(reason.trim_end());
    text.push('\n');
    write_atomic(&run_dir.join(UNSYNCED_FILE), |w| {
        w.write_all(text.as_bytes())
    })
}

/// Removes the `unsynced` marker after a complete sync.
pub(crate) fn clear_unsynced(run_dir: &Path) -> Result<()> {
    let path = run_dir.join(UNSYNCED_FILE);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

/// Records which MLflow run mirrors this run.
pub(crate) fn write_mirror(run_dir: &Path, mirror: &MirrorRecord) -> Result<()> {
    write_json(&run_dir.join(MIRROR_FILE), mirror)
}

fn bad_artifact_path(artifact_path: &str, why: &str) -> Error {
    Error::config("track.artifact_path", format!("`{artifact_path}` {why}"))
}

/// Checks that `artifact_path` is a relative `/`-separated file path that stays below its root.
pub(crate) fn check_artifact_path(artifact_path: &str) -> Result<()> {
    if artifact_path.is_empty() || artifact_path.starts_with('/') || artifact_path.contains('\\') {
        return Err(bad_artifact_path(
            artifact_path,
            "must be a relative path with `/` separators",
        ));
    }
    if artifact_path
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(bad_artifact_path(
            artifact_path,
            "must not contain empty, `.` or `..` components",
        ));
    }
    Ok(())
}

/// Where `artifact_path` lies in the run directory; refused if it would overwrite one of the
/// store's own files.
fn artifact_destination(run_dir: &Path, artifact_path: &str) -> Result<PathBuf> {
    check_artifact_path(artifact_path)?;
    if STORE_FILES.contains(&artifact_path) {
        return Err(bad_artifact_path(
            artifact_path,
            "is one of the run store's own files",
        ));
    }
    Ok(artifact_path
        .split('/')
        .fold(run_dir.to_path_buf(), |dir, part| dir.join(part)))
}

fn check_experiment_name(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\']) {
        return Err(Error::config(
            "experiment.name",
            format!("`{name}` must be one path component (no `/`, not `.` or `..`)"),
        ));
    }
    Ok(())
}

/// Creates the run directory `base` (or `base-002`, `base-003`, ...) and returns its id and path.
/// `create_dir` fails on an existing directory, so two processes never claim the same one.
pub(crate) fn claim_run_dir(experiment_dir: &Path, base: &str) -> Result<(String, PathBuf)> {
    std::fs::create_dir_all(experiment_dir).map_err(|e| Error::io(experiment_dir, e))?;
    for n in 1..=MAX_RUN_ID_SUFFIX {
        let id = if n == 1 {
            base.to_string()
        } else {
            format!("{base}-{n:03}")
        };
        let dir = experiment_dir.join(&id);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok((id, dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(dir, e)),
        }
    }
    Err(Error::config(
        "track.run_id",
        format!(
            "{MAX_RUN_ID_SUFFIX} runs named {base}* already exist in {}",
            experiment_dir.display()
        ),
    ))
}

fn effective_status(record: &RunRecord) -> RunStatus {
    if record.status == RunStatus::Running && process_alive(record) == Some(false) {
        RunStatus::Failed
    } else {
        record.status
    }
}

/// Whether the process that ran `record` still exists: `None` when that cannot be told (another
/// host, or no `/proc`).
fn process_alive(record: &RunRecord) -> Option<bool> {
    if record.host != host_name() || process_stat(std::process::id()).is_none() {
        return None;
    }
    match process_stat(record.pid) {
        None => Some(false),
        Some(stat) => Some(
            !matches!(stat.state, 'Z' | 'X' | 'x')
                && record.process_start.is_none_or(|start| start == stat.start),
        ),
    }
}

struct ProcessStat {
    state: char,
    start: u64,
}

/// State and start time of process `pid` from `/proc/<pid>/stat` (Linux).
fn process_stat(pid: u32) -> Option<ProcessStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces; the fields after the last
    // `)` start at field 3 (state). The start time is field 22.
    let (_, rest) = text.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(ProcessStat {
        state: fields.first()?.chars().next()?,
        start: fields.get(22 - 3)?.parse().ok()?,
    })
}

fn git_commit() -> String {
    Command::new("git")
        .args(["rev-parse", "HEAD"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit()))
        .unwrap_or_else(|| "unknown".to_string())
}

fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// (De)serialises a timestamp as RFC 3339 text (`jiff` is built without its serde feature).
pub(crate) mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(t: &jiff::Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(t)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<jiff::Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// [`rfc3339`] for an optional timestamp (`null` when absent).
mod rfc3339_option {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        t: &Option<jiff::Timestamp>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.collect_str(t),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<jiff::Timestamp>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| text.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    write_atomic(path, |w| {
        serde_json::to_writer_pretty(&mut *w, value)?;
        w.write_all(b"\n")
    })
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::parse(path, e.line() as u64, "json", e.to_string()))
}

fn read_json_or_default<T: serde::de::DeserializeOwned + Default>(path: &Path) -> Result<T> {
    if path.exists() {
        read_json(path)
    } else {
        Ok(T::default())
    }
}

fn read_unsynced(run_dir: &Path) -> Result<Option<String>> {
    let path = run_dir.join(UNSYNCED_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

fn read_metrics(path: &Path) -> Result<Vec<TimedMetric>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut reader = csv::Reader::from_reader(file);
    let mut metrics = Vec::new();
    for (i, row) in reader.deserialize::<MetricRow>().enumerate() {
        // Line 1 is the header.
        let row = row.map_err(|e| Error::parse(path, i as u64 + 2, "metric", e.to_string()))?;
        metrics.push(TimedMetric {
            metric: Metric::new(row.key, row.value, row.step),
            timestamp_ms: row.timestamp_ms,
        });
    }
    Ok(metrics)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> RunSpec {
        RunSpec::new("exp", "seed = 7\n[decode]\nmodel = \"ridge\"\n", 7)
            .with_data_hash("catalog", "ab12")
    }

    #[test]
    fn layout_and_record_read_back() {
        let tmp = tempfile::tempdir().unwrap();
        let mut store = LocalStore::create(tmp.path(), &spec()).unwrap();
        let params = [
            ("decoder".to_string(), "ridge".to_string()),
            ("alpha".to_string(), "0.5".to_string()),
        ];
        store.log_params(&params).unwrap();
        store
            .log_metrics(&[
                Metric::new("rmse", 0.25, 0),
                Metric::new("rmse", f64::NAN, 1),
            ])
            .unwrap();
        store
            .write_artifact("predictions/test.csv", |w| w.write_all(b"day,y\n0,1\n"))
            .unwrap();
        let outside = tmp.path().join("figure.svg");
        std::fs::write(&outside, "<svg/>").unwrap();
        store.log_artifact(&outside, "figures/b.svg").unwrap();
        store.finish(RunStatus::Finished).unwrap();
        let dir = store.dir().to_path_buf();
        drop(store);

        // The id: UTC start second, then the first 8 hex digits of the config's SHA-256 (sha256sum).
        let id = dir.file_name().unwrap().to_str().unwrap();
        assert_eq!(dir.parent().unwrap(), tmp.path().join("exp"));
        assert_eq!(id.len(), "20260101T000000Z-".len() + 8);
        assert_eq!(&id[8..9], "T");
        assert_eq!(&id[15..17], "Z-");
        assert_eq!(&id[17..], "90f9b4d3");

        let run = read_run(&dir).unwrap();
        assert_eq!(run.status, RunStatus::Finished);
        assert_eq!(run.record.status, RunStatus::Finished);
        assert_eq!(run.record.run_id, id);
        assert_eq!(run.record.seed, 7);
        assert_eq!(run.record.quakelab_version, env!("CARGO_PKG_VERSION"));
        assert_eq!(run.record.data_hashes["catalog"], "ab12");
        assert_eq!(run.record.pid, std::process::id());
        assert!(run.record.ended.is_some());
        assert_eq!(run.params, params.to_vec());
        assert_eq!(run.metrics.len(), 2);
        assert_eq!(run.metrics[0].metric, Metric::new("rmse", 0.25, 0));
        assert!(run.metrics[1].metric.value.is_nan());
        assert_eq!(run.metrics[1].metric.step, 1);
        assert_eq!(run.artifacts, ["predictions/test.csv", "figures/b.svg"]);
        assert_eq!(
            std::fs::read_to_string(dir.join("predictions/test.csv")).unwrap(),
            "day,y\n0,1\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("figures/b.svg")).unwrap(),
            "<svg/>"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join(CONFIG_FILE)).unwrap(),
            spec().resolved_config
        );
        assert_eq!(run.unsynced, None);
        assert_eq!(run.mirror, None);
        let started = run.record.started;
        assert_eq!(started.strftime("%Y%m%dT%H%M%SZ").to_string(), id[..16]);
        assert!(run.record.ended.unwrap() >= started);
        let text = std::fs::read_to_string(dir.join(RUN_FILE)).unwrap();
        assert!(
            text.contains(&format!("\"started\": \"{started}\"")),
            "{text}"
        );
    }

    #[test]
    fn same_second_same_config_gets_a_counter() {
        let tmp = tempfile::tempdir().unwrap();
        let exp = tmp.path().join("exp");
        let (a, _) = claim_run_dir(&exp, "20260101T000000Z-00000000").unwrap();
        let (b, _) = claim_run_dir(&exp, "20260101T000000Z-00000000").unwrap();
        let (c, _) = claim_run_dir(&exp, "20260101T000000Z-00000000").unwrap();
        assert_eq!(a, "20260101T000000Z-00000000");
        assert_eq!(b, "20260101T000000Z-00000000-002");
        assert_eq!(c, "20260101T000000Z-00000000-003");
        assert!(a < b && b < c);
    }

    #[test]
    fn params_are_immutable_and_logging_stops_after_finish() {
        let tmp = tempfile::tempdir().unwrap();
        let mut store = LocalStore::create(tmp.path(), &spec()).unwrap();
        let p = |v: &str| [("alpha".to_string(), v.to_string())];
        store.log_params(&p("1")).unwrap();
        store.log_params(&p("1")).unwrap();
        let err = store.log_params(&p("2")).unwrap_err();
        assert!(err.to_string().contains("params.alpha"), "{err}");
        assert_eq!(read_run(store.dir()).unwrap().params, p("1").to_vec());
        assert!(store.finish(RunStatus::Running).is_err());
        store.finish(RunStatus::Failed).unwrap();
        assert!(store.log_metrics(&[Metric::new("x", 1.0, 0)]).is_err());
        assert!(store.finish(RunStatus::Finished).is_err());
        assert_eq!(read_run(store.dir()).unwrap().status, RunStatus::Failed);
    }

    #[test]
    fn bad_names_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        for name in ["", "..", "a/b"] {
            let spec = RunSpec::new(name, "", 0);
            assert!(LocalStore::create(tmp.path(), &spec).is_err(), "{name:?}");
        }
        for path in ["", "/abs", "a/../b", "a//b", "./a", "run.json", "a\\b"] {
            assert!(artifact_destination(tmp.path(), path).is_err(), "{path:?}");
        }
        assert_eq!(
            artifact_destination(tmp.path(), "tables/run.json").unwrap(),
            tmp.path().join("tables").join("run.json")
        );
    }

    #[test]
    fn dropped_without_finish_is_failed() {
        let tmp = tempfile::tempdir().unwrap();
        let mut store = LocalStore::create(tmp.path(), &spec()).unwrap();
        store.log_metrics(&[Metric::new("loss", 3.0, 0)]).unwrap();
        let dir = store.dir().to_path_buf();
        assert_eq!(read_run(&dir).unwrap().status, RunStatus::Running);
        drop(store);
        let run = read_run(&dir).unwrap();
        assert_eq!(run.record.status, RunStatus::Failed);
        assert!(run.record.ended.is_some());
        assert_eq!(run.metrics.len(), 1);
    }

    #[test]
    fn running_record_of_a_dead_process_reads_as_failed() {
        let tmp = tempfile::tempdir().unwrap();
        let store = LocalStore::create(tmp.path(), &spec()).unwrap();
        let dir = store.dir().to_path_buf();
        // Skipping the destructor is what SIGKILL does; the record keeps saying RUNNING.
        std::mem::forget(store);
        let mut record: RunRecord = read_json(&dir.join(RUN_FILE)).unwrap();
        assert_eq!(record.status, RunStatus::Running);
        // Our own process is alive: still running.
        assert_eq!(read_run(&dir).unwrap().status, RunStatus::Running);

        // A process that has exited and been reaped.
        let mut child = Command::new("true").spawn().unwrap();
        let dead_pid = child.id();
        child.wait().unwrap();
        record.pid = dead_pid;
        write_json(&dir.join(RUN_FILE), &record).unwrap();
        assert_eq!(read_run(&dir).unwrap().status, RunStatus::Failed);

        // Our pid, but a different process start time: the pid was reused.
        record.pid = std::process::id();
        record.process_start = record.process_start.map(|s| s + 1);
        write_json(&dir.join(RUN_FILE), &record).unwrap();
        assert_eq!(read_run(&dir).unwrap().status, RunStatus::Failed);

        // Another host: cannot tell, so it is reported as written.
        record.process_start = None;
        record.pid = dead_pid;
        record.host = format!("{}-elsewhere", host_name());
        write_json(&dir.join(RUN_FILE), &record).unwrap();
        assert_eq!(read_run(&dir).unwrap().status, RunStatus::Running);
    }

    #[test]
    fn list_runs_sorts_and_skips_non_runs() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(list_runs(&tmp.path().join("none")).unwrap().is_empty());
        let mut a = LocalStore::create(tmp.path(), &spec()).unwrap();
        a.finish(RunStatus::Finished).unwrap();
        let b = LocalStore::create(tmp.path(), &spec()).unwrap();
        std::fs::create_dir(tmp.path().join("exp/cache")).unwrap();
        let runs = list_runs(&tmp.path().join("exp")).unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].record.run_id, a.record().run_id);
        assert_eq!(runs[1].record.run_id, b.record().run_id);
        assert_eq!(runs[0].status, RunStatus::Finished);
        assert_eq!(runs[1].status, RunStatus::Running);
    }

    #[test]
    fn files_are_checksummed_and_a_changed_file_fails_to_verify() {
        let tmp = tempfile::tempdir().unwrap();
        let mut store = LocalStore::create(tmp.path(), &spec()).unwrap();
        store
            .write_artifact("tables/t.csv", |w| w.write_all(b"x\n1\n2\n"))
            .unwrap();
        // Logged artifacts are checksummed at once, the store's own files when the run ends.
        assert_eq!(
            store.record().sha256.keys().collect::<Vec<_>>(),
            ["tables/t.csv"]
        );
        store.finish(RunStatus::Finished).unwrap();
        let dir = store.dir().to_path_buf();
        drop(store);
        let record = read_run(&dir).unwrap().record;
        // sha256sum of the bytes "x\n1\n2\n".
        assert_eq!(
            record.sha256["tables/t.csv"],
            "aea284871ddeeebac4b57b7a8ee7dad070886e690408ce2409306b9b6487beb1"
        );
        assert_eq!(
            record.sha256.keys().collect::<Vec<_>>(),
            [
                "artifacts.json",
                "config.toml",
                "metrics.csv",
                "params.json",
                "tables/t.csv"
            ]
        );
        assert_eq!(
            record.sha256["config.toml"],
            hex(&Sha256::digest(spec().resolved_config.as_bytes()))
        );
        assert_eq!(read_verified(&dir, "tables/t.csv").unwrap(), b"x\n1\n2\n");

        std::fs::write(dir.join("tables/t.csv"), b"x\n1\n").unwrap();
        for err in [
            read_run(&dir).unwrap_err(),
            read_verified(&dir, "tables/t.csv").unwrap_err(),
        ] {
            match err {
                Error::Integrity { path, message } => {
                    assert_eq!(path, dir.join("tables").join("t.csv"));
                    assert!(message.contains("aea284871dde"), "{message}");
                }
                other => panic!("expected an integrity error, got {other:?}"),
            }
        }
        std::fs::remove_file(dir.join("tables/t.csv")).unwrap();
        assert!(matches!(read_run(&dir), Err(Error::Io { .. })));
    }

    #[test]
    fn a_failed_run_records_its_error() {
        let tmp = tempfile::tempdir().unwrap();
        let mut store = LocalStore::create(tmp.path(), &spec()).unwrap();
        store.fail("decoder.alpha: must be positive").unwrap();
        let dir = store.dir().to_path_buf();
        let record = read_run(&dir).unwrap().record;
        assert_eq!(record.status, RunStatus::Failed);
        assert!(record.ended.is_some());
        assert_eq!(
            record.error.as_deref(),
            Some("decoder.alpha: must be positive")
        );
        assert!(store.fail("again").is_err(), "a run ends once");
        drop(store);

        let finished = LocalStore::create(tmp.path(), &spec()).unwrap();
        let dir = finished.dir().to_path_buf();
        drop(finished);
        let record = read_run(&dir).unwrap().record;
        assert_eq!(record.error.as_deref(), Some(DROPPED_ERROR));
        let text = std::fs::read_to_string(dir.join(RUN_FILE)).unwrap();
        assert!(text.contains("\"error\": "), "{text}");
    }

    #[test]
    fn interrupting_fails_open_runs_only() {
        let tmp = tempfile::tempdir().unwrap();
        let mut done = LocalStore::create(tmp.path(), &spec()).unwrap();
        done.finish(RunStatus::Finished).unwrap();
        let mut open = LocalStore::create(tmp.path(), &spec()).unwrap();
        open.log_metrics(&[Metric::new("loss", 1.0, 0)]).unwrap();
        // Other tests of this process may have runs open too: leave theirs alone.
        let failed = fail_runs(&mut open_runs(), "interrupted (SIGINT)", |dir| {
            dir.starts_with(tmp.path())
        });
        assert_eq!(failed, [open.dir().to_path_buf()]);
        let run = read_run(open.dir()).unwrap();
        assert_eq!(run.status, RunStatus::Failed);
        assert!(run.record.ended.is_some());
        assert_eq!(run.record.error.as_deref(), Some("interrupted (SIGINT)"));
        assert!(run.record.sha256.contains_key(METRICS_FILE));
        assert_eq!(read_run(done.dir()).unwrap().record.error, None);
        // The process would exit now; here the run is let go without its drop guard.
        open_runs().remove(open.dir());
        open.finished = true;
    }

    #[test]
    fn unsynced_marker_accumulates_and_clears() {
        let tmp = tempfile::tempdir().unwrap();
        mark_unsynced(tmp.path(), "runs/create: refused").unwrap();
        mark_unsynced(tmp.path(), "runs/update: refused\n").unwrap();
        assert_eq!(
            read_unsynced(tmp.path()).unwrap().as_deref(),
            Some("runs/create: refused\nruns/update: refused\n")
        );
        clear_unsynced(tmp.path()).unwrap();
        clear_unsynced(tmp.path()).unwrap();
        assert_eq!(read_unsynced(tmp.path()).unwrap(), None);
    }
}
