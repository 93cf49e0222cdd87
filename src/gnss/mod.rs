//! GNSS station series and the paper's displacement images (§1.1).
//!
//! Readers of the real formats live in [`crate::io`]; the synthetic network in
//! [`crate::synth`] writes those same formats. This module holds the domain types: stations,
//! their daily position series, and the sets of them that make a network.

use jiff::civil::Date;

pub mod displacement;
pub mod grid;
pub mod gridding;
pub mod stack;

use crate::{Error, Result};

/// A GNSS station.
#[derive(Debug, Clone, PartialEq)]
pub struct Station {
    /// Four-character station code (NGL's naming), e.g. `J188`.
    pub name: String,
    /// Latitude in degrees north.
    pub latitude: f64,
    /// Longitude in degrees east, in `[-180, 180)`.
    pub longitude: f64,
    /// Ellipsoidal height in metres.
    pub height_m: f64,
}

/// One station's daily positions in a local east/north/up frame, in metres relative to a fixed
/// origin of the source's choosing (only differences between days are ever used).
///
/// Dates are strictly increasing and the three components have one value per date; the
/// constructor enforces both, so no other code needs to check.
#[derive(Debug, Clone, PartialEq)]
pub struct StationSeries {
    station: Station,
    dates: Vec<Date>,
    enu_m: Vec<[f64; 3]>,
}

impl StationSeries {
    /// A series from `(date, [east, north, up])` samples in metres, in any order.
    ///
    /// Fails if two samples share a date (the caller must decide which to keep) or a value is
    /// not finite.
    pub fn new(station: Station, mut samples: Vec<(Date, [f64; 3])>) -> Result<Self> {
        samples.sort_by_key(|(d, _)| *d);
        if let Some(w) = samples.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(Error::Numerical(format!(
                "station {}: two positions for {}",
                station.name, w[0].0
            )));
        }
        if let Some((d, _)) = samples
            .iter()
            .find(|(_, v)| v.iter().any(|x| !x.is_finite()))
        {
            return Err(Error::Numerical(format!(
                "station {}: non-finite position on {d}",
                station.name
            )));
        }
        let (dates, enu_m) = samples.into_iter().unzip();
        Ok(StationSeries {
            station,
            dates,
            enu_m,
        })
    }

    /// The station.
    pub fn station(&self) -> &Station {
        &self.station
    }

    /// The observation dates, strictly increasing.
    pub fn dates(&self) -> &[Date] {
        &self.dates
    }

    /// `[east, north, up]` in metres, one per date.
    pub fn positions(&self) -> &[[f64; 3]] {
        &self.enu_m
    }

    /// The position on `date`, if observed.
    pub fn position_on(&self, date: Date) -> Option<[f64; 3]> {
        self.dates.binary_search(&date).ok().map(|i| self.enu_m[i])
    }

    /// The number of observed days.
    pub fn len(&self) -> usize {
        self.dates.len()
    }

    /// Whether the series has no observation.
    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }
}

/// A network: one series per station, station names unique, kept in name order so every run
/// lays stations out the same way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StationSet {
    series: Vec<StationSeries>,
}

impl StationSet {
    /// A set from series in any order; fails if a station name appears twice.
    pub fn new(mut series: Vec<StationSeries>) -> Result<Self> {
        series.sort_by(|a, b| a.station.name.cmp(&b.station.name));
        if let Some(w) = series
            .windows(2)
            .find(|w| w[0].station.name == w[1].station.name)
        {
            return Err(Error::Numerical(format!(
                "station {} appears twice in the set",
                w[0].station.name
            )));
        }
        Ok(StationSet { series })
    }

    /// The series, in station-name order.
    pub fn series(&self) -> &[StationSeries] {
        &self.series
    }

    /// The number of stations.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether the set has no station.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn station(name: &str) -> Station {
        Station {
            name: name.into(),
            latitude: 35.0,
            longitude: 140.0,
            height_m: 10.0,
        }
    }

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn series_sorts_and_looks_up_by_date() {
        let s = StationSeries::new(
            station("AAAA"),
            vec![
                (date("2020-01-03"), [3.0, 0.0, 0.0]),
                (date("2020-01-01"), [1.0, 0.0, 0.0]),
            ],
        )
        .unwrap();
        assert_eq!(s.dates(), [date("2020-01-01"), date("2020-01-03")]);
        assert_eq!(s.position_on(date("2020-01-03")), Some([3.0, 0.0, 0.0]));
        assert_eq!(s.position_on(date("2020-01-02")), None);
    }

    #[test]
    fn duplicate_dates_and_stations_are_refused() {
        let twice = vec![
            (date("2020-01-01"), [1.0, 0.0, 0.0]),
            (date("2020-01-01"), [2.0, 0.0, 0.0]),
        ];
        assert!(StationSeries::new(station("AAAA"), twice).is_err());
        let one = || StationSeries::new(station("AAAA"), vec![]).unwrap();
        assert!(StationSet::new(vec![one(), one()]).is_err());
    }
}
