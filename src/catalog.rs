//! The earthquake catalog as quakelab sees it: time-sorted events with a position and a magnitude.
//!
//! Readers for the real formats live in [`crate::io::catalog`]; the synthetic generator in
//! [`crate::synth::etas`] writes those same formats. Everything downstream (b/a values, KDE labels)
//! takes a [`Catalog`] and selects from it with [`Catalog::select`]. [`load`] is the one way in
//! from a source (a file or a scenario), for the command line and the experiment runner alike.

use jiff::Timestamp;

use crate::period::{Period, days_between};
use crate::{Error, Result};

pub mod source;

pub use source::{CatalogSource, LoadOptions, TimeReading, load};

/// Tolerance when comparing a magnitude with a threshold: magnitudes are binned to 0.1, so
/// `M >= Mc` is tested as `M >= Mc - 1e-9` to survive decimal round-off (3.0000000000000004).
pub const MAGNITUDE_TOLERANCE: f64 = 1e-9;

/// The smallest magnitude quakelab accepts. Borehole arrays and mining networks record events
/// down to about M −3; anything smaller is a unit error or a fill value.
pub const MIN_MAGNITUDE: f64 = -3.0;

/// The largest magnitude quakelab accepts. The largest earthquake recorded (Valdivia 1960) was
/// Mw 9.5, and no fault on Earth is long enough for much more; a value above 10.5 is a fill
/// value or a typo, and left in it would dominate every statistic downstream.
pub const MAX_MAGNITUDE: f64 = 10.5;

/// Checks that `magnitude` is finite and within [`MIN_MAGNITUDE`]..=[`MAX_MAGNITUDE`]; the
/// error says which and why.
pub fn check_magnitude(magnitude: f64) -> std::result::Result<(), String> {
    if !magnitude.is_finite() {
        return Err(format!("magnitude {magnitude} is not a finite number"));
    }
    if !(MIN_MAGNITUDE..=MAX_MAGNITUDE).contains(&magnitude) {
        // 1e308 in full would be 309 digits.
        let shown = if magnitude.abs() >= 1e6 {
            format!("{magnitude:e}")
        } else {
            magnitude.to_string()
        };
        return Err(format!(
            "magnitude {shown} is outside the physical range [{MIN_MAGNITUDE}, {MAX_MAGNITUDE}]"
        ));
    }
    Ok(())
}

/// Whether `magnitude >= threshold` up to [`MAGNITUDE_TOLERANCE`].
pub fn at_or_above(magnitude: f64, threshold: f64) -> bool {
    magnitude >= threshold - MAGNITUDE_TOLERANCE
}

/// One earthquake.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    /// Origin time (UTC).
    pub time: Timestamp,
    /// Epicentre latitude in degrees north.
    pub latitude: f64,
    /// Epicentre longitude in degrees east, in `[-180, 180)`.
    pub longitude: f64,
    /// Hypocentre depth in km, where the source gives one.
    pub depth_km: Option<f64>,
    /// Magnitude (whatever type the source reports; quakelab treats it as one scale).
    pub magnitude: f64,
}

/// A latitude/longitude box, bounds inclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    /// Western edge, degrees east.
    pub lon_min: f64,
    /// Eastern edge, degrees east.
    pub lon_max: f64,
    /// Southern edge, degrees north.
    pub lat_min: f64,
    /// Northern edge, degrees north.
    pub lat_max: f64,
}

impl Region {
    /// The GeoViT-PFN study box: lon 123–148°E, lat 22–46°N.
    pub const JAPAN: Region = Region {
        lon_min: 123.0,
        lon_max: 148.0,
        lat_min: 22.0,
        lat_max: 46.0,
    };

    /// The VGG-12 study box: lon 100–104°E, lat 26–31°N.
    pub const SICHUAN: Region = Region {
        lon_min: 100.0,
        lon_max: 104.0,
        lat_min: 26.0,
        lat_max: 31.0,
    };

