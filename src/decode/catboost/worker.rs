//! The CatBoost worker processes: starting them, the framed exchange with them, and the pool of
//! idle ones (the protocol is described in the parent module's docs).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use serde_json::{Value, json};

use crate::decode::booster;
use crate::{Error, Result};

/// The decoder's name, as errors and log lines give it.
const SERVICE: &str = "catboost";

/// The worker program, quakelab's own, run on the venv's Python.
const WORKER_SOURCE: &str = include_str!("worker.py");

/// How many of a worker's last stderr lines an error quotes.
const TAIL_LINES: usize = 20;

/// The largest JSON header either side sends (a header holds parameters and shapes only).
const MAX_HEADER_BYTES: u64 = 1 << 24;

/// Idle workers, each with CatBoost imported, reused by later requests of this process.
static IDLE: Mutex<Vec<Worker>> = Mutex::new(Vec::new());

/// One binary part of a message.
pub(super) enum Blob<'a> {
    /// Little-endian f64 values in C (row-major) order, with their shape.
    F64 {
        /// The name the other side knows it by (`x`, `y`, `valid_x` …).
        name: &'static str,
        /// Rows, or rows and columns.
        shape: Vec<usize>,
        /// The values, row after row.
        values: &'a [f64],
    },
    /// Opaque bytes (a model).
    Bytes {
        /// The name the other side knows it by (`model`).
        name: &'static str,
        /// The bytes.
        bytes: &'a [u8],
    },
}

/// A reply's binary part, as received.
struct ReplyBlob {
    name: String,
    dtype: String,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

/// A successful reply: its JSON header and its binary parts.
pub(super) struct Reply {
    header: Value,
    blobs: Vec<ReplyBlob>,
}

impl Reply {
    /// The header's `key`.
    pub(super) fn header(&self, key: &str) -> Option<&Value> {
        self.header.get(key)
    }

    fn blob(&self, name: &str, dtype: &str) -> Result<&ReplyBlob> {
        self.blobs
            .iter()
            .find(|b| b.name == name && b.dtype == dtype)
            .ok_or_else(|| Error::External {
                service: SERVICE.into(),
                message: format!("the worker's reply has no {dtype} part `{name}`"),
            })
    }

    /// The bytes of the part `name`.
    pub(super) fn bytes(&self, name: &str) -> Result<&[u8]> {
        self.blob(name, "bytes").map(|b| b.bytes.as_slice())
    }

