//! The runner: the one place that knows the whole pipeline.
//!
//! One resolved experiment becomes one tracked run: catalog and GNSS input → b/a windows,
//! labelled events and displacement images → the evaluation ([`crate::experiment::evaluate`]:
//! the daily table, per split labels fitted on the past, a derived embargo, every feature set ×
//! decoder, intervals and comparisons) → `evaluation.json`, tables, predictions, `report.md` and
//! figures in the run directory (and MLflow, when configured).
//!
//! The gridded image stack is the one costly stage; it is cached under
//! `<results>/cache/gnss/<key>.qlimg` (the compact stack format of `gnss grid`), keyed by the
//! station data, the period and the grid, so a sweep over decoders, labels or windows grids once.
//! The ViT's embeddings are the other ([`crate::experiment::embeddings`]): cached under
//! `<results>/cache/embeddings/<key>.npy`, keyed by the weights, the scale and the images.
//! Neither reads the earthquake selection; the b/a features and the labels are computed from
//! it afresh in every run, declustered when `features.seismicity.decluster` or
//! `labels.decluster` asks (settings that are part of the config hash).
//!
//! With `encoder.kind = "vit"`, missing weights fail at resolution (before any work) with the
//! model store's message; with `encoder.vit.optional`, the GNSS rows are recorded as skipped
//! (role `skipped`, their reason in `status`) and the seismicity rows still run. Every row built
//! from ViT features names its weights in its `encoder` column (`vit(mean, random init)` for a
//! random initialisation), and the run records the pixel scale (mm), its percentile and the
//! days it was fitted on as metrics and in `evaluation.json`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tracing::info;

use crate::catalog::{self, Catalog, CatalogFilter, LoadOptions};
use crate::experiment::config::{
    CatalogSource, GnssSource, Method, MethodName, ResolvedExperiment,
};
use crate::experiment::data_hash::{DataHashes, data_hashes};
use crate::experiment::evaluate::{Evaluation, Inputs, evaluate};
use crate::experiment::sweep::{PointRecord, SweepRecord};
use crate::experiment::timing::{TIMINGS_FILE, Timings};
use crate::gnss::StationSet;
use crate::gnss::gridding::grid_stations;
use crate::gnss::stack::ImageStack;
use crate::io::catalog::ReadOptions;
use crate::io::geonet::{GeonetMapping, read_geonet_dir};
use crate::io::tenv3::{Tenv3Options, read_tenv3_dir};
use crate::period::{MAX_DAYS, Period};
use crate::report::classification::{Model, read_classification_rows};
use crate::report::figure;
use crate::report::results::{ResultRow, read_results, write_results};
use crate::report::review::{EvaluationSheet, SHEET_FILE, compact_summary};
use crate::report::table::{Cell, Table, number};
use crate::seismicity::bvalue::{WindowKind, sliding_b_values};
use crate::seismicity::decluster::{Declusterer, decluster_period};
use crate::synth::simulate_network;
use crate::track::{
    Metric, Run, RunSpec, RunStatus, StoredRun, Tracker, list_run_records, read_run,
};
use crate::{Error, Result};

/// What a finished run left behind.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The run directory (`<results>/<experiment>/<run-id>/`).
    pub run_dir: PathBuf,
    /// One row per split × feature set × decoder (GeoViT-PFN; empty for VGG-12, whose rows are
    /// in the run's `classification.csv`).
    pub results: Vec<ResultRow>,
    /// The run's summary in words ([`crate::report::review::compact_summary`]).
    pub summary: Vec<String>,
    /// Whether the MLflow mirror failed and the run needs `quakelab sync`.
    pub unsynced: bool,
}

