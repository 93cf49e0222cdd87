//! Experiment files: the raw schema ([`ExperimentFile`], in `schema.rs`), its layering, and its
//! resolution into the checked [`ResolvedExperiment`] the runner sees.
//!
//! # Two phases
//!
//! [`ExperimentFile`] is exactly what the user wrote (serde, unknown keys refused everywhere).
//! [`resolve`] turns it into a [`ResolvedExperiment`]: region and period parsed, the b/a window
//! and grid settings checked (`BValueParams::check`, `GridSpec::check`), decoder groups read,
//! the split manifest materialised, the data paths found. Every failure is an
//! [`Error::Config`] naming the dotted key, and, where a layer set that key, the layer (a file
//! path, `--set KEY=VALUE`, an environment variable).
//!
//! # Methods
//!
//! `method = "geovit_pfn"` (the default) is papers.md §A; `method = "vgg12_geomag"` is §B and
//! reads `data.geomag`, `[geomag]` and `[classify]` (`geomag.rs`), refuses `decoders`, and
//! evaluates the random and chronological splits only. [`ResolvedExperiment::method`] carries
//! the second method's checked settings.
//!
//! # Layers
//!
//! From weakest to strongest (figment merges each over the previous):
//!
//! 1. built-in defaults ([`ExperimentFile::default`], the paper's settings);
//! 2. the experiment file ([`Layers::file`]);
//! 3. `--set KEY=VALUE` overrides ([`Layers::overrides`]), one layer each;
//! 4. `QUAKELAB_*` environment variables ([`Layers::env`]), one layer each:
//!    `QUAKELAB_FEATURES__SEISMICITY__WINDOW_DAYS=64` sets `features.seismicity.window_days`
//!    (`__` separates keys, names are lower-cased). [`NON_CONFIG_ENV`] names the variables with
//!    the prefix that are other settings and never config keys.
//!
//! The value of an override or a variable is read as a TOML value (`64`, `3.5`, `true`,
//! `"text"`, `[1, 2]`, `{ kind = "ridge" }`, `2009-01-01`), and as plain text where it is not
//! one, so `--set labels.bandwidth=scott` needs no quotes. The environment is an input, not a
//! global: [`Layers::with_process_env`] reads it, and tests pass their own variables.
//!
//! Every value keeps the layer it came from ([`show`] prints it beside the value).
//!
//! # Groups
//!
//! As in Hydra, an entry of `decoders` may be a name instead of a table: `decoders = ["ridge"]`
//! reads `decoder/ridge.toml` (a [`DecoderConfig`] table) from the experiment file's directory,
//! or failing that from `experiments/` under the current directory.
//!
//! # Per-decoder overrides
//!
//! `--set decoders.random_forest.max_depth=6` (or `QUAKELAB_DECODERS__RANDOM_FOREST__MAX_DEPTH=6`,
//! or a sweep axis over that key) sets one setting of the decoder of that kind;
//! `decoders.3.max_depth=6` addresses the entry by its index. These assignments bypass the
//! layering (figment cannot merge into a list by kind) and are applied once the groups are
//! read, in layer order; a kind not in the list, or listed twice, is refused (see
//! `decoder_overrides.rs`). [`show`] names the override beside the value it set, and the config
//! hash, taken of the effective file with the decoders inlined, reflects it.
//!
//! # Data paths
//!
//! A path is used as written (relative to the current directory), `synthetic:NAME` names a
//! scenario (built-in or a `.toml` path, see [`Scenario::load`]), and `real:REL` is `REL` inside
//! the real public data directory ([`crate::io::real_data_dir`], set by `QUAKELAB_REAL_DATA`),
//! so an experiment on real data reads the same on every machine. The config hash uses the
//! paths as written, never the directory they were found in.

use std::fmt;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};
use sha2::{Digest, Sha256};

use crate::catalog::Region;
use crate::dataset::{Modality, SplitKind};
use crate::decode::DecoderConfig;
use crate::encode::vit::encoder::{
    DEFAULT_MODEL, VitSettings, VitWeights, incomplete_folder, is_base_patch16_224, is_hub_id,
    last_hidden_state_refused, locate_in_store,
};
use crate::eval::EvaluationSection;
use crate::gnss::grid::{GridOrigin, GridSpec, SigmaSpacing, ValidGridSpec, parse_grid_size};
use crate::io::catalog::ColumnMapping;
use crate::io::{REAL_DATA_ENV, real_data_dir};
use crate::period::Period;
use crate::seismicity::bvalue::{
    BValueParams, DifferenceMle, McChoice, ValidBValueParams, WindowSpec,
};
use crate::seismicity::decluster::{Declusterer, GardnerKnopoffParams, ReasenbergParams};
use crate::seismicity::kde::{Bandwidth, KdeParams, LabelScale};
use crate::seismicity::labels::{LabelKind, LabelParams};
use crate::seismicity::mc::McSettings;
use crate::synth::Scenario;
use crate::{Error, Result, ensure_config};

/// The prefix of the environment variables that set config keys.
pub const ENV_PREFIX: &str = "QUAKELAB_";

/// Variables with the [`ENV_PREFIX`] that are other settings, not config keys: the real-data
/// directory, the MLflow connection (`QUAKELAB_MLFLOW` and every `QUAKELAB_MLFLOW_*`), the
/// venv with the boosting libraries (`QUAKELAB_BOOSTERS`), and the model store and its hub
/// (`QUAKELAB_MODELS`, `QUAKELAB_HUB_URL`).
pub const NON_CONFIG_ENV: [&str; 5] = [
    REAL_DATA_ENV,
    "QUAKELAB_MLFLOW",
    "QUAKELAB_BOOSTERS",
    crate::models::MODELS_ENV,
    crate::models::HUB_URL_ENV,
];

/// Where the public real data can be downloaded, named when a `real:` path cannot be found.
pub const REAL_DATA_SOURCES: &str = "USGS ComCat API (https://earthquake.usgs.gov/fdsnws/event/1/), \
     NGL gps_timeseries (https://geodesy.unr.edu/gps_timeseries/), GEONET/GSI (https://terras.gsi.go.jp/), \
     JMA hypocenter catalog (https://www.data.jma.go.jp/eqev/data/bulletin/)";

mod decoder_overrides;
mod geomag;
mod launcher;
mod schema;

use decoder_overrides::DecoderOverride;
pub use geomag::{GeomagSource, Vgg12Settings};
pub use schema::*;

// ---------------------------------------------------------------------------------------------
// Layers
// ---------------------------------------------------------------------------------------------

/// The inputs of the layering: the file, the `--set` overrides, the environment, and the
/// real-data directory that `real:` paths resolve against.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    /// The experiment file; `None` for the defaults alone.
    pub file: Option<PathBuf>,
    /// `KEY=VALUE` assignments, in order (a later one wins).
    pub overrides: Vec<String>,
    /// Environment variables; those without [`ENV_PREFIX`] or in [`NON_CONFIG_ENV`] are ignored.
    pub env: Vec<(String, String)>,
    /// The real public data directory; `None` makes every `real:` path an error.
    pub real_data_dir: Option<PathBuf>,
}

impl Layers {
    /// The file alone, with [`real_data_dir`] as the real-data directory and no environment.
    pub fn new(file: impl Into<PathBuf>) -> Self {
        Layers {
            file: Some(file.into()),
            overrides: Vec::new(),
            env: Vec::new(),
            real_data_dir: real_data_dir(),
        }
    }

    /// Adds `KEY=VALUE` overrides.
    pub fn with_overrides<S: Into<String>>(
        mut self,
        overrides: impl IntoIterator<Item = S>,
    ) -> Self {
        self.overrides.extend(overrides.into_iter().map(Into::into));
        self
    }

    /// Adds environment variables.
    pub fn with_env(mut self, vars: impl IntoIterator<Item = (String, String)>) -> Self {
        self.env.extend(vars);
        self
    }

    /// Adds this process's environment variables.
    pub fn with_process_env(self) -> Self {
        self.with_env(std::env::vars())
    }
}

/// One figment provider: a dictionary with the metadata that names where it came from.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    name: &'static str,
    source: Option<Source>,
    dict: Dict,
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        let metadata = Metadata::named(self.name);
        match &self.source {
            Some(source) => metadata.source(source.clone()),
            None => metadata,
        }
    }

    fn data(&self) -> std::result::Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}

impl Layer {
    /// One value at a dotted key, with a custom source description.
    pub(crate) fn assignment(
        name: &'static str,
        key: &str,
        value: toml::Value,
        source: String,
    ) -> Result<Layer> {
        let path = split_key(key)?;
        Ok(Layer {
            name,
            source: Some(Source::Custom(source)),
            dict: nest(&path, figment_value(value)),
        })
    }
}

