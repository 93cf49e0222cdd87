//! Experiment files: layering and provenance, errors naming key and file, decoder groups, the
//! config hash, sweep expansion and resume, and the shipped experiment files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use quakelab::Error;
use quakelab::dataset::Timing;
use quakelab::decode::{DecoderConfig, RidgeSettings};
use quakelab::experiment::config::{self, CatalogSource, GnssSource, Layers};
use quakelab::experiment::data_hash::DataHashes;
use quakelab::experiment::sweep::{self, Axis, Past, RunStatus};
use quakelab::seismicity::bvalue::WindowKind;
use quakelab::seismicity::kde::Bandwidth;
use quakelab::seismicity::labels::LabelKind;

use crate::support;

/// A minimal valid experiment body: every other key takes its default.
const MINIMAL: &str = r#"
name = "t"
decoders = [{ kind = "climatology" }]
"#;

/// Writes `text` to `dir/name` and returns its path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// Layers over `file` with no environment and no real-data directory.
fn layers(file: &Path) -> Layers {
    Layers {
        file: Some(file.to_path_buf()),
        overrides: Vec::new(),
        env: Vec::new(),
        real_data_dir: None,
    }
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The `(key, message)` of a config error; panics on any other result.
fn config_error<T: std::fmt::Debug>(result: quakelab::Result<T>) -> (String, String) {
    match result {
        Err(Error::Config { key, message }) => (key, message),
        other => panic!("expected a config error, got {other:?}"),
    }
}

/// `key -> (value text, source)` from `show`'s `key = value  # source` lines.
fn parse_show(text: &str) -> BTreeMap<String, (String, String)> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let (setting, source) = line.rsplit_once("  # ").unwrap();
            let (key, value) = setting.split_once(" = ").unwrap();
            (
                key.to_string(),
                (value.trim().to_string(), source.to_string()),
            )
        })
        .collect()
}

/// A run store with no finished run.
fn not_run(_: &config::ResolvedExperiment, _: &DataHashes) -> quakelab::Result<Past> {
    Ok(Past::NotRun)
}

fn window_days(experiment: &config::ResolvedExperiment) -> usize {
    match experiment.seismicity().windows.kind() {
        WindowKind::Days { window_days, .. } => window_days,
        other => panic!("expected time windows, got {other:?}"),
    }
}

#[test]
fn layers_apply_in_order_and_each_value_keeps_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "exp.toml",
        r#"
name = "layered"
seed = 11
decoders = [{ kind = "ridge", alpha = 2.0 }]

[features.seismicity]
window_days = 64
min_events = 40
"#,
    );
    let mut input = layers(&file)
        .with_overrides(["features.seismicity.min_events=30", "seed=12"])
        .with_env(env(&[
            ("QUAKELAB_LABELS__MC", "3.5"),
            ("QUAKELAB_SEED", "13"),
            // Other settings with the prefix, and unrelated variables, are not config keys.
            ("QUAKELAB_REAL_DATA", "/nowhere"),
            ("QUAKELAB_MLFLOW", "http://localhost:5000"),
            ("LANG", "C.UTF-8"),
        ]));
    input.real_data_dir = None;

    let resolved = config::resolve(&input).unwrap();
    assert_eq!(window_days(&resolved), 64, "file over default");
    assert_eq!(
        resolved.seismicity().params.params().min_events,
        30,
        "--set over file"
    );
    assert_eq!(resolved.labels().mc, 3.5, "env over default");
    assert_eq!(resolved.seed(), 13, "env over --set over file");
    // No embargo configured: the runner derives it once the label's reach is known.
    assert_eq!(resolved.split().configured_embargo, None);

    let shown = parse_show(&config::show(&input).unwrap());
    let file_name = file.display().to_string();
    let expect = |key: &str, value: &str, source: &str| {
        let (v, s) = shown
            .get(key)
            .unwrap_or_else(|| panic!("`{key}` not shown"));
        assert_eq!((v.as_str(), s.as_str()), (value, source), "{key}");
    };
    expect("features.seismicity.window_days", "64", &file_name);
    expect(
        "features.seismicity.min_events",
        "30",
        "--set features.seismicity.min_events=30",
    );
    expect("labels.mc", "3.5", "env QUAKELAB_LABELS__MC");
    expect("seed", "13", "env QUAKELAB_SEED");
    expect("name", "\"layered\"", &file_name);
    expect("features.seismicity.step_days", "1", "default");
    expect("labels.bandwidth", "\"scott\"", "default");
    expect("split.rolling_origins", "5", "default");
    expect("decoders.0.alpha", "2.0", &file_name);
    expect("decoders.0.kind", "\"ridge\"", &file_name);
}

