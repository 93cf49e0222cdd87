//! Readers and writers of the real file formats, one file per format.
//!
//! The real public data used by tests and the real-data experiments is never copied into the
//! repository; [`real_data_dir`] says where it lies.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Error, Result};

pub mod catalog;
pub mod geomag;
pub mod geonet;
pub mod npy;
pub mod stations;
pub mod tenv3;

/// The environment variable that names the directory of the real public data.
pub const REAL_DATA_ENV: &str = "QUAKELAB_REAL_DATA";

/// The directory of the real public data (catalogs, GNSS series, geomagnetic records), if any.
///
/// - If `QUAKELAB_REAL_DATA` is set and not empty, that directory, provided it exists. A setting
///   that names a missing directory gives `None` (with a warning) rather than falling back to the
///   default, so a mistyped setting is never papered over by another copy of the data.
/// - Otherwise `../shared/data` relative to the current directory, if it exists. Integration
///   tests run with the crate root as the current directory, so this is the data beside the
///   checkout.
/// - Otherwise `None`: callers that need the data say so and skip, or fail with a message naming
///   `QUAKELAB_REAL_DATA`.
pub fn real_data_dir() -> Option<PathBuf> {
    if let Some(value) = std::env::var_os(REAL_DATA_ENV).filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(value);
        if dir.is_dir() {
            return Some(dir);
        }
        tracing::warn!(
            "{REAL_DATA_ENV}={} is not a directory; real data unavailable",
            dir.display()
        );
        return None;
    }
    let default = Path::new("..").join("shared").join("data");
    default.is_dir().then_some(default)
}

/// Writes a file atomically: `write` fills a temporary file in the same directory (created if
/// needed), which is synced and then renamed over `path`. A crash or an error never leaves a
/// half-written file where a complete one was, and readers never see one; on error the
/// temporary file is removed.
///
/// The temporary file is `.NAME.PID.N@HOST.tmp` (NAME the target's file name, PID this
/// process, N a process-wide counter, HOST this machine's name), so two writers of the same
/// target, in two processes or two threads of one, or on two machines sharing the directory
/// (the tasks of a Slurm array writing one stage cache), never share a temporary file: the last
/// rename wins and both writes succeed.
///
/// A writer that was killed leaves its temporary file behind. Before writing, the temporaries
/// of the same target whose process on this machine is no longer alive are removed (see
/// [`remove_stale_temporaries`]).
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = path
        .file_name()
        .ok_or_else(|| Error::config("out", format!("`{}` is not a file path", path.display())))?
        .to_string_lossy()
        .into_owned();
    let removed = remove_stale_temporaries(dir, &name);
    if removed > 0 {
        tracing::warn!(
            "removed {removed} temporary file(s) of `{name}` in {} left by a writer that was killed",
            dir.display()
        );
    }
    let tmp = dir.join(temporary_name(
        &name,
        std::process::id(),
        next_write(),
        host_name(),
    ));
    let written = File::create(&tmp)
        .and_then(|file| {
            let mut out = BufWriter::new(file);
            write(&mut out)?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    written.map_err(|e| {
        // The temporary file is useless once writing failed, and the error that matters is
        // the one being returned.
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// The process-wide count of atomic writes, which makes each temporary name unique.
static WRITES: AtomicU64 = AtomicU64::new(0);

fn next_write() -> u64 {
    WRITES.fetch_add(1, Ordering::Relaxed)
}

/// `.NAME.PID.N@HOST.tmp`: the temporary file of write number `n` of process `pid` on `host`
/// to `name`.
fn temporary_name(name: &str, pid: u32, n: u64, host: &str) -> String {
    format!(".{name}.{pid}.{n}@{host}.tmp")
}

/// This machine's name as it appears in temporary file names: the kernel's host name (Linux),
/// else `$HOSTNAME`, else `localhost`, with any character but letters, digits, `-` and `.`
/// replaced by `-`.
fn host_name() -> &'static str {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_string());
        raw.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    })
}

/// Who wrote a temporary file: the process and, where the name records it, the machine.
#[derive(Debug, PartialEq, Eq)]
struct TemporaryWriter<'a> {
    pid: u32,
    host: Option<&'a str>,
}

