//! Continuous daily activity labels from a Gaussian kernel density of the event times (paper §1.3).
//!
//! With event times `t_i` (days since the period start) and bandwidth `h`:
//!
//! - the kernel is `K(t; h) = exp(−t²/(2h²)) / (h·sqrt(2π))` (eq. 21);
//! - Scott's rule gives `h = n^(−1/5)·σ̂` with `σ̂` the sample standard deviation (ddof = 1) of the
//!   event times (eq. 22, d = 1), as scipy's `gaussian_kde(bw_method="scott")` does;
//! - the density is `f(t) = (1/n) Σ_i K(t − t_i; h)` (eq. 23), normalised over the whole real line,
//!   so labels near the period edges sum to less than 1;
//! - day index d covers `[d, d + 1)` and its label is `y_d = ∫_d^{d+1} f(t) dt` (the paper's
//!   eq. 24 with its 1-based day numbers), computed exactly as
//!   `(1/n) Σ_i [Φ((d + 1 − t_i)/h) − Φ((d − t_i)/h)]`, never by sampling f.
//!
//! Normal-CDF differences are taken in the tail where both ends lie (`Φ(b) − Φ(a)` as
//! `Q(a) − Q(b)` with the survival function `Q` when both are positive, through `erf` when they
//! straddle 0), so no label is a difference of two numbers close to 1.
//!
//! # Exact and fast paths
//!
//! [`kde_labels_exact`] sums every event into every day: O(n·days), the reference for tests.
//! [`kde_labels`] gives the same labels in about O(n + days·w):
//!
//! 1. **Truncation.** An event contributes only to days that come within `K_σ·h` of it
//!    ([`KdeParams::truncation_sigmas`], default [`DEFAULT_TRUNCATION_SIGMAS`] = 10). The mass an
//!    event puts on all omitted days together is at most `2Φ(−K_σ)` (1.5e-23 for `K_σ` = 10), so no
//!    label moves by more than that.
//! 2. **Day bins with within-day moments** (when the Taylor bound below can be met, i.e.
//!    `h ≳ 0.45` days). Each event is written `t = j + ½ + u` with j its day and `|u| ≤ ½`. Its
//!    contribution to day d is `g(L − u)` with lag `L = d − j` and
//!    `g(s) = Φ((s + ½)/h) − Φ((s − ½)/h)`. Expanding in u to order K,
//!    `y_d = (1/n) Σ_j Σ_{k≤K} g^{(k)}(d − j) · Σ_{i∈j} (−u_i)^k/k!`: a convolution of per-day
//!    moments with per-lag kernel derivatives (`g^{(k)}` from Hermite polynomials,
//!    `Φ^{(k)}(x) = (−1)^{k−1} He_{k−1}(x) φ(x)`). The Lagrange remainder per event is at most
//!    `R_K = (1/2)^{K+1}/(K+1)! · max|g^{(K+1)}| ≤ 0.8669 · √(K!) / (K+1)! · (2h)^{−(K+1)}`
//!    (Cramér's bound `|He_m(x)| φ(x) ≤ 0.4334·√(m!)`). K is the smallest order with
//!    `R_K ≤ 1e-16` ([`TAYLOR_TOLERANCE`]); each label is an average over events, so its Taylor
//!    error is at most `R_K` as well. Scott bandwidths of multi-year catalogs (h ~ 100 days) need
//!    K = 5; h = 1 day needs K = 20. Cost: O(n·K + days·(2·K_σ·h + 3)·(K + 1)).
//! 3. **Per event** (small h, where the series would need more than [`MAX_TAYLOR_ORDER`] terms):
//!    each event's CDF values at the day boundaries within the truncation, O(n·(2·K_σ·h + 3)).
//!
//! Together: `|y_fast − y_exact| ≤ 2Φ(−K_σ) + R_K ≤ 1e-16` plus floating-point rounding (a few
//! 1e-17 per label). The tests check a 1e-10 bound relative to the largest label.
//!
//! Both paths are the unnormalised day sums [`kernel_day_sums`] and [`kernel_day_sums_exact`]
//! divided by n. [`crate::seismicity::labels`] divides the same sums by the number of fit events
//! instead, and builds its one-sided kernel from the sums over earlier days
//! ([`KernelSide::Before`]).