#[test]
fn a_toml_date_and_a_date_string_give_the_same_period() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "exp.toml",
        &format!("{MINIMAL}\n[period]\nstart = 2010-01-01\nend = \"2011-01-01\"\n"),
    );
    let resolved = config::resolve(&layers(&file)).unwrap();
    assert_eq!(resolved.period().n_days(), 365);
    let overridden =
        config::resolve(&layers(&file).with_overrides(["period.end=2012-01-01"])).unwrap();
    // 2010 and 2011 are not leap years.
    assert_eq!(overridden.period().n_days(), 730);
}

#[test]
fn an_unknown_key_names_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "bad.toml",
        &format!("{MINIMAL}\n[features.seismicity]\nwindw_days = 64\n"),
    );
    let (key, message) = config_error(config::resolve(&layers(&file)));
    assert_eq!(key, "features.seismicity.windw_days");
    assert!(message.contains(&file.display().to_string()), "{message}");
    assert!(
        message.contains("window_days"),
        "lists the known keys: {message}"
    );
}

#[test]
fn a_wrong_type_names_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "bad.toml",
        &format!("{MINIMAL}\n[features.seismicity]\nwindow_days = \"many\"\n"),
    );
    let (key, message) = config_error(config::resolve(&layers(&file)));
    assert_eq!(key, "features.seismicity.window_days");
    assert!(message.contains(&file.display().to_string()), "{message}");

    let file = write(
        dir.path(),
        "bad2.toml",
        &format!("{MINIMAL}\n[labels]\nbandwidth = \"wide\"\n"),
    );
    let (key, message) = config_error(config::resolve(&layers(&file)));
    assert_eq!(key, "labels.bandwidth");
    assert!(message.contains(&file.display().to_string()), "{message}");
}

#[test]
fn a_bad_override_or_variable_names_its_layer() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "exp.toml", MINIMAL);
    let (key, message) = config_error(config::resolve(
        &layers(&file).with_overrides(["labels.scael=minmax"]),
    ));
    assert_eq!(key, "labels.scael");
    assert!(message.contains("--set labels.scael=minmax"), "{message}");

    let (key, message) = config_error(config::resolve(
        &layers(&file).with_env(env(&[("QUAKELAB_FEATURES__SEISMICITY__WINDOW_DAYS", "-3")])),
    ));
    assert_eq!(key, "features.seismicity.window_days");
    assert!(
        message.contains("env QUAKELAB_FEATURES__SEISMICITY__WINDOW_DAYS"),
        "{message}"
    );
}

#[test]
fn a_value_refused_by_its_check_names_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[features.seismicity]\nmin_events = 1\n",
            "features.seismicity.min_events",
        ),
        (
            "[features.seismicity]\nstep_days = 0\n",
            "features.seismicity.step_days",
        ),
        ("[features.gnss]\ngrid = \"50\"\n", "features.gnss.grid"),
        (
            "[features.gnss]\nsigma_cells = 0\n",
            "features.gnss.sigma_cells",
        ),
        ("[labels]\nbandwidth = -2\n", "labels.bandwidth"),
        ("[split]\ntrain_fraction = 1.0\n", "split.train_fraction"),
        ("[dataset]\nhorizon_days = 0\n", "dataset.horizon_days"),
        (
            "[period]\nstart = \"2024-01-01\"\nend = \"2009-01-01\"\n",
            "period",
        ),
        (
            "[ablations]\nmodalities = [\"gnss\", \"gnss\"]\n",
            "ablations.modalities",
        ),
    ];
    for (i, (body, expected_key)) in cases.into_iter().enumerate() {
        let file = write(
            dir.path(),
            &format!("case{i}.toml"),
            &format!("{MINIMAL}\n{body}"),
        );
        let (key, message) = config_error(config::resolve(&layers(&file)));
        assert_eq!(key, expected_key, "{body}");
        if expected_key != "period" {
            assert!(
                message.contains(&file.display().to_string()),
                "{expected_key}: {message}"
            );
        }
    }
    let file = write(
        dir.path(),
        "region.toml",
        &format!("{MINIMAL}\nregion = \"148,123,22,46\"\n"),
    );
    let (key, message) = config_error(config::resolve(&layers(&file)));
    assert_eq!(key, "region");
    assert!(message.contains(&file.display().to_string()), "{message}");
}

