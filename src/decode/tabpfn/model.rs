//! The TabPFN v2 forward pass in burn (spec A.3, Appendix 2), with the training rows' pass
//! run once and cached.
//!
//! For N training rows, M test rows and F features, padded with zero columns to G groups of
//! `features_per_group` (fpg) features, each row becomes C = G + 1 tokens of width E:
//!
//! 1. **x-encoder**, per group, fitted on the training rows (tabpfn 2.2.1's encoder steps):
//!    features constant over the training rows (every row equal to the first; NaN equals
//!    nothing) are dropped and the group's remaining features moved to its front, zeros after
//!    them; NaN, +inf and −inf get the indicators −2, +2 and +4 and are replaced by the
//!    feature's mean over its finite training values; each feature is standardised with the
//!    training mean and standard deviation (n − 1 denominator; a zero deviation, or a single
//!    training row, counts as 1; `/(σ + 1e-16)`) and clipped to ±100; the group is scaled by
//!    `sqrt(fpg / n_used)`, n_used the number of its features that are not constant over the
//!    training rows after these steps (at least 1); then `[x, indicators] · W_encᵀ`.
//! 2. **y-encoder**: `[y, 0] · W_yᵀ + b` for training rows, `[mean(y_train), −2] · W_yᵀ + b`
//!    for test rows (their target is missing).
//! 3. **subspace embedding**: `torch_randn(seed, G · E/4)` as a G × E/4 matrix, mapped by the
//!    embedding's linear layer to G × E and added to every row's feature tokens
//!    ([`crate::decode::tabpfn::torch_randn`]).
//! 4. **layers**, post-LayerNorm without affine parameters (ε = 1e-5): attention between the
//!    C tokens of each row; attention between items for each token column, where training
//!    rows attend to all training rows with every head and test rows attend with every head's
//!    query to head 0's keys and values of the training rows only; an MLP with the exact GELU.
//!    Each is `x ← LN(x + f(x))`.
//! 5. **decoder** on the target token of the test rows: Linear → GELU → Linear to the bucket
//!    logits.
//!
//! Training rows never look at test rows, and test rows never look at each other, so
//! [`TabPfnModel::fit`] runs the training rows once and keeps, per layer and token column,
//! head 0's keys and values ([`TrainState`]); [`TabPfnModel::logits`] then runs test rows in
//! chunks against them. Every linear layer is one 2-D product on `[rows · tokens, E]`;
//! attention is chunked over token columns and query rows, and the per-row sublayers over
//! rows, so that no score or hidden tensor exceeds [`CHUNK_BYTES`] ([`CPU_CHUNK_BYTES`] on the
//! CPU, or the bound set by [`TabPfnModel::with_chunk_bytes`]).
//!
//! On the CPU (burn-flex) attention runs in quakelab's own fused, blocked kernel
//! (`cpu_attention`: per problem and block of 64 queries, two small matrix products and a
//! vectorised softmax, the scores never leaving the cache), which gives burn-flex's results
//! up to float round-off in a fraction of its time; other devices use burn's attention.

use burn::tensor::activation::gelu;
use burn::tensor::module::{attention, layer_norm};
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Device, Tensor, TensorData};

use crate::decode::tabpfn::architecture::Architecture;
use crate::decode::tabpfn::torch_randn::torch_randn;
use crate::decode::tabpfn::weights::{StoredTensor, TabPfnWeights, X_ENCODER};
use crate::decode::tabpfn::{cpu_attention, cpu_gelu};
use crate::models::linear::Linear;
use crate::{Error, Result};

/// The most bytes one chunk's attention scores (or MLP hidden activations) take by default on
/// a GPU ([`TabPfnModel::with_chunk_bytes`]): large chunks keep it busy.
pub const CHUNK_BYTES: usize = 256 << 20;

/// The default chunk bound on the CPU: chunks that stay in the cache and in memory the
/// allocator reuses. At 256 MiB every chunk's tensors were fresh pages, zeroed by the kernel,
/// and a prediction spent more time in page faults than in its products.
pub const CPU_CHUNK_BYTES: usize = 8 << 20;

/// LayerNorm's ε in every layer.
const LAYER_NORM_EPS: f64 = 1e-5;

/// One encoder layer's weights.
#[derive(Debug, Clone)]
struct Layer {
    /// Attention between features: query, key and value of every head, `[E, 3E]`.
    feature_qkv: Linear,
    feature_out: Linear,
    /// Attention between items: `[E, 3E]` for training rows.
    item_qkv: Linear,
    /// The query part of `item_qkv`, `[E, E]`, for test rows.
    item_q: Linear,
    /// Head 0's key and value parts of `item_qkv`, `[E, 2 d_k]`: what test rows attend to.
    item_kv0: Linear,
    item_out: Linear,
    mlp_in: Linear,
    mlp_out: Linear,
}

