//! The TabPFN v2 regressor as a trainable burn module: the same network and forward pass as
//! the inference model ([`crate::decode::tabpfn::model`]), differentiable with respect to every
//! weight, on a batch of tasks at once.
//!
//! [`PfnModel`] holds exactly the parameters of a TabPFN v2 checkpoint (spec A.2), each as a
//! burn [`Param`] in the `x · W` layout (PyTorch's `[out, in]` weights transposed; the fused
//! attention weights `_w_qkv` `[3, heads, d_k, E]` as one `[E, 3E]` matrix, `_w_out`
//! `[heads, d_v, E]` as `[E, E]`), and converts both ways with [`TabPfnWeights`]
//! ([`PfnModel::from_weights`], [`PfnModel::to_weights`]), so a trained network is written in
//! the checkpoint format the TabPFN decoder loads.
//!
//! [`PfnModel::forward`] runs a [`TaskBatch`], B tasks of N rows (the first `n_train` are
//! training rows, the other M = N − `n_train` test rows) and F features, through the steps of
//! the inference model's module docs, all rows of a task together instead of a cached
//! training pass:
//!
//! 1. the targets are standardised per task on its training rows ([`TaskBatch`]), as the
//!    decoder does before it fits;
//! 2. on the host, per task, the x-encoder's preprocessing is fitted on the training rows and
//!    applied to every row; the y-encoder's input is `[y, 0]` for a training row and
//!    `[mean(y_train), −2]` for a test row;
//! 3. on the device, differentiable from here on: the x- and y-encoders, the "subspace"
//!    feature-group embeddings `torch_randn(seed, G · E/4)` mapped by their linear layer, then
//!    each layer `x ← LN(x + attention between features)`, `x ← LN(x + attention between
//!    items)`, `x ← LN(x + W₂ GELU(W₁ x))` (post-LayerNorm without affine parameters,
//!    ε = 1e-5, exact GELU). Between items, training rows attend to the task's training rows
//!    with every head; test rows attend with every head's query to head 0's keys and values of
//!    the training rows only;
//! 4. the decoder (Linear → GELU → Linear) on the test rows' target token: the bucket logits
//!    `[B, M, num_buckets]`.
//!
//! Attention is burn's `attention` (on an autodiff device, its differentiable composition of
//! matrix products and a softmax), never the fused CPU kernel of the inference model.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::activation::gelu;
use burn::tensor::module::{attention, layer_norm};
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Device, Tensor, TensorData};

use crate::decode::tabpfn::architecture::Architecture;
use crate::decode::tabpfn::model::XEncoder;
use crate::decode::tabpfn::torch_randn::torch_randn;
use crate::decode::tabpfn::weights::{
    StoredTensor, TabPfnWeights, X_ENCODER, safetensors_metadata,
};
use crate::{Error, Result};

/// LayerNorm's ε in every layer (as the inference model).
const LAYER_NORM_EPS: f64 = 1e-5;

/// A batch of regression tasks of one shape: `tasks` tasks of `rows` rows, the first
/// `n_train` of each its training rows (targets known to the network), the others its test
/// rows (targets to predict), and `features` features per row.
///
/// Targets are standardised per task with the mean and the population standard deviation of
/// its training rows, `y_z = (y − ȳ) / (σ + 1e-20)`, exactly as the TabPFN decoder does before
/// it fits (a task whose training targets are all equal is predicted without the network
/// there, and refused here). The network sees the standardised training targets; the loss
/// scores the standardised test targets.
#[derive(Debug, Clone)]
pub struct TaskBatch {
    tasks: usize,
    rows: usize,
    n_train: usize,
    features: usize,
    x: Vec<f32>,
    y_z: Vec<f32>,
}