    /// A checked box: west < east and south < north, latitudes within ±90.
    pub fn new(lon_min: f64, lon_max: f64, lat_min: f64, lat_max: f64) -> Result<Self> {
        let finite = [lon_min, lon_max, lat_min, lat_max]
            .iter()
            .all(|v| v.is_finite());
        if !finite || lon_min >= lon_max || lat_min >= lat_max || lat_min < -90.0 || lat_max > 90.0
        {
            return Err(Error::config(
                "region",
                format!(
                    "expected LON0 < LON1 and -90 <= LAT0 < LAT1 <= 90, got {lon_min},{lon_max},{lat_min},{lat_max}"
                ),
            ));
        }
        Ok(Region {
            lon_min,
            lon_max,
            lat_min,
            lat_max,
        })
    }

    /// Parses `LON0,LON1,LAT0,LAT1`.
    pub fn parse(text: &str) -> Result<Self> {
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        let values: Option<Vec<f64>> = parts.iter().map(|p| p.parse().ok()).collect();
        match values.as_deref() {
            Some(&[a, b, c, d]) => Region::new(a, b, c, d),
            _ => Err(Error::config(
                "region",
                format!("expected four numbers LON0,LON1,LAT0,LAT1, got `{text}`"),
            )),
        }
    }

    /// Whether a point lies in the box (edges included).
    pub fn contains(&self, latitude: f64, longitude: f64) -> bool {
        (self.lat_min..=self.lat_max).contains(&latitude)
            && (self.lon_min..=self.lon_max).contains(&longitude)
    }
}

/// The event types a catalog read keeps (ComCat's `type` column: `earthquake`, `explosion`,
/// `nuclear explosion`, `quarry blast`, ...).
///
/// Names compare case-insensitively with surrounding spaces ignored. A row without a type (no
/// such column, or a blank field) is an earthquake. The default keeps earthquakes only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTypes(std::collections::BTreeSet<String>);

impl Default for EventTypes {
    fn default() -> Self {
        EventTypes::earthquakes()
    }
}

impl EventTypes {
    /// The type of a row that does not say.
    pub const EARTHQUAKE: &'static str = "earthquake";

    /// Earthquakes only.
    pub fn earthquakes() -> Self {
        EventTypes([Self::EARTHQUAKE.to_string()].into())
    }

    /// Parses a comma-separated list such as `earthquake,explosion`; an empty list or an empty
    /// name is an error (key `event_types`).
    pub fn parse(text: &str) -> Result<Self> {
        let names: std::collections::BTreeSet<String> = text
            .split(',')
            .map(|name| name.trim().to_lowercase())
            .collect();
        if names.iter().any(String::is_empty) {
            return Err(Error::config(
                "event_types",
                format!(
                    "expected comma-separated type names such as earthquake,explosion, got `{text}`"
                ),
            ));
        }
        Ok(EventTypes(names))
    }

    /// Whether a row of type `kind` (`None` or blank: an earthquake) is kept.
    pub fn keeps(&self, kind: Option<&str>) -> bool {
        let kind = kind.map(str::trim).filter(|k| !k.is_empty());
        match kind {
            None => self.0.contains(Self::EARTHQUAKE),
            Some(k) => self.0.contains(&k.to_lowercase()),
        }
    }

    /// The names kept, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// Which events to keep when reading or selecting.
#[derive(Debug, Clone, Copy, Default)]
pub struct CatalogFilter {
    /// Keep events inside this box.
    pub region: Option<Region>,
    /// Keep events inside this period.
    pub period: Option<Period>,
    /// Keep events with `M >= min_magnitude` (up to [`MAGNITUDE_TOLERANCE`]).
    pub min_magnitude: Option<f64>,
}

impl CatalogFilter {
    /// Whether `event` passes every condition that is set.
    pub fn keeps(&self, event: &Event) -> bool {
        self.region
            .is_none_or(|r| r.contains(event.latitude, event.longitude))
            && self.period.is_none_or(|p| p.contains(event.time))
            && self
                .min_magnitude
                .is_none_or(|m| at_or_above(event.magnitude, m))
    }
}

/// Events sorted by origin time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    events: Vec<Event>,
}

impl Catalog {
    /// A catalog from events in any order; they are sorted by time (stable, so ties keep their order).
    pub fn from_events(mut events: Vec<Event>) -> Self {
        events.sort_by_key(|e| e.time);
        Catalog { events }
    }

