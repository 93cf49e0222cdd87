//! The `pfn` decoder: quakelab's own prior-fitted network predicting a table in context.
//!
//! With no `weights` set it runs the shipped network, `quakelab-pfn-s`, whose checkpoint
//! (`models/quakelab-pfn-s.safetensors`, trained on the CPU by `quakelab pfn pretrain
//! experiments/pfn/quakelab-pfn-s.toml`, see `paper/pfn/README.md`) is built into the binary,
//! so the decoder works on a fresh clone from any working directory. `weights = "FILE"` runs
//! any other checkpoint that `quakelab pfn pretrain` wrote, or a TabPFN v2 checkpoint of the
//! same format.
//!
//! The network has the TabPFN v2 architecture, so the decoder is the TabPFN decoder's
//! in-context ensemble ([`crate::decode::tabpfn`]) on these weights, with the same settings and
//! defaults but the feature pipeline and the point prediction ([`PfnSettings`]), and one more:
//! [`PfnSettings::max_context_rows`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use super::model::{CheckpointInfo, read_checkpoint_info};
use crate::decode::tabpfn::preprocess::{FeaturePreprocess, FeatureShift, TargetTransformKind};
use crate::decode::tabpfn::weights::{TabPfnWeights, safetensors_metadata_of_bytes};
use crate::decode::tabpfn::{EnsembleSettings, TabpfnSettings, load_weights};
use crate::decode::{DecoderSettings, PointEstimate, Regressor};
use crate::{Error, Result};

/// The kind of the decoder, its [`Regressor::name`]: the key of its rows in `results.csv`,
/// metric names and file names.
pub const KIND: &str = "pfn";

/// The name of the shipped network.
pub const SHIPPED_NAME: &str = "quakelab-pfn-s";

/// How errors name the shipped network's checkpoint, which has no file of its own.
pub const SHIPPED_ORIGIN: &str = "quakelab-pfn-s (built in)";

/// The most rows of the tasks `quakelab-pfn-s` was pretrained on (its checkpoint's
/// `quakelab.prior`: `rows 32-256`, at most 255 of them context), the default of
/// [`PfnSettings::max_context_rows`].
pub const PRETRAINED_ROWS: usize = 256;

/// The bytes of `models/quakelab-pfn-s.safetensors`, built into the binary.
pub fn shipped_checkpoint() -> &'static [u8] {
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/quakelab-pfn-s.safetensors"
    ))
}

/// The shipped network's weights, read from [`shipped_checkpoint`] once per process. Errors
/// name the checkpoint [`SHIPPED_ORIGIN`].
pub fn shipped_weights() -> Result<Arc<TabPfnWeights>> {
    static READ: OnceLock<Arc<TabPfnWeights>> = OnceLock::new();
    if let Some(weights) = READ.get() {
        return Ok(Arc::clone(weights));
    }
    let weights = Arc::new(TabPfnWeights::read_safetensors_bytes(
        shipped_checkpoint().to_vec(),
        Path::new(SHIPPED_ORIGIN),
    )?);
    Ok(Arc::clone(READ.get_or_init(|| weights)))
}

/// What the shipped network's checkpoint says about itself (name, prior, steps, seed,
/// commit).
pub fn shipped_info() -> Result<CheckpointInfo> {
    let origin = Path::new(SHIPPED_ORIGIN);
    CheckpointInfo::from_metadata(
        &safetensors_metadata_of_bytes(shipped_checkpoint(), origin)?,
        origin,
    )
}

