//! The ViT forward pass in burn (spec §E.3, transformers' `modeling_vit.py`).
//!
//! For a batch of N images of C × S × S pixels, patch P, width D, H heads and T = (S/P)² + 1
//! tokens:
//!
//! 1. patch embedding: the convolution with kernel = stride = P is exact as a matrix product,
//!    so the image is cut into its (S/P)² patches of C·P·P values (row-major over the patch
//!    grid, each patch channel-major like the kernel) and multiplied by the kernel as a
//!    `[C·P·P, D]` matrix;
//! 2. the CLS token is prepended and the position embeddings added: `x` is `[N·T, D]`;
//! 3. each pre-LN block: `x += O(MHA(LN₁(x)))`, `x += W₂ GELU(W₁ LN₂(x))`, with one fused
//!    `[D, 3D]` product for query, key and value, scores scaled by 1/√(D/H), softmax, and the
//!    exact (erf) GELU;
//! 4. the final LayerNorm gives `last_hidden_state`; the pooler is `tanh(dense(CLS))`.
//!
//! Every linear layer is one 2-D product on `[N·T, D]` rows (burn-flex's batched products are
//! far slower than its 2-D ones); only attention works per image and head.

use std::path::Path;

use burn::tensor::activation::{gelu, tanh};
use burn::tensor::module::{attention, layer_norm};
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Device, Tensor, TensorData};

use crate::encode::ImageBatch;
use crate::encode::vit::weights::{HostTensor, VitWeights, weights_file};
use crate::encode::vit::{Embeddings, VitConfig, VitOutput};
use crate::models::linear::Linear;
use crate::{Error, Result};

/// A LayerNorm's scale and shift.
#[derive(Debug, Clone)]
struct Norm {
    weight: Tensor<1>,
    bias: Tensor<1>,
}

/// One pre-LN transformer block.
#[derive(Debug, Clone)]
struct Block {
    norm_attention: Norm,
    qkv: Linear,
    output: Linear,
    norm_mlp: Norm,
    fc1: Linear,
    fc2: Linear,
}

/// A ViT (`ViTModel` with its pooler) on a burn device.
#[derive(Debug)]
pub struct Vit {
    config: VitConfig,
    fingerprint: String,
    device: Device,
    patch: Linear,
    cls_token: Tensor<3>,
    position: Tensor<3>,
    blocks: Vec<Block>,
    norm: Norm,
    pooler: Option<Linear>,
}

impl Vit {
    /// Loads a `save_pretrained` folder (`config.json` and `model.safetensors` or
    /// `pytorch_model.bin`, safetensors preferred when both are there), or a weights file with
    /// `config.json` beside it. The fingerprint is `sha256:` and the weights file's SHA-256.
    pub fn load(path: &Path, device: &Device) -> Result<Vit> {
        let (dir, file) = if path.is_dir() {
            (path.to_path_buf(), weights_file(path)?)
        } else {
            let dir = path
                .parent()
                .map_or_else(|| Path::new(".").to_path_buf(), Path::to_path_buf);
            (dir, path.to_path_buf())
        };
        let config_path = dir.join("config.json");
        if !config_path.is_file() {
            return Err(Error::format(
                &file,
                "config",
                format!(
                    "no config.json beside the weights (looked for {}): a ViT's size comes \
                     from its Hugging Face config",
                    config_path.display()
                ),
            ));
        }
        let config = VitConfig::from_file(&config_path)?;
        let weights = VitWeights::read(&file, &config)?;
        let fingerprint = format!("sha256:{}", crate::models::sha256_file(&file)?);
        Vit::from_weights(config, weights, fingerprint, device)
    }

