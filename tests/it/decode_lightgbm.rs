//! The `lightgbm` decoder against the official Python package: the parity fixtures of
//! `tools/parity/ref_lightgbm.py` (LightGBM 4.7.0 on tests/fixtures/boosters), through the Rust API
//! and, for the contract, through `quakelab decode`; and its refusals.

use std::path::Path;
use std::process::{Command, Output};

use faer::Mat;
use quakelab::Error;
use quakelab::decode::{DecoderConfig, FitContext, QuantileLevels, Regressor};
use serde_json::Value;

use crate::support::{assert_parity, fixture, read_csv, read_predictions};

/// `tests/fixtures/boosters/<name>`.
fn boosters(name: &str) -> std::path::PathBuf {
    fixture("boosters", name)
}

/// A table of the fixtures: the features (every column but `y`, NaN where the cell says `nan`)
/// and the labels.
fn table(name: &str) -> (Mat<f64>, Vec<f64>) {
    let (header, rows) = read_csv(&boosters(name));
    let target = header.iter().position(|h| h == "y").unwrap();
    let p = header.len() - 1;
    let x = Mat::from_fn(rows.len(), p, |i, j| {
        let column = if j < target { j } else { j + 1 };
        rows[i][column].parse().unwrap()
    });
    let y = rows.iter().map(|r| r[target].parse().unwrap()).collect();
    (x, y)
}

/// The named columns of a fixture output file.
fn columns(name: &str, wanted: &[String]) -> Vec<Vec<f64>> {
    let (header, rows) = read_csv(&boosters(name));
    wanted
        .iter()
        .map(|column| {
            let j = header.iter().position(|h| h == column).unwrap();
            rows.iter().map(|r| r[j].parse().unwrap()).collect()
        })
        .collect()
}

fn cases() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(boosters("lightgbm_cases.json")).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        file["lightgbm"], "4.7.0",
        "fixtures made with another LightGBM"
    );
    file["cases"].as_object().unwrap().clone()
}

/// The decoder with a case's parameters, as a `[decoder]` section would give them.
fn config(params: &Value) -> DecoderConfig {
    let mut table = params.as_object().unwrap().clone();
    table.insert("kind".into(), "lightgbm".into());
    serde_json::from_value(Value::Object(table)).unwrap()
}

/// Fits a case's decoder through the Rust API, with its validation rows when it has some.
fn fit_case(case: &Value) -> Box<dyn Regressor> {
    let config = config(&case["params"]);
    let (x, y) = table(case["train"].as_str().unwrap());
    let names: Vec<String> = (0..x.ncols()).map(|j| format!("x{j}")).collect();
    let mut model = config.build(&names).unwrap();
    let ctx = FitContext::new(5);
    match case["valid"].as_str() {
        Some(valid) => {
            assert!(config.settings().wants_validation());
            let (xv, yv) = table(valid);
            let ctx = ctx.with_validation(xv.as_ref(), &yv).unwrap();
            model.fit(x.as_ref(), &y, &ctx).unwrap();
        }
        None => model.fit(x.as_ref(), &y, &ctx).unwrap(),
    }
    model
}

#[test]
fn lightgbm_point_predictions_match_the_python_package() {
    let cases = cases();
    for name in [
        "contract",
        "subsample",
        "early_stopping",
        "missing",
        "quantile",
    ] {
        let case = &cases[name];
        let model = fit_case(case);
        let (x_test, _) = table(case["test"].as_str().unwrap());
        let expected = columns(case["output"].as_str().unwrap(), &["prediction".into()]);
        let found = model.predict(x_test.as_ref()).unwrap();
        assert_parity(&found, &expected[0], name);
    }
}

