//! The runner: the one place that knows the whole pipeline.
//!
//! One resolved experiment becomes one tracked run: catalog and GNSS input → b/a windows, KDE
//! labels and displacement images → the daily table → for every split, modality and decoder a
//! fit on the training rows and metrics on both sides → controls that expose interpolation →
//! tables, predictions and figures in the run directory (and MLflow, when configured).
//!
//! The gridded image stack is the one costly stage; it is cached under
//! `<results>/cache/gnss/<key>.qlimg` (the compact stack format of `gnss grid`), keyed by the
//! station data, the period and the grid, so a sweep over decoders, labels or windows grids once.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use faer::{Mat, MatRef};
use sha2::{Digest, Sha256};
use tracing::info;

use crate::catalog::{self, Catalog, CatalogFilter, LoadOptions};
use crate::dataset::controls::{
    Interpolation, day_number_features, interpolation_baseline, permute_rows, shift_labels,
};
use crate::dataset::{
    BaInput, DailyTable, ImageInput, LabelInput, Modality, Split, Support, TableInputs,
};
use crate::decode::{
    DecoderConfig, FitContext, PERSISTENCE_COLUMN, Prediction, PredictiveDistribution,
    QuantileLevels, decoder_input,
};
use crate::device::Device;
use crate::encode::pca::PcaSummary;
use crate::encode::{EncodeContext, PcaParams, Standardizer, encode_stack};
use crate::eval::{
    LabelDependence, QuantileScores, label_dependence, quantile_scores, regression_metrics,
};
use crate::experiment::config::{CatalogSource, Control, GnssSource, ResolvedExperiment};
use crate::experiment::data_hash::{DataHashes, data_hashes};
use crate::experiment::sweep::SweepPlan;
use crate::gnss::StationSet;
use crate::gnss::gridding::grid_stations;
use crate::gnss::stack::ImageStack;
use crate::io::catalog::ReadOptions;
use crate::io::geonet::{GeonetMapping, read_geonet_dir};
use crate::io::tenv3::{Tenv3Options, read_tenv3_dir};
use crate::period::MAX_DAYS;
use crate::report::figure;
use crate::report::results::{PredictionRow, ResultRow, read_results, write_results};
use crate::report::table::{Cell, Table, number};
use crate::rng;
use crate::seismicity::bvalue::{WindowKind, WindowRow, sliding_b_values};
use crate::seismicity::kde::KdeLabels;
use crate::seismicity::labels::{LabelScaler, label_series};
use crate::synth::simulate_network;
use crate::track::{Metric, Run, RunSpec, RunStatus, StoredRun, Tracker, list_runs};
use crate::{Error, Result};

/// What a finished run left behind.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The run directory (`<results>/<experiment>/<run-id>/`).
    pub run_dir: PathBuf,
    /// One row per split × feature set × decoder.
    pub results: Vec<ResultRow>,
    /// The label's autocorrelation and effective sample size (pitfall P1).
    pub label_dependence: LabelDependence,
    /// Whether the MLflow mirror failed and the run needs `quakelab sync`.
    pub unsynced: bool,
}

/// The stage outputs every split and decoder shares.
struct Inputs {
    ba_rows: Vec<WindowRow>,
    labels: KdeLabels,
    images: Option<ImageStack>,
}

/// Runs `experiment` as one tracked run. A failure after the run started leaves it marked
/// FAILED in the store (earlier runs are untouched) and is returned.
pub fn run(experiment: &ResolvedExperiment) -> Result<RunOutcome> {
    let results_dir = &experiment.tracking().results_dir;
    let config_text = toml::to_string(experiment.effective())
        .map_err(|e| Error::config("experiment", format!("cannot write the config: {e}")))?;
    // Hashed before the inputs are read, as a resuming sweep hashes them (see `data_hash`).
    let data = data_hashes(experiment)?;
    let inputs = prepare(experiment)?;
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
    let outcome = track_run(&mut run, experiment, &inputs);
    if let Err(err) = &outcome
        && let Err(fail) = run.fail(&err.to_string())
    {
        tracing::error!(run = %run.dir().display(), "could not record the run's error: {fail}");
    }
    outcome
}

