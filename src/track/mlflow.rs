//! A small typed client for the MLflow tracking server's REST API, the [`MlflowTracker`] built on
//! it, and [`sync`], which pushes a stored run to a server later.
//!
//! Why not the `mlflow-client` crate: version 0.0.1 covers tracking only (no artifacts), and it
//! brings reqwest, tokio and OpenSSL. This client is `ureq` and `serde_json`, and speaks exactly
//! the calls quakelab needs (MLflow 2 and 3, checked against a 3.17 server):
//!
//! | call | used for |
//! |---|---|
//! | `GET experiments/get-by-name`, `POST experiments/create` | the experiment of a run, created on first use |
//! | `POST runs/create`, `POST runs/update`, `POST runs/delete` | a run's life; delete removes a partial mirror that [`sync`] replaced |
//! | `POST runs/log-batch` | params, metrics and tags, in chunks of at most 100 params, 1000 metrics, 100 tags |
//! | `PUT`/`GET /api/2.0/mlflow-artifacts/artifacts/<path>` | artifact upload and download through the server's artifact proxy (`--serve-artifacts`, the default since MLflow 2) |
//! | `GET runs/get`, `GET metrics/get-history`, `POST runs/search` | reading runs back |
//! | `GET /health` | whether the server is up |
//!
//! Every request has a connect timeout and an overall timeout, and every paged read a bounded
//! number of pages, so a stuck server cannot hang a run.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::store::{
    CONFIG_FILE, MirrorRecord, RUN_FILE, RunRecord, StoredRun, check_artifact_path, clear_unsynced,
    mark_unsynced, read_run, write_mirror,
};
use super::{Metric, RunStatus, TimedMetric, Tracker, stamp};
use crate::{Error, Result};

/// At most this many metrics go into one `runs/log-batch` request (MLflow's limit).
pub const MAX_METRICS_PER_BATCH: usize = 1000;
/// At most this many params go into one `runs/log-batch` request (MLflow's limit).
pub const MAX_PARAMS_PER_BATCH: usize = 100;
/// At most this many tags go into one `runs/log-batch` request (MLflow's limit).
pub const MAX_TAGS_PER_BATCH: usize = 100;

const SERVICE: &str = "mlflow";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Artifacts read back are at most this large.
const MAX_DOWNLOAD_BYTES: u64 = 1 << 30;
/// Paged reads stop after this many pages.
const MAX_PAGES: usize = 1000;
const PAGE_SIZE: usize = 1000;

/// A failed call, with the server's error code kept so that callers can react to it.
struct Failure {
    call: String,
    status: Option<u16>,
    code: Option<String>,
    message: String,
}

impl Failure {
    fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Self {
        let mut message = f.call;
        if let Some(status) = f.status {
            message.push_str(&format!(": HTTP {status}"));
        }
        if let Some(code) = f.code {
            message.push_str(&format!(" {code}"));
        }
        message.push_str(&format!(": {}", f.message));
        Error::External {
            service: SERVICE.to_string(),
            message,
        }
    }
}

type Call<T> = std::result::Result<T, Failure>;

/// A run's identity and state on the server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RunInfo {
    /// The server's run id.
    pub run_id: String,
    /// The experiment the run belongs to.
    pub experiment_id: String,
    /// The run's display name (quakelab uses its local run id).
    #[serde(default)]
    pub run_name: String,
    /// `RUNNING`, `FINISHED`, `FAILED` (or MLflow's `SCHEDULED`, `KILLED`).
    pub status: String,
    /// Where the run's artifacts live, e.g. `mlflow-artifacts:/1/<run_id>/artifacts`.
    pub artifact_uri: String,
    /// `active` or `deleted`.
    pub lifecycle_stage: String,
    /// Start time in milliseconds since the Unix epoch.
    pub start_time: Option<i64>,
    /// End time in milliseconds since the Unix epoch, once finished.
    pub end_time: Option<i64>,
}

/// A run as the server reports it (`runs/get`).
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteRun {
    /// Identity and state.
    pub info: RunInfo,
    /// The parameters, by name.
    pub params: BTreeMap<String, String>,
    /// The tags.
    pub tags: BTreeMap<String, String>,
    /// The latest value of each metric.
    pub latest_metrics: Vec<TimedMetric>,
}

#[derive(Serialize, Deserialize)]
struct KeyValue {
    key: String,
    value: String,
}

