//! Principal component analysis, fitted on training rows only (paper §2: ViT features to 498
//! dimensions; pitfall P8).
//!
//! With the fit rows `X` (n × p) and their column means `μ`, the centred matrix `X − 1μᵀ` has the
//! thin SVD `U S Vᵀ`. The components are the first k columns of V, the explained variances
//! `s_i² / (n − 1)`, and a row x is transformed to `(x − μ) V_k`. Signs follow scikit-learn
//! (1.5 and later): in each component the loading of largest magnitude is positive.
//!
//! # Solvers
//!
//! - [`PcaSolver::Full`]: the exact thin SVD of the centred matrix, `O(n·p·min(n, p))`.
//! - [`PcaSolver::Randomized`]: the randomized range finder with subspace iteration of Halko,
//!   Martinsson & Tropp (2011, algorithms 4.4 and 5.1). A Gaussian test matrix Ω (p × l, with
//!   `l = k + 10` columns) is drawn from the seeded stream `encode.pca`; `Q = qr(XΩ)`, then
//!   `q` power iterations `Q ← qr(X qr(XᵀQ))` re-orthonormalise after every product; the small
//!   matrix `B = QᵀX` (l × p) has the SVD `Û S Vᵀ`, whose first k right singular vectors and
//!   values stand for those of X. `q` is 7 when `k < 0.1·min(n, p)` and 4 otherwise, as in
//!   scikit-learn. The error of component j shrinks like `(σ_{l+1}/σ_j)^(2q+1)` (Halko et al.
//!   §10.4), so on a spectrum with a gap after the kept components the result equals the
//!   exact one to rounding. Cost `O(n·p·l·q)`.
//! - [`PcaSolver::Auto`] (the default) picks randomized when `max(n, p) > 500` and
//!   `k < 0.8·min(n, p)`, and full otherwise: scikit-learn's rule for its `"auto"` solver.

use faer::{Mat, MatRef};
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::encode::{FeatureRows, ensure_finite};
use crate::{Error, Result};

/// Extra columns of the randomized solver's test matrix beyond the k components.
const OVERSAMPLES: usize = 10;

/// How many rows [`Pca::transform`] centres and projects at a time (for 7,500 columns, 31 MB).
pub const TRANSFORM_ROWS: usize = 512;

/// How [`PcaParams::fit`] computes the components (`encoder.pca_solver`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PcaSolver {
    /// Randomized for large problems that keep few components, full otherwise (see the
    /// module docs for the rule).
    #[default]
    Auto,
    /// The exact thin SVD.
    Full,
    /// The seeded randomized SVD (Halko, Martinsson & Tropp 2011).
    Randomized,
}

impl PcaSolver {
    /// The solver used for `n` fit rows, `p` columns and `k` components: `Auto` resolved by
    /// scikit-learn's rule, the others as they are.
    pub fn resolve(self, n: usize, p: usize, k: usize) -> PcaSolver {
        match self {
            PcaSolver::Auto if n.max(p) > 500 && (k as f64) < 0.8 * n.min(p) as f64 => {
                PcaSolver::Randomized
            }
            PcaSolver::Auto => PcaSolver::Full,
            other => other,
        }
    }

    /// The name used in configs and run records (`auto`, `full`, `randomized`).
    pub fn name(self) -> &'static str {
        match self {
            PcaSolver::Auto => "auto",
            PcaSolver::Full => "full",
            PcaSolver::Randomized => "randomized",
        }
    }
}

/// The settings of a PCA fit: components, solver and the seed of the randomized solver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcaParams {
    n_components: usize,
    solver: PcaSolver,
    seed: u64,
}

impl PcaParams {
    /// `n_components` components with the automatic solver and seed 0.
    pub fn new(n_components: usize) -> Self {
        PcaParams {
            n_components,
            solver: PcaSolver::Auto,
            seed: 0,
        }
    }

    /// Chooses the solver.
    pub fn solver(self, solver: PcaSolver) -> Self {
        PcaParams { solver, ..self }
    }