/// One assignment of a sweep point, `--set` or a variable: a layer, or a per-decoder override
/// (`decoders.KIND.KEY` or `decoders.INDEX.KEY`), which is applied after the groups are read.
#[derive(Debug, Clone)]
pub(crate) enum Setting {
    /// Merged by figment.
    Layer(Layer),
    /// Applied to the resolved decoders.
    Decoder(DecoderOverride),
}

impl Setting {
    /// One value at a dotted key, with a custom source description.
    pub(crate) fn assignment(
        name: &'static str,
        key: &str,
        value: toml::Value,
        source: String,
    ) -> Result<Setting> {
        split_key(key)?;
        match DecoderOverride::parse(key, &value, &source)? {
            Some(o) => Ok(Setting::Decoder(o)),
            None => Layer::assignment(name, key, value, source).map(Setting::Layer),
        }
    }
}

/// The segments of a dotted key; empty segments are refused.
fn split_key(key: &str) -> Result<Vec<String>> {
    let path: Vec<String> = key.split('.').map(|s| s.trim().to_string()).collect();
    if path.iter().any(String::is_empty) {
        return Err(Error::config(
            key,
            "not a dotted key (e.g. features.seismicity.window_days)",
        ));
    }
    Ok(path)
}

/// `{a: {b: value}}` for the path `[a, b]`.
fn nest(path: &[String], value: Value) -> Dict {
    let mut value = value;
    for key in path.iter().skip(1).rev() {
        let mut dict = Dict::new();
        dict.insert(key.clone(), value);
        value = Value::from(dict);
    }
    let mut dict = Dict::new();
    if let Some(first) = path.first() {
        dict.insert(first.clone(), value);
    }
    dict
}

/// A TOML value as a figment value; dates and times become their text.
fn figment_value(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::from(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::from(b),
        toml::Value::Datetime(d) => Value::from(d.to_string()),
        toml::Value::Array(items) => {
            Value::from(items.into_iter().map(figment_value).collect::<Vec<Value>>())
        }
        toml::Value::Table(table) => Value::from(
            table
                .into_iter()
                .map(|(k, v)| (k, figment_value(v)))
                .collect::<Dict>(),
        ),
    }
}

/// Reads an override's or a variable's text as a TOML value, or as plain text where it is not
/// one (`scott`, `synthetic:japan`, `real:catalogs/x.csv`).
pub fn parse_value(text: &str) -> toml::Value {
    let text = text.trim();
    format!("value = {text}")
        .parse::<toml::Table>()
        .ok()
        .filter(|table| table.len() == 1)
        .and_then(|mut table| table.remove("value"))
        .unwrap_or_else(|| toml::Value::String(text.to_string()))
}

/// Splits `KEY=VALUE`, naming the text in the error.
pub(crate) fn split_assignment<'a>(text: &'a str, what: &str) -> Result<(&'a str, &'a str)> {
    let (key, value) = text.split_once('=').ok_or_else(|| {
        Error::config(
            text.trim(),
            format!("expected {what} KEY=VALUE (no `=` found)"),
        )
    })?;
    Ok((key.trim(), value.trim()))
}

/// Parses a TOML file into a layer; a syntax error names the file and line.
fn file_layer(path: &Path, name: &'static str) -> Result<Layer> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let table = text.parse::<toml::Table>().map_err(|e| {
        let line = e.span().map_or(0, |span| {
            text[..span.start.min(text.len())].matches('\n').count() + 1
        });
        Error::parse(path, line as u64, "toml", e.message().trim().to_string())
    })?;
    let dict = table
        .into_iter()
        .map(|(k, v)| (k, figment_value(v)))
        .collect();
    Ok(Layer {
        name,
        source: Some(Source::File(path.to_path_buf())),
        dict,
    })
}

/// Whether an environment variable is a config key.
fn is_config_var(name: &str) -> bool {
    name.len() > ENV_PREFIX.len()
        && name.starts_with(ENV_PREFIX)
        && !NON_CONFIG_ENV.contains(&name)
        && !name.starts_with("QUAKELAB_MLFLOW_")
}

/// The layers as figment providers, built once and resolved as many times as a sweep needs.
#[derive(Debug, Clone)]
pub(crate) struct LayerStack {
    defaults: Layer,
    file: Option<Layer>,
    fixed: Vec<Setting>,
    fixed_keys: Vec<String>,
    file_dir: Option<PathBuf>,
    real_data_dir: Option<PathBuf>,
}

impl LayerStack {
    /// Reads the file and parses the overrides and variables.
    pub(crate) fn build(layers: &Layers) -> Result<LayerStack> {
        let defaults = Value::serialize(ExperimentFile::default())
            .ok()
            .and_then(|v| v.into_dict())
            .ok_or_else(|| {
                Error::config(
                    "experiment",
                    "the built-in defaults do not serialise to a table",
                )
            })?;
        let file = layers
            .file
            .as_deref()
            .map(|path| file_layer(path, "experiment file"))
            .transpose()?;
        let mut fixed = Vec::new();
        let mut fixed_keys = Vec::new();
        for text in &layers.overrides {
            let (key, value) = split_assignment(text, "--set")?;
            fixed.push(Setting::assignment(
                "--set",
                key,
                parse_value(value),
                format!("--set {key}={value}"),
            )?);
            fixed_keys.push(key.to_string());
        }
        let mut vars: Vec<&(String, String)> = layers
            .env
            .iter()
            .filter(|(name, _)| is_config_var(name))
            .collect();
        vars.sort();
        for (name, value) in vars {
            let key = name[ENV_PREFIX.len()..].to_lowercase().replace("__", ".");
            fixed.push(Setting::assignment(
                "environment",
                &key,
                parse_value(value),
                format!("env {name}"),
            )?);
            fixed_keys.push(key);
        }
        Ok(LayerStack {
            defaults: Layer {
                name: "default",
                source: None,
                dict: defaults,
            },
            file_dir: layers
                .file
                .as_deref()
                .map(|p| p.parent().unwrap_or(Path::new("")).to_path_buf()),
            file,
            fixed,
            fixed_keys,
            real_data_dir: layers.real_data_dir.clone(),
        })
    }

    /// The keys set by `--set` or the environment.
    pub(crate) fn fixed_keys(&self) -> &[String] {
        &self.fixed_keys
    }

    /// Defaults < file < `extra` (sweep points) < overrides < environment.
    pub(crate) fn figment(&self, extra: &[Setting]) -> Figment {
        let mut figment = Figment::new().merge(self.defaults.clone());
        if let Some(file) = &self.file {
            figment = figment.merge(file.clone());
        }
        for setting in extra.iter().chain(&self.fixed) {
            if let Setting::Layer(layer) = setting {
                figment = figment.merge(layer.clone());
            }
        }
        figment
    }

    /// The per-decoder overrides of `extra` (sweep points), then of `--set` and the
    /// environment, in the order they apply.
    fn decoder_overrides(&self, extra: &[Setting]) -> Vec<DecoderOverride> {
        extra
            .iter()
            .chain(&self.fixed)
            .filter_map(|setting| match setting {
                Setting::Decoder(o) => Some(o.clone()),
                Setting::Layer(_) => None,
            })
            .collect()
    }

    /// The layered raw file and the figment that made it.
    pub(crate) fn extract(&self, extra: &[Setting]) -> Result<(ExperimentFile, Figment)> {
        let figment = self.figment(extra);
        let file = figment
            .extract::<ExperimentFile>()
            .map_err(|e| figment_error(&figment, e))?;
        Ok((file, figment))
    }

    /// Layers, extracts and resolves.
    pub(crate) fn resolve(&self, extra: &[Setting]) -> Result<ResolvedExperiment> {
        self.resolve_with_figment(extra)
            .map(|(resolved, _)| resolved)
    }

    /// [`LayerStack::resolve`], with the figment that made the file.
    fn resolve_with_figment(&self, extra: &[Setting]) -> Result<(ResolvedExperiment, Figment)> {
        let (file, figment) = self.extract(extra)?;
        let overrides = self.decoder_overrides(extra);
        let resolved =
            resolve_file(file, self, &overrides).map_err(|e| with_source(&figment, e))?;
        Ok((resolved, figment))
    }

    /// The directories searched for groups, in order.
    fn group_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = self.file_dir.iter().cloned().collect();
        let fallback = PathBuf::from("experiments");
        if !dirs.iter().any(|d| same_dir(d, &fallback)) {
            dirs.push(fallback);
        }
        dirs
    }
}

