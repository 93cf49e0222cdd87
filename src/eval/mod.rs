//! Evaluation: regression metrics, skill scores against reference forecasts, the label's
//! serial dependence (pitfalls P1 and P3), scores of quantile forecasts (pinball loss, CRPS),
//! and the uncertainty of test metrics: block-bootstrap intervals and the Diebold–Mariano test
//! (P9).

pub mod classification;
pub mod quantile;
pub mod regression;
pub mod uncertainty;

pub use quantile::{
    EvaluationSection, QuantileScores, level_weights, quantile_score, quantile_scores,
};
pub use regression::{
    LabelDependence, RegressionMetrics, label_dependence, mae, mse, r2, regression_metrics,
    skill_score,
};
pub use uncertainty::{
    BootstrapSettings, DieboldMariano, Interval, MetricIntervals, autocorrelation, block_length,
    bootstrap_interval, bootstrap_metrics, diebold_mariano, effective_sample_size,
    integrated_autocorrelation_time, newey_west_lag,
};