#[test]
fn a_toml_syntax_error_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "broken.toml",
        "name = \"x\"\n\n[labels\nmc = 3\n",
    );
    match config::resolve(&layers(&file)) {
        Err(Error::Parse { path, line, .. }) => {
            assert_eq!(path, file);
            assert_eq!(line, 3);
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn decoder_groups_read_their_files_and_hash_like_inline_tables() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "decoder/ridge.toml",
        "kind = \"ridge\"\nalpha = 2.5\n",
    );
    let grouped = write(
        dir.path(),
        "grouped.toml",
        "name = \"g\"\ndecoders = [\"ridge\"]\n",
    );
    let inline = write(
        dir.path(),
        "inline.toml",
        "name = \"g\"\ndecoders = [{ kind = \"ridge\", alpha = 2.5 }]\n",
    );
    let a = config::resolve(&layers(&grouped)).unwrap();
    let b = config::resolve(&layers(&inline)).unwrap();
    assert_eq!(
        a.decoders(),
        &[DecoderConfig::Ridge(RidgeSettings { alpha: 2.5 })]
    );
    assert_eq!(a.config_hash(), b.config_hash());

    let shown = parse_show(&config::show(&layers(&grouped)).unwrap());
    let group_file = dir.path().join("decoder").join("ridge.toml");
    assert_eq!(
        shown["decoders.0.alpha"].1,
        format!("group {}", group_file.display())
    );

    let missing = write(
        dir.path(),
        "missing.toml",
        "name = \"g\"\ndecoders = [\"ridge\", \"xgb\"]\n",
    );
    let (key, message) = config_error(config::resolve(&layers(&missing)));
    assert_eq!(key, "decoders.1");
    assert!(message.contains("xgb.toml"), "{message}");

    write(
        dir.path(),
        "decoder/bad.toml",
        "kind = \"ridge\"\nalpah = 1.0\n",
    );
    let bad = write(
        dir.path(),
        "bad.toml",
        "name = \"g\"\ndecoders = [\"bad\"]\n",
    );
    let (key, message) = config_error(config::resolve(&layers(&bad)));
    assert!(key.starts_with("decoders.0"), "{key}");
    assert!(message.contains("alpah"), "{message}");
    assert!(
        message.contains(
            &dir.path()
                .join("decoder")
                .join("bad.toml")
                .display()
                .to_string()
        ),
        "{message}"
    );

    write(
        dir.path(),
        "decoder/negative.toml",
        "kind = \"ridge\"\nalpha = -1.0\n",
    );
    let negative = write(
        dir.path(),
        "negative.toml",
        "name = \"g\"\ndecoders = [\"negative\"]\n",
    );
    let (key, _) = config_error(config::resolve(&layers(&negative)));
    assert_eq!(key, "decoders.0.alpha");
}

#[test]
fn the_hash_ignores_tracking_and_sweep_and_spelling_but_not_settings() {
    let dir = tempfile::tempdir().unwrap();
    let hash = |name: &str, extra: &str| {
        let file = write(dir.path(), name, &format!("{MINIMAL}\n{extra}"));
        config::resolve(&layers(&file))
            .unwrap()
            .config_hash()
            .to_string()
    };
    let base = hash("base.toml", "");
    assert_eq!(base.len(), 64);
    assert!(base.chars().all(|c| c.is_ascii_hexdigit()));
    // Tracking and sweep are not part of the experiment.
    assert_eq!(
        base,
        hash("tracking.toml", "[tracking]\nresults_dir = \"elsewhere\"\n")
    );
    assert_eq!(base, hash("sweep.toml", "[sweep]\nseed = [1, 2]\n"));
    // The same settings spelt differently: defaults written out, spaces in the region, an
    // integer where a float is meant, a TOML date.
    assert_eq!(
        base,
        hash(
            "spelt.toml",
            "region = \" 123, 148,22 , 46\"\n[features.seismicity]\nmc = 3\nwindow_days = 128\n\
             [period]\nstart = 2009-01-01\n"
        )
    );
    // Any setting that changes the experiment changes the hash.
    assert_ne!(base, hash("seed.toml", "seed = 2010\n"));
    assert_ne!(
        base,
        hash("window.toml", "[features.seismicity]\nwindow_days = 64\n")
    );
    assert_ne!(base, hash("bandwidth.toml", "[labels]\nbandwidth = 30\n"));
}

