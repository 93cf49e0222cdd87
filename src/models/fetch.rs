//! Downloads of a registry model's files into the store, verified before they count.
//!
//! Each file is fetched with `GET {hub}/{id}/resolve/{revision}/{file}`. The hub answers large
//! (Git LFS) files with a redirect to a CDN, and puts the file's SHA-256 in `X-Linked-ETag`
//! and its size in `X-Linked-Size` on that redirect; redirects are therefore followed one by
//! one here, keeping those headers. The body streams to `<file>.part` through SHA-256; only a
//! file of the expected size and hash is renamed to its final name (an atomic rename in the
//! same folder), so an interrupted, truncated or corrupted download never leaves a file a
//! loader would read.
//!
//! What a file must be: the registry's pins, else what the hub declares; the two must agree
//! when both are known, and a file whose SHA-256 is known from neither is refused.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest, Sha256};

use super::registry::{ModelEntry, ModelFile, is_sha256};
use super::store::{PART_SUFFIX, Store, file_digest, record_digest};
use crate::{Error, Result};

/// The name errors from the hub are reported under.
const SERVICE: &str = "model hub";
/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 10;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(120);
/// A stalled body (no byte for this long) is a broken download.
const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchAction {
    /// Downloaded and verified.
    Downloaded,
    /// Already in the store and verified; not downloaded again.
    AlreadyPresent,
}

/// One file of a fetched model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedFile {
    /// The file name.
    pub name: String,
    /// Where it is now.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, verified.
    pub sha256: String,
    /// Whether it was downloaded.
    pub action: FetchAction,
}

/// The outcome of [`Fetcher::fetch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchReport {
    /// The model.
    pub entry: ModelEntry,
    /// Its folder in the store.
    pub dir: PathBuf,
    /// Every file, in registry order.
    pub files: Vec<FetchedFile>,
}

/// A client of one hub.
#[derive(Debug, Clone)]
pub struct Fetcher {
    hub_url: String,
    agent: ureq::Agent,
    progress: bool,
}