/// A metric value on the wire: a JSON number, or `"NaN"`, `"Infinity"`, `"-Infinity"` (the
/// protobuf JSON spellings) for what JSON numbers cannot hold.
#[derive(Debug, Clone, Copy)]
struct WireValue(f64);

impl Serialize for WireValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_finite() {
            s.serialize_f64(v)
        } else if v.is_nan() {
            s.serialize_str("NaN")
        } else if v > 0.0 {
            s.serialize_str("Infinity")
        } else {
            s.serialize_str("-Infinity")
        }
    }
}

impl<'de> Deserialize<'de> for WireValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum NumberOrText {
            Number(f64),
            Text(String),
        }
        match NumberOrText::deserialize(d)? {
            NumberOrText::Number(v) => Ok(WireValue(v)),
            NumberOrText::Text(t) => match t.as_str() {
                "NaN" => Ok(WireValue(f64::NAN)),
                "Infinity" => Ok(WireValue(f64::INFINITY)),
                "-Infinity" => Ok(WireValue(f64::NEG_INFINITY)),
                other => Err(serde::de::Error::custom(format!(
                    "metric value `{other}` is not a number"
                ))),
            },
        }
    }
}

#[derive(Serialize, Deserialize)]
struct WireMetric {
    key: String,
    value: WireValue,
    timestamp: i64,
    #[serde(default)]
    step: i64,
}

impl From<&TimedMetric> for WireMetric {
    fn from(m: &TimedMetric) -> Self {
        WireMetric {
            key: m.metric.key.clone(),
            value: WireValue(m.metric.value),
            timestamp: m.timestamp_ms,
            step: m.metric.step,
        }
    }
}

impl From<WireMetric> for TimedMetric {
    fn from(m: WireMetric) -> Self {
        TimedMetric {
            metric: Metric::new(m.key, m.value.0, m.step),
            timestamp_ms: m.timestamp,
        }
    }
}

#[derive(Deserialize)]
struct RawRun {
    info: RunInfo,
    #[serde(default)]
    data: RawRunData,
}

