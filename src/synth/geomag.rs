//! A synthetic geomagnetic network (papers.md §B): daily total-intensity values at 25 stations
//! around 28.10N 102.16E, with a known background and planted local anomalies before the
//! catalog's events.
//!
//! # The model
//!
//! Station `s` on day `d` (day index from the period start) has the daily mean total intensity,
//! in nT,
//!
//! ```text
//! F(d, s) = B_s + v_s (d + 1/2) / 365.25        level and secular drift
//!         + c(d)                                 day-to-day variability of the daily mean, common
//!         − Σ_k A_k e^(−(d − d_k) / τ) [d ≥ d_k] storms, common to all stations
//!         + n(d, s)                              station noise
//!         + Σ_e a_e(s) [d in the lead window of e]   planted anomalies
//! ```
//!
//! - `B_s = base_nt + latitude_gradient_nt_per_degree (lat_s − lat_centre) + N(0, station_offset_nt²)`
//!   and `v_s = drift_nt_per_year + N(0, drift_spread_nt_per_year²)`. The level is roughly the
//!   main field's total intensity near 28N 102E; it and the drift are not calibrated (one
//!   observatory 12° further north says nothing about them), and no downstream stage depends on
//!   them, since the anomaly index works on deviations from a trailing baseline.
//! - `c(d) ~ N(0, day_to_day_nt²)`, independent from day to day: the daily mean averages the
//!   diurnal (Sq) variation out, and what is left moves the whole network together.
//! - Storms start as a Poisson process of `storm_rate_per_year`; storm `k` starts on day `d_k`
//!   with a drop `A_k ~ Exp(mean storm_amplitude_nt)` (the ring current lowers the field), then
//!   recovers with time constant `storm_recovery_days`. Every station moves by the same amount.
//! - `n(d, s) ~ N(0, noise_nt²)`, independent.
//! - For each event with `M > min_magnitude` whose epicentre is within `radius_km` of the
//!   centre, a plateau of `a_e(s) = strength · amplitude_nt · 10^(magnitude_gain (M − 4)) ·
//!   e^(−r_s / decay_km)` nT at station `s` (`r_s` its great-circle distance to the epicentre)
//!   over the `L` days before the event's day (days `d_e − L ..= d_e − 1`, `L` uniform in
//!   `lead_days`). The stations nearest the epicentre see the largest anomaly, so a map of the
//!   network's deviations slopes up toward it (with `decay_km = 100`, the near edge of the
//!   118 km wide network sees about three times the far edge's anomaly). One magnitude unit
//!   multiplies the anomaly by `10^magnitude_gain` (3.2 with the default 0.5), so at a given
//!   distance an M 4.5 event's anomaly is 3.2 times an M 3.5 event's. Anomalies of
//!   overlapping windows add up. With `strength = 0` nothing is planted: that is the `null`
//!   scenario.
//!
//! # Calibration
//!
//! [`BOU_DAY_TO_DAY_NT`] and [`BOU_STORM_DROP_NT`] come from the seven USGS Boulder (BOU)
//! minute files of 2014-11-01 to 2014-11-07 (see their documentation for the computation); the
//! integration test `geomag_synth::the_background_constants_match_the_boulder_files` recomputes
//! both from the files (when the real data is present) and checks them.
//!
//! # Randomness
//!
//! Everything derives from the seed through named streams (`crate::rng`): the layout from
//! `synth.geomag.layout`, the station levels, drift, daily variability and noise from
//! `synth.geomag.background`, the storms from `synth.geomag.storms`, and the lead times of the
//! anomalies from `synth.geomag.anomaly`. The background never depends on the anomalies: the
//! field of a planted run minus its anomalies is, bit for bit, the field of the `null` run with
//! the same seed.

use std::fmt;
use std::ops::Range;

