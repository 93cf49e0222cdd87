//! The raw schema: [`ExperimentFile`] and its sections, exactly what a user writes (serde,
//! unknown keys refused everywhere). Resolution into checked types is in the parent module.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use super::geomag::{
    AugmentOrder, ClassifySection, GeomagFiles, GeomagSection, InterpolationName, MapSection,
    MethodName,
};
pub use super::launcher::{LauncherSection, SlurmSection};
pub use crate::dataset::Timing;
use crate::decode::DecoderConfig;
pub use crate::device::Device;
pub use crate::encode::vit::VitOutput;
use crate::encode::vit::encoder::DEFAULT_MODEL;
pub use crate::encode::{EncoderKind, PcaSolver};
use crate::eval::EvaluationSection;
use crate::io::catalog::ColumnMapping;
use crate::seismicity::bvalue::{BEstimator, DifferenceMle};
pub use crate::seismicity::decluster::WindowTable;
use crate::seismicity::kde::LabelScale;
use crate::seismicity::labels::{BoundaryCorrection, CountTransform, LabelKind};
use crate::seismicity::mc::McMethodKind;

/// An experiment file as written. Every section has defaults (the GeoViT-PFN paper's
/// settings over synthetic Japan), so a file only states what it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExperimentFile {
    /// The method: `geovit_pfn` (papers.md §A, the default) or `vgg12_geomag` (§B).
    pub method: MethodName,
    /// The experiment's name (letters, digits, `.`, `_`, `-`).
    pub name: String,
    /// The seed every random stream derives from.
    pub seed: u64,
    /// How many seeds each stochastic decoder is fitted with (the first is `seed` itself).
    pub seeds: usize,
    /// Where the neural models run: `cpu` (default), `cuda`, `vulkan` or `libtorch` (all but
    /// `cpu` need a quakelab built with that cargo feature; see [`Device`]).
    pub device: Device,
    /// The study box, `LON0,LON1,LAT0,LAT1`.
    pub region: String,
    /// The study period.
    pub period: PeriodSection,
    /// Where the catalog and the GNSS series come from.
    pub data: DataSection,
    /// The seismicity and GNSS features.
    pub features: FeaturesSection,
    /// The labels.
    pub labels: LabelsSection,
    /// The daily table.
    pub dataset: DatasetSection,
    /// The image encoder.
    pub encoder: EncoderSection,
    /// The decoders: inline tables, or names of `decoder/NAME.toml` groups.
    pub decoders: Vec<TextOr<DecoderConfig>>,
    /// The train/test splits.
    pub split: SplitSection,
    /// The ablations and controls.
    pub ablations: AblationsSection,
    /// What the decoders are asked for besides a point (quantile levels).
    pub evaluation: EvaluationSection,
    /// The geomagnetic maps and their classes (`vgg12_geomag`).
    pub geomag: GeomagSection,
    /// VGG-12, its training and the augmentation (`vgg12_geomag`).
    pub classify: ClassifySection,
    /// Where runs are recorded. Not part of the config hash.
    pub tracking: TrackingSection,
    /// Where a sweep's configurations run (`[launcher.slurm]`). Not part of the config hash.
    pub launcher: LauncherSection,
    /// Sweep axes: dotted key → list of values (nested tables are read as dotted keys). Not
    /// part of the config hash.
    pub sweep: BTreeMap<String, toml::Value>,
}

impl Default for ExperimentFile {
    fn default() -> Self {
        ExperimentFile {
            method: MethodName::GeovitPfn,
            name: "experiment".into(),
            seed: 2009,
            seeds: 5,
            device: Device::Cpu,
            region: "123,148,22,46".into(),
            period: PeriodSection::default(),
            data: DataSection::default(),
            features: FeaturesSection::default(),
            labels: LabelsSection::default(),
            dataset: DatasetSection::default(),
            encoder: EncoderSection::default(),
            decoders: Vec::new(),
            split: SplitSection::default(),
            ablations: AblationsSection::default(),
            evaluation: EvaluationSection::default(),
            geomag: GeomagSection::default(),
            classify: ClassifySection::default(),
            tracking: TrackingSection::default(),
            launcher: LauncherSection::default(),
            sweep: BTreeMap::new(),
        }
    }
}

