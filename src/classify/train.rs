//! Training VGG-12: Adam on a (class-weighted) cross-entropy in seeded mini-batches, with early
//! stopping on a validation split.
//!
//! - **Loss.** For a batch with labels `y_i` and class weights `w`, the weighted mean
//!   cross-entropy `-Σ_i w_{y_i} log p_i(y_i) / Σ_i w_{y_i}` (PyTorch's `CrossEntropyLoss(weight)`
//!   with its default mean), with `p_i` the softmax of the logits. [`ClassWeights::Balanced`]
//!   gives class `c` the weight `n / (k · n_c)` over the training labels (`n` images, `k`
//!   classes present, `n_c` images of class `c`; scikit-learn's `balanced`); a class absent from
//!   the training labels gets weight 0, so it enters neither loss. Validation uses the same
//!   weights.
//! - **Optimiser.** Adam (β₁ = 0.9, β₂ = 0.999, ε = 1e-8, PyTorch's defaults) at a constant
//!   learning rate.
//! - **Order.** Each epoch visits the training images in a fresh permutation drawn from
//!   [`crate::rng::stream`]`(seed, "classify.train.shuffle")`; dropout masks come from
//!   `"classify.train.dropout"`, the initial weights from `"classify.vgg12.init"`. All are drawn
//!   on the host, so one seed gives the same weights and predictions run after run on the CPU.
//! - **Curves.** An epoch's training loss and accuracy are the means over its mini-batches as
//!   they were trained (dropout on, weights moving: Keras's convention); its validation loss and
//!   accuracy are computed after the epoch, without dropout.
//! - **Early stopping.** After `patience` consecutive epochs without a lower validation loss,
//!   training stops, and the weights of the epoch with the lowest validation loss are the ones
//!   kept (`patience` 0: run every epoch, still keeping the best). Without a validation split
//!   every epoch runs and the last epoch's weights are kept.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Tensor, TensorData};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::classify::vgg12::{Vgg12, Vgg12Config};
use crate::device::Device;
use crate::encode::ImageBatch;
use crate::{Error, Result};

/// Whether the classes of the loss are weighted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeights {
    /// Every image counts the same.
    #[default]
    None,
    /// Class `c` weighs `n / (k · n_c)` (see the module doc).
    Balanced,
}

/// How VGG-12 is trained.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainSettings {
    /// The most passes over the training images.
    pub epochs: usize,
    /// Images per optimiser step.
    pub batch_size: usize,
    /// Adam's step size.
    pub learning_rate: f64,
    /// Epochs without a lower validation loss before stopping (0: never stop early).
    pub patience: usize,
    /// Class weights of the loss.
    pub class_weights: ClassWeights,
    /// The seed of the initial weights, the batch order and the dropout masks.
    pub seed: u64,
}

impl Default for TrainSettings {
    /// 50 epochs of batches of 16 at a learning rate of 1e-4, patience 5, unweighted, seed 0.
    fn default() -> Self {
        TrainSettings {
            epochs: 50,
            batch_size: 16,
            learning_rate: 1e-4,
            patience: 5,
            class_weights: ClassWeights::None,
            seed: 0,
        }
    }
}

impl TrainSettings {
    /// Refuses zero epochs, a zero batch size and a learning rate that is not a positive
    /// finite number, naming the key (`classify.KEY`).
    pub fn check(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::config(
                "classify.epochs",
                "must be at least 1, got 0",
            ));
        }
        check_batch_size(self.batch_size)?;
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::config(
                "classify.learning_rate",
                format!("must be a positive number, got {}", self.learning_rate),
            ));
        }
        Ok(())
    }
}

fn check_batch_size(batch_size: usize) -> Result<()> {
    if batch_size == 0 {
        return Err(Error::config(
            "classify.batch_size",
            "must be at least 1, got 0",
        ));
    }
    Ok(())
}