#[derive(Deserialize, Default)]
struct RawRunData {
    #[serde(default)]
    metrics: Vec<WireMetric>,
    #[serde(default)]
    params: Vec<KeyValue>,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

impl From<RawRun> for RemoteRun {
    fn from(raw: RawRun) -> Self {
        let pairs = |kvs: Vec<KeyValue>| kvs.into_iter().map(|kv| (kv.key, kv.value)).collect();
        RemoteRun {
            info: raw.info,
            params: pairs(raw.data.params),
            tags: pairs(raw.data.tags),
            latest_metrics: raw.data.metrics.into_iter().map(Into::into).collect(),
        }
    }
}

/// A client of one MLflow tracking server.
#[derive(Debug, Clone)]
pub struct MlflowClient {
    base: String,
    agent: ureq::Agent,
}

impl MlflowClient {
    /// A client of the server at `uri` (`http://host:port`, optionally with a path prefix).
    /// Nothing is contacted yet.
    pub fn new(uri: &str) -> Result<Self> {
        let base = uri.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::config(
                "tracking.mlflow_uri",
                format!("`{uri}` is not an http:// or https:// URI"),
            ));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(REQUEST_TIMEOUT))
            .build()
            .into();
        Ok(MlflowClient {
            base: base.to_string(),
            agent,
        })
    }

    /// The server's URI, without a trailing `/`.
    pub fn uri(&self) -> &str {
        &self.base
    }

    /// Succeeds when the server answers `GET /health` with success.
    pub fn health(&self) -> Result<()> {
        let url = format!("{}/health", self.base);
        let response = self.agent.get(&url).call();
        expect_ok("GET /health", response)?;
        Ok(())
    }

    /// The id of the experiment `name`, created if it does not exist yet.
    pub fn experiment_id(&self, name: &str) -> Result<String> {
        if let Some(id) = self.experiment_by_name(name)? {
            return Ok(id);
        }
        #[derive(Deserialize)]
        struct Created {
            experiment_id: String,
        }
        match self.post::<Created>("experiments/create", &json!({ "name": name })) {
            Ok(created) => Ok(created.experiment_id),
            // Someone else created it in between.
            Err(f) if f.is("RESOURCE_ALREADY_EXISTS") => {
                self.experiment_by_name(name)?
                    .ok_or_else(|| Error::External {
                        service: SERVICE.to_string(),
                        message: format!("experiment `{name}` exists but cannot be read"),
                    })
            }
            Err(f) => Err(f.into()),
        }
    }

    fn experiment_by_name(&self, name: &str) -> Call<Option<String>> {
        #[derive(Deserialize)]
        struct Experiment {
            experiment_id: String,
        }
        #[derive(Deserialize)]
        struct Found {
            experiment: Experiment,
        }
        match self.get::<Found>("experiments/get-by-name", &[("experiment_name", name)]) {
            Ok(found) => Ok(Some(found.experiment.experiment_id)),
            Err(f) if f.is("RESOURCE_DOES_NOT_EXIST") => Ok(None),
            Err(f) => Err(f),
        }
    }

    /// Creates a run named `run_name` in experiment `experiment_id`, started at `start_time_ms`.
    pub fn create_run(
        &self,
        experiment_id: &str,
        run_name: &str,
        start_time_ms: i64,
    ) -> Result<RunInfo> {
        let body = json!({
            "experiment_id": experiment_id,
            "run_name": run_name,
            "start_time": start_time_ms,
        });
        Ok(self.post::<RawRunEnvelope>("runs/create", &body)?.run.info)
    }

    /// Logs params, metrics and tags of run `run_id`, split into requests within MLflow's limits.
    /// Params and tags go first, so that a failure part-way loses as little as possible.
    pub fn log_batch(
        &self,
        run_id: &str,
        params: &[(String, String)],
        metrics: &[TimedMetric],
        tags: &[(String, String)],
    ) -> Result<()> {
        let pairs = |kvs: &[(String, String)]| -> Vec<KeyValue> {
            kvs.iter()
                .map(|(key, value)| KeyValue {
                    key: key.clone(),
                    value: value.clone(),
                })
                .collect()
        };
        for chunk in params.chunks(MAX_PARAMS_PER_BATCH) {
            let body = json!({ "run_id": run_id, "params": pairs(chunk) });
            self.post::<IgnoredAny>("runs/log-batch", &body)?;
        }
        for chunk in tags.chunks(MAX_TAGS_PER_BATCH) {
            let body = json!({ "run_id": run_id, "tags": pairs(chunk) });
            self.post::<IgnoredAny>("runs/log-batch", &body)?;
        }
        for chunk in metrics.chunks(MAX_METRICS_PER_BATCH) {
            let wire: Vec<WireMetric> = chunk.iter().map(WireMetric::from).collect();
            let body = json!({ "run_id": run_id, "metrics": wire });
            self.post::<IgnoredAny>("runs/log-batch", &body)?;
        }
        Ok(())
    }

    /// Sets the status of run `run_id` and, when given, its end time.
    pub fn update_run(
        &self,
        run_id: &str,
        status: RunStatus,
        end_time_ms: Option<i64>,
    ) -> Result<()> {
        let mut body = json!({ "run_id": run_id, "status": status.as_str() });
        if let Some(end) = end_time_ms {
            body["end_time"] = json!(end);
        }
        self.post::<IgnoredAny>("runs/update", &body)?;
        Ok(())
    }

    /// Marks run `run_id` deleted (MLflow keeps it, in the `deleted` lifecycle stage).
    pub fn delete_run(&self, run_id: &str) -> Result<()> {
        self.post::<IgnoredAny>("runs/delete", &json!({ "run_id": run_id }))?;
        Ok(())
    }

    /// Reads run `run_id` back: its info, params, tags and latest metric values.
    pub fn get_run(&self, run_id: &str) -> Result<RemoteRun> {
        let envelope: RawRunEnvelope = self.get("runs/get", &[("run_id", run_id)])?;
        Ok(envelope.run.into())
    }

    /// Every value logged for metric `key` of run `run_id`.
    pub fn metric_history(&self, run_id: &str, key: &str) -> Result<Vec<TimedMetric>> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            metrics: Vec<WireMetric>,
            next_page_token: Option<String>,
        }
        let page_size = PAGE_SIZE.to_string();
        let mut metrics = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![
                ("run_id", run_id),
                ("metric_key", key),
                ("max_results", page_size.as_str()),
            ];
            if let Some(t) = token.as_deref() {
                query.push(("page_token", t));
            }
            let page: Page = self.get("metrics/get-history", &query)?;
            metrics.extend(page.metrics.into_iter().map(TimedMetric::from));
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) => token = Some(next),
                None => return Ok(metrics),
            }
        }
        Err(too_many_pages("metrics/get-history"))
    }

    /// The active runs of experiment `experiment_id`.
    pub fn search_runs(&self, experiment_id: &str) -> Result<Vec<RunInfo>> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            runs: Vec<RawRun>,
            next_page_token: Option<String>,
        }
        let mut runs = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut body = json!({
                "experiment_ids": [experiment_id],
                "max_results": PAGE_SIZE,
            });
            if let Some(t) = token.take() {
                body["page_token"] = json!(t);
            }
            let page: Page = self.post("runs/search", &body)?;
            runs.extend(page.runs.into_iter().map(|r| r.info));
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) => token = Some(next),
                None => return Ok(runs),
            }
        }
        Err(too_many_pages("runs/search"))
    }

    /// Uploads `bytes` as `artifact_path` (relative, `/`-separated) below the run artifact root
    /// `artifact_uri`, through the server's artifact proxy.
    pub fn upload_artifact(
        &self,
        artifact_uri: &str,
        artifact_path: &str,
        bytes: &[u8],
    ) -> Result<()> {
        let url = self.artifact_url(artifact_uri, artifact_path)?;
        let response = self.agent.put(&url).send(bytes);
        expect_ok(&format!("PUT artifact {artifact_path}"), response)?;
        Ok(())
    }

    /// Downloads the artifact `artifact_path` below `artifact_uri` through the artifact proxy.
    pub fn download_artifact(&self, artifact_uri: &str, artifact_path: &str) -> Result<Vec<u8>> {
        let url = self.artifact_url(artifact_uri, artifact_path)?;
        let response = self.agent.get(&url).call();
        let call = format!("GET artifact {artifact_path}");
        let mut response = expect_ok(&call, response)?;
        response
            .body_mut()
            .with_config()
            .limit(MAX_DOWNLOAD_BYTES)
            .read_to_vec()
            .map_err(|e| transport(&call, e).into())
    }

    fn artifact_url(&self, artifact_uri: &str, artifact_path: &str) -> Result<String> {
        check_artifact_path(artifact_path)?;
        let root = proxied_root(artifact_uri)?;
        let mut url = format!("{}/api/2.0/mlflow-artifacts/artifacts/", self.base);
        if !root.is_empty() {
            url.push_str(&percent_encode_path(root));
            url.push('/');
        }
        url.push_str(&percent_encode_path(artifact_path));
        Ok(url)
    }

    fn post<T: DeserializeOwned>(&self, endpoint: &str, body: &serde_json::Value) -> Call<T> {
        let call = format!("POST {endpoint}");
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.base);
        decode(&call, self.agent.post(&url).send_json(body))
    }

    fn get<T: DeserializeOwned>(&self, endpoint: &str, query: &[(&str, &str)]) -> Call<T> {
        let call = format!("GET {endpoint}");
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.base);
        let request = query
            .iter()
            .fold(self.agent.get(&url), |r, (k, v)| r.query(*k, *v));
        decode(&call, request.call())
    }
}

