//! The ViT image encoder of GeoViT-PFN (paper §2.2): Hugging Face's `ViTModel`, written natively
//! in burn, loading the hub's checkpoints.
//!
//! - [`config`]: the model's size, read from a checkpoint's `config.json` ([`VitConfig`]), so
//!   ViT-B/16 and small test models load alike;
//! - [`weights`]: the tensors of a `save_pretrained` folder (`model.safetensors` or
//!   `pytorch_model.bin`, keys with or without `vit.`), every shape checked, or a seeded random
//!   initialisation;
//! - [`model`]: the forward pass ([`Vit`]): patch embedding, CLS token, position embeddings,
//!   pre-LN blocks, final LayerNorm, pooler;
//! - [`preprocess`]: GNSS displacement images to pixels (symmetric scale, bilinear resize);
//! - [`encoder`]: the experiment's `[encoder.vit]` settings and the [`VitEncoder`] behind the
//!   encoder seam.
//!
//! What one image becomes is a [`VitOutput`]: the paper mean-pools the tokens.

pub mod config;
pub mod encoder;
pub mod model;
pub mod preprocess;
pub mod weights;

use serde::{Deserialize, Serialize};

pub use config::VitConfig;
pub use encoder::{VitEncoder, VitSettings, VitWeights};
pub use model::Vit;

/// What the encoder returns for each image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VitOutput {
    /// Every token of the final LayerNorm's output, tokens x hidden (CLS first).
    LastHiddenState,
    /// `tanh(dense(CLS))`, the pretrained pooler.
    Pooler,
    /// The mean of `last_hidden_state` over its tokens, CLS included (the paper's choice).
    #[default]
    Mean,
    /// The CLS token of `last_hidden_state`.
    Cls,
}

impl VitOutput {
    /// Every output, in declaration order.
    pub const ALL: &'static [VitOutput] = &[
        VitOutput::LastHiddenState,
        VitOutput::Pooler,
        VitOutput::Mean,
        VitOutput::Cls,
    ];

    /// The name used in configs and flags.
    pub fn name(self) -> &'static str {
        match self {
            VitOutput::LastHiddenState => "last_hidden_state",
            VitOutput::Pooler => "pooler",
            VitOutput::Mean => "mean",
            VitOutput::Cls => "cls",
        }
    }
}

impl std::fmt::Display for VitOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for VitOutput {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        VitOutput::ALL
            .iter()
            .copied()
            .find(|o| o.name() == s)
            .ok_or_else(|| {
                crate::Error::config(
                    "encoder.vit.output",
                    format!(
                        "unknown output `{s}`; expected one of last_hidden_state, pooler, mean, cls"
                    ),
                )
            })
    }
}

/// A model's outputs for a batch: `f32` values in C order, N x hidden, or N x tokens x hidden
/// for [`VitOutput::LastHiddenState`].
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    /// The shape, images first.
    pub shape: Vec<usize>,
    /// The values, `shape.iter().product()` of them.
    pub data: Vec<f32>,
}
