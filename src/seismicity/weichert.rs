//! Weichert's (1980) estimator of the Gutenberg-Richter b value and rate for a catalog whose
//! completeness magnitude changes over time (decades of catalog: large events complete since
//! long ago, small ones only recently).
//!
//! Each magnitude bin `i` (centre `m_i`, `n_i` events) is observed over its own time `t_i`: from
//! the start of the completeness period of its magnitude to the end of the catalog. The maximum
//! likelihood β = b·ln 10 solves Weichert's eq. (10),
//!
//! `Σ_i t_i m_i e^(−β m_i) / Σ_j t_j e^(−β m_j) = Σ_i n_i m_i / N`,
//!
//! its variance is eq. (11), `var β = −(1/N) · (Σ t e^(−βm))² / ((Σ t m e^(−βm))² − Σ t e^(−βm) ·
//! Σ t m² e^(−βm))`, and the rate of events at or above the lowest bin's lower edge is
//! `N · Σ e^(−β m_i) / Σ t_i e^(−β m_i)`, with standard error `rate / √N`.
//!
//! As in SeismoStats 1.0.1 (`estimate_b_weichert`), the sums run over the bins that hold events
//! (Weichert's groups of observed magnitudes); an empty bin between them adds nothing.

use std::path::Path;

use crate::catalog::MAGNITUDE_TOLERANCE;
use crate::period::Period;
use crate::seismicity::mc::{bin_center, bin_index, check_bin_width};
use crate::{Error, Result};

/// A completeness period: from `start` on (in the catalog's time unit, e.g. years), every event
/// at or above `mc` is recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompletenessPeriod {
    /// When the period starts.
    pub start: f64,
    /// Its completeness magnitude (a bin centre).
    pub mc: f64,
}

/// Weichert's estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Weichert {
    /// The b value.
    pub b: f64,
    /// Its standard error (eq. 11).
    pub b_std: f64,
    /// Events per time unit at or above the lowest used bin's lower edge.
    pub rate: f64,
    /// Its standard error, `rate / √N`.
    pub rate_std: f64,
    /// `log10` of the rate of events at or above magnitude 0: `log10 rate + b · edge`.
    pub a: f64,
    /// The lower edge of the lowest bin used (`Mc − Δ/2` of the lowest period with events).
    pub lowest_edge: f64,
    /// Events used (inside the completeness period of their magnitude).
    pub n_used: usize,
    /// Events below the lowest completeness magnitude, left out.
    pub n_below: usize,
    /// Events before the start of their magnitude's completeness period, left out.
    pub n_before: usize,
}

