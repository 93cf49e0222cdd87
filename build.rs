//! Decides, once per build, whether the integration tests that need outside resources can run.
//!
//! Three kinds of test need what a fresh clone lacks: the real-data tests read the public data
//! folder, the tracking test starts an `mlflow` server, and the Slurm tests submit job arrays.
//! libtest cannot mark a test ignored at run time, so this script looks for each and emits a cfg
//! for each one present:
//!
//! - `quakelab_real_data`: `QUAKELAB_REAL_DATA` names a directory, or (when it is unset or empty)
//!   `../shared/data` exists, the same rule as `quakelab::io::real_data_dir`;
//! - `quakelab_mlflow`: `QUAKELAB_MLFLOW` names a file, or (when it is unset) the executable
//!   `.venv-mlflow/bin/mlflow` that `tools/install-mlflow.sh` creates exists;
//! - `quakelab_slurm`: `sbatch` is on the `PATH` (the tests then need the cluster running:
//!   `tools/slurm-single-node.sh start`).
//!
//! The tests carry `#[cfg_attr(not(quakelab_real_data), ignore = "...")]`, so `cargo test` lists
//! them as `ignored, <reason>` and counts them in its summary instead of passing them silently.
//!
//! Under `CI` (set and neither empty, `0` nor `false`) all three cfgs are emitted whatever is found:
//! a missing resource then fails its test, with a message naming what is missing and how to
//! provide it.
//!
//! With any of the cargo features `xgboost`, `lightgbm` or `catboost` (all in the default
//! build), it also makes sure the boosting libraries are installed: when the venv
//! (`QUAKELAB_BOOSTERS`, else `.venv-boosters`) lacks the pinned requirements, it runs
//! `tools/install-boosters.sh`, which downloads the official wheels from PyPI. Offline, the
//! build goes on with a warning, and the decoders name the script when they are used.
//!
//! Build scripts run with the package root as the current directory, as tests do, so relative
//! settings mean the same here and there.

use std::path::{Path, PathBuf};

const REAL_DATA_ENV: &str = "QUAKELAB_REAL_DATA";
const MLFLOW_ENV: &str = "QUAKELAB_MLFLOW";
const BOOSTERS_ENV: &str = "QUAKELAB_BOOSTERS";
const BOOSTER_FEATURES: [&str; 3] = ["XGBOOST", "LIGHTGBM", "CATBOOST"];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    for var in [REAL_DATA_ENV, MLFLOW_ENV, "CI"] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    println!("cargo::rustc-check-cfg=cfg(quakelab_real_data)");
    println!("cargo::rustc-check-cfg=cfg(quakelab_mlflow)");
    println!("cargo::rustc-check-cfg=cfg(quakelab_slurm)");

    let ci = std::env::var("CI").is_ok_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        !v.is_empty() && v != "0" && v != "false"
    });

    let data = match std::env::var_os(REAL_DATA_ENV).filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new("..").join("shared").join("data"),
    };
    watch(&data);
    if ci || data.is_dir() {
        println!("cargo::rustc-cfg=quakelab_real_data");
    }

    let mlflow = match std::env::var_os(MLFLOW_ENV) {
        Some(path) => PathBuf::from(path),
        None => Path::new(".venv-mlflow").join("bin").join("mlflow"),
    };
    watch(&mlflow);
    if ci || mlflow.is_file() {
        println!("cargo::rustc-cfg=quakelab_mlflow");
    }

    let sbatch = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("sbatch"))
            .find(|p| p.is_file())
    });
    watch(sbatch.as_deref().unwrap_or(Path::new("/usr/bin/sbatch")));
    if ci || sbatch.is_some() {
        println!("cargo::rustc-cfg=quakelab_slurm");
    }

    if BOOSTER_FEATURES
        .iter()
        .any(|f| std::env::var_os(format!("CARGO_FEATURE_{f}")).is_some())
    {
        install_boosters();
    }
}

/// Runs `tools/install-boosters.sh` unless the boosters' venv already holds the pinned
/// requirements (the script leaves this stamp); a failure is a warning, not a build error.
fn install_boosters() {
    let requirements = Path::new("tools").join("boosters").join("requirements.txt");
    let script = Path::new("tools").join("install-boosters.sh");
    println!("cargo::rerun-if-changed={}", requirements.display());
    println!("cargo::rerun-if-changed={}", script.display());
    println!("cargo::rerun-if-env-changed={BOOSTERS_ENV}");
    let venv = match std::env::var_os(BOOSTERS_ENV).filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(".venv-boosters"),
    };
    let stamp = venv.join(".quakelab-requirements");
    let wanted = std::fs::read(&requirements).ok();
    if wanted.is_some() && std::fs::read(&stamp).ok() == wanted {
        return;
    }
    let outcome = std::process::Command::new("bash").arg(&script).output();
    match outcome {
        Ok(output) if output.status.success() => {}
        Ok(output) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
            println!(
                "cargo::warning=tools/install-boosters.sh failed ({}); the xgboost, lightgbm and \
                 catboost decoders will say how to install their libraries when used: {}",
                output.status,
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            );
        }
        Err(e) => println!(
            "cargo::warning=cannot run tools/install-boosters.sh ({e}); the xgboost, lightgbm \
             and catboost decoders will say how to install their libraries when used"
        ),
    }
}

/// Asks cargo to rerun this script when `path` changes: the path itself if it exists, else its
/// nearest existing ancestor (whose entries change when `path` appears). Cargo rescans a watched
/// directory recursively and treats a missing watched path as always changed (which would rebuild
/// the crate on every run), so neither a missing path nor the package root or a directory above
/// it (which hold `target/`) is ever watched. A resource that appears where nothing is watched is
/// noticed on the next change of its environment variable or of this file.
fn watch(path: &Path) {
    let Ok(package) = Path::new(".").canonicalize() else {
        return;
    };
    let Some(existing) = path
        .ancestors()
        .find(|p| !p.as_os_str().is_empty() && p.exists())
    else {
        return;
    };
    let Ok(absolute) = existing.canonicalize() else {
        return;
    };
    if !package.starts_with(&absolute) {
        println!("cargo::rerun-if-changed={}", existing.display());
    }
}