/// The values a download is checked against, with where each came from.
#[derive(Debug)]
struct Expected {
    size: Option<(u64, &'static str)>,
    sha256: (String, &'static str),
}

/// An answered request: the final response and what the hops declared.
struct Answer {
    response: ureq::http::Response<ureq::Body>,
    declared_sha256: Option<String>,
    declared_size: Option<u64>,
}

impl Fetcher {
    /// A client of the hub at `hub_url` (`https://huggingface.co`, or `http://127.0.0.1:PORT` for
    /// a test server). Nothing is contacted yet.
    pub fn new(hub_url: &str) -> Result<Fetcher> {
        let base = hub_url.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::config(
                super::HUB_URL_ENV,
                format!("`{hub_url}` is not an http:// or https:// URL"),
            ));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(format!("quakelab/{}", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_recv_response(Some(RESPONSE_TIMEOUT))
            .timeout_per_read(Some(READ_TIMEOUT))
            .build()
            .into();
        Ok(Fetcher {
            hub_url: base.to_string(),
            agent,
            progress: false,
        })
    }

    /// A client of [`super::hub_url`].
    pub fn from_env() -> Result<Fetcher> {
        Fetcher::new(&super::hub_url())
    }

    /// Draws a progress bar per download on standard error (when it is a terminal).
    pub fn with_progress(mut self, progress: bool) -> Fetcher {
        self.progress = progress;
        self
    }

    /// The hub's base URL.
    pub fn hub_url(&self) -> &str {
        &self.hub_url
    }

    /// Fetches every file of `entry` into `store`. A file already there and verified is
    /// kept; one that is there but does not verify is refused unless `force`, which downloads
    /// it again. Stops at the first file that fails; the files verified before it stay.
    pub fn fetch(&self, store: &Store, entry: &ModelEntry, force: bool) -> Result<FetchReport> {
        let files = entry
            .files
            .iter()
            .map(|file| self.fetch_file(store, entry, file, force))
            .collect::<Result<Vec<_>>>()?;
        Ok(FetchReport {
            entry: entry.clone(),
            dir: store.model_dir(&entry.id),
            files,
        })
    }

    /// Fetches one file of `entry` into `store`, as [`Fetcher::fetch`] does for each.
    pub fn fetch_file(
        &self,
        store: &Store,
        entry: &ModelEntry,
        file: &ModelFile,
        force: bool,
    ) -> Result<FetchedFile> {
        let dir = store.model_dir(&entry.id);
        let dir = dir.as_path();
        let path = dir.join(&file.name);
        let url = entry.url(&self.hub_url, &file.name);
        let present = path.is_file() && !force;
        // A pinned file already present is checked without asking the hub.
        if present && let Some(pin) = &file.sha256 {
            let expected = Expected {
                size: file.size.map(|s| (s, "quakelab's registry")),
                sha256: (pin.clone(), "quakelab's registry"),
            };
            return self.check_present(&path, file, &expected);
        }
        let answer = self.get(&url, entry, dir)?;
        let expected = expectations(&path, file, &answer, &url)?;
        if present {
            return self.check_present(&path, file, &expected);
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let part = part_path(&path);
        let written = self.download(answer.response, &part, &url, &expected, &file.name);
        let (size, sha256) = match written {
            Ok(done) => done,
            Err(e) => {
                // The partial file is useless without a resume; drop it.
                let _ = std::fs::remove_file(&part);
                return Err(e);
            }
        };
        if let Err(e) = verify(&path, size, &sha256, &expected) {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
        std::fs::rename(&part, &path).map_err(|e| Error::io(&path, e))?;
        record_digest(&path, &sha256);
        Ok(FetchedFile {
            name: file.name.clone(),
            path,
            size,
            sha256,
            action: FetchAction::Downloaded,
        })
    }

    fn check_present(
        &self,
        path: &Path,
        file: &ModelFile,
        expected: &Expected,
    ) -> Result<FetchedFile> {
        let (size, sha256) = file_digest(path)?;
        let size_ok = expected.size.is_none_or(|(s, _)| s == size);
        if !size_ok || sha256 != expected.sha256.0 {
            return Err(Error::Integrity {
                path: path.to_path_buf(),
                message: format!(
                    "is already there but is not the expected file ({size} bytes, sha256 \
                     {sha256}; expected {}sha256 {} from {}): rerun with --force to replace it",
                    expected
                        .size
                        .map(|(s, _)| format!("{s} bytes, "))
                        .unwrap_or_default(),
                    expected.sha256.0,
                    expected.sha256.1
                ),
            });
        }
        Ok(FetchedFile {
            name: file.name.clone(),
            path: path.to_path_buf(),
            size,
            sha256,
            action: FetchAction::AlreadyPresent,
        })
    }

    /// `GET url`, following redirects by hand so that the headers of every hop are seen.
    fn get(&self, url: &str, entry: &ModelEntry, dir: &Path) -> Result<Answer> {
        let mut current = url.to_string();
        let mut declared_sha256 = None;
        let mut declared_size = None;
        for _ in 0..=MAX_REDIRECTS {
            let response = self
                .agent
                .get(&current)
                .call()
                .map_err(|e| self.transport_error(&current, e, entry, dir))?;
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            if declared_sha256.is_none() {
                declared_sha256 = header("x-linked-etag").and_then(|v| etag_sha256(&v));
            }
            if declared_size.is_none() {
                declared_size = header("x-linked-size").and_then(|v| v.trim().parse().ok());
            }
            let status = response.status();
            if status.is_redirection() {
                let Some(location) = header("location") else {
                    return Err(hub_error(format!(
                        "GET {current}: HTTP {status} without a Location to follow"
                    )));
                };
                current = join_url(&current, &location);
                continue;
            }
            if !status.is_success() {
                let mut hint = String::new();
                if matches!(status.as_u16(), 401 | 403) {
                    hint = " (the hub wants a login for this file: download it in a browser \
                             and place it by hand)"
                        .to_string();
                }
                return Err(hub_error(format!(
                    "GET {current}: HTTP {}{hint}",
                    describe_status(status)
                )));
            }
            return Ok(Answer {
                response,
                declared_sha256,
                declared_size,
            });
        }
        Err(hub_error(format!(
            "GET {url}: more than {MAX_REDIRECTS} redirects"
        )))
    }

    fn transport_error(&self, url: &str, e: ureq::Error, entry: &ModelEntry, dir: &Path) -> Error {
        // Before any answer, a failed lookup, connection or exchange means the hub cannot be
        // reached (an unresolvable name surfaces as a plain I/O error).
        let offline = matches!(
            e,
            ureq::Error::HostNotFound
                | ureq::Error::ConnectionFailed
                | ureq::Error::Timeout(_)
                | ureq::Error::Io(_)
        );
        if !offline {
            return hub_error(format!("GET {url}: {e}"));
        }
        let files: Vec<String> = entry
            .files
            .iter()
            .map(|f| entry.url(DEFAULT_FOR_HANDS, &f.name))
            .collect();
        hub_error(format!(
            "cannot reach {} ({e}): this machine looks offline. To install {} by hand, \
             download {} on a machine with network, put the files in {}, and check them \
             with `quakelab models list`",
            self.hub_url,
            entry.id,
            files.join(" and "),
            dir.display()
        ))
    }

    /// Streams the body to `part`, hashing as it goes; returns the size and SHA-256.
    fn download(
        &self,
        response: ureq::http::Response<ureq::Body>,
        part: &Path,
        url: &str,
        expected: &Expected,
        name: &str,
    ) -> Result<(u64, String)> {
        let length = expected.size.map(|(s, _)| s).or_else(|| {
            response
                .headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
        });
        let bar = self.bar(length, name);
        let mut reader = response.into_body().into_reader();
        let mut out = File::create(part).map_err(|e| Error::io(part, e))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut size = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    bar.abandon();
                    return Err(hub_error(format!(
                        "GET {url}: the download broke off after {size} bytes{}: {e}",
                        length.map(|l| format!(" of {l}")).unwrap_or_default()
                    )));
                }
            };
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|e| Error::io(part, e))?;
            size += n as u64;
            bar.set_position(size);
        }
        out.sync_all().map_err(|e| Error::io(part, e))?;
        bar.finish_and_clear();
        let sha256 = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok((size, sha256))
    }

    fn bar(&self, length: Option<u64>, name: &str) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(length, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:>20} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(name.to_string());
        bar
    }
}