/// Whether two directory paths name the same directory (by canonical path where both exist).
fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// How a layer is named in messages and in [`show`].
pub(crate) fn describe(metadata: &Metadata) -> String {
    match &metadata.source {
        Some(Source::File(path)) => path.display().to_string(),
        Some(Source::Custom(text)) => text.clone(),
        _ => metadata.name.to_string(),
    }
}

/// A figment extraction error as an [`Error::Config`] naming the dotted key and its layer.
fn figment_error(figment: &Figment, error: figment::Error) -> Error {
    let key = if error.path.is_empty() {
        "experiment".to_string()
    } else {
        error.path.join(".")
    };
    let source = figment
        .find_metadata(&key)
        .or(error.metadata.as_ref())
        .map_or_else(|| "an unknown layer".to_string(), describe);
    Error::config(key, format!("{} (from {source})", error.kind))
}

/// Adds the layer that set a [`Error::Config`]'s key to its message, where a layer set it.
fn with_source(figment: &Figment, error: Error) -> Error {
    match error {
        Error::Config { key, message } => {
            let leaf = figment
                .find_value(&key)
                .ok()
                .filter(|v| v.as_dict().is_none())
                .and_then(|v| figment.get_metadata(v.tag()));
            match leaf {
                Some(metadata) if !message.contains(" (from ") => {
                    let source = describe(metadata);
                    Error::config(key, format!("{message} (from {source})"))
                }
                _ => Error::Config { key, message },
            }
        }
        other => other,
    }
}

/// Renames the key of a [`Error::Config`] raised by a shared checker.
fn rekey(error: Error, rename: impl Fn(&str) -> String) -> Error {
    match error {
        Error::Config { key, message } => Error::config(rename(&key), message),
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// Resolved
// ---------------------------------------------------------------------------------------------

/// Where the catalog comes from.
#[derive(Debug, Clone)]
pub enum CatalogSource {
    /// A scenario's ETAS catalog.
    Synthetic(Box<Scenario>),
    /// A CSV file (ComCat or generic).
    File {
        /// The file, found.
        path: PathBuf,
        /// The column mapping; `None` to infer it from the header.
        columns: Option<ColumnMapping>,
    },
}

/// The method of a resolved experiment.
#[derive(Debug, Clone)]
pub enum Method {
    /// GeoViT-PFN (papers.md §A); its settings are the experiment's own.
    GeovitPfn,
    /// VGG-12 on geomagnetic-anomaly maps (papers.md §B).
    Vgg12Geomag(Box<Vgg12Settings>),
}

/// Where the GNSS series come from.
#[derive(Debug, Clone)]
pub enum GnssSource {
    /// A scenario's simulated network.
    Synthetic(Box<Scenario>),
    /// A directory of NGL `.tenv3` files.
    Tenv3(PathBuf),
    /// A directory of GEONET displacement tables.
    Geonet(PathBuf),
}

/// The checked b/a settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeismicitySettings {
    /// Estimator, Mc, bin width, minimum events.
    pub params: ValidBValueParams,
    /// The time windows.
    pub windows: WindowSpec,
    /// The magnitude floor of the catalog selection (the fixed Mc, or the per-window floor).
    pub selection_mc: f64,
    /// The declustering of the selection, if any (`features.seismicity.decluster`).
    pub decluster: Option<Declusterer>,
}

/// The label settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelSettings {
    /// Kind, bandwidth, scale, boundary correction and count window.
    pub params: LabelParams,
    /// The magnitude cut of the labelled events.
    pub mc: f64,
    /// The declustering of the labelled events, if any (`labels.decluster`).
    pub decluster: Option<Declusterer>,
}

/// The encoder settings.
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderSettings {
    /// The encoder.
    pub kind: EncoderKind,
    /// PCA components, if any.
    pub pca_dims: Option<usize>,
    /// How the PCA is computed.
    pub pca_solver: PcaSolver,
    /// Images encoded at once.
    pub batch_size: NonZeroUsize,
    /// The ViT's settings, with `kind = "vit"`.
    pub vit: Option<VitSettings>,
}

impl EncoderSettings {
    /// Whether the run encodes GNSS images: a kind that reads them, and for the ViT, weights
    /// that are there (an optional ViT without weights skips its rows and grids nothing).
    pub fn uses_images(&self) -> bool {
        self.kind.uses_images() && self.skipped().is_none()
    }

    /// Why the rows that need the encoder are skipped: an optional ViT whose weights are
    /// missing.
    pub fn skipped(&self) -> Option<&str> {
        self.vit.as_ref().and_then(VitSettings::missing)
    }
}

/// The split manifest: every split to evaluate, blocked folds and rolling origins listed one by
/// one, each with an embargo of 0 days until the runner sets it with
/// [`SplitKind::with_embargo`] (from [`crate::dataset::Embargo`]: the label's reach depends on
/// its fitted bandwidth).
#[derive(Debug, Clone, PartialEq)]
pub struct SplitSettings {
    /// The splits, in the order of `split.kinds`, embargo not yet decided.
    pub splits: Vec<SplitKind>,
    /// `split.embargo_days`, when configured.
    pub configured_embargo: Option<usize>,
    /// `split.allow_short_embargo`.
    pub allow_short_embargo: bool,
}

/// The ablations and controls.
#[derive(Debug, Clone)]
pub struct AblationSettings {
    /// The feature sets, each at most once.
    pub modalities: Vec<Modality>,
    /// The controls, each at most once.
    pub controls: Vec<Control>,
    /// The label shift of [`Control::LabelShift`].
    pub label_shift_days: usize,
    /// Whether to permute each modality across training days.
    pub shuffle_modality: bool,
    /// The synthetic GNSS scenario without its precursor, when `ablations.null_scenario` asks
    /// for the planted-signal null.
    pub null_gnss: Option<Box<Scenario>>,
}

/// Where runs are recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingSettings {
    /// The local run store.
    pub results_dir: PathBuf,
    /// The MLflow server, if any.
    pub mlflow_uri: Option<String>,
    /// The MLflow experiment name.
    pub experiment_name: String,
    /// Whether the run writes its feature tables (`tracking.feature_tables`).
    pub feature_tables: bool,
    /// Whether fits are read from and stored in the fit cache (`tracking.fit_cache`).
    pub fit_cache: bool,
}

/// A checked experiment: what the runner sees. Only [`resolve`] (or a sweep) makes one.
#[derive(Debug, Clone)]
pub struct ResolvedExperiment {
    method: Method,
    name: String,
    seed: u64,
    seeds: usize,
    region: Region,
    period: Period,
    catalog: CatalogSource,
    gnss: GnssSource,
    seismicity: SeismicitySettings,
    grid: ValidGridSpec,
    labels: LabelSettings,
    horizon_days: usize,
    timing: Timing,
    device: Device,
    encoder: EncoderSettings,
    decoders: Vec<DecoderConfig>,
    decoder_groups: Vec<Option<PathBuf>>,
    decoder_overrides: Vec<decoder_overrides::Applied>,
    split: SplitSettings,
    ablations: AblationSettings,
    evaluation: EvaluationSection,
    tracking: TrackingSettings,
    effective: ExperimentFile,
    config_hash: String,
    derived: Vec<(&'static str, &'static str)>,
}

impl ResolvedExperiment {
    /// The method and, for the second, its settings.
    pub fn method(&self) -> &Method {
        &self.method
    }
    /// The experiment's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The seed of every random stream.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// How many seeds each stochastic decoder is fitted with (at least 1).
    pub fn seeds(&self) -> usize {
        self.seeds
    }
    /// The study box.
    pub fn region(&self) -> &Region {
        &self.region
    }
    /// The study period.
    pub fn period(&self) -> &Period {
        &self.period
    }
    /// The catalog's source.
    pub fn catalog(&self) -> &CatalogSource {
        &self.catalog
    }
    /// The GNSS series' source.
    pub fn gnss(&self) -> &GnssSource {
        &self.gnss
    }
    /// The b/a settings.
    pub fn seismicity(&self) -> &SeismicitySettings {
        &self.seismicity
    }
    /// The image grid.
    pub fn grid(&self) -> &ValidGridSpec {
        &self.grid
    }
    /// The label settings.
    pub fn labels(&self) -> &LabelSettings {
        &self.labels
    }
    /// Days from the forecast day to its label day (at least 1).
    pub fn horizon_days(&self) -> usize {
        self.horizon_days
    }
    /// Forecast or nowcast (`dataset.timing`).
    pub fn timing(&self) -> Timing {
        self.timing
    }
    /// Where the neural models run (`device`).
    pub fn device(&self) -> Device {
        self.device
    }
    /// The encoder.
    pub fn encoder(&self) -> &EncoderSettings {
        &self.encoder
    }
    /// The decoders, checked, groups read.
    pub fn decoders(&self) -> &[DecoderConfig] {
        &self.decoders
    }
    /// The split manifest.
    pub fn split(&self) -> &SplitSettings {
        &self.split
    }
    /// The ablations.
    pub fn ablations(&self) -> &AblationSettings {
        &self.ablations
    }
    /// The quantile levels asked of the decoders.
    pub fn evaluation(&self) -> &EvaluationSection {
        &self.evaluation
    }
    /// The tracking settings.
    pub fn tracking(&self) -> &TrackingSettings {
        &self.tracking
    }
    /// The effective file: every layer applied, groups inlined, derived defaults filled in,
    /// region and dates normalised. What the hash is taken of and what [`show`] prints.
    pub fn effective(&self) -> &ExperimentFile {
        &self.effective
    }
    /// The config hash (64 hex digits): see [`config_hash`].
    pub fn config_hash(&self) -> &str {
        &self.config_hash
    }
}