impl TaskBatch {
    /// A batch from `x` (`tasks · rows · features` values: task by task, row by row, NaN for a
    /// missing value) and the raw targets `y` (`tasks · rows` values).
    ///
    /// Refused (an [`Error::Numerical`]): no task, no feature, `n_train` not in
    /// `1..rows`, lengths that do not match the shape, a target that is not finite, and a
    /// task whose training targets are all equal.
    pub fn new(
        tasks: usize,
        rows: usize,
        n_train: usize,
        features: usize,
        x: Vec<f32>,
        y: &[f32],
    ) -> Result<TaskBatch> {
        let refuse = |message: String| Err(Error::Numerical(format!("PFN task batch: {message}")));
        if tasks == 0 || features == 0 || n_train == 0 || n_train >= rows {
            return refuse(format!(
                "{tasks} tasks of {rows} rows, {n_train} of them training rows, and \
                 {features} features: need at least one task and one feature, and at least \
                 one training and one test row"
            ));
        }
        if x.len() != tasks * rows * features || y.len() != tasks * rows {
            return refuse(format!(
                "{} feature values and {} targets for {tasks} tasks of {rows} rows and \
                 {features} features",
                x.len(),
                y.len()
            ));
        }
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return refuse(format!(
                "task {}, row {}: the target is {}, not a finite number",
                i / rows,
                i % rows,
                y[i]
            ));
        }
        let mut y_z = Vec::with_capacity(y.len());
        for (task, y) in y.chunks_exact(rows).enumerate() {
            let train: Vec<f64> = y[..n_train].iter().map(|&v| f64::from(v)).collect();
            let mean = train.iter().sum::<f64>() / n_train as f64;
            let std =
                (train.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n_train as f64).sqrt();
            if std == 0.0 {
                return refuse(format!(
                    "task {task}: its training targets are all {mean}; the decoder predicts \
                     such a task without the network"
                ));
            }
            y_z.extend(
                y.iter()
                    .map(|&v| ((f64::from(v) - mean) / (std + 1e-20)) as f32),
            );
        }
        Ok(TaskBatch {
            tasks,
            rows,
            n_train,
            features,
            x,
            y_z,
        })
    }

    /// The number of tasks B.
    pub fn tasks(&self) -> usize {
        self.tasks
    }

    /// Rows per task N (training and test rows).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Training rows per task, the first of its rows.
    pub fn n_train(&self) -> usize {
        self.n_train
    }

    /// Test rows per task M, `rows − n_train`.
    pub fn n_test(&self) -> usize {
        self.rows - self.n_train
    }

    /// Features per row F.
    pub fn features(&self) -> usize {
        self.features
    }

    /// The standardised targets of the test rows, `[B, M]` row-major: what the loss scores.
    pub fn test_targets(&self) -> Vec<f32> {
        self.y_z
            .chunks_exact(self.rows)
            .flat_map(|y| y[self.n_train..].iter().copied())
            .collect()
    }

    /// The standardised targets of every row, `[B, N]` row-major.
    pub fn standardised_targets(&self) -> &[f32] {
        &self.y_z
    }
}

/// One encoder layer's weights, `x · W` layout.
#[derive(Module, Debug)]
struct PfnLayer {
    /// Attention between features: every head's query, key and value, `[E, 3E]`.
    feature_qkv: Param<Tensor<2>>,
    /// `[E, E]`.
    feature_out: Param<Tensor<2>>,
    /// Attention between items, `[E, 3E]`.
    item_qkv: Param<Tensor<2>>,
    /// `[E, E]`.
    item_out: Param<Tensor<2>>,
    /// `[E, mlp_hidden]`.
    mlp_in: Param<Tensor<2>>,
    /// `[mlp_hidden, E]`.
    mlp_out: Param<Tensor<2>>,
}

/// The TabPFN v2 regressor as a trainable burn module (module docs): on an autodiff device its
/// [`PfnModel::forward`] is differentiable with respect to every parameter.
#[derive(Module, Debug)]
pub struct PfnModel {
    /// `[2 fpg, E]`.
    x_encoder: Param<Tensor<2>>,
    /// `[2, E]` and a bias.
    y_encoder: Linear,
    /// `[E/4, E]` and a bias.
    subspace: Linear,
    layers: Vec<PfnLayer>,
    /// `[E, mlp_hidden]` and a bias.
    decoder_hidden: Linear,
    /// `[mlp_hidden, num_buckets]` and a bias.
    decoder_out: Linear,
    #[module(skip)]
    architecture: Architecture,
}

impl PfnModel {
    /// A seeded network of `architecture` on `device`: the weights of
    /// [`TabPfnWeights::random`]`(architecture, seed)` (normal with standard deviation
    /// 1/√fan-in, biases 0, from [`crate::rng::stream`]`(seed, "decode.tabpfn.init")`).
    ///
    /// Refused as [`PfnModel::from_weights`] refuses.
    pub fn init(architecture: Architecture, seed: u64, device: &Device) -> Result<PfnModel> {
        PfnModel::from_weights(&TabPfnWeights::random(architecture, seed), device)
    }

