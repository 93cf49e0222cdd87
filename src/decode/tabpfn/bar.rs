//! The bar distribution TabPFN v2 predicts: a probability per bucket between fixed borders.
//!
//! The model's last layer gives one logit per bucket of the checkpoint's `criterion.borders`
//! (standardised target units). The predictive density is uniform inside each inner bucket; the
//! two outer buckets are half-normal tails reaching out to ±∞ (tabpfn 2.2.1
//! `FullSupportBarDistribution`). [`BarDistribution`] holds the borders and gives the mean and
//! the quantiles of such a distribution.
//!
//! An ensemble member that was fitted on transformed targets predicts buckets whose borders are
//! the standard borders mapped through the transform's inverse ([`MappedBorders`]);
//! [`member_probabilities`] carries its distribution back onto the standard borders, so that the
//! members can be averaged bucket by bucket.

use crate::{Error, Result};

/// Φ⁻¹(0.75), the median of a unit half-normal, as the reference package evaluates it: in float32
/// (`HalfNormal(torch.tensor(1.0)).icdf(0.5)`), i.e. 0.6744897501960817 rounded to f32. Using the
/// same value keeps the tail centres equal to the package's to f64 round-off.
pub(crate) const HALF_NORMAL_MEDIAN: f64 = 0.674_489_736_557_006_8;

/// Mapped borders beyond ±this (or not finite) are broken (tabpfn 2.2.1
/// `REGRESSION_NAN_BORDER_LIMIT_UPPER` / `_LOWER`).
const BROKEN_BORDER_LIMIT: f64 = 1e3;

/// A distribution over buckets between borders, with half-normal outer buckets.
///
/// The borders are finite and increasing: strictly when built with [`BarDistribution::new`];
/// [`BarDistribution::affine`] keeps that up to the rounding of its products, and the mean and
/// the quantiles need no more than non-decreasing borders.
#[derive(Debug, Clone, PartialEq)]
pub struct BarDistribution {
    borders: Vec<f64>,
}

impl BarDistribution {
    /// The distribution over the buckets between consecutive `borders`.
    ///
    /// Refuses (with [`Error::Numerical`]) fewer than 3 borders (2 buckets: the two tails), a
    /// border that is not finite, and borders that are not strictly increasing.
    pub fn new(borders: Vec<f64>) -> Result<BarDistribution> {
        if borders.len() < 3 {
            return Err(Error::Numerical(format!(
                "bar distribution: needs at least 3 borders (2 buckets), got {}",
                borders.len()
            )));
        }
        if let Some((i, b)) = borders.iter().enumerate().find(|(_, b)| !b.is_finite()) {
            return Err(Error::Numerical(format!(
                "bar distribution: border {i} is {b}, not a finite number"
            )));
        }
        if let Some(i) = borders.windows(2).position(|w| w[1] <= w[0]) {
            return Err(Error::Numerical(format!(
                "bar distribution: borders must be strictly increasing, but border {} ({}) is \
                 not above border {i} ({})",
                i + 1,
                borders[i + 1],
                borders[i]
            )));
        }
        Ok(BarDistribution { borders })
    }

    /// The borders, `n_buckets() + 1` of them.
    pub fn borders(&self) -> &[f64] {
        &self.borders
    }

    /// The number of buckets, one fewer than the borders.
    pub fn n_buckets(&self) -> usize {
        self.borders.len() - 1
    }

    /// The same distribution on the borders `b * scale + shift`: with the training targets'
    /// standard deviation and mean, the standardised-target distribution in raw units (tabpfn
    /// 2.2.1 `raw_space_bardist_`).
    ///
    /// # Panics
    /// When `scale` is not a positive finite number (a standard deviation plus 1e-20 always is).
    pub fn affine(&self, scale: f64, shift: f64) -> BarDistribution {
        assert!(
            scale > 0.0 && scale.is_finite(),
            "bar distribution: the scale must be positive and finite, got {scale}"
        );
        BarDistribution {
            borders: self.borders.iter().map(|b| b * scale + shift).collect(),
        }
    }

