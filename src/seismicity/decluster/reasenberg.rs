//! Reasenberg (1985) declustering: clusters grown by interaction zones in space and time.
//!
//! SeismoStats 1.0.1 has no Reasenberg method; this follows the published algorithm
//! (Reasenberg 1985, JGR 90(B7), 5479-5495) in the form of ZMAP's `declus` (A. Allmann's port
//! of Reasenberg's cluster program), with its parameter names and defaults:
//!
//! - Events are taken in time order. Event `i` looks ahead `τ` days: `τ_min` if it is in no
//!   cluster or is the largest event of its cluster so far; otherwise the time within which,
//!   with probability `p`, the cluster's next event is expected from Omori's law,
//!   `τ = −ln(1 − p) · t / 10^(2 (ΔM − 1) / 3)`, where `t` is the time since the cluster's
//!   largest event and `ΔM = max((1 − xk) · M_largest − xmeff, 0)` is how far the largest
//!   event stands above the effective (cluster-raised) magnitude threshold; `τ` is clipped to
//!   `[τ_min, τ_max]`.
//! - An event within `τ` after `i` (strictly less) and not already in `i`'s cluster is linked
//!   to `i` when its hypocentral distance from `i` is at most `rfact` crack radii of `i`, or,
//!   when `i` is in a cluster, its distance from the cluster's largest event is at most one
//!   crack radius of that event (0 km, i.e. within the location errors, while `τ = τ_min`, as
//!   ZMAP has it). The crack radius is `0.011 · 10^(0.4 M)` km (Kanamori & Anderson 1975).
//! - Distances follow Reasenberg's program: the epicentral arc on the sphere of geocentric
//!   latitudes (flattening factor 0.993231), times a radius of
//!   [`DECLUSTER_EARTH_RADIUS_KM`]` · (1 + 3.37853e-3 (1/3 − cos² θ))` at the pair's mean
//!   colatitude `θ`; the epicentral distance less 1.5 epicentre errors and the depth difference
//!   less one depth error (each floored at 0) make the hypocentral distance. An event without
//!   a depth is compared by epicentral distance, and counted in the summary.
//! - Linked events join `i`'s cluster, or a new one; when they already belong to other
//!   clusters, those clusters merge into the one with the smallest number.
//!
//! The declustered catalog keeps the events in no cluster and each cluster's largest event (of
//! equal magnitudes, the latest, as ZMAP's `>=` update keeps it). One departure from ZMAP: its
//! record of a cluster's largest event (which sets `τ`) is updated only when an event is
//! processed, so after a merge it can name an event smaller than the merged cluster's largest;
//! here the record follows every merge and join, as the paper's "largest event in the
//! cluster" reads. Clusters are numbered from 1 in the order of their first event, an event in
//! no cluster being a cluster of its own.

use crate::catalog::{Catalog, Event};
use crate::seismicity::decluster::{DECLUSTER_EARTH_RADIUS_KM, Declustering};
use crate::{Result, ensure_config};

/// Settings of Reasenberg declustering (unchecked; see [`ReasenbergParams::check`]). The
/// defaults are Reasenberg's (1985) and ZMAP's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReasenbergParams {
    /// The look-ahead time of an event in no cluster, in days (1).
    pub tau_min_days: f64,
    /// The longest look-ahead time within a cluster, in days (10).
    pub tau_max_days: f64,
    /// The confidence of observing the cluster's next event within the look-ahead time (0.95).
    pub p: f64,
    /// The share of the largest magnitude by which a cluster raises the effective magnitude
    /// threshold (0.5).
    pub xk: f64,
    /// The catalog's effective minimum magnitude (1.5).
    pub xmeff: f64,
    /// The interaction radius of an event, in crack radii (10).
    pub rfact: f64,
    /// The epicentre location error in km (1.5); 1.5 times it is allowed for.
    pub epicentre_error_km: f64,
    /// The depth location error in km (2).
    pub depth_error_km: f64,
}