    /// The network holding `weights`' tensors, on `device` (an autodiff device to train it).
    ///
    /// Refused (an [`Error::Numerical`]): an architecture whose sizes do not fit together
    /// (`emsize` not a multiple of `nhead` or of 4, `features_per_group` other than 1 or 2).
    pub fn from_weights(weights: &TabPfnWeights, device: &Device) -> Result<PfnModel> {
        let a = weights.architecture().clone();
        check(&a)?;
        let get = |name: &str| weights.tensor(name);
        // A PyTorch `[out, in]` matrix as an `[in, out]` parameter.
        let transposed = |name: &str| -> Result<Param<Tensor<2>>> {
            let t = get(name)?;
            // The last axis is the input; the others (`[3, heads, d_k]` for `_w_qkv`) the
            // output.
            let cols = t.shape.last().copied().unwrap_or(1).max(1);
            let rows = t.data.len() / cols;
            Ok(param(transpose(&t.data, rows, cols), [cols, rows], device))
        };
        let linear = |weight: &str, bias: &str| -> Result<Linear> {
            let b = get(bias)?;
            Ok(Linear {
                weight: transposed(weight)?,
                bias: Some(Param::from_data(
                    TensorData::new(b.data.clone(), [b.data.len()]),
                    device,
                )),
            })
        };
        let e = a.emsize;
        let mut layers = Vec::with_capacity(a.nlayers);
        for i in 0..a.nlayers {
            let prefix = format!("transformer_encoder.layers.{i}");
            // `_w_out` `[heads, d_v, E]` is the `[E_in, E_out]` matrix already.
            let out = |kind: &str| -> Result<Param<Tensor<2>>> {
                let w = get(&format!("{prefix}.{kind}._w_out"))?;
                Ok(param(w.data.clone(), [e, e], device))
            };
            layers.push(PfnLayer {
                feature_qkv: transposed(&format!("{prefix}.self_attn_between_features._w_qkv"))?,
                feature_out: out("self_attn_between_features")?,
                item_qkv: transposed(&format!("{prefix}.self_attn_between_items._w_qkv"))?,
                item_out: out("self_attn_between_items")?,
                mlp_in: transposed(&format!("{prefix}.mlp.linear1.weight"))?,
                mlp_out: transposed(&format!("{prefix}.mlp.linear2.weight"))?,
            });
        }
        Ok(PfnModel {
            x_encoder: transposed(X_ENCODER)?,
            y_encoder: linear("y_encoder.1.layer.weight", "y_encoder.1.layer.bias")?,
            subspace: linear(
                "feature_positional_embedding_embeddings.weight",
                "feature_positional_embedding_embeddings.bias",
            )?,
            layers,
            decoder_hidden: linear(
                "decoder_dict.standard.0.weight",
                "decoder_dict.standard.0.bias",
            )?,
            decoder_out: linear(
                "decoder_dict.standard.2.weight",
                "decoder_dict.standard.2.bias",
            )?,
            architecture: a,
        })
    }

    /// The network's tensors under their checkpoint names and PyTorch layouts, with the bar
    /// distribution's `borders` (`num_buckets + 1` standardised-target values, e.g. from
    /// [`crate::decode::pfn::loss::fit_borders`]); `fingerprint` names the weights (e.g.
    /// `pfn:quakelab-pfn-s@10000`).
    ///
    /// Refused as [`TabPfnWeights::from_tensors`] refuses (wrong borders), or when a tensor
    /// cannot be read back from the device.
    pub fn to_weights(&self, borders: Vec<f64>, fingerprint: String) -> Result<TabPfnWeights> {
        let a = &self.architecture;
        let (e, h, d) = (a.emsize, a.nhead, a.head_dim());
        let mut tensors = BTreeMap::new();
        // An `[in, out]` parameter as PyTorch's `[out, in]` values.
        let torch = |p: &Param<Tensor<2>>, name: &str| -> Result<Vec<f32>> {
            let [rows, cols] = p.val().dims();
            Ok(transpose(&host(p.val(), name)?, rows, cols))
        };
        let mut put = |name: String, shape: Vec<usize>, data: Vec<f32>| {
            tensors.insert(name, StoredTensor { shape, data });
        };
        for (prefix, l) in [
            ("y_encoder.1.layer", &self.y_encoder),
            ("feature_positional_embedding_embeddings", &self.subspace),
            ("decoder_dict.standard.0", &self.decoder_hidden),
            ("decoder_dict.standard.2", &self.decoder_out),
        ] {
            let [rows, cols] = l.weight.val().dims();
            let name = format!("{prefix}.weight");
            put(name.clone(), vec![cols, rows], torch(&l.weight, &name)?);
            let name = format!("{prefix}.bias");
            let bias = l
                .bias
                .as_ref()
                .ok_or_else(|| Error::Numerical(format!("PFN model: `{name}` is missing")))?;
            put(name.clone(), vec![cols], host(bias.val(), &name)?);
        }
        put(
            X_ENCODER.to_string(),
            vec![e, 2 * a.features_per_group],
            torch(&self.x_encoder, X_ENCODER)?,
        );
        for (i, layer) in self.layers.iter().enumerate() {
            let prefix = format!("transformer_encoder.layers.{i}");
            for (kind, qkv, out) in [
                (
                    "self_attn_between_features",
                    &layer.feature_qkv,
                    &layer.feature_out,
                ),
                ("self_attn_between_items", &layer.item_qkv, &layer.item_out),
            ] {
                // `[E, 3E]` transposed is `[3E, E]`, i.e. `[3, heads, d_k, E]` in C order;
                // `[E, E]` is `[heads, d_v, E]` as it is.
                let name = format!("{prefix}.{kind}._w_qkv");
                put(name.clone(), vec![3, h, d, e], torch(qkv, &name)?);
                let name = format!("{prefix}.{kind}._w_out");
                put(name.clone(), vec![h, d, e], host(out.val(), &name)?);
            }
            let name = format!("{prefix}.mlp.linear1.weight");
            put(
                name.clone(),
                vec![a.mlp_hidden, e],
                torch(&layer.mlp_in, &name)?,
            );
            let name = format!("{prefix}.mlp.linear2.weight");
            put(
                name.clone(),
                vec![e, a.mlp_hidden],
                torch(&layer.mlp_out, &name)?,
            );
        }
        TabPfnWeights::from_tensors(a.clone(), tensors, borders, fingerprint)
    }

