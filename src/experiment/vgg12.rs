//! The second method's run (papers.md §B): the network's daily values → the causal anomaly
//! index → contour maps → classes from the catalog → VGG-12 per split, augmentation order and
//! scenario (planted and null) → confusion matrices, per-class precision and recall, intervals
//! and baselines, tracked like any run.
//!
//! For every (scenario, split, order) the run trains one VGG-12 and scores it beside two
//! baselines fitted on the same training days: the majority class and draws from the
//! training class frequencies. The honest order splits the days first and augments the
//! training days only; the paper's order (`augment_then_split`) augments every day and then
//! splits the images at random, so that copies of a test day are trained on. It is evaluated
//! with the random split only, where the paper used it.

use std::path::PathBuf;

use rand::seq::SliceRandom;
use tracing::info;

use crate::catalog::{Catalog, Event};
use crate::classify::{Augmented, TrainedVgg12, augment, train};
use crate::dataset::{Split, SplitKind};
use crate::encode::{BatchShape, ImageBatch};
use crate::eval::classification::{
    ConfusionMatrix, bootstrap_classification, class_prior_predictions, label_block_length,
    majority_class,
};
use crate::eval::uncertainty::BootstrapSettings;
use crate::experiment::config::{AugmentOrder, GeomagSource, ResolvedExperiment, Vgg12Settings};
use crate::experiment::runner::{RunOutcome, load_catalog};
use crate::geomag::DailyField;
use crate::geomag::anomaly::anomaly_index;
use crate::geomag::contour::{MapStack, ValidMapSpec, render_day, render_maps, write_map_png};
use crate::geomag::labels::{DayClasses, QuakeClass, class_table, day_classes};
use crate::io::geomag::{
    daily_field, read_iaga2002, read_series_csv, read_stations_csv, series_from_iaga,
};
use crate::report::classification::{
    ClassPrediction, ClassificationRow, EpochRow, Model, class_table_rows, render_classification,
    write_classification,
};
use crate::synth::geomag::simulate_geomag;
use crate::track::{Run, RunSpec, RunStatus, Tracker};
use crate::{Error, Result, rng};

/// The confidence level and resamples of the bootstrap intervals.
const BOOTSTRAP_LEVEL: f64 = 0.95;
const BOOTSTRAP_RESAMPLES: usize = 1000;

/// One scenario's maps and the classes of their days.
struct Scenario {
    name: &'static str,
    /// The anomaly index the maps were drawn from.
    index: DailyField,
    spec: ValidMapSpec,
    maps: MapStack,
    /// The class of each map, in map order.
    classes: Vec<usize>,
}

/// Runs a `vgg12_geomag` experiment as one tracked run.
pub(crate) fn run(experiment: &ResolvedExperiment, settings: &Vgg12Settings) -> Result<RunOutcome> {
    let config_text = toml::to_string(experiment.effective())
        .map_err(|e| Error::config("experiment", format!("cannot write the config: {e}")))?;
    experiment.device().burn()?;
    let data = crate::experiment::data_hash::data_hashes(experiment)?;
    let catalog = load_catalog(experiment)?;
    let period = experiment.period();
    let labelled = day_classes(catalog.events(), period, &settings.classes, experiment.seed())?;
    let mut scenarios = vec![scenario("planted", experiment, settings, &settings.geomag, &catalog, &labelled)?];
    if let Some(null) = &settings.null_geomag {
        scenarios.push(scenario("null", experiment, settings, null, &catalog, &labelled)?);
    }
    let spec = data.into_iter().fold(
        RunSpec::new(experiment.name(), config_text, experiment.seed()),
        |spec, (name, hash)| spec.with_data_hash(name, hash),
    );
    let mut run = Run::start(
        &experiment.tracking().results_dir,
        &spec,
        experiment.tracking().mlflow_uri.as_deref(),
    )?;
    info!(run = %run.dir().display(), "run started");
    let outcome = track(&mut run, experiment, settings, &labelled, &scenarios);
    if let Err(err) = &outcome
        && let Err(fail) = run.fail(&err.to_string())
    {
        tracing::error!(run = %run.dir().display(), "could not record the run's error: {fail}");
    }
    outcome
}

