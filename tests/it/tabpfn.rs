//! TabPFN v2 as a decoder: the Contract of `quakelab decode --decoder tabpfn` against the official
//! package (tabpfn 2.2.1) on the fixture model of `tools/parity/make_tabpfn.py`, its settings, its
//! weights policy in experiments, and its refusals.

use std::path::{Path, PathBuf};

use quakelab::io::npy;
use serde_json::Value;

use crate::support::{self, fixture, read_csv};

/// The deterministic configuration of the spec (part B.6), in which the members are the model
/// alone and the package's predictions are reproducible.
const DETERMINISTIC: [&str; 6] = [
    "decoder.n_estimators=1",
    "decoder.softmax_temperature=1.0",
    "decoder.preprocess=none",
    "decoder.fingerprint_feature=false",
    "decoder.feature_shift=none",
    "decoder.y_transform=none",
];

fn expected() -> Value {
    let text = std::fs::read_to_string(fixture("tabpfn", "expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn matrix(name: &str) -> (Vec<usize>, Vec<f64>) {
    let array = npy::read(&fixture("tabpfn", name)).unwrap();
    let data = match array.data {
        npy::NpyData::F64(v) => v,
        npy::NpyData::F32(v) => v.into_iter().map(f64::from).collect(),
    };
    (array.shape, data)
}

/// The fixture's train and test rows as CSV files (`f0..f6`, `y`), NaN as an empty cell.
fn fixture_tables(dir: &Path) -> (PathBuf, PathBuf) {
    let (shape, x_train) = matrix("x_train.npy");
    let (_, y_train) = matrix("y_train.npy");
    let (test_shape, x_test) = matrix("x_test.npy");
    let p = shape[1];
    let header: Vec<String> = (0..p).map(|j| format!("f{j}")).collect();
    let cell = |v: f64| {
        if v.is_nan() {
            String::new()
        } else {
            format!("{v:?}")
        }
    };
    let mut train = format!("{},y\n", header.join(","));
    for (i, y) in y_train.iter().enumerate() {
        let row: Vec<String> = x_train[i * p..(i + 1) * p].iter().map(|&v| cell(v)).collect();
        train.push_str(&format!("{},{y:?}\n", row.join(",")));
    }
    let mut test = format!("{}\n", header.join(","));
    for i in 0..test_shape[0] {
        let row: Vec<String> = x_test[i * p..(i + 1) * p].iter().map(|&v| cell(v)).collect();
        test.push_str(&format!("{}\n", row.join(",")));
    }
    let (train_path, test_path) = (dir.join("train.csv"), dir.join("test.csv"));
    std::fs::write(&train_path, train).unwrap();
    std::fs::write(&test_path, test).unwrap();
    (train_path, test_path)
}

fn decode(dir: &Path, weights: &Path, extra: &[&str], out: &str) -> std::process::Output {
    let (train, test) = fixture_tables(dir);
    let weights = format!("decoder.weights={}", weights.display());
    let mut args = vec![
        "decode",
        "--decoder",
        "tabpfn",
        "--train",
        train.to_str().unwrap(),
        "--test",
        test.to_str().unwrap(),
        "--target",
        "y",
        "--set",
        &weights,
        "--out",
        out,
    ];
    for setting in extra {
        args.extend(["--set", setting]);
    }
    support::quakelab(&args, dir)
}

fn column(path: &Path, name: &str) -> Vec<f64> {
    let (header, rows) = read_csv(path);
    let j = header.iter().position(|h| h == name).unwrap();
    rows.iter().map(|r| r[j].parse().unwrap()).collect()
}

fn assert_relative(got: &[f64], want: &[Value], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let w = w.as_f64().unwrap();
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what} row {i}: quakelab {g}, tabpfn {w}"
        );
    }
}

#[test]
fn decode_matches_the_official_package_mean_and_median_from_both_formats() {
    let expected = expected();
    for file in ["model.ckpt", "model.safetensors"] {
        let dir = tempfile::tempdir().unwrap();
        let weights = fixture("tabpfn", file);
        let mut settings = DETERMINISTIC.to_vec();
        let output = decode(dir.path(), &weights, &settings, "mean.csv");
        assert!(output.status.success(), "{output:?}");
        let mean = column(&dir.path().join("mean.csv"), "prediction");
        assert_relative(&mean, expected["mean"].as_array().unwrap(), 1e-4, file);

        settings.push("decoder.output=median");
        let output = decode(dir.path(), &weights, &settings, "median.csv");
        assert!(output.status.success(), "{output:?}");
        let median = column(&dir.path().join("median.csv"), "prediction");
        assert_relative(&median, expected["median"].as_array().unwrap(), 1e-4, file);
    }
}