    /// The architecture.
    pub fn architecture(&self) -> &Architecture {
        &self.architecture
    }

    /// The bucket logits of every task's test rows, `[B, M, num_buckets]` (module docs),
    /// on the model's device; differentiable with respect to every parameter on an autodiff
    /// device.
    pub fn forward(&self, batch: &TaskBatch) -> Tensor<3> {
        let a = &self.architecture;
        let device = self.x_encoder.val().device();
        let (b, n, nt, f) = (batch.tasks, batch.rows, batch.n_train, batch.features);
        let (m, e, fpg) = (n - nt, a.emsize, a.features_per_group);
        let groups = f.div_ceil(fpg);
        let tokens = groups + 1;
        let mut cells = Vec::with_capacity(b * n * groups * 2 * fpg);
        let mut targets = Vec::with_capacity(b * n * 2);
        for (x, y) in batch.x.chunks_exact(n * f).zip(batch.y_z.chunks_exact(n)) {
            let encoder = XEncoder::fit(&x[..nt * f], nt, f, fpg);
            cells.extend(encoder.encode(x, n));
            // As the inference model: the mean of the f32 training targets, in f64.
            let mean = (y[..nt].iter().map(|&v| f64::from(v)).sum::<f64>() / nt as f64) as f32;
            targets.extend(y[..nt].iter().flat_map(|&v| [v, 0.0]));
            targets.extend((0..m).flat_map(|_| [mean, -2.0]));
        }
        let width = a.subspace_width();
        let draws = Tensor::<2>::from_data(
            TensorData::new(torch_randn(a.seed, groups * width), [groups, width]),
            &device,
        );
        let group_embeddings = self.subspace.forward(draws).reshape([1, 1, groups, e]);
        let cells =
            Tensor::<2>::from_data(TensorData::new(cells, [b * n * groups, 2 * fpg]), &device);
        let features = cells
            .matmul(self.x_encoder.val())
            .reshape([b, n, groups, e])
            + group_embeddings;
        let target = self
            .y_encoder
            .forward(Tensor::<2>::from_data(
                TensorData::new(targets, [b * n, 2]),
                &device,
            ))
            .reshape([b, n, 1, e]);
        let mut x = Tensor::cat(vec![features, target], 2).reshape([b * n * tokens, e]);
        let ones = Tensor::<1>::ones([e], &device);
        let norm = |x: Tensor<2>| layer_norm(x, ones.clone(), None, LAYER_NORM_EPS);
        for layer in &self.layers {
            x = norm(x.clone() + self.feature_attention(layer, x, b * n, tokens));
            x = norm(x.clone() + self.item_attention(layer, x, [b, n, nt, tokens]));
            let hidden = gelu(x.clone().matmul(layer.mlp_in.val()));
            x = norm(x + hidden.matmul(layer.mlp_out.val()));
        }
        let target = x
            .reshape([b, n, tokens, e])
            .narrow(1, nt, m)
            .narrow(2, tokens - 1, 1)
            .reshape([b * m, e]);
        self.decoder_out
            .forward(gelu(self.decoder_hidden.forward(target)))
            .reshape([b, m, a.num_buckets])
    }

    /// Attention between the `tokens` tokens of each of `rows` rows, before the residual.
    fn feature_attention(
        &self,
        layer: &PfnLayer,
        x: Tensor<2>,
        rows: usize,
        tokens: usize,
    ) -> Tensor<2> {
        let a = &self.architecture;
        let (e, h, d) = (a.emsize, a.nhead, a.head_dim());
        // [rows·C, 3E] -> [rows, C, 3H, d] -> [rows, 3H, C, d]
        let qkv = x
            .matmul(layer.feature_qkv.val())
            .reshape([rows, tokens, 3 * h, d])
            .swap_dims(1, 2);
        let q = qkv.clone().narrow(1, 0, h);
        let k = qkv.clone().narrow(1, h, h);
        let v = qkv.narrow(1, 2 * h, h);
        let context = attend(q, k, v).swap_dims(1, 2).reshape([rows * tokens, e]);
        context.matmul(layer.feature_out.val())
    }

