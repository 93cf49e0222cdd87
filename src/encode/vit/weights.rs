//! A ViT's tensors: from a checkpoint (shapes checked) or a seeded random initialisation.
//!
//! Tensors keep Hugging Face's names and PyTorch's layout (spec §E.2): a linear layer's weight
//! is `[out, in]`, the patch convolution's `[hidden, channels, patch, patch]`. The names are
//! those of `ViTModel` (`embeddings.cls_token`, `encoder.layer.0.attention.attention.query.weight`,
//! ...); a checkpoint saved from `ViTForImageClassification` prefixes them with `vit.`, and both
//! are read. A checkpoint without the pooler (`ViTForImageClassification` has none) loads
//! without it, and then has no [`VitOutput::Pooler`](crate::encode::vit::VitOutput::Pooler).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rand::Rng;
use rand_distr::StandardNormal;

use crate::encode::vit::VitConfig;
use crate::models::Checkpoint;
use crate::{Error, Result};

/// The file names of a `save_pretrained` folder's weights, in order of preference.
pub const WEIGHT_FILES: [&str; 2] = ["model.safetensors", "pytorch_model.bin"];

/// The pooler's tensors, which a checkpoint may lack.
const POOLER: [&str; 2] = ["pooler.dense.weight", "pooler.dense.bias"];

/// One tensor in PyTorch's layout: its shape, outermost first, and its values in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    /// The shape.
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values.
    pub data: Vec<f32>,
}

/// Every tensor of a ViT, by its `ViTModel` name, each of the shape its config implies.
#[derive(Debug, Clone)]
pub struct VitWeights {
    tensors: BTreeMap<String, HostTensor>,
}

impl VitWeights {
    /// Reads the tensors of a weights file (safetensors or PyTorch) for `config`'s
    /// architecture.
    ///
    /// Every tensor must be present, with or without the `vit.` prefix, and of its expected
    /// shape; a missing or misshapen one is an [`Error::Format`] naming the tensor, the
    /// expected and the found shape. The pooler may be absent as a whole. Tensors the model
    /// does not use (a classifier head) are ignored and counted in an `info` log line.
    pub fn read(path: &Path, config: &VitConfig) -> Result<VitWeights> {
        let checkpoint = Checkpoint::open(path)?;
        let stored = |name: &str| {
            [name.to_string(), format!("vit.{name}")]
                .into_iter()
                .find(|key| checkpoint.get(key).is_some())
        };
        let with_pooler = POOLER.iter().any(|name| stored(name).is_some());
        let mut used = BTreeSet::new();
        let mut tensors = BTreeMap::new();
        for (name, shape) in expected_shapes(config, with_pooler) {
            let item = format!("tensor `{name}`");
            let key = stored(&name).ok_or_else(|| {
                Error::format(
                    path,
                    &item,
                    format!(
                        "missing (nor as `vit.{name}`); expected shape {shape:?} for {}",
                        describe(config)
                    ),
                )
            })?;
            let info = checkpoint
                .get(&key)
                .ok_or_else(|| Error::format(path, &item, "listed but not readable".to_string()))?;
            if info.shape != shape {
                return Err(Error::format(
                    path,
                    format!("tensor `{key}`"),
                    format!(
                        "expected shape {shape:?}, found {:?} (config.json: {})",
                        info.shape,
                        describe(config)
                    ),
                ));
            }
            let data = checkpoint.read_f32(&key)?;
            used.insert(key);
            tensors.insert(name, HostTensor { shape, data });
        }
        let ignored = checkpoint
            .tensors()
            .filter(|t| !used.contains(&t.name))
            .count();
        tracing::info!(
            "{}: read {} tensors of a ViT ({}); ignored {ignored} other tensors",
            path.display(),
            used.len(),
            checkpoint.format()
        );
        Ok(VitWeights { tensors })
    }

    /// A random initialisation of `config`'s architecture, with pooler, drawn from
    /// [`crate::rng::stream`]`(seed, "encode.vit.init")`: Hugging Face's `_init_weights` scheme
    /// for `ViTModel`. Linear and patch-convolution weights, the CLS token and the position
    /// embeddings follow a normal law of standard deviation `initializer_range` truncated at
    /// ±2 standard deviations; biases are 0; LayerNorm weights 1 and biases 0.
    ///
    /// Tensors are drawn one after another in a fixed order, so the same seed and config give
    /// the same weights on every machine and device.
    pub fn random(config: &VitConfig, seed: u64) -> VitWeights {
        let mut rng = crate::rng::stream(seed, "encode.vit.init");
        let std = config.initializer_range as f32;
        let tensors = expected_shapes(config, true)
            .into_iter()
            .map(|(name, shape)| {
                let len = shape.iter().product();
                let data = match Init::of(&name) {
                    Init::Ones => vec![1.0; len],
                    Init::Zeros => vec![0.0; len],
                    Init::TruncatedNormal => {
                        (0..len).map(|_| truncated_normal(&mut rng) * std).collect()
                    }
                };
                (name, HostTensor { shape, data })
            })
            .collect();
        VitWeights { tensors }
    }

    /// Whether the weights include the pooler.
    pub fn has_pooler(&self) -> bool {
        self.tensors.contains_key(POOLER[0])
    }

    /// Removes and returns tensor `name` (a `ViTModel` name); an [`Error::Numerical`] if it
    /// is not there (taken already, or not part of the architecture).
    pub fn take(&mut self, name: &str) -> Result<HostTensor> {
        self.tensors
            .remove(name)
            .ok_or_else(|| Error::Numerical(format!("ViT weights: no tensor `{name}`")))
    }
}