    /// A seeded random initialisation of `config`'s architecture ([`VitWeights::random`]).
    /// The fingerprint is `random:SEED:` and the SHA-256 of the config as JSON.
    pub fn random(config: VitConfig, seed: u64, device: &Device) -> Result<Vit> {
        let json = serde_json::to_vec(&config)
            .map_err(|e| Error::Numerical(format!("ViT config as JSON: {e}")))?;
        let digest: String = {
            use sha2::Digest;
            sha2::Sha256::digest(&json)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        let weights = VitWeights::random(&config, seed);
        Vit::from_weights(config, weights, format!("random:{seed}:{digest}"), device)
    }

    /// Moves checked weights onto `device`, transposing the linear layers and fusing query,
    /// key and value.
    fn from_weights(
        config: VitConfig,
        mut w: VitWeights,
        fingerprint: String,
        device: &Device,
    ) -> Result<Vit> {
        let d = config.hidden_size;
        let has_pooler = w.has_pooler();
        let patch_weight = w.take("embeddings.patch_embeddings.projection.weight")?;
        let patch_in = patch_weight.data.len() / d;
        let patch = Linear {
            weight: transposed(patch_weight.data, d, patch_in, device),
            bias: Some(row(
                w.take("embeddings.patch_embeddings.projection.bias")?,
                device,
            )),
        };
        let cls_token = tensor3(w.take("embeddings.cls_token")?, device);
        let position = tensor3(w.take("embeddings.position_embeddings")?, device);
        let mut blocks = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let layer = format!("encoder.layer.{i}");
            let mut take = |name: &str| w.take(&format!("{layer}.{name}"));
            let mut qkv_weight = Vec::with_capacity(3 * d * d);
            let mut qkv_bias = Vec::with_capacity(3 * d);
            for part in ["query", "key", "value"] {
                qkv_weight.extend(take(&format!("attention.attention.{part}.weight"))?.data);
                if config.qkv_bias {
                    qkv_bias.extend(take(&format!("attention.attention.{part}.bias"))?.data);
                }
            }
            let qkv = Linear {
                weight: transposed(qkv_weight, 3 * d, d, device),
                bias: config.qkv_bias.then(|| {
                    row(
                        HostTensor {
                            shape: vec![3 * d],
                            data: qkv_bias,
                        },
                        device,
                    )
                }),
            };
            blocks.push(Block {
                norm_attention: norm(
                    take("layernorm_before.weight")?,
                    take("layernorm_before.bias")?,
                    device,
                ),
                qkv,
                output: linear(
                    take("attention.output.dense.weight")?,
                    take("attention.output.dense.bias")?,
                    device,
                ),
                norm_mlp: norm(
                    take("layernorm_after.weight")?,
                    take("layernorm_after.bias")?,
                    device,
                ),
                fc1: linear(
                    take("intermediate.dense.weight")?,
                    take("intermediate.dense.bias")?,
                    device,
                ),
                fc2: linear(
                    take("output.dense.weight")?,
                    take("output.dense.bias")?,
                    device,
                ),
            });
        }
        let final_norm = norm(
            w.take("layernorm.weight")?,
            w.take("layernorm.bias")?,
            device,
        );
        let pooler = if has_pooler {
            Some(linear(
                w.take("pooler.dense.weight")?,
                w.take("pooler.dense.bias")?,
                device,
            ))
        } else {
            None
        };
        Ok(Vit {
            config,
            fingerprint,
            device: device.clone(),
            patch,
            cls_token,
            position,
            blocks,
            norm: final_norm,
            pooler,
        })
    }

    /// The architecture.
    pub fn config(&self) -> &VitConfig {
        &self.config
    }

    /// What identifies the weights: `sha256:HEX` of the weights file, or
    /// `random:SEED:HEX` (the SHA-256 of the config) for a random initialisation.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Whether the weights are a random initialisation.
    pub fn is_random(&self) -> bool {
        self.fingerprint.starts_with("random:")
    }

    /// Whether the weights include the pooler (a checkpoint of `ViTForImageClassification`
    /// has none).
    pub fn has_pooler(&self) -> bool {
        self.pooler.is_some()
    }

    /// Runs the model on `pixels` (N x C x H x W, C = `num_channels`, H = W = `image_size`,
    /// used as given) in one forward pass, returning `output` for every image.
    ///
    /// Refused: pixels of another shape (the error names both), and `pooler` for weights
    /// without a pooler.
    pub fn encode(&self, pixels: &ImageBatch<'_>, output: VitOutput) -> Result<Embeddings> {
        let shape = pixels.shape();
        let (c, s) = (self.config.num_channels, self.config.image_size);
        if shape.channels != c || shape.height != s || shape.width != s {
            return Err(Error::Numerical(format!(
                "ViT input: images of {} x {} x {} (C x H x W), but the model takes \
                 {c} x {s} x {s} (num_channels x image_size x image_size)",
                shape.channels, shape.height, shape.width
            )));
        }
        if output == VitOutput::Pooler && self.pooler.is_none() {
            return Err(Error::Numerical(
                "ViT output `pooler`: these weights have no pooler (pooler.dense.weight); \
                 choose mean, cls or last_hidden_state"
                    .into(),
            ));
        }
        let (n, d, t) = (shape.n, self.config.hidden_size, self.config.n_tokens());
        if n == 0 {
            let shape = match output {
                VitOutput::LastHiddenState => vec![0, t, d],
                _ => vec![0, d],
            };
            return Ok(Embeddings {
                shape,
                data: Vec::new(),
            });
        }
        let hidden = self.forward(pixels);
        let (shape, values) = match output {
            VitOutput::LastHiddenState => (vec![n, t, d], hidden.reshape([n * t, d])),
            VitOutput::Mean => (vec![n, d], hidden.mean_dim(1).reshape([n, d])),
            VitOutput::Cls => (vec![n, d], hidden.narrow(1, 0, 1).reshape([n, d])),
            VitOutput::Pooler => {
                let cls = hidden.narrow(1, 0, 1).reshape([n, d]);
                let pooler = self
                    .pooler
                    .as_ref()
                    .ok_or_else(|| Error::Numerical("ViT output `pooler`: no pooler".into()))?;
                (vec![n, d], tanh(pooler.forward(cls)))
            }
        };
        let data = values
            .into_data()
            .try_into_vec::<f32>()
            .map_err(|e| Error::Numerical(format!("ViT output: {e:?}")))?;
        Ok(Embeddings { shape, data })
    }

