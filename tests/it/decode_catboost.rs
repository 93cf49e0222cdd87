//! The catboost decoder against the official Python package: predictions, quantiles and
//! importances of `tools/parity/ref_catboost.py` (fixtures in `tests/fixtures/boosters/`) to 1e-6
//! relative, through the Rust API and the CLI, and the decoder's refusals.
//!
//! The tests need the boosters' venv (`tools/install-boosters.sh`, run by `cargo build`, or
//! `QUAKELAB_BOOSTERS`).

use std::path::{Path, PathBuf};
use std::process::Command;

use faer::Mat;
use quakelab::Error;
use quakelab::decode::{DecoderConfig, FitContext, Prediction, QuantileLevels, Regressor};
use serde_json::Value;

use crate::support::{self, assert_parity, read_csv, read_predictions};

fn fixture(name: &str) -> PathBuf {
    support::fixture("boosters", name)
}

/// A parity table's features (every column but `y`, `nan` cells as NaN) and its target.
fn table(name: &str) -> (Mat<f64>, Vec<f64>) {
    let (header, rows) = read_csv(&fixture(name));
    let target = header.iter().position(|h| h == "y").unwrap();
    let values: Vec<Vec<f64>> = rows
        .iter()
        .map(|row| row.iter().map(|v| v.parse().unwrap()).collect())
        .collect();
    let columns: Vec<usize> = (0..header.len()).filter(|&j| j != target).collect();
    let x = Mat::from_fn(values.len(), columns.len(), |i, j| values[i][columns[j]]);
    let y = values.iter().map(|row| row[target]).collect();
    (x, y)
}

/// The columns of a fixture of predictions, by name.
fn expected(name: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let (header, rows) = read_csv(&fixture(name));
    let columns = (0..header.len())
        .map(|j| rows.iter().map(|row| row[j].parse().unwrap()).collect())
        .collect();
    (header, columns)
}

fn cases() -> Value {
    let text = std::fs::read_to_string(fixture("catboost_cases.json")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["cases"].clone()
}

/// The decoder of a case: `kind = "catboost"` and the case's `[decoder]` keys.
fn decoder(case: &Value) -> DecoderConfig {
    let mut table = case["decoder"].as_object().unwrap().clone();
    table.insert("kind".into(), "catboost".into());
    serde_json::from_value(Value::Object(table)).unwrap()
}

/// A case fitted through the Rust API (with validation rows where the case has them).
fn fitted(case: &Value) -> Box<dyn Regressor> {
    let config = decoder(case);
    let (x, y) = table(case["train"].as_str().unwrap());
    let mut model = config.build(&[]).unwrap();
    let valid = case["valid"].as_str().map(table);
    let ctx = FitContext::new(0);
    let ctx = match &valid {
        Some((vx, vy)) => ctx.with_validation(vx.as_ref(), vy).unwrap(),
        None => ctx,
    };
    model.fit(x.as_ref(), &y, &ctx).unwrap();
    model
}

#[test]
fn catboost_matches_the_python_package_on_every_point_case() {
    let cases = cases();
    for name in ["contract", "subsample", "early_stopping", "missing"] {
        let case = &cases[name];
        let model = fitted(case);
        let (x_test, _) = table(case["test"].as_str().unwrap());
        let (header, columns) = expected(&format!("catboost_{name}.csv"));
        assert_eq!(header, ["prediction"]);
        assert_parity(&model.predict(x_test.as_ref()).unwrap(), &columns[0], name);
    }
}

#[test]
fn catboost_importances_match_the_python_package() {
    let case = &cases()["contract"];
    let model = fitted(case);
    let expected: Vec<f64> = case["importance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_parity(
        &model.feature_importance().unwrap(),
        &expected,
        "PredictionValuesChange",
    );
}

#[test]
fn catboost_multiquantile_gives_the_package_quantiles_and_their_median() {
    let case = &cases()["multiquantile"];
    let model = fitted(case);
    let (x_test, _) = table(case["test"].as_str().unwrap());
    let (header, columns) = expected("catboost_multiquantile.csv");
    assert_eq!(header, ["q0.1", "q0.5", "q0.9"]);
    // Rearranged: each row's three outputs in increasing order.
    let n = columns[0].len();
    let sorted: Vec<[f64; 3]> = (0..n)
        .map(|i| {
            let mut row = [columns[0][i], columns[1][i], columns[2][i]];
            row.sort_by(f64::total_cmp);
            row
        })
        .collect();
    let levels = QuantileLevels::new(vec![0.1, 0.5, 0.9]).unwrap();
    let Prediction::Distribution(distribution) = model
        .predict_distribution(x_test.as_ref(), &levels)
        .unwrap()
    else {
        panic!("a MultiQuantile model predicts a distribution");
    };
    for k in 0..3 {
        let level: Vec<f64> = sorted.iter().map(|row| row[k]).collect();
        assert_parity(distribution.quantile(k), &level, &header[k]);
    }
    let median: Vec<f64> = sorted.iter().map(|row| row[1]).collect();
    assert_parity(&model.predict(x_test.as_ref()).unwrap(), &median, "median");
    assert_parity(distribution.mean(), &median, "mean");
    // A level between two trained ones: linear between them.
    let between = QuantileLevels::new(vec![0.3]).unwrap();
    let Prediction::Distribution(at_03) = model
        .predict_distribution(x_test.as_ref(), &between)
        .unwrap()
    else {
        panic!("a MultiQuantile model predicts a distribution");
    };
    let halfway: Vec<f64> = sorted.iter().map(|row| 0.5 * (row[0] + row[1])).collect();
    assert_parity(at_03.quantile(0), &halfway, "q0.3");
}

fn quakelab(args: &[&str], cwd: &Path, boosters: Option<&Path>) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quakelab"));
    command.args(args).current_dir(cwd);
    if let Some(venv) = boosters {
        command.env("QUAKELAB_BOOSTERS", venv);
    }
    command.output().expect("the quakelab binary runs")
}