use libm::{erf, erfc};
use rayon::prelude::*;

use crate::{Error, Result};

/// Default kernel truncation of the fast path, in bandwidths.
pub const DEFAULT_TRUNCATION_SIGMAS: f64 = 10.0;

/// The bound on the per-event Taylor remainder that sets the expansion order of the fast path.
pub const TAYLOR_TOLERANCE: f64 = 1e-16;

/// The highest Taylor order the fast path uses before it switches to per-event sums.
pub const MAX_TAYLOR_ORDER: usize = 30;

/// The kernel bandwidth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bandwidth {
    /// Scott's rule (eq. 22, d = 1): `h = n^(−1/5)·σ̂`, σ̂ the sample std (ddof = 1) of the times.
    Scott,
    /// Silverman's rule as scipy's `gaussian_kde` computes it: `h = (n·(d + 2)/4)^(−1/(d + 4))·σ̂`
    /// with d = 1, i.e. `(3n/4)^(−1/5)·σ̂`.
    Silverman,
    /// A fixed bandwidth in days (scipy: `bw_method = h/σ̂`).
    FixedDays(f64),
}

/// How the daily labels are rescaled.
///
/// Spelled `none`, `minmax`, `zscore`, `events_per_day` in an experiment file; the command line
/// also accepts `events-per-day`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
pub enum LabelScale {
    /// The probability mass per day, `y_d`.
    #[serde(rename = "none")]
    None,
    /// `(y_d − min)/(max − min)` over the period.
    #[serde(rename = "minmax")]
    #[value(name = "minmax")]
    MinMax,
    /// `(y_d − mean)/std` over the period (population std, ddof = 0).
    #[serde(rename = "zscore")]
    #[value(name = "zscore")]
    ZScore,
    /// Expected events per day, `n·y_d`: the natural physical unit.
    #[serde(rename = "events_per_day")]
    #[value(alias = "events_per_day")]
    EventsPerDay,
}

/// KDE label settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KdeParams {
    /// The bandwidth rule.
    pub bandwidth: Bandwidth,
    /// The rescaling of the labels.
    pub scale: LabelScale,
    /// Kernel truncation of the fast path, in bandwidths (see the module docs for its error).
    pub truncation_sigmas: f64,
}

impl KdeParams {
    /// Settings with the default truncation ([`DEFAULT_TRUNCATION_SIGMAS`]).
    pub fn new(bandwidth: Bandwidth, scale: LabelScale) -> Self {
        KdeParams {
            bandwidth,
            scale,
            truncation_sigmas: DEFAULT_TRUNCATION_SIGMAS,
        }
    }
}

/// Daily labels and what produced them.
#[derive(Debug, Clone, PartialEq)]
pub struct KdeLabels {
    /// One label per day index `0..n_days`, scaled as asked.
    pub values: Vec<f64>,
    /// The bandwidth used, in days.
    pub bandwidth_days: f64,
    /// The number of events the density was fitted on.
    pub n_events: usize,
}

/// The bandwidth in days for event times `times`.
///
/// Scott and Silverman need at least two events with distinct times; a fixed bandwidth must be
/// positive and finite (key `seismicity.kde.bandwidth`).
pub fn bandwidth_days(times: &[f64], bandwidth: Bandwidth) -> Result<f64> {
    let rule = |factor: fn(f64) -> f64| -> Result<f64> {
        let n = times.len();
        if n < 2 {
            return Err(Error::Numerical(format!(
                "a rule-of-thumb bandwidth needs at least 2 events, got {n}"
            )));
        }
        let nf = n as f64;
        let mean = times.iter().sum::<f64>() / nf;
        let var = times.iter().map(|t| (t - mean) * (t - mean)).sum::<f64>() / (nf - 1.0);
        let h = factor(nf) * var.sqrt();
        if h > 0.0 && h.is_finite() {
            Ok(h)
        } else {
            Err(Error::Numerical(format!(
                "event times have no spread (std {}), so the bandwidth is undefined",
                var.sqrt()
            )))
        }
    };
    match bandwidth {
        Bandwidth::Scott => rule(|n| n.powf(-0.2)),
        Bandwidth::Silverman => rule(|n| (n * 3.0 / 4.0).powf(-0.2)),
        Bandwidth::FixedDays(h) => {
            crate::ensure_config!(
                h.is_finite() && h > 0.0,
                "seismicity.kde.bandwidth",
                "a fixed bandwidth must be a positive number of days, got {h}"
            );
            Ok(h)
        }
    }
}

