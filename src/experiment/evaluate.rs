//! One run's evaluation (`spec/evaluation-pitfalls.md` P1, P2, P3, P7, P9, P12).
//!
//! 1. The daily table is built once, with every feature taken as it is known at the end of its
//!    forecast day (or the paper's nowcast, flagged).
//! 2. Per split, the labels are fitted on the events before the split's first test day (the
//!    bandwidth and the density's 1/n; a random split, a diagnostic, uses every event), scaled
//!    with statistics of the training rows, and the embargo is derived from the feature window,
//!    the label's reach and the horizon ([`Embargo`]).
//! 3. Every feature set × decoder is fitted on the training rows; stochastic decoders once per
//!    seed (`seeds`), the spread reported. The fits of a split run side by side
//!    (`experiment::fit`). A split with the training rows and the label of an earlier one (a
//!    rolling split's first origin and the chronological split) draws that split's seeds, so
//!    its fits are the earlier ones, read back from the fit cache.
//! 4. Every test metric gets a moving-block bootstrap interval, and each model is compared with
//!    the best baseline of the same test rows by a Diebold–Mariano test; the GNSS modality is
//!    compared with the day-number control the same way ([`GnssCheck`]).

use std::cell::OnceCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use faer::{Mat, MatRef};
use tracing::info;

use crate::dataset::controls::{
    Interpolation, day_number_features, interpolation_baseline, permute_rows, shift_labels,
};
use crate::dataset::embargo::{Embargo, embargo_reach_days};
use crate::dataset::{
    BaInput, DailyTable, ImageInput, LabelInput, Modality, Split, SplitKind, Support, TableInputs,
};
use crate::decode::{
    DecoderConfig, DecoderRole, KNOWN_LABEL_COLUMN, ORACLE_COLUMN, Prediction,
    PredictiveDistribution, decoder_input,
};
use crate::encode::pca::PcaSummary;
use crate::encode::{
    EncodeContext, EncoderKind, EncoderSetup, FeatureRows, FlatImages, PcaParams, Standardizer,
    encode_stack,
};
use crate::eval::{
    DieboldMariano, LabelDependence, QuantileScores, block_length, bootstrap_metrics,
    diebold_mariano, label_dependence, newey_west_lag, quantile_scores, regression_metrics,
};
use crate::experiment::cache::fits::FitCache;
use crate::experiment::cache::pca::{MatrixDigest, PcaCache, PcaInputs, PcaKey, Reduction};
use crate::experiment::config::{Control, GnssSource, ResolvedExperiment};
use crate::experiment::embeddings::vit_embeddings;
use crate::experiment::fit::{FitJob, FitSettings, fit_all};
use crate::experiment::timing::Timings;
use crate::gnss::stack::ImageStack;
use crate::period::Period;
use crate::report::importance::ImportanceRow;
use crate::report::results::{
    PredictionRow, ROLE_BASELINE, ROLE_CONTROL, ROLE_DIAGNOSTIC, ROLE_MODEL, ResultRow,
};
use crate::report::review::{
    EncoderSheet, EvaluationSheet, GnssCheck, LabelSheet, SIGNIFICANCE, SplitSheet,
    UncertaintySheet,
};
use crate::rng;
use crate::seismicity::bvalue::{WindowKind, WindowRow};
use crate::seismicity::labels::{LabelScaler, LabelSeries, label_series};
use crate::track::Metric;
use crate::{Error, Result};

/// The stage outputs every split and decoder shares.
pub(crate) struct Inputs {
    /// The sliding b/a windows.
    pub ba_rows: Vec<WindowRow>,
    /// Times of the labelled events, days since the period start.
    pub label_times: Vec<f64>,
    /// The gridded GNSS images, when the encoder uses them.
    pub images: Option<ImageStack>,
    /// The images of the scenario's network without its precursor (`ablations.null_scenario`).
    pub null_images: Option<ImageStack>,
}

/// What [`evaluate`] returns.
pub(crate) struct Evaluation {
    /// One row per split × feature set × decoder.
    pub results: Vec<ResultRow>,
    /// Every labelled row's prediction (the first seed's).
    pub predictions: Vec<PredictionRow>,
    /// The feature importances of every fit of a decoder that reports them.
    pub importances: Vec<ImportanceRow>,
    /// The serial dependence of the whole-period label series.
    pub dependence: LabelDependence,
    /// Metrics of fitted transforms (the PCA's explained variance ratio per split).
    pub transforms: Vec<Metric>,
    /// The model info sheet.
    pub sheet: EvaluationSheet,
    /// Every split's feature tables, when `tracking.feature_tables` asks for them.
    pub feature_tables: Vec<FeatureTable>,
    /// The `encode`, `fits` and `scoring` stages, and every fit's time by decoder.
    pub timings: Timings,
}

/// One split's table of one feature set, as the decoders see it, in CSV.
pub(crate) struct FeatureTable {
    /// The split's description as a file name: its letters, digits, `.` and `_`, every other run
    /// of characters one `-` (`random(train=0.7, seed=2009)` gives `random-train-0.7-seed-2009`).
    pub split: String,
    /// The feature set's name.
    pub set: String,
    /// `test,<the feature columns>,label`: the training rows (`test` 0), then the test rows
    /// (`test` 1), each in day order; the features standardised and the label scaled on the
    /// training rows, as the decoders get them. Rows without a label are left out, as every fit
    /// and score leaves them out.
    pub csv: String,
}

impl FeatureTable {
    fn of(description: &str, split: &Split, set: &FeatureSet) -> FeatureTable {
        use std::fmt::Write as _;
        let mut csv = format!("test,{},label\n", set.columns.join(","));
        for (flag, rows) in [(0, split.train()), (1, split.test())] {
            for &r in rows.iter().filter(|&&r| set.labels[r].is_finite()) {
                let _ = write!(csv, "{flag}");
                for j in 0..set.x.ncols() {
                    let _ = write!(csv, ",{}", set.x[(r, j)]);
                }
                let _ = writeln!(csv, ",{}", set.labels[r]);
            }
        }
        let mut file_name = String::new();
        for c in description.chars() {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                file_name.push(c);
            } else if !file_name.is_empty() && !file_name.ends_with('-') {
                file_name.push('-');
            }
        }
        FeatureTable {
            split: file_name.trim_end_matches('-').to_string(),
            set: set.name.clone(),
            csv,
        }
    }
}

