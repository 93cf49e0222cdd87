//! Completeness magnitude Mc: the magnitude above which a catalog records (almost) every event.
//!
//! The paper fixes Mc = 3 (§1.2). Completeness varies in time, most of all right after large
//! earthquakes (pitfall P5), so quakelab also estimates Mc from the magnitudes themselves:
//!
//! - [`McMethod::Maxc`]: the maximum-curvature method, i.e. the centre of the most populated
//!   magnitude bin, plus a correction (Woessner & Wiemer 2005 recommend +0.2 because MAXC
//!   underestimates Mc for gradually curved frequency-magnitude distributions);
//! - [`McMethod::Gft`]: the goodness-of-fit test of Wiemer & Wyss (2000).
//!
//! Magnitudes are assigned to bins of width `bin_width` by rounding `M / bin_width` to the nearest
//! integer; bin `k` has centre `k · bin_width`.

use crate::catalog::{MAGNITUDE_TOLERANCE, check_magnitude};
use crate::{Error, Result};

/// How to determine the completeness magnitude.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum McMethod {
    /// A given value (the paper's reading: `Fixed(3.0)`).
    Fixed(f64),
    /// Maximum curvature: the centre of the most populated magnitude bin (ties go to the lowest
    /// such bin) plus `correction` (Woessner & Wiemer 2005 suggest 0.2).
    Maxc {
        /// Added to the modal bin centre.
        correction: f64,
    },
    /// Goodness of fit (Wiemer & Wyss 2000). For each trial Mc, from the lowest bin upwards, the
    /// events at or above it give b by Aki-Utsu and a by eq. (20); the fit residual is
    /// `R = 1 − Σ_i |B_i − S_i| / Σ_i B_i` over the bins `M_i ≥ Mc`, with `B_i` the observed and
    /// `S_i = 10^(a − b·M_i)` the modelled cumulative count `N(M ≥ M_i)`. Mc is the lowest trial
    /// with `R ≥ 0.95`; failing that, the lowest with `R ≥ 0.90`; failing that, MAXC without
    /// correction (the fallback order of Wiemer & Wyss).
    Gft,
}

impl McMethod {
    /// MAXC with the +0.2 correction of Woessner & Wiemer (2005).
    pub const MAXC_PLUS_0_2: McMethod = McMethod::Maxc { correction: 0.2 };
}