/// Daily labels by the fast path (module docs: truncation, then day-binned Taylor convolution or
/// per-event sums). Fails on no events, a non-finite time, `n_days == 0`, an invalid bandwidth or
/// truncation, or a scale that is undefined for the labels (min-max or z-score of constant labels).
pub fn kde_labels(times: &[f64], n_days: usize, params: &KdeParams) -> Result<KdeLabels> {
    let (h, n) = prepare(times, n_days, params)?;
    let raw = kernel_day_sums(times, n_days, h, params.truncation_sigmas, KernelSide::Both);
    finish(per_event_mean(raw, n), h, n, params.scale)
}

/// Daily labels by the exact O(n·days) sum over every event and day: the reference for the fast
/// path. Same failures as [`kde_labels`].
pub fn kde_labels_exact(times: &[f64], n_days: usize, params: &KdeParams) -> Result<KdeLabels> {
    let (h, n) = prepare(times, n_days, params)?;
    let raw = kernel_day_sums_exact(times, n_days, h, KernelSide::Both);
    finish(per_event_mean(raw, n), h, n, params.scale)
}

/// Which events a day's kernel sum takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelSide {
    /// Every event (the centred kernel of eq. 21).
    Both,
    /// Only the events of earlier days (`⌊t_i⌋ < d`): the part of a one-sided kernel that
    /// covers whole days; [`crate::seismicity::labels`] adds each event's own day.
    Before,
}

/// The unnormalised day sums `S_d = Σ_i [Φ((d + 1 − t_i)/h) − Φ((d − t_i)/h)]` for
/// `d in 0..n_days` by the fast path (module docs), each event truncated at
/// `truncation_sigmas·h`. Dividing by a count of events gives eq. 24's labels; `side` limits the
/// sum to the events of earlier days. The caller checks that the times are finite, `h > 0` and
/// `truncation_sigmas ≥ 1` ([`check_kernel_inputs`]).
pub fn kernel_day_sums(
    times: &[f64],
    n_days: usize,
    h: f64,
    truncation_sigmas: f64,
    side: KernelSide,
) -> Vec<f64> {
    match taylor_order(h) {
        Some(order) => binned_sums(times, n_days, h, truncation_sigmas, order, side),
        None => per_event_sums(times, n_days, h, truncation_sigmas, side),
    }
}

/// [`kernel_day_sums`] by the exact O(n·days) sum, without truncation: the reference for tests.
pub fn kernel_day_sums_exact(times: &[f64], n_days: usize, h: f64, side: KernelSide) -> Vec<f64> {
    (0..n_days)
        .into_par_iter()
        .map(|d| {
            let d = d as f64;
            times
                .iter()
                .filter(|&&t| side == KernelSide::Both || t.floor() < d)
                .map(|&t| cdf_difference((d - t) / h, (d + 1.0 - t) / h))
                .sum::<f64>()
        })
        .collect()
}

