//! A ViT's size and settings, as Hugging Face's `config.json` states them.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::Result;

/// The fields of a `ViTConfig` that shape the model (spec §E.1). Unknown keys of a
/// `config.json` are ignored; missing ones take `ViTConfig`'s defaults, which are ViT-B/16's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VitConfig {
    /// Width of every token, D.
    pub hidden_size: usize,
    /// Transformer blocks.
    pub num_hidden_layers: usize,
    /// Attention heads; `hidden_size` must be a multiple.
    pub num_attention_heads: usize,
    /// Width of each block's MLP.
    pub intermediate_size: usize,
    /// The MLP's activation; only `gelu` (exact, erf) is supported.
    pub hidden_act: String,
    /// Epsilon of every LayerNorm.
    pub layer_norm_eps: f64,
    /// Side of the square input image, in pixels.
    pub image_size: usize,
    /// Side of a square patch; `image_size` must be a multiple.
    pub patch_size: usize,
    /// Input channels (3).
    pub num_channels: usize,
    /// Whether the query, key and value projections have biases.
    pub qkv_bias: bool,
    /// Standard deviation of the random initialisation (HF's `initializer_range`).
    pub initializer_range: f64,
}

impl Default for VitConfig {
    fn default() -> Self {
        VitConfig::base_patch16_224()
    }
}

impl VitConfig {
    /// ViT-B/16 at 224 × 224 (`google/vit-base-patch16-224-in21k`): 768 wide, 12 blocks of 12
    /// heads, MLP 3072, LayerNorm epsilon 1e-12.
    pub fn base_patch16_224() -> Self {
        VitConfig {
            hidden_size: 768,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            intermediate_size: 3072,
            hidden_act: "gelu".into(),
            layer_norm_eps: 1e-12,
            image_size: 224,
            patch_size: 16,
            num_channels: 3,
            qkv_bias: true,
            initializer_range: 0.02,
        }
    }

    /// Reads and checks a `config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let _ = path;
        todo!("issue 15: read and validate config.json")
    }

    /// Tokens per image: one per patch, plus CLS.
    pub fn n_tokens(&self) -> usize {
        (self.image_size / self.patch_size).pow(2) + 1
    }
}