#[test]
fn a_sweep_expands_the_cartesian_product_in_loop_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "sweep.toml",
        &format!("{MINIMAL}\n[sweep]\n\"features.seismicity.window_days\" = [32, 64]\n"),
    );
    let axes = [Axis::parse("labels.bandwidth=scott,30,90").unwrap()];
    let plan = sweep::expand(&layers(&file), &axes, not_run).unwrap();
    assert_eq!(plan.axes.len(), 2);
    assert_eq!(plan.axes[0].origin, file.display().to_string());
    assert_eq!(plan.axes[1].origin, "--axis");
    assert_eq!(plan.runs.len(), 2 * 3);
    let expected = [
        (32, Bandwidth::Scott),
        (32, Bandwidth::FixedDays(30.0)),
        (32, Bandwidth::FixedDays(90.0)),
        (64, Bandwidth::Scott),
        (64, Bandwidth::FixedDays(30.0)),
        (64, Bandwidth::FixedDays(90.0)),
    ];
    for (run, (window, bandwidth)) in plan.runs.iter().zip(expected) {
        assert_eq!(window_days(&run.experiment), window, "run {}", run.index);
        assert_eq!(
            run.experiment.labels().params.kde.bandwidth,
            bandwidth,
            "run {}",
            run.index
        );
        assert_eq!(run.status, RunStatus::Pending);
        assert_eq!(run.point[0].0, "features.seismicity.window_days");
        assert_eq!(run.point[1].0, "labels.bandwidth");
    }
    let mut hashes: Vec<&str> = plan
        .runs
        .iter()
        .map(|r| r.experiment.config_hash())
        .collect();
    hashes.sort();
    hashes.dedup();
    assert_eq!(hashes.len(), 6, "every point is a different experiment");
}

#[test]
fn a_sweep_table_may_use_dotted_keys_and_a_command_line_axis_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "sweep.toml",
        &format!(
            "{MINIMAL}\n[sweep]\nfeatures.seismicity.window_days = [32, 64, 128]\nseed = [1, 2]\n"
        ),
    );
    let plan = sweep::expand(&layers(&file), &[], not_run).unwrap();
    assert_eq!(plan.runs.len(), 3 * 2);
    let keys: Vec<&str> = plan.axes.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["features.seismicity.window_days", "seed"]);
    assert_eq!(plan.runs[5].experiment.seed(), 2);
    assert_eq!(window_days(&plan.runs[5].experiment), 128);

    let replaced = sweep::expand(
        &layers(&file),
        &[Axis::parse("features.seismicity.window_days=256").unwrap()],
        not_run,
    )
    .unwrap();
    assert_eq!(replaced.runs.len(), 2);
    assert!(
        replaced
            .runs
            .iter()
            .all(|r| window_days(&r.experiment) == 256)
    );
}

#[test]
fn a_resumed_sweep_skips_finished_and_duplicate_points() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "sweep.toml", MINIMAL);
    let axes = [
        Axis::parse("features.seismicity.window_days=32,64,128").unwrap(),
        Axis::parse("features.seismicity.min_events=20,40").unwrap(),
    ];
    let first = sweep::expand(&layers(&file), &axes, not_run).unwrap();
    assert_eq!(first.pending().count(), 6);
    let done: Vec<String> = [1, 4]
        .iter()
        .map(|&i| first.runs[i].experiment.config_hash().to_string())
        .collect();
    let again = sweep::expand(&layers(&file), &axes, |experiment, _| {
        Ok(if done.iter().any(|d| d == experiment.config_hash()) {
            Past::Finished
        } else {
            Past::NotRun
        })
    })
    .unwrap();
    let statuses: Vec<RunStatus> = again.runs.iter().map(|r| r.status).collect();
    use RunStatus::{AlreadyDone, Pending};
    assert_eq!(
        statuses,
        [Pending, AlreadyDone, Pending, Pending, AlreadyDone, Pending]
    );
    let pending: Vec<usize> = again.pending().map(|r| r.index).collect();
    assert_eq!(pending, [0, 2, 3, 5]);

    // 30 and 30.0 are the same bandwidth: the second point is the first one again.
    let dup = sweep::expand(
        &layers(&file),
        &[Axis::parse("labels.bandwidth=30,30.0,scott").unwrap()],
        not_run,
    )
    .unwrap();
    let statuses: Vec<RunStatus> = dup.runs.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Pending, RunStatus::Duplicate { of: 0 }, Pending]);
}

