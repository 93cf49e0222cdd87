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
        let row: Vec<String> = x_train[i * p..(i + 1) * p]
            .iter()
            .map(|&v| cell(v))
            .collect();
        train.push_str(&format!("{},{y:?}\n", row.join(",")));
    }
    let mut test = format!("{}\n", header.join(","));
    for i in 0..test_shape[0] {
        let row: Vec<String> = x_test[i * p..(i + 1) * p]
            .iter()
            .map(|&v| cell(v))
            .collect();
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

/// A small experiment without images: one year of b/a windows, a chronological split,
/// persistence and TabPFN (`decoder` is TabPFN's table, written inline).
fn small_experiment(dir: &Path, decoder: &str) -> PathBuf {
    let file = dir.join("e.toml");
    let text = format!(
        r#"
name = "small_tabpfn"
seed = 7
decoders = [{{ kind = "persistence" }}, {{ kind = "tabpfn", {decoder} }}]
[period]
start = "2010-01-01"
end = "2011-01-01"
[data]
catalog = "synthetic:japan"
[features.seismicity]
window_days = 64
[split]
kinds = ["chronological"]
[ablations]
modalities = ["seismicity"]
controls = []
shuffle_modality = false
null_scenario = false
[tracking]
results_dir = {results}
"#,
        results = toml::Value::String(dir.join("results").display().to_string())
    );
    std::fs::write(&file, text).unwrap();
    file
}

fn toml_path(path: &Path) -> String {
    toml::Value::String(path.display().to_string()).to_string()
}

#[test]
fn an_experiment_runs_tabpfn_from_a_checkpoint_with_its_quantile_scores() {
    let dir = tempfile::tempdir().unwrap();
    let weights = fixture("tabpfn", "model.ckpt");
    let file = small_experiment(
        dir.path(),
        &format!("weights = {}, n_estimators = 2", toml_path(&weights)),
    );
    let layers = quakelab::experiment::config::Layers {
        file: Some(file),
        ..Default::default()
    };
    let experiment = quakelab::experiment::config::resolve(&layers).unwrap();
    let outcome = quakelab::experiment::runner::run(&experiment).unwrap();
    let row = outcome
        .results
        .iter()
        .find(|r| r.decoder == "tabpfn")
        .expect("a TabPFN row");
    assert!(!row.is_skipped());
    assert!(row.test_mse.is_finite() && row.n_test > 0, "{row:?}");
    // Its predictive distribution reaches the quantile scores.
    assert!(row.test_pinball.is_some_and(f64::is_finite), "{row:?}");
}

#[test]
fn an_optional_tabpfn_without_weights_is_skipped_with_the_fetch_command() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("empty-store");
    std::fs::create_dir_all(&store).unwrap();
    let file = small_experiment(dir.path(), "optional = true");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_quakelab"))
        .args(["run", file.to_str().unwrap()])
        .env("QUAKELAB_MODELS", &store)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("SKIPPED"), "{stdout}");
    let table = std::fs::read_dir(dir.path().join("results/small_tabpfn"))
        .unwrap()
        .map(|entry| entry.unwrap().path().join("tables/results.csv"))
        .find(|path| path.is_file())
        .expect("the run's results table");
    let mut reader = csv::Reader::from_path(&table).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let tabpfn: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r[at("decoder")] == "tabpfn")
        .collect();
    assert_eq!(tabpfn.len(), 1);
    assert_eq!(tabpfn[0][at("role")], "skipped");
    let status = &tabpfn[0][at("status")];
    assert!(
        status.contains("quakelab models fetch Prior-Labs/TabPFN-v2-reg")
            && status.contains("tabpfn-v2-regressor.ckpt is missing"),
        "{status}"
    );
    // Persistence still ran.
    assert!(
        rows.iter()
            .any(|r| r[at("decoder")] == "persistence" && r[at("role")] != "skipped")
    );
}

#[test]
fn missing_weights_are_refused_naming_the_key_and_the_fetch_command() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("empty-store");
    std::fs::create_dir_all(&store).unwrap();
    let (train, test) = fixture_tables(dir.path());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_quakelab"))
        .args([
            "decode",
            "--decoder",
            "tabpfn",
            "--train",
            train.to_str().unwrap(),
            "--test",
            test.to_str().unwrap(),
            "--target",
            "y",
            "--out",
            "p.csv",
        ])
        .env("QUAKELAB_MODELS", &store)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("decoder.weights")
            && stderr.contains("quakelab models fetch Prior-Labs/TabPFN-v2-reg"),
        "{stderr}"
    );
    assert!(!dir.path().join("p.csv").exists());
}

/// TabPFN at its defaults on the fixture checkpoint, with `settings` on top.
fn fixture_decoder(settings: &[&str]) -> quakelab::decode::DecoderConfig {
    let mut config = quakelab::decode::DecoderConfig::from_kind("tabpfn").unwrap();
    let weights = fixture("tabpfn", "model.ckpt");
    config
        .apply_override(&format!("decoder.weights={}", weights.display()))
        .unwrap();
    for setting in settings {
        config.apply_override(setting).unwrap();
    }
    config
}

#[test]
fn a_constant_target_is_predicted_as_that_constant() {
    let config = fixture_decoder(&[]);
    let x = faer::Mat::from_fn(6, 2, |i, j| (i * 3 + j) as f64);
    let mut model = config.build(&["a".into(), "b".into()]).unwrap();
    model
        .fit(x.as_ref(), &[2.5; 6], &quakelab::decode::FitContext::new(0))
        .unwrap();
    let levels = quakelab::decode::QuantileLevels::new(vec![0.1, 0.9]).unwrap();
    let prediction = model.predict_distribution(x.as_ref(), &levels).unwrap();
    let d = prediction.distribution().unwrap();
    for row in 0..6 {
        assert_eq!((d.mean()[row], d.median()[row]), (2.5, 2.5));
        assert_eq!(d.row_quantiles(row), [2.5, 2.5]);
    }
}

#[test]
fn more_features_than_the_model_was_pretrained_on_are_refused_unless_allowed() {
    let x = faer::Mat::from_fn(3, 501, |i, j| ((i + 1) * (j + 1)) as f64);
    let y = [1.0, 2.0, 4.0];
    let names: Vec<String> = (0..501).map(|j| format!("f{j}")).collect();
    let ctx = quakelab::decode::FitContext::new(0);
    let mut model = fixture_decoder(&[]).build(&names).unwrap();
    let error = model.fit(x.as_ref(), &y, &ctx).unwrap_err();
    assert!(
        matches!(&error, quakelab::Error::Config { key, .. } if key == "decoder.ignore_pretraining_limits"),
        "{error}"
    );
    assert!(error.to_string().contains("501 features"), "{error}");
    let mut allowed = fixture_decoder(&[
        "decoder.ignore_pretraining_limits=true",
        "decoder.n_estimators=1",
        "decoder.preprocess=none",
    ])
    .build(&names)
    .unwrap();
    allowed.fit(x.as_ref(), &y, &ctx).unwrap();
    assert_eq!(allowed.predict(x.as_ref()).unwrap().len(), 3);
}
