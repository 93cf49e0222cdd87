//! The Kolmogorov-Smirnov method (Clauset et al. 2009; Mizrahi et al. 2021), as SeismoStats'
//! `estimate_mc_ks` computes it, with a seeded simulation.

use rand::Rng;
use rand_distr::{Binomial, Distribution};

use super::{MagnitudeHistogram, arange_len, bin_center, bin_index};

/// One candidate Mc of the KS test.
#[derive(Debug, Clone, PartialEq)]
pub struct KsCandidate {
    /// The candidate Mc.
    pub mc: f64,
    /// Events at or above it (magnitude ≥ Mc − Δ/2).
    pub n: usize,
    /// Tinti & Mulargia's b of those events.
    pub b: f64,
    /// The KS distance between their binned distribution and the discrete Gutenberg-Richter law
    /// with this b above this Mc (1 when they hold a single distinct magnitude).
    pub ks_distance: f64,
    /// The share of simulated catalogs whose distance is at least `ks_distance` (0 when the
    /// events hold a single distinct magnitude).
    pub p_value: f64,
}

/// A KS estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Ks {
    /// The lowest candidate whose p-value passes; `None` when none does.
    pub mc: Option<f64>,
    /// Its b value.
    pub b: Option<f64>,
    /// The candidates tested, up to and including the first that passes.
    pub candidates: Vec<KsCandidate>,
}

/// The completeness magnitude by the KS test.
///
/// Candidates are, by default, the bins from the smallest magnitude up to the largest
/// (exclusive; numpy's `arange(min, max, Δ)`), or the given ones sorted and deduplicated. For
/// each, in order: b by Tinti & Mulargia from the events at or above it, then the KS distance
/// of [`ks_distance`], then `n_simulations` catalogs of the same size drawn from the binned
/// Gutenberg-Richter law with that b and Mc, each giving its own distance; the p-value is the
/// share of simulated distances at least the observed one. The first candidate with
/// `p ≥ p_value_pass` is Mc, and the search stops there.
///
/// The simulation draws the binned law directly: the count in bin `j` above Mc is binomial
/// given the events not yet placed, with the probability `1 − exp(−βΔ)` of the geometric law
/// that binned exponential magnitudes follow. This is the distribution SeismoStats samples
/// (exponential magnitudes rounded to Δ), not its numpy stream, so p-values agree with
/// SeismoStats' only in distribution; the distances are deterministic and agree to rounding.
pub fn ks(
    histogram: &MagnitudeHistogram,
    p_value_pass: f64,
    n_simulations: usize,
    seed: u64,
    candidates: Option<&[f64]>,
) -> Ks {
    let delta = histogram.width;
    let candidates: Vec<f64> = match candidates {
        None => {
            let first = bin_index(histogram.min_magnitude(), delta);
            (0..arange_len(histogram.min_magnitude(), histogram.max_magnitude(), delta))
                .map(|i| bin_center(first + i as i64, delta))
                .collect()
        }
        Some(given) => {
            let mut sorted = given.to_vec();
            sorted.sort_by(f64::total_cmp);
            sorted.dedup();
            sorted
        }
    };
    let mut rng = crate::rng::stream(seed, "seismicity.mc.ks");
    let mut tested = Vec::new();
    let mut best = None;
    for mc in candidates {
        let fit = histogram.classic_b(mc);
        let (ks_distance, p_value) = if fit.distinct <= 1 {
            (1.0, 0.0)
        } else {
            let law = DiscreteGr::new(mc, fit.b, delta, fit.n, n_simulations);
            let observed = law.distance(&law.observed(histogram));
            let mut counts = vec![0usize; law.x.len()];
            let at_least = (0..n_simulations)
                .filter(|_| {
                    law.simulate(fit.n, &mut counts, &mut rng);
                    law.distance(&counts) >= observed
                })
                .count();
            (observed, at_least as f64 / n_simulations as f64)
        };
        tested.push(KsCandidate {
            mc,
            n: fit.n,
            b: fit.b,
            ks_distance,
            p_value,
        });
        if p_value >= p_value_pass {
            best = Some((mc, fit.b));
            break;
        }
    }
    Ks {
        mc: best.map(|b| b.0),
        b: best.map(|b| b.1),
        candidates: tested,
    }
}

/// The KS distance of SeismoStats' `ks_test_gr` between `magnitudes` at or above `mc − Δ/2`
/// and the discrete Gutenberg-Richter law with `b_value` above `mc`, on the bins SeismoStats
/// uses when it also simulates `n_simulations` catalogs (from `mc` up to
/// `mc + log10(n · n_simulations · 1000) / b`, where fewer than one in a thousand simulated
/// magnitudes reach): `max_j |F_emp(x_j) − (1 − exp(−β(x_j + Δ − mc)))|` over the bin centres
/// `x_j`, with `F_emp` the cumulative share of the events inside those bins and `β = b·ln 10`.
pub fn ks_distance(
    histogram: &MagnitudeHistogram,
    mc: f64,
    b_value: f64,
    n_simulations: usize,
) -> f64 {
    let n = histogram
        .bins()
        .filter(|&(centre, _)| centre >= mc - histogram.width / 2.0)
        .map(|(_, c)| c)
        .sum();
    let law = DiscreteGr::new(mc, b_value, histogram.width, n, n_simulations);
    law.distance(&law.observed(histogram))
}

