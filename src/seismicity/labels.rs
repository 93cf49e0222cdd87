//! Daily label series of three kinds, each with the days of events it depends on (issue 13).
//!
//! Day index d covers `[d, d + 1)`; a forecast for day d is issued at the end of day d. A label
//! series `L(d)` declares its *support* `(first, last)`: `L(d)` depends on events of the days
//! `d + first ..= d + last`, so it is fully known at the end of day `d + last`.
//!
//! - [`LabelKind::KdeCentred`]: the paper's label (eqs. 21–24),
//!   `y_d = (1/n_fit) Σ_i ∫_d^{d+1} K(t − t_i; h) dt` with the Gaussian kernel `K`. It reaches
//!   `R = ⌈3h⌉` days both ways, support `(−R, R)`: it looks ahead.
//! - [`LabelKind::KdeCausal`]: the one-sided (half-normal) kernel `K⁺(s) = (2/h)·φ(s/h)` for
//!   `s ≥ 0`, `f⁺(t) = (1/n_fit) Σ_{t_i ≤ t} K⁺(t − t_i)`, `y_d = ∫_d^{d+1} f⁺(t) dt`. An event of
//!   an earlier day adds `2·[Φ((d + 1 − t_i)/h) − Φ((d − t_i)/h)]`, twice its centred share; an
//!   event of day d itself adds `2·[Φ((d + 1 − t_i)/h) − ½]`. Support `(−R, 0)`.
//! - [`LabelKind::CountsAhead`]: the number of events on the days `d ..= d + H − 1`, or
//!   `ln(1 + count)`; undefined (NaN) where that window passes the period's end. Support
//!   `(0, H − 1)`. With a horizon of one day, row t's target `L(t + 1)` counts the events of
//!   `(t, t + H]`.
//!
//! The bandwidth rule and the `1/n_fit` of the KDE kinds use only `fit_times`, the events a split
//! may learn from; the kernel sum runs over every event of the period (`times`).
//!
//! # Boundary correction (KDE kinds)
//!
//! Near the period's edges part of the kernel lies outside the period, where no events are
//! counted, so the raw labels sag there. [`BoundaryCorrection::Renormalise`] (the default)
//! divides day d's label by the kernel mass inside the period `[0, T)`, `T = n_days`, taken at
//! the day's midpoint `t = d + ½`: `Φ((T − t)/h) − Φ(−t/h)` for the centred kernel,
//! `2Φ(t/h) − 1` for the causal one. Where that mass is below [`MIN_KERNEL_MASS`] the label is
//! undefined (NaN) and counted; for the causal kernel these are the first `≈ 0.67h` days, for the
//! centred kernel only periods shorter than about `1.35h`. [`BoundaryCorrection::Reflect`] adds
//! the events mirrored about 0 and T to the sum; the causal kernel mirrors about 0 only, and
//! each mirror only from its event's time on (`∫ 1[t ≥ t_i]·K⁺(t + t_i) dt`), so that no label
//! sees a later event through its mirror.
//!
//! Both kernels reuse the exact fast day sums of [`crate::seismicity::kde`]; the causal one takes
//! the sums over earlier days ([`KernelSide::Before`]) and adds each event's own day in closed
//! form.

use std::borrow::Cow;

use crate::seismicity::kde::{
    KdeParams, KernelSide, LabelScale, bandwidth_days, cdf_difference, check_kernel_inputs,
    kernel_day_sums, kernel_day_sums_exact,
};
use crate::{Error, Result};

/// A boundary-corrected label whose kernel keeps less than this fraction of its mass inside the
/// period is undefined (NaN): it would mostly be extrapolation.
pub const MIN_KERNEL_MASS: f64 = 0.5;

/// `labels.kind`: which label series the experiment predicts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum LabelKind {
    /// The paper's centred Gaussian KDE (eqs. 21–24); it uses events after the label's day.
    KdeCentred,
    /// A one-sided (half-normal) KDE of the events up to the end of the label's day.
    KdeCausal,
    /// The count of events in the next `labels.horizon_days` days, starting with the label's day.
    CountsAhead,
}

impl LabelKind {
    /// Every kind, in the order of the docs.
    pub const ALL: [LabelKind; 3] = [
        LabelKind::KdeCentred,
        LabelKind::KdeCausal,
        LabelKind::CountsAhead,
    ];