    /// The mean of the distribution with bucket weights `probs` (normalised here, as the
    /// package's softmax of their logarithm does).
    ///
    /// Σ_k p_k c_k with c_k the centre of an inner bucket, and for the outer buckets the mean of
    /// a half-normal whose median is the bucket's width w: scale s = w / Φ⁻¹(0.75), mean
    /// s·√(2/π) away from the inner border (b_1 − s₀√(2/π) on the left, b_{n−1} + s_last√(2/π)
    /// on the right).
    ///
    /// # Panics
    /// When `probs` does not hold one weight per bucket.
    pub fn mean(&self, probs: &[f64]) -> f64 {
        self.check_probabilities(probs);
        let total: f64 = probs.iter().sum();
        let weighted: f64 = probs
            .iter()
            .enumerate()
            .map(|(k, p)| p * self.bucket_mean(k))
            .sum();
        weighted / total
    }

    /// The `q`-quantile of the distribution with bucket weights `probs` (normalised here): the
    /// first bucket whose cumulative probability reaches `q`, interpolated linearly inside it
    /// (tabpfn 2.2.1 `icdf`; the outer buckets are treated as uniform here too). The median is
    /// `quantile(probs, 0.5)`.
    ///
    /// When rounding leaves the total just short of `q`, the last bucket is used and the result
    /// may reach slightly beyond the last border, as in the package. A bucket of probability 0
    /// (only possible for the first bucket at `q` = 0) gives its left border.
    ///
    /// # Panics
    /// When `probs` does not hold one weight per bucket, or `q` is outside [0, 1].
    pub fn quantile(&self, probs: &[f64], q: f64) -> f64 {
        self.check_probabilities(probs);
        assert!(
            (0.0..=1.0).contains(&q),
            "bar distribution: a quantile level must lie in [0, 1], got {q}"
        );
        let total: f64 = probs.iter().sum();
        let last = self.n_buckets() - 1;
        let mut before = 0.0;
        for (k, &weight) in probs.iter().enumerate() {
            let p = weight / total;
            let through = before + p;
            if through >= q || k == last {
                let (left, right) = (self.borders[k], self.borders[k + 1]);
                if p == 0.0 {
                    return left;
                }
                return left + (right - left) * (q - before) / p;
            }
            before = through;
        }
        unreachable!("the loop returns at the last bucket")
    }

    /// The mean of bucket `k` alone: its centre, or the half-normal tail's mean for the outer
    /// buckets.
    fn bucket_mean(&self, k: usize) -> f64 {
        let b = &self.borders;
        let n = self.n_buckets();
        if k == 0 {
            b[1] - half_normal_mean(b[1] - b[0])
        } else if k == n - 1 {
            b[n - 1] + half_normal_mean(b[n] - b[n - 1])
        } else {
            b[k] + (b[k + 1] - b[k]) / 2.0
        }
    }

    fn check_probabilities(&self, probs: &[f64]) {
        assert_eq!(
            probs.len(),
            self.n_buckets(),
            "bar distribution: one probability per bucket"
        );
    }
}

/// The mean of the half-normal whose median is `width`: s·√(2/π) with s = width / Φ⁻¹(0.75).
fn half_normal_mean(width: f64) -> f64 {
    width / HALF_NORMAL_MEDIAN * (2.0 / std::f64::consts::PI).sqrt()
}

/// softmax(logits / temperature), computed in f64.
///
/// Logits of −∞ (cancelled buckets) get probability 0.
///
/// # Panics
/// When `temperature` is not a positive finite number.
pub fn softmax_with_temperature(logits: &[f32], temperature: f64) -> Vec<f64> {
    assert!(
        temperature > 0.0 && temperature.is_finite(),
        "softmax: the temperature must be positive and finite, got {temperature}"
    );
    let scaled: Vec<f64> = logits.iter().map(|&l| f64::from(l) / temperature).collect();
    softmax(&scaled)
}

fn softmax(z: &[f64]) -> Vec<f64> {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
    let total: f64 = exp.iter().sum();
    exp.into_iter().map(|e| e / total).collect()
}

