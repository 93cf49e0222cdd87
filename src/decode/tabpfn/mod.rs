//! TabPFN v2, the paper's in-context regressor (Hollmann et al., Nature 2025), native in burn.
//!
//! Its "fit" stores the training rows; its forward pass attends from each test row to them
//! and returns a distribution over the target, as probabilities over fixed buckets. quakelab
//! loads the official checkpoint (`quakelab models fetch tabpfn-v2-reg`) or any checkpoint of
//! the same architecture, and runs it on the CPU or, with the `cuda` feature, on a GPU.
//!
//! The parts, each in its own module:
//!
//! - [`architecture`]: the sizes and switches read from the checkpoint's `config`;
//! - [`weights`]: the tensors of a `.ckpt` or `.safetensors` file, every shape checked;
//! - [`torch_randn`]: PyTorch's CPU `randn`, bit for bit, for the seeded feature embeddings;
//! - [`model`]: the forward pass, with the training pass cached and test rows in chunks;
//! - [`bar`]: the bar distribution over the output buckets (mean, median, quantiles);
//! - [`preprocess`]: what the official package does around the model, per ensemble member.
//!
//! # An ensemble of members
//!
//! [`TabpfnSettings::n_estimators`] members each see the features through their own seeded
//! pipeline ([`preprocess::MemberPipeline`]: constant columns removed, a feature
//! transform, a fingerprint column, a column shuffle) and, optionally, a transformed target.
//! The targets are standardised on the training rows first: y_z = (y − ȳ) / (σ + 1e-20), σ
//! with ddof 0. Each member's logits are divided by the softmax temperature, turned into
//! probabilities on the checkpoint's borders (translated back from a transformed target's
//! borders where needed), and the members' probabilities are averaged. The mean, the median
//! and the quantiles are those of the averaged distribution on the borders in raw units,
//! `borders · σ + ȳ` (spec B.4).
//!
//! A member may condition on a subsample of the training rows rather than all of them
//! ([`context_rows`]): the `pfn` decoder caps each member's context at the size of the tasks its
//! network was pretrained on; the `tabpfn` decoder conditions every member on every row. The
//! pipeline and the target transform of a member are fitted on its own context rows.
//!
//! With `n_estimators = 1`, `softmax_temperature = 1.0`, `preprocess = "none"`,
//! `fingerprint_feature = false`, `feature_shift = "none"` and `y_transform = "none"`, the
//! members are the model alone, and the mean and the median equal the official package's in
//! its matching configuration (`tools/parity/make_tabpfn.py`).
//!
//! # Licence
//!
//! The TabPFN v2 weights are Prior Labs' (the Prior Labs License: Apache-2.0 with an
//! attribution clause). A product or publication built on them shows "Built with
//! PriorLabs-TabPFN". quakelab's code is its own.

pub mod architecture;
pub mod bar;
mod cpu_attention;
mod cpu_gelu;
pub mod model;
pub mod preprocess;
pub mod torch_randn;
pub mod weights;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use faer::{Mat, MatRef};
use rand::Rng;
use serde::{Deserialize, Serialize};

use self::bar::{BarDistribution, MappedBorders, member_probabilities};
use self::model::{TabPfnModel, TrainState};
use self::preprocess::{
    FeaturePreprocess, FeatureShift, MemberPipeline, PipelineSettings, TargetTransform,
    TargetTransformKind,
};
use self::weights::TabPfnWeights;
use super::{
    DecoderSettings, FitContext, PointEstimate, Prediction, PredictiveDistribution, QuantileLevels,
    Regressor, check_missing_fit_input, check_missing_predict_input, not_fitted,
};
use crate::models::store::{self, Lookup};
use crate::{Error, Result, rng};

/// The registry name of the official TabPFN v2 regressor, fetched by
/// `quakelab models fetch tabpfn-v2-reg`.
pub const OFFICIAL_MODEL: &str = "tabpfn-v2-reg";

/// The most training rows and features the model was pretrained for (the official package's
/// limits); more are refused unless `ignore_pretraining_limits` is set.
pub const PRETRAINING_LIMITS: (usize, usize) = (10_000, 500);

