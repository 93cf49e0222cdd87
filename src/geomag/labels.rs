//! The five event classes of the second method (papers.md §B, the paper's Table 4): each map day
//! gets the class of the largest event ahead of it, by direction (north or south, from a k-means
//! split of the epicentres) and magnitude.
//!
//! The rules, as [`day_classes`] applies them:
//!
//! - An event counts if it falls inside the period, its magnitude is above
//!   [`ClassParams::min_magnitude`] (strictly: the paper's `Ms > 3.0`, so M 3.0 itself is left
//!   out) and its epicentre lies within [`ClassParams::radius_km`] of the area's centre
//!   (great-circle distance, [`crate::geo::haversine_km`]; an event exactly at the radius counts).
//!   Magnitudes compare with [`crate::catalog::MAGNITUDE_TOLERANCE`], so 3.0000000000000004 is
//!   still 3.0.
//! - Aftershocks ([`ClassParams::aftershocks`], on by default): an event is left out if an event
//!   of strictly larger magnitude that also passed the rules above happened within
//!   [`AftershockRule::days`] before it and [`AftershockRule::distance_km`] of it. The paper does
//!   not state this rule, but its Table 3 lists 18 of the 34 CENC events with `M > 3` within
//!   400 km in its period, and this rule with 7 days and 50 km keeps exactly those 18 (as does
//!   any window from 3 to 10 days and 30 to 100 km; see the real-data test
//!   `cenc_events_and_directions_of_the_paper_period`).
//! - Direction: [`kmeans2`] splits the counted epicentres into two clusters; a cluster is North if
//!   its centre's latitude is above the area centre's, South otherwise. Two clusters on the same
//!   side are refused: calling one of them by the other direction would be wrong.
//! - Magnitude: an event is "above" if `M > magnitude_threshold` (the paper's 4), "at or below"
//!   otherwise, so M 4.0 is "≤ 4".
//! - Horizon: the map of day `d` gets the class of the largest counted event on days
//!   `d + 1 ..= d + H` (the interval `(d, d + H]` of day indices, days as in [`crate::period`]:
//!   day `d` covers `[start + d, start + d + 1)`), the earlier event on a tie of magnitudes;
//!   class 0 if there is none. An event on the map's own day does not label it: the map of day
//!   `d` is drawn from data up to the end of day `d`, and the event may already be in it.
//!
//! k-means (k = 2) is Lloyd's algorithm with Euclidean distance on (latitude, longitude) in
//! degrees, as the paper (which used SPSS). It starts from every pair of distinct epicentres when
//! there are at most [`EXHAUSTIVE_POINTS`] of them (so the result does not depend on the seed),
//! and from [`RANDOM_STARTS`] seeded pairs otherwise. Each start runs until no assignment changes;
//! a point equidistant from both centres joins the first (the northern, see below). The kept
//! solution has the least inertia (sum of squared distances to the centres); solutions whose
//! inertias agree within 1e-12 relative are ordered by their assignment vectors, the smaller
//! (lexicographically, 0 = northern cluster) kept. Centres are numbered north first: cluster 0
//! has the larger centre latitude (the larger longitude on a tie).

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::catalog::{Event, MAGNITUDE_TOLERANCE};
use crate::geo::haversine_km;
use crate::period::Period;
use crate::{Error, Result, ensure_config};

/// The most points for which [`kmeans2`] starts from every pair of distinct points.
pub const EXHAUSTIVE_POINTS: usize = 100;

/// Seeded starting pairs of [`kmeans2`] above [`EXHAUSTIVE_POINTS`] points.
pub const RANDOM_STARTS: usize = 1000;

/// The name of the random stream k-means draws its starts from (see [`crate::rng::stream`]).
pub const KMEANS_STREAM: &str = "geomag.kmeans";

/// Lloyd iterations per start at most; k = 2 converges in a handful.
const MAX_ITERATIONS: usize = 300;