const CONTRACT_ARGS: [&str; 10] = [
    "--set",
    "decoder.depth=4",
    "--set",
    "decoder.learning_rate=0.1",
    "--set",
    "decoder.iterations=150",
    "--set",
    "decoder.thread_count=1",
    "--set",
    "decoder.random_seed=11",
];

fn decode_args<'a>(train: &'a str, test: &'a str) -> Vec<&'a str> {
    let mut args = vec![
        "decode",
        "--decoder",
        "catboost",
        "--train",
        train,
        "--test",
        test,
        "--target",
        "y",
    ];
    args.extend(CONTRACT_ARGS);
    args.extend(["--out", "p.csv"]);
    args
}

#[test]
fn catboost_contract_through_the_cli_matches_the_python_package() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = (fixture("train.csv"), fixture("test.csv"));
    let args = decode_args(train.to_str().unwrap(), test.to_str().unwrap());
    let out = quakelab(&args, dir.path(), None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found = read_predictions(&dir.path().join("p.csv"));
    let (_, columns) = expected("catboost_contract.csv");
    assert_parity(&found, &columns[0], "contract via the CLI");
    // allow_writing_files = false: no catboost_info/ left in the working directory.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["p.csv"]);
}

#[test]
fn a_parameter_catboost_does_not_know_is_refused_with_its_message() {
    let mut config = decoder(&cases()["contract"]);
    config.apply_override("decoder.leaf_count=3").unwrap();
    let (x, y) = table("train.csv");
    let mut model = config.build(&[]).unwrap();
    match model.fit(x.as_ref(), &y, &FitContext::new(0)) {
        Err(Error::Config { key, message }) => {
            assert_eq!(key, "decoder.leaf_count");
            assert!(
                message.contains("unexpected keyword argument 'leaf_count'"),
                "{message}"
            );
        }
        other => panic!("expected a config error, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn one_training_row_is_refused_before_catboost() {
    let config = decoder(&cases()["contract"]);
    let mut model = config.build(&[]).unwrap();
    let x = Mat::from_fn(1, 3, |_, j| j as f64);
    match model.fit(x.as_ref(), &[1.0], &FitContext::new(0)) {
        Err(Error::Numerical(message)) => {
            assert!(message.contains("1 training row"), "{message}");
        }
        other => panic!("expected a numerical error, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn early_stopping_without_validation_rows_is_refused() {
    let config = decoder(&cases()["early_stopping"]);
    assert!(config.settings().wants_validation());
    let (x, y) = table("train.csv");
    let mut model = config.build(&[]).unwrap();
    match model.fit(x.as_ref(), &y, &FitContext::new(0)) {
        Err(Error::Config { key, .. }) => assert_eq!(key, "decoder.early_stopping_rounds"),
        other => panic!("expected a config error, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn a_missing_catboost_venv_names_the_install_script() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let (train, test) = (fixture("train.csv"), fixture("test.csv"));
    let args = decode_args(train.to_str().unwrap(), test.to_str().unwrap());
    let out = quakelab(&args, dir.path(), Some(empty.path()));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tools/install-boosters.sh"), "{stderr}");
    assert!(stderr.contains("catboost"), "{stderr}");
}

#[test]
fn a_python_without_catboost_names_the_venv_and_the_install_script() {
    let dir = tempfile::tempdir().unwrap();
    let venv = tempfile::tempdir().unwrap();
    let bin = venv.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // The system's Python without its site-packages: it cannot import catboost.
    let python = bin.join("python");
    std::fs::write(&python, "#!/bin/sh\nexec python3 -S \"$@\"\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let (train, test) = (fixture("train.csv"), fixture("test.csv"));
    let args = decode_args(train.to_str().unwrap(), test.to_str().unwrap());
    let out = quakelab(&args, dir.path(), Some(venv.path()));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot import catboost"), "{stderr}");
    assert!(stderr.contains("tools/install-boosters.sh"), "{stderr}");
    assert!(
        stderr.contains(&venv.path().display().to_string()),
        "{stderr}"
    );
}