/// The feature set prefix of control experiments.
const CONTROL_PREFIX: &str = "control_";

/// The prefix of the moving-average reference columns, `label_known_mean_<N>d`.
const KNOWN_MEAN_PREFIX: &str = "label_known_mean_";

/// A feature set × decoder pair of a split: skipped (an optional decoder that cannot run, with
/// the reason), or its input and the number of seeds it is fitted with.
enum Pair {
    Skipped(String),
    Fit {
        names: Vec<String>,
        x: Mat<f64>,
        seeds: usize,
    },
}

/// One feature set evaluated on a split: a modality or a control.
struct FeatureSet {
    name: String,
    /// The names of the columns of `x`.
    columns: Vec<String>,
    /// Whether its model rows are controls rather than models.
    control: bool,
    /// Whether its columns hold encoded GNSS features.
    gnss: bool,
    /// Features, one row per table row, standardised on the training rows.
    x: Mat<f64>,
    /// The target of each row; NaN where it or a reference column is missing (such rows are
    /// left out of every fit and score of this set).
    labels: Vec<f64>,
    /// The reference columns, in the order of the names given to [`decoder_input`].
    references: Mat<f64>,
}

/// The labels of one split: the series fitted on the split's past, the targets and the
/// reference columns the decoders ask for, scaled on the training rows.
struct SplitLabels {
    series: LabelSeries,
    labels: Vec<f64>,
    references: Mat<f64>,
}