#[test]
fn lightgbm_quantile_levels_match_one_python_booster_per_alpha() {
    let case = &cases()["quantile_list"];
    let model = fit_case(case);
    let (x_test, _) = table("test.csv");
    let names: Vec<String> = case["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let expected = columns("lightgbm_quantile_list.csv", &names);
    let levels = QuantileLevels::new(vec![0.1, 0.5, 0.9]).unwrap();
    let prediction = model
        .predict_distribution(x_test.as_ref(), &levels)
        .unwrap();
    let distribution = prediction.distribution().expect("a distribution");
    for (k, name) in names.iter().enumerate() {
        assert_parity(distribution.quantile(k), &expected[k], name);
    }
    // The point prediction is the median: the 0.5 booster's output, after sorting.
    assert_parity(
        &model.predict(x_test.as_ref()).unwrap(),
        &expected[1],
        "median",
    );
    let outside = QuantileLevels::new(vec![0.05, 0.5]).unwrap();
    let refused = model.predict_distribution(x_test.as_ref(), &outside);
    assert!(
        matches!(&refused, Err(Error::Config { key, .. }) if key == "decoder.alpha"),
        "{refused:?}"
    );
}

#[test]
fn lightgbm_gain_importances_match_the_python_package() {
    let case = &cases()["importance"];
    let model = fit_case(case);
    let expected = columns("lightgbm_importance.csv", &["gain".into()]);
    assert_parity(&model.feature_importance().unwrap(), &expected[0], "gain");
}

fn quakelab(args: &[&str], cwd: &Path, boosters_venv: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quakelab"));
    command.args(args).current_dir(cwd);
    if let Some(venv) = boosters_venv {
        command.env("QUAKELAB_BOOSTERS", venv);
    }
    command.output().expect("the quakelab binary runs")
}

/// The contract, with LightGBM's names.
fn contract_args<'a>(train: &'a str, test: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "decode",
        "--decoder",
        "lightgbm",
        "--train",
        train,
        "--test",
        test,
        "--target",
        "y",
        "--set",
        "decoder.max_depth=4",
        "--set",
        "decoder.learning_rate=0.1",
        "--set",
        "decoder.num_iterations=150",
        "--set",
        "decoder.num_threads=1",
        "--set",
        "decoder.seed=11",
        "--out",
        out,
    ]
}

