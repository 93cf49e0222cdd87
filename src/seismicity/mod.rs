//! Catalog statistics: completeness magnitude, Gutenberg-Richter b and a values in sliding
//! windows, kernel-density activity labels, stationarity tests and the window-size study.

pub mod bvalue;
pub mod kde;
pub mod mc;
pub mod stationarity;
pub mod window_study;