/// The buckets of an ensemble member fitted on transformed targets: the standard borders mapped
/// through the target transform's inverse, in increasing order.
///
/// As tabpfn 2.2.1 `transform_borders_one` (with `FIX_NAN_BORDERS_AFTER_TARGET_TRANSFORM`, its
/// default): a mapped border that is not finite or lies beyond ±1000 is broken. Broken borders at
/// the low end all take the value of the first valid border, and the first border is put 1 below
/// the second; likewise at the high end (`_cancel_nan_borders`); every bucket touching a broken
/// border is cancelled (its logit set to −∞). Then `_repair_borders`: a last bucket narrower than
/// 1e-6 gets its last border multiplied by 1.1, and a first bucket of width 0 its first border
/// moved down by a tenth of its magnitude (for a decreasing transform the first rule always
/// applies, before the reversal, as in the package). Mapped borders that decrease are then
/// reversed, together with the member's buckets. (The package reverses the borders and the
/// cancel mask but not the logits, and its `predict` then fails on `ndarray.flip`; here the
/// member's buckets follow their borders.)
#[derive(Debug, Clone, PartialEq)]
pub struct MappedBorders {
    /// Increasing.
    borders: Vec<f64>,
    /// Per bucket of `borders`: cancelled (probability 0).
    cancelled: Vec<bool>,
    /// The member's bucket k is bucket n − 1 − k of `borders`.
    reversed: bool,
}

impl MappedBorders {
    /// Maps `std_borders` (the checkpoint's, in standardised-target units) through `inverse`, the
    /// member's target transform's inverse, and cancels and repairs broken borders.
    ///
    /// Refuses (with [`Error::Numerical`]) a transform that breaks a border between valid ones,
    /// one that leaves fewer than 2 valid borders (no bucket to predict), and mapped borders that
    /// neither increase nor decrease: a target transform must be monotone.
    ///
    /// # Panics
    /// When `std_borders` holds fewer than 2 borders.
    pub fn new(std_borders: &[f64], inverse: impl Fn(f64) -> f64) -> Result<MappedBorders> {
        assert!(
            std_borders.len() >= 2,
            "mapped borders: at least one bucket"
        );
        let mut borders: Vec<f64> = std_borders.iter().map(|&b| inverse(b)).collect();
        let broken: Vec<bool> = borders
            .iter()
            .map(|b| !b.is_finite() || b.abs() > BROKEN_BORDER_LIMIT)
            .collect();
        let first = broken.iter().position(|b| !b);
        let last = broken.iter().rposition(|b| !b);
        let (first, last) = match (first, last) {
            (Some(first), Some(last)) if last > first => (first, last),
            _ => {
                return Err(Error::Numerical(format!(
                    "target transform: its inverse maps {} of the {} borders to values that are \
                     not finite or beyond ±{BROKEN_BORDER_LIMIT}, leaving no bucket to predict",
                    broken.iter().filter(|b| **b).count(),
                    borders.len()
                )));
            }
        };
        if let Some(i) = (first..=last).find(|&i| broken[i]) {
            return Err(Error::Numerical(format!(
                "target transform: its inverse maps border {i} ({}) to {}, between valid borders; \
                 only the borders at either end may break",
                std_borders[i], borders[i]
            )));
        }
        let n = borders.len() - 1;
        if first > 0 {
            let valid = borders[first];
            borders[..first].fill(valid);
            borders[0] = borders[1] - 1.0;
        }
        if last < n {
            let valid = borders[last];
            borders[last + 1..].fill(valid);
            borders[n] = borders[n - 1] + 1.0;
        }
        let mut cancelled: Vec<bool> = broken.windows(2).map(|w| w[0] || w[1]).collect();

        if borders[n] - borders[n - 1] < 1e-6 {
            borders[n] *= 1.1;
        }
        if borders[0] == borders[1] {
            borders[0] -= (borders[0] * 0.1).abs();
        }

        let reversed = borders.windows(2).all(|w| w[1] < w[0]);
        if reversed {
            borders.reverse();
            cancelled.reverse();
        } else if let Some(i) = borders.windows(2).position(|w| w[1] < w[0]) {
            return Err(Error::Numerical(format!(
                "target transform: its inverse is not monotone: border {i} maps to {} but \
                 border {} to {}",
                borders[i],
                i + 1,
                borders[i + 1]
            )));
        }
        Ok(MappedBorders {
            borders,
            cancelled,
            reversed,
        })
    }

    /// The mapped borders, increasing.
    pub fn borders(&self) -> &[f64] {
        &self.borders
    }

    /// Per bucket of [`MappedBorders::borders`], whether it touches a broken border and so gets
    /// probability 0.
    pub fn cancelled(&self) -> &[bool] {
        &self.cancelled
    }