/// Either a short text form or a full table (e.g. `"ridge"` or `{ kind = "ridge", alpha = 2 }`).
#[derive(Debug, Clone, PartialEq)]
pub enum TextOr<T> {
    /// The text form.
    Text(String),
    /// The table form.
    Table(T),
}

impl<T: Serialize> Serialize for TextOr<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            TextOr::Text(text) => serializer.serialize_str(text),
            TextOr::Table(table) => table.serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for TextOr<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct TextOrVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for TextOrVisitor<T> {
            type Value = TextOr<T>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a table")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> std::result::Result<Self::Value, E> {
                Ok(TextOr::Text(text.to_string()))
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(TextOr::Table)
            }
        }

        deserializer.deserialize_any(TextOrVisitor(std::marker::PhantomData))
    }
}

/// `[period]`: `[start, end)` in UTC calendar days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeriodSection {
    /// The first day, `YYYY-MM-DD` (a string or a TOML date).
    pub start: String,
    /// The day after the last.
    pub end: String,
}

impl Default for PeriodSection {
    fn default() -> Self {
        PeriodSection {
            start: "2009-01-01".into(),
            end: "2024-01-01".into(),
        }
    }
}

/// `[data]`: the inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataSection {
    /// `"synthetic:NAME"`, a path, `"real:REL"`, or `{ path = ..., columns = { ... } }`.
    pub catalog: TextOr<CatalogFile>,
    /// `"synthetic:NAME"`, `{ tenv3 = DIR }` or `{ geonet = DIR }` (DIR a path or `real:REL`).
    pub gnss: TextOr<GnssFiles>,
    /// The planted precursor's amplitude at the epicentre in mm, replacing the synthetic GNSS
    /// scenario's `gnss.precursor.amplitude_mm` (the knob of the detection sweep).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precursor_amplitude_mm: Option<f64>,
    /// The magnetometer network (`vgg12_geomag`): `"synthetic:NAME"`, `{ iaga2002 = DIR }` or
    /// `{ csv = { series = FILE, stations = FILE } }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geomag: Option<TextOr<GeomagFiles>>,
}

impl Default for DataSection {
    fn default() -> Self {
        DataSection {
            catalog: TextOr::Text("synthetic:japan".into()),
            gnss: TextOr::Text("synthetic:japan".into()),
            precursor_amplitude_mm: None,
            geomag: None,
        }
    }
}

/// A catalog file with an explicit column mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    /// A path or `real:REL`.
    pub path: String,
    /// Which columns hold what; inferred from the header when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<ColumnMapping>,
}

/// A directory of GNSS series, by format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum GnssFiles {
    /// NGL `.tenv3` files, one per station.
    Tenv3(String),
    /// GEONET displacement tables with a `stations.csv` (the default column mapping).
    Geonet(String),
}

/// `[features]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeaturesSection {
    /// `[features.seismicity]`: b and a values in sliding windows.
    pub seismicity: SeismicitySection,
    /// `[features.gnss]`: the displacement images.
    pub gnss: GnssImagingSection,
}

