//! Tables and figures rendered from results.

pub mod classification;
pub mod figure;
pub mod gnss;
pub mod importance;
pub mod paper;
pub mod precursor;
pub mod results;
pub mod review;
pub mod study;
pub mod table;