/// The layered raw file ([`Layers`] applied, nothing checked beyond the schema).
pub fn load(layers: &Layers) -> Result<ExperimentFile> {
    LayerStack::build(layers)?
        .extract(&[])
        .map(|(file, _)| file)
}

/// Layers, checks and resolves an experiment.
pub fn resolve(layers: &Layers) -> Result<ResolvedExperiment> {
    LayerStack::build(layers)?.resolve(&[])
}

/// The config hash of an effective file: the SHA-256, in hex, of its canonical JSON (keys
/// sorted, no whitespace, numbers as serde_json writes them) without `sweep`, `tracking` and
/// `launcher`,
/// without `device` when it is `cpu`, without `method`, `geomag` and `classify` when the method
/// is `geovit_pfn`, and without `encoder.vit` unless `encoder.kind` is `vit`
/// (so files written before those settings existed keep their hash); with
/// `features.seismicity.difference_mle` spelled out when b-positive or b-more-positive leave it
/// to its default (whose meaning changed with issue 21).
/// Two files that resolve alike (a group name or its table inline, `"123, 148,22,46"` or
/// `"123,148,22,46"`, `window_days` from a file or from `--set`) hash alike.
pub fn config_hash(effective: &ExperimentFile) -> Result<String> {
    let mut value = serde_json::to_value(effective)
        .map_err(|e| Error::config("experiment", format!("cannot serialise the config: {e}")))?;
    if let serde_json::Value::Object(map) = &mut value {
        map.remove("sweep");
        map.remove("tracking");
        map.remove("launcher");
        // Settings that change nothing leave the hash as it was before they existed: the
        // default device, and the ViT's section under another encoder.
        if map.get("device").and_then(serde_json::Value::as_str) == Some(Device::Cpu.name()) {
            map.remove("device");
        }
        // The second method's sections change nothing of the first.
        if map.get("method").and_then(serde_json::Value::as_str)
            == Some(MethodName::GeovitPfn.name())
        {
            for key in ["method", "geomag", "classify"] {
                map.remove(key);
            }
        }
        // The default estimate of b-positive on its differences changed with issue 21 (from
        // Aki-Utsu to Tinti-Mulargia): a file that leaves it to the default hashes with the
        // default spelled out, so its earlier runs do not count as done; files with other
        // estimators keep their hash.
        if effective.features.seismicity.estimator.uses_differences()
            && effective.features.seismicity.difference_mle.is_none()
            && let Some(serde_json::Value::Object(seismicity)) = map
                .get_mut("features")
                .and_then(|features| features.get_mut("seismicity"))
        {
            seismicity.insert(
                "difference_mle".into(),
                serde_json::to_value(DifferenceMle::default()).map_err(|e| {
                    Error::config("experiment", format!("cannot serialise the config: {e}"))
                })?,
            );
        }
        if let Some(serde_json::Value::Object(encoder)) = map.get_mut("encoder")
            && encoder.get("kind").and_then(serde_json::Value::as_str)
                != Some(EncoderKind::Vit.name())
        {
            encoder.remove("vit");
        }
    }
    let mut text = String::new();
    canonical_json(&value, &mut text);
    let digest = Sha256::digest(text.as_bytes());
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// JSON with object keys sorted at every level and no whitespace.
fn canonical_json(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(key.clone()).to_string());
                out.push(':');
                canonical_json(item, out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// A data path: `real:REL` inside the real-data directory, or a path as written; it must exist.
fn data_path(text: &str, key: &str, real: Option<&Path>) -> Result<PathBuf> {
    let path = match text.strip_prefix("real:") {
        Some(relative) => {
            let dir = real.ok_or_else(|| {
                Error::config(
                    key,
                    format!(
                        "`{text}` is in the real-data directory, which was not found: set \
                         {REAL_DATA_ENV} to it (default ../shared/data). The data are public: {REAL_DATA_SOURCES}"
                    ),
                )
            })?;
            dir.join(relative.trim_start_matches('/'))
        }
        None => PathBuf::from(text),
    };
    ensure_config!(
        path.exists(),
        key,
        "`{}` not found (from `{text}`)",
        path.display()
    );
    Ok(path)
}

/// `synthetic:NAME` as a scenario, or `None` for any other text.
fn synthetic(text: &str, key: &str) -> Result<Option<Box<Scenario>>> {
    match text.strip_prefix("synthetic:") {
        Some(name) => Scenario::load(name)
            .map(|s| Some(Box::new(s)))
            .map_err(|e| rekey(e, |_| key.to_string())),
        None => Ok(None),
    }
}

/// Fails if a list names an item twice.
fn ensure_distinct<T: PartialEq + fmt::Debug>(items: &[T], key: &str) -> Result<()> {
    for (i, item) in items.iter().enumerate() {
        ensure_config!(!items[..i].contains(item), key, "{item:?} is listed twice");
    }
    Ok(())
}

/// Reads a decoder group file.
fn decoder_group(stack: &LayerStack, name: &str, index: usize) -> Result<(DecoderConfig, PathBuf)> {
    let key = format!("decoders.{index}");
    ensure_config!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        &key,
        "`{name}` is not a group name (letters, digits, `_`, `-`)"
    );
    let dirs = stack.group_dirs();
    let candidates: Vec<PathBuf> = dirs
        .iter()
        .map(|d| d.join("decoder").join(format!("{name}.toml")))
        .collect();
    let path = candidates.iter().find(|p| p.is_file()).ok_or_else(|| {
        if let Some(message) = DecoderConfig::not_compiled_message(name) {
            return Error::config(&key, message);
        }
        let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        Error::config(
            &key,
            format!(
                "no decoder group `{name}`: looked for {}",
                looked.join(", ")
            ),
        )
    })?;
    let layer = file_layer(path, "decoder group")?;
    let figment = Figment::new().merge(layer);
    let config = figment.extract::<DecoderConfig>().map_err(|e| {
        let inner = if e.path.is_empty() {
            String::new()
        } else {
            format!(".{}", e.path.join("."))
        };
        Error::config(
            format!("{key}{inner}"),
            format!("{} (from {}, group `{name}`)", e.kind, path.display()),
        )
    })?;
    Ok((config, path.clone()))
}

/// Checks the layered file and materialises its settings.
fn resolve_file(
    file: ExperimentFile,
    stack: &LayerStack,
    overrides: &[DecoderOverride],
) -> Result<ResolvedExperiment> {
    let mut effective = file;
    let mut derived = Vec::new();
    let f = &effective;
    ensure_config!(
        !f.name.is_empty()
            && f.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')),
        "name",
        "`{}` must be non-empty letters, digits, `.`, `_` or `-`",
        f.name
    );
    let region = Region::parse(&f.region)?;
    let period = Period::parse(&f.period.start, &f.period.end).map_err(|e| {
        rekey(e, |key| match key {
            "start" => "period.start".into(),
            "end" => "period.end".into(),
            other => other.into(),
        })
    })?;
    let real = stack.real_data_dir.as_deref();

    let (catalog, gnss) = resolve_data(&f.data, real)?;
    ensure_config!(
        f.seeds >= 1,
        "seeds",
        "fit stochastic decoders with at least 1 seed, got 0"
    );

    let s = &f.features.seismicity;
    let seismicity = resolve_seismicity(s, f.seed)?;

    let grid = resolve_grid(&f.features.gnss, region)?;

    let labels = resolve_labels(&f.labels)?;

    let horizon_days = f.dataset.horizon_days;
    ensure_config!(
        horizon_days >= 1,
        "dataset.horizon_days",
        "must be at least 1 (a label on its feature day overlaps the feature window), got 0"
    );

    let encoder = EncoderSettings {
        kind: f.encoder.kind,
        pca_dims: (f.encoder.pca_dims > 0).then_some(f.encoder.pca_dims),
        pca_solver: f.encoder.pca_solver,
        batch_size: NonZeroUsize::new(f.encoder.batch_size)
            .ok_or_else(|| Error::config("encoder.batch_size", "must be at least 1, got 0"))?,
        vit: (f.encoder.kind == EncoderKind::Vit)
            .then(|| resolve_vit(&f.encoder.vit))
            .transpose()?,
    };
    let device = f.device;

    let (decoders, decoder_groups, decoder_overrides) =
        resolve_decoders(&f.decoders, stack, overrides, f.method)?;

    let sp = &f.split;
    ensure_config!(
        !sp.kinds.is_empty(),
        "split.kinds",
        "list at least one split"
    );
    ensure_distinct(&sp.kinds, "split.kinds")?;
    ensure_config!(
        sp.train_fraction > 0.0 && sp.train_fraction < 1.0,
        "split.train_fraction",
        "must lie strictly between 0 and 1, got {}",
        sp.train_fraction
    );
    let splits = resolve_splits(sp, f.seed)?;
    let (configured_embargo, allow_short_embargo) = (sp.embargo_days, sp.allow_short_embargo);
    let timing = f.dataset.timing;

    let mut ablations = resolve_ablations(&f.ablations)?;
    let method = match f.method {
        MethodName::GeovitPfn => {
            if f.ablations.null_scenario {
                ablations.null_gnss = Some(null_scenario(&gnss)?);
            }
            Method::GeovitPfn
        }
        MethodName::Vgg12Geomag => {
            ensure_config!(
                decoders.is_empty(),
                "decoders",
                "the vgg12_geomag method classifies maps with [classify]; decoders belong to \
                 geovit_pfn"
            );
            for kind in &splits {
                ensure_config!(
                    matches!(
                        kind,
                        SplitKind::Random { .. } | SplitKind::Chronological { .. }
                    ),
                    "split.kinds",
                    "the vgg12_geomag method evaluates the random and chronological splits, not `{}`",
                    kind.name()
                );
            }
            Method::Vgg12Geomag(Box::new(geomag::resolve_vgg12(
                f.data.geomag.as_ref(),
                &f.geomag,
                &f.classify,
                f.ablations.null_scenario,
                real,
            )?))
        }
    };
    f.evaluation.check()?;
    let evaluation = f.evaluation.clone();

    let t = &f.tracking;
    ensure_config!(
        !t.results_dir.trim().is_empty(),
        "tracking.results_dir",
        "must not be empty"
    );
    let experiment_name = if t.experiment_name.is_empty() {
        derived.push(("tracking.experiment_name", "name"));
        f.name.clone()
    } else {
        t.experiment_name.clone()
    };
    let tracking = TrackingSettings {
        results_dir: PathBuf::from(&t.results_dir),
        mlflow_uri: (!t.mlflow_uri.trim().is_empty()).then(|| t.mlflow_uri.trim().to_string()),
        experiment_name: experiment_name.clone(),
        feature_tables: t.feature_tables,
        fit_cache: t.fit_cache,
    };

    let name = f.name.clone();
    let seed = f.seed;
    let seeds = f.seeds;
    effective.region = format!(
        "{},{},{},{}",
        region.lon_min, region.lon_max, region.lat_min, region.lat_max
    );
    effective.period = PeriodSection {
        start: period.start().to_string(),
        end: period.end().to_string(),
    };
    effective.decoders = decoders.iter().cloned().map(TextOr::Table).collect();
    effective.tracking.experiment_name = experiment_name;
    let written = effective_decluster(seismicity.decluster.as_ref());
    derived.extend(decluster_defaults(
        0,
        effective.features.seismicity.decluster.as_ref(),
        written.as_ref(),
    ));
    effective.features.seismicity.decluster = written;
    let written = effective_decluster(labels.decluster.as_ref());
    derived.extend(decluster_defaults(
        1,
        effective.labels.decluster.as_ref(),
        written.as_ref(),
    ));
    effective.labels.decluster = written;
    let config_hash = config_hash(&effective)?;

    Ok(ResolvedExperiment {
        method,
        name,
        seed,
        seeds,
        region,
        period,
        catalog,
        gnss,
        seismicity,
        grid,
        labels,
        horizon_days,
        timing,
        device,
        encoder,
        decoders,
        decoder_groups,
        decoder_overrides,
        split: SplitSettings {
            splits,
            configured_embargo,
            allow_short_embargo,
        },
        ablations,
        evaluation,
        tracking,
        effective,
        config_hash,
        derived,
    })
}

/// The catalog and GNSS sources of `[data]`.
fn resolve_data(data: &DataSection, real: Option<&Path>) -> Result<(CatalogSource, GnssSource)> {
    let catalog = match &data.catalog {
        TextOr::Text(text) => match synthetic(text, "data.catalog")? {
            Some(scenario) => CatalogSource::Synthetic(scenario),
            None => CatalogSource::File {
                path: data_path(text, "data.catalog", real)?,
                columns: None,
            },
        },
        TextOr::Table(table) => CatalogSource::File {
            path: data_path(&table.path, "data.catalog.path", real)?,
            columns: table.columns.clone(),
        },
    };
    let gnss = match &data.gnss {
        TextOr::Text(text) => synthetic(text, "data.gnss")?.map(GnssSource::Synthetic).ok_or_else(|| {
            Error::config(
                "data.gnss",
                format!("`{text}`: expected `synthetic:NAME`, `{{ tenv3 = DIR }}` or `{{ geonet = DIR }}`"),
            )
        })?,
        TextOr::Table(GnssFiles::Tenv3(dir)) => GnssSource::Tenv3(data_path(dir, "data.gnss.tenv3", real)?),
        TextOr::Table(GnssFiles::Geonet(dir)) => GnssSource::Geonet(data_path(dir, "data.gnss.geonet", real)?),
    };
    let gnss = match (data.precursor_amplitude_mm, gnss) {
        (None, gnss) => gnss,
        (Some(mm), GnssSource::Synthetic(mut scenario)) => {
            ensure_config!(
                scenario.gnss.precursor().is_some(),
                "data.precursor_amplitude_mm",
                "scenario `{}` plants no precursor to scale",
                scenario.name
            );
            scenario.gnss = scenario
                .gnss
                .with_precursor_amplitude(Some(mm))
                .map_err(|e| rekey(e, |_| "data.precursor_amplitude_mm".to_string()))?;
            GnssSource::Synthetic(scenario)
        }
        (Some(_), _) => {
            return Err(Error::config(
                "data.precursor_amplitude_mm",
                "needs synthetic GNSS data (`data.gnss = \"synthetic:NAME\"`)",
            ));
        }
    };
    Ok((catalog, gnss))
}

/// The checked `[encoder.vit]`: the model found (a hub id in the store or a folder), the
/// weights located, the output and the scale percentile checked. Missing weights are an error
/// that says where to put them, unless `optional` is set ([`VitWeights::Missing`]).
fn resolve_vit(v: &VitSection) -> Result<VitSettings> {
    if v.output == VitOutput::LastHiddenState {
        return Err(last_hidden_state_refused());
    }
    ensure_config!(
        v.scale_percentile > 0.0 && v.scale_percentile <= 100.0,
        "encoder.vit.scale_percentile",
        "must lie in (0, 100], got {}",
        v.scale_percentile
    );
    let model = v.model.trim();
    ensure_config!(
        !model.is_empty(),
        "encoder.vit.model",
        "name a hub model (e.g. `{DEFAULT_MODEL}`) or a save_pretrained folder"
    );
    let hub = is_hub_id(model);
    ensure_config!(
        hub || Path::new(model).is_dir(),
        "encoder.vit.model",
        "`{model}` is neither a folder nor a hub id (`owner/name`, e.g. `{DEFAULT_MODEL}`)"
    );
    let missing = |reason: String| -> Result<VitWeights> {
        if v.optional {
            Ok(VitWeights::Missing { reason })
        } else {
            Err(Error::config("encoder.vit.weights", reason))
        }
    };
    let weights = match v.weights.trim() {
        "random" if hub => {
            ensure_config!(
                is_base_patch16_224(model),
                "encoder.vit.model",
                "the architecture of `{model}` is not known without its config.json: give the \
                 model's folder, or `{DEFAULT_MODEL}` (ViT-B/16)"
            );
            VitWeights::Random { config: None }
        }
        "random" => {
            let config = Path::new(model).join("config.json");
            ensure_config!(
                config.is_file(),
                "encoder.vit.model",
                "a random init of the folder `{model}` reads its config.json, which is not there"
            );
            VitWeights::Random {
                config: Some(config),
            }
        }
        "auto" if hub => match locate_in_store(model)? {
            Ok(dir) => VitWeights::Files(dir),
            Err(reason) => missing(reason)?,
        },
        "auto" => match incomplete_folder(Path::new(model)) {
            None => VitWeights::Files(PathBuf::from(model)),
            Some(why) => missing(format!(
                "the model folder is not complete: {why} (a save_pretrained folder holds \
                 config.json and model.safetensors or pytorch_model.bin)"
            ))?,
        },
        "" => {
            return Err(Error::config(
                "encoder.vit.weights",
                "must be `auto`, `random` or a path",
            ));
        }
        path => {
            let path = PathBuf::from(path);
            if path.is_dir() {
                match incomplete_folder(&path) {
                    None => VitWeights::Files(path),
                    Some(why) => missing(format!("the weights folder is not complete: {why}"))?,
                }
            } else if path.is_file() {
                VitWeights::Files(path)
            } else {
                missing(format!(
                    "`{}` not found: name a save_pretrained folder, a weights file \
                     (model.safetensors or pytorch_model.bin, with config.json beside it), \
                     `auto` or `random`",
                    path.display()
                ))?
            }
        }
    };
    Ok(VitSettings {
        model: model.to_string(),
        weights,
        output: v.output,
        scale_percentile: v.scale_percentile,
        optional: v.optional,
    })
}

/// The checked b/a settings of `[features.seismicity]`.
fn resolve_seismicity(s: &SeismicitySection, seed: u64) -> Result<SeismicitySettings> {
    // The b/a checks name `seismicity.KEY`; in an experiment file that is `features.seismicity.KEY`.
    let seismicity_key = |key: &str| match key.strip_prefix("seismicity.") {
        Some(rest) => format!("features.seismicity.{rest}"),
        None => key.to_string(),
    };
    let params = BValueParams {
        estimator: s.estimator,
        mc: if s.mc_per_window {
            McChoice::PerWindow {
                method: McSettings {
                    correction: s.mc_correction,
                    stability_range: s.mc_stability_range,
                    ks_p_value: s.mc_ks_p_value,
                    ks_simulations: s.mc_ks_simulations,
                    ks_seed: crate::rng::derive_seed(seed, "features.seismicity.mc_ks"),
                }
                .method(s.mc_method),
            }
        } else {
            McChoice::Fixed(s.mc)
        },
        bin_width: s.bin_width,
        min_events: s.min_events,
        dmc: s.dmc,
        difference_mle: s.difference_mle.unwrap_or_default(),
    }
    .check()
    .map_err(|e| rekey(e, seismicity_key))?;
    ensure_config!(
        s.mc.is_finite(),
        "features.seismicity.mc",
        "must be finite, got {}",
        s.mc
    );
    let windows =
        WindowSpec::time(s.window_days, s.step_days).map_err(|e| rekey(e, seismicity_key))?;
    Ok(SeismicitySettings {
        params,
        windows,
        selection_mc: s.mc,
        decluster: resolve_decluster(s.decluster.as_ref(), "features.seismicity.decluster")?,
    })
}

/// The checked `decluster` setting at `key` (`None`: every event counts).
fn resolve_decluster(
    setting: Option<&TextOr<DeclusterSection>>,
    key: &str,
) -> Result<Option<Declusterer>> {
    let section = match setting {
        None => return Ok(None),
        Some(TextOr::Table(section)) => section.clone(),
        Some(TextOr::Text(text)) => DeclusterSection {
            method: match text.trim() {
                "none" => DeclusterName::None,
                "gardner_knopoff" | "gardner-knopoff" => DeclusterName::GardnerKnopoff,
                "reasenberg" => DeclusterName::Reasenberg,
                other => {
                    return Err(Error::config(
                        key,
                        format!(
                            "expected none, gardner_knopoff, reasenberg or a table \
                             {{ method = \"...\", ... }}, got `{other}`"
                        ),
                    ));
                }
            },
            ..DeclusterSection::default()
        },
    };
    let d = &section;
    let gardner_knopoff = [
        ("window", d.window.is_some()),
        ("fs_time_prop", d.fs_time_prop.is_some()),
        ("time_cutoff_days", d.time_cutoff_days.is_some()),
    ];
    let reasenberg = [
        ("tau_min_days", d.tau_min_days.is_some()),
        ("tau_max_days", d.tau_max_days.is_some()),
        ("p", d.p.is_some()),
        ("xk", d.xk.is_some()),
        ("xmeff", d.xmeff.is_some()),
        ("rfact", d.rfact.is_some()),
        ("epicentre_error_km", d.epicentre_error_km.is_some()),
        ("depth_error_km", d.depth_error_km.is_some()),
    ];
    let foreign: Vec<(&str, bool)> = match d.method {
        DeclusterName::None => gardner_knopoff.iter().chain(&reasenberg).copied().collect(),
        DeclusterName::GardnerKnopoff => reasenberg.to_vec(),
        DeclusterName::Reasenberg => gardner_knopoff.to_vec(),
    };
    if let Some((name, _)) = foreign.iter().find(|(_, given)| *given) {
        let method = match d.method {
            DeclusterName::None => "none",
            DeclusterName::GardnerKnopoff => "gardner_knopoff",
            DeclusterName::Reasenberg => "reasenberg",
        };
        return Err(Error::config(
            format!("{key}.{name}"),
            format!("is not a setting of method `{method}`"),
        ));
    }
    let in_file = |e: Error| {
        rekey(e, |k| match k.strip_prefix("decluster.") {
            Some(rest) => format!("{key}.{rest}"),
            None => k.to_string(),
        })
    };
    Ok(match d.method {
        DeclusterName::None => None,
        DeclusterName::GardnerKnopoff => {
            let defaults = GardnerKnopoffParams::default();
            Some(Declusterer::GardnerKnopoff(
                GardnerKnopoffParams {
                    window: d.window.unwrap_or(defaults.window),
                    fs_time_prop: d.fs_time_prop.unwrap_or(defaults.fs_time_prop),
                    time_cutoff_days: d.time_cutoff_days,
                }
                .check()
                .map_err(in_file)?,
            ))
        }
        DeclusterName::Reasenberg => {
            let r = ReasenbergParams::default();
            Some(Declusterer::Reasenberg(
                ReasenbergParams {
                    tau_min_days: d.tau_min_days.unwrap_or(r.tau_min_days),
                    tau_max_days: d.tau_max_days.unwrap_or(r.tau_max_days),
                    p: d.p.unwrap_or(r.p),
                    xk: d.xk.unwrap_or(r.xk),
                    xmeff: d.xmeff.unwrap_or(r.xmeff),
                    rfact: d.rfact.unwrap_or(r.rfact),
                    epicentre_error_km: d.epicentre_error_km.unwrap_or(r.epicentre_error_km),
                    depth_error_km: d.depth_error_km.unwrap_or(r.depth_error_km),
                }
                .check()
                .map_err(in_file)?,
            ))
        }
    })
}

/// Every key of a `decluster` table: its name, and its dotted key under
/// `features.seismicity` and under `labels`.
const DECLUSTER_KEYS: [(&str, [&str; 2]); 12] = [
    (
        "method",
        [
            "features.seismicity.decluster.method",
            "labels.decluster.method",
        ],
    ),
    (
        "window",
        [
            "features.seismicity.decluster.window",
            "labels.decluster.window",
        ],
    ),
    (
        "fs_time_prop",
        [
            "features.seismicity.decluster.fs_time_prop",
            "labels.decluster.fs_time_prop",
        ],
    ),
    (
        "time_cutoff_days",
        [
            "features.seismicity.decluster.time_cutoff_days",
            "labels.decluster.time_cutoff_days",
        ],
    ),
    (
        "tau_min_days",
        [
            "features.seismicity.decluster.tau_min_days",
            "labels.decluster.tau_min_days",
        ],
    ),
    (
        "tau_max_days",
        [
            "features.seismicity.decluster.tau_max_days",
            "labels.decluster.tau_max_days",
        ],
    ),
    (
        "p",
        ["features.seismicity.decluster.p", "labels.decluster.p"],
    ),
    (
        "xk",
        ["features.seismicity.decluster.xk", "labels.decluster.xk"],
    ),
    (
        "xmeff",
        [
            "features.seismicity.decluster.xmeff",
            "labels.decluster.xmeff",
        ],
    ),
    (
        "rfact",
        [
            "features.seismicity.decluster.rfact",
            "labels.decluster.rfact",
        ],
    ),
    (
        "epicentre_error_km",
        [
            "features.seismicity.decluster.epicentre_error_km",
            "labels.decluster.epicentre_error_km",
        ],
    ),
    (
        "depth_error_km",
        [
            "features.seismicity.decluster.depth_error_km",
            "labels.decluster.depth_error_km",
        ],
    ),
];

/// The settings the effective `decluster` table (`section` 0: features.seismicity, 1: labels)
/// holds that the layers did not write (all of them when only a name was written), each
/// derived from the table's key (what [`show`] names as their source).
fn decluster_defaults(
    section: usize,
    raw: Option<&TextOr<DeclusterSection>>,
    written: Option<&TextOr<DeclusterSection>>,
) -> Vec<(&'static str, &'static str)> {
    let (Some(raw), Some(TextOr::Table(written))) = (raw, written) else {
        return Vec::new();
    };
    let table = ["features.seismicity.decluster", "labels.decluster"][section];
    let present = |d: &DeclusterSection| -> Vec<&'static str> {
        let value = serde_json::to_value(d).unwrap_or_default();
        DECLUSTER_KEYS
            .iter()
            .filter(|(name, _)| value.get(name).is_some())
            .map(|(name, _)| *name)
            .collect()
    };
    let given = match raw {
        TextOr::Text(_) => Vec::new(),
        TextOr::Table(d) => present(d),
    };
    DECLUSTER_KEYS
        .iter()
        .filter(|(name, _)| present(written).contains(name) && !given.contains(name))
        .map(|(_, keys)| (keys[section], table))
        .collect()
}

