//! Daily station displacements, the input of the paper's images (§1.1):
//! `V(t) = r(t+1) − r(t−1)`, a centred two-day difference, in millimetres.

use jiff::civil::Date;

use crate::catalog::Region;
use crate::gnss::{Station, StationSeries, StationSet};
use crate::io::catalog::days_from_civil;
use crate::period::Period;
use crate::{Error, Result};

/// The channels of a displacement, in this order: north, east, up (mm).
pub const CHANNELS: [&str; 3] = ["N", "E", "U"];

/// Daily displacements of a network over a period: for day `t` and station `s`, the vector
/// `[N, E, U]` in mm, present only when the station was observed on both `t − 1` and `t + 1`.
///
/// Stored day-major (`t · n_stations + s`), so one day's values are contiguous. Absent values
/// are stored as zero and masked out; every stored value is finite.
#[derive(Debug, Clone, PartialEq)]
pub struct DisplacementField {
    period: Period,
    stations: Vec<Station>,
    values_mm: Vec<[f64; 3]>,
    present: Vec<bool>,
}

impl DisplacementField {
    /// A field from its parts: `values_mm` and `present` are day-major, `n_days · n_stations`
    /// long. Values where `present` is false are ignored.
    ///
    /// Fails if a length does not match or a present value is not finite.
    pub fn from_parts(
        period: Period,
        stations: Vec<Station>,
        mut values_mm: Vec<[f64; 3]>,
        present: Vec<bool>,
    ) -> Result<Self> {
        let n = period.n_days() * stations.len();
        if values_mm.len() != n || present.len() != n {
            return Err(Error::Numerical(format!(
                "displacement field: expected {} days x {} stations = {n} values and flags, got {} and {}",
                period.n_days(),
                stations.len(),
                values_mm.len(),
                present.len()
            )));
        }
        for (k, (v, &p)) in values_mm.iter_mut().zip(&present).enumerate() {
            if !p {
                *v = [0.0; 3];
            } else if v.iter().any(|x| !x.is_finite()) {
                let (day, s) = (k / stations.len(), k % stations.len());
                return Err(Error::Numerical(format!(
                    "displacement field: station {} has a non-finite displacement on {}",
                    stations[s].name,
                    period.date(day)
                )));
            }
        }
        Ok(DisplacementField {
            period,
            stations,
            values_mm,
            present,
        })
    }

    /// The period; day index 0 is its start.
    pub fn period(&self) -> &Period {
        &self.period
    }

    /// The number of days.
    pub fn n_days(&self) -> usize {
        self.period.n_days()
    }

    /// The stations, in column order.
    pub fn stations(&self) -> &[Station] {
        &self.stations
    }

    /// The number of stations.
    pub fn n_stations(&self) -> usize {
        self.stations.len()
    }

    /// Day `day`'s displacements (mm, `[N, E, U]`, zero where absent) and presence flags, one
    /// per station. Panics if `day >= n_days()`.
    pub fn day(&self, day: usize) -> (&[[f64; 3]], &[bool]) {
        let s = self.stations.len();
        let range = day * s..(day + 1) * s;
        (&self.values_mm[range.clone()], &self.present[range])
    }

    /// Station `station`'s displacement on day `day`, if present.
    pub fn get(&self, day: usize, station: usize) -> Option<[f64; 3]> {
        let k = day * self.stations.len() + station;
        (*self.present.get(k)?).then(|| self.values_mm[k])
    }

    /// The number of stations with a displacement on day `day`.
    pub fn n_present(&self, day: usize) -> usize {
        self.day(day).1.iter().filter(|&&p| p).count()
    }

