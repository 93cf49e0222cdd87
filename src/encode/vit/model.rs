//! The ViT forward pass in burn.

use std::path::Path;

use crate::Result;
use crate::encode::ImageBatch;
use crate::encode::vit::{Embeddings, VitConfig, VitOutput};

/// A ViT (`ViTModel` with its pooler) on a burn device.
#[derive(Debug)]
pub struct Vit {
    config: VitConfig,
    fingerprint: String,
}

impl Vit {
    /// Loads a `save_pretrained` folder (`config.json` and `model.safetensors` or
    /// `pytorch_model.bin`), or a weights file with `config.json` beside it.
    pub fn load(path: &Path, device: &burn::tensor::Device) -> Result<Vit> {
        let _ = (path, device);
        todo!("issue 15")
    }

    /// A seeded random initialisation of `config`'s architecture.
    pub fn random(config: VitConfig, seed: u64, device: &burn::tensor::Device) -> Result<Vit> {
        let _ = (config, seed, device);
        todo!("issue 15")
    }

    /// The architecture.
    pub fn config(&self) -> &VitConfig {
        &self.config
    }

    /// What identifies the weights: the SHA-256 of the weights file, or `random:SEED:...`.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Whether the weights are a random initialisation.
    pub fn is_random(&self) -> bool {
        self.fingerprint.starts_with("random:")
    }

    /// Runs the model on `pixels` (N x C x H x W, H = W = `image_size`, used as given).
    pub fn encode(&self, pixels: &ImageBatch<'_>, output: VitOutput) -> Result<Embeddings> {
        let _ = (pixels, output);
        todo!("issue 15")
    }
}