/// The effective file's form of a resolved `decluster` setting: absent for none, else the
/// table with every setting of the method written out.
fn effective_decluster(declusterer: Option<&Declusterer>) -> Option<TextOr<DeclusterSection>> {
    let section = match declusterer? {
        Declusterer::GardnerKnopoff(valid) => {
            let p = valid.params();
            DeclusterSection {
                method: DeclusterName::GardnerKnopoff,
                window: Some(p.window),
                fs_time_prop: Some(p.fs_time_prop),
                time_cutoff_days: p.time_cutoff_days,
                ..DeclusterSection::default()
            }
        }
        Declusterer::Reasenberg(valid) => {
            let p = valid.params();
            DeclusterSection {
                method: DeclusterName::Reasenberg,
                tau_min_days: Some(p.tau_min_days),
                tau_max_days: Some(p.tau_max_days),
                p: Some(p.p),
                xk: Some(p.xk),
                xmeff: Some(p.xmeff),
                rfact: Some(p.rfact),
                epicentre_error_km: Some(p.epicentre_error_km),
                depth_error_km: Some(p.depth_error_km),
                ..DeclusterSection::default()
            }
        }
    };
    Some(TextOr::Table(section))
}

/// The checked grid of `[features.gnss]` over `region`.
fn resolve_grid(g: &GnssImagingSection, region: Region) -> Result<ValidGridSpec> {
    let (rows, cols) = parse_grid_size("features.gnss.grid", &g.grid)?;
    GridSpec {
        region,
        rows,
        cols,
        origin: match g.origin {
            OriginName::Corner => GridOrigin::Corner,
            OriginName::Centre => GridOrigin::Centre,
        },
        sigma_cells: g.sigma_cells,
        sigma_spacing: match g.sigma_spacing {
            SpacingName::Latitude => SigmaSpacing::Latitude,
            SpacingName::Longitude => SigmaSpacing::Longitude,
        },
    }
    .check()
    .map_err(|e| {
        rekey(e, |key| match key {
            "gnss.grid.sigma_cells" => "features.gnss.sigma_cells".into(),
            "gnss.grid.rows" | "gnss.grid.cols" => "features.gnss.grid".into(),
            other => other.into(),
        })
    })
}