#[derive(Deserialize)]
struct RawRunEnvelope {
    run: RawRun,
}

type Response = ureq::http::Response<ureq::Body>;

fn transport(call: &str, e: ureq::Error) -> Failure {
    Failure {
        call: call.to_string(),
        status: None,
        code: None,
        message: e.to_string(),
    }
}

/// The response if its status is a success; otherwise a [`Failure`] with the server's error code
/// and message when its body has them (`{"error_code": .., "message": ..}`).
fn expect_ok(call: &str, response: std::result::Result<Response, ureq::Error>) -> Call<Response> {
    let mut response = response.map_err(|e| transport(call, e))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    #[derive(Deserialize)]
    struct ErrorBody {
        error_code: Option<String>,
        message: Option<String>,
        detail: Option<serde_json::Value>,
    }
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let (code, message) = match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => (
            body.error_code,
            body.message
                .or_else(|| body.detail.map(|d| d.to_string()))
                .unwrap_or(text),
        ),
        Err(_) => (None, text),
    };
    Err(Failure {
        call: call.to_string(),
        status: Some(status.as_u16()),
        code,
        message,
    })
}

fn decode<T: DeserializeOwned>(
    call: &str,
    response: std::result::Result<Response, ureq::Error>,
) -> Call<T> {
    expect_ok(call, response)?
        .body_mut()
        .read_json()
        .map_err(|e| transport(call, e))
}