    /// Whether the transform decreases, so that the member's bucket k is bucket n − 1 − k of
    /// [`MappedBorders::borders`].
    pub fn is_reversed(&self) -> bool {
        self.reversed
    }

    /// The number of buckets.
    pub fn n_buckets(&self) -> usize {
        self.cancelled.len()
    }
}

/// One ensemble member's bucket probabilities on the standard borders (tabpfn 2.2.1
/// `TabPFNRegressor.predict`, before the average over members).
///
/// Without `mapped` (no target transform): softmax(logits / temperature). (The package passes
/// these through its border translation too, onto the same borders: the identity up to float
/// round-off.)
///
/// With `mapped`: the member's distribution softmax(logits / temperature) on the mapped borders,
/// cancelled buckets at probability 0, read as piecewise uniform; its CDF F at each standard
/// border gives the standard bucket k the probability max(F(b_{k+1}) − F(b_k), 0), with F forced
/// to 0 at the first standard border and 1 at the last (`translate_probs_across_borders` with the
/// corrected `_cdf` of 2.1 and later). Mass beyond the standard borders thus lands in the outer
/// buckets.
///
/// # Panics
/// When `logits` does not hold one value per bucket of `mapped` (or of `standard` without it),
/// or `temperature` is not a positive finite number.
pub fn member_probabilities(
    logits: &[f32],
    temperature: f64,
    standard: &BarDistribution,
    mapped: Option<&MappedBorders>,
) -> Vec<f64> {
    let Some(mapped) = mapped else {
        assert_eq!(
            logits.len(),
            standard.n_buckets(),
            "member probabilities: one logit per bucket"
        );
        return softmax_with_temperature(logits, temperature);
    };
    assert_eq!(
        logits.len(),
        mapped.n_buckets(),
        "member probabilities: one logit per mapped bucket"
    );
    assert!(
        temperature > 0.0 && temperature.is_finite(),
        "softmax: the temperature must be positive and finite, got {temperature}"
    );
    let n = mapped.n_buckets();
    let scaled: Vec<f64> = (0..n)
        .map(|j| {
            if mapped.cancelled[j] {
                f64::NEG_INFINITY
            } else {
                let k = if mapped.reversed { n - 1 - j } else { j };
                f64::from(logits[k]) / temperature
            }
        })
        .collect();
    let probs = softmax(&scaled);
    let cdf = PiecewiseUniform::new(&mapped.borders, &probs);

    let targets = standard.borders();
    let last = targets.len() - 1;
    let at: Vec<f64> = targets
        .iter()
        .enumerate()
        .map(|(i, &y)| match i {
            0 => 0.0,
            i if i == last => 1.0,
            _ => cdf.at(y),
        })
        .collect();
    at.windows(2).map(|w| (w[1] - w[0]).max(0.0)).collect()
}

/// The CDF of a distribution uniform inside each bucket.
struct PiecewiseUniform<'a> {
    borders: &'a [f64],
    probs: &'a [f64],
    /// Probability of the buckets before bucket k.
    before: Vec<f64>,
}