/// The checked `[labels]`.
fn resolve_labels(l: &LabelsSection) -> Result<LabelSettings> {
    let bandwidth = match l.bandwidth {
        BandwidthSetting::Scott => Bandwidth::Scott,
        BandwidthSetting::Silverman => Bandwidth::Silverman,
        BandwidthSetting::Days(days) => {
            ensure_config!(
                days.is_finite() && days > 0.0,
                "labels.bandwidth",
                "a fixed bandwidth must be a positive number of days, got {days}"
            );
            Bandwidth::FixedDays(days)
        }
    };
    let scale = l.scale;
    ensure_config!(
        l.mc.is_finite(),
        "labels.mc",
        "must be finite, got {}",
        l.mc
    );
    ensure_config!(
        !(l.kind == LabelKind::CountsAhead && scale == LabelScale::EventsPerDay),
        "labels.scale",
        "`events_per_day` turns a KDE density into events per day; counts_ahead labels are \
         already event counts (use none, minmax or zscore)"
    );
    let params = LabelParams {
        kind: l.kind,
        kde: KdeParams::new(bandwidth, scale),
        boundary: l.boundary,
        window_days: l.horizon_days,
        transform: l.transform,
    };
    params.check()?;
    Ok(LabelSettings {
        params,
        mc: l.mc,
        decluster: resolve_decluster(l.decluster.as_ref(), "labels.decluster")?,
    })
}