use rand::Rng;
use rand_distr::{Distribution, Exp, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::catalog::{Event, at_or_above};
use crate::geo::{KM_PER_DEGREE, haversine_km, normalize_longitude};
use crate::geomag::{DailyField, GeomagStation};
use crate::period::{MAX_DAYS, Period};
use crate::{Error, Result, ensure_config, rng};

/// Days per year in the drift and storm rates (Julian year).
const DAYS_PER_YEAR: f64 = 365.25;

/// The magnitude at which an anomaly has `amplitude_nt` (times strength and distance decay).
pub const REFERENCE_MAGNITUDE: f64 = 4.0;

/// How far a station may move from the centre of its grid cell, as a fraction of the cell.
const LAYOUT_JITTER: f64 = 0.35;

/// Day-to-day standard deviation of the daily mean total intensity at Boulder (BOU), 3.2 nT.
///
/// From the seven daily means of `F` in the USGS minute files `bou20141101vmin.min` to
/// `bou20141107vmin.min` (52394.47, 52393.92, 52391.23, 52382.53, 52387.74, 52385.89,
/// 52386.22 nT): the sample standard deviation of the six day-to-day changes is 4.53 nT, and
/// divided by √2 (the change of two independent days has twice the variance) 3.20 nT.
pub const BOU_DAY_TO_DAY_NT: f64 = 3.2;

/// The storm drop of the daily mean total intensity at Boulder (BOU), 11.9 nT.
///
/// From the same seven daily means as [`BOU_DAY_TO_DAY_NT`]: the largest drop below the running
/// maximum (the disturbance of 2014-11-04, 52394.47 − 52382.53 nT).
pub const BOU_STORM_DROP_NT: f64 = 11.9;

/// The `[geomag]` section of a scenario: the synthetic network and its planted anomalies.
///
/// [`Default`] is the paper's network (25 stations over about 14,000 km² around 28.10N
/// 102.16E, events within 400 km with `M > 3`) with anomalies of strength 1;
/// [`GeomagScenario::null`] is the same without anomalies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeomagScenario {
    /// The network's centre, `(latitude, longitude)` in degrees.
    pub centre: (f64, f64),
    /// Stations, on a jittered square grid.
    pub n_stations: usize,
    /// The area the stations cover, km² (a square of this area around the centre).
    pub area_km2: f64,
    /// Events within this great-circle distance of the centre get an anomaly, km.
    pub radius_km: f64,
    /// Events with a magnitude above this get an anomaly.
    pub min_magnitude: f64,
    /// The anomaly strength knob: 0 plants nothing (the `null` scenario), 1 the default.
    pub strength: f64,
    /// The anomaly at strength 1 of an `M = 4` event at zero distance, nT.
    pub amplitude_nt: f64,
    /// `log10` of the anomaly's growth per magnitude unit.
    pub magnitude_gain: f64,
    /// The e-folding distance of the anomaly from the epicentre, km.
    pub decay_km: f64,
    /// The anomaly lasts a uniform whole number of days in `[min, max]` before the event's day.
    pub lead_days: (usize, usize),
    /// The network's mean level of total intensity, nT.
    pub base_nt: f64,
    /// The level's north-south gradient, nT per degree of latitude.
    pub latitude_gradient_nt_per_degree: f64,
    /// Standard deviation of the stations' individual levels about the gradient, nT.
    pub station_offset_nt: f64,
    /// The mean secular drift, nT per year.
    pub drift_nt_per_year: f64,
    /// Standard deviation of the stations' drifts about the mean, nT per year.
    pub drift_spread_nt_per_year: f64,
    /// Standard deviation of the common day-to-day variability of the daily mean, nT.
    pub day_to_day_nt: f64,
    /// Standard deviation of each station's independent noise, nT.
    pub noise_nt: f64,
    /// Storms per year.
    pub storm_rate_per_year: f64,
    /// The mean drop of the daily mean at a storm's start, nT.
    pub storm_amplitude_nt: f64,
    /// The storm's recovery time constant, days.
    pub storm_recovery_days: f64,
}

impl Default for GeomagScenario {
    fn default() -> Self {
        GeomagScenario {
            centre: (28.10, 102.16),
            n_stations: 25,
            area_km2: 14_000.0,
            radius_km: 400.0,
            min_magnitude: 3.0,
            strength: 1.0,
            amplitude_nt: 10.0,
            magnitude_gain: 0.5,
            decay_km: 100.0,
            lead_days: (3, 7),
            base_nt: 49_500.0,
            latitude_gradient_nt_per_degree: 150.0,
            station_offset_nt: 20.0,
            drift_nt_per_year: 30.0,
            drift_spread_nt_per_year: 3.0,
            day_to_day_nt: BOU_DAY_TO_DAY_NT,
            noise_nt: 0.5,
            storm_rate_per_year: 15.0,
            storm_amplitude_nt: BOU_STORM_DROP_NT,
            storm_recovery_days: 2.0,
        }
    }
}

