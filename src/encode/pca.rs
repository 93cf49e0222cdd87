//! Principal component analysis, fitted on training rows only (paper §2: ViT features to 498
//! dimensions; pitfall P8).
//!
//! With the fit rows `X` (n × p) and their column means `μ`, the centred matrix `X − 1μᵀ` has the
//! thin SVD `U S Vᵀ`. The components are the first k columns of V, the explained variances
//! `s_i² / (n − 1)`, and a row x is transformed to `(x − μ) V_k`. Signs follow scikit-learn
//! (1.5 and later): in each component the loading of largest magnitude is positive.

use faer::{Mat, MatRef};
use serde::Serialize;

use crate::encode::{ensure_finite, select_rows};
use crate::{Error, Result};

/// A fitted PCA.
#[derive(Debug, Clone)]
pub struct Pca {
    mean: Vec<f64>,
    components: Mat<f64>,
    explained_variance: Vec<f64>,
    total_variance: f64,
    n_fit_rows: usize,
}

/// What a run records about a fitted PCA.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PcaSummary {
    /// Components kept.
    pub n_components: usize,
    /// Input columns.
    pub n_features: usize,
    /// Rows the PCA was fitted on (the training rows).
    pub fitted_on_rows: usize,
    /// The fraction of the fit rows' total variance the components keep.
    pub explained_variance_ratio: f64,
}

impl Pca {
    /// Fits `n_components` components on the rows `rows` of `x` (pass the training rows).
    ///
    /// Refuses `n_components` of 0 or above `min(rows, columns)` (key `encode.pca_dims`), fewer
    /// than two fit rows (`dataset.split`), and non-finite values or an SVD that does not
    /// converge ([`Error::Numerical`]).
    pub fn fit(x: MatRef<'_, f64>, rows: &[usize], n_components: usize) -> Result<Pca> {
        let n = rows.len();
        let p = x.ncols();
        crate::ensure_config!(
            n >= 2,
            "dataset.split",
            "PCA needs at least 2 training rows, got {n}"
        );
        crate::ensure_config!(
            n_components >= 1 && n_components <= n.min(p),
            "encode.pca_dims",
            "must lie in 1..={} (the fewer of {n} training rows and {p} features), got {n_components}",
            n.min(p)
        );
        let mut xc = select_rows(x, rows)?;
        ensure_finite(xc.as_ref(), "PCA input")?;
        let mean: Vec<f64> = (0..p)
            .map(|j| (0..n).map(|i| xc[(i, j)]).sum::<f64>() / n as f64)
            .collect();
        for j in 0..p {
            for i in 0..n {
                xc[(i, j)] -= mean[j];
            }
        }
        let total_variance = (0..p)
            .map(|j| (0..n).map(|i| xc[(i, j)] * xc[(i, j)]).sum::<f64>())
            .sum::<f64>()
            / (n - 1) as f64;
        let svd = xc
            .thin_svd()
            .map_err(|e| Error::Numerical(format!("PCA: the SVD failed: {e:?}")))?;
        let s = svd.S().column_vector();
        let v = svd.V();
        let mut components = Mat::from_fn(p, n_components, |i, k| v[(i, k)]);
        for k in 0..n_components {
            let (mut best, mut best_abs) = (0.0, -1.0);
            for i in 0..p {
                if components[(i, k)].abs() > best_abs {
                    best_abs = components[(i, k)].abs();
                    best = components[(i, k)];
                }
            }
            if best < 0.0 {
                for i in 0..p {
                    components[(i, k)] = -components[(i, k)];
                }
            }
        }
        let explained_variance = (0..n_components)
            .map(|k| s[k] * s[k] / (n - 1) as f64)
            .collect();
        Ok(Pca {
            mean,
            components,
            explained_variance,
            total_variance,
            n_fit_rows: n,
        })
    }

    /// Projects every row of `x` (same columns as the fit) onto the components: `(x − μ) V_k`.
    pub fn transform(&self, x: MatRef<'_, f64>) -> Result<Mat<f64>> {
        if x.ncols() != self.mean.len() {
            return Err(Error::Numerical(format!(
                "PCA: fitted on {} columns, asked to transform {}",
                self.mean.len(),
                x.ncols()
            )));
        }
        ensure_finite(x, "PCA input")?;
        let centred = Mat::from_fn(x.nrows(), x.ncols(), |i, j| x[(i, j)] - self.mean[j]);
        Ok(&centred * &self.components)
    }

    /// The column means of the fit rows, μ.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The components as columns (p × k).
    pub fn components(&self) -> MatRef<'_, f64> {
        self.components.as_ref()
    }

    /// The variance along each component, `s_i² / (n − 1)`, decreasing.
    pub fn explained_variance(&self) -> &[f64] {
        &self.explained_variance
    }

    /// The number of rows the PCA was fitted on.
    pub fn fitted_on_rows(&self) -> usize {
        self.n_fit_rows
    }

    /// The record for the run's model info sheet.
    pub fn summary(&self) -> PcaSummary {
        let kept: f64 = self.explained_variance.iter().sum();
        PcaSummary {
            n_components: self.components.ncols(),
            n_features: self.mean.len(),
            fitted_on_rows: self.n_fit_rows,
            explained_variance_ratio: if self.total_variance > 0.0 {
                kept / self.total_variance
            } else {
                0.0
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_on_a_line_have_one_component() {
        // Points t·(3, 4)/5 + (1, 2) for t = −2, −1, 0, 1, 2: mean (1, 2), first axis (0.6, 0.8),
        // variance Σt²/(n − 1) = 10/4 = 2.5, scores equal to t.
        let t = [-2.0, -1.0, 0.0, 1.0, 2.0];
        let x = Mat::from_fn(5, 2, |i, j| {
            if j == 0 {
                1.0 + 0.6 * t[i]
            } else {
                2.0 + 0.8 * t[i]
            }
        });
        let pca = Pca::fit(x.as_ref(), &[0, 1, 2, 3, 4], 1).unwrap();
        assert!((pca.mean()[0] - 1.0).abs() < 1e-12 && (pca.mean()[1] - 2.0).abs() < 1e-12);
        assert!((pca.components()[(0, 0)] - 0.6).abs() < 1e-12);
        assert!((pca.components()[(1, 0)] - 0.8).abs() < 1e-12);
        assert!((pca.explained_variance()[0] - 2.5).abs() < 1e-12);
        assert!((pca.summary().explained_variance_ratio - 1.0).abs() < 1e-12);
        let z = pca.transform(x.as_ref()).unwrap();
        for (i, &ti) in t.iter().enumerate() {
            assert!((z[(i, 0)] - ti).abs() < 1e-12);
        }
    }

    #[test]
    fn too_many_components_are_refused() {
        let x = Mat::from_fn(3, 4, |i, j| (i * j) as f64);
        let err = Pca::fit(x.as_ref(), &[0, 1, 2], 4).unwrap_err();
        assert!(matches!(&err, Error::Config { key, .. } if key == "encode.pca_dims"));
        assert!(Pca::fit(x.as_ref(), &[0, 1, 2], 0).is_err());
        assert!(Pca::fit(x.as_ref(), &[0], 1).is_err());
    }
}
