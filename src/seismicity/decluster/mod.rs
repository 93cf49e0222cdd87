//! Declustering: which events of a catalog are mainshocks or independent events, and which are
//! the foreshocks and aftershocks of another (pitfall P4: a b value or an activity label
//! dominated by one aftershock sequence says little about the background).
//!
//! Two methods, both returning a [`Declustering`] (per event: its cluster and whether it is
//! kept):
//!
//! - [`gardner_knopoff()`]: Gardner & Knopoff (1974) space-time windows around each mainshock,
//!   largest first, with the windows of [`windows::WindowTable`] (Gardner-Knopoff, Gruenthal,
//!   Uhrhammer), as SeismoStats' `GardnerKnopoffType1` computes it.
//! - [`reasenberg()`]: Reasenberg (1985) interaction zones linking events in time order.
//!
//! Every event belongs to exactly one cluster, numbered from 1; an event linked to no other is
//! a cluster of its own. Each cluster keeps one event, its mainshock (its largest event), and
//! the declustered catalog is the mainshocks: [`Declustering::kept_catalog`].
//! [`decluster_period`] declusters the events of a period above a magnitude, which is how the
//! command line (`quakelab decluster`) and the experiment (`features.seismicity.decluster`,
//! `labels.decluster`) use it.
//!
//! On a synthetic ETAS catalog, whose background events are known
//! ([`crate::synth::Simulation::background`]), [`BackgroundScore`] measures how well a
//! method finds them.

use std::path::Path;

use crate::catalog::{Catalog, CatalogFilter};
use crate::period::Period;
use crate::{Error, Result};

pub mod gardner_knopoff;
pub mod reasenberg;
pub mod windows;

pub use gardner_knopoff::{GardnerKnopoffParams, ValidGardnerKnopoff, gardner_knopoff};
pub use reasenberg::{ReasenbergParams, ValidReasenberg, reasenberg};
pub use windows::{Window, WindowTable};

/// The Earth's radius in km that the declustering distances use: 6371.227 km, the value of
/// Reasenberg's cluster program, kept by ZMAP, the GEM Hazard Modeller's Toolkit and
/// SeismoStats (whose Gardner-Knopoff haversine uses it). quakelab's own distances use
/// [`crate::geo::EARTH_RADIUS_KM`]; this one keeps the window boundaries where the reference
/// implementations put them.
pub const DECLUSTER_EARTH_RADIUS_KM: f64 = 6371.227;

/// A declustering method's name.
///
/// In an experiment file: `gardner_knopoff`, `reasenberg`; on the command line:
/// `gardner-knopoff`, `reasenberg` (either spelling is accepted in both).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum DeclusterMethod {
    /// Gardner & Knopoff (1974) windows ([`gardner_knopoff()`]).
    #[serde(alias = "gardner-knopoff")]
    #[value(alias = "gardner_knopoff")]
    GardnerKnopoff,
    /// Reasenberg (1985) interaction zones ([`reasenberg()`]).
    Reasenberg,
}

impl DeclusterMethod {
    /// The method's name as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            DeclusterMethod::GardnerKnopoff => "gardner-knopoff",
            DeclusterMethod::Reasenberg => "reasenberg",
        }
    }
}

/// A checked declustering method with its settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Declusterer {
    /// Gardner & Knopoff (1974).
    GardnerKnopoff(ValidGardnerKnopoff),
    /// Reasenberg (1985).
    Reasenberg(ValidReasenberg),
}

impl Declusterer {
    /// Declusters `catalog` (all of its events).
    pub fn decluster(&self, catalog: &Catalog) -> Result<Declustering> {
        match self {
            Declusterer::GardnerKnopoff(params) => gardner_knopoff(catalog, params),
            Declusterer::Reasenberg(params) => reasenberg(catalog, params),
        }
    }

    /// The method's name.
    pub fn method(&self) -> DeclusterMethod {
        match self {
            Declusterer::GardnerKnopoff(_) => DeclusterMethod::GardnerKnopoff,
            Declusterer::Reasenberg(_) => DeclusterMethod::Reasenberg,
        }
    }

    /// The method and its settings in a few words, for logs and run parameters, e.g.
    /// `gardner-knopoff (gardner-knopoff window, fs_time_prop 1)`.
    pub fn describe(&self) -> String {
        match self {
            Declusterer::GardnerKnopoff(valid) => {
                let p = valid.params();
                let cutoff = p
                    .time_cutoff_days
                    .map_or_else(String::new, |d| format!(", time cutoff {d} days"));
                format!(
                    "gardner-knopoff ({} window, fs_time_prop {}{cutoff})",
                    p.window, p.fs_time_prop
                )
            }
            Declusterer::Reasenberg(valid) => {
                let p = valid.params();
                format!(
                    "reasenberg (tau {}-{} days, p {}, xk {}, xmeff {}, rfact {}, errors {} km \
                     and {} km)",
                    p.tau_min_days,
                    p.tau_max_days,
                    p.p,
                    p.xk,
                    p.xmeff,
                    p.rfact,
                    p.epicentre_error_km,
                    p.depth_error_km
                )
            }
        }
    }
}