impl GeomagScenario {
    /// The paper's network with no planted anomaly (`strength = 0`).
    pub fn null() -> Self {
        GeomagScenario {
            strength: 0.0,
            ..GeomagScenario::default()
        }
    }

    /// Checks every value; errors name the key (`geomag.radius_km`, ...).
    pub fn check(&self) -> Result<()> {
        let (lat, lon) = self.centre;
        ensure_config!(
            (-90.0..=90.0).contains(&lat) && (-180.0..180.0).contains(&lon),
            "geomag.centre",
            "must be (latitude in [-90, 90], longitude in [-180, 180)), got ({lat}, {lon})"
        );
        ensure_config!(
            (1..=999).contains(&self.n_stations),
            "geomag.n_stations",
            "must be 1 to 999, got {}",
            self.n_stations
        );
        let positive = [
            ("geomag.area_km2", self.area_km2),
            ("geomag.radius_km", self.radius_km),
            ("geomag.decay_km", self.decay_km),
            ("geomag.storm_recovery_days", self.storm_recovery_days),
        ];
        for (key, value) in positive {
            ensure_config!(
                value.is_finite() && value > 0.0,
                key,
                "must be positive, got {value}"
            );
        }
        let non_negative = [
            ("geomag.strength", self.strength),
            ("geomag.amplitude_nt", self.amplitude_nt),
            ("geomag.magnitude_gain", self.magnitude_gain),
            ("geomag.station_offset_nt", self.station_offset_nt),
            (
                "geomag.drift_spread_nt_per_year",
                self.drift_spread_nt_per_year,
            ),
            ("geomag.day_to_day_nt", self.day_to_day_nt),
            ("geomag.noise_nt", self.noise_nt),
            ("geomag.storm_rate_per_year", self.storm_rate_per_year),
            ("geomag.storm_amplitude_nt", self.storm_amplitude_nt),
        ];
        for (key, value) in non_negative {
            ensure_config!(
                value.is_finite() && value >= 0.0,
                key,
                "must be a finite number >= 0, got {value}"
            );
        }
        let finite = [
            ("geomag.min_magnitude", self.min_magnitude),
            ("geomag.base_nt", self.base_nt),
            (
                "geomag.latitude_gradient_nt_per_degree",
                self.latitude_gradient_nt_per_degree,
            ),
            ("geomag.drift_nt_per_year", self.drift_nt_per_year),
        ];
        for (key, value) in finite {
            ensure_config!(
                value.is_finite(),
                key,
                "must be a finite number, got {value}"
            );
        }
        let (lo, hi) = self.lead_days;
        ensure_config!(
            lo >= 1 && lo <= hi,
            "geomag.lead_days",
            "must be (min, max) days with 1 <= min <= max, got ({lo}, {hi})"
        );
        // The square must fit on the sphere's part of the map where a flat frame holds.
        let half_side_deg = 0.5 * self.area_km2.sqrt() / KM_PER_DEGREE;
        ensure_config!(
            lat.abs() + half_side_deg < 80.0 && half_side_deg < 10.0,
            "geomag.area_km2",
            "a square of {} km² around latitude {lat} is too large for a local network",
            self.area_km2
        );
        Ok(())
    }
}

/// One planted anomaly: the truth a classifier of the maps should find.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantedAnomaly {
    /// The event's index in the events given to [`simulate_geomag`].
    pub event: usize,
    /// The event's magnitude.
    pub magnitude: f64,
    /// The epicentre's great-circle distance from the network's centre, km.
    pub distance_km: f64,
    /// The event's day index (may lie past the period's end).
    pub event_day: i64,
    /// The days (inside the period) that carry the anomaly, all before `event_day`.
    pub days: Range<usize>,
    /// The anomaly at each station, nT, in network order.
    pub peak_nt: Vec<f64>,
}

/// One storm: a drop common to every station, recovering over days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Storm {
    /// The day it starts.
    pub onset_day: usize,
    /// The drop on that day, nT.
    pub amplitude_nt: f64,
}