/// Evaluates every split × feature set × decoder (see the module docs). The GNSS features of
/// every split are reduced before any decoder runs, and the image stacks dropped then.
pub(crate) fn evaluate(experiment: &ResolvedExperiment, inputs: Inputs) -> Result<Evaluation> {
    let started = Instant::now();
    let mut timings = Timings::default();
    let period = experiment.period();
    let n_days = period.n_days();
    let params = &experiment.labels().params;
    let horizon = experiment.horizon_days();
    let times = &inputs.label_times;
    let whole = label_series(times, times, n_days, params)?;
    let window_days = match experiment.seismicity().windows.kind() {
        WindowKind::Days { window_days, .. } => window_days,
        WindowKind::Events { .. } => 1,
    };
    let label_support = Support {
        first: Some(whole.support.0),
        last: Some(whole.support.1),
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
            values: &whole.values,
            support: label_support,
            look_ahead: whole.look_ahead(),
        },
        horizon,
        timing: experiment.timing(),
    })?;
    info!(rows = table.n_rows(), dropped = ?table.meta().dropped, "daily table built");
    let finite: Vec<f64> = whole
        .values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let dependence = label_dependence(&finite)?;
    let feature_window = table
        .meta()
        .alignment
        .feature_window_days()
        .unwrap_or(window_days);

    let plans = experiment
        .split()
        .splits
        .iter()
        .map(|kind| plan_split(experiment, &table, *kind, times, feature_window))
        .collect::<Result<Vec<_>>>()?;
    let GnssFeatures {
        gnss,
        null: null_gnss,
        encoder_label,
        sheet: encoder_sheet,
    } = gnss_features(experiment, &inputs, &table, &plans)?;
    // Splits with the same training rows (a rolling split's first origin and the
    // chronological split, say) share one reduction: the PCA is fitted on those rows alone.
    let reducer = Reducer::new(experiment, gnss.as_ref(), null_gnss.as_ref());
    let mut reduced: Vec<SplitGnss> = Vec::with_capacity(plans.len());
    for (i, plan) in plans.iter().enumerate() {
        let same = plans[..i]
            .iter()
            .position(|earlier| earlier.split.train() == plan.split.train());
        reduced.push(match same {
            Some(j) => reduced[j].clone(),
            None => reducer.split_gnss(&plan.split)?,
        });
    }
    drop(reducer);
    // Splits that fit the same models (`PlannedSplit::fits_as`) name their fits' seed streams
    // after the first of them, so every fit of the later split has the key of the earlier
    // one's and is read back from the fit cache instead of being made again.
    let fit_streams: Vec<String> = (0..plans.len())
        .map(|i| {
            let first = plans[..i]
                .iter()
                .position(|earlier| earlier.fits_as(&plans[i]))
                .unwrap_or(i);
            plans[first].split.kind().to_string()
        })
        .collect();
    drop((gnss, null_gnss));
    drop(inputs);
    let encoded = started.elapsed();
    timings.add_stage("encode", encoded);
    let mut fitting_time = Duration::ZERO;

    let evaluation = &experiment.evaluation();
    let levels = &evaluation.quantiles;
    let reference_names = reference_names(experiment.decoders());
    let block = block_length(&finite)?;
    let mut results = Vec::new();
    let mut predictions = Vec::new();
    let mut importances = Vec::new();
    let mut feature_tables = Vec::new();
    let tracking = experiment.tracking();
    let fit_cache = tracking
        .fit_cache
        .then(|| FitCache::new(&tracking.results_dir));
    let mut transforms = Vec::new();
    let mut split_sheets = Vec::new();
    let mut gnss_checks = Vec::new();
    let mut flags: Vec<String> = table.meta().alignment.flags().to_vec();
    let mut dm_lag = 0;
    // What the experiment's own GNSS data are, as the GNSS checks name them.
    let gnss_name = match experiment.gnss() {
        GnssSource::Synthetic(s) if s.gnss.precursor().is_some() => "planted",
        GnssSource::Synthetic(_) => "synthetic",
        _ => "observed",
    };
    let planned = plans.into_iter().zip(reduced).zip(fit_streams);
    for (step, ((plan, reduced), fit_stream)) in planned.enumerate() {
        let PlannedSplit {
            split,
            embargo,
            short,
            series,
            test_start,
        } = plan;
        let split_name = split.kind().name().to_string();
        let description = split.kind().to_string();
        if short {
            flags.push(format!(
                "short embargo in {description}: {} d configured, {} derived",
                split.embargo_days(),
                embargo.describe()
            ));
        }
        info!(split = %description, embargo = %embargo.describe(), "evaluating");
        let labels = split_labels(&table, &series, &split, params, &reference_names)?;
        // Intervals need at least two blocks of scored test rows; fewer independent stretches
        // than that leave a row's intervals undefined (counted in the sheet), never narrowed.
        let n_test = split.test().len();
        let boot = evaluation.bootstrap_settings(
            block,
            rng::derive_seed(experiment.seed(), &format!("eval.bootstrap.{description}")),
        );
        let mut without_intervals = 0;
        let lag = newey_west_lag(n_test)
            .max(block.saturating_sub(1))
            .min(n_test.saturating_sub(1) / 2);
        dm_lag = dm_lag.max(lag);
        let sets = feature_sets(
            experiment,
            &table,
            &reduced,
            &split,
            &labels,
            &reference_names,
        )?;
        if experiment.tracking().feature_tables {
            feature_tables.extend(
                sets.iter()
                    .map(|set| FeatureTable::of(&description, &split, set)),
            );
        }
        if let Some(pca) = reduced.pca {
            transforms.push(Metric::new(
                format!("pca_explained_variance_ratio_{split_name}"),
                pca.explained_variance_ratio,
                step as i64,
            ));
        }
        let first_row = results.len();
        let mut errors: HashMap<(String, String), Vec<f64>> = HashMap::new();
        let mut pairs = Vec::new();
        for set in &sets {
            for decoder in experiment.decoders() {
                let pair = match decoder.unavailable() {
                    Some(reason) => Pair::Skipped(reason),
                    None => {
                        let (names, x) = decoder_input(
                            decoder.settings(),
                            &set.columns,
                            set.x.as_ref(),
                            &reference_names,
                            set.references.as_ref(),
                        )?;
                        let seeds = if decoder.is_stochastic() {
                            experiment.seeds()
                        } else {
                            1
                        };
                        Pair::Fit { names, x, seeds }
                    }
                };
                pairs.push((set, decoder, pair));
            }
        }
        let jobs: Vec<FitJob<'_>> = pairs
            .iter()
            .filter_map(|(set, decoder, pair)| match pair {
                Pair::Fit { names, x, seeds } => Some((set, decoder, names, x, *seeds)),
                Pair::Skipped(_) => None,
            })
            .flat_map(|(set, decoder, names, x, seeds)| {
                let fit_stream = &fit_stream;
                (0..seeds).map(move |i| {
                    let stream = match i {
                        0 => format!("decode.{fit_stream}.{}", decoder.kind()),
                        i => format!("decode.{fit_stream}.{}.seed{i}", decoder.kind()),
                    };
                    FitJob {
                        decoder,
                        names,
                        x: x.as_ref(),
                        labels: &set.labels,
                        seed: rng::derive_seed(experiment.seed(), &stream),
                    }
                })
            })
            .collect();
        let fit_settings = FitSettings {
            split: &split,
            device: experiment.device(),
            levels,
            validation_fraction: evaluation.validation_fraction,
            cache: fit_cache.as_ref(),
        };
        let fitting = Instant::now();
        let mut fitted = fit_all(&jobs, fit_settings)?.into_iter();
        fitting_time += fitting.elapsed();
        drop(jobs);
        for (set, decoder, pair) in pairs {
            let (names, seeds) = match pair {
                Pair::Skipped(reason) => {
                    let encoder = if set.gnss { encoder_label.as_str() } else { "" };
                    let mut row = ResultRow::skipped(
                        &split_name,
                        &description,
                        (&set.name, decoder.kind()),
                        encoder,
                        &reason,
                    );
                    row.decoder_name = decoder_name(decoder);
                    results.push(row);
                    continue;
                }
                Pair::Fit { names, seeds, .. } => (names, seeds),
            };
            let fits: Vec<_> = fitted.by_ref().take(seeds).collect();
            let timed = decoder.display_name();
            for fit in &fits {
                timings.add_fit(&timed, fit.elapsed, fit.cached);
            }
            for (i, fit) in fits.iter().enumerate() {
                if let Some(gains) = &fit.importance {
                    importances.extend(names.iter().zip(gains).map(|(feature, &gain)| {
                        ImportanceRow {
                            split: description.clone(),
                            features: set.name.clone(),
                            decoder: fit.name.clone(),
                            seed: i,
                            feature: feature.clone(),
                            importance: gain,
                        }
                    }));
                }
            }
            let first = &fits[0];
            let role = row_role(set.control, decoder.role());
            let mut row = ResultRow::new(
                &split_name,
                &description,
                (&set.name, &first.name, role),
                &split,
                &set.labels,
                first.prediction.point(),
            )?;
            let r2: Vec<f64> = fits
                .iter()
                .map(|f| test_pairs(&split, &set.labels, f.prediction.point()))
                .map(|(truth, predicted)| regression_metrics(&truth, &predicted).map(|m| m.r2))
                .collect::<Result<_>>()?;
            row.set_seed_spread(&r2);
            row.decoder_name = decoder_name(decoder);
            if set.gnss {
                row.encoder.clone_from(&encoder_label);
            }
            if let Some(distribution) = first.prediction.distribution() {
                row.set_quantile_scores(test_quantile_scores(&split, &set.labels, distribution)?);
            }
            let (truth, predicted) = test_pairs(&split, &set.labels, first.prediction.point());
            if 2 * block <= truth.len() {
                row.set_intervals(&bootstrap_metrics(&truth, &predicted, &boot)?);
            } else {
                without_intervals += 1;
            }
            errors.insert(
                (set.name.clone(), first.name.clone()),
                squared_errors(&truth, &predicted),
            );
            results.push(row);
            predictions.extend(split_predictions(
                (&split_name, &set.name, &first.name),
                &split,
                table.days(),
                &set.labels,
                &first.prediction,
            ));
        }
        if let Some(reason) = experiment.encoder().skipped() {
            for features in skipped_sets(experiment) {
                for decoder in experiment.decoders() {
                    let mut row = ResultRow::skipped(
                        &split_name,
                        &description,
                        (&features, decoder.kind()),
                        &encoder_label,
                        reason,
                    );
                    row.decoder_name = decoder_name(decoder);
                    results.push(row);
                }
            }
        }
        compare_with_baselines(&mut results[first_row..], &errors, lag)?;
        gnss_checks.extend(gnss_checks_of(
            gnss_name,
            &description,
            &results[first_row..],
            &errors,
            lag,
        )?);
        if matches!(split.kind(), SplitKind::Random { .. }) {
            results.push(interpolation_row(
                &table,
                &split,
                &labels.labels,
                &split_name,
                &description,
            )?);
        }
        let mut sheet = split_sheet(
            period,
            &split,
            &embargo,
            short,
            horizon,
            &labels.series,
            test_start,
        );
        if without_intervals > 0 {
            sheet.interval_note = Some(format!(
                "{without_intervals} rows have no bootstrap intervals: their scored test rows \
                 (at most {n_test}) hold fewer than two blocks of {block} rows (the label's N_eff \
                 over the period is {:.1})",
                dependence.effective_sample_size
            ));
        }
        split_sheets.push(sheet);
    }
    let sheet = EvaluationSheet {
        timing: experiment.timing().name().to_string(),
        label: LabelSheet {
            kind: whole.kind.name().to_string(),
            look_ahead: whole.look_ahead(),
            bandwidth_days: whole.bandwidth_days,
            lag1_autocorrelation: dependence.lag1_autocorrelation,
            integrated_autocorrelation_time: dependence.integrated_autocorrelation_time,
            n_eff: dependence.effective_sample_size,
            n_days,
            support_days: whole.support,
            boundary: format!("{:?}", params.boundary).to_lowercase(),
            scale: format!("{:?}", params.kde.scale).to_lowercase(),
            mc: experiment.labels().mc,
        },
        uncertainty: UncertaintySheet {
            bootstrap_resamples: evaluation.bootstrap_resamples,
            block_length: block,
            confidence_level: evaluation.confidence_level,
            dm_lag,
        },
        seeds: experiment.seeds(),
        splits: split_sheets,
        gnss_checks,
        flags,
        dropped_days: table.meta().dropped.clone(),
        encoder: encoder_sheet,
    };
    timings.add_stage("fits", fitting_time);
    timings.add_stage(
        "scoring",
        started.elapsed().saturating_sub(encoded + fitting_time),
    );
    Ok(Evaluation {
        results,
        predictions,
        importances,
        dependence,
        transforms,
        sheet,
        feature_tables,
        timings,
    })
}