    /// The f64 part `name`: its shape and its values in C order.
    pub(super) fn f64s(&self, name: &str) -> Result<(Vec<usize>, Vec<f64>)> {
        let blob = self.blob(name, "f64")?;
        let values = blob
            .bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect();
        Ok((blob.shape.clone(), values))
    }
}

/// A Python exception raised by a request, which leaves the worker usable.
#[derive(Debug)]
pub(super) struct Raised {
    /// The exception's class (`CatBoostError`, `TypeError` …).
    pub(super) error_type: String,
    /// The exception's own message.
    pub(super) message: String,
}

/// Why an exchange failed.
enum Failure {
    /// The request raised; the worker goes on.
    Raised(Raised),
    /// The worker exited, or broke the protocol: it is never used again.
    Broken(String),
}

/// A running worker process.
pub(super) struct Worker {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    tail: Arc<Mutex<VecDeque<String>>>,
    log_thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts a worker on the venv's Python and waits until it has imported CatBoost.
    pub(super) fn spawn() -> Result<Worker> {
        let python = booster::venv_python(SERVICE)?;
        let mut child = Command::new(&python)
            .arg("-I")
            .arg("-c")
            .arg(WORKER_SOURCE)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::External {
                service: SERVICE.into(),
                message: format!("cannot start {}: {e}", python.display()),
            })?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::External {
                service: SERVICE.into(),
                message: "the worker's pipes were not opened".into(),
            });
        };
        let tail = Arc::new(Mutex::new(VecDeque::with_capacity(TAIL_LINES)));
        let forwarder = {
            let tail = Arc::clone(&tail);
            std::thread::Builder::new()
                .name("catboost-log".into())
                .spawn(move || forward_log(stderr, &tail))
        };
        let log_thread = match forwarder {
            Ok(thread) => Some(thread),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::External {
                    service: SERVICE.into(),
                    message: format!("cannot start the thread that reads the worker's log: {e}"),
                });
            }
        };
        let mut worker = Worker {
            child,
            stdin: BufWriter::new(stdin),
            stdout: BufReader::new(stdout),
            tail,
            log_thread,
        };
        let venv = booster::boosters_venv();
        match worker.read_reply() {
            Ok(_) => Ok(worker),
            Err(failure) => {
                let reason = match failure {
                    Failure::Raised(raised) => {
                        format!("{}: {}", raised.error_type, raised.message)
                    }
                    Failure::Broken(reason) => reason,
                };
                let tail = worker.shut_down();
                Err(Error::External {
                    service: SERVICE.into(),
                    message: format!(
                        "cannot import catboost with {} ({reason}). Reinstall the boosting \
                         libraries into {} with `tools/install-boosters.sh`, or set {} to a \
                         venv that has them{tail}",
                        python.display(),
                        venv.display(),
                        booster::BOOSTERS_ENV
                    ),
                })
            }
        }
    }

    /// The worker's process id.
    #[cfg(test)]
    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends one request and reads its reply.
    fn exchange(&mut self, header: &Value, blobs: &[Blob<'_>]) -> Result<Reply, Failure> {
        self.write_request(header, blobs)
            .map_err(|e| Failure::Broken(format!("did not take the request ({e})")))?;
        self.read_reply()
    }

    fn write_request(&mut self, header: &Value, blobs: &[Blob<'_>]) -> std::io::Result<()> {
        let specs: Vec<Value> = blobs
            .iter()
            .map(|blob| match blob {
                Blob::F64 { name, shape, .. } => {
                    json!({"name": name, "dtype": "f64", "shape": shape})
                }
                Blob::Bytes { name, bytes } => {
                    json!({"name": name, "dtype": "bytes", "shape": [bytes.len()]})
                }
            })
            .collect();
        let mut header = header.clone();
        if let Value::Object(map) = &mut header {
            map.insert("blobs".into(), Value::Array(specs));
        }
        let head = serde_json::to_vec(&header).map_err(std::io::Error::other)?;
        write_frame(&mut self.stdin, &head)?;
        for blob in blobs {
            match blob {
                Blob::F64 { values, .. } => {
                    self.stdin
                        .write_all(&((values.len() * 8) as u64).to_le_bytes())?;
                    for v in values.iter() {
                        self.stdin.write_all(&v.to_le_bytes())?;
                    }
                }
                Blob::Bytes { bytes, .. } => write_frame(&mut self.stdin, bytes)?,
            }
        }
        self.stdin.flush()
    }

    fn read_reply(&mut self) -> Result<Reply, Failure> {
        let head = read_frame(&mut self.stdout, MAX_HEADER_BYTES)?;
        let header: Value = serde_json::from_slice(&head)
            .map_err(|e| Failure::Broken(format!("sent a malformed header ({e})")))?;
        match header.get("ok").and_then(Value::as_bool) {
            Some(true) => {}
            Some(false) => {
                let text = |key: &str| {
                    header
                        .get(key)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                };
                return Err(Failure::Raised(Raised {
                    error_type: text("error_type"),
                    message: text("message"),
                }));
            }
            None => return Err(Failure::Broken("sent a header without `ok`".into())),
        }
        let specs = match header.get("blobs") {
            None => Vec::new(),
            Some(Value::Array(specs)) => specs.clone(),
            Some(_) => {
                return Err(Failure::Broken(
                    "sent a header whose `blobs` is not a list".into(),
                ));
            }
        };
        let mut blobs = Vec::with_capacity(specs.len());
        for spec in &specs {
            let name = spec.get("name").and_then(Value::as_str);
            let dtype = spec.get("dtype").and_then(Value::as_str);
            let shape: Option<Vec<usize>> =
                spec.get("shape")
                    .and_then(Value::as_array)
                    .and_then(|dims| {
                        dims.iter()
                            .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
                            .collect()
                    });
            let (Some(name), Some(dtype), Some(shape)) = (name, dtype, shape) else {
                return Err(Failure::Broken(format!(
                    "sent a malformed blob description {spec}"
                )));
            };
            let width = match dtype {
                "f64" => 8,
                "bytes" => 1,
                other => {
                    return Err(Failure::Broken(format!(
                        "sent a blob of unknown type `{other}`"
                    )));
                }
            };
            let expected = shape
                .iter()
                .try_fold(width, |acc: u64, &d| acc.checked_mul(d as u64))
                .ok_or_else(|| Failure::Broken(format!("sent an impossible shape {shape:?}")))?;
            let bytes = read_frame(&mut self.stdout, expected)?;
            if bytes.len() as u64 != expected {
                return Err(Failure::Broken(format!(
                    "sent {} bytes for `{name}` of shape {shape:?} ({dtype})",
                    bytes.len()
                )));
            }
            blobs.push(ReplyBlob {
                name: name.into(),
                dtype: dtype.into(),
                shape,
                bytes,
            });
        }
        Ok(Reply { header, blobs })
    }

    /// Ends the process (killed if still running, then waited on) and returns the tail of its
    /// stderr, formatted for an error message (empty when it printed nothing).
    fn shut_down(mut self) -> String {
        self.stop();
        let lines = self.tail.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.is_empty() {
            String::new()
        } else {
            let joined: Vec<&str> = lines.iter().map(String::as_str).collect();
            format!("; its last output:\n{}", joined.join("\n"))
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(thread) = self.log_thread.take() {
            let _ = thread.join();
        }
    }

    /// Whether the process is still running (an idle worker may have been killed meanwhile).
    fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Forwards each line of the worker's stderr to the log, keeping the last [`TAIL_LINES`].
fn forward_log(stderr: impl Read, tail: &Mutex<VecDeque<String>>) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line).trim_end().to_string();
                booster::library_log(SERVICE, &text);
                let mut lines = tail.lock().unwrap_or_else(PoisonError::into_inner);
                if lines.len() == TAIL_LINES {
                    lines.pop_front();
                }
                lines.push_back(text);
            }
        }
    }
}