/// The discrete Gutenberg-Richter law above a candidate Mc, on SeismoStats' bins.
struct DiscreteGr {
    /// The bin of the candidate Mc.
    first_bin: i64,
    /// Bin centres `x_j`.
    x: Vec<f64>,
    /// The law's CDF at each bin, `1 − exp(−β(x_j + Δ − mc))`.
    cdf: Vec<f64>,
    /// The probability that an event in or above a bin falls in it, `1 − exp(−βΔ)`.
    stay: f64,
}

impl DiscreteGr {
    fn new(mc: f64, b: f64, delta: f64, n_sample: usize, n_simulations: usize) -> Self {
        let beta = b * std::f64::consts::LN_10;
        let largest = (n_sample as f64 * n_simulations as f64 * 1e3).log10() / b + mc;
        let n_bins = arange_len(mc, largest + 1.5 * delta, delta).saturating_sub(1);
        let first_bin = bin_index(mc, delta);
        let x: Vec<f64> = (0..n_bins)
            .map(|j| bin_center(first_bin + j as i64, delta))
            .collect();
        let cdf = x
            .iter()
            .map(|&x| 1.0 - (-beta * (x + delta - mc)).exp())
            .collect();
        DiscreteGr {
            first_bin,
            x,
            cdf,
            stay: 1.0 - (-beta * delta).exp(),
        }
    }

    /// The events of `histogram` in each bin.
    fn observed(&self, histogram: &MagnitudeHistogram) -> Vec<usize> {
        (0..self.x.len())
            .map(|j| histogram.count_at_bin(self.first_bin + j as i64))
            .collect()
    }

    /// `max_j |cumsum(counts)_j / Σ counts − cdf_j|` (NaN for empty counts).
    fn distance(&self, counts: &[usize]) -> f64 {
        let total: usize = counts.iter().sum();
        if total == 0 {
            return f64::NAN;
        }
        let mut running = 0usize;
        let mut largest = 0.0f64;
        for (&c, &cdf) in counts.iter().zip(&self.cdf) {
            running += c;
            largest = largest.max((running as f64 / total as f64 - cdf).abs());
        }
        largest
    }

    /// One simulated catalog of `n` events, binned into `counts` (events beyond the last bin
    /// are dropped, as `np.histogram` drops them).
    fn simulate(&self, n: usize, counts: &mut [usize], rng: &mut impl Rng) {
        let mut left = n as u64;
        for c in counts.iter_mut() {
            let placed = if left == 0 {
                0
            } else {
                Binomial::new(left, self.stay).map_or(0, |d| d.sample(rng))
            };
            *c = placed as usize;
            left -= placed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{McEstimate, McMethod, completeness_magnitude};
    use super::*;

    #[test]
    fn a_single_magnitude_fails_the_test() {
        // Above the candidates 2.1 and 2.2 only the two 2.5s remain.
        let m = [2.0, 2.0, 2.5, 2.5];
        let estimate = completeness_magnitude(&m, &McMethod::ks(7), 0.1, Some(&[2.2, 2.1]));
        let McEstimate::Ks(k) = estimate.unwrap() else {
            panic!("a KS estimate");
        };
        assert_eq!(k.mc, None);
        let got: Vec<(f64, f64, f64)> = k
            .candidates
            .iter()
            .map(|c| (c.mc, c.ks_distance, c.p_value))
            .collect();
        assert_eq!(got, [(2.1, 1.0, 0.0), (2.2, 1.0, 0.0)]);
    }

    #[test]
    fn the_distance_of_a_hand_worked_sample() {
        // Magnitudes 2.0 ×3, 2.1 ×1, mc 2.0, b = 1/ln 10 so β = 1, one simulation: the bins
        // run from 2.0 up to 2.0 + ln 10 · log10(4000) (+ 1.5Δ) and the law's CDF at bin j is
        // 1 − e^(−0.1 (j + 1)). Empirical CDF: 0.75, 1, 1, …; the largest gap is at j = 1:
        // |1 − (1 − e^−0.2)| = e^−0.2 = 0.8187…; at j = 0 it is |0.75 − (1 − e^−0.1)| = 0.6548.
        let h = MagnitudeHistogram::on_grid(&[2.0, 2.0, 2.0, 2.1], 0.1).unwrap();
        let d = ks_distance(&h, 2.0, 1.0 / std::f64::consts::LN_10, 1);
        assert!((d - (-0.2f64).exp()).abs() < 1e-12, "{d}");
    }
}
