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
use crate::classify::{AugmentSettings, ClassWeights, TrainSettings, Vgg12Config};
use crate::geomag::anomaly::{AnomalyParams, ValidAnomalyParams};
use crate::geomag::contour::{Interpolation, MapSpec};
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
    pub labels: ClassSection,
}

impl Default for GeomagSection {
    fn default() -> Self {
        GeomagSection {
            component: 'F',
            min_samples_per_day: 720,
            strength: None,
            anomaly: AnomalyParams::default(),
            map: MapSection::default(),
            labels: ClassSection::default(),
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
    /// The index values mapped to the ends of the grey scale, ±`clip`.
    pub clip: f64,
    /// The margin around the stations' box, in km.
    pub margin_km: f64,
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
            margin_km: 10.0,
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

/// `[geomag.labels]`: which events label which maps (papers.md §B).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassSection {
    /// The study area's centre, `LAT,LON` (the paper's: 28.10N 102.16E).
    pub centre: String,
    /// Events farther than this from the centre are ignored, in km.
    pub radius_km: f64,
    /// Only events with a magnitude above this count (the paper: M > 3).
    pub min_magnitude: f64,
    /// "Large" is above this magnitude (the paper: 4).
    pub magnitude_threshold: f64,
    /// A map of day d gets the class of the largest event in (d, d + horizon].
    pub horizon_days: usize,
}

impl Default for ClassSection {
    fn default() -> Self {
        ClassSection {
            centre: "28.10,102.16".into(),
            radius_km: 400.0,
            min_magnitude: 3.0,
            magnitude_threshold: 4.0,
            horizon_days: 7,
        }
    }
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
    /// The maps.
    pub map: MapSpec,
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
    let anomaly = section.anomaly.clone().check()?;
    let m = &section.map;
    let interpolation = match m.interpolation {
        InterpolationName::Idw => Interpolation::InverseDistance { power: m.power },
        InterpolationName::Gaussian => Interpolation::Gaussian {
            sigma_km: m.sigma_km,
        },
    };
    let map = MapSpec {
        size: m.size,
        levels: m.levels,
        interpolation,
        clip: m.clip,
        margin_km: m.margin_km,
    }
    .check()?;
    let l = &section.labels;
    let centre = parse_centre(&l.centre)?;
    let classes = ClassParams {
        centre,
        radius_km: l.radius_km,
        min_magnitude: l.min_magnitude,
        magnitude_threshold: l.magnitude_threshold,
        horizon_days: l.horizon_days,
    }
    .check()?;
    let mut vgg12 = classify.vgg12.clone();
    vgg12.image_size = m.size;
    vgg12.check()?;
    classify.train.check()?;
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
        map,
        classes,
        vgg12,
        train: classify.train.clone(),
        augment: classify.augment.clone(),
        orders: classify.orders.clone(),
        validation_fraction: classify.validation_fraction,
    })
}

/// `LAT,LON` in degrees.
fn parse_centre(text: &str) -> Result<(f64, f64)> {
    let key = "geomag.labels.centre";
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [lat, lon] = parts[..] else {
        return Err(Error::config(key, format!("`{text}`: expected `LAT,LON`")));
    };
    let number = |s: &str| {
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| Error::config(key, format!("`{s}` is not a number")))
    };
    let (lat, lon) = (number(lat)?, number(lon)?);
    ensure_config!(
        (-90.0..=90.0).contains(&lat) && (-180.0..=360.0).contains(&lon),
        key,
        "({lat}, {lon}) is not a position"
    );
    Ok((lat, lon))
}
