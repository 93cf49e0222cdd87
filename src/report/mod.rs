//! Tables and figures rendered from results.

pub mod figure;
pub mod table;
