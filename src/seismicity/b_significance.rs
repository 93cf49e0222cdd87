//! Is a b-value series more variable than its estimation uncertainty explains? The mean
//! autocorrelation test of Mirwald et al. (2024, SRL), as SeismoStats' `b_significant_1D`
//! computes it.
//!
//! b values estimated from windows that share events are correlated by construction, and even
//! from disjoint windows they scatter by their estimation error alone, so a wiggly b series is
//! not yet evidence that b changes. The test asks whether neighbouring b values resemble each
//! other more than independent estimates of one constant b would:
//!
//! 1. The events at or above Mc (in time order) are cut into consecutive, non-overlapping
//!    subsamples of `n_m` events each, b is estimated in each (the chosen estimator; a
//!    subsample whose b rests on fewer than `min_num` values is left out), and the lag-1
//!    autocorrelation of the b series is Moran's I,
//!    `I = (n − 1)/n_p · Σ (b_k − b̄)(b_{k+1} − b̄) / Σ (b_k − b̄)²`, over the n valid values and
//!    the n_p neighbouring pairs of valid values.
//! 2. This is repeated for the `n_m` ways to start the cut (offset 0 … n_m − 1; the partial
//!    subsamples at both ends are dropped), and the autocorrelations are averaged: the mean
//!    autocorrelation (MAC).
//! 3. Under H0 (b constant) the MAC is approximately normal with mean `μ = −1/n̄` and standard
//!    deviation `σ = (n̄_p − 2)/(n̄_p·√n̄_p)` (the conservative bound; `γ = 0.81` times it
//!    otherwise), n̄ and n̄_p being the means over the offsets. The p-value is
//!    `1 − Φ((MAC − μ)/σ)`: one-sided, as only a positive autocorrelation signals a varying b.
//!
//! # Reading it
//!
//! A small p-value (below 0.05, say) means that neighbouring b values are more alike than
//! estimation noise allows: b varies along the series on the scale of `n_m` events or more. A
//! large p-value means the series is consistent with one constant b; its wiggles may be noise,
//! and a model fed with them learns noise. The test needs enough subsamples: with fewer than 3
//! it is not made ([`Undetermined::TooFewSubsamples`]), and below about 15–25 the normal
//! approximation is rough (Mirwald et al. recommend at least 25).

use crate::Result;
use crate::catalog::at_or_above;
use crate::seismicity::bvalue::{BlockEstimates, ValidBValueParams};

/// The factor γ of the non-conservative standard deviation of the MAC (Mirwald et al. 2024).
pub const NON_CONSERVATIVE_GAMMA: f64 = 0.81;

/// The settings of the test: build them with [`SignificanceParams::new`], which checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignificanceParams {
    n_m: usize,
    min_num: usize,
    conservative: bool,
}

impl SignificanceParams {
    /// `n_m` events per subsample; subsamples whose b rests on fewer than `min_num` values
    /// (events, or pairs for b-positive and b-more-positive) are left out; `conservative` uses
    /// the conservative σ (SeismoStats' default: `true`, `min_num` 2).
    ///
    /// Refuses `min_num` 0 (key `b_significance.min_num`) and `n_m < min_num`
    /// (key `b_significance.n_m`).
    pub fn new(n_m: usize, min_num: usize, conservative: bool) -> Result<Self> {
        crate::ensure_config!(
            min_num >= 1,
            "b_significance.min_num",
            "must be at least 1 (a b value needs a value to rest on), got 0"
        );
        crate::ensure_config!(
            n_m >= min_num,
            "b_significance.n_m",
            "must be at least min_num = {min_num} (a subsample of n_m events cannot hold more values), got {n_m}"
        );
        Ok(SignificanceParams {
            n_m,
            min_num,
            conservative,
        })
    }

    /// Events per subsample.
    pub fn n_m(&self) -> usize {
        self.n_m
    }

    /// The fewest values a subsample's b must rest on.
    pub fn min_num(&self) -> usize {
        self.min_num
    }

