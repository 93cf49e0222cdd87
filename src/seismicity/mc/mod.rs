//! Completeness magnitude Mc: the magnitude above which a catalog records (almost) every event.
//!
//! The paper fixes Mc = 3 (§1.2). Completeness varies in time, most of all right after large
//! earthquakes (pitfall P5), so quakelab also estimates Mc from the magnitudes themselves. Each
//! method returns its Mc together with the numbers it was chosen from:
//!
//! - [`maxc()`]: maximum curvature, the centre of the most populated magnitude bin plus a
//!   correction (Woessner & Wiemer 2005 recommend +0.2, because MAXC underestimates Mc for
//!   gradually curved frequency-magnitude distributions); as SeismoStats' `estimate_mc_maxc`;
//! - [`gft()`]: the goodness-of-fit test of Wiemer & Wyss (2000) (SeismoStats 1.0.1 has none);
//! - [`b_stability()`]: the b-value stability test of Cao & Gao (2002) in the form of Woessner &
//!   Wiemer (2005); as SeismoStats' `estimate_mc_b_stability`;
//! - [`ks()`]: the Kolmogorov-Smirnov test of Clauset et al. (2009) as Mizrahi et al. (2021) apply
//!   it to magnitudes, with a seeded simulation; as SeismoStats' `estimate_mc_ks`.
//!
//! # Binning
//!
//! A magnitude `M` falls in bin `k = floor(M/Δ + 1/2 + 10⁻¹²)` of width Δ, whose centre is
//! `k·Δ`: half-bins go up, and a quotient a rounding error below a half (0.35/0.1 =
//! 3.4999999999999996) still goes up, as SeismoStats' `bin_to_precision` does. MAXC and GFT bin
//! any magnitudes this way; b-stability and KS, whose b-value estimator assumes binned data,
//! refuse a magnitude that is not already on the grid of Δ.

pub mod b_stability;
pub mod gft;
pub mod ks;
pub mod maxc;

pub use b_stability::{BStability, BStabilityCandidate, b_stability};
pub use gft::{Gft, GftCandidate, gft};
pub use ks::{Ks, KsCandidate, ks, ks_distance};
pub use maxc::{Maxc, maxc};

use crate::catalog::{MAGNITUDE_TOLERANCE, check_magnitude};
use crate::{Error, Result};

/// How to estimate the completeness magnitude, with the settings of each method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum McMethod {
    /// Maximum curvature: the centre of the most populated magnitude bin (ties go to the lowest
    /// such bin) plus `correction` (Woessner & Wiemer 2005 suggest 0.2).
    Maxc {
        /// Added to the modal bin centre.
        correction: f64,
    },
    /// Goodness of fit (Wiemer & Wyss 2000); see [`gft()`].
    Gft,
    /// b-value stability (Cao & Gao 2002; Woessner & Wiemer 2005); see [`b_stability()`].
    BStability {
        /// The magnitude range above a candidate Mc whose b values are averaged (0.5 in
        /// SeismoStats, the 5 × 0.1 of Cao & Gao).
        stability_range: f64,
    },
    /// The Kolmogorov-Smirnov test (Clauset et al. 2009; Mizrahi et al. 2021); see [`ks()`].
    Ks {
        /// A candidate passes when its p-value is at least this (SeismoStats: 0.1).
        p_value_pass: f64,
        /// Synthetic catalogs simulated per candidate for the p-value (SeismoStats: 10,000).
        n_simulations: usize,
        /// Seed of the simulation.
        seed: u64,
    },
}

impl McMethod {
    /// MAXC with the +0.2 correction of Woessner & Wiemer (2005).
    pub const MAXC_PLUS_0_2: McMethod = McMethod::Maxc { correction: 0.2 };

    /// b-stability over SeismoStats' default range of 0.5.
    pub const B_STABILITY: McMethod = McMethod::BStability {
        stability_range: 0.5,
    };