/// The class weights of the loss for training labels `labels` of `n_classes` classes (see the
/// module doc): all 1 for [`ClassWeights::None`], `n / (k · n_c)` for
/// [`ClassWeights::Balanced`], 0 for a class absent from `labels`.
pub fn class_weights(labels: &[usize], n_classes: usize, mode: ClassWeights) -> Vec<f64> {
    match mode {
        ClassWeights::None => vec![1.0; n_classes],
        ClassWeights::Balanced => {
            let mut counts = vec![0_usize; n_classes];
            for &label in labels {
                if let Some(count) = counts.get_mut(label) {
                    *count += 1;
                }
            }
            let present = counts.iter().filter(|&&c| c > 0).count();
            let n = labels.len() as f64;
            counts
                .iter()
                .map(|&c| {
                    if c == 0 {
                        0.0
                    } else {
                        n / (present as f64 * c as f64)
                    }
                })
                .collect()
        }
    }
}

/// One epoch's training curve point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// The epoch, from 1.
    pub epoch: usize,
    /// The mean weighted cross-entropy over the epoch's mini-batches.
    pub train_loss: f64,
    /// The share of training images classified right as they were trained.
    pub train_accuracy: f64,
    /// The weighted cross-entropy on the validation split after the epoch, if there is one.
    pub validation_loss: Option<f64>,
    /// The share of validation images classified right after the epoch, if there is one.
    pub validation_accuracy: Option<f64>,
}

/// What one optimiser step saw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOutcome {
    /// The batch's weighted mean cross-entropy, before the step.
    pub loss: f64,
    /// The sum of the batch's class weights (the loss's denominator).
    pub weight: f64,
    /// Images of the batch whose largest logit was their class, before the step.
    pub correct: usize,
}

/// A VGG-12 being trained: the network on an autodiff device and Adam's state.
pub struct Trainer {
    config: Vgg12Config,
    model: Vgg12,
    optimizer: ModuleOptimizer,
    learning_rate: f64,
    weights: Vec<f64>,
    dropout: ChaCha8Rng,
    device: burn::tensor::Device,
}

impl Trainer {
    /// A freshly initialised network (seed `seed`) with Adam at `learning_rate` and the loss's
    /// class weights `weights` (one per class), on `device`.
    pub fn new(
        config: &Vgg12Config,
        learning_rate: f64,
        weights: Vec<f64>,
        seed: u64,
        device: Device,
    ) -> Result<Trainer> {
        if weights.len() != config.n_classes {
            return Err(Error::Numerical(format!(
                "VGG-12 training: {} class weights for {} classes",
                weights.len(),
                config.n_classes
            )));
        }
        if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
            return Err(Error::Numerical(format!(
                "VGG-12 training: a class weight is {w}; weights are finite and at least 0"
            )));
        }
        let device = device.burn()?.autodiff();
        let model = Vgg12::init(config, seed, &device)?;
        Ok(Trainer {
            config: *config,
            model,
            optimizer: AdamConfig::new().with_epsilon(1e-8).init(),
            learning_rate,
            weights,
            dropout: crate::rng::stream(seed, "classify.train.dropout"),
            device,
        })
    }

    /// One Adam step on the images `indices` of `images` with their classes from `labels`.
    ///
    /// Refuses images of another shape than the config's, an index without an image or a
    /// label, a class beyond the network's, and a non-finite pixel in the batch.
    pub fn step(
        &mut self,
        images: &ImageBatch,
        labels: &[usize],
        indices: &[usize],
    ) -> Result<StepOutcome> {
        check_shape("training", images, &self.config)?;
        let input = gather(images, indices)?;
        if let Some(v) = input.iter().find(|v| !v.is_finite()) {
            return Err(Error::Numerical(format!(
                "VGG-12 training: a batch has a non-finite pixel ({v}); none is ever filled in"
            )));
        }
        let n_classes = self.config.n_classes;
        let targets = indices
            .iter()
            .map(|&i| match labels.get(i) {
                Some(&label) if label < n_classes => Ok(label),
                Some(&label) => Err(Error::Numerical(format!(
                    "VGG-12 training: image {i} has class {label}, but the network has \
                     {n_classes} classes"
                ))),
                None => Err(Error::Numerical(format!(
                    "VGG-12 training: image {i} has no label"
                ))),
            })
            .collect::<Result<Vec<usize>>>()?;
        let input = input_tensor(&self.config, input, indices.len(), &self.device);
        let logits = self
            .model
            .forward_with_dropout(input, Some(&mut self.dropout));
        let (target_matrix, weight) = weighted_targets(&targets, &self.weights);
        let host_logits = to_host(logits.clone())?;
        let (loss, correct) = loss_and_correct(&host_logits, &targets, &self.weights);
        if weight == 0.0 {
            // Every image of the batch has a class of weight 0: nothing to learn from it.
            return Ok(StepOutcome {
                loss: 0.0,
                weight,
                correct,
            });
        }
        let target_matrix = Tensor::<2>::from_data(
            TensorData::new(target_matrix, [indices.len(), n_classes]),
            &self.device,
        );
        let loss_tensor = (log_softmax(logits, 1) * target_matrix).sum().neg();
        let grads = GradientsParams::from_grads(loss_tensor.backward(), &self.model);
        self.model = self
            .optimizer
            .step(self.learning_rate, self.model.clone(), grads);
        Ok(StepOutcome {
            loss,
            weight,
            correct,
        })
    }

    /// The current weights without autodiff, for inference.
    pub fn snapshot(&self) -> Vgg12 {
        self.model.valid()
    }
}