/// A TabPFN v2 regressor's weights as burn tensors on one device.
#[derive(Debug)]
pub struct TabPfnModel {
    architecture: Architecture,
    device: Device,
    x_encoder: Linear,
    y_encoder: Linear,
    subspace: Linear,
    layers: Vec<Layer>,
    decoder_hidden: Linear,
    decoder_out: Linear,
    norm_ones: Tensor<1>,
    chunk_bytes: usize,
    /// Whether `device` is burn-flex's CPU device: attention then runs in
    /// [`cpu_attention`].
    on_cpu: bool,
}

/// The cached training pass: the fitted x-encoder, the target mean, the feature-group
/// embeddings and, per layer, head 0's keys and values of the training rows for every token
/// column (`[C, 1, N, d_k]` each).
#[derive(Debug)]
pub struct TrainState {
    encoder: XEncoder,
    n_train: usize,
    y_mean: f32,
    group_embeddings: Tensor<3>,
    keys_values: Vec<(Tensor<4>, Tensor<4>)>,
    head_dim: usize,
}

impl TrainState {
    /// The memory the state holds on its device, in bytes (the cached keys and values and the
    /// group embeddings; the encoder's statistics are negligible).
    pub fn bytes(&self) -> usize {
        let kv = self.keys_values.len() * 2 * self.encoder.tokens() * self.n_train * self.head_dim;
        let embeddings = self.group_embeddings.shape().num_elements();
        (kv + embeddings) * std::mem::size_of::<f32>()
    }

    /// The number of training rows.
    pub fn n_train(&self) -> usize {
        self.n_train
    }

    /// The number of features per row the state was fitted on.
    pub fn n_features(&self) -> usize {
        self.encoder.n_features
    }
}

impl TabPfnModel {
    /// Moves `weights` onto `device`, transposing the linear layers and flattening the fused
    /// attention weights. Refused (an [`Error::Numerical`]): an architecture whose sizes do
    /// not fit together (`emsize` not a multiple of `nhead` or of 4, `features_per_group`
    /// other than 1 or 2).
    pub fn new(weights: &TabPfnWeights, device: &Device) -> Result<TabPfnModel> {
        let a = weights.architecture().clone();
        if a.nhead == 0
            || !a.emsize.is_multiple_of(a.nhead)
            || !a.emsize.is_multiple_of(4)
            || !(1..=2).contains(&a.features_per_group)
        {
            return Err(Error::Numerical(format!(
                "TabPFN architecture: emsize {} with {} heads and features_per_group {} do not \
                 fit together",
                a.emsize, a.nhead, a.features_per_group
            )));
        }
        let e = a.emsize;
        let get = |name: &str| weights.tensor(name);
        let linear = |name: &str, bias: Option<&str>| -> Result<Linear> {
            let w = get(name)?;
            Ok(Linear {
                weight: transposed(w, device),
                bias: match bias {
                    Some(b) => Some(row(&get(b)?.data, device)),
                    None => None,
                },
            })
        };
        let mut layers = Vec::with_capacity(a.nlayers);
        for i in 0..a.nlayers {
            let prefix = format!("transformer_encoder.layers.{i}");
            let qkv = |kind: &str| get(&format!("{prefix}.{kind}._w_qkv"));
            // `_w_out` is `[heads, d_v, E]`: as a matrix `[E_in, E_out]` already.
            let out = |kind: &str| -> Result<Linear> {
                let w = get(&format!("{prefix}.{kind}._w_out"))?;
                Ok(Linear {
                    weight: matrix(&w.data, e, e, device),
                    bias: None,
                })
            };
            let item_qkv = qkv("self_attn_between_items")?;
            let item_q = StoredTensor {
                shape: vec![e, e],
                data: item_qkv.data[..e * e].to_vec(),
            };
            // Rows (j, h, d) of the `[3E, E]` matrix: head 0's key rows start at E, its
            // value rows at 2E.
            let d = a.head_dim();
            let item_kv0: Vec<f32> = [e, 2 * e]
                .iter()
                .flat_map(|&start| item_qkv.data[start * e..(start + d) * e].iter().copied())
                .collect();
            layers.push(Layer {
                feature_qkv: Linear {
                    weight: transposed_rows(&qkv("self_attn_between_features")?.data, e, device),
                    bias: None,
                },
                feature_out: out("self_attn_between_features")?,
                item_qkv: Linear {
                    weight: transposed_rows(&item_qkv.data, e, device),
                    bias: None,
                },
                item_q: Linear {
                    weight: transposed(&item_q, device),
                    bias: None,
                },
                item_kv0: Linear {
                    weight: transposed_rows(&item_kv0, e, device),
                    bias: None,
                },
                item_out: out("self_attn_between_items")?,
                mlp_in: linear(&format!("{prefix}.mlp.linear1.weight"), None)?,
                mlp_out: linear(&format!("{prefix}.mlp.linear2.weight"), None)?,
            });
        }
        Ok(TabPfnModel {
            x_encoder: linear(X_ENCODER, None)?,
            y_encoder: linear("y_encoder.1.layer.weight", Some("y_encoder.1.layer.bias"))?,
            subspace: linear(
                "feature_positional_embedding_embeddings.weight",
                Some("feature_positional_embedding_embeddings.bias"),
            )?,
            layers,
            decoder_hidden: linear(
                "decoder_dict.standard.0.weight",
                Some("decoder_dict.standard.0.bias"),
            )?,
            decoder_out: linear(
                "decoder_dict.standard.2.weight",
                Some("decoder_dict.standard.2.bias"),
            )?,
            norm_ones: Tensor::ones([e], device),
            chunk_bytes: if *device == Device::flex() {
                CPU_CHUNK_BYTES
            } else {
                CHUNK_BYTES
            },
            on_cpu: *device == Device::flex(),
            device: device.clone(),
            architecture: a,
        })
    }