    /// Seeds the randomized solver's test matrix (the stream `encode.pca` of
    /// [`crate::rng::stream`]); pass the experiment seed.
    pub fn seed(self, seed: u64) -> Self {
        PcaParams { seed, ..self }
    }

    /// Fits on the rows `rows` of `x` (pass the training rows); only those rows are copied
    /// (and centred), whether `x` is a stored matrix or a view ([`FeatureRows`]).
    ///
    /// Refuses `n_components` of 0 or above `min(rows, columns)` (key `encoder.pca_dims`),
    /// fewer than two fit rows (`dataset.split`), and non-finite values or an SVD that does not
    /// converge ([`Error::Numerical`]).
    pub fn fit(&self, x: impl FeatureRows, rows: &[usize]) -> Result<Pca> {
        let n = rows.len();
        let p = x.ncols();
        let k = self.n_components;
        crate::ensure_config!(
            n >= 2,
            "dataset.split",
            "PCA needs at least 2 training rows, got {n}"
        );
        crate::ensure_config!(
            k >= 1 && k <= n.min(p),
            "encoder.pca_dims",
            "must lie in 1..={} (the fewer of {n} training rows and {p} features), got {k}",
            n.min(p)
        );
        let mut xc = x.select(rows)?;
        ensure_finite(xc.as_ref(), "PCA input")?;
        let mean: Vec<f64> = (0..p)
            .map(|j| (0..n).map(|i| xc[(i, j)]).sum::<f64>() / n as f64)
            .collect();
        for j in 0..p {
            for i in 0..n {
                xc[(i, j)] -= mean[j];
            }
        }
        let dof = (n - 1) as f64;
        let total_variance = (0..p)
            .map(|j| (0..n).map(|i| xc[(i, j)] * xc[(i, j)]).sum::<f64>())
            .sum::<f64>()
            / dof;
        let solver = self.solver.resolve(n, p, k);
        let (singular_values, mut components) = match solver {
            PcaSolver::Randomized => randomized_svd(xc.as_ref(), k, self.seed)?,
            _ => exact_svd(xc.as_ref(), k)?,
        };
        flip_signs(&mut components);
        let explained_variance: Vec<f64> = singular_values.iter().map(|s| s * s / dof).collect();
        let explained_variance_ratio = explained_variance
            .iter()
            .map(|v| {
                if total_variance > 0.0 {
                    v / total_variance
                } else {
                    0.0
                }
            })
            .collect();
        Ok(Pca {
            mean,
            components,
            explained_variance,
            explained_variance_ratio,
            solver,
            n_fit_rows: n,
        })
    }
}

/// The first k singular values and right singular vectors (p × k) of the exact thin SVD.
fn exact_svd(xc: MatRef<'_, f64>, k: usize) -> Result<(Vec<f64>, Mat<f64>)> {
    let svd = xc
        .thin_svd()
        .map_err(|e| Error::Numerical(format!("PCA: the SVD failed: {e:?}")))?;
    let s = svd.S().column_vector();
    let v = svd.V();
    Ok((
        (0..k).map(|i| s[i]).collect(),
        Mat::from_fn(xc.ncols(), k, |i, c| v[(i, c)]),
    ))
}

/// Halko, Martinsson & Tropp (2011): algorithm 4.4 (randomized subspace iteration) for the
/// range, then algorithm 5.1 (direct SVD) on the small matrix. Returns the first k singular
/// values and right singular vectors (p × k) of `xc`.
fn randomized_svd(xc: MatRef<'_, f64>, k: usize, seed: u64) -> Result<(Vec<f64>, Mat<f64>)> {
    let (n, p) = (xc.nrows(), xc.ncols());
    let l = (k + OVERSAMPLES).min(n.min(p));
    let power_iterations = if (k as f64) < 0.1 * n.min(p) as f64 {
        7
    } else {
        4
    };
    let mut rng = crate::rng::stream(seed, "encode.pca");
    // Drawn column by column so that the matrix does not depend on faer's fill order.
    let draws: Vec<f64> = (0..p * l).map(|_| rng.sample(StandardNormal)).collect();
    let omega = Mat::from_fn(p, l, |i, j| draws[j * p + i]);
    let orthonormal = |y: Mat<f64>| y.qr().compute_thin_Q();
    let mut q = orthonormal(xc * omega.as_ref());
    for _ in 0..power_iterations {
        let z = orthonormal(xc.transpose() * q.as_ref());
        q = orthonormal(xc * z.as_ref());
    }
    // Bᵀ = XᵀQ (p × l): its left singular vectors are B's right ones, V.
    let bt = xc.transpose() * q.as_ref();
    let svd = bt
        .thin_svd()
        .map_err(|e| Error::Numerical(format!("PCA: the randomized SVD failed: {e:?}")))?;
    let s = svd.S().column_vector();
    let u = svd.U();
    Ok((
        (0..k).map(|i| s[i]).collect(),
        Mat::from_fn(p, k, |i, c| u[(i, c)]),
    ))
}