/// A trained VGG-12 with its training curves.
#[derive(Debug)]
pub struct TrainedVgg12 {
    config: Vgg12Config,
    model: Vgg12,
    device: burn::tensor::Device,
    /// One record per epoch run.
    pub curves: Vec<EpochRecord>,
    /// The epoch whose weights were kept (from 1).
    pub best_epoch: usize,
    /// Whether early stopping ended training before the last epoch.
    pub stopped_early: bool,
    /// The loss's weight of each class.
    pub class_weights: Vec<f64>,
}

/// Trains VGG-12 of `config` on `train` (images and their classes), stopping early on
/// `validation` when given (see the module doc), on `device`.
///
/// An empty validation split is the same as none. Refuses bad settings and config, an empty
/// training split, images whose shape is not the config's, labels of another length than their
/// images or beyond `n_classes`, and a non-finite pixel; a training or validation loss that
/// becomes non-finite stops training with an error naming the epoch.
pub fn train(
    train: (&ImageBatch, &[usize]),
    validation: Option<(&ImageBatch, &[usize])>,
    config: &Vgg12Config,
    settings: &TrainSettings,
    device: Device,
) -> Result<TrainedVgg12> {
    settings.check()?;
    config.check()?;
    let (images, labels) = train;
    check_split("training", images, labels, config)?;
    if images.n() == 0 {
        return Err(Error::Numerical(
            "VGG-12 training: the training split has no image".into(),
        ));
    }
    if let Some((v_images, v_labels)) = validation {
        check_split("validation", v_images, v_labels, config)?;
    }
    let weights = class_weights(labels, config.n_classes, settings.class_weights);
    let mut trainer = Trainer::new(
        config,
        settings.learning_rate,
        weights.clone(),
        settings.seed,
        device,
    )?;
    let mut shuffle = crate::rng::stream(settings.seed, "classify.train.shuffle");
    let mut order: Vec<usize> = (0..images.n()).collect();
    let mut curves = Vec::new();
    let mut best: Option<(f64, usize, Vgg12)> = None;
    let mut stale = 0;
    let mut stopped_early = false;
    for epoch in 1..=settings.epochs {
        order.shuffle(&mut shuffle);
        let batches = order.len().div_ceil(settings.batch_size);
        let bar = crate::progress::bar(
            batches as u64,
            &format!("epoch {epoch}/{}", settings.epochs),
        );
        let (mut loss_sum, mut weight_sum, mut correct) = (0.0, 0.0, 0);
        for batch in order.chunks(settings.batch_size) {
            let outcome = trainer.step(images, labels, batch)?;
            loss_sum += outcome.loss * outcome.weight;
            weight_sum += outcome.weight;
            correct += outcome.correct;
            bar.inc(1);
        }
        bar.finish_and_clear();
        let train_loss = if weight_sum > 0.0 {
            loss_sum / weight_sum
        } else {
            0.0
        };
        if !train_loss.is_finite() {
            return Err(Error::Numerical(format!(
                "VGG-12 training diverged in epoch {epoch}: the training loss is {train_loss}; \
                 try a lower classify.learning_rate"
            )));
        }
        let mut record = EpochRecord {
            epoch,
            train_loss,
            train_accuracy: correct as f64 / images.n() as f64,
            validation_loss: None,
            validation_accuracy: None,
        };
        let snapshot = trainer.snapshot();
        match validation {
            Some((v_images, v_labels)) if v_images.n() > 0 => {
                let logits = logits_on(
                    &snapshot,
                    config,
                    v_images,
                    settings.batch_size,
                    &trainer.device.clone().inner(),
                )?;
                let (loss, v_correct) = loss_and_correct(&logits, v_labels, &weights);
                if !loss.is_finite() {
                    return Err(Error::Numerical(format!(
                        "VGG-12 training diverged in epoch {epoch}: the validation loss is \
                         {loss}; try a lower classify.learning_rate"
                    )));
                }
                record.validation_loss = Some(loss);
                record.validation_accuracy = Some(v_correct as f64 / v_images.n() as f64);
                tracing::info!(
                    epoch,
                    train_loss,
                    train_accuracy = record.train_accuracy,
                    validation_loss = loss,
                    validation_accuracy = record.validation_accuracy,
                    "VGG-12 epoch"
                );
                curves.push(record);
                if best.as_ref().is_none_or(|(b, _, _)| loss < *b) {
                    best = Some((loss, epoch, snapshot));
                    stale = 0;
                } else {
                    stale += 1;
                    if settings.patience > 0 && stale >= settings.patience {
                        stopped_early = epoch < settings.epochs;
                        break;
                    }
                }
            }
            _ => {
                tracing::info!(
                    epoch,
                    train_loss,
                    train_accuracy = record.train_accuracy,
                    "VGG-12 epoch"
                );
                curves.push(record);
                best = Some((train_loss, epoch, snapshot));
            }
        }
    }
    let (_, best_epoch, model) = match best {
        Some(best) => best,
        None => (0.0, settings.epochs, trainer.snapshot()),
    };
    Ok(TrainedVgg12 {
        config: *config,
        model,
        device: trainer.device.clone().inner(),
        curves,
        best_epoch,
        stopped_early,
        class_weights: weights,
    })
}

