//! The goodness-of-fit test of Wiemer & Wyss (2000). SeismoStats 1.0.1 has no counterpart.

use super::{MagnitudeHistogram, maxc};

/// One trial Mc of the goodness-of-fit test.
#[derive(Debug, Clone, PartialEq)]
pub struct GftCandidate {
    /// The trial Mc (a bin centre).
    pub mc: f64,
    /// Events at or above it.
    pub n: usize,
    /// Aki-Utsu b of those events (NaN where it cannot be fitted).
    pub b: f64,
    /// a of eq. (20), `log10 N + b·Mc` (NaN where b is).
    pub a: f64,
    /// The fit residual R; `None` where b cannot be fitted (fewer than two events).
    pub r: Option<f64>,
}

/// A goodness-of-fit estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Gft {
    /// The completeness magnitude.
    pub mc: f64,
    /// The level of R first met (0.95, else 0.90); `None` when neither is met and Mc is MAXC
    /// without correction.
    pub level: Option<f64>,
    /// Every trial Mc, lowest first.
    pub candidates: Vec<GftCandidate>,
}

/// Goodness of fit (Wiemer & Wyss 2000). For each trial Mc, from the lowest bin upwards, the
/// events at or above it give b by Aki-Utsu and a by eq. (20); the fit residual is
/// `R = 1 − Σ_i |B_i − S_i| / Σ_i B_i` over the bins `M_i ≥ Mc`, with `B_i` the observed and
/// `S_i = 10^(a − b·M_i)` the modelled cumulative count `N(M ≥ M_i)`. Mc is the lowest trial
/// with `R ≥ 0.95`; failing that, the lowest with `R ≥ 0.90`; failing that, MAXC without
/// correction (the fallback order of Wiemer & Wyss).
pub fn gft(histogram: &MagnitudeHistogram) -> Gft {
    let counts = &histogram.counts;
    // Cumulative counts N(M >= centre of bin k).
    let mut cumulative = vec![0usize; counts.len()];
    let mut running = 0;
    for k in (0..counts.len()).rev() {
        running += counts[k];
        cumulative[k] = running;
    }
    let candidates: Vec<GftCandidate> = (0..counts.len())
        .map(|c| trial(histogram, c, &cumulative))
        .collect();
    for level in [0.95, 0.90] {
        if let Some(c) = candidates.iter().find(|c| c.r.is_some_and(|r| r >= level)) {
            return Gft {
                mc: c.mc,
                level: Some(level),
                candidates,
            };
        }
    }
    Gft {
        mc: maxc(histogram, 0.0).mc,
        level: None,
        candidates,
    }
}

/// The trial Mc = centre of bin `c`.
fn trial(histogram: &MagnitudeHistogram, c: usize, cumulative: &[usize]) -> GftCandidate {
    let n = cumulative[c];
    let mc = histogram.center(c);
    let unfitted = GftCandidate {
        mc,
        n,
        b: f64::NAN,
        a: f64::NAN,
        r: None,
    };
    if n < 2 {
        return unfitted;
    }
    let sum: f64 = (c..histogram.counts.len())
        .map(|k| histogram.counts[k] as f64 * (histogram.center(k) - mc))
        .sum();
    // Aki-Utsu with the bin correction, eq. (19) with Mc − ΔM/2.
    let denominator = sum / n as f64 + histogram.width / 2.0;
    if denominator <= 0.0 {
        return unfitted;
    }
    let b = std::f64::consts::LOG10_E / denominator;
    // eq. (20)
    let a = (n as f64).log10() + b * mc;
    let (mut misfit, mut total) = (0.0, 0.0);
    for (k, &observed) in cumulative.iter().enumerate().skip(c) {
        let modelled = 10f64.powf(a - b * histogram.center(k));
        misfit += (observed as f64 - modelled).abs();
        total += observed as f64;
    }
    GftCandidate {
        mc,
        n,
        b,
        a,
        r: Some(1.0 - misfit / total),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{McMethod, completeness_magnitude};

    fn gft_of(m: &[f64]) -> f64 {
        completeness_magnitude(m, &McMethod::Gft, 0.1, None)
            .unwrap()
            .mc()
            .unwrap()
    }

    #[test]
    fn gft_finds_the_start_of_a_gutenberg_richter_tail() {
        // Bins 2.0..=4.0 hold round(20000·(10^−(m−2) − 10^−(m−1.9))) events (b = 1); below 2.0
        // the catalog is incomplete: 300 events at 1.8 and 2000 at 1.9. Worked out separately
        // (numpy): R = 0.834 at trial Mc 1.8, 0.921 at 1.9, 0.980 at 2.0, so the 95 % level
        // is first met at Mc = 2.0.
        let mut m = vec![1.8; 300];
        m.extend(std::iter::repeat_n(1.9, 2000));
        for k in 0..=20 {
            let x = k as f64 / 10.0;
            let count = (20000.0 * (10f64.powf(-x) - 10f64.powf(-(x + 0.1)))).round() as usize;
            m.extend(std::iter::repeat_n(2.0 + x, count));
        }
        let estimate = completeness_magnitude(&m, &McMethod::Gft, 0.1, None).unwrap();
        assert_eq!(estimate.mc(), Some(2.0));
        let super::super::McEstimate::Gft(g) = estimate else {
            panic!("a GFT estimate");
        };
        assert_eq!(g.level, Some(0.95));
        let r: Vec<f64> = g.candidates[..3].iter().map(|c| c.r.unwrap()).collect();
        assert!(
            (r[0] - 0.834).abs() < 5e-4 && (r[1] - 0.921).abs() < 5e-4,
            "{r:?}"
        );
        assert!((r[2] - 0.980).abs() < 5e-4, "{r:?}");
        // Without the incomplete bins the lowest bin already fits.
        let complete: Vec<f64> = m.iter().copied().filter(|&v| v > 1.95).collect();
        assert_eq!(gft_of(&complete), 2.0);
        let with_19: Vec<f64> = m.iter().copied().filter(|&v| v > 1.85).collect();
        assert_eq!(gft_of(&with_19), 2.0);
    }
}
