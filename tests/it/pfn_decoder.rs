//! The `pfn` decoder on the command line: the network built into the binary predicts with no
//! weights file, from any working directory, and a file copy of it predicts the same.

use std::path::{Path, PathBuf};

use crate::support::{quakelab, read_predictions};

/// A small regression table the test writes itself: y = 2·x0 − x1 + 0.5·x2 on a deterministic
/// grid of 80 training and 20 test rows (the test file keeps its `y` column, which `decode`
/// scores).
fn tables(dir: &Path) -> (PathBuf, PathBuf, f64) {
    let row = |i: usize| {
        let x0 = (i % 10) as f64 / 10.0;
        let x1 = ((i * 7) % 13) as f64 / 13.0;
        let x2 = ((i * 3) % 5) as f64;
        (x0, x1, x2, 2.0 * x0 - x1 + 0.5 * x2)
    };
    let table = |rows: std::ops::Range<usize>| {
        let mut text = "x0,x1,x2,y\n".to_string();
        for i in rows {
            let (a, b, c, y) = row(i);
            text.push_str(&format!("{a},{b},{c},{y}\n"));
        }
        text
    };
    let train_mean = (0..80).map(|i| row(i).3).sum::<f64>() / 80.0;
    let (train, test) = (dir.join("train.csv"), dir.join("test.csv"));
    std::fs::write(&train, table(0..80)).unwrap();
    std::fs::write(&test, table(80..100)).unwrap();
    (train, test, train_mean)
}

fn decode(dir: &Path, out: &str, settings: &[&str]) -> Vec<f64> {
    let mut args = vec![
        "decode",
        "--decoder",
        "pfn",
        "--train",
        "train.csv",
        "--test",
        "test.csv",
        "--target",
        "y",
        "--out",
        out,
    ];
    for setting in settings {
        args.extend(["--set", setting]);
    }
    let output = quakelab(&args, dir);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    read_predictions(&dir.join(out))
}

/// The command, in a directory that holds nothing but the two tables: the shipped
/// network is in the binary.
#[test]
fn decode_with_the_built_in_network_needs_no_weights_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, train_mean) = tables(dir.path());
    let predictions = decode(dir.path(), "p.csv", &[]);
    assert_eq!(predictions.len(), 20);
    assert!(predictions.iter().all(|p| p.is_finite()), "{predictions:?}");
    assert!(
        predictions.iter().any(|p| (p - train_mean).abs() > 1e-3),
        "every prediction is the training mean {train_mean}: {predictions:?}"
    );
}

/// `decoder.weights` naming a file copy of the shipped checkpoint reads the same network, so
/// it predicts exactly what the built-in one does.
#[test]
fn a_file_copy_of_the_shipped_network_predicts_as_the_built_in_one() {
    let dir = tempfile::tempdir().unwrap();
    tables(dir.path());
    let copy = dir.path().join("copy.safetensors");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("models/quakelab-pfn-s.safetensors"),
        &copy,
    )
    .unwrap();
    let built_in = decode(dir.path(), "built_in.csv", &[]);
    let weights = format!("decoder.weights={}", copy.display());
    let from_file = decode(dir.path(), "from_file.csv", &[&weights]);
    assert_eq!(built_in, from_file);
}
