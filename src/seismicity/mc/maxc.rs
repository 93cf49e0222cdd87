//! Maximum curvature (Wiemer & Wyss 2000) with the correction of Woessner & Wiemer (2005).

use super::{MagnitudeHistogram, mode_bin};

/// A MAXC estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Maxc {
    /// The modal bin centre plus the correction.
    pub mc: f64,
    /// The centre of the most populated bin (the lowest such bin on a tie).
    pub modal_magnitude: f64,
    /// The events in it.
    pub modal_count: usize,
    /// The correction added.
    pub correction: f64,
    /// The frequency-magnitude distribution: `(bin centre, count)`, lowest bin first.
    pub bins: Vec<(f64, usize)>,
}

/// MAXC: the centre of the most populated bin of `histogram` (ties go to the lowest bin, as
/// numpy's `argmax` does in SeismoStats' `estimate_mc_maxc`) plus `correction`.
///
/// The sum is not rounded: with bins of 0.1, a mode at 2.1 and the correction 0.2 give
/// 2.3000000000000003, as SeismoStats returns.
pub fn maxc(histogram: &MagnitudeHistogram, correction: f64) -> Maxc {
    // A histogram's first bin is never empty, so there is a mode.
    let k = mode_bin(&histogram.counts).unwrap_or(0);
    let modal_magnitude = histogram.center(k);
    Maxc {
        mc: modal_magnitude + correction,
        modal_magnitude,
        modal_count: histogram.counts[k],
        correction,
        bins: histogram.bins().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{McMethod, completeness_magnitude};

    fn maxc_of(m: &[f64], correction: f64, width: f64) -> f64 {
        completeness_magnitude(m, &McMethod::Maxc { correction }, width, None)
            .unwrap()
            .mc()
            .unwrap()
    }

    #[test]
    fn maxc_is_the_modal_bin_plus_correction() {
        // Bins: 2.0 ×1, 2.1 ×3, 2.2 ×2, 2.5 ×1 → mode 2.1; 2.1 + 0.2 in floating point.
        let m = [2.0, 2.1, 2.1, 2.1, 2.2, 2.2, 2.5];
        assert_eq!(maxc_of(&m, 0.2, 0.1), 2.1 + 0.2);
        assert_eq!(maxc_of(&m, 0.0, 0.1), 2.1);
    }

    #[test]
    fn maxc_ties_go_to_the_lowest_bin() {
        assert_eq!(maxc_of(&[3.4, 3.4, 3.1, 3.1, 3.7], 0.0, 0.1), 3.1);
    }

    #[test]
    fn the_seismostats_docstring_example_gives_1_4() {
        // estimate_mc_maxc's docstring: these 36 magnitudes give 1.4 (mode 1.2, +0.2).
        let m = [
            2.3, 1.2, 1.5, 1.2, 1.7, 1.1, 1.2, 1.8, 1.6, 1.2, 1.5, 1.2, 1.7, 1.6, 1.1, 1.1, 1.2,
            2.0, 1.1, 1.2, 1.1, 1.2, 1.6, 1.9, 1.3, 1.7, 1.3, 1.0, 1.2, 1.7, 1.3, 1.3, 1.1, 1.5,
            1.4, 1.5,
        ];
        assert_eq!(maxc_of(&m, 0.2, 0.1), 1.2 + 0.2);
    }

    #[test]
    fn a_coarser_bin_than_the_data_rounds_half_bins_up() {
        // With bins of 0.2: 2.1 → 2.2 (2.1/0.2 = 10.5 rounds up), 2.3 → 2.4, 2.0 → 2.0.
        // Three events land in 2.2, two in 2.4, two in 2.0.
        let m = [2.0, 2.0, 2.1, 2.1, 2.2, 2.3, 2.4];
        assert_eq!(maxc_of(&m, 0.0, 0.2), 2.2);
    }
}