/// Weichert's estimate from event `times` and `magnitudes` (binned to `bin_width`), the
/// completeness `periods`, and the `end` of the catalog (each bin is observed from its period's
/// start to `end`).
///
/// Periods must be on the grid of `bin_width`, and a later period must have a lower Mc (the
/// catalog only gets more complete). An event belongs to the period of the highest Mc at or
/// below its magnitude, and is used when its time is at or after that period's start. With
/// integer years as times this is SeismoStats' `estimate_b_weichert` with the completeness
/// table `[[mc − Δ/2, start], …]` and `last_year = end`.
pub fn weichert(
    times: &[f64],
    magnitudes: &[f64],
    periods: &[CompletenessPeriod],
    end: f64,
    bin_width: f64,
) -> Result<Weichert> {
    check_bin_width(bin_width)?;
    if times.len() != magnitudes.len() {
        return Err(Error::Numerical(format!(
            "Weichert: {} times but {} magnitudes",
            times.len(),
            magnitudes.len()
        )));
    }
    let periods = check_periods(periods, end, bin_width)?;
    // Bin index → (events, observation time).
    let mut bins = std::collections::BTreeMap::<i64, (usize, f64)>::new();
    let (mut n_below, mut n_before) = (0, 0);
    for (i, (&t, &m)) in times.iter().zip(magnitudes).enumerate() {
        let k = bin_index(m, bin_width);
        if !t.is_finite()
            || !m.is_finite()
            || (m - bin_center(k, bin_width)).abs() > MAGNITUDE_TOLERANCE
        {
            return Err(Error::Numerical(format!(
                "Weichert: event {} (time {t}, magnitude {m}) needs a finite time and a \
                 magnitude binned to {bin_width}",
                i + 1
            )));
        }
        // The period of the highest Mc at or below m (periods are sorted by Mc).
        let Some(period) = periods.iter().rev().find(|p| p.0 <= k) else {
            n_below += 1;
            continue;
        };
        if t < period.1 {
            n_before += 1;
            continue;
        }
        let entry = bins.entry(k).or_insert((0, end - period.1));
        entry.0 += 1;
    }
    if bins.len() < 2 {
        return Err(Error::Numerical(format!(
            "Weichert needs events in at least two magnitude bins inside their completeness \
             periods; found {} bin(s) ({n_below} events below the lowest Mc, {n_before} before \
             their period's start)",
            bins.len()
        )));
    }
    let groups: Vec<(f64, f64, f64)> = bins
        .iter()
        .map(|(&k, &(n, t))| (bin_center(k, bin_width), n as f64, t))
        .collect();
    let n_used: f64 = groups.iter().map(|g| g.1).sum();
    let mean_m = groups.iter().map(|g| g.1 * g.0).sum::<f64>() / n_used;
    let reference = groups[0].0;
    // The weighted mean Σ t m e^(−βm) / Σ t e^(−βm) falls from the largest to the smallest bin
    // as β grows; eq. (10) sets it to the mean magnitude.
    let moments = |beta: f64| {
        let (mut s0, mut s1, mut s2, mut e0) = (0.0, 0.0, 0.0, 0.0);
        for &(m, _, t) in &groups {
            let w = (-beta * (m - reference)).exp();
            s0 += t * w;
            s1 += t * m * w;
            s2 += t * m * m * w;
            e0 += w;
        }
        (s0, s1, s2, e0)
    };
    let excess = |beta: f64| {
        let (s0, s1, _, _) = moments(beta);
        s1 / s0 - mean_m
    };
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while excess(lo) < 0.0 && lo > -1e3 {
        lo -= 1.0;
    }
    while excess(hi) > 0.0 && hi < 1e3 {
        hi *= 2.0;
    }
    if excess(lo) < 0.0 || excess(hi) > 0.0 {
        return Err(Error::Numerical(
            "Weichert: no b value balances eq. (10) for these events".into(),
        ));
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if excess(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let beta = 0.5 * (lo + hi);
    let (s0, s1, s2, e0) = moments(beta);
    // eq. (11); the common factor e^(β·reference) cancels.
    let var_beta = -(1.0 / n_used) * s0 * s0 / (s1 * s1 - s0 * s2);
    let rate = n_used * e0 / s0;
    let b = beta / std::f64::consts::LN_10;
    let lowest_edge = reference - bin_width / 2.0;
    Ok(Weichert {
        b,
        b_std: var_beta.sqrt() / std::f64::consts::LN_10,
        rate,
        rate_std: rate / n_used.sqrt(),
        a: rate.log10() + b * lowest_edge,
        lowest_edge,
        n_used: n_used as usize,
        n_below,
        n_before,
    })
}

/// Days in a year for rates per year: the Julian year.
pub const DAYS_PER_YEAR: f64 = 365.25;

/// Reads a completeness table: a CSV file with the header `start,mc`, one period per row, the
/// start a YYYY-MM-DD date inside `period`. Returns the periods with their start in years since
/// the period start (days / [`DAYS_PER_YEAR`]), the time axis of [`weichert`] when event times
/// are [`crate::catalog::Selection`] days divided by the same.
pub fn read_completeness_table(path: &Path, period: &Period) -> Result<Vec<CompletenessPeriod>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let parse_error = |line: usize, field: &str, message: String| Error::Parse {
        path: path.to_path_buf(),
        line: line as u64,
        field: field.into(),
        message,
    };
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .collect();
    if header != ["start", "mc"] {
        return Err(parse_error(
            1,
            "header",
            format!("expected `start,mc`, found `{}`", header.join(",")),
        ));
    }
    let mut periods = Vec::new();
    for (i, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let line_no = i + 2;
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != 2 {
            return Err(parse_error(
                line_no,
                "start",
                format!("expected two fields, found {}", fields.len()),
            ));
        }
        let date = crate::period::parse_date("start", fields[0])
            .map_err(|e| parse_error(line_no, "start", e.to_string()))?;
        let day = period.day_index(date).ok_or_else(|| {
            parse_error(
                line_no,
                "start",
                format!(
                    "{date} lies outside the period {period}; events before the period are not read"
                ),
            )
        })?;
        let mc: f64 = fields[1]
            .parse()
            .map_err(|e| parse_error(line_no, "mc", format!("`{}`: {e}", fields[1])))?;
        periods.push(CompletenessPeriod {
            start: day as f64 / DAYS_PER_YEAR,
            mc,
        });
    }
    Ok(periods)
}

/// The periods as (Mc bin, start), sorted by Mc; refuses a period off the grid, not finite,
/// starting at or after `end`, or one that is later than another but not less complete.
fn check_periods(periods: &[CompletenessPeriod], end: f64, width: f64) -> Result<Vec<(i64, f64)>> {
    crate::ensure_config!(
        !periods.is_empty(),
        "completeness",
        "needs at least one period (start, mc)"
    );
    let mut sorted = Vec::with_capacity(periods.len());
    for p in periods {
        let k = bin_index(p.mc, width);
        crate::ensure_config!(
            p.start.is_finite()
                && p.start < end
                && (p.mc - bin_center(k, width)).abs() <= MAGNITUDE_TOLERANCE,
            "completeness",
            "period (start {}, mc {}) needs a start before the end {end} and an Mc on the grid \
             of {width}",
            p.start,
            p.mc
        );
        sorted.push((k, p.start));
    }
    sorted.sort_by_key(|a| a.0);
    for w in sorted.windows(2) {
        crate::ensure_config!(
            w[1].0 > w[0].0 && w[1].1 < w[0].1,
            "completeness",
            "a later period must have a lower Mc: Mc {} from {} and Mc {} from {}",
            bin_center(w[0].0, width),
            w[0].1,
            bin_center(w[1].0, width),
            w[1].1
        );
    }
    Ok(sorted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_period_with_two_bins_has_a_closed_form() {
        // One period of 10 years and bins 3.0 (n₀) and 3.1 (n₁): eq. (10) reads
        // 3.0 + 0.1·e^(−0.1β)/(1 + e^(−0.1β)) = 3.0 + 0.1·n₁/N, so e^(−0.1β) = n₁/n₀ and
        // β = 10·ln(n₀/n₁). With n₀ = 30, n₁ = 10: β = 10 ln 3, and the rate at or above 2.95
        // is N/10 = 4 per year.
        let mut m = vec![3.0; 30];
        m.extend([3.1; 10]);
        let t = vec![5.0; 40];
        let p = [CompletenessPeriod {
            start: 0.0,
            mc: 3.0,
        }];
        let w = weichert(&t, &m, &p, 10.0, 0.1).unwrap();
        let beta = 10.0 * 3f64.ln();
        assert!(
            (w.b - beta / std::f64::consts::LN_10).abs() < 1e-10,
            "{w:?}"
        );
        assert!((w.rate - 4.0).abs() < 1e-10, "{w:?}");
        assert!((w.rate_std - 4.0 / 40f64.sqrt()).abs() < 1e-10, "{w:?}");
        // var β = −(1/N)·S0²/(S1² − S0·S2) = 1/(N·Var_w(m)), the weighted variance of m with
        // weights 3:1, 0.1²·(3/4)·(1/4).
        let var_beta: f64 = 1.0 / (40.0 * 0.01 * 0.75 * 0.25);
        assert!(
            (w.b_std - var_beta.sqrt() / std::f64::consts::LN_10).abs() < 1e-9,
            "{w:?}"
        );
    }

    fn one_period() -> [CompletenessPeriod; 1] {
        [CompletenessPeriod {
            start: 0.0,
            mc: 3.0,
        }]
    }

    #[test]
    fn times_and_magnitudes_of_different_lengths_are_refused() {
        let err = weichert(&[1.0], &[3.0, 3.1], &one_period(), 10.0, 0.1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("1 times but 2 magnitudes"), "{err}");
    }

    #[test]
    fn a_magnitude_off_the_grid_is_refused() {
        let err = weichert(&[1.0, 2.0], &[3.0, 3.15], &one_period(), 10.0, 0.1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("event 2 (time 2, magnitude 3.15)"), "{err}");
    }

    #[test]
    fn events_in_a_single_bin_are_refused() {
        let err = weichert(&[1.0, 2.0, 3.0], &[3.0, 3.0, 2.5], &one_period(), 10.0, 0.1)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("found 1 bin(s) (1 events below the lowest Mc"),
            "{err}"
        );
    }

    #[test]
    fn an_empty_completeness_table_is_refused() {
        let err = weichert(&[1.0], &[3.0], &[], 10.0, 0.1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs at least one period"), "{err}");
    }

    #[test]
    fn a_period_starting_at_the_end_is_refused() {
        let p = [CompletenessPeriod {
            start: 10.0,
            mc: 3.0,
        }];
        let err = weichert(&[1.0], &[3.0], &p, 10.0, 0.1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs a start before the end 10"), "{err}");
    }

    #[test]
    fn a_completeness_table_with_a_wrong_header_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv");
        std::fs::write(&path, "year,mc\n1950,4.5\n").unwrap();
        let period = Period::parse("1900-01-01", "2020-01-01").unwrap();
        let err = read_completeness_table(&path, &period)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("c.csv:1: field `header`: expected `start,mc`"),
            "{err}"
        );
    }

    #[test]
    fn a_completeness_row_without_two_fields_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv");
        std::fs::write(&path, "start,mc\n1950-01-01\n").unwrap();
        let period = Period::parse("1900-01-01", "2020-01-01").unwrap();
        let err = read_completeness_table(&path, &period)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("c.csv:2: field `start`: expected two fields"),
            "{err}"
        );
    }

    #[test]
    fn a_completeness_start_outside_the_period_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv");
        std::fs::write(&path, "start,mc\n1950-01-01,4.5\n1890-01-01,5.0\n").unwrap();
        let period = Period::parse("1900-01-01", "2020-01-01").unwrap();
        let err = read_completeness_table(&path, &period)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("c.csv:3: field `start`: 1890-01-01 lies outside"),
            "{err}"
        );
    }

    #[test]
    fn a_completeness_mc_that_is_not_a_number_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv");
        std::fs::write(&path, "start,mc\n1950-01-01,high\n").unwrap();
        let period = Period::parse("1900-01-01", "2020-01-01").unwrap();
        let err = read_completeness_table(&path, &period)
            .unwrap_err()
            .to_string();
        assert!(err.contains("c.csv:2: field `mc`: `high`"), "{err}");
    }

    #[test]
    fn the_table_gives_starts_in_julian_years_since_the_period_start() {
        // 1950-01-01 is 18262 days after 1900-01-01 (50 years, 12 of them leap: 1904..1948).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv");
        std::fs::write(&path, "start,mc\n1950-01-01,4.5\n").unwrap();
        let period = Period::parse("1900-01-01", "2020-01-01").unwrap();
        let p = read_completeness_table(&path, &period).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].start, 18262.0 / 365.25);
        assert_eq!(p[0].mc, 4.5);
    }

    #[test]
    fn completeness_periods_that_grow_less_complete_are_refused() {
        let p = [
            CompletenessPeriod {
                start: 1950.0,
                mc: 4.5,
            },
            CompletenessPeriod {
                start: 1980.0,
                mc: 5.0,
            },
        ];
        let err = weichert(&[1990.0], &[5.0], &p, 2020.0, 0.1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("a later period must have a lower Mc"), "{err}");
    }
}