    /// The architecture.
    pub fn architecture(&self) -> &Architecture {
        &self.architecture
    }

    /// The same model with chunks of at most `bytes` of attention scores or MLP activations
    /// (at least one row or column per chunk, whatever the bound); [`CPU_CHUNK_BYTES`] on the
    /// CPU and [`CHUNK_BYTES`] elsewhere by default. Smaller chunks lower the peak memory and
    /// leave the results unchanged.
    pub fn with_chunk_bytes(mut self, bytes: usize) -> TabPfnModel {
        self.chunk_bytes = bytes.max(1);
        self
    }

    /// The training pass. `x_train` holds n rows of `n_features` values, row-major, NaN for a
    /// missing value; `y_train` the n standardised targets. The encoder's statistics come
    /// from these rows only.
    ///
    /// Refused (an [`Error::Numerical`]): no rows or no features, a matrix whose length is not
    /// `n · n_features`, and a target that is not finite.
    pub fn fit(&self, x_train: &[f32], n_features: usize, y_train: &[f32]) -> Result<TrainState> {
        let n = y_train.len();
        if n == 0 || n_features == 0 || x_train.len() != n * n_features {
            return Err(Error::Numerical(format!(
                "TabPFN fit: {} feature values for {n} targets and {n_features} features \
                 (need at least one row and one feature, and rows × features values)",
                x_train.len()
            )));
        }
        if let Some(i) = y_train.iter().position(|v| !v.is_finite()) {
            return Err(Error::Numerical(format!(
                "TabPFN fit: target {i} is {}, not a finite number",
                y_train[i]
            )));
        }
        let a = &self.architecture;
        let encoder = XEncoder::fit(x_train, n, n_features, a.features_per_group);
        let y_mean = (y_train.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64) as f32;
        let groups = encoder.groups;
        let width = a.subspace_width();
        let draws = matrix(
            &torch_randn(a.seed, groups * width),
            groups,
            width,
            &self.device,
        );
        let group_embeddings = self.subspace.forward(draws).reshape([1, groups, a.emsize]);
        let targets: Vec<f32> = y_train.iter().flat_map(|&y| [y, 0.0]).collect();
        let mut x = self.embed(&encoder, x_train, n, &targets, &group_embeddings);
        let tokens = encoder.tokens();
        let mut keys_values = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            let last = i + 1 == self.layers.len();
            x = self.feature_attention(layer, x, n, tokens)?;
            let (next, kv) = self.train_item_attention(layer, x, n, tokens, !last)?;
            keys_values.push(kv);
            match next {
                Some(next) => x = self.mlp(layer, next, n * tokens)?,
                None => break,
            }
        }
        Ok(TrainState {
            encoder,
            n_train: n,
            y_mean,
            group_embeddings,
            keys_values,
            head_dim: a.head_dim(),
        })
    }

    /// The logits over the buckets for the test rows `x_test` (m rows of the fitted feature
    /// count, row-major), m × `num_buckets` row-major, computed in chunks of rows against the
    /// cached training pass.
    ///
    /// Refused (an [`Error::Numerical`]): a length that is not a multiple of the fitted
    /// feature count.
    pub fn logits(&self, state: &TrainState, x_test: &[f32]) -> Result<Vec<f32>> {
        let f = state.encoder.n_features;
        if !x_test.len().is_multiple_of(f) {
            return Err(Error::Numerical(format!(
                "TabPFN predict: {} values are not rows of the {f} fitted features",
                x_test.len()
            )));
        }
        let m = x_test.len() / f;
        let a = &self.architecture;
        let tokens = state.encoder.tokens();
        let per_row = 4
            * tokens
            * (a.nhead * state.n_train)
                .max(a.nhead * tokens)
                .max(a.mlp_hidden);
        let chunk = (self.chunk_bytes / per_row.max(1)).clamp(1, m.max(1));
        let mut out = Vec::with_capacity(m * a.num_buckets);
        for start in (0..m).step_by(chunk) {
            let rows = chunk.min(m - start);
            let x = &x_test[start * f..(start + rows) * f];
            let targets: Vec<f32> = (0..rows).flat_map(|_| [state.y_mean, -2.0]).collect();
            let mut h = self.embed(&state.encoder, x, rows, &targets, &state.group_embeddings);
            for (layer, (k, v)) in self.layers.iter().zip(&state.keys_values) {
                h = self.feature_attention(layer, h, rows, tokens)?;
                h = self.test_item_attention(layer, h, rows, tokens, k, v)?;
                h = self.mlp(layer, h, rows * tokens)?;
            }
            let target = h
                .reshape([rows, tokens, a.emsize])
                .narrow(1, tokens - 1, 1)
                .reshape([rows, a.emsize]);
            let logits = self
                .decoder_out
                .forward(self.gelu(self.decoder_hidden.forward(target))?);
            out.extend(
                logits
                    .into_data()
                    .try_into_vec::<f32>()
                    .map_err(|e| Error::Numerical(format!("TabPFN logits: {e:?}")))?,
            );
        }
        Ok(out)
    }

    /// The embedded tokens of `rows` rows, `[rows · C, E]`: feature groups then the target.
    /// `targets` holds `[y, indicator]` per row.
    fn embed(
        &self,
        encoder: &XEncoder,
        x: &[f32],
        rows: usize,
        targets: &[f32],
        group_embeddings: &Tensor<3>,
    ) -> Tensor<2> {
        let (e, g) = (self.architecture.emsize, encoder.groups);
        let cells = matrix(
            &encoder.encode(x, rows),
            rows * g,
            2 * encoder.fpg,
            &self.device,
        );
        let features =
            self.x_encoder.forward(cells).reshape([rows, g, e]) + group_embeddings.clone();
        let target = self
            .y_encoder
            .forward(matrix(targets, rows, 2, &self.device))
            .reshape([rows, 1, e]);
        Tensor::cat(vec![features, target], 1).reshape([rows * (g + 1), e])
    }

    fn norm(&self, x: Tensor<2>) -> Tensor<2> {
        layer_norm(x, self.norm_ones.clone(), None, LAYER_NORM_EPS)
    }

    /// `LN(x + attention between the tokens of each row)`, in chunks of rows.
    fn feature_attention(
        &self,
        layer: &Layer,
        x: Tensor<2>,
        rows: usize,
        tokens: usize,
    ) -> Result<Tensor<2>> {
        let a = &self.architecture;
        let (e, h, d) = (a.emsize, a.nhead, a.head_dim());
        let per_row = 4 * tokens * (h * tokens).max(3 * e);
        let chunk = (self.chunk_bytes / per_row).clamp(1, rows);
        let mut parts = Vec::new();
        for start in (0..rows).step_by(chunk) {
            let n = chunk.min(rows - start);
            let xs = x.clone().narrow(0, start * tokens, n * tokens);
            let qkv = layer
                .feature_qkv
                .forward(xs)
                .reshape([n, tokens, 3 * h, d])
                .swap_dims(1, 2);
            let q = qkv.clone().narrow(1, 0, h);
            let k = qkv.clone().narrow(1, h, h);
            let v = qkv.narrow(1, 2 * h, h);
            let context = self
                .attend(q, k, v)?
                .swap_dims(1, 2)
                .reshape([n * tokens, e]);
            parts.push(layer.feature_out.forward(context));
        }
        Ok(self.norm(x + Tensor::cat(parts, 0)))
    }

    /// The training rows' attention between items, column by column: every head attends to
    /// every training row. Returns head 0's keys and values, `[C, 1, N, d_k]` each, and, when
    /// `with_output`, `LN(x + attention)` (the last layer's is never used: test rows only
    /// read its keys and values).
    fn train_item_attention(
        &self,
        layer: &Layer,
        x: Tensor<2>,
        n: usize,
        tokens: usize,
        with_output: bool,
    ) -> Result<(Option<Tensor<2>>, (Tensor<4>, Tensor<4>))> {
        let a = &self.architecture;
        let (e, h, d) = (a.emsize, a.nhead, a.head_dim());
        let per_column = 4 * n * (3 * e).max(h * n);
        let chunk = (self.chunk_bytes / per_column).clamp(1, tokens);
        let grid = x.clone().reshape([n, tokens, e]);
        let (mut outputs, mut keys, mut values) = (Vec::new(), Vec::new(), Vec::new());
        for start in (0..tokens).step_by(chunk) {
            let c = chunk.min(tokens - start);
            let xs = grid.clone().narrow(1, start, c).reshape([n * c, e]);
            // Head 0's keys and values, computed apart so that the cache holds nothing more:
            // [N·c, 2d] -> [N, c, 2, d] -> [2, c, N, d] -> two [c, 1, N, d].
            let kv0 = layer
                .item_kv0
                .forward(xs.clone())
                .reshape([n, c, 2, d])
                .permute([2, 1, 0, 3]);
            keys.push(kv0.clone().narrow(0, 0, 1).swap_dims(0, 1));
            values.push(kv0.narrow(0, 1, 1).swap_dims(0, 1));
            if !with_output {
                continue;
            }
            // [N·c, 3E] -> [N, c, 3H, d] -> [c, 3H, N, d]
            let qkv = layer
                .item_qkv
                .forward(xs)
                .reshape([n, c, 3 * h, d])
                .permute([1, 2, 0, 3]);
            let q = qkv.clone().narrow(1, 0, h);
            let k = qkv.clone().narrow(1, h, h);
            let v = qkv.narrow(1, 2 * h, h);
            // [c, H, N, d] -> [N, c, H, d]
            let context = self
                .attend(q, k, v)?
                .permute([2, 0, 1, 3])
                .reshape([n * c, e]);
            outputs.push(layer.item_out.forward(context).reshape([n, c, e]));
        }
        let output = with_output.then(|| {
            let attended = Tensor::cat(outputs, 1).reshape([n * tokens, e]);
            self.norm(x + attended)
        });
        Ok((output, (Tensor::cat(keys, 0), Tensor::cat(values, 0))))
    }

    /// Test rows' attention between items: every head's query against head 0's cached keys
    /// and values of the training rows, `LN(x + attention)`.
    fn test_item_attention(
        &self,
        layer: &Layer,
        x: Tensor<2>,
        rows: usize,
        tokens: usize,
        keys: &Tensor<4>,
        values: &Tensor<4>,
    ) -> Result<Tensor<2>> {
        let a = &self.architecture;
        let (e, h, d) = (a.emsize, a.nhead, a.head_dim());
        // [m·C, E] -> [m, C, H, d] -> [C, H, m, d] -> [C, 1, H·m, d]: the heads share one key.
        let q = layer
            .item_q
            .forward(x.clone())
            .reshape([rows, tokens, h, d])
            .permute([1, 2, 0, 3])
            .reshape([tokens, 1, h * rows, d]);
        let context = self
            .attend(q, keys.clone(), values.clone())?
            .reshape([tokens, h, rows, d])
            .permute([2, 0, 1, 3])
            .reshape([rows * tokens, e]);
        Ok(self.norm(x + layer.item_out.forward(context)))
    }

    /// Scaled dot-product attention of `q` `[b, h, s_q, d]` against `k`, `v` `[b, h, s_k, d]`,
    /// scale 1/√d. On the CPU (burn-flex) the fused, blocked kernel of
    /// [`crate::decode::tabpfn::cpu_attention`], whose scratch is a few blocks of scores
    /// whatever the sizes; on other devices burn's attention, in chunks over `b` and `s_q` so
    /// that no chunk's scores exceed the chunk bound.
    fn attend(&self, q: Tensor<4>, k: Tensor<4>, v: Tensor<4>) -> Result<Tensor<4>> {
        let [b, h, s_q, d] = q.dims();
        let s_k = k.dims()[2];
        let scale = 1.0 / (d as f64).sqrt();
        if self.on_cpu {
            let values = |t: Tensor<4>| {
                t.into_data()
                    .try_into_vec::<f32>()
                    .map_err(|e| Error::Numerical(format!("TabPFN attention: {e:?}")))
            };
            let shape = cpu_attention::Shape {
                batches: b * h,
                queries: s_q,
                keys: s_k,
                head_dim: d,
            };
            let out = cpu_attention::attention(
                &values(q)?,
                &values(k)?,
                &values(v)?,
                shape,
                scale as f32,
            );
            return Ok(Tensor::from_data(
                TensorData::new(out, [b, h, s_q, d]),
                &self.device,
            ));
        }
        let options = AttentionModuleOptions {
            scale: Some(scale),
            ..Default::default()
        };
        let per_query = 4 * h * s_k.max(1);
        let queries = (self.chunk_bytes / per_query).max(1);
        if b * s_q <= queries {
            return Ok(attention(q, k, v, None, None, options));
        }
        let batch = (queries / s_q.max(1)).clamp(1, b);
        let query_chunk = queries.clamp(1, s_q);
        let mut batches = Vec::new();
        for start in (0..b).step_by(batch) {
            let nb = batch.min(b - start);
            let (qb, kb, vb) = (
                q.clone().narrow(0, start, nb),
                k.clone().narrow(0, start, nb),
                v.clone().narrow(0, start, nb),
            );
            let mut parts = Vec::new();
            for qs in (0..s_q).step_by(query_chunk) {
                let len = query_chunk.min(s_q - qs);
                parts.push(attention(
                    qb.clone().narrow(2, qs, len),
                    kb.clone(),
                    vb.clone(),
                    None,
                    None,
                    options,
                ));
            }
            batches.push(Tensor::cat(parts, 2));
        }
        Ok(Tensor::cat(batches, 0))
    }

    /// `LN(x + W₂ GELU(W₁ x))` over `n` tokens, in chunks of tokens.
    fn mlp(&self, layer: &Layer, x: Tensor<2>, n: usize) -> Result<Tensor<2>> {
        let chunk = (self.chunk_bytes / (4 * self.architecture.mlp_hidden)).clamp(1, n);
        let mut parts = Vec::new();
        for start in (0..n).step_by(chunk) {
            let xs = x.clone().narrow(0, start, chunk.min(n - start));
            parts.push(layer.mlp_out.forward(self.gelu(layer.mlp_in.forward(xs))?));
        }
        Ok(self.norm(x + Tensor::cat(parts, 0)))
    }

    /// The exact GELU: on the CPU (burn-flex) quakelab's vectorised kernel
    /// ([`cpu_gelu`], within 1.1e-6 · |x| of the exact value), elsewhere burn's.
    fn gelu(&self, x: Tensor<2>) -> Result<Tensor<2>> {
        if !self.on_cpu {
            return Ok(gelu(x));
        }
        let shape = x.dims();
        let mut values = x
            .into_data()
            .try_into_vec::<f32>()
            .map_err(|e| Error::Numerical(format!("TabPFN GELU: {e:?}")))?;
        cpu_gelu::gelu_in_place(&mut values);
        Ok(Tensor::from_data(
            TensorData::new(values, shape),
            &self.device,
        ))
    }
}