    /// The events, in time order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether the catalog has no events.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The events that pass `filter`, still in time order.
    pub fn filtered(&self, filter: &CatalogFilter) -> Catalog {
        Catalog {
            events: self
                .events
                .iter()
                .filter(|e| filter.keeps(e))
                .copied()
                .collect(),
        }
    }

    /// The events in `period` with `M >= mc`, as event times in days since the period start and
    /// magnitudes, both in time order. This is the input of the b/a windows and the KDE labels.
    ///
    /// Fails if a selected event's magnitude is not finite or lies outside the physical range
    /// (see [`check_magnitude`]): a catalog built in code has not been through a reader's checks,
    /// and one absurd magnitude would dominate every window it enters.
    pub fn select(&self, period: &Period, mc: f64) -> Result<Selection> {
        let (start, end) = (period.start_timestamp(), period.end_timestamp());
        let (times, magnitudes) = self
            .events
            .iter()
            .filter(|e| (start..end).contains(&e.time) && at_or_above(e.magnitude, mc))
            .map(|e| (days_between(start, e.time), e.magnitude))
            .unzip();
        Selection::new(times, magnitudes)
    }

    /// How many events `select(period, mc)` keeps and why the others do not count: the numbers a
    /// user needs when a selection comes out empty.
    pub fn selection_counts(&self, period: &Period, mc: f64) -> SelectionCounts {
        let in_period: Vec<&Event> = self
            .events
            .iter()
            .filter(|e| period.contains(e.time))
            .collect();
        SelectionCounts {
            period: *period,
            mc,
            catalog: self.events.len(),
            first: self.events.first().map(|e| e.time),
            last: self.events.last().map(|e| e.time),
            in_period: in_period.len(),
            selected: in_period
                .iter()
                .filter(|e| at_or_above(e.magnitude, mc))
                .count(),
            largest_in_period: in_period.iter().map(|e| e.magnitude).max_by(f64::total_cmp),
        }
    }

    /// Groups of events that share the same time, place and magnitude (indices into
    /// [`Catalog::events`]), each group listed once with at least two members.
    ///
    /// Catalogs merged from several sources often carry such copies; counting them twice would
    /// inflate every window's N and the KDE.
    pub fn duplicate_groups(&self) -> Vec<Vec<usize>> {
        let mut groups = Vec::new();
        let mut i = 0;
        while i < self.events.len() {
            let mut j = i + 1;
            while j < self.events.len() && self.events[j].time == self.events[i].time {
                j += 1;
            }
            if j - i == 1 {
                // The only event at its time: no group.
                i = j;
                continue;
            }
            // Events [i, j) share an origin time; split them by place and magnitude.
            let mut taken = vec![false; j - i];
            for a in i..j {
                if taken[a - i] {
                    continue;
                }
                let group: Vec<usize> = (a..j)
                    .filter(|&b| {
                        !taken[b - i] && same_place_and_size(&self.events[a], &self.events[b])
                    })
                    .collect();
                for &b in &group {
                    taken[b - i] = true;
                }
                if group.len() > 1 {
                    groups.push(group);
                }
            }
            i = j;
        }
        groups
    }

    /// A catalog without the later copies of each duplicate group, and how many were removed.
    pub fn deduplicated(&self) -> (Catalog, usize) {
        let mut drop = vec![false; self.events.len()];
        let mut removed = 0;
        for group in self.duplicate_groups() {
            for &k in &group[1..] {
                drop[k] = true;
                removed += 1;
            }
        }
        let events = self
            .events
            .iter()
            .zip(&drop)
            .filter(|(_, d)| !**d)
            .map(|(e, _)| *e)
            .collect();
        (Catalog { events }, removed)
    }
}

fn same_place_and_size(a: &Event, b: &Event) -> bool {
    const COORD_TOLERANCE: f64 = 1e-6;
    (a.latitude - b.latitude).abs() < COORD_TOLERANCE
        && (a.longitude - b.longitude).abs() < COORD_TOLERANCE
        && (a.magnitude - b.magnitude).abs() < MAGNITUDE_TOLERANCE
}

