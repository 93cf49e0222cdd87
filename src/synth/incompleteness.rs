//! Short-term aftershock incompleteness (pitfall P5): which events a network misses in the coda
//! of a large earthquake.
//!
//! For hours to days after a large event, the seismograms are saturated by its coda and its
//! aftershocks overlap, so small events go undetected and the catalog's completeness magnitude
//! rises. Helmstetter, Kagan & Jackson (2006, BSSA 96(1), "Comparison of short-term and
//! time-independent earthquake forecast models for southern California") fit the completeness
//! magnitude a time `t` (days) after an event of magnitude `M` as
//!
//! ```text
//! m_c(M, t) = M − 4.5 − 0.75 log10(t)
//! ```
//!
//! [`Incompleteness::Helmstetter`] applies it to a catalog: an event at time `t` is detected iff
//! its magnitude is at or above
//!
//! ```text
//! threshold(t) = max(Mc_base, max over the other events i with t_i <= t of m_c(M_i, t − t_i)).
//! ```
//!
//! Every other event at or before `t` counts, detected or not (an undetected event still shakes
//! the records). The law diverges at `t − t_i = 0`, so the elapsed time is floored at
//! [`MIN_ELAPSED_DAYS`] (one minute): events in the same instant, or seconds apart, are in each
//! other's coda with `m_c = M − 4.5 + 0.75 log10(1440) = M − 2.13`.
//!
//! # Cost
//!
//! An event of magnitude `M` raises the threshold above `Mc_base` only while
//! `t − t_i < 10^((M − 4.5 − Mc_base)/0.75)` days ([`helmstetter_reach_days`]: 0.2 days for
//! M7 over Mc 3, 4.6 days for M8, 100 days for M9), and never if `M − 2.13 <= Mc_base`. A pass in
//! time order keeps only the events whose reach has not ended, so its cost is
//! O(events × events within their reach), a handful even for a great sequence.

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, at_or_above};
use crate::period::SECONDS_PER_DAY;

/// The constant `4.5` of Helmstetter et al. (2006)'s `m_c(M, t) = M − 4.5 − 0.75 log10(t)`.
pub const HELMSTETTER_OFFSET: f64 = 4.5;

/// The slope `0.75` of Helmstetter et al. (2006)'s `m_c(M, t) = M − 4.5 − 0.75 log10(t)`.
pub const HELMSTETTER_SLOPE: f64 = 0.75;

/// The shortest elapsed time the law is evaluated at, in days: one minute. Events closer in time
/// (or in the same instant) are taken to be one minute apart.
pub const MIN_ELAPSED_DAYS: f64 = 1.0 / 1440.0;

/// How a simulated network detects events (scenario key `etas.incompleteness`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Incompleteness {
    /// Every event is detected (the default).
    #[default]
    None,
    /// Short-term incompleteness after large events, Helmstetter et al. (2006).
    Helmstetter,
}

impl Incompleteness {
    /// The spelling in a scenario file: `none`, `helmstetter`.
    pub fn name(&self) -> &'static str {
        match self {
            Incompleteness::None => "none",
            Incompleteness::Helmstetter => "helmstetter",
        }
    }

    /// Whether every event is detected.
    pub fn is_none(&self) -> bool {
        *self == Incompleteness::None
    }

    /// For each event of `catalog`, in order, whether a network with this model and a base
    /// completeness magnitude `mc_base` detects it. With [`Incompleteness::None`] every event at
    /// or above `mc_base` is detected. An event whose magnitude is not a number is never
    /// detected and raises no threshold.
    pub fn detected(&self, catalog: &Catalog, mc_base: f64) -> Vec<bool> {
        match self {
            Incompleteness::None => catalog
                .events()
                .iter()
                .map(|e| at_or_above(e.magnitude, mc_base))
                .collect(),
            Incompleteness::Helmstetter => helmstetter_detected(catalog, mc_base),
        }
    }
}