fn write_frame(out: &mut impl Write, body: &[u8]) -> std::io::Result<()> {
    out.write_all(&(body.len() as u64).to_le_bytes())?;
    out.write_all(body)
}

/// Reads one frame of at most `limit` bytes.
fn read_frame(input: &mut impl Read, limit: u64) -> Result<Vec<u8>, Failure> {
    let mut prefix = [0u8; 8];
    input
        .read_exact(&mut prefix)
        .map_err(|e| Failure::Broken(format!("stopped answering ({e})")))?;
    let length = u64::from_le_bytes(prefix);
    if length > limit {
        return Err(Failure::Broken(format!(
            "announced a frame of {length} bytes, more than the {limit} expected"
        )));
    }
    let mut body = Vec::new();
    input
        .take(length)
        .read_to_end(&mut body)
        .map_err(|e| Failure::Broken(format!("stopped inside a frame ({e})")))?;
    if body.len() as u64 != length {
        return Err(Failure::Broken(format!(
            "stopped after {} of a frame's {length} bytes",
            body.len()
        )));
    }
    Ok(body)
}

/// Sends one request to an idle worker (or a new one), and returns the worker to the pool
/// unless it broke. `Ok(Err(raised))` is a Python exception raised by the request.
pub(super) fn request(header: &Value, blobs: &[Blob<'_>]) -> Result<Result<Reply, Raised>> {
    let mut worker = take_idle().map_or_else(Worker::spawn, Ok)?;
    let outcome = worker.exchange(header, blobs);
    finish(worker, outcome)
}

/// The same exchange on a given worker, which then goes to the pool unless it broke.
#[cfg(test)]
pub(super) fn request_on(
    mut worker: Worker,
    header: &Value,
    blobs: &[Blob<'_>],
) -> Result<Result<Reply, Raised>> {
    let outcome = worker.exchange(header, blobs);
    finish(worker, outcome)
}

fn finish(worker: Worker, outcome: Result<Reply, Failure>) -> Result<Result<Reply, Raised>> {
    match outcome {
        Ok(reply) => {
            give_back(worker);
            Ok(Ok(reply))
        }
        Err(Failure::Raised(raised)) => {
            give_back(worker);
            Ok(Err(raised))
        }
        Err(Failure::Broken(reason)) => {
            let pid = worker.child.id();
            let tail = worker.shut_down();
            Err(Error::External {
                service: SERVICE.into(),
                message: format!("the CatBoost worker (process {pid}) {reason}{tail}"),
            })
        }
    }
}

fn take_idle() -> Option<Worker> {
    let mut idle = IDLE.lock().unwrap_or_else(PoisonError::into_inner);
    while let Some(mut worker) = idle.pop() {
        if worker.is_running() {
            return Some(worker);
        }
    }
    None
}

fn give_back(worker: Worker) {
    IDLE.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(worker);
}
