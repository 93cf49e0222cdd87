//! quakelab's own prior-fitted network (PFN): a small transformer of the TabPFN v2 shape,
//! pretrained on synthetic regression tasks so that it predicts a new table in context, with
//! no training and no tuning (Müller et al. 2022; Hollmann et al. 2023, 2025).
//!
//! - [`prior`]: the seeded, streaming generators of the synthetic tasks it is trained on.
//! - [`schedule`]: the learning-rate schedule of pretraining (linear warmup, cosine decay).

pub mod prior;
pub mod schedule;