/// A split planned before any feature is encoded: its rows with the embargo derived from the
/// label fitted on its past.
struct PlannedSplit {
    split: Split,
    embargo: Embargo,
    /// Whether a configured embargo shorter than the derived one was allowed.
    short: bool,
    /// The label series fitted on the split's past (every event for a random split).
    series: LabelSeries,
    /// The first test day, for time-ordered splits.
    test_start: Option<usize>,
}

impl PlannedSplit {
    /// Whether the models fitted for this split are those of `other`: the same training rows
    /// and the label fitted on the same events (those before the same first test day, or all
    /// of them), hence the same feature sets and targets. A rolling split's first origin and
    /// the chronological split with its fraction are.
    fn fits_as(&self, other: &PlannedSplit) -> bool {
        self.test_start == other.test_start && self.split.train() == other.split.train()
    }
}

/// Fits the split's label on its past, derives the embargo and materialises the rows; this
/// needs only the table and the label times, so every split is planned before encoding.
fn plan_split(
    experiment: &ResolvedExperiment,
    table: &DailyTable,
    kind: SplitKind,
    times: &[f64],
    feature_window: usize,
) -> Result<PlannedSplit> {
    let n_days = experiment.period().n_days();
    let test_start = kind.test_start_day(table.days())?;
    let fit_times: Vec<f64> = match test_start {
        Some(day) => times.iter().copied().filter(|&t| t < day as f64).collect(),
        None => times.to_vec(),
    };
    let series = label_series(times, &fit_times, n_days, &experiment.labels().params)?;
    let embargo = Embargo {
        feature_window_days: feature_window,
        label_reach_days: embargo_reach_days(series.support),
        horizon_days: experiment.horizon_days(),
        configured_days: experiment.split().configured_embargo,
        allow_short: experiment.split().allow_short_embargo,
    };
    let (kind, short) = match kind {
        SplitKind::Random { .. } => (kind, false),
        _ => (kind.with_embargo(embargo.days()?), embargo.is_short()),
    };
    Ok(PlannedSplit {
        split: Split::new(kind, table.days())?,
        embargo,
        short,
        series,
        test_start,
    })
}

/// The encoded GNSS features of every table row, for the experiment's images and the null
/// scenario's, with what the rows say encoded them.
struct GnssFeatures<'a> {
    gnss: Option<GnssMatrix<'a>>,
    null: Option<GnssMatrix<'a>>,
    /// [`ResultRow::encoder`] of the rows built from these features.
    encoder_label: String,
    sheet: Option<EncoderSheet>,
}

/// The GNSS features of every table row before the transforms fitted per split: an encoder's
/// matrix, or the flatten encoder's rows read from the image stack itself ([`FlatImages`]),
/// so that the stack is never repeated in `f64` (each split's PCA copies only its training
/// rows and the centred rows it projects).
enum GnssMatrix<'a> {
    /// Stored features, shared by every split when no PCA follows.
    Encoded(Arc<Mat<f64>>),
    /// The flatten encoder's rows, read from the stack by each split's PCA.
    Flat(FlatImages<'a>),
}

impl GnssMatrix<'_> {
    /// The digest of the matrix's shape and values, part of its reductions' cache keys.
    fn digest(&self) -> MatrixDigest {
        match self {
            GnssMatrix::Encoded(x) => MatrixDigest::of_mat(x.as_ref().as_ref()),
            GnssMatrix::Flat(view) => {
                MatrixDigest::of_f32_rows((0..view.nrows()).map(|i| view.row(i)), view.ncols())
            }
        }
    }
}

impl FeatureRows for &GnssMatrix<'_> {
    fn nrows(&self) -> usize {
        match self {
            GnssMatrix::Encoded(x) => x.nrows(),
            GnssMatrix::Flat(view) => view.nrows(),
        }
    }

    fn ncols(&self) -> usize {
        match self {
            GnssMatrix::Encoded(x) => x.ncols(),
            GnssMatrix::Flat(view) => view.ncols(),
        }
    }

    fn ensure_finite(&self, what: &str) -> Result<()> {
        match self {
            GnssMatrix::Encoded(x) => Mat::as_ref(x).ensure_finite(what),
            GnssMatrix::Flat(view) => view.ensure_finite(what),
        }
    }

    fn select(&self, rows: &[usize]) -> Result<Mat<f64>> {
        match self {
            GnssMatrix::Encoded(x) => Mat::as_ref(x).select(rows),
            GnssMatrix::Flat(view) => view.select(rows),
        }
    }

    fn shifted(&self, first: usize, n: usize, shift: &[f64]) -> Mat<f64> {
        match self {
            GnssMatrix::Encoded(x) => Mat::as_ref(x).shifted(first, n, shift),
            GnssMatrix::Flat(view) => view.shifted(first, n, shift),
        }
    }
}