/// Makes the loading of largest magnitude positive in every component (scikit-learn's
/// `svd_flip` with `u_based_decision=False`).
fn flip_signs(components: &mut Mat<f64>) {
    for k in 0..components.ncols() {
        let (mut best, mut best_abs) = (0.0, -1.0);
        for i in 0..components.nrows() {
            if components[(i, k)].abs() > best_abs {
                best_abs = components[(i, k)].abs();
                best = components[(i, k)];
            }
        }
        if best < 0.0 {
            for i in 0..components.nrows() {
                components[(i, k)] = -components[(i, k)];
            }
        }
    }
}

/// A fitted PCA.
#[derive(Debug, Clone)]
pub struct Pca {
    mean: Vec<f64>,
    components: Mat<f64>,
    explained_variance: Vec<f64>,
    explained_variance_ratio: Vec<f64>,
    solver: PcaSolver,
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
    /// The solver that computed the components (`full` or `randomized`).
    pub solver: &'static str,
    /// The fraction of the fit rows' total variance the components keep.
    pub explained_variance_ratio: f64,
}

impl Pca {
    /// Fits `n_components` components on the rows `rows` of `x` (pass the training rows) with
    /// the exact solver; [`PcaParams`] chooses the solver. Errors as [`PcaParams::fit`].
    pub fn fit(x: impl FeatureRows, rows: &[usize], n_components: usize) -> Result<Pca> {
        PcaParams::new(n_components)
            .solver(PcaSolver::Full)
            .fit(x, rows)
    }