    /// Whether σ is the conservative bound (γ = 1).
    pub fn conservative(&self) -> bool {
        self.conservative
    }
}

/// The test's outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BSignificance {
    /// The p-value of H0 (b constant): `1 − Φ((mac − mu_mac)/std_mac)`.
    pub p_value: f64,
    /// The mean autocorrelation over the offsets.
    pub mac: f64,
    /// Its expected value under H0, `−1/n̄`.
    pub mu_mac: f64,
    /// Its standard deviation under H0.
    pub std_mac: f64,
    /// Subsamples per offset 0 (full ones).
    pub subsamples: usize,
}

/// Why the test gave no p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undetermined {
    /// Fewer than 3 subsamples of `n_m` events.
    TooFewSubsamples {
        /// Events at or above Mc.
        n_events: usize,
        /// Events per subsample.
        n_m: usize,
    },
    /// The mean number of neighbouring pairs of valid b values is 2 or fewer (σ would be 0 or
    /// negative), or no offset had 3 valid subsamples.
    TooFewNeighbours,
    /// The autocorrelation is undefined (e.g. every valid b equal, or an infinite b).
    NotFinite,
    /// The series has no single Mc (a per-window Mc); the test partitions one catalog cut at
    /// one Mc.
    NoFixedMc,
}

impl Undetermined {
    /// A short machine-readable reason: `too_few_subsamples`, `too_few_neighbours`,
    /// `not_finite`, `no_fixed_mc`.
    pub fn reason(&self) -> &'static str {
        match self {
            Undetermined::TooFewSubsamples { .. } => "too_few_subsamples",
            Undetermined::TooFewNeighbours => "too_few_neighbours",
            Undetermined::NotFinite => "not_finite",
            Undetermined::NoFixedMc => "no_fixed_mc",
        }
    }
}

/// Writes [`Undetermined::reason`].
impl std::fmt::Display for Undetermined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.reason())
    }
}

/// The test on `magnitudes` (in time order) at or above `mc`, b estimated by the estimator,
/// bin width, dmc and difference estimate of `params` (its Mc choice and `min_events` are not
/// used; the subsamples' size is `settings.n_m()`).
pub fn b_significance(
    magnitudes: &[f64],
    mc: f64,
    settings: &SignificanceParams,
    params: &ValidBValueParams,
) -> std::result::Result<BSignificance, Undetermined> {
    let analysed: Vec<f64> = magnitudes
        .iter()
        .copied()
        .filter(|&m| at_or_above(m, mc))
        .collect();
    let n_events = analysed.len();
    let n_m = settings.n_m;
    if (n_events as f64) / (n_m as f64) < 3.0 {
        return Err(Undetermined::TooFewSubsamples { n_events, n_m });
    }
    let blocks = BlockEstimates::new(&analysed, mc, params);
    let mut autocorrelations = Vec::with_capacity(n_m);
    for offset in 0..n_m {
        let values: Vec<f64> = (offset..)
            .step_by(n_m)
            .take_while(|&lo| lo + n_m <= n_events)
            .map(|lo| {
                let (n, b) = blocks.b(lo, lo + n_m);
                if n < settings.min_num { f64::NAN } else { b }
            })
            .collect();
        // The subsamples with at least min_num values (min_num ≥ 1, so their b is not NaN; an
        // infinite b counts, as in SeismoStats).
        let enough = values.iter().filter(|b| !b.is_nan()).count();
        autocorrelations.push((enough >= 3).then(|| morans_i(&values)));
    }
    let subsamples = n_events / n_m;
    let kept = autocorrelations.iter().flatten();
    let mean_np = nan_mean(kept.clone().map(|m| m.n_p));
    if mean_np.is_nan() || mean_np <= 2.0 {
        return Err(Undetermined::TooFewNeighbours);
    }
    let mac = nan_mean(kept.clone().map(|m| m.ac));
    let mean_n = nan_mean(kept.map(|m| m.n));
    let mut std_mac = (mean_np - 2.0) / (mean_np * mean_np.sqrt());
    let mu_mac = -1.0 / mean_n;
    if !settings.conservative {
        std_mac *= NON_CONSERVATIVE_GAMMA;
    }
    let p_value = 1.0 - normal_cdf((mac - mu_mac) / std_mac);
    if !p_value.is_finite() {
        return Err(Undetermined::NotFinite);
    }
    Ok(BSignificance {
        p_value,
        mac,
        mu_mac,
        std_mac,
        subsamples,
    })
}