/// A two-cluster k-means solution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KMeans2 {
    /// The cluster centres (latitude, longitude), the northern one first.
    pub centres: [(f64, f64); 2],
    /// The cluster of each point, 0 or 1, in input order.
    pub assignment: Vec<u8>,
    /// The sum of squared distances (degrees²) of the points to their centres.
    pub inertia: f64,
}

/// k-means with k = 2 on `points` (latitude, longitude in degrees), as the module docs describe.
///
/// Refuses a point that is not finite (naming it) and fewer than two distinct points.
pub fn kmeans2(points: &[(f64, f64)], seed: u64) -> Result<KMeans2> {
    if let Some(i) = points
        .iter()
        .position(|p| !(p.0.is_finite() && p.1.is_finite()))
    {
        return Err(Error::Numerical(format!(
            "k-means: point {i} ({}, {}) is not finite",
            points[i].0, points[i].1
        )));
    }
    let mut distinct: Vec<(f64, f64)> = Vec::new();
    for &p in points {
        if !distinct.contains(&p) {
            distinct.push(p);
        }
    }
    if distinct.len() < 2 {
        return Err(Error::Numerical(format!(
            "k-means with two clusters needs at least two distinct points, got {} point(s) at \
             {} place(s)",
            points.len(),
            distinct.len()
        )));
    }
    let starts: Vec<((f64, f64), (f64, f64))> = if distinct.len() <= EXHAUSTIVE_POINTS {
        (0..distinct.len())
            .flat_map(|i| (i + 1..distinct.len()).map(move |j| (i, j)))
            .map(|(i, j)| (distinct[i], distinct[j]))
            .collect()
    } else {
        let mut rng = crate::rng::stream(seed, KMEANS_STREAM);
        (0..RANDOM_STARTS)
            .map(|_| {
                let i = rng.random_range(0..distinct.len());
                let j = (i + rng.random_range(1..distinct.len())) % distinct.len();
                (distinct[i], distinct[j])
            })
            .collect()
    };
    let mut best: Option<KMeans2> = None;
    for start in starts {
        let Some(solution) = lloyd(points, start) else {
            continue;
        };
        let better = match &best {
            None => true,
            Some(b) => {
                let tolerance = 1e-12 * (1.0 + b.inertia);
                solution.inertia < b.inertia - tolerance
                    || (solution.inertia <= b.inertia + tolerance
                        && solution.assignment < b.assignment)
            }
        };
        if better {
            best = Some(solution);
        }
    }
    best.ok_or_else(|| {
        Error::Numerical("k-means: every start lost a cluster (no solution)".to_string())
    })
}

/// One run of Lloyd's algorithm from two centres; `None` if a cluster empties.
fn lloyd(points: &[(f64, f64)], start: ((f64, f64), (f64, f64))) -> Option<KMeans2> {
    let mut centres = [start.0, start.1];
    let mut assignment = vec![u8::MAX; points.len()];
    for _ in 0..MAX_ITERATIONS {
        let next: Vec<u8> = points
            .iter()
            .map(|&p| u8::from(squared(p, centres[1]) < squared(p, centres[0])))
            .collect();
        if next == assignment {
            break;
        }
        assignment = next;
        centres = [
            mean_of(points, &assignment, 0)?,
            mean_of(points, &assignment, 1)?,
        ];
    }
    // Number the clusters north first.
    let swap = (centres[1].0, centres[1].1) > (centres[0].0, centres[0].1);
    if swap {
        centres.swap(0, 1);
        for a in &mut assignment {
            *a = 1 - *a;
        }
    }
    let inertia = points
        .iter()
        .zip(&assignment)
        .map(|(&p, &a)| squared(p, centres[a as usize]))
        .sum();
    Some(KMeans2 {
        centres,
        assignment,
        inertia,
    })
}

fn squared(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)
}

