//! Gutenberg-Richter b and a values (paper §1.2, eqs. 18–20) in sliding windows.
//!
//! `log10 N(M) = a − b·M` (eq. 18). The b value is estimated by maximum likelihood:
//!
//! - [`BEstimator::Aki`], the paper's eq. (19): `b = log10(e) / (mean(M) − Mc)`;
//! - [`BEstimator::AkiUtsu`]: the same with Utsu's bin correction,
//!   `b = log10(e) / (mean(M) − (Mc − ΔM/2))`;
//! - [`BEstimator::TintiMulargia`]: Tinti & Mulargia's (1987) exact maximum likelihood for
//!   magnitudes binned to ΔM (their eq. 13 solved for β): `β = ln(1 + ΔM / (mean(M) − Mc)) / ΔM`,
//!   `b = β / ln 10`. Aki-Utsu is its first-order expansion in ΔM; the two differ by about 0.5 %
//!   at ΔM = 0.1 and b = 1. SeismoStats' `ClassicBValueEstimator` computes this one;
//! - [`BEstimator::BPositive`] (van der Elst 2021): from the differences `m' = M_j − M_{j−1}` of
//!   consecutive events (in time order), keeping only `m' ≥ dmc`; the retained differences follow
//!   the same exponential law with the same b above the threshold `dmc`, so b is their estimate
//!   with `Mc' = dmc`, by [`DifferenceMle::TintiMulargia`] (the default, as in SeismoStats) or
//!   [`DifferenceMle::AkiUtsu`] (`b+ = log10(e) / (mean(m') − (dmc − ΔM/2))`). Positive
//!   differences are insensitive to short-term incompleteness after large events, provided the
//!   second event of a pair is detected whenever it is larger than the first (pitfall P5);
//! - [`BEstimator::BMorePositive`] (van der Elst 2021, Lippiello & Petrillo 2024): each event i
//!   is paired with the first later event j with `M_j − M_i ≥ dmc` (not only the next one), and b
//!   is estimated from these differences as for b-positive. Events without such a later event
//!   give no pair. This uses more pairs than b-positive from the same events.
//!
//! The default difference threshold `dmc` is one bin width, the smallest positive difference of
//! binned magnitudes. A magnitude or difference counts as at or above a threshold within
//! [`MAGNITUDE_TOLERANCE`] (SeismoStats, which requires binned magnitudes, uses half a bin: the
//! same selection for binned magnitudes).
//!
//! The a value is eq. (20), `a = log10 N(M ≥ Mc) + b·Mc`, with N the window's count at or above
//! its Mc (for every estimator). The uncertainty of b is Shi & Bolt's (1982)
//! `σ_b = 2.3·b²·sqrt(Σ(x_i − x̄)² / (m(m−1)))` over the m values `x_i` that entered the mean
//! (magnitudes, or differences for b-positive and b-more-positive), with the constant 2.3 as
//! Shi & Bolt print it ([`SHI_BOLT_FACTOR`]; it is ln 10 = 2.3026 rounded, from
//! `|db/dx̄| = b²·ln 10`, so the printed formula is 0.11 % smaller than the exact derivative, and
//! than SeismoStats' `shi_bolt_confidence`, which uses ln 10).
//!
//! [`weighted::weighted_b_value`] estimates b from weighted magnitudes (SeismoStats' `weights`).
//!
//! # Windows
//!
//! [`WindowKind::Days`]: the row of day d covers event times `[d − W + 1, d + 1)` (the W days
//! ending with day d, inclusive). Rows sit on days 0, step, 2·step, … up to `n_days − 1`. A window
//! that would begin before the period start is missing ([`Missing::Incomplete`]).
//! [`WindowKind::Events`]: windows of N consecutive events, moved by `step` events; each row is
//! stamped with the day of its last event.
//!
//! A window with fewer than `min_events` events at or above its Mc is missing
//! ([`Missing::TooFewEvents`]); a fit that is not finite and positive (a mean offset from the
//! reference that is not positive, or for Aki-Utsu not above −ΔM/2), or whose sample has fewer
//! than two values, is [`Missing::InvalidFit`]. A missing value is never 0 or a bare NaN.
//!
//! The pairs of b-positive and b-more-positive are formed inside each window: a pair counts
//! when both of its events lie in the window. For b-more-positive the first later event at least
//! dmc larger than event i inside a window is the first one in the whole analysed sequence if
//! that one lies in the window, and there is none otherwise, so a window `lo..hi` holds exactly
//! the pairs `(i, next(i))` with `lo ≤ i` and `next(i) < hi`.
//!
//! # Cost
//!
//! Nothing is recounted per window. With a fixed Mc, prefix sums over the time-sorted events give
//! each window's count, `Σ(M − Mc)` and `Σ(M − Mc)²` in O(1) (the reference Mc is subtracted before
//! summing, so the sums stay small and the variance does not cancel). With a per-window Mc, a
//! magnitude histogram slides with the window (each event is added once and removed once), and
//! each bin keeps its count and the sums of the offsets of its magnitudes from the bin centre, so
//! a window's n, `Σ(M − Mc)` and `Σ(M − Mc)²` above its own Mc come from the bins in O(bins).
//!
//! Both kinds of running sum are kept in fixed point: every value is rounded to a multiple of
//! 2⁻⁵² ([`FIXED_POINT_ULP`]) and summed as an integer, so a window's sum is the exact sum of its
//! own values, whatever came before it. (A floating-point prefix sum carries the rounding of every
//! earlier value into every later window: one absurd magnitude early in a catalog would leave
//! `Σx²` at 1e20 and the variance of every later window at zero.) A value of magnitude 1 or more
//! is represented exactly; a smaller one to within 2⁻⁵³, below the precision of an `f64` sum.
//! The selection's magnitudes are bounded ([`crate::catalog::check_magnitude`]), and the bin
//! width is at least [`mc::MIN_BIN_WIDTH`], which bounds the integers and the histogram.
//! Window bounds move by two pointers. b-positive uses prefix sums over consecutive pairs of
//! analysed events (those at or above a fixed Mc; with a per-window Mc, every selected event,
//! since b-positive needs no completeness above the selection floor), counting the pairs whose
//! two events both lie in the window. b-more-positive finds each event's partner once, in
//! O(events · log events), from the records of the sequence read backwards (an event is the
//! first one at least dmc above event i only if it is larger than every event between them), and
//! keeps a running sum of the pairs inside the window: a pair enters when the window's end passes
//! its second event (if its first is still inside) and leaves when the window's start passes its
//! first event, once each.
//! Total cost: O(events + rows) for a fixed Mc (plus the partner search for b-more-positive),
//! O(events + rows·bins) per-window.