fn too_many_pages(call: &str) -> Error {
    Error::External {
        service: SERVICE.to_string(),
        message: format!("{call}: still more pages after {MAX_PAGES}"),
    }
}

/// The path of a run's artifact root below the proxy route, from its artifact URI: the path of an
/// `mlflow-artifacts:` URI (`mlflow-artifacts:/1/<run>/artifacts` or with a `//host` part), or
/// what follows the route in an `http(s)` URI. Other roots (a local path, `s3://`) mean the server
/// does not proxy artifacts.
fn proxied_root(artifact_uri: &str) -> Result<&str> {
    const ROUTE: &str = "/api/2.0/mlflow-artifacts/artifacts/";
    let path = if let Some(rest) = artifact_uri.strip_prefix("mlflow-artifacts:") {
        match rest.strip_prefix("//") {
            Some(after_host) => after_host.find('/').map_or("", |i| &after_host[i..]),
            None => rest,
        }
    } else if let Some((_, path)) = artifact_uri
        .split_once(ROUTE)
        .filter(|_| artifact_uri.starts_with("http://") || artifact_uri.starts_with("https://"))
    {
        path
    } else {
        return Err(Error::External {
            service: SERVICE.to_string(),
            message: format!(
                "artifact root `{artifact_uri}` is not served through the tracking server; \
                 start it with --serve-artifacts (the default since MLflow 2)"
            ),
        });
    };
    Ok(path.trim_matches('/'))
}

/// Percent-encodes a `/`-separated path, keeping the separators and RFC 3986's unreserved
/// characters.
fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Milliseconds since the Unix epoch, as MLflow counts time.
pub(crate) fn millis(t: jiff::Timestamp) -> i64 {
    t.as_millisecond()
}

/// The run's environment record as MLflow tags.
pub(crate) fn record_tags(record: &RunRecord) -> Vec<(String, String)> {
    let mut tags = vec![
        ("quakelab.run_id".to_string(), record.run_id.clone()),
        (
            "quakelab.version".to_string(),
            record.quakelab_version.clone(),
        ),
        ("quakelab.git_commit".to_string(), record.git_commit.clone()),
        (
            "mlflow.source.git.commit".to_string(),
            record.git_commit.clone(),
        ),
        (
            "quakelab.config_sha256".to_string(),
            record.config_sha256.clone(),
        ),
        ("quakelab.seed".to_string(), record.seed.to_string()),
        ("quakelab.host".to_string(), record.host.clone()),
    ];
    tags.extend(
        record
            .data_hashes
            .iter()
            .map(|(name, hash)| (format!("quakelab.data.{name}"), hash.clone())),
    );
    // MLflow keeps tag values up to 5000 characters.
    tags.extend(
        record
            .error
            .as_ref()
            .map(|e| ("quakelab.error".to_string(), e.chars().take(5000).collect())),
    );
    tags
}

/// A [`Tracker`] that records one run on an MLflow server.
#[derive(Debug)]
pub struct MlflowTracker {
    client: MlflowClient,
    run: RunInfo,
}

impl MlflowTracker {
    /// Creates a run named `run_name` in experiment `experiment` (created if needed), started at
    /// `started`.
    pub fn start(
        client: MlflowClient,
        experiment: &str,
        run_name: &str,
        started: jiff::Timestamp,
    ) -> Result<Self> {
        let experiment_id = client.experiment_id(experiment)?;
        let run = client.create_run(&experiment_id, run_name, millis(started))?;
        Ok(MlflowTracker { client, run })
    }

    /// The client this tracker talks through.
    pub fn client(&self) -> &MlflowClient {
        &self.client
    }

    /// The run on the server, as created.
    pub fn run(&self) -> &RunInfo {
        &self.run
    }

    /// Sets tags on the run.
    pub fn set_tags(&mut self, tags: &[(String, String)]) -> Result<()> {
        self.client.log_batch(&self.run.run_id, &[], &[], tags)
    }

    /// Logs metrics that already carry their logging time.
    pub(crate) fn log_timed_metrics(&mut self, metrics: &[TimedMetric]) -> Result<()> {
        self.client.log_batch(&self.run.run_id, &[], metrics, &[])
    }