    /// Attention between the rows of each task, per token column, before the residual:
    /// training rows attend to the training rows with every head, test rows with every head's
    /// query to head 0's keys and values of the training rows. `shape` is
    /// `[tasks, rows, n_train, tokens]`.
    fn item_attention(&self, layer: &PfnLayer, x: Tensor<2>, shape: [usize; 4]) -> Tensor<2> {
        let [b, n, nt, tokens] = shape;
        let a = &self.architecture;
        let (e, h, d, m) = (a.emsize, a.nhead, a.head_dim(), n - nt);
        // [B·N·C, 3E] -> [B, N, C, 3H, d] -> [B, C, 3H, N, d] -> [B·C, 3H, N, d]
        let qkv = x
            .matmul(layer.item_qkv.val())
            .reshape([b, n, tokens, 3 * h, d])
            .permute([0, 2, 3, 1, 4])
            .reshape([b * tokens, 3 * h, n, d]);
        let q = qkv.clone().narrow(1, 0, h);
        let k = qkv.clone().narrow(1, h, h).narrow(2, 0, nt);
        let v = qkv.narrow(1, 2 * h, h).narrow(2, 0, nt);
        let train = attend(q.clone().narrow(2, 0, nt), k.clone(), v.clone());
        // The heads share head 0's keys: [B·C, H, M, d] -> [B·C, 1, H·M, d].
        let test_q = q.narrow(2, nt, m).reshape([b * tokens, 1, h * m, d]);
        let test =
            attend(test_q, k.narrow(1, 0, 1), v.narrow(1, 0, 1)).reshape([b * tokens, h, m, d]);
        // [B·C, H, N, d] -> [B, C, H, N, d] -> [B, N, C, H, d]
        let context = Tensor::cat(vec![train, test], 2)
            .reshape([b, tokens, h, n, d])
            .permute([0, 3, 1, 2, 4])
            .reshape([b * n * tokens, e]);
        context.matmul(layer.item_out.val())
    }
}

/// What a pretrained network's checkpoint says about itself, under the `quakelab.*` keys of
/// its safetensors metadata (beside the architecture under `config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointInfo {
    /// The network's name (`quakelab.name`, e.g. `quakelab-pfn-s`); never one carrying
    /// "TabPFN".
    pub name: String,
    /// The prior it was trained on, as the training run describes it (`quakelab.prior`).
    pub prior: String,
    /// Optimiser steps taken (`quakelab.steps`).
    pub steps: u64,
    /// The training run's seed (`quakelab.seed`).
    pub seed: u64,
    /// The source commit that trained it (`quakelab.commit`).
    pub commit: String,
}

impl CheckpointInfo {
    /// The metadata keys and their order.
    const KEYS: [&'static str; 5] = [
        "quakelab.name",
        "quakelab.prior",
        "quakelab.steps",
        "quakelab.seed",
        "quakelab.commit",
    ];

    /// The `quakelab.*` metadata entries.
    ///
    /// Refused (an [`Error::Config`] naming `quakelab.name`): an empty name, and a name that
    /// carries "TabPFN" in any case (a network quakelab trained is not Prior Labs' model).
    pub fn to_metadata(&self) -> Result<BTreeMap<String, String>> {
        if self.name.trim().is_empty() || self.name.to_lowercase().contains("tabpfn") {
            return Err(Error::config(
                "quakelab.name",
                format!(
                    "`{}`: a pretrained network needs a name of its own, which never carries \
                     the name TabPFN",
                    self.name
                ),
            ));
        }
        let values = [
            self.name.clone(),
            self.prior.clone(),
            self.steps.to_string(),
            self.seed.to_string(),
            self.commit.clone(),
        ];
        Ok(Self::KEYS
            .iter()
            .map(|k| k.to_string())
            .zip(values)
            .collect())
    }

    /// Reads the entries [`CheckpointInfo::to_metadata`] writes; `path` names the file in
    /// errors. Refused (an [`Error::Format`] naming `metadata `KEY``): a missing key, and
    /// steps or a seed that are not integers ≥ 0.
    pub fn from_metadata(
        metadata: &BTreeMap<String, String>,
        path: &Path,
    ) -> Result<CheckpointInfo> {
        let get = |key: &str| {
            metadata.get(key).cloned().ok_or_else(|| {
                Error::format(
                    path,
                    format!("metadata `{key}`"),
                    "missing: not a checkpoint written by quakelab's PFN pretraining",
                )
            })
        };
        let number = |key: &str| -> Result<u64> {
            let text = get(key)?;
            text.parse().map_err(|_| {
                Error::format(
                    path,
                    format!("metadata `{key}`"),
                    format!("`{text}` is not an integer ≥ 0"),
                )
            })
        };
        Ok(CheckpointInfo {
            name: get("quakelab.name")?,
            prior: get("quakelab.prior")?,
            steps: number("quakelab.steps")?,
            seed: number("quakelab.seed")?,
            commit: get("quakelab.commit")?,
        })
    }
}

impl PfnModel {
    /// Writes the network as a `.safetensors` checkpoint the TabPFN decoder loads
    /// ([`TabPfnWeights::read`]): its tensors, `borders`, the architecture under the metadata
    /// key `config` and `info` under the `quakelab.*` keys; the file is replaced atomically.
    ///
    /// Refused as [`CheckpointInfo::to_metadata`], [`PfnModel::to_weights`] and
    /// [`TabPfnWeights::write_safetensors`] refuse.
    pub fn write_checkpoint(
        &self,
        path: &Path,
        borders: Vec<f64>,
        info: &CheckpointInfo,
    ) -> Result<()> {
        let metadata = info.to_metadata()?;
        let fingerprint = format!("pfn:{}@{}", info.name, info.steps);
        self.to_weights(borders, fingerprint)?
            .write_safetensors(path, &metadata)
    }

