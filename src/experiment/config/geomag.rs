//! The second method's sections (papers.md §B): `method = "vgg12_geomag"` with `data.geomag`,
//! `[geomag]` (anomaly index, maps, classes) and `[classify]` (VGG-12, its training and the
//! augmentation), and their resolution into [`Vgg12Settings`].
//!
//! The sections sit in every effective file with their defaults, but the config hash of a
//! `geovit_pfn` experiment leaves them out (see [`super::config_hash`]), so the hashes of
//! files written before the second method existed are unchanged.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{TextOr, data_path, synthetic};
use crate::catalog::Region;
use crate::classify::{AugmentSettings, TrainSettings, Vgg12Config};
use crate::geomag::GeomagStation;
use crate::geomag::anomaly::{AnomalyParams, ValidAnomalyParams};
use crate::geomag::contour::{Interpolation, MapSpec, ValidMapSpec, bounds_around};
use crate::geomag::labels::ClassParams;
use crate::synth::Scenario;
use crate::{Error, Result, ensure_config};

/// Which of the two methods an experiment runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodName {
    /// GeoViT-PFN (papers.md §A): GNSS images and b/a values to a daily activity label.
    #[default]
    GeovitPfn,
    /// VGG-12 (papers.md §B): geomagnetic-anomaly maps to one of five event classes.
    Vgg12Geomag,
}

impl MethodName {
    /// The name in files (`geovit_pfn`, `vgg12_geomag`).
    pub fn name(self) -> &'static str {
        match self {
            MethodName::GeovitPfn => "geovit_pfn",
            MethodName::Vgg12Geomag => "vgg12_geomag",
        }
    }
}

/// `data.geomag`: the magnetometer network's series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum GeomagFiles {
    /// A directory of INTERMAGNET IAGA-2002 files (each names its station and position).
    Iaga2002(String),
    /// The documented station CSV ([`crate::io::geomag`]) and its station metadata CSV.
    Csv {
        /// The series, `station,time,<components>`.
        series: String,
        /// The stations, `station,latitude,longitude`.
        stations: String,
    },
}

/// `[geomag]`: from station values to labelled maps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeomagSection {
    /// The component whose daily mean is mapped (`F`, total intensity, by default).
    pub component: char,
    /// Days with fewer samples than this are missing at a station (real minute data: 1440 a
    /// day).
    pub min_samples_per_day: usize,
    /// The planted anomalies' strength, replacing the synthetic scenario's
    /// `geomag.strength` (0 plants none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strength: Option<f64>,
    /// The per-station anomaly index.
    pub anomaly: AnomalyParams,
    /// The contour maps.
    pub map: MapSection,
    /// The event classes.
    pub labels: ClassParams,
}

impl Default for GeomagSection {
    fn default() -> Self {
        GeomagSection {
            component: 'F',
            min_samples_per_day: 720,
            strength: None,
            anomaly: AnomalyParams::default(),
            map: MapSection::default(),
            labels: ClassParams::default(),
        }
    }
}

/// `[geomag.map]`: the contour maps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MapSection {
    /// Pixels per side (480 in the paper).
    pub size: usize,
    /// Contour lines per map.
    pub levels: usize,
    /// `idw` (inverse-distance weighting) or `gaussian`.
    pub interpolation: InterpolationName,
    /// The power of inverse-distance weighting.
    pub power: f64,
    /// The Gaussian kernel's width in km.
    pub sigma_km: f64,
    /// The index values mapped to the ends of the grey scale, ±`clip` (in nT, or in units of
    /// the trailing scale with `geomag.anomaly.standardise`).
    pub clip: f64,
    /// The margin around the stations' box, in degrees.
    pub margin_degrees: f64,
    /// The value of contour-line pixels in the classifier's images, in `[0, 1]`.
    pub line_value: f32,
}

impl Default for MapSection {
    fn default() -> Self {
        MapSection {
            size: 480,
            levels: 10,
            interpolation: InterpolationName::Idw,
            power: 2.0,
            sigma_km: 30.0,
            clip: 3.0,
            margin_degrees: 0.1,
            line_value: 0.0,
        }
    }
}

/// An interpolation's name in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterpolationName {
    /// Inverse-distance weighting with `geomag.map.power`.
    Idw,
    /// A Gaussian kernel of width `geomag.map.sigma_km`.
    Gaussian,
}

