//! Evaluation: regression metrics, skill scores against reference forecasts, and the label's
//! serial dependence (pitfalls P1 and P3).

pub mod regression;

pub use regression::{
    LabelDependence, RegressionMetrics, label_dependence, mae, mse, r2, regression_metrics,
    skill_score,
};