use crate::Result;
use crate::catalog::{MAGNITUDE_TOLERANCE, Selection, at_or_above};
use crate::seismicity::mc;

mod pairs;
pub mod weighted;

/// The constant of the Shi & Bolt (1982) uncertainty `σ_b = 2.3·b²·σ(M̄)`, as published.
pub const SHI_BOLT_FACTOR: f64 = 2.3;

/// The resolution of the windows' fixed-point sums: 2⁻⁵².
pub const FIXED_POINT_ULP: f64 = 1.0 / 4_503_599_627_370_496.0;

/// The standard error of the a value of eq. (20), `a = log10 N + b·Mc`, from the standard error
/// of b: `σ_a² = (Mc·σ_b)² + (log10 e)²/N`. The first term propagates σ_b through `b·Mc`; the
/// second is the Poisson error of `log10 N` (`σ_N = √N`, and `d log10 N = log10 e · dN/N`).
/// `n_events` is the window's N at or above Mc; with no events the error is infinite.
pub fn a_value_std(mc: f64, b_std: f64, n_events: usize) -> f64 {
    let poisson = std::f64::consts::LOG10_E / (n_events as f64).sqrt();
    (mc * b_std).hypot(poisson)
}

/// How b is estimated from a window's magnitudes.
///
/// In an experiment file: `aki`, `aki_utsu`, `tinti_mulargia`, `b_positive`, `b_more_positive`
/// (the hyphenated spelling is accepted too); on the command line: `aki`, `aki-utsu`,
/// `tinti-mulargia`, `b-positive`, `b-more-positive` (the file's spelling is accepted too).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum BEstimator {
    /// Aki's maximum likelihood, the paper's eq. (19), without a bin correction.
    Aki,
    /// Aki-Utsu: eq. (19) with `Mc − ΔM/2` in place of `Mc`.
    #[value(alias = "aki_utsu")]
    #[serde(alias = "aki-utsu")]
    AkiUtsu,
    /// Tinti & Mulargia (1987): the exact maximum likelihood for magnitudes binned to ΔM,
    /// `b = ln(1 + ΔM / (mean(M) − Mc)) / (ΔM·ln 10)` (SeismoStats' classic estimator).
    #[value(alias = "tinti_mulargia")]
    #[serde(alias = "tinti-mulargia")]
    TintiMulargia,
    /// b-positive (van der Elst 2021) from magnitude differences `m' ≥ dmc` between consecutive
    /// events, estimated by the `difference_mle` setting.
    #[value(alias = "b_positive")]
    #[serde(alias = "b-positive")]
    BPositive,
    /// b-more-positive (van der Elst 2021, Lippiello & Petrillo 2024): each event paired with the
    /// first later event at least `dmc` larger, estimated by the `difference_mle` setting.
    #[value(alias = "b_more_positive")]
    #[serde(alias = "b-more-positive")]
    BMorePositive,
}

impl BEstimator {
    /// Whether the estimator works on magnitude differences (b-positive, b-more-positive), so
    /// that `dmc` and `difference_mle` apply.
    pub fn uses_differences(self) -> bool {
        matches!(self, BEstimator::BPositive | BEstimator::BMorePositive)
    }
}

/// The maximum-likelihood estimate that b-positive and b-more-positive apply to their
/// differences above `dmc`.
///
/// In an experiment file: `tinti_mulargia`, `aki_utsu`; on the command line `tinti-mulargia`,
/// `aki-utsu` (either spelling is accepted in both).
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
pub enum DifferenceMle {
    /// Tinti & Mulargia's discrete estimate with `Mc' = dmc` (SeismoStats' choice, the default).
    #[default]
    #[value(alias = "tinti_mulargia")]
    #[serde(alias = "tinti-mulargia")]
    TintiMulargia,
    /// Aki-Utsu with `Mc' = dmc` (quakelab's b-positive before issue 21).
    #[value(alias = "aki_utsu")]
    #[serde(alias = "aki-utsu")]
    AkiUtsu,
}

/// Which completeness magnitude a window uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum McChoice {
    /// One Mc for every window (the paper: 3.0). Pass a selection cut at this Mc or lower; events
    /// below it are ignored.
    Fixed(f64),
    /// Each window's own Mc by `method` (e.g. maximum curvature plus 0.2, Woessner & Wiemer
    /// 2005), from the window's magnitudes binned to the bin width
    /// ([`mc::window_completeness`]; MAXC takes a sliding-histogram fast path). A window where
    /// the method finds no Mc is [`Missing::NoCompleteness`].
    ///
    /// The methods need the magnitudes of every event in the window, including those below its
    /// Mc, so the caller passes a selection cut at a low floor (e.g. the catalog's minimum
    /// magnitude, `Catalog::select(&period, floor)`), not at the target Mc.
    PerWindow {
        /// How each window's Mc is estimated.
        method: mc::McMethod,
    },
}

impl McChoice {
    /// MAXC + 0.2 per window (Woessner & Wiemer 2005).
    pub const fn per_window_maxc() -> McChoice {
        McChoice::PerWindow {
            method: mc::McMethod::MAXC_PLUS_0_2,
        }
    }
}

/// b/a-value settings as the user wrote them; [`BValueParams::check`] validates them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BValueParams {
    /// The b estimator (default: the paper's [`BEstimator::Aki`]).
    pub estimator: BEstimator,
    /// The completeness magnitude (default: the paper's `Fixed(3.0)`).
    pub mc: McChoice,
    /// Magnitude bin width ΔM (default 0.1).
    pub bin_width: f64,
    /// The fewest events at or above Mc for a window to get a value (default 50, pitfall P6).
    pub min_events: usize,
    /// For b-positive and b-more-positive: the smallest magnitude difference kept (`Mc'` in
    /// van der Elst 2021, SeismoStats' `dmc`). `None` (the default) means one bin width.
    pub dmc: Option<f64>,
    /// For b-positive and b-more-positive: the estimate applied to the differences (default
    /// [`DifferenceMle::TintiMulargia`]).
    pub difference_mle: DifferenceMle,
}