    /// Projects every row of `x` (same columns as the fit) onto the components: `(x − μ) V_k`,
    /// [`TRANSFORM_ROWS`] rows at a time, so that no centred copy of the whole of `x` is made.
    pub fn transform(&self, x: impl FeatureRows) -> Result<Mat<f64>> {
        if x.ncols() != self.mean.len() {
            return Err(Error::Numerical(format!(
                "PCA: fitted on {} columns, asked to transform {}",
                self.mean.len(),
                x.ncols()
            )));
        }
        x.ensure_finite("PCA input")?;
        let n = x.nrows();
        let mut out = Mat::zeros(n, self.components.ncols());
        let mut first = 0;
        while first < n {
            let len = TRANSFORM_ROWS.min(n - first);
            let centred = x.shifted(first, len, &self.mean);
            out.subrows_mut(first, len)
                .copy_from(&centred * &self.components);
            first += len;
        }
        Ok(out)
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

    /// Each component's share of the fit rows' total variance (0 when that is 0).
    pub fn explained_variance_ratio(&self) -> &[f64] {
        &self.explained_variance_ratio
    }

    /// The solver that computed the components: [`PcaSolver::Full`] or
    /// [`PcaSolver::Randomized`], never `Auto`.
    pub fn solver(&self) -> PcaSolver {
        self.solver
    }

    /// The number of rows the PCA was fitted on.
    pub fn fitted_on_rows(&self) -> usize {
        self.n_fit_rows
    }

    /// The record for the run's model info sheet.
    pub fn summary(&self) -> PcaSummary {
        PcaSummary {
            n_components: self.components.ncols(),
            n_features: self.mean.len(),
            fitted_on_rows: self.n_fit_rows,
            solver: self.solver.name(),
            explained_variance_ratio: self.explained_variance_ratio.iter().sum(),
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
    fn the_transform_in_row_blocks_equals_the_whole_product_bit_for_bit() {
        // More rows than two blocks and enough columns for the product to block its inner
        // dimension: the projection of each row must not depend on the rows beside it.
        let (n, p) = (2 * TRANSFORM_ROWS + 37, 3000);
        let x = Mat::from_fn(n, p, |i, j| {
            ((i * 7 + j * 13) as f64 * 0.001).sin() + j as f64
        });
        let train: Vec<usize> = (0..n).step_by(2).collect();
        let pca = PcaParams::new(5)
            .solver(PcaSolver::Randomized)
            .seed(3)
            .fit(x.as_ref(), &train)
            .unwrap();
        let centred = Mat::from_fn(n, p, |i, j| x[(i, j)] - pca.mean()[j]);
        let whole = &centred * pca.components();
        let blocked = pca.transform(x.as_ref()).unwrap();
        for j in 0..5 {
            for i in 0..n {
                assert_eq!(
                    blocked[(i, j)].to_bits(),
                    whole[(i, j)].to_bits(),
                    "({i}, {j})"
                );
            }
        }
    }

    #[test]
    fn too_many_components_are_refused() {
        let x = Mat::from_fn(3, 4, |i, j| (i * j) as f64);
        assert!(Pca::fit(x.as_ref(), &[0, 1, 2], 4).is_err());
        assert!(Pca::fit(x.as_ref(), &[0, 1, 2], 0).is_err());
        let err = Pca::fit(x.as_ref(), &[0], 1).unwrap_err();
        assert!(matches!(&err, Error::Config { key, .. } if key == "dataset.split"));
    }

    #[test]
    fn auto_follows_the_scikit_learn_rule() {
        let auto = PcaSolver::Auto;
        assert_eq!(auto.resolve(500, 500, 10), PcaSolver::Full);
        assert_eq!(auto.resolve(501, 400, 10), PcaSolver::Randomized);
        // 0.8 · 400 = 320: 319 components are randomized, 320 are not.
        assert_eq!(auto.resolve(501, 400, 319), PcaSolver::Randomized);
        assert_eq!(auto.resolve(501, 400, 320), PcaSolver::Full);
        assert_eq!(PcaSolver::Full.resolve(5000, 5000, 1), PcaSolver::Full);
        assert_eq!(
            PcaSolver::Randomized.resolve(5, 5, 4),
            PcaSolver::Randomized
        );
    }

    #[test]
    fn randomized_recovers_an_exact_low_rank_matrix() {
        // X = a bᵀ·3 + c dᵀ with orthogonal, zero-mean a ⟂ c (rows) and b ⟂ d (columns): two
        // components with variances 9|a|²|b|²/(n − 1) and |c|²|d|²/(n − 1).
        let a = [1.0, -1.0, 1.0, -1.0];
        let c = [1.0, 1.0, -1.0, -1.0];
        let b = [0.6, 0.8, 0.0];
        let d = [0.0, 0.0, 1.0];
        let x = Mat::from_fn(4, 3, |i, j| 3.0 * a[i] * b[j] + c[i] * d[j]);
        let pca = PcaParams::new(2)
            .solver(PcaSolver::Randomized)
            .seed(5)
            .fit(x.as_ref(), &[0, 1, 2, 3])
            .unwrap();
        assert_eq!(pca.solver(), PcaSolver::Randomized);
        assert!((pca.explained_variance()[0] - 9.0 * 4.0 / 3.0).abs() < 1e-12);
        assert!((pca.explained_variance()[1] - 4.0 / 3.0).abs() < 1e-12);
        assert!((pca.explained_variance_ratio()[0] - 0.9).abs() < 1e-12);
        assert!((pca.components()[(1, 0)] - 0.8).abs() < 1e-12);
        assert!((pca.components()[(2, 1)] - 1.0).abs() < 1e-12);
    }
}
