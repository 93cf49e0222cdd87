//! Prior-fitted networks of quakelab's own: the trainable TabPFN v2 network and its loss.

pub mod loss;
pub mod model;