impl Default for BValueParams {
    fn default() -> Self {
        BValueParams {
            estimator: BEstimator::Aki,
            mc: McChoice::Fixed(3.0),
            bin_width: 0.1,
            min_events: 50,
            dmc: None,
            difference_mle: DifferenceMle::TintiMulargia,
        }
    }
}

impl BValueParams {
    /// Validates the settings, naming the offending key (`seismicity.min_events`,
    /// `seismicity.bin_width`, `seismicity.mc`, `seismicity.mc_correction`, `seismicity.dmc`).
    pub fn check(self) -> Result<ValidBValueParams> {
        mc::check_bin_width(self.bin_width)?;
        crate::ensure_config!(
            self.min_events >= 2,
            "seismicity.min_events",
            "must be at least 2 (the Shi & Bolt uncertainty needs two events), got {}",
            self.min_events
        );
        match self.mc {
            McChoice::Fixed(m) => {
                crate::ensure_config!(m.is_finite(), "seismicity.mc", "must be finite, got {m}");
            }
            McChoice::PerWindow { method } => method.check(self.bin_width)?,
        }
        if let Some(dmc) = self.dmc {
            crate::ensure_config!(
                dmc.is_finite() && dmc >= self.bin_width - MAGNITUDE_TOLERANCE,
                "seismicity.dmc",
                "must be at least the bin width {} (a zero difference carries no sign), got {dmc}",
                self.bin_width
            );
        }
        Ok(ValidBValueParams(self))
    }
}

/// Settings that passed [`BValueParams::check`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidBValueParams(BValueParams);

impl ValidBValueParams {
    /// The checked settings.
    pub fn params(&self) -> &BValueParams {
        &self.0
    }

    /// The difference threshold dmc in use by b-positive and b-more-positive.
    pub fn dmc(&self) -> f64 {
        self.0.dmc.unwrap_or(self.0.bin_width)
    }

    fn estimator(&self) -> Estimator {
        let differences = |pairing| Estimator::Differences {
            pairing,
            dmc: self.dmc(),
            mle: match self.0.difference_mle {
                DifferenceMle::TintiMulargia => Mle::TintiMulargia,
                DifferenceMle::AkiUtsu => Mle::AkiUtsu,
            },
        };
        match self.0.estimator {
            BEstimator::Aki => Estimator::Magnitudes(Mle::Aki),
            BEstimator::AkiUtsu => Estimator::Magnitudes(Mle::AkiUtsu),
            BEstimator::TintiMulargia => Estimator::Magnitudes(Mle::TintiMulargia),
            BEstimator::BPositive => differences(Pairing::Consecutive),
            BEstimator::BMorePositive => differences(Pairing::NextLarger),
        }
    }
}

/// The estimator with its resolved settings: which values enter the sample, and the estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Estimator {
    /// The magnitudes at or above Mc, offsets from Mc.
    Magnitudes(Mle),
    /// Magnitude differences at or above `dmc`, offsets from `dmc`.
    Differences {
        pairing: Pairing,
        dmc: f64,
        mle: Mle,
    },
}

impl Estimator {
    fn mle(self) -> Mle {
        match self {
            Estimator::Magnitudes(mle) | Estimator::Differences { mle, .. } => mle,
        }
    }
}

/// Which later event an event is paired with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pairing {
    /// The next one (b-positive).
    Consecutive,
    /// The first later one at least dmc larger (b-more-positive).
    NextLarger,
}

/// A maximum-likelihood b from the mean offset `x̄` of a sample above its reference (Mc or dmc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mle {
    /// `log10 e / x̄` (eq. 19).
    Aki,
    /// `log10 e / (x̄ + ΔM/2)`.
    AkiUtsu,
    /// `ln(1 + ΔM / x̄) / (ΔM·ln 10)`.
    TintiMulargia,
}

impl Mle {
    /// b from the mean offset, as the formula gives it: infinite or NaN when the sample does
    /// not determine b (see [`b_significance`](crate::seismicity::b_significance), which keeps
    /// such values as SeismoStats does).
    fn b(self, mean_offset: f64, bin_width: f64) -> f64 {
        match self {
            Mle::Aki => std::f64::consts::LOG10_E / mean_offset,
            Mle::AkiUtsu => std::f64::consts::LOG10_E / (mean_offset + bin_width / 2.0),
            Mle::TintiMulargia => {
                (bin_width / mean_offset).ln_1p() / bin_width / std::f64::consts::LN_10
            }
        }
    }
}

/// How windows are laid over the catalog: build one with [`WindowSpec::time`] or
/// [`WindowSpec::events`], which check the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSpec {
    kind: WindowKind,
}

/// The two window kinds (pitfall P6: constant time or constant event count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowKind {
    /// Constant time: the row of day d covers `[d − window_days + 1, d + 1)`; rows every
    /// `step_days` days from day 0.
    Days {
        /// Window length W in days (the paper: 128).
        window_days: usize,
        /// Days between rows (the paper: 1).
        step_days: usize,
    },
    /// Constant event count: `n_events` consecutive analysed events, moved by `step_events`.
    Events {
        /// Events per window.
        n_events: usize,
        /// Events between consecutive windows' first events.
        step_events: usize,
    },
}

impl WindowSpec {
    /// Time windows of `window_days` days, one row every `step_days` days. Both must be at least 1
    /// (keys `seismicity.window_days`, `seismicity.step_days`).
    pub fn time(window_days: usize, step_days: usize) -> Result<Self> {
        crate::ensure_config!(
            window_days >= 1,
            "seismicity.window_days",
            "must be at least 1, got 0"
        );
        crate::ensure_config!(
            step_days >= 1,
            "seismicity.step_days",
            "must be at least 1, got 0"
        );
        Ok(WindowSpec {
            kind: WindowKind::Days {
                window_days,
                step_days,
            },
        })
    }

    /// Windows of `n_events` consecutive events (at least 2), moved by `step_events` (at least 1)
    /// (keys `seismicity.window_events`, `seismicity.step_events`).
    pub fn events(n_events: usize, step_events: usize) -> Result<Self> {
        crate::ensure_config!(
            n_events >= 2,
            "seismicity.window_events",
            "must be at least 2, got {n_events}"
        );
        crate::ensure_config!(
            step_events >= 1,
            "seismicity.step_events",
            "must be at least 1, got 0"
        );
        Ok(WindowSpec {
            kind: WindowKind::Events {
                n_events,
                step_events,
            },
        })
    }

