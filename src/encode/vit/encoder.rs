//! The ViT behind the encoder seam: an experiment's `[encoder.vit]` settings, resolved
//! ([`VitSettings`]), and the [`ImageEncoder`] that turns GNSS displacement images into one
//! embedding row per image ([`VitEncoder`]).
//!
//! Each batch of images (mm) is scaled symmetrically with the pixel scale fitted on the
//! training days ([`preprocess::percentile_scale`], spec §E.5), resized bilinearly to the
//! model's square input (50 → 224 for ViT-B/16), and run through [`Vit::encode`]; the
//! output (the paper's `mean` over tokens, `cls` or `pooler`) becomes an `f64` row.
//!
//! # Where the weights come from
//!
//! `encoder.vit.model` names the architecture: a hub id (looked up in the model store,
//! [`crate::models::store`]) or a `save_pretrained` folder. `encoder.vit.weights` is `auto` (the store's
//! or the folder's files), `random` (a seeded initialisation of the architecture, declared as
//! "random init" in every row it produces) or a path (a folder or a weights file with
//! `config.json` beside it). Missing weights are an error that says where to put the files and
//! which command fetches them, unless `encoder.vit.optional` is set: the rows that need the
//! ViT are then recorded as skipped ([`VitWeights::Missing`]).

use std::path::{Path, PathBuf};

use faer::Mat;
use sha2::{Digest, Sha256};

use crate::device::Device;
use crate::encode::vit::weights::{WEIGHT_FILES, weights_file};
use crate::encode::vit::{Vit, VitConfig, VitOutput, preprocess};
use crate::encode::{EncodeContext, ImageBatch, ImageEncoder};
use crate::models::registry::{self, Registry};
use crate::models::store::{self, Lookup};
use crate::{Error, Result, rng};

/// The model of `encoder.vit.model` by default: the paper's ViT-B/16 pretrained on
/// ImageNet-21k.
pub const DEFAULT_MODEL: &str = "google/vit-base-patch16-224-in21k";

/// The hub ids whose architecture is known without their files: ViT-B/16 at 224 × 224
/// ([`VitConfig::base_patch16_224`]), so `weights = "random"` needs no download.
const BASE_PATCH16_224_IDS: [&str; 2] = [DEFAULT_MODEL, "google/vit-base-patch16-224"];

/// Where the ViT's weights come from, resolved against the disk.
#[derive(Debug, Clone, PartialEq)]
pub enum VitWeights {
    /// A `save_pretrained` folder or a weights file, found (what [`Vit::load`] reads).
    Files(PathBuf),
    /// A seeded random initialisation: of ViT-B/16 (`None`) or of the architecture a
    /// `config.json` describes.
    Random {
        /// The `config.json`, for a model folder.
        config: Option<PathBuf>,
    },
    /// The weights are absent and `encoder.vit.optional` is set: why, in words.
    Missing {
        /// Where they were looked for and how to get them.
        reason: String,
    },
}

/// The checked `[encoder.vit]` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct VitSettings {
    /// The model as written: a hub id or a folder.
    pub model: String,
    /// Where the weights come from.
    pub weights: VitWeights,
    /// What each image becomes (`mean`, `cls` or `pooler`; never `last_hidden_state`).
    pub output: VitOutput,
    /// The percentile of |displacement| over the training days that maps to ±1.
    pub scale_percentile: f64,
    /// Whether missing weights skip the rows that need the ViT instead of failing.
    pub optional: bool,
}

impl VitSettings {
    /// Whether the weights are a random initialisation.
    pub fn is_random(&self) -> bool {
        matches!(self.weights, VitWeights::Random { .. })
    }

    /// Why the ViT cannot run, when its weights are missing and it is optional.
    pub fn missing(&self) -> Option<&str> {
        match &self.weights {
            VitWeights::Missing { reason } => Some(reason),
            _ => None,
        }
    }

    /// What produced a row's features: `vit(mean, random init)`, or the model and the first
    /// 12 hex digits of its fingerprint (just the model for an empty one) (`vit(mean, google/vit-base-patch16-224-in21k,
    /// sha256:0123456789ab)`).
    pub fn describe(&self, fingerprint: &str) -> String {
        if self.is_random() {
            return format!("vit({}, random init)", self.output);
        }
        if fingerprint.is_empty() {
            return format!("vit({}, {})", self.output, self.model);
        }
        let short: String = match fingerprint.split_once(':') {
            Some((kind, hex)) => format!("{kind}:{}", &hex[..hex.len().min(12)]),
            None => fingerprint.chars().take(12).collect(),
        };
        format!("vit({}, {}, {short})", self.output, self.model)
    }

    /// The seed of the random initialisation: the `encode.vit` stream of the experiment seed.
    pub fn init_seed(seed: u64) -> u64 {
        rng::derive_seed(seed, "encode.vit")
    }

