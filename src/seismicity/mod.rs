//! Catalog statistics: completeness magnitude, Gutenberg-Richter b and a values in sliding
//! windows and the significance of their variation, Weichert's b for time-varying completeness,
//! kernel-density activity labels and the label series of every kind, daily counts,
//! stationarity tests, the window-size study, and declustering (Gardner-Knopoff, Reasenberg).
//! Everything here returns data; [`crate::report`] renders it.

pub mod b_significance;
pub mod bvalue;
pub mod counts;
pub mod decluster;
pub mod kde;
pub mod labels;
pub mod mc;
pub mod stationarity;
pub mod weichert;
pub mod window_study;