#[test]
fn sweep_axes_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "sweep.toml", MINIMAL);
    let axis = Axis::parse("features.seismicity.window_days=32,64").unwrap();
    let fixed = layers(&file).with_overrides(["features.seismicity.window_days=16"]);
    let (key, _) = config_error(sweep::expand(&fixed, &[axis], not_run));
    assert_eq!(key, "features.seismicity.window_days");

    let (key, _) = config_error(Axis::parse("tracking.results_dir=a,b"));
    assert_eq!(key, "tracking.results_dir");
    let (key, _) = config_error(Axis::parse("features.seismicity.window_days=32,,64"));
    assert_eq!(key, "features.seismicity.window_days");

    let axis = Axis::parse(r#"region=["123,148,22,46", "130,140,30,40"]"#).unwrap();
    assert_eq!(axis.values.len(), 2);

    let bad = Axis::parse("features.seismicity.windw_days=32,64").unwrap();
    let (key, message) = config_error(sweep::expand(&layers(&file), &[bad], not_run));
    assert_eq!(key, "features.seismicity.windw_days");
    assert!(message.contains("sweep axis"), "{message}");
}

#[test]
fn the_paper_experiment_loads_and_resolves() {
    let mut input = Layers::new("experiments/paper.toml");
    input.real_data_dir = None;
    let paper = config::resolve(&input).unwrap();
    assert_eq!(paper.name(), "paper");
    assert_eq!(*paper.region(), quakelab::catalog::Region::JAPAN);
    // 2009-01-01 .. 2024-01-01: 15 years with three leap days (2012, 2016, 2020).
    assert_eq!(paper.period().n_days(), 15 * 365 + 3);
    assert_eq!(window_days(&paper), 128);
    assert_eq!(paper.seismicity().params.params().min_events, 50);
    assert_eq!(paper.labels().params.kde.bandwidth, Bandwidth::Scott);
    assert_eq!((paper.grid().rows(), paper.grid().cols()), (50, 50));
    let kinds: Vec<&str> = paper.decoders().iter().map(|d| d.kind()).collect();
    assert_eq!(
        kinds,
        [
            "persistence",
            "moving_average",
            "climatology",
            "oracle_persistence",
            "ridge",
            "random_forest",
            "xgboost",
            "lightgbm",
            "catboost",
            "tabpfn",
            "pfn"
        ]
    );
    // TabPFN is optional (skipped without its weights), with a pinned seed: one fit per split
    // and feature set.
    let tabpfn = &paper.decoders()[kinds.len() - 2];
    assert!(!tabpfn.is_stochastic());
    assert_eq!(
        serde_json::to_value(tabpfn).unwrap()["optional"],
        serde_json::Value::Bool(true)
    );
    // The PFN needs no weights file, and its seed is pinned too.
    let pfn = paper.decoders().last().unwrap();
    assert!(!pfn.is_stochastic());
    assert!(pfn.unavailable().is_none());
    assert_eq!(pfn.display_name(), "PFN (quakelab-pfn-s)");
    // Random, chronological, and the two rolling origins listed one by one; no embargo is
    // decided before the labels are fitted.
    assert_eq!(paper.split().splits.len(), 4);
    assert_eq!(paper.split().configured_embargo, None);
    // The honest evaluation: a causal label, a true forecast, three seeds, the null scenario.
    assert_eq!(paper.labels().params.kind, LabelKind::KdeCausal);
    assert_eq!(paper.timing(), Timing::Forecast);
    assert_eq!(paper.seeds(), 3);
    let null = paper.ablations().null_gnss.as_ref().unwrap();
    assert!(null.gnss.precursor().is_none());
    assert!(matches!(paper.catalog(), CatalogSource::Synthetic(_)));
    assert!(matches!(paper.gnss(), GnssSource::Synthetic(_)));
    assert!(
        config::show(&input)
            .unwrap()
            .contains("experiments/decoder/ridge.toml")
    );
}

#[test]
fn the_real_data_experiment_without_the_data_names_the_public_sources() {
    let mut input = Layers::new("experiments/japan_real.toml");
    input.real_data_dir = None;
    let (key, message) = config_error(config::resolve(&input));
    assert_eq!(key, "data.catalog.path");
    assert!(message.contains("USGS ComCat"), "{message}");
    assert!(message.contains("QUAKELAB_REAL_DATA"), "{message}");

    let empty = tempfile::tempdir().unwrap();
    input.real_data_dir = Some(empty.path().to_path_buf());
    let (key, message) = config_error(config::resolve(&input));
    assert_eq!(key, "data.catalog.path");
    assert!(message.contains("japan_comcat_1990-2019.csv"), "{message}");
}