    /// KS with SeismoStats' defaults (p ≥ 0.1 passes, 10,000 simulations) and the given seed.
    pub const fn ks(seed: u64) -> McMethod {
        McMethod::Ks {
            p_value_pass: 0.1,
            n_simulations: 10_000,
            seed,
        }
    }

    /// The method's name on the command line and in tables: `maxc`, `gft`, `b-stability`, `ks`.
    pub fn name(&self) -> &'static str {
        match self {
            McMethod::Maxc { .. } => "maxc",
            McMethod::Gft => "gft",
            McMethod::BStability { .. } => "b-stability",
            McMethod::Ks { .. } => "ks",
        }
    }

    /// Refuses settings no estimate can come from, naming the key: `seismicity.mc_correction`,
    /// `seismicity.mc_stability_range` (it must span at least two bins of `bin_width`, since a
    /// candidate's b is compared with the b values above it), `seismicity.mc_ks_p_value` (in
    /// (0, 1]) and `seismicity.mc_ks_simulations` (at least 1).
    pub fn check(&self, bin_width: f64) -> Result<()> {
        check_bin_width(bin_width)?;
        match *self {
            McMethod::Maxc { correction } => {
                crate::ensure_config!(
                    correction.is_finite(),
                    "seismicity.mc_correction",
                    "must be finite, got {correction}"
                );
            }
            McMethod::Gft => {}
            McMethod::BStability { stability_range } => {
                crate::ensure_config!(
                    stability_range.is_finite() && arange_len(0.0, stability_range, bin_width) >= 2,
                    "seismicity.mc_stability_range",
                    "must span at least two magnitude bins of {bin_width}, got {stability_range}"
                );
            }
            McMethod::Ks {
                p_value_pass,
                n_simulations,
                ..
            } => {
                crate::ensure_config!(
                    p_value_pass > 0.0 && p_value_pass <= 1.0,
                    "seismicity.mc_ks_p_value",
                    "must lie in (0, 1], got {p_value_pass}"
                );
                crate::ensure_config!(
                    n_simulations >= 1,
                    "seismicity.mc_ks_simulations",
                    "must be at least 1, got {n_simulations}"
                );
            }
        }
        Ok(())
    }
}

/// The name of an Mc method, as an experiment file (`mc_method`) and the command line
/// (`--method`) spell it: `maxc`, `gft`, `b-stability`, `ks`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum McMethodKind {
    /// Maximum curvature plus a correction.
    Maxc,
    /// Goodness of fit.
    Gft,
    /// b-value stability.
    #[serde(alias = "b_stability")]
    #[value(alias = "b_stability")]
    BStability,
    /// Kolmogorov-Smirnov.
    Ks,
}

impl McMethodKind {
    /// Whether this is [`McMethodKind::Maxc`] (the default of an experiment file).
    pub fn is_maxc(&self) -> bool {
        *self == McMethodKind::Maxc
    }
}

/// The settings of every method; [`McSettings::method`] picks those of one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct McSettings {
    /// MAXC's correction.
    pub correction: f64,
    /// b-stability's range.
    pub stability_range: f64,
    /// KS: the p-value at which a candidate passes.
    pub ks_p_value: f64,
    /// KS: simulated catalogs per candidate.
    pub ks_simulations: usize,
    /// KS: the seed of the simulation.
    pub ks_seed: u64,
}

impl McSettings {
    /// The method `kind` with its settings.
    pub fn method(&self, kind: McMethodKind) -> McMethod {
        match kind {
            McMethodKind::Maxc => McMethod::Maxc {
                correction: self.correction,
            },
            McMethodKind::Gft => McMethod::Gft,
            McMethodKind::BStability => McMethod::BStability {
                stability_range: self.stability_range,
            },
            McMethodKind::Ks => McMethod::Ks {
                p_value_pass: self.ks_p_value,
                n_simulations: self.ks_simulations,
                seed: self.ks_seed,
            },
        }
    }
}

/// An Mc estimate with its method's diagnostics.
#[derive(Debug, Clone, PartialEq)]
pub enum McEstimate {
    /// From [`maxc()`].
    Maxc(Maxc),
    /// From [`gft()`].
    Gft(Gft),
    /// From [`b_stability()`].
    BStability(BStability),
    /// From [`ks()`].
    Ks(Ks),
}