/// `[features.seismicity]` (paper §1.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeismicitySection {
    /// The completeness magnitude; with `mc_per_window`, the floor of the selection.
    pub mc: f64,
    /// Each window's own Mc by `mc_method`.
    pub mc_per_window: bool,
    /// With `mc_per_window`: `maxc` (plus `mc_correction`), `gft`, `b-stability` or `ks`.
    /// This and the three `mc_*` settings below are left out of the written file, and so of
    /// the config hash, at their defaults: runs made before they existed keep their hash.
    #[serde(skip_serializing_if = "McMethodKind::is_maxc")]
    pub mc_method: McMethodKind,
    /// Added to the modal bin by `maxc` (Woessner & Wiemer: 0.2).
    pub mc_correction: f64,
    /// `b-stability`: the magnitude range whose b values are averaged (0.5).
    #[serde(skip_serializing_if = "is_default_stability_range")]
    pub mc_stability_range: f64,
    /// `ks`: the p-value at which a candidate Mc passes (0.1).
    #[serde(skip_serializing_if = "is_default_ks_p_value")]
    pub mc_ks_p_value: f64,
    /// `ks`: simulated catalogs per candidate and window (1000; SeismoStats uses 10,000 for one
    /// catalog, and the cost grows with windows × candidates × simulations).
    #[serde(skip_serializing_if = "is_default_ks_simulations")]
    pub mc_ks_simulations: usize,
    /// Magnitude bin width ΔM.
    pub bin_width: f64,
    /// Window length in days.
    pub window_days: usize,
    /// Days between windows.
    pub step_days: usize,
    /// The fewest events at or above Mc for a window to get a value.
    pub min_events: usize,
    /// `aki` (the paper), `aki_utsu`, `tinti_mulargia`, `b_positive` or `b_more_positive`.
    pub estimator: BEstimator,
    /// b-positive's and b-more-positive's estimate on the differences: `tinti_mulargia`
    /// (default, as SeismoStats) or `aki_utsu` (quakelab's b-positive before issue 21).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difference_mle: Option<DifferenceMle>,
    /// b-positive's and b-more-positive's smallest magnitude difference (default: one bin
    /// width). `b_positive_delta`, its name before issue 21, is read as `dmc`.
    #[serde(
        default,
        alias = "b_positive_delta",
        skip_serializing_if = "Option::is_none"
    )]
    pub dmc: Option<f64>,
    /// Decluster the events of the period at or above `mc` before the b and a values:
    /// `"none"` (the default: every event), `"gardner_knopoff"`, `"reasenberg"`, or a
    /// [`DeclusterSection`] table with the method's settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decluster: Option<TextOr<DeclusterSection>>,
}

/// `mc_stability_range`'s default, 0.5.
const DEFAULT_STABILITY_RANGE: f64 = 0.5;
/// `mc_ks_p_value`'s default, 0.1.
const DEFAULT_KS_P_VALUE: f64 = 0.1;
/// `mc_ks_simulations`'s default.
const DEFAULT_KS_SIMULATIONS: usize = 1000;

fn is_default_stability_range(v: &f64) -> bool {
    *v == DEFAULT_STABILITY_RANGE
}

fn is_default_ks_p_value(v: &f64) -> bool {
    *v == DEFAULT_KS_P_VALUE
}

fn is_default_ks_simulations(v: &usize) -> bool {
    *v == DEFAULT_KS_SIMULATIONS
}

impl Default for SeismicitySection {
    fn default() -> Self {
        SeismicitySection {
            mc: 3.0,
            mc_per_window: false,
            mc_method: McMethodKind::Maxc,
            mc_correction: 0.2,
            mc_stability_range: DEFAULT_STABILITY_RANGE,
            mc_ks_p_value: DEFAULT_KS_P_VALUE,
            mc_ks_simulations: DEFAULT_KS_SIMULATIONS,
            bin_width: 0.1,
            window_days: 128,
            step_days: 1,
            min_events: 50,
            estimator: BEstimator::Aki,
            difference_mle: None,
            dmc: None,
            decluster: None,
        }
    }
}

/// A `decluster` setting's table form: the method and any of its settings, the others taking
/// their defaults (those of [`GardnerKnopoffParams`] and [`ReasenbergParams`]). A setting of
/// the other method is refused. The effective file always holds this form, every setting of
/// the method written out, so `"gardner_knopoff"` and `{ method = "gardner_knopoff" }` hash
/// alike; `"none"` leaves the key out, so files without it keep their hash.
///
/// [`GardnerKnopoffParams`]: crate::seismicity::decluster::GardnerKnopoffParams
/// [`ReasenbergParams`]: crate::seismicity::decluster::ReasenbergParams
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeclusterSection {
    /// `gardner_knopoff` (the default), `reasenberg` or `none`.
    pub method: DeclusterName,
    /// gardner_knopoff: `gardner_knopoff` (default), `gruenthal` or `uhrhammer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowTable>,
    /// gardner_knopoff: the foreshock window's share of the aftershock window (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fs_time_prop: Option<f64>,
    /// gardner_knopoff: the longest window in days (default: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_cutoff_days: Option<f64>,
    /// reasenberg: the look-ahead time outside clusters, in days (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tau_min_days: Option<f64>,
    /// reasenberg: the longest look-ahead time, in days (default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tau_max_days: Option<f64>,
    /// reasenberg: the confidence of seeing a cluster's next event (default 0.95).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p: Option<f64>,
    /// reasenberg: the share of the largest magnitude raising the threshold (default 0.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xk: Option<f64>,
    /// reasenberg: the effective minimum magnitude (default 1.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xmeff: Option<f64>,
    /// reasenberg: the interaction radius in crack radii (default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rfact: Option<f64>,
    /// reasenberg: the epicentre error in km (default 1.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epicentre_error_km: Option<f64>,
    /// reasenberg: the depth error in km (default 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth_error_km: Option<f64>,
}