#[test]
#[cfg_attr(
    not(quakelab_real_data),
    ignore = "real data directory not found: set QUAKELAB_REAL_DATA"
)]
fn the_real_data_experiment_resolves_against_the_real_data() {
    let real = support::real_data("");
    let mut input = Layers::new("experiments/japan_real.toml");
    input.real_data_dir = Some(real.clone());
    let resolved = config::resolve(&input).unwrap();
    match resolved.catalog() {
        CatalogSource::File { path, columns } => {
            assert_eq!(path, &real.join("catalogs/japan_comcat_1990-2019.csv"));
            assert_eq!(columns.as_ref().unwrap().magnitude, "magnitude");
        }
        other => panic!("expected a file catalog, got {other:?}"),
    }
    match resolved.gnss() {
        GnssSource::Geonet(dir) => assert_eq!(dir, &real.join("gnss/geonet18")),
        other => panic!("expected GEONET tables, got {other:?}"),
    }
    assert_eq!(resolved.seismicity().selection_mc, 4.5);
    // Splits are listed one by one: random + chronological + 3 rolling origins + blocked
    // folds 1..5 (past only: fold 0 has no past to train on).
    assert_eq!(resolved.split().splits.len(), 9);
    // The hash uses the paths as written, not the machine's directory.
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("data");
    copy_needed(&copy);
    input.real_data_dir = Some(copy);
    assert_eq!(
        config::resolve(&input).unwrap().config_hash(),
        resolved.config_hash()
    );
}

/// Creates empty stand-ins for the two paths the real-data experiment needs, so that it
/// resolves against another directory (resolution checks that the paths exist, no more).
fn copy_needed(to: &Path) {
    std::fs::create_dir_all(to.join("catalogs")).unwrap();
    std::fs::create_dir_all(to.join("gnss/geonet18")).unwrap();
    std::fs::write(to.join("catalogs/japan_comcat_1990-2019.csv"), "").unwrap();
}

/// `decoders = [ridge, random_forest]` inline, every other key at its default.
const TWO_DECODERS: &str = r#"
name = "t"
decoders = [{ kind = "ridge", alpha = 1.0 }, { kind = "random_forest", n_trees = 10 }]
"#;

/// Setting `key` of a decoder, as its settings serialise.
fn decoder_setting(decoder: &DecoderConfig, key: &str) -> serde_json::Value {
    serde_json::to_value(decoder).unwrap()[key].clone()
}

#[test]
fn a_decoder_setting_is_overridden_by_kind_or_index_and_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "exp.toml", TWO_DECODERS);
    let overridden = config::resolve(
        &layers(&file)
            .with_overrides(["decoders.random_forest.max_depth=6", "decoders.0.alpha=3"])
            .with_env(env(&[("QUAKELAB_DECODERS__RIDGE__ALPHA", "4")])),
    )
    .unwrap();
    let decoders = overridden.decoders();
    assert_eq!(decoder_setting(&decoders[1], "max_depth"), 6);
    assert_eq!(decoder_setting(&decoders[1], "n_trees"), 10, "others kept");
    // The environment is applied after --set.
    assert_eq!(decoder_setting(&decoders[0], "alpha"), 4.0);

    // The hash is that of the same settings written inline, and differs from the file's.
    let inline = write(
        dir.path(),
        "inline.toml",
        r#"
name = "t"
decoders = [{ kind = "ridge", alpha = 4.0 }, { kind = "random_forest", n_trees = 10, max_depth = 6 }]
"#,
    );
    let written = config::resolve(&layers(&inline)).unwrap();
    assert_eq!(overridden.config_hash(), written.config_hash());
    let plain = config::resolve(&layers(&file)).unwrap();
    assert_ne!(overridden.config_hash(), plain.config_hash());
}

#[test]
fn config_show_gives_a_decoder_override_with_its_source() {
    let mut input = Layers::new("experiments/paper.toml")
        .with_overrides(["decoders.random_forest.max_depth=6"]);
    input.real_data_dir = None;
    let shown = parse_show(&config::show(&input).unwrap());
    // paper.toml lists persistence, moving_average, climatology, oracle_persistence, ridge,
    // random_forest, then the boosters: the forest is entry 5.
    assert_eq!(
        shown["decoders.5.max_depth"],
        (
            "6".to_string(),
            "--set decoders.random_forest.max_depth=6".to_string()
        )
    );
    assert_eq!(
        shown["decoders.5.n_trees"].1,
        "group experiments/decoder/random_forest.toml"
    );
    assert_eq!(shown["decoders.5.kind"].0, "\"random_forest\"");
}