/// When the training images are augmented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AugmentOrder {
    /// Split the days first, then augment the training days only (no copy of a test day is
    /// trained on).
    SplitThenAugment,
    /// The paper's order: augment every day, then split the images at random, so copies of a
    /// test day are trained on (leakage, shown beside the honest order).
    AugmentThenSplit,
}

impl AugmentOrder {
    /// The name in files and tables.
    pub fn name(self) -> &'static str {
        match self {
            AugmentOrder::SplitThenAugment => "split_then_augment",
            AugmentOrder::AugmentThenSplit => "augment_then_split",
        }
    }
}

/// `[classify]`: VGG-12, its training and the augmentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassifySection {
    /// The network.
    pub vgg12: Vgg12Config,
    /// The optimiser, epochs and early stopping.
    pub train: TrainSettings,
    /// The augmentation of the training images.
    pub augment: AugmentSettings,
    /// The orders evaluated: `split_then_augment` (honest, the default) and, to show its
    /// leakage, the paper's `augment_then_split` (with the random split only).
    pub orders: Vec<AugmentOrder>,
    /// The fraction of the training days (the latest ones, under a time-ordered split) held
    /// out for early stopping.
    pub validation_fraction: f64,
}

impl Default for ClassifySection {
    fn default() -> Self {
        ClassifySection {
            vgg12: Vgg12Config::default(),
            train: TrainSettings::default(),
            augment: AugmentSettings::default(),
            orders: vec![AugmentOrder::SplitThenAugment],
            validation_fraction: 0.15,
        }
    }
}

/// Where the network's series come from, resolved.
#[derive(Debug, Clone)]
pub enum GeomagSource {
    /// A scenario's simulated network (its `[geomag]` section).
    Synthetic(Box<Scenario>),
    /// A directory of IAGA-2002 files.
    Iaga2002(PathBuf),
    /// The station CSV and its metadata.
    Csv {
        /// The series.
        series: PathBuf,
        /// The stations.
        stations: PathBuf,
    },
}

/// The checked settings of a `vgg12_geomag` experiment.
#[derive(Debug, Clone)]
pub struct Vgg12Settings {
    /// The network's series.
    pub geomag: GeomagSource,
    /// The same network without planted anomalies (`ablations.null_scenario`).
    pub null_geomag: Option<GeomagSource>,
    /// The mapped component.
    pub component: char,
    /// The minimum samples of a station-day.
    pub min_samples_per_day: usize,
    /// The anomaly index.
    pub anomaly: ValidAnomalyParams,
    /// The maps, checked but for their bounds, which come from the stations
    /// ([`Vgg12Settings::map_spec`]).
    pub map: MapSection,
    /// The classes.
    pub classes: ClassParams,
    /// The network.
    pub vgg12: Vgg12Config,
    /// Its training.
    pub train: TrainSettings,
    /// The augmentation.
    pub augment: AugmentSettings,
    /// The augmentation orders evaluated.
    pub orders: Vec<AugmentOrder>,
    /// The validation fraction of the training days.
    pub validation_fraction: f64,
}

impl Vgg12Settings {
    /// The map settings over `bounds` (from [`bounds_around`] the stations, widened by
    /// `geomag.map.margin_degrees`).
    pub fn map_spec(&self, stations: &[GeomagStation]) -> Result<ValidMapSpec> {
        let bounds = bounds_around(stations, self.map.margin_degrees)?;
        map_spec(&self.map, bounds).check()
    }
}

/// The map settings of `[geomag.map]` over `bounds`.
fn map_spec(m: &MapSection, bounds: Region) -> MapSpec {
    let interpolation = match m.interpolation {
        InterpolationName::Idw => Interpolation::InverseDistance { power: m.power },
        InterpolationName::Gaussian => Interpolation::Gaussian {
            sigma_km: m.sigma_km,
        },
    };
    MapSpec {
        size: m.size,
        bounds,
        levels: m.levels,
        interpolation,
        clip: m.clip,
        line_value: m.line_value,
    }
}