    /// The window kind and its settings.
    pub fn kind(&self) -> WindowKind {
        self.kind
    }
}

/// A fitted window: b (eq. 19 or the chosen estimator), its Shi & Bolt uncertainty, and a (eq. 20).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BAValue {
    /// The b value.
    pub b: f64,
    /// Shi & Bolt standard error of b.
    pub b_std: f64,
    /// The a value, eq. (20).
    pub a: f64,
    /// How many values entered b: the events at or above Mc, or for b-positive and
    /// b-more-positive the retained differences (pairs).
    pub n_b: usize,
}

/// Why a window has no b/a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// The window would begin before the period start.
    Incomplete,
    /// Fewer than `min_events` events at or above the window's Mc.
    TooFewEvents {
        /// The window's count at or above Mc.
        n: usize,
    },
    /// The estimator is undefined: its denominator (mean − reference) is not positive, or its
    /// sample has fewer than two values.
    InvalidFit,
    /// The per-window Mc method found no completeness magnitude (b-stability or KS with no
    /// candidate passing, or magnitudes spanning less than the stability range).
    NoCompleteness,
}

impl Missing {
    /// A short machine-readable reason: `incomplete`, `too_few_events`, `invalid_fit`, `no_mc`.
    pub fn reason(&self) -> &'static str {
        match self {
            Missing::Incomplete => "incomplete",
            Missing::TooFewEvents { .. } => "too_few_events",
            Missing::InvalidFit => "invalid_fit",
            Missing::NoCompleteness => "no_mc",
        }
    }
}

/// Writes [`Missing::reason`] (the count of a too-few-events window is the row's `n_events`).
impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.reason())
    }
}

/// One window's result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowRow {
    /// The row's day index: the last day of a time window, the day of the last event of an
    /// event-count window.
    pub day: usize,
    /// Events in the window at or above its Mc (for an incomplete window: those inside the period).
    pub n_events: usize,
    /// The window's Mc. NaN only for a per-window Mc over a window without events or where the
    /// method finds none, and such a row's value is always a [`Missing`] reason.
    pub mc: f64,
    /// The fitted values, or why there are none.
    pub value: std::result::Result<BAValue, Missing>,
}

/// How many windows got values, and the most events any window held: what a user needs to
/// know when no window got a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowTally {
    /// Windows.
    pub rows: usize,
    /// Windows with b and a values.
    pub valid: usize,
    /// Windows that lie inside the period (not [`Missing::Incomplete`]).
    pub complete: usize,
    /// The largest `n_events` of any window that lies inside the period.
    pub most_events: usize,
}

impl WindowTally {
    /// Counts `rows`.
    pub fn of(rows: &[WindowRow]) -> Self {
        let complete = || rows.iter().filter(|r| r.value != Err(Missing::Incomplete));
        WindowTally {
            rows: rows.len(),
            valid: rows.iter().filter(|r| r.value.is_ok()).count(),
            complete: complete().count(),
            most_events: complete().map(|r| r.n_events).max().unwrap_or(0),
        }
    }
}

/// b and a of one sample of magnitudes (in time order, which b-positive and b-more-positive
/// need), using the events at or above `mc` and the estimator, bin width, dmc and difference
/// estimate of `params` (its Mc choice and `min_events` are not used). A sample with fewer than
/// two values is [`Missing::InvalidFit`].
pub fn b_value(
    magnitudes: &[f64],
    mc: f64,
    params: &ValidBValueParams,
) -> std::result::Result<BAValue, Missing> {
    let estimator = params.estimator();
    let bin_width = params.params().bin_width;
    let kept: Vec<f64> = magnitudes
        .iter()
        .copied()
        .filter(|&m| at_or_above(m, mc))
        .collect();
    let mut count = Sums::default();
    for &m in &kept {
        count.add(m - mc);
    }
    let sample = match estimator {
        Estimator::Magnitudes(_) => count,
        Estimator::Differences { pairing, dmc, .. } => {
            let mut sums = Sums::default();
            for (first, second) in pairs::pairs(&kept, pairing, dmc) {
                sums.add(kept[second] - kept[first] - dmc);
            }
            sums
        }
    };
    fit(count.n, mc, &sample, estimator, bin_width)
}

/// b and a in sliding windows over `sel` (event times in days since the period start, ascending).
///
/// Only events with `0 ≤ t < n_days` are used (a [`Selection`] holds only finite times and
/// magnitudes inside the physical range). With [`McChoice::Fixed`] the analysed events
/// are those at or above Mc; with [`McChoice::PerWindow`] they are all the selected events (cut at
/// the caller's floor), and each window's n and sums are taken above its own Mc.
pub fn sliding_b_values(
    sel: &Selection,
    n_days: usize,
    window: &WindowSpec,
    params: &ValidBValueParams,
) -> Vec<WindowRow> {
    let p = params.params();
    let (times, magnitudes) = events_in_period(sel, n_days, p.mc);
    let estimator = params.estimator();
    let mut differences = pairs::DifferenceSums::new(&magnitudes, estimator);
    let mut completeness = match p.mc {
        McChoice::Fixed(mc) => Completeness::Fixed {
            mc,
            prefix: Prefix::from_values(magnitudes.iter().map(|&m| Some(m - mc))),
        },
        McChoice::PerWindow { method } => Completeness::PerWindow {
            method,
            histogram: SlidingHistogram::new(&magnitudes, p.bin_width),
        },
    };
    let mut windows = Windows::new(&times, n_days, window);
    let mut rows = Vec::new();
    while let Some(w) = windows.next_window() {
        let Some((mc, count)) = completeness.window(w.lo, w.hi) else {
            rows.push(WindowRow {
                day: w.day,
                n_events: 0,
                mc: f64::NAN,
                value: Err(if w.incomplete {
                    Missing::Incomplete
                } else {
                    Missing::TooFewEvents { n: 0 }
                }),
            });
            continue;
        };
        let value = if w.incomplete {
            Err(Missing::Incomplete)
        } else if mc.is_nan() {
            Err(Missing::NoCompleteness)
        } else if count.n < p.min_events {
            Err(Missing::TooFewEvents { n: count.n })
        } else {
            let sample = differences.window(w.lo, w.hi).unwrap_or(count);
            fit(count.n, mc, &sample, estimator, p.bin_width)
        };
        rows.push(WindowRow {
            day: w.day,
            n_events: count.n,
            mc,
            value,
        });
    }
    rows
}

