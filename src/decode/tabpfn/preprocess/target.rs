//! The per-member target transform on the standardised targets (the package's
//! `REGRESSION_Y_PREPROCESS_TRANSFORMS`): none, or `safepower`, the same pipeline as the
//! features' power transform ([`super::power::PowerTransform`]: Yeo-Johnson with λ by maximum
//! likelihood, then the centring safe scaler) on the one target column.
//!
//! The model then predicts in the transformed space; the regressor maps the bar distribution's
//! borders back with [`TargetTransform::inverse`], which gives NaN for borders outside the
//! transform's range (the bar helper cancels those buckets).

use faer::Mat;
use serde::{Deserialize, Serialize};

use super::power::PowerTransform;
use crate::{Error, Result};

/// The kind of target transform (the setting `y_transform`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetTransformKind {
    /// The targets as they are.
    #[default]
    None,
    /// Yeo-Johnson with λ by maximum likelihood, then standardisation.
    Safepower,
}

/// A fitted target transform.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetTransform {
    power: Option<PowerTransform>,
}

impl TargetTransform {
    /// Fits the transform of kind `kind` on the (standardised) train targets `y`. Refuses (an
    /// [`Error::Numerical`]) an empty `y` or one with a missing or infinite value.
    pub fn fit(kind: TargetTransformKind, y: &[f64]) -> Result<TargetTransform> {
        if y.is_empty() {
            return Err(Error::Numerical(
                "TabPFN target transform: there are no train targets".into(),
            ));
        }
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(Error::Numerical(format!(
                "TabPFN target transform: train target {i} is {}, every target must be a finite \
                 number",
                y[i]
            )));
        }
        let power = match kind {
            TargetTransformKind::None => None,
            TargetTransformKind::Safepower => {
                let column = Mat::from_fn(y.len(), 1, |i, _| y[i]);
                Some(PowerTransform::fit(column.as_ref()).0)
            }
        };
        Ok(TargetTransform { power })
    }

    /// The transformed targets.
    pub fn forward(&self, y: &[f64]) -> Vec<f64> {
        match &self.power {
            None => y.to_vec(),
            Some(power) => {
                let column = Mat::from_fn(y.len(), 1, |i, _| y[i]);
                let out = power.transform(column.as_ref());
                (0..y.len()).map(|i| out[(i, 0)]).collect()
            }
        }
    }

    /// The value in standardised-target units of the transformed value `v`; NaN (or ±inf) where
    /// `v` lies outside the transform's range.
    pub fn inverse(&self, v: f64) -> f64 {
        match &self.power {
            None => v,
            Some(power) => power.inverse(0, v),
        }
    }

    /// Whether this is the identity (kind `none`).
    pub fn is_identity(&self) -> bool {
        self.power.is_none()
    }

    /// The Yeo-Johnson λ, for `safepower`.
    pub fn lambda(&self) -> Option<f64> {
        self.power.as_ref().map(|p| p.lambdas()[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::tabpfn::preprocess::fixture;

    #[test]
    fn safepower_matches_the_package_forward_and_inverse() {
        let y = fixture::vector("target_y");
        let transform = TargetTransform::fit(TargetTransformKind::Safepower, &y).unwrap();
        assert!(!transform.is_identity());
        let lambda = fixture::scalars()["target_lambda"].as_f64().unwrap();
        let got = transform.lambda().unwrap();
        assert!((got - lambda).abs() < 1e-12, "λ {got}, want {lambda}");
        let forward = transform.forward(&y);
        for (g, w) in forward.iter().zip(fixture::vector("target_forward")) {
            assert!((g - w).abs() < 1e-12 * w.abs().max(1.0), "{g} vs {w}");
        }
        let grid = fixture::vector("target_grid");
        let want = fixture::vector("target_inverse");
        assert!(
            want.iter().any(|v| v.is_nan()),
            "the grid reaches outside the range"
        );
        for (v, w) in grid.iter().zip(want) {
            let g = transform.inverse(*v);
            if w.is_nan() {
                assert!(g.is_nan(), "inverse({v}) = {g}, want NaN");
            } else {
                assert!(
                    (g - w).abs() < 1e-12 * w.abs().max(1.0),
                    "inverse({v}) = {g}, want {w}"
                );
            }
        }
    }

    #[test]
    fn none_is_the_identity() {
        let transform = TargetTransform::fit(TargetTransformKind::None, &[0.5, -1.0]).unwrap();
        assert!(transform.is_identity());
        assert_eq!(transform.forward(&[0.5, -1.0]), vec![0.5, -1.0]);
        assert_eq!(transform.inverse(3.5), 3.5);
    }

    #[test]
    fn a_missing_train_target_is_refused() {
        let err = TargetTransform::fit(TargetTransformKind::Safepower, &[0.5, f64::NAN])
            .unwrap_err()
            .to_string();
        assert!(err.contains("train target 1 is NaN"), "{err}");
    }

    #[test]
    fn no_train_targets_are_refused() {
        let err = TargetTransform::fit(TargetTransformKind::None, &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("there are no train targets"), "{err}");
    }
}
