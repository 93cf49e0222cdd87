//! quakelab's own prior-fitted network (PFN): a small transformer of the TabPFN v2 shape,
//! pretrained on synthetic regression tasks so that it predicts a new table in context, with
//! no training and no tuning (Müller et al. 2022; Hollmann et al. 2023, 2025).
//!
//! - [`prior`]: the seeded, streaming generators of the synthetic tasks it is trained on.
//! - [`model`]: the trainable network, the same computation as the TabPFN v2 decoder's forward
//!   pass in burn's autodiff mode, and its checkpoints (the `.safetensors` the decoder reads).
//! - [`loss`]: the bar-distribution negative log-likelihood and the borders fitted on prior
//!   targets.
//! - [`pretrain`]: the pretraining loop of `quakelab pfn pretrain`, its file, checkpoints and
//!   resume.
//! - [`schedule`]: the learning-rate schedule of pretraining (linear warmup, cosine decay).
//! - [`suite`]: standard regression functions (Friedman #1–3) for evaluating a network.
//! - [`decoder`]: the `pfn` decoder, which predicts a table in context with the shipped
//!   `quakelab-pfn-s` (built into the binary) or another pretrained checkpoint.
//! - [`eval`]: `quakelab pfn eval`, a network against ridge, a forest and XGBoost, task by task.

pub mod decoder;
pub mod eval;
pub mod loss;
pub mod model;
pub mod pretrain;
pub mod prior;
pub mod schedule;
pub mod suite;