/// A `decluster` method's name in a file (`gardner-knopoff` is accepted too).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclusterName {
    /// Every event counts.
    None,
    /// [`DeclusterMethod::GardnerKnopoff`](crate::seismicity::decluster::DeclusterMethod).
    #[default]
    #[serde(alias = "gardner-knopoff")]
    GardnerKnopoff,
    /// [`DeclusterMethod::Reasenberg`](crate::seismicity::decluster::DeclusterMethod).
    Reasenberg,
}

/// `[features.gnss]` (paper §1.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GnssImagingSection {
    /// `ROWSxCOLS`.
    pub grid: String,
    /// The Gaussian width in grid spacings.
    pub sigma_cells: f64,
    /// `corner` (the paper) or `centre`.
    pub origin: OriginName,
    /// Which spacing `sigma_cells` multiplies: `latitude` or `longitude`.
    pub sigma_spacing: SpacingName,
}

impl Default for GnssImagingSection {
    fn default() -> Self {
        GnssImagingSection {
            grid: "50x50".into(),
            sigma_cells: 8.0,
            origin: OriginName::Corner,
            sigma_spacing: SpacingName::Latitude,
        }
    }
}

/// The grid origin's name in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OriginName {
    /// [`GridOrigin::Corner`](crate::gnss::grid::GridOrigin::Corner).
    Corner,
    /// [`GridOrigin::Centre`](crate::gnss::grid::GridOrigin::Centre).
    Centre,
}

/// The sigma spacing's name in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpacingName {
    /// [`SigmaSpacing::Latitude`](crate::gnss::grid::SigmaSpacing::Latitude).
    Latitude,
    /// [`SigmaSpacing::Longitude`](crate::gnss::grid::SigmaSpacing::Longitude).
    Longitude,
}

/// `[labels]` (paper §1.3; the kinds of [`crate::seismicity::labels`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabelsSection {
    /// `kde_centred` (the paper's, looks ahead), `kde_causal` (the default: a true forecast) or
    /// `counts_ahead`.
    pub kind: LabelKind,
    /// `scott`, `silverman` or a number of days (KDE kinds).
    pub bandwidth: BandwidthSetting,
    /// `none`, `minmax`, `zscore` or `events_per_day` (the last for KDE kinds only).
    pub scale: LabelScale,
    /// The edge correction of the KDE kinds: `none`, `renormalise` (default) or `reflect`.
    pub boundary: BoundaryCorrection,
    /// H of `counts_ahead`: the days counted from the label's day on (default 7).
    pub horizon_days: usize,
    /// `count` (default) or `log1p`, for `counts_ahead` only.
    pub transform: CountTransform,
    /// The magnitude cut of the labelled events.
    pub mc: f64,
    /// Decluster the labelled events (the period's, at or above `mc`): `"none"` (the default),
    /// `"gardner_knopoff"`, `"reasenberg"` or a [`DeclusterSection`] table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decluster: Option<TextOr<DeclusterSection>>,
}

impl Default for LabelsSection {
    fn default() -> Self {
        LabelsSection {
            kind: LabelKind::KdeCausal,
            bandwidth: BandwidthSetting::Scott,
            scale: LabelScale::None,
            boundary: BoundaryCorrection::Renormalise,
            horizon_days: 7,
            transform: CountTransform::Count,
            mc: 3.0,
            decluster: None,
        }
    }
}

/// The KDE bandwidth as written: a rule's name or a number of days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BandwidthSetting {
    /// `"scott"`.
    Scott,
    /// `"silverman"`.
    Silverman,
    /// A number of days.
    Days(f64),
}

impl Serialize for BandwidthSetting {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match *self {
            BandwidthSetting::Scott => serializer.serialize_str("scott"),
            BandwidthSetting::Silverman => serializer.serialize_str("silverman"),
            BandwidthSetting::Days(days) => serializer.serialize_f64(days),
        }
    }
}

