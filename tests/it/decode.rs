//! Decoders: one conformance suite run over every decoder, ridge against scikit-learn's
//! `Ridge` (fixture from `tools/ref_ridge.py`), and `decode_csv` on tables good and bad.

use std::path::{Path, PathBuf};

use crate::support::{self, read_csv};
use faer::Mat;
use quakelab::Error;
use quakelab::decode::{DecoderConfig, PERSISTENCE_COLUMN, decode_csv};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn fixture(name: &str) -> PathBuf {
    support::fixture("decode", name)
}

/// The predictions column of a `row,prediction` file, checking the row numbers.
fn read_predictions(path: &Path) -> Vec<f64> {
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

fn config(kind: &str, overrides: &[&str]) -> DecoderConfig {
    let mut config = DecoderConfig::from_kind(kind).unwrap();
    for assignment in overrides {
        config.apply_override(assignment).unwrap();
    }
    config
}

fn mse(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| (p - q).powi(2)).sum::<f64>() / a.len() as f64
}

/// A table whose label is linear in three of its features, plus the label known at t
/// (`label_now`) that persistence reads, here the label plus a small offset.
struct Linear {
    names: Vec<String>,
    x: Mat<f64>,
    y: Vec<f64>,
}

fn linear_table(n: usize, seed: u64) -> Linear {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let features: Vec<[f64; 3]> = (0..n)
        .map(|_| std::array::from_fn(|_| rng.random::<f64>()))
        .collect();
    let y: Vec<f64> = features
        .iter()
        .map(|f| 1.0 + 2.0 * f[0] - 3.0 * f[1] + 0.5 * f[2])
        .collect();
    let x = Mat::from_fn(n, 4, |i, j| if j < 3 { features[i][j] } else { y[i] + 0.1 });
    let names = ["a", "b", "c", PERSISTENCE_COLUMN]
        .iter()
        .map(|s| s.to_string())
        .collect();
    Linear { names, x, y }
}

/// Each decoder at its defaults, persistence reading `label_now`.
fn every_decoder() -> Vec<DecoderConfig> {
    DecoderConfig::KINDS
        .iter()
        .map(|&kind| DecoderConfig::from_kind(kind).unwrap())
        .collect()
}

#[test]
fn conformance_every_decoder_predicts_one_value_per_row_deterministically() {
    let train = linear_table(200, 1);
    let test = linear_table(37, 2);
    for config in every_decoder() {
        let kind = config.kind();
        let run = || {
            let mut model = config.build(&train.names).unwrap();
            model.fit(train.x.as_ref(), &train.y).unwrap();
            (model.name(), model.predict(test.x.as_ref()).unwrap())
        };
        let (name, first) = run();
        assert_eq!(name, kind);
        assert_eq!(first.len(), 37, "{kind}");
        assert!(first.iter().all(|v| v.is_finite()), "{kind}");
        let (_, second) = run();
        assert_eq!(first, second, "{kind} is not deterministic");
    }
}

#[test]
fn conformance_every_decoder_fails_cleanly_on_bad_shapes() {
    let train = linear_table(50, 3);
    let wide = Mat::from_fn(5, 5, |i, j| (i * j) as f64);
    for config in every_decoder() {
        let kind = config.kind();
        let mut model = config.build(&train.names).unwrap();
        let before = model.predict(train.x.as_ref());
        assert!(
            matches!(before, Err(Error::Numerical(_))),
            "{kind}: {before:?}"
        );
        let short = model.fit(train.x.as_ref(), &train.y[..49]);
        assert!(
            matches!(short, Err(Error::Numerical(_))),
            "{kind}: {short:?}"
        );
        model.fit(train.x.as_ref(), &train.y).unwrap();
        let mismatch = model.predict(wide.as_ref());
        assert!(
            matches!(mismatch, Err(Error::Numerical(_))),
            "{kind}: {mismatch:?}"
        );
    }
}

#[test]
fn conformance_every_learning_decoder_beats_climatology_on_a_linear_target() {
    let train = linear_table(300, 4);
    let test = linear_table(100, 5);
    let mean = train.y.iter().sum::<f64>() / train.y.len() as f64;
    let climatology_mse = mse(&vec![mean; test.y.len()], &test.y);
    for config in every_decoder() {
        let kind = config.kind();
        let mut model = config.build(&train.names).unwrap();
        model.fit(train.x.as_ref(), &train.y).unwrap();
        let model_mse = mse(&model.predict(test.x.as_ref()).unwrap(), &test.y);
        match kind {
            // Climatology is the reference itself.
            "climatology" => assert!((model_mse - climatology_mse).abs() < 1e-12),
            // Persistence reads label_now = y + 0.1, so its error is exactly 0.1².
            "persistence" => assert!((model_mse - 0.01).abs() < 1e-12, "{model_mse}"),
            _ => assert!(
                model_mse <= climatology_mse,
                "{kind}: MSE {model_mse} vs climatology {climatology_mse}"
            ),
        }
    }
}

#[test]
fn ridge_matches_scikit_learn() {
    let expected = read_csv(&fixture("ridge_predictions.csv"));
    let dir = tempfile::tempdir().unwrap();
    for (column, label) in expected.0.iter().enumerate().skip(1) {
        let alpha = label.strip_prefix("alpha_").unwrap();
        let out = dir.path().join(format!("{label}.csv"));
        let config = config("ridge", &[&format!("decoder.alpha={alpha}")]);
        let report = decode_csv(
            &config,
            &fixture("ridge_train.csv"),
            &fixture("ridge_test.csv"),
            "y",
            &out,
        )
        .unwrap();
        assert_eq!(report.decoder, "ridge");
        assert_eq!((report.n_train, report.n_test), (40, 15));
        assert_eq!(report.feature_names, ["x0", "x1", "x2", "x3", "x4"]);
        let got = read_predictions(&out);
        assert_eq!(got.len(), expected.1.len());
        for (row, g) in expected.1.iter().zip(&got) {
            let want: f64 = row[column].parse().unwrap();
            assert!(
                (g - want).abs() <= 1e-11 * want.abs().max(1.0),
                "{label} row {}: {g} vs scikit-learn {want}",
                row[0]
            );
        }
    }
}