#[test]
fn lightgbm_contract_through_the_cli_matches_the_python_package() {
    let dir = tempfile::tempdir().unwrap();
    let train = boosters("train.csv");
    let test = boosters("test.csv");
    let args = contract_args(
        train.to_str().unwrap(),
        test.to_str().unwrap(),
        "predictions.csv",
    );
    let out = quakelab(&args, dir.path(), None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found = read_predictions(&dir.path().join("predictions.csv"));
    let expected = columns("lightgbm_contract.csv", &["prediction".into()]);
    assert_parity(&found, &expected[0], "contract through the CLI");
}

#[test]
fn an_unknown_lightgbm_parameter_is_refused_with_lightgbms_message() {
    let mut config = DecoderConfig::from_kind("lightgbm").unwrap();
    config.apply_override("decoder.max_dpeth=4").unwrap();
    match config.check() {
        Err(Error::Config { key, message }) => {
            assert_eq!(key, "decoder.max_dpeth");
            assert!(
                message.contains("[LightGBM] [Warning] Unknown parameter: max_dpeth"),
                "{message}"
            );
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn a_single_lightgbm_training_row_is_refused() {
    let config = DecoderConfig::from_kind("lightgbm").unwrap();
    let mut model = config.build(&["a".into(), "b".into()]).unwrap();
    let x = Mat::from_fn(1, 2, |_, j| j as f64);
    let result = model.fit(x.as_ref(), &[1.0], &FitContext::new(0));
    match result {
        Err(Error::Numerical(message)) => assert_eq!(
            message,
            "lightgbm: cannot fit on 1 training row; it needs at least 2"
        ),
        other => panic!("expected a numerical error, got {other:?}"),
    }
}

#[test]
fn a_missing_lightgbm_library_names_the_install_script() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let train = boosters("train.csv");
    let test = boosters("test.csv");
    let args = contract_args(train.to_str().unwrap(), test.to_str().unwrap(), "p.csv");
    let out = quakelab(&args, dir.path(), Some(empty.path()));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("lightgbm/lib/lib_lightgbm.so"), "{stderr}");
    assert!(stderr.contains("tools/install-boosters.sh"), "{stderr}");
    assert!(!dir.path().join("p.csv").exists());
}

#[test]
fn lightgbm_early_stopping_without_validation_rows_is_refused() {
    let mut config = DecoderConfig::from_kind("lightgbm").unwrap();
    config
        .apply_override("decoder.early_stopping_rounds=10")
        .unwrap();
    assert!(config.settings().wants_validation());
    let (x, y) = table("train.csv");
    let names: Vec<String> = (0..x.ncols()).map(|j| format!("x{j}")).collect();
    let mut model = config.build(&names).unwrap();
    match model.fit(x.as_ref(), &y, &FitContext::new(0)) {
        Err(Error::Config { key, message }) => {
            assert_eq!(key, "decoder.early_stopping_rounds");
            assert!(message.contains("--valid"), "{message}");
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn lightgbm_seed_follows_the_fit_context_unless_pinned() {
    let (x, y) = table("train.csv");
    let (x_test, _) = table("test.csv");
    let names: Vec<String> = (0..x.ncols()).map(|j| format!("x{j}")).collect();
    let subsampled = [
        "decoder.bagging_fraction=0.7",
        "decoder.bagging_freq=1",
        "decoder.feature_fraction=0.6",
        "decoder.num_threads=1",
        "decoder.num_iterations=20",
    ];
    let predict = |extra: Option<String>, seed: u64| {
        let mut config = DecoderConfig::from_kind("lightgbm").unwrap();
        for assignment in subsampled.iter().map(|s| s.to_string()).chain(extra) {
            config.apply_override(&assignment).unwrap();
        }
        let mut model = config.build(&names).unwrap();
        model.fit(x.as_ref(), &y, &FitContext::new(seed)).unwrap();
        (
            config.is_stochastic(),
            model.predict(x_test.as_ref()).unwrap(),
        )
    };
    let seed = (1u64 << 40) + 12345;
    let (stochastic, from_context) = predict(None, seed);
    assert!(stochastic);
    let pinned = format!(
        "decoder.seed={}",
        quakelab::decode::booster::library_seed(seed)
    );
    let (stochastic, pinned_seed) = predict(Some(pinned.clone()), 99);
    assert!(!stochastic);
    assert_eq!(from_context, pinned_seed);
    assert_ne!(from_context, predict(None, seed + 1).1);
    assert_eq!(pinned_seed, predict(Some(pinned), 7).1);
}

/// Predictions on the test table of case `name`, with its parameters but the seed left to the
/// fit context, fitted with each of `seeds`.
fn predictions_per_seed(name: &str, seeds: [u64; 2]) -> (bool, [Vec<f64>; 2]) {
    let case = &cases()[name];
    let mut params = case["params"].clone();
    params.as_object_mut().unwrap().remove("seed");
    let config = config(&params);
    let (x, y) = table(case["train"].as_str().unwrap());
    let (x_test, _) = table(case["test"].as_str().unwrap());
    let names: Vec<String> = (0..x.ncols()).map(|j| format!("x{j}")).collect();
    let predict = |seed: u64| {
        let mut model = config.build(&names).unwrap();
        model.fit(x.as_ref(), &y, &FitContext::new(seed)).unwrap();
        model.predict(x_test.as_ref()).unwrap()
    };
    (config.is_stochastic(), seeds.map(predict))
}

#[test]
fn lightgbm_is_fitted_once_exactly_when_no_setting_draws_on_the_seed() {
    // Without bagging or feature sampling LightGBM draws nothing on this table: two seeds give
    // the same model, bit for bit, and the runner fits it once.
    let (stochastic, [a, b]) = predictions_per_seed("contract", [1, 2]);
    assert!(!stochastic);
    assert_eq!(a, b);
    // Bagging and feature sampling draw with the seed: the runner repeats the fit per seed.
    let (stochastic, [a, b]) = predictions_per_seed("subsample", [1, 2]);
    assert!(stochastic);
    assert_ne!(a, b);
}