impl Default for ReasenbergParams {
    fn default() -> Self {
        ReasenbergParams {
            tau_min_days: 1.0,
            tau_max_days: 10.0,
            p: 0.95,
            xk: 0.5,
            xmeff: 1.5,
            rfact: 10.0,
            epicentre_error_km: 1.5,
            depth_error_km: 2.0,
        }
    }
}

impl ReasenbergParams {
    /// Checks the settings: `0 < tau_min_days <= tau_max_days` (finite), `0 < p < 1`,
    /// `0 <= xk <= 1`, `xmeff` finite, `rfact > 0`, errors finite and non-negative. Errors
    /// name the key `decluster.KEY`.
    pub fn check(self) -> Result<ValidReasenberg> {
        ensure_config!(
            self.tau_min_days.is_finite() && self.tau_min_days > 0.0,
            "decluster.tau_min_days",
            "must be a positive number of days, got {}",
            self.tau_min_days
        );
        ensure_config!(
            self.tau_max_days.is_finite() && self.tau_max_days >= self.tau_min_days,
            "decluster.tau_max_days",
            "must be at least tau_min_days ({}), got {}",
            self.tau_min_days,
            self.tau_max_days
        );
        ensure_config!(
            self.p > 0.0 && self.p < 1.0,
            "decluster.p",
            "is a probability strictly between 0 and 1, got {}",
            self.p
        );
        ensure_config!(
            (0.0..=1.0).contains(&self.xk),
            "decluster.xk",
            "must lie in [0, 1], got {}",
            self.xk
        );
        ensure_config!(
            self.xmeff.is_finite(),
            "decluster.xmeff",
            "must be a finite magnitude, got {}",
            self.xmeff
        );
        ensure_config!(
            self.rfact.is_finite() && self.rfact > 0.0,
            "decluster.rfact",
            "must be a positive number of crack radii, got {}",
            self.rfact
        );
        for (key, value) in [
            ("decluster.epicentre_error_km", self.epicentre_error_km),
            ("decluster.depth_error_km", self.depth_error_km),
        ] {
            ensure_config!(
                value.is_finite() && value >= 0.0,
                key,
                "must be a non-negative number of km, got {value}"
            );
        }
        Ok(ValidReasenberg(self))
    }
}

/// Checked Reasenberg settings: made only by [`ReasenbergParams::check`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidReasenberg(ReasenbergParams);

impl ValidReasenberg {
    /// The checked settings.
    pub fn params(&self) -> &ReasenbergParams {
        &self.0
    }
}

/// The crack radius of an event of magnitude `m` in km, `0.011 · 10^(0.4 m)`.
fn crack_radius_km(m: f64) -> f64 {
    0.011 * 10f64.powf(0.4 * m)
}

/// The hypocentral distance in km between `a` and `b` as Reasenberg's program measures it,
/// the location errors allowed for (see the module docs); epicentral when a depth is missing.
fn distance_km(a: &Event, b: &Event, params: &ReasenbergParams) -> f64 {
    const HALF_PI: f64 = std::f64::consts::FRAC_PI_2;
    const FLATTENING: f64 = 0.993231;
    let geocentric_colatitude = |latitude: f64| HALF_PI - (FLATTENING * latitude.tan()).atan();
    let (lat_a, lat_b) = (a.latitude.to_radians(), b.latitude.to_radians());
    let (col_a, col_b) = (geocentric_colatitude(lat_a), geocentric_colatitude(lat_b));
    let dlon = (b.longitude - a.longitude).to_radians();
    let cos_arc = col_a.sin() * col_b.sin() * dlon.cos() + col_a.cos() * col_b.cos();
    let arc = cos_arc.clamp(-1.0, 1.0).acos();
    let mean_colatitude = HALF_PI - 0.5 * (lat_a + lat_b);
    let radius = DECLUSTER_EARTH_RADIUS_KM
        * (1.0 + 3.37853e-3 * (1.0 / 3.0 - mean_colatitude.cos().powi(2)));
    let horizontal = (arc * radius - 1.5 * params.epicentre_error_km).max(0.0);
    match (a.depth_km, b.depth_km) {
        (Some(za), Some(zb)) => {
            let vertical = ((za - zb).abs() - params.depth_error_km).max(0.0);
            horizontal.hypot(vertical)
        }
        _ => horizontal,
    }
}