/// The decoders and their group files, and the settings the per-decoder overrides set: groups
/// read, overrides applied (see `decoder_overrides.rs`), then every decoder checked.
type Decoders = (
    Vec<DecoderConfig>,
    Vec<Option<PathBuf>>,
    Vec<decoder_overrides::Applied>,
);

/// The decoders, groups read, overrides applied and settings checked.
fn resolve_decoders(
    entries: &[TextOr<DecoderConfig>],
    stack: &LayerStack,
    overrides: &[DecoderOverride],
    method: MethodName,
) -> Result<Decoders> {
    ensure_config!(
        !entries.is_empty() || method == MethodName::Vgg12Geomag,
        "decoders",
        "list at least one decoder (a table, or a group name such as \"ridge\")"
    );
    let mut decoders = Vec::with_capacity(entries.len());
    let mut decoder_groups = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let (config, group) = match entry {
            TextOr::Text(name) => {
                let (config, path) = decoder_group(stack, name, i)?;
                (config, Some(path))
            }
            TextOr::Table(config) => (config.clone(), None),
        };
        decoders.push(config);
        decoder_groups.push(group);
    }
    let applied = decoder_overrides::apply(&mut decoders, overrides)?;
    for (i, config) in decoders.iter().enumerate() {
        config.check().map_err(|e| match e {
            Error::Config { key, message } => {
                let field = key.strip_prefix("decoder.").unwrap_or(&key);
                // A value an override set is named by the override's source.
                match applied
                    .iter()
                    .rev()
                    .find(|a| a.index == i && a.field == field)
                {
                    Some(a) => Error::config(
                        format!("decoders.{i}.{field}"),
                        format!("{message} (from {})", a.source),
                    ),
                    None => Error::config(
                        match key.strip_prefix("decoder") {
                            Some(rest) => format!("decoders.{i}{rest}"),
                            None => key,
                        },
                        message,
                    ),
                }
            }
            other => other,
        })?;
    }
    Ok((decoders, decoder_groups, applied))
}

/// The split manifest: one [`SplitKind`] per split, blocked folds (1..k when past-only: fold 0
/// has no past) and rolling origins one by one, each with an embargo of 0 days for the runner to
/// set.
fn resolve_splits(sp: &SplitSection, seed: u64) -> Result<Vec<SplitKind>> {
    let mut splits = Vec::new();
    for kind in &sp.kinds {
        match kind {
            SplitName::Random => splits.push(SplitKind::Random {
                fraction: sp.train_fraction,
                seed,
            }),
            SplitName::Chronological => splits.push(SplitKind::Chronological {
                fraction: sp.train_fraction,
                embargo_days: 0,
            }),
            SplitName::Rolling => {
                ensure_config!(
                    sp.rolling_origins >= 1,
                    "split.rolling_origins",
                    "must be at least 1, got 0"
                );
                splits.extend((0..sp.rolling_origins).map(|origin| SplitKind::Rolling {
                    origins: sp.rolling_origins,
                    origin,
                    initial_fraction: sp.train_fraction,
                    embargo_days: 0,
                }));
            }
            SplitName::Blocked => {
                ensure_config!(
                    sp.blocked_folds >= 2,
                    "split.blocked_folds",
                    "must be at least 2, got {}",
                    sp.blocked_folds
                );
                let first = usize::from(sp.blocked_past_only);
                splits.extend((first..sp.blocked_folds).map(|fold| SplitKind::Blocked {
                    folds: sp.blocked_folds,
                    fold,
                    embargo_days: 0,
                    past_only: sp.blocked_past_only,
                }));
            }
        }
    }
    Ok(splits)
}

