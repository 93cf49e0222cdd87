//! A pretraining run's checkpoints on disk, and the point a resumed run continues from.
//!
//! Every checkpoint of a run lies in its directory's `checkpoints/`:
//!
//! - `step-000500.safetensors`: the network after 500 steps, with its borders and metadata
//!   ([`crate::decode::pfn::model::PfnModel::write_checkpoint`]), the file the decoder loads;
//! - `state-000500.bpk`: AdamW's state after those steps (its moments and step counts, full
//!   precision, burn's burnpack format), keyed by the parameters' positions in the network;
//! - `latest`: the step of the last complete checkpoint, as text.
//!
//! Each file is written to a `.tmp` beside it and renamed into place, and `latest` only after
//! both files of its step, so a crash mid-write leaves `latest` on the previous complete
//! checkpoint and never a truncated file under a final name.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The directory of a run's checkpoints, under the run directory.
pub const CHECKPOINT_DIR: &str = "checkpoints";

/// The file naming the step of the last complete checkpoint.
pub const LATEST_FILE: &str = "latest";

/// The network's checkpoint after `step` steps in `run_dir`.
pub fn checkpoint_path(run_dir: &Path, step: u64) -> PathBuf {
    run_dir
        .join(CHECKPOINT_DIR)
        .join(format!("step-{step:06}.safetensors"))
}

/// The optimiser's state after `step` steps in `run_dir`.
pub fn state_path(run_dir: &Path, step: u64) -> PathBuf {
    run_dir
        .join(CHECKPOINT_DIR)
        .join(format!("state-{step:06}.bpk"))
}

/// Writes `bytes` to `path` atomically: into `path.tmp`, flushed to disk, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Records `step` as the last complete checkpoint of `run_dir`.
pub fn write_latest(run_dir: &Path, step: u64) -> Result<()> {
    write_atomic(
        &run_dir.join(CHECKPOINT_DIR).join(LATEST_FILE),
        format!("{step}\n").as_bytes(),
    )
}

/// The checkpoint a resumed run continues from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumePoint {
    /// The run directory that wrote it (its `config.toml` is the file it was trained with).
    pub run_dir: PathBuf,
    /// Steps done.
    pub step: u64,
    /// The network's checkpoint.
    pub checkpoint: PathBuf,
    /// The optimiser's state.
    pub state: PathBuf,
}

impl ResumePoint {
    /// The point `path` names: a run directory (its last complete checkpoint, by
    /// `checkpoints/latest`) or one of its `checkpoints/step-NNNNNN.safetensors`.
    ///
    /// Refused (an [`Error::Format`] naming the file): a directory without `checkpoints/latest`,
    /// a `latest` that is not a step, a file not named `step-NNNNNN.safetensors` inside a
    /// run's `checkpoints/`, and a checkpoint whose network or optimiser state file is missing.
    pub fn locate(path: &Path) -> Result<ResumePoint> {
        let (run_dir, step) = if path.is_dir() {
            let latest = path.join(CHECKPOINT_DIR).join(LATEST_FILE);
            let text = std::fs::read_to_string(&latest).map_err(|e| Error::io(&latest, e))?;
            let step = text.trim().parse::<u64>().map_err(|_| {
                Error::format(
                    &latest,
                    "step",
                    format!("`{}` is not a step count", text.trim()),
                )
            })?;
            (path.to_path_buf(), step)
        } else {
            let step = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("step-"))
                .and_then(|n| n.strip_suffix(".safetensors"))
                .and_then(|n| n.parse::<u64>().ok());
            let run_dir = path
                .parent()
                .filter(|d| d.file_name().is_some_and(|n| n == CHECKPOINT_DIR))
                .and_then(Path::parent);
            match (step, run_dir) {
                (Some(step), Some(dir)) => (dir.to_path_buf(), step),
                _ => {
                    return Err(Error::format(
                        path,
                        "name",
                        "not a run directory nor a run's checkpoints/step-NNNNNN.safetensors",
                    ));
                }
            }
        };
        let point = ResumePoint {
            checkpoint: checkpoint_path(&run_dir, step),
            state: state_path(&run_dir, step),
            run_dir,
            step,
        };
        for file in [&point.checkpoint, &point.state] {
            if !file.is_file() {
                return Err(Error::format(
                    file,
                    "file",
                    format!("missing: the checkpoint of step {step} is incomplete"),
                ));
            }
        }
        Ok(point)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_checkpoint_without_its_optimiser_state_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(CHECKPOINT_DIR)).unwrap();
        let checkpoint = checkpoint_path(dir.path(), 40);
        std::fs::write(&checkpoint, b"x").unwrap();
        let err = ResumePoint::locate(&checkpoint).unwrap_err().to_string();
        assert!(
            err.contains("state-000040.bpk") && err.contains("incomplete"),
            "{err}"
        );
        std::fs::write(state_path(dir.path(), 40), b"y").unwrap();
        write_latest(dir.path(), 40).unwrap();
        let point = ResumePoint::locate(dir.path()).unwrap();
        assert_eq!(point.step, 40);
        assert_eq!(point, ResumePoint::locate(&checkpoint).unwrap());
    }

    #[test]
    fn a_resume_path_that_is_not_a_checkpoint_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let stray = dir.path().join("model.safetensors");
        std::fs::write(&stray, b"x").unwrap();
        let err = ResumePoint::locate(&stray).unwrap_err().to_string();
        assert!(
            err.contains("not a run directory nor a run's checkpoints/step-NNNNNN.safetensors"),
            "{err}"
        );
    }

    #[test]
    fn a_latest_pointer_that_is_not_a_step_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(CHECKPOINT_DIR)).unwrap();
        std::fs::write(dir.path().join(CHECKPOINT_DIR).join(LATEST_FILE), "ten\n").unwrap();
        let err = ResumePoint::locate(dir.path()).unwrap_err().to_string();
        assert!(err.contains("`ten` is not a step count"), "{err}");
    }
}