/// A cluster's record while the clusters grow: its largest event so far.
#[derive(Debug, Clone, Copy)]
struct Largest {
    magnitude: f64,
    event: usize,
}

/// The look-ahead time in days of an event `days_since_largest` after its cluster's largest
/// event of magnitude `largest`, before clipping.
fn look_ahead_days(largest: f64, days_since_largest: f64, params: &ReasenbergParams) -> f64 {
    let delta_m = ((1.0 - params.xk) * largest - params.xmeff).max(0.0);
    -(1.0 - params.p).ln() * days_since_largest / 10f64.powf(2.0 * (delta_m - 1.0) / 3.0)
}

/// Declusters `catalog` by Reasenberg (1985) (see the module docs).
pub fn reasenberg(catalog: &Catalog, params: &ValidReasenberg) -> Result<Declustering> {
    let params = &params.0;
    let events = catalog.events();
    let n = events.len();
    let t0 = events.first().map_or(0, |e| e.time.as_nanosecond());
    let days: Vec<f64> = events
        .iter()
        .map(|e| (e.time.as_nanosecond() - t0) as f64 / 86_400e9)
        .collect();
    let crack: Vec<f64> = events
        .iter()
        .map(|e| crack_radius_km(e.magnitude))
        .collect();
    // 0: in no cluster yet; clusters are numbered from 1, `largest[c]` and `members[c]` theirs.
    let mut clus = vec![0usize; n];
    let mut largest: Vec<Largest> = vec![Largest {
        magnitude: f64::NEG_INFINITY,
        event: 0,
    }];
    let mut members: Vec<Vec<usize>> = vec![Vec::new()];
    for i in 0..n.saturating_sub(1) {
        let mut k = clus[i];
        let tau = if k == 0 {
            params.tau_min_days
        } else if events[i].magnitude >= largest[k].magnitude {
            largest[k] = Largest {
                magnitude: events[i].magnitude,
                event: i,
            };
            params.tau_min_days
        } else {
            let since = days[i] - days[largest[k].event];
            look_ahead_days(largest[k].magnitude, since, params)
                .clamp(params.tau_min_days, params.tau_max_days)
        };
        // Around the cluster's largest event: one crack radius once the look-ahead grew, else
        // only its location errors (ZMAP tests `distance <= 0` there).
        let around_largest = (k != 0).then(|| {
            let b = largest[k].event;
            let reach = if tau == params.tau_min_days {
                0.0
            } else {
                crack[b]
            };
            (b, reach)
        });
        let mut linked = Vec::new();
        for j in i + 1..n {
            if days[j] - days[i] >= tau {
                break;
            }
            if k != 0 && clus[j] == k {
                continue;
            }
            let near_recent =
                distance_km(&events[i], &events[j], params) <= params.rfact * crack[i];
            let near_largest = around_largest
                .is_some_and(|(b, reach)| distance_km(&events[b], &events[j], params) <= reach);
            if near_recent || near_largest {
                linked.push(j);
            }
        }
        if linked.is_empty() {
            continue;
        }
        let mut related: Vec<usize> = linked
            .iter()
            .map(|&j| clus[j])
            .filter(|&c| c != 0 && c != k)
            .collect();
        if !related.is_empty() {
            if k != 0 {
                related.push(k);
            }
            related.sort_unstable();
            related.dedup();
            let target = related[0];
            for &c in &related[1..] {
                let moved = std::mem::take(&mut members[c]);
                for &m in &moved {
                    clus[m] = target;
                }
                members[target].extend(moved);
                let other = largest[c];
                if other.magnitude > largest[target].magnitude
                    || (other.magnitude == largest[target].magnitude
                        && other.event > largest[target].event)
                {
                    largest[target] = other;
                }
            }
            k = target;
        }
        if k == 0 {
            largest.push(Largest {
                magnitude: f64::NEG_INFINITY,
                event: i,
            });
            members.push(Vec::new());
            k = largest.len() - 1;
        }
        for j in std::iter::once(i).chain(linked) {
            if clus[j] == 0 {
                clus[j] = k;
                members[k].push(j);
            }
            if events[j].magnitude >= largest[k].magnitude && j <= i {
                largest[k] = Largest {
                    magnitude: events[j].magnitude,
                    event: j,
                };
            }
        }
    }
    let without_depth = events.iter().filter(|e| e.depth_km.is_none()).count();
    Declustering::new_from_raw(events, &clus, without_depth)
}