    /// What identifies the weights without loading them: `sha256:<hex>` of the weights file,
    /// or `random:<seed>:<sha256 of the architecture's JSON>` (as [`Vit::fingerprint`] names
    /// them). The config of a random initialisation is read from its `config.json`.
    pub fn fingerprint(&self, seed: u64) -> Result<String> {
        match &self.weights {
            VitWeights::Files(path) => {
                let file = if path.is_dir() {
                    weights_file(path)?
                } else {
                    path.clone()
                };
                Ok(format!("sha256:{}", crate::models::sha256_file(&file)?))
            }
            VitWeights::Random { config } => {
                let config = architecture(config.as_deref())?;
                let json = serde_json::to_vec(&config).map_err(|e| {
                    Error::Numerical(format!("cannot serialise the ViT config: {e}"))
                })?;
                Ok(format!(
                    "random:{}:{}",
                    VitSettings::init_seed(seed),
                    Sha256::digest(&json)
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>()
                ))
            }
            VitWeights::Missing { reason } => Err(Error::config("encoder.vit.weights", reason)),
        }
    }

    /// Loads (or initialises) the model on `device`.
    pub fn load(&self, device: Device, seed: u64) -> Result<Vit> {
        let burn_device = device.burn()?;
        match &self.weights {
            VitWeights::Files(path) => Vit::load(path, &burn_device),
            VitWeights::Random { config } => Vit::random(
                architecture(config.as_deref())?,
                VitSettings::init_seed(seed),
                &burn_device,
            ),
            VitWeights::Missing { reason } => Err(Error::config("encoder.vit.weights", reason)),
        }
    }
}

/// ViT-B/16, or the architecture of a `config.json`.
fn architecture(config: Option<&Path>) -> Result<VitConfig> {
    match config {
        Some(path) => VitConfig::from_file(path),
        None => Ok(VitConfig::base_patch16_224()),
    }
}

/// Why a model folder is not complete (no `config.json`, or no weights file), or `None`.
pub fn incomplete_folder(dir: &Path) -> Option<String> {
    if !dir.is_dir() {
        return Some(format!("{} does not exist", dir.display()));
    }
    let mut lacking = Vec::new();
    if !dir.join("config.json").is_file() {
        lacking.push("config.json".to_string());
    }
    if !WEIGHT_FILES.iter().any(|name| dir.join(name).is_file()) {
        lacking.push(format!("{} (or {})", WEIGHT_FILES[0], WEIGHT_FILES[1]));
    }
    (!lacking.is_empty()).then(|| format!("{} lacks {}", dir.display(), lacking.join(" and ")))
}

/// Whether `model` names a hub model rather than a folder on disk: it is not an existing
/// folder, and it is a hub id (`owner/name`) or a name the model registry knows (an alias).
pub fn is_hub_id(model: &str) -> bool {
    !Path::new(model).is_dir()
        && (registry::is_hub_id(model) || Registry::builtin().find(model).is_some())
}

/// Whether a hub id (or a registry alias) names ViT-B/16 at 224 × 224, known without its files.
pub fn is_base_patch16_224(model: &str) -> bool {
    let registry = Registry::builtin();
    let id = registry
        .find(model)
        .map_or(model, |entry| entry.id.as_str());
    BASE_PATCH16_224_IDS.contains(&id)
}

/// The folder of a hub model in the model store ([`crate::models::store::locate`]), if
/// complete; else the store's message: the folder, what is missing, and the command that
/// fetches it.
pub fn locate_in_store(id: &str) -> Result<std::result::Result<PathBuf, String>> {
    Ok(match store::locate(id)? {
        Lookup::Installed(location) => Ok(location.dir),
        Lookup::Missing(missing) => Err(format!(
            "{}: {}; `encoder.vit.weights = \"random\"` runs a declared random init instead",
            missing.dir.display(),
            missing.message()
        )),
    })
}

/// The ViT as an [`ImageEncoder`]: GNSS displacement images (mm) in, one row of `hidden`
/// features per image out.
#[derive(Debug)]
pub struct VitEncoder {
    model: Vit,
    output: VitOutput,
    scale: f32,
}