/// Resolves the second method's sections. `null` asks for the planted-anomaly null.
pub(super) fn resolve_vgg12(
    geomag_files: Option<&TextOr<GeomagFiles>>,
    section: &GeomagSection,
    classify: &ClassifySection,
    null: bool,
    real: Option<&Path>,
) -> Result<Vgg12Settings> {
    let files = geomag_files.ok_or_else(|| {
        Error::config(
            "data.geomag",
            "the vgg12_geomag method needs a magnetometer network: `synthetic:NAME`, \
             `{ iaga2002 = DIR }` or `{ csv = { series = FILE, stations = FILE } }`",
        )
    })?;
    let mut geomag = match files {
        TextOr::Text(text) => {
            let scenario = synthetic(text, "data.geomag")?.ok_or_else(|| {
                Error::config(
                    "data.geomag",
                    format!(
                        "`{text}`: expected `synthetic:NAME`, `{{ iaga2002 = DIR }}` or \
                         `{{ csv = {{ series = FILE, stations = FILE }} }}`"
                    ),
                )
            })?;
            ensure_config!(
                scenario.geomag.is_some(),
                "data.geomag",
                "scenario `{}` has no [geomag] network",
                scenario.name
            );
            GeomagSource::Synthetic(scenario)
        }
        TextOr::Table(GeomagFiles::Iaga2002(dir)) => {
            GeomagSource::Iaga2002(data_path(dir, "data.geomag.iaga2002", real)?)
        }
        TextOr::Table(GeomagFiles::Csv { series, stations }) => GeomagSource::Csv {
            series: data_path(series, "data.geomag.csv.series", real)?,
            stations: data_path(stations, "data.geomag.csv.stations", real)?,
        },
    };
    if let Some(strength) = section.strength {
        let GeomagSource::Synthetic(scenario) = &mut geomag else {
            return Err(Error::config(
                "geomag.strength",
                "needs a synthetic network (`data.geomag = \"synthetic:NAME\"`)",
            ));
        };
        ensure_config!(
            strength.is_finite() && strength >= 0.0,
            "geomag.strength",
            "must be finite and at least 0, got {strength}"
        );
        if let Some(network) = &mut scenario.geomag {
            network.strength = strength;
        }
    }
    let null_geomag = if null {
        let GeomagSource::Synthetic(scenario) = &geomag else {
            return Err(Error::config(
                "ablations.null_scenario",
                "needs a synthetic network (`data.geomag = \"synthetic:NAME\"`): a real network has no null",
            ));
        };
        let mut null = scenario.clone();
        if let Some(network) = &mut null.geomag {
            network.strength = 0.0;
        }
        null.name = format!("{}-without-anomalies", scenario.name);
        Some(GeomagSource::Synthetic(null))
    } else {
        None
    };
    ensure_config!(
        section.component.is_ascii_alphabetic(),
        "geomag.component",
        "`{}` is not a component letter (F, H, X, Y, Z, ...)",
        section.component
    );
    let anomaly = section.anomaly.check()?;
    let m = &section.map;
    // The bounds come from the stations at run time; a box around the centre stands in for
    // them here so that every other key is checked before any work.
    let (lat, lon) = section.labels.centre;
    let stand_in = Region::new(lon - 1.0, lon + 1.0, lat - 1.0, lat + 1.0)
        .map_err(|e| Error::config("geomag.labels.centre", e.to_string()))?;
    map_spec(m, stand_in).check()?;
    ensure_config!(
        m.margin_degrees.is_finite() && m.margin_degrees > 0.0,
        "geomag.map.margin_degrees",
        "must be a positive number of degrees, got {}",
        m.margin_degrees
    );
    section.labels.check()?;
    let mut vgg12 = classify.vgg12;
    ensure_config!(
        vgg12.image_size == Vgg12Config::default().image_size || vgg12.image_size == m.size,
        "classify.vgg12.image_size",
        "is the map size: set geomag.map.size ({}) instead",
        m.size
    );
    vgg12.image_size = m.size;
    vgg12.check()?;
    classify.train.check()?;
    ensure_config!(
        classify.train.seed == 0,
        "classify.train.seed",
        "is derived from the experiment's `seed` for each training; set `seed` instead"
    );
    classify.augment.check()?;
    ensure_config!(
        !classify.orders.is_empty(),
        "classify.orders",
        "list at least one order"
    );
    super::ensure_distinct(&classify.orders, "classify.orders")?;
    ensure_config!(
        classify.validation_fraction > 0.0 && classify.validation_fraction < 1.0,
        "classify.validation_fraction",
        "must lie strictly between 0 and 1, got {}",
        classify.validation_fraction
    );
    Ok(Vgg12Settings {
        geomag,
        null_geomag,
        component: section.component,
        min_samples_per_day: section.min_samples_per_day,
        anomaly,
        map: m.clone(),
        classes: section.labels,
        vgg12,
        train: classify.train,
        augment: classify.augment,
        orders: classify.orders.clone(),
        validation_fraction: classify.validation_fraction,
    })
}