impl TrainedVgg12 {
    /// The architecture.
    pub fn config(&self) -> &Vgg12Config {
        &self.config
    }

    /// The kept weights.
    pub fn model(&self) -> &Vgg12 {
        &self.model
    }

    /// The predicted class (the most probable; the lowest index on a tie) and the softmax
    /// probabilities of every class, per image, `batch_size` images at a time.
    ///
    /// Refuses a zero batch size, images whose shape is not the config's, and a non-finite
    /// pixel.
    pub fn predict(
        &self,
        images: &ImageBatch,
        batch_size: usize,
    ) -> Result<Vec<(usize, Vec<f32>)>> {
        check_batch_size(batch_size)?;
        check_images("prediction", images, &self.config)?;
        let logits = logits_on(&self.model, &self.config, images, batch_size, &self.device)?;
        Ok(logits
            .chunks_exact(self.config.n_classes)
            .map(|row| {
                let probabilities = softmax(row);
                (argmax(row), probabilities)
            })
            .collect())
    }
}

/// Refuses a split whose images do not fit `config` or whose labels do not fit its images.
fn check_split(
    what: &str,
    images: &ImageBatch,
    labels: &[usize],
    config: &Vgg12Config,
) -> Result<()> {
    check_images(what, images, config)?;
    if labels.len() != images.n() {
        return Err(Error::Numerical(format!(
            "VGG-12 {what} split: {} labels for {} images",
            labels.len(),
            images.n()
        )));
    }
    if let Some((i, &label)) = labels
        .iter()
        .enumerate()
        .find(|(_, l)| **l >= config.n_classes)
    {
        return Err(Error::Numerical(format!(
            "VGG-12 {what} split: image {i} has class {label}, but the network has {} classes \
             (0 to {})",
            config.n_classes,
            config.n_classes - 1
        )));
    }
    Ok(())
}

/// Refuses images of another shape than `config`'s, or with a non-finite pixel.
fn check_images(what: &str, images: &ImageBatch, config: &Vgg12Config) -> Result<()> {
    check_shape(what, images, config)?;
    let shape = images.shape();
    let image_len = shape.channels * shape.height * shape.width;
    if let Some(at) = images.data().iter().position(|v| !v.is_finite()) {
        return Err(Error::Numerical(format!(
            "VGG-12 {what}: image {} has a non-finite pixel ({}); none is ever filled in",
            at / image_len,
            images.data()[at]
        )));
    }
    Ok(())
}

