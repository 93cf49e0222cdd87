//! The xgboost decoder against the official Python package: every case of
//! `tools/parity/ref_xgboost.py` (fixtures in `tests/fixtures/boosters/`) through the Rust API, the
//! contract case also through the `quakelab decode` binary, and the refusals.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{self, assert_parity, read_csv, read_predictions};
use faer::Mat;
use quakelab::Error;
use quakelab::decode::{
    DecodeFiles, DecodeOptions, DecodeReport, DecoderConfig, FitContext, QuantileLevels, Regressor,
    decode_csv,
};
use serde_json::Value;

/// A table of `tests/fixtures/boosters/`: the feature names, the features (NaN where a cell
/// is missing) and the target `y`.
struct Table {
    features: Vec<String>,
    x: Mat<f64>,
    y: Vec<f64>,
}

fn table(name: &str) -> Table {
    let (header, rows) = read_csv(&support::fixture("boosters", name));
    let target = header.iter().position(|h| h == "y").unwrap();
    let features: Vec<String> = header
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != target)
        .map(|(_, h)| h.clone())
        .collect();
    let columns: Vec<usize> = (0..header.len()).filter(|&j| j != target).collect();
    let x = Mat::from_fn(rows.len(), columns.len(), |i, k| {
        rows[i][columns[k]].parse().unwrap()
    });
    let y = rows
        .iter()
        .map(|row| row[target].parse().unwrap())
        .collect();
    Table { features, x, y }
}

/// The columns of a fixture written by the parity script, by header.
fn columns(name: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    columns_at(&support::fixture("boosters", name))
}