    /// Uploads a file under `artifact_path` without the store's name checks (used for the
    /// store's own `config.toml` and `run.json`).
    pub(crate) fn upload_file(&mut self, path: &Path, artifact_path: &str) -> Result<()> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        self.client
            .upload_artifact(&self.run.artifact_uri, artifact_path, &bytes)
    }

    /// Ends the run with `status` at `ended`.
    pub(crate) fn finish_at(&mut self, status: RunStatus, ended: jiff::Timestamp) -> Result<()> {
        self.client
            .update_run(&self.run.run_id, status, Some(millis(ended)))
    }
}

impl Tracker for MlflowTracker {
    fn log_params(&mut self, params: &[(String, String)]) -> Result<()> {
        self.client.log_batch(&self.run.run_id, params, &[], &[])
    }

    fn log_metrics(&mut self, metrics: &[Metric]) -> Result<()> {
        self.log_timed_metrics(&stamp(metrics))
    }

    fn log_artifact(&mut self, path: &Path, artifact_path: &str) -> Result<()> {
        self.upload_file(path, artifact_path)
    }

    fn finish(&mut self, status: RunStatus) -> Result<()> {
        if status == RunStatus::Running {
            return Err(Error::config(
                "track.status",
                "a run finishes as FINISHED or FAILED, not RUNNING",
            ));
        }
        self.finish_at(status, jiff::Timestamp::now())
    }
}

/// What [`sync`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncReport {
    /// The local run id.
    pub local_run_id: String,
    /// Where the run now lives on the server.
    pub mirror: MirrorRecord,
    /// The status pushed (the effective status: a killed run is FAILED).
    pub status: RunStatus,
    /// How many params were pushed.
    pub params: usize,
    /// How many metric values were pushed.
    pub metrics: usize,
    /// How many artifacts were pushed, besides `config.toml` and `run.json`.
    pub artifacts: usize,
    /// True when the run was already complete on this server and nothing was pushed.
    pub already_synced: bool,
    /// The partial MLflow run of an earlier attempt on this server, now deleted and replaced.
    pub replaced: Option<String>,
}

impl std::fmt::Display for SyncReport {
    /// A few lines for people: what was pushed, where, and the MLflow run's page.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = &self.mirror;
        if self.already_synced {
            writeln!(
                f,
                "run {} is already on {}; nothing pushed",
                self.local_run_id, m.uri
            )?;
        } else {
            writeln!(
                f,
                "pushed run {} ({}) to {}",
                self.local_run_id, self.status, m.uri
            )?;
        }
        writeln!(
            f,
            "  MLflow run {} in experiment {}: {}/#/experiments/{}/runs/{}",
            m.run_id, m.experiment_id, m.uri, m.experiment_id, m.run_id
        )?;
        if !self.already_synced {
            let plural = |n: usize, one: &str, many: &str| {
                format!("{n} {}", if n == 1 { one } else { many })
            };
            writeln!(
                f,
                "  {}, {}, {} (and config.toml, run.json)",
                plural(self.params, "param", "params"),
                plural(self.metrics, "metric value", "metric values"),
                plural(self.artifacts, "artifact", "artifacts"),
            )?;
        }
        if let Some(old) = &self.replaced {
            writeln!(
                f,
                "  replaced the partial MLflow run {old} of an earlier attempt"
            )?;
        }
        Ok(())
    }
}