/// Evaluates `experiment` into the started `run`: params, metrics, results and figures.
fn track_run(
    run: &mut Run,
    experiment: &ResolvedExperiment,
    inputs: &Inputs,
) -> Result<RunOutcome> {
    // A `Run` dropped before `finish` marks itself FAILED, so `?` below is safe.
    run.log_params(&params(experiment))?;
    let (results, predictions, dependence, transforms) = evaluate(experiment, inputs)?;
    let metrics: Vec<Metric> = results.iter().flat_map(ResultRow::metrics).collect();
    run.log_metrics(&metrics)?;
    run.log_metrics(&transforms)?;
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
    for (name, path) in write_results(
        &run_dir,
        experiment.period(),
        &results,
        &predictions,
        &experiment.evaluation().quantiles,
    )? {
        run.log_artifact(&path, &name)?;
    }
    run.finish(RunStatus::Finished)?;
    Ok(RunOutcome {
        run_dir,
        results,
        label_dependence: dependence,
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
            "label_bandwidth".into(),
            format!("{:?}", experiment.labels().params.kde.bandwidth),
        ),
        (
            "decoders".into(),
            experiment
                .decoders()
                .iter()
                .map(DecoderConfig::kind)
                .collect::<Vec<_>>()
                .join(","),
        ),
    ]
}

/// Loads or simulates the inputs and computes the shared stages.
fn prepare(experiment: &ResolvedExperiment) -> Result<Inputs> {
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
    let s = experiment.seismicity();
    let selection = catalog.select(period, s.selection_mc)?;
    let ba_rows = sliding_b_values(&selection, period.n_days(), &s.windows, &s.params);
    let labelled = catalog.select(period, experiment.labels().mc)?;
    let params = &experiment.labels().params;
    let series = label_series(labelled.times(), labelled.times(), period.n_days(), params)?;
    let scaler = LabelScaler::fit(&series.values, params.kde.scale, series.n_fit_events)?;
    let labels = KdeLabels {
        values: scaler.transform(&series.values),
        bandwidth_days: series.bandwidth_days.unwrap_or(f64::NAN),
        n_events: series.n_fit_events,
    };
    info!(
        events = labelled.len(),
        bandwidth_days = labels.bandwidth_days,
        "labels computed"
    );
    let images = if experiment.encoder().kind.uses_images() {
        let stations = load_stations(experiment, &catalog)?;
        Some(cached_images(experiment, &stations)?)
    } else {
        None
    };
    Ok(Inputs {
        ba_rows,
        labels,
        images,
    })
}