/// The weights file of a `save_pretrained` folder: `model.safetensors` when present, else
/// `pytorch_model.bin`; a folder with neither is an [`Error::Format`] naming both.
pub fn weights_file(dir: &Path) -> Result<PathBuf> {
    WEIGHT_FILES
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Error::format(
                dir,
                "weights",
                format!(
                    "the folder holds neither {} nor {}",
                    WEIGHT_FILES[0], WEIGHT_FILES[1]
                ),
            )
        })
}

/// How Hugging Face initialises a tensor of a ViT.
enum Init {
    Ones,
    Zeros,
    TruncatedNormal,
}

impl Init {
    fn of(name: &str) -> Init {
        let is_norm = name.starts_with("layernorm.") || name.contains(".layernorm_");
        if name.ends_with(".bias") {
            Init::Zeros
        } else if is_norm {
            Init::Ones
        } else {
            Init::TruncatedNormal
        }
    }
}

/// A standard normal draw, redrawn until it lies within ±2.
fn truncated_normal(rng: &mut impl Rng) -> f32 {
    loop {
        let z: f32 = rng.sample(StandardNormal);
        if z.abs() <= 2.0 {
            return z;
        }
    }
}

/// A short description of the architecture for error messages.
fn describe(config: &VitConfig) -> String {
    format!(
        "hidden_size {}, {} layers, intermediate_size {}, image_size {}, patch_size {}, \
         num_channels {}",
        config.hidden_size,
        config.num_hidden_layers,
        config.intermediate_size,
        config.image_size,
        config.patch_size,
        config.num_channels
    )
}

/// Every tensor of `ViTModel` for `config` (spec §E.2), in a fixed order, with its shape;
/// the pooler last, when asked for.
pub fn expected_shapes(config: &VitConfig, with_pooler: bool) -> Vec<(String, Vec<usize>)> {
    let d = config.hidden_size;
    let (c, p, m) = (
        config.num_channels,
        config.patch_size,
        config.intermediate_size,
    );
    let mut out: Vec<(String, Vec<usize>)> = vec![
        ("embeddings.cls_token".into(), vec![1, 1, d]),
        (
            "embeddings.position_embeddings".into(),
            vec![1, config.n_tokens(), d],
        ),
        (
            "embeddings.patch_embeddings.projection.weight".into(),
            vec![d, c, p, p],
        ),
        (
            "embeddings.patch_embeddings.projection.bias".into(),
            vec![d],
        ),
    ];
    for i in 0..config.num_hidden_layers {
        let layer = format!("encoder.layer.{i}");
        out.push((format!("{layer}.layernorm_before.weight"), vec![d]));
        out.push((format!("{layer}.layernorm_before.bias"), vec![d]));
        for part in ["query", "key", "value"] {
            out.push((
                format!("{layer}.attention.attention.{part}.weight"),
                vec![d, d],
            ));
            if config.qkv_bias {
                out.push((format!("{layer}.attention.attention.{part}.bias"), vec![d]));
            }
        }
        out.push((format!("{layer}.attention.output.dense.weight"), vec![d, d]));
        out.push((format!("{layer}.attention.output.dense.bias"), vec![d]));
        out.push((format!("{layer}.layernorm_after.weight"), vec![d]));
        out.push((format!("{layer}.layernorm_after.bias"), vec![d]));
        out.push((format!("{layer}.intermediate.dense.weight"), vec![m, d]));
        out.push((format!("{layer}.intermediate.dense.bias"), vec![m]));
        out.push((format!("{layer}.output.dense.weight"), vec![d, m]));
        out.push((format!("{layer}.output.dense.bias"), vec![d]));
    }
    out.push(("layernorm.weight".into(), vec![d]));
    out.push(("layernorm.bias".into(), vec![d]));
    if with_pooler {
        out.push((POOLER[0].into(), vec![d, d]));
        out.push((POOLER[1].into(), vec![d]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> VitConfig {
        VitConfig {
            hidden_size: 8,
            num_hidden_layers: 2,
            num_attention_heads: 2,
            intermediate_size: 16,
            image_size: 8,
            patch_size: 4,
            ..VitConfig::base_patch16_224()
        }
    }

    #[test]
    fn vit_b16_has_hf_parameter_count() {
        // ViTModel (google/vit-base-patch16-224-in21k) with pooler: 86,389,248 parameters.
        let n: usize = expected_shapes(&VitConfig::base_patch16_224(), true)
            .iter()
            .map(|(_, s)| s.iter().product::<usize>())
            .sum();
        assert_eq!(n, 86_389_248);
    }

    #[test]
    fn random_init_follows_hf_scheme_and_seed() {
        let config = tiny();
        let a = VitWeights::random(&config, 3);
        let b = VitWeights::random(&config, 3);
        let c = VitWeights::random(&config, 4);
        let ln = &a.tensors["encoder.layer.1.layernorm_after.weight"];
        assert!(ln.data.iter().all(|&v| v == 1.0));
        let bias = &a.tensors["encoder.layer.0.intermediate.dense.bias"];
        assert!(bias.data.iter().all(|&v| v == 0.0));
        let w = &a.tensors["encoder.layer.0.intermediate.dense.weight"];
        assert!(w.data.iter().all(|v| v.abs() <= 0.04) && w.data.iter().any(|&v| v != 0.0));
        assert_eq!(
            w.data,
            b.tensors["encoder.layer.0.intermediate.dense.weight"].data
        );
        assert_ne!(
            w.data,
            c.tensors["encoder.layer.0.intermediate.dense.weight"].data
        );
        assert!(a.has_pooler());
    }
}