/// Pushes the run stored in `run_dir` to the MLflow server at `uri`.
///
/// A run whose mirror on this server is complete (no `unsynced` marker) is left alone. Otherwise a
/// new MLflow run receives everything: tags from the environment record, params, every metric
/// value with its original timestamp and step, `config.toml`, the artifacts, `run.json`, and the
/// final status and times. A partial mirror left on the same server by the interrupted run is
/// deleted afterwards, so the server ends with exactly one copy. The `unsynced` marker goes only
/// once everything is on the server; a failed sync leaves it (with the reason added) and can be
/// repeated. A run that is still running is refused.
pub fn sync(run_dir: &Path, uri: &str) -> Result<SyncReport> {
    let run = read_run(run_dir)?;
    if run.status == RunStatus::Running {
        return Err(Error::config(
            "track.sync",
            format!(
                "run {} is still running (pid {} on {}); sync it when it has finished",
                run.record.run_id, run.record.pid, run.record.host
            ),
        ));
    }
    let client = MlflowClient::new(uri)?;
    let earlier = run.mirror.clone().filter(|m| m.uri == client.uri());
    let report =
        |mirror: MirrorRecord, already_synced: bool, replaced: Option<String>| SyncReport {
            local_run_id: run.record.run_id.clone(),
            mirror,
            status: run.status,
            params: run.params.len(),
            metrics: run.metrics.len(),
            artifacts: run.artifacts.len(),
            already_synced,
            replaced,
        };
    if run.unsynced.is_none()
        && let Some(mirror) = earlier.clone()
    {
        return Ok(report(mirror, true, None));
    }
    if run.unsynced.is_none() {
        mark_unsynced(
            run_dir,
            &format!("sync to {} started and has not completed", client.uri()),
        )?;
    }
    let mirror = match push(&client, &run) {
        Ok(mirror) => mirror,
        Err(err) => {
            mark_unsynced(run_dir, &format!("sync to {}: {err}", client.uri()))?;
            return Err(err);
        }
    };
    let replaced = earlier
        .map(|old| old.run_id)
        .filter(|old| *old != mirror.run_id)
        .and_then(|old| match client.delete_run(&old) {
            Ok(()) => Some(old),
            Err(err) => {
                tracing::warn!("could not delete the partial MLflow run {old}: {err}");
                None
            }
        });
    clear_unsynced(run_dir)?;
    Ok(report(mirror, false, replaced))
}

