//! Image classification: VGG-12 on geomagnetic-anomaly contour maps (papers.md §B).
//!
//! [`vgg12`] builds the network in burn, [`augment`](mod@augment) makes brightness, contrast and
//! horizontal-flip copies of training images (never a vertical flip or a rotation, which would
//! swap north and south), and [`train`](mod@train) fits it with Adam and a (class-weighted) cross-entropy,
//! with early stopping on a validation split, seeded and reproducible on the CPU.

pub mod augment;
pub mod train;
pub mod vgg12;

pub use augment::{AugmentSettings, Augmented, augment};
pub use train::{
    ClassWeights, EpochRecord, StepOutcome, TrainSettings, TrainedVgg12, Trainer, class_weights,
    train,
};
pub use vgg12::{Vgg12, Vgg12Config, parameter_count};
