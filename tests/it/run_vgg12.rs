//! The second method in experiments: `method = "vgg12_geomag"` resolved and refused by key, the
//! config hashes of the first method unchanged, and a small run end to end (both scenarios,
//! both splits, both augmentation orders) whose stored rows agree with its stored predictions.

use std::collections::BTreeMap;
use std::path::Path;

use quakelab::Error;
use quakelab::experiment::config::{self, Layers};
use quakelab::experiment::runner;

use crate::support;

/// A small run: one year, 16 x 16 maps, two epochs, one augmented copy.
const SMALL_VGG12: &str = r#"
method = "vgg12_geomag"
name = "small_vgg12"
seed = 11
region = "100,104,26,31"
[period]
start = "2021-06-01"
end = "2022-06-01"
[data]
catalog = "synthetic:sichuan"
geomag = "synthetic:sichuan"
[geomag.map]
size = 16
levels = 4
[geomag.labels]
horizon_days = 7
[classify]
orders = ["split_then_augment", "augment_then_split"]
[classify.vgg12]
filters = [4, 4, 8, 8]
convs_per_block = [1, 1, 1, 1]
hidden = 16
[classify.train]
epochs = 2
batch_size = 32
patience = 2
[classify.augment]
copies = 1
[split]
kinds = ["chronological", "random"]
train_fraction = 0.8
[ablations]
null_scenario = true
"#;

fn layers(dir: &Path, text: &str, overrides: &[&str]) -> Layers {
    let file = dir.join("e.toml");
    std::fs::write(&file, text).unwrap();
    let results = toml::Value::String(dir.join("results").display().to_string());
    Layers {
        file: Some(file),
        ..Layers::default()
    }
    .with_overrides(
        std::iter::once(format!("tracking.results_dir={results}"))
            .chain(overrides.iter().map(|s| s.to_string())),
    )
}

fn config_key(result: quakelab::Result<impl std::fmt::Debug>) -> String {
    match result {
        Err(Error::Config { key, .. }) => key,
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn the_first_methods_config_hashes_are_those_from_before_the_second_method() {
    // Printed by `quakelab config show` at commit 00f9ed0, before `method`, `[geomag]` and
    // `[classify]` existed: runs made then still count as done for a resuming sweep. The paper
    // file's is the one printed once its PFN rows ran the retrained quakelab-pfn-s at the
    // decoder's new defaults (issue 20): runs made before have other PFN rows, so a resuming
    // sweep redoes them. (The hash of the file before the PFN rows is still 517863e8…, the
    // value printed at 00f9ed0.)
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, hash) in [
        (
            "experiments/paper.toml",
            "ee5101fa68303beed13eb72d27a0ee4d32ae6b2ec72a73eaf7eae0181e7b9285",
        ),
        (
            "experiments/paper_vit.toml",
            "1570bd8892a47504cae8a12bfa021f8cdeeb469bd71265a30a9fcc9cf39d76fa",
        ),
    ] {
        let layers = Layers {
            file: Some(root.join(file)),
            ..Layers::default()
        };
        let resolved = config::resolve(&layers);
        // paper_vit needs weights it may not find; its hash is then checked through the
        // paper file alone.
        if let Ok(resolved) = resolved {
            assert_eq!(resolved.config_hash(), hash, "{file}");
        }
    }
}

#[test]
fn decoders_under_the_second_method_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = SMALL_VGG12.replacen(
        "method = \"vgg12_geomag\"",
        "method = \"vgg12_geomag\"\ndecoders = [{ kind = \"ridge\" }]",
        1,
    );
    let key = config_key(config::resolve(&layers(dir.path(), &text, &[])));
    assert_eq!(key, "decoders");
}

#[test]
fn a_rolling_split_under_the_second_method_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = config_key(config::resolve(&layers(
        dir.path(),
        SMALL_VGG12,
        &["split.kinds=[\"rolling\"]"],
    )));
    assert_eq!(key, "split.kinds");
}

#[test]
fn the_second_method_without_a_network_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = SMALL_VGG12.replace("geomag = \"synthetic:sichuan\"\n", "");
    let key = config_key(config::resolve(&layers(dir.path(), &text, &[])));
    assert_eq!(key, "data.geomag");
}

#[test]
fn a_scenario_without_a_network_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = SMALL_VGG12.replace(
        "geomag = \"synthetic:sichuan\"",
        "geomag = \"synthetic:japan\"",
    );
    let key = config_key(config::resolve(&layers(dir.path(), &text, &[])));
    assert_eq!(key, "data.geomag");
}

