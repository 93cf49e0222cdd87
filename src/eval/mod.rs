//! Evaluation: regression metrics, skill scores against reference forecasts, the label's
//! serial dependence (pitfalls P1 and P3), and scores of quantile forecasts (pinball loss,
//! CRPS).

pub mod quantile;
pub mod regression;

pub use quantile::{
    EvaluationSection, QuantileScores, level_weights, quantile_score, quantile_scores,
};
pub use regression::{
    LabelDependence, RegressionMetrics, label_dependence, mae, mse, r2, regression_metrics,
    skill_score,
};