/// Settings of the `pfn` decoder (`kind = "pfn"`).
///
/// Every setting but `weights` and `max_context_rows` is the TabPFN decoder's
/// ([`TabpfnSettings`]), with its default, except the features' pipeline and the point
/// prediction: `preprocess = "none"` and no fingerprint column, since quakelab's networks are
/// pretrained on the prior's features as they are (standardised by the network's own
/// encoder), and TabPFN v2's quantile + SVD columns and its hash-of-row column are inputs they
/// never saw in pretraining; and `output = "median"` ([`PfnSettings::output`]).
///
/// # Why the context is capped
///
/// A PFN predicts well only on tasks like those of its prior: `quakelab-pfn-s` was pretrained
/// on tasks of 32 to 256 rows, at most 255 of them context. The paper experiment gives a
/// decoder 3,200 to 3,900 training days, far outside that range, and the attention over the
/// training rows costs O(n²) per fit. So each ensemble member conditions on its own seeded
/// random subsample of at most `max_context_rows` training rows
/// ([`crate::decode::tabpfn::context_rows`]), and the members together see more of the table
/// than one of them does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PfnSettings {
    /// The checkpoint: unset (the default) for the shipped `quakelab-pfn-s`, or the path of a
    /// checkpoint `quakelab pfn pretrain` wrote (or of a TabPFN v2 `.ckpt`/`.safetensors`).
    pub weights: Option<PathBuf>,
    /// Ensemble members (default 4), each with its own seeded feature pipeline and context.
    pub n_estimators: usize,
    /// Each member's logits are divided by this before the softmax (default 0.9).
    pub softmax_temperature: f64,
    /// The feature transform of every member: `none` (the default: the features as the
    /// network was pretrained on them), `quantile_svd` or `power`.
    pub preprocess: FeaturePreprocess,
    /// Whether each member appends a hash-of-row column (default false: pretraining never
    /// shows the network one).
    pub fingerprint_feature: bool,
    /// Whether each member shuffles its columns (`shuffle`, the default) or keeps their order.
    pub feature_shift: FeatureShift,
    /// The per-member target transform: `none` (the default) or `safepower`.
    pub y_transform: TargetTransformKind,
    /// The point prediction: the distribution's `median` (the default, where the TabPFN
    /// decoder's is the mean) or `mean`. A small network's upper tail is its least calibrated
    /// part, and on targets with bursts (aftershock sequences) it pulls the mean far above
    /// every likely value.
    pub output: PointEstimate,
    /// An explicit seed for the members' random choices, overriding the fit context's.
    pub seed: Option<u64>,
    /// The most training rows one member conditions on (default 256, [`PRETRAINED_ROWS`]):
    /// with more, each member draws its own seeded subsample of this many; `none` conditions
    /// every member on all of them. See the type's docs for why.
    pub max_context_rows: Option<usize>,
}

impl Default for PfnSettings {
    fn default() -> Self {
        let t = TabpfnSettings::default();
        PfnSettings {
            weights: None,
            n_estimators: t.n_estimators,
            softmax_temperature: t.softmax_temperature,
            preprocess: FeaturePreprocess::None,
            fingerprint_feature: false,
            feature_shift: t.feature_shift,
            y_transform: t.y_transform,
            output: PointEstimate::Median,
            seed: t.seed,
            max_context_rows: Some(PRETRAINED_ROWS),
        }
    }
}

impl PfnSettings {
    /// The ensemble these settings describe.
    fn ensemble(&self) -> EnsembleSettings {
        EnsembleSettings {
            name: KIND,
            n_estimators: self.n_estimators,
            softmax_temperature: self.softmax_temperature,
            pipeline: crate::decode::tabpfn::preprocess::PipelineSettings {
                preprocess: self.preprocess,
                fingerprint_feature: self.fingerprint_feature,
                feature_shift: self.feature_shift,
            },
            y_transform: self.y_transform,
            output: self.output,
            seed: self.seed,
            max_context_rows: self.max_context_rows,
            pretraining_limits: None,
        }
    }

    /// The `weights` file, refused (naming `decoder.weights`) when it is not a file.
    fn weights_file(path: &Path) -> Result<&Path> {
        if path.is_file() {
            return Ok(path);
        }
        Err(Error::config(
            "decoder.weights",
            format!(
                "`{}` is not a file: name a checkpoint written by `quakelab pfn pretrain` (or a \
                 TabPFN v2 .ckpt or .safetensors), or leave `weights` unset for the built-in \
                 {SHIPPED_NAME}",
                path.display()
            ),
        ))
    }
}

impl DecoderSettings for PfnSettings {
    fn check(&self) -> Result<()> {
        self.ensemble().check()?;
        if let Some(path) = &self.weights {
            PfnSettings::weights_file(path)?;
        }
        Ok(())
    }

    fn build(&self, _feature_names: &[String]) -> Result<Box<dyn Regressor>> {
        let weights = match &self.weights {
            None => shipped_weights()?,
            Some(path) => load_weights(PfnSettings::weights_file(path)?)?,
        };
        Ok(self.ensemble().regressor(weights))
    }

    /// The checkpoint named by `weights`; none for the built-in network, which is part of the
    /// binary.
    fn external_files(&self) -> Result<Vec<PathBuf>> {
        Ok(self.weights.iter().cloned().collect())
    }