/// Where the weights come from: the model store, or a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum WeightsSource {
    /// `auto`: the official checkpoint in the model store (`quakelab models fetch
    /// tabpfn-v2-reg`).
    Auto,
    /// A checkpoint file: the official `.ckpt` or a converted `.safetensors`.
    File(PathBuf),
}

impl TryFrom<String> for WeightsSource {
    type Error = String;

    fn try_from(text: String) -> std::result::Result<Self, String> {
        match text.trim() {
            "" => Err("must be `auto` or the path of a .ckpt or .safetensors file".into()),
            "auto" => Ok(WeightsSource::Auto),
            path => Ok(WeightsSource::File(PathBuf::from(path))),
        }
    }
}

impl From<WeightsSource> for String {
    fn from(source: WeightsSource) -> String {
        match source {
            WeightsSource::Auto => "auto".into(),
            WeightsSource::File(path) => path.display().to_string(),
        }
    }
}

impl WeightsSource {
    /// The checkpoint file, or why it is not there (with the command that fetches it).
    fn locate(&self) -> Result<std::result::Result<PathBuf, String>> {
        Ok(match self {
            WeightsSource::Auto => match store::locate(OFFICIAL_MODEL)? {
                Lookup::Installed(location) => Ok(location.weights),
                Lookup::Missing(missing) => {
                    Err(format!("{}: {}", missing.dir.display(), missing.message()))
                }
            },
            WeightsSource::File(path) if path.is_file() => Ok(path.clone()),
            WeightsSource::File(path) => Err(format!(
                "`{}` is not a file: name a TabPFN v2 checkpoint (.ckpt or .safetensors), or \
                 `auto` for the store's copy of the official one (`quakelab models fetch \
                 {OFFICIAL_MODEL}`)",
                path.display()
            )),
        })
    }
}

/// Settings of TabPFN v2 (`kind = "tabpfn"`). The names follow the official package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TabpfnSettings {
    /// The checkpoint: `auto` (the store's official one, the default) or a file.
    pub weights: WeightsSource,
    /// When the weights are missing, skip this decoder's rows visibly (with the fetch
    /// command) instead of refusing the experiment.
    pub optional: bool,
    /// Ensemble members (default 4), each with its own seeded feature pipeline.
    pub n_estimators: usize,
    /// Each member's logits are divided by this before the softmax (default 0.9).
    pub softmax_temperature: f64,
    /// The feature transform of every member: `quantile_svd` (the default), `power` or `none`.
    pub preprocess: FeaturePreprocess,
    /// Whether each member appends a hash-of-row column (it tells duplicate rows apart).
    pub fingerprint_feature: bool,
    /// Whether each member shuffles its columns (`shuffle`, the default) or keeps their order.
    pub feature_shift: FeatureShift,
    /// The per-member target transform: `none` (the default) or `safepower`.
    pub y_transform: TargetTransformKind,
    /// The point prediction: the distribution's `mean` (default) or `median`. Quantiles come
    /// with the predictive distribution either way.
    pub output: PointEstimate,
    /// An explicit seed for the members' random choices, overriding the fit context's.
    pub seed: Option<u64>,
    /// Allow more than 10,000 training rows or 500 features, beyond what the model was
    /// pretrained for.
    pub ignore_pretraining_limits: bool,
}

impl Default for TabpfnSettings {
    fn default() -> Self {
        TabpfnSettings {
            weights: WeightsSource::Auto,
            optional: false,
            n_estimators: 4,
            softmax_temperature: 0.9,
            preprocess: FeaturePreprocess::default(),
            fingerprint_feature: true,
            feature_shift: FeatureShift::default(),
            y_transform: TargetTransformKind::default(),
            output: PointEstimate::Mean,
            seed: None,
            ignore_pretraining_limits: false,
        }
    }
}

impl TabpfnSettings {
    /// The ensemble these settings describe.
    fn ensemble(&self) -> EnsembleSettings {
        EnsembleSettings {
            name: NAME,
            n_estimators: self.n_estimators,
            softmax_temperature: self.softmax_temperature,
            pipeline: PipelineSettings {
                preprocess: self.preprocess,
                fingerprint_feature: self.fingerprint_feature,
                feature_shift: self.feature_shift,
            },
            y_transform: self.y_transform,
            output: self.output,
            seed: self.seed,
            max_context_rows: None,
            pretraining_limits: (!self.ignore_pretraining_limits).then_some(PRETRAINING_LIMITS),
        }
    }
}