/// The maps of one network and the classes of their days. Days without an anomaly index (the
/// first baseline days) and days whose horizon runs past the period are left out, and counted.
fn scenario(
    name: &'static str,
    experiment: &ResolvedExperiment,
    settings: &Vgg12Settings,
    source: &GeomagSource,
    catalog: &Catalog,
    labelled: &DayClasses,
) -> Result<Scenario> {
    let field = network(experiment, settings, source, catalog.events())?;
    let (index, report) = anomaly_index(&field, &settings.anomaly)?;
    info!(
        scenario = name,
        missing_station_days = report.total(),
        "anomaly index ({} without a value that day, {} with too short a history, {} without a \
         common mode, {} with a zero scale)",
        report.missing_value,
        report.short_history,
        report.no_common_mode,
        report.zero_scale
    );
    let horizon = settings.classes.horizon_days;
    let n_days = field.n_days();
    let days: Vec<usize> = (0..n_days.saturating_sub(horizon))
        .filter(|&d| index.day(d).iter().any(|v| v.is_finite()))
        .collect();
    info!(
        scenario = name,
        maps = days.len(),
        without_index = n_days.saturating_sub(horizon) - days.len(),
        horizon_cut = horizon.min(n_days),
        "map days"
    );
    if days.len() < 10 {
        return Err(Error::config(
            "period",
            format!(
                "only {} of {n_days} days have an anomaly index and a full label horizon; \
                 lengthen the period or shorten geomag.anomaly.baseline_days",
                days.len()
            ),
        ));
    }
    let spec = settings.map_spec(index.stations())?;
    let maps = render_maps(&index, &days, &spec)?;
    if maps.missing_values() > 0 {
        info!(
            scenario = name,
            station_days = maps.missing_values(),
            "station-days without an index value were left out of their day's interpolation"
        );
    }
    let classes = days.iter().map(|&d| labelled.classes[d].index()).collect();
    Ok(Scenario {
        name,
        index,
        spec,
        maps,
        classes,
    })
}

/// The network's daily values: simulated, or read from IAGA-2002 files or the station CSV.
fn network(
    experiment: &ResolvedExperiment,
    settings: &Vgg12Settings,
    source: &GeomagSource,
    events: &[Event],
) -> Result<DailyField> {
    let period = experiment.period();
    match source {
        GeomagSource::Synthetic(scenario) => {
            let params = scenario.geomag.as_ref().ok_or_else(|| {
                Error::config(
                    "data.geomag",
                    format!("scenario `{}` has no [geomag] network", scenario.name),
                )
            })?;
            let (field, truth) = simulate_geomag(params, events, period, scenario.seed)?;
            info!(
                scenario = %scenario.name,
                anomalies = truth.anomalies.len(),
                storms = truth.storms.len(),
                "network simulated"
            );
            Ok(field)
        }
        GeomagSource::Iaga2002(dir) => {
            let files = iaga_files(dir)?
                .iter()
                .map(|path| read_iaga2002(path))
                .collect::<Result<Vec<_>>>()?;
            let mut stations: Vec<_> = Vec::new();
            for file in &files {
                if !stations.iter().any(|s: &crate::geomag::GeomagStation| s.code == file.station.code) {
                    stations.push(file.station.clone());
                }
            }
            let series = series_from_iaga(&files)?;
            let (field, report) = daily_field(
                &series,
                &stations,
                settings.component,
                period,
                settings.min_samples_per_day,
            )?;
            info!("{report}");
            Ok(field)
        }
        GeomagSource::Csv { series, stations } => {
            let series = read_series_csv(series)?;
            let stations = read_stations_csv(stations)?;
            let (field, report) = daily_field(
                &series,
                &stations,
                settings.component,
                period,
                settings.min_samples_per_day,
            )?;
            info!("{report}");
            Ok(field)
        }
    }
}

/// The IAGA-2002 files of `dir` (`*.min`, `*.sec`, in name order); none is an error.
fn iaga_files(dir: &std::path::Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let is_iaga = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("min") || e.eq_ignore_ascii_case("sec"));
        if is_iaga && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(Error::config(
            "data.geomag.iaga2002",
            format!("{} holds no IAGA-2002 file (*.min, *.sec)", dir.display()),
        ));
    }
    Ok(files)
}

