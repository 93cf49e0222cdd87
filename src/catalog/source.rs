//! Where a catalog comes from, and the one function that loads it: [`load`].
//!
//! A source is a CSV file (ComCat, or a generic CSV through a column mapping, given or
//! recognised from the header) or a synthetic scenario. A scenario's catalog is simulated on
//! first use and kept in a cache directory, then read back like any file, so the first and every
//! later use give the same events and the same [`ReadReport`].
//!
//! The cache entry of a scenario catalog is `CACHE/catalog/KEY/catalog.csv`, where `KEY` is
//! [`Scenario::catalog_key`]: a hash of the resolved ETAS parameters, region, seed and period.
//! An edited scenario file therefore gets a new entry, never a stale catalog, and no part of the
//! user's text (a scenario name or path such as `../../x.toml`) enters the path, so nothing is
//! written outside the cache directory.
//!
//! This module sits above the readers ([`crate::io::catalog`]) and the generator
//! ([`crate::synth`]), which it is the one place to combine; the command line and the
//! experiment runner both load through it.

use std::path::{Path, PathBuf};

use tracing::info;

use crate::catalog::Catalog;
use crate::io::catalog::{
    CatalogFormat, ColumnMapping, ReadOptions, ReadReport, Time24h, UtcOffset, read_catalog,
    write_comcat,
};
use crate::period::Period;
use crate::synth::etas::{MAX_SIMULATED_EVENTS, SimReport};
use crate::synth::{Scenario, simulate_catalog_limited};
use crate::{Error, Result};

/// The prefix that names a synthetic source: `synthetic:japan`, `synthetic:path/to/s.toml`.
pub const SYNTHETIC_PREFIX: &str = "synthetic:";

/// Where a catalog comes from.
#[derive(Debug, Clone)]
pub enum CatalogSource {
    /// A CSV file.
    File {
        /// The file.
        path: PathBuf,
        /// The column mapping; `None` detects ComCat or recognises the columns from the header.
        mapping: Option<ColumnMapping>,
    },
    /// A scenario's ETAS catalog (with the scenario's seed).
    Synthetic(Box<Scenario>),
}

impl CatalogSource {
    /// `synthetic:NAME` (a built-in scenario or a scenario file, see [`Scenario::load`]) or the
    /// path of a CSV file read through `mapping`. `seed` replaces a scenario's own seed.
    pub fn parse(text: &str, mapping: Option<ColumnMapping>, seed: Option<u64>) -> Result<Self> {
        match text.strip_prefix(SYNTHETIC_PREFIX) {
            Some(name) => {
                if mapping.is_some() {
                    return Err(Error::config(
                        "columns",
                        format!(
                            "`{text}` is a synthetic catalog; a column mapping applies only to files"
                        ),
                    ));
                }
                let mut scenario = Scenario::load(name)?;
                if let Some(seed) = seed {
                    scenario.seed = seed;
                }
                Ok(CatalogSource::Synthetic(Box::new(scenario)))
            }
            None => Ok(CatalogSource::File {
                path: PathBuf::from(text),
                mapping,
            }),
        }
    }
}

/// Settings of how times are read that override a given or recognised mapping's own (generic
/// CSV files only: a ComCat file's times carry their zone in one fixed layout).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeReading {
    /// A `strftime` layout of the time column(s).
    pub time_format: Option<String>,
    /// The zone of times written without one.
    pub utc_offset: Option<UtcOffset>,
    /// How `24:00:00` is read.
    pub time_24h: Option<Time24h>,
}

impl TimeReading {
    fn apply(&self, mapping: &mut ColumnMapping) {
        if let Some(format) = &self.time_format {
            mapping.time_format = Some(format.clone());
        }
        if let Some(offset) = self.utc_offset {
            mapping.utc_offset = Some(offset);
        }
        if let Some(rule) = self.time_24h {
            mapping.time_24h = rule;
        }
    }
}

/// How [`load`] reads a catalog.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Filter, event types, leniency and duplicates, as for [`read_catalog`].
    pub read: ReadOptions,
    /// Overrides of the mapping's time settings (files only).
    pub time: TimeReading,
    /// The directory synthetic catalogs are cached under (`results/cache` by default).
    pub cache_dir: PathBuf,
    /// The largest simulation allowed, in expected events (see
    /// [`crate::synth::etas::simulate_limited`]).
    pub max_events: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            read: ReadOptions::default(),
            time: TimeReading::default(),
            cache_dir: PathBuf::from("results").join("cache"),
            max_events: MAX_SIMULATED_EVENTS,
        }
    }
}

/// Loads the catalog of `source` for `period`: reads the file, or simulates the scenario over
/// `period` (once; later calls read the cache entry). Returns the catalog and the reader's
/// report on every row.
pub fn load(
    source: &CatalogSource,
    period: &Period,
    options: &LoadOptions,
) -> Result<(Catalog, ReadReport)> {
    let (path, format) = match source {
        CatalogSource::File { path, mapping } => {
            let mut format = match mapping {
                Some(mapping) => CatalogFormat::Generic(mapping.clone()),
                None => CatalogFormat::detect(path)?,
            };
            // ComCat writes UTC times with a zone in one layout; the overrides are for the
            // generic CSVs that need them.
            if let CatalogFormat::Generic(mapping) = &mut format {
                options.time.apply(mapping);
            }
            (path.clone(), format)
        }
        CatalogSource::Synthetic(scenario) => {
            let path = cached_synthetic_catalog(scenario, period, options)?;
            (path, CatalogFormat::Comcat)
        }
    };
    read_catalog(&path, &format, &options.read)
}

/// The cache entry of `scenario`'s catalog over `period` under `cache_dir`:
/// `cache_dir/catalog/KEY/catalog.csv` with `KEY` = [`Scenario::catalog_key`].
pub fn synthetic_cache_path(
    scenario: &Scenario,
    period: &Period,
    cache_dir: &Path,
) -> Result<PathBuf> {
    Ok(cache_dir
        .join("catalog")
        .join(scenario.catalog_key(period)?)
        .join("catalog.csv"))
}

/// The path of `scenario`'s cached catalog over `period`, simulating and writing it first if
/// the cache has no entry yet.
fn cached_synthetic_catalog(
    scenario: &Scenario,
    period: &Period,
    options: &LoadOptions,
) -> Result<PathBuf> {
    let path = synthetic_cache_path(scenario, period, &options.cache_dir)?;
    if path.exists() {
        info!(path = %path.display(), scenario = %scenario.name, "synthetic catalog from the cache");
    } else {
        let report = write_synthetic_catalog(scenario, period, &path, options.max_events)?;
        info!(path = %path.display(), "{report}");
    }
    Ok(path)
}

/// Simulates `scenario`'s catalog over `period` and writes it as ComCat CSV at `path`
/// (atomically), refusing a scenario expected to draw more than `max_events` events.
pub fn write_synthetic_catalog(
    scenario: &Scenario,
    period: &Period,
    path: &Path,
    max_events: usize,
) -> Result<SimReport> {
    info!(scenario = %scenario.name, %period, "simulating an ETAS catalog");
    let (catalog, report) = simulate_catalog_limited(scenario, period, max_events)?;
    write_comcat(path, &catalog)?;
    Ok(report)
}