/// The x-encoder's statistics, fitted on the training rows (module docs, step 1).
#[derive(Debug, Clone)]
pub(crate) struct XEncoder {
    fpg: usize,
    n_features: usize,
    pub(crate) groups: usize,
    /// Per group and slot (`groups · fpg`): the feature it holds, or none (zeros).
    slots: Vec<Option<usize>>,
    /// Per slot: the mean of the feature's finite training values.
    fill: Vec<f64>,
    /// Per slot: the training mean and standard deviation after filling.
    mean: Vec<f64>,
    std: Vec<f64>,
    /// Per group: `sqrt(fpg / n_used)`.
    scale: Vec<f32>,
}

impl XEncoder {
    /// Fits the encoder on `n` training rows of `n_features` values (row-major), `fpg`
    /// features per group.
    pub(crate) fn fit(x: &[f32], n: usize, n_features: usize, fpg: usize) -> XEncoder {
        let groups = n_features.div_ceil(fpg);
        let value = |i: usize, j: usize| {
            if j < n_features {
                x[i * n_features + j]
            } else {
                0.0
            }
        };
        // PyTorch's `(x[1:] == x[0]).sum(0) == n - 1`: NaN equals nothing, one row is constant.
        let constant = |column: &dyn Fn(usize) -> f32| (1..n).all(|i| column(i) == column(0));
        let mut slots = Vec::with_capacity(groups * fpg);
        for g in 0..groups {
            let kept: Vec<usize> = (g * fpg..(g + 1) * fpg)
                .filter(|&j| !constant(&|i| value(i, j)))
                .collect();
            slots.extend((0..fpg).map(|k| kept.get(k).copied()));
        }
        let mut fill = vec![0.0; slots.len()];
        let mut mean = vec![0.0; slots.len()];
        let mut std = vec![1.0; slots.len()];
        let mut used = vec![0usize; groups];
        for (s, slot) in slots.iter().enumerate() {
            let Some(j) = *slot else { continue };
            let finite: Vec<f64> = (0..n)
                .map(|i| f64::from(value(i, j)))
                .filter(|v| v.is_finite())
                .collect();
            fill[s] = finite.iter().sum::<f64>() / finite.len().max(1) as f64;
            let filled: Vec<f64> = (0..n)
                .map(|i| {
                    let v = f64::from(value(i, j));
                    if v.is_finite() { v } else { fill[s] }
                })
                .collect();
            mean[s] = filled.iter().sum::<f64>() / n as f64;
            let ss: f64 = filled.iter().map(|v| (v - mean[s]).powi(2)).sum();
            let sd = (ss / (n.saturating_sub(1)).max(1) as f64).sqrt();
            std[s] = if sd == 0.0 || n == 1 { 1.0 } else { sd };
            let normalised: Vec<f32> = filled
                .iter()
                .map(|v| normalise(*v, mean[s], std[s]))
                .collect();
            if !constant(&|i| normalised[i]) {
                used[s / fpg] += 1;
            }
        }
        let scale = used
            .iter()
            .map(|&u| (fpg as f32 / u.max(1) as f32).sqrt())
            .collect();
        XEncoder {
            fpg,
            n_features,
            groups,
            slots,
            fill,
            mean,
            std,
            scale,
        }
    }

