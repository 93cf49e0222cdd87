//! The second method (papers.md §B): geomagnetic-anomaly contour maps of a station network and
//! the event classes they are labelled with.
//!
//! A network's daily values ([`DailyField`], read by [`crate::io::geomag`] or simulated by
//! [`crate::synth::geomag`]) become a causal per-station anomaly index (`anomaly`), the index
//! of each day is interpolated onto a grid and drawn as a contour map (`contour`), and each map
//! day gets the class of the largest event ahead of it (`labels`).

pub mod anomaly;
pub mod contour;
pub mod labels;

use crate::period::Period;
use crate::{Error, Result};

/// A magnetometer station: its code and where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct GeomagStation {
    /// The station's code (IAGA code for an observatory, e.g. `BOU`).
    pub code: String,
    /// Geodetic latitude in degrees north.
    pub latitude: f64,
    /// Longitude in degrees east, in `[-180, 180)`.
    pub longitude: f64,
}

/// One value per station per day over a period (day-major), `NaN` where a station has no value
/// that day. The values are in nT (a component or the total intensity; see the source).
#[derive(Debug, Clone, PartialEq)]
pub struct DailyField {
    stations: Vec<GeomagStation>,
    period: Period,
    values: Vec<f64>,
}

impl DailyField {
    /// A field over `period` for `stations`, `values[day * n_stations + station]`.
    ///
    /// Refuses values whose length is not `n_days · n_stations`, a network without stations,
    /// and two stations with one code.
    pub fn new(stations: Vec<GeomagStation>, period: Period, values: Vec<f64>) -> Result<Self> {
        if stations.is_empty() {
            return Err(Error::Numerical(
                "a geomagnetic network needs at least one station".into(),
            ));
        }
        for (i, station) in stations.iter().enumerate() {
            if stations[..i].iter().any(|s| s.code == station.code) {
                return Err(Error::Numerical(format!(
                    "station `{}` is listed twice in the network",
                    station.code
                )));
            }
        }
        let expected = period.n_days() * stations.len();
        if values.len() != expected {
            return Err(Error::Numerical(format!(
                "a field of {} days x {} stations needs {expected} values, got {}",
                period.n_days(),
                stations.len(),
                values.len()
            )));
        }
        Ok(DailyField {
            stations,
            period,
            values,
        })
    }

    /// The stations, in column order.
    pub fn stations(&self) -> &[GeomagStation] {
        &self.stations
    }

    /// The period the rows cover (row `d` is day `d` of it).
    pub fn period(&self) -> &Period {
        &self.period
    }

    /// Days (rows).
    pub fn n_days(&self) -> usize {
        self.period.n_days()
    }

    /// Stations (columns).
    pub fn n_stations(&self) -> usize {
        self.stations.len()
    }

    /// The values of day `day`, one per station (`NaN` where missing). Panics past the period.
    pub fn day(&self, day: usize) -> &[f64] {
        let n = self.stations.len();
        &self.values[day * n..(day + 1) * n]
    }

    /// Every value, day-major.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// How many values are missing (`NaN`).
    pub fn n_missing(&self) -> usize {
        self.values.iter().filter(|v| v.is_nan()).count()
    }
}