/// The in-context ensemble of a TabPFN-architecture network, whatever its weights: the
/// settings the `tabpfn` and `pfn` decoders share (see the module docs for what each does).
#[derive(Debug, Clone)]
pub(crate) struct EnsembleSettings {
    /// The decoder's kind: its [`Regressor::name`], the prefix of its error messages and of
    /// its members' seed streams.
    pub name: &'static str,
    /// Ensemble members, at least 1.
    pub n_estimators: usize,
    /// Each member's logits are divided by this before the softmax (positive).
    pub softmax_temperature: f64,
    /// Each member's feature pipeline.
    pub pipeline: PipelineSettings,
    /// Each member's target transform.
    pub y_transform: TargetTransformKind,
    /// The point prediction.
    pub output: PointEstimate,
    /// A seed that overrides the fit context's.
    pub seed: Option<u64>,
    /// The most training rows one member conditions on: more are subsampled per member
    /// ([`context_rows`]); `None` conditions every member on all of them.
    pub max_context_rows: Option<usize>,
    /// The most training rows and features a fit may have (`None`: no limit); more are
    /// refused, naming `decoder.ignore_pretraining_limits`.
    pub pretraining_limits: Option<(usize, usize)>,
}

impl EnsembleSettings {
    /// Refuses a member count of 0, a temperature that is not a positive number and a context
    /// cap of 0 rows, naming the key.
    pub fn check(&self) -> Result<()> {
        crate::ensure_config!(
            self.n_estimators >= 1,
            "decoder.n_estimators",
            "must be at least 1, got 0"
        );
        crate::ensure_config!(
            self.softmax_temperature.is_finite() && self.softmax_temperature > 0.0,
            "decoder.softmax_temperature",
            "must be a positive number, got {}",
            self.softmax_temperature
        );
        crate::ensure_config!(
            self.max_context_rows != Some(0),
            "decoder.max_context_rows",
            "must be at least 1 (or `none` for every training row), got 0"
        );
        Ok(())
    }

    /// Whether a fit draws from its seed: not when the seed is pinned, nor when no member
    /// shuffles, fingerprints or subsamples.
    pub fn is_stochastic(&self) -> bool {
        self.seed.is_none()
            && (self.pipeline.feature_shift == FeatureShift::Shuffle
                || self.pipeline.fingerprint_feature
                || self.max_context_rows.is_some())
    }

    /// The unfitted regressor of `weights` with these settings.
    pub fn regressor(&self, weights: Arc<TabPfnWeights>) -> Box<dyn Regressor> {
        Box::new(TabPfn {
            settings: self.clone(),
            weights,
            fitted: None,
        })
    }
}

/// The training rows one ensemble member conditions on, ascending: all `n` when `cap` is
/// `None` or at least `n`, otherwise `cap` distinct rows drawn uniformly without replacement
/// (a partial Fisher–Yates shuffle) from the stream `seed`, so the same seed draws the same
/// rows.
pub fn context_rows(n: usize, cap: Option<usize>, seed: u64) -> Vec<usize> {
    let mut rows: Vec<usize> = (0..n).collect();
    let Some(k) = cap.filter(|&k| k < n) else {
        return rows;
    };
    let mut rng = rng::stream(seed, "decode.context_rows");
    for i in 0..k {
        let j = rng.random_range(i..n);
        rows.swap(i, j);
    }
    rows.truncate(k);
    rows.sort_unstable();
    rows
}

impl DecoderSettings for TabpfnSettings {
    fn check(&self) -> Result<()> {
        self.ensemble().check()?;
        if let Err(reason) = self.weights.locate()?
            && !self.optional
        {
            return Err(Error::config(
                "decoder.weights",
                format!("{reason} (or set `optional = true` to skip TabPFN's rows)"),
            ));
        }
        Ok(())
    }