/// Encodes the images of the table's rows: the flatten encoder as a view of the stack, the ViT
/// with the pixel scale fitted on the rows that are training rows in every split, through the
/// stage cache ([`crate::experiment::embeddings`]).
fn gnss_features<'a>(
    experiment: &ResolvedExperiment,
    inputs: &'a Inputs,
    table: &'a DailyTable,
    plans: &[PlannedSplit],
) -> Result<GnssFeatures<'a>> {
    let encoder = experiment.encoder();
    if let Some(vit) = &encoder.vit {
        let label = vit.describe("");
        if let Some(reason) = vit.missing() {
            return Ok(GnssFeatures {
                gnss: None,
                null: None,
                sheet: Some(EncoderSheet {
                    encoder: label.clone(),
                    weights: String::new(),
                    random_init: vit.is_random(),
                    device: experiment.device().name().to_string(),
                    scale_mm: None,
                    scale_percentile: Some(vit.scale_percentile),
                    scale_fit_days: None,
                    from_cache: None,
                    skipped: Some(reason.to_string()),
                }),
                encoder_label: label,
            });
        }
        let Some(stack) = inputs.images.as_ref() else {
            return Ok(GnssFeatures {
                gnss: None,
                null: None,
                encoder_label: label,
                sheet: None,
            });
        };
        let rows = common_training_rows(plans)?;
        let image_days = table.image_days();
        let mut fit_days: Vec<usize> = rows.iter().map(|&r| image_days[r]).collect();
        fit_days.sort_unstable();
        fit_days.dedup();
        let (gnss, null, sheet) = vit_embeddings(
            experiment,
            vit,
            (stack, inputs.null_images.as_ref()),
            image_days,
            &fit_days,
        )?;
        return Ok(GnssFeatures {
            gnss: Some(GnssMatrix::Encoded(Arc::new(gnss))),
            null: null.map(|x| GnssMatrix::Encoded(Arc::new(x))),
            encoder_label: sheet.encoder.clone(),
            sheet: Some(sheet),
        });
    }
    let ctx = EncodeContext {
        batch_size: encoder.batch_size,
        device: experiment.device(),
        seed: experiment.seed(),
    };
    let built = encoder.kind.build(&EncoderSetup::default(), &ctx)?;
    let encode = |stack: &'a ImageStack| -> Result<Option<GnssMatrix<'a>>> {
        match &built {
            Some(_) if encoder.kind == EncoderKind::Flatten && encoder.pca_dims.is_some() => {
                FlatImages::new(stack, table.image_days()).map(|v| Some(GnssMatrix::Flat(v)))
            }
            Some(e) => encode_stack(e.as_ref(), stack, table.image_days(), &ctx)
                .map(|x| Some(GnssMatrix::Encoded(Arc::new(x)))),
            None => Ok(None),
        }
    };
    Ok(GnssFeatures {
        gnss: inputs.images.as_ref().map(encode).transpose()?.flatten(),
        null: inputs
            .null_images
            .as_ref()
            .map(encode)
            .transpose()?
            .flatten(),
        encoder_label: encoder.kind.name().to_string(),
        sheet: None,
    })
}

/// The table rows that are training rows in every split, in order; an error when there is
/// none (the ViT's pixel scale would have no day to be fitted on).
fn common_training_rows(plans: &[PlannedSplit]) -> Result<Vec<usize>> {
    let rows = common_rows(plans.iter().map(|p| p.split.train()));
    if rows.is_empty() {
        let splits: Vec<String> = plans.iter().map(|p| p.split.kind().to_string()).collect();
        return Err(no_common_training_day(&splits));
    }
    Ok(rows)
}

/// The rows in every one of `sets`, ascending (none for no set).
fn common_rows<'a>(sets: impl IntoIterator<Item = &'a [usize]>) -> Vec<usize> {
    let mut common: Option<Vec<usize>> = None;
    for set in sets {
        let mut set = set.to_vec();
        set.sort_unstable();
        common = Some(match common {
            None => set,
            Some(rows) => rows
                .into_iter()
                .filter(|r| set.binary_search(r).is_ok())
                .collect(),
        });
    }
    let mut rows = common.unwrap_or_default();
    rows.dedup();
    rows
}

/// The refusal of a ViT run whose splits share no training day.
fn no_common_training_day(splits: &[String]) -> Error {
    Error::config(
        "split.kinds",
        format!(
            "no day is a training day in every split ({}): the ViT's pixel scale is fitted on \
             the training days common to all splits, so that no split's test days inform it; \
             evaluate splits whose training periods overlap, or run them separately",
            splits.join("; ")
        ),
    )
}

/// The feature sets that would have used GNSS features, when the encoder cannot run: the
/// GNSS modalities, the shuffled GNSS block and the null scenario's sets.
fn skipped_sets(experiment: &ResolvedExperiment) -> Vec<String> {
    let ablations = experiment.ablations();
    let modalities = &ablations.modalities;
    let mut sets: Vec<String> = modalities
        .iter()
        .filter(|m| **m != Modality::Seismicity)
        .map(|m| m.name().to_string())
        .collect();
    if ablations.shuffle_modality {
        sets.push("fusion_gnss_shuffled".into());
    }
    if ablations.null_gnss.is_some() {
        for modality in [Modality::Gnss, Modality::Fusion] {
            if modalities.contains(&modality) {
                sets.push(format!("{}_null", modality.name()));
            }
        }
    }
    sets
}