    /// The same field restricted to the stations for which `keep` holds (order kept).
    pub fn retain_stations(self, keep: impl Fn(&Station) -> bool) -> Self {
        let kept: Vec<usize> = (0..self.stations.len())
            .filter(|&s| keep(&self.stations[s]))
            .collect();
        let n = self.stations.len();
        let mut values_mm = Vec::with_capacity(kept.len() * self.n_days());
        let mut present = Vec::with_capacity(kept.len() * self.n_days());
        for day in 0..self.n_days() {
            for &s in &kept {
                values_mm.push(self.values_mm[day * n + s]);
                present.push(self.present[day * n + s]);
            }
        }
        let stations = kept.iter().map(|&s| self.stations[s].clone()).collect();
        DisplacementField {
            period: self.period,
            stations,
            values_mm,
            present,
        }
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian), by the days-from-civil
/// formula, so that consecutive dates differ by exactly 1.
fn day_number(date: Date) -> i64 {
    days_from_civil(
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
    )
}

/// The daily displacements of every station of `set` over `period` (paper §1.1):
/// `V(t) = r(t+1) − r(t−1)` in mm, as `[N, E, U]` from the series' `[east, north, up]` in
/// metres. A station contributes on day `t` only if it was observed on both `t − 1` and
/// `t + 1` (which may lie just outside the period); its own position on `t` is not needed.
pub fn displacement_field(set: &StationSet, period: &Period) -> DisplacementField {
    build(set.series().iter().collect(), period)
}

/// [`displacement_field`] for the stations of `set` inside `region` (edges included) only,
/// as the paper uses "all stations in the selected region". Stations outside cost nothing.
pub fn displacement_field_in_region(
    set: &StationSet,
    period: &Period,
    region: &Region,
) -> DisplacementField {
    let inside = set
        .series()
        .iter()
        .filter(|s| region.contains(s.station().latitude, s.station().longitude))
        .collect();
    build(inside, period)
}

fn build(series: Vec<&StationSeries>, period: &Period) -> DisplacementField {
    let n_days = period.n_days();
    let n = series.len();
    let first = day_number(period.start());
    let mut values_mm = vec![[0.0; 3]; n_days * n];
    let mut present = vec![false; n_days * n];
    for (s, series) in series.iter().enumerate() {
        // Positions on days −1 ..= n_days relative to the period start.
        let mut window: Vec<Option<[f64; 3]>> = vec![None; n_days + 2];
        for (date, pos) in series.dates().iter().zip(series.positions()) {
            let slot = day_number(*date) - first + 1;
            if let Ok(slot) = usize::try_from(slot)
                && slot < window.len()
            {
                window[slot] = Some(*pos);
            }
        }
        for t in 0..n_days {
            // Day t sits in slot t + 1; its neighbours in slots t and t + 2.
            if let (Some(before), Some(after)) = (window[t], window[t + 2]) {
                let k = t * n + s;
                values_mm[k] = [
                    (after[1] - before[1]) * 1000.0,
                    (after[0] - before[0]) * 1000.0,
                    (after[2] - before[2]) * 1000.0,
                ];
                present[k] = true;
            }
        }
    }
    DisplacementField {
        period: *period,
        stations: series.iter().map(|s| s.station().clone()).collect(),
        values_mm,
        present,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn day_numbers_are_consecutive() {
        assert_eq!(day_number(date("1970-01-01")), 0);
        assert_eq!(day_number(date("1970-01-02")), 1);
        assert_eq!(day_number(date("1969-12-31")), -1);
        // 2000-03-01 is 11,017 days after the epoch (30 years of 365 days, 7 leap days,
        // plus January and February 2000: 31 + 29).
        assert_eq!(day_number(date("2000-03-01")), 30 * 365 + 7 + 31 + 29);
        let mut d = date("2011-12-25");
        for _ in 0..1000 {
            let next = d.tomorrow().unwrap();
            assert_eq!(day_number(next) - day_number(d), 1);
            d = next;
        }
    }

    #[test]
    fn centred_difference_in_millimetres_with_gaps() {
        let station = Station {
            name: "AAAA".into(),
            latitude: 35.0,
            longitude: 140.0,
            height_m: 0.0,
        };
        // Observed on Dec 31, Jan 1, Jan 2, Jan 4 (Jan 3 missing).
        let samples = vec![
            (date("2019-12-31"), [0.001, 0.002, 0.003]),
            (date("2020-01-01"), [9.0, 9.0, 9.0]),
            (date("2020-01-02"), [0.004, 0.010, -0.001]),
            (date("2020-01-04"), [0.005, 0.011, 0.000]),
        ];
        let set = StationSet::new(vec![StationSeries::new(station, samples).unwrap()]).unwrap();
        let period = Period::parse("2020-01-01", "2020-01-05").unwrap();
        let field = displacement_field(&set, &period);
        // Jan 1: r(Jan 2) − r(Dec 31), [N, E, U] = [0.008, 0.003, −0.004] m.
        let v = field.get(0, 0).unwrap();
        for (got, want) in v.iter().zip([8.0, 3.0, -4.0]) {
            assert!((got - want).abs() < 1e-9, "{v:?}");
        }
        // Jan 2 needs Jan 1 and Jan 3: Jan 3 is missing.
        assert_eq!(field.get(1, 0), None);
        // Jan 3: r(Jan 4) − r(Jan 2) = [0.001, 0.001, 0.001] m.
        let v = field.get(2, 0).unwrap();
        assert!(v.iter().all(|x| (x - 1.0).abs() < 1e-9), "{v:?}");
        // Jan 4 needs Jan 5, which is unobserved.
        assert_eq!(field.get(3, 0), None);
        assert_eq!(field.n_present(0), 1);
        assert_eq!(field.n_present(1), 0);
    }
}
