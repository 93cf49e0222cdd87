//! Readers and writers of the real file formats, one file per format.
//!
//! The real public data used by tests and the real-data experiments is never copied into the
//! repository; [`real_data_dir`] says where it lies.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

pub mod catalog;
pub mod geonet;
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
        .ok_or_else(|| Error::config("out", format!("`{}` is not a file path", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
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
}