    fn build(&self, _feature_names: &[String]) -> Result<Box<dyn Regressor>> {
        let path = self
            .weights
            .locate()?
            .map_err(|reason| Error::config("decoder.weights", reason))?;
        Ok(self.ensemble().regressor(load_weights(&path)?))
    }

    fn external_files(&self) -> Result<Vec<PathBuf>> {
        let path = self
            .weights
            .locate()?
            .map_err(|reason| Error::config("decoder.weights", reason))?;
        Ok(vec![path])
    }

    fn unavailable(&self) -> Option<String> {
        if !self.optional {
            return None;
        }
        match self.weights.locate() {
            Ok(Ok(_)) => None,
            Ok(Err(reason)) => Some(reason),
            Err(e) => Some(e.to_string()),
        }
    }

    fn is_stochastic(&self) -> bool {
        self.ensemble().is_stochastic()
    }

    fn accepts_missing(&self) -> bool {
        true
    }

    /// False: one fit fills the machine (or the GPU) by itself.
    fn fits_side_by_side(&self) -> bool {
        false
    }
}

/// A checkpoint file as it is now: its path, size and modification time.
type FileVersion = (PathBuf, u64, Option<std::time::SystemTime>);

/// Checkpoints already read, by file (and its size and modification time, so that a file
/// replaced on disk is read again), so that the many fits of an experiment read each once.
pub(crate) fn load_weights(path: &Path) -> Result<Arc<TabPfnWeights>> {
    static LOADED: OnceLock<Mutex<HashMap<FileVersion, Arc<TabPfnWeights>>>> = OnceLock::new();
    let canonical = path.canonicalize().map_err(|e| Error::io(path, e))?;
    let meta = std::fs::metadata(&canonical).map_err(|e| Error::io(path, e))?;
    let key = (canonical, meta.len(), meta.modified().ok());
    let loaded = LOADED.get_or_init(Default::default);
    if let Some(weights) = loaded.lock().ok().and_then(|map| map.get(&key).cloned()) {
        return Ok(weights);
    }
    let weights = Arc::new(TabPfnWeights::read(path)?);
    if let Ok(mut map) = loaded.lock() {
        map.insert(key, Arc::clone(&weights));
    }
    Ok(weights)
}

/// One fitted ensemble member: its feature pipeline, its target transform (with the borders
/// it maps to, when it is not the identity) and the cached training pass.
struct Member {
    pipeline: MemberPipeline,
    mapped: Option<MappedBorders>,
    state: TrainState,
}

/// What `fit` learned.
enum Fitted {
    /// The training targets were all equal: every prediction is that value (as the official
    /// package does).
    Constant { value: f64, columns: usize },
    /// The model and its members.
    Ensemble(Box<Ensemble>),
}

/// The model on its device, the fitted members and the distributions they predict on.
struct Ensemble {
    model: TabPfnModel,
    members: Vec<Member>,
    /// The standardised-target distribution of the checkpoint.
    standard: BarDistribution,
    /// The same in the units of the target: `borders · σ + ȳ`.
    raw: BarDistribution,
    columns: usize,
}

/// A regressor of the TabPFN v2 architecture (the `tabpfn` and `pfn` decoders).
struct TabPfn {
    settings: EnsembleSettings,
    weights: Arc<TabPfnWeights>,
    fitted: Option<Fitted>,
}

/// The kind of the TabPFN v2 decoder.
const NAME: &str = "tabpfn";

impl TabPfn {
    fn check_limits(&self, x: MatRef<'_, f64>) -> Result<()> {
        let Some((rows, features)) = self.settings.pretraining_limits else {
            return Ok(());
        };
        crate::ensure_config!(
            x.nrows() <= rows && x.ncols() <= features,
            "decoder.ignore_pretraining_limits",
            "TabPFN v2 was pretrained on at most {rows} training rows and {features} features; \
             this fit has {} rows and {} features. Set `ignore_pretraining_limits = true` to \
             run it anyway",
            x.nrows(),
            x.ncols()
        );
        Ok(())
    }
}

impl Regressor for TabPfn {
    fn name(&self) -> String {
        self.settings.name.to_string()
    }