/// What [`simulate_geomag`] planted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeomagTruth {
    /// The planted anomalies, in event order (none in the `null` scenario).
    pub anomalies: Vec<PlantedAnomaly>,
    /// The storms, in time order.
    pub storms: Vec<Storm>,
    /// Events that qualified (within the radius, above the magnitude) but whose lead window
    /// lies wholly outside the period.
    pub outside_period: usize,
}

impl fmt::Display for GeomagTruth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} anomalies planted, {} storms ({} qualifying events with their lead window outside \
             the period)",
            self.anomalies.len(),
            self.storms.len(),
            self.outside_period
        )
    }
}

/// The network's stations: `n_stations` on a jittered square grid (as near square as the count
/// allows) over a square of `area_km2` centred on `centre`, named `G01`, `G02`, ... (three
/// digits from 100 stations). Each station lies inside its own cell, so all lie inside the
/// square.
pub fn network_layout(scenario: &GeomagScenario, seed: u64) -> Result<Vec<GeomagStation>> {
    scenario.check()?;
    let n = scenario.n_stations;
    let cols = (n as f64).sqrt().ceil() as usize;
    let rows = n.div_ceil(cols);
    let side_km = scenario.area_km2.sqrt();
    let (lat0, lon0) = scenario.centre;
    let km_per_deg_lon = KM_PER_DEGREE * lat0.to_radians().cos();
    let width = if n > 99 { 3 } else { 2 };
    let mut rng = rng::stream(seed, "synth.geomag.layout");
    let mut stations = Vec::with_capacity(n);
    for i in 0..n {
        let (row, col) = (i / cols, i % cols);
        let jitter_x: f64 = rng.random_range(-LAYOUT_JITTER..LAYOUT_JITTER);
        let jitter_y: f64 = rng.random_range(-LAYOUT_JITTER..LAYOUT_JITTER);
        let x_km = ((col as f64 + 0.5 + jitter_x) / cols as f64 - 0.5) * side_km;
        let y_km = ((row as f64 + 0.5 + jitter_y) / rows as f64 - 0.5) * side_km;
        stations.push(GeomagStation {
            code: format!("G{:0width$}", i + 1),
            latitude: lat0 + y_km / KM_PER_DEGREE,
            longitude: normalize_longitude(lon0 + x_km / km_per_deg_lon),
        });
    }
    Ok(stations)
}

/// Whether `magnitude` is above `threshold` (by more than the magnitude tolerance).
fn above(magnitude: f64, threshold: f64) -> bool {
    !at_or_above(threshold, magnitude)
}

/// Simulates the network's daily total intensity over `period` (see the module documentation),
/// with anomalies before the qualifying `events`, and returns the field with what was planted.
pub fn simulate_geomag(
    scenario: &GeomagScenario,
    events: &[Event],
    period: &Period,
    seed: u64,
) -> Result<(DailyField, GeomagTruth)> {
    period.check_days(MAX_DAYS)?;
    let stations = network_layout(scenario, seed)?;
    let n_days = period.n_days();
    let n_stations = stations.len();
    let (lat0, lon0) = scenario.centre;

    let mut values = vec![0.0f64; n_days * n_stations];
    let mut background = rng::stream(seed, "synth.geomag.background");
    let levels: Vec<(f64, f64)> = stations
        .iter()
        .map(|s| {
            let offset: f64 = background.sample(StandardNormal);
            let drift: f64 = background.sample(StandardNormal);
            (
                scenario.base_nt
                    + scenario.latitude_gradient_nt_per_degree * (s.latitude - lat0)
                    + scenario.station_offset_nt * offset,
                scenario.drift_nt_per_year + scenario.drift_spread_nt_per_year * drift,
            )
        })
        .collect();
    let storms = draw_storms(scenario, n_days, seed)?;
    let mut storm_level = vec![0.0f64; n_days];
    for storm in &storms {
        for (d, level) in storm_level.iter_mut().enumerate().skip(storm.onset_day) {
            let elapsed = (d - storm.onset_day) as f64;
            *level -= storm.amplitude_nt * (-elapsed / scenario.storm_recovery_days).exp();
        }
    }
    for d in 0..n_days {
        let common: f64 = background.sample(StandardNormal);
        let common = scenario.day_to_day_nt * common + storm_level[d];
        let years = (d as f64 + 0.5) / DAYS_PER_YEAR;
        for (s, &(level, drift)) in levels.iter().enumerate() {
            let noise: f64 = background.sample(StandardNormal);
            values[d * n_stations + s] = level + drift * years + common + scenario.noise_nt * noise;
        }
    }

    let mut truth = GeomagTruth {
        storms,
        ..GeomagTruth::default()
    };
    if scenario.strength > 0.0 {
        let mut leads = rng::stream(seed, "synth.geomag.anomaly");
        for (index, event) in events.iter().enumerate() {
            let distance_km = haversine_km(lat0, lon0, event.latitude, event.longitude);
            if !above(event.magnitude, scenario.min_magnitude) || distance_km > scenario.radius_km {
                continue;
            }
            let lead = leads.random_range(scenario.lead_days.0..=scenario.lead_days.1) as i64;
            let event_day = period.days_since_start(event.time).floor() as i64;
            let first = (event_day - lead).max(0);
            let last = event_day.min(n_days as i64);
            if first >= last {
                truth.outside_period += 1;
                continue;
            }
            let scale = scenario.strength
                * scenario.amplitude_nt
                * 10f64.powf(scenario.magnitude_gain * (event.magnitude - REFERENCE_MAGNITUDE));
            let peak_nt: Vec<f64> = stations
                .iter()
                .map(|s| {
                    let r = haversine_km(s.latitude, s.longitude, event.latitude, event.longitude);
                    scale * (-r / scenario.decay_km).exp()
                })
                .collect();
            let days = first as usize..last as usize;
            for d in days.clone() {
                for (s, peak) in peak_nt.iter().enumerate() {
                    values[d * n_stations + s] += peak;
                }
            }
            truth.anomalies.push(PlantedAnomaly {
                event: index,
                magnitude: event.magnitude,
                distance_km,
                event_day,
                days,
                peak_nt,
            });
        }
    }
    let field = DailyField::new(stations, *period, values)?;
    Ok((field, truth))
}