    /// Reads a checkpoint [`PfnModel::write_checkpoint`] wrote onto `device` (an autodiff
    /// device to train on): the network, its borders and its [`CheckpointInfo`].
    ///
    /// Refused as [`TabPfnWeights::read`] and [`CheckpointInfo::from_metadata`] refuse.
    pub fn read_checkpoint(
        path: &Path,
        device: &Device,
    ) -> Result<(PfnModel, Vec<f64>, CheckpointInfo)> {
        let weights = TabPfnWeights::read(path)?;
        let info = CheckpointInfo::from_metadata(&safetensors_metadata(path)?, path)?;
        let model = PfnModel::from_weights(&weights, device)?;
        Ok((model, weights.borders().to_vec(), info))
    }
}

/// The [`CheckpointInfo`] of a checkpoint [`PfnModel::write_checkpoint`] wrote, without reading
/// its tensors. Refused as [`CheckpointInfo::from_metadata`] refuses (a file quakelab did not
/// train, say).
pub fn read_checkpoint_info(path: &Path) -> Result<CheckpointInfo> {
    CheckpointInfo::from_metadata(&safetensors_metadata(path)?, path)
}

/// Scaled dot-product attention of `q` `[b, h, s_q, d]` against `k`, `v` `[b, h, s_k, d]`,
/// scale 1/√d.
fn attend(q: Tensor<4>, k: Tensor<4>, v: Tensor<4>) -> Tensor<4> {
    let d = q.dims()[3];
    let options = AttentionModuleOptions {
        scale: Some(1.0 / (d as f64).sqrt()),
        ..Default::default()
    };
    attention(q, k, v, None, None, options)
}

/// Refuses an architecture whose sizes do not fit together.
fn check(a: &Architecture) -> Result<()> {
    if a.nhead == 0
        || !a.emsize.is_multiple_of(a.nhead)
        || !a.emsize.is_multiple_of(4)
        || !(1..=2).contains(&a.features_per_group)
    {
        return Err(Error::Numerical(format!(
            "PFN architecture: emsize {} with {} heads and features_per_group {} do not fit \
             together (emsize a multiple of the heads and of 4, 1 or 2 features per group)",
            a.emsize, a.nhead, a.features_per_group
        )));
    }
    Ok(())
}

/// A `[rows, cols]` C-order matrix transposed, `[cols, rows]` C-order.
fn transpose(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; data.len()];
    for (r, row) in data.chunks_exact(cols).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            out[c * rows + r] = v;
        }
    }
    out
}

/// A trainable matrix of `shape` from C-order `data`.
fn param(data: Vec<f32>, shape: [usize; 2], device: &Device) -> Param<Tensor<2>> {
    Param::from_data(TensorData::new(data, shape), device)
}