/// Where a window's Mc and its sums above Mc come from.
enum Completeness<'a> {
    /// One Mc: prefix sums of `M − Mc` over the analysed events.
    Fixed { mc: f64, prefix: Prefix },
    /// An Mc method on a histogram that slides with the window.
    PerWindow {
        method: mc::McMethod,
        histogram: SlidingHistogram<'a>,
    },
}

impl Completeness<'_> {
    /// Mc and the sums of `M − Mc` above it for events `lo..hi` (bounds never decrease between
    /// calls); `None` when a per-window Mc has no events to come from, NaN and no sums when the
    /// method finds no Mc in them.
    fn window(&mut self, lo: usize, hi: usize) -> Option<(f64, Sums)> {
        match self {
            Completeness::Fixed { mc, prefix } => Some((*mc, prefix.range(lo, hi))),
            Completeness::PerWindow { method, histogram } => {
                histogram.move_to(lo, hi);
                let mc = match method {
                    mc::McMethod::Maxc { correction } => histogram.maxc()? + *correction,
                    _ => match mc::window_completeness(&histogram.histogram()?, method) {
                        Some(mc) => mc,
                        None => return Some((f64::NAN, Sums::default())),
                    },
                };
                Some((mc, histogram.sums_at_or_above(mc)))
            }
        }
    }
}

/// The analysed events: inside `[0, n_days)`, and at or above a fixed Mc when there is one.
fn events_in_period(sel: &Selection, n_days: usize, mc: McChoice) -> (Vec<f64>, Vec<f64>) {
    let end = n_days as f64;
    sel.times()
        .iter()
        .zip(sel.magnitudes())
        .filter(|&(&t, &m)| {
            (0.0..end).contains(&t)
                && match mc {
                    McChoice::Fixed(c) => at_or_above(m, c),
                    McChoice::PerWindow { .. } => true,
                }
        })
        .map(|(&t, &m)| (t, m))
        .unzip()
}

/// Count and the first two moments of values measured from a reference.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sums {
    n: usize,
    s1: f64,
    s2: f64,
}

impl Sums {
    fn add(&mut self, x: f64) {
        self.n += 1;
        self.s1 += x;
        self.s2 += x * x;
    }
}

/// b (per `estimator`) and a (eq. 20) from a window's count `n` at or above `mc` and the sums of
/// the b sample: magnitudes minus `mc`, or for the difference estimators the kept differences
/// minus dmc.
fn fit(
    n: usize,
    mc: f64,
    sample: &Sums,
    estimator: Estimator,
    bin_width: f64,
) -> std::result::Result<BAValue, Missing> {
    let m = sample.n;
    if m < 2 || n == 0 {
        return Err(Missing::InvalidFit);
    }
    let mf = m as f64;
    let mean_offset = sample.s1 / mf;
    let b = estimator.mle().b(mean_offset, bin_width);
    if !(b.is_finite() && b > 0.0) {
        return Err(Missing::InvalidFit);
    }
    let squares = (sample.s2 - sample.s1 * mean_offset).max(0.0);
    let b_std = SHI_BOLT_FACTOR * b * b * (squares / (mf * (mf - 1.0))).sqrt();
    // eq. (20)
    let a = (n as f64).log10() + b * mc;
    Ok(BAValue {
        b,
        b_std,
        a,
        n_b: m,
    })
}

/// The b values of contiguous blocks of one analysed sequence, as the raw formula gives them
/// (infinite or NaN where the block does not determine b): what
/// [`b_significance`](crate::seismicity::b_significance) partitions a catalog into. A block's
/// pairs are those with both events inside it.
pub(crate) struct BlockEstimates {
    mle: Mle,
    bin_width: f64,
    sums: BlockSums,
}

/// Where a block's sample sums come from.
enum BlockSums {
    /// Prefix sums of the offsets from Mc: item i holds event i.
    Magnitudes(Prefix),
    /// b-positive: prefix sums of the pair values, item j holding the pair `(j − 1, j)`.
    Consecutive(Prefix),
    /// b-more-positive: each event's partner and the value `difference − dmc` of its pair.
    NextLarger(Vec<Option<(usize, f64)>>),
}

impl BlockEstimates {
    /// Blocks over `magnitudes` (in time order, all at or above `mc`).
    pub(crate) fn new(magnitudes: &[f64], mc: f64, params: &ValidBValueParams) -> Self {
        let estimator = params.estimator();
        let sums = match estimator {
            Estimator::Magnitudes(_) => BlockSums::Magnitudes(Prefix::from_values(
                magnitudes.iter().map(|&m| Some(m - mc)),
            )),
            Estimator::Differences {
                pairing: Pairing::Consecutive,
                dmc,
                ..
            } => {
                let mut values = vec![None; magnitudes.len()];
                for (i, j) in pairs::pairs(magnitudes, Pairing::Consecutive, dmc) {
                    values[j] = Some(magnitudes[j] - magnitudes[i] - dmc);
                }
                BlockSums::Consecutive(Prefix::from_values(values.into_iter()))
            }
            Estimator::Differences {
                pairing: Pairing::NextLarger,
                dmc,
                ..
            } => BlockSums::NextLarger(
                pairs::next_larger(magnitudes, dmc)
                    .into_iter()
                    .enumerate()
                    .map(|(i, next)| next.map(|j| (j, magnitudes[j] - magnitudes[i] - dmc)))
                    .collect(),
            ),
        };
        BlockEstimates {
            mle: estimator.mle(),
            bin_width: params.params().bin_width,
            sums,
        }
    }

    /// The number of values that entered b (events, or pairs) and b of events `lo..hi`.
    pub(crate) fn b(&self, lo: usize, hi: usize) -> (usize, f64) {
        let (n, s1) = match &self.sums {
            BlockSums::Magnitudes(prefix) => {
                let sums = prefix.range(lo, hi);
                (sums.n, sums.s1)
            }
            BlockSums::Consecutive(prefix) => {
                let sums = prefix.range((lo + 1).min(hi), hi);
                (sums.n, sums.s1)
            }
            BlockSums::NextLarger(partners) => partners[lo..hi]
                .iter()
                .flatten()
                .filter(|&&(j, _)| j < hi)
                .fold((0, 0.0), |(n, s), &(_, x)| (n + 1, s + x)),
        };
        (n, self.mle.b(s1 / n as f64, self.bin_width))
    }
}