/// The checked `[ablations]`.
fn resolve_ablations(a: &AblationsSection) -> Result<AblationSettings> {
    ensure_config!(
        !a.modalities.is_empty(),
        "ablations.modalities",
        "list at least one modality"
    );
    ensure_distinct(&a.modalities, "ablations.modalities")?;
    ensure_distinct(&a.controls, "ablations.controls")?;
    ensure_config!(
        !a.controls.contains(&Control::LabelShift) || a.label_shift_days >= 1,
        "ablations.label_shift_days",
        "must be at least 1 with the label_shift control, got 0"
    );
    Ok(AblationSettings {
        modalities: a
            .modalities
            .iter()
            .map(|m| match m {
                ModalityName::Gnss => Modality::Gnss,
                ModalityName::Seismicity => Modality::Seismicity,
                ModalityName::Fusion => Modality::Fusion,
            })
            .collect(),
        controls: a.controls.clone(),
        label_shift_days: a.label_shift_days,
        shuffle_modality: a.shuffle_modality,
        null_gnss: None,
    })
}

/// The synthetic GNSS scenario without its planted precursor, for `ablations.null_scenario`;
/// refused unless the GNSS data are a synthetic scenario that plants one.
fn null_scenario(gnss: &GnssSource) -> Result<Box<Scenario>> {
    let GnssSource::Synthetic(scenario) = gnss else {
        return Err(Error::config(
            "ablations.null_scenario",
            "needs synthetic GNSS data (`data.gnss = \"synthetic:NAME\"`): real stations have no null",
        ));
    };
    ensure_config!(
        scenario.gnss.precursor().is_some(),
        "ablations.null_scenario",
        "scenario `{}` plants no precursor, so it is its own null",
        scenario.name
    );
    let mut null = scenario.clone();
    null.gnss = scenario.gnss.with_precursor_amplitude(None)?;
    null.name = format!("{}-without-precursor", scenario.name);
    Ok(null)
}

// ---------------------------------------------------------------------------------------------
// show
// ---------------------------------------------------------------------------------------------

/// The fully resolved config, one `key = value  # source` line per setting, for
/// `quakelab config show FILE`.
///
/// The source is the layer that set the value: `default`, the file's path, `--set KEY=VALUE`,
/// `env QUAKELAB_...`; a default worked out from other settings shows `derived from ...`. Each
/// decoder setting has its own line (`decoders.3.max_depth`): its source is the group file or
/// the layer that listed the decoders where they wrote it, the per-decoder override that set it
/// (`--set decoders.random_forest.max_depth=6`), or `default`. The first line gives the config
/// hash.
pub fn show(layers: &Layers) -> Result<String> {
    let stack = LayerStack::build(layers)?;
    let (resolved, figment) = stack.resolve_with_figment(&[])?;
    let value = serde_json::to_value(resolved.effective())
        .map_err(|e| Error::config("experiment", format!("cannot serialise the config: {e}")))?;
    let mut lines = Vec::new();
    collect_lines(&value, "", &mut lines);
    let rows: Vec<(String, String)> = lines
        .into_iter()
        .map(|(key, text)| {
            let source = source_of(&key, &resolved, &figment);
            (format!("{key} = {text}"), source)
        })
        .collect();
    // Long lines (decoder tables) do not push every source far to the right.
    let width = rows
        .iter()
        .map(|(line, _)| line.chars().count())
        .filter(|&n| n <= SHOW_SOURCE_COLUMN)
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "# experiment `{}`, config hash {}\n",
        resolved.name(),
        resolved.config_hash()
    );
    for (line, source) in rows {
        let pad = width.saturating_sub(line.chars().count());
        out.push_str(&format!("{line}{}  # {source}\n", " ".repeat(pad)));
    }
    Ok(out)
}

/// The widest `key = value` that [`show`] aligns the sources after.
const SHOW_SOURCE_COLUMN: usize = 60;

/// Where a shown value came from.
fn source_of(key: &str, resolved: &ResolvedExperiment, figment: &Figment) -> String {
    if let Some(rest) = key.strip_prefix("decoders.")
        && let Some((index, field)) = rest.split_once('.')
        && let Ok(index) = index.parse::<usize>()
    {
        return decoder_source(index, field, resolved, figment);
    }
    if let Some((_, from)) = resolved.derived.iter().find(|(k, _)| *k == key) {
        return format!("derived from {from}");
    }
    figment
        .find_metadata(key)
        .map_or_else(|| "unknown".into(), describe)
}

/// Where setting `field` of decoder `index` came from: the last override that set it, else the
/// group file or the layer that listed the decoders where they wrote it, else `default`.
fn decoder_source(
    index: usize,
    field: &str,
    resolved: &ResolvedExperiment,
    figment: &Figment,
) -> String {
    if let Some(applied) = resolved
        .decoder_overrides
        .iter()
        .rev()
        .find(|a| a.index == index && a.field == field)
    {
        return applied.source.clone();
    }
    if let Some(Some(path)) = resolved.decoder_groups.get(index) {
        let written = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.parse::<toml::Table>().ok())
            .is_some_and(|table| table.contains_key(field));
        return if written {
            format!("group {}", path.display())
        } else {
            format!("default (group {})", path.display())
        };
    }
    let listed = figment.find_value("decoders").ok();
    let written = listed
        .as_ref()
        .and_then(Value::as_array)
        .and_then(|entries| entries.get(index))
        .and_then(Value::as_dict)
        .is_some_and(|entry| entry.contains_key(field));
    match listed.and_then(|v| figment.get_metadata(v.tag()).map(describe)) {
        Some(layer) if written => layer,
        _ => "default".into(),
    }
}

/// The leaves of a config as `(dotted key, TOML text)`: tables are walked, arrays of tables
/// are walked element by element (`decoders.0.kind`), other arrays give one line.
fn collect_lines(value: &serde_json::Value, prefix: &str, out: &mut Vec<(String, String)>) {
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (key, item) in map {
                collect_lines(item, &join(key), out);
            }
        }
        serde_json::Value::Array(items)
            if !items.is_empty() && items.iter().all(serde_json::Value::is_object) =>
        {
            for (i, item) in items.iter().enumerate() {
                collect_lines(item, &join(&i.to_string()), out);
            }
        }
        other => out.push((prefix.to_string(), toml_text(other))),
    }
}

/// A JSON value written as an inline TOML value.
fn toml_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "\"\"".into(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(f)) => toml::Value::Float(f).to_string(),
            _ => n.to_string(),
        },
        serde_json::Value::String(s) => toml::Value::String(s.clone()).to_string(),
        serde_json::Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(toml_text).collect();
            format!("[{}]", parts.join(", "))
        }
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let parts: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{} = {}", toml_key(k), toml_text(v)))
                .collect();
            if parts.is_empty() {
                "{}".into()
            } else {
                format!("{{ {} }}", parts.join(", "))
            }
        }
    }
}

/// A bare key where TOML allows one, else a quoted one.
fn toml_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_string()
    } else {
        toml::Value::String(key.to_string()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_values_are_read_as_toml_or_else_as_text() {
        assert_eq!(parse_value("64"), toml::Value::Integer(64));
        assert_eq!(parse_value("3.1"), toml::Value::Float(3.1));
        assert_eq!(parse_value("true"), toml::Value::Boolean(true));
        assert_eq!(parse_value("scott"), toml::Value::String("scott".into()));
        assert_eq!(parse_value("\"30\""), toml::Value::String("30".into()));
        assert_eq!(
            parse_value("synthetic:japan"),
            toml::Value::String("synthetic:japan".into())
        );
        assert_eq!(
            parse_value("[1, 2]"),
            toml::Value::Array(vec![toml::Value::Integer(1), toml::Value::Integer(2)])
        );
        // Two assignments are not one value.
        assert_eq!(
            parse_value("1\nother = 2"),
            toml::Value::String("1\nother = 2".into())
        );
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let value = serde_json::json!({"b": {"z": 1, "a": [true, 2.5]}, "a": "x"});
        let mut text = String::new();
        canonical_json(&value, &mut text);
        assert_eq!(text, r#"{"a":"x","b":{"a":[true,2.5],"z":1}}"#);
    }

    #[test]
    fn only_prefixed_config_variables_are_keys() {
        assert!(is_config_var("QUAKELAB_SEED"));
        assert!(!is_config_var("QUAKELAB_REAL_DATA"));
        assert!(!is_config_var("QUAKELAB_BOOSTERS"));
        assert!(!is_config_var("QUAKELAB_MLFLOW"));
        assert!(!is_config_var("QUAKELAB_MLFLOW_TOKEN"));
        assert!(!is_config_var("QUAKELAB_"));
        assert!(!is_config_var("HOME"));
    }
}