/// Refuses images of another shape than `config`'s.
fn check_shape(what: &str, images: &ImageBatch, config: &Vgg12Config) -> Result<()> {
    let shape = images.shape();
    if shape.channels != config.in_channels
        || shape.height != config.image_size
        || shape.width != config.image_size
    {
        return Err(Error::Numerical(format!(
            "VGG-12 {what}: images of {} x {} x {} (C x H x W), but the network takes {} x {} x \
             {}",
            shape.channels,
            shape.height,
            shape.width,
            config.in_channels,
            config.image_size,
            config.image_size
        )));
    }
    Ok(())
}

/// The pixels of the images `indices`, one after another.
fn gather(images: &ImageBatch, indices: &[usize]) -> Result<Vec<f32>> {
    let mut data = Vec::new();
    for &i in indices {
        let image = images.image(i).ok_or_else(|| {
            Error::Numerical(format!(
                "VGG-12: image {i} is beyond the {} images",
                images.n()
            ))
        })?;
        data.extend_from_slice(image);
    }
    Ok(data)
}

/// `n` images of `config`'s shape as a tensor on `device`.
fn input_tensor(
    config: &Vgg12Config,
    data: Vec<f32>,
    n: usize,
    device: &burn::tensor::Device,
) -> Tensor<4> {
    let side = config.image_size;
    Tensor::<4>::from_data(
        TensorData::new(data, [n, config.in_channels, side, side]),
        device,
    )
}

/// The loss's target matrix, `w_{y_i} / Σ_j w_{y_j}` at `(i, y_i)` and 0 elsewhere, row-major,
/// and the weight sum.
fn weighted_targets(targets: &[usize], weights: &[f64]) -> (Vec<f32>, f64) {
    let k = weights.len();
    let total: f64 = targets.iter().map(|&y| weights[y]).sum();
    let mut matrix = vec![0.0_f32; targets.len() * k];
    if total > 0.0 {
        for (i, &y) in targets.iter().enumerate() {
            matrix[i * k + y] = (weights[y] / total) as f32;
        }
    }
    (matrix, total)
}

/// The weighted mean cross-entropy of row-major `logits` against `targets` (0 when every
/// weight is 0) and how many rows have their target as largest logit.
fn loss_and_correct(logits: &[f32], targets: &[usize], weights: &[f64]) -> (f64, usize) {
    let k = weights.len();
    let (mut loss, mut total, mut correct) = (0.0, 0.0, 0);
    for (row, &y) in logits.chunks_exact(k).zip(targets) {
        let max = row
            .iter()
            .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
        let log_sum = max
            + row
                .iter()
                .map(|&v| (f64::from(v) - max).exp())
                .sum::<f64>()
                .ln();
        loss -= weights[y] * (f64::from(row[y]) - log_sum);
        total += weights[y];
        if argmax(row) == y {
            correct += 1;
        }
    }
    let loss = if total > 0.0 { loss / total } else { 0.0 };
    (loss, correct)
}

/// The index of the largest value (the first on a tie).
fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(best, max), (i, &v)| {
            if v > max { (i, v) } else { (best, max) }
        })
        .0
}

/// The softmax of one row of logits.
fn softmax(row: &[f32]) -> Vec<f32> {
    let max = row
        .iter()
        .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
    let exp: Vec<f64> = row.iter().map(|&v| (f64::from(v) - max).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.iter().map(|&e| (e / sum) as f32).collect()
}

/// A tensor's values on the host.
fn to_host<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>> {
    tensor
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|e| Error::Numerical(format!("VGG-12 logits: {e:?}")))
}