/// Writes `text` to `name` in `dir` and returns its path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn decode_csv_writes_one_prediction_per_test_row() {
    let dir = tempfile::tempdir().unwrap();
    // The target in the middle of the training columns, and absent from the test file.
    let train = write(dir.path(), "train.csv", "a,y,b\n1,10,0\n2,20,0\n3,60,1\n");
    let test = write(dir.path(), "test.csv", "a,b\n5,7\n6,8\n");
    let out = dir.path().join("nested/preds.csv");
    let report = decode_csv(&config("climatology", &[]), &train, &test, "y", &out).unwrap();
    // (10 + 20 + 60) / 3 = 30 for every test row.
    assert_eq!(read_predictions(&out), [30.0, 30.0]);
    assert_eq!(report.feature_names, ["a", "b"]);
    assert_eq!(report.test_mse, None);

    // Persistence on the column named by --set decoder.column=b, with a test target for the MSE.
    let test = write(dir.path(), "test_y.csv", "a,y,b\n5,1,7\n6,2,8\n");
    let report = decode_csv(
        &config("persistence", &["decoder.column=b"]),
        &train,
        &test,
        "y",
        &out,
    )
    .unwrap();
    assert_eq!(read_predictions(&out), [7.0, 8.0]);
    // ((1 − 7)² + (2 − 8)²) / 2 = 36.
    assert_eq!(report.test_mse, Some(36.0));

    // An empty test table gives just the header.
    let empty = write(dir.path(), "empty.csv", "a,b\n");
    decode_csv(&config("climatology", &[]), &train, &empty, "y", &out).unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "row,prediction\n");
}

/// The file, line and field of a parse error.
fn parse_error(result: quakelab::Result<impl std::fmt::Debug>) -> (PathBuf, u64, String) {
    match result {
        Err(Error::Parse {
            path, line, field, ..
        }) => (path, line, field),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn decode_csv_names_the_bad_cell() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.csv", "a,b,y\n1,2,3\n4,5,6\n");
    let out = dir.path().join("preds.csv");
    let ridge = config("ridge", &[]);
    let cases = [
        ("text.csv", "a,b,y\n1,2,3\n4,x,6\n", 3, "b"),
        ("empty_cell.csv", "a,b,y\n1,2,3\n4,5,6\n7,,9\n", 4, "b"),
        ("empty_target.csv", "a,b,y\n1,2,\n", 2, "y"),
        ("nan.csv", "a,b,y\nNaN,2,3\n", 2, "a"),
    ];
    for (name, text, line, field) in cases {
        let bad = write(dir.path(), name, text);
        let as_train = parse_error(decode_csv(&ridge, &bad, &good, "y", &out));
        assert_eq!(as_train, (bad.clone(), line, field.to_string()), "{name}");
        let as_test = parse_error(decode_csv(&ridge, &good, &bad, "y", &out));
        assert_eq!(as_test, (bad, line, field.to_string()), "{name}");
    }
    // A row with too few cells is refused at its line.
    let ragged = write(dir.path(), "ragged.csv", "a,b,y\n1,2,3\n4,5\n");
    let (path, line, _) = parse_error(decode_csv(&ridge, &ragged, &good, "y", &out));
    assert_eq!((path, line), (ragged, 3));
    assert!(
        !out.exists(),
        "a failed decode must not leave a predictions file"
    );
}

#[test]
fn decode_csv_refuses_tables_that_do_not_match() {
    let dir = tempfile::tempdir().unwrap();
    let train = write(dir.path(), "train.csv", "a,b,y\n1,2,3\n4,5,6\n");
    let out = dir.path().join("preds.csv");
    let ridge = config("ridge", &[]);
    let cases = [
        ("renamed.csv", "a,c\n1,2\n", "c"),
        ("swapped.csv", "b,a\n1,2\n", "b"),
        ("extra.csv", "a,b,z\n1,2,3\n", "z"),
        ("missing.csv", "a,y\n1,2\n", "b"),
    ];
    for (name, text, field) in cases {
        let test = write(dir.path(), name, text);
        assert_eq!(
            parse_error(decode_csv(&ridge, &train, &test, "y", &out)),
            (test, 1, field.to_string()),
            "{name}"
        );
    }
    // The training file must have the target, and no column twice.
    let good_test = write(dir.path(), "test.csv", "a,b\n1,2\n");
    assert_eq!(
        parse_error(decode_csv(&ridge, &train, &good_test, "label", &out)),
        (train.clone(), 1, "label".to_string())
    );
    let twice = write(dir.path(), "twice.csv", "a,a,y\n1,2,3\n");
    assert_eq!(
        parse_error(decode_csv(&ridge, &twice, &good_test, "y", &out)),
        (twice, 1, "a".to_string())
    );
    // Persistence on a column the table lacks is a setting error naming its key.
    let result = decode_csv(&config("persistence", &[]), &train, &good_test, "y", &out);
    assert!(
        matches!(&result, Err(Error::Config { key, .. }) if key == "decoder.column"),
        "{result:?}"
    );
    assert!(!out.exists());
}