fn mean_of(points: &[(f64, f64)], assignment: &[u8], cluster: u8) -> Option<(f64, f64)> {
    let members: Vec<&(f64, f64)> = points
        .iter()
        .zip(assignment)
        .filter(|(_, a)| **a == cluster)
        .map(|(p, _)| p)
        .collect();
    if members.is_empty() {
        return None;
    }
    let n = members.len() as f64;
    Some((
        members.iter().map(|p| p.0).sum::<f64>() / n,
        members.iter().map(|p| p.1).sum::<f64>() / n,
    ))
}

/// Where an event lies with respect to the area's centre, from its k-means cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Direction {
    /// The cluster whose centre is north of the area's centre.
    North,
    /// The cluster whose centre is at or south of the area's centre.
    South,
}

impl Direction {
    /// `north` or `south`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::North => "north",
            Direction::South => "south",
        }
    }
}

/// The five classes of the paper's Table 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum QuakeClass {
    /// 0: no counted event within the horizon.
    None = 0,
    /// 1: the largest event is North with `M > threshold`.
    NorthAbove = 1,
    /// 2: the largest event is North with `M ≤ threshold`.
    NorthAtOrBelow = 2,
    /// 3: the largest event is South with `M > threshold`.
    SouthAbove = 3,
    /// 4: the largest event is South with `M ≤ threshold`.
    SouthAtOrBelow = 4,
}

impl QuakeClass {
    /// Every class, in index order.
    pub const ALL: [QuakeClass; 5] = [
        QuakeClass::None,
        QuakeClass::NorthAbove,
        QuakeClass::NorthAtOrBelow,
        QuakeClass::SouthAbove,
        QuakeClass::SouthAtOrBelow,
    ];

    /// The class index 0..=4 of Table 4.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The class of index `index`, if it is one of 0..=4.
    pub fn from_index(index: usize) -> Option<QuakeClass> {
        QuakeClass::ALL.get(index).copied()
    }

    /// A short name: `none`, `north_above`, `north_at_or_below`, `south_above`,
    /// `south_at_or_below`.
    pub fn name(self) -> &'static str {
        match self {
            QuakeClass::None => "none",
            QuakeClass::NorthAbove => "north_above",
            QuakeClass::NorthAtOrBelow => "north_at_or_below",
            QuakeClass::SouthAbove => "south_above",
            QuakeClass::SouthAtOrBelow => "south_at_or_below",
        }
    }

    /// The class of an event in `direction`, above the magnitude threshold or not.
    pub fn of_event(direction: Direction, above: bool) -> QuakeClass {
        match (direction, above) {
            (Direction::North, true) => QuakeClass::NorthAbove,
            (Direction::North, false) => QuakeClass::NorthAtOrBelow,
            (Direction::South, true) => QuakeClass::SouthAbove,
            (Direction::South, false) => QuakeClass::SouthAtOrBelow,
        }
    }

    /// The direction of an event class; `None` for class 0.
    pub fn direction(self) -> Option<Direction> {
        match self {
            QuakeClass::None => None,
            QuakeClass::NorthAbove | QuakeClass::NorthAtOrBelow => Some(Direction::North),
            QuakeClass::SouthAbove | QuakeClass::SouthAtOrBelow => Some(Direction::South),
        }
    }

    /// Whether an event class is above the magnitude threshold; `None` for class 0.
    pub fn above_threshold(self) -> Option<bool> {
        match self {
            QuakeClass::None => None,
            QuakeClass::NorthAbove | QuakeClass::SouthAbove => Some(true),
            QuakeClass::NorthAtOrBelow | QuakeClass::SouthAtOrBelow => Some(false),
        }
    }
}

/// The aftershock rule of the event selection (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AftershockRule {
    /// How long after a larger event an event counts as its aftershock, in days.
    pub days: f64,
    /// How close to a larger event an event counts as its aftershock, in km.
    pub distance_km: f64,
}

impl AftershockRule {
    /// 7 days and 50 km, which select the paper's Table 3 from the CENC list.
    pub const PAPER: AftershockRule = AftershockRule {
        days: 7.0,
        distance_km: 50.0,
    };
}