/// Runs `experiment` as one tracked run. A failure after the run started leaves it marked
/// FAILED in the store (earlier runs are untouched) and is returned.
pub fn run(experiment: &ResolvedExperiment) -> Result<RunOutcome> {
    if let Method::Vgg12Geomag(settings) = experiment.method() {
        return crate::experiment::vgg12::run(experiment, settings);
    }
    let results_dir = &experiment.tracking().results_dir;
    let config_text = toml::to_string(experiment.effective())
        .map_err(|e| Error::config("experiment", format!("cannot write the config: {e}")))?;
    // A device this binary cannot use fails here, before any heavy work.
    if experiment.encoder().vit.is_some() && experiment.encoder().uses_images() {
        experiment.device().burn()?;
    }
    // Hashed before the inputs are read, as a resuming sweep hashes them (see `data_hash`).
    let reading = Instant::now();
    let data = data_hashes(experiment)?;
    let inputs = prepare(experiment)?;
    let read = reading.elapsed();
    let spec = data.into_iter().fold(
        RunSpec::new(experiment.name(), config_text, experiment.seed()),
        |spec, (name, hash)| spec.with_data_hash(name, hash),
    );
    let mut run = Run::start(
        results_dir,
        &spec,
        experiment.tracking().mlflow_uri.as_deref(),
    )?;
    info!(run = %run.dir().display(), "run started");
    let outcome = track_run(&mut run, experiment, inputs, read);
    if let Err(err) = &outcome
        && let Err(fail) = run.fail(&err.to_string())
    {
        tracing::error!(run = %run.dir().display(), "could not record the run's error: {fail}");
    }
    outcome
}

/// Evaluates `experiment` into the started `run`: params, metrics, results and figures, and
/// where the time went ([`TIMINGS_FILE`], `read` being the time the inputs took). The inputs
/// are handed over to the evaluation, which drops the image stacks once it has reduced them,
/// before any decoder runs and long before the predictions are written.
fn track_run(
    run: &mut Run,
    experiment: &ResolvedExperiment,
    inputs: Inputs,
    read: Duration,
) -> Result<RunOutcome> {
    // A `Run` dropped before `finish` marks itself FAILED, so `?` below is safe.
    run.log_params(&params(experiment))?;
    let Evaluation {
        results,
        predictions,
        importances,
        dependence,
        transforms,
        sheet,
        feature_tables,
        timings: evaluated,
    } = evaluate(experiment, inputs)?;
    let reporting = Instant::now();
    for table in &feature_tables {
        let path = run
            .dir()
            .join("feature_tables")
            .join(&table.split)
            .join(format!("{}.csv", table.set));
        crate::io::write_atomic(&path, |w| w.write_all(table.csv.as_bytes()))?;
    }
    drop(feature_tables);
    let metrics: Vec<Metric> = results.iter().flat_map(ResultRow::metrics).collect();
    run.log_metrics(&metrics)?;
    run.log_metrics(&transforms)?;
    if let Some(encoder) = &sheet.encoder {
        let recorded = [
            ("vit_pixel_scale_mm", encoder.scale_mm),
            ("vit_scale_percentile", encoder.scale_percentile),
            (
                "vit_scale_fit_days",
                encoder.scale_fit_days.map(|d| d as f64),
            ),
        ];
        let metrics: Vec<Metric> = recorded
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| Metric::new(name, v, 0)))
            .collect();
        run.log_metrics(&metrics)?;
    }
    run.log_metrics(&[
        Metric::new(
            "label_lag1_autocorrelation",
            dependence.lag1_autocorrelation,
            0,
        ),
        Metric::new(
            "label_effective_sample_size",
            dependence.effective_sample_size,
            0,
        ),
    ])?;
    let run_dir = run.dir().to_path_buf();
    let sheet_path = run_dir.join(SHEET_FILE);
    sheet.write(&sheet_path)?;
    run.log_artifact(&sheet_path, SHEET_FILE)?;
    for (name, path) in write_results(
        &run_dir,
        experiment.period(),
        &results,
        predictions,
        &importances,
        &experiment.evaluation().quantiles,
    )? {
        run.log_artifact(&path, &name)?;
    }
    let mut timings = Timings::default();
    timings.add_stage("data", read);
    timings.merge(evaluated);
    timings.add_stage("report", reporting.elapsed());
    run.log_metrics(&timings.metrics())?;
    let timings_path = run_dir.join(TIMINGS_FILE);
    crate::io::write_atomic(&timings_path, |w| w.write_all(timings.csv().as_bytes()))?;
    run.log_artifact(&timings_path, TIMINGS_FILE)?;
    run.finish(RunStatus::Finished)?;
    let mut summary = compact_summary(&sheet, &results);
    summary.push(timings.summary());
    Ok(RunOutcome {
        run_dir,
        results,
        summary,
        unsynced: run.is_unsynced(),
    })
}