/// A tensor's values on the host, C order.
fn host<const D: usize>(t: Tensor<D>, name: &str) -> Result<Vec<f32>> {
    t.into_data()
        .try_into_vec::<f32>()
        .map_err(|e| Error::Numerical(format!("PFN model: reading `{name}`: {e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::pfn::loss::{BarLoss, fit_borders};
    use crate::decode::tabpfn::model::TabPfnModel;
    use burn::optim::{AdamWConfig, GradientsParams};

    fn arch(nlayers: usize) -> Architecture {
        Architecture {
            emsize: 16,
            nhead: 2,
            nlayers,
            mlp_hidden: 32,
            features_per_group: 2,
            num_buckets: 10,
            seed: 5,
        }
    }

    fn cpu() -> Device {
        crate::device::Device::Cpu.burn().unwrap()
    }

    /// Evenly spaced borders on [-2, 2], exact in f32.
    fn even_borders(k: usize) -> Vec<f64> {
        (0..=k).map(|i| -2.0 + 4.0 * i as f64 / k as f64).collect()
    }

    /// `tasks` tasks of `rows` rows and `f` features: smooth targets of the features, feature
    /// `constant` (if any) equal in every row.
    fn task_data(
        tasks: usize,
        rows: usize,
        f: usize,
        constant: Option<usize>,
    ) -> (Vec<f32>, Vec<f32>) {
        let mut rng = crate::rng::stream(9, "test.pfn.tasks");
        let mut x = Vec::with_capacity(tasks * rows * f);
        let mut y = Vec::with_capacity(tasks * rows);
        for _ in 0..tasks * rows {
            let row: Vec<f32> = (0..f)
                .map(|j| {
                    if Some(j) == constant {
                        1.5
                    } else {
                        rand::Rng::random_range(&mut rng, -2.0..2.0)
                    }
                })
                .collect();
            let target = row
                .iter()
                .enumerate()
                .map(|(j, v)| (v * (j as f32 + 1.0)).sin())
                .sum::<f32>()
                + rand::Rng::random_range(&mut rng, -0.1..0.1);
            x.extend(row);
            y.push(target);
        }
        (x, y)
    }

    fn values(t: Tensor<3>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    #[test]
    fn the_training_forward_gives_the_inference_models_logits() {
        let device = cpu().autodiff();
        let model = PfnModel::init(arch(2), 7, &device).unwrap();
        let weights = model.to_weights(even_borders(10), "test".into()).unwrap();
        let inference = TabPfnModel::new(&weights, &cpu()).unwrap();
        let (tasks, rows, n_train) = (2, 14, 9);
        // One feature (one group, half padding), three (the second group padded), a
        // constant feature (dropped by the x-encoder), and missing and infinite values (the
        // NaN indicators), each through both code paths.
        for (f, constant, gaps) in [
            (1, None, false),
            (3, None, false),
            (3, Some(1), false),
            (2, None, true),
        ] {
            let (mut x, y) = task_data(tasks, rows, f, constant);
            if gaps {
                // Task 0: a missing training value and an infinite test value; task 1: a
                // missing test value.
                x[3] = f32::NAN;
                x[(rows - 1) * f] = f32::INFINITY;
                x[(2 * rows - 2) * f + 1] = f32::NAN;
            }
            let batch = TaskBatch::new(tasks, rows, n_train, f, x.clone(), &y).unwrap();
            let found = values(model.forward(&batch));
            assert!(found.iter().all(|v| v.is_finite()), "{found:?}");
            assert_eq!(found.len(), tasks * (rows - n_train) * 10);
            let mut worst = 0f32;
            for t in 0..tasks {
                // The decoder's standardisation, by hand: the training rows' mean and
                // population standard deviation.
                let train = &y[t * rows..t * rows + n_train];
                let mean = train.iter().map(|&v| f64::from(v)).sum::<f64>() / n_train as f64;
                let var = train
                    .iter()
                    .map(|&v| (f64::from(v) - mean).powi(2))
                    .sum::<f64>()
                    / n_train as f64;
                let y_z: Vec<f32> = train
                    .iter()
                    .map(|&v| ((f64::from(v) - mean) / (var.sqrt() + 1e-20)) as f32)
                    .collect();
                let xt = &x[t * rows * f..(t + 1) * rows * f];
                let state = inference.fit(&xt[..n_train * f], f, &y_z).unwrap();
                let expected = inference.logits(&state, &xt[n_train * f..]).unwrap();
                let got = &found[t * (rows - n_train) * 10..(t + 1) * (rows - n_train) * 10];
                for (g, e) in got.iter().zip(&expected) {
                    worst = worst.max((g - e).abs());
                }
            }
            // f32 round-off of two summation orders (the fused CPU kernel and chunks there,
            // burn's attention here): about 1e-6 on logits of order 1.
            assert!(
                worst < 1e-5,
                "F = {f}, constant {constant:?}, gaps {gaps}: largest difference {worst}"
            );
        }
    }

    #[test]
    fn every_parameter_gets_a_gradient() {
        let device = cpu().autodiff();
        let model = PfnModel::init(arch(2), 1, &device).unwrap();
        let (x, y) = task_data(2, 10, 3, None);
        let batch = TaskBatch::new(2, 10, 6, 3, x, &y).unwrap();
        let loss = BarLoss::new(even_borders(10)).unwrap();
        let value = loss.mean_nll(model.forward(&batch), &batch).unwrap();
        let grads = GradientsParams::from_grads(value.backward(), &model);
        // x-encoder 1, y-encoder 2, subspace 2, 6 per layer, decoder 4.
        assert_eq!(grads.len(), 1 + 2 + 2 + 6 * 2 + 4);
    }

    #[test]
    fn a_tiny_model_overfits_one_batch() {
        let device = cpu().autodiff();
        let mut model = PfnModel::init(arch(1), 2, &device).unwrap();
        let (tasks, rows, n_train, f) = (4, 24, 16, 3);
        let (x, y) = task_data(tasks, rows, f, None);
        let batch = TaskBatch::new(tasks, rows, n_train, f, x, &y).unwrap();
        let borders = fit_borders(batch.standardised_targets(), 10).unwrap();
        let loss = BarLoss::new(borders.clone()).unwrap();
        // The uniform distribution over the buckets (equal logits), in closed form: log K plus
        // the log width of an inner bucket, or minus the log half-normal density of a tail.
        let k = borders.len() - 1;
        let half_normal = 0.674_489_736_557_006_8;
        let uniform = batch
            .test_targets()
            .iter()
            .map(|&y| {
                let y = f64::from(y);
                let tail = |w: f64, d: f64| {
                    let s = w / half_normal;
                    -((2.0 / std::f64::consts::PI).sqrt() / s * (-d * d / (2.0 * s * s)).exp()).ln()
                };
                let below = borders.iter().filter(|&&b| b < y).count();
                let bucket = below.saturating_sub(1).min(k - 1);
                (k as f64).ln()
                    + match bucket {
                        0 => tail(borders[1] - borders[0], (borders[1] - y).max(1e-8)),
                        b if b == k - 1 => {
                            tail(borders[k] - borders[k - 1], (y - borders[k - 1]).max(1e-8))
                        }
                        b => (borders[b + 1] - borders[b]).ln(),
                    }
            })
            .sum::<f64>()
            / batch.test_targets().len() as f64;
        let mut optimizer = AdamWConfig::new().with_weight_decay(0.0).init();
        let mut last = f64::INFINITY;
        for _ in 0..300 {
            let value = loss.mean_nll(model.forward(&batch), &batch).unwrap();
            last = f64::from(value.clone().into_scalar::<f32>());
            let grads = GradientsParams::from_grads(value.backward(), &model);
            model = optimizer.step(3e-3, model, grads);
        }
        // On average over the test targets, the fitted density is more than 4 times the
        // uniform distribution's (a tiny network that cannot fit the batch stays near it).
        assert!(
            last < uniform - 4f64.ln(),
            "uniform {uniform}, after 300 steps {last}"
        );
    }

    fn info() -> CheckpointInfo {
        CheckpointInfo {
            name: "quakelab-pfn-test".into(),
            prior: "mlp".into(),
            steps: 12,
            seed: 4,
            commit: "abc123".into(),
        }
    }

    #[test]
    fn a_checkpoint_round_trip_gives_identical_predictions() {
        let device = cpu();
        let model = PfnModel::init(arch(2), 4, &device).unwrap();
        let (x, y) = task_data(2, 12, 3, None);
        let batch = TaskBatch::new(2, 12, 8, 3, x, &y).unwrap();
        let borders = fit_borders(batch.standardised_targets(), 10).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pfn.safetensors");
        model
            .write_checkpoint(&path, borders.clone(), &info())
            .unwrap();
        // The decoder's reader takes it as it is.
        let read = TabPfnWeights::read(&path).unwrap();
        assert_eq!(read.architecture(), model.architecture());
        let (again, read_borders, read_info) = PfnModel::read_checkpoint(&path, &device).unwrap();
        assert_eq!(read_borders, borders);
        assert_eq!(read_info, info());
        assert_eq!(values(again.forward(&batch)), values(model.forward(&batch)));
    }

    #[test]
    fn a_checkpoint_name_carrying_tabpfn_is_refused() {
        let info = CheckpointInfo {
            name: "my-TabPFN-s".into(),
            ..info()
        };
        let err = info.to_metadata().unwrap_err().to_string();
        assert!(
            err.contains("quakelab.name") && err.contains("never carries"),
            "{err}"
        );
    }

    #[test]
    fn a_checkpoint_without_quakelab_metadata_is_refused() {
        let mut metadata = info().to_metadata().unwrap();
        metadata.remove("quakelab.steps");
        let err = CheckpointInfo::from_metadata(&metadata, Path::new("m.safetensors"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("metadata `quakelab.steps`") && err.contains("missing"),
            "{err}"
        );
    }

    #[test]
    fn checkpoint_steps_that_are_not_a_count_are_refused() {
        let mut metadata = info().to_metadata().unwrap();
        metadata.insert("quakelab.steps".into(), "-3".into());
        let err = CheckpointInfo::from_metadata(&metadata, Path::new("m.safetensors"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`-3` is not an integer"), "{err}");
    }

    #[test]
    fn a_task_whose_training_targets_are_all_equal_is_refused() {
        let y = [2.0, 2.0, 2.0, 5.0];
        let err = TaskBatch::new(1, 4, 3, 1, vec![0.0, 1.0, 2.0, 3.0], &y).unwrap_err();
        assert!(
            err.to_string()
                .contains("task 0: its training targets are all 2"),
            "{err}"
        );
    }

    #[test]
    fn a_batch_without_a_test_row_is_refused() {
        let err = TaskBatch::new(1, 2, 2, 1, vec![0.0, 1.0], &[0.0, 1.0]).unwrap_err();
        assert!(
            err.to_string()
                .contains("at least one training and one test row"),
            "{err}"
        );
    }

    #[test]
    fn a_batch_whose_values_do_not_fill_its_shape_is_refused() {
        let err = TaskBatch::new(1, 3, 2, 2, vec![0.0; 5], &[0.0, 1.0, 2.0]).unwrap_err();
        assert!(
            err.to_string().contains("5 feature values and 3 targets"),
            "{err}"
        );
    }

    #[test]
    fn a_target_that_is_not_finite_is_refused() {
        let err = TaskBatch::new(1, 3, 2, 1, vec![0.0; 3], &[0.0, 1.0, f32::NAN]).unwrap_err();
        assert!(
            err.to_string().contains("task 0, row 2: the target is NaN"),
            "{err}"
        );
    }

    #[test]
    fn an_architecture_whose_sizes_do_not_fit_is_refused() {
        let a = Architecture {
            features_per_group: 3,
            ..arch(1)
        };
        let weights = TabPfnWeights::random(a, 0);
        let err = PfnModel::from_weights(&weights, &cpu()).unwrap_err();
        assert!(
            err.to_string().contains("features_per_group 3 do not fit"),
            "{err}"
        );
    }
}