/// Trains and scores every (scenario, split, order) into the started `run`.
fn track(
    run: &mut Run,
    experiment: &ResolvedExperiment,
    settings: &Vgg12Settings,
    labelled: &DayClasses,
    scenarios: &[Scenario],
) -> Result<RunOutcome> {
    run.log_params(&params(experiment, settings))?;
    let run_dir = run.dir().to_path_buf();
    let mut rows = Vec::new();
    let mut predictions = Vec::new();
    let mut curves = Vec::new();
    for scenario in scenarios {
        for kind in &experiment.split().splits {
            for &order in &settings.orders {
                if order == AugmentOrder::AugmentThenSplit
                    && !matches!(kind, SplitKind::Random { .. })
                {
                    continue;
                }
                let fitted = fit_and_score(experiment, settings, scenario, *kind, order)?;
                for row in &fitted.rows {
                    run.log_metrics(&row.metrics())?;
                }
                for epoch in &fitted.curves {
                    run.log_metrics(&epoch.metrics())?;
                }
                rows.extend(fitted.rows);
                predictions.extend(fitted.predictions);
                curves.extend(fitted.curves);
            }
        }
    }
    let classes = class_table_rows(&class_table(labelled), settings.classes.magnitude_threshold);
    let mut written = write_classification(&run_dir, &rows, &predictions, &curves, &classes)?;
    written.extend(example_maps(&run_dir, scenarios)?);
    written.extend(render_classification(&run_dir)?);
    for (name, path) in &written {
        run.log_artifact(path, name)?;
    }
    run.finish(RunStatus::Finished)?;
    Ok(RunOutcome {
        run_dir,
        results: Vec::new(),
        summary: crate::report::classification::summary(&rows),
        unsynced: run.is_unsynced(),
    })
}

/// What one (scenario, split, order) produced.
struct Fitted {
    rows: Vec<ClassificationRow>,
    predictions: Vec<ClassPrediction>,
    curves: Vec<EpochRow>,
}

/// Splits, augments, trains VGG-12 and scores it and the baselines on the test days.
fn fit_and_score(
    experiment: &ResolvedExperiment,
    settings: &Vgg12Settings,
    scenario: &Scenario,
    kind: SplitKind,
    order: AugmentOrder,
) -> Result<Fitted> {
    let seed = experiment.seed();
    let maps = &scenario.maps;
    let originals = maps.as_batch()?;
    let shape = originals.shape();
    let image_len = shape.image_len().unwrap_or(0);
    let split_name = kind.name();
    let tag = format!("{}/{split_name}/{}", scenario.name, order.name());
    info!(%tag, "training VGG-12");
    let mut aug_rng = rng::stream(seed, &format!("classify.augment.{tag}"));
    // Rows of the pool the split is drawn over: map days (honest order) or augmented images.
    let (pool, pool_classes, pool_days): (Vec<f32>, Vec<usize>, Vec<usize>) = match order {
        AugmentOrder::SplitThenAugment => (
            originals.data().to_vec(),
            scenario.classes.clone(),
            maps.days().to_vec(),
        ),
        AugmentOrder::AugmentThenSplit => {
            let Augmented {
                images,
                labels,
                sources,
            } = augment(&originals, &scenario.classes, &settings.augment, &mut aug_rng)?;
            let days = sources.iter().map(|&s| maps.days()[s]).collect();
            (images.data().to_vec(), labels, days)
        }
    };
    let n_pool = pool_classes.len();
    // The split is over the pool's rows in day order (augmented copies share their day).
    let mut order_rows: Vec<usize> = (0..n_pool).collect();
    order_rows.sort_by_key(|&r| (pool_days[r], r));
    let rank: Vec<usize> = (0..n_pool).collect();
    let kind = kind.with_embargo(settings.classes.horizon_days);
    let split = Split::new(kind, &rank)?;
    let take = |rows: &[usize]| -> Vec<usize> { rows.iter().map(|&r| order_rows[r]).collect() };
    let (mut train_rows, test_rows) = (take(split.train()), take(split.test()));
    // Validation: the latest training days under a time-ordered split, a seeded draw otherwise.
    let n_val = ((train_rows.len() as f64) * settings.validation_fraction).round() as usize;
    let n_val = n_val.clamp(1, train_rows.len().saturating_sub(1).max(1));
    if !kind.is_past_only() {
        train_rows.shuffle(&mut rng::stream(seed, &format!("classify.validation.{tag}")));
    }
    let val_rows = train_rows.split_off(train_rows.len() - n_val);
    let gather = |rows: &[usize]| -> (Vec<f32>, Vec<usize>) {
        let mut images = Vec::with_capacity(rows.len() * image_len);
        let mut labels = Vec::with_capacity(rows.len());
        for &r in rows {
            images.extend_from_slice(&pool[r * image_len..(r + 1) * image_len]);
            labels.push(pool_classes[r]);
        }
        (images, labels)
    };
    let batch = |images: Vec<f32>, n: usize| ImageBatch::new(images, BatchShape { n, ..shape });
    let (train_images, train_labels) = gather(&train_rows);
    let (train_images, train_labels) = match order {
        AugmentOrder::SplitThenAugment => {
            let originals = batch(train_images, train_labels.len())?;
            let Augmented { images, labels, .. } =
                augment(&originals, &train_labels, &settings.augment, &mut aug_rng)?;
            (images.data().to_vec(), labels)
        }
        AugmentOrder::AugmentThenSplit => (train_images, train_labels),
    };
    let n_train = train_labels.len();
    let (val_images, val_labels) = gather(&val_rows);
    let (test_images, test_labels) = gather(&test_rows);
    let train_batch = batch(train_images, n_train)?;
    let val_batch = batch(val_images, val_labels.len())?;
    let test_batch = batch(test_images, test_labels.len())?;
    let mut train_settings = settings.train.clone();
    train_settings.seed = rng::derive_seed(seed, &format!("classify.train.{tag}"));
    let model: TrainedVgg12 = train(
        (&train_batch, &train_labels),
        Some((&val_batch, &val_labels)),
        &settings.vgg12,
        &train_settings,
        experiment.device(),
    )?;
    let predicted: Vec<usize> = model
        .predict(&test_batch, settings.train.batch_size)?
        .into_iter()
        .map(|(class, _)| class)
        .collect();
    let n_classes = QuakeClass::ALL.len();
    let majority = majority_class(&train_labels)?;
    let prior = class_prior_predictions(
        &train_labels,
        test_labels.len(),
        rng::derive_seed(seed, &format!("classify.prior.{tag}")),
    )?;
    let bootstrap = BootstrapSettings {
        resamples: BOOTSTRAP_RESAMPLES,
        // A test block of one class has no measurable dependence: resample single days.
        block_length: label_block_length(&test_labels).unwrap_or(1),
        level: BOOTSTRAP_LEVEL,
        seed,
    };
    let mut rows = Vec::new();
    let mut predictions = Vec::new();
    for (model_kind, predicted) in [
        (Model::Vgg12, predicted),
        (Model::Majority, vec![majority; test_labels.len()]),
        (Model::ClassPrior, prior),
    ] {
        let confusion = ConfusionMatrix::new(n_classes, &test_labels, &predicted)?;
        let intervals = bootstrap_classification(&test_labels, &predicted, n_classes, &bootstrap)?;
        rows.push(ClassificationRow::new(
            scenario.name,
            split_name,
            order,
            model_kind,
            n_train,
            val_labels.len(),
            &confusion,
            &intervals,
            (model_kind == Model::Vgg12).then_some(model.best_epoch),
        ));
        for (k, &r) in test_rows.iter().enumerate() {
            predictions.push(ClassPrediction {
                scenario: scenario.name.to_string(),
                split: split_name.to_string(),
                order: order.name().to_string(),
                model: model_kind.name().to_string(),
                day: experiment.period().date(pool_days[r]).to_string(),
                truth: test_labels[k],
                predicted: predicted[k],
            });
        }
    }
    let curves = model
        .curves
        .iter()
        .map(|e| EpochRow::new(scenario.name, split_name, order, e))
        .collect();
    Ok(Fitted {
        rows,
        predictions,
        curves,
    })
}