/// Helmstetter et al. (2006)'s completeness magnitude `elapsed_days` after an event of magnitude
/// `magnitude`: `M − 4.5 − 0.75 log10(max(elapsed, 1 minute))`.
pub fn helmstetter_mc(magnitude: f64, elapsed_days: f64) -> f64 {
    magnitude - HELMSTETTER_OFFSET - HELMSTETTER_SLOPE * elapsed_days.max(MIN_ELAPSED_DAYS).log10()
}

/// How long, in days, an event of magnitude `magnitude` keeps the completeness magnitude above
/// `mc_base`: `10^((M − 4.5 − Mc_base)/0.75)`, or 0 when its one-minute value
/// `M − 2.13` does not exceed `mc_base` (it never raises the threshold).
pub fn helmstetter_reach_days(magnitude: f64, mc_base: f64) -> f64 {
    if helmstetter_mc(magnitude, 0.0) > mc_base {
        10f64.powf((magnitude - HELMSTETTER_OFFSET - mc_base) / HELMSTETTER_SLOPE)
    } else {
        0.0
    }
}

/// An event that still raises the threshold: its time (days from the first event) and magnitude,
/// and when its reach ends.
struct Raiser {
    index: usize,
    t: f64,
    magnitude: f64,
    until: f64,
}