    /// `PFN (quakelab-pfn-s)`, or with `weights` set `PFN (NAME)`, NAME the checkpoint's
    /// `quakelab.name` (the file's name for a checkpoint without one, such as TabPFN's).
    fn display_name(&self) -> Option<String> {
        let network = match &self.weights {
            None => shipped_info().map_or_else(|_| SHIPPED_NAME.to_string(), |info| info.name),
            Some(path) => read_checkpoint_info(path).map_or_else(
                |_| {
                    path.file_name().map_or_else(
                        || path.display().to_string(),
                        |name| name.to_string_lossy().into_owned(),
                    )
                },
                |info| info.name,
            ),
        };
        Some(format!("PFN ({network})"))
    }

    fn is_stochastic(&self) -> bool {
        self.ensemble().is_stochastic()
    }

    fn accepts_missing(&self) -> bool {
        true
    }

    /// True when every member's context is capped (`max_context_rows`, the default): a fit
    /// then holds a few [`crate::decode::tabpfn::model::CPU_CHUNK_BYTES`] chunks of
    /// activations and keeps one core busy, so fits run best side by side. False when
    /// members condition on every training row: one fit then takes the machine, as the
    /// TabPFN decoder's does.
    fn fits_side_by_side(&self) -> bool {
        self.max_context_rows.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_run_side_by_side_only_on_capped_contexts() {
        let capped = PfnSettings::default();
        assert_eq!(capped.max_context_rows, Some(PRETRAINED_ROWS));
        assert!(capped.fits_side_by_side());
        let every_row = PfnSettings {
            max_context_rows: None,
            ..PfnSettings::default()
        };
        assert!(!every_row.fits_side_by_side());
    }

    #[test]
    fn the_built_in_checkpoint_is_the_committed_file_and_reads_as_it() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/quakelab-pfn-s.safetensors");
        let file = std::fs::read(&path).unwrap();
        assert!(file == shipped_checkpoint(), "the built-in bytes differ");
        let from_file = TabPfnWeights::read(&path).unwrap();
        let built_in = shipped_weights().unwrap();
        assert_eq!(built_in.architecture(), from_file.architecture());
        assert_eq!(built_in.borders(), from_file.borders());
        assert_eq!(built_in.fingerprint(), from_file.fingerprint());
        // experiments/pfn/quakelab-pfn-s.toml: emsize 64, 2 heads, 3 layers, 100 buckets.
        let a = built_in.architecture();
        assert_eq!(
            (a.emsize, a.nhead, a.nlayers, a.num_buckets),
            (64, 2, 3, 100)
        );
        assert_eq!(built_in.borders().len(), 101);
        let name = "transformer_encoder.layers.2.mlp.linear2.weight";
        assert_eq!(
            built_in.tensor(name).unwrap(),
            from_file.tensor(name).unwrap()
        );
        assert_eq!(shipped_info().unwrap().name, SHIPPED_NAME);
    }

    #[test]
    fn a_missing_pfn_weights_file_is_refused() {
        let settings = PfnSettings {
            weights: Some(PathBuf::from("no/such/network.safetensors")),
            ..PfnSettings::default()
        };
        let err = settings.check().unwrap_err();
        assert!(
            matches!(&err, Error::Config { key, .. } if key == "decoder.weights"),
            "{err}"
        );
        assert!(
            err.to_string().contains("no/such/network.safetensors"),
            "{err}"
        );
    }

    #[test]
    fn the_defaults_are_the_tabpfn_decoders_with_raw_features_the_median_and_256_rows() {
        let pfn = PfnSettings::default();
        let tabpfn = TabpfnSettings::default();
        assert_eq!(pfn.n_estimators, 4);
        assert_eq!(pfn.softmax_temperature, 0.9);
        assert_eq!(pfn.feature_shift, tabpfn.feature_shift);
        // The features as pretraining gives them, where TabPFN v2 adds quantile + SVD columns
        // and a fingerprint column.
        assert_eq!(pfn.preprocess, FeaturePreprocess::None);
        assert!(!pfn.fingerprint_feature);
        assert_eq!(
            (pfn.output, tabpfn.output),
            (PointEstimate::Median, PointEstimate::Mean)
        );
        assert_ne!(tabpfn.preprocess, FeaturePreprocess::None);
        assert!(tabpfn.fingerprint_feature);
        assert_eq!(pfn.max_context_rows, Some(256));
        assert_eq!(pfn.display_name().as_deref(), Some("PFN (quakelab-pfn-s)"));
    }
}