/// The labelling settings (module docs); [`Default`] is the paper's as far as it can be told,
/// with [`AftershockRule::PAPER`] and a horizon of [`ClassParams::DEFAULT_HORIZON_DAYS`] (the
/// paper gives neither).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassParams {
    /// The area's centre (latitude, longitude in degrees): the paper's 28.10N 102.16E.
    pub centre: (f64, f64),
    /// Events count within this great-circle distance of the centre, in km (400).
    pub radius_km: f64,
    /// Events count with `M > min_magnitude` (3.0).
    pub min_magnitude: f64,
    /// "Above" is `M > magnitude_threshold` (4.0).
    pub magnitude_threshold: f64,
    /// A map of day d looks at events on days d + 1 ..= d + horizon_days.
    pub horizon_days: usize,
    /// Leave out the aftershocks of larger events; `None` keeps every event. Written
    /// `aftershocks = { days = 7.0, distance_km = 50.0 }`, or `aftershocks = "keep"` for `None`.
    #[serde(with = "aftershocks_setting")]
    pub aftershocks: Option<AftershockRule>,
}

/// `aftershocks` in a file: a rule as a table, or `"keep"` for none (TOML has no null, so an
/// absent rule must be written as something).
mod aftershocks_setting {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::AftershockRule;

    const KEEP: &str = "keep";

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Setting {
        Word(String),
        Rule(AftershockRule),
    }

    pub fn serialize<S: Serializer>(
        rule: &Option<AftershockRule>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match rule {
            Some(rule) => Setting::Rule(*rule),
            None => Setting::Word(KEEP.to_string()),
        }
        .serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<AftershockRule>, D::Error> {
        match Setting::deserialize(deserializer)? {
            Setting::Rule(rule) => Ok(Some(rule)),
            Setting::Word(word) if word == KEEP => Ok(None),
            Setting::Word(word) => Err(serde::de::Error::custom(format!(
                "`{word}`: expected \"{KEEP}\" or {{ days = D, distance_km = KM }}"
            ))),
        }
    }
}

impl ClassParams {
    /// The horizon [`Default`] uses, in days. The paper does not state one. With its 18 events,
    /// 14 days leave 170 of its 334 days in class 0 (the paper: 169); no horizon reproduces its
    /// other four counts (83, 21, 36, 25; 14 days give 70, 14, 60, 20), so its rule is not
    /// exactly "the largest event in (d, d + H]".
    pub const DEFAULT_HORIZON_DAYS: usize = 14;

    /// Checks the settings, naming the key under `geomag.labels.*`: the centre within ±90° and
    /// finite, a finite positive radius, finite magnitudes with the threshold at or above the
    /// minimum, and a horizon of at least one day.
    pub fn check(&self) -> Result<()> {
        let (lat, lon) = self.centre;
        ensure_config!(
            lat.is_finite() && lon.is_finite() && (-90.0..=90.0).contains(&lat),
            "geomag.labels.centre",
            "must be a finite (latitude, longitude) with the latitude within ±90, got ({lat}, {lon})"
        );
        ensure_config!(
            self.radius_km.is_finite() && self.radius_km > 0.0,
            "geomag.labels.radius_km",
            "must be a positive number of km, got {}",
            self.radius_km
        );
        ensure_config!(
            self.min_magnitude.is_finite()
                && self.magnitude_threshold.is_finite()
                && self.magnitude_threshold >= self.min_magnitude,
            "geomag.labels.magnitude_threshold",
            "must be finite and at least geomag.labels.min_magnitude ({}), got {}: below it the \
             \"at or below\" classes could hold no event",
            self.min_magnitude,
            self.magnitude_threshold
        );
        ensure_config!(
            self.horizon_days >= 1,
            "geomag.labels.horizon_days",
            "must be at least 1 day (a map is labelled by events after its own day), got 0"
        );
        if let Some(rule) = self.aftershocks {
            ensure_config!(
                rule.days.is_finite()
                    && rule.days > 0.0
                    && rule.distance_km.is_finite()
                    && rule.distance_km > 0.0,
                "geomag.labels.aftershocks",
                "needs a positive number of days and km, got {} days and {} km",
                rule.days,
                rule.distance_km
            );
        }
        Ok(())
    }
}

impl Default for ClassParams {
    fn default() -> Self {
        ClassParams {
            centre: (28.10, 102.16),
            radius_km: 400.0,
            min_magnitude: 3.0,
            magnitude_threshold: 4.0,
            horizon_days: ClassParams::DEFAULT_HORIZON_DAYS,
            aftershocks: Some(AftershockRule::PAPER),
        }
    }
}

/// A counted event with its day, distance, direction and class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LabelledEvent {
    /// The event.
    #[serde(skip)]
    pub event: Event,
    /// Its day index in the period.
    pub day: usize,
    /// Great-circle distance from the area's centre, km.
    pub distance_km: f64,
    /// Its cluster's direction.
    pub direction: Direction,
    /// Its class.
    pub class: QuakeClass,
}