#[test]
fn a_decoder_override_naming_a_missing_or_repeated_kind_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "exp.toml", TWO_DECODERS);
    let (key, message) = config_error(config::resolve(
        &layers(&file).with_overrides(["decoders.climatology.x=1"]),
    ));
    assert_eq!(key, "decoders.climatology.x");
    assert!(
        message.contains("present: ridge, random_forest"),
        "{message}"
    );
    assert!(
        message.contains("--set decoders.climatology.x=1"),
        "{message}"
    );

    let twice = write(
        dir.path(),
        "twice.toml",
        "name = \"t\"\ndecoders = [{ kind = \"ridge\" }, { kind = \"climatology\" }, { kind = \"ridge\", alpha = 5.0 }]\n",
    );
    let (key, message) = config_error(config::resolve(
        &layers(&twice).with_overrides(["decoders.ridge.alpha=2"]),
    ));
    assert_eq!(key, "decoders.ridge.alpha");
    assert!(message.contains("ambiguous"), "{message}");
    assert!(message.contains("decoders.0, decoders.2"), "{message}");
    assert!(message.contains("decoders.0.alpha"), "{message}");
    // Addressed by index, the same entry is fine.
    let by_index = config::resolve(&layers(&twice).with_overrides(["decoders.2.alpha=2"])).unwrap();
    assert_eq!(decoder_setting(&by_index.decoders()[2], "alpha"), 2.0);
    assert_eq!(decoder_setting(&by_index.decoders()[0], "alpha"), 1.0);

    // An unknown setting and a value its check refuses name the key and the override.
    let (key, message) = config_error(config::resolve(
        &layers(&file).with_overrides(["decoders.ridge.alpah=2"]),
    ));
    assert_eq!(key, "decoders.ridge.alpah");
    assert!(
        message.contains("--set decoders.ridge.alpah=2"),
        "{message}"
    );
    let (key, message) = config_error(config::resolve(
        &layers(&file).with_overrides(["decoders.ridge.alpha=-2"]),
    ));
    assert_eq!(key, "decoders.0.alpha");
    assert!(
        message.contains("--set decoders.ridge.alpha=-2"),
        "{message}"
    );
    let (key, _) = config_error(config::resolve(
        &layers(&file).with_overrides(["decoders.5.alpha=2"]),
    ));
    assert_eq!(key, "decoders.5.alpha");
}

#[test]
fn a_sweep_axis_over_a_decoder_setting_gives_one_point_per_value() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "exp.toml", TWO_DECODERS);
    let axes = [Axis::parse("decoders.random_forest.max_depth=4,8").unwrap()];
    let plan = sweep::expand(&layers(&file), &axes, not_run).unwrap();
    let depths: Vec<serde_json::Value> = plan
        .runs
        .iter()
        .map(|r| decoder_setting(&r.experiment.decoders()[1], "max_depth"))
        .collect();
    assert_eq!(depths, [4, 8]);
    assert_ne!(
        plan.runs[0].experiment.config_hash(),
        plan.runs[1].experiment.config_hash()
    );
    assert!(plan.runs.iter().all(|r| r.status == RunStatus::Pending));

    // The same axis from the file's [sweep] table.
    let table = write(
        dir.path(),
        "table.toml",
        &format!("{TWO_DECODERS}\n[sweep]\n\"decoders.random_forest.max_depth\" = [4, 8]\n"),
    );
    let from_file = sweep::expand(&layers(&table), &[], not_run).unwrap();
    let hashes = |p: &sweep::SweepPlan| -> Vec<String> {
        p.runs
            .iter()
            .map(|r| r.experiment.config_hash().to_string())
            .collect()
    };
    assert_eq!(hashes(&from_file), hashes(&plan));

    // Fixed by --set as well: every point would be the same.
    let fixed = layers(&file).with_overrides(["decoders.random_forest.max_depth=3"]);
    let (key, _) = config_error(sweep::expand(&fixed, &axes, not_run));
    assert_eq!(key, "decoders.random_forest.max_depth");
}

#[test]
fn a_repeated_axis_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "sweep.toml",
        &format!("{MINIMAL}\n[sweep]\nseed = [1, 2]\n"),
    );
    let axes = [
        Axis::parse("features.seismicity.window_days=32,64").unwrap(),
        Axis::parse("features.seismicity.window_days=128").unwrap(),
    ];
    let (key, message) = config_error(sweep::expand(&layers(&file), &axes, not_run));
    assert_eq!(key, "features.seismicity.window_days");
    assert!(message.contains("given twice"), "{message}");
    // A command-line axis replacing a [sweep] axis stays allowed.
    let plan = sweep::expand(&layers(&file), &[Axis::parse("seed=5").unwrap()], not_run).unwrap();
    assert_eq!(plan.runs.len(), 1);
    assert_eq!(plan.runs[0].experiment.seed(), 5);
}

