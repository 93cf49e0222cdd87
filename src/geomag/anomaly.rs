//! The causal per-station anomaly index of the second method (papers.md §B: "daily per-station
//! magnetic anomaly values"; the paper does not say how they were made, so quakelab states its
//! own rule here).
//!
//! For station s on day d, with the trailing window `W(d) = {d − B, …, d − 1}` of
//! [`AnomalyParams::baseline_days`] B days strictly before d:
//!
//! 1. the deviation `x(d, s) = v(d, s) − c(v(W(d), s))`, where c is the median or the mean
//!    ([`Centre`]) of the station's finite values in the window;
//! 2. with [`AnomalyParams::remove_common_mode`], the common mode `m(d) = c(x(d, ·))` (the same
//!    statistic over the stations with a finite deviation that day) is subtracted:
//!    `y(d, s) = x(d, s) − m(d)`. This removes what the whole network shares, chiefly
//!    magnetic storms and the regional secular variation;
//! 3. with [`AnomalyParams::standardise`], `y(d, s)` is divided by the station's trailing robust
//!    scale `1.4826 · MAD(v(W(d), s))` (the median absolute deviation from the window's median,
//!    scaled to a normal standard deviation), so the index is in units of the station's own
//!    day-to-day spread.
//!
//! Only days up to d enter the index of day d: the window lies strictly before it and the common
//! mode uses day d's values of the other stations. The index is `NaN` (and counted in the
//! [`AnomalyReport`]) where the day's value is missing, where the window does not fit in the
//! period (d < B) or holds fewer than [`AnomalyParams::min_history_days`] finite values, where a
//! common mode is asked for but fewer than two stations have a deviation that day (with one
//! station it would remove the whole signal), and where a standardising scale is zero.

use serde::{Deserialize, Serialize};

use crate::geomag::DailyField;
use crate::{Error, Result, ensure_config};

/// The factor that turns a median absolute deviation into a normal standard deviation,
/// `1 / Φ⁻¹(3/4)`.
pub const MAD_TO_SD: f64 = 1.4826;

/// The statistic of the baseline and of the common mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Centre {
    /// The median (the mean of the two middle values for an even count): robust to storms.
    #[default]
    Median,
    /// The arithmetic mean.
    Mean,
}

/// The anomaly settings as written; [`AnomalyParams::check`] validates them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnomalyParams {
    /// The trailing window B in days (27, one solar rotation, by default).
    pub baseline_days: usize,
    /// The fewest finite values the window must hold for a baseline (by default 14, about
    /// half of it).
    pub min_history_days: usize,
    /// The statistic of the baseline and the common mode.
    pub centre: Centre,
    /// Subtract the network's common mode of each day.
    pub remove_common_mode: bool,
    /// Divide by the station's trailing robust scale.
    pub standardise: bool,
}

impl Default for AnomalyParams {
    fn default() -> Self {
        AnomalyParams {
            baseline_days: 27,
            min_history_days: 14,
            centre: Centre::Median,
            remove_common_mode: true,
            standardise: false,
        }
    }
}

impl AnomalyParams {
    /// Validates the settings, naming the key under `geomag.anomaly.*`: a window of at least
    /// one day, `min_history_days` from 1 to the window, and at least 2 with `standardise` (the
    /// spread of one value is zero).
    pub fn check(self) -> Result<ValidAnomalyParams> {
        ensure_config!(
            self.baseline_days >= 1,
            "geomag.anomaly.baseline_days",
            "must be at least 1 day, got 0"
        );
        ensure_config!(
            (1..=self.baseline_days).contains(&self.min_history_days),
            "geomag.anomaly.min_history_days",
            "must be from 1 to geomag.anomaly.baseline_days ({}), got {}",
            self.baseline_days,
            self.min_history_days
        );
        ensure_config!(
            !self.standardise || self.min_history_days >= 2,
            "geomag.anomaly.min_history_days",
            "must be at least 2 with geomag.anomaly.standardise (the spread of one value is \
             zero), got {}",
            self.min_history_days
        );
        Ok(ValidAnomalyParams(self))
    }
}

