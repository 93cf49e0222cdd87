//! The b-value stability method (Cao & Gao 2002; Woessner & Wiemer 2005), as SeismoStats'
//! `estimate_mc_b_stability` computes it.

use super::{MagnitudeHistogram, arange_item, arange_len, bin_center, bin_index};
use crate::{Error, Result};

/// One candidate Mc of the b-stability test.
#[derive(Debug, Clone, PartialEq)]
pub struct BStabilityCandidate {
    /// The candidate Mc.
    pub mc: f64,
    /// Events at or above it (magnitude ≥ Mc − Δ/2).
    pub n: usize,
    /// Tinti & Mulargia's b of those events.
    pub b: f64,
    /// Its Shi & Bolt uncertainty (with ln 10, not 2.3; NaN for a single event).
    pub b_std: f64,
    /// The sum of the b values at Mc, Mc + Δ, … within the stability range, divided by the
    /// number of steps in the range.
    pub b_avg: f64,
    /// `|b_avg − b| / b_std`: the candidate is stable when it is at most 1.
    pub diff_b: f64,
}

/// A b-stability estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct BStability {
    /// The lowest stable candidate, binned; `None` when none is stable.
    pub mc: Option<f64>,
    /// Its b value.
    pub b: Option<f64>,
    /// The candidates tested, up to and including the first stable one.
    pub candidates: Vec<BStabilityCandidate>,
}

/// The completeness magnitude by b-value stability.
///
/// `steps = ceil(stability_range / Δ)` (5 for 0.5 and 0.1). The candidates are, by default, the
/// bins from the smallest magnitude up to the largest (exclusive), less the last `steps − 1`
/// (numpy's `arange(min, max, Δ)[:-steps + 1]`); given `candidates` are kept where
/// `mc + stability_range ≤ max magnitude`. Either way, too few is an error. For each candidate,
/// in order, b and its Shi & Bolt uncertainty σ come from the events at or above it (Tinti &
/// Mulargia's discrete MLE), `b_avg` is the sum of the b values at `mc + i·Δ` for
/// `i < steps` (those not above the largest magnitude) divided by `steps`, and the candidate is
/// stable when `|b_avg − b| / σ ≤ 1` (Woessner & Wiemer's eq. (5) criterion). The first stable
/// candidate is Mc, and the search stops there.
///
/// As in SeismoStats 1.0.1, a stable candidate counts only when its `diff_b` is the running
/// minimum in Python's sense (an earlier NaN, from a candidate with a single event above it,
/// makes every later comparison fail, and no Mc is returned), and the offsets `mc + i·Δ` are
/// numpy's `arange(mc, mc + range, Δ)` items, floating-point residue and all. One deviation:
/// SeismoStats returns no Mc when the stable candidate is exactly 0.0 (it tests the value's
/// truth); quakelab returns 0.0.
pub fn b_stability(
    histogram: &MagnitudeHistogram,
    stability_range: f64,
    candidates: Option<&[f64]>,
) -> Result<BStability> {
    let delta = histogram.width;
    let steps = arange_len(0.0, stability_range, delta);
    let (min, max) = (histogram.min_magnitude(), histogram.max_magnitude());
    let too_narrow = || {
        Error::Numerical(format!(
            "b-stability: the magnitudes span {min} to {max}, too narrow for a stability range \
             of {stability_range} above a candidate Mc"
        ))
    };
    let candidates: Vec<f64> = match candidates {
        None => {
            let n = arange_len(min, max, delta);
            if n <= steps {
                return Err(too_narrow());
            }
            let first = bin_index(min, delta);
            (0..n + 1 - steps)
                .map(|i| bin_center(first + i as i64, delta))
                .collect()
        }
        Some(given) => {
            let kept: Vec<f64> = given
                .iter()
                .copied()
                .filter(|&mc| mc + stability_range <= max)
                .collect();
            if kept.is_empty() {
                return Err(too_narrow());
            }
            kept
        }
    };
    let mut tested = Vec::new();
    let mut best = None;
    for mc in candidates {
        let fit = histogram.classic_b(mc);
        let b_sum: f64 = (0..arange_len(mc, mc + stability_range, delta))
            .map(|i| arange_item(mc, delta, i))
            .filter(|&m| m <= max)
            .map(|m| histogram.classic_b(m).b)
            .sum();
        let b_avg = b_sum / steps as f64;
        let diff_b = (b_avg - fit.b).abs() / fit.b_std;
        tested.push(BStabilityCandidate {
            mc,
            n: fit.n,
            b: fit.b,
            b_std: fit.b_std,
            b_avg,
            diff_b,
        });
        if diff_b <= 1.0 {
            if diff_b == python_min(tested.iter().map(|c| c.diff_b)) {
                best = Some((bin_center(bin_index(mc, delta), delta), fit.b));
            }
            break;
        }
    }
    Ok(BStability {
        mc: best.map(|b| b.0),
        b: best.map(|b| b.1),
        candidates: tested,
    })
}

/// Python's `min` of floats: the first value, replaced by each later one that compares smaller
/// (so a leading NaN stays).
fn python_min(values: impl Iterator<Item = f64>) -> f64 {
    values
        .reduce(|m, x| if x < m { x } else { m })
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::super::{McEstimate, McMethod, completeness_magnitude};

    #[test]
    fn the_seismostats_docstring_example_gives_1_1() {
        // estimate_mc_b_stability's docstring: Mc 1.1, with b 0.9571853220063772 and diff_b
        // 2.2337527711215786 at 1.0, b 1.190298769977797 and diff_b 0.9457747650207581 at 1.1.
        let m = [
            2.3, 1.2, 1.5, 1.2, 1.7, 1.1, 1.2, 1.8, 1.6, 1.2, 1.5, 1.2, 1.7, 1.6, 1.1, 1.1, 1.2,
            2.0, 1.1, 1.2, 1.1, 1.2, 1.6, 1.9, 1.3, 1.7, 1.3, 1.0, 1.2, 1.7, 1.3, 1.3, 1.1, 1.5,
            1.4, 1.5,
        ];
        let estimate = completeness_magnitude(&m, &McMethod::B_STABILITY, 0.1, None).unwrap();
        assert_eq!(estimate.mc(), Some(1.1));
        let McEstimate::BStability(s) = estimate else {
            panic!("a b-stability estimate");
        };
        let want = [
            (0.9571853220063772, 2.2337527711215786),
            (1.190298769977797, 0.9457747650207581),
        ];
        assert_eq!(s.candidates.len(), 2);
        for (c, (b, diff)) in s.candidates.iter().zip(want) {
            assert!(
                (c.b - b).abs() < 1e-12 && (c.diff_b - diff).abs() < 1e-12,
                "{c:?}"
            );
        }
    }

    #[test]
    fn magnitudes_narrower_than_the_stability_range_are_refused() {
        let err = completeness_magnitude(&[2.0, 2.1, 2.2, 2.3], &McMethod::B_STABILITY, 0.1, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("too narrow for a stability range of 0.5"),
            "{err}"
        );
    }
}