    /// Token columns per row: the groups and the target.
    fn tokens(&self) -> usize {
        self.groups + 1
    }

    /// The encoder's input for `rows` rows: per row and group, the fpg values then the fpg
    /// indicators, `[rows · groups, 2 fpg]` row-major.
    pub(crate) fn encode(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let fpg = self.fpg;
        let mut out = vec![0.0; rows * self.groups * 2 * fpg];
        for i in 0..rows {
            let row = &x[i * self.n_features..(i + 1) * self.n_features];
            for g in 0..self.groups {
                let cell = &mut out[(i * self.groups + g) * 2 * fpg..][..2 * fpg];
                for k in 0..fpg {
                    let s = g * fpg + k;
                    let Some(j) = self.slots[s] else { continue };
                    let raw = row[j];
                    let (v, indicator) = if raw.is_nan() {
                        (self.fill[s], -2.0)
                    } else if raw == f32::INFINITY {
                        (self.fill[s], 2.0)
                    } else if raw == f32::NEG_INFINITY {
                        (self.fill[s], 4.0)
                    } else {
                        (f64::from(raw), 0.0)
                    };
                    cell[k] = normalise(v, self.mean[s], self.std[s]) * self.scale[g];
                    cell[fpg + k] = indicator;
                }
            }
        }
        out
    }
}