fn cases() -> Value {
    let text = std::fs::read_to_string(support::fixture("boosters", "xgboost_cases.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The `[decoder]` section of a parity case: its params plus the rounds and early stopping,
/// as a user writes them.
fn case_config(case: &Value) -> DecoderConfig {
    let mut section = case["params"].as_object().unwrap().clone();
    section.insert("kind".into(), "xgboost".into());
    for key in ["num_boost_round", "early_stopping_rounds"] {
        if let Some(value) = case.get(key) {
            section.insert(key.into(), value.clone());
        }
    }
    serde_json::from_value(Value::Object(section)).unwrap()
}

/// Case `name` fitted through the Rust API, with the test table.
fn fitted_case(name: &str) -> (Box<dyn Regressor>, Table, Value) {
    let case = cases()["cases"][name].clone();
    let config = case_config(&case);
    let train = table(case["train"].as_str().unwrap());
    let test = table(case["test"].as_str().unwrap());
    let mut model = config.build(&train.features).unwrap();
    let valid = case.get("valid").map(|v| table(v.as_str().unwrap()));
    let ctx = FitContext::new(0);
    let ctx = match &valid {
        Some(valid) => ctx.with_validation(valid.x.as_ref(), &valid.y).unwrap(),
        None => ctx,
    };
    model.fit(train.x.as_ref(), &train.y, &ctx).unwrap();
    (model, test, case)
}

/// The one `prediction` column of a fixture.
fn expected_predictions(case: &Value) -> Vec<f64> {
    let (header, mut values) = columns(case["output"].as_str().unwrap());
    assert_eq!(header, ["prediction"]);
    values.remove(0)
}

fn assert_point_case(name: &str) {
    let (model, test, case) = fitted_case(name);
    let predicted = model.predict(test.x.as_ref()).unwrap();
    assert_parity(&predicted, &expected_predictions(&case), name);
}

/// Case `name` through `decode_csv`, the library function behind `quakelab decode`: the case's
/// files (with `--valid` when it has one), its predictions and the report.
fn decoded_case(name: &str, dir: &Path) -> (Vec<f64>, DecodeReport) {
    let case = cases()["cases"][name].clone();
    let fixture = |key: &str| {
        case.get(key)
            .map(|v| support::fixture("boosters", v.as_str().unwrap()))
    };
    let (train, test, valid) = (
        fixture("train").unwrap(),
        fixture("test").unwrap(),
        fixture("valid"),
    );
    let out = dir.join(format!("{name}.csv"));
    let files = DecodeFiles {
        train: &train,
        test: &test,
        valid: valid.as_deref(),
        out: &out,
    };
    let report = decode_csv(&case_config(&case), &files, "y", &DecodeOptions::default()).unwrap();
    let (_, mut values) = columns_at(&out);
    (values.remove(1), report)
}

/// The columns of a CSV file of numbers, by header.
fn columns_at(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let (header, rows) = read_csv(path);
    let values = (0..header.len())
        .map(|j| rows.iter().map(|row| row[j].parse().unwrap()).collect())
        .collect();
    (header, values)
}

#[test]
fn decode_reads_empty_and_nan_cells_as_missing_values_for_xgboost() {
    let dir = tempfile::tempdir().unwrap();
    let (predicted, report) = decoded_case("missing", dir.path());
    assert_parity(
        &predicted,
        &expected_predictions(&cases()["cases"]["missing"]),
        "missing through decode_csv",
    );
    // The count is every `nan` cell of the two files, counted here from their text.
    let nan_cells = |name: &str| {
        let text = std::fs::read_to_string(support::fixture("boosters", name)).unwrap();
        text.lines()
            .skip(1)
            .flat_map(|line| line.split(','))
            .filter(|cell| cell.eq_ignore_ascii_case("nan"))
            .count()
    };
    let expected = nan_cells("train_missing.csv") + nan_cells("test_missing.csv");
    assert!(expected > 0);
    assert_eq!(report.missing_cells, expected);
    assert_eq!(report.n_valid, 0);
}

#[test]
fn decode_valid_gives_the_validation_rows_for_early_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let (predicted, report) = decoded_case("early_stopping", dir.path());
    assert_parity(
        &predicted,
        &expected_predictions(&cases()["cases"]["early_stopping"]),
        "early stopping through decode_csv --valid",
    );
    assert_eq!(report.n_valid, table("valid.csv").y.len());
}

#[test]
fn xgboost_matches_the_python_package_on_the_contract_case() {
    assert_point_case("contract");
}

#[test]
fn xgboost_matches_the_python_package_with_row_and_column_subsampling() {
    assert_point_case("subsampling");
}

#[test]
fn xgboost_matches_the_python_package_with_missing_values() {
    let train = table("train_missing.csv");
    assert!(train.x.col_iter().any(|c| c.iter().any(|v| v.is_nan())));
    assert_point_case("missing");
}

#[test]
fn xgboost_early_stopping_predicts_with_the_best_round_as_python_does() {
    let case = &cases()["cases"]["early_stopping"];
    // Python stopped early, and its best round is not its last: the cut matters.
    let best = case["best_iteration"].as_u64().unwrap();
    let boosted = case["boosted_rounds"].as_u64().unwrap();
    assert!(best + 1 < boosted && boosted < case["num_boost_round"].as_u64().unwrap());
    assert_point_case("early_stopping");
}

#[test]
fn xgboost_quantiles_match_the_python_package() {
    let (model, test, case) = fitted_case("quantile");
    let (header, per_level) = columns(case["output"].as_str().unwrap());
    assert_eq!(header, ["q0.1", "q0.5", "q0.9"]);
    // quakelab sorts each row's quantiles (no crossing); so does the expectation.
    let rows = per_level[0].len();
    let sorted: Vec<Vec<f64>> = (0..rows)
        .map(|i| {
            let mut row: Vec<f64> = per_level.iter().map(|level| level[i]).collect();
            row.sort_by(f64::total_cmp);
            row
        })
        .collect();
    let levels = QuantileLevels::new(vec![0.1, 0.5, 0.9]).unwrap();
    let prediction = model
        .predict_distribution(test.x.as_ref(), &levels)
        .unwrap();
    let distribution = prediction.distribution().unwrap();
    for (k, level) in ["q0.1", "q0.5", "q0.9"].iter().enumerate() {
        let expected: Vec<f64> = sorted.iter().map(|row| row[k]).collect();
        assert_parity(distribution.quantile(k), &expected, level);
    }
    // The point prediction is the median.
    let median: Vec<f64> = sorted.iter().map(|row| row[1]).collect();
    assert_parity(&model.predict(test.x.as_ref()).unwrap(), &median, "median");
    // A level between two trained ones is interpolated: 0.3 is halfway from 0.1 to 0.5.
    let between = QuantileLevels::new(vec![0.3]).unwrap();
    let prediction = model
        .predict_distribution(test.x.as_ref(), &between)
        .unwrap();
    let halfway: Vec<f64> = sorted.iter().map(|row| 0.5 * (row[0] + row[1])).collect();
    assert_parity(
        prediction.distribution().unwrap().quantile(0),
        &halfway,
        "q0.3",
    );
}

#[test]
fn xgboost_total_gain_matches_the_python_package() {
    let (model, _, _) = fitted_case("contract");
    let (header, rows) = read_csv(&support::fixture("boosters", "xgboost_importance.csv"));
    assert_eq!(header, ["feature", "total_gain"]);
    let names: Vec<&str> = rows.iter().map(|row| row[0].as_str()).collect();
    assert_eq!(names, table("train.csv").features);
    let expected: Vec<f64> = rows.iter().map(|row| row[1].parse().unwrap()).collect();
    assert_parity(
        &model.feature_importance().unwrap(),
        &expected,
        "total_gain",
    );
}

fn quakelab(args: &[&str], cwd: &Path, env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quakelab"));
    command.args(args).current_dir(cwd).env_remove("RUST_LOG");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the quakelab binary runs")
}

/// The contract's command line, writing `p.csv` in `dir`.
fn contract_command(dir: &Path) -> Vec<String> {
    let train = support::fixture("boosters", "train.csv");
    let test = support::fixture("boosters", "test.csv");
    let mut args: Vec<String> = [
        "decode",
        "--decoder",
        "xgboost",
        "--train",
        train.to_str().unwrap(),
        "--test",
        test.to_str().unwrap(),
        "--target",
        "y",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for set in [
        "decoder.max_depth=4",
        "decoder.eta=0.1",
        "decoder.num_boost_round=150",
        "decoder.nthread=1",
        "decoder.seed=11",
    ] {
        args.extend(["--set".to_string(), set.to_string()]);
    }
    args.extend([
        "--out".to_string(),
        dir.join("p.csv").to_str().unwrap().to_string(),
    ]);
    args
}

#[test]
fn xgboost_contract_through_the_cli_matches_the_python_package() {
    let dir = tempfile::tempdir().unwrap();
    let args = contract_command(dir.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = quakelab(&args, dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let predicted = read_predictions(&dir.path().join("p.csv"));
    let case = &cases()["cases"]["contract"];
    assert_parity(&predicted, &expected_predictions(case), "contract via CLI");
}

#[test]
fn xgboost_log_lines_go_to_the_log_not_the_terminal() {
    // At verbosity 3 XGBoost reports its tree method while it fits: shown under -v only.
    const LINE: &str = "Using tree method";
    for (verbose, shown) in [(None, false), (Some("-v"), true)] {
        let dir = tempfile::tempdir().unwrap();
        let mut args = contract_command(dir.path());
        args.extend(["--set".to_string(), "decoder.verbosity=3".to_string()]);
        args.extend(verbose.map(str::to_string));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = quakelab(&args, dir.path(), &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert_eq!(stderr.contains(LINE), shown, "{verbose:?}: {stderr}");
    }
}

#[test]
fn xgboost_predicts_the_same_from_several_threads() {
    let (model, test, case) = fitted_case("contract");
    let expected = expected_predictions(&case);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| model.predict(test.x.as_ref()).unwrap()))
            .collect();
        for handle in handles {
            assert_parity(&handle.join().unwrap(), &expected, "threaded predict");
        }
    });
}

#[test]
fn xgboost_total_gain_is_zero_for_a_column_never_split_on() {
    // Column b is constant, so no split can use it; a carries the label.
    let x = Mat::from_fn(40, 2, |i, j| if j == 0 { i as f64 } else { 1.0 });
    let y: Vec<f64> = (0..40).map(|i| if i < 20 { 0.0 } else { 1.0 }).collect();
    let mut model = xgboost(&["decoder.seed=1"]);
    model.fit(x.as_ref(), &y, &FitContext::new(0)).unwrap();
    let gains = model.feature_importance().unwrap();
    assert_eq!(gains.len(), 2);
    assert!(gains[0] > 0.0, "{gains:?}");
    assert_eq!(gains[1], 0.0);
}

fn small_table(n: usize) -> (Mat<f64>, Vec<f64>) {
    let x = Mat::from_fn(n, 2, |i, j| (i * (j + 1)) as f64);
    let y = (0..n).map(|i| i as f64).collect();
    (x, y)
}

fn xgboost(overrides: &[&str]) -> Box<dyn Regressor> {
    let mut config = DecoderConfig::from_kind("xgboost").unwrap();
    for assignment in overrides {
        config.apply_override(assignment).unwrap();
    }
    config.build(&["a".to_string(), "b".to_string()]).unwrap()
}

#[test]
fn an_unknown_xgboost_parameter_is_refused_with_xgboosts_message() {
    let (x, y) = small_table(20);
    let mut model = xgboost(&["decoder.max_dept=4"]);
    match model.fit(x.as_ref(), &y, &FitContext::new(0)) {
        Err(Error::Config { key, message }) => {
            assert_eq!(key, "decoder.max_dept");
            assert!(
                message.contains(r#"Parameters: { "max_dept" } are not used."#),
                "{message}"
            );
        }
        other => panic!("expected a config error, got {other:?}"),
    }
    assert!(model.predict(x.as_ref()).is_err());
}

#[test]
fn one_training_row_is_refused_before_xgboost_sees_it() {
    let (x, y) = small_table(1);
    let mut model = xgboost(&[]);
    match model.fit(x.as_ref(), &y, &FitContext::new(0)) {
        Err(Error::Numerical(message)) => assert_eq!(
            message,
            "xgboost: cannot fit on 1 training row; it needs at least 2"
        ),
        other => panic!("expected a numerical error, got {other:?}"),
    }
}

#[test]
fn early_stopping_without_validation_rows_is_refused() {
    let (x, y) = small_table(20);
    let mut model = xgboost(&["decoder.early_stopping_rounds=5"]);
    match model.fit(x.as_ref(), &y, &FitContext::new(0)) {
        Err(Error::Config { key, message }) => {
            assert_eq!(key, "decoder.early_stopping_rounds");
            assert!(message.contains("--valid"), "{message}");
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn a_missing_xgboost_library_names_the_install_script() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let args = contract_command(dir.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = quakelab(&args, dir.path(), &[("QUAKELAB_BOOSTERS", empty.path())]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("xgboost/lib/libxgboost.so"), "{stderr}");
    assert!(stderr.contains("tools/install-boosters.sh"), "{stderr}");
    assert!(!dir.path().join("p.csv").exists());
}

/// Predictions on the test table of case `name`, with its parameters but the seed left to the
/// fit context, fitted with each of `seeds`.
fn predictions_per_seed(name: &str, seeds: [u64; 2]) -> (bool, [Vec<f64>; 2]) {
    let mut case = cases()["cases"][name].clone();
    case["params"].as_object_mut().unwrap().remove("seed");
    let config = case_config(&case);
    let train = table(case["train"].as_str().unwrap());
    let test = table(case["test"].as_str().unwrap());
    let predict = |seed: u64| {
        let mut model = config.build(&train.features).unwrap();
        model
            .fit(train.x.as_ref(), &train.y, &FitContext::new(seed))
            .unwrap();
        model.predict(test.x.as_ref()).unwrap()
    };
    (config.is_stochastic(), seeds.map(predict))
}

#[test]
fn xgboost_is_fitted_once_exactly_when_no_setting_draws_on_the_seed() {
    // Without subsampling XGBoost draws nothing: two seeds give the same model, bit for bit,
    // and the runner fits it once.
    let (stochastic, [a, b]) = predictions_per_seed("contract", [1, 2]);
    assert!(!stochastic);
    assert_eq!(a, b);
    // Row and column subsampling draw with the seed: the runner repeats the fit per seed.
    let (stochastic, [a, b]) = predictions_per_seed("subsampling", [1, 2]);
    assert!(stochastic);
    assert_ne!(a, b);
}