/// The detection pass of [`Incompleteness::Helmstetter`] over a time-sorted catalog.
fn helmstetter_detected(catalog: &Catalog, mc_base: f64) -> Vec<bool> {
    let events = catalog.events();
    let Some(first) = events.first() else {
        return Vec::new();
    };
    let ms_per_day = SECONDS_PER_DAY * 1000.0;
    let t0 = first.time.as_millisecond();
    let days: Vec<f64> = events
        .iter()
        .map(|e| (e.time.as_millisecond() - t0) as f64 / ms_per_day)
        .collect();
    let mut detected = Vec::with_capacity(events.len());
    let mut raisers: Vec<Raiser> = Vec::new();
    let mut group_start = 0;
    while group_start < events.len() {
        // Events in the same instant count each other, so a group of equal times joins the
        // raisers before any of its members is judged.
        let t = days[group_start];
        let group_end = group_start + days[group_start..].partition_point(|&d| d <= t);
        raisers.retain(|r| r.until > t);
        for (index, event) in events.iter().enumerate().take(group_end).skip(group_start) {
            let reach = helmstetter_reach_days(event.magnitude, mc_base);
            if reach > 0.0 {
                raisers.push(Raiser {
                    index,
                    t,
                    magnitude: event.magnitude,
                    until: t + reach.max(MIN_ELAPSED_DAYS),
                });
            }
        }
        for (index, event) in events.iter().enumerate().take(group_end).skip(group_start) {
            let threshold = raisers
                .iter()
                .filter(|r| r.index != index)
                .map(|r| helmstetter_mc(r.magnitude, t - r.t))
                .fold(mc_base, f64::max);
            detected.push(at_or_above(event.magnitude, threshold));
        }
        group_start = group_end;
    }
    detected
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Event;
    use jiff::Timestamp;

    /// An event `minutes` after 2020-01-01T00:00Z.
    fn event(minutes: f64, magnitude: f64) -> Event {
        let start: Timestamp = "2020-01-01T00:00:00Z".parse().unwrap();
        let ms = (minutes * 60_000.0).round() as i64;
        Event {
            time: Timestamp::from_millisecond(start.as_millisecond() + ms).unwrap(),
            latitude: 0.0,
            longitude: 0.0,
            depth_km: Some(10.0),
            magnitude,
        }
    }

    #[test]
    fn the_law_and_its_reach_have_their_closed_forms() {
        // M7 after 1 day: 7 − 4.5 − 0 = 2.5; after 0.01 day: 2.5 + 1.5 = 4.0.
        assert!((helmstetter_mc(7.0, 1.0) - 2.5).abs() < 1e-12);
        assert!((helmstetter_mc(7.0, 0.01) - 4.0).abs() < 1e-12);
        // Below one minute the floor holds: 7 − 4.5 + 0.75 log10(1440) = 2.5 + 2.368772 = 4.868772.
        assert!((helmstetter_mc(7.0, 0.0) - 4.868_772).abs() < 1e-6);
        assert_eq!(
            helmstetter_mc(7.0, 1e-9),
            helmstetter_mc(7.0, MIN_ELAPSED_DAYS)
        );
        // M8 over Mc 3: 10^((8 − 4.5 − 3)/0.75) = 10^(2/3) = 4.641589 days; M9: 10^2 = 100.
        assert!((helmstetter_reach_days(8.0, 3.0) - 4.641_589).abs() < 1e-6);
        assert!((helmstetter_reach_days(9.0, 3.0) - 100.0).abs() < 1e-9);
        // M5 over Mc 3 peaks at 5 − 2.13 = 2.87 < 3: it never raises the threshold.
        assert_eq!(helmstetter_reach_days(5.0, 3.0), 0.0);
    }

    #[test]
    fn events_below_the_threshold_of_an_earlier_large_event_are_hidden() {
        // Mc 3; an M8 at minute 0. Thresholds of the M8 at later times t (days):
        //   t = 0.01 d (14.4 min): 3.5 + 1.5 = 5.0;  t = 1 d: 3.5;  t = 10 d: 2.75 < 3, so Mc 3.
        // At 14.4 min an M4.9 is hidden and an M5.0 detected (the M4.9 beside it, one-minute
        // value 4.9 − 2.13 = 2.77, is below Mc); at 1 day an M3.4 is hidden; at 10 days, past the
        // M8's reach of 4.64 days, an M3.0 is detected and an M2.9, below Mc, is not.
        let catalog = Catalog::from_events(vec![
            event(0.0, 8.0),
            event(14.4, 4.9),
            event(14.4, 5.0),
            event(1440.0, 3.4),
            event(1440.0 * 10.0, 3.0),
            event(1440.0 * 10.0, 2.9),
        ]);
        assert_eq!(
            Incompleteness::Helmstetter.detected(&catalog, 3.0),
            vec![true, false, true, false, true, false]
        );
        assert_eq!(
            Incompleteness::None.detected(&catalog, 3.0),
            vec![true, true, true, true, true, false]
        );
    }

    #[test]
    fn the_largest_of_several_raisers_sets_the_threshold() {
        // Mc 2; an M6 at minute 0 and an M7 at minute 60, when the M6 gives
        // 1.5 + 0.75 log10(24) = 2.535 (detected). At minute 120 the M6 gives
        // 1.5 + 0.75 log10(12) = 2.309 and the M7, 60 min earlier, 2.5 + 0.75 log10(24) = 3.535:
        // the larger sets the threshold, so an M3.5 is hidden and an M3.6 detected.
        let catalog = Catalog::from_events(vec![
            event(0.0, 6.0),
            event(60.0, 7.0),
            event(120.0, 3.5),
            event(120.0, 3.6),
        ]);
        assert_eq!(
            Incompleteness::Helmstetter.detected(&catalog, 2.0),
            vec![true, true, false, true]
        );
    }

    #[test]
    fn events_in_the_same_instant_see_each_other_through_the_one_minute_floor() {
        // Two events at the same millisecond: an M7 and an M4.8. The M7's one-minute value is
        // 7 − 2.131 = 4.869 > 4.8, so the M4.8 is hidden; the M4.8 (4.8 − 2.131 = 2.669 < Mc 3)
        // does not touch the M7. Order within the instant does not matter.
        for pair in [[7.0, 4.8], [4.8, 7.0]] {
            let catalog = Catalog::from_events(vec![event(0.0, pair[0]), event(0.0, pair[1])]);
            let detected = Incompleteness::Helmstetter.detected(&catalog, 3.0);
            let by_magnitude: Vec<(f64, bool)> = catalog
                .events()
                .iter()
                .map(|e| e.magnitude)
                .zip(detected)
                .collect();
            assert!(by_magnitude.contains(&(7.0, true)), "{by_magnitude:?}");
            assert!(by_magnitude.contains(&(4.8, false)), "{by_magnitude:?}");
        }
        assert!(
            Incompleteness::Helmstetter
                .detected(&Catalog::default(), 3.0)
                .is_empty()
        );
    }
}