/// Records a finished run of `experiment` in its run store, with the data hashes the sweep
/// computes, as the runner records one (without running the pipeline).
fn record_finished_run(experiment: &config::ResolvedExperiment, data: &DataHashes) {
    use quakelab::track::{Run, RunSpec, RunStatus as Status, Tracker};
    let spec = data.iter().fold(
        RunSpec::new(experiment.name(), "config", experiment.seed()),
        |spec, (name, hash)| spec.with_data_hash(name, hash),
    );
    let mut run = Run::start(&experiment.tracking().results_dir, &spec, None).unwrap();
    run.log_params(&[(
        "config_hash".to_string(),
        experiment.config_hash().to_string(),
    )])
    .unwrap();
    run.finish(Status::Finished).unwrap();
}

#[test]
fn a_changed_catalog_file_reruns_the_finished_config() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = write(dir.path(), "catalog.csv", "time,latitude,longitude,mag\n");
    let file = write(
        dir.path(),
        "exp.toml",
        &format!(
            "{MINIMAL}\n[data]\ncatalog = \"{}\"\n[encoder]\nkind = \"none\"\n[tracking]\nresults_dir = \"{}\"\n",
            catalog.display(),
            dir.path().join("results").display()
        ),
    );
    let axes = [Axis::parse("features.seismicity.window_days=32,64").unwrap()];
    let first = sweep::plan(&layers(&file), &axes).unwrap();
    // The catalog's data hash is the SHA-256 of its bytes; no GNSS images, no GNSS hash.
    use sha2::Digest;
    let bytes_hash: String = sha2::Sha256::digest(std::fs::read(&catalog).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let expected: DataHashes = [("catalog".to_string(), bytes_hash)].into();
    assert_eq!(first.runs[0].data_hashes, expected);
    record_finished_run(&first.runs[0].experiment, &first.runs[0].data_hashes);

    let resumed = sweep::plan(&layers(&file), &axes).unwrap();
    let statuses: Vec<RunStatus> = resumed.runs.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [RunStatus::AlreadyDone, RunStatus::Pending]);

    // The same config on an edited catalog runs again, and the sweep says why.
    std::fs::write(
        &catalog,
        "time,latitude,longitude,mag\n2010-01-01T00:00:00,35,140,4\n",
    )
    .unwrap();
    let edited = sweep::plan(&layers(&file), &axes).unwrap();
    let statuses: Vec<RunStatus> = edited.runs.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [RunStatus::DataChanged, RunStatus::Pending]);
    assert_eq!(edited.pending().count(), 2);
    let line = edited.counts().to_string();
    assert_eq!(
        line,
        "sweep: 2 configs, 2 to run, 0 already finished; 1 configs re-run because their data changed"
    );
}

#[test]
fn two_sweep_points_sharing_a_cache_entry_run_in_parallel() {
    use quakelab::experiment::launcher::LocalLauncher;
    use std::num::NonZeroUsize;
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    // One year on a 6x6 grid; the two points differ only in ridge's alpha, so they grid the
    // same images and share one entry of the image cache.
    let file = write(
        dir.path(),
        "small.toml",
        &format!(
            r#"
name = "small"
seed = 7
decoders = [{{ kind = "climatology" }}, {{ kind = "ridge", alpha = 1.0 }}]
[period]
start = "2010-01-01"
end = "2011-01-01"
[features.seismicity]
window_days = 32
min_events = 20
[features.gnss]
grid = "6x6"
[encoder]
pca_dims = 2
[split]
kinds = ["chronological"]
[ablations]
modalities = ["gnss"]
[tracking]
results_dir = "{}"
"#,
            results.display()
        ),
    );
    let axes = [Axis::parse("decoders.ridge.alpha=1,2").unwrap()];
    let plan = sweep::plan(&layers(&file), &axes).unwrap();
    assert_eq!(plan.pending().count(), 2);
    let launcher = LocalLauncher::new(NonZeroUsize::new(2).unwrap());
    let outcome = sweep::run(&plan, &launcher).unwrap();
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    assert_eq!(outcome.finished.len(), 2);

    let cache = results.join("cache").join("gnss");
    let entries: Vec<PathBuf> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        entries.len(),
        1,
        "one entry, no temporary files: {entries:?}"
    );
    let stack = quakelab::gnss::stack::ImageStack::read(&entries[0]).unwrap();
    // 2010 has 365 days; 6 x 6 cells; N, E, U.
    assert_eq!(stack.shape(), [365, 6, 6, 3]);

    // The runs recorded the data hashes the plan computed: both points are now done.
    let again = sweep::plan(&layers(&file), &axes).unwrap();
    assert!(
        again
            .runs
            .iter()
            .all(|r| r.status == RunStatus::AlreadyDone)
    );
}