    /// The name as spelled in an experiment file.
    pub fn name(&self) -> &'static str {
        match self {
            LabelKind::KdeCentred => "kde_centred",
            LabelKind::KdeCausal => "kde_causal",
            LabelKind::CountsAhead => "counts_ahead",
        }
    }

    /// Whether the label of day d depends on events after day d (only the centred KDE).
    pub fn look_ahead(&self) -> bool {
        matches!(self, LabelKind::KdeCentred)
    }

    /// Whether the kind is a kernel density (bandwidth, boundary correction apply).
    pub fn is_kde(&self) -> bool {
        !matches!(self, LabelKind::CountsAhead)
    }
}

impl std::fmt::Display for LabelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `labels.boundary`: the edge correction of the KDE kinds (module docs).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum BoundaryCorrection {
    /// No correction: labels near the edges sum less kernel mass (the paper's labels).
    None,
    /// Divide by the kernel mass inside the period at the day's midpoint.
    #[default]
    Renormalise,
    /// Add the events mirrored about the period's edges.
    Reflect,
}

/// `labels.transform`: the transform of `counts_ahead` labels.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum CountTransform {
    /// The count itself.
    #[default]
    Count,
    /// `ln(1 + count)`.
    Log1p,
}

/// What [`label_series`] computes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelParams {
    /// The label kind.
    pub kind: LabelKind,
    /// Bandwidth, scale and truncation of the KDE kinds.
    pub kde: KdeParams,
    /// The edge correction of the KDE kinds.
    pub boundary: BoundaryCorrection,
    /// H of `counts_ahead`, in days (`labels.horizon_days`, at least 1).
    pub window_days: usize,
    /// The transform of `counts_ahead`.
    pub transform: CountTransform,
}

impl LabelParams {
    /// Refuses a count window of zero days (`labels.horizon_days`) and a `log1p` transform of a
    /// KDE label (`labels.transform`: it only applies to counts).
    pub fn check(&self) -> Result<()> {
        crate::ensure_config!(
            self.window_days >= 1,
            "labels.horizon_days",
            "the count window must be at least 1 day, got 0"
        );
        crate::ensure_config!(
            self.transform == CountTransform::Count || !self.kind.is_kde(),
            "labels.transform",
            "`log1p` transforms counts_ahead labels only, not {} labels",
            self.kind
        );
        Ok(())
    }
}

/// A label series and what produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelSeries {
    /// `L(d)` for `d in 0..n_days`, unscaled; NaN where undefined (see `undefined_days`).
    pub values: Vec<f64>,
    /// The label kind.
    pub kind: LabelKind,
    /// The KDE bandwidth in days (None for counts).
    pub bandwidth_days: Option<f64>,
    /// The number of events the bandwidth and the `1/n` were fitted on.
    pub n_fit_events: usize,
    /// `(first, last)`: `L(d)` depends on the events of days `d + first ..= d + last`.
    pub support: (i64, i64),
    /// How many values are NaN (boundary-corrected KDE days with too little kernel mass inside
    /// the period, count windows past its end).
    pub undefined_days: usize,
}

impl LabelSeries {
    /// How far the support reaches from the label's day, `max(−first, last)` (for a KDE `⌈3h⌉`).
    pub fn reach_days(&self) -> usize {
        let (first, last) = self.support;
        (-first).max(last).max(0) as usize
    }

    /// Whether the label depends on events after its day.
    pub fn look_ahead(&self) -> bool {
        self.kind.look_ahead()
    }
}

/// The labels of every day, fitted on `fit_times` (the events a split may learn from: the
/// bandwidth rule and the density's `1/n` use only them) and summed over `times` (all selected
/// events of the period, days since its start). KDE sums use the fast path of
/// [`kernel_day_sums`].
///
/// Fails on a non-finite time, `n_days == 0`, parameters [`LabelParams::check`] refuses, and for
/// the KDE kinds on no fit events or a bandwidth the fit events leave undefined.
pub fn label_series(
    times: &[f64],
    fit_times: &[f64],
    n_days: usize,
    params: &LabelParams,
) -> Result<LabelSeries> {
    series(times, fit_times, n_days, params, SumPath::Fast)
}

/// [`label_series`] with the exact O(n·days) kernel sums: the reference for tests.
pub fn label_series_exact(
    times: &[f64],
    fit_times: &[f64],
    n_days: usize,
    params: &LabelParams,
) -> Result<LabelSeries> {
    series(times, fit_times, n_days, params, SumPath::Exact)
}

#[derive(Clone, Copy, PartialEq)]
enum SumPath {
    Fast,
    Exact,
}