impl McEstimate {
    /// The completeness magnitude; `None` when b-stability or KS found no candidate that passes.
    pub fn mc(&self) -> Option<f64> {
        match self {
            McEstimate::Maxc(m) => Some(m.mc),
            McEstimate::Gft(g) => Some(g.mc),
            McEstimate::BStability(s) => s.mc,
            McEstimate::Ks(k) => k.mc,
        }
    }

    /// The column names of [`McEstimate::diagnostic_rows`].
    ///
    /// - MAXC: `magnitude,count` (the frequency-magnitude distribution it took the mode of);
    /// - GFT: `mc,n,b,a,r` (`r` the fit residual R, in percent / 100);
    /// - b-stability: `mc,n,b,b_std,b_avg,diff_b` (`diff_b = |b_avg − b| / b_std`, passing at
    ///   ≤ 1);
    /// - KS: `mc,n,b,ks_distance,p_value`.
    pub fn diagnostic_columns(&self) -> &'static [&'static str] {
        match self {
            McEstimate::Maxc(_) => &["magnitude", "count"],
            McEstimate::Gft(_) => &["mc", "n", "b", "a", "r"],
            McEstimate::BStability(_) => &["mc", "n", "b", "b_std", "b_avg", "diff_b"],
            McEstimate::Ks(_) => &["mc", "n", "b", "ks_distance", "p_value"],
        }
    }

    /// One row per bin (MAXC) or per candidate Mc tested (the others), in the columns of
    /// [`McEstimate::diagnostic_columns`]; a value that does not exist (a b value of a single
    /// event) is NaN.
    pub fn diagnostic_rows(&self) -> Vec<Vec<f64>> {
        match self {
            McEstimate::Maxc(m) => m
                .bins
                .iter()
                .map(|&(centre, count)| vec![centre, count as f64])
                .collect(),
            McEstimate::Gft(g) => g
                .candidates
                .iter()
                .map(|c| vec![c.mc, c.n as f64, c.b, c.a, c.r.unwrap_or(f64::NAN)])
                .collect(),
            McEstimate::BStability(s) => s
                .candidates
                .iter()
                .map(|c| vec![c.mc, c.n as f64, c.b, c.b_std, c.b_avg, c.diff_b])
                .collect(),
            McEstimate::Ks(k) => k
                .candidates
                .iter()
                .map(|c| vec![c.mc, c.n as f64, c.b, c.ks_distance, c.p_value])
                .collect(),
        }
    }
}

/// The completeness magnitude of `magnitudes` by `method`, with magnitude bins of `bin_width`.
///
/// `candidates` replaces the candidate Mc values that b-stability and KS test (by default every
/// bin from the smallest magnitude up); MAXC and GFT take none.
///
/// Fails on an empty sample, on a magnitude that is not finite or lies outside the physical range
/// ([`crate::catalog::check_magnitude`]; it would stretch the histogram without bound), on a
/// `bin_width` below [`MIN_BIN_WIDTH`], on settings [`McMethod::check`] refuses, and, for
/// b-stability and KS, on a magnitude off the grid of `bin_width`.
pub fn completeness_magnitude(
    magnitudes: &[f64],
    method: &McMethod,
    bin_width: f64,
    candidates: Option<&[f64]>,
) -> Result<McEstimate> {
    method.check(bin_width)?;
    if let Some(c) = candidates {
        crate::ensure_config!(
            matches!(method, McMethod::BStability { .. } | McMethod::Ks { .. }),
            "seismicity.mc_candidates",
            "only b-stability and ks test candidate Mc values; {} takes none",
            method.name()
        );
        crate::ensure_config!(
            !c.is_empty() && c.iter().all(|m| m.is_finite()),
            "seismicity.mc_candidates",
            "must be a non-empty list of finite magnitudes, got {c:?}"
        );
    }
    Ok(match *method {
        McMethod::Maxc { correction } => McEstimate::Maxc(maxc(
            &MagnitudeHistogram::binned(magnitudes, bin_width)?,
            correction,
        )),
        McMethod::Gft => McEstimate::Gft(gft(&MagnitudeHistogram::binned(magnitudes, bin_width)?)),
        McMethod::BStability { stability_range } => McEstimate::BStability(b_stability(
            &MagnitudeHistogram::on_grid(magnitudes, bin_width)?,
            stability_range,
            candidates,
        )?),
        McMethod::Ks {
            p_value_pass,
            n_simulations,
            seed,
        } => McEstimate::Ks(ks(
            &MagnitudeHistogram::on_grid(magnitudes, bin_width)?,
            p_value_pass,
            n_simulations,
            seed,
            candidates,
        )),
    })
}