/// The completeness magnitude of `magnitudes` by `method`, with magnitude bins of `bin_width`.
///
/// Fails on an empty sample, on a magnitude that is not finite or lies outside the physical range
/// ([`crate::catalog::check_magnitude`]; it would stretch the histogram without bound), or on a
/// `bin_width` below [`MIN_BIN_WIDTH`].
pub fn completeness_magnitude(
    magnitudes: &[f64],
    method: &McMethod,
    bin_width: f64,
) -> Result<f64> {
    check_bin_width(bin_width)?;
    if magnitudes.is_empty() {
        return Err(Error::Numerical(
            "completeness magnitude of an empty magnitude sample".into(),
        ));
    }
    for &m in magnitudes {
        check_magnitude(m).map_err(Error::Numerical)?;
    }
    let histogram = Histogram::new(magnitudes, bin_width);
    match *method {
        McMethod::Fixed(mc) => {
            if mc.is_finite() {
                Ok(mc)
            } else {
                Err(Error::config(
                    "seismicity.mc",
                    format!("must be finite, got {mc}"),
                ))
            }
        }
        McMethod::Maxc { correction } => Ok(histogram.maxc() + correction),
        McMethod::Gft => Ok(histogram.gft()),
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

/// The bin of magnitude `m`: `round(m / width)`.
pub(crate) fn bin_index(m: f64, width: f64) -> i64 {
    (m / width).round() as i64
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

/// A frequency-magnitude histogram over the bins between the smallest and largest magnitude.
struct Histogram {
    first_bin: i64,
    counts: Vec<usize>,
    width: f64,
}

impl Histogram {
    /// Needs a non-empty sample of finite magnitudes.
    fn new(magnitudes: &[f64], width: f64) -> Self {
        let bins: Vec<i64> = magnitudes.iter().map(|&m| bin_index(m, width)).collect();
        let first_bin = bins.iter().copied().min().unwrap_or(0);
        let last_bin = bins.iter().copied().max().unwrap_or(0);
        let mut counts = vec![0usize; (last_bin - first_bin + 1) as usize];
        for k in bins {
            counts[(k - first_bin) as usize] += 1;
        }
        Histogram {
            first_bin,
            counts,
            width,
        }
    }

    fn center(&self, k: usize) -> f64 {
        bin_center(self.first_bin + k as i64, self.width)
    }

    fn maxc(&self) -> f64 {
        self.center(mode_bin(&self.counts).unwrap_or(0))
    }

    fn gft(&self) -> f64 {
        // Cumulative counts N(M >= centre of bin k).
        let mut cumulative = vec![0usize; self.counts.len()];
        let mut running = 0;
        for k in (0..self.counts.len()).rev() {
            running += self.counts[k];
            cumulative[k] = running;
        }
        let residuals: Vec<Option<f64>> = (0..self.counts.len())
            .map(|c| self.gft_residual(c, &cumulative))
            .collect();
        for level in [0.95, 0.90] {
            if let Some(c) = residuals.iter().position(|r| r.is_some_and(|r| r >= level)) {
                return self.center(c);
            }
        }
        self.maxc()
    }

    /// `R` for trial Mc = centre of bin `c`, or `None` when b cannot be fitted there.
    fn gft_residual(&self, c: usize, cumulative: &[usize]) -> Option<f64> {
        let n = cumulative[c];
        if n < 2 {
            return None;
        }
        let mc = self.center(c);
        let sum: f64 = (c..self.counts.len())
            .map(|k| self.counts[k] as f64 * (self.center(k) - mc))
            .sum();
        // Aki-Utsu with the bin correction, eq. (19) with Mc − ΔM/2.
        let denominator = sum / n as f64 + self.width / 2.0;
        if denominator <= 0.0 {
            return None;
        }
        let b = std::f64::consts::LOG10_E / denominator;
        // eq. (20)
        let a = (n as f64).log10() + b * mc;
        let (mut misfit, mut total) = (0.0, 0.0);
        for (k, &observed) in cumulative.iter().enumerate().skip(c) {
            let modelled = 10f64.powf(a - b * self.center(k));
            misfit += (observed as f64 - modelled).abs();
            total += observed as f64;
        }
        Some(1.0 - misfit / total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maxc_is_the_modal_bin_plus_correction() {
        // Bins: 2.0 ×1, 2.1 ×3, 2.2 ×2, 2.5 ×1 → mode 2.1.
        let m = [2.0, 2.1, 2.1, 2.1, 2.2, 2.2, 2.5];
        let mc = completeness_magnitude(&m, &McMethod::MAXC_PLUS_0_2, 0.1).unwrap();
        assert!((mc - 2.3).abs() < 1e-12, "{mc}");
        let plain = completeness_magnitude(&m, &McMethod::Maxc { correction: 0.0 }, 0.1).unwrap();
        assert_eq!(plain, 2.1);
    }

    #[test]
    fn maxc_ties_go_to_the_lowest_bin() {
        let m = [3.4, 3.4, 3.1, 3.1, 3.7];
        let mc = completeness_magnitude(&m, &McMethod::Maxc { correction: 0.0 }, 0.1).unwrap();
        assert_eq!(mc, 3.1);
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
        let mc = completeness_magnitude(&m, &McMethod::Gft, 0.1).unwrap();
        assert_eq!(mc, 2.0);
        // Without the incomplete bins the lowest bin already fits.
        let complete: Vec<f64> = m.iter().copied().filter(|&v| v > 1.95).collect();
        assert_eq!(
            completeness_magnitude(&complete, &McMethod::Gft, 0.1).unwrap(),
            2.0
        );
        let with_19: Vec<f64> = m.iter().copied().filter(|&v| v > 1.85).collect();
        assert_eq!(
            completeness_magnitude(&with_19, &McMethod::Gft, 0.1).unwrap(),
            2.0
        );
    }

    #[test]
    fn empty_sample_and_bad_bin_width_are_refused() {
        assert!(completeness_magnitude(&[], &McMethod::MAXC_PLUS_0_2, 0.1).is_err());
        let err = completeness_magnitude(&[3.0], &McMethod::Gft, 0.0).unwrap_err();
        assert!(err.to_string().contains("seismicity.bin_width"), "{err}");
        assert!(completeness_magnitude(&[f64::NAN], &McMethod::Gft, 0.1).is_err());
    }

    #[test]
    fn the_histogram_is_bounded_by_the_magnitude_range_and_the_bin_width() {
        // 1e10 would ask for 1e11 bins of 0.1; a bin of 1e-9 over [-3, 10.5], 1.35e10.
        let err = completeness_magnitude(&[3.0, 1e10], &McMethod::MAXC_PLUS_0_2, 0.1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("outside the physical range"), "{err}");
        let err = completeness_magnitude(&[3.0], &McMethod::Gft, 1e-9).unwrap_err();
        assert!(err.to_string().contains("seismicity.bin_width"), "{err}");
        // The widest histogram allowed: the whole range at the finest width.
        let mc = completeness_magnitude(
            &[-3.0, 10.5, 10.5],
            &McMethod::Maxc { correction: 0.0 },
            MIN_BIN_WIDTH,
        )
        .unwrap();
        assert_eq!(mc, 10.5);
    }

    #[test]
    fn first_bin_at_or_above_hits_the_bin_whose_centre_equals_mc() {
        assert_eq!(first_bin_at_or_above(3.0, 20, 0.1), 10);
        assert_eq!(first_bin_at_or_above(0.1 + 0.2 + 2.7, 20, 0.1), 10);
        assert_eq!(first_bin_at_or_above(3.05, 20, 0.1), 11);
    }
}
