//! Pretrained models: their weight files ([`checkpoint`]) and the local model store.

pub mod checkpoint;

pub use checkpoint::{Checkpoint, CheckpointFormat, ElementType, TensorInfo, sha256_file};