/// Why the events that do not count were left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct LeftOut {
    /// Events outside the period.
    pub outside_period: usize,
    /// Events in the period with `M ≤ min_magnitude`.
    pub magnitude: usize,
    /// Events in the period above the minimum magnitude but beyond the radius.
    pub distance: usize,
    /// Events left out as aftershocks of larger events.
    pub aftershocks: usize,
}

/// The class of every day of a period and the events behind them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayClasses {
    /// The class of each day of the period.
    pub classes: Vec<QuakeClass>,
    /// The k-means centres (latitude, longitude), North first.
    pub centres: [(f64, f64); 2],
    /// The counted events, in time order.
    pub events: Vec<LabelledEvent>,
    /// The events left out, by reason.
    pub left_out: LeftOut,
    /// The settings the classes were made with.
    pub params: ClassParams,
}

/// The class of every day of `period` from `events` (any order), as the module docs describe.
/// `seed` reaches k-means only when there are more than [`EXHAUSTIVE_POINTS`] epicentres.
///
/// Refuses settings [`ClassParams::check`] refuses, a magnitude that is not finite, fewer than
/// two distinct counted epicentres, and k-means centres on one side of the area's centre.
pub fn day_classes(
    events: &[Event],
    period: &Period,
    params: &ClassParams,
    seed: u64,
) -> Result<DayClasses> {
    params.check()?;
    let (lat0, lon0) = params.centre;
    let mut sorted: Vec<Event> = events.to_vec();
    sorted.sort_by_key(|e| e.time);
    let mut left_out = LeftOut::default();
    let mut kept: Vec<(Event, usize, f64)> = Vec::new();
    for e in sorted {
        crate::catalog::check_magnitude(e.magnitude)
            .map_err(|m| Error::Numerical(format!("the event of {}: {m}", e.time)))?;
        if !period.contains(e.time) {
            left_out.outside_period += 1;
            continue;
        }
        if e.magnitude <= params.min_magnitude + MAGNITUDE_TOLERANCE {
            left_out.magnitude += 1;
            continue;
        }
        let distance_km = haversine_km(lat0, lon0, e.latitude, e.longitude);
        if distance_km > params.radius_km {
            left_out.distance += 1;
            continue;
        }
        let day = period.days_since_start(e.time).floor() as usize;
        kept.push((e, day, distance_km));
    }
    if let Some(rule) = params.aftershocks {
        let window = rule.days * crate::period::SECONDS_PER_DAY;
        let is_aftershock = |e: &Event| {
            kept.iter().any(|(o, _, _)| {
                let lag = e.time.as_second() - o.time.as_second();
                o.magnitude > e.magnitude + MAGNITUDE_TOLERANCE
                    && o.time < e.time
                    && lag as f64 <= window
                    && haversine_km(o.latitude, o.longitude, e.latitude, e.longitude)
                        <= rule.distance_km
            })
        };
        let flags: Vec<bool> = kept.iter().map(|(e, _, _)| is_aftershock(e)).collect();
        left_out.aftershocks = flags.iter().filter(|&&f| f).count();
        let mut flags = flags.into_iter();
        kept.retain(|_| !flags.next().unwrap_or(false));
    }
    let points: Vec<(f64, f64)> = kept
        .iter()
        .map(|(e, _, _)| (e.latitude, e.longitude))
        .collect();
    let clusters = kmeans2(&points, seed).map_err(|err| {
        Error::Numerical(format!(
            "the direction classes need two clusters of epicentres: {} event(s) with M > {} \
             within {} km in {period}: {err}",
            points.len(),
            params.min_magnitude,
            params.radius_km
        ))
    })?;
    let north = clusters.centres.map(|c| c.0 > lat0);
    if north[0] == north[1] {
        return Err(Error::Numerical(format!(
            "the k-means centres ({:.2}N {:.2}E) and ({:.2}N {:.2}E) both lie {} of the area's \
             centre {lat0}N: no north/south split",
            clusters.centres[0].0,
            clusters.centres[0].1,
            clusters.centres[1].0,
            clusters.centres[1].1,
            if north[0] { "north" } else { "at or south" }
        )));
    }
    let labelled: Vec<LabelledEvent> = kept
        .iter()
        .zip(&clusters.assignment)
        .map(|(&(event, day, distance_km), &a)| {
            let direction = if north[a as usize] {
                Direction::North
            } else {
                Direction::South
            };
            let above = event.magnitude > params.magnitude_threshold + MAGNITUDE_TOLERANCE;
            LabelledEvent {
                event,
                day,
                distance_km,
                direction,
                class: QuakeClass::of_event(direction, above),
            }
        })
        .collect();
    let classes = (0..period.n_days())
        .map(|d| {
            let mut best: Option<&LabelledEvent> = None;
            for e in labelled
                .iter()
                .filter(|e| e.day > d && e.day <= d + params.horizon_days)
            {
                // Time order: a later event replaces only a strictly larger magnitude.
                if best.is_none_or(|b| e.event.magnitude > b.event.magnitude) {
                    best = Some(e);
                }
            }
            best.map_or(QuakeClass::None, |e| e.class)
        })
        .collect();
    Ok(DayClasses {
        classes,
        centres: clusters.centres,
        events: labelled,
        left_out,
        params: *params,
    })
}