impl<'de> Deserialize<'de> for BandwidthSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct BandwidthVisitor;

        impl Visitor<'_> for BandwidthVisitor {
            type Value = BandwidthSetting;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`scott`, `silverman` or a number of days")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> std::result::Result<Self::Value, E> {
                match text {
                    "scott" => Ok(BandwidthSetting::Scott),
                    "silverman" => Ok(BandwidthSetting::Silverman),
                    _ => Err(E::invalid_value(de::Unexpected::Str(text), &self)),
                }
            }

            fn visit_f64<E: de::Error>(self, days: f64) -> std::result::Result<Self::Value, E> {
                Ok(BandwidthSetting::Days(days))
            }

            fn visit_i64<E: de::Error>(self, days: i64) -> std::result::Result<Self::Value, E> {
                Ok(BandwidthSetting::Days(days as f64))
            }

            fn visit_u64<E: de::Error>(self, days: u64) -> std::result::Result<Self::Value, E> {
                Ok(BandwidthSetting::Days(days as f64))
            }
        }

        deserializer.deserialize_any(BandwidthVisitor)
    }
}

/// `[dataset]` (paper §1.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatasetSection {
    /// Days from the forecast day t to the label day t + h (at least 1).
    pub horizon_days: usize,
    /// `forecast` (every feature of row t known by the end of day t) or `nowcast` (the paper's
    /// setting: the features of day t, some known only later; flagged).
    pub timing: Timing,
}

impl Default for DatasetSection {
    fn default() -> Self {
        DatasetSection {
            horizon_days: 1,
            timing: Timing::Forecast,
        }
    }
}

/// `[encoder]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncoderSection {
    /// One of [`EncoderKind::KINDS`] (`flatten`, `vit`, `none`).
    pub kind: EncoderKind,
    /// PCA components fitted on the training rows; 0 for no PCA.
    pub pca_dims: usize,
    /// How the PCA is computed: `auto`, `full` or `randomized` (see [`PcaSolver`]).
    pub pca_solver: PcaSolver,
    /// Images encoded at once; it bounds memory and never changes the features.
    pub batch_size: usize,
    /// `[encoder.vit]`: the ViT's model, weights, output and pixel scale (`kind = "vit"`).
    pub vit: VitSection,
}

impl Default for EncoderSection {
    fn default() -> Self {
        EncoderSection {
            kind: EncoderKind::Flatten,
            pca_dims: 16,
            pca_solver: PcaSolver::Auto,
            batch_size: 256,
            vit: VitSection::default(),
        }
    }
}

/// `[encoder.vit]` (paper §2.2; read only with `encoder.kind = "vit"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VitSection {
    /// A hub id, looked up in the model store (`quakelab models fetch ID` puts it there), or
    /// a `save_pretrained` folder with `config.json` (a path as written, like the data paths).
    pub model: String,
    /// `auto` (the store's or the folder's files), `random` (a seeded random initialisation of
    /// the model's architecture, "random init" in every row) or a path (a folder, or a
    /// weights file with `config.json` beside it).
    pub weights: String,
    /// What each image becomes: `mean` over the tokens (the paper), `cls` or `pooler`.
    pub output: VitOutput,
    /// The percentile (0 < p ≤ 100) of |displacement| over the training days that maps to ±1.
    pub scale_percentile: f64,
    /// When the weights are missing, record the rows that need the ViT as skipped (visibly)
    /// instead of failing.
    pub optional: bool,
}

impl Default for VitSection {
    fn default() -> Self {
        VitSection {
            model: DEFAULT_MODEL.into(),
            weights: "auto".into(),
            output: VitOutput::Mean,
            scale_percentile: 99.5,
            optional: false,
        }
    }
}

/// `[split]` (paper §1.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SplitSection {
    /// Which splits to evaluate.
    pub kinds: Vec<SplitName>,
    /// The training fraction of the random and chronological splits, and the rows before the
    /// first test block of the rolling split.
    pub train_fraction: f64,
    /// The number of folds of the blocked split.
    pub blocked_folds: usize,
    /// Whether the blocked split trains on the rows before the test fold only (fold 0 is then
    /// left out); `false` trains on both sides.
    pub blocked_past_only: bool,
    /// The number of origins (test blocks) of the rolling split.
    pub rolling_origins: usize,
    /// The embargo of the time-ordered splits. When absent the runner derives it: feature
    /// window + label reach + horizon ([`crate::dataset::Embargo`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embargo_days: Option<usize>,
    /// Accept a configured embargo shorter than the derived one (flagged in the outputs).
    pub allow_short_embargo: bool,
}

