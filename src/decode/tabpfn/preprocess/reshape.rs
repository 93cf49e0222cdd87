//! The feature-distribution step of a member (the package's `ReshapeFeatureDistributionsStep`)
//! for the three `preprocess` settings, with the package's column layout.
//!
//! With `F` columns (after the constant ones are dropped), `C` of them taken as categorical (they
//! are never transformed, only passed through) and the others numeric:
//! - `none`: the categorical columns, then the numeric ones, as they are;
//! - `power`: the categorical columns, then the power pipeline of the numeric ones
//!   ([`PowerTransform`]);
//! - `quantile_svd`: all `F` columns as they are when `F < 500` (the package's
//!   `append_original="auto"`), else the categorical ones only; then the uniform quantile
//!   transform of the numeric columns ([`QuantileTransform`]); then, when `F ≥ 2`,
//!   [`n_components`]`(n, F)` SVD features of everything before them ([`SvdFeatures`]).
//!
//! The package's categorical encoders that come after this step (shuffled ordinal codes of
//! frequent categories for `quantile_svd`, one-hot codes for `power`) are not implemented: the
//! categorical columns keep their ordinal codes (see [`super::categorical`]).

use faer::{Mat, MatRef};

use super::FeaturePreprocess;
use super::power::PowerTransform;
use super::quantile::QuantileTransform;
use super::svd::{SvdFeatures, n_components};
use crate::Result;

/// Below this many columns, the quantile pipeline keeps the original columns (2.2.1
/// `APPEND_TO_ORIGINAL_THRESHOLD`).
const APPEND_ORIGINAL_BELOW: usize = 500;

/// The transform of the numeric columns.
#[derive(Debug, Clone, PartialEq)]
enum NumericTransform {
    Identity,
    Quantile(QuantileTransform),
    Power(PowerTransform),
}

/// A fitted feature-distribution step.
#[derive(Debug, Clone, PartialEq)]
pub struct Reshape {
    /// The columns that come out first, as they are.
    passthrough: Vec<usize>,
    /// The columns that come out next, transformed.
    numeric: Vec<usize>,
    transform: NumericTransform,
    svd: Option<SvdFeatures>,
}

impl Reshape {
    /// Fits the step of `kind` on the train rows `x` (no constant column, every column with a
    /// value), `categorical` holding the positions taken as categorical, and returns the
    /// transformed train rows.
    pub fn fit(
        kind: FeaturePreprocess,
        x: MatRef<'_, f64>,
        categorical: &[usize],
    ) -> Result<(Reshape, Mat<f64>)> {
        let n_features = x.ncols();
        let numeric: Vec<usize> = (0..n_features)
            .filter(|j| !categorical.contains(j))
            .collect();
        let passthrough = match kind {
            FeaturePreprocess::QuantileSvd if n_features < APPEND_ORIGINAL_BELOW => {
                (0..n_features).collect()
            }
            _ => categorical.to_vec(),
        };
        let numeric_x = columns(x, &numeric);
        let (transform, transformed) = match kind {
            FeaturePreprocess::None => (NumericTransform::Identity, numeric_x),
            FeaturePreprocess::QuantileSvd => {
                let quantile = QuantileTransform::fit(numeric_x.as_ref());
                let out = quantile.transform(numeric_x.as_ref());
                (NumericTransform::Quantile(quantile), out)
            }
            FeaturePreprocess::Power => {
                let (power, out) = PowerTransform::fit(numeric_x.as_ref());
                (NumericTransform::Power(power), out)
            }
        };
        let joined = hstack(columns(x, &passthrough).as_ref(), transformed.as_ref());
        let mut reshape = Reshape {
            passthrough,
            numeric,
            transform,
            svd: None,
        };
        if kind == FeaturePreprocess::QuantileSvd && n_features >= 2 {
            let k = n_components(x.nrows(), n_features);
            let (svd, features) = SvdFeatures::fit(joined.as_ref(), k)?;
            reshape.svd = Some(svd);
            return Ok((reshape, hstack(joined.as_ref(), features.as_ref())));
        }
        Ok((reshape, joined))
    }

    /// Transforms rows `x` (as many columns as the train rows).
    pub fn transform(&self, x: MatRef<'_, f64>) -> Mat<f64> {
        let numeric_x = columns(x, &self.numeric);
        let transformed = match &self.transform {
            NumericTransform::Identity => numeric_x,
            NumericTransform::Quantile(quantile) => quantile.transform(numeric_x.as_ref()),
            NumericTransform::Power(power) => power.transform(numeric_x.as_ref()),
        };
        let joined = hstack(columns(x, &self.passthrough).as_ref(), transformed.as_ref());
        match &self.svd {
            Some(svd) => hstack(joined.as_ref(), svd.transform(joined.as_ref()).as_ref()),
            None => joined,
        }
    }

    /// The number of output columns.
    pub fn n_outputs(&self) -> usize {
        self.passthrough.len()
            + self.numeric.len()
            + self.svd.as_ref().map_or(0, SvdFeatures::n_components)
    }
}

/// The columns `idx` of `x`, in that order.
fn columns(x: MatRef<'_, f64>, idx: &[usize]) -> Mat<f64> {
    Mat::from_fn(x.nrows(), idx.len(), |i, c| x[(i, idx[c])])
}

/// `[a, b]` side by side.
pub(super) fn hstack(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols() + b.ncols(), |i, j| {
        if j < a.ncols() {
            a[(i, j)]
        } else {
            b[(i, j - a.ncols())]
        }
    })
}