/// One example map per class (the first day of each class) from the planted scenario.
fn example_maps(run_dir: &std::path::Path, scenarios: &[Scenario]) -> Result<Vec<(String, PathBuf)>> {
    let Some(planted) = scenarios.first() else {
        return Ok(Vec::new());
    };
    let mut written = Vec::new();
    for class in QuakeClass::ALL {
        let Some(i) = planted.classes.iter().position(|&c| c == class.index()) else {
            continue;
        };
        let name = format!("figures/maps/class_{}.png", class.index());
        let path = run_dir.join(&name);
        let map = render_day(&planted.index, planted.maps.days()[i], &planted.spec)?;
        write_map_png(&path, &map)?;
        written.push((name, path));
    }
    Ok(written)
}

/// The settings worth filtering runs by, as MLflow parameters.
fn params(experiment: &ResolvedExperiment, settings: &Vgg12Settings) -> Vec<(String, String)> {
    vec![
        ("config_hash".into(), experiment.config_hash().to_string()),
        ("method".into(), "vgg12_geomag".into()),
        ("seed".into(), experiment.seed().to_string()),
        ("period".into(), experiment.period().to_string()),
        ("device".into(), experiment.device().to_string()),
        ("map_size".into(), settings.map.size.to_string()),
        (
            "horizon_days".into(),
            settings.classes.horizon_days.to_string(),
        ),
        ("radius_km".into(), settings.classes.radius_km.to_string()),
        ("epochs".into(), settings.train.epochs.to_string()),
        (
            "orders".into(),
            settings
                .orders
                .iter()
                .map(|o| o.name())
                .collect::<Vec<_>>()
                .join(","),
        ),
        ("null_scenario".into(), settings.null_geomag.is_some().to_string()),
    ]
}