#[test]
fn a_small_vgg12_run_stores_rows_that_agree_with_its_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let experiment = config::resolve(&layers(dir.path(), SMALL_VGG12, &[])).unwrap();
    let outcome = runner::run(&experiment).unwrap();
    let run = &outcome.run_dir;
    for file in [
        "classification.csv",
        "class_predictions.csv",
        "curves.csv",
        "classes.csv",
        "report.md",
        "tables/classification.md",
        "tables/classes.md",
        "tables/confusion_planted_chronological_split_then_augment.md",
        "tables/per_class_planted_random_augment_then_split.md",
        "figures/confusion_null_random_split_then_augment.png",
        "figures/curves_planted_chronological_split_then_augment.png",
    ] {
        assert!(run.join(file).is_file(), "{file} is missing");
    }
    let (header, rows) = support::read_csv(&run.join("classification.csv"));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    // 2 scenarios x (chronological: 1 order, random: 2 orders) x 3 models.
    assert_eq!(rows.len(), 18);
    let (p_header, predictions) = support::read_csv(&run.join("class_predictions.csv"));
    let p = |name: &str| p_header.iter().position(|h| h == name).unwrap();
    let mut by_row: BTreeMap<(String, String, String, String), (usize, usize)> = BTreeMap::new();
    for r in &predictions {
        let key = (
            r[p("scenario")].clone(),
            r[p("split")].clone(),
            r[p("order")].clone(),
            r[p("model")].clone(),
        );
        let entry = by_row.entry(key).or_default();
        entry.0 += 1;
        entry.1 += usize::from(r[p("truth")] == r[p("predicted")]);
    }
    for row in &rows {
        let key = (
            row[col("scenario")].clone(),
            row[col("split")].clone(),
            row[col("order")].clone(),
            row[col("model")].clone(),
        );
        let (n, correct) = by_row[&key];
        assert_eq!(row[col("n_test")].parse::<usize>().unwrap(), n, "{key:?}");
        let accuracy: f64 = row[col("accuracy")].parse().unwrap();
        assert_eq!(accuracy, correct as f64 / n as f64, "{key:?}");
        let (low, high): (f64, f64) = (
            row[col("accuracy_low")].parse().unwrap(),
            row[col("accuracy_high")].parse().unwrap(),
        );
        assert!(
            low <= accuracy + 1e-12 && accuracy <= high + 1e-12,
            "{key:?}"
        );
    }
    // The maps run from day 27 (after the baseline) to the last day with a full 7-day horizon,
    // about 331 days, so the chronological test block (the last 20 %, after the embargo)
    // begins in 2022.
    let chronological: Vec<&String> = predictions
        .iter()
        .filter(|r| r[p("split")] == "chronological")
        .map(|r| &r[p("day")])
        .collect();
    assert!(chronological.iter().all(|d| d.as_str() >= "2022-01-01"));
    // The majority baseline predicts one class everywhere.
    let majority: std::collections::BTreeSet<&String> = predictions
        .iter()
        .filter(|r| {
            r[p("model")] == "majority"
                && r[p("scenario")] == "planted"
                && r[p("split")] == "random"
                && r[p("order")] == "split_then_augment"
        })
        .map(|r| &r[p("predicted")])
        .collect();
    assert_eq!(majority.len(), 1);

    // `quakelab report` redraws the run from its stored files alone.
    std::fs::remove_file(run.join("tables/classification.md")).unwrap();
    let output = support::quakelab(&["report", run.to_str().unwrap()], dir.path());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(run.join("tables/classification.md").is_file());
}

#[test]
fn geomag_classes_writes_tables_whose_maps_cover_every_day() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("classes");
    let output = support::quakelab(
        &[
            "geomag",
            "classes",
            "--catalog",
            "synthetic:sichuan",
            "--start",
            "2022-02-01",
            "--end",
            "2023-01-01",
            "--horizon-days",
            "7",
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (header, rows) = support::read_csv(&out.join("classes.csv"));
    assert_eq!(
        header,
        ["class", "direction", "magnitude", "events", "maps"]
    );
    assert_eq!(rows.len(), 5);
    // 2022-02-01 to 2023-01-01 is 334 days, each in exactly one class.
    let maps: usize = rows.iter().map(|r| r[4].parse::<usize>().unwrap()).sum();
    assert_eq!(maps, 334);
    // Every labelled event is in one of classes 1-4, and the table counts them.
    let (_, events) = support::read_csv(&out.join("events.csv"));
    let counted: usize = rows[1..]
        .iter()
        .map(|r| r[3].parse::<usize>().unwrap())
        .sum();
    assert_eq!(counted, events.len());
}

#[test]
fn a_sweep_of_the_second_method_summarises_its_classification_rows() {
    let dir = tempfile::tempdir().unwrap();
    // One scenario, one split, one order: three rows (VGG-12 and two baselines) per point.
    let text = SMALL_VGG12
        .replace(
            "orders = [\"split_then_augment\", \"augment_then_split\"]",
            "orders = [\"split_then_augment\"]",
        )
        .replace(
            "kinds = [\"chronological\", \"random\"]",
            "kinds = [\"chronological\"]",
        )
        .replace("null_scenario = true", "null_scenario = false");
    std::fs::write(dir.path().join("e.toml"), text).unwrap();
    let output = support::quakelab(
        &[
            "sweep",
            "e.toml",
            "--axis",
            "geomag.strength=0,2",
            "--set",
            "tracking.results_dir=\"results\"",
        ],
        dir.path(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (header, rows) =
        support::read_csv(&dir.path().join("results/small_vgg12/sweep_summary.csv"));
    assert_eq!(header[0], "geomag.strength");
    assert_eq!(rows.len(), 2 * 3);
    let models: Vec<&str> = rows.iter().map(|r| r[4].as_str()).collect();
    assert_eq!(
        models,
        [
            "vgg12",
            "majority",
            "class_prior",
            "vgg12",
            "majority",
            "class_prior"
        ]
    );
    assert!(
        dir.path()
            .join("results/small_vgg12/sweep_summary.png")
            .is_file()
    );
}