    fn fit(&mut self, x: MatRef<'_, f64>, y: &[f64], ctx: &FitContext<'_>) -> Result<()> {
        let name = self.settings.name;
        check_missing_fit_input(name, x, y, 1, ctx)?;
        self.check_limits(x)?;
        let n = y.len() as f64;
        let y_mean = y.iter().sum::<f64>() / n;
        let y_std = (y.iter().map(|v| (v - y_mean).powi(2)).sum::<f64>() / n).sqrt();
        if y_std == 0.0 {
            self.fitted = Some(Fitted::Constant {
                value: y_mean,
                columns: x.ncols(),
            });
            return Ok(());
        }
        let y_z: Vec<f64> = y.iter().map(|v| (v - y_mean) / (y_std + 1e-20)).collect();
        let device = ctx.device().burn()?;
        let model = TabPfnModel::new(&self.weights, &device)?;
        let standard = BarDistribution::new(self.weights.borders().to_vec())?;
        let seed = self.settings.seed.unwrap_or(ctx.seed());
        let settings = self.settings.pipeline;
        let members = ctx.install(|| {
            (0..self.settings.n_estimators)
                .map(|i| {
                    let member_seed = rng::derive_seed(seed, &format!("{name}.member{i}"));
                    let rows = context_rows(
                        y.len(),
                        self.settings.max_context_rows,
                        rng::derive_seed(seed, &format!("{name}.member{i}.context")),
                    );
                    let x_context = Mat::from_fn(rows.len(), x.ncols(), |r, j| x[(rows[r], j)]);
                    let y_context: Vec<f64> = rows.iter().map(|&r| y_z[r]).collect();
                    let (pipeline, x_train) =
                        MemberPipeline::fit(x_context.as_ref(), &settings, member_seed)?;
                    let target = TargetTransform::fit(self.settings.y_transform, &y_context)?;
                    let y_member: Vec<f32> = target
                        .forward(&y_context)
                        .iter()
                        .map(|&v| v as f32)
                        .collect();
                    let mapped = (!target.is_identity())
                        .then(|| MappedBorders::new(standard.borders(), |v| target.inverse(v)))
                        .transpose()?;
                    let state =
                        model.fit(&row_major_f32(x_train.as_ref()), x_train.ncols(), &y_member)?;
                    Ok(Member {
                        pipeline,
                        mapped,
                        state,
                    })
                })
                .collect::<Result<Vec<_>>>()
        })??;
        self.fitted = Some(Fitted::Ensemble(Box::new(Ensemble {
            raw: standard.affine(y_std + 1e-20, y_mean),
            model,
            members,
            standard,
            columns: x.ncols(),
        })));
        Ok(())
    }

    fn predict(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        let no_levels = QuantileLevels::new(Vec::new()).map_err(Error::Numerical)?;
        Ok(self.predict_distribution(x, &no_levels)?.point().to_vec())
    }

    fn predict_distribution(
        &self,
        x: MatRef<'_, f64>,
        levels: &QuantileLevels,
    ) -> Result<Prediction> {
        let name = self.settings.name;
        let fitted = self.fitted.as_ref().ok_or_else(|| not_fitted(name))?;
        let m = x.nrows();
        let (model, members, standard, raw) = match fitted {
            Fitted::Constant { value, columns } => {
                check_missing_predict_input(name, x, *columns)?;
                let constant = vec![*value; m];
                let d = PredictiveDistribution::new(
                    constant.clone(),
                    constant.clone(),
                    levels.clone(),
                    vec![constant; levels.len()],
                )?;
                return Ok(Prediction::Distribution(d));
            }
            Fitted::Ensemble(ensemble) => {
                check_missing_predict_input(name, x, ensemble.columns)?;
                let Ensemble {
                    model,
                    members,
                    standard,
                    raw,
                    ..
                } = ensemble.as_ref();
                (model, members, standard, raw)
            }
        };
        let buckets = standard.n_buckets();
        let mut probs = vec![0.0; m * buckets];
        for member in members {
            let x_member = member.pipeline.transform(x)?;
            let logits = model.logits(&member.state, &row_major_f32(x_member.as_ref()))?;
            for (row, out) in logits
                .chunks_exact(buckets)
                .zip(probs.chunks_exact_mut(buckets))
            {
                let p = member_probabilities(
                    row,
                    self.settings.softmax_temperature,
                    standard,
                    member.mapped.as_ref(),
                );
                for (o, v) in out.iter_mut().zip(p) {
                    *o += v / members.len() as f64;
                }
            }
        }
        let rows: Vec<&[f64]> = probs.chunks_exact(buckets).collect();
        let mean = rows.iter().map(|p| raw.mean(p)).collect();
        let median = rows.iter().map(|p| raw.quantile(p, 0.5)).collect();
        let quantiles = levels
            .levels()
            .iter()
            .map(|&q| rows.iter().map(|p| raw.quantile(p, q)).collect())
            .collect();
        let d = PredictiveDistribution::new(mean, median, levels.clone(), quantiles)?;
        Ok(Prediction::Distribution(d.with_point(self.settings.output)))
    }
}

