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
use crate::classify::{AugmentSettings, Augmented, TrainedVgg12, augment, train};
use crate::dataset::{Split, SplitKind};
use crate::encode::{BatchShape, ImageBatch};
use crate::eval::classification::{
    ConfusionMatrix, bootstrap_classification, class_prior_predictions, label_block_length,
    majority_class,
};
use crate::eval::uncertainty::BootstrapSettings;
use crate::experiment::config::{AugmentOrder, GeomagSource, ResolvedExperiment, Vgg12Settings};
use crate::experiment::runner::{RunOutcome, load_catalog};
use crate::geomag::anomaly::anomaly_index;
use crate::geomag::contour::{MapStack, ValidMapSpec, render_day, render_maps, write_map_png};
use crate::geomag::labels::{DayClasses, QuakeClass, class_table, day_classes};
use crate::geomag::{DailyField, GeomagStation};
use crate::io::geomag::{
    GeomagSeries, daily_field, read_iaga2002, read_series_csv, read_stations_csv, series_from_iaga,
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
    let labelled = day_classes(
        catalog.events(),
        period,
        &settings.classes,
        experiment.seed(),
    )?;
    let mut scenarios = vec![scenario(
        "planted",
        experiment,
        settings,
        &settings.geomag,
        &catalog,
        &labelled,
    )?];
    if let Some(null) = &settings.null_geomag {
        scenarios.push(scenario(
            "null", experiment, settings, null, &catalog, &labelled,
        )?);
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
            let mut stations: Vec<GeomagStation> = Vec::new();
            for file in &files {
                if !stations.iter().any(|s| s.code == file.station.code) {
                    stations.push(file.station.clone());
                }
            }
            daily_means(settings, period, &series_from_iaga(&files)?, &stations)
        }
        GeomagSource::Csv { series, stations } => daily_means(
            settings,
            period,
            &read_series_csv(series)?,
            &read_stations_csv(stations)?,
        ),
    }
}