impl VitEncoder {
    /// An encoder over `model` that scales each image by `scale` mm ([`preprocess`]) and
    /// returns `output` per image. `last_hidden_state` (not one row per image) and a scale
    /// that is not a positive number are refused.
    pub fn new(model: Vit, output: VitOutput, scale: f32) -> Result<Self> {
        if output == VitOutput::LastHiddenState {
            return Err(last_hidden_state_refused());
        }
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Error::Numerical(format!(
                "the ViT's pixel scale must be a positive number of mm, got {scale}"
            )));
        }
        Ok(VitEncoder {
            model,
            output,
            scale,
        })
    }

    /// The model.
    pub fn model(&self) -> &Vit {
        &self.model
    }

    /// The pixel scale, mm per unit.
    pub fn scale(&self) -> f32 {
        self.scale
    }

    /// Scales, resizes and encodes one batch (at most `batch_size` images).
    fn encode_chunk(&self, batch: &ImageBatch<'_>) -> Result<Mat<f64>> {
        let config = self.model.config();
        let shape = batch.shape();
        if shape.channels != config.num_channels {
            return Err(Error::Numerical(format!(
                "vit encoder: images of {} channels (batch {shape}), the model takes {}",
                shape.channels, config.num_channels
            )));
        }
        let mut pixels = batch.data().to_vec();
        if let Some(at) = pixels.iter().position(|v| !v.is_finite()) {
            return Err(Error::Numerical(format!(
                "vit encoder: image {} of the batch has the value {} (missing values are \
                 dropped, never filled)",
                at / shape.image_len().unwrap_or(1).max(1),
                pixels[at]
            )));
        }
        preprocess::scale_symmetric(&mut pixels, self.scale);
        let scaled = ImageBatch::new(pixels, shape)?;
        let side = config.image_size;
        let resized = if (shape.height, shape.width) == (side, side) {
            scaled
        } else {
            preprocess::resize_bilinear(&scaled, side, side)?
        };
        let embeddings = self.model.encode(&resized, self.output)?;
        let hidden = config.hidden_size;
        if embeddings.shape != [shape.n, hidden] || embeddings.data.len() != shape.n * hidden {
            return Err(Error::Numerical(format!(
                "vit encoder: the model gave embeddings of shape {:?} for {} images (expected \
                 [{}, {hidden}])",
                embeddings.shape, shape.n, shape.n
            )));
        }
        Ok(Mat::from_fn(shape.n, hidden, |i, j| {
            f64::from(embeddings.data[i * hidden + j])
        }))
    }
}

/// The refusal of `encoder.vit.output = "last_hidden_state"` in an experiment.
pub fn last_hidden_state_refused() -> Error {
    Error::config(
        "encoder.vit.output",
        "`last_hidden_state` is tokens x hidden values per image, not one feature row per \
         image; an experiment takes `mean` (the paper), `cls` or `pooler` (`quakelab encode \
         vit --output last_hidden_state` writes the tokens)",
    )
}

impl ImageEncoder for VitEncoder {
    fn name(&self) -> String {
        "vit".to_string()
    }

    fn encode(&self, batch: &ImageBatch<'_>, ctx: &EncodeContext) -> Result<Mat<f64>> {
        let shape = batch.shape();
        let hidden = self.model.config().hidden_size;
        let mut out = Mat::zeros(shape.n, hidden);
        let step = ctx.batch_size.get();
        let mut first = 0;
        while first < shape.n {
            let n = step.min(shape.n - first);
            let len = shape.image_len().unwrap_or(0);
            let chunk = ImageBatch::new(
                &batch.data()[first * len..(first + n) * len],
                crate::encode::BatchShape { n, ..shape },
            )?;
            out.subrows_mut(first, n)
                .copy_from(&self.encode_chunk(&chunk)?);
            first += n;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(weights: VitWeights) -> VitSettings {
        VitSettings {
            model: DEFAULT_MODEL.into(),
            weights,
            output: VitOutput::Mean,
            scale_percentile: 99.5,
            optional: false,
        }
    }

    #[test]
    fn a_row_names_random_init_or_the_weights() {
        let random = settings(VitWeights::Random { config: None });
        assert_eq!(random.describe("random:1:ab"), "vit(mean, random init)");
        let real = settings(VitWeights::Files(PathBuf::from("m")));
        let hex = "0123456789abcdef".repeat(4);
        assert_eq!(
            real.describe(&format!("sha256:{hex}")),
            "vit(mean, google/vit-base-patch16-224-in21k, sha256:0123456789ab)"
        );
    }

    #[test]
    fn hub_ids_are_two_plain_segments() {
        assert!(is_hub_id("google/vit-base-patch16-224-in21k"));
        assert!(!is_hub_id("models/google/vit"));
        assert!(!is_hub_id("./vit"));
        assert!(!is_hub_id("vit"));
        assert!(!is_hub_id("/abs/vit"));
    }

    #[test]
    fn a_folder_is_complete_with_a_config_and_one_weights_file() {
        let dir = tempfile::tempdir().unwrap();
        let why = incomplete_folder(dir.path()).unwrap();
        assert!(why.contains("config.json and model.safetensors (or pytorch_model.bin)"));
        std::fs::write(dir.path().join("config.json"), "{}").unwrap();
        std::fs::write(dir.path().join("pytorch_model.bin"), "x").unwrap();
        assert_eq!(incomplete_folder(dir.path()), None);
    }
}