/// The logits of every image of `images`, row-major, `batch_size` images at a time on `device`.
fn logits_on(
    model: &Vgg12,
    config: &Vgg12Config,
    images: &ImageBatch,
    batch_size: usize,
    device: &burn::tensor::Device,
) -> Result<Vec<f32>> {
    let mut out = Vec::with_capacity(images.n() * config.n_classes);
    let all: Vec<usize> = (0..images.n()).collect();
    for chunk in all.chunks(batch_size) {
        let data = gather(images, chunk)?;
        let input = input_tensor(config, data, chunk.len(), device);
        out.extend(to_host(model.forward(input))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_weights_are_n_over_k_n_c() {
        // 6 images: class 0 x3, class 1 x2, class 3 x1; class 2 absent, so k = 3 present.
        // w0 = 6 / (3*3) = 2/3, w1 = 6 / (3*2) = 1, w3 = 6 / (3*1) = 2, w2 = 0.
        let labels = [0, 1, 0, 3, 1, 0];
        let w = class_weights(&labels, 4, ClassWeights::Balanced);
        let expected = [2.0 / 3.0, 1.0, 0.0, 2.0];
        for (a, b) in w.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{w:?}");
        }
        assert_eq!(class_weights(&labels, 4, ClassWeights::None), vec![1.0; 4]);
    }

    #[test]
    fn the_weighted_loss_matches_a_hand_computation() {
        // Two rows of logits (ln 1, ln 3) and (0, 0): softmax (1/4, 3/4) and (1/2, 1/2).
        // Targets 1 and 0 with weights (2, 1): loss = -(1 ln(3/4) + 2 ln(1/2)) / 3.
        let logits = [0.0, 3.0_f32.ln(), 0.0, 0.0];
        let (loss, correct) = loss_and_correct(&logits, &[1, 0], &[2.0, 1.0]);
        let expected = -(0.75_f64.ln() + 2.0 * 0.5_f64.ln()) / 3.0;
        assert!((loss - expected).abs() < 1e-6, "{loss} vs {expected}");
        // Row 0's largest logit is class 1 (right); row 1 ties, the first (0) wins (right).
        assert_eq!(correct, 2);
    }

    fn tiny() -> Vgg12Config {
        Vgg12Config {
            image_size: 16,
            filters: [2, 2, 2, 2],
            convs_per_block: [1, 1, 1, 1],
            hidden: 4,
            n_classes: 3,
            ..Vgg12Config::default()
        }
    }

    #[test]
    fn class_weights_of_another_count_than_the_classes_are_refused() {
        let err = Trainer::new(&tiny(), 1e-3, vec![1.0; 2], 0, Device::Cpu)
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "VGG-12 training: 2 class weights for 3 classes"
        );
    }

    #[test]
    fn a_negative_class_weight_is_refused() {
        let err = Trainer::new(&tiny(), 1e-3, vec![1.0, -1.0, 1.0], 0, Device::Cpu)
            .err()
            .unwrap();
        assert!(err.to_string().contains("a class weight is -1"), "{err}");
    }

    #[test]
    fn a_step_on_a_class_beyond_the_network_is_refused() {
        let mut trainer = Trainer::new(&tiny(), 1e-3, vec![1.0; 3], 0, Device::Cpu).unwrap();
        let shape = crate::encode::BatchShape {
            n: 2,
            channels: 1,
            height: 16,
            width: 16,
        };
        let images = ImageBatch::new(vec![0.5_f32; 2 * 256], shape).unwrap();
        let err = trainer.step(&images, &[0, 3], &[0, 1]).err().unwrap();
        assert_eq!(
            err.to_string(),
            "VGG-12 training: image 1 has class 3, but the network has 3 classes"
        );
        assert!(trainer.step(&images, &[0, 2], &[0, 1]).is_ok());
    }

    #[test]
    fn zero_epochs_are_refused() {
        let settings = TrainSettings {
            epochs: 0,
            ..TrainSettings::default()
        };
        let err = settings.check().unwrap_err();
        assert!(matches!(&err, Error::Config { key, .. } if key == "classify.epochs"));
    }

    #[test]
    fn a_zero_batch_size_is_refused() {
        let settings = TrainSettings {
            batch_size: 0,
            ..TrainSettings::default()
        };
        let err = settings.check().unwrap_err();
        assert!(matches!(&err, Error::Config { key, .. } if key == "classify.batch_size"));
    }

    #[test]
    fn a_learning_rate_that_is_not_positive_is_refused() {
        let settings = TrainSettings {
            learning_rate: 0.0,
            ..TrainSettings::default()
        };
        let err = settings.check().unwrap_err();
        assert!(matches!(&err, Error::Config { key, .. } if key == "classify.learning_rate"));
    }
}