/// Checks what [`kernel_day_sums`] assumes: finite times, at least one day and a truncation of at
/// least one bandwidth (key `seismicity.kde.truncation_sigmas`).
pub fn check_kernel_inputs(times: &[f64], n_days: usize, truncation_sigmas: f64) -> Result<()> {
    if let Some(t) = times.iter().find(|t| !t.is_finite()) {
        return Err(Error::Numerical(format!("event time {t} is not finite")));
    }
    crate::ensure_config!(n_days >= 1, "period", "the period has no days");
    crate::ensure_config!(
        truncation_sigmas.is_finite() && truncation_sigmas >= 1.0,
        "seismicity.kde.truncation_sigmas",
        "must be at least 1, got {}",
        truncation_sigmas
    );
    Ok(())
}

/// Day sums divided by the number of events `n` (eq. 23's 1/n).
fn per_event_mean(mut sums: Vec<f64>, n: usize) -> Vec<f64> {
    let inv_n = 1.0 / n as f64;
    sums.iter_mut().for_each(|y| *y *= inv_n);
    sums
}

/// Rescales raw labels `y_d` fitted on `n_events` events.
pub fn scale_labels(values: &[f64], scale: LabelScale, n_events: usize) -> Result<Vec<f64>> {
    match scale {
        LabelScale::None => Ok(values.to_vec()),
        LabelScale::EventsPerDay => Ok(values.iter().map(|y| y * n_events as f64).collect()),
        LabelScale::MinMax => {
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let range = max - min;
            if range > 0.0 && range.is_finite() {
                Ok(values.iter().map(|y| (y - min) / range).collect())
            } else {
                Err(Error::Numerical(
                    "min-max scaling of labels that do not vary".into(),
                ))
            }
        }
        LabelScale::ZScore => {
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            let std = (values.iter().map(|y| (y - mean) * (y - mean)).sum::<f64>() / n).sqrt();
            if std > 0.0 && std.is_finite() {
                Ok(values.iter().map(|y| (y - mean) / std).collect())
            } else {
                Err(Error::Numerical(
                    "z-score scaling of labels that do not vary".into(),
                ))
            }
        }
    }
}

/// Checks the inputs; returns the bandwidth and the event count.
fn prepare(times: &[f64], n_days: usize, params: &KdeParams) -> Result<(f64, usize)> {
    if times.is_empty() {
        return Err(Error::Numerical(
            "KDE labels need at least one event".into(),
        ));
    }
    check_kernel_inputs(times, n_days, params.truncation_sigmas)?;
    Ok((bandwidth_days(times, params.bandwidth)?, times.len()))
}

fn finish(raw: Vec<f64>, h: f64, n: usize, scale: LabelScale) -> Result<KdeLabels> {
    Ok(KdeLabels {
        values: scale_labels(&raw, scale, n)?,
        bandwidth_days: h,
        n_events: n,
    })
}

/// `Φ(b) − Φ(a)` for `a ≤ b`, from the tail both ends lie in.
pub(crate) fn cdf_difference(a: f64, b: f64) -> f64 {
    let r = std::f64::consts::FRAC_1_SQRT_2;
    if a >= 0.0 {
        // Upper tail: Q(a) − Q(b).
        0.5 * (erfc(a * r) - erfc(b * r))
    } else if b <= 0.0 {
        0.5 * (erfc(-b * r) - erfc(-a * r))
    } else {
        0.5 * (erf(b * r) + erf(-a * r))
    }
}

/// The smallest Taylor order K with `R_K ≤ TAYLOR_TOLERANCE` (module docs), or `None` when even
/// [`MAX_TAYLOR_ORDER`] does not reach it.
fn taylor_order(h: f64) -> Option<usize> {
    // R_K = C·√(K!)/(K+1)!·x^(K+1), x = 1/(2h), C = 2·1.086435/√(2π) (Cramér's constant).
    let c = 2.0 * 1.086_435 / (2.0 * std::f64::consts::PI).sqrt();
    let x = 1.0 / (2.0 * h);
    let mut k_factorial = 1.0_f64;
    (0..=MAX_TAYLOR_ORDER).find(|&k| {
        if k > 0 {
            k_factorial *= k as f64;
        }
        let remainder =
            c * k_factorial.sqrt() / (k_factorial * (k as f64 + 1.0)) * x.powi(k as i32 + 1);
        remainder <= TAYLOR_TOLERANCE
    })
}