/// The hub named in the by-hand instructions: the public one, even when a mirror answered.
const DEFAULT_FOR_HANDS: &str = super::registry::DEFAULT_HUB_URL;

fn hub_error(message: String) -> Error {
    Error::External {
        service: SERVICE.to_string(),
        message,
    }
}

fn describe_status(status: ureq::http::StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// What the download must be: the registry's pins, else the hub's declarations, refusing a
/// disagreement between them and a file whose SHA-256 neither gives.
fn expectations(path: &Path, file: &ModelFile, answer: &Answer, url: &str) -> Result<Expected> {
    const REGISTRY: &str = "quakelab's registry";
    const HUB: &str = "the hub's X-Linked-ETag";
    let integrity = |message: String| Error::Integrity {
        path: path.to_path_buf(),
        message,
    };
    let sha256 = match (&file.sha256, &answer.declared_sha256) {
        (Some(pin), Some(declared)) if pin != declared => {
            return Err(integrity(format!(
                "the hub declares sha256 {declared} for {url}, quakelab's registry pins {pin}: \
                 the hub's file is not the pinned one; nothing was downloaded"
            )));
        }
        (Some(pin), _) => (pin.clone(), REGISTRY),
        (None, Some(declared)) => (declared.clone(), HUB),
        (None, None) => {
            return Err(integrity(format!(
                "neither quakelab's registry nor the hub (X-Linked-ETag of {url}) gives a \
                 sha256 for this file, so a download could not be verified; nothing was \
                 downloaded"
            )));
        }
    };
    let content_length = answer
        .response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let declared_size = answer
        .declared_size
        .map(|s| (s, "the hub's X-Linked-Size"))
        .or(content_length.map(|s| (s, "the hub's Content-Length")));
    let size = match (file.size, declared_size) {
        (Some(pin), Some((declared, from))) if pin != declared => {
            return Err(integrity(format!(
                "{from} for {url} is {declared} bytes, quakelab's registry pins {pin}: the \
                 hub's file is not the pinned one; nothing was downloaded"
            )));
        }
        (Some(pin), _) => Some((pin, REGISTRY)),
        (None, declared) => declared,
    };
    Ok(Expected { size, sha256 })
}

/// Checks a finished download against what was expected.
fn verify(path: &Path, size: u64, sha256: &str, expected: &Expected) -> Result<()> {
    if let Some((want, from)) = expected.size
        && size != want
    {
        return Err(Error::Integrity {
            path: path.to_path_buf(),
            message: format!("the download has {size} bytes, {from} says {want}; it was discarded"),
        });
    }
    let (want, from) = &expected.sha256;
    if sha256 != want {
        return Err(Error::Integrity {
            path: path.to_path_buf(),
            message: format!(
                "the download's sha256 is {sha256}, {from} says {want}; it was discarded"
            ),
        });
    }
    Ok(())
}

/// `<file>.part` beside `path`.
fn part_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(PART_SUFFIX);
    PathBuf::from(name)
}

