//! Gardner & Knopoff (1974) declustering, as SeismoStats' `GardnerKnopoffType1` does it.
//!
//! Events are taken in order of magnitude, largest first (equal magnitudes: earliest first,
//! then catalog order). An event not yet in a cluster becomes a mainshock: every event not yet
//! in a cluster that lies within its window ([`WindowTable`]) joins its cluster, the window
//! reaching `duration` after it and `fs_time_prop × duration` before it (its foreshocks), and
//! `distance` km from its epicentre by the haversine formula on a sphere of radius
//! [`DECLUSTER_EARTH_RADIUS_KM`]; depth plays no part. An event already in a cluster is skipped,
//! so windows do not chain: the declustered catalog is the mainshocks, and an event with nothing
//! in its window is a cluster of its own.
//!
//! Cluster ids count up from 1 in the order the mainshocks are taken, so cluster 1 is the
//! largest event's. Times are compared to the nanosecond, the window converted as pandas
//! converts `Timedelta(days=d)` (truncated to whole nanoseconds) and the foreshock window as
//! pandas multiplies a `Timedelta` by a float, so the boundary falls where SeismoStats puts it.

use crate::catalog::Catalog;
use crate::geo::central_angle;
use crate::seismicity::decluster::windows::WindowTable;
use crate::seismicity::decluster::{DECLUSTER_EARTH_RADIUS_KM, Declustering};
use crate::{Error, Result, ensure_config};

/// Settings of Gardner-Knopoff declustering (unchecked; see [`GardnerKnopoffParams::check`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GardnerKnopoffParams {
    /// The table of space-time windows.
    pub window: WindowTable,
    /// The foreshock window as a proportion of the aftershock window, in `[0, 1]` (1: as long
    /// before a mainshock as after it, SeismoStats' default).
    pub fs_time_prop: f64,
    /// An upper bound on the window's duration in days, if any.
    pub time_cutoff_days: Option<f64>,
}

impl Default for GardnerKnopoffParams {
    fn default() -> Self {
        GardnerKnopoffParams {
            window: WindowTable::GardnerKnopoff,
            fs_time_prop: 1.0,
            time_cutoff_days: None,
        }
    }
}

impl GardnerKnopoffParams {
    /// Checks the settings: `fs_time_prop` in `[0, 1]`, a time cutoff positive and finite.
    /// Errors name the key `decluster.KEY`.
    pub fn check(self) -> Result<ValidGardnerKnopoff> {
        ensure_config!(
            (0.0..=1.0).contains(&self.fs_time_prop),
            "decluster.fs_time_prop",
            "the foreshock window is a proportion of the aftershock window, in [0, 1]; got {}",
            self.fs_time_prop
        );
        if let Some(days) = self.time_cutoff_days {
            ensure_config!(
                days.is_finite() && days > 0.0,
                "decluster.time_cutoff_days",
                "must be a positive number of days, got {days}"
            );
        }
        Ok(ValidGardnerKnopoff(self))
    }
}

/// Checked Gardner-Knopoff settings: made only by [`GardnerKnopoffParams::check`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidGardnerKnopoff(GardnerKnopoffParams);

impl ValidGardnerKnopoff {
    /// The checked settings.
    pub fn params(&self) -> &GardnerKnopoffParams {
        &self.0
    }
}

/// The window of one mainshock, in the units the comparison uses.
struct NsWindow {
    distance_km: f64,
    /// Nanoseconds reached after the mainshock.
    after: i128,
    /// Nanoseconds reached before it, as a non-positive offset.
    before: i128,
}

impl NsWindow {
    fn new(params: &GardnerKnopoffParams, magnitude: f64) -> Result<Self> {
        let window = params.window.window(magnitude)?;
        let days = params
            .time_cutoff_days
            .map_or(window.duration_days, |cut| window.duration_days.min(cut));
        // pandas' Timedelta(days=d): ((d · 24) · 3600) · 1e9 in floating point, truncated.
        let after = (days * 24.0 * 3600.0 * 1e9) as i64;
        // pandas' (−Timedelta) · p: the nanoseconds as a float times p, truncated.
        let before = ((-after) as f64 * params.fs_time_prop) as i64;
        Ok(NsWindow {
            distance_km: window.distance_km,
            after: i128::from(after),
            before: i128::from(before),
        })
    }
}