/// The matrix as row-major `f32`, the model's input layout.
fn row_major_f32(x: MatRef<'_, f64>) -> Vec<f32> {
    let mut out = Vec::with_capacity(x.nrows() * x.ncols());
    for i in 0..x.nrows() {
        out.extend((0..x.ncols()).map(|j| x[(i, j)] as f32));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::architecture::Architecture;
    use super::*;

    /// A small random network, its ensemble settings (`cap` training rows per member) and a
    /// table of 40 training and 7 test rows.
    fn fit_and_predict(cap: Option<usize>) -> Vec<f64> {
        let architecture = Architecture {
            emsize: 16,
            nhead: 2,
            nlayers: 1,
            mlp_hidden: 32,
            features_per_group: 2,
            num_buckets: 20,
            seed: 0,
        };
        let weights = Arc::new(TabPfnWeights::random(architecture, 5));
        let settings = EnsembleSettings {
            name: "pfn",
            max_context_rows: cap,
            pretraining_limits: None,
            ..TabpfnSettings::default().ensemble()
        };
        let x = Mat::from_fn(47, 3, |i, j| ((i * (j + 2)) % 11) as f64 / 11.0);
        let y: Vec<f64> = (0..40).map(|i| x[(i, 0)] - 2.0 * x[(i, 1)]).collect();
        let mut model = settings.regressor(weights);
        model
            .fit(x.as_ref().subrows(0, 40), &y, &FitContext::new(3))
            .unwrap();
        model.predict(x.as_ref().subrows(40, 7)).unwrap()
    }

    #[test]
    fn a_context_cap_of_at_least_the_training_rows_changes_nothing() {
        let full = fit_and_predict(None);
        assert_eq!(fit_and_predict(Some(40)), full);
        assert_eq!(fit_and_predict(Some(1000)), full);
        assert_ne!(fit_and_predict(Some(10)), full, "a cap below n subsamples");
    }

    #[test]
    fn context_rows_are_all_rows_up_to_the_cap_then_a_seeded_subsample_of_its_size() {
        assert_eq!(context_rows(5, None, 1), [0, 1, 2, 3, 4]);
        assert_eq!(context_rows(5, Some(5), 1), [0, 1, 2, 3, 4]);
        assert_eq!(context_rows(5, Some(9), 1), [0, 1, 2, 3, 4]);
        let rows = context_rows(100, Some(30), 7);
        assert_eq!(rows.len(), 30);
        assert!(rows.windows(2).all(|w| w[0] < w[1]), "distinct, ascending");
        assert!(rows.iter().all(|&r| r < 100));
        assert_eq!(context_rows(100, Some(30), 7), rows, "the same seed");
        assert_ne!(context_rows(100, Some(30), 8), rows, "another seed");
    }

    #[test]
    fn every_row_is_drawn_into_a_context_with_probability_cap_over_n() {
        // Uniform sampling without replacement: each of n = 10 rows is in a context of 3 with
        // probability 3/10; over 20,000 seeds the frequency's standard error is 0.0032.
        let draws = 20_000;
        let mut counts = [0usize; 10];
        for seed in 0..draws {
            for r in context_rows(10, Some(3), seed) {
                counts[r] += 1;
            }
        }
        for (row, &count) in counts.iter().enumerate() {
            let frequency = count as f64 / draws as f64;
            assert!((frequency - 0.3).abs() < 0.015, "row {row}: {frequency}");
        }
    }
}