/// `clip((v − mean) / (std + 1e-16), −100, 100)` in single precision.
fn normalise(v: f64, mean: f64, std: f64) -> f32 {
    (((v - mean) / (std + 1e-16)) as f32).clamp(-100.0, 100.0)
}

/// A `[rows, cols]` matrix given in C order, onto `device`.
fn matrix(data: &[f32], rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(data.to_vec(), [rows, cols]), device)
}

/// A PyTorch linear weight `[out, in]` as `[in, out]` on `device`.
fn transposed(w: &StoredTensor, device: &Device) -> Tensor<2> {
    transposed_rows(&w.data, w.data.len() / w.shape[0], device)
}

/// A C-order matrix of rows of `cols` values, transposed onto `device` as `[cols, rows]`.
fn transposed_rows(data: &[f32], cols: usize, device: &Device) -> Tensor<2> {
    let rows = data.len() / cols;
    let mut out = vec![0.0; data.len()];
    for (r, row) in data.chunks_exact(cols).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            out[c * rows + r] = v;
        }
    }
    Tensor::from_data(TensorData::new(out, [cols, rows]), device)
}

/// A bias as a `[1, len]` row that broadcasts over rows.
fn row(data: &[f32], device: &Device) -> Tensor<2> {
    matrix(data, 1, data.len(), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_x_encoder_follows_tabpfn_by_hand() {
        // Three training rows of three features (padded to two groups of two): feature 0 is
        // constant, feature 1 has a missing value, feature 2 varies.
        let nan = f32::NAN;
        let x = [5.0, 1.0, 0.0, 5.0, nan, 2.0, 5.0, 3.0, 4.0];
        let encoder = XEncoder::fit(&x, 3, 3, 2);
        // Group 0 keeps feature 1 only, moved to the front; group 1 holds feature 2 and the
        // (constant) pad column.
        assert_eq!(encoder.slots, vec![Some(1), None, Some(2), None]);
        // Feature 1: NaN filled with mean(1, 3) = 2; then mean 2, std sqrt(2/2) = 1.
        // Feature 2: mean 2, std sqrt((4 + 0 + 4) / 2) = 2. One used feature per group:
        // scale sqrt(2).
        let s = 2f32.sqrt();
        let expected = [
            [-s, 0.0, 0.0, 0.0],
            [-s, 0.0, 0.0, 0.0],
            [0.0, 0.0, -2.0, 0.0],
            [0.0, 0.0, 0.0, 0.0],
            [1.0 * s, 0.0, 0.0, 0.0],
            [1.0 * s, 0.0, 0.0, 0.0],
        ];
        let found = encoder.encode(&x, 3);
        for (cell, want) in found.chunks(4).zip(expected) {
            for (f, w) in cell.iter().zip(want) {
                assert!((f - w).abs() < 1e-6, "{found:?}");
            }
        }
        // A test row: +inf and −inf get their indicators and the training fill, and values
        // far out are clipped at ±100.
        let test = encoder.encode(&[0.0, f32::INFINITY, 1e6], 1);
        assert_eq!(test[..4], [0.0, 0.0, 2.0, 0.0]);
        assert_eq!(test[4..], [100.0 * s, 0.0, 0.0, 0.0]);
        let test = encoder.encode(&[0.0, f32::NEG_INFINITY, 2.0], 1);
        assert_eq!(test[2], 4.0);
    }

    #[test]
    fn a_feature_constant_after_filling_counts_as_unused() {
        // Feature 0 is 1 wherever known: kept by the first check (NaN equals nothing), but
        // constant once filled, so group 0 uses one feature; feature 1 varies.
        let x = [1.0, 0.0, f32::NAN, 1.0, 1.0, 3.0];
        let encoder = XEncoder::fit(&x, 3, 2, 2);
        assert_eq!(encoder.slots, vec![Some(0), Some(1)]);
        assert_eq!(encoder.scale, vec![2f32.sqrt()]);
    }

    fn tiny() -> TabPfnModel {
        let arch = Architecture {
            emsize: 16,
            nhead: 2,
            nlayers: 1,
            mlp_hidden: 32,
            features_per_group: 2,
            num_buckets: 10,
            seed: 0,
        };
        let weights = TabPfnWeights::random(arch, 3);
        TabPfnModel::new(&weights, &crate::device::Device::Cpu.burn().unwrap()).unwrap()
    }

    #[test]
    fn an_architecture_whose_sizes_do_not_fit_is_refused() {
        let arch = Architecture {
            emsize: 18,
            nhead: 4,
            nlayers: 1,
            mlp_hidden: 8,
            features_per_group: 2,
            num_buckets: 4,
            seed: 0,
        };
        let weights = TabPfnWeights::random(arch, 0);
        let device = crate::device::Device::Cpu.burn().unwrap();
        let err = TabPfnModel::new(&weights, &device).unwrap_err();
        assert!(err.to_string().contains("emsize 18 with 4 heads"), "{err}");
    }

    #[test]
    fn a_target_that_is_not_finite_is_refused() {
        let err = tiny().fit(&[1.0, 2.0], 1, &[0.5, f32::NAN]).unwrap_err();
        assert!(err.to_string().contains("target 1 is NaN"), "{err}");
    }

    #[test]
    fn features_that_do_not_fill_the_rows_are_refused() {
        let err = tiny().fit(&[1.0, 2.0, 3.0], 2, &[0.5, 1.0]).unwrap_err();
        assert!(
            err.to_string().contains("3 feature values for 2 targets"),
            "{err}"
        );
        let model = tiny();
        let state = model.fit(&[1.0, 2.0, 3.0, 5.0], 2, &[0.5, 1.0]).unwrap();
        let err = model.logits(&state, &[1.0, 2.0, 3.0]).unwrap_err();
        assert!(
            err.to_string().contains("not rows of the 2 fitted"),
            "{err}"
        );
    }

    #[test]
    fn chunking_leaves_the_logits_unchanged() {
        let x: Vec<f32> = (0..60).map(|i| ((i * 37) % 11) as f32 - 5.0).collect();
        let y: Vec<f32> = (0..20).map(|i| (i as f32 * 0.7).sin()).collect();
        let test: Vec<f32> = (0..21).map(|i| ((i * 13) % 7) as f32 - 3.0).collect();
        let whole = tiny();
        let state = whole.fit(&x, 3, &y).unwrap();
        let expected = whole.logits(&state, &test).unwrap();
        assert_eq!(expected.len(), 7 * 10);
        // 64 bytes: one row, one column and one query per chunk.
        let chunked = tiny().with_chunk_bytes(64);
        let state = chunked.fit(&x, 3, &y).unwrap();
        let found = chunked.logits(&state, &test).unwrap();
        for (f, e) in found.iter().zip(&expected) {
            assert!((f - e).abs() < 1e-5, "{f} vs {e}");
        }
        assert_eq!(state.bytes(), (2 * 3 * 20 * 8 + 2 * 16) * 4);
    }
}