/// The writer of a temporary file of `name`: `.NAME.PID.N@HOST.tmp`, or `.NAME.PID.N.tmp` and
/// `.NAME.PID.tmp` as written before temporaries named their machine (and before they were
/// numbered). `None` for any other file name.
fn temporary_writer<'a>(file_name: &'a str, name: &str) -> Option<TemporaryWriter<'a>> {
    let rest = file_name
        .strip_prefix('.')?
        .strip_prefix(name)?
        .strip_prefix('.')?
        .strip_suffix(".tmp")?;
    let (rest, host) = match rest.split_once('@') {
        Some((_, "")) => return None,
        Some((rest, host)) => (rest, Some(host)),
        None => (rest, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let pid = match rest.split_once('.') {
        Some((pid, n)) if digits(n) => pid,
        Some(_) => return None,
        None if host.is_some() => return None,
        None => rest,
    };
    let pid = if digits(pid) {
        pid.parse().ok()?
    } else {
        return None;
    };
    Some(TemporaryWriter { pid, host })
}

/// Removes the temporary files of `name` in `dir` (exactly `.NAME.PID.N@HOST.tmp`, or the older
/// `.NAME.PID.N.tmp` and `.NAME.PID.tmp`) whose writing process is no longer alive, and returns
/// how many it removed.
///
/// Conservative by design: only Linux can tell (through `/proc/PID`), so elsewhere, or where
/// `/proc` is not mounted, nothing is removed; this process's own temporaries (other threads
/// may be writing them) and those of any live process (which may be a reused pid) are kept, and
/// so are those of another machine (a directory shared by a cluster's nodes: this machine
/// cannot see that process); a file that cannot be removed is left, with a warning.
pub fn remove_stale_temporaries(dir: &Path, name: &str) -> usize {
    let proc = Path::new("/proc");
    if !cfg!(target_os = "linux") || !proc.join("self").exists() {
        return 0;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let own = std::process::id();
    let mut removed = 0;
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(writer) = file_name.to_str().and_then(|f| temporary_writer(f, name)) else {
            continue;
        };
        let elsewhere = writer.host.is_some_and(|host| host != host_name());
        if elsewhere || writer.pid == own || proc.join(writer.pid.to_string()).exists() {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => removed += 1,
            // Another writer of the same target removed it first.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(
                "cannot remove the stale temporary file {}: {e}",
                entry.path().display()
            ),
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_creates_the_directory_and_replaces_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new").join("out.csv");
        write_atomic(&path, |w| w.write_all(b"first")).unwrap();
        write_atomic(&path, |w| w.write_all(b"second")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        let failed = write_atomic(&path, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "second",
            "old file intact"
        );
        let entries = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(entries, 1, "no temporary files remain");
    }

    #[test]
    fn two_parallel_writers_of_one_target_do_not_collide() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entry.qlimg");
        let contents: Vec<String> = (0..8)
            .map(|t| format!("writer {t} ").repeat(1000))
            .collect();
        std::thread::scope(|scope| {
            for text in &contents {
                let path = &path;
                scope.spawn(move || {
                    for _ in 0..25 {
                        write_atomic(path, |w| w.write_all(text.as_bytes())).unwrap();
                    }
                });
            }
        });
        let last = std::fs::read_to_string(&path).unwrap();
        assert!(contents.contains(&last), "the file is one whole write");
        let entries = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(entries, 1, "no temporary files remain");
    }

    #[test]
    fn a_killed_writers_temporaries_are_removed_on_the_next_write() {
        if !Path::new("/proc/self").exists() {
            eprintln!("skipped: no /proc to tell whether a writer is alive");
            return;
        }
        // A process that has exited: its pid names no live process (unless reused at once,
        // which would only keep its files).
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let own = std::process::id();
        let dir = tempfile::tempdir().unwrap();
        let touch = |name: &str| std::fs::write(dir.path().join(name), b"partial").unwrap();
        let host = host_name();
        let stale = [
            format!(".out.csv.{dead}.7@{host}.tmp"),
            format!(".out.csv.{dead}.7.tmp"),
            format!(".out.csv.{dead}.tmp"),
        ];
        let kept = [
            format!(".out.csv.{own}.99@{host}.tmp"),
            // Another machine's writer, whose process this machine cannot see.
            format!(".out.csv.{dead}.7@{host}-other-node.tmp"),
            format!(".out.csv.{own}.99.tmp"),
            format!(".other.csv.{dead}.7.tmp"),
            format!(".out.csv.{dead}.x.tmp"),
            format!("out.csv.{dead}.7.tmp"),
            format!(".out.csv.{dead}.7.tmp.bak"),
        ];
        for name in stale.iter().chain(&kept) {
            touch(name);
        }
        write_atomic(&dir.path().join("out.csv"), |w| w.write_all(b"whole")).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut expected: Vec<String> = kept.to_vec();
        expected.push("out.csv".into());
        expected.sort();
        assert_eq!(left, expected);
    }

    #[test]
    fn temporary_names_are_read_back_exactly() {
        let writer = |pid, host| Some(TemporaryWriter { pid, host });
        let name = temporary_name("a.csv", 42, 3, "node-7.cluster");
        assert_eq!(name, ".a.csv.42.3@node-7.cluster.tmp");
        assert_eq!(
            temporary_writer(&name, "a.csv"),
            writer(42, Some("node-7.cluster"))
        );
        assert_eq!(
            temporary_writer(".a.csv.42.3.tmp", "a.csv"),
            writer(42, None)
        );
        assert_eq!(temporary_writer(".a.csv.42.tmp", "a.csv"), writer(42, None));
        assert_eq!(temporary_writer(".a.csv.42.3.tmp", "b.csv"), None);
        assert_eq!(temporary_writer(".a.csv..3.tmp", "a.csv"), None);
        assert_eq!(temporary_writer(".a.csv.42.3.4.tmp", "a.csv"), None);
        assert_eq!(temporary_writer(".a.csv.42.3@.tmp", "a.csv"), None);
        assert_eq!(temporary_writer(".a.csv.42@node.tmp", "a.csv"), None);
        assert_eq!(temporary_writer(".a.csv.tmp", "a.csv"), None);
        assert_ne!(
            temporary_name("a", 1, next_write(), "h"),
            temporary_name("a", 1, next_write(), "h")
        );
    }

    #[test]
    fn the_host_name_is_safe_in_a_file_name() {
        let host = host_name();
        assert!(!host.is_empty());
        assert!(
            host.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'),
            "{host}"
        );
    }
}
