//! Decoders: one conformance suite run over every decoder, ridge against scikit-learn's
//! `Ridge` (fixture from `tools/ref_ridge.py`), and `decode_csv` on tables good and bad.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use crate::support::{self, read_csv, read_predictions};
use faer::Mat;
use quakelab::Error;
use quakelab::decode::{
    DecodeFiles, DecodeOptions, DecodeReport, DecoderConfig, DecoderRole, FitContext,
    KNOWN_LABEL_COLUMN, ORACLE_COLUMN, QuantileLevels, Regressor, decode_csv, decoder_input,
    moving_average_column,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn fixture(name: &str) -> PathBuf {
    support::fixture("decode", name)
}

/// [`decode_csv`] without validation rows.
fn decode(
    decoder: &DecoderConfig,
    train: &Path,
    test: &Path,
    target: &str,
    out: &Path,
    seed: u64,
) -> quakelab::Result<DecodeReport> {
    let files = DecodeFiles {
        train,
        test,
        valid: None,
        out,
    };
    let options = DecodeOptions {
        seed,
        ..DecodeOptions::default()
    };
    decode_csv(decoder, &files, target, &options)
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

/// A table whose label is linear in its three features, plus the reference columns the runner
/// offers ([`reference_names`]): here the label plus an offset of 0.1 (`label_now`), 0.2
/// (`label_known`) and 0.3 (`label_known_mean_30d`), so each baseline's error tells which
/// column it read.
struct Linear {
    features: Mat<f64>,
    references: Mat<f64>,
    y: Vec<f64>,
}

/// The reference columns of [`Linear`], in order.
fn reference_names() -> Vec<String> {
    vec![
        ORACLE_COLUMN.to_string(),
        KNOWN_LABEL_COLUMN.to_string(),
        moving_average_column(30),
    ]
}

/// The offset from the label of each column of [`reference_names`].
const REFERENCE_OFFSETS: [f64; 3] = [0.1, 0.2, 0.3];

fn names(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn linear_table(n: usize, seed: u64) -> Linear {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let features = Mat::from_fn(n, 3, |_, _| rng.random::<f64>());
    let y: Vec<f64> = (0..n)
        .map(|i| 1.0 + 2.0 * features[(i, 0)] - 3.0 * features[(i, 1)] + 0.5 * features[(i, 2)])
        .collect();
    let references = Mat::from_fn(n, 3, |i, j| y[i] + REFERENCE_OFFSETS[j]);
    Linear {
        features,
        references,
        y,
    }
}

impl Linear {
    /// The decoder's input, as the runner makes it: the features, plus the reference columns
    /// the decoder asks for.
    fn input(&self, config: &DecoderConfig) -> (Vec<String>, Mat<f64>) {
        decoder_input(
            config.settings(),
            &names(&["a", "b", "c"]),
            self.features.as_ref(),
            &reference_names(),
            self.references.as_ref(),
        )
        .unwrap()
    }
}

fn fitted(config: &DecoderConfig, train: &Linear, ctx: &FitContext<'_>) -> Box<dyn Regressor> {
    let (columns, x) = train.input(config);
    let mut model = config.build(&columns).unwrap();
    model.fit(x.as_ref(), &train.y, ctx).unwrap();
    model
}

/// Each decoder at its defaults, the baselines reading their default columns, and TabPFN with
/// the small random-weight checkpoint of its parity fixture (the official weights are not here).
fn every_decoder() -> Vec<DecoderConfig> {
    DecoderConfig::KINDS
        .iter()
        .map(|&kind| {
            let mut config = DecoderConfig::from_kind(kind).unwrap();
            if kind == "tabpfn" {
                let weights = support::fixture("tabpfn", "model.ckpt");
                config
                    .apply_override(&format!("decoder.weights={}", weights.display()))
                    .unwrap();
            }
            config
        })
        .collect()
}

#[test]
fn conformance_every_decoder_predicts_one_value_per_row_deterministically() {
    let train = linear_table(200, 1);
    let test = linear_table(37, 2);
    for config in every_decoder() {
        let kind = config.kind();
        let run = || {
            let model = fitted(&config, &train, &FitContext::new(3));
            (
                model.name(),
                model.predict(test.input(&config).1.as_ref()).unwrap(),
            )
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
    let ctx = FitContext::new(0);
    for config in every_decoder() {
        let kind = config.kind();
        let (columns, x) = train.input(&config);
        let mut model = config.build(&columns).unwrap();
        let before = model.predict(x.as_ref());
        assert!(
            matches!(before, Err(Error::Numerical(_))),
            "{kind}: {before:?}"
        );
        let short = model.fit(x.as_ref(), &train.y[..49], &ctx);
        assert!(
            matches!(short, Err(Error::Numerical(_))),
            "{kind}: {short:?}"
        );
        let validation = Mat::from_fn(2, x.ncols() + 1, |i, j| (i + j) as f64);
        let misshapen = ctx
            .with_validation(validation.as_ref(), &[1.0, 2.0])
            .unwrap();
        let result = model.fit(x.as_ref(), &train.y, &misshapen);
        assert!(
            matches!(result, Err(Error::Numerical(_))),
            "{kind}: validation rows with another column count: {result:?}"
        );
        model.fit(x.as_ref(), &train.y, &ctx).unwrap();
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
        let model = fitted(&config, &train, &FitContext::new(0));
        let model_mse = mse(
            &model.predict(test.input(&config).1.as_ref()).unwrap(),
            &test.y,
        );
        match kind {
            // Climatology is the reference itself.
            "climatology" => assert!((model_mse - climatology_mse).abs() < 1e-12),
            // Each baseline reads its column y + offset, so its error is exactly offset².
            "oracle_persistence" => assert!((model_mse - 0.01).abs() < 1e-12, "{model_mse}"),
            "persistence" => assert!((model_mse - 0.04).abs() < 1e-12, "{model_mse}"),
            "moving_average" => assert!((model_mse - 0.09).abs() < 1e-12, "{model_mse}"),
            // Only random weights are here: a random-weight TabPFN predicts nothing meaningful.
            "tabpfn" => assert!(model_mse.is_finite()),
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
        let report = decode(
            &config,
            &fixture("ridge_train.csv"),
            &fixture("ridge_test.csv"),
            "y",
            &out,
            0,
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
    let report = decode(&config("climatology", &[]), &train, &test, "y", &out, 0).unwrap();
    // (10 + 20 + 60) / 3 = 30 for every test row.
    assert_eq!(read_predictions(&out), [30.0, 30.0]);
    assert_eq!(report.feature_names, ["a", "b"]);
    assert_eq!(report.test_mse, None);

    // Persistence on the column named by --set decoder.column=b, with a test target for the MSE.
    let test = write(dir.path(), "test_y.csv", "a,y,b\n5,1,7\n6,2,8\n");
    let report = decode(
        &config("persistence", &["decoder.column=b"]),
        &train,
        &test,
        "y",
        &out,
        0,
    )
    .unwrap();
    assert_eq!(read_predictions(&out), [7.0, 8.0]);
    // ((1 − 7)² + (2 − 8)²) / 2 = 36.
    assert_eq!(report.test_mse, Some(36.0));

    // The other baselines read their columns by name the same way.
    let train_ref = write(
        dir.path(),
        "train_ref.csv",
        "label_now,label_known,label_known_mean_2d,y\n1,2,3,4\n5,6,7,8\n",
    );
    let test_ref = write(
        dir.path(),
        "test_ref.csv",
        "label_now,label_known,label_known_mean_2d,y\n10,20,30,11\n40,50,60,41\n",
    );
    for (kind, overrides, expected, mse) in [
        // ((11 − 20)² + (41 − 50)²) / 2 = 81.
        ("persistence", &[][..], [20.0, 50.0], 81.0),
        // ((11 − 10)² + (41 − 40)²) / 2 = 1.
        ("oracle_persistence", &[][..], [10.0, 40.0], 1.0),
        // ((11 − 30)² + (41 − 60)²) / 2 = 361.
        (
            "moving_average",
            &["decoder.window_days=2"][..],
            [30.0, 60.0],
            361.0,
        ),
    ] {
        let baseline = config(kind, overrides);
        let report = decode(&baseline, &train_ref, &test_ref, "y", &out, 0).unwrap();
        assert_eq!(read_predictions(&out), expected, "{kind}");
        assert_eq!(report.test_mse, Some(mse), "{kind}");
    }
    // Without a label_known_mean_30d column the default moving average names its setting.
    let average = config("moving_average", &[]);
    let result = decode(&average, &train_ref, &test_ref, "y", &out, 0);
    assert!(
        matches!(&result, Err(Error::Config { key, .. }) if key == "decoder.window_days"),
        "{result:?}"
    );

    // An empty test table gives just the header.
    let empty = write(dir.path(), "empty.csv", "a,b\n");
    decode(&config("climatology", &[]), &train, &empty, "y", &out, 0).unwrap();
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
        let as_train = parse_error(decode(&ridge, &bad, &good, "y", &out, 0));
        assert_eq!(as_train, (bad.clone(), line, field.to_string()), "{name}");
        let as_test = parse_error(decode(&ridge, &good, &bad, "y", &out, 0));
        assert_eq!(as_test, (bad, line, field.to_string()), "{name}");
    }
    // A row with too few cells is refused at its line.
    let ragged = write(dir.path(), "ragged.csv", "a,b,y\n1,2,3\n4,5\n");
    let (path, line, _) = parse_error(decode(&ridge, &ragged, &good, "y", &out, 0));
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
            parse_error(decode(&ridge, &train, &test, "y", &out, 0)),
            (test, 1, field.to_string()),
            "{name}"
        );
    }
    // The training file must have the target, and no column twice.
    let good_test = write(dir.path(), "test.csv", "a,b\n1,2\n");
    assert_eq!(
        parse_error(decode(&ridge, &train, &good_test, "label", &out, 0)),
        (train.clone(), 1, "label".to_string())
    );
    let twice = write(dir.path(), "twice.csv", "a,a,y\n1,2,3\n");
    assert_eq!(
        parse_error(decode(&ridge, &twice, &good_test, "y", &out, 0)),
        (twice, 1, "a".to_string())
    );
    // Persistence on a column the table lacks is a setting error naming its key.
    let result = decode(
        &config("persistence", &[]),
        &train,
        &good_test,
        "y",
        &out,
        0,
    );
    assert!(
        matches!(&result, Err(Error::Config { key, .. }) if key == "decoder.column"),
        "{result:?}"
    );
    assert!(!out.exists());
}

#[test]
fn conformance_every_decoder_gives_its_point_as_the_distribution_mean() {
    let train = linear_table(120, 6);
    let test = linear_table(25, 7);
    let levels = QuantileLevels::default();
    for config in every_decoder() {
        let kind = config.kind();
        let model = fitted(&config, &train, &FitContext::new(1));
        let x = test.input(&config).1;
        let point = model.predict(x.as_ref()).unwrap();
        let prediction = model.predict_distribution(x.as_ref(), &levels).unwrap();
        assert_eq!(prediction.point(), point, "{kind}");
        if let Some(d) = prediction.distribution() {
            assert_eq!(d.levels(), &levels, "{kind}");
            for row in 0..point.len() {
                let q = d.row_quantiles(row);
                assert_eq!(q.len(), levels.len(), "{kind}");
                assert!(
                    q.windows(2).all(|w| w[0] <= w[1]),
                    "{kind} row {row}: {q:?}"
                );
            }
        }
    }
}

#[test]
fn only_decoders_that_ask_see_a_reference_column() {
    let table = linear_table(10, 8);
    for config in every_decoder() {
        let kind = config.kind();
        let (columns, x) = table.input(&config);
        let asked = config.settings().reference_columns();
        let expected: Vec<String> = names(&["a", "b", "c"]).into_iter().chain(asked).collect();
        assert_eq!(columns, expected, "{kind}");
        assert_eq!(x.ncols(), columns.len(), "{kind}");
    }
    // Each baseline asks for one column and reads it: its predictions are y + that offset.
    for (kind, column, offset) in [
        ("oracle_persistence", "label_now", 0.1),
        ("persistence", "label_known", 0.2),
        ("moving_average", "label_known_mean_30d", 0.3),
    ] {
        let baseline = config(kind, &[]);
        let (columns, x) = table.input(&baseline);
        assert_eq!(columns, ["a", "b", "c", column], "{kind}");
        assert_eq!(x[(4, 3)], table.y[4] + offset, "{kind}");
        let model = fitted(&baseline, &table, &FitContext::new(0));
        let predicted = model.predict(x.as_ref()).unwrap();
        assert_eq!(predicted[4], table.y[4] + offset, "{kind}");
    }
    // Models and baselines are told apart; no model reads a reference column.
    for config in every_decoder() {
        if config.role() == DecoderRole::Model {
            assert!(
                config.settings().reference_columns().is_empty(),
                "{}",
                config.kind()
            );
        }
    }
}

/// A CSV table whose label is a noisy step in `a`, for forests.
fn forest_tables(dir: &Path) -> (PathBuf, PathBuf) {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut table = |n: usize| {
        let mut text = String::from("a,b,y\n");
        for _ in 0..n {
            let (a, b): (f64, f64) = (rng.random(), rng.random());
            let y = if a > 0.5 { 1.0 } else { 0.0 } + 0.3 * rng.random::<f64>();
            text.push_str(&format!("{a},{b},{y}\n"));
        }
        text
    };
    let train = table(80);
    let test = table(20);
    (
        write(dir, "forest_train.csv", &train),
        write(dir, "forest_test.csv", &test),
    )
}

#[test]
fn forest_seed_follows_the_seed_and_not_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = forest_tables(dir.path());
    let forest = config(
        "random_forest",
        &["decoder.n_trees=15", "decoder.max_features=1"],
    );
    let predict = |seed: u64, threads: usize, name: &str| {
        let out = dir.path().join(name);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| decode(&forest, &train, &test, "y", &out, seed))
            .unwrap();
        read_predictions(&out)
    };
    let first = predict(1, 1, "a.csv");
    assert_eq!(
        first,
        predict(1, 4, "b.csv"),
        "same seed, other thread count"
    );
    assert_ne!(
        first,
        predict(2, 1, "c.csv"),
        "another seed, the same forest"
    );

    // The same through the fit context: the thread budget, not the calling pool, decides.
    let table = linear_table(60, 10);
    let config = config("random_forest", &["decoder.n_trees=9"]);
    let at = |seed: u64, threads: usize| {
        let ctx = FitContext::new(seed).with_threads(NonZeroUsize::new(threads).unwrap());
        fitted(&config, &table, &ctx)
            .predict(table.input(&config).1.as_ref())
            .unwrap()
    };
    assert_eq!(at(5, 1), at(5, 3));
    assert_ne!(at(5, 1), at(6, 1));
}

#[test]
fn decode_n_trees_1e8_is_refused_with_the_size_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = forest_tables(dir.path());
    let out = dir.path().join("preds.csv");
    let forest = config("random_forest", &["decoder.n_trees=100000000"]);
    let result = decode(&forest, &train, &test, "y", &out, 0);
    match &result {
        Err(Error::Config { key, message }) => {
            assert_eq!(key, "decoder.n_trees");
            // 80 rows, leaves of one row: at most 159 nodes of 80 bytes and 512 bytes of tree
            // per tree, 1e8 trees: (512 + 159·80)·1e8 B = 1.3232e12 B = 1.232e3 GiB.
            assert!(message.contains("100000000 trees"), "{message}");
            assert!(message.contains("159 nodes"), "{message}");
            assert!(message.contains("= 1.232e3 GiB"), "{message}");
            assert!(message.contains("decoder.max_memory_gib = 8"), "{message}");
        }
        other => panic!("expected a config error, got {other:?}"),
    }
    assert!(!out.exists());
    // The limit is a setting: three trees fit under the default 8 GiB, but not under 1e-5 GiB
    // (about 10.7 kB; three trees may need 3·13232 B).
    let small = config("random_forest", &["decoder.n_trees=3"]);
    decode(&small, &train, &test, "y", &out, 0).unwrap();
    let tight = config(
        "random_forest",
        &["decoder.n_trees=3", "decoder.max_memory_gib=0.00001"],
    );
    let result = decode(&tight, &train, &test, "y", &out, 0);
    assert!(
        matches!(&result, Err(Error::Config { key, .. }) if key == "decoder.n_trees"),
        "{result:?}"
    );
    let zero = config("random_forest", &["decoder.max_memory_gib=0"]);
    assert!(
        matches!(zero.check(), Err(Error::Config { key, .. }) if key == "decoder.max_memory_gib")
    );
}

#[test]
fn decode_out_equal_to_the_training_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = "a,y\n1,2\n3,4\n";
    let train = write(dir.path(), "train.csv", text);
    let test = write(dir.path(), "test.csv", "a\n5\n");
    let climatology = config("climatology", &[]);
    // The same file, spelled another way.
    let same = dir.path().join(".").join("train.csv");
    match decode(&climatology, &train, &test, "y", &same, 0) {
        Err(Error::Config { key, message }) => {
            assert_eq!(key, "--out");
            assert!(message.contains("is the --train file"), "{message}");
        }
        other => panic!("expected a config error, got {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&train).unwrap(), text);
    match decode(&climatology, &train, &test, "y", &test, 0) {
        Err(Error::Config { key, message }) => {
            assert_eq!(key, "--out");
            assert!(message.contains("is the --test file"), "{message}");
        }
        other => panic!("expected a config error, got {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&test).unwrap(), "a\n5\n");
}

/// A one-year experiment on seismicity features alone (no controls, so every forest row is of
/// that one feature set), with persistence and a small forest asked for three quantile levels,
/// recorded under `results`.
fn quantile_experiment(dir: &Path, seed: u64) -> quakelab::experiment::ResolvedExperiment {
    let results = dir.join("results");
    let text = format!(
        r#"
name = "quantiles"
seed = {seed}
decoders = [{{ kind = "persistence" }}, {{ kind = "random_forest", n_trees = 10 }}]
[period]
start = "2010-01-01"
end = "2011-01-01"
[data]
catalog = "synthetic:japan"
gnss = "synthetic:japan"
[features.seismicity]
window_days = 32
min_events = 20
[encoder]
kind = "none"
[split]
kinds = ["chronological"]
[ablations]
modalities = ["seismicity"]
controls = []
[evaluation]
quantiles = [0.1, 0.5, 0.9]
[tracking]
results_dir = {results:?}
# Runs are compared with each other: each fits, none reads another's fits back.
fit_cache = false
"#
    );
    let path = write(dir, &format!("quantiles_{seed}.toml"), &text);
    let mut layers = quakelab::experiment::Layers::new(&path);
    layers.real_data_dir = None;
    quakelab::experiment::resolve(&layers).unwrap()
}

/// The `random_forest` rows of a run's `predictions.csv`: (set, truth, mean, median,
/// quantiles); the persistence rows must have empty quantile cells.
fn forest_predictions(run_dir: &Path) -> Vec<(String, f64, f64, f64, [f64; 3])> {
    let (header, rows) = read_csv(&run_dir.join("predictions.csv"));
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(
        header[header.len() - 4..],
        ["median", "q0.1", "q0.5", "q0.9"]
    );
    let number = |row: &Vec<String>, name: &str| row[at(name)].parse::<f64>().unwrap();
    for row in rows.iter().filter(|r| r[at("decoder")] == "persistence") {
        assert!(row[at("median")].is_empty() && row[at("q0.9")].is_empty());
    }
    rows.iter()
        .filter(|r| r[at("decoder")] == "random_forest")
        .map(|r| {
            (
                r[at("set")].clone(),
                number(r, "truth"),
                number(r, "prediction"),
                number(r, "median"),
                [number(r, "q0.1"), number(r, "q0.5"), number(r, "q0.9")],
            )
        })
        .collect()
}

#[test]
fn a_run_stores_scores_and_draws_the_forest_quantiles() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = quakelab::experiment::runner::run(&quantile_experiment(dir.path(), 1)).unwrap();
    let forest = forest_predictions(&outcome.run_dir);
    assert!(!forest.is_empty());
    for (_, _, _, median, q) in &forest {
        assert!(q[0] <= q[1] && q[1] <= q[2], "{q:?}");
        assert_eq!(*median, q[1], "the 0.5 level is the median");
    }
    // The scores, worked out here from the stored quantiles: QS_τ(q, y) = (1{y < q} − τ)(q − y);
    // pinball = its mean over test rows and levels; the CRPS weights of 0.1, 0.5, 0.9 are the
    // cells [0, 0.3], [0.3, 0.7], [0.7, 1]: 0.3, 0.4, 0.3.
    let test: Vec<_> = forest.iter().filter(|row| row.0 == "test").collect();
    let score = |tau: f64, q: f64, y: f64| (if y < q { 1.0 } else { 0.0 } - tau) * (q - y);
    let (mut pinball, mut crps) = (0.0, 0.0);
    for (_, y, _, _, q) in &test {
        for ((tau, weight), value) in [(0.1, 0.3), (0.5, 0.4), (0.9, 0.3)].iter().zip(q) {
            pinball += score(*tau, *value, *y) / 3.0;
            crps += 2.0 * weight * score(*tau, *value, *y);
        }
    }
    let (pinball, crps) = (pinball / test.len() as f64, crps / test.len() as f64);
    let rows = &outcome.results;
    let row = |decoder: &str| rows.iter().find(|r| r.decoder == decoder).unwrap();
    let forest_row = row("random_forest");
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1e-12);
    assert!(
        close(forest_row.test_pinball.unwrap(), pinball),
        "{forest_row:?} vs {pinball}"
    );
    assert!(
        close(forest_row.test_crps.unwrap(), crps),
        "{forest_row:?} vs {crps}"
    );
    assert_eq!(row("persistence").test_pinball, None);
    assert!(
        outcome
            .run_dir
            .join("figures/intervals_chronological.png")
            .is_file()
    );
    let table = std::fs::read_to_string(outcome.run_dir.join("tables/results.csv")).unwrap();
    assert!(
        table
            .lines()
            .next()
            .unwrap()
            .ends_with("test_pinball,test_crps"),
        "{table}"
    );
}

#[test]
fn two_experiment_seeds_give_two_forests_and_one_seed_one_forest_on_any_pool() {
    let dir = tempfile::tempdir().unwrap();
    let run_in = |threads: usize, seed: u64| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let experiment = quantile_experiment(dir.path(), seed);
        let outcome = pool
            .install(|| quakelab::experiment::runner::run(&experiment))
            .unwrap();
        forest_predictions(&outcome.run_dir)
    };
    let first = run_in(1, 1);
    assert_eq!(first, run_in(3, 1));
    assert_ne!(first, run_in(1, 2));
}

#[test]
fn quantile_levels_out_of_range_or_order_name_their_key() {
    let dir = tempfile::tempdir().unwrap();
    for (levels, words) in [
        ("[0.5, 0.2]", "strictly increasing"),
        ("[0.0, 0.5]", "strictly between 0 and 1"),
        ("[0.5, 1.5]", "strictly between 0 and 1"),
    ] {
        let text = format!(
            "name = \"q\"\ndecoders = [{{ kind = \"climatology\" }}]\n[evaluation]\nquantiles = {levels}\n"
        );
        let path = write(dir.path(), "q.toml", &text);
        let mut layers = quakelab::experiment::Layers::new(&path);
        layers.real_data_dir = None;
        match quakelab::experiment::resolve(&layers) {
            Err(Error::Config { key, message }) => {
                assert_eq!(key, "evaluation.quantiles", "{levels}");
                assert!(message.contains(words), "{levels}: {message}");
            }
            other => panic!("{levels}: expected a config error, got {other:?}"),
        }
    }
}

#[test]
fn every_decoder_has_a_group_file_of_its_kind() {
    let groups = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/decoder");
    for &kind in DecoderConfig::KINDS {
        let path = groups.join(format!("{kind}.toml"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let config: DecoderConfig = toml::from_str(&text).unwrap();
        assert_eq!(config.kind(), kind);
        config.check().unwrap();
    }
    // The groups of the new baselines hold their documented defaults.
    let average: DecoderConfig =
        toml::from_str(&std::fs::read_to_string(groups.join("moving_average.toml")).unwrap())
            .unwrap();
    assert_eq!(
        average.settings().reference_columns(),
        ["label_known_mean_30d"]
    );
    let oracle: DecoderConfig =
        toml::from_str(&std::fs::read_to_string(groups.join("oracle_persistence.toml")).unwrap())
            .unwrap();
    assert_eq!(oracle.role(), DecoderRole::Diagnostic);
    assert_eq!(oracle.settings().reference_columns(), ["label_now"]);
}

#[test]
fn decode_quantiles_write_the_distribution_of_a_decoder_that_has_one() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = forest_tables(dir.path());
    let out = dir.path().join("p.csv");
    let (train, test, out_arg) = (
        train.to_str().unwrap(),
        test.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    let run = |decoder: &str, levels: &str| {
        support::quakelab(
            &[
                "decode",
                "--decoder",
                decoder,
                "--train",
                train,
                "--test",
                test,
                "--target",
                "y",
                "--quantiles",
                levels,
                "--out",
                out_arg,
            ],
            dir.path(),
        )
    };
    let output = run("random_forest", "0.1,0.9");
    assert!(output.status.success(), "{output:?}");
    let (header, rows) = read_csv(&out);
    assert_eq!(
        header,
        ["row", "prediction", "mean", "median", "q0.1", "q0.9"]
    );
    assert_eq!(rows.len(), 20);
    for row in &rows {
        let v: Vec<f64> = row.iter().map(|cell| cell.parse().unwrap()).collect();
        // The forest's point is its mean; its quantiles bracket its median.
        assert_eq!(v[1], v[2], "{row:?}");
        assert!(v[4] <= v[3] && v[3] <= v[5] && v[4] < v[5], "{row:?}");
    }

    let output = run("ridge", "0.1,0.9");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("ridge gives no distribution: no quantiles written"),
        "{stdout}"
    );
    assert_eq!(read_csv(&out).0, ["row", "prediction"]);
}

#[test]
fn decode_quantile_levels_out_of_order_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = forest_tables(dir.path());
    let output = support::quakelab(
        &[
            "decode",
            "--decoder",
            "random_forest",
            "--train",
            train.to_str().unwrap(),
            "--test",
            test.to_str().unwrap(),
            "--target",
            "y",
            "--quantiles",
            "0.9,0.1",
            "--out",
            "p.csv",
        ],
        dir.path(),
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--quantiles")
            && stderr.contains("must be strictly increasing, but 0.9 is followed by 0.1"),
        "{stderr}"
    );
}
