//! quakelab's integration tests, built as one binary so that linking stays fast.

mod catalog;
mod cli;
mod real_data;
mod seismicity;
mod stationarity;
