//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

/// `tests/fixtures/<dir>/<name>`.
pub fn fixture(dir: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
        .join(name)
}

/// A plain CSV file (no quoting) as its header and rows of string fields.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// `<real data directory>/<sub>`, the public data read in place.
///
/// The tests that call this carry
/// `#[cfg_attr(not(quakelab_real_data), ignore = "real data directory not found: set QUAKELAB_REAL_DATA")]`,
/// so `build.rs` has them listed as ignored when the folder is absent at build time. Should they
/// run anyway (under `CI=true`, or when the folder went away after the build), this fails with a
/// message naming what is missing and how to provide it.
pub fn real_data(sub: &str) -> PathBuf {
    let Some(dir) = quakelab::io::real_data_dir() else {
        let looked = match std::env::var_os(quakelab::io::REAL_DATA_ENV) {
            Some(v) if !v.is_empty() => format!("QUAKELAB_REAL_DATA={}", v.to_string_lossy()),
            _ => "../shared/data (QUAKELAB_REAL_DATA unset)".to_string(),
        };
        panic!(
            "real data directory not found at {looked}: set QUAKELAB_REAL_DATA to the public \
             data folder (see README, Real data)"
        );
    };
    let path = dir.join(sub);
    assert!(
        path.exists(),
        "real data {} not found in {}: QUAKELAB_REAL_DATA must name a complete copy of the \
         public data folder (see README, Real data)",
        sub,
        dir.display()
    );
    path
}

/// Asserts that `found` equals a reference implementation's `expected`, row by row, to 1e-6
/// relative (1e-12 absolute near zero): the parity tolerance of the booster fixtures.
#[cfg(any(feature = "xgboost", feature = "lightgbm", feature = "catboost"))]
pub fn assert_parity(found: &[f64], expected: &[f64], what: &str) {
    assert_eq!(found.len(), expected.len(), "{what}");
    for (row, (&f, &e)) in found.iter().zip(expected).enumerate() {
        assert!(
            (f - e).abs() <= 1e-6 * e.abs().max(1e-6),
            "{what} row {row}: quakelab {f}, the reference {e}"
        );
    }
}

/// The predictions column of a `row,prediction` file (`quakelab decode`'s output), checking the
/// header and the row numbers.
pub fn read_predictions(path: &Path) -> Vec<f64> {
    let (header, rows) = read_csv(path);
    assert_eq!(header, ["row", "prediction"]);
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            assert_eq!(row[0], i.to_string());
            row[1].parse().unwrap()
        })
        .collect()
}

/// Runs the `quakelab` binary with `args` in `cwd` and returns what it did.
pub fn quakelab(args: &[&str], cwd: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_quakelab"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the quakelab binary runs")
}