/// One window's Mc by `method` (checked beforehand with [`McMethod::check`]) from the histogram
/// of its magnitudes; `None` when the method finds none (b-stability or KS with no passing
/// candidate, or a window whose magnitudes span less than the stability range).
pub fn window_completeness(histogram: &MagnitudeHistogram, method: &McMethod) -> Option<f64> {
    match *method {
        McMethod::Maxc { correction } => Some(maxc(histogram, correction).mc),
        McMethod::Gft => Some(gft(histogram).mc),
        McMethod::BStability { stability_range } => b_stability(histogram, stability_range, None)
            .ok()
            .and_then(|s| s.mc),
        McMethod::Ks {
            p_value_pass,
            n_simulations,
            seed,
        } => ks(histogram, p_value_pass, n_simulations, seed, None).mc,
    }
}

/// The finest magnitude bin width accepted: finer than any catalog reports magnitudes, and it
/// bounds a histogram over the physical magnitude range to 13,501 bins.
pub const MIN_BIN_WIDTH: f64 = 1e-3;

/// Refuses a bin width that is not a finite number of at least [`MIN_BIN_WIDTH`].
pub(crate) fn check_bin_width(bin_width: f64) -> Result<()> {
    crate::ensure_config!(
        bin_width.is_finite() && bin_width >= MIN_BIN_WIDTH,
        "seismicity.bin_width",
        "must be a number of at least {MIN_BIN_WIDTH}, got {bin_width}"
    );
    Ok(())
}

/// SeismoStats' rounding slack: a quotient this far below a half still rounds up.
const HALF_UP_SLACK: f64 = 1e-12;

/// The bin of magnitude `m`: `floor(m / width + 1/2 + 10⁻¹²)` (half-bins go up).
pub(crate) fn bin_index(m: f64, width: f64) -> i64 {
    (m / width + 0.5 + HALF_UP_SLACK).floor() as i64
}

/// The centre of bin `k`. When `1/width` is an integer (0.1, 0.01, 0.5) the centre is computed as
/// `k / (1/width)`, which gives the decimal value exactly (3.0, not 3.0000000000000004).
pub(crate) fn bin_center(k: i64, width: f64) -> f64 {
    let inverse = 1.0 / width;
    if (inverse - inverse.round()).abs() < 1e-9 {
        k as f64 / inverse.round()
    } else {
        k as f64 * width
    }
}

/// The first bin index (relative to `first_bin`) whose centre is at or above `mc`.
pub(crate) fn first_bin_at_or_above(mc: f64, first_bin: i64, width: f64) -> i64 {
    let k = ((mc - MAGNITUDE_TOLERANCE) / width).ceil() as i64;
    // `ceil` of a value a hair above an integer would skip a bin whose centre equals mc.
    let k = if bin_center(k - 1, width) >= mc - MAGNITUDE_TOLERANCE {
        k - 1
    } else {
        k
    };
    k - first_bin
}

/// The index of the most populated bin; ties go to the lowest bin. `None` when all are empty.
pub(crate) fn mode_bin(counts: &[usize]) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (k, &c) in counts.iter().enumerate() {
        if c > 0 && best.is_none_or(|(_, bc)| c > bc) {
            best = Some((k, c));
        }
    }
    best.map(|(k, _)| k)
}