/// One row of the paper's Table 4.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassRow {
    /// The class.
    pub class: QuakeClass,
    /// Its direction (`None` for class 0).
    pub direction: Option<Direction>,
    /// Whether it is above the magnitude threshold (`None` for class 0).
    pub above_threshold: Option<bool>,
    /// Counted events of this class (`None` for class 0, as in the paper).
    pub events: Option<usize>,
    /// Days (maps) of this class.
    pub maps: usize,
}

/// The paper's Table 4 (class, direction, magnitude, events, maps), one row per class in index
/// order.
pub fn class_table(classes: &DayClasses) -> Vec<ClassRow> {
    QuakeClass::ALL
        .iter()
        .map(|&class| ClassRow {
            class,
            direction: class.direction(),
            above_threshold: class.above_threshold(),
            events: (class != QuakeClass::None)
                .then(|| classes.events.iter().filter(|e| e.class == class).count()),
            maps: classes.classes.iter().filter(|&&c| c == class).count(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kmeans_of_two_obvious_groups_by_hand() {
        // North group: (30, 100), (31, 101), (32, 99) → centre (31, 100).
        // South group: (20, 110), (21, 112), (22, 111) → centre (21, 111).
        let points = [
            (20.0, 110.0),
            (30.0, 100.0),
            (21.0, 112.0),
            (31.0, 101.0),
            (22.0, 111.0),
            (32.0, 99.0),
        ];
        let k = kmeans2(&points, 1).unwrap();
        assert_eq!(k.centres, [(31.0, 100.0), (21.0, 111.0)]);
        assert_eq!(k.assignment, vec![1, 0, 1, 0, 1, 0]);
        // Squared distances to (31, 100): 1, 1, 2; to (21, 111): 1, 1, 2 (by symmetry).
        assert!((k.inertia - 8.0).abs() < 1e-12);
    }

    #[test]
    fn a_symmetric_middle_point_joins_the_northern_cluster() {
        // On one meridian: -3, -2 | 0 | 2, 3. Putting 0 with either pair gives the same least
        // inertia by symmetry, 42/9 + 1/2 (every other split is larger); the documented rule
        // keeps the smaller assignment vector (0 = north), so the middle point goes north.
        let points = [(-3.0, 0.0), (-2.0, 0.0), (0.0, 0.0), (2.0, 0.0), (3.0, 0.0)];
        let k = kmeans2(&points, 1).unwrap();
        assert_eq!(k.assignment, vec![1, 1, 0, 0, 0]);
        assert!((k.centres[0].0 - 5.0 / 3.0).abs() < 1e-12);
        assert!((k.centres[1].0 + 2.5).abs() < 1e-12);
        assert!((k.inertia - (42.0 / 9.0 + 0.5)).abs() < 1e-12);
    }

    #[test]
    fn kmeans_of_fewer_than_two_distinct_points_is_refused() {
        let err = kmeans2(&[(1.0, 2.0), (1.0, 2.0)], 0).unwrap_err();
        assert!(
            err.to_string().contains("at least two distinct points"),
            "{err}"
        );
    }

    #[test]
    fn kmeans_of_a_point_that_is_not_finite_is_refused() {
        let err = kmeans2(&[(1.0, 2.0), (f64::NAN, 2.0)], 0).unwrap_err();
        assert!(err.to_string().contains("point 1"), "{err}");
    }

    #[test]
    fn a_label_centre_beyond_the_pole_is_refused() {
        let p = ClassParams {
            centre: (95.0, 0.0),
            ..ClassParams::default()
        };
        assert!(
            p.check()
                .unwrap_err()
                .to_string()
                .contains("geomag.labels.centre")
        );
    }

    #[test]
    fn a_label_radius_of_zero_is_refused() {
        let p = ClassParams {
            radius_km: 0.0,
            ..ClassParams::default()
        };
        assert!(
            p.check()
                .unwrap_err()
                .to_string()
                .contains("geomag.labels.radius_km")
        );
    }

    #[test]
    fn a_magnitude_threshold_below_the_minimum_magnitude_is_refused() {
        let p = ClassParams {
            magnitude_threshold: 2.5,
            ..ClassParams::default()
        };
        let err = p.check().unwrap_err().to_string();
        assert!(err.contains("geomag.labels.magnitude_threshold"), "{err}");
    }

    #[test]
    fn a_label_horizon_of_zero_days_is_refused() {
        let p = ClassParams {
            horizon_days: 0,
            ..ClassParams::default()
        };
        let err = p.check().unwrap_err().to_string();
        assert!(err.contains("geomag.labels.horizon_days"), "{err}");
    }

    #[test]
    fn an_aftershock_window_of_zero_days_is_refused() {
        let p = ClassParams {
            aftershocks: Some(AftershockRule {
                days: 0.0,
                distance_km: 50.0,
            }),
            ..ClassParams::default()
        };
        let err = p.check().unwrap_err().to_string();
        assert!(err.contains("geomag.labels.aftershocks"), "{err}");
    }

    #[test]
    fn class_indices_and_names_round_trip() {
        for (i, c) in QuakeClass::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
            assert_eq!(QuakeClass::from_index(i), Some(*c));
        }
        assert_eq!(QuakeClass::from_index(5), None);
        assert_eq!(
            QuakeClass::of_event(Direction::South, false),
            QuakeClass::SouthAtOrBelow
        );
    }
}