/// Moran's I of a 1-D series with lag-1 neighbours: the autocorrelation, the number of valid
/// (not NaN) values and the number of neighbouring pairs of valid values.
#[derive(Debug, Clone, Copy, PartialEq)]
struct MoransI {
    ac: f64,
    n: f64,
    n_p: f64,
}

/// Moran's I over the valid values of `values` (NaN marks a missing one), as SeismoStats'
/// `est_morans_i` with its default 1-D neighbour matrix: a missing value neither counts nor
/// pairs. Undefined sums give a NaN `ac` (kept, as there).
fn morans_i(values: &[f64]) -> MoransI {
    let valid: Vec<bool> = values.iter().map(|v| !v.is_nan()).collect();
    let n = valid.iter().filter(|&&v| v).count();
    let mean = values.iter().filter(|v| !v.is_nan()).sum::<f64>() / n as f64;
    let deviations: Vec<f64> = values
        .iter()
        .map(|&v| if v.is_nan() { 0.0 } else { v - mean })
        .collect();
    let mut ac = 0.0;
    let mut n_p = 0usize;
    for k in 1..values.len() {
        if valid[k - 1] && valid[k] {
            ac += deviations[k - 1] * deviations[k];
            n_p += 1;
        }
    }
    let ac_0: f64 = deviations.iter().map(|d| d * d).sum();
    let (n, n_p) = (n as f64, n_p as f64);
    MoransI {
        ac: (n - 1.0) / n_p * ac / ac_0,
        n,
        n_p,
    }
}

/// The mean of the values that are not NaN; NaN when there are none (numpy's `nanmean`).
fn nan_mean(values: impl Iterator<Item = f64>) -> f64 {
    let (n, sum) = values
        .filter(|v| !v.is_nan())
        .fold((0usize, 0.0), |(n, s), v| (n + 1, s + v));
    sum / n as f64
}

/// The standard normal distribution function.
fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn morans_i_by_hand() {
        // 1, 2, 3, 4: mean 2.5, deviations −1.5, −0.5, 0.5, 1.5; Σ neighbour products
        // 0.75 − 0.25 + 0.75 = 1.25, Σ squares 5, n = 4, n_p = 3: I = 3/3 · 1.25/5 = 0.25.
        let m = morans_i(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!((m.n, m.n_p), (4.0, 3.0));
        assert!((m.ac - 0.25).abs() < 1e-15, "{}", m.ac);
        // A missing value breaks two pairs: 1, NaN, 3, 4 → mean 8/3, deviations −5/3, 1/3, 4/3;
        // one pair (3, 4): 4/9; squares 25/9 + 1/9 + 16/9 = 42/9; I = 2/1 · (4/9)/(42/9) = 4/21.
        let m = morans_i(&[1.0, f64::NAN, 3.0, 4.0]);
        assert_eq!((m.n, m.n_p), (3.0, 1.0));
        assert!((m.ac - 4.0 / 21.0).abs() < 1e-15, "{}", m.ac);
    }

    #[test]
    fn a_subsample_smaller_than_min_num_is_refused() {
        let err = SignificanceParams::new(1, 2, true).unwrap_err();
        assert!(err.to_string().contains("b_significance.n_m"), "{err}");
    }

    #[test]
    fn a_min_num_of_zero_is_refused() {
        let err = SignificanceParams::new(10, 0, true).unwrap_err();
        assert!(err.to_string().contains("b_significance.min_num"), "{err}");
    }
}