/// What a selection by period and Mc kept, and what it left out; see
/// [`Catalog::selection_counts`]. Its `Display` is a sentence that says why a selection is
/// empty when it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SelectionCounts {
    /// The period selected on.
    pub period: Period,
    /// The completeness magnitude selected on.
    pub mc: f64,
    /// Events in the catalog.
    pub catalog: usize,
    /// The catalog's first event time, if any.
    pub first: Option<Timestamp>,
    /// The catalog's last event time, if any.
    pub last: Option<Timestamp>,
    /// Events inside the period.
    pub in_period: usize,
    /// Events inside the period with `M >= mc`.
    pub selected: usize,
    /// The largest magnitude inside the period, if any event lies there.
    pub largest_in_period: Option<f64>,
}

impl std::fmt::Display for SelectionCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} catalog events selected (period {}, M >= {})",
            self.selected, self.catalog, self.period, self.mc
        )?;
        match (self.first, self.last, self.largest_in_period) {
            _ if self.selected > 0 => Ok(()),
            (None, _, _) | (_, None, _) => write!(f, ": the catalog has no events"),
            (Some(first), Some(last), None) => write!(
                f,
                ": the catalog's events ({first} to {last}) all lie outside the period"
            ),
            (_, _, Some(largest)) => write!(
                f,
                ": none of the {} events in the period reaches M {} (the largest is M {largest})",
                self.in_period, self.mc
            ),
        }
    }
}

/// Event times (days since the period start) and magnitudes of the events that count.
///
/// Built by [`Catalog::select`] or [`Selection::new`], which refuse what the window sums and
/// the KDE cannot take: times that are not finite or not ascending, and magnitudes outside the
/// physical range.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    times: Vec<f64>,
    magnitudes: Vec<f64>,
}

impl Selection {
    /// A checked selection: as many times as magnitudes, times finite and ascending (days since
    /// the period start), magnitudes finite and inside [`MIN_MAGNITUDE`]..=[`MAX_MAGNITUDE`].
    /// The error names the first offending event by its index.
    pub fn new(times: Vec<f64>, magnitudes: Vec<f64>) -> Result<Self> {
        if times.len() != magnitudes.len() {
            return Err(Error::Numerical(format!(
                "a selection needs one magnitude per event time, got {} times and {} magnitudes",
                times.len(),
                magnitudes.len()
            )));
        }
        for (i, (&t, &m)) in times.iter().zip(&magnitudes).enumerate() {
            if !t.is_finite() || (i > 0 && t < times[i - 1]) {
                return Err(Error::Numerical(format!(
                    "selected event {i}: time {t} days is not finite or not in ascending order"
                )));
            }
            check_magnitude(m)
                .map_err(|why| Error::Numerical(format!("selected event {i} (day {t}): {why}")))?;
        }
        Ok(Selection { times, magnitudes })
    }

    /// Fractional days since the period start, ascending.
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// Magnitudes, in the same order as [`Selection::times`].
    pub fn magnitudes(&self) -> &[f64] {
        &self.magnitudes
    }