/// Settings that passed [`AnomalyParams::check`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ValidAnomalyParams(AnomalyParams);

impl ValidAnomalyParams {
    /// The checked settings.
    pub fn params(&self) -> &AnomalyParams {
        &self.0
    }
}

/// Why index values are missing, in station-days. Each missing value is counted once, under the
/// first reason that applies in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct AnomalyReport {
    /// The day's own value is missing.
    pub missing_value: usize,
    /// The window does not fit in the period or holds too few finite values.
    pub short_history: usize,
    /// Fewer than two stations had a deviation that day, so no common mode.
    pub no_common_mode: usize,
    /// The station's trailing scale is zero (a constant window), so no standardised value.
    pub zero_scale: usize,
}

impl AnomalyReport {
    /// All missing station-days.
    pub fn total(&self) -> usize {
        self.missing_value + self.short_history + self.no_common_mode + self.zero_scale
    }
}

/// The anomaly index of `field` (module docs): a field over the same stations and period, in nT
/// (or in units of the trailing scale with `standardise`), `NaN` where undefined.
///
/// Refuses a field with no more days than the window (no day could have a baseline).
pub fn anomaly_index(
    field: &DailyField,
    params: &ValidAnomalyParams,
) -> Result<(DailyField, AnomalyReport)> {
    let p = params.params();
    let (n_days, n_stations) = (field.n_days(), field.n_stations());
    if n_days <= p.baseline_days {
        return Err(Error::Numerical(format!(
            "the anomaly index needs more days than its baseline window of {} days \
             (geomag.anomaly.baseline_days), but the field covers {n_days} days ({})",
            p.baseline_days,
            field.period()
        )));
    }
    let mut report = AnomalyReport::default();
    let mut index = vec![f64::NAN; n_days * n_stations];
    let mut window = Vec::with_capacity(p.baseline_days);
    for d in 0..n_days {
        let mut deviations = vec![f64::NAN; n_stations];
        let mut scales = vec![f64::NAN; n_stations];
        for s in 0..n_stations {
            let value = field.day(d)[s];
            if !value.is_finite() {
                report.missing_value += 1;
                continue;
            }
            if d < p.baseline_days {
                report.short_history += 1;
                continue;
            }
            window.clear();
            window.extend(
                (d - p.baseline_days..d)
                    .map(|w| field.day(w)[s])
                    .filter(|v| v.is_finite()),
            );
            if window.len() < p.min_history_days {
                report.short_history += 1;
                continue;
            }
            deviations[s] = value - centre(p.centre, &mut window);
            if p.standardise {
                let median = centre(Centre::Median, &mut window);
                for v in window.iter_mut() {
                    *v = (*v - median).abs();
                }
                scales[s] = MAD_TO_SD * centre(Centre::Median, &mut window);
            }
        }
        let common = if p.remove_common_mode {
            let mut finite: Vec<f64> = deviations
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            if finite.len() < 2 {
                report.no_common_mode += finite.len();
                continue;
            }
            centre(p.centre, &mut finite)
        } else {
            0.0
        };
        for s in 0..n_stations {
            if !deviations[s].is_finite() {
                continue;
            }
            let y = deviations[s] - common;
            index[d * n_stations + s] = if p.standardise {
                if scales[s] > 0.0 {
                    y / scales[s]
                } else {
                    report.zero_scale += 1;
                    f64::NAN
                }
            } else {
                y
            };
        }
    }
    let index = DailyField::new(field.stations().to_vec(), *field.period(), index)?;
    Ok((index, report))
}