impl<'a> PiecewiseUniform<'a> {
    fn new(borders: &'a [f64], probs: &'a [f64]) -> PiecewiseUniform<'a> {
        let before = probs
            .iter()
            .scan(0.0, |sum, p| {
                let b = *sum;
                *sum += p;
                Some(b)
            })
            .collect();
        PiecewiseUniform {
            borders,
            probs,
            before,
        }
    }

    /// P(Y ≤ y), clipped to [0, 1].
    fn at(&self, y: f64) -> f64 {
        let b = self.borders;
        let n = self.probs.len();
        if y <= b[0] {
            return 0.0;
        }
        if y >= b[n] {
            return 1.0;
        }
        // b[k] < y <= b[k + 1], so the bucket has positive width.
        let k = b.partition_point(|&v| v < y) - 1;
        let share = ((y - b[k]) / (b[k + 1] - b[k])).clamp(0.0, 1.0);
        (self.before[k] + self.probs[k] * share).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// √(2/π), the mean of a unit half-normal.
    const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * (1.0 + b.abs())
    }

    #[test]
    fn the_half_normal_median_is_the_f32_rounding_of_the_normal_quartile() {
        // Φ⁻¹(0.75) = 0.674489750196081743... (any table of the normal quantile).
        assert_eq!(
            HALF_NORMAL_MEDIAN,
            f64::from(0.674_489_750_196_081_7_f64 as f32)
        );
    }

    #[test]
    fn the_mean_uses_bucket_centres_inside_and_half_normal_means_outside() {
        // Widths 1, 1, 3: the left tail's scale is 1/Φ⁻¹(0.75), the right one's 3/Φ⁻¹(0.75).
        let bar = BarDistribution::new(vec![0.0, 1.0, 2.0, 5.0]).unwrap();
        let s0 = 1.0 / HALF_NORMAL_MEDIAN;
        let s2 = 3.0 / HALF_NORMAL_MEDIAN;
        let centres = [1.0 - s0 * SQRT_2_OVER_PI, 1.5, 2.0 + s2 * SQRT_2_OVER_PI];
        let uniform = [1.0 / 3.0; 3];
        let expected = centres.iter().sum::<f64>() / 3.0;
        assert!(close(bar.mean(&uniform), expected, 1e-14));
        // Worked out: (4.5 + 2 · 1.18294544387841...) / 3.
        assert!(close(bar.mean(&uniform), 2.288_630_295_918_945, 1e-12));
        // All mass inside the inner bucket: its centre. Weights need not sum to 1.
        assert!(close(bar.mean(&[0.0, 7.0, 0.0]), 1.5, 1e-15));
    }

    #[test]
    fn quantiles_interpolate_inside_the_bucket_that_reaches_the_level() {
        let bar = BarDistribution::new(vec![0.0, 1.0, 2.0, 5.0]).unwrap();
        let probs = [0.2, 0.5, 0.3];
        // Cumulative 0.2, 0.7, 1.0.
        assert!(close(bar.quantile(&probs, 0.1), 0.5, 1e-15));
        assert!(close(bar.quantile(&probs, 0.2), 1.0, 1e-15));
        assert!(close(bar.quantile(&probs, 0.5), 1.0 + 0.3 / 0.5, 1e-15));
        assert!(close(
            bar.quantile(&probs, 0.9),
            2.0 + 3.0 * 0.2 / 0.3,
            1e-14
        ));
        assert!(close(bar.quantile(&probs, 1.0), 5.0, 1e-15));
        // Unnormalised weights give the same quantiles.
        assert!(close(bar.quantile(&[2.0, 5.0, 3.0], 0.5), 1.6, 1e-15));
        // A first bucket of probability 0 at level 0: its left border.
        assert_eq!(bar.quantile(&[0.0, 1.0, 0.0], 0.0), 0.0);
    }

    #[test]
    fn affine_moves_every_border() {
        let bar = BarDistribution::new(vec![-1.0, 0.0, 2.0]).unwrap();
        let raw = bar.affine(2.0, 10.0);
        assert_eq!(raw.borders(), &[8.0, 10.0, 14.0]);
        assert_eq!(raw.n_buckets(), 2);
    }

    #[test]
    fn a_bar_distribution_with_fewer_than_two_buckets_is_refused() {
        let err = BarDistribution::new(vec![0.0, 1.0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "bar distribution: needs at least 3 borders (2 buckets), got 2"
        );
    }

    #[test]
    fn a_bar_distribution_with_a_non_finite_border_is_refused() {
        let err = BarDistribution::new(vec![0.0, f64::NAN, 2.0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "bar distribution: border 1 is NaN, not a finite number"
        );
    }

    #[test]
    fn a_bar_distribution_with_borders_not_strictly_increasing_is_refused() {
        let err = BarDistribution::new(vec![0.0, 1.0, 1.0, 2.0]).unwrap_err();
        assert!(
            err.to_string()
                .contains("border 2 (1) is not above border 1 (1)"),
            "{err}"
        );
    }

    #[test]
    fn softmax_divides_by_the_temperature_and_zeroes_cancelled_buckets() {
        let e = std::f64::consts::E;
        let p = softmax_with_temperature(&[0.0, 1.0, 2.0], 1.0);
        let total = 1.0 + e + e * e;
        for (got, want) in p.iter().zip([1.0 / total, e / total, e * e / total]) {
            assert!(close(*got, want, 1e-15));
        }
        // T = 2: weights e^0, e^0.5, e^1.
        let p = softmax_with_temperature(&[0.0, 1.0, 2.0], 2.0);
        let total = 1.0 + e.sqrt() + e;
        assert!(close(p[1], e.sqrt() / total, 1e-15));
        let p = softmax_with_temperature(&[f32::NEG_INFINITY, 0.0, 0.0], 1.0);
        assert_eq!(p, vec![0.0, 0.5, 0.5]);
    }

    #[test]
    fn an_identity_transform_leaves_the_borders_and_probabilities_alone() {
        let std = vec![-2.0, -0.5, 0.0, 1.0, 3.0];
        let standard = BarDistribution::new(std.clone()).unwrap();
        let mapped = MappedBorders::new(&std, |v| v).unwrap();
        assert_eq!(mapped.borders(), std.as_slice());
        assert!(mapped.cancelled().iter().all(|c| !c));
        let logits = [0.3_f32, -1.0, 2.0, 0.5];
        let direct = member_probabilities(&logits, 0.9, &standard, None);
        let translated = member_probabilities(&logits, 0.9, &standard, Some(&mapped));
        for (a, b) in direct.iter().zip(&translated) {
            assert!(close(*a, *b, 1e-15));
        }
    }

    #[test]
    fn probabilities_are_spread_uniformly_over_the_standard_buckets() {
        // Member buckets [0, 2] and [2, 4] at 1/2 each; standard borders every 1.
        let standard = BarDistribution::new(vec![0.0, 1.0, 2.0, 3.0, 4.0]).unwrap();
        let mapped = MappedBorders::new(&[0.0, 1.0, 2.0], |v| 2.0 * v).unwrap();
        let p = member_probabilities(&[0.0, 0.0], 1.0, &standard, Some(&mapped));
        for got in p {
            assert!(close(got, 0.25, 1e-15));
        }
        // Standard borders wider than the member's: the outer standard buckets take the rest.
        let standard = BarDistribution::new(vec![-1.0, 1.0, 5.0]).unwrap();
        let p = member_probabilities(&[0.0, 0.0], 1.0, &standard, Some(&mapped));
        assert!(close(p[0], 0.25, 1e-15) && close(p[1], 0.75, 1e-15));
    }

    #[test]
    fn a_decreasing_transform_reverses_the_buckets() {
        let std = vec![-3.0, -1.0, 0.0, 2.0];
        let mapped = MappedBorders::new(&std, |v| -v).unwrap();
        assert!(mapped.is_reversed());
        // Mapped 3, 1, 0, -2: the repair of the last bucket (width -2 < 1e-6) runs before the
        // reversal, as in the package, and moves -2 to -2.2.
        assert_eq!(mapped.borders(), &[-2.2, 0.0, 1.0, 3.0]);
        // On the mirrored standard borders the member's bucket k is bucket 2 - k.
        let standard = BarDistribution::new(vec![-2.2, 0.0, 1.0, 3.0]).unwrap();
        let logits = [0.0_f32, 1.0, 3.0];
        let direct = softmax_with_temperature(&logits, 1.0);
        let p = member_probabilities(&logits, 1.0, &standard, Some(&mapped));
        for (got, want) in p.iter().zip(direct.iter().rev()) {
            assert!(close(*got, *want, 1e-15));
        }
    }

    #[test]
    fn broken_end_borders_are_collapsed_and_their_buckets_cancelled() {
        // The inverse breaks below -2.5 (NaN) and above 2.5 (beyond 1000).
        let std = vec![-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0];
        let inverse = |v: f64| match v {
            v if v < -2.5 => f64::NAN,
            v if v > 2.5 => 5000.0,
            v => v,
        };
        let mapped = MappedBorders::new(&std, inverse).unwrap();
        // First border = second - 1, last = second last + 1: here the standard borders again.
        assert_eq!(mapped.borders(), std.as_slice());
        assert_eq!(
            mapped.cancelled(),
            &[true, false, false, false, false, true]
        );
        let standard = BarDistribution::new(std.clone()).unwrap();
        let logits = [5.0_f32, 0.0, 1.0, 2.0, 3.0, 5.0];
        let p = member_probabilities(&logits, 1.0, &standard, Some(&mapped));
        let inner = softmax_with_temperature(&logits[1..5], 1.0);
        assert_eq!((p[0], p[5]), (0.0, 0.0));
        for (got, want) in p[1..5].iter().zip(&inner) {
            assert!(close(*got, *want, 1e-15));
        }
    }

    #[test]
    fn degenerate_end_buckets_are_repaired() {
        let mapped = MappedBorders::new(&[0.0, 1.0, 2.0, 3.0], |v| v.max(1.0)).unwrap();
        assert_eq!(mapped.borders(), &[0.9, 1.0, 2.0, 3.0]);
        let mapped = MappedBorders::new(&[0.0, 1.0, 2.0, 3.0], |v| v.min(2.0)).unwrap();
        assert!(close(mapped.borders()[3], 2.2, 1e-15));
    }

    #[test]
    fn a_target_transform_that_breaks_every_border_is_refused() {
        let err = MappedBorders::new(&[0.0, 1.0, 2.0], |v| v * 1e6 + 2e3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "target transform: its inverse maps 3 of the 3 borders to values that are not \
             finite or beyond ±1000, leaving no bucket to predict"
        );
    }

    #[test]
    fn a_target_transform_breaking_a_border_between_valid_ones_is_refused() {
        let inverse = |v: f64| if v == 1.0 { f64::INFINITY } else { v };
        let err = MappedBorders::new(&[0.0, 1.0, 2.0], inverse).unwrap_err();
        assert_eq!(
            err.to_string(),
            "target transform: its inverse maps border 1 (1) to inf, between valid borders; \
             only the borders at either end may break"
        );
    }

    #[test]
    fn a_target_transform_that_is_not_monotone_is_refused() {
        let err = MappedBorders::new(&[-1.0, 0.0, 1.0, 2.0], |v| v * v).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("target transform: its inverse is not monotone: border 0 maps to 1"),
            "{err}"
        );
    }

    /// Parity with tabpfn 2.2.1 on `tests/fixtures/tabpfn_bar/cases.json`, made by
    /// `tools/parity/make_tabpfn_bar.py` with the package's own FullSupportBarDistribution and
    /// border helpers.
    mod parity {
        use super::super::*;
        use serde_json::Value;

        fn fixture() -> Value {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/tabpfn_bar/cases.json");
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
        }

        /// Numbers, or the strings "nan", "inf", "-inf" the script writes for non-finite values.
        fn floats(v: &Value) -> Vec<f64> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| match x {
                    Value::String(s) => s.parse().unwrap(),
                    x => x.as_f64().unwrap(),
                })
                .collect()
        }

        fn rows(v: &Value) -> Vec<Vec<f64>> {
            v.as_array().unwrap().iter().map(floats).collect()
        }

        fn logits(f: &Value) -> Vec<Vec<f32>> {
            // float32 values written as float64: exact.
            rows(&f["logits"])
                .into_iter()
                .map(|r| r.into_iter().map(|x| x as f32).collect())
                .collect()
        }

        fn assert_close(got: f64, want: f64, tol: f64, what: &str) {
            assert!(
                (got - want).abs() <= tol * want.abs().max(1.0),
                "{what}: got {got}, the package {want}"
            );
        }

        fn check_summary(bar: &BarDistribution, probs: &[Vec<f64>], want: &Value, what: &str) {
            let levels = floats(&fixture()["levels"]);
            let means = floats(&want["mean"]);
            let medians = floats(&want["median"]);
            let quantiles = rows(&want["quantiles"]);
            for (r, p) in probs.iter().enumerate() {
                assert_close(
                    bar.mean(p),
                    means[r],
                    1e-10,
                    &format!("{what} mean, row {r}"),
                );
                let median = bar.quantile(p, 0.5);
                assert_close(
                    median,
                    medians[r],
                    1e-10,
                    &format!("{what} median, row {r}"),
                );
                for (l, q) in levels.iter().enumerate() {
                    let got = bar.quantile(p, *q);
                    assert_close(
                        got,
                        quantiles[l][r],
                        1e-10,
                        &format!("{what} q{q}, row {r}"),
                    );
                }
            }
        }

        fn mapped(f: &Value, member: &Value) -> MappedBorders {
            let std = floats(&f["std_borders"]);
            let inverse = floats(&member["inverse"]);
            MappedBorders::new(&std, |v| inverse[std.iter().position(|&b| b == v).unwrap()])
                .unwrap()
        }

        #[test]
        fn mean_median_and_quantiles_match_the_package() {
            let f = fixture();
            let standard = BarDistribution::new(floats(&f["std_borders"])).unwrap();
            let raw = standard.affine(
                f["raw_scale"].as_f64().unwrap(),
                f["raw_shift"].as_f64().unwrap(),
            );
            let probs: Vec<Vec<f64>> = logits(&f)
                .iter()
                .map(|l| softmax_with_temperature(l, 1.0))
                .collect();
            check_summary(&standard, &probs, &f["f64"]["standard"], "standard");
            check_summary(&raw, &probs, &f["f64"]["raw"], "raw");
        }

        #[test]
        fn mapped_borders_and_cancelled_buckets_match_the_package() {
            let f = fixture();
            for member in f["members"].as_array().unwrap() {
                let name = member["name"].as_str().unwrap();
                let mapped = mapped(&f, member);
                assert!(!mapped.is_reversed(), "{name}");
                let want = floats(&member["mapped_borders"]);
                for (k, (got, want)) in mapped.borders().iter().zip(&want).enumerate() {
                    assert_close(*got, *want, 1e-15, &format!("{name} border {k}"));
                }
                let cancelled: Vec<bool> = member["cancelled"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_bool().unwrap())
                    .collect();
                assert_eq!(mapped.cancelled(), cancelled.as_slice(), "{name}");
                assert!(
                    mapped.cancelled().iter().any(|c| *c),
                    "{name} breaks borders"
                );
            }
        }

        #[test]
        fn translated_member_probabilities_match_the_package_in_f64() {
            let f = fixture();
            let standard = BarDistribution::new(floats(&f["std_borders"])).unwrap();
            for member in f["members"].as_array().unwrap() {
                let name = member["name"].as_str().unwrap();
                let mapped = mapped(&f, member);
                let t = member["temperature"].as_f64().unwrap();
                for (r, (l, want)) in logits(&f)
                    .iter()
                    .zip(rows(&member["probs_f64"]))
                    .enumerate()
                {
                    let got = member_probabilities(l, t, &standard, Some(&mapped));
                    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                        assert_close(*g, *w, 1e-12, &format!("{name} row {r} bucket {k}"));
                    }
                }
            }
        }

        /// The regressor itself runs in float32: float32 logits divided by the temperature in
        /// float32, the float32 checkpoint borders mapped in float32, softmax and cumulative sums in
        /// float32. Over 50 buckets that costs up to a few float32 ulps of the cumulative
        /// probability, ~1e-6 absolute, hence the 1e-5 tolerance here (the f64 test above is the
        /// exact one).
        #[test]
        fn member_probabilities_match_the_regressor_in_f32() {
            let f = fixture();
            let standard = BarDistribution::new(floats(&f["std_borders"])).unwrap();
            let t = f["members"][0]["temperature"].as_f64().unwrap();
            let mut cases = vec![(None, rows(&f["none_probs_f32"]))];
            for member in f["members"].as_array().unwrap() {
                cases.push((Some(mapped(&f, member)), rows(&member["probs_f32"])));
            }
            for (mapped, want) in &cases {
                for (l, want) in logits(&f).iter().zip(want) {
                    let got = member_probabilities(l, t, &standard, mapped.as_ref());
                    for (g, w) in got.iter().zip(want) {
                        assert!((g - w).abs() < 1e-5, "got {g}, the regressor {w}");
                    }
                }
            }
        }

        #[test]
        fn the_ensemble_of_three_members_matches_the_package() {
            let f = fixture();
            let standard = BarDistribution::new(floats(&f["std_borders"])).unwrap();
            let raw = standard.affine(
                f["raw_scale"].as_f64().unwrap(),
                f["raw_shift"].as_f64().unwrap(),
            );
            let t = f["members"][0]["temperature"].as_f64().unwrap();
            let members: Vec<Option<MappedBorders>> = std::iter::once(None)
                .chain(
                    f["members"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|m| Some(mapped(&f, m))),
                )
                .collect();
            let averaged: Vec<Vec<f64>> = logits(&f)
                .iter()
                .map(|l| {
                    let mut sum = vec![0.0; standard.n_buckets()];
                    for m in &members {
                        let p = member_probabilities(l, t, &standard, m.as_ref());
                        sum.iter_mut().zip(p).for_each(|(s, p)| *s += p);
                    }
                    sum.into_iter().map(|s| s / members.len() as f64).collect()
                })
                .collect();
            check_summary(&raw, &averaged, &f["ensemble"], "ensemble");
        }
    }
}