/// `x` in units of [`FIXED_POINT_ULP`], rounded to the nearest.
fn to_fixed(x: f64) -> i128 {
    (x / FIXED_POINT_ULP).round() as i128
}

/// A fixed-point sum back in floating point.
fn from_fixed(sum: i128) -> f64 {
    sum as f64 * FIXED_POINT_ULP
}

/// Prefix sums over items that may or may not contribute: counts, `Σx` and `Σx²` in fixed point,
/// so that any range of items gives its exact sums in O(1).
struct Prefix {
    counts: Vec<usize>,
    s1: Vec<i128>,
    s2: Vec<i128>,
}

impl Prefix {
    fn from_values(values: impl Iterator<Item = Option<f64>>) -> Self {
        let mut prefix = Prefix {
            counts: vec![0],
            s1: vec![0],
            s2: vec![0],
        };
        let (mut n, mut s1, mut s2) = (0, 0i128, 0i128);
        for x in values {
            if let Some(x) = x {
                n += 1;
                s1 += to_fixed(x);
                s2 += to_fixed(x * x);
            }
            prefix.counts.push(n);
            prefix.s1.push(s1);
            prefix.s2.push(s2);
        }
        prefix
    }

    /// Sums over items `lo..hi`.
    fn range(&self, lo: usize, hi: usize) -> Sums {
        Sums {
            n: self.counts[hi] - self.counts[lo],
            s1: from_fixed(self.s1[hi] - self.s1[lo]),
            s2: from_fixed(self.s2[hi] - self.s2[lo]),
        }
    }
}

/// One window: analysed events `lo..hi`, its row day, and whether it starts before the period.
struct Window {
    lo: usize,
    hi: usize,
    day: usize,
    incomplete: bool,
}

/// Walks the windows of a [`WindowSpec`] with two monotone pointers.
struct Windows<'a> {
    times: &'a [f64],
    n_days: usize,
    kind: WindowKind,
    next: usize,
    lo: usize,
    hi: usize,
}

impl<'a> Windows<'a> {
    fn new(times: &'a [f64], n_days: usize, spec: &WindowSpec) -> Self {
        Windows {
            times,
            n_days,
            kind: spec.kind(),
            next: 0,
            lo: 0,
            hi: 0,
        }
    }

    fn next_window(&mut self) -> Option<Window> {
        match self.kind {
            WindowKind::Days {
                window_days,
                step_days,
            } => {
                let day = self.next;
                if day >= self.n_days {
                    return None;
                }
                self.next += step_days;
                let start = day as f64 + 1.0 - window_days as f64;
                let end = day as f64 + 1.0;
                while self.lo < self.times.len() && self.times[self.lo] < start {
                    self.lo += 1;
                }
                self.hi = self.hi.max(self.lo);
                while self.hi < self.times.len() && self.times[self.hi] < end {
                    self.hi += 1;
                }
                Some(Window {
                    lo: self.lo,
                    hi: self.hi,
                    day,
                    incomplete: day + 1 < window_days,
                })
            }
            WindowKind::Events {
                n_events,
                step_events,
            } => {
                let lo = self.next;
                let hi = lo.checked_add(n_events)?;
                if hi > self.times.len() {
                    return None;
                }
                self.next += step_events;
                Some(Window {
                    lo,
                    hi,
                    day: self.times[hi - 1].floor() as usize,
                    incomplete: false,
                })
            }
        }
    }
}

/// A magnitude histogram over the events of the current window. Each bin keeps its count and the
/// fixed-point sums of `M − centre` and `(M − centre)²` of its events (zero for magnitudes on the
/// bin grid), so nothing drifts as events come and go.
///
/// Its size is at most `(MAX_MAGNITUDE − MIN_MAGNITUDE) / MIN_BIN_WIDTH + 1` bins: the selection's
/// magnitudes and the checked bin width bound it.
struct SlidingHistogram<'a> {
    magnitudes: &'a [f64],
    bins: Vec<usize>,
    first_bin: i64,
    width: f64,
    counts: Vec<usize>,
    offset1: Vec<i128>,
    offset2: Vec<i128>,
    lo: usize,
    hi: usize,
}

impl<'a> SlidingHistogram<'a> {
    fn new(magnitudes: &'a [f64], width: f64) -> Self {
        let raw: Vec<i64> = magnitudes
            .iter()
            .map(|&m| mc::bin_index(m, width))
            .collect();
        let first_bin = raw.iter().copied().min().unwrap_or(0);
        let last_bin = raw.iter().copied().max().unwrap_or(0);
        let n_bins = (last_bin - first_bin + 1) as usize;
        SlidingHistogram {
            magnitudes,
            bins: raw.iter().map(|&k| (k - first_bin) as usize).collect(),
            first_bin,
            width,
            counts: vec![0; n_bins],
            offset1: vec![0; n_bins],
            offset2: vec![0; n_bins],
            lo: 0,
            hi: 0,
        }
    }

    fn center(&self, k: usize) -> f64 {
        mc::bin_center(self.first_bin + k as i64, self.width)
    }

    fn update(&mut self, i: usize, add: bool) {
        let k = self.bins[i];
        let u = self.magnitudes[i] - self.center(k);
        let (u1, u2) = (to_fixed(u), to_fixed(u * u));
        if add {
            self.counts[k] += 1;
            self.offset1[k] += u1;
            self.offset2[k] += u2;
        } else {
            self.counts[k] -= 1;
            self.offset1[k] -= u1;
            self.offset2[k] -= u2;
        }
    }

    /// Moves the window to events `lo..hi` (both bounds never decrease).
    fn move_to(&mut self, lo: usize, hi: usize) {
        while self.hi < hi {
            self.update(self.hi, true);
            self.hi += 1;
        }
        while self.lo < lo {
            self.update(self.lo, false);
            self.lo += 1;
        }
    }

    fn maxc(&self) -> Option<f64> {
        mc::mode_bin(&self.counts).map(|k| self.center(k))
    }

    /// The window's magnitudes binned; `None` when it holds no events.
    fn histogram(&self) -> Option<mc::MagnitudeHistogram> {
        mc::MagnitudeHistogram::from_counts(self.first_bin, &self.counts, self.width)
    }