/// The outcome of a declustering: for each event of the catalog, in its (time) order, its
/// cluster and whether it is its cluster's mainshock.
///
/// Every cluster has exactly one mainshock; the mainshocks are the declustered catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Declustering {
    cluster: Vec<usize>,
    mainshock: Vec<bool>,
    /// Events per cluster, cluster `c` at index `c − 1`.
    sizes: Vec<usize>,
    epicentral_only: usize,
}

impl Declustering {
    /// A declustering from cluster ids (1, 2, … with none skipped) and mainshock flags, one
    /// mainshock per cluster; `epicentral_only` counts events compared by epicentral distance
    /// for want of a depth. Fails if the ids or flags break those rules (a bug in a method).
    pub(crate) fn new(
        cluster: Vec<usize>,
        mainshock: Vec<bool>,
        epicentral_only: usize,
    ) -> Result<Self> {
        let broken = |why: String| Err(Error::Numerical(format!("declustering: {why}")));
        if cluster.len() != mainshock.len() {
            return broken(format!(
                "{} cluster ids for {} mainshock flags",
                cluster.len(),
                mainshock.len()
            ));
        }
        let n_clusters = cluster.iter().copied().max().unwrap_or(0);
        let mut sizes = vec![0usize; n_clusters];
        let mut mainshocks = vec![0usize; n_clusters];
        for (&c, &main) in cluster.iter().zip(&mainshock) {
            if c == 0 {
                return broken("an event without a cluster".into());
            }
            sizes[c - 1] += 1;
            mainshocks[c - 1] += usize::from(main);
        }
        if let Some(c) = mainshocks.iter().position(|&m| m != 1) {
            return broken(format!(
                "cluster {} has {} mainshocks and {} events",
                c + 1,
                mainshocks[c],
                sizes[c]
            ));
        }
        Ok(Declustering {
            cluster,
            mainshock,
            sizes,
            epicentral_only,
        })
    }

    /// The number of events.
    pub fn len(&self) -> usize {
        self.cluster.len()
    }

    /// Whether there are no events.
    pub fn is_empty(&self) -> bool {
        self.cluster.is_empty()
    }

    /// Each event's cluster id (from 1).
    pub fn cluster(&self) -> &[usize] {
        &self.cluster
    }

    /// Whether each event is its cluster's mainshock, i.e. kept in the declustered catalog.
    pub fn mainshock(&self) -> &[bool] {
        &self.mainshock
    }

    /// The number of events in event `i`'s cluster (1 for an independent event).
    pub fn cluster_size(&self, i: usize) -> usize {
        self.sizes[self.cluster[i] - 1]
    }

    /// The counts: events, mainshocks kept, events removed, clusters of more than one event.
    pub fn summary(&self) -> DeclusterSummary {
        let kept = self.mainshock.iter().filter(|&&m| m).count();
        DeclusterSummary {
            events: self.len(),
            kept,
            removed: self.len() - kept,
            clusters_with_members: self.sizes.iter().filter(|&&s| s > 1).count(),
            epicentral_only: self.epicentral_only,
        }
    }

    /// The declustered catalog: the mainshocks of `catalog`, the catalog this declustering was
    /// computed on. Fails if its length differs.
    pub fn kept_catalog(&self, catalog: &Catalog) -> Result<Catalog> {
        self.check_catalog(catalog)?;
        Ok(Catalog::from_events(
            catalog
                .events()
                .iter()
                .zip(&self.mainshock)
                .filter(|(_, main)| **main)
                .map(|(e, _)| *e)
                .collect(),
        ))
    }

    fn check_catalog(&self, catalog: &Catalog) -> Result<()> {
        if catalog.len() != self.len() {
            return Err(Error::Numerical(format!(
                "a declustering of {} events does not describe a catalog of {}",
                self.len(),
                catalog.len()
            )));
        }
        Ok(())
    }

    /// Writes `catalog`'s events with this declustering as CSV, in time order: the columns
    /// `time,latitude,longitude,depth,magnitude,mainshock,cluster,cluster_size` (time as
    /// RFC 3339 UTC, depth empty where unknown, mainshock `true`/`false`). `rows` says whether
    /// every event is written or only the mainshocks. Fails if the catalog is not the one
    /// declustered.
    pub fn write_csv(&self, path: &Path, catalog: &Catalog, rows: Rows) -> Result<()> {
        self.check_catalog(catalog)?;
        crate::io::write_atomic(path, |out| {
            writeln!(
                out,
                "time,latitude,longitude,depth,magnitude,mainshock,cluster,cluster_size"
            )?;
            for (i, e) in catalog.events().iter().enumerate() {
                if rows == Rows::Mainshocks && !self.mainshock[i] {
                    continue;
                }
                let depth = e.depth_km.map(|d| d.to_string()).unwrap_or_default();
                writeln!(
                    out,
                    "{},{},{},{depth},{},{},{},{}",
                    e.time,
                    e.latitude,
                    e.longitude,
                    e.magnitude,
                    self.mainshock[i],
                    self.cluster[i],
                    self.cluster_size(i)
                )?;
            }
            Ok(())
        })
    }
}