fn series(
    times: &[f64],
    fit_times: &[f64],
    n_days: usize,
    params: &LabelParams,
    path: SumPath,
) -> Result<LabelSeries> {
    params.check()?;
    check_kernel_inputs(times, n_days, params.kde.truncation_sigmas)?;
    check_kernel_inputs(fit_times, n_days, params.kde.truncation_sigmas)?;
    let (values, bandwidth, support) = match params.kind {
        LabelKind::KdeCentred | LabelKind::KdeCausal => {
            let (values, h) = kde_values(times, fit_times, n_days, params, path)?;
            let reach = (3.0 * h).ceil() as i64;
            let support = if params.kind == LabelKind::KdeCentred {
                (-reach, reach)
            } else {
                (-reach, 0)
            };
            (values, Some(h), support)
        }
        LabelKind::CountsAhead => (
            counts_ahead(times, n_days, params.window_days, params.transform),
            None,
            (0, params.window_days as i64 - 1),
        ),
    };
    Ok(LabelSeries {
        undefined_days: values.iter().filter(|y| y.is_nan()).count(),
        values,
        kind: params.kind,
        bandwidth_days: bandwidth,
        n_fit_events: fit_times.len(),
        support,
    })
}

/// The KDE labels (module docs) and the bandwidth.
fn kde_values(
    times: &[f64],
    fit_times: &[f64],
    n_days: usize,
    params: &LabelParams,
    path: SumPath,
) -> Result<(Vec<f64>, f64)> {
    if fit_times.is_empty() {
        return Err(Error::Numerical(
            "KDE labels need at least one event to fit on".into(),
        ));
    }
    let h = bandwidth_days(fit_times, params.kde.bandwidth)?;
    let causal = params.kind == LabelKind::KdeCausal;
    let period_days = n_days as f64;
    // The causal kernel's mirrors are added below, each from the time its event is known.
    let events: Cow<[f64]> = match params.boundary {
        BoundaryCorrection::Reflect if !causal => {
            let mut all = times.to_vec();
            all.extend(times.iter().map(|t| -t));
            all.extend(times.iter().map(|t| 2.0 * period_days - t));
            Cow::Owned(all)
        }
        _ => Cow::Borrowed(times),
    };
    let side = if causal {
        KernelSide::Before
    } else {
        KernelSide::Both
    };
    let mut sums = match path {
        SumPath::Fast => kernel_day_sums(&events, n_days, h, params.kde.truncation_sigmas, side),
        SumPath::Exact => kernel_day_sums_exact(&events, n_days, h, side),
    };
    if causal {
        // K⁺ is twice the Gaussian on s ≥ 0; an event's own day holds the part from t_i to d + 1.
        sums.iter_mut().for_each(|s| *s *= 2.0);
        for &t in events.iter() {
            let day = t.floor();
            if day >= 0.0 && day < period_days {
                sums[day as usize] += 2.0 * cdf_difference(0.0, (day + 1.0 - t) / h);
            }
        }
        if params.boundary == BoundaryCorrection::Reflect {
            add_known_mirrors(&mut sums, times, h, params.kde.truncation_sigmas);
        }
    }
    let inv_n = 1.0 / fit_times.len() as f64;
    let mut values: Vec<f64> = sums.into_iter().map(|s| s * inv_n).collect();
    if params.boundary == BoundaryCorrection::Renormalise {
        for (d, y) in values.iter_mut().enumerate() {
            let t = d as f64 + 0.5;
            let mass = if causal {
                2.0 * cdf_difference(0.0, t / h)
            } else {
                cdf_difference(-t / h, (period_days - t) / h)
            };
            *y = if mass >= MIN_KERNEL_MASS {
                *y / mass
            } else {
                f64::NAN
            };
        }
    }
    Ok((values, h))
}

/// Adds to the causal day sums each event's mirror about 0, counted only from the event's own
/// time on: `∫ 1[t ≥ t_i]·K⁺(t + t_i) dt` over each day. Mirroring every event would let an
/// early day's label see later events through their mirrors. A mirror reaches day d only while
/// `d + t_i < K_σ·h` (the fast path's truncation).
fn add_known_mirrors(sums: &mut [f64], times: &[f64], h: f64, ks: f64) {
    let n_days = sums.len() as f64;
    for &t in times.iter().filter(|&&t| t >= 0.0 && t < ks * h) {
        let own = t.floor();
        if own >= n_days {
            continue;
        }
        sums[own as usize] += 2.0 * cdf_difference(2.0 * t / h, (own + 1.0 + t) / h);
        let mut d = own + 1.0;
        while d < n_days && d + t < ks * h {
            sums[d as usize] += 2.0 * cdf_difference((d + t) / h, (d + 1.0 + t) / h);
            d += 1.0;
        }
    }
}