    /// `last_hidden_state`, `[N, T, D]`, for checked pixels.
    fn forward(&self, pixels: &ImageBatch<'_>) -> Tensor<3> {
        let config = &self.config;
        let n = pixels.n();
        let (d, t) = (config.hidden_size, config.n_tokens());
        let grid = config.image_size / config.patch_size;
        let patches = Tensor::<2>::from_data(
            TensorData::new(
                patches(pixels, config.patch_size),
                [
                    n * grid * grid,
                    config.num_channels * config.patch_size.pow(2),
                ],
            ),
            &self.device,
        );
        let embedded = self.patch.forward(patches).reshape([n, grid * grid, d]);
        let cls = self.cls_token.clone().expand([n, 1, d]);
        let x = Tensor::cat(vec![cls, embedded], 1) + self.position.clone();
        let mut x = x.reshape([n * t, d]);
        for block in &self.blocks {
            x = self.block(block, x, n);
        }
        let eps = config.layer_norm_eps;
        layer_norm(
            x,
            self.norm.weight.clone(),
            Some(self.norm.bias.clone()),
            eps,
        )
        .reshape([n, t, d])
    }

    /// One pre-LN block on `x`, `[N·T, D]`.
    fn block(&self, block: &Block, x: Tensor<2>, n: usize) -> Tensor<2> {
        let config = &self.config;
        let (d, t, heads) = (
            config.hidden_size,
            config.n_tokens(),
            config.num_attention_heads,
        );
        let head_dim = d / heads;
        let eps = config.layer_norm_eps;
        let h = layer_norm(
            x.clone(),
            block.norm_attention.weight.clone(),
            Some(block.norm_attention.bias.clone()),
            eps,
        );
        // [N·T, 3D] -> [N, T, 3H, hd] -> [N, 3H, T, hd]: query, key, value heads side by side.
        let qkv = block
            .qkv
            .forward(h)
            .reshape([n, t, 3 * heads, head_dim])
            .swap_dims(1, 2);
        let q = qkv.clone().narrow(1, 0, heads);
        let k = qkv.clone().narrow(1, heads, heads);
        let v = qkv.narrow(1, 2 * heads, heads);
        let options = AttentionModuleOptions {
            scale: Some(1.0 / (head_dim as f64).sqrt()),
            ..Default::default()
        };
        let context = attention(q, k, v, None, None, options)
            .swap_dims(1, 2)
            .reshape([n * t, d]);
        let x = x + block.output.forward(context);
        let h = layer_norm(
            x.clone(),
            block.norm_mlp.weight.clone(),
            Some(block.norm_mlp.bias.clone()),
            eps,
        );
        x + block.fc2.forward(gelu(block.fc1.forward(h)))
    }
}

/// The images cut into patches: `[N·(S/P)², C·P·P]` in C order, patches row-major over the
/// grid, each patch channel-major then row-major, the order of a `[D, C, P, P]` kernel.
fn patches(pixels: &ImageBatch<'_>, p: usize) -> Vec<f32> {
    let shape = pixels.shape();
    let (c, s) = (shape.channels, shape.height);
    let grid = s / p;
    let mut out = Vec::with_capacity(pixels.data().len());
    for image in pixels.data().chunks_exact(c * s * s) {
        for gy in 0..grid {
            for gx in 0..grid {
                for channel in 0..c {
                    let plane = &image[channel * s * s..][..s * s];
                    for y in 0..p {
                        let start = (gy * p + y) * s + gx * p;
                        out.extend_from_slice(&plane[start..start + p]);
                    }
                }
            }
        }
    }
    out
}

/// A `[rows, cols]` matrix given in C order, transposed onto `device` as `[cols, rows]`.
fn transposed(data: Vec<f32>, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    let mut out = vec![0.0; data.len()];
    for (r, row) in data.chunks_exact(cols).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            out[c * rows + r] = v;
        }
    }
    Tensor::from_data(TensorData::new(out, [cols, rows]), device)
}

/// A PyTorch linear layer (`weight` `[out, in]`) as `x · W + b`.
fn linear(weight: HostTensor, bias: HostTensor, device: &Device) -> Linear {
    let (out, inp) = (weight.shape[0], weight.shape[1]);
    Linear {
        weight: transposed(weight.data, out, inp, device),
        bias: Some(row(bias, device)),
    }
}

/// A bias as a `[1, len]` row that broadcasts over rows.
fn row(bias: HostTensor, device: &Device) -> Tensor<2> {
    let len = bias.data.len();
    Tensor::from_data(TensorData::new(bias.data, [1, len]), device)
}

fn norm(weight: HostTensor, bias: HostTensor, device: &Device) -> Norm {
    let vector = |t: HostTensor| {
        let len = t.data.len();
        Tensor::from_data(TensorData::new(t.data, [len]), device)
    };
    Norm {
        weight: vector(weight),
        bias: vector(bias),
    }
}

/// A `[1, rows, cols]` tensor (the CLS token, the position embeddings).
fn tensor3(t: HostTensor, device: &Device) -> Tensor<3> {
    let (rows, cols) = (t.shape[1], t.shape[2]);
    Tensor::from_data(TensorData::new(t.data, [1, rows, cols]), device)
}