/// Which events [`Declustering::write_csv`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// Every event, mainshocks and removed events alike.
    All,
    /// The mainshocks only: the declustered catalog.
    Mainshocks,
}

/// A declustering in numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeclusterSummary {
    /// Events declustered.
    pub events: usize,
    /// Mainshocks (independent events included): the declustered catalog's size.
    pub kept: usize,
    /// Fore- and aftershocks removed: `events − kept`.
    pub removed: usize,
    /// Clusters of more than one event.
    pub clusters_with_members: usize,
    /// Events without a depth, compared by epicentral distance (Reasenberg only).
    pub epicentral_only: usize,
}

impl std::fmt::Display for DeclusterSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} events: {} mainshocks kept ({} clusters of more than one event), {} removed",
            self.events, self.kept, self.clusters_with_members, self.removed
        )?;
        if self.epicentral_only > 0 {
            write!(
                f,
                "; {} events without a depth were compared by epicentral distance",
                self.epicentral_only
            )?;
        }
        Ok(())
    }
}

/// The events of `catalog` inside `period` with `M >= min_magnitude` (every magnitude when
/// `None`), and their declustering by `declusterer`.
pub fn decluster_period(
    catalog: &Catalog,
    period: &Period,
    min_magnitude: Option<f64>,
    declusterer: &Declusterer,
) -> Result<(Catalog, Declustering)> {
    let selected = catalog.filtered(&CatalogFilter {
        period: Some(*period),
        min_magnitude,
        ..CatalogFilter::default()
    });
    let declustering = declusterer.decluster(&selected)?;
    Ok((selected, declustering))
}

/// How well a declustering finds the background events of a catalog whose truth is known (a
/// synthetic ETAS catalog): the kept events are the predicted background.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackgroundScore {
    /// Background events in the catalog.
    pub background: usize,
    /// Events kept by the declustering.
    pub kept: usize,
    /// Kept events that are background events.
    pub kept_background: usize,
}

impl BackgroundScore {
    /// Scores `declustering` against `background` (per event, whether it is a background
    /// event). Fails if the lengths differ.
    pub fn of(declustering: &Declustering, background: &[bool]) -> Result<Self> {
        if background.len() != declustering.len() {
            return Err(Error::Numerical(format!(
                "{} background flags for a declustering of {} events",
                background.len(),
                declustering.len()
            )));
        }
        Ok(BackgroundScore {
            background: background.iter().filter(|&&b| b).count(),
            kept: declustering.summary().kept,
            kept_background: declustering
                .mainshock()
                .iter()
                .zip(background)
                .filter(|(m, b)| **m && **b)
                .count(),
        })
    }

    /// The share of kept events that are background events (NaN when none is kept).
    pub fn precision(&self) -> f64 {
        self.kept_background as f64 / self.kept as f64
    }

    /// The share of background events that are kept (NaN without background events).
    pub fn recall(&self) -> f64 {
        self.kept_background as f64 / self.background as f64
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::catalog::Event;

    /// An event at 10 km depth, for the methods' tests.
    pub(crate) fn event(time: &str, latitude: f64, longitude: f64, magnitude: f64) -> Event {
        Event {
            time: time.parse().unwrap(),
            latitude,
            longitude,
            depth_km: Some(10.0),
            magnitude,
        }
    }

    #[test]
    fn precision_and_recall_count_the_kept_background() {
        // Clusters {0, 1} (mainshock 0) and {2} and {3, 4} (mainshock 4); background 0, 1, 3.
        let d = Declustering::new(vec![1, 1, 2, 3, 3], vec![true, false, true, false, true], 0)
            .unwrap();
        let score = BackgroundScore::of(&d, &[true, true, false, true, false]).unwrap();
        // Kept 0, 2, 4: one of three is background; one of the three background events kept.
        assert_eq!(
            (score.kept, score.background, score.kept_background),
            (3, 3, 1)
        );
        assert!((score.precision() - 1.0 / 3.0).abs() < 1e-15);
        assert!((score.recall() - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(d.cluster_size(3), 2);
        assert_eq!(d.summary().clusters_with_members, 2);
    }

    #[test]
    fn a_cluster_with_two_mainshocks_is_a_broken_declustering() {
        assert!(Declustering::new(vec![1, 1], vec![true, true], 0).is_err());
        assert!(Declustering::new(vec![1, 0], vec![true, false], 0).is_err());
    }
}