/// The length of numpy's `arange(start, stop, step)`: `ceil((stop − start) / step)`, at least 0.
/// SeismoStats draws its candidate ranges with it, so the candidates match to the float.
pub(crate) fn arange_len(start: f64, stop: f64, step: f64) -> usize {
    let len = ((stop - start) / step).ceil();
    if len > 0.0 { len as usize } else { 0 }
}

/// Item `i` of numpy's `arange(start, …, step)`: `start + i·((start + step) − start)` (numpy
/// takes the step back from its second item).
pub(crate) fn arange_item(start: f64, step: f64, i: usize) -> f64 {
    start + i as f64 * ((start + step) - start)
}

/// A frequency-magnitude histogram: event counts in consecutive bins of one width, the first
/// and last bins not empty.
#[derive(Debug, Clone, PartialEq)]
pub struct MagnitudeHistogram {
    first_bin: i64,
    counts: Vec<usize>,
    width: f64,
}

impl MagnitudeHistogram {
    /// Every magnitude counted in its bin of `width` (see the module's binning rule).
    ///
    /// Fails on an empty sample, a magnitude outside the physical range or not finite, or a
    /// width below [`MIN_BIN_WIDTH`].
    pub fn binned(magnitudes: &[f64], width: f64) -> Result<Self> {
        Self::build(magnitudes, width, false)
    }

    /// As [`MagnitudeHistogram::binned`], but refuses a magnitude that is not on the grid of
    /// `width` (farther than [`MAGNITUDE_TOLERANCE`] from a bin centre).
    pub fn on_grid(magnitudes: &[f64], width: f64) -> Result<Self> {
        Self::build(magnitudes, width, true)
    }

    fn build(magnitudes: &[f64], width: f64, on_grid: bool) -> Result<Self> {
        check_bin_width(width)?;
        if magnitudes.is_empty() {
            return Err(Error::Numerical(
                "completeness magnitude of an empty magnitude sample".into(),
            ));
        }
        let mut bins = Vec::with_capacity(magnitudes.len());
        for (i, &m) in magnitudes.iter().enumerate() {
            check_magnitude(m).map_err(Error::Numerical)?;
            let k = bin_index(m, width);
            if on_grid && (m - bin_center(k, width)).abs() > MAGNITUDE_TOLERANCE {
                return Err(Error::Numerical(format!(
                    "magnitude {m} (event {}) is not binned to the bin width {width}: \
                     b-stability and ks need magnitudes on that grid; give the catalog's own \
                     magnitude precision as the bin width",
                    i + 1
                )));
            }
            bins.push(k);
        }
        let first_bin = bins.iter().copied().min().unwrap_or(0);
        let last_bin = bins.iter().copied().max().unwrap_or(0);
        let mut counts = vec![0usize; (last_bin - first_bin + 1) as usize];
        for k in bins {
            counts[(k - first_bin) as usize] += 1;
        }
        Ok(MagnitudeHistogram {
            first_bin,
            counts,
            width,
        })
    }

    /// The histogram of `counts` in bins `first_bin, first_bin + 1, …` of `width`, with empty
    /// bins at either end dropped; `None` when every bin is empty.
    pub(crate) fn from_counts(first_bin: i64, counts: &[usize], width: f64) -> Option<Self> {
        let lo = counts.iter().position(|&c| c > 0)?;
        let hi = counts.iter().rposition(|&c| c > 0)?;
        Some(MagnitudeHistogram {
            first_bin: first_bin + lo as i64,
            counts: counts[lo..=hi].to_vec(),
            width,
        })
    }

    /// The bin width.
    pub fn width(&self) -> f64 {
        self.width
    }

    /// The number of events.
    pub fn n_events(&self) -> usize {
        self.counts.iter().sum()
    }