impl Default for SplitSection {
    fn default() -> Self {
        SplitSection {
            kinds: vec![SplitName::Random, SplitName::Chronological],
            train_fraction: 0.7,
            blocked_folds: 5,
            blocked_past_only: true,
            rolling_origins: 5,
            embargo_days: None,
            allow_short_embargo: false,
        }
    }
}

/// A split's name in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitName {
    /// A seeded shuffle.
    Random,
    /// The first rows train, the last test.
    Chronological,
    /// Contiguous folds with an embargo.
    Blocked,
    /// An expanding-window rolling origin.
    Rolling,
}

/// `[ablations]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AblationsSection {
    /// Which feature sets to fit: `gnss`, `seismicity`, `fusion`.
    pub modalities: Vec<ModalityName>,
    /// Control experiments: `day_number`, `label_shift` (default `["day_number"]`: the
    /// day-number control is in every table unless a file removes it).
    pub controls: Vec<Control>,
    /// The shift of the `label_shift` control, in days.
    pub label_shift_days: usize,
    /// Also fit each modality with its rows permuted across training days (default true: the
    /// shuffled-modality control is on unless a file turns it off).
    pub shuffle_modality: bool,
    /// Also fit the GNSS modalities on the synthetic scenario's network without its planted
    /// precursor (`gnss_null`, `fusion_null`): the planted-signal null, side by side.
    pub null_scenario: bool,
}

impl Default for AblationsSection {
    fn default() -> Self {
        AblationsSection {
            modalities: vec![
                ModalityName::Gnss,
                ModalityName::Seismicity,
                ModalityName::Fusion,
            ],
            controls: vec![Control::DayNumber],
            label_shift_days: 180,
            shuffle_modality: true,
            null_scenario: false,
        }
    }
}

/// A modality's name in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModalityName {
    /// [`Modality::Gnss`](crate::dataset::Modality::Gnss).
    Gnss,
    /// [`Modality::Seismicity`](crate::dataset::Modality::Seismicity).
    Seismicity,
    /// [`Modality::Fusion`](crate::dataset::Modality::Fusion).
    Fusion,
}

/// A control experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// The day number as the only feature: skill from trends alone.
    DayNumber,
    /// Labels shifted by `label_shift_days`: skill that survives is not causal.
    LabelShift,
}

/// `[tracking]`. Not part of the config hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackingSection {
    /// The local run store.
    pub results_dir: String,
    /// An MLflow tracking server; empty for none.
    pub mlflow_uri: String,
    /// The MLflow experiment; empty for the experiment's name.
    pub experiment_name: String,
    /// Also write every split's feature tables into the run, as
    /// `feature_tables/<split>/<feature set>.csv` (for `quakelab pfn eval --test-column test`).
    pub feature_tables: bool,
    /// Read each fit from the fit cache (`<results_dir>/cache/fits`) when the same fit, with
    /// the same data, settings, seed and quakelab binary, was made before, and store new fits
    /// there (default true; false fits everything again and stores nothing).
    pub fit_cache: bool,
}

impl Default for TrackingSection {
    fn default() -> Self {
        TrackingSection {
            results_dir: "results".into(),
            mlflow_uri: String::new(),
            experiment_name: String::new(),
            feature_tables: false,
            fit_cache: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_number_and_shuffled_modality_controls_are_on_unless_turned_off() {
        let unset: AblationsSection = toml::from_str("modalities = [\"seismicity\"]\n").unwrap();
        assert_eq!(unset.controls, [Control::DayNumber]);
        assert!(unset.shuffle_modality);

        let off: AblationsSection =
            toml::from_str("controls = []\nshuffle_modality = false\n").unwrap();
        assert!(off.controls.is_empty());
        assert!(!off.shuffle_modality);

        let both: AblationsSection =
            toml::from_str("controls = [\"day_number\", \"label_shift\"]\n").unwrap();
        assert_eq!(both.controls, [Control::DayNumber, Control::LabelShift]);
        assert_eq!(both.label_shift_days, 180);
    }
}