/// The day-binned Taylor convolution (module docs, step 2).
fn binned_sums(
    times: &[f64],
    n_days: usize,
    h: f64,
    ks: f64,
    order: usize,
    side: KernelSide,
) -> Vec<f64> {
    let terms = order + 1;
    // Events farther than the truncation from every day of the period add nothing; leaving them
    // out keeps the day bins to the period plus the kernel reach.
    let reach = ks * h + 2.0;
    let near = || {
        times
            .iter()
            .copied()
            .filter(move |&t| t > -reach && t < n_days as f64 + reach)
    };
    let first_day = near().fold(f64::INFINITY, f64::min).floor();
    let last_day = near().fold(f64::NEG_INFINITY, f64::max).floor();
    if first_day > last_day {
        return vec![0.0; n_days];
    }
    let n_bins = (last_day - first_day) as usize + 1;
    // moments[j·terms + k] = Σ_{i in day first_day + j} (−u_i)^k / k!
    let mut moments = vec![0.0; n_bins * terms];
    let mut inverse_factorials = vec![1.0; terms];
    for k in 1..terms {
        inverse_factorials[k] = inverse_factorials[k - 1] / k as f64;
    }
    for t in near() {
        let day = t.floor();
        let j = (day - first_day) as usize;
        let minus_u = -(t - day - 0.5);
        let row = &mut moments[j * terms..(j + 1) * terms];
        let mut power = 1.0;
        for (k, m) in row.iter_mut().enumerate() {
            *m += power * inverse_factorials[k];
            power *= minus_u;
        }
    }
    // Lags beyond max_lag put the day more than K_σ·h from every event of the bin.
    let max_lag = ((ks * h).floor() as usize + 1).min(n_bins + n_days);
    let n_lags = 2 * max_lag + 1;
    // kernel[m·terms + k] = g^(k)(L) with L = max_lag − m, so m increases with the event day.
    let mut kernel = vec![0.0; n_lags * terms];
    kernel
        .par_chunks_mut(terms)
        .enumerate()
        .for_each(|(m, row)| lag_derivatives(max_lag as f64 - m as f64, h, row));
    let first = first_day as i64;
    let last = last_day as i64;
    let mut labels = vec![0.0; n_days];
    labels.par_iter_mut().enumerate().for_each(|(d, y)| {
        let d = d as i64;
        let lo = (d - max_lag as i64).max(first);
        let nearest = match side {
            KernelSide::Both => d + max_lag as i64,
            KernelSide::Before => d - 1,
        };
        let hi = nearest.min(last);
        if lo > hi {
            return;
        }
        let j0 = (lo - first) as usize;
        let len = (hi - lo + 1) as usize;
        let m0 = (max_lag as i64 - d + lo) as usize;
        *y = dot(
            &moments[j0 * terms..(j0 + len) * terms],
            &kernel[m0 * terms..(m0 + len) * terms],
        );
    });
    labels
}

/// `g^{(k)}(lag)` for `k < out.len()`, with `g(s) = Φ((s + ½)/h) − Φ((s − ½)/h)`.
fn lag_derivatives(lag: f64, h: f64, out: &mut [f64]) {
    let xp = (lag + 0.5) / h;
    let xm = (lag - 0.5) / h;
    out[0] = cdf_difference(xm, xp);
    if out.len() == 1 {
        return;
    }
    let density = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let (fp, fm) = (density(xp), density(xm));
    // Hermite recurrence He_{m+1}(x) = x·He_m(x) − m·He_{m−1}(x), from He_0 = 1, He_1 = x.
    let (mut hp_prev, mut hp) = (0.0, 1.0);
    let (mut hm_prev, mut hm) = (0.0, 1.0);
    let mut scale = 1.0 / h;
    for (k, value) in out.iter_mut().enumerate().skip(1) {
        // Φ^{(k)}(x) = (−1)^{k−1} He_{k−1}(x) φ(x); d/ds brings 1/h per order.
        let sign = if k % 2 == 1 { 1.0 } else { -1.0 };
        *value = sign * scale * (hp * fp - hm * fm);
        let m = (k - 1) as f64;
        let next_p = xp * hp - m * hp_prev;
        let next_m = xm * hm - m * hm_prev;
        hp_prev = hp;
        hp = next_p;
        hm_prev = hm;
        hm = next_m;
        scale /= h;
    }
}