    /// Count and sums of `M − mc` over the bins whose centre is at or above `mc`.
    fn sums_at_or_above(&self, mc: f64) -> Sums {
        let first = mc::first_bin_at_or_above(mc, self.first_bin, self.width).max(0) as usize;
        let mut sums = Sums::default();
        for k in first..self.counts.len() {
            let c = self.counts[k];
            if c == 0 {
                continue;
            }
            let shift = self.center(k) - mc;
            let cf = c as f64;
            let (o1, o2) = (from_fixed(self.offset1[k]), from_fixed(self.offset2[k]));
            sums.n += c;
            sums.s1 += cf * shift + o1;
            sums.s2 += cf * shift * shift + 2.0 * shift * o1 + o2;
        }
        sums
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(estimator: BEstimator, mc: McChoice, min_events: usize) -> ValidBValueParams {
        BValueParams {
            estimator,
            mc,
            bin_width: 0.1,
            min_events,
            dmc: None,
            difference_mle: DifferenceMle::AkiUtsu,
        }
        .check()
        .unwrap()
    }

    fn with_mle(estimator: BEstimator, difference_mle: DifferenceMle) -> ValidBValueParams {
        BValueParams {
            estimator,
            mc: McChoice::Fixed(3.0),
            min_events: 2,
            difference_mle,
            ..BValueParams::default()
        }
        .check()
        .unwrap()
    }

    #[test]
    fn tinti_mulargia_by_hand() {
        // Offsets 0, 0.2, 0.4, 0.6 above Mc 3.0 (ΔM 0.1): mean 0.3, so
        // β = ln(1 + 0.1/0.3)/0.1 = 10·ln(4/3) and b = β/ln 10 = 10·log10(4/3) = 1.2493873660829995.
        let v = b_value(
            &[3.0, 3.2, 3.4, 3.6, 2.9],
            3.0,
            &with_mle(BEstimator::TintiMulargia, DifferenceMle::TintiMulargia),
        )
        .unwrap();
        assert!((v.b - 1.249_387_366_082_999_5).abs() < 1e-12, "{}", v.b);
        assert!((v.b - 10.0 * (4.0f64 / 3.0).log10()).abs() < 1e-12);
        // Shi & Bolt as for every estimator: Σ(x − x̄)² = 0.2, m(m − 1) = 12.
        let std = 2.3 * v.b * v.b * (0.2f64 / 12.0).sqrt();
        assert!((v.b_std - std).abs() < 1e-12);
        assert!((v.a - (4f64.log10() + 3.0 * v.b)).abs() < 1e-12);
        // ln(1 + u) > 2u/(2 + u) for u > 0, so ln(1 + ΔM/x̄)/ΔM > 1/(x̄ + ΔM/2): the discrete
        // estimate lies above Aki-Utsu's log10(e)/0.35.
        assert!(v.b > std::f64::consts::LOG10_E / 0.35);
    }

    #[test]
    fn b_more_positive_by_hand() {
        // dmc 0.1. Partners (first later event at least 0.1 larger): 3.0 → 3.5, 3.5 → 3.7,
        // 3.2 → 3.3, 3.3 → 3.7, 3.3 → 3.7, 3.7 none. Differences 0.5, 0.2, 0.1, 0.4, 0.4; minus dmc
        // 0.4, 0.1, 0, 0.3, 0.3: mean 0.22.
        let m = [3.0, 3.5, 3.2, 3.3, 3.3, 3.7];
        let tm = b_value(
            &m,
            3.0,
            &with_mle(BEstimator::BMorePositive, DifferenceMle::TintiMulargia),
        )
        .unwrap();
        assert_eq!(tm.n_b, 5);
        // b = ln(1 + 0.1/0.22)/(0.1·ln 10) = 10·log10(16/11).
        assert!(
            (tm.b - 10.0 * (16.0f64 / 11.0).log10()).abs() < 1e-12,
            "{}",
            tm.b
        );
        let au = b_value(
            &m,
            3.0,
            &with_mle(BEstimator::BMorePositive, DifferenceMle::AkiUtsu),
        )
        .unwrap();
        assert!(
            (au.b - std::f64::consts::LOG10_E / 0.27).abs() < 1e-12,
            "{}",
            au.b
        );
        // b-positive with the discrete estimate: kept 0.5, 0.1, 0.4 → offsets mean 1/3 − 0.1.
        let bp = b_value(
            &m,
            3.0,
            &with_mle(BEstimator::BPositive, DifferenceMle::TintiMulargia),
        )
        .unwrap();
        let mean: f64 = 1.0 / 3.0 - 0.1;
        assert!((bp.b - (1.0 + 0.1 / mean).ln() / 0.1 / std::f64::consts::LN_10).abs() < 1e-12);
    }

    #[test]
    fn aki_by_hand() {
        // Magnitudes 3.0, 3.2, 3.4, 3.6 above Mc 3.0: mean offset 0.3, b = log10(e)/0.3.
        let v = b_value(
            &[3.0, 3.2, 3.4, 3.6, 2.9],
            3.0,
            &params(BEstimator::Aki, McChoice::Fixed(3.0), 2),
        )
        .unwrap();
        let b = std::f64::consts::LOG10_E / 0.3;
        assert!((v.b - b).abs() < 1e-12);
        // Σ(M − M̄)² = 0.09 + 0.01 + 0.01 + 0.09 = 0.2, n(n−1) = 12.
        let std = 2.3 * b * b * (0.2f64 / 12.0).sqrt();
        assert!((v.b_std - std).abs() < 1e-12);
        assert!((v.a - (4f64.log10() + 3.0 * b)).abs() < 1e-12);
        assert_eq!(v.n_b, 4);
        // Aki-Utsu: denominator 0.3 + 0.05.
        let u = b_value(
            &[3.0, 3.2, 3.4, 3.6],
            3.0,
            &params(BEstimator::AkiUtsu, McChoice::Fixed(3.0), 2),
        )
        .unwrap();
        assert!((u.b - std::f64::consts::LOG10_E / 0.35).abs() < 1e-12);
    }

    #[test]
    fn b_positive_by_hand() {
        // Differences: +0.5, −0.3, +0.1, +0.0, +0.4; kept with δ = 0.1: 0.5, 0.1, 0.4 → mean 1/3.
        let m = [3.0, 3.5, 3.2, 3.3, 3.3, 3.7];
        let v = b_value(
            &m,
            3.0,
            &params(BEstimator::BPositive, McChoice::Fixed(3.0), 2),
        )
        .unwrap();
        let b = std::f64::consts::LOG10_E / (1.0 / 3.0 - 0.05);
        assert!((v.b - b).abs() < 1e-12, "{} vs {b}", v.b);
        assert_eq!(v.n_b, 3);
        assert!((v.a - (6f64.log10() + 3.0 * b)).abs() < 1e-12);
    }

    #[test]
    fn all_at_mc_is_an_invalid_fit_not_infinity() {
        let v = b_value(
            &[3.0; 10],
            3.0,
            &params(BEstimator::Aki, McChoice::Fixed(3.0), 2),
        );
        assert_eq!(v, Err(Missing::InvalidFit));
    }

    #[test]
    fn window_spec_refuses_zero_lengths() {
        let err = WindowSpec::time(0, 1).unwrap_err();
        assert!(err.to_string().contains("seismicity.window_days"), "{err}");
        let err = WindowSpec::time(128, 0).unwrap_err();
        assert!(err.to_string().contains("seismicity.step_days"), "{err}");
        assert!(WindowSpec::events(1, 1).is_err());
        assert!(WindowSpec::events(50, 0).is_err());
    }

    #[test]
    fn check_names_the_offending_key() {
        let bad = BValueParams {
            min_events: 1,
            ..BValueParams::default()
        };
        let err = bad.check().unwrap_err();
        assert!(err.to_string().contains("seismicity.min_events"), "{err}");
        let bad = BValueParams {
            estimator: BEstimator::BPositive,
            dmc: Some(0.0),
            ..BValueParams::default()
        };
        let err = bad.check().unwrap_err();
        assert!(err.to_string().contains("seismicity.dmc"), "{err}");
        let bad = BValueParams {
            bin_width: -0.1,
            ..BValueParams::default()
        };
        assert!(
            bad.check()
                .unwrap_err()
                .to_string()
                .contains("seismicity.bin_width")
        );
    }

    #[test]
    fn time_windows_follow_the_day_convention() {
        // Window of 3 days: the row of day 2 covers [0, 3), day 3 covers [1, 4).
        // Events at 0.5 (M 3.0), 2.99 (M 3.2), 3.0 (M 3.4), 3.5 (M 3.6).
        let sel = Selection::new(vec![0.5, 2.99, 3.0, 3.5], vec![3.0, 3.2, 3.4, 3.6]).unwrap();
        let spec = WindowSpec::time(3, 1).unwrap();
        let rows = sliding_b_values(
            &sel,
            5,
            &spec,
            &params(BEstimator::Aki, McChoice::Fixed(3.0), 2),
        );
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0].value, Err(Missing::Incomplete));
        assert_eq!(rows[1].value, Err(Missing::Incomplete));
        // Day 2: events 0.5 and 2.99 → mean offset 0.1.
        assert_eq!(rows[2].n_events, 2);
        let b2 = rows[2].value.unwrap().b;
        assert!((b2 - std::f64::consts::LOG10_E / 0.1).abs() < 1e-9);
        // Day 3: events 2.99, 3.0, 3.5 → offsets 0.2, 0.4, 0.6 → mean 0.4.
        assert_eq!(rows[3].n_events, 3);
        assert!((rows[3].value.unwrap().b - std::f64::consts::LOG10_E / 0.4).abs() < 1e-9);
        // Day 4: [2, 5) holds the same three events.
        assert_eq!(rows[4].n_events, 3);
        // min_events = 4 turns day 3 into too few events.
        let rows = sliding_b_values(
            &sel,
            5,
            &spec,
            &params(BEstimator::Aki, McChoice::Fixed(3.0), 4),
        );
        assert_eq!(rows[3].value, Err(Missing::TooFewEvents { n: 3 }));
    }

    #[test]
    fn step_and_event_windows() {
        let sel =
            Selection::new(vec![0.5, 1.5, 2.5, 3.5, 4.5], vec![3.0, 3.2, 3.4, 3.6, 3.8]).unwrap();
        let spec = WindowSpec::time(2, 2).unwrap();
        let rows = sliding_b_values(
            &sel,
            5,
            &spec,
            &params(BEstimator::Aki, McChoice::Fixed(3.0), 2),
        );
        let days: Vec<usize> = rows.iter().map(|r| r.day).collect();
        assert_eq!(days, vec![0, 2, 4]);
        let spec = WindowSpec::events(3, 2).unwrap();
        let rows = sliding_b_values(
            &sel,
            5,
            &spec,
            &params(BEstimator::Aki, McChoice::Fixed(3.0), 2),
        );
        // Windows: events 0..3 (last at day 2), 2..5 (last at day 4).
        let days: Vec<usize> = rows.iter().map(|r| r.day).collect();
        assert_eq!(days, vec![2, 4]);
        // Second window: 3.4, 3.6, 3.8 → mean offset 0.6.
        assert!((rows[1].value.unwrap().b - std::f64::consts::LOG10_E / 0.6).abs() < 1e-9);
    }

    #[test]
    fn per_window_mc_uses_the_window_histogram() {
        // One window of 10 days over: 1.0 ×2, 1.1 ×5 (mode), 1.2 ×1, 1.3 ×3, 1.5 ×1.
        // MAXC + 0.2 = 1.3 → events 1.3 ×3 and 1.5 → n = 4, offsets 0, 0, 0, 0.2 → mean 0.05.
        let m = [1.0, 1.1, 1.3, 1.1, 1.2, 1.1, 1.0, 1.3, 1.1, 1.5, 1.1, 1.3];
        let sel =
            Selection::new((0..m.len()).map(|i| i as f64 * 0.5).collect(), m.to_vec()).unwrap();
        let spec = WindowSpec::time(10, 1).unwrap();
        let rows = sliding_b_values(
            &sel,
            10,
            &spec,
            &params(BEstimator::Aki, McChoice::per_window_maxc(), 2),
        );
        let last = rows[9];
        assert!((last.mc - 1.3).abs() < 1e-12);
        assert_eq!(last.n_events, 4);
        assert!((last.value.unwrap().b - std::f64::consts::LOG10_E / 0.05).abs() < 1e-9);
    }
}