/// `L(d)` = the events of days `d ..= d + window − 1` (transformed), NaN past the period's end.
fn counts_ahead(
    times: &[f64],
    n_days: usize,
    window: usize,
    transform: CountTransform,
) -> Vec<f64> {
    // cumulative[d] = events of days 0..d.
    let mut per_day = vec![0usize; n_days];
    for &t in times {
        let day = t.floor();
        if day >= 0.0 && day < n_days as f64 {
            per_day[day as usize] += 1;
        }
    }
    let mut cumulative = Vec::with_capacity(n_days + 1);
    cumulative.push(0usize);
    for c in &per_day {
        cumulative.push(cumulative[cumulative.len() - 1] + c);
    }
    (0..n_days)
        .map(|d| {
            if d + window > n_days {
                return f64::NAN;
            }
            let count = (cumulative[d + window] - cumulative[d]) as f64;
            match transform {
                CountTransform::Count => count,
                CountTransform::Log1p => count.ln_1p(),
            }
        })
        .collect()
}

/// Label scaling fitted on training values only (`labels.scale`), so that no test value shapes
/// the training targets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelScaler {
    scale: LabelScale,
    /// `transform(y) = (y − offset)·factor`.
    offset: f64,
    factor: f64,
}

impl LabelScaler {
    /// Fits `scale` on the finite values of `train_values` (NaNs are ignored):
    /// `none` is the identity, `events_per_day` multiplies by `n_fit_events`, `minmax` maps the
    /// training range to [0, 1], `zscore` uses the training mean and population std (ddof = 0).
    /// `minmax` and `zscore` fail when the finite training values do not vary or there are none.
    pub fn fit(
        train_values: &[f64],
        scale: LabelScale,
        n_fit_events: usize,
    ) -> Result<LabelScaler> {
        let finite: Vec<f64> = train_values
            .iter()
            .copied()
            .filter(|y| y.is_finite())
            .collect();
        let (offset, factor) = match scale {
            LabelScale::None => (0.0, 1.0),
            LabelScale::EventsPerDay => (0.0, n_fit_events as f64),
            LabelScale::MinMax => {
                let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
                let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let range = max - min;
                if !(range > 0.0 && range.is_finite()) {
                    return Err(Error::Numerical(format!(
                        "min-max scaling of training labels that do not vary ({} finite values)",
                        finite.len()
                    )));
                }
                (min, 1.0 / range)
            }
            LabelScale::ZScore => {
                let n = finite.len() as f64;
                let mean = finite.iter().sum::<f64>() / n;
                let std = (finite.iter().map(|y| (y - mean) * (y - mean)).sum::<f64>() / n).sqrt();
                if !(std > 0.0 && std.is_finite()) {
                    return Err(Error::Numerical(format!(
                        "z-score scaling of training labels that do not vary ({} finite values)",
                        finite.len()
                    )));
                }
                (mean, 1.0 / std)
            }
        };
        Ok(LabelScaler {
            scale,
            offset,
            factor,
        })
    }

    /// The scale this scaler applies.
    pub fn scale(&self) -> LabelScale {
        self.scale
    }

    /// Scales `values` with the fitted parameters; NaN stays NaN.
    pub fn transform(&self, values: &[f64]) -> Vec<f64> {
        values
            .iter()
            .map(|y| (y - self.offset) * self.factor)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_spelled_as_in_the_experiment_file() {
        for kind in LabelKind::ALL {
            let text = toml::to_string(&std::collections::BTreeMap::from([("k", kind)])).unwrap();
            assert_eq!(text.trim(), format!("k = \"{}\"", kind.name()));
        }
        assert!(LabelKind::KdeCentred.look_ahead());
        assert!(!LabelKind::KdeCausal.look_ahead());
        assert!(!LabelKind::CountsAhead.look_ahead());
    }

    #[test]
    fn counts_by_hand() {
        // Days 0, 0, 2, 5 in a 6-day period, H = 2: windows {0,1} {1,2} {2,3} {3,4} {4,5}.
        let c = counts_ahead(&[0.2, 0.9, 2.5, 5.0], 6, 2, CountTransform::Count);
        assert_eq!(&c[..5], &[2.0, 1.0, 1.0, 0.0, 1.0]);
        assert!(c[5].is_nan());
        let l = counts_ahead(&[0.2, 0.9, 2.5, 5.0], 6, 2, CountTransform::Log1p);
        assert!((l[0] - 3f64.ln()).abs() < 1e-15);
    }
}