/// The storms over `n_days`: Poisson onsets at `storm_rate_per_year`, exponential drops.
fn draw_storms(scenario: &GeomagScenario, n_days: usize, seed: u64) -> Result<Vec<Storm>> {
    let mut storms = Vec::new();
    if scenario.storm_rate_per_year == 0.0 || scenario.storm_amplitude_nt == 0.0 {
        return Ok(storms);
    }
    let mut rng = rng::stream(seed, "synth.geomag.storms");
    let gaps = Exp::new(scenario.storm_rate_per_year / DAYS_PER_YEAR)
        .map_err(|e| Error::config("geomag.storm_rate_per_year", e.to_string()))?;
    let drops = Exp::new(1.0 / scenario.storm_amplitude_nt)
        .map_err(|e| Error::config("geomag.storm_amplitude_nt", e.to_string()))?;
    let mut t = 0.0;
    loop {
        t += gaps.sample(&mut rng);
        if t >= n_days as f64 {
            return Ok(storms);
        }
        storms.push(Storm {
            onset_day: t.floor() as usize,
            amplitude_nt: drops.sample(&mut rng),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_network_is_a_five_by_five_grid() {
        let stations = network_layout(&GeomagScenario::default(), 1).unwrap();
        assert_eq!(stations.len(), 25);
        assert_eq!(stations[0].code, "G01");
        assert_eq!(stations[24].code, "G25");
        // Row 0 is the southernmost: its stations lie below the centre's latitude.
        assert!(stations[..5].iter().all(|s| s.latitude < 28.10));
        assert!(stations[20..].iter().all(|s| s.latitude > 28.10));
    }

    #[test]
    fn bad_values_name_their_key() {
        let key_of = |s: GeomagScenario| match s.check() {
            Err(Error::Config { key, .. }) => key,
            other => panic!("expected a config error, got {other:?}"),
        };
        let s = GeomagScenario {
            lead_days: (4, 2),
            ..GeomagScenario::default()
        };
        assert_eq!(key_of(s), "geomag.lead_days");
        let s = GeomagScenario {
            strength: -1.0,
            ..GeomagScenario::default()
        };
        assert_eq!(key_of(s), "geomag.strength");
        let s = GeomagScenario {
            radius_km: 0.0,
            ..GeomagScenario::default()
        };
        assert_eq!(key_of(s), "geomag.radius_km");
        assert!(GeomagScenario::null().check().is_ok());
    }
}