/// Declusters `catalog` by Gardner & Knopoff (1974) (see the module docs).
///
/// Fails if the window table has no window for an event's magnitude.
pub fn gardner_knopoff(catalog: &Catalog, params: &ValidGardnerKnopoff) -> Result<Declustering> {
    let params = &params.0;
    let events = catalog.events();
    let times: Vec<i128> = events.iter().map(|e| e.time.as_nanosecond()).collect();
    let mut order: Vec<usize> = (0..events.len()).collect();
    // Stable: equal magnitude and time keep catalog order, as pandas' lexsort does.
    order.sort_by(|&a, &b| {
        events[b]
            .magnitude
            .total_cmp(&events[a].magnitude)
            .then(times[a].cmp(&times[b]))
    });
    let mut cluster = vec![0usize; events.len()];
    let mut mainshock = vec![false; events.len()];
    let mut next_id = 1;
    for &i in &order {
        if cluster[i] != 0 {
            continue;
        }
        let main = &events[i];
        let window = NsWindow::new(params, main.magnitude).map_err(|e| {
            Error::Numerical(format!(
                "event at {} (M {}): {e}",
                main.time, main.magnitude
            ))
        })?;
        let first = times.partition_point(|&t| t < times[i] + window.before);
        let end = times.partition_point(|&t| t <= times[i] + window.after);
        for j in first..end {
            if cluster[j] != 0 {
                continue;
            }
            let e = &events[j];
            let distance_km = DECLUSTER_EARTH_RADIUS_KM
                * central_angle(e.latitude, e.longitude, main.latitude, main.longitude);
            if distance_km <= window.distance_km {
                cluster[j] = next_id;
            }
        }
        // The mainshock is in its own window (no time, no distance), unless its distance
        // window is 0 km wide, which no table gives.
        cluster[i] = next_id;
        mainshock[i] = true;
        next_id += 1;
    }
    Declustering::new(cluster, mainshock, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Event;
    use crate::seismicity::decluster::tests::event;

    fn decluster(events: Vec<Event>, fs_time_prop: f64) -> Declustering {
        let params = GardnerKnopoffParams {
            fs_time_prop,
            ..GardnerKnopoffParams::default()
        }
        .check()
        .unwrap();
        gardner_knopoff(&Catalog::from_events(events), &params).unwrap()
    }

    #[test]
    fn a_mainshock_takes_the_events_inside_its_window_and_no_others() {
        // M 5.0: 10^1.602 = 39.99 km and 10^2.1575 = 143.7 days. One degree of arc on the
        // 6371.227 km sphere is 111.199 km, so 0.3° (33.4 km) is inside and 0.4° (44.5 km)
        // outside; 100 days after (10 April 2020) is inside, 150 days (30 May) outside. The
        // M 4.0 event 0.4° away starts its own cluster (10^1.4782 = 30.1 km, 10^1.6166 =
        // 41.4 days) and takes the M 3.0 event 0.1° (11.1 km) from it two days later; the
        // M 3.0 of 30 May, 0.3° (33.4 km) from the M 4.0, is a cluster of its own.
        let d = decluster(
            vec![
                event("2020-01-01T00:00:00Z", 0.0, 0.0, 5.0),
                event("2020-01-11T00:00:00Z", 0.3, 0.0, 3.5),
                event("2020-01-21T00:00:00Z", 0.4, 0.0, 4.0),
                event("2020-01-23T00:00:00Z", 0.5, 0.0, 3.0),
                event("2020-04-10T00:00:00Z", 0.0, 0.3, 3.0),
                event("2020-05-30T00:00:00Z", 0.1, 0.0, 3.0),
            ],
            1.0,
        );
        assert_eq!(d.mainshock(), [true, false, true, false, false, true]);
        // Cluster 1 is the M 5's, 2 the M 4's, 3 the lone M 3 of May.
        assert_eq!(d.cluster(), [1, 1, 2, 2, 1, 3]);
        assert_eq!(d.summary().removed, 3);
        assert_eq!(d.summary().clusters_with_members, 2);
    }

    #[test]
    fn the_foreshock_window_is_a_proportion_of_the_aftershock_window() {
        // An M 3.0 ten days before an M 5.0 at the same place: a foreshock when the window
        // reaches back the full 143.7 days, an independent event when it reaches back 5% of
        // it (7.2 days).
        let events = || {
            vec![
                event("2020-01-01T00:00:00Z", 0.0, 0.0, 3.0),
                event("2020-01-11T00:00:00Z", 0.0, 0.0, 5.0),
            ]
        };
        assert_eq!(decluster(events(), 1.0).mainshock(), [false, true]);
        assert_eq!(decluster(events(), 0.05).mainshock(), [true, true]);
        assert_eq!(decluster(events(), 0.0).mainshock(), [true, true]);
    }

    #[test]
    fn of_equal_magnitudes_the_earliest_is_the_mainshock() {
        let d = decluster(
            vec![
                event("2020-01-01T00:00:00Z", 0.0, 0.0, 4.0),
                event("2020-01-02T00:00:00Z", 0.0, 0.0, 4.0),
            ],
            1.0,
        );
        assert_eq!(d.mainshock(), [true, false]);
    }

    #[test]
    fn a_time_cutoff_of_zero_days_is_refused() {
        let err = GardnerKnopoffParams {
            time_cutoff_days: Some(0.0),
            ..GardnerKnopoffParams::default()
        }
        .check()
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "setting `decluster.time_cutoff_days`: must be a positive number of days, got 0"
        );
    }

    #[test]
    fn a_time_cutoff_shortens_every_longer_window() {
        // Ten days after an M 5.0 (window 143.7 days) at its epicentre: an aftershock, unless
        // the windows are cut at 5 days.
        let events = vec![
            event("2020-01-01T00:00:00Z", 0.0, 0.0, 5.0),
            event("2020-01-11T00:00:00Z", 0.0, 0.0, 3.0),
        ];
        let params = GardnerKnopoffParams {
            time_cutoff_days: Some(5.0),
            ..GardnerKnopoffParams::default()
        }
        .check()
        .unwrap();
        let cut = gardner_knopoff(&Catalog::from_events(events.clone()), &params).unwrap();
        assert_eq!(cut.mainshock(), [true, true]);
        assert_eq!(decluster(events, 1.0).mainshock(), [true, false]);
    }

    #[test]
    fn a_foreshock_proportion_above_one_is_refused() {
        let err = GardnerKnopoffParams {
            fs_time_prop: 1.5,
            ..GardnerKnopoffParams::default()
        }
        .check()
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "setting `decluster.fs_time_prop`: the foreshock window is a proportion of the \
             aftershock window, in [0, 1]; got 1.5"
        );
    }
}