/// The reference columns the decoders ask for that the runner can make, in a fixed order:
/// the oracle and known labels, then each moving-average window asked for.
fn reference_names(decoders: &[DecoderConfig]) -> Vec<String> {
    let mut names = vec![ORACLE_COLUMN.to_string(), KNOWN_LABEL_COLUMN.to_string()];
    for decoder in decoders {
        for name in decoder.settings().reference_columns() {
            if known_mean_window(&name).is_some() && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// `N` of a reference column named `label_known_mean_<N>d`.
fn known_mean_window(name: &str) -> Option<usize> {
    name.strip_prefix(KNOWN_MEAN_PREFIX)?
        .strip_suffix('d')?
        .parse()
        .ok()
        .filter(|&n| n >= 1)
}

/// The targets and reference columns of a label series on the table's rows, scaled with
/// statistics of the split's training targets; a row missing its target or a reference value
/// gets a NaN target.
fn split_labels(
    table: &DailyTable,
    series: &LabelSeries,
    split: &Split,
    params: &crate::seismicity::labels::LabelParams,
    reference_names: &[String],
) -> Result<SplitLabels> {
    let last = series.support.1;
    let columns = table.label_columns(&series.values, last);
    let train: Vec<f64> = split.train().iter().map(|&r| columns.target[r]).collect();
    let scaler = LabelScaler::fit(&train, params.kde.scale, series.n_fit_events)?;
    let mut references: Vec<Vec<f64>> = Vec::with_capacity(reference_names.len());
    for name in reference_names {
        let values = if name == ORACLE_COLUMN {
            columns.oracle.clone()
        } else if name == KNOWN_LABEL_COLUMN {
            columns.known.clone()
        } else {
            let window = known_mean_window(name).unwrap_or(1);
            table.known_mean(&series.values, last, window)
        };
        references.push(scaler.transform(&values));
    }
    let mut labels = scaler.transform(&columns.target);
    for (i, y) in labels.iter_mut().enumerate() {
        if references.iter().any(|column| !column[i].is_finite()) {
            *y = f64::NAN;
        }
    }
    let references = Mat::from_fn(labels.len(), references.len(), |i, j| references[j][i]);
    Ok(SplitLabels {
        series: series.clone(),
        labels,
        references,
    })
}

/// [`ResultRow::decoder_name`] of the decoder's rows: its display name where that is not its
/// kind, empty otherwise.
fn decoder_name(decoder: &DecoderConfig) -> String {
    let name = decoder.display_name();
    if name == decoder.kind() {
        String::new()
    } else {
        name
    }
}

/// The role of a row: a model decoder on a control feature set is a control.
fn row_role(control: bool, role: DecoderRole) -> &'static str {
    match role {
        DecoderRole::Baseline => ROLE_BASELINE,
        DecoderRole::Diagnostic => ROLE_DIAGNOSTIC,
        DecoderRole::Model if control => ROLE_CONTROL,
        DecoderRole::Model => ROLE_MODEL,
    }
}

/// The test rows with a label, in time order: (truth, prediction).
fn test_pairs(split: &Split, labels: &[f64], predicted: &[f64]) -> (Vec<f64>, Vec<f64>) {
    split
        .test()
        .iter()
        .filter(|&&r| labels[r].is_finite())
        .map(|&r| (labels[r], predicted[r]))
        .unzip()
}

fn squared_errors(truth: &[f64], predicted: &[f64]) -> Vec<f64> {
    truth
        .iter()
        .zip(predicted)
        .map(|(y, p)| (y - p).powi(2))
        .collect()
}

/// Per feature set, the baseline with the lowest test MSE, and every other row's skill against
/// it with a Diebold–Mariano test on the squared errors (the same test rows).
fn compare_with_baselines(
    rows: &mut [ResultRow],
    errors: &HashMap<(String, String), Vec<f64>>,
    lag: usize,
) -> Result<()> {
    let mut best: HashMap<String, ResultRow> = HashMap::new();
    for row in rows
        .iter()
        .filter(|r| r.is_baseline() && r.test_mse.is_finite())
    {
        let entry = best
            .entry(row.features.clone())
            .or_insert_with(|| row.clone());
        if row.test_mse < entry.test_mse {
            *entry = row.clone();
        }
    }
    for row in rows.iter_mut() {
        let Some(baseline) = best.get(&row.features) else {
            continue;
        };
        if row.is_baseline() {
            row.best_baseline = Some(baseline.decoder.clone());
            continue;
        }
        let key = |r: &ResultRow| (r.features.clone(), r.decoder.clone());
        let dm = match (errors.get(&key(row)), errors.get(&key(baseline))) {
            (Some(model), Some(reference)) => dm_test(model, reference, lag)?,
            _ => None,
        };
        row.set_comparison(baseline, dm.as_ref());
    }
    Ok(())
}

/// The Diebold–Mariano test of two squared-error series of the same test rows, with the HAC
/// lag at most half the rows; `None` for series of different lengths or fewer than 3 rows.
fn dm_test(model: &[f64], reference: &[f64], lag: usize) -> Result<Option<DieboldMariano>> {
    let n = model.len();
    if n != reference.len() || n < 3 {
        return Ok(None);
    }
    diebold_mariano(model, reference, lag.min((n - 1) / 2)).map(Some)
}

/// Whether GNSS features alone beat the day-number control, for the experiment's GNSS (named
/// `gnss_name`: `planted`, `synthetic` or `observed`) and the null scenario's (`null`), where
/// each was run.
fn gnss_checks_of(
    gnss_name: &str,
    description: &str,
    rows: &[ResultRow],
    errors: &HashMap<(String, String), Vec<f64>>,
    lag: usize,
) -> Result<Vec<GnssCheck>> {
    let best = |features: &str| {
        rows.iter()
            .filter(|r| r.features == features && !r.is_baseline() && r.role != ROLE_DIAGNOSTIC)
            .filter(|r| r.test_mse.is_finite())
            .min_by(|a, b| a.test_mse.total_cmp(&b.test_mse))
    };
    let Some(control) = best(&format!("{CONTROL_PREFIX}day_number")) else {
        return Ok(Vec::new());
    };
    let mut checks = Vec::new();
    for (scenario, features) in [(gnss_name, "gnss"), ("null", "gnss_null")] {
        let Some(gnss) = best(features) else {
            continue;
        };
        let key = |r: &ResultRow| (r.features.clone(), r.decoder.clone());
        let (Some(a), Some(b)) = (errors.get(&key(gnss)), errors.get(&key(control))) else {
            continue;
        };
        let Some(dm) = dm_test(a, b, lag)? else {
            continue;
        };
        checks.push(GnssCheck {
            split: description.to_string(),
            scenario: scenario.to_string(),
            gnss: gnss.name(),
            gnss_mse: gnss.test_mse,
            control: format!("{} + {}", control.features, control.shown_decoder()),
            control_mse: control.test_mse,
            dm_p_value: dm.p_value,
            adds_skill: gnss.test_mse < control.test_mse && dm.p_value < SIGNIFICANCE,
        });
    }
    Ok(checks)
}

/// The interpolation baseline of a random split (a diagnostic of P1): each test day from the
/// labels of its training neighbours.
fn interpolation_row(
    table: &DailyTable,
    split: &Split,
    labels: &[f64],
    split_name: &str,
    description: &str,
) -> Result<ResultRow> {
    let interpolated =
        interpolation_baseline(table.days(), labels, split, Interpolation::NeighbourMean)?;
    let (truth, predicted): (Vec<f64>, Vec<f64>) = split
        .test()
        .iter()
        .zip(&interpolated)
        .map(|(&r, &p)| (labels[r], p))
        .filter(|(y, p)| y.is_finite() && p.is_finite())
        .unzip();
    let m = regression_metrics(&truth, &predicted)?;
    Ok(ResultRow::test_only(
        split_name,
        description,
        ("label_only", "interpolation", ROLE_DIAGNOSTIC),
        split,
        m,
    ))
}

/// The sheet entry of one split.
fn split_sheet(
    period: &Period,
    split: &Split,
    embargo: &Embargo,
    short: bool,
    horizon: usize,
    series: &LabelSeries,
    test_start: Option<usize>,
) -> SplitSheet {
    let s = split.summary();
    let date = |day: usize| period.date(day).to_string();
    SplitSheet {
        kind: s.kind.clone(),
        description: s.description.clone(),
        embargo_days: split.embargo_days(),
        embargo_derivation: match split.kind() {
            SplitKind::Random { .. } => "none (random split, a diagnostic)".to_string(),
            _ => embargo.describe(),
        },
        short_embargo: short,
        horizon_days: horizon,
        bandwidth_days: series.bandwidth_days,
        label_fit_events: series.n_fit_events,
        label_fitted_on: match test_start {
            Some(day) => format!("the events before {}", date(day)),
            None => "every event of the period".to_string(),
        },
        n_train: s.n_train,
        n_test: s.n_test,
        n_purged: s.n_purged,
        train_days: (date(s.train_days.0), date(s.train_days.1)),
        test_days: (date(s.test_days.0), date(s.test_days.1)),
        interval_note: None,
    }
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

/// The column names of [`DailyTable::design`]'s matrix for `modality`: the `gnss_columns`
/// encoded GNSS features (`gnss_pc1`, … for principal components, else `gnss_1`, …), then `b`
/// and `a` (the paper's fusion order).
fn design_columns(modality: Modality, gnss_columns: usize, pca: bool) -> Vec<String> {
    let prefix = if pca { "gnss_pc" } else { "gnss_" };
    let gnss = (1..=gnss_columns).map(|j| format!("{prefix}{j}"));
    let ba = ["b", "a"].map(String::from);
    match modality {
        Modality::Gnss => gnss.collect(),
        Modality::Seismicity => ba.to_vec(),
        Modality::Fusion => gnss.chain(ba).collect(),
    }
}

/// One split's GNSS features: reduced by the PCA fitted on its training rows, or the encoded
/// features themselves (shared by every split) when there is no PCA; with the PCA's record.
#[derive(Clone)]
struct SplitGnss {
    gnss: Option<Arc<Mat<f64>>>,
    null: Option<Arc<Mat<f64>>>,
    pca: Option<PcaSummary>,
}

/// The GNSS features of a run (the experiment's and the null scenario's), reduced split by
/// split through the PCA cache ([`crate::experiment::cache::pca`]).
struct Reducer<'e, 'g> {
    experiment: &'e ResolvedExperiment,
    gnss: Option<Digested<'g>>,
    null: Option<Digested<'g>>,
    cache: PcaCache,
}

/// A GNSS matrix and its digest, computed on first use and then shared by every split.
struct Digested<'g> {
    matrix: &'g GnssMatrix<'g>,
    digest: OnceCell<MatrixDigest>,
}

impl<'e, 'g> Reducer<'e, 'g> {
    /// The reducer of `gnss` and `null`.
    fn new(
        experiment: &'e ResolvedExperiment,
        gnss: Option<&'g GnssMatrix<'g>>,
        null: Option<&'g GnssMatrix<'g>>,
    ) -> Self {
        let digested = |matrix| Digested {
            matrix,
            digest: OnceCell::new(),
        };
        Reducer {
            experiment,
            gnss: gnss.map(digested),
            null: null.map(digested),
            cache: PcaCache::new(&experiment.tracking().results_dir),
        }
    }

    /// Reduces the GNSS features for `split`, one matrix after the other: each PCA holds a
    /// centred copy of the training rows (150 MB in the paper run), and two at once would take
    /// the run's peak memory near 1 GiB for a second saved.
    fn split_gnss(&self, split: &Split) -> Result<SplitGnss> {
        let (gnss, pca) = self
            .gnss
            .as_ref()
            .map(|g| self.reduce(g, split))
            .transpose()?
            .unzip();
        let pca = pca.flatten();
        if let Some(summary) = &pca {
            info!(
                split = %split.kind(),
                solver = summary.solver,
                components = summary.n_components,
                explained_variance_ratio = summary.explained_variance_ratio,
                "GNSS features reduced by the PCA of the training rows"
            );
        }
        Ok(SplitGnss {
            gnss,
            null: self
                .null
                .as_ref()
                .map(|g| self.reduce(g, split))
                .transpose()?
                .map(|(x, _)| x),
            pca,
        })
    }

    /// One matrix reduced by the PCA fitted on `split`'s training rows (read back from the
    /// cache when it holds that reduction), or the features as they are without a PCA.
    fn reduce(
        &self,
        g: &Digested<'_>,
        split: &Split,
    ) -> Result<(Arc<Mat<f64>>, Option<PcaSummary>)> {
        let encoder = self.experiment.encoder();
        let Some(k) = encoder.pca_dims else {
            return Ok(match g.matrix {
                GnssMatrix::Encoded(x) => (Arc::clone(x), None),
                GnssMatrix::Flat(view) => (Arc::new(view.to_mat()), None),
            });
        };
        let key = PcaKey::of(&PcaInputs {
            matrix: *g.digest.get_or_init(|| g.matrix.digest()),
            n_components: k,
            solver: encoder.pca_solver,
            seed: self.experiment.seed(),
            train: split.train(),
        });
        if let Some(stored) = key.as_ref().and_then(|key| self.cache.read(key)) {
            info!(split = %split.kind(), "PCA reduction from the stage cache");
            return Ok((Arc::new(stored.features), Some(stored.summary)));
        }
        let pca = PcaParams::new(k)
            .solver(encoder.pca_solver)
            .seed(self.experiment.seed())
            .fit(g.matrix, split.train())?;
        let reduction = Reduction {
            features: pca.transform(g.matrix)?,
            summary: pca.summary(),
        };
        if let Some(key) = &key {
            self.cache.write(key, &reduction);
        }
        Ok((Arc::new(reduction.features), Some(reduction.summary)))
    }
}

/// The modalities (with PCA of the GNSS images fitted on the training rows), then the
/// controls: the shuffled GNSS block, the null scenario's GNSS, the day number, the shifted
/// labels; and the PCA's record, when one was fitted.
fn feature_sets(
    experiment: &ResolvedExperiment,
    table: &DailyTable,
    reduced: &SplitGnss,
    split: &Split,
    labels: &SplitLabels,
    reference_names: &[String],
) -> Result<Vec<FeatureSet>> {
    let encoder = experiment.encoder();
    let reduced_null = reduced.null.as_deref();
    let reduced = reduced.gnss.as_deref();
    let pca = encoder.pca_dims.is_some();
    let columns = |modality: Modality, z: Option<&Mat<f64>>| {
        design_columns(modality, z.map_or(0, |z| z.ncols()), pca)
    };
    let set = |name: String,
               columns: Vec<String>,
               control: bool,
               x: MatRef<'_, f64>|
     -> Result<FeatureSet> {
        Ok(FeatureSet {
            gnss: columns.iter().any(|c| c.starts_with("gnss_")),
            name,
            columns,
            control,
            x: standardized(x, split)?,
            labels: labels.labels.clone(),
            references: labels.references.clone(),
        })
    };
    let mut sets = Vec::new();
    for &modality in &experiment.ablations().modalities {
        if modality != Modality::Seismicity && reduced.is_none() {
            continue;
        }
        let x = table.design(modality, reduced.map(Mat::as_ref))?;
        let names = columns(modality, reduced);
        sets.push(set(modality.name().to_string(), names, false, x.as_ref())?);
    }
    if experiment.ablations().shuffle_modality
        && let Some(z) = reduced
    {
        let x = table.design(Modality::Fusion, Some(z.as_ref()))?;
        let shuffled = permute_rows(x.as_ref(), split.train(), 0..z.ncols(), experiment.seed())?;
        sets.push(set(
            "fusion_gnss_shuffled".into(),
            columns(Modality::Fusion, Some(z)),
            true,
            shuffled.as_ref(),
        )?);
    }
    if let Some(z) = reduced_null {
        for modality in [Modality::Gnss, Modality::Fusion] {
            if experiment.ablations().modalities.contains(&modality) {
                let x = table.design(modality, Some(z.as_ref()))?;
                sets.push(set(
                    format!("{}_null", modality.name()),
                    columns(modality, Some(z)),
                    true,
                    x.as_ref(),
                )?);
            }
        }
    }
    for control in &experiment.ablations().controls {
        match control {
            Control::DayNumber => sets.push(set(
                format!("{CONTROL_PREFIX}day_number"),
                vec!["day_number".into()],
                true,
                day_number_features(table.days()).as_ref(),
            )?),
            Control::LabelShift => {
                let shift = experiment.ablations().label_shift_days;
                let shifted = LabelSeries {
                    values: shift_labels(&labels.series.values, shift)?,
                    ..labels.series.clone()
                };
                let shifted_labels = split_labels(
                    table,
                    &shifted,
                    split,
                    &experiment.labels().params,
                    reference_names,
                )?;
                let (fusion, names) = match reduced {
                    Some(z) => (
                        table.design(Modality::Fusion, Some(z.as_ref()))?,
                        columns(Modality::Fusion, Some(z)),
                    ),
                    None => (
                        table.design(Modality::Seismicity, None)?,
                        columns(Modality::Seismicity, None),
                    ),
                };
                // A row whose shifted label runs past the period has none (NaN) and is left
                // out of this control only; its n_train and n_test show how many remain.
                sets.push(FeatureSet {
                    name: format!("{CONTROL_PREFIX}label_shift_{shift}d"),
                    gnss: reduced.is_some(),
                    columns: names,
                    control: true,
                    x: standardized(fusion.as_ref(), split)?,
                    labels: shifted_labels.labels,
                    references: shifted_labels.references,
                });
            }
        }
    }
    Ok(sets)
}

/// Standardises every column with means and scales fitted on the training rows only (P8).
fn standardized(x: MatRef<'_, f64>, split: &Split) -> Result<Mat<f64>> {
    Standardizer::fit(x, split.train())?.transform(x)
}

fn split_predictions(
    (split, features, decoder): (&str, &str, &str),
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
                    prediction: predicted.point()[r],
                    distribution: distribution.map(|d| (d.median()[r], d.row_quantiles(r))),
                });
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_is_fitted_on_the_rows_that_train_in_every_split() {
        // A shuffled split's training rows, a chronological prefix and a shorter rolling one:
        // {0, 2, 3, 5, 8} ∩ {0..6} ∩ {0..4} = {0, 2, 3}.
        let random = [8, 3, 0, 5, 2];
        let chronological: Vec<usize> = (0..6).collect();
        let rolling: Vec<usize> = (0..4).collect();
        assert_eq!(
            common_rows([&random[..], &chronological[..], &rolling[..]]),
            [0, 2, 3]
        );
        assert!(common_rows(std::iter::empty::<&[usize]>()).is_empty());
    }

    #[test]
    fn splits_without_a_common_training_day_are_refused() {
        // Blocked folds trained on both sides of disjoint test folds can share no row.
        assert!(common_rows([&[0, 1][..], &[2, 3][..]]).is_empty());
        let err = no_common_training_day(&["a".into(), "b".into()]);
        assert!(
            matches!(&err, Error::Config { key, message } if key == "split.kinds"
                && message.contains("no day is a training day in every split (a; b)")),
            "{err}"
        );
    }

    #[test]
    fn design_columns_follow_the_fusion_order() {
        assert_eq!(
            design_columns(Modality::Fusion, 2, true),
            ["gnss_pc1", "gnss_pc2", "b", "a"]
        );
        assert_eq!(design_columns(Modality::Gnss, 1, false), ["gnss_1"]);
        assert_eq!(design_columns(Modality::Seismicity, 3, true), ["b", "a"]);
    }
}
