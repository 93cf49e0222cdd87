//! Ridge regression in closed form, the "one neuron" check of `spec/evaluation-pitfalls.md` P3.
//!
//! The intercept is not penalised: X and y are centred on their training means, the
//! coefficients solve (XcᵀXc + αI) w = Xcᵀyc by a Cholesky factorisation, and the intercept is
//! ȳ − x̄ᵀw. This is scikit-learn's `Ridge(alpha, fit_intercept=True)`.

use faer::linalg::solvers::Solve;
use faer::{Col, Mat, MatRef, Side};
use serde::{Deserialize, Serialize};

use super::{
    DecoderSettings, FitContext, Regressor, check_fit_input, check_predict_input, not_fitted,
};
use crate::{Error, Result};

/// Settings of ridge regression (`kind = "ridge"`): closed form, unpenalised intercept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RidgeSettings {
    /// The penalty α on the squared coefficients (default 1, scikit-learn's). Zero gives
    /// ordinary least squares, which fails on collinear features.
    pub alpha: f64,
}

impl Default for RidgeSettings {
    fn default() -> Self {
        RidgeSettings { alpha: 1.0 }
    }
}

impl DecoderSettings for RidgeSettings {
    fn check(&self) -> Result<()> {
        crate::ensure_config!(
            self.alpha.is_finite() && self.alpha >= 0.0,
            "decoder.alpha",
            "must be a finite number ≥ 0, got {}",
            self.alpha
        );
        Ok(())
    }

    fn build(&self, _feature_names: &[String]) -> Result<Box<dyn Regressor>> {
        Ok(Box::new(Ridge {
            alpha: self.alpha,
            fitted: None,
        }))
    }
}

/// A fitted linear model: prediction = intercept + xᵀ coefficients.
struct Linear {
    coefficients: Col<f64>,
    intercept: f64,
}

/// Ridge regression with an unpenalised intercept.
struct Ridge {
    alpha: f64,
    fitted: Option<Linear>,
}

impl Regressor for Ridge {
    fn name(&self) -> String {
        "ridge".to_string()
    }

    fn fit(&mut self, x: MatRef<'_, f64>, y: &[f64], ctx: &FitContext<'_>) -> Result<()> {
        check_fit_input("ridge", x, y, None, ctx)?;
        let (n, p) = (x.nrows(), x.ncols());
        let x_mean: Vec<f64> = (0..p)
            .map(|j| x.col(j).iter().sum::<f64>() / n as f64)
            .collect();
        let y_mean = y.iter().sum::<f64>() / n as f64;
        let centred = Mat::from_fn(n, p, |i, j| x[(i, j)] - x_mean[j]);
        let y_centred = Col::from_fn(n, |i| y[i] - y_mean);

        let mut gram = centred.transpose() * &centred;
        for j in 0..p {
            gram[(j, j)] += self.alpha;
        }
        let rhs = centred.transpose() * &y_centred;
        let cholesky = gram.llt(Side::Lower).map_err(|e| {
            Error::Numerical(format!(
                "ridge: XᵀX + αI is not positive definite ({e:?}); with alpha = {} the features \
                 are collinear or constant, so use alpha > 0",
                self.alpha
            ))
        })?;
        let coefficients = cholesky.solve(&rhs);
        let intercept = y_mean
            - x_mean
                .iter()
                .zip(coefficients.iter())
                .map(|(m, w)| m * w)
                .sum::<f64>();
        self.fitted = Some(Linear {
            coefficients,
            intercept,
        });
        Ok(())
    }

    fn predict(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        let Some(linear) = &self.fitted else {
            return Err(not_fitted("ridge"));
        };
        check_predict_input("ridge", x, linear.coefficients.nrows())?;
        let product = x * &linear.coefficients;
        Ok(product.iter().map(|v| v + linear.intercept).collect())
    }
}

#[cfg(test)]
mod tests {
    use faer::mat;

    use super::*;

    fn fit_predict(alpha: f64, x: MatRef<'_, f64>, y: &[f64], test: MatRef<'_, f64>) -> Vec<f64> {
        let mut model = RidgeSettings { alpha }.build(&[]).unwrap();
        model.fit(x, y, &FitContext::new(0)).unwrap();
        model.predict(test).unwrap()
    }

    #[test]
    fn one_feature_by_hand() {
        // y = 1 + 2x on x = 0, 1, 2.
        let x = mat![[0.0], [1.0], [2.0]];
        let y = [1.0, 3.0, 5.0];
        let test = mat![[3.0], [-1.0]];
        // alpha = 0: the exact line, 1 + 2x.
        let ols = fit_predict(0.0, x.as_ref(), &y, test.as_ref());
        assert!(
            (ols[0] - 7.0).abs() < 1e-12 && (ols[1] + 1.0).abs() < 1e-12,
            "{ols:?}"
        );
        // alpha = 1: xc = (-1, 0, 1), yc = (-2, 0, 2); w = Σxc·yc / (Σxc² + 1) = 4 / 3, and the
        // unpenalised intercept is ȳ − x̄w = 3 − 4/3 = 5/3.
        let ridge = fit_predict(1.0, x.as_ref(), &y, test.as_ref());
        let expected = [5.0 / 3.0 + 3.0 * 4.0 / 3.0, 5.0 / 3.0 - 4.0 / 3.0];
        for (got, want) in ridge.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
    }

    #[test]
    fn two_orthogonal_features_by_hand() {
        // Centred columns (1, -1, 1, -1) and (1, 1, -1, -1) are orthogonal with Σxc² = 4, so
        // each coefficient is Σxc·yc / (4 + α) on its own.
        let x = mat![[11.0, 1.0], [9.0, 1.0], [11.0, -1.0], [9.0, -1.0]];
        // y = 2 + 3·x0 − 0.5·x1 + (1, −1, −1, 1): the last term is orthogonal to both columns.
        let y: Vec<f64> = (0..4)
            .map(|i| 2.0 + 3.0 * x[(i, 0)] - 0.5 * x[(i, 1)] + [1.0, -1.0, -1.0, 1.0][i])
            .collect();
        let alpha = 4.0;
        // Σxc0·yc = 3·4 = 12 → w0 = 12/8 = 1.5; Σxc1·yc = −0.5·4 = −2 → w1 = −2/8 = −0.25;
        // intercept = ȳ − 10·w0 − 0·w1 with ȳ = 2 + 30 = 32, so 17.
        let test = mat![[10.0, 0.0], [12.0, 2.0]];
        let got = fit_predict(alpha, x.as_ref(), &y, test.as_ref());
        let expected = [17.0 + 15.0, 17.0 + 18.0 - 0.5];
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-12, "{g} vs {e}");
        }
    }

    #[test]
    fn constant_feature_without_penalty_fails_cleanly() {
        // A constant column centres to exact zeros, so XcᵀXc has a zero pivot.
        let x = mat![[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]];
        let mut model = RidgeSettings { alpha: 0.0 }.build(&[]).unwrap();
        let result = model.fit(x.as_ref(), &[1.0, 2.0, 3.0], &FitContext::new(0));
        assert!(matches!(result, Err(Error::Numerical(_))), "{result:?}");
        let mut model = RidgeSettings { alpha: 0.1 }.build(&[]).unwrap();
        model
            .fit(x.as_ref(), &[1.0, 2.0, 3.0], &FitContext::new(0))
            .unwrap();
    }
}