/// The median or mean of finite, non-empty `values` (reordered by the median).
fn centre(kind: Centre, values: &mut [f64]) -> f64 {
    match kind {
        Centre::Mean => values.iter().sum::<f64>() / values.len() as f64,
        Centre::Median => {
            values.sort_by(f64::total_cmp);
            let n = values.len();
            if n % 2 == 1 {
                values[n / 2]
            } else {
                0.5 * (values[n / 2 - 1] + values[n / 2])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geomag::GeomagStation;
    use crate::period::Period;

    fn field(days: usize, stations: usize, values: Vec<f64>) -> DailyField {
        let period = Period::new(
            "2022-01-01".parse().unwrap(),
            "2022-01-01"
                .parse::<jiff::civil::Date>()
                .unwrap()
                .checked_add(jiff::Span::new().days(days as i64))
                .unwrap(),
        )
        .unwrap();
        let stations = (0..stations)
            .map(|i| GeomagStation {
                code: format!("S{i}"),
                latitude: 28.0 + i as f64 * 0.1,
                longitude: 102.0,
            })
            .collect();
        DailyField::new(stations, period, values).unwrap()
    }

    /// The 3-station, 6-day field of the hand-worked tests (day-major).
    fn three_stations() -> DailyField {
        let s1 = [10.0, 12.0, 14.0, 20.0, 16.0, 18.0];
        let s2 = [5.0, 5.0, 7.0, 9.0, 8.0, 6.0];
        let s3 = [0.0, 2.0, 1.0, 3.0, 5.0, f64::NAN];
        let values = (0..6).flat_map(|d| [s1[d], s2[d], s3[d]]).collect();
        field(6, 3, values)
    }

    fn assert_index(got: &DailyField, expected: &[f64]) {
        for (i, (g, e)) in got.values().iter().zip(expected).enumerate() {
            assert!(
                (g.is_nan() && e.is_nan()) || (g - e).abs() < 1e-12,
                "value {i} (day {}, station {}): got {g}, expected {e}",
                i / got.n_stations(),
                i % got.n_stations()
            );
        }
    }

    #[test]
    fn median_baseline_and_common_mode_by_hand() {
        let params = AnomalyParams {
            baseline_days: 2,
            min_history_days: 2,
            centre: Centre::Median,
            remove_common_mode: true,
            standardise: false,
        }
        .check()
        .unwrap();
        let (index, report) = anomaly_index(&three_stations(), &params).unwrap();
        let nan = f64::NAN;
        // Day 2: baselines 11, 5, 1 → deviations 3, 2, 0; common mode 2 → 1, 0, −2.
        // Day 3: baselines 13, 6, 1.5 → 7, 3, 1.5; common mode 3 → 4, 0, −1.5.
        // Day 4: baselines 17, 8, 2 → −1, 0, 3; common mode 0 → −1, 0, 3.
        // Day 5: baselines 18, 8.5, – → 0, −2.5, NaN; common mode −1.25 → 1.25, −1.25, NaN.
        #[rustfmt::skip]
        let expected = [
            nan, nan, nan,
            nan, nan, nan,
            1.0, 0.0, -2.0,
            4.0, 0.0, -1.5,
            -1.0, 0.0, 3.0,
            1.25, -1.25, nan,
        ];
        assert_index(&index, &expected);
        assert_eq!(
            report,
            AnomalyReport {
                missing_value: 1,
                short_history: 6,
                no_common_mode: 0,
                zero_scale: 0,
            }
        );
    }

    #[test]
    fn mean_baseline_without_common_mode_by_hand() {
        let params = AnomalyParams {
            baseline_days: 3,
            min_history_days: 2,
            centre: Centre::Mean,
            remove_common_mode: false,
            standardise: false,
        }
        .check()
        .unwrap();
        let (index, _) = anomaly_index(&three_stations(), &params).unwrap();
        let nan = f64::NAN;
        // Day 3: means 12, 17/3, 1 → 8, 9 − 17/3, 2.
        // Day 4: means 46/3, 7, 2 → 16 − 46/3, 1, 3.
        // Day 5: means 50/3, 8, 3 → 18 − 50/3, −2, NaN.
        #[rustfmt::skip]
        let expected = [
            nan, nan, nan,
            nan, nan, nan,
            nan, nan, nan,
            8.0, 9.0 - 17.0 / 3.0, 2.0,
            16.0 - 46.0 / 3.0, 1.0, 3.0,
            18.0 - 50.0 / 3.0, -2.0, nan,
        ];
        assert_index(&index, &expected);
    }

    #[test]
    fn standardised_index_by_hand() {
        let params = AnomalyParams {
            baseline_days: 3,
            min_history_days: 3,
            centre: Centre::Median,
            remove_common_mode: false,
            standardise: true,
        }
        .check()
        .unwrap();
        let (index, report) = anomaly_index(&three_stations(), &params).unwrap();
        // Day 3, S1: window 10, 12, 14: median 12, MAD median(2, 0, 2) = 2 → 8 / (1.4826·2).
        let s1 = index.day(3)[0];
        assert!((s1 - 8.0 / (MAD_TO_SD * 2.0)).abs() < 1e-12, "{s1}");
        // Day 3, S2: window 5, 5, 7: median 5, MAD median(0, 0, 2) = 0 → no scale.
        assert!(index.day(3)[1].is_nan());
        // Day 5, S1: window 20, 16, 14 → median 16, MAD median(4, 0, 2) = 2 → 2 / 2.9652.
        assert!((index.day(5)[0] - 2.0 / (MAD_TO_SD * 2.0)).abs() < 1e-12);
        // S2 on day 3 (5, 5, 7) and on day 4 (5, 7, 9: MAD 2, fine), day 5 (7, 9, 8: MAD 1).
        assert_eq!(report.zero_scale, 1);
    }

    #[test]
    fn a_change_on_a_later_day_never_changes_an_earlier_index() {
        let (days, stations) = (40, 4);
        let values: Vec<f64> = (0..days * stations)
            .map(|i| ((i * 7919) % 101) as f64 + if i % 13 == 0 { f64::NAN } else { 0.0 })
            .collect();
        let params = AnomalyParams {
            baseline_days: 5,
            min_history_days: 3,
            ..AnomalyParams::default()
        }
        .check()
        .unwrap();
        let (before, _) = anomaly_index(&field(days, stations, values.clone()), &params).unwrap();
        for d in 10..days - 1 {
            let mut changed = values.clone();
            for s in 0..stations {
                changed[(d + 1) * stations + s] += 1000.0 * (s as f64 + 1.0);
            }
            let (after, _) = anomaly_index(&field(days, stations, changed), &params).unwrap();
            let n = (d + 1) * stations;
            for (a, b) in before.values()[..n].iter().zip(&after.values()[..n]) {
                assert!(a.to_bits() == b.to_bits(), "day ≤ {d} changed: {a} vs {b}");
            }
            assert_ne!(
                format!("{:?}", &before.values()[n..n + stations]),
                format!("{:?}", &after.values()[n..n + stations])
            );
        }
    }

    #[test]
    fn a_baseline_of_zero_days_is_refused() {
        let p = AnomalyParams {
            baseline_days: 0,
            ..AnomalyParams::default()
        };
        let err = p.check().unwrap_err().to_string();
        assert!(err.contains("geomag.anomaly.baseline_days"), "{err}");
    }

    #[test]
    fn a_minimum_history_beyond_the_window_is_refused() {
        let p = AnomalyParams {
            baseline_days: 5,
            min_history_days: 6,
            ..AnomalyParams::default()
        };
        let err = p.check().unwrap_err().to_string();
        assert!(err.contains("geomag.anomaly.min_history_days"), "{err}");
    }

    #[test]
    fn standardising_on_a_history_of_one_day_is_refused() {
        let p = AnomalyParams {
            baseline_days: 5,
            min_history_days: 1,
            standardise: true,
            ..AnomalyParams::default()
        };
        let err = p.check().unwrap_err().to_string();
        assert!(err.contains("standardise"), "{err}");
    }

    #[test]
    fn a_field_no_longer_than_the_baseline_is_refused() {
        let p = AnomalyParams {
            baseline_days: 6,
            min_history_days: 2,
            ..AnomalyParams::default()
        }
        .check()
        .unwrap();
        let err = anomaly_index(&three_stations(), &p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("covers 6 days"), "{err}");
    }
}