/// The SHA-256 in an ETag value (`"<hex>"` or `W/"<hex>"`), if it is one.
fn etag_sha256(value: &str) -> Option<String> {
    let hex = value
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_ascii_lowercase();
    is_sha256(&hex).then_some(hex)
}

/// `location` resolved against the URL it was received from.
fn join_url(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_string();
    }
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    if location.starts_with("//") {
        return format!("{}{}", &base[..scheme_end - 2], location);
    }
    if location.starts_with('/') {
        return format!("{}{location}", &base[..authority_end]);
    }
    let path = &base[..base
        .rfind('/')
        .filter(|&i| i >= authority_end)
        .unwrap_or(base.len())];
    format!("{path}/{location}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_give_their_sha256() {
        let hex = "fd4e1169c7aa6c2dbfa8a6448be13b35abc0ee256190857c90009d12c094619b";
        assert_eq!(etag_sha256(&format!("\"{hex}\"")).as_deref(), Some(hex));
        assert_eq!(etag_sha256(&format!("W/\"{hex}\"")).as_deref(), Some(hex));
        // A Git blob id (SHA-1) is not a SHA-256.
        assert_eq!(
            etag_sha256("\"254071bbf72dd0fd535b61768d9cd87adcb776f4\""),
            None
        );
    }

    #[test]
    fn redirect_locations_resolve_against_their_url() {
        let base = "https://huggingface.co/google/vit/resolve/main/model.safetensors";
        assert_eq!(
            join_url(base, "https://cdn.example/x?y=1"),
            "https://cdn.example/x?y=1"
        );
        assert_eq!(
            join_url(base, "/api/resolve-cache/x"),
            "https://huggingface.co/api/resolve-cache/x"
        );
        assert_eq!(
            join_url(base, "other.bin"),
            "https://huggingface.co/google/vit/resolve/main/other.bin"
        );
        assert_eq!(join_url(base, "//cdn.example/y"), "https://cdn.example/y");
    }

    #[test]
    fn a_hub_url_that_is_not_http_is_refused() {
        let err = Fetcher::new("ftp://mirror").unwrap_err().to_string();
        assert_eq!(
            err,
            "setting `QUAKELAB_HUB_URL`: `ftp://mirror` is not an http:// or https:// URL"
        );
    }
}
