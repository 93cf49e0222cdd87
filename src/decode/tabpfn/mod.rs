//! TabPFN v2, the paper's in-context regressor, native in burn.
//!
//! Its "fit" stores the training rows; its forward pass attends from each test row to them.
//! The parts: the architecture read from the checkpoint ([`architecture`]), the weights
//! ([`weights`]), the seeded feature embeddings ([`torch_randn`]), the forward pass ([`model`]),
//! the bar distribution over the output buckets ([`bar`]) and the preprocessing around the model
//! ([`preprocess`]).

pub mod architecture;
pub mod bar;
pub mod model;
pub mod preprocess;
pub mod torch_randn;
pub mod weights;