    /// `(bin centre, count)` from the lowest bin to the highest, empty bins between included.
    pub fn bins(&self) -> impl Iterator<Item = (f64, usize)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .map(|(k, &c)| (self.center(k), c))
    }

    /// The centre of the lowest bin (the smallest magnitude, binned).
    pub fn min_magnitude(&self) -> f64 {
        self.center(0)
    }

    /// The centre of the highest bin (the largest magnitude, binned).
    pub fn max_magnitude(&self) -> f64 {
        self.center(self.counts.len() - 1)
    }

    fn center(&self, k: usize) -> f64 {
        bin_center(self.first_bin + k as i64, self.width)
    }

    fn count_at_bin(&self, bin: i64) -> usize {
        usize::try_from(bin - self.first_bin)
            .ok()
            .and_then(|k| self.counts.get(k).copied())
            .unwrap_or(0)
    }

    /// Tinti & Mulargia's (1987) discrete maximum-likelihood b of the events whose magnitude is
    /// at or above `mc − Δ/2` (SeismoStats' `ClassicBValueEstimator`), with its Shi & Bolt
    /// (1982) uncertainty.
    fn classic_b(&self, mc: f64) -> ClassicB {
        let threshold = mc - self.width / 2.0;
        let above: Vec<(f64, f64)> = self
            .bins()
            .filter(|&(centre, c)| c > 0 && centre >= threshold)
            .map(|(centre, c)| (centre, c as f64))
            .collect();
        let n: f64 = above.iter().map(|&(_, c)| c).sum();
        let mean_offset = above.iter().map(|&(m, c)| c * (m - mc)).sum::<f64>() / n;
        // β = ln(1 + Δ / mean(M − Mc)) / Δ, b = β / ln 10.
        let beta = (1.0 + self.width / mean_offset).ln() / self.width;
        let b = beta / std::f64::consts::LN_10;
        let mean = above.iter().map(|&(m, c)| c * m).sum::<f64>() / n;
        let variance = above
            .iter()
            .map(|&(m, c)| c * (m - mean) * (m - mean))
            .sum::<f64>()
            / n;
        // Shi & Bolt with the exact ln 10: σ_b = ln 10 · b² · σ(M) / √(n − 1).
        let b_std = std::f64::consts::LN_10 * b * b * variance.sqrt() / (n - 1.0).sqrt();
        ClassicB {
            n: n as usize,
            distinct: above.len(),
            b,
            b_std,
        }
    }
}

/// The classic b of the events above a candidate Mc.
#[derive(Debug, Clone, Copy)]
struct ClassicB {
    /// Events at or above the candidate.
    n: usize,
    /// Distinct magnitudes among them.
    distinct: usize,
    /// b (NaN without events, infinite when all sit in the candidate's bin).
    b: f64,
    /// Its Shi & Bolt uncertainty (NaN for a single event).
    b_std: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_bins_round_up_as_seismostats_bins_them() {
        // 0.35 / 0.1 = 3.4999999999999996: rounding half away from zero would give bin 3.
        assert_eq!(bin_index(0.35, 0.1), 4);
        assert_eq!(bin_index(-0.05, 0.1), 0);
        assert_eq!(bin_index(2.25, 0.1), 23);
        assert_eq!(bin_index(2.24, 0.1), 22);
    }

    #[test]
    fn arange_matches_numpy() {
        // numpy: len(np.arange(2.0, 3.3, 0.1)) = 13; np.arange(2.7, 3.2, 0.1)[3] =
        // 3.0000000000000004.
        assert_eq!(arange_len(2.0, 3.3, 0.1), 13);
        assert_eq!(arange_len(0.0, 0.5, 0.1), 5);
        assert_eq!(arange_item(2.7, 0.1, 3), 3.0000000000000004);
    }

    #[test]
    fn empty_sample_and_bad_bin_width_are_refused() {
        assert!(completeness_magnitude(&[], &McMethod::MAXC_PLUS_0_2, 0.1, None).is_err());
        let err = completeness_magnitude(&[3.0], &McMethod::Gft, 0.0, None).unwrap_err();
        assert!(err.to_string().contains("seismicity.bin_width"), "{err}");
        assert!(completeness_magnitude(&[f64::NAN], &McMethod::Gft, 0.1, None).is_err());
    }