fn load_stations(experiment: &ResolvedExperiment, catalog: &Catalog) -> Result<StationSet> {
    match experiment.gnss() {
        GnssSource::Synthetic(scenario) => {
            let (set, report) = simulate_network(scenario, catalog, experiment.period(), None)?;
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

/// One feature set evaluated on a split: a modality or a control.
struct FeatureSet {
    name: String,
    /// Features, one row per table row, standardised on the training rows.
    x: Mat<f64>,
    /// The target of each row (NaN where a control has none; such rows are left out).
    labels: Vec<f64>,
    /// The value of the target series known at each row's feature day t: the reference
    /// column [`PERSISTENCE_COLUMN`], offered to every decoder and read by those that ask.
    label_now: Vec<f64>,
}

/// Results, predictions, the label's dependence, and metrics of the fitted transforms (the
/// PCA's explained variance ratio per split, the split's position as the step).
type Evaluation = (
    Vec<ResultRow>,
    Vec<PredictionRow>,
    LabelDependence,
    Vec<Metric>,
);

/// Every split × feature set × decoder, plus the interpolation baseline on random splits.
///
/// Every decoder is handled alike: it gets the feature columns plus the reference columns it
/// asks for by name ([`decoder_input`]), a fit context whose seed derives from the experiment
/// seed, the split and the decoder's kind (the same for every feature set of a split, so
/// feature sets are compared on the same random draws), and is asked for the configured
/// quantiles. Its rows carry [`crate::decode::Regressor::name`].
fn evaluate(experiment: &ResolvedExperiment, inputs: &Inputs) -> Result<Evaluation> {
    let s = experiment.seismicity();
    let window_days = match s.windows.kind() {
        WindowKind::Days { window_days, .. } => window_days,
        WindowKind::Events { .. } => 1,
    };
    let table = DailyTable::build(TableInputs {
        ba: Some(BaInput {
            rows: &inputs.ba_rows,
            support: Support::trailing_window(window_days),
        }),
        images: inputs.images.as_ref().map(|stack| ImageInput {
            stack,
            support: Support::gnss_displacement(),
        }),
        labels: LabelInput {
            values: &inputs.labels.values,
            support: Support::unbounded(),
        },
        horizon: experiment.horizon_days(),
    })?;
    info!(rows = table.n_rows(), dropped = ?table.meta().dropped, "daily table built");
    let defined: Vec<f64> = inputs
        .labels
        .values
        .iter()
        .copied()
        .filter(|y| y.is_finite())
        .collect();
    let dependence = label_dependence(&defined)?;
    let gnss = match (&inputs.images, experiment.encoder().kind.build()) {
        (Some(stack), Some(encoder)) => {
            let ctx = EncodeContext {
                batch_size: experiment.encoder().batch_size,
                device: Device::Cpu,
                seed: experiment.seed(),
            };
            Some(encode_stack(encoder.as_ref(), stack, table.days(), &ctx)?)
        }
        _ => None,
    };
    let levels = &experiment.evaluation().quantiles;
    let reference_names = vec![PERSISTENCE_COLUMN.to_string()];
    let mut results = Vec::new();
    let mut predictions = Vec::new();
    let mut transforms = Vec::new();
    for (step, kind) in experiment.split().splits.iter().enumerate() {
        let split = Split::new(*kind, table.days())?;
        let split_name = split.kind().name().to_string();
        let description = split.kind().to_string();
        info!(split = %description, "evaluating");
        let (sets, pca) = feature_sets(experiment, &table, gnss.as_ref(), &split, &inputs.labels)?;
        if let Some(pca) = pca {
            transforms.push(Metric::new(
                format!("pca_explained_variance_ratio_{split_name}"),
                pca.explained_variance_ratio,
                step as i64,
            ));
        }
        for set in &sets {
            let feature_names: Vec<String> = (0..set.x.ncols()).map(|j| format!("x{j}")).collect();
            let references = Mat::from_fn(set.label_now.len(), 1, |i, _| set.label_now[i]);
            for decoder in experiment.decoders() {
                let (names, x) = decoder_input(
                    decoder.settings(),
                    &feature_names,
                    set.x.as_ref(),
                    &reference_names,
                    references.as_ref(),
                )?;
                let seed = rng::derive_seed(
                    experiment.seed(),
                    &format!("decode.{description}.{}", decoder.kind()),
                );
                let fitted = fit_predict(
                    decoder,
                    &names,
                    x.as_ref(),
                    &set.labels,
                    &split,
                    &FitContext::new(seed),
                    levels,
                )?;
                let mut row = ResultRow::new(
                    &split_name,
                    &description,
                    &set.name,
                    &fitted.name,
                    &split,
                    &set.labels,
                    fitted.prediction.mean(),
                )?;
                if let Some(distribution) = fitted.prediction.distribution() {
                    row.set_quantile_scores(test_quantile_scores(
                        &split,
                        &set.labels,
                        distribution,
                    )?);
                }
                results.push(row);
                predictions.extend(split_predictions(
                    &split_name,
                    &set.name,
                    &fitted.name,
                    &split,
                    table.days(),
                    &set.labels,
                    &fitted.prediction,
                ));
            }
        }
        if split.kind().name() == "random" {
            let interpolated = interpolation_baseline(
                table.days(),
                table.labels(),
                &split,
                Interpolation::NeighbourMean,
            )?;
            let truth: Vec<f64> = split.test().iter().map(|&r| table.labels()[r]).collect();
            let m = regression_metrics(&truth, &interpolated)?;
            results.push(ResultRow::test_only(
                &split_name,
                &description,
                "label_only",
                "interpolation",
                &split,
                m,
            ));
        }
    }
    let references: Vec<[Option<f64>; 2]> = results
        .iter()
        .map(|row| results_reference(&results, row))
        .collect();
    for (row, reference) in results.iter_mut().zip(&references) {
        row.fill_skill(reference);
    }
    Ok((results, predictions, dependence, transforms))
}

/// The pinball loss and CRPS of a distribution (one per table row) on the split's test rows
/// that have a label.
fn test_quantile_scores(
    split: &Split,
    labels: &[f64],
    distribution: &PredictiveDistribution,
) -> Result<QuantileScores> {
    let rows: Vec<usize> = split
        .test()
        .iter()
        .copied()
        .filter(|&r| labels[r].is_finite())
        .collect();
    let truth: Vec<f64> = rows.iter().map(|&r| labels[r]).collect();
    let quantiles: Vec<Vec<f64>> = rows
        .iter()
        .map(|&r| distribution.row_quantiles(r))
        .collect();
    quantile_scores(&truth, distribution.levels(), &quantiles)
}

/// The persistence and climatology test MSEs of the row's split and feature set.
fn results_reference(results: &[ResultRow], row: &ResultRow) -> [Option<f64>; 2] {
    let find = |decoder: &str| {
        results
            .iter()
            .find(|r| r.split == row.split && r.features == row.features && r.decoder == decoder)
            .map(|r| r.test_mse)
    };
    [find("persistence"), find("climatology")]
}

/// The modalities (with PCA of the GNSS images fitted on the training rows), then the
/// controls that expose interpolation; and the PCA's record, when one was fitted.
fn feature_sets(
    experiment: &ResolvedExperiment,
    table: &DailyTable,
    gnss: Option<&Mat<f64>>,
    split: &Split,
    labels: &KdeLabels,
) -> Result<(Vec<FeatureSet>, Option<PcaSummary>)> {
    let label_now: Vec<f64> = table.days().iter().map(|&d| labels.values[d]).collect();
    let encoder = experiment.encoder();
    let mut pca_summary = None;
    let reduced = match (gnss, encoder.pca_dims) {
        (Some(g), Some(k)) => {
            let pca = PcaParams::new(k)
                .solver(encoder.pca_solver)
                .seed(experiment.seed())
                .fit(g.as_ref(), split.train())?;
            let summary = pca.summary();
            info!(
                split = %split.kind(),
                solver = summary.solver,
                components = summary.n_components,
                explained_variance_ratio = summary.explained_variance_ratio,
                "PCA fitted on the training rows"
            );
            pca_summary = Some(summary);
            Some(pca.transform(g.as_ref())?)
        }
        (Some(g), None) => Some(g.clone()),
        (None, _) => None,
    };
    let mut sets = Vec::new();
    for &modality in &experiment.ablations().modalities {
        if modality != Modality::Seismicity && reduced.is_none() {
            continue;
        }
        let x = table.design(modality, reduced.as_ref().map(Mat::as_ref))?;
        let x = standardized(x.as_ref(), split)?;
        sets.push(FeatureSet {
            name: modality.name().to_string(),
            x,
            labels: table.labels().to_vec(),
            label_now: label_now.clone(),
        });
    }
    if experiment.ablations().shuffle_modality
        && let Some(z) = &reduced
    {
        let x = table.design(Modality::Fusion, Some(z.as_ref()))?;
        let shuffled = permute_rows(x.as_ref(), split.train(), 0..z.ncols(), experiment.seed())?;
        sets.push(FeatureSet {
            name: "fusion_gnss_shuffled".into(),
            x: standardized(shuffled.as_ref(), split)?,
            labels: table.labels().to_vec(),
            label_now: label_now.clone(),
        });
    }
    for control in &experiment.ablations().controls {
        match control {
            Control::DayNumber => sets.push(FeatureSet {
                name: "control_day_number".into(),
                x: standardized(day_number_features(table.days()).as_ref(), split)?,
                labels: table.labels().to_vec(),
                label_now: label_now.clone(),
            }),
            Control::LabelShift => {
                let shift = experiment.ablations().label_shift_days;
                let shifted = shift_labels(&labels.values, shift)?;
                let h = experiment.horizon_days();
                let fusion = match &reduced {
                    Some(z) => table.design(Modality::Fusion, Some(z.as_ref()))?,
                    None => table.design(Modality::Seismicity, None)?,
                };
                // A row whose shifted label runs past the period has none (NaN) and is left
                // out of this control only; its n_train and n_test show how many remain.
                let shifted_at = |day: usize| shifted.get(day).copied().unwrap_or(f64::NAN);
                let y: Vec<f64> = table.days().iter().map(|&d| shifted_at(d + h)).collect();
                let now: Vec<f64> = table.days().iter().map(|&d| shifted_at(d)).collect();
                sets.push(FeatureSet {
                    name: format!("control_label_shift_{shift}d"),
                    x: standardized(fusion.as_ref(), split)?,
                    labels: y,
                    label_now: now,
                });
            }
        }
    }
    Ok((sets, pca_summary))
}

/// Standardises every column with means and scales fitted on the training rows only (P8).
fn standardized(x: MatRef<'_, f64>, split: &Split) -> Result<Mat<f64>> {
    Standardizer::fit(x, split.train())?.transform(x)
}

/// A fitted decoder's name and its predictions over a feature set's rows.
struct Fitted {
    /// [`crate::decode::Regressor::name`].
    name: String,
    /// One prediction per table row; NaN (and no quantiles) for rows without a target.
    prediction: Prediction,
}

/// A decoder's predictions for every row with a target (NaN for the others), after fitting on
/// the split's training rows that have one. The quantiles at `levels` are asked for; decoders
/// that give only a point return one.
fn fit_predict(
    decoder: &DecoderConfig,
    names: &[String],
    x: MatRef<'_, f64>,
    labels: &[f64],
    split: &Split,
    ctx: &FitContext<'_>,
    levels: &QuantileLevels,
) -> Result<Fitted> {
    let rows_of = |rows: &[usize]| -> Vec<usize> {
        rows.iter()
            .copied()
            .filter(|&r| labels[r].is_finite())
            .collect()
    };
    let train = rows_of(split.train());
    let labelled = rows_of(&(0..labels.len()).collect::<Vec<_>>());
    let select = |rows: &[usize]| Mat::from_fn(rows.len(), x.ncols(), |i, j| x[(rows[i], j)]);
    let yt: Vec<f64> = train.iter().map(|&r| labels[r]).collect();
    let mut model = decoder.build(names)?;
    model.fit(select(&train).as_ref(), &yt, ctx)?;
    let predicted = model.predict_distribution(select(&labelled).as_ref(), levels)?;
    Ok(Fitted {
        name: model.name(),
        prediction: predicted.spread(&labelled, labels.len())?,
    })
}

fn split_predictions(
    split: &str,
    features: &str,
    decoder: &str,
    s: &Split,
    days: &[usize],
    labels: &[f64],
    predicted: &Prediction,
) -> Vec<PredictionRow> {
    let mut rows = Vec::with_capacity(s.train().len() + s.test().len());
    let distribution = predicted.distribution();
    for (set, indices) in [("train", s.train()), ("test", s.test())] {
        for &r in indices {
            if labels[r].is_finite() {
                rows.push(PredictionRow {
                    split: split.to_string(),
                    features: features.to_string(),
                    decoder: decoder.to_string(),
                    set,
                    day: days[r],
                    truth: labels[r],
                    prediction: predicted.mean()[r],
                    distribution: distribution.map(|d| (d.median()[r], d.row_quantiles(r))),
                });
            }
        }
    }
    rows
}

/// The finished runs under `experiment_dir`, by config hash, with the data hashes of each
/// (what a resuming sweep compares a point with).
pub fn finished_data_hashes(experiment_dir: &Path) -> Result<HashMap<String, Vec<DataHashes>>> {
    let mut finished: HashMap<String, Vec<DataHashes>> = HashMap::new();
    for run in list_runs(experiment_dir)? {
        if run.status == RunStatus::Finished
            && let Some(hash) = config_hash_param(&run)
        {
            finished
                .entry(hash)
                .or_default()
                .push(run.record.data_hashes);
        }
    }
    Ok(finished)
}

fn config_hash_param(run: &StoredRun) -> Option<String> {
    run.params
        .iter()
        .find(|(k, _)| k == "config_hash")
        .map(|(_, v)| v.clone())
}

/// The sweep's summary: `sweep_summary.{csv,md}` (one row per config point × split × feature
/// set × decoder, with its test R² and run id) and `sweep_summary.png` (test R² against the
/// first axis, one line per split and decoder on the fusion features, or the first feature set
/// present). Each point shows its latest finished run with its config hash and its data hashes.
/// Written into `experiment_dir`.
pub fn summarize_sweep(experiment_dir: &Path, plan: &SweepPlan) -> Result<PathBuf> {
    let runs = list_runs(experiment_dir)?;
    let mut headers: Vec<String> = plan.axes.iter().map(|a| a.key.clone()).collect();
    headers.extend(
        [
            "split", "features", "decoder", "test_r2", "test_mse", "run_id",
        ]
        .map(String::from),
    );
    let mut table = Table::new(headers);
    let mut lines: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for point in &plan.runs {
        let hash = point.experiment.config_hash();
        let Some(run) = runs.iter().rev().find(|r| {
            r.status == RunStatus::Finished
                && config_hash_param(r).as_deref() == Some(hash)
                && r.record.data_hashes == point.data_hashes
        }) else {
            continue;
        };
        let results: Vec<ResultRow> = read_results(&run.dir)?;
        let x = point
            .point
            .first()
            .and_then(|(_, v)| v.as_float().or(v.as_integer().map(|i| i as f64)));
        let shown = results
            .iter()
            .map(|r| r.features.as_str())
            .find(|f| *f == "fusion")
            .or_else(|| results.first().map(|r| r.features.as_str()))
            .unwrap_or_default()
            .to_string();
        for r in &results {
            let mut row: Vec<Cell> = point
                .point
                .iter()
                .map(|(_, v)| v.to_string().into())
                .collect();
            row.extend([
                r.split.clone().into(),
                r.features.clone().into(),
                r.decoder.clone().into(),
                number(r.test_r2, 4),
                number(r.test_mse, 4),
                run.record.run_id.clone().into(),
            ]);
            table.push(row);
            if let Some(x) = x
                && r.features == shown
            {
                lines
                    .entry(format!("{} / {}", r.split, r.decoder))
                    .or_default()
                    .push((x, r.test_r2));
            }
        }
    }
    table.write_csv(&experiment_dir.join("sweep_summary.csv"))?;
    table.write_markdown(&experiment_dir.join("sweep_summary.md"))?;
    let plot = experiment_dir.join("sweep_summary.png");
    if let Some(axis) = plan.axes.first()
        && !lines.is_empty()
    {
        let series: Vec<(String, Vec<(f64, f64)>)> = lines.into_iter().collect();
        figure::metric_vs_axis(
            &plot,
            "test R² across the sweep",
            &axis.key,
            "test R²",
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