/// The daily means of the configured component, with the read report logged.
fn daily_means(
    settings: &Vgg12Settings,
    period: &crate::period::Period,
    series: &[GeomagSeries],
    stations: &[GeomagStation],
) -> Result<DailyField> {
    let (field, report) = daily_field(
        series,
        stations,
        settings.component,
        period,
        settings.min_samples_per_day,
    )?;
    info!("{report}");
    Ok(field)
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
    let split_name = kind.name();
    let tag = format!("{}/{split_name}/{}", scenario.name, order.name());
    info!(%tag, "training VGG-12");
    let maps = &scenario.maps;
    let Sets {
        train: train_set,
        validation,
        test,
    } = assemble_sets(
        &maps.as_batch()?,
        &scenario.classes,
        maps.days(),
        &SetRules {
            kind: kind.with_embargo(settings.classes.horizon_days),
            order,
            augment: settings.augment,
            validation_fraction: settings.validation_fraction,
            seed,
            tag: tag.clone(),
        },
    )?;
    let n_train = train_set.labels.len();
    let (train_batch, train_labels) = (train_set.batch()?, train_set.labels.clone());
    let (val_batch, val_labels) = (validation.batch()?, validation.labels.clone());
    let test_batch = test.batch()?;
    let test_labels = test.labels.clone();
    let mut train_settings = settings.train;
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
        for (k, &day) in test.days.iter().enumerate() {
            predictions.push(ClassPrediction {
                scenario: scenario.name.to_string(),
                split: split_name.to_string(),
                order: order.name().to_string(),
                model: model_kind.name().to_string(),
                day: experiment.period().date(day).to_string(),
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

/// Labelled images with the map day of each (an augmented copy has its source's day).
#[derive(Debug)]
struct LabelledImages {
    images: Vec<f32>,
    shape: BatchShape,
    labels: Vec<usize>,
    days: Vec<usize>,
}

impl LabelledImages {
    /// The rows `rows` of `pool`.
    fn select(pool: &LabelledImages, rows: &[usize]) -> LabelledImages {
        let len = pool.shape.image_len().unwrap_or(0);
        let mut images = Vec::with_capacity(rows.len() * len);
        for &r in rows {
            images.extend_from_slice(&pool.images[r * len..(r + 1) * len]);
        }
        LabelledImages {
            images,
            shape: BatchShape {
                n: rows.len(),
                ..pool.shape
            },
            labels: rows.iter().map(|&r| pool.labels[r]).collect(),
            days: rows.iter().map(|&r| pool.days[r]).collect(),
        }
    }

    /// The images as a batch.
    fn batch(&self) -> Result<ImageBatch<'_>> {
        ImageBatch::new(self.images.as_slice(), self.shape)
    }

    /// These images and their augmented copies.
    fn augmented(&self, settings: &AugmentSettings, rng: &mut impl rand::Rng) -> Result<Self> {
        let Augmented {
            images,
            labels,
            sources,
        } = augment(&self.batch()?, &self.labels, settings, rng)?;
        Ok(LabelledImages {
            shape: images.shape(),
            images: images.data().to_vec(),
            labels,
            days: sources.iter().map(|&s| self.days[s]).collect(),
        })
    }
}

/// How [`assemble_sets`] splits and augments.
#[derive(Debug, Clone)]
struct SetRules {
    /// The split, with its embargo.
    kind: SplitKind,
    order: AugmentOrder,
    augment: AugmentSettings,
    validation_fraction: f64,
    seed: u64,
    /// The (scenario, split, order) tag that names the random streams.
    tag: String,
}

/// The training, validation and test images of one (scenario, split, order).
#[derive(Debug)]
struct Sets {
    train: LabelledImages,
    validation: LabelledImages,
    test: LabelledImages,
}

/// Splits the maps (of days `days`, ascending) and augments them in `rules.order`.
///
/// `split_then_augment` splits the days, holds out the validation days (the latest training
/// days under a time-ordered split, a seeded draw otherwise) and augments the remaining training
/// days only. `augment_then_split` (the paper's order, with the random split) augments every
/// map first and splits the images, so copies of one day land on both sides.
fn assemble_sets(
    maps: &ImageBatch<'_>,
    classes: &[usize],
    days: &[usize],
    rules: &SetRules,
) -> Result<Sets> {
    let originals = LabelledImages {
        images: maps.data().to_vec(),
        shape: maps.shape(),
        labels: classes.to_vec(),
        days: days.to_vec(),
    };
    let mut aug_rng = rng::stream(rules.seed, &format!("classify.augment.{}", rules.tag));
    let (pool, split) = match rules.order {
        AugmentOrder::SplitThenAugment => {
            let split = Split::new(rules.kind, days)?;
            (originals, split)
        }
        AugmentOrder::AugmentThenSplit => {
            if !matches!(rules.kind, SplitKind::Random { .. }) {
                return Err(Error::config(
                    "classify.orders",
                    "augment_then_split is the paper's order with its random split only",
                ));
            }
            let pool = originals.augmented(&rules.augment, &mut aug_rng)?;
            let rows: Vec<usize> = (0..pool.labels.len()).collect();
            let split = Split::new(rules.kind, &rows)?;
            (pool, split)
        }
    };
    let mut train_rows = split.train().to_vec();
    let n_val = ((train_rows.len() as f64) * rules.validation_fraction).round() as usize;
    let n_val = n_val.clamp(1, train_rows.len().saturating_sub(1).max(1));
    if !rules.kind.is_past_only() {
        train_rows.shuffle(&mut rng::stream(
            rules.seed,
            &format!("classify.validation.{}", rules.tag),
        ));
    }
    let mut val_rows = train_rows.split_off(train_rows.len() - n_val);
    train_rows.sort_unstable();
    val_rows.sort_unstable();
    let train = LabelledImages::select(&pool, &train_rows);
    let train = match rules.order {
        AugmentOrder::SplitThenAugment => train.augmented(&rules.augment, &mut aug_rng)?,
        AugmentOrder::AugmentThenSplit => train,
    };
    Ok(Sets {
        train,
        validation: LabelledImages::select(&pool, &val_rows),
        test: LabelledImages::select(&pool, split.test()),
    })
}

/// One example map per class (the first day of each class) from the planted scenario.
fn example_maps(
    run_dir: &std::path::Path,
    scenarios: &[Scenario],
) -> Result<Vec<(String, PathBuf)>> {
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
        (
            "null_scenario".into(),
            settings.null_geomag.is_some().to_string(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// 40 maps of 16 x 16 on days 100..140, classes cycling 0..5, each map filled with its
    /// own grey level (so a copy can be traced by eye), and the rules of one order.
    fn pool(order: AugmentOrder, kind: SplitKind) -> (Vec<f32>, Vec<usize>, Vec<usize>, SetRules) {
        let n = 40;
        let images: Vec<f32> = (0..n)
            .flat_map(|i| std::iter::repeat_n(0.2 + 0.6 * i as f32 / n as f32, 256))
            .collect();
        let classes = (0..n).map(|i| i % 5).collect();
        let days = (100..100 + n).collect();
        let rules = SetRules {
            kind,
            order,
            augment: AugmentSettings {
                copies: 2,
                ..AugmentSettings::default()
            },
            validation_fraction: 0.25,
            seed: 3,
            tag: "test".into(),
        };
        (images, classes, days, rules)
    }

    fn try_sets(order: AugmentOrder, kind: SplitKind) -> Result<Sets> {
        let (images, classes, days, rules) = pool(order, kind);
        let shape = BatchShape {
            n: classes.len(),
            channels: 1,
            height: 16,
            width: 16,
        };
        let batch = ImageBatch::new(images, shape).unwrap();
        assemble_sets(&batch, &classes, &days, &rules)
    }

    fn sets(order: AugmentOrder, kind: SplitKind) -> Sets {
        try_sets(order, kind).unwrap()
    }

    fn day_set(images: &LabelledImages) -> BTreeSet<usize> {
        images.days.iter().copied().collect()
    }

    #[test]
    fn no_augmented_copy_of_a_test_day_is_trained_on_under_the_default_order() {
        let random = SplitKind::Random {
            fraction: 0.8,
            seed: 1,
        };
        let chronological = SplitKind::Chronological {
            fraction: 0.8,
            embargo_days: 3,
        };
        for kind in [random, chronological] {
            let sets = sets(AugmentOrder::SplitThenAugment, kind);
            let (train, val, test) = (
                day_set(&sets.train),
                day_set(&sets.validation),
                day_set(&sets.test),
            );
            assert!(train.is_disjoint(&test), "{kind}");
            assert!(val.is_disjoint(&test) && val.is_disjoint(&train), "{kind}");
            // 40 days: 8 test and 32 training, of which a quarter validate (8; 7 of the 29
            // left after the chronological embargo); the rest are trained on with two copies
            // each, so three images per day.
            let validated = if kind.is_past_only() { 7 } else { 8 };
            assert_eq!(sets.test.labels.len(), 8);
            assert_eq!(sets.validation.labels.len(), validated);
            assert_eq!(sets.train.labels.len(), 3 * train.len());
            for day in &train {
                assert_eq!(sets.train.days.iter().filter(|d| *d == day).count(), 3);
            }
            // The validation and test maps are originals: one per day.
            assert_eq!(sets.test.days.len(), test.len());
        }
    }

    #[test]
    fn the_chronological_split_trains_before_its_embargo_and_validates_on_the_latest_days() {
        let kind = SplitKind::Chronological {
            fraction: 0.8,
            embargo_days: 3,
        };
        let sets = sets(AugmentOrder::SplitThenAugment, kind);
        // Days 100..132 train (the first 80 %), 132..140 test; the 3 days before 132 are
        // purged: 29 training days, of which the last round(0.25 * 29) = 7 validate.
        assert_eq!(day_set(&sets.test), (132..140).collect());
        assert_eq!(day_set(&sets.validation), (122..129).collect());
        assert_eq!(day_set(&sets.train), (100..122).collect());
    }

    #[test]
    fn the_papers_order_puts_copies_of_one_day_on_both_sides() {
        let kind = SplitKind::Random {
            fraction: 0.8,
            seed: 1,
        };
        let sets = sets(AugmentOrder::AugmentThenSplit, kind);
        let (train, test) = (day_set(&sets.train), day_set(&sets.test));
        // 120 images (40 maps and two copies each) split 96 / 24 at random: with three images
        // per day, some day nearly surely has images on both sides.
        assert_eq!(sets.train.labels.len() + sets.validation.labels.len(), 96);
        assert_eq!(sets.test.labels.len(), 24);
        assert!(!train.is_disjoint(&test));
    }

    #[test]
    fn the_papers_order_under_a_time_ordered_split_is_refused() {
        let kind = SplitKind::Chronological {
            fraction: 0.8,
            embargo_days: 3,
        };
        let err = try_sets(AugmentOrder::AugmentThenSplit, kind).unwrap_err();
        assert!(
            matches!(err, Error::Config { ref key, .. } if key == "classify.orders"),
            "{err}"
        );
    }
}