    #[test]
    fn the_histogram_is_bounded_by_the_magnitude_range_and_the_bin_width() {
        // 1e10 would ask for 1e11 bins of 0.1; a bin of 1e-9 over [-3, 10.5], 1.35e10.
        let err = completeness_magnitude(&[3.0, 1e10], &McMethod::MAXC_PLUS_0_2, 0.1, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("outside the physical range"), "{err}");
        let err = completeness_magnitude(&[3.0], &McMethod::Gft, 1e-9, None).unwrap_err();
        assert!(err.to_string().contains("seismicity.bin_width"), "{err}");
        // The widest histogram allowed: the whole range at the finest width.
        let mc = completeness_magnitude(
            &[-3.0, 10.5, 10.5],
            &McMethod::Maxc { correction: 0.0 },
            MIN_BIN_WIDTH,
            None,
        )
        .unwrap()
        .mc();
        assert_eq!(mc, Some(10.5));
    }

    #[test]
    fn a_magnitude_off_the_grid_is_refused_by_b_stability_and_ks() {
        let m = [2.0, 2.1, 2.15, 2.3, 2.9, 3.4];
        for method in [McMethod::B_STABILITY, McMethod::ks(1)] {
            let err = completeness_magnitude(&m, &method, 0.1, None)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("magnitude 2.15 (event 3) is not binned"),
                "{err}"
            );
        }
    }

    #[test]
    fn candidates_for_a_method_that_takes_none_are_refused() {
        let err = completeness_magnitude(&[2.0, 2.1], &McMethod::Gft, 0.1, Some(&[2.0]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("seismicity.mc_candidates"), "{err}");
    }

    #[test]
    fn an_empty_candidate_list_is_refused() {
        let err = completeness_magnitude(&[2.0, 2.1], &McMethod::B_STABILITY, 0.1, Some(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("must be a non-empty list"), "{err}");
    }

    #[test]
    fn a_ks_p_value_outside_0_1_is_refused() {
        let method = McMethod::Ks {
            p_value_pass: 1.5,
            n_simulations: 10,
            seed: 0,
        };
        let err = method.check(0.1).unwrap_err().to_string();
        assert!(err.contains("seismicity.mc_ks_p_value"), "{err}");
    }

    #[test]
    fn zero_ks_simulations_are_refused() {
        let method = McMethod::Ks {
            p_value_pass: 0.1,
            n_simulations: 0,
            seed: 0,
        };
        let err = method.check(0.1).unwrap_err().to_string();
        assert!(err.contains("seismicity.mc_ks_simulations"), "{err}");
    }

    #[test]
    fn a_maxc_correction_that_is_not_finite_is_refused() {
        let err = McMethod::Maxc {
            correction: f64::NAN,
        }
        .check(0.1)
        .unwrap_err()
        .to_string();
        assert!(err.contains("seismicity.mc_correction"), "{err}");
    }

    #[test]
    fn a_stability_range_of_one_bin_is_refused() {
        let err = McMethod::BStability {
            stability_range: 0.1,
        }
        .check(0.1)
        .unwrap_err()
        .to_string();
        assert!(err.contains("seismicity.mc_stability_range"), "{err}");
    }

    #[test]
    fn the_classic_b_is_tinti_and_mulargias_discrete_mle() {
        // SeismoStats' docstring example: ClassicBValueEstimator on these 24 magnitudes with
        // mc 2.0 and Δ 0.1 gives 1.114920128810535.
        let m = [
            2.0, 2.5, 2.1, 2.2, 2.5, 2.2, 2.6, 2.3, 2.7, 2.2, 2.4, 2.0, 2.7, 2.2, 2.3, 2.1, 2.4,
            2.6, 2.2, 2.2, 2.7, 2.4, 2.2, 2.5,
        ];
        let fit = MagnitudeHistogram::on_grid(&m, 0.1).unwrap().classic_b(2.0);
        assert_eq!(fit.n, 24);
        assert!((fit.b - 1.114920128810535).abs() < 1e-12, "{}", fit.b);
    }
}