    /// The number of events.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether no event was selected.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(time: &str, lat: f64, lon: f64, m: f64) -> Event {
        Event {
            time: time.parse().unwrap(),
            latitude: lat,
            longitude: lon,
            depth_km: None,
            magnitude: m,
        }
    }

    #[test]
    fn threshold_tolerates_decimal_round_off() {
        assert!(at_or_above(0.1 + 0.2 + 2.7, 3.0)); // 2.9999999999999996
        assert!(!at_or_above(2.9, 3.0));
    }

    #[test]
    fn selection_uses_the_period_and_mc() {
        let cat = Catalog::from_events(vec![
            event("2020-01-02T12:00:00Z", 35.0, 140.0, 3.0),
            event("2019-12-31T12:00:00Z", 35.0, 140.0, 5.0),
            event("2020-01-01T06:00:00Z", 35.0, 140.0, 2.9),
            event("2020-01-01T00:00:00Z", 35.0, 140.0, 4.0),
        ]);
        let p = Period::parse("2020-01-01", "2020-02-01").unwrap();
        let s = cat.select(&p, 3.0).unwrap();
        assert_eq!(s.times(), [0.0, 1.5]);
        assert_eq!(s.magnitudes(), [4.0, 3.0]);
    }

    #[test]
    fn a_catalog_built_in_code_cannot_smuggle_an_absurd_magnitude_into_a_selection() {
        let cat = Catalog::from_events(vec![
            event("2020-01-02T12:00:00Z", 35.0, 140.0, 3.0),
            event("2020-01-03T12:00:00Z", 35.0, 140.0, 1e10),
        ]);
        let p = Period::parse("2020-01-01", "2020-02-01").unwrap();
        let err = cat.select(&p, 3.0).unwrap_err().to_string();
        assert!(
            err.contains("selected event 1") && err.contains("outside the physical range"),
            "{err}"
        );
        assert!(Selection::new(vec![0.0, f64::NAN], vec![3.0, 3.0]).is_err());
        assert!(Selection::new(vec![1.0, 0.5], vec![3.0, 3.0]).is_err());
        assert!(Selection::new(vec![0.0], vec![f64::INFINITY]).is_err());
        assert!(Selection::new(vec![0.0, 0.0], vec![-3.0, 10.5]).is_ok());
    }

    #[test]
    fn selection_counts_say_why_nothing_was_selected() {
        let cat = Catalog::from_events(vec![
            event("2020-01-02T12:00:00Z", 35.0, 140.0, 3.0),
            event("2020-01-03T12:00:00Z", 35.0, 140.0, 3.4),
        ]);
        let p = Period::parse("2020-01-01", "2020-02-01").unwrap();
        let text = cat.selection_counts(&p, 5.0).to_string();
        assert!(
            text.contains("0 of 2 catalog events")
                && text.contains("none of the 2 events in the period reaches M 5")
                && text.contains("the largest is M 3.4"),
            "{text}"
        );
        let later = Period::parse("2021-01-01", "2021-02-01").unwrap();
        let text = cat.selection_counts(&later, 3.0).to_string();
        assert!(text.contains("all lie outside the period"), "{text}");
        let text = Catalog::default().selection_counts(&p, 3.0).to_string();
        assert!(text.contains("the catalog has no events"), "{text}");
    }

    #[test]
    fn duplicates_need_same_time_place_and_magnitude() {
        let cat = Catalog::from_events(vec![
            event("2020-01-02T12:00:00Z", 35.0, 140.0, 3.0),
            event("2020-01-02T12:00:00Z", 35.0, 140.0, 3.0),
            event("2020-01-02T12:00:00Z", 35.0, 140.0, 3.1),
            event("2020-01-02T12:00:00Z", 35.0, 140.0, 3.0),
            event("2020-01-03T12:00:00Z", 35.0, 140.0, 3.0),
        ]);
        assert_eq!(cat.duplicate_groups(), vec![vec![0, 1, 3]]);
        let (dedup, removed) = cat.deduplicated();
        assert_eq!(removed, 2);
        assert_eq!(dedup.len(), 3);
    }

    #[test]
    fn event_types_default_to_earthquakes_and_a_missing_type_is_one() {
        let quakes = EventTypes::default();
        assert!(quakes.keeps(None) && quakes.keeps(Some(" Earthquake ")) && quakes.keeps(Some("")));
        assert!(!quakes.keeps(Some("nuclear explosion")));
        let both = EventTypes::parse("earthquake, Nuclear Explosion").unwrap();
        assert!(both.keeps(Some("nuclear explosion")) && both.keeps(None));
        let blasts = EventTypes::parse("quarry blast").unwrap();
        assert!(!blasts.keeps(None));
        assert!(EventTypes::parse("earthquake,,explosion").is_err());
    }

    #[test]
    fn region_parses_and_checks_order() {
        let r = Region::parse("123,148,22,46").unwrap();
        assert_eq!(r, Region::JAPAN);
        assert!(r.contains(22.0, 148.0));
        assert!(Region::parse("148,123,22,46").is_err());
        assert!(Region::parse("1,2,3").is_err());
    }
}