/// A dot product with independent accumulators, so it vectorises.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 8];
    let chunks_a = a.chunks_exact(8);
    let chunks_b = b.chunks_exact(8);
    let tail: f64 = chunks_a
        .remainder()
        .iter()
        .zip(chunks_b.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in chunks_a.zip(chunks_b) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// Per-event sums over the days within the truncation (module docs, step 3).
fn per_event_sums(times: &[f64], n_days: usize, h: f64, ks: f64, side: KernelSide) -> Vec<f64> {
    let mut labels = vec![0.0; n_days];
    let last = n_days as f64 - 1.0;
    for &t in times {
        let first = match side {
            KernelSide::Both => (t - ks * h).floor(),
            KernelSide::Before => t.floor() + 1.0,
        };
        let lo = first.max(0.0);
        let hi = (t + ks * h).floor().min(last);
        if lo > hi {
            continue;
        }
        let mut d = lo;
        while d <= hi {
            labels[d as usize] += cdf_difference((d - t) / h, (d + 1.0 - t) / h);
            d += 1.0;
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_difference_matches_closed_forms() {
        // Φ(1) − Φ(−1) = erf(1/√2) = 0.682689492137086.
        assert!((cdf_difference(-1.0, 1.0) - 0.682_689_492_137_086).abs() < 1e-15);
        // Far upper tail: Q(10) − Q(11) with Q(10) = 7.61985302416e-24, Q(11) = 1.91065957e-28.
        let v = cdf_difference(10.0, 11.0);
        assert!(
            (v / (7.619_853_024_160_527e-24 - 1.910_659_574_583_976e-28) - 1.0).abs() < 1e-10,
            "{v}"
        );
        // Mirror symmetry.
        assert_eq!(cdf_difference(-11.0, -10.0), v);
    }

    #[test]
    fn taylor_order_meets_the_stated_bound() {
        // By hand: h = 1 needs K = 20 (R_19 = 1.2e-16 > 1e-16, R_20 = 1.3e-17).
        assert_eq!(taylor_order(1.0), Some(20));
        assert_eq!(taylor_order(0.1), None);
    }

    #[test]
    fn scott_and_silverman_factors() {
        // Times 0, 1, 2, 3: sample std √(5/3).
        let t = [0.0, 1.0, 2.0, 3.0];
        let std = (5.0f64 / 3.0).sqrt();
        let scott = bandwidth_days(&t, Bandwidth::Scott).unwrap();
        assert!((scott - 4f64.powf(-0.2) * std).abs() < 1e-14);
        let silverman = bandwidth_days(&t, Bandwidth::Silverman).unwrap();
        assert!((silverman - 3f64.powf(-0.2) * std).abs() < 1e-14);
        assert!(bandwidth_days(&t, Bandwidth::FixedDays(0.0)).is_err());
        assert!(bandwidth_days(&[1.0, 1.0], Bandwidth::Scott).is_err());
    }

    #[test]
    fn scales_by_hand() {
        let y = [0.1, 0.3, 0.2];
        assert!((scale_labels(&y, LabelScale::MinMax, 5).unwrap()[2] - 0.5).abs() < 1e-15);
        let z = scale_labels(&y, LabelScale::ZScore, 5).unwrap();
        // mean 0.2, population std √(0.02/3).
        assert!((z[1] - 0.1 / (0.02f64 / 3.0).sqrt()).abs() < 1e-12);
        let e = scale_labels(&y, LabelScale::EventsPerDay, 5).unwrap();
        assert!((e[1] - 1.5).abs() < 1e-15);
        assert!(scale_labels(&[0.2, 0.2], LabelScale::MinMax, 2).is_err());
    }
}