impl Declustering {
    /// The declustering of raw cluster labels (0 for an event in no cluster): every event in
    /// no cluster is a mainshock, and each cluster's largest event (the latest of equals);
    /// clusters renumbered from 1 in the order of their first event.
    fn new_from_raw(events: &[Event], raw: &[usize], epicentral_only: usize) -> Result<Self> {
        let n_raw = raw.iter().copied().max().unwrap_or(0);
        let mut main_of_raw: Vec<Option<usize>> = vec![None; n_raw + 1];
        for (j, &c) in raw.iter().enumerate() {
            if c != 0 && main_of_raw[c].is_none_or(|m| events[j].magnitude >= events[m].magnitude) {
                main_of_raw[c] = Some(j);
            }
        }
        let mut id_of_raw = vec![0usize; n_raw + 1];
        let mut next = 1;
        let mut cluster = Vec::with_capacity(raw.len());
        let mut mainshock = Vec::with_capacity(raw.len());
        for (j, &c) in raw.iter().enumerate() {
            if c == 0 {
                cluster.push(next);
                mainshock.push(true);
                next += 1;
                continue;
            }
            if id_of_raw[c] == 0 {
                id_of_raw[c] = next;
                next += 1;
            }
            cluster.push(id_of_raw[c]);
            mainshock.push(main_of_raw[c] == Some(j));
        }
        Declustering::new(cluster, mainshock, epicentral_only)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seismicity::decluster::tests::event;

    fn decluster(events: Vec<Event>) -> Declustering {
        let params = ReasenbergParams::default().check().unwrap();
        reasenberg(&Catalog::from_events(events), &params).unwrap()
    }

    #[test]
    fn the_crack_radius_and_the_look_ahead_time_follow_the_paper() {
        // 0.011 · 10^(0.4 · 5) = 1.1 km.
        assert!((crack_radius_km(5.0) - 1.1).abs() < 1e-12);
        // M 6 largest, xk 0.5, xmeff 1.5: ΔM = 1.5, 10^(2 · 0.5 / 3) = 10^(1/3); one day after
        // it, τ = −ln(0.05) / 10^(1/3) = 2.995732 / 2.154435 = 1.390492 days.
        let params = ReasenbergParams::default();
        let tau = look_ahead_days(6.0, 1.0, &params);
        assert!((tau - 2.995_732_273_553_991 / 10f64.powf(1.0 / 3.0)).abs() < 1e-12);
    }

    #[test]
    fn distances_allow_for_the_location_errors() {
        // Same epicentre, depths 10 and 15 km: 5 − 2 = 3 km. At the equator, 0.1° of longitude
        // apart at one depth: the geocentric colatitude is 90°, the radius 6371.227 ·
        // (1 + 3.37853e-3 / 3), the arc 0.1° in radians; less 2.25 km.
        let params = ReasenbergParams::default();
        let mut deep = event("2020-01-01T00:00:00Z", 35.0, 140.0, 3.0);
        deep.depth_km = Some(15.0);
        let shallow = event("2020-01-01T00:00:00Z", 35.0, 140.0, 3.0);
        assert!((distance_km(&shallow, &deep, &params) - 3.0).abs() < 1e-9);
        let a = event("2020-01-01T00:00:00Z", 0.0, 0.0, 3.0);
        let b = event("2020-01-01T00:00:00Z", 0.0, 0.1, 3.0);
        let expected = 0.1f64.to_radians() * 6371.227 * (1.0 + 3.37853e-3 / 3.0) - 2.25;
        assert!((distance_km(&a, &b, &params) - expected).abs() < 1e-6);
    }

    #[test]
    fn an_aftershock_sequence_is_one_cluster_kept_as_its_largest_event() {
        // An M 4.0 (crack radius 0.011 · 10^1.6 = 0.437 km, interaction 4.37 km), then within
        // a day an M 5.0 2 km away (linked: 2 − 2.25 < 0 km), then an M 3.0 half a day after
        // that, 20 km away: the M 5's own zone is 11 km, so it is not linked. An M 3.0 thirty
        // days later at the first epicentre is beyond every look-ahead (at most 10 days).
        let km = 1.0 / 111.2;
        let d = decluster(vec![
            event("2020-01-01T00:00:00Z", 0.0, 0.0, 4.0),
            event("2020-01-01T12:00:00Z", 2.0 * km, 0.0, 5.0),
            event("2020-01-02T00:00:00Z", 20.0 * km, 0.0, 3.0),
            event("2020-01-31T00:00:00Z", 0.0, 0.0, 3.0),
        ]);
        assert_eq!(d.mainshock(), [false, true, true, true]);
        assert_eq!(d.cluster(), [1, 1, 2, 3]);
    }

    fn refusal(params: ReasenbergParams) -> String {
        params.check().unwrap_err().to_string()
    }

    #[test]
    fn a_look_ahead_of_zero_days_is_refused() {
        let err = refusal(ReasenbergParams {
            tau_min_days: 0.0,
            ..ReasenbergParams::default()
        });
        assert_eq!(
            err,
            "setting `decluster.tau_min_days`: must be a positive number of days, got 0"
        );
    }

    #[test]
    fn a_certain_next_event_is_refused() {
        let err = refusal(ReasenbergParams {
            p: 1.0,
            ..ReasenbergParams::default()
        });
        assert_eq!(
            err,
            "setting `decluster.p`: is a probability strictly between 0 and 1, got 1"
        );
    }

    #[test]
    fn a_threshold_share_above_one_is_refused() {
        let err = refusal(ReasenbergParams {
            xk: 1.5,
            ..ReasenbergParams::default()
        });
        assert_eq!(err, "setting `decluster.xk`: must lie in [0, 1], got 1.5");
    }

    #[test]
    fn an_effective_magnitude_that_is_not_a_number_is_refused() {
        let err = refusal(ReasenbergParams {
            xmeff: f64::NAN,
            ..ReasenbergParams::default()
        });
        assert_eq!(
            err,
            "setting `decluster.xmeff`: must be a finite magnitude, got NaN"
        );
    }

    #[test]
    fn an_interaction_radius_of_zero_crack_radii_is_refused() {
        let err = refusal(ReasenbergParams {
            rfact: 0.0,
            ..ReasenbergParams::default()
        });
        assert_eq!(
            err,
            "setting `decluster.rfact`: must be a positive number of crack radii, got 0"
        );
    }

    #[test]
    fn a_negative_location_error_is_refused() {
        let err = refusal(ReasenbergParams {
            depth_error_km: -1.0,
            ..ReasenbergParams::default()
        });
        assert_eq!(
            err,
            "setting `decluster.depth_error_km`: must be a non-negative number of km, got -1"
        );
    }

    #[test]
    fn a_look_ahead_of_less_than_a_day_is_refused() {
        let err = ReasenbergParams {
            tau_max_days: 0.5,
            ..ReasenbergParams::default()
        }
        .check()
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "setting `decluster.tau_max_days`: must be at least tau_min_days (1), got 0.5"
        );
    }
}
