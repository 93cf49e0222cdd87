//! The window-size study of the paper's Table 1.
//!
//! For each window length, the b series (128-day windows in the paper, step one day) is
//! summarised by its coefficient of variation, its ADF and KPSS p-values, a joint stationarity
//! flag and the mean absolute error of the naive (lag-1 persistence) forecast. The paper picked
//! 128 days as the shortest window whose b series is stationary under both tests.
//!
//! Beside each row stands the b-value significance test of Mirwald et al. (2024,
//! [`crate::seismicity::b_significance`]): does b vary more than its estimation error explains?
//! Its subsamples hold `n_m` events, the mean number of events at or above Mc in a window of
//! that length (`round(N·W / n_days)` over the N events of the period, at least 2), cut without
//! overlap, with the study's estimator, `min_num` 2 and the conservative σ (SeismoStats'
//! defaults). A small p-value says that b varies on the scale of the window; a large one that
//! the window's b series is consistent with a constant b plus noise. With a per-window Mc the
//! test is not made ([`Undetermined::NoFixedMc`]).

use crate::Result;
use crate::catalog::Selection;
use crate::seismicity::b_significance::{
    BSignificance, SignificanceParams, Undetermined, b_significance,
};
use crate::seismicity::bvalue::{self, McChoice, ValidBValueParams, WindowRow, WindowSpec};
use crate::seismicity::stationarity::{adf, kpss};

/// Significance level of both tests: ADF rejects a unit root below it, KPSS rejects
/// stationarity below it.
pub const SIGNIFICANCE: f64 = 0.05;

/// One row of Table 1.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowStudyRow {
    /// Window length in days.
    pub window_days: usize,
    /// Number of non-missing b values the statistics were computed on.
    pub n_valid: usize,
    /// Coefficient of variation: population standard deviation over mean of the b series.
    pub cv: f64,
    /// ADF p-value (constant, lag by AIC).
    pub adf_p: f64,
    /// KPSS p-value (level, automatic lags), clipped to [0.01, 0.1] as in the table it comes from.
    pub kpss_p: f64,
    /// `adf_p < 0.05 && kpss_p > 0.05`.
    pub stationary: bool,
    /// Mean |b_t − b_(t−1)| over consecutive values of the non-missing series.
    pub naive_mae: f64,
}

/// The study's result: one summary row and the underlying windowed series per window length.
/// [`crate::report::study`] renders it.
#[derive(Debug, Clone)]
pub struct WindowStudy {
    /// Table 1, one row per window length, in the order asked for.
    pub rows: Vec<WindowStudyRow>,
    /// The b/a series behind each row (same order).
    pub series: Vec<Vec<WindowRow>>,
    /// The b-value significance test beside each row (same order).
    pub significance: Vec<WindowSignificance>,
}

/// The b-value significance test for one window length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowSignificance {
    /// Events per subsample: the mean number of events at or above Mc per window.
    pub n_m: usize,
    /// The test's statistic and p-value, or why there are none.
    pub result: std::result::Result<BSignificance, Undetermined>,
}

/// Runs the study: for each window length, sliding b values with step one day over the
/// selection (`n_days` days), then [`summarize`] on the non-missing values.
pub fn window_study(
    selection: &Selection,
    n_days: usize,
    windows: &[usize],
    params: &ValidBValueParams,
) -> Result<WindowStudy> {
    let mut rows = Vec::with_capacity(windows.len());
    let mut series = Vec::with_capacity(windows.len());
    let mut significance = Vec::with_capacity(windows.len());
    let analysed: Vec<f64> = selection
        .times()
        .iter()
        .zip(selection.magnitudes())
        .filter(|&(&t, _)| (0.0..n_days as f64).contains(&t))
        .map(|(_, &m)| m)
        .collect();
    for &window_days in windows {
        let spec = WindowSpec::time(window_days, 1)?;
        let windowed = bvalue::sliding_b_values(selection, n_days, &spec, params);
        let b: Vec<f64> = windowed
            .iter()
            .filter_map(|row| row.value.as_ref().ok().map(|v| v.b))
            .collect();
        rows.push(summarize(window_days, &b)?);
        series.push(windowed);
        significance.push(window_significance(&analysed, n_days, window_days, params)?);
    }
    Ok(WindowStudy {
        rows,
        series,
        significance,
    })
}

/// The significance test for windows of `window_days` days over the period's `magnitudes` (in
/// time order), as the module documentation describes.
fn window_significance(
    magnitudes: &[f64],
    n_days: usize,
    window_days: usize,
    params: &ValidBValueParams,
) -> Result<WindowSignificance> {
    const MIN_NUM: usize = 2;
    let McChoice::Fixed(mc) = params.params().mc else {
        return Ok(WindowSignificance {
            n_m: 0,
            result: Err(Undetermined::NoFixedMc),
        });
    };
    let n_events = magnitudes
        .iter()
        .filter(|&&m| crate::catalog::at_or_above(m, mc))
        .count();
    let per_window = n_events as f64 * window_days as f64 / n_days.max(1) as f64;
    let n_m = (per_window.round() as usize).max(MIN_NUM);
    let settings = SignificanceParams::new(n_m, MIN_NUM, true)?;
    Ok(WindowSignificance {
        n_m,
        result: b_significance(magnitudes, mc, &settings, params),
    })
}

/// Table 1's statistics of one b series (missing values already removed, time order kept).
pub fn summarize(window_days: usize, b: &[f64]) -> Result<WindowStudyRow> {
    let n = b.len();
    if n < 3 {
        return Err(study_error(
            window_days,
            crate::Error::Numerical(format!("only {n} valid b values")),
        ));
    }
    let mean = b.iter().sum::<f64>() / n as f64;
    let variance = b.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
    let naive_mae = b.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (n - 1) as f64;
    let adf_p = adf(b).map_err(|e| study_error(window_days, e))?.p_value;
    let kpss_p = kpss(b).map_err(|e| study_error(window_days, e))?.p_value;
    Ok(WindowStudyRow {
        window_days,
        n_valid: n,
        cv: variance.sqrt() / mean,
        adf_p,
        kpss_p,
        stationary: adf_p < SIGNIFICANCE && kpss_p > SIGNIFICANCE,
        naive_mae,
    })
}

fn study_error(window_days: usize, e: crate::Error) -> crate::Error {
    crate::Error::Numerical(format!(
        "window study, {window_days}-day windows: {e} (too few valid b values? lower `min_events` or widen the period)"
    ))
}