/// Creates a new MLflow run for `run` and pushes all of it.
fn push(client: &MlflowClient, run: &StoredRun) -> Result<MirrorRecord> {
    let record = &run.record;
    let mut tracker = MlflowTracker::start(
        client.clone(),
        &record.experiment,
        &record.run_id,
        record.started,
    )?;
    let mirror = MirrorRecord {
        uri: client.uri().to_string(),
        experiment_id: tracker.run.experiment_id.clone(),
        run_id: tracker.run.run_id.clone(),
    };
    // Recorded before anything else is pushed, so that an interrupted sync's run is known and
    // replaced by the next one.
    write_mirror(&run.dir, &mirror)?;
    client.log_batch(
        &mirror.run_id,
        &run.params,
        &run.metrics,
        &record_tags(record),
    )?;
    tracker.upload_file(&run.dir.join(CONFIG_FILE), CONFIG_FILE)?;
    for artifact in &run.artifacts {
        let path = artifact
            .split('/')
            .fold(run.dir.clone(), |dir, part| dir.join(part));
        tracker.upload_file(&path, artifact)?;
    }
    tracker.upload_file(&run.dir.join(RUN_FILE), RUN_FILE)?;
    client.update_run(&mirror.run_id, run.status, record.ended.map(millis))?;
    Ok(mirror)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_roots_map_to_proxy_paths() {
        let run = "9c3b42212cc9457bbfff96d7952e98f5";
        let uri = format!("mlflow-artifacts:/1/{run}/artifacts");
        assert_eq!(proxied_root(&uri).unwrap(), format!("1/{run}/artifacts"));
        let uri = format!("mlflow-artifacts://host:5000/1/{run}/artifacts");
        assert_eq!(proxied_root(&uri).unwrap(), format!("1/{run}/artifacts"));
        let uri = format!("http://h:5000/api/2.0/mlflow-artifacts/artifacts/7/{run}/artifacts");
        assert_eq!(proxied_root(&uri).unwrap(), format!("7/{run}/artifacts"));
        assert!(proxied_root("/srv/mlruns/1/x/artifacts").is_err());
        assert!(proxied_root("s3://bucket/1/x/artifacts").is_err());

        let client = MlflowClient::new("http://127.0.0.1:5000/").unwrap();
        assert_eq!(client.uri(), "http://127.0.0.1:5000");
        assert_eq!(
            client
                .artifact_url(
                    "mlflow-artifacts:/1/r/artifacts",
                    "figures/b value (Mc 2.5).png"
                )
                .unwrap(),
            "http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/\
             figures/b%20value%20%28Mc%202.5%29.png"
        );
        assert!(
            client
                .artifact_url("mlflow-artifacts:/1/r/artifacts", "../x")
                .is_err()
        );
        assert!(MlflowClient::new("127.0.0.1:5000").is_err());
    }

    #[test]
    fn non_finite_metric_values_use_protobuf_json_spellings() {
        let metric = |v: f64| TimedMetric {
            metric: Metric::new("m", v, 3),
            timestamp_ms: 17,
        };
        let text = serde_json::to_string(&WireMetric::from(&metric(f64::NAN))).unwrap();
        assert_eq!(text, r#"{"key":"m","value":"NaN","timestamp":17,"step":3}"#);
        let text = serde_json::to_string(&WireMetric::from(&metric(f64::NEG_INFINITY))).unwrap();
        assert!(text.contains(r#""value":"-Infinity""#), "{text}");
        let text = serde_json::to_string(&WireMetric::from(&metric(0.5))).unwrap();
        assert!(text.contains(r#""value":0.5"#), "{text}");

        let back: WireMetric =
            serde_json::from_str(r#"{"key":"m","value":"Infinity","timestamp":1}"#).unwrap();
        assert_eq!(back.value.0, f64::INFINITY);
        assert_eq!(back.step, 0);
        let back: WireMetric =
            serde_json::from_str(r#"{"key":"m","value":"NaN","timestamp":1,"step":2}"#).unwrap();
        assert!(back.value.0.is_nan());
        assert!(
            serde_json::from_str::<WireMetric>(r#"{"key":"m","value":"x","timestamp":1}"#).is_err()
        );
    }

    #[test]
    fn record_tags_carry_the_environment() {
        let record = RunRecord {
            run_id: "20260101T000000Z-0123abcd".to_string(),
            experiment: "e".to_string(),
            status: RunStatus::Finished,
            quakelab_version: "0.1.0".to_string(),
            git_commit: "abc".to_string(),
            config_sha256: "0123abcd".to_string(),
            seed: 42,
            data_hashes: BTreeMap::from([("catalog".to_string(), "ff".to_string())]),
            host: "h".to_string(),
            pid: 1,
            process_start: None,
            started: jiff::Timestamp::UNIX_EPOCH,
            ended: None,
            error: Some("interrupted (SIGINT)".to_string()),
            sha256: BTreeMap::new(),
        };
        let tags: BTreeMap<String, String> = record_tags(&record).into_iter().collect();
        assert_eq!(tags["quakelab.seed"], "42");
        assert_eq!(tags["quakelab.data.catalog"], "ff");
        assert_eq!(tags["mlflow.source.git.commit"], "abc");
        assert_eq!(tags["quakelab.run_id"], record.run_id);
        assert_eq!(tags["quakelab.error"], "interrupted (SIGINT)");
    }

    #[test]
    fn sync_report_reads_as_a_summary() {
        let mut report = SyncReport {
            local_run_id: "20260101T000000Z-0123abcd".to_string(),
            mirror: MirrorRecord {
                uri: "http://127.0.0.1:5000".to_string(),
                experiment_id: "3".to_string(),
                run_id: "f00d".to_string(),
            },
            status: RunStatus::Failed,
            params: 2,
            metrics: 1,
            artifacts: 14,
            already_synced: false,
            replaced: Some("beef".to_string()),
        };
        assert_eq!(
            report.to_string(),
            "pushed run 20260101T000000Z-0123abcd (FAILED) to http://127.0.0.1:5000\n\
             \x20 MLflow run f00d in experiment 3: \
             http://127.0.0.1:5000/#/experiments/3/runs/f00d\n\
             \x20 2 params, 1 metric value, 14 artifacts (and config.toml, run.json)\n\
             \x20 replaced the partial MLflow run beef of an earlier attempt\n"
        );
        report.already_synced = true;
        report.replaced = None;
        assert_eq!(
            report.to_string(),
            "run 20260101T000000Z-0123abcd is already on http://127.0.0.1:5000; nothing pushed\n\
             \x20 MLflow run f00d in experiment 3: \
             http://127.0.0.1:5000/#/experiments/3/runs/f00d\n"
        );
    }

    #[test]
    fn closed_port_is_an_external_error() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let client = MlflowClient::new(&format!("http://127.0.0.1:{port}")).unwrap();
        match client.experiment_id("e") {
            Err(Error::External { service, message }) => {
                assert_eq!(service, "mlflow");
                assert!(
                    message.starts_with("GET experiments/get-by-name"),
                    "{message}"
                );
            }
            other => panic!("expected an External error, got {other:?}"),
        }
    }
}