/// The settings worth filtering runs by, as MLflow parameters.
fn params(experiment: &ResolvedExperiment) -> Vec<(String, String)> {
    let s = experiment.seismicity();
    let window = match s.windows.kind() {
        WindowKind::Days { window_days, .. } => format!("{window_days}d"),
        WindowKind::Events { n_events, .. } => format!("{n_events}ev"),
    };
    vec![
        ("config_hash".into(), experiment.config_hash().to_string()),
        ("seed".into(), experiment.seed().to_string()),
        ("period".into(), experiment.period().to_string()),
        ("window".into(), window),
        ("mc".into(), s.selection_mc.to_string()),
        ("horizon_days".into(), experiment.horizon_days().to_string()),
        ("encoder".into(), experiment.encoder().kind.to_string()),
        ("device".into(), experiment.device().to_string()),
        (
            "pca_dims".into(),
            experiment
                .encoder()
                .pca_dims
                .map_or_else(|| "none".to_string(), |k| k.to_string()),
        ),
        (
            "pca_solver".into(),
            experiment.encoder().pca_solver.name().to_string(),
        ),
        (
            "label_kind".into(),
            experiment.labels().params.kind.name().to_string(),
        ),
        (
            "label_bandwidth".into(),
            format!("{:?}", experiment.labels().params.kde.bandwidth),
        ),
        ("timing".into(), experiment.timing().name().to_string()),
        (
            "features_decluster".into(),
            s.decluster
                .map_or_else(|| "none".to_string(), |d| d.describe()),
        ),
        (
            "labels_decluster".into(),
            experiment
                .labels()
                .decluster
                .map_or_else(|| "none".to_string(), |d| d.describe()),
        ),
        (
            "vit".into(),
            experiment.encoder().vit.as_ref().map_or_else(
                || "none".to_string(),
                |v| match v.missing() {
                    Some(_) => format!("{} (weights missing: rows skipped)", v.describe("")),
                    None => v.describe(""),
                },
            ),
        ),
        (
            "decoders".into(),
            experiment
                .decoders()
                .iter()
                .map(|d| match d.unavailable() {
                    Some(_) => format!("{} (unavailable: rows skipped)", d.kind()),
                    None => d.kind().to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
    ]
}

/// Loads or simulates the inputs and computes the shared stages.
fn prepare(experiment: &ResolvedExperiment) -> Result<Inputs> {
    let period = experiment.period();
    let catalog = load_catalog(experiment)?;
    let s = experiment.seismicity();
    let selection = declustered(
        &catalog,
        period,
        s.selection_mc,
        s.decluster.as_ref(),
        "b/a",
    )?
    .select(period, s.selection_mc)?;
    let ba_rows = sliding_b_values(&selection, period.n_days(), &s.windows, &s.params);
    let labels = experiment.labels();
    let labelled = declustered(
        &catalog,
        period,
        labels.mc,
        labels.decluster.as_ref(),
        "labels",
    )?
    .select(period, labels.mc)?;
    info!(events = labelled.len(), "labelled events selected");
    let (images, null_images) = if experiment.encoder().uses_images() {
        let stations = load_stations(experiment.gnss(), experiment.period(), &catalog)?;
        let images = cached_images(experiment, &stations)?;
        let null_images = match &experiment.ablations().null_gnss {
            Some(null) => {
                let source = GnssSource::Synthetic(null.clone());
                let stations = load_stations(&source, experiment.period(), &catalog)?;
                Some(cached_images(experiment, &stations)?)
            }
            None => None,
        };
        (Some(images), null_images)
    } else {
        (None, None)
    };
    Ok(Inputs {
        ba_rows,
        label_times: labelled.times().to_vec(),
        images,
        null_images,
    })
}

/// `catalog`, or, with a declustering, the mainshocks among its events in `period` at or
/// above `mc` (the events `what` is computed from). Not cached: declustering takes well under
/// a second, and no cached stage reads the selection (the `decluster` settings are in the
/// config hash, so runs with and without declustering never stand in for each other).
fn declustered<'a>(
    catalog: &'a Catalog,
    period: &Period,
    mc: f64,
    declusterer: Option<&Declusterer>,
    what: &str,
) -> Result<Cow<'a, Catalog>> {
    let Some(declusterer) = declusterer else {
        return Ok(Cow::Borrowed(catalog));
    };
    let (selected, declustering) = decluster_period(catalog, period, Some(mc), declusterer)?;
    info!(
        events = what,
        "{}: {}",
        declusterer.describe(),
        declustering.summary()
    );
    Ok(Cow::Owned(declustering.kept_catalog(&selected)?))
}

/// The experiment's catalog, read or simulated (cached), within its region and period.
pub(crate) fn load_catalog(experiment: &ResolvedExperiment) -> Result<Catalog> {
    let period = experiment.period();
    period.check_days(MAX_DAYS)?;
    let source = match experiment.catalog() {
        CatalogSource::Synthetic(scenario) => catalog::CatalogSource::Synthetic(scenario.clone()),
        CatalogSource::File { path, columns } => catalog::CatalogSource::File {
            path: path.clone(),
            mapping: columns.clone(),
        },
    };
    let options = LoadOptions {
        read: ReadOptions {
            filter: CatalogFilter {
                region: Some(*experiment.region()),
                ..CatalogFilter::default()
            },
            ..ReadOptions::default()
        },
        cache_dir: experiment.tracking().results_dir.join("cache"),
        ..LoadOptions::default()
    };
    let (catalog, report) = catalog::load(&source, period, &options)?;
    if report.has_warnings() {
        tracing::warn!("{report}");
    } else {
        info!("{report}");
    }
    Ok(catalog)
}

fn load_stations(gnss: &GnssSource, period: &Period, catalog: &Catalog) -> Result<StationSet> {
    match gnss {
        GnssSource::Synthetic(scenario) => {
            let (set, report) = simulate_network(scenario, catalog, period, None)?;
            info!("{report}");
            Ok(set)
        }
        GnssSource::Tenv3(dir) => Ok(read_tenv3_dir(dir, &Tenv3Options::default())?.0),
        GnssSource::Geonet(dir) => read_geonet_dir(dir, &GeonetMapping::default()),
    }
}

/// The gridded images, from the stage cache when the same stations, period and grid were
/// gridded before.
fn cached_images(experiment: &ResolvedExperiment, stations: &StationSet) -> Result<ImageStack> {
    let key = image_cache_key(experiment, stations);
    let path = experiment
        .tracking()
        .results_dir
        .join("cache")
        .join("gnss")
        .join(format!("{key}.qlimg"));
    if path.exists() {
        match ImageStack::read(&path) {
            Ok(stack) => {
                info!(path = %path.display(), "GNSS images from the stage cache");
                return Ok(stack);
            }
            Err(e) => tracing::warn!("ignoring an unreadable cache entry: {e}"),
        }
    }
    let (stack, report) = grid_stations(stations, experiment.period(), experiment.grid(), true)?;
    info!(?report, "GNSS images gridded");
    stack.write(&path)?;
    Ok(stack)
}

/// SHA-256 over the station positions, the period and the grid settings.
fn image_cache_key(experiment: &ResolvedExperiment, stations: &StationSet) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!(
        "{}|{:?}",
        experiment.period(),
        experiment.grid().spec()
    ));
    for series in stations.series() {
        let s = series.station();
        hasher.update(format!("{}|{}|{}", s.name, s.latitude, s.longitude));
        for (date, enu) in series.dates().iter().zip(series.positions()) {
            hasher.update(date.to_string());
            for v in enu {
                hasher.update(v.to_le_bytes());
            }
        }
    }
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The data hashes of the finished runs of config hash `config_hash` among `runs` (the records
/// of [`list_run_records`]) whose files all verify: what a resuming sweep compares a point
/// with. Only that config's runs are checked, so that planning a sweep does not hash the
/// predictions of every earlier run of the experiment.
pub fn finished_data_hashes(runs: &[StoredRun], config_hash: &str) -> Vec<DataHashes> {
    runs.iter()
        .filter(|run| {
            run.status == RunStatus::Finished
                && config_hash_param(run).as_deref() == Some(config_hash)
        })
        .filter_map(|run| intact(&run.dir))
        .map(|run| run.record.data_hashes)
        .collect()
}

pub(crate) fn config_hash_param(run: &StoredRun) -> Option<String> {
    run.params
        .iter()
        .find(|(k, _)| k == "config_hash")
        .map(|(_, v)| v.clone())
}

/// The sweep's summary: `sweep_summary.{csv,md}` (one row per config point × split × feature
/// set × decoder, with its test R² and run id), `sweep_gnss_checks.{csv,md}` (per point, split
/// and scenario: whether GNSS adds skill over the day-number control; the detection sweep over
/// `data.precursor_amplitude_mm` reads it) and `sweep_summary.png` (test R² against the
/// first axis, one line per split and decoder on the fusion features, or the first feature set
/// present). Each point shows its latest finished run with its config hash and its data hashes.
/// Written into the sweep's experiment directory, whichever launcher ran it.
pub fn summarize_sweep(sweep: &SweepRecord) -> Result<PathBuf> {
    if sweep.method == MethodName::Vgg12Geomag {
        return summarize_classification_sweep(sweep);
    }
    let experiment_dir = &sweep.experiment_dir;
    let runs = list_run_records(experiment_dir)?;
    let mut headers: Vec<String> = sweep.axes.clone();
    headers.extend(
        [
            "split", "features", "decoder", "test_r2", "test_mse", "run_id",
        ]
        .map(String::from),
    );
    let mut table = Table::new(headers);
    let mut check_headers: Vec<String> = sweep.axes.clone();
    check_headers.extend(
        [
            "split",
            "scenario",
            "gnss",
            "gnss_mse",
            "control",
            "control_mse",
            "dm_p_value",
            "adds_skill",
            "run_id",
        ]
        .map(String::from),
    );
    let mut checks = Table::new(check_headers);
    let mut lines: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for point in &sweep.points {
        let Some(run) = finished_run_of(&runs, point) else {
            continue;
        };
        let results: Vec<ResultRow> = read_results(&run.dir)?;
        let point_cells = || -> Vec<Cell> {
            point
                .point
                .iter()
                .map(|(_, v)| v.to_string().into())
                .collect()
        };
        for check in EvaluationSheet::read(&run.dir)?
            .map(|sheet| sheet.gnss_checks)
            .unwrap_or_default()
        {
            let mut row = point_cells();
            row.extend([
                check.split.into(),
                check.scenario.into(),
                check.gnss.into(),
                number(check.gnss_mse, 4),
                check.control.into(),
                number(check.control_mse, 4),
                number(check.dm_p_value, 3),
                check.adds_skill.to_string().into(),
                run.record.run_id.clone().into(),
            ]);
            checks.push(row);
        }
        let x = point
            .point
            .first()
            .and_then(|(_, v)| v.as_float().or(v.as_integer().map(|i| i as f64)));
        let shown = results
            .iter()
            .filter(|r| !r.is_skipped())
            .map(|r| r.features.as_str())
            .find(|f| *f == "fusion")
            .or_else(|| results.first().map(|r| r.features.as_str()))
            .unwrap_or_default()
            .to_string();
        for r in &results {
            let mut row = point_cells();
            row.extend([
                r.split.clone().into(),
                r.features.clone().into(),
                r.shown_decoder().to_string().into(),
                number(r.test_r2, 4),
                number(r.test_mse, 4),
                run.record.run_id.clone().into(),
            ]);
            table.push(row);
            if let Some(x) = x
                && r.features == shown
                && !r.is_skipped()
            {
                lines
                    .entry(format!("{} / {}", r.split, r.shown_decoder()))
                    .or_default()
                    .push((x, r.test_r2));
            }
        }
    }
    table.write_csv(&experiment_dir.join("sweep_summary.csv"))?;
    table.write_markdown(&experiment_dir.join("sweep_summary.md"))?;
    if !checks.rows().is_empty() {
        checks.write_csv(&experiment_dir.join("sweep_gnss_checks.csv"))?;
        checks.write_markdown(&experiment_dir.join("sweep_gnss_checks.md"))?;
    }
    let plot = experiment_dir.join("sweep_summary.png");
    if let Some(axis) = sweep.axes.first()
        && !lines.is_empty()
    {
        let series: Vec<(String, Vec<(f64, f64)>)> = lines.into_iter().collect();
        figure::metric_vs_axis(&plot, "test R² across the sweep", axis, "test R²", &series)?;
    }
    Ok(experiment_dir.join("sweep_summary.md"))
}

/// The latest finished run of a sweep point (same config hash, same data hashes) among `runs`
/// (the records of [`list_run_records`]) whose files all verify ([`read_run`]); a later one
/// that does not is passed over with a warning. Only the point's own runs are checked.
pub fn finished_run_of(runs: &[StoredRun], point: &PointRecord) -> Option<StoredRun> {
    runs.iter()
        .rev()
        .filter(|r| {
            r.status == RunStatus::Finished
                && config_hash_param(r).as_deref() == Some(point.config_hash.as_str())
                && r.record.data_hashes == point.data_hashes
        })
        .find_map(|r| intact(&r.dir))
}

/// The run in `dir` read back with every file checked, or `None` after a warning naming the
/// file at fault.
fn intact(dir: &Path) -> Option<StoredRun> {
    read_run(dir)
        .map_err(|e| tracing::warn!("skipped run {}: {e}", dir.display()))
        .ok()
}

/// [`summarize_sweep`] for the second method: each point's classification rows (accuracy,
/// macro-F1, balanced accuracy) and VGG-12's macro-F1 against the first axis.
fn summarize_classification_sweep(sweep: &SweepRecord) -> Result<PathBuf> {
    let experiment_dir = &sweep.experiment_dir;
    let runs = list_run_records(experiment_dir)?;
    let mut headers: Vec<String> = sweep.axes.clone();
    headers.extend(
        [
            "scenario",
            "split",
            "order",
            "model",
            "accuracy",
            "macro_f1",
            "balanced_accuracy",
            "run_id",
        ]
        .map(String::from),
    );
    let mut table = Table::new(headers);
    let mut lines: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for point in &sweep.points {
        let Some(run) = finished_run_of(&runs, point) else {
            continue;
        };
        let x = point
            .point
            .first()
            .and_then(|(_, v)| v.as_float().or(v.as_integer().map(|i| i as f64)));
        for r in read_classification_rows(&run.dir)? {
            let mut row: Vec<Cell> = point
                .point
                .iter()
                .map(|(_, v)| v.to_string().into())
                .collect();
            row.extend([
                r.scenario.clone().into(),
                r.split.clone().into(),
                r.order.clone().into(),
                r.model.name().into(),
                number(r.accuracy, 4),
                number(r.macro_f1, 4),
                number(r.balanced_accuracy, 4),
                run.record.run_id.clone().into(),
            ]);
            table.push(row);
            if let Some(x) = x
                && r.model == Model::Vgg12
            {
                lines.entry(r.tag()).or_default().push((x, r.macro_f1));
            }
        }
    }
    table.write_csv(&experiment_dir.join("sweep_summary.csv"))?;
    table.write_markdown(&experiment_dir.join("sweep_summary.md"))?;
    if let Some(axis) = sweep.axes.first()
        && !lines.is_empty()
    {
        let series: Vec<(String, Vec<(f64, f64)>)> = lines.into_iter().collect();
        figure::metric_vs_axis(
            &experiment_dir.join("sweep_summary.png"),
            "VGG-12 test macro-F1 across the sweep",
            axis,
            "macro-F1",
            &series,
        )?;
    }
    Ok(experiment_dir.join("sweep_summary.md"))
}

/// The directory a run of `experiment` would be written under.
pub fn experiment_dir(experiment: &ResolvedExperiment) -> PathBuf {
    experiment.tracking().results_dir.join(experiment.name())
}

/// Whether `dir` looks like a run directory (it has a `run.json`).
pub fn is_run_dir(dir: &Path) -> bool {
    dir.join("run.json").is_file()
}
